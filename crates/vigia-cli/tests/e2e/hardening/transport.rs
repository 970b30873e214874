//! Findings about the wire: bodies limited while read, slow and dripping clients, the
//! connection cap, and webhooks that must not reach internal addresses.

use std::time::Duration;

use serde_json::{json, Value};
use vigia_domain::account::Role;
use vigia_store::Actor;

use crate::helpers::TestApp;

/// Sends raw bytes on a new connection and reads what comes back until the server
/// answers and closes, or `wait` passes; `None` if nothing came back in time.
async fn raw_exchange(app: &TestApp, head: &str, body: &[u8], wait: Duration) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("head");
    // The server may answer and close before all of a body it refused is written.
    let _ = s.write_all(body).await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    read.ok().map(|()| String::from_utf8_lossy(&got).into_owned())
}

/// Found by this session's own attack pass: a signed-in client could drip a body a
/// byte a second and hold a connection for ever (anonymous ones are cut off at 30 s).
/// A signed-in body must now keep a minimum rate; a merely slow one still lands.
#[tokio::test]
async fn a_signed_in_body_that_drips_is_cut_off_and_a_slow_one_lands() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = vigia_web::Config { body_min_rate: (Duration::from_secs(1), 200), ..Default::default() };
    let app = TestApp::with_config(vigia_store::testing::TestDb::sqlite(), config).await;
    let (_, token) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
    let f = app.facility("Siglo XXI").await;
    let body = format!(
        "{{\"facility_id\": {f}, \"attempted_at\": \"2020-01-20T10:30\", \"purpose\": \"monitoring\", \"outcome\": \"denied\", \"notes\": \"{}\"}}",
        "x".repeat(1500)
    );
    let head = format!(
        "POST /api/v1/access-attempts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    // Sends the body `chunk` bytes every 100 ms; what the server answered, if it did
    // within 8 s.
    let send = |chunk: usize| {
        let (head, body) = (head.clone(), body.clone());
        let addr = app.addr;
        async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
            s.write_all(head.as_bytes()).await.expect("head");
            let started = std::time::Instant::now();
            let mut answer = Vec::new();
            for piece in body.as_bytes().chunks(chunk) {
                if s.write_all(piece).await.is_err() {
                    break;
                }
                let mut buf = [0u8; 1024];
                if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(100), s.read(&mut buf)).await {
                    answer.extend_from_slice(&buf[..n]);
                    break;
                }
                if started.elapsed() > Duration::from_secs(8) {
                    break;
                }
            }
            let mut buf = [0u8; 1024];
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf)).await {
                answer.extend_from_slice(&buf[..n]);
            }
            (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
        }
    };
    // A byte every 100 ms (10 B/s): cut off once the grace is over.
    let (answer, took) = send(1).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?} after {took:?}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    // 100 bytes every 100 ms (1,000 B/s): slow, and it lands.
    let (answer, _) = send(100).await;
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer:?}");
}

/// Finding 9: a body is refused from its declared length before it is read, cut off
/// while read at the smallest limit that applies (64 KiB before sign-in), and slow
/// clients and idle connections are bounded.
#[tokio::test]
async fn bodies_are_limited_while_read_and_slow_clients_are_cut_off() {
    let config = vigia_web::Config {
        header_timeout: Duration::from_millis(800),
        anonymous_timeout: Duration::from_millis(1_500),
        max_connections: 4,
        ..Default::default()
    };
    let app = TestApp::with_config(vigia_store::testing::TestDb::sqlite(), config).await;
    let long = Duration::from_secs(10);
    // A declared 20 MiB sign-in form is refused at once, with nothing of it read.
    let head = "POST /login HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: 20971520\r\n\r\n";
    let answer = raw_exchange(&app, head, b"email=a", long).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // A body that does not say its length is cut off at 64 KiB.
    let head = "POST /login HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    let chunk = [format!("{:x}\r\n", 32 * 1024).into_bytes(), vec![b' '; 32 * 1024], b"\r\n".to_vec()].concat();
    let answer = raw_exchange(&app, head, &chunk.repeat(4), long).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 413") || answer.starts_with("HTTP/1.1 400"), "{answer}");
    // A client that never finishes its headers is dropped.
    let silent = raw_exchange(&app, "GET /healthz HTTP/1.1\r\nHost: t\r\n", b"", long).await;
    assert!(silent.is_some_and(|a| a.is_empty() || a.starts_with("HTTP/1.1 408")), "the connection was closed");
    // An anonymous request that sends its body too slowly is answered 408.
    let head = "POST /login HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: 1000\r\n\r\n";
    let answer = raw_exchange(&app, head, b"email=", long).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // Signed in, each route takes what it is for: a 2 MiB CSV and a 5 MiB photo, but
    // not a 2 MiB JSON body.
    let (_, token) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
    let f = app.facility("Siglo XXI").await;
    let mut csv = String::from("facility_id,attempted_at,purpose,outcome\n");
    let mut minute = 0;
    while csv.len() < 2 * 1024 * 1024 {
        let day = jiff::civil::date(2015, 1, 1).checked_add(jiff::Span::new().days(minute / 1440)).expect("day");
        csv.push_str(&format!("{f},{day}T{:02}:{:02},monitoring,denied\n", minute / 60 % 24, minute % 60));
        minute += 1;
    }
    app.import_attempts(&token, csv).await;
    let http = reqwest::Client::new();
    // A file wrong on every line is answered with its first problems and their count,
    // not a list larger than the file.
    let bad: String = std::iter::once("facility_id,attempted_at,purpose,outcome\n".to_string())
        .chain((0..5_000).map(|_| format!("{f},2015-01-01T10:30,monitoring,maybe\n")))
        .collect();
    let r = http
        .post(app.url("/api/v1/access-attempts/import"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(bad)
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.expect("json");
    assert_eq!((p["error_count"].as_u64(), p["errors"].as_array().map(Vec::len)), (Some(5_000), Some(200)));
    let body = json!({"facility_id": f, "attempted_at": "2020-01-20T10:30", "purpose": "monitoring",
        "team_size": 2, "outcome": "denied"});
    let id = app.post_attempt(&token, &body).await.1["id"].as_i64().expect("id");
    let photo = [b"\xFF\xD8\xFF\xE0".as_slice(), &vec![1u8; 5 << 20]].concat();
    let r = http
        .post(app.url(&format!("/api/v1/access-attempts/{id}/files")))
        .bearer_auth(&token)
        .query(&[("filename", "caseta.jpg")])
        .body(photo)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 201);
    let huge = format!("{{\"notes\":\"{}\"}}", "x".repeat(2 << 20));
    let r = http
        .post(app.url("/api/v1/access-attempts"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

/// Finding 9: connections beyond the cap wait to be accepted instead of costing
/// memory; one that closes lets the next in.
#[tokio::test]
async fn connections_beyond_the_cap_wait_their_turn() {
    let config =
        vigia_web::Config { max_connections: 2, header_timeout: Duration::from_secs(30), ..Default::default() };
    let app = TestApp::with_config(vigia_store::testing::TestDb::sqlite(), config).await;
    let idle1 = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    let _idle2 = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    let client = reqwest::Client::builder().timeout(Duration::from_millis(700)).build().expect("client");
    assert!(client.get(app.url("/healthz")).send().await.is_err(), "a third connection is not served yet");
    drop(idle1);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    let r = client.get(app.url("/healthz")).send().await.expect("served once a place is free");
    assert_eq!(r.status(), 200);
}

/// A receiver on loopback that counts requests and answers every one with `answer`.
async fn counting_receiver(answer: &'static str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().expect("addr").port());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = vec![0u8; 64 * 1024];
            let _ = tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await;
            let _ = s.write_all(answer.as_bytes()).await;
        }
    });
    (url, hits)
}

/// Finding 8: webhooks reach no internal address unless the operator allowed its host,
/// checked when the URL is entered and again at every send, and redirects are never
/// followed.
#[tokio::test]
async fn webhooks_reach_no_internal_address_unless_the_operator_allows_it() {
    use std::sync::atomic::Ordering;
    for allowed in [false, true] {
        let config = vigia_web::Config {
            worker_interval: Duration::from_millis(50),
            webhook_allow_hosts: if allowed { vec!["127.0.0.1".into()] } else { vec![] },
            ..Default::default()
        };
        let app = TestApp::with_config(vigia_store::testing::TestDb::sqlite(), config).await;
        let admin = app.user("admin@a.org", "org-a", Role::Admin).await;
        // The internal target redirects to a second internal one.
        let (second, second_hits) = counting_receiver("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n").await;
        let moved: &'static str = Box::leak(
            format!("HTTP/1.1 302 Found\r\nLocation: {second}\r\nContent-Length: 0\r\n\r\n").into_boxed_str(),
        );
        let (first, first_hits) = counting_receiver(moved).await;
        // Entering it on the page.
        let (c, csrf) = app.login_with_csrf("admin@a.org", "/admin/webhooks").await;
        let r = c
            .post(app.url("/admin/webhooks"))
            .form(&[("csrf", csrf.as_str()), ("url", first.as_str())])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), if allowed { 200 } else { 422 }, "allowed: {allowed}");
        for metadata in ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:10.0.0.1]/", "http://localhost:9/"]
        {
            let r = c
                .post(app.url("/admin/webhooks"))
                .form(&[("csrf", csrf.as_str()), ("url", metadata)])
                .send()
                .await
                .expect("post");
            assert_eq!(r.status(), 422, "{metadata}");
        }
        // A webhook already stored (from before this check) is refused at send time.
        if !allowed {
            app.store.create_webhook(&Actor::user(&admin), admin.org_id, &first, "whsec_x").await.expect("hook");
        }
        app.store.raise_alert(admin.org_id, "denial", "k1", None, "{}").await.expect("alert");
        let mut log = Vec::new();
        for _ in 0..100 {
            log = app.store.deliveries(admin.org_id, 10).await.expect("log");
            if log.iter().all(|d| d.attempts > 0) && !log.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(log.len(), 1);
        let d = &log[0];
        if allowed {
            assert_eq!(first_hits.load(Ordering::SeqCst), 1, "sent once to the allowed host");
            assert_eq!(d.last_status, Some(302), "a redirect is not a delivery");
        } else {
            assert_eq!(first_hits.load(Ordering::SeqCst), 0, "nothing reaches an internal address");
            assert!(d.last_error.as_deref().is_some_and(|e| e.contains("not a public address")), "{d:?}");
        }
        assert_ne!(d.status, "delivered");
        assert_eq!(second_hits.load(Ordering::SeqCst), 0, "redirects are never followed");
    }
}

/// An address whose escapes are not UTF-8 gets the same answer as any other bad request:
/// a problem under `/api`, a page elsewhere, never axum's plain text (found by the
/// attack pass of issue #16).
#[tokio::test]
async fn an_address_that_is_not_utf8_is_answered_like_any_bad_request() {
    for app in TestApp::all().await {
        let c = reqwest::Client::new();
        let r = c.get(app.url("/api/v1/facilities/%FF")).send().await.expect("api");
        assert_eq!(r.status(), 400);
        let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert!(ct.starts_with("application/problem+json"), "{ct}");
        let r = c.get(app.url("/facilities/%C3")).send().await.expect("page");
        assert_eq!(r.status(), 400);
        let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert!(ct.starts_with("text/html"), "{ct}");
        let ok = c.get(app.url("/facilities/Estaci%C3%B3n")).send().await.expect("utf-8");
        assert_ne!(ok.status(), 400, "escaped UTF-8 is not refused");
    }
}

/// The same data draws the same map: the access map's points come in the facilities'
/// order, not a hash map's (found by the attack pass of issue #16).
#[tokio::test]
async fn the_same_data_draws_the_same_map() {
    for app in TestApp::all().await {
        for (i, (lat, lon)) in
            [(19.4, -99.1), (14.9, -92.3), (32.5, -117.0), (25.7, -100.3), (20.9, -89.6)].iter().enumerate()
        {
            let mut d = crate::helpers::facility_draft(&format!("Estación {i}"), "09");
            d.latitude = Some(*lat);
            d.longitude = Some(*lon);
            app.store.create_facility(&Actor::SYSTEM, d).await.expect("facility");
        }
        app.user("mapa@example.org", "org-mapa", Role::Analyst).await;
        let c = app.login("mapa@example.org").await;
        let first = c.get(app.url("/access/map.svg")).send().await.expect("map").text().await.expect("svg");
        assert!(first.contains("Estación 4"), "{first}");
        for _ in 0..5 {
            let again = c.get(app.url("/access/map.svg")).send().await.expect("map").text().await.expect("svg");
            assert_eq!(first, again);
        }
    }
}
