//! The bulletin's file shapes (fixtures in `vigia-cli/tests/fixtures/statistics/`, made
//! by `make_fixtures.py`) read into tables, or refused cell by cell.

use vigia_app::statistics::read_sheets;
use vigia_domain::statistics::bulletin;
use vigia_domain::statistics::{Dimension, Measure};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../vigia-cli/tests/fixtures/statistics/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn tables(name: &str) -> Result<Vec<bulletin::Table>, Vec<bulletin::Problem>> {
    let (sheets, _) = read_sheets(&fixture(name)).map_err(|p| vec![p])?;
    bulletin::read(&sheets)
}

fn value(t: &bulletin::Table, key: &str, month: u8) -> Option<i64> {
    t.rows.iter().find(|r| r.key == key)?.values.iter().find(|(m, _)| *m == month).map(|(_, v)| *v)
}

#[test]
fn the_legacy_xls_of_may_reads_with_its_latin1_text() {
    let t = &tables("upm-3.2.1-2020-05.xls").expect("read")[0];
    assert_eq!(
        (t.code.as_str(), t.year, t.measure, t.dimension),
        ("3.2.1", 2020, Measure::Returned, Dimension::Nationality)
    );
    assert_eq!(t.months, vec![1, 2, 3, 4, 5]);
    assert_eq!(value(t, "HND", 3), Some(1204));
    // Accented labels came through the file's code page.
    assert!(
        t.rows.iter().any(|r| r.label == "Haití" && r.key == "HTI"),
        "{:?}",
        t.rows.iter().map(|r| &r.label).collect::<Vec<_>>()
    );
    assert!(t.rows.iter().any(|r| r.key == "stateless"));
    assert!(t.rows.iter().any(|r| r.key == "DOM"));
}

#[test]
fn the_june_xlsx_has_a_header_a_row_lower_and_one_more_month() {
    let t = &tables("upm-3.2.1-2020-06.xlsx").expect("read")[0];
    assert_eq!(t.months, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(value(t, "HND", 3), Some(1236));
}

#[test]
fn the_latin1_csv_of_2021_with_a_subtotal_column_reads() {
    let t = &tables("upm-3.1.1-2021.csv").expect("read")[0];
    assert_eq!((t.code.as_str(), t.year, t.measure), ("3.1.1", 2021, Measure::Presented));
    assert_eq!(t.months.len(), 12);
    assert!(t.rows.iter().any(|r| r.label == "Panamá"));
}

#[test]
fn the_state_table_reads_every_state() {
    let t = &tables("upm-3.1.2-2019.xlsx").expect("read")[0];
    assert_eq!(t.dimension, Dimension::State);
    assert_eq!(t.rows.iter().filter(|r| r.key.starts_with("state:")).count(), 32);
}

#[test]
fn the_bad_file_is_refused_at_each_fault() {
    let problems = tables("upm-bad.xlsx").expect_err("refused");
    let at: Vec<(String, u32, &str)> = problems.iter().map(|p| (p.column.clone(), p.row, p.code)).collect();
    for expected in [
        ("M".to_string(), 6, "stats_unknown_column"),
        ("A".into(), 20, "stats_unknown_row"),
        ("E".into(), 16, "stats_not_a_count"),
    ] {
        assert!(at.contains(&expected), "{expected:?} not in {at:?}");
    }
    assert!(problems.iter().all(|p| p.sheet == "Cuadro 3.2.1"));
}

#[test]
fn a_table_that_is_not_imported_and_a_file_that_is_no_spreadsheet_are_refused() {
    let problems = tables("upm-unknown-table.xlsx").expect_err("refused");
    assert_eq!(problems[0].code, "stats_unknown_table");
    let broken = read_sheets(b"PK\x03\x04 not really a zip").expect_err("unreadable");
    assert_eq!(broken.code, "stats_unreadable_file");
}

/// An XLSX of a few hundred bytes whose two cells sit at opposite corners of the sheet
/// would make calamine reserve billions of cells: it is read cell by cell and refused.
#[test]
fn an_xlsx_with_cells_at_opposite_corners_is_refused_without_reserving_the_sheet() {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default();
        let parts = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
            ),
            (
                "xl/worksheets/sheet1.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData></worksheet>"#,
            ),
        ];
        for (name, body) in parts {
            zip.start_file(name, opts).expect("part");
            zip.write_all(body.as_bytes()).expect("write");
        }
        zip.finish().expect("zip");
    }
    let bytes = out.into_inner();
    assert!(bytes.len() < 4096);
    let refused = read_sheets(&bytes).expect_err("too large");
    assert_eq!(refused.code, "stats_sheet_too_large");
}
