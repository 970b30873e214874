//! Official statistics (issue #18 part 1), through the API and the pages on both
//! backends: the bulletin's files (XLS, XLSX, Latin-1 CSV) import as versions with
//! their provenance, the next month's file shows its revisions, a bad file is refused
//! cell by cell with nothing stored, a file is not imported twice, series carry their
//! spikes and breaks, a changed figure fails the audit, and every answer says events.

use serde_json::Value;
use vigia_domain::account::Role;

use crate::helpers::{csrf_of, get_text, TestApp};

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/statistics/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Posts a file to the import API with its provenance; the status and the answer.
pub async fn import(app: &TestApp, token: &str, name: &str, query: &str) -> (u16, Value) {
    let url = app.url(&format!("/api/v1/statistics/imports?file_name={name}&{query}"));
    let r = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(fixture(name))
        .send()
        .await
        .expect("post");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

const UPM: &str = "publisher=UPM%2C%20SEGOB&retrieved_on=2020-07-06&source_url=https%3A%2F%2Fportales.segob.gob.mx%2Fes%2FPoliticaMigratoria%2FBoletines_Estadisticos";

#[tokio::test]
async fn bulletin_files_import_as_versions_with_revisions_and_refusals_by_cell() {
    for db in vigia_store::testing::TestDb::all().await {
        let app = TestApp::new(db).await;
        let (_, analyst) = app.api_user("analisis@a.org", "org-a", Role::Analyst).await;
        let (_, monitor) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let (_, partner) = app.api_user("coord@b.org", "org-b", Role::Coordinator).await;

        // Monitors read figures but do not import them.
        assert_eq!(import(&app, &monitor, "upm-3.2.1-2020-05.xls", UPM).await.0, 403);
        // Provenance is required and checked, field by field.
        let (s, e) =
            import(&app, &analyst, "upm-3.2.1-2020-05.xls", "retrieved_on=2099-01-01&source_url=ftp%3A%2F%2Fx").await;
        assert_eq!(s, 422, "{e}");
        let fields: Vec<&str> =
            e["errors"].as_array().expect("errors").iter().filter_map(|x| x["field"].as_str()).collect();
        for f in ["publisher", "source_url", "retrieved_on"] {
            assert!(fields.contains(&f), "{f} in {e}");
        }

        // The May file (legacy XLS, Latin-1 text).
        let (s, may) = import(&app, &analyst, "upm-3.2.1-2020-05.xls", UPM).await;
        assert_eq!(s, 201, "{may}");
        let may = &may["versions"][0];
        assert_eq!(
            (may["table"].as_str(), may["year"].as_i64(), may["measure"].as_str()),
            (Some("3.2.1"), Some(2020), Some("returned"))
        );
        assert_eq!(may["months"], serde_json::json!([1, 2, 3, 4, 5]));
        assert_eq!(may["unit"], "events");
        assert_eq!(may["provenance"]["publisher"], "UPM, SEGOB");
        assert_eq!(may["file"]["sha256"].as_str().map(str::len), Some(64));
        // The same file again is not a second version.
        let (s, e) = import(&app, &analyst, "upm-3.2.1-2020-05.xls", UPM).await;
        assert_eq!(s, 409, "{e}");

        // The June file: a new version, and its corrections are shown.
        let (s, june) = import(&app, &analyst, "upm-3.2.1-2020-06.xlsx", "publisher=UPM&retrieved_on=2020-08-07").await;
        assert_eq!(s, 201, "{june}");
        let june_id = june["versions"][0]["id"].as_i64().expect("id");
        let (s, v) = app.api_get(&partner, &format!("/api/v1/statistics/versions/{june_id}")).await;
        assert_eq!(s, 200, "every member reads official figures: {v}");
        assert_eq!(v["previous_version"], may["id"]);
        let revisions = v["revisions"].as_array().expect("revisions");
        assert!(
            revisions.iter().any(|r| r["key"] == "HND" && r["month"] == 3 && r["before"] == 1204 && r["after"] == 1236),
            "{revisions:?}"
        );
        // Only the corrected cells (Honduras March, Guatemala January and their sums).
        assert!(revisions.len() <= 8, "{revisions:?}");

        // The series uses the latest version and says what it counts.
        let (s, series) =
            app.api_get(&analyst, "/api/v1/statistics/series?measure=returned&dimension=nationality&key=HND").await;
        assert_eq!(s, 200, "{series}");
        assert_eq!(series["unit"], "events");
        let march = series["months"].as_array().expect("months").iter().find(|m| m["month"] == "2020-03").cloned();
        assert_eq!(march.expect("march")["events"], 1236);
        let (s, _) = app.api_get(&analyst, "/api/v1/statistics/series?measure=nothing").await;
        assert_eq!(s, 422);

        // A Latin-1 CSV of 2021 and a table by state.
        assert_eq!(import(&app, &analyst, "upm-3.1.1-2021.csv", UPM).await.0, 201);
        assert_eq!(import(&app, &analyst, "upm-3.1.2-2019.xlsx", UPM).await.0, 201);

        // A bad file: every fault by sheet, row and column, and nothing stored.
        let before = app.api_get(&analyst, "/api/v1/statistics/versions").await.1["items"].as_array().map(Vec::len);
        let (s, e) = import(&app, &analyst, "upm-bad.xlsx", UPM).await;
        assert_eq!(s, 422, "{e}");
        let at: Vec<(String, i64)> = e["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|x| (x["column"].as_str().unwrap_or("").to_string(), x["row"].as_i64().unwrap_or(0)))
            .collect();
        for cell in [("M".to_string(), 6), ("A".to_string(), 20), ("E".to_string(), 16)] {
            assert!(at.contains(&cell), "{cell:?} in {e}");
        }
        assert!(e["errors"][0]["sheet"] == "Cuadro 3.2.1", "{e}");
        let after = app.api_get(&analyst, "/api/v1/statistics/versions").await.1["items"].as_array().map(Vec::len);
        assert_eq!(before, after, "nothing stored");
        assert_eq!(import(&app, &analyst, "upm-unknown-table.xlsx", UPM).await.0, 422);
        // Not a spreadsheet at all.
        let r = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/statistics/imports?file_name=x.xlsx&{UPM}")))
            .bearer_auth(&analyst)
            .body(b"PK\x03\x04 broken".to_vec())
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 422);

        // The file is kept as evidence and given back as imported.
        let c = app.login("analisis@a.org").await;
        let r = c.get(app.url(&format!("/statistics/versions/{june_id}/file"))).send().await.expect("file");
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.expect("bytes").to_vec(), crate::statistics::fixture("upm-3.2.1-2020-06.xlsx"));

        // Pages: the version with its revision in words, the series with its CSV.
        let (s, page) = get_text(&c, app.url(&format!("/statistics/versions/{june_id}"))).await;
        assert_eq!(s, 200);
        assert!(page.contains("Honduras, Marzo 2020: 1204 → 1236"), "{page}");
        assert!(page.contains("Eventos, no personas"));
        let (s, csv) =
            get_text(&c, app.url("/statistics/series.csv?measure=returned&dimension=nationality&key=HND")).await;
        assert_eq!(s, 200);
        assert!(
            csv.contains("2020-03,returned,nationality,HND,1236,\"Eventos, no personas / Events, not people\""),
            "{csv}"
        );
        let (s, svg) =
            get_text(&c, app.url("/statistics/series.svg?measure=returned&dimension=nationality&key=HND")).await;
        assert_eq!(s, 200);
        assert!(svg.starts_with("<svg") && svg.contains("Eventos, no personas"), "{svg}");

        assert!(app.store.verify_audit().await.expect("verify").ok());
    }
}

/// An operator who edits or deletes a figure, or swaps the kept file, in the database
/// behind the app's back: `vigia audit verify` names it.
#[tokio::test]
async fn a_figure_or_file_changed_behind_the_app_s_back_fails_the_audit_check() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, analyst) = app.api_user("analisis@a.org", "org-a", Role::Analyst).await;
    assert_eq!(import(&app, &analyst, "upm-3.2.1-2020-05.xls", UPM).await.0, 201);
    assert!(app.store.verify_audit().await.expect("verify").ok());
    let pool = sqlx::SqlitePool::connect(&app._db.url).await.expect("pool");
    for (tamper, undo, what) in [
        (
            "UPDATE stat_figures SET value = value + 1 WHERE key = 'HND' AND month = 3",
            "UPDATE stat_figures SET value = value - 1 WHERE key = 'HND' AND month = 3",
            "stat_version",
        ),
        ("UPDATE stat_files SET data = X'00'", "", "statistics file"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(tamper)).execute(&pool).await.expect("tamper");
        let report = app.store.verify_audit().await.expect("verify");
        assert!(report.problems.iter().any(|p| p.contains(what)), "{what}: {:?}", report.problems);
        if !undo.is_empty() {
            sqlx::query(sqlx::AssertSqlSafe(undo)).execute(&pool).await.expect("undo");
            assert!(app.store.verify_audit().await.expect("verify").ok());
        }
    }
}

#[tokio::test]
async fn the_upload_form_imports_or_lists_every_cell_it_could_not_place() {
    for db in vigia_store::testing::TestDb::all().await {
        let app = TestApp::new(db).await;
        app.user("analisis@a.org", "org-a", Role::Analyst).await;
        let c = app.login("analisis@a.org").await;
        let (_, page) = get_text(&c, app.url("/statistics")).await;
        let csrf = csrf_of(&page);
        let send = |file: &'static str, publisher: &'static str| {
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .text("publisher", publisher)
                .text("source_url", "")
                .text("retrieved_on", "2020-07-06")
                .text("published_on", "")
                .part("file", reqwest::multipart::Part::bytes(fixture(file)).file_name(file));
            c.post(app.url("/statistics/import")).multipart(form).send()
        };
        let r = send("upm-bad.xlsx", "UPM").await.expect("post");
        assert_eq!(r.status(), 422);
        let body = r.text().await.expect("text");
        assert!(body.contains("Narnia") && body.contains("12a") && body.contains("Mes 13"), "{body}");
        let r = send("upm-3.2.1-2020-05.xls", "").await.expect("post");
        assert_eq!(r.status(), 422, "publisher required");
        let r = send("upm-3.2.1-2020-05.xls", "UPM").await.expect("post");
        assert_eq!(r.status(), 303);
        let to = r.headers()["location"].to_str().expect("location").to_string();
        let (s, page) = get_text(&c, app.url(&to)).await;
        assert_eq!(s, 200);
        assert!(page.contains("Se importó un cuadro") && page.contains("3.2.1"), "{page}");
    }
}

/// May's file imported after June's (review finding): charts keep June's figures, and
/// June's page still compares it with May's.
#[tokio::test]
async fn an_older_file_imported_after_a_newer_one_does_not_replace_it() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, analyst) = app.api_user("analisis@a.org", "org-a", Role::Analyst).await;
    let (s, june) = import(&app, &analyst, "upm-3.2.1-2020-06.xlsx", "publisher=UPM&retrieved_on=2020-08-07").await;
    assert_eq!(s, 201, "{june}");
    let (s, may) = import(&app, &analyst, "upm-3.2.1-2020-05.xls", UPM).await;
    assert_eq!(s, 201, "{may}");
    let (_, series) =
        app.api_get(&analyst, "/api/v1/statistics/series?measure=returned&dimension=nationality&key=HND").await;
    let march = series["months"].as_array().expect("months").iter().find(|m| m["month"] == "2020-03").cloned();
    assert_eq!(march.expect("march")["events"], 1236, "{series}");
    assert_eq!(series["versions"], serde_json::json!([june["versions"][0]["id"]]));
    let (_, v) = app.api_get(&analyst, &format!("/api/v1/statistics/versions/{}", june["versions"][0]["id"])).await;
    assert_eq!(v["previous_version"], may["versions"][0]["id"], "{v}");
    // Any other table number is its own series: a table of the same measure and
    // breakdown does not replace 3.2.1.
    let (s, other) = app
        .api_get(&analyst, "/api/v1/statistics/series?table=3.1.1&measure=returned&dimension=nationality&key=HND")
        .await;
    assert_eq!(s, 200);
    assert_eq!(other["months"], serde_json::json!([]));
}
