//! Access attempts through the API and the pages.

use serde_json::{json, Value};
use vigia_domain::account::Role;

use crate::helpers::{csrf_of, facility_draft, get_text, TestApp};

fn denial(facility: i64) -> Value {
    json!({"facility_id": facility, "attempted_at": "2020-01-20T10:30", "requested_at": "2020-01-15T09:00",
           "purpose": "legal_assistance", "team_size": 2, "people_to_see": 6, "outcome": "denied",
           "reason_category": "orders_from_above", "reason_text": "Órdenes de arriba", "restrictions": "no_phones"})
}

#[tokio::test]
async fn attempts_are_shared_with_the_coalition_and_edited_only_by_their_owner() {
    for app in TestApp::all().await {
        let (_, a) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let (_, b) = app.api_user("mon@b.org", "org-b", Role::Monitor).await;
        let (_, c) = app.api_user("mon@c.org", "org-c", Role::Monitor).await;
        app.coalition("red", &["org-a", "org-b"]).await;
        let f = app.facility("Siglo XXI").await;
        let http = reqwest::Client::new();
        let url = app.url("/api/v1/access-attempts");
        let (s, shared) = app.post_attempt(&a, &denial(f)).await;
        assert_eq!(s, 201);
        assert_eq!(shared["attempted_at"], "2020-01-20T16:30:00Z", "10:30 in Chiapas is 16:30 UTC");
        assert_eq!(shared["visibility"], "coalition");
        let mut private = denial(f);
        private["visibility"] = json!("private");
        private["attempted_at"] = json!("2020-01-21T10:30");
        let (_, private) = app.post_attempt(&a, &private).await;

        let list = |token: String| {
            let http = http.clone();
            let url = url.clone();
            async move {
                let v: Value =
                    http.get(&url).bearer_auth(&token).send().await.expect("get").json().await.expect("json");
                v["items"].as_array().expect("items").iter().map(|i| i["id"].as_i64().expect("id")).collect::<Vec<_>>()
            }
        };
        assert_eq!(list(a.clone()).await.len(), 2);
        assert_eq!(list(b.clone()).await, vec![shared["id"].as_i64().expect("id")], "partner sees only the shared one");
        assert!(list(c.clone()).await.is_empty(), "outside the coalition sees nothing");

        let one = |id: &Value| app.url(&format!("/api/v1/access-attempts/{id}"));
        assert_eq!(http.get(one(&shared["id"])).bearer_auth(&b).send().await.expect("get").status(), 200);
        assert_eq!(http.get(one(&private["id"])).bearer_auth(&b).send().await.expect("get").status(), 404);
        assert_eq!(http.get(one(&shared["id"])).bearer_auth(&c).send().await.expect("get").status(), 404);
        let r = http.put(one(&shared["id"])).bearer_auth(&b).json(&denial(f)).send().await.expect("put");
        assert_eq!(r.status(), 403, "a partner reads, never corrects");
        let mut fixed = denial(f);
        fixed["team_size"] = json!(3);
        let r = http
            .put(one(&shared["id"]))
            .bearer_auth(&a)
            .header("if-match", "\"1\"")
            .json(&fixed)
            .send()
            .await
            .expect("put");
        assert_eq!(r.status(), 200);
        let h: Value = http
            .get(format!("{}/history", one(&shared["id"])))
            .bearer_auth(&b)
            .send()
            .await
            .expect("h")
            .json()
            .await
            .expect("j");
        assert_eq!(h["items"].as_array().expect("items").len(), 2);

        // Filters.
        let v: Value = http
            .get(format!("{url}?outcome=denied&from=2020-01-21&until=2020-01-21"))
            .bearer_auth(&a)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(v["items"].as_array().expect("items").len(), 1);
        let r = http.get(format!("{url}?outcome=maybe")).bearer_auth(&a).send().await.expect("get");
        assert_eq!(r.status(), 422);
    }
}

#[tokio::test]
async fn bad_attempts_are_refused_with_named_fields() {
    for app in TestApp::all().await {
        let (_, a) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let (_, lawyer) = app.api_user("law@a.org", "org-a", Role::Lawyer).await;
        let f = app.facility("Siglo XXI").await;
        let http = reqwest::Client::new();
        let codes = |v: Value| -> Vec<(String, String)> {
            v["errors"]
                .as_array()
                .expect("errors")
                .iter()
                .map(|e| (e["field"].as_str().expect("f").into(), e["code"].as_str().expect("c").into()))
                .collect()
        };
        let mut bad = denial(9999);
        bad["attempted_at"] = json!("2999-01-01T10:00");
        let (s, v) = app.post_attempt(&a, &bad).await;
        assert_eq!(s, 422);
        let got = codes(v);
        assert!(got.contains(&("attempted_at".into(), "in_future".into())), "{got:?}");
        assert!(got.contains(&("facility_id".into(), "unknown_facility".into())), "{got:?}");
        let (s, _) = app.post_attempt(&lawyer, &denial(f)).await;
        assert_eq!(s, 403, "lawyers read access records but do not record them");

        let import = |csv: String| {
            http.post(app.url("/api/v1/access-attempts/import"))
                .bearer_auth(&a)
                .header("content-type", "text/csv")
                .body(csv)
                .send()
        };
        let csv = "facility,attempted_at,purpose,outcome\nSiglo XXI,2020-01-20T10:00,monitoring,denied\nSiglo XXI,2020-13-40T10:00,monitoring,denied\nNowhere,2020-01-20T10:00,monitoring,denied\nsiglo xxi,2020-01-20T10:00,monitoring,denied\n";
        let r = import(csv.into()).await.expect("post");
        assert_eq!(r.status(), 422);
        let p: Value = r.json().await.expect("json");
        let lines: Vec<(i64, &str)> = p["errors"]
            .as_array()
            .expect("e")
            .iter()
            .map(|e| (e["line"].as_i64().expect("l"), e["code"].as_str().expect("c")))
            .collect();
        assert_eq!(lines, vec![(3, "expected_datetime"), (4, "unknown_facility"), (5, "duplicate_row")]);
        assert_eq!(app.store.counts().await.expect("counts").get("access_attempts"), 0, "nothing imported");
        let r = import("facility,attempted_at,purpose,outcome\nSiglo XXI,2020-01-20T10:00,monitoring,denied\n".into())
            .await
            .expect("post");
        assert_eq!(r.status(), 201);
        assert_eq!(app.store.counts().await.expect("counts").get("access_attempts"), 1);

        // A long file is written while it is still being read; a bad row near its end
        // must still leave nothing of it behind.
        let mut long = String::from("facility,attempted_at,purpose,outcome\n");
        for i in 0..3_500 {
            let (day, minute) = (1 + i / 600, i % 600);
            long.push_str(&format!(
                "Siglo XXI,2021-03-{day:02}T{:02}:{:02},monitoring,denied\n",
                8 + minute / 60,
                minute % 60
            ));
        }
        let broken = long.replacen("2021-03-06T08:00", "2021-03-06T08:61", 1);
        let r = import(broken).await.expect("post");
        assert_eq!(r.status(), 422);
        let p: Value = r.json().await.expect("json");
        assert_eq!(p["errors"][0]["line"], 3_002, "{p}");
        assert_eq!(app.store.counts().await.expect("counts").get("access_attempts"), 1, "nothing of the file was kept");
        let report = app.store.verify_audit().await.expect("verify");
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let head = app.store.verify_audit().await.expect("verify").head_seq;
        let fingerprint = vigia_domain::audit::sha256_hex(long.as_bytes());
        let r = import(long).await.expect("post");
        assert_eq!(r.status(), 201);
        let out: Value = r.json().await.expect("json");
        assert_eq!((&out["imported"], &out["file_sha256"]), (&Value::from(3_500), &Value::from(fingerprint)), "{out}");
        assert_eq!(out["last_id"].as_i64().zip(out["first_id"].as_i64()).map(|(l, f)| l - f + 1), Some(3_500));
        // One audit entry for the whole file, in the organization's audit log.
        let entries = app.store.audit_entries(None, None, 10).await.expect("audit");
        assert_eq!((entries[0].seq, entries[0].action.as_str()), (head + 1, "import"));
        assert_eq!(
            (entries[0].record_type.as_str(), Value::from(entries[0].record_id)),
            ("attempt_import", out["import_id"].clone())
        );
        // Each imported attempt's history begins with that entry.
        let id = out["first_id"].as_i64().expect("id") + 1_234;
        let r = http
            .get(app.url(&format!("/api/v1/access-attempts/{id}/history")))
            .bearer_auth(&a)
            .send()
            .await
            .expect("h");
        let h: Value = r.json().await.expect("json");
        assert_eq!(
            (&h["items"][0]["action"], &h["items"][0]["entry_hash"]),
            (&Value::from("import"), &Value::from(entries[0].entry_hash.clone())),
            "{h}"
        );
        assert_eq!(h["items"][0]["content"]["id"], id);
        assert_eq!(app.store.counts().await.expect("counts").get("access_attempts"), 3_501);
        let report = app.store.verify_audit().await.expect("verify");
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }
}

#[tokio::test]
async fn a_monitor_records_and_corrects_a_denial_through_the_form() {
    for app in TestApp::all().await {
        app.user("mon@a.org", "org-a", Role::Monitor).await;
        app.user("an@b.org", "org-b", Role::Analyst).await;
        app.coalition("red", &["org-a", "org-b"]).await;
        let f = app.facility("Estación Migratoria Villahermosa").await;
        let c = app.login("mon@a.org").await;
        let (status, page) = get_text(&c, app.url("/access/new")).await;
        assert_eq!(status, 200);
        let csrf = csrf_of(&page);
        let form = |when: &str, version: Option<&str>| {
            let mut v = vec![
                ("csrf", csrf.clone()),
                ("facility_id", f.to_string()),
                ("attempted_at", when.to_string()),
                ("purpose", "religious".into()),
                ("outcome", "denied".into()),
                ("reason_category", "orders_from_above".into()),
                ("restrictions", "no_phones".into()),
                ("restrictions", "searched".into()),
                ("team_size", "2".into()),
                ("visibility", "coalition".into()),
            ];
            if let Some(ver) = version {
                v.push(("version", ver.into()));
            }
            v
        };
        let r = c.post(app.url("/access")).form(&form("21/01/2020", None)).send().await.expect("post");
        assert_eq!(r.status(), 422);
        let page = r.text().await.expect("t");
        assert!(page.contains("id=\"e-attempted_at\">Debe ser una fecha y hora válidas"), "error next to the field");
        assert!(page.contains("value=\"searched\" checked"), "choices are kept");

        let r = c.post(app.url("/access")).form(&form("2020-01-21T09:15", None)).send().await.expect("post");
        assert_eq!(r.status(), 303);
        let loc = r.headers()["location"].to_str().expect("loc").to_string();
        let (_, page) = get_text(&c, app.url(&loc)).await;
        assert!(page.contains("Intento registrado."));
        assert!(page.contains("Sin teléfonos, Revisión corporal"), "{page}");
        assert!(page.contains("2020-01-21 09:15 CST"));
        let id = loc.trim_start_matches("/access/").split('?').next().expect("id").to_string();

        let r = c
            .post(app.url(&format!("/access/{id}/edit")))
            .form(&form("2020-01-21T09:45", Some("1")))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 303);
        let r = c
            .post(app.url(&format!("/access/{id}/edit")))
            .form(&form("2020-01-21T09:50", Some("1")))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 409, "stale form");
        let (_, hist) = get_text(&c, app.url(&format!("/access/{id}/history"))).await;
        assert!(hist.contains("corrección"));

        let (_, list) = get_text(&c, app.url("/access?outcome=denied")).await;
        assert!(list.contains("Estación Migratoria Villahermosa") && list.contains("Negado"));

        // A coalition analyst reads it but is told it is not theirs to correct.
        let b = app.login("an@b.org").await;
        let (status, page) = get_text(&b, app.url(&format!("/access/{id}"))).await;
        assert_eq!(status, 200);
        assert!(page.contains("compartido con tu coalición") && !page.contains("id=\"edit-attempt\""));
        assert_eq!(b.get(app.url(&format!("/access/{id}/edit"))).send().await.expect("get").status(), 403);
    }
}

#[tokio::test]
async fn evidence_files_follow_their_attempt_s_visibility() {
    for app in TestApp::all().await {
        let (_, a) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let (_, b) = app.api_user("an@b.org", "org-b", Role::Analyst).await;
        let (_, c) = app.api_user("mon@c.org", "org-c", Role::Monitor).await;
        app.coalition("red", &["org-a", "org-b"]).await;
        let f = app.facility("Siglo XXI").await;
        let http = reqwest::Client::new();
        let (_, shared) = app.post_attempt(&a, &denial(f)).await;
        let mut p = denial(f);
        p["visibility"] = json!("private");
        p["attempted_at"] = json!("2020-01-22T10:00");
        let (_, private) = app.post_attempt(&a, &p).await;
        let upload = |attempt: &Value, name: &str, bytes: Vec<u8>| {
            http.post(app.url(&format!("/api/v1/access-attempts/{}/files", attempt["id"])))
                .bearer_auth(&a)
                .query(&[("filename", name)])
                .body(bytes)
                .send()
        };
        let photo = b"\xFF\xD8\xFF\xE0\x00\x10JFIF foto de la caseta".to_vec();
        let r = upload(&shared, "../../caseta.jpg", photo.clone()).await.expect("upload");
        assert_eq!(r.status(), 201);
        let file: Value = r.json().await.expect("json");
        assert_eq!(file["filename"], "caseta.jpg", "paths are stripped");
        assert_eq!(file["content_type"], "image/jpeg");
        let sha = file["sha256"].as_str().expect("sha").to_string();
        assert_eq!(sha, vigia_domain::audit::sha256_hex(&photo));
        let hidden: Value = upload(&private, "oficio.pdf", b"%PDF-1.4 oficio".to_vec())
            .await
            .expect("upload")
            .json()
            .await
            .expect("json");

        let r = upload(&shared, "x.html", b"<html><script>alert(1)</script>".to_vec()).await.expect("upload");
        assert_eq!(r.status(), 422);
        let p: Value = r.json().await.expect("json");
        assert_eq!(p["errors"][0]["code"], "file_type");
        let r = upload(&shared, "big.jpg", vec![0xFF; 11 * 1024 * 1024]).await.expect("upload");
        assert_eq!(r.status(), 413);

        let get = |token: &str, id: &Value| {
            http.get(app.url(&format!("/api/v1/files/{id}"))).bearer_auth(token.to_string()).send()
        };
        let r = get(&b, &file["id"]).await.expect("download");
        assert_eq!(r.status(), 200, "a coalition partner reads shared evidence");
        assert_eq!(r.headers()["x-content-sha256"], sha.as_str());
        assert!(r.headers()["content-disposition"]
            .to_str()
            .expect("cd")
            .starts_with("attachment; filename=\"caseta.jpg\""));
        assert_eq!(r.bytes().await.expect("bytes").to_vec(), photo);
        assert_eq!(get(&b, &hidden["id"]).await.expect("download").status(), 404, "private evidence stays private");
        assert_eq!(get(&c, &file["id"]).await.expect("download").status(), 404, "outside the coalition");
        let r = http
            .post(app.url(&format!("/api/v1/access-attempts/{}/files", shared["id"])))
            .bearer_auth(&c)
            .body(photo.clone())
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 404);
        let list = app.get_json(&b, &format!("/api/v1/access-attempts/{}/files", shared["id"])).await;
        assert_eq!(list["items"].as_array().expect("items").len(), 1);
        let report = app.store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
    }
}

#[tokio::test]
async fn analysis_tables_download_as_csv_without_formula_injection() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, a) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
    app.user("coord@a.org", "org-a", Role::Coordinator).await;
    let evil = app.facility("=HYPERLINK(\"http://x.invalid\",\"clic\")").await;
    let (s, _) = app.post_attempt(&a, &denial(evil)).await;
    assert_eq!(s, 201);
    let c = app.login("coord@a.org").await;
    let (status, page) = get_text(&c, app.url("/access/analysis")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Estado actual del acceso") && page.contains("outcome-denied"));
    for table in ["status", "by-facility", "by-org", "by-month", "by-week", "episodes"] {
        let r = c.get(app.url(&format!("/access/analysis.csv?table={table}"))).send().await.expect("csv");
        assert_eq!(r.status(), 200, "{table}");
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let body = r.text().await.expect("t");
        assert!(!body.contains("\n=HYPERLINK") && !body.starts_with("=HYPERLINK"), "{table}: {body}");
        if table == "status" || table == "by-facility" {
            assert!(body.contains("\"'=HYPERLINK("), "{table}: {body}");
        }
    }
    let r = c.get(app.url("/access/analysis.csv?table=nope")).send().await.expect("csv");
    assert_eq!(r.status(), 404);
}

/// A webhook receiver on loopback: records every request, answers with `status`.
struct Receiver {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
    status: std::sync::Arc<std::sync::atomic::AtomicU16>,
}

async fn receiver() -> Receiver {
    use std::sync::atomic::{AtomicU16, Ordering};
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let status = Arc::new(AtomicU16::new(503));
    let (s2, st2) = (seen.clone(), status.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (seen, status) = (s2.clone(), st2.clone());
            async move {
                seen.lock().expect("lock").push((headers, body));
                axum::http::StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap_or(axum::http::StatusCode::OK)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Receiver { url, seen, status }
}

#[tokio::test]
async fn queued_webhooks_survive_a_server_that_went_away_and_are_retried() {
    use std::sync::atomic::Ordering;
    use std::time::Duration;
    let hook = receiver().await;
    let db = vigia_store::testing::TestDb::sqlite();
    let key = vigia_store::MasterKey::generate().expect("key");
    let store1 = vigia_store::open(&db.url, std::slice::from_ref(&key)).await.expect("store");
    // The first server runs no worker: it "went away" before delivering anything.
    // (With a parked worker this raced its first pass, which now also loads the
    // access counts and may reach the queue after the attempt is recorded.)
    let (listener, addr1) = vigia_web::bind("127.0.0.1:0").await.expect("bind");
    let app1 = vigia_web::app(store1.clone(), vigia_web::Config::default());
    tokio::spawn(async move {
        vigia_web::server::run(listener, app1, &vigia_web::Config::default(), std::future::pending()).await;
    });
    let org = store1.create_org(&vigia_store::Actor::SYSTEM, "org-a", "Org A").await.expect("org").id;
    let secret = "whsec_prueba_de_firma";
    store1.create_webhook(&vigia_store::Actor::SYSTEM, org, &hook.url, secret).await.expect("webhook");
    let user = store1
        .create_user(
            &vigia_store::Actor::SYSTEM,
            vigia_store::NewUser {
                email: "mon@a.org".into(),
                display_name: "Mon".into(),
                org_id: org,
                role: Role::Monitor,
                locale: vigia_domain::account::Locale::Es,
                password_hash: "x".into(),
            },
        )
        .await
        .expect("user");
    let token = vigia_store::secrets::new_token("vga_").expect("token");
    store1
        .create_api_token(&vigia_store::Actor::user(&user), user.id, "t", &vigia_store::secrets::token_hash(&token))
        .await
        .expect("t");
    let f = store1
        .create_facility(&vigia_store::Actor::SYSTEM, facility_draft("Siglo XXI", "07"))
        .await
        .expect("facility")
        .id;
    let r = reqwest::Client::new()
        .post(format!("http://{addr1}/api/v1/access-attempts"))
        .bearer_auth(&token)
        .json(&denial(f))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(hook.seen.lock().expect("lock").is_empty(), "nothing sent yet: the queue holds it");

    // A second server on the same database picks the delivery up; the receiver fails
    // once, then accepts.
    let store2 = vigia_store::open(&db.url, &[key]).await.expect("store 2");
    let fast = vigia_web::Config {
        worker_interval: Duration::from_millis(50),
        retry_base: Duration::from_millis(200),
        webhook_allow_hosts: vec!["127.0.0.1".into()],
        ..Default::default()
    };
    vigia_web::spawn(store2.clone(), fast).await.expect("server 2");
    let wait_for = |n: usize| {
        let seen = hook.seen.clone();
        async move {
            for _ in 0..100 {
                if seen.lock().expect("lock").len() >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("the receiver never got {n} deliveries");
        }
    };
    wait_for(1).await;
    hook.status.store(204, Ordering::SeqCst);
    wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = hook.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2, "one failure, one success, nothing after");
    let log = store2.deliveries(org, 10).await.expect("log");
    assert_eq!((log[0].status.as_str(), log[0].attempts, log[0].last_status), ("delivered", 2, Some(204)));
    for (headers, body) in &seen {
        let ts: i64 = headers["x-vigia-timestamp"].to_str().expect("ts").parse().expect("ts");
        let id = log[0].id;
        let sig = headers["x-vigia-signature"].to_str().expect("sig");
        assert_eq!(sig, vigia_app::webhooks::signature(secret, ts, id, body));
        assert_ne!(sig, vigia_app::webhooks::signature("otro", ts, id, body));
        assert_ne!(sig, vigia_app::webhooks::signature(secret, ts, id + 1, body), "the delivery id is signed");
        assert_eq!(
            headers["x-vigia-delivery"].to_str().expect("id"),
            log[0].id.to_string(),
            "the same delivery id on retry"
        );
        let v: Value = serde_json::from_str(body).expect("json");
        assert_eq!(v["type"], "access.refused");
        assert_eq!(v["outcome"], "denied");
    }
    let inbox = store2.alerts(org, 10).await.expect("alerts");
    assert!(inbox.iter().any(|a| a.kind == "denial"));
}

/// A receiver that takes the connection and never answers holds one delivery for the
/// send limit only: the try is cut off, recorded, and retried later, and the batch's
/// other deliveries are still sent within the lease the server holds them under.
#[tokio::test]
async fn a_receiver_that_never_answers_is_cut_off_and_retried_later() {
    use std::time::Duration;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let app = axum::Router::new().route("/hook", axum::routing::post(std::future::pending::<()>));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let db = vigia_store::testing::TestDb::sqlite();
    let key = vigia_store::MasterKey::generate().expect("key");
    let store = vigia_store::open(&db.url, &[key]).await.expect("store");
    let org = store.create_org(&vigia_store::Actor::SYSTEM, "org-a", "Org A").await.expect("org").id;
    store.create_webhook(&vigia_store::Actor::SYSTEM, org, &url, "whsec_sin_respuesta").await.expect("webhook");
    for i in 0..4 {
        store.raise_alert(org, "episode", &format!("silencio-{i}"), None, "{}").await.expect("alert").expect("new");
    }
    let limit = Duration::from_millis(300);
    let allowed = ["127.0.0.1".to_string()];
    let before = vigia_store::now_micros();
    let sent = tokio::time::timeout(
        Duration::from_secs(20),
        vigia_app::webhooks::deliver_due(&store, Duration::from_secs(60), &allowed, limit),
    )
    .await
    .expect("the batch ends: each try is cut off");
    assert_eq!(sent as i64, vigia_app::webhooks::BATCH, "one batch at a time");
    let log = store.deliveries(org, 10).await.expect("log");
    let tried: Vec<_> = log.iter().filter(|d| d.attempts == 1).collect();
    assert_eq!(tried.len() as i64, vigia_app::webhooks::BATCH, "{log:?}");
    for d in tried {
        assert_eq!(d.status, "pending", "retried later, not given up: {d:?}");
        assert!(d.last_error.is_some() && d.last_status.is_none(), "{d:?}");
        assert!(d.next_attempt_at >= before + 60_000_000, "after the backoff: {d:?}");
    }
    // The lease outlasts the batch, so nothing it held could be claimed meanwhile.
    assert!(vigia_app::webhooks::lease(limit) >= limit * vigia_app::webhooks::BATCH as u32 * 2);
}

#[tokio::test]
async fn the_map_shows_each_facility_s_latest_outcome() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, a) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
    app.user("an@a.org", "org-a", Role::Analyst).await;
    let mut d = vigia_domain::facility::FacilityDraft {
        latitude: Some(14.9),
        longitude: Some(-92.26),
        ..facility_draft("Siglo XXI", "07")
    };
    let f = app.store.create_facility(&vigia_store::Actor::SYSTEM, d.clone()).await.expect("f").id;
    d.name = "Las Agujas".into();
    d.state_code = "09".into();
    d.latitude = Some(19.36);
    d.longitude = Some(-99.07);
    app.store.create_facility(&vigia_store::Actor::SYSTEM, d).await.expect("g");
    app.post_attempt(&a, &denial(f)).await;
    let c = app.login("an@a.org").await;
    let (_, page) = get_text(&c, app.url("/access/analysis")).await;
    assert!(page.contains("<svg class=\"map\""), "the map is on the page");
    assert_eq!(page.matches("class=\"dot-refused\"").count(), 1, "Siglo XXI refused");
    assert!(page.contains("class=\"map-point\""), "points are links to their centers");
    assert_eq!(page.matches("class=\"dot-none\"").count(), 1, "Las Agujas: no attempt yet");
    assert!(!page.contains("style=\""), "no inline styles: the CSP forbids them");
    let r = c.get(app.url("/access/map.svg")).send().await.expect("svg");
    assert_eq!(r.headers()["content-type"], "image/svg+xml; charset=utf-8");
    let svg = r.text().await.expect("t");
    assert!(svg.starts_with("<?xml") && svg.contains("state-chp") && svg.contains("dot-refused"));
}

#[tokio::test]
async fn a_monitor_uploads_a_spreadsheet_of_attempts() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let mon = app.user("mon@a.org", "org-a", Role::Monitor).await;
    let tenosique = app.facility("Estación Migratoria Tenosique").await;
    let c = app.login("mon@a.org").await;
    let (status, page) = get_text(&c, app.url("/access/import")).await;
    assert_eq!(status, 200);
    let csrf = csrf_of(&page);
    let upload = |csv: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part("file", reqwest::multipart::Part::bytes(csv.as_bytes()).file_name("visitas.csv"));
        c.post(app.url("/access/import")).multipart(form).send()
    };
    let r = upload("facility,attempted_at,purpose,outcome\nEstación Migratoria Tenosique,2020-01-21 10:00,humanitarian,denied\nTenosique Norte,2020-01-22 10:00,humanitarian,denied\n")
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let page = r.text().await.expect("t");
    assert!(
        page.contains(
            "<td class=\"num\">3</td><td><code>facility</code></td><td>No hay un centro registrado con ese dato.</td>"
        ),
        "{page}"
    );
    assert_eq!(app.store.counts().await.expect("counts").get("access_attempts"), 0);
    let r = upload("facility,attempted_at,purpose,outcome,restrictions\nestación migratoria tenosique,2020-01-21 10:00,humanitarian,denied,no_phones;searched\n")
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let page = r.text().await.expect("t");
    let fingerprint = vigia_domain::audit::sha256_hex(b"facility,attempted_at,purpose,outcome,restrictions\nestaci\xc3\xb3n migratoria tenosique,2020-01-21 10:00,humanitarian,denied,no_phones;searched\n");
    assert!(
        page.contains(&format!(
            "Se importaron 1 intentos (importación n.º 1). Huella SHA-256 del archivo: {fingerprint}"
        )),
        "{page}"
    );
    let (_, list) = get_text(&c, app.url("/access")).await;
    assert!(list.contains("2020-01-21 10:00 CST") && list.contains("Negado"));
    // The attempt's history begins with its import: the one entry for the whole file.
    let entry = app.store.audit_entries(None, None, 1).await.expect("audit").remove(0);
    assert_eq!((entry.action.as_str(), entry.record_type.as_str()), ("import", "attempt_import"));
    let (status, history) = get_text(&c, app.url("/access/1/history")).await;
    assert_eq!(status, 200);
    assert!(history.contains("importado de un archivo") && history.contains(&entry.entry_hash), "{history}");
    // Values read as people write them: the civil time with its zone, choices in Spanish,
    // the center and the organization by name.
    let center =
        format!("<span class=\"field\">Centro</span>: <ins>Estación Migratoria Tenosique (#{tenosique})</ins>");
    let org = format!("<span class=\"field\">Organización</span>: <ins>Org org-a (#{})</ins>", mon.org_id);
    for shown in ["2020-01-21 10:00 CST", "Negado", "Humanitario", "Sin teléfonos, Revisión corporal", &center, &org]
    {
        assert!(history.contains(shown), "{shown} in {history}");
    }
}

/// The analysis answers per purpose, state, period and before/after a date; a new
/// attempt shows at once (cached results are dropped when the attempts change); bad
/// parameters are named.
#[tokio::test]
async fn the_analysis_filters_compares_and_never_serves_stale_counts() {
    for app in TestApp::all().await {
        let (_, a) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let (_, b) = app.api_user("mon@b.org", "org-b", Role::Monitor).await;
        app.coalition("red", &["org-a", "org-b"]).await;
        let siglo = app.facility("Siglo XXI").await;
        let agujas = app.facility_in("Las Agujas", "09").await;
        let http = reqwest::Client::new();
        let csv = format!(
            "facility_id,attempted_at,purpose,outcome,visibility\n\
             {siglo},2024-02-10T10:00,monitoring,granted,coalition\n\
             {siglo},2024-02-11T10:00,legal_assistance,denied,coalition\n\
             {siglo},2024-03-10T10:00,monitoring,denied,coalition\n\
             {siglo},2024-03-11T10:00,monitoring,no_response,coalition\n\
             {agujas},2024-02-12T10:00,monitoring,granted,coalition\n\
             {agujas},2024-03-12T10:00,monitoring,denied,private\n"
        );
        app.import_attempts(&b, csv).await;
        let get = |q: &str| {
            let (http, url, a) = (http.clone(), app.url(&format!("/api/v1/access-analysis{q}")), a.clone());
            async move {
                let r = http.get(url).bearer_auth(&a).send().await.expect("get");
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.expect("json"))
            }
        };
        let (status, all) = get("").await;
        assert_eq!(status, 200);
        assert_eq!(all["attempts"], 5, "b's private attempt is not counted for a: {all}");
        let (_, chiapas) = get("?state=07&purpose=monitoring").await;
        assert_eq!((chiapas["attempts"].as_i64(), chiapas["by_facility"][0]["refusals"].as_i64()), (Some(3), Some(2)));
        let (_, march) = get("?from=2024-03-01&until=2024-03-31").await;
        assert_eq!(march["by_month"], json!([{"month": "2024-03", "attempts": 2, "refusals": 2, "rate": 1.0}]));
        // Sunday the 10th and Monday the 11th fall in two weeks, each named by its Monday.
        assert_eq!(
            march["by_week"],
            json!([{"week": "2024-03-04", "attempts": 1, "refusals": 1, "rate": 1.0},
                   {"week": "2024-03-11", "attempts": 1, "refusals": 1, "rate": 1.0}])
        );
        let (_, cmp) = get(&format!("?compare=2024-03-01&facility_id={siglo}")).await;
        assert_eq!(cmp["compare"]["by_facility"][0]["before"]["rate"], 0.5);
        assert_eq!(cmp["compare"]["by_facility"][0]["after"]["rate"], 1.0);

        // A new attempt counts at once, although the same question was just answered.
        let (_, mine) = app.post_attempt(&a, &denial(agujas)).await;
        assert_eq!(get("").await.1["attempts"], 6);
        // A correction moves the count: the cell it left is emptied, the new one counts.
        let mut fixed = denial(siglo);
        fixed["outcome"] = json!("granted");
        let r = http
            .put(app.url(&format!("/api/v1/access-attempts/{}", mine["id"])))
            .bearer_auth(&a)
            .json(&fixed)
            .send()
            .await
            .expect("put");
        assert_eq!(r.status(), 200);
        let (_, now) = get("").await;
        let agujas_row = now["by_facility"].as_array().expect("rows").iter().find(|r| r["facility_id"] == agujas);
        assert_eq!(agujas_row.map(|r| r["attempts"].clone()), Some(json!(1)), "{now}");
        // The app's copy of the counts agrees with the database's own GROUP BY, also
        // after the table is rebuilt.
        app.store.recount_access().await.expect("recount");
        let (_, after) = get("").await;
        let sql = app.store.access_tallies(app.org("org-a").await, &Default::default()).await.expect("sql");
        assert_eq!(after["attempts"].as_i64(), Some(sql.iter().map(|c| c.attempts).sum::<i64>()));
        assert_eq!(after["by_facility"], now["by_facility"]);

        for bad in ["?purpose=fiesta", "?state=99", "?until=2024-13-01", "?outcome=denied", "?compare=ayer"] {
            let (status, body) = get(bad).await;
            assert_eq!(status, 422, "{bad}: {body}");
        }
        let c = app.login("mon@a.org").await;
        let (status, page) = get_text(&c, app.url("/access/analysis?state=09&compare=2024-03-01")).await;
        assert_eq!(status, 200);
        assert!(page.contains("id=\"analysis-filters\"") && page.contains("id=\"compare\""), "{page}");
        assert!(page.contains("id=\"chart-by-month\"") && page.contains("id=\"chart-by-facility\""), "charts");
        let r = c.get(app.url("/access/chart.svg?chart=by-facility&purpose=monitoring")).send().await.expect("svg");
        assert_eq!(r.headers()["content-type"], "image/svg+xml; charset=utf-8");
        let svg = r.text().await.expect("svg");
        assert!(svg.starts_with("<?xml") && svg.matches("class=\"bar\"").count() == 2, "{svg}");
        let r = c.get(app.url("/access/chart.svg?chart=pie")).send().await.expect("svg");
        assert_eq!(r.status(), 404);
        let (status, page) = get_text(&c, app.url("/access/analysis?purpose=fiesta")).await;
        assert_eq!(status, 422);
        assert!(page.contains("class=\"error\""), "the field's reason is shown");
        let r = c.get(app.url("/access/analysis.csv?table=compare&compare=2024-03-01")).send().await.expect("csv");
        assert_eq!(r.status(), 200);
        assert!(r.text().await.expect("t").contains("Siglo XXI"));
    }
}

/// The suspension rule kept up to date attempt by attempt finds what a server starting
/// afresh finds: a closing recorded after the page was first viewed is flagged, and a
/// correction that undoes part of it is reflected.
#[tokio::test]
async fn episodes_found_incrementally_match_a_fresh_start() {
    for app in TestApp::all().await {
        let mut tokens = Vec::new();
        for org in ["org-a", "org-b", "org-c", "org-d"] {
            tokens.push(app.api_user(&format!("mon@{org}.org"), org, Role::Monitor).await.1);
        }
        app.coalition("red", &["org-a", "org-b", "org-c", "org-d"]).await;
        let mut facilities = Vec::new();
        for name in ["Uno", "Dos", "Tres", "Cuatro"] {
            facilities.push(app.facility(name).await);
        }
        let http = reqwest::Client::new();
        let import = |token: String, csv: String| {
            let (http, url) = (http.clone(), app.url("/api/v1/access-attempts/import"));
            async move {
                let r = http.post(url).bearer_auth(token).header("content-type", "text/csv").body(csv).send().await;
                assert_eq!(r.expect("import").status(), 201);
            }
        };
        // A quiet year: every facility visited most days, rarely refused.
        for (i, token) in tokens.iter().enumerate() {
            let mut csv = String::from("facility_id,attempted_at,purpose,outcome\n");
            for day in 0..330 {
                let date = jiff::civil::date(2023, 1, 1).checked_add(jiff::Span::new().days(day)).expect("date");
                for (j, f) in facilities.iter().enumerate() {
                    if !(day as usize + i + j).is_multiple_of(3) {
                        let outcome =
                            if (day as usize * 7 + i * 3 + j).is_multiple_of(23) { "denied" } else { "granted" };
                        csv.push_str(&format!("{f},{date}T{:02}:00,monitoring,{outcome}\n", 8 + i));
                    }
                }
            }
            import(token.clone(), csv).await;
        }
        let episodes = |base: String| {
            let (http, token) = (http.clone(), tokens[0].clone());
            async move {
                let r =
                    http.get(format!("{base}/api/v1/access-analysis?attempt_ids=all")).bearer_auth(token).send().await;
                r.expect("get").json::<Value>().await.expect("json")["episodes"].clone()
            }
        };
        assert_eq!(episodes(app.url("")).await, json!([]), "a quiet year");
        // Then every organization is turned away everywhere for four days (inside the
        // days already counted, so the kept scan is patched rather than rebuilt).
        for (i, token) in tokens.iter().enumerate() {
            let mut csv = String::from("facility_id,attempted_at,purpose,outcome\n");
            for day in 0..4 {
                let date = jiff::civil::date(2023, 11, 6).checked_add(jiff::Span::new().days(day)).expect("date");
                for f in &facilities {
                    // Twice a day: more refused attempts than an episode lists by default.
                    for hour in [8 + i, 14 + i] {
                        csv.push_str(&format!("{f},{date}T{hour:02}:00,legal_assistance,denied\n"));
                    }
                }
            }
            import(token.clone(), csv).await;
        }
        let kept = episodes(app.url("")).await;
        assert_eq!(kept.as_array().map(Vec::len), Some(1), "{kept}");
        // Without `attempt_ids=all` an episode lists its first hundred, and says how many.
        let every = kept[0]["attempt_ids"].as_array().cloned().unwrap_or_default();
        assert!(every.len() > 128, "{}", every.len());
        let r = http.get(app.url("/api/v1/access-analysis")).bearer_auth(&tokens[0]).send().await.expect("get");
        let short = r.json::<Value>().await.expect("json")["episodes"][0].clone();
        assert_eq!(short["attempt_ids_total"].as_u64(), Some(every.len() as u64));
        assert_eq!(short["attempt_ids"].as_array().map(|a| a.as_slice()), Some(&every[..100]));
        let r = http.get(app.url("/api/v1/access-analysis?attempt_ids=some")).bearer_auth(&tokens[0]).send().await;
        assert_eq!(r.expect("get").status(), 422);
        // Trimmed to the refusals it rests on, which may include a quiet-year one.
        let start = kept[0]["start"].as_str().expect("start");
        assert!(("2023-10-31".."2023-11-07").contains(&start), "{kept}");
        assert!(kept[0]["end"].as_str().is_some_and(|e| e >= "2023-11-09"), "{kept}");
        let fresh_addr =
            vigia_web::spawn(app.store.clone(), vigia_web::Config::default()).await.expect("a second server");
        assert_eq!(kept, episodes(format!("http://{fresh_addr}")).await, "incremental = from scratch");
        // One more refusal inside the episode: its id is listed at once (the ids each
        // server keeps per version go with the version).
        let r = http
            .post(app.url("/api/v1/access-attempts"))
            .bearer_auth(&tokens[3])
            .json(&json!({"facility_id": facilities[2], "attempted_at": "2023-11-07T15:00",
                          "purpose": "legal_assistance", "outcome": "denied"}))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 201);
        let id = r.json::<Value>().await.expect("json")["id"].clone();
        for base in [app.url(""), format!("http://{fresh_addr}")] {
            let now = episodes(base).await;
            assert!(now[0]["attempt_ids"].as_array().is_some_and(|ids| ids.contains(&id)), "{id}: {now}");
        }
        // Days past the end grow the range: the kept scan starts over, still the same.
        import(
            tokens[1].clone(),
            format!("facility_id,attempted_at,purpose,outcome\n{},2024-02-01T09:00,medical,denied\n", facilities[0]),
        )
        .await;
        assert_eq!(episodes(app.url("")).await, episodes(format!("http://{fresh_addr}")).await);
    }
}

#[tokio::test]
async fn the_facility_calendar_shows_the_year_asked_for_from_that_year_alone() {
    for app in TestApp::all().await {
        let (_, token) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        app.user("an@b.org", "org-b", Role::Analyst).await;
        let f = app.facility("Siglo XXI").await;
        // Attempts in 2019 and 2021, and a private one of 2023 the other organization
        // may not see (nor learn its year from).
        let csv = format!(
            "facility_id,attempted_at,purpose,outcome,visibility\n\
             {f},2019-05-07T10:00,monitoring,denied,coalition\n\
             {f},2021-08-02T10:00,monitoring,granted,coalition\n\
             {f},2023-01-09T10:00,monitoring,denied,private\n"
        );
        app.import_attempts(&token, csv).await;
        app.coalition("red", &["org-a", "org-b"]).await;
        let c = app.login("an@b.org").await;
        let cells = |page: &str, class: &str| -> Vec<String> {
            page.split(&format!("<td class=\"cal-{class}\""))
                .skip(1)
                .filter_map(|s| s.split('>').nth(1)?.split('<').next().map(str::to_string))
                .collect()
        };
        let (status, page) = get_text(&c, app.url(&format!("/facilities/{f}"))).await;
        assert_eq!(status, 200);
        assert!(page.contains("2021</h2>"), "the latest year b may see, not 2023");
        assert_eq!(cells(&page, "granted"), vec!["2"], "2 August 2021");
        assert!(cells(&page, "refused").is_empty(), "2019's refusal is not in 2021");
        let (_, page) = get_text(&c, app.url(&format!("/facilities/{f}?year=2019"))).await;
        assert!(page.contains("2019</h2>"));
        assert_eq!(cells(&page, "refused"), vec!["7"], "7 May 2019");
        assert!(cells(&page, "granted").is_empty());
    }
}

/// 1,000 attempts, ten to an hour so that many share their time (the list's order must
/// still be total), half of them refusals.
/// The first column (the id) of every row of a CSV download.
async fn body_csv_ids(c: &reqwest::Client, url: &str) -> Vec<String> {
    let body = c.get(url).send().await.expect("csv").text().await.expect("body");
    body.lines().skip(1).map(|l| l.split(',').next().unwrap_or_default().to_string()).collect()
}

fn thousand_attempts(f: i64) -> String {
    let mut csv = String::from("facility_id,attempted_at,purpose,outcome,reason_text\n");
    for i in 0..1000 {
        let day = jiff::civil::date(2020, 1, 1).checked_add(jiff::Span::new().days(i / 240)).expect("day");
        let hour = (i / 10) % 24;
        let outcome = if i % 2 == 0 { "denied" } else { "granted" };
        // Ten rows share each hour; purpose and outcome tell them apart (a file may not repeat a row).
        let purpose = ["monitoring", "legal_assistance", "religious", "humanitarian", "medical"][i as usize % 5];
        csv.push_str(&format!("{f},{day}T{hour:02}:00,{purpose},{outcome},=SUM(A1:A9) fila {i}\n"));
    }
    csv
}

fn attempt_ids(page: &str) -> Vec<i64> {
    page.split("<tr><td><a href=\"/access/").skip(1).filter_map(|s| s.split('"').next()?.parse().ok()).collect()
}

fn next_link(page: &str) -> Option<String> {
    let rest = page.split("id=\"next-page\"").next()?;
    let href = rest.rsplit("href=\"").next()?;
    page.contains("id=\"next-page\"").then(|| href.split('"').next().unwrap_or("").replace("&amp;", "&"))
}

#[tokio::test]
async fn a_list_of_a_thousand_attempts_pages_to_the_end_and_its_csv_has_every_row() {
    for app in TestApp::all().await {
        let (_, a) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let (_, b) = app.api_user("mon@b.org", "org-b", Role::Monitor).await;
        let f = app.facility("Estación Migratoria Acayucan").await;
        app.import_attempts(&a, thousand_attempts(f)).await;
        // Another organization's private attempts: never counted, listed or exported for a.
        let private: String =
            (0..5).map(|i| format!("{f},2020-02-0{}T09:00,monitoring,denied,private\n", i + 1)).collect();
        app.import_attempts(&b, format!("facility_id,attempted_at,purpose,outcome,visibility\n{private}")).await;
        let c = app.login("mon@a.org").await;

        let (s, page) = get_text(&c, app.url("/access")).await;
        assert_eq!(s, 200);
        assert!(page.contains("Mostrando 1–100 de 1000 intentos"), "the real total");
        let mut seen = attempt_ids(&page);
        assert_eq!(seen.len(), 100);
        let mut next = next_link(&page);
        let mut pages = 1;
        while let Some(href) = next {
            pages += 1;
            if pages == 4 {
                // Someone records a new attempt while the list is read: it is newer than
                // every row listed, so no row moves to another page or appears twice.
                let body = json!({"facility_id": f, "attempted_at": "2021-06-01T10:00", "purpose": "monitoring", "outcome": "denied"});
                assert_eq!(app.post_attempt(&a, &body).await.0, 201);
            }
            let (s, page) = get_text(&c, app.url(&href)).await;
            assert_eq!(s, 200, "{href}");
            assert!(page.contains("id=\"first-page\""), "a way back to the start");
            seen.extend(attempt_ids(&page));
            next = next_link(&page);
            if next.is_none() {
                assert!(
                    page.contains("Mostrando 902–1001 de 1001 intentos"),
                    "the last page, counted after the insert"
                );
            }
        }
        assert_eq!(pages, 10);
        let unique: std::collections::BTreeSet<i64> = seen.iter().copied().collect();
        assert_eq!((seen.len(), unique.len()), (1000, 1000), "every row once");

        // The CSV of the whole list, and of a filter: every matching row, nothing else.
        let r = c.get(app.url("/access.csv")).send().await.expect("csv");
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().expect("ct").starts_with("text/csv"));
        let body = r.text().await.expect("body");
        let mut rows = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
        let records: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("record")).collect();
        assert_eq!(records.len(), 1001);
        assert!(records.iter().all(|r| r[3] == *"Estación Migratoria Acayucan"));
        assert!(records.iter().any(|r| r[8].starts_with("'=SUM")), "formulas neutralized");
        assert!(!body.contains("private"), "nothing of b's");
        let r =
            c.get(app.url("/access.csv?outcome=denied&from=2020-01-01&until=2020-12-31")).send().await.expect("csv");
        let body = r.text().await.expect("body");
        assert_eq!(body.lines().count(), 1 + 500, "the filtered rows and the header");
        assert!(body.lines().skip(1).all(|l| l.contains(",Negado,")), "refusals only");
        // The same rows as JSON Lines: one object per row, keyed by the columns' names,
        // the page's link to it keeping the filters.
        let (_, page) = get_text(&c, app.url("/access?outcome=denied&from=2020-01-01&until=2020-12-31")).await;
        assert!(
            page.contains("href=\"/access.jsonl?from=2020-01-01&#38;outcome=denied&#38;until=2020-12-31\""),
            "{page}"
        );
        let r = c
            .get(app.url("/access.jsonl?outcome=denied&from=2020-01-01&until=2020-12-31"))
            .send()
            .await
            .expect("jsonl");
        assert_eq!(r.headers()["content-type"], "application/jsonl; charset=utf-8");
        assert!(r.headers()["content-disposition"].to_str().expect("h").contains("vigia-access-attempts.jsonl"));
        let body = r.text().await.expect("body");
        let lines: Vec<Value> =
            body.lines().map(|l| serde_json::from_str(l).expect("a JSON object per line")).collect();
        assert_eq!(lines.len(), 500, "the filtered rows, no header");
        assert!(lines
            .iter()
            .all(|v| v["outcome"] == "Negado" && v["attempted_at"].as_str().is_some_and(|t| t.starts_with("2020-"))));
        let csv_ids: Vec<String> =
            body_csv_ids(&c, &app.url("/access.csv?outcome=denied&from=2020-01-01&until=2020-12-31")).await;
        let json_ids: Vec<String> = lines.iter().map(|v| v["id"].as_str().expect("id").to_string()).collect();
        assert_eq!(json_ids, csv_ids, "the same rows in the same order");

        // The API pages the same way, with its total and a cursor.
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let path = match &after {
                Some(c) => format!("/api/v1/access-attempts?limit=300&after={c}"),
                None => "/api/v1/access-attempts?limit=300".to_string(),
            };
            let v = app.get_json(&a, &path).await;
            assert_eq!(v["total"], 1001);
            ids.extend(v["items"].as_array().expect("items").iter().filter_map(|i| i["id"].as_i64()));
            match v["next"].as_str() {
                Some(n) => after = Some(n.to_string()),
                None => break,
            }
        }
        assert_eq!(ids.len(), 1001);
        assert_eq!(ids.iter().collect::<std::collections::BTreeSet<_>>().len(), 1001);
        let r = reqwest::Client::new()
            .get(app.url("/api/v1/access-attempts?after=yesterday"))
            .bearer_auth(&a)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 422);
        let (s, page) = get_text(&c, app.url("/access?after=1_x")).await;
        assert_eq!(s, 422);
        assert!(page.contains("Este enlace de página no es válido"));
        // b's list: its five, and its own total.
        let v = app.get_json(&b, "/api/v1/access-attempts").await;
        assert_eq!(v["total"], 5, "b is in no coalition with a: its own five");
    }
}
