//! Mexico's states with their INEGI codes (Marco Geoestadístico, clave de entidad).

/// A federal entity: INEGI code, official short name, and the civil time zone most of
/// it keeps (used to show local dates; legal deadlines count civil days there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub code: &'static str,
    pub name: &'static str,
    pub time_zone: &'static str,
}

const fn st(code: &'static str, name: &'static str, time_zone: &'static str) -> State {
    State { code, name, time_zone }
}

/// The time zone of the federal capital: the one legal and civil times are read in
/// when no facility says otherwise (the demo's times, statements, "today" for deadlines).
pub const LEGAL_TIME_ZONE: &str = "America/Mexico_City";
const MX: &str = LEGAL_TIME_ZONE;

pub const STATES: [State; 32] = [
    st("01", "Aguascalientes", MX),
    st("02", "Baja California", "America/Tijuana"),
    st("03", "Baja California Sur", "America/Mazatlan"),
    st("04", "Campeche", "America/Merida"),
    st("05", "Coahuila de Zaragoza", "America/Monterrey"),
    st("06", "Colima", MX),
    st("07", "Chiapas", MX),
    st("08", "Chihuahua", "America/Chihuahua"),
    st("09", "Ciudad de México", MX),
    st("10", "Durango", "America/Monterrey"),
    st("11", "Guanajuato", MX),
    st("12", "Guerrero", MX),
    st("13", "Hidalgo", MX),
    st("14", "Jalisco", MX),
    st("15", "México", MX),
    st("16", "Michoacán de Ocampo", MX),
    st("17", "Morelos", MX),
    st("18", "Nayarit", "America/Mazatlan"),
    st("19", "Nuevo León", "America/Monterrey"),
    st("20", "Oaxaca", MX),
    st("21", "Puebla", MX),
    st("22", "Querétaro", MX),
    st("23", "Quintana Roo", "America/Cancun"),
    st("24", "San Luis Potosí", MX),
    st("25", "Sinaloa", "America/Mazatlan"),
    st("26", "Sonora", "America/Hermosillo"),
    st("27", "Tabasco", MX),
    st("28", "Tamaulipas", "America/Matamoros"),
    st("29", "Tlaxcala", MX),
    st("30", "Veracruz de Ignacio de la Llave", MX),
    st("31", "Yucatán", "America/Merida"),
    st("32", "Zacatecas", MX),
];

/// Looks a state up by its two-digit INEGI code (`"07"`; `"7"` is accepted too).
pub fn state(code: &str) -> Option<&'static State> {
    let code = code.trim();
    let padded;
    let code = if code.len() == 1 {
        padded = format!("0{code}");
        padded.as_str()
    } else {
        code
    };
    STATES.iter().find(|s| s.code == code)
}

/// Mexico's bounding box, with a margin: coordinates outside it are a typing mistake.
pub const LATITUDE: (f64, f64) = (14.0, 33.0);
pub const LONGITUDE: (f64, f64) = (-119.0, -86.0);

/// The map drawing's extent (the vendored `mexico.svg`, viewBox 0 0 793 498) and the
/// geographic extremes it spans.
const MAP_X: (f64, f64) = (0.287_862_18, 792.187_86);
const MAP_Y: (f64, f64) = (0.292_438, 497.212_44);
const MAP_WEST: f64 = -118.4;
const MAP_EAST: f64 = -86.7;
const MAP_NORTH: f64 = 32.72;
const MAP_SOUTH: f64 = 14.53;

fn mercator(lat: f64) -> f64 {
    (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0).tan().ln()
}

/// Places a latitude/longitude on the vendored map of Mexico (Mercator fitted to the
/// drawing; see `static/vendor/svg-maps-mexico/SOURCE.md`).
pub fn map_point(lat: f64, lon: f64) -> (f64, f64) {
    let x = MAP_X.0 + (lon - MAP_WEST) / (MAP_EAST - MAP_WEST) * (MAP_X.1 - MAP_X.0);
    let y = MAP_Y.0
        + (mercator(MAP_NORTH) - mercator(lat)) / (mercator(MAP_NORTH) - mercator(MAP_SOUTH)) * (MAP_Y.1 - MAP_Y.0);
    (x, y)
}

/// The map drawing's id for each state, in INEGI order.
pub const MAP_IDS: [&str; 32] = [
    "agu", "bcn", "bcs", "cam", "coa", "col", "chp", "chh", "cmx", "dur", "gua", "gro", "hid", "jal", "mex", "mic",
    "mor", "nay", "nle", "oax", "pue", "que", "roo", "slp", "sin", "son", "tab", "tam", "tla", "ver", "yuc", "zac",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_sequential() {
        for (i, s) in STATES.iter().enumerate() {
            assert_eq!(s.code, format!("{:02}", i + 1));
        }
        assert_eq!(state("7").map(|s| s.name), Some("Chiapas"));
        assert_eq!(state("27").map(|s| s.name), Some("Tabasco"));
        assert!(state("33").is_none());
        assert!(state("").is_none());
    }
}
