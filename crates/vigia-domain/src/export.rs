//! Exports for people who open them in spreadsheets.

/// A cell safe to open in a spreadsheet: text starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return would be run as a formula (CSV injection), so it gets a
/// leading apostrophe. Numbers that merely start with a minus sign stay numbers.
pub fn neutralize(cell: &str) -> String {
    let is_number = cell.parse::<f64>().is_ok();
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if !is_number => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// Writes rows as CSV (RFC 4180) with every cell neutralized.
pub fn csv<I, R, C>(header: &[&str], rows: I) -> String
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(header);
    write_rows(&mut w, rows);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Rows alone, for a file written in parts (the header went out with the first part).
pub fn csv_rows<I, R, C>(rows: I) -> String
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    write_rows(&mut w, rows);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn write_rows<I, R, C>(w: &mut csv::Writer<Vec<u8>>, rows: I)
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    for row in rows {
        let cells: Vec<String> = row.into_iter().map(|c| neutralize(c.as_ref())).collect();
        let _ = w.write_record(&cells);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralized_and_numbers_kept() {
        assert_eq!(neutralize("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(neutralize("+1+1"), "'+1+1");
        assert_eq!(neutralize("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralize("-2+3"), "'-2+3");
        assert_eq!(neutralize("-92.26"), "-92.26");
        assert_eq!(neutralize("Siglo XXI"), "Siglo XXI");
        assert_eq!(csv(&["a", "b"], [["=1", "x,y"]]), "a,b\n'=1,\"x,y\"\n");
    }
}
