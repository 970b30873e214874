//! Exports for people who open them in spreadsheets.

/// A cell safe to open in a spreadsheet: text starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return would be run as a formula (CSV injection), so it gets a
/// leading apostrophe. Numbers that merely start with a minus sign stay numbers.
/// Borrowed as it is unless it needs the apostrophe (a download writes millions).
pub fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') if cell.parse::<f64>().is_err() => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// A writer into memory that takes rows of any length: with the default, a row longer
/// or shorter than the first was cut short without a word (writing to memory cannot
/// fail otherwise).
fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().flexible(true).from_writer(Vec::new())
}

/// Writes rows as CSV (RFC 4180) with every cell neutralized.
pub fn csv<I, R, C>(header: &[&str], rows: I) -> String
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut w = writer();
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
    let mut w = writer();
    write_rows(&mut w, rows);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn write_rows<I, R, C>(w: &mut csv::Writer<Vec<u8>>, rows: I)
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    use std::borrow::Cow;
    let mut cells: Vec<C> = Vec::new();
    for row in rows {
        cells.clear();
        cells.extend(row);
        // As one record: the writer marks a record of one empty cell as such.
        let _ = w.write_record(cells.iter().map(|c| match neutralize(c.as_ref()) {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        }));
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

    proptest::proptest! {
        /// Whatever the cells hold (quotes, commas, line breaks, formulas), a spreadsheet
        /// reading the rows back gets each cell as written, or with the apostrophe that
        /// keeps it from running, and the same number of rows and cells.
        #[test]
        fn rows_read_back_as_written_and_no_formula_runs(
            rows in proptest::collection::vec(proptest::collection::vec("[=+@\\-\t\r\n\",a-z0-9. ]{0,6}", 1..5), 0..6)
        ) {
            let text = csv_rows(&rows);
            let back: Vec<Vec<String>> = ::csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes())
                .records()
                .map(|r| r.expect("record").iter().map(str::to_string).collect())
                .collect();
            let want: Vec<Vec<String>> =
                rows.iter().map(|r| r.iter().map(|c| neutralize(c).into_owned()).collect()).collect();
            proptest::prop_assert_eq!(&back, &want);
            for cell in back.iter().flatten() {
                let runs = cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err();
                proptest::prop_assert!(!runs, "{:?}", cell);
            }
        }
    }
}
