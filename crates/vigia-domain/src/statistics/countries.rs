//! Countries of nationality as the migration statistics bulletin of Mexico's Unidad de Política Migratoria
//! (UPM, SEGOB) writes them, matched to ISO 3166-1 alpha-3 codes and given a Spanish and an English name.
//!
//! [`COUNTRIES`] holds every ISO 3166-1 country and territory, plus Kosovo (`XKX`, see there). Codes are ISO 3166-1
//! alpha-3; Spanish names follow common Spanish usage, with accents ("Haití", "Corea del Sur", "Estados Unidos de
//! América"); English names are short names ("South Korea", "United States"). The bulletin's own spellings, often
//! inverted and abbreviated ("Dominicana, Rep.", "Corea, Rep. (Sur)"), and other usual variants are aliases, and
//! [`country`] also reads any label "X, Y" as "Y X". Labels are compared after [`fold`], so case, accents, spacing,
//! punctuation and footnote marks ("Guatemala*", "Haití 1/") do not matter.
//!
//! Regions, totals and other rows that are not one country ("América Central", "Islas del Caribe", "Total",
//! "Apátridas") are deliberately absent: [`country`] returns `None` for them.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A country or territory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-3 code, upper case (`"HND"`).
    pub iso3: &'static str,
    /// Common Spanish name, with accents (`"Haití"`).
    pub es: &'static str,
    /// English short name (`"Haiti"`).
    pub en: &'static str,
}

const fn row(iso3: &'static str, es: &'static str, en: &'static str) -> Country {
    Country { iso3, es, en }
}

/// Every ISO 3166-1 country and territory, and Kosovo, sorted by code.
pub const COUNTRIES: &[Country] = &[
    row("ABW", "Aruba", "Aruba"),
    row("AFG", "Afganistán", "Afghanistan"),
    row("AGO", "Angola", "Angola"),
    row("AIA", "Anguila", "Anguilla"),
    row("ALA", "Islas Åland", "Åland Islands"),
    row("ALB", "Albania", "Albania"),
    row("AND", "Andorra", "Andorra"),
    row("ARE", "Emiratos Árabes Unidos", "United Arab Emirates"),
    row("ARG", "Argentina", "Argentina"),
    row("ARM", "Armenia", "Armenia"),
    row("ASM", "Samoa Americana", "American Samoa"),
    row("ATA", "Antártida", "Antarctica"),
    row("ATF", "Territorios Australes Franceses", "French Southern Territories"),
    row("ATG", "Antigua y Barbuda", "Antigua and Barbuda"),
    row("AUS", "Australia", "Australia"),
    row("AUT", "Austria", "Austria"),
    row("AZE", "Azerbaiyán", "Azerbaijan"),
    row("BDI", "Burundi", "Burundi"),
    row("BEL", "Bélgica", "Belgium"),
    row("BEN", "Benín", "Benin"),
    row("BES", "Bonaire, San Eustaquio y Saba", "Bonaire, Sint Eustatius and Saba"),
    row("BFA", "Burkina Faso", "Burkina Faso"),
    row("BGD", "Bangladés", "Bangladesh"),
    row("BGR", "Bulgaria", "Bulgaria"),
    row("BHR", "Baréin", "Bahrain"),
    row("BHS", "Bahamas", "Bahamas"),
    row("BIH", "Bosnia y Herzegovina", "Bosnia and Herzegovina"),
    row("BLM", "San Bartolomé", "Saint Barthélemy"),
    row("BLR", "Bielorrusia", "Belarus"),
    row("BLZ", "Belice", "Belize"),
    row("BMU", "Bermudas", "Bermuda"),
    row("BOL", "Bolivia", "Bolivia"),
    row("BRA", "Brasil", "Brazil"),
    row("BRB", "Barbados", "Barbados"),
    row("BRN", "Brunéi", "Brunei"),
    row("BTN", "Bután", "Bhutan"),
    row("BVT", "Isla Bouvet", "Bouvet Island"),
    row("BWA", "Botsuana", "Botswana"),
    row("CAF", "República Centroafricana", "Central African Republic"),
    row("CAN", "Canadá", "Canada"),
    row("CCK", "Islas Cocos", "Cocos (Keeling) Islands"),
    row("CHE", "Suiza", "Switzerland"),
    row("CHL", "Chile", "Chile"),
    row("CHN", "China", "China"),
    row("CIV", "Costa de Marfil", "Côte d'Ivoire"),
    row("CMR", "Camerún", "Cameroon"),
    row("COD", "República Democrática del Congo", "Democratic Republic of the Congo"),
    row("COG", "Congo", "Congo"),
    row("COK", "Islas Cook", "Cook Islands"),
    row("COL", "Colombia", "Colombia"),
    row("COM", "Comoras", "Comoros"),
    row("CPV", "Cabo Verde", "Cabo Verde"),
    row("CRI", "Costa Rica", "Costa Rica"),
    row("CUB", "Cuba", "Cuba"),
    row("CUW", "Curazao", "Curaçao"),
    row("CXR", "Isla de Navidad", "Christmas Island"),
    row("CYM", "Islas Caimán", "Cayman Islands"),
    row("CYP", "Chipre", "Cyprus"),
    row("CZE", "Chequia", "Czechia"),
    row("DEU", "Alemania", "Germany"),
    row("DJI", "Yibuti", "Djibouti"),
    row("DMA", "Dominica", "Dominica"),
    row("DNK", "Dinamarca", "Denmark"),
    row("DOM", "República Dominicana", "Dominican Republic"),
    row("DZA", "Argelia", "Algeria"),
    row("ECU", "Ecuador", "Ecuador"),
    row("EGY", "Egipto", "Egypt"),
    row("ERI", "Eritrea", "Eritrea"),
    row("ESH", "Sahara Occidental", "Western Sahara"),
    row("ESP", "España", "Spain"),
    row("EST", "Estonia", "Estonia"),
    row("ETH", "Etiopía", "Ethiopia"),
    row("FIN", "Finlandia", "Finland"),
    row("FJI", "Fiyi", "Fiji"),
    row("FLK", "Islas Malvinas", "Falkland Islands"),
    row("FRA", "Francia", "France"),
    row("FRO", "Islas Feroe", "Faroe Islands"),
    row("FSM", "Micronesia", "Micronesia"),
    row("GAB", "Gabón", "Gabon"),
    row("GBR", "Reino Unido", "United Kingdom"),
    row("GEO", "Georgia", "Georgia"),
    row("GGY", "Guernsey", "Guernsey"),
    row("GHA", "Ghana", "Ghana"),
    row("GIB", "Gibraltar", "Gibraltar"),
    row("GIN", "Guinea", "Guinea"),
    row("GLP", "Guadalupe", "Guadeloupe"),
    row("GMB", "Gambia", "Gambia"),
    row("GNB", "Guinea-Bisáu", "Guinea-Bissau"),
    row("GNQ", "Guinea Ecuatorial", "Equatorial Guinea"),
    row("GRC", "Grecia", "Greece"),
    row("GRD", "Granada", "Grenada"),
    row("GRL", "Groenlandia", "Greenland"),
    row("GTM", "Guatemala", "Guatemala"),
    row("GUF", "Guayana Francesa", "French Guiana"),
    row("GUM", "Guam", "Guam"),
    row("GUY", "Guyana", "Guyana"),
    row("HKG", "Hong Kong", "Hong Kong"),
    row("HMD", "Islas Heard y McDonald", "Heard Island and McDonald Islands"),
    row("HND", "Honduras", "Honduras"),
    row("HRV", "Croacia", "Croatia"),
    row("HTI", "Haití", "Haiti"),
    row("HUN", "Hungría", "Hungary"),
    row("IDN", "Indonesia", "Indonesia"),
    row("IMN", "Isla de Man", "Isle of Man"),
    row("IND", "India", "India"),
    row("IOT", "Territorio Británico del Océano Índico", "British Indian Ocean Territory"),
    row("IRL", "Irlanda", "Ireland"),
    row("IRN", "Irán", "Iran"),
    row("IRQ", "Irak", "Iraq"),
    row("ISL", "Islandia", "Iceland"),
    row("ISR", "Israel", "Israel"),
    row("ITA", "Italia", "Italy"),
    row("JAM", "Jamaica", "Jamaica"),
    row("JEY", "Jersey", "Jersey"),
    row("JOR", "Jordania", "Jordan"),
    row("JPN", "Japón", "Japan"),
    row("KAZ", "Kazajistán", "Kazakhstan"),
    row("KEN", "Kenia", "Kenya"),
    row("KGZ", "Kirguistán", "Kyrgyzstan"),
    row("KHM", "Camboya", "Cambodia"),
    row("KIR", "Kiribati", "Kiribati"),
    row("KNA", "San Cristóbal y Nieves", "Saint Kitts and Nevis"),
    row("KOR", "Corea del Sur", "South Korea"),
    row("KWT", "Kuwait", "Kuwait"),
    row("LAO", "Laos", "Laos"),
    row("LBN", "Líbano", "Lebanon"),
    row("LBR", "Liberia", "Liberia"),
    row("LBY", "Libia", "Libya"),
    row("LCA", "Santa Lucía", "Saint Lucia"),
    row("LIE", "Liechtenstein", "Liechtenstein"),
    row("LKA", "Sri Lanka", "Sri Lanka"),
    row("LSO", "Lesoto", "Lesotho"),
    row("LTU", "Lituania", "Lithuania"),
    row("LUX", "Luxemburgo", "Luxembourg"),
    row("LVA", "Letonia", "Latvia"),
    row("MAC", "Macao", "Macao"),
    row("MAF", "San Martín (parte francesa)", "Saint Martin (French part)"),
    row("MAR", "Marruecos", "Morocco"),
    row("MCO", "Mónaco", "Monaco"),
    row("MDA", "Moldavia", "Moldova"),
    row("MDG", "Madagascar", "Madagascar"),
    row("MDV", "Maldivas", "Maldives"),
    row("MEX", "México", "Mexico"),
    row("MHL", "Islas Marshall", "Marshall Islands"),
    row("MKD", "Macedonia del Norte", "North Macedonia"),
    row("MLI", "Malí", "Mali"),
    row("MLT", "Malta", "Malta"),
    row("MMR", "Birmania", "Myanmar"),
    row("MNE", "Montenegro", "Montenegro"),
    row("MNG", "Mongolia", "Mongolia"),
    row("MNP", "Islas Marianas del Norte", "Northern Mariana Islands"),
    row("MOZ", "Mozambique", "Mozambique"),
    row("MRT", "Mauritania", "Mauritania"),
    row("MSR", "Montserrat", "Montserrat"),
    row("MTQ", "Martinica", "Martinique"),
    row("MUS", "Mauricio", "Mauritius"),
    row("MWI", "Malaui", "Malawi"),
    row("MYS", "Malasia", "Malaysia"),
    row("MYT", "Mayotte", "Mayotte"),
    row("NAM", "Namibia", "Namibia"),
    row("NCL", "Nueva Caledonia", "New Caledonia"),
    row("NER", "Níger", "Niger"),
    row("NFK", "Isla Norfolk", "Norfolk Island"),
    row("NGA", "Nigeria", "Nigeria"),
    row("NIC", "Nicaragua", "Nicaragua"),
    row("NIU", "Niue", "Niue"),
    row("NLD", "Países Bajos", "Netherlands"),
    row("NOR", "Noruega", "Norway"),
    row("NPL", "Nepal", "Nepal"),
    row("NRU", "Nauru", "Nauru"),
    row("NZL", "Nueva Zelanda", "New Zealand"),
    row("OMN", "Omán", "Oman"),
    row("PAK", "Pakistán", "Pakistan"),
    row("PAN", "Panamá", "Panama"),
    row("PCN", "Islas Pitcairn", "Pitcairn Islands"),
    row("PER", "Perú", "Peru"),
    row("PHL", "Filipinas", "Philippines"),
    row("PLW", "Palaos", "Palau"),
    row("PNG", "Papúa Nueva Guinea", "Papua New Guinea"),
    row("POL", "Polonia", "Poland"),
    row("PRI", "Puerto Rico", "Puerto Rico"),
    row("PRK", "Corea del Norte", "North Korea"),
    row("PRT", "Portugal", "Portugal"),
    row("PRY", "Paraguay", "Paraguay"),
    row("PSE", "Palestina", "Palestine"),
    row("PYF", "Polinesia Francesa", "French Polynesia"),
    row("QAT", "Catar", "Qatar"),
    row("REU", "Reunión", "Réunion"),
    row("ROU", "Rumania", "Romania"),
    row("RUS", "Rusia", "Russia"),
    row("RWA", "Ruanda", "Rwanda"),
    row("SAU", "Arabia Saudita", "Saudi Arabia"),
    row("SDN", "Sudán", "Sudan"),
    row("SEN", "Senegal", "Senegal"),
    row("SGP", "Singapur", "Singapore"),
    row("SGS", "Islas Georgias del Sur y Sandwich del Sur", "South Georgia and the South Sandwich Islands"),
    row("SHN", "Santa Elena, Ascensión y Tristán de Acuña", "Saint Helena, Ascension and Tristan da Cunha"),
    row("SJM", "Svalbard y Jan Mayen", "Svalbard and Jan Mayen"),
    row("SLB", "Islas Salomón", "Solomon Islands"),
    row("SLE", "Sierra Leona", "Sierra Leone"),
    row("SLV", "El Salvador", "El Salvador"),
    row("SMR", "San Marino", "San Marino"),
    row("SOM", "Somalia", "Somalia"),
    row("SPM", "San Pedro y Miquelón", "Saint Pierre and Miquelon"),
    row("SRB", "Serbia", "Serbia"),
    row("SSD", "Sudán del Sur", "South Sudan"),
    row("STP", "Santo Tomé y Príncipe", "Sao Tome and Principe"),
    row("SUR", "Surinam", "Suriname"),
    row("SVK", "Eslovaquia", "Slovakia"),
    row("SVN", "Eslovenia", "Slovenia"),
    row("SWE", "Suecia", "Sweden"),
    row("SWZ", "Esuatini", "Eswatini"),
    row("SXM", "San Martín (parte neerlandesa)", "Sint Maarten (Dutch part)"),
    row("SYC", "Seychelles", "Seychelles"),
    row("SYR", "Siria", "Syria"),
    row("TCA", "Islas Turcas y Caicos", "Turks and Caicos Islands"),
    row("TCD", "Chad", "Chad"),
    row("TGO", "Togo", "Togo"),
    row("THA", "Tailandia", "Thailand"),
    row("TJK", "Tayikistán", "Tajikistan"),
    row("TKL", "Tokelau", "Tokelau"),
    row("TKM", "Turkmenistán", "Turkmenistan"),
    row("TLS", "Timor Oriental", "Timor-Leste"),
    row("TON", "Tonga", "Tonga"),
    row("TTO", "Trinidad y Tobago", "Trinidad and Tobago"),
    row("TUN", "Túnez", "Tunisia"),
    row("TUR", "Turquía", "Türkiye"),
    row("TUV", "Tuvalu", "Tuvalu"),
    row("TWN", "Taiwán", "Taiwan"),
    row("TZA", "Tanzania", "Tanzania"),
    row("UGA", "Uganda", "Uganda"),
    row("UKR", "Ucrania", "Ukraine"),
    row("UMI", "Islas Ultramarinas Menores de Estados Unidos", "United States Minor Outlying Islands"),
    row("URY", "Uruguay", "Uruguay"),
    row("USA", "Estados Unidos de América", "United States"),
    row("UZB", "Uzbekistán", "Uzbekistan"),
    row("VAT", "Ciudad del Vaticano", "Vatican City"),
    row("VCT", "San Vicente y las Granadinas", "Saint Vincent and the Grenadines"),
    row("VEN", "Venezuela", "Venezuela"),
    row("VGB", "Islas Vírgenes Británicas", "British Virgin Islands"),
    row("VIR", "Islas Vírgenes de los Estados Unidos", "United States Virgin Islands"),
    row("VNM", "Vietnam", "Vietnam"),
    row("VUT", "Vanuatu", "Vanuatu"),
    row("WLF", "Wallis y Futuna", "Wallis and Futuna"),
    row("WSM", "Samoa", "Samoa"),
    // Kosovo has no ISO 3166-1 code: XKX is a user-assigned code (ISO leaves XAA-XZZ to users) that the
    // European Commission, the IMF and others use for it; statistics that list Kosovo need a code too.
    row("XKX", "Kosovo", "Kosovo"),
    row("YEM", "Yemen", "Yemen"),
    row("ZAF", "Sudáfrica", "South Africa"),
    row("ZMB", "Zambia", "Zambia"),
    row("ZWE", "Zimbabue", "Zimbabwe"),
];

/// Other spellings of a country's name, as (spelling, ISO 3166-1 alpha-3 code). Only spellings that differ from the
/// country's `es` and `en` names after [`fold`] are listed, and no spelling names two countries (both are tested).
/// An inverted form "X, Y" needs no alias when "Y X" is already a name or an alias.
const ALIASES: &[(&str, &str)] = &[
    // The bulletin's inverted and abbreviated forms (UPM, SEGOB).
    ("Dominicana, Rep.", "DOM"),
    ("Rep. Dominicana", "DOM"),
    ("Corea, Rep. (Sur)", "KOR"),
    ("Corea, Rep. Pop. Dem. (Norte)", "PRK"),
    ("Congo, Rep. Dem.", "COD"),
    ("Rep. Dem. del Congo", "COD"),
    ("Congo, Rep.", "COG"),
    ("Rep. del Congo", "COG"),
    ("Checa, Rep.", "CZE"),
    ("Eslovaca, Rep.", "SVK"),
    ("Centroafricana, Rep.", "CAF"),
    ("Micronesia, Rep.", "FSM"),
    ("Mianmar (Birmania)", "MMR"),
    ("Países Bajos (Holanda)", "NLD"),
    ("Martinica (Terr. Ultram. Francia)", "MTQ"),
    ("EUA", "USA"),
    ("E.U.A.", "USA"),
    // Official and older Spanish names.
    ("Estados Unidos", "USA"),
    ("Estados Unidos de Norteamérica", "USA"),
    ("EE. UU.", "USA"),
    ("EEUU", "USA"),
    ("Reino Unido de Gran Bretaña e Irlanda del Norte", "GBR"),
    ("Gran Bretaña", "GBR"),
    ("Federación de Rusia", "RUS"),
    ("República de Corea", "KOR"),
    ("República Popular Democrática de Corea", "PRK"),
    ("República del Congo", "COG"),
    ("República Checa", "CZE"),
    ("República Eslovaca", "SVK"),
    ("República Islámica de Irán", "IRN"),
    ("República Islámica del Irán", "IRN"),
    ("República Árabe Siria", "SYR"),
    ("República Bolivariana de Venezuela", "VEN"),
    ("Estado Plurinacional de Bolivia", "BOL"),
    ("República Unida de Tanzania", "TZA"),
    ("República de Moldavia", "MDA"),
    ("República de Moldova", "MDA"),
    ("República Democrática Popular Lao", "LAO"),
    ("República Popular China", "CHN"),
    ("Estado de Palestina", "PSE"),
    ("Territorios Palestinos", "PSE"),
    ("Macedonia", "MKD"),
    ("Holanda", "NLD"),
    ("Mianmar", "MMR"),
    ("Viet Nam", "VNM"),
    ("Arabia Saudí", "SAU"),
    ("Bahréin", "BHR"),
    ("Kazajstán", "KAZ"),
    ("Kirguizistán", "KGZ"),
    ("Bosnia-Herzegovina", "BIH"),
    ("San Cristóbal y Nevis", "KNA"),
    ("Nueva Zelandia", "NZL"),
    ("Samoa Estadounidense", "ASM"),
    ("Islas Bermudas", "BMU"),
    ("Islas Maldivas", "MDV"),
    ("Islas Falkland", "FLK"),
    ("Comores", "COM"),
    ("Santa Sede", "VAT"),
    ("Vaticano", "VAT"),
    ("Suazilandia", "SWZ"),
    // Other English names.
    ("Russian Federation", "RUS"),
    ("Republic of Korea", "KOR"),
    ("Democratic People's Republic of Korea", "PRK"),
    ("DR Congo", "COD"),
    ("Republic of the Congo", "COG"),
    ("Czech Republic", "CZE"),
    ("Ivory Coast", "CIV"),
    ("Burma", "MMR"),
    ("Turkey", "TUR"),
    ("Cape Verde", "CPV"),
    ("East Timor", "TLS"),
    ("Swaziland", "SWZ"),
    ("Holy See", "VAT"),
    ("Brunei Darussalam", "BRN"),
    ("Macau", "MAC"),
];

/// The normalised form of a label, the one [`country`] compares: lower case, Spanish and other Latin accents
/// removed (`ñ` becomes `n`), every character other than `a`-`z` and `0`-`9` a space, runs of spaces collapsed and
/// the ends trimmed. Footnote marks at the end of the label are dropped first: `*`, superscript digits, and one or
/// two digits followed by `/` (`1/`) or between parentheses (`(1)`).
///
/// `fold("  Haití 1/")` is `"haiti"`; `fold("Dominicana, Rep.")` is `"dominicana rep"`.
pub fn fold(label: &str) -> String {
    let mut spaced = String::with_capacity(label.len());
    for ch in strip_marks(label).chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            spaced.push(ch);
        } else {
            spaced.push_str(plain(ch));
        }
    }
    let mut out = String::with_capacity(spaced.len());
    for word in spaced.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The label without footnote marks at its end (see [`fold`]).
fn strip_marks(label: &str) -> &str {
    let mut s = label;
    loop {
        let before = s.len();
        s = s.trim_end_matches(|c: char| c == '*' || c.is_whitespace() || is_superscript_digit(c));
        if let Some(rest) = s.strip_suffix('/') {
            let head = rest.trim_end_matches(|c: char| c.is_ascii_digit());
            if (1..=2).contains(&(rest.len() - head.len())) {
                s = head;
            }
        }
        if let Some(rest) = s.strip_suffix(')') {
            let head = rest.trim_end_matches(|c: char| c.is_ascii_digit());
            if let (1..=2, Some(open)) = (rest.len() - head.len(), head.strip_suffix('(')) {
                s = open;
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

fn is_superscript_digit(c: char) -> bool {
    matches!(c, '\u{b9}' | '\u{b2}' | '\u{b3}' | '\u{2070}' | '\u{2074}'..='\u{2079}')
}

/// A lower-case character other than `a`-`z` and `0`-`9` as plain ASCII: its unaccented letter(s), nothing for a
/// combining accent (decomposed text), else a space.
fn plain(ch: char) -> &'static str {
    match ch {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' | 'ą' => "a",
        'é' | 'è' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'í' | 'ì' | 'î' | 'ï' | 'ī' | 'ı' => "i",
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'ō' | 'ő' => "o",
        'ú' | 'ù' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ñ' | 'ń' | 'ň' => "n",
        'ç' | 'ć' | 'č' => "c",
        'ý' | 'ÿ' => "y",
        'š' | 'ś' | 'ş' => "s",
        'ž' | 'ź' | 'ż' => "z",
        'ł' => "l",
        'ř' => "r",
        'ð' => "d",
        'ğ' => "g",
        'æ' => "ae",
        'œ' => "oe",
        'ß' => "ss",
        'þ' => "th",
        '\u{300}'..='\u{36f}' => "",
        _ => " ",
    }
}

/// Folded name or alias -> position in [`COUNTRIES`], built on first use.
fn index() -> &'static HashMap<String, usize> {
    static INDEX: OnceLock<HashMap<String, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map = HashMap::with_capacity(2 * COUNTRIES.len() + ALIASES.len());
        for (i, known) in COUNTRIES.iter().enumerate() {
            map.entry(fold(known.es)).or_insert(i);
            map.entry(fold(known.en)).or_insert(i);
        }
        for &(alias, iso3) in ALIASES {
            if let Some(i) = COUNTRIES.iter().position(|known| known.iso3 == iso3) {
                map.entry(fold(alias)).or_insert(i);
            }
        }
        map
    })
}

/// The country a label names: its Spanish or English name or an alias, compared after [`fold`]. A label "X, Y"
/// that matches nothing as written is tried as "Y X" ("Dominicana, Rep." as "Rep. Dominicana"). `None` for
/// anything else, regions and totals included.
pub fn country(label: &str) -> Option<&'static Country> {
    let index = index();
    let label = strip_marks(label);
    let found = index.get(&fold(label)).or_else(|| {
        let (head, tail) = label.split_once(',')?;
        index.get(&fold(&format!("{tail} {head}")))
    });
    found.and_then(|&i| COUNTRIES.get(i))
}

/// The country with this ISO 3166-1 alpha-3 code, in any case (`"hnd"` is Honduras).
pub fn by_iso3(code: &str) -> Option<&'static Country> {
    let code = code.trim();
    COUNTRIES.iter().find(|known| known.iso3.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn code(label: &str) -> Option<&'static str> {
        country(label).map(|found| found.iso3)
    }

    #[test]
    fn codes_are_unique_sorted_upper_case_letters() {
        let mut seen = HashSet::new();
        for known in COUNTRIES {
            let iso3 = known.iso3;
            assert!(iso3.len() == 3 && iso3.bytes().all(|b| b.is_ascii_uppercase()), "bad code {iso3:?}");
            assert!(seen.insert(iso3), "duplicate code {iso3}");
            assert!(!fold(known.es).is_empty() && !fold(known.en).is_empty(), "{iso3} lacks a name");
        }
        assert!(COUNTRIES.windows(2).all(|pair| pair[0].iso3 < pair[1].iso3), "COUNTRIES is sorted by code");
        // The 249 of ISO 3166-1 and Kosovo.
        assert_eq!(COUNTRIES.len(), 250);
    }

    #[test]
    fn aliases_point_to_known_codes_and_add_a_spelling() {
        let mut seen = HashSet::new();
        for &(alias, iso3) in ALIASES {
            let known = by_iso3(iso3).expect("an alias names a code in COUNTRIES");
            assert_eq!(known.iso3, iso3, "alias codes are written in upper case");
            let key = fold(alias);
            assert!(key != fold(known.es) && key != fold(known.en), "{alias:?} repeats a name of {iso3}");
            assert!(seen.insert(key), "{alias:?} is listed twice");
            assert_eq!(code(alias), Some(iso3), "{alias:?}");
        }
    }

    #[test]
    fn no_key_names_two_countries() {
        let mut keys: HashMap<String, &str> = HashMap::new();
        let names = COUNTRIES.iter().flat_map(|known| [(known.es, known.iso3), (known.en, known.iso3)]);
        for (name, iso3) in names.chain(ALIASES.iter().copied()) {
            let key = fold(name);
            assert!(!key.is_empty(), "{name:?} folds to nothing");
            if let Some(other) = keys.insert(key.clone(), iso3) {
                assert_eq!(other, iso3, "{name:?} folds to {key:?}, which already names {other}");
            }
        }
    }

    #[test]
    fn every_name_resolves_to_its_country() {
        for known in COUNTRIES {
            assert_eq!(code(known.es), Some(known.iso3), "{:?}", known.es);
            assert_eq!(code(known.en), Some(known.iso3), "{:?}", known.en);
        }
    }

    #[test]
    fn upm_spellings_resolve() {
        let cases = [
            ("Dominicana, Rep.", "DOM"),
            ("Rep. Dominicana", "DOM"),
            ("República Dominicana", "DOM"),
            ("Corea, Rep. (Sur)", "KOR"),
            ("Corea del Sur", "KOR"),
            ("Corea, Rep. Pop. Dem. (Norte)", "PRK"),
            ("Corea del Norte", "PRK"),
            ("Congo, Rep. Dem.", "COD"),
            ("Congo, Rep.", "COG"),
            ("República Democrática del Congo", "COD"),
            ("Estados Unidos", "USA"),
            ("Estados Unidos de América", "USA"),
            ("EUA", "USA"),
            ("E.U.A.", "USA"),
            ("Reino Unido", "GBR"),
            ("Gran Bretaña", "GBR"),
            ("Rusia", "RUS"),
            ("Federación de Rusia", "RUS"),
            ("Irán", "IRN"),
            ("Siria", "SYR"),
            ("Vietnam", "VNM"),
            ("Viet Nam", "VNM"),
            ("Laos", "LAO"),
            ("Bolivia", "BOL"),
            ("Venezuela", "VEN"),
            ("Tanzania", "TZA"),
            ("Moldavia", "MDA"),
            ("Macedonia", "MKD"),
            ("Macedonia del Norte", "MKD"),
            ("Checa, Rep.", "CZE"),
            ("República Checa", "CZE"),
            ("Chequia", "CZE"),
            ("Eslovaca, Rep.", "SVK"),
            ("Centroafricana, Rep.", "CAF"),
            ("Costa de Marfil", "CIV"),
            ("Côte d'Ivoire", "CIV"),
            ("Guinea Bissau", "GNB"),
            ("Guinea-Bisáu", "GNB"),
            ("San Vicente y las Granadinas", "VCT"),
            ("San Cristóbal y Nieves", "KNA"),
            ("Antigua y Barbuda", "ATG"),
            ("Trinidad y Tobago", "TTO"),
            ("Belice", "BLZ"),
            ("Guyana", "GUY"),
            ("Guayana Francesa", "GUF"),
            ("Surinam", "SUR"),
            ("Taiwán", "TWN"),
            ("Hong Kong", "HKG"),
            ("Palestina", "PSE"),
            ("Kosovo", "XKX"),
            ("Birmania", "MMR"),
            ("Myanmar", "MMR"),
            ("Sri Lanka", "LKA"),
            ("Bangladesh", "BGD"),
            ("Bangladés", "BGD"),
            ("Pakistán", "PAK"),
            ("India", "IND"),
            ("Nepal", "NPL"),
            ("Camerún", "CMR"),
            ("Eritrea", "ERI"),
            ("Ghana", "GHA"),
            ("Angola", "AGO"),
            ("Senegal", "SEN"),
            ("Somalia", "SOM"),
            ("Sudán del Sur", "SSD"),
            ("Kirguistán", "KGZ"),
            ("Uzbekistán", "UZB"),
            ("Kazajistán", "KAZ"),
            ("Turquía", "TUR"),
            ("Ucrania", "UKR"),
            ("Emiratos Árabes Unidos", "ARE"),
            ("Arabia Saudita", "SAU"),
            ("Países Bajos", "NLD"),
            ("Holanda", "NLD"),
            ("Suiza", "CHE"),
            ("Haití", "HTI"),
            ("Haiti", "HTI"),
            ("Jamaica", "JAM"),
            ("Cuba", "CUB"),
            ("Brasil", "BRA"),
            ("Perú", "PER"),
            ("Chile", "CHL"),
            ("Ecuador", "ECU"),
            ("Colombia", "COL"),
            ("Argentina", "ARG"),
            ("Uruguay", "URY"),
            ("Paraguay", "PRY"),
            ("Nicaragua", "NIC"),
            ("El Salvador", "SLV"),
            ("Guatemala", "GTM"),
            ("Honduras", "HND"),
            ("Costa Rica", "CRI"),
            ("Panamá", "PAN"),
            ("Canadá", "CAN"),
            ("China", "CHN"),
            ("Japón", "JPN"),
            ("Filipinas", "PHL"),
            ("Indonesia", "IDN"),
            ("Egipto", "EGY"),
            ("Marruecos", "MAR"),
            ("Nigeria", "NGA"),
            ("Etiopía", "ETH"),
            ("Guinea", "GIN"),
            ("Mauritania", "MRT"),
            ("Malí", "MLI"),
            ("Burkina Faso", "BFA"),
            ("Mali", "MLI"),
            ("Mianmar (Birmania)", "MMR"),
            ("Países Bajos (Holanda)", "NLD"),
            ("Martinica (Terr. Ultram. Francia)", "MTQ"),
            ("Micronesia, Rep.", "FSM"),
            ("Irak", "IRQ"),
            ("Fiyi", "FJI"),
            ("Dominica", "DMA"),
            ("Níger", "NER"),
            ("  Honduras  ", "HND"),
            ("HONDURAS", "HND"),
            ("Guatemala*", "GTM"),
            ("Haití 1/", "HTI"),
            ("EL SALVADOR", "SLV"),
            ("Venezuela (1)", "VEN"),
            ("CUBA ", "CUB"),
        ];
        for (label, iso3) in cases {
            assert_eq!(code(label), Some(iso3), "{label:?}");
        }
    }

    #[test]
    fn inverted_labels_are_read_both_ways() {
        assert_eq!(code("Bolivia, Estado Plurinacional de"), Some("BOL"));
        assert_eq!(code("Venezuela, República Bolivariana de"), Some("VEN"));
        assert_eq!(code("Congo, República Democrática del"), Some("COD"));
        assert_eq!(code("Corea, República de"), Some("KOR"));
        assert_eq!(code("Feroe, Islas"), Some("FRO"));
        assert_eq!(code("Caimán, Islas*"), Some("CYM"));
        assert_eq!(code("Moldavia, República de 1/"), Some("MDA"));
        assert_eq!(code("Caribe, Islas del"), None);
    }

    #[test]
    fn regions_are_not_countries() {
        for label in [
            "América",
            "América Central",
            "América del Norte",
            "América del Sur",
            "Islas del Caribe",
            "Asia",
            "Europa",
            "África",
            "Oceanía",
            "Oceania",
            "Total",
            "Total general",
            "Apátridas",
            "Otros",
            "",
            "  ",
            "*",
            "1/",
        ] {
            assert_eq!(code(label), None, "{label:?}");
        }
    }

    #[test]
    fn fold_normalises() {
        assert_eq!(fold("  República   Dominicana* "), "republica dominicana");
        assert_eq!(fold("PAÍSES BAJOS"), "paises bajos");
        assert_eq!(fold("Côte d'Ivoire"), "cote d ivoire");
        assert_eq!(fold("Guinea-Bisáu"), "guinea bisau");
        assert_eq!(fold("Hai\u{301}ti\u{a0}"), "haiti");
        assert_eq!(fold("Guatemala 1/"), "guatemala");
        assert_eq!(fold("Guatemala1/ 2/"), "guatemala");
        assert_eq!(fold("Perú (1)"), "peru");
        assert_eq!(fold("Canadá\u{b2}"), "canada");
        assert_eq!(fold("Corea, Rep. (Sur)"), "corea rep sur");
        assert_eq!(fold("América Central"), "america central");
        assert_eq!(fold("Cuadro 3.1.1"), "cuadro 3 1 1");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn by_iso3_ignores_case() {
        assert_eq!(by_iso3("hnd").map(|found| found.es), Some("Honduras"));
        assert_eq!(by_iso3(" Usa ").map(|found| found.en), Some("United States"));
        assert_eq!(by_iso3("XKX").map(|found| found.es), Some("Kosovo"));
        assert!(by_iso3("XXX").is_none());
        assert!(by_iso3("HN").is_none());
        let haiti = country("Haiti").expect("Haiti resolves");
        assert_eq!(by_iso3(haiti.iso3), Some(haiti));
        assert_eq!(haiti.es, "Haití");
    }
}
