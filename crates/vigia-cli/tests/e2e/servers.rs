//! Two servers, one PostgreSQL (issue #19, item 6): two server instances, each with its
//! own connection pool, caches and background worker, share nothing but the database.
//! A record written through one is read through the other at once, the analysis
//! included; every webhook delivery is made exactly once across both; a server that
//! died holding a delivery loses nothing (the lease runs out and the other sends it,
//! once); a reminder sweep run by both raises each alert once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use vigia_domain::account::Role;
use vigia_store::testing::TestDb;
use vigia_store::{Actor, MasterKey};

use crate::helpers::facility_draft;

fn denial(facility: i64, day: u32) -> Value {
    json!({"facility_id": facility, "attempted_at": format!("2020-01-{:02}T10:30", 10 + day),
           "purpose": "legal_assistance", "outcome": "denied", "reason_category": "orders_from_above"})
}

/// A webhook receiver on loopback that accepts everything and counts each delivery id.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let status = Arc::new(AtomicU16::new(204));
    let s2 = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let (seen, status) = (s2.clone(), status.clone());
            async move {
                let id = headers.get("x-vigia-delivery").and_then(|v| v.to_str().ok()).unwrap_or("?").to_string();
                seen.lock().expect("lock").push(id);
                axum::http::StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap_or(axum::http::StatusCode::OK)
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

#[tokio::test]
async fn two_servers_on_one_postgresql_read_each_other_at_once_and_do_each_job_once() {
    let Some(server) = vigia_store::testing::pg_url() else {
        eprintln!("skipped: two servers need PostgreSQL (set VIGIA_TEST_DATABASE_URL)");
        return;
    };
    let db = TestDb::postgres(&server).await.expect("database");
    let key = MasterKey::generate().expect("key");
    let (hook, seen) = receiver().await;

    // The records, through a first store.
    let setup = vigia_store::open(&db.url, std::slice::from_ref(&key)).await.expect("store");
    let org = setup.create_org(&Actor::SYSTEM, "org-a", "Org A").await.expect("org").id;
    setup.create_webhook(&Actor::SYSTEM, org, &hook, "whsec_dos_servidores").await.expect("webhook");
    let user = setup
        .create_user(
            &Actor::SYSTEM,
            vigia_store::NewUser {
                email: "coord@a.org".into(),
                display_name: "Coord".into(),
                org_id: org,
                role: Role::Coordinator,
                locale: vigia_domain::account::Locale::Es,
                password_hash: "x".into(),
            },
        )
        .await
        .expect("user");
    let token = vigia_store::secrets::new_token("vga_").expect("token");
    setup
        .create_api_token(&Actor::user(&user), user.id, "t", &vigia_store::secrets::token_hash(&token))
        .await
        .expect("token");
    let f = setup.create_facility(&Actor::SYSTEM, facility_draft("Siglo XXI", "07")).await.expect("f").id;

    // A server that dies holding a delivery: it records a refusal, claims its delivery
    // for 1.5 s, and is gone before sending it.
    let (listener, dying) = vigia_web::bind("127.0.0.1:0").await.expect("bind");
    let router = vigia_web::app(setup.clone(), vigia_web::Config::default());
    let died = tokio::spawn(async move {
        vigia_web::server::run(listener, router, &vigia_web::Config::default(), std::future::pending()).await;
    });
    let http = reqwest::Client::new();
    let post = |base: String, body: Value| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let r = http.post(format!("{base}/api/v1/access-attempts")).bearer_auth(token).json(&body).send().await;
            let r = r.expect("post");
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.expect("json")["id"].as_i64().expect("id")
        }
    };
    post(format!("http://{dying}"), denial(f, 0)).await;
    let now = vigia_store::now_micros();
    let held = setup.claim_deliveries(now, 1_500_000, 10).await.expect("claim");
    assert_eq!(held.len(), 1, "the dying server holds the first delivery");
    died.abort();

    // Two servers on the same database, each with its own pool, caches and worker.
    let fast = vigia_web::Config {
        worker_interval: Duration::from_millis(40),
        retry_base: Duration::from_millis(200),
        webhook_allow_hosts: vec!["127.0.0.1".into()],
        ..Default::default()
    };
    let store_a = vigia_store::open(&db.url, std::slice::from_ref(&key)).await.expect("store a");
    let store_b = vigia_store::open(&db.url, std::slice::from_ref(&key)).await.expect("store b");
    let a = format!("http://{}", vigia_web::spawn(store_a.clone(), fast.clone()).await.expect("server a"));
    let b = format!("http://{}", vigia_web::spawn(store_b.clone(), fast).await.expect("server b"));
    let get = |url: String| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let r = http.get(url).bearer_auth(token).send().await.expect("get");
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or_default())
        }
    };
    let refusals = |v: &Value| v.to_string();
    let (_, before_a) = get(format!("{a}/api/v1/access-analysis")).await;
    let (_, before_b) = get(format!("{b}/api/v1/access-analysis")).await;
    assert_eq!(refusals(&before_a), refusals(&before_b), "both start from the same data");

    // Written through one, read through the other at once: the record and the analysis.
    for i in 0..12u32 {
        let (write, read) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let id = post(write.clone(), denial(f, i + 1)).await;
        let (s, got) = get(format!("{read}/api/v1/access-attempts/{id}")).await;
        assert_eq!((s, got["id"].as_i64()), (200, Some(id)), "written through {write}, read through {read}");
        let (_, from_a) = get(format!("{a}/api/v1/access-analysis")).await;
        let (_, from_b) = get(format!("{b}/api/v1/access-analysis")).await;
        assert_eq!(from_a, from_b, "the analysis is the same through both after write {i}");
        assert_ne!(from_b, before_b, "and it moved");
        // The list's total is kept per data version in each server: a write through one
        // moves it in the other at once.
        let (_, list) = get(format!("{read}/api/v1/access-attempts?facility_id={f}&limit=5")).await;
        assert_eq!(list["total"].as_i64(), Some(i64::from(i) + 2), "{list}");
    }

    // Every delivery exactly once across both workers, the dead server's included once
    // its lease ran out.
    let expected = store_a.deliveries(org, 100).await.expect("deliveries").len();
    assert_eq!(expected, 13, "one delivery per refusal");
    for _ in 0..200 {
        let delivered =
            store_a.deliveries(org, 100).await.expect("log").iter().filter(|d| d.status == "delivered").count();
        if delivered == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let ids = seen.lock().expect("lock").clone();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for id in &ids {
        *counts.entry(id.clone()).or_default() += 1;
    }
    assert_eq!(counts.len(), expected, "every delivery arrived: {ids:?}");
    assert!(counts.values().all(|n| *n == 1), "none twice: {counts:?}");
    assert!(counts.contains_key(&held[0].id.to_string()), "the dead server's delivery was sent by another");
    let log = store_b.deliveries(org, 100).await.expect("log");
    assert!(log.iter().all(|d| d.status == "delivered" && d.attempts == 1), "{log:?}");

    // A sweep run by both servers raises each reminder once (each alert's key is unique
    // per organization).
    let case = vigia_domain::case::validate_case(
        &vigia_domain::input::RawInput::from_json(
            json!({"reference": "S-1", "full_name": "Dos Servidores", "status": "closed"}),
        )
        .expect("json"),
        jiff::civil::date(2024, 1, 1),
    )
    .expect("case");
    store_a.create_case(&Actor::SYSTEM, org, case).await.expect("case");
    let rule = vigia_domain::input::RawInput::from_pairs([("months_after_close", "1")]);
    vigia_app::retention::set_rule(&store_a, &Actor::SYSTEM, org, &rule).await.expect("rule");
    let later = vigia_app::today().checked_add(jiff::Span::new().months(2)).expect("date");
    let (x, y) =
        tokio::join!(vigia_app::retention::sweep(&store_a, later), vigia_app::retention::sweep(&store_b, later));
    assert_eq!(x.expect("a") + y.expect("b"), 1, "one reminder across both");
    assert!(store_b.verify_audit().await.expect("verify").ok());
}
