//! Imports of access attempts read as they arrive (issue #19): no size cap, progress
//! while the body arrives, nothing kept from a body cut short or a row without end, the
//! form's token read before the file.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigia_domain::account::Role;

use crate::helpers::{csrf_of, get_text, TestApp};

/// A request sent in pieces over its own connection, as a phone on a poor network sends
/// an upload: the headers, then each piece of the body as a chunk.
struct Upload {
    stream: tokio::net::TcpStream,
}

impl Upload {
    async fn start(app: &TestApp, token: &str, key: &str) -> Upload {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
        let head = format!(
            "POST /api/v1/access-attempts/import?progress={key} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Authorization: Bearer {token}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\
             Connection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.expect("head");
        Upload { stream }
    }

    async fn send(&mut self, piece: &[u8]) {
        for part in piece.chunks(16 * 1024) {
            let mut chunk = format!("{:x}\r\n", part.len()).into_bytes();
            chunk.extend_from_slice(part);
            chunk.extend_from_slice(b"\r\n");
            self.stream.write_all(&chunk).await.expect("chunk");
        }
    }

    /// Ends the body and reads the answer: its status and body.
    async fn finish(mut self) -> (u16, Value) {
        self.stream.write_all(b"0\r\n\r\n").await.expect("end");
        let mut answer = Vec::new();
        self.stream.read_to_end(&mut answer).await.expect("answer");
        let text = String::from_utf8_lossy(&answer).to_string();
        let status = text.get(9..12).and_then(|s| s.parse().ok()).expect("status line");
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        // The answer may come chunked: its JSON is between the first `{` and the last `}`.
        let json = body.find('{').zip(body.rfind('}')).map(|(a, b)| &body[a..=b]).unwrap_or("null");
        (status, serde_json::from_str(json).unwrap_or(Value::Null))
    }
}

fn rows(from: usize, to: usize) -> String {
    (from..to)
        .map(|i| {
            let (day, minute) = (1 + i / 1440 % 28, i % 1440);
            let month = 1 + i / (1440 * 28);
            format!("Siglo XXI,2021-{month:02}-{day:02}T{:02}:{:02},monitoring,denied\n", minute / 60, minute % 60)
        })
        .collect()
}

const HEADER: &str = "facility,attempted_at,purpose,outcome\n";

async fn progress(app: &TestApp, token: &str, key: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/access-attempts/import/progress/{key}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("progress");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Asks for the progress until `ok` says it has come far enough (at most 20 s).
async fn progress_until(app: &TestApp, token: &str, key: &str, ok: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let (status, v) = progress(app, token, key).await;
        if status == 200 && ok(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the import's progress never got there: {:?}", progress(app, token, key).await);
}

#[tokio::test]
async fn an_upload_read_as_it_arrives_shows_its_progress_and_a_cut_one_keeps_nothing() {
    for app in TestApp::all().await {
        let (_, a) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let (_, other) = app.api_user("coord@a.org", "org-a", Role::Coordinator).await;
        app.facility("Siglo XXI").await;
        let count = || async { app.store.counts().await.expect("counts").get("access_attempts") };

        // Half the file arrives, then the sender pauses: the rows are already read and
        // checked, and the progress says so; nothing is stored yet.
        let key = "a-first-import-0001";
        let mut up = Upload::start(&app, &a, key).await;
        up.send(format!("{HEADER}{}", rows(0, 3_000)).as_bytes()).await;
        let v = progress_until(&app, &a, key, |v| v["rows_read"].as_u64() >= Some(2_500)).await;
        assert_eq!(
            (&v["phase"], &v["problems"], &v["rows_stored"]),
            (&Value::from("reading"), &Value::from(0), &Value::from(0)),
            "{v}"
        );
        assert!(v["bytes_read"].as_u64() > Some(100_000), "{v}");
        assert_eq!(count().await, 0, "nothing written while the file arrives");
        // Only its own sender may ask: anyone else is told there is no such import.
        assert_eq!(progress(&app, &other, key).await.0, 404);
        up.send(rows(3_000, 6_000).as_bytes()).await;
        let (status, out) = up.finish().await;
        assert_eq!((status, &out["imported"]), (201, &Value::from(6_000)), "{out}");
        let whole = format!("{HEADER}{}", rows(0, 6_000));
        assert_eq!(out["file_sha256"], vigia_domain::audit::sha256_hex(whole.as_bytes()));
        assert_eq!(out["file_bytes"], whole.len());
        let (_, v) = progress(&app, &a, key).await;
        assert_eq!((&v["phase"], &v["rows_stored"]), (&Value::from("done"), &Value::from(6_000)), "{v}");
        assert_eq!(count().await, 6_000);

        // A connection lost half-way: nothing of it is kept, and the progress says refused.
        let key = "a-cut-import-000002";
        let mut up = Upload::start(&app, &a, key).await;
        up.send(format!("{HEADER}{}", rows(10_000, 12_000)).as_bytes()).await;
        progress_until(&app, &a, key, |v| v["rows_read"].as_u64() >= Some(1_500)).await;
        drop(up);
        let v = progress_until(&app, &a, key, |v| v["phase"] == "refused").await;
        assert_eq!(v["problems"], 1, "{v}");
        assert_eq!(count().await, 6_000, "nothing of the cut file");

        // Two imports at once per person: a third waits its turn, told so before its body
        // is read; once one ends, the next one is taken.
        let mut first = Upload::start(&app, &a, "busy-import-one-0001").await;
        first.send(format!("{HEADER}{}", rows(30_000, 30_010)).as_bytes()).await;
        let mut second = Upload::start(&app, &a, "busy-import-two-0002").await;
        second.send(format!("{HEADER}{}", rows(31_000, 31_010)).as_bytes()).await;
        // Both are being read (their bytes have arrived; rows are counted by the hundred).
        progress_until(&app, &a, "busy-import-two-0002", |v| v["bytes_read"].as_u64() > Some(400)).await;
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/access-attempts/import"))
            .bearer_auth(&a)
            .header("content-type", "text/csv")
            .body(format!("{HEADER}{}", rows(32_000, 32_010)))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 429);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["type"], "https://vigia.invalid/problems/busy", "{v}");
        assert_eq!(first.finish().await.0, 201);
        assert_eq!(second.finish().await.0, 201);
        assert_eq!(count().await, 6_020);

        // A quote never closed would make one row of the rest of the file: the reading
        // stops at the longest row allowed, with its reason.
        let mut up = Upload::start(&app, &a, "a-long-row-import-3").await;
        up.send(format!("{HEADER}Siglo XXI,2021-05-01T10:00,monitoring,denied\n\"Siglo XXI").as_bytes()).await;
        up.send(&vec![b'x'; 100 * 1024]).await;
        let (status, out) = up.finish().await;
        assert_eq!(status, 422, "{out}");
        assert_eq!(
            (&out["errors"][0]["code"], &out["errors"][0]["line"]),
            (&Value::from("row_too_long"), &Value::from(3)),
            "{out}"
        );

        // A key that could be guessed is refused before anything is read.
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/access-attempts/import?progress=1"))
            .bearer_auth(&a)
            .header("content-type", "text/csv")
            .body(format!("{HEADER}{}", rows(20_000, 20_001)))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 422);
        let v: Value = r.json().await.expect("json");
        assert_eq!(
            (&v["errors"][0]["field"], &v["errors"][0]["code"]),
            (&Value::from("progress"), &Value::from("invalid_progress_key"))
        );
        assert_eq!(count().await, 6_020);
        let report = app.store.verify_audit().await.expect("verify");
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }
}

/// The old 20 MiB limit is gone for attempts: a larger file imports in one request.
#[tokio::test]
async fn a_file_larger_than_the_old_limit_imports_in_one_request() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, a) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
    app.facility("Siglo XXI").await;
    let note = "Se negó el acceso en la puerta; ".repeat(120);
    let mut csv = String::from("facility,attempted_at,purpose,outcome,notes\n");
    let mut i = 0;
    while csv.len() <= 21 * 1024 * 1024 {
        let row = rows(i, i + 1);
        csv.push_str(&format!("{},{note}\n", row.trim_end()));
        i += 1;
    }
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/access-attempts/import"))
        .bearer_auth(&a)
        .header("content-type", "text/csv")
        .body(csv.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
    let out: Value = r.json().await.expect("json");
    assert_eq!((&out["imported"], &out["file_bytes"]), (&Value::from(i), &Value::from(csv.len())), "{out}");
    // The texts were sealed as any attempt's are.
    let last = out["last_id"].as_i64().expect("id");
    let v = app.get_json(&a, &format!("/api/v1/access-attempts/{last}")).await;
    assert_eq!(v["notes"], note.trim_end());
}

/// The page reads the form's token before the file: a form that sends the file first is
/// refused without reading it, and nothing is imported.
#[tokio::test]
async fn the_import_form_checks_its_token_before_reading_the_file() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    app.facility("Siglo XXI").await;
    let c = app.login("mon@a.org").await;
    let (_, page) = get_text(&c, app.url("/access/import")).await;
    let csrf = csrf_of(&page);
    assert!(page.contains("id=\"import-progress\"") && page.contains("/static/import-progress.js"), "{page}");
    let csv = format!("{HEADER}{}", rows(0, 10));
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(csv.clone().into_bytes()).file_name("a.csv"))
        .text("csrf", csrf.clone());
    let r = c.post(app.url("/access/import")).multipart(form).send().await.expect("post");
    assert_eq!(r.status(), 403);
    assert_eq!(app.store.counts().await.expect("counts").get("access_attempts"), 0);
    // Only the token may come before the file, and only as long as a token is.
    for form in [
        reqwest::multipart::Form::new().text("csrf", csrf.clone()).text("note", "x".repeat(5_000)),
        reqwest::multipart::Form::new().text("csrf", "x".repeat(100_000)),
    ] {
        let form = form.part("file", reqwest::multipart::Part::bytes(csv.clone().into_bytes()).file_name("a.csv"));
        let r = c.post(app.url("/access/import")).multipart(form).send().await.expect("post");
        assert_eq!(r.status(), 403);
    }
    assert_eq!(app.store.counts().await.expect("counts").get("access_attempts"), 0);
    // A form without a file says which field is missing.
    let form = reqwest::multipart::Form::new().text("csrf", csrf.clone());
    let r = c.post(app.url("/access/import")).multipart(form).send().await.expect("post");
    assert_eq!(r.status(), 422);
    // In the page's order it imports, and its progress can be asked for by its key.
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("a.csv"));
    let r = c.post(app.url("/access/import?progress=page-import-key-0001")).multipart(form).send().await.expect("post");
    assert_eq!(r.status(), 200);
    let (status, v) = get_text(&c, app.url("/api/v1/access-attempts/import/progress/page-import-key-0001")).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&v).expect("json");
    assert_eq!((&v["phase"], &v["rows_stored"]), (&Value::from("done"), &Value::from(10)), "{v}");
    assert_eq!(app.store.counts().await.expect("counts").get("access_attempts"), 10);
}
