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

const MX: &str = "America/Mexico_City";

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
