use super::*;
use proptest::prelude::*;

fn t(s: &str) -> Cell {
    Cell::Text(s.into())
}

fn n(v: i64) -> Cell {
    Cell::Number(v as f64)
}

/// A sheet in the bulletin's shape: header block, header row, rows, footer.
fn sheet(title: &str, label_header: &str, total: &str, rows: &[(&str, Vec<Option<i64>>)], blank_rows: usize) -> Sheet {
    let mut grid = vec![
        vec![t("Unidad de Política Migratoria, Registro e Identidad de Personas")],
        vec![t("Boletín Mensual de Estadísticas Migratorias")],
        vec![t(title)],
    ];
    grid.extend((0..blank_rows).map(|_| vec![]));
    let mut header = vec![t(label_header)];
    header.extend(MONTH_HEADERS.iter().map(|m| t(m)));
    header.push(t(total));
    grid.push(header);
    for (label, values) in rows {
        let mut row = vec![t(label)];
        row.extend(values.iter().map(|v| v.map(n).unwrap_or(Cell::Empty)));
        row.extend((values.len()..12).map(|_| Cell::Empty));
        row.push(n(values.iter().flatten().sum()));
        grid.push(row);
    }
    grid.push(vec![]);
    grid.push(vec![t("Nota: Las cifras se refieren a eventos, debido a que una persona pudo haber sido devuelta en más de una ocasión.")]);
    grid.push(vec![t("Fuente: Unidad de Política Migratoria, SEGOB.")]);
    Sheet { name: "3.2.1".into(), rows: grid }
}

const RETURNED: &str = "Cuadro 3.2.1 Eventos de extranjeros devueltos por la autoridad migratoria mexicana, según \
                        continente y país de nacionalidad, enero-mayo de 2020";

#[test]
fn a_returns_table_is_placed_cell_by_cell() {
    let rows = [
        ("Total", vec![Some(30), Some(0), Some(1216), None]),
        ("América", vec![Some(30), Some(0), Some(1216)]),
        ("América Central", vec![Some(30), Some(0), Some(1204)]),
        ("  Honduras", vec![Some(20), Some(0), Some(1204)]),
        ("  Guatemala", vec![Some(10), None, None]),
        ("Islas del Caribe", vec![Some(0), Some(0), Some(12)]),
        ("  Dominicana, Rep.", vec![Some(0), Some(0), Some(12)]),
        ("Apátridas", vec![None, None, None]),
    ];
    let mut s = sheet(RETURNED, "Continente y país de nacionalidad", "Total", &rows, 1);
    // A zero written the bulletin's way.
    s.rows[10][2] = t("-");
    let tables = read(&[s]).expect("read");
    let table = &tables[0];
    assert_eq!((table.code.as_str(), table.year, table.measure), ("3.2.1", 2020, Measure::Returned));
    assert_eq!(table.dimension, Dimension::Nationality);
    assert_eq!(table.months, vec![1, 2, 3]);
    let keys: Vec<(&str, RowKind)> = table.rows.iter().map(|r| (r.key.as_str(), r.kind)).collect();
    assert_eq!(
        keys,
        vec![
            ("total", RowKind::Total),
            ("region:america", RowKind::Region),
            ("region:america-central", RowKind::Region),
            ("HND", RowKind::Country),
            ("GTM", RowKind::Country),
            ("region:caribe", RowKind::Region),
            ("DOM", RowKind::Country),
            ("stateless", RowKind::Category),
        ]
    );
    // An empty cell in a published month is a zero; Honduras in March as printed.
    assert_eq!(table.rows[4].values, vec![(1, 10), (2, 0), (3, 0)]);
    assert_eq!(table.rows[3].values[2], (3, 1204));
    assert_eq!(table.rows[3].label, "Honduras");
}

#[test]
fn what_cannot_be_placed_is_reported_by_sheet_row_and_column() {
    let rows = [
        ("Total", vec![Some(5)]),
        ("  Narnia", vec![Some(1)]),
        ("  Nicaragua", vec![Some(4)]),
        ("  Honduras", vec![Some(4)]),
    ];
    let mut s = sheet(RETURNED, "Continente y país de nacionalidad", "Total", &rows, 0);
    // Header on row 4; Nicaragua on row 7: a text in February (column C).
    s.rows[6][2] = t("12a");
    // A wrong total for Honduras (row 8, column N).
    s.rows[7][13] = n(5);
    s.rows[3][12] = t("Mes 13");
    let problems = read(&[s]).expect_err("refused");
    let found: Vec<(u32, &str, &str)> = problems.iter().map(|p| (p.row, p.column.as_str(), p.code)).collect();
    assert_eq!(
        found,
        vec![
            (4, "M", "stats_unknown_column"),
            (6, "A", "stats_unknown_row"),
            (7, "C", "stats_not_a_count"),
            (8, "N", "stats_total_mismatch"),
        ],
        "{problems:?}"
    );
    assert!(problems.iter().all(|p| p.sheet == "3.2.1"));
    assert_eq!(problems[1].params, vec![("text", "Narnia".to_string())]);
}

#[test]
fn a_table_it_does_not_know_is_refused_at_its_title() {
    let s = sheet(
        "Cuadro 9.9.9 Trámites migratorios, 2020",
        "Continente y país de nacionalidad",
        "Total",
        &[("Total", vec![Some(1)])],
        0,
    );
    let problems = read(&[s]).expect_err("refused");
    assert_eq!((problems[0].row, problems[0].column.as_str(), problems[0].code), (3, "A", "stats_unknown_table"));
}

#[test]
fn a_state_table_of_2021_with_a_subtotal_column_reads() {
    let s = sheet(
        "Cuadro 3.1.2 Eventos de extranjeros presentados ante la autoridad migratoria, según entidad federativa, 2021",
        "Entidad federativa",
        "Subtotal",
        &[("Total", vec![Some(7); 12]), ("Chiapas", vec![Some(5); 12]), ("Veracruz", vec![Some(2); 12])],
        1,
    );
    let table = &read(&[s]).expect("read")[0];
    assert_eq!((table.measure, table.dimension, table.year), (Measure::Presented, Dimension::State, 2021));
    assert_eq!(table.rows[1].key, "state:07");
    assert_eq!(table.rows[2].key, "state:30");
    assert_eq!(table.months.len(), 12);
}

#[test]
fn an_empty_file_or_one_without_a_header_is_refused() {
    assert_eq!(read(&[Sheet::default()]).expect_err("empty")[0].code, "stats_empty");
    let s =
        Sheet { name: "Hoja1".into(), rows: vec![vec![t("Cuadro 3.2.1 devueltos 2020")], vec![t("Honduras"), n(4)]] };
    assert_eq!(read(&[s]).expect_err("no header")[0].code, "stats_no_header");
}

#[test]
fn column_letters_are_the_spreadsheet_s() {
    assert_eq!(column_letter(0), "A");
    assert_eq!(column_letter(25), "Z");
    assert_eq!(column_letter(26), "AA");
    assert_eq!(column_letter(27), "AB");
    assert_eq!(column_letter(701), "ZZ");
    assert_eq!(column_letter(702), "AAA");
}

proptest! {
    #[test]
    fn every_figure_written_is_read_back(
        values in proptest::collection::vec(proptest::collection::vec(0i64..100_000, 1..=12), 1..6),
        blank in 0usize..3,
    ) {
        let names = ["Honduras", "Guatemala", "El Salvador", "Nicaragua", "Cuba", "Haití"];
        let months = values.iter().map(|v| v.len()).min().unwrap_or(1);
        let rows: Vec<(&str, Vec<Option<i64>>)> =
            values.iter().zip(names).map(|(v, name)| (name, v[..months].iter().map(|x| Some(*x)).collect())).collect();
        let s = sheet(RETURNED, "País de nacionalidad", "Total", &rows, blank);
        let table = &read(&[s]).expect("read")[0];
        prop_assert_eq!(table.months.len(), months);
        for ((_, written), row) in rows.iter().zip(&table.rows) {
            let read_back: Vec<i64> = row.values.iter().map(|(_, v)| *v).collect();
            let written: Vec<i64> = written.iter().flatten().copied().collect();
            prop_assert_eq!(read_back, written);
        }
    }

    #[test]
    fn any_grid_is_read_or_refused_with_cells_inside_it(
        grid in proptest::collection::vec(
            proptest::collection::vec(
                prop_oneof![
                    Just(Cell::Empty),
                    any::<f64>().prop_map(Cell::Number),
                    "[A-Za-zéñ0-9 .,/*-]{0,20}".prop_map(Cell::Text),
                    proptest::sample::select(vec!["Enero", "Total", "Honduras", "Cuadro 3.2.1 devueltos 2020", "-", "Nota: x"]).prop_map(|s| Cell::Text(s.into())),
                ],
                0..8,
            ),
            0..12,
        )
    ) {
        let s = Sheet { name: "x".into(), rows: grid.clone() };
        if let Err(problems) = read(&[s]) {
            for p in problems {
                prop_assert!(p.row >= 1);
                prop_assert!(p.row as usize <= grid.len().max(1));
            }
        }
    }
}
