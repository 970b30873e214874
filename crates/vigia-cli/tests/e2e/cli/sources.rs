//! `vigia stats import` and `vigia recommendations import` (issue #18): the bulletin's
//! and the UHRI's files import from the command line as from the web, a bad file is
//! refused cell by cell with a non-zero exit and nothing stored, and `vigia stats list`
//! shows the versions with their provenance.

use super::{init, open_dir, run, text, TempDir};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/statistics/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn official_sources_import_from_the_command_line_or_name_the_cells_they_cannot_place() {
    let t = TempDir::new("sources");
    let dir = t.data();
    init(&dir);
    let o = run(
        &dir,
        &[
            "stats",
            "import",
            &fixture("upm-3.2.1-2020-05.xls"),
            "--org",
            "defensoria",
            "--source-url",
            "https://portales.segob.gob.mx/es/PoliticaMigratoria/Boletines_Estadisticos",
            "--retrieved",
            "2020-07-06",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("table 3.2.1 2020"), "{:?}", text(&o));
    let o = run(&dir, &["stats", "import", &fixture("upm-bad.xlsx"), "--org", "defensoria"]);
    assert!(!o.status.success());
    let (_, err) = text(&o);
    assert!(err.contains("row 20, column A: stats_unknown_row") && err.contains("row 16, column E"), "{err}");
    let o = run(&dir, &["stats", "import", &fixture("upm-3.2.1-2020-05.xls"), "--org", "nadie"]);
    assert!(!o.status.success(), "an unknown organization");
    let o = run(&dir, &["stats", "list"]);
    assert!(o.status.success());
    let lines: Vec<serde_json::Value> =
        text(&o).0.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(lines.len(), 1, "the bad file stored nothing");
    assert_eq!(lines[0]["unit"], "events");
    assert_eq!(lines[0]["provenance"]["retrieved_on"], "2020-07-06");

    let o = run(&dir, &["recommendations", "import", &fixture("uhri-mexico.xlsx"), "--org", "defensoria"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("5 new"), "{:?}", text(&o));
    let o = run(&dir, &["recommendations", "import", &fixture("uhri-mexico-update.xlsx"), "--org", "defensoria"]);
    assert!(text(&o).0.contains("1 new, 1 updated, 4 unchanged"), "{:?}", text(&o));
    let o = run(&dir, &["recommendations", "import", &fixture("uhri-bad.xlsx"), "--org", "defensoria"]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("uhri_missing_column"), "{:?}", text(&o));
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let store = rt.block_on(open_dir(&dir));
    assert_eq!(rt.block_on(store.recommendations()).expect("recs").len(), 6);
    assert!(rt.block_on(store.verify_audit()).expect("verify").ok());
}
