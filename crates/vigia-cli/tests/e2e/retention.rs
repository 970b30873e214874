//! Retention and crypto-shredding (issue #20 part 3), on both backends: a case's
//! personal data is erased only when the organization's rule makes it due or the person
//! asks, never while the case is open or an appeal or amparo is recorded unless the
//! confirmer says it ended; after erasure nothing of the person, the notes, the void
//! reasons or the documents can be opened — not from the live rows, not from the
//! history, not from a backup or export made afterwards — with every key Vigía holds,
//! while the very same history entries opened with the destroyed key before. The chain
//! still verifies; a key put back behind the app's back opens nothing in the app and
//! fails the audit.

use base64::Engine;
use serde_json::{json, Value};
use vigia_domain::account::Role;
use vigia_store::testing::TestDb;
use vigia_store::vault::CaseKey;
use vigia_store::{Backend, Vault};

use crate::helpers::{get_text, TestApp};

const NAME: &str = "Rosa Secreta Borrable";
const NOTE: &str = "Nota secreta: Rosa declaró golpes";
const REASON: &str = "Lo anotó Rosa dos veces";
const DOC: &[u8] = b"%PDF-1.4 acta de Rosa Secreta";

/// A query's rows as `(column, value)` pairs: bytes as `{"hex": …}`.
macro_rules! fetch {
    ($pool:expr, $sql:expr) => {{
        use sqlx::{Column, Row, TypeInfo};
        let rows = sqlx::query(sqlx::AssertSqlSafe($sql.to_string())).fetch_all(&$pool).await.expect("query");
        rows.iter()
            .map(|r| {
                (0..r.columns().len())
                    .map(|i| {
                        let t = r.columns()[i].type_info().name().to_ascii_uppercase();
                        let v = if t.contains("BLOB") || t.contains("BYTEA") {
                            let b: Option<Vec<u8>> = r.try_get(i).ok().flatten();
                            b.map(|b| json!({"hex": hex::encode(b)})).unwrap_or(Value::Null)
                        } else if t.contains("INT") {
                            r.try_get::<Option<i64>, _>(i).ok().flatten().map(Value::from).unwrap_or(Value::Null)
                        } else if t.contains("BOOL") {
                            r.try_get::<Option<bool>, _>(i).ok().flatten().map(Value::from).unwrap_or(Value::Null)
                        } else {
                            r.try_get::<Option<String>, _>(i).ok().flatten().map(Value::from).unwrap_or(Value::Null)
                        };
                        (r.columns()[i].name().to_string(), v)
                    })
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    }};
}

async fn rows(db: &TestDb, sql: &str) -> Vec<Vec<(String, Value)>> {
    match db.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.expect("pool");
            let out = fetch!(pool, sql);
            pool.close().await;
            out
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
            let out = fetch!(pool, sql);
            pool.close().await;
            out
        }
    }
}

async fn exec(db: &TestDb, sql: &str) {
    match db.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.expect("pool");
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await.expect("exec");
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.expect("pool");
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await.expect("exec");
            pool.close().await;
        }
    }
}

fn col<'a>(row: &'a [(String, Value)], name: &str) -> &'a Value {
    &row.iter().find(|(k, _)| k == name).expect("column").1
}

fn hex_bytes(v: &Value) -> Option<Vec<u8>> {
    v["hex"].as_str().map(|h| hex::decode(h).expect("hex"))
}

/// Every key Vigía holds: the master key and every organization's data keys.
async fn vault_of(app: &TestApp) -> Vault {
    let vault = Vault::new(app.store.master_key());
    for r in rows(&app._db, "SELECT org_id, version, wrapped FROM org_keys").await {
        let (org, v) = (col(&r, "org_id").as_i64().expect("org"), col(&r, "version").as_i64().expect("v"));
        vault.load_key(org, v, &hex_bytes(col(&r, "wrapped")).expect("wrapped")).expect("unwrap");
    }
    vault
}

/// Every sealed value the history keeps for the case, its events and its documents, as
/// `(field, record, bytes)`.
async fn sealed_in_history(app: &TestApp, case: i64, events: &[i64], doc: i64) -> Vec<(&'static str, i64, Vec<u8>)> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).expect("base64");
    let text = |s: &str| s.strip_prefix(vigia_store::vault::TEXT_MARK).map(b64);
    let mut out = Vec::new();
    let sql = "SELECT record_type, record_id, content FROM audit_log WHERE org_id IS NOT NULL ORDER BY seq";
    for r in rows(&app._db, sql).await {
        let (t, id) = (col(&r, "record_type").as_str().expect("t"), col(&r, "record_id").as_i64().expect("id"));
        let content: Value = serde_json::from_str(col(&r, "content").as_str().expect("content")).expect("json");
        match t {
            "case" if id == case => {
                if let Some(p) = content["person_sealed"].as_str().filter(|p| !p.is_empty()) {
                    out.push(("case.person", id, b64(p)));
                }
            }
            "case_event" if events.contains(&id) => {
                if let Some(n) = content["note_sealed"].as_str() {
                    out.push(("case_event.note", id, b64(n)));
                }
                if let Some(r) = content["void_reason"].as_str().and_then(text) {
                    out.push(("case_event.void_reason", id, r));
                }
            }
            "case_document" if id == doc => {
                if let Some(n) = content["filename"].as_str().and_then(text) {
                    out.push(("case.document_name", id, n));
                }
            }
            _ => {}
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn an_erased_case_s_personal_data_opens_nowhere_with_any_key_vigia_holds() {
    for db in TestDb::all().await {
        let app = TestApp::new(db).await;
        let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let (_, coordinator) = app.api_user("coordinacion@a.org", "org-a", Role::Coordinator).await;
        let (_, stranger) = app.api_user("coordinacion@b.org", "org-b", Role::Coordinator).await;
        let org = app.org("org-a").await;
        let base = json!({"reference": "EXP-ROSA", "full_name": NAME, "identity_documents": "DNI 0801-1990-12345",
            "nationality": "HN", "sex": "female", "age_group": "adult_18_59"});
        let (s, c) = app.post_case(&lawyer, &base).await;
        assert_eq!(s, 201, "{c}");
        let id = c["id"].as_i64().expect("id");
        let (_, keep) = app.post_case(&lawyer, &json!({"reference": "EXP-OTRA", "full_name": "Otra Persona"})).await;
        let keep = keep["id"].as_i64().expect("id");
        let event = |kind: &str, note: Option<&str>| json!({"kind": kind, "on": "2024-01-10", "note": note});
        let (s, e1) =
            app.api_post(&lawyer, &format!("/api/v1/cases/{id}/events"), &event("detained", Some(NOTE))).await;
        assert_eq!(s, 201, "{e1}");
        let (_, e2) = app.api_post(&lawyer, &format!("/api/v1/cases/{id}/events"), &event("interview", None)).await;
        let (e1, e2) = (e1["id"].as_i64().expect("e1"), e2["id"].as_i64().expect("e2"));
        let (s, _) = app
            .api_post(&lawyer, &format!("/api/v1/cases/{id}/void"), &json!({"event_id": e2, "reason": REASON}))
            .await;
        assert_eq!(s, 200);
        let r = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/cases/{id}/documents?filename=acta-rosa-secreta.pdf")))
            .bearer_auth(&lawyer)
            .body(DOC.to_vec())
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 201);
        let doc: Value = r.json().await.expect("json");
        let doc = doc["id"].as_i64().expect("doc");
        let erase = format!("/api/v1/cases/{id}/erasure");

        // Refused while open, before the rule makes it due, to other roles and orgs.
        let (s, e) = app.api_post(&coordinator, &erase, &json!({"reason": "person_request"})).await;
        assert_eq!((s, e["errors"][0]["code"].as_str()), (422, Some("case_open")), "{e}");
        assert_eq!(app.api_post(&lawyer, &erase, &json!({"reason": "person_request"})).await.0, 403);
        assert_eq!(app.api_post(&stranger, &erase, &json!({"reason": "person_request"})).await.0, 404);
        let (s, e) = app.api_post(&coordinator, &erase, &json!({"reason": "forgotten"})).await;
        assert_eq!((s, e["errors"][0]["field"].as_str()), (422, Some("reason")), "{e}");
        let mut closed = base.clone();
        closed["status"] = json!("closed");
        let r = reqwest::Client::new()
            .put(app.url(&format!("/api/v1/cases/{id}")))
            .bearer_auth(&lawyer)
            .json(&closed)
            .send()
            .await
            .expect("put");
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        let (s, e) = app.api_post(&coordinator, &erase, &json!({"reason": "retention"})).await;
        assert_eq!((s, e["errors"][0]["code"].as_str()), (422, Some("no_rule")), "{e}");
        let r = reqwest::Client::new()
            .put(app.url("/api/v1/retention/rule"))
            .bearer_auth(&coordinator)
            .json(&json!({"months_after_close": 12}))
            .send()
            .await
            .expect("put");
        assert_eq!(r.status(), 200);
        let (s, e) = app.api_post(&coordinator, &erase, &json!({"reason": "retention"})).await;
        assert_eq!((s, e["errors"][0]["code"].as_str()), (422, Some("not_due")), "{e}");
        let (_, list) = app.api_get(&coordinator, "/api/v1/retention").await;
        let mine = list["cases"].as_array().expect("cases").iter().find(|x| x["case_id"] == id).cloned();
        assert_eq!(mine.as_ref().map(|m| m["standing"]["state"].clone()), Some(json!("kept")), "{list}");
        // A year on, the sweep lists it; an amparo recorded meanwhile holds it.
        let later = vigia_app::today().checked_add(jiff::Span::new().months(13)).expect("date");
        let due = vigia_app::retention::due(&app.store, org, later).await.expect("due");
        assert_eq!(due.iter().map(|d| d.case_id).collect::<Vec<_>>(), vec![id]);
        let (s, _) = app.api_post(&lawyer, &format!("/api/v1/cases/{id}/events"), &event("amparo_filed", None)).await;
        assert_eq!(s, 201);
        assert!(vigia_app::retention::due(&app.store, org, later).await.expect("due").is_empty(), "held");
        let (s, e) = app.api_post(&coordinator, &erase, &json!({"reason": "person_request"})).await;
        assert_eq!((s, e["errors"][0]["field"].as_str()), (422, Some("litigation_ended")), "{e}");

        // Before: the wrapped key, and every sealed value the history keeps, which the
        // key opens — the control that makes "does not open" below mean something.
        let key_row = rows(&app._db, &format!("SELECT key_sealed FROM case_keys WHERE case_id = {id}")).await;
        let wrapped = hex_bytes(col(&key_row[0], "key_sealed")).expect("a live key");
        let vault = vault_of(&app).await;
        let key = CaseKey::unwrap(&vault, org, id, &wrapped).expect("unwraps before");
        let before = sealed_in_history(&app, id, &[e1, e2], doc).await;
        assert!(before.len() >= 4, "{} sealed values in the history", before.len());
        let opened: Vec<String> = before
            .iter()
            .map(|(f, r, b)| {
                String::from_utf8(key.open(f, *r, b).expect("opens with the case key").to_vec()).expect("utf8")
            })
            .collect();
        assert!(opened.iter().any(|t| t.contains(NAME)) && opened.iter().any(|t| t == NOTE), "{opened:?}");
        assert!(opened.iter().any(|t| t == REASON) && opened.iter().any(|t| t == "acta-rosa-secreta.pdf"));
        for (f, r, b) in &before {
            assert!(vault.open_recorded(org, f, *r, b).is_err(), "the organization's key alone never opened {f}");
        }

        let law = app.login("abogada@a.org").await;
        let (s, history) = get_text(&law, app.url(&format!("/cases/{id}/history"))).await;
        assert_eq!(s, 200);
        assert!(history.contains(REASON), "before erasure the history opens the reason with the case's key");
        let filenode_before = match app._db.backend {
            Backend::Postgres => {
                col(&rows(&app._db, "SELECT pg_relation_filenode('case_keys')::text AS f").await[0], "f").clone()
            }
            Backend::Sqlite => Value::Null,
        };
        // Erased, on the person's request, stating the amparo ended.
        let (s, erased) =
            app.api_post(&coordinator, &erase, &json!({"reason": "person_request", "litigation_ended": true})).await;
        assert_eq!(s, 201, "{erased}");
        assert_eq!(erased["reason"], "person_request");
        let (s, e) =
            app.api_post(&coordinator, &erase, &json!({"reason": "person_request", "litigation_ended": true})).await;
        assert_eq!((s, e["errors"][0]["code"].as_str()), (422, Some("already_erased")), "{e}");

        // Nothing opens through the app; the case stays with its coded fields.
        assert_eq!(app.api_get(&lawyer, &format!("/api/v1/cases/{id}/sealed")).await.0, 410);
        assert_eq!(app.api_get(&lawyer, &format!("/api/v1/cases/{id}/arco-export")).await.0, 410);
        assert_eq!(app.api_get(&lawyer, &format!("/case-documents/{doc}")).await.0 / 100, 4);
        let (s, still) = app.api_get(&lawyer, &format!("/api/v1/cases/{id}")).await;
        assert_eq!((s, still["nationality"].as_str(), still["status"].as_str()), (200, Some("HN"), Some("closed")));
        let (s, e) = app.api_post(&lawyer, &format!("/api/v1/cases/{id}/events"), &event("released", Some("x"))).await;
        assert_eq!(s, 410, "nothing personal is sealed into an erased case: {e}");
        let (s, other) = app.api_get(&lawyer, &format!("/api/v1/cases/{keep}/sealed")).await;
        assert_eq!((s, other["person"]["full_name"].as_str()), (200, Some("Otra Persona")), "{other}");
        let page = app.login("coordinacion@a.org").await;
        let (_, html) = get_text(&page, app.url(&format!("/cases/{id}"))).await;
        assert!(html.contains("id=\"erased\"") && html.contains("Datos personales borrados el"), "{html}");
        assert!(!html.contains(NAME));
        let (s, history) = get_text(&page, app.url(&format!("/cases/{id}/history"))).await;
        assert_eq!(s, 200, "the history of an erased case still reads");
        assert!(!history.contains(REASON) && !history.contains("acta-rosa-secreta"), "nothing erased opens there");

        // The live rows: no key, no person, no notes, no reasons, no document bytes.
        let k =
            rows(&app._db, &format!("SELECT key_sealed, erased_at, reason FROM case_keys WHERE case_id = {id}")).await;
        assert!(col(&k[0], "key_sealed").is_null() && col(&k[0], "reason") == "person_request");
        let p = rows(&app._db, &format!("SELECT person_sealed FROM cases WHERE id = {id}")).await;
        assert_eq!(hex_bytes(col(&p[0], "person_sealed")), Some(vec![]));
        let ev =
            rows(&app._db, &format!("SELECT note_sealed, void_reason FROM case_events WHERE case_id = {id}")).await;
        assert!(ev.iter().all(|r| col(r, "note_sealed").is_null() && col(r, "void_reason").is_null()));
        let d = rows(&app._db, &format!("SELECT data_sealed, filename FROM case_documents WHERE id = {doc}")).await;
        assert_eq!((hex_bytes(col(&d[0], "data_sealed")), col(&d[0], "filename").as_str()), (Some(vec![]), Some("")));

        // The history: the same entries, which opened above, open with no key Vigía holds.
        let vault = vault_of(&app).await;
        let after = sealed_in_history(&app, id, &[e1, e2], doc).await;
        assert_eq!(after.len(), before.len(), "the history keeps what it kept");
        for (f, r, b) in &after {
            assert!(vault.open_recorded(org, f, *r, b).is_err(), "{f} {r} opens with an organization key");
        }
        let keys = rows(&app._db, "SELECT case_id, key_sealed FROM case_keys WHERE key_sealed IS NOT NULL").await;
        for k in &keys {
            let other_case = col(k, "case_id").as_i64().expect("case");
            let other_key = CaseKey::unwrap(&vault, org, other_case, &hex_bytes(col(k, "key_sealed")).expect("key"));
            if let Ok(other_key) = other_key {
                assert!(after.iter().all(|(f, r, b)| other_key.open(f, *r, b).is_err()), "another case's key");
            }
        }
        let report = app.store.verify_audit().await.expect("verify");
        assert!(report.ok(), "the chain still verifies: {:?}", report.problems);

        // A backup made after: the portable export of every table holds neither the key
        // nor anything that opens; on SQLite also the database file, its write-ahead log
        // and `vigia backup`'s copy, byte for byte.
        let mut export = Vec::new();
        for table in vigia_store::EXPORT_TABLES {
            let mut offset = 0;
            loop {
                let page = app.store.export_page(table, offset, 500).await.expect("export");
                if page.is_empty() {
                    break;
                }
                offset += page.len() as i64;
                export.extend(serde_json::to_vec(&page).expect("json"));
            }
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(&wrapped);
        assert!(!contains(&export, b64.as_bytes()) && !contains(&export, hex::encode(&wrapped).as_bytes()));
        assert!(!contains(&export, NAME.as_bytes()) && !contains(&export, NOTE.as_bytes()));
        if app._db.backend == Backend::Sqlite {
            let file = app._db.dir.as_ref().expect("dir").join("vigia.db").to_string_lossy().into_owned();
            for path in [file.clone(), format!("{file}-wal")] {
                let bytes = std::fs::read(&path).unwrap_or_default();
                assert!(!contains(&bytes, &wrapped), "{path} still holds the erased key");
                assert!(!contains(&bytes, NAME.as_bytes()) && !contains(&bytes, DOC), "{path}");
            }
            let dir = std::env::temp_dir().join(format!("vigia-erased-backup-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            app.store.backup_to(&dir).await.expect("backup");
            let bytes = std::fs::read(dir.join("vigia.db")).expect("backup file");
            assert!(!contains(&bytes, &wrapped) && !contains(&bytes, NAME.as_bytes()));
            let _ = std::fs::remove_dir_all(&dir);
        } else {
            // The key table was rewritten into new files after the erasure (VACUUM FULL
            // copies live rows only), so the old row is not in the database's files.
            let after = rows(&app._db, "SELECT pg_relation_filenode('case_keys')::text AS f").await;
            assert_ne!(col(&after[0], "f"), &filenode_before, "the key table was rewritten");
        }

        // An operator puts the old key and person back: the app still opens nothing (the
        // history says erased) and the audit names both rows.
        let as_bytes = |b: &[u8]| match app._db.backend {
            Backend::Sqlite => format!("X'{}'", hex::encode(b)),
            Backend::Postgres => format!("'\\x{}'", hex::encode(b)),
        };
        exec(
            &app._db,
            &format!(
                "UPDATE case_keys SET key_sealed = {}, erased_at = NULL, erased_by = NULL, reason = NULL, \
                 litigation_ended = NULL, partial = NULL WHERE case_id = {id}",
                as_bytes(&wrapped)
            ),
        )
        .await;
        let person = before.iter().find(|(f, _, _)| *f == "case.person").map(|(_, _, b)| b.clone()).expect("person");
        exec(&app._db, &format!("UPDATE cases SET person_sealed = {} WHERE id = {id}", as_bytes(&person))).await;
        assert_eq!(app.api_get(&lawyer, &format!("/api/v1/cases/{id}/sealed")).await.0, 410);
        let report = app.store.verify_audit().await.expect("verify");
        assert!(report.problems.iter().any(|p| p.contains(&format!("case_key {id} differs"))), "{:?}", report.problems);
        assert!(report.problems.iter().any(|p| p.contains(&format!("case {id} differs"))), "{:?}", report.problems);
    }
}

/// The rule and the lists through the pages: a coordinator sets it, sees what is kept
/// and until when, and erases on a person's request after signing in recently; other
/// roles do not see the page.
#[tokio::test]
async fn the_retention_page_sets_the_rule_and_confirms_an_erasure() {
    let app = TestApp::new(TestDb::sqlite()).await;
    let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    app.user("coordinacion@a.org", "org-a", Role::Coordinator).await;
    let (_, c) =
        app.post_case(&lawyer, &json!({"reference": "EXP-P", "full_name": "Pedro Página", "status": "closed"})).await;
    let id = c["id"].as_i64().expect("id");
    let coord = app.login("coordinacion@a.org").await;
    let (s, page) = get_text(&coord, app.url("/retention")).await;
    assert_eq!(s, 200);
    assert!(page.contains("no ha fijado una regla") && page.contains("EXP-P"), "{page}");
    let csrf = crate::helpers::csrf_of(&page);
    let r = coord
        .post(app.url("/retention/rule"))
        .form(&[("csrf", csrf.as_str()), ("months_after_close", "cero")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("page").contains("Meses después del cierre"));
    let r = coord
        .post(app.url("/retention/rule"))
        .form(&[("csrf", csrf.as_str()), ("months_after_close", "24"), ("hold", "on")])
        .send()
        .await
        .expect("post");
    assert!(r.status().is_success() || r.status().is_redirection());
    let (_, page) = get_text(&coord, app.url("/retention")).await;
    assert!(page.contains("24 meses") && page.contains("Se conserva hasta el"), "{page}");
    let (s, form) = get_text(&coord, app.url(&format!("/cases/{id}/erase"))).await;
    assert_eq!(s, 200);
    assert!(form.contains("No se puede deshacer"), "{form}");
    let r = coord
        .post(app.url(&format!("/cases/{id}/erase")))
        .form(&[("csrf", crate::helpers::csrf_of(&form).as_str()), ("reason", "retention")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("page");
    assert!(html.contains("Todavía no vence"), "{html}");
    let r = coord
        .post(app.url(&format!("/cases/{id}/erase")))
        .form(&[("csrf", crate::helpers::csrf_of(&form).as_str()), ("reason", "person_request")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let (_, html) = get_text(&coord, app.url(&format!("/cases/{id}"))).await;
    assert!(html.contains("Datos personales borrados el") && html.contains("pidió la cancelación"), "{html}");
    let (_, page) = get_text(&coord, app.url("/retention")).await;
    assert!(page.contains("id=\"erased-list\""), "{page}");
    let law = app.login("abogada@a.org").await;
    assert_eq!(get_text(&law, app.url("/retention")).await.0, 403);
    assert_eq!(get_text(&law, app.url(&format!("/cases/{id}/erase"))).await.0, 403);
    assert!(app.store.verify_audit().await.expect("verify").ok());
}

/// The sweep tells the organization once per case and due day that a case is due; only
/// those who may erase read it, and nothing is erased by it.
#[tokio::test]
async fn the_sweep_tells_coordinators_once_and_erases_nothing() {
    let app = TestApp::new(TestDb::sqlite()).await;
    let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    let (_, coordinator) = app.api_user("coordinacion@a.org", "org-a", Role::Coordinator).await;
    let org = app.org("org-a").await;
    let (_, c) =
        app.post_case(&lawyer, &json!({"reference": "EXP-S", "full_name": "Sofía Sweep", "status": "closed"})).await;
    let id = c["id"].as_i64().expect("id");
    let later = vigia_app::today().checked_add(jiff::Span::new().months(7)).expect("date");
    assert_eq!(vigia_app::retention::sweep(&app.store, later).await.expect("sweep"), 0, "no rule, nothing due");
    let r = reqwest::Client::new()
        .put(app.url("/api/v1/retention/rule"))
        .bearer_auth(&coordinator)
        .json(&json!({"months_after_close": 6}))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 200);
    assert_eq!(vigia_app::retention::sweep(&app.store, vigia_app::today()).await.expect("sweep"), 0, "not yet");
    assert_eq!(vigia_app::retention::sweep(&app.store, later).await.expect("sweep"), 1);
    assert_eq!(vigia_app::retention::sweep(&app.store, later).await.expect("sweep"), 0, "told once");
    let kinds = |v: &Value| -> Vec<String> {
        v["items"].as_array().expect("items").iter().filter_map(|a| a["kind"].as_str().map(str::to_string)).collect()
    };
    let (_, mine) = app.api_get(&coordinator, "/api/v1/alerts").await;
    assert!(kinds(&mine).contains(&"retention".to_string()), "{mine}");
    let (_, theirs) = app.api_get(&lawyer, "/api/v1/alerts").await;
    assert!(!kinds(&theirs).contains(&"retention".to_string()), "{theirs}");
    let (s, sealed) = app.api_get(&lawyer, &format!("/api/v1/cases/{id}/sealed")).await;
    assert_eq!((s, sealed["person"]["full_name"].as_str()), (200, Some("Sofía Sweep")), "nothing erased on its own");
    let due = vigia_app::retention::due(&app.store, org, later).await.expect("due");
    assert_eq!(due.len(), 1);
}

/// An operator who deletes a live case's key row does not get a new key quietly made in
/// its place (which would hide that the case's values are lost): reads and sealed
/// writes refuse, and `audit verify` names the missing row.
#[tokio::test]
async fn a_live_case_key_deleted_behind_the_app_s_back_is_not_replaced() {
    let app = TestApp::new(TestDb::sqlite()).await;
    let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    let (_, c) = app.post_case(&lawyer, &json!({"reference": "EXP-K", "full_name": "Karla Llave"})).await;
    let id = c["id"].as_i64().expect("id");
    exec(&app._db, &format!("DELETE FROM case_keys WHERE case_id = {id}")).await;
    assert_eq!(app.api_get(&lawyer, &format!("/api/v1/cases/{id}/sealed")).await.0, 503);
    let note = json!({"kind": "detained", "on": "2024-01-10", "note": "nota"});
    assert_eq!(app.api_post(&lawyer, &format!("/api/v1/cases/{id}/events"), &note).await.0, 503);
    assert!(rows(&app._db, &format!("SELECT case_id FROM case_keys WHERE case_id = {id}")).await.is_empty());
    let report = app.store.verify_audit().await.expect("verify");
    assert!(report.problems.iter().any(|p| p.contains(&format!("case_key {id} is missing"))), "{:?}", report.problems);
}
