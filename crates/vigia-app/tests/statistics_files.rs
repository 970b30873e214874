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
    let (sheets, _) = read_sheets(name, &fixture(name)).map_err(|p| vec![p])?;
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
    let broken = read_sheets("x.xlsx", b"PK\x03\x04 not really a zip").expect_err("unreadable");
    assert_eq!(broken.code, "stats_unreadable_file");
}
