//! Two `vigia serve` processes on one PostgreSQL (issue #19, item 6), one of them killed
//! with SIGKILL while it is sending a webhook delivery: the record it acknowledged is
//! read through the other at once, the delivery it held is sent by another server once
//! its lease runs out, and every other delivery is sent exactly once across both.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vigia_store::Actor;

use super::{Server, TempDir};

/// What a receiver got: each delivery id and when it came, in order.
type Seen = Arc<Mutex<Vec<(String, Instant)>>>;

/// A webhook receiver on loopback that never answers the first delivery it gets (the
/// sender is killed while it waits) and answers every later one after 300 ms, so two
/// servers sending the same delivery would overlap.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let seen = s2.clone();
            async move {
                let id = headers.get("x-vigia-delivery").and_then(|v| v.to_str().ok()).unwrap_or("?").to_string();
                let first = {
                    let mut seen = seen.lock().expect("lock");
                    seen.push((id, Instant::now()));
                    seen.len() == 1
                };
                if first {
                    std::future::pending::<()>().await;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

/// Waits up to `limit` for `done`, checking every 100 ms.
async fn wait_for(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[test]
fn two_serve_processes_share_one_postgresql_and_a_killed_one_loses_and_repeats_nothing() {
    let Some(server) = vigia_store::testing::pg_url() else {
        eprintln!("skipped: two `vigia serve` processes need PostgreSQL (set VIGIA_TEST_DATABASE_URL)");
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let db = rt.block_on(vigia_store::testing::TestDb::postgres(&server)).expect("database");
    let t = TempDir::new("processes");
    let dir = t.data();
    let db_args = ["--database-url", db.url.as_str()];
    let token = super::init_with_token(&dir, &db_args);

    let (hook, seen) = rt.block_on(receiver());
    let keys = vigia_store::keyfile::load(&dir).expect("key");
    let store = rt.block_on(vigia_store::open(&db.url, &keys)).expect("store");
    let org = rt.block_on(store.list_orgs()).expect("orgs")[0].id;
    rt.block_on(store.create_webhook(&Actor::SYSTEM, org, &hook, "whsec_dos_procesos")).expect("webhook");
    // Each send may take four seconds (well above the receiver's 300 ms on a busy
    // machine), so a delivery is held for twenty-four.
    let serve_args = [&db_args[..], &["--webhook-allow-host", "127.0.0.1", "--webhook-timeout", "4"]].concat();

    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    let post = |base: String, path: &'static str, body: Value| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let r = http.post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.expect("post");
            assert_eq!(r.status(), 201, "{path}");
            r.json::<Value>().await.expect("json")["id"].as_i64().expect("id")
        }
    };
    let denial = |facility: i64, day: u32| {
        json!({"facility_id": facility, "attempted_at": format!("2020-01-{:02}T10:30", 10 + day),
               "purpose": "legal_assistance", "outcome": "denied", "reason_category": "orders_from_above"})
    };

    // The first server records a refusal, and its worker starts sending the delivery;
    // it is killed while the receiver keeps it waiting.
    let mut first = Server::start_with("serve", &dir, &serve_args);
    let (facility, written) = rt.block_on(async {
        let f = post(
            first.base.clone(),
            "/api/v1/facilities",
            json!({"name": "Siglo XXI", "kind": "other", "state_code": "07"}),
        )
        .await;
        (f, post(first.base.clone(), "/api/v1/access-attempts", denial(f, 0)).await)
    });
    let held = rt.block_on(wait_for(Duration::from_secs(15), async || !seen.lock().expect("lock").is_empty()));
    assert!(held, "the first server's worker sent the delivery");
    let (held, held_at) = seen.lock().expect("lock")[0].clone();
    first.kill();

    // Two servers on the same database: the killed server's record is there, and its
    // delivery is sent once its lease ran out, by one of them.
    let a = Server::start_with("serve", &dir, &serve_args);
    let b = Server::start_with("serve", &dir, &serve_args);
    rt.block_on(async {
        let got = b.get_json(&token, &format!("/api/v1/access-attempts/{written}")).await;
        assert_eq!(got["id"].as_i64(), Some(written), "the acknowledged write survived the kill: {got}");
        for i in 1..=6u32 {
            let (write, read) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
            let id = post(write.base.clone(), "/api/v1/access-attempts", denial(facility, i)).await;
            let got = read.get_json(&token, &format!("/api/v1/access-attempts/{id}")).await;
            assert_eq!(got["id"].as_i64(), Some(id), "written through one server, read through the other");
            let list = read.get_json(&token, &format!("/api/v1/access-attempts?facility_id={facility}&limit=1")).await;
            assert_eq!(list["total"].as_i64(), Some(i64::from(i) + 1), "{list}");
        }
        let all_delivered = wait_for(Duration::from_secs(60), async || {
            let log = store.deliveries(org, 100).await.expect("log");
            log.len() == 7 && log.iter().all(|d| d.status == "delivered")
        })
        .await;
        let log = store.deliveries(org, 100).await.expect("log");
        assert!(all_delivered, "every delivery was sent: {log:?}");
        // A moment for any second send to arrive.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let log = store.deliveries(org, 100).await.expect("log");
        assert!(log.iter().all(|d| d.attempts == 1), "one recorded try each: {log:?}");
        let seen = seen.lock().expect("lock").clone();
        let count = |id: &str| seen.iter().filter(|(s, _)| s.as_str() == id).count();
        // The killed server's try reached the receiver and was never answered, so the
        // receiver has that id twice: the id is what lets it recognise the repeat. The
        // second try came only once the dead server's lease (twenty-four seconds) ran out.
        assert_eq!(count(&held), 2, "{seen:?}");
        let again = seen.iter().skip(1).find(|(s, _)| *s == held).map(|(_, at)| *at).expect("sent again");
        assert!(again.duration_since(held_at) >= Duration::from_secs(20), "not before the lease ran out");
        for d in &log {
            let id = d.id.to_string();
            if id != held {
                assert_eq!(count(&id), 1, "delivery {id} sent exactly once across both: {seen:?}");
            }
        }
        assert_eq!(seen.len(), 8, "{seen:?}");
        assert!(store.verify_audit().await.expect("verify").ok());
    });
    drop((a, b));
    rt.block_on(store.close());
    drop(db);
}

/// A server runs with few glibc arenas (it starts again as itself with
/// `MALLOC_ARENA_MAX=2`, same process), unless its environment already names a number.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_server_runs_with_few_malloc_arenas_unless_told_otherwise() {
    let t = TempDir::new("arenas");
    let dir = t.data();
    super::init(&dir);
    let arenas = |s: &Server| {
        let env = std::fs::read(format!("/proc/{}/environ", s.child.id())).expect("environ");
        env.split(|b| *b == 0)
            .filter_map(|kv| std::str::from_utf8(kv).ok()?.strip_prefix("MALLOC_ARENA_MAX=").map(str::to_string))
            .collect::<Vec<_>>()
    };
    let mut cmd = super::vigia();
    cmd.env_remove("MALLOC_ARENA_MAX");
    let s = Server::start_from(cmd, "serve", &dir, &[]);
    assert_eq!(arenas(&s), ["2"], "started again with two arenas, and serving");
    drop(s);
    let mut cmd = super::vigia();
    cmd.env("MALLOC_ARENA_MAX", "4");
    let s = Server::start_from(cmd, "serve", &dir, &[]);
    assert_eq!(arenas(&s), ["4"], "the operator's number is kept");
    drop(s);
    // Started again once only: where glibc drops the variable (a binary with file
    // capabilities), the marker stops a second start.
    let mut cmd = super::vigia();
    cmd.env_remove("MALLOC_ARENA_MAX").env("VIGIA_ARENAS_SET", "1");
    let s = Server::start_from(cmd, "serve", &dir, &[]);
    assert!(arenas(&s).is_empty(), "not started again");
}
