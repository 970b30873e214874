//! The crash drill: acknowledged writes survive SIGKILL, on SQLite and PostgreSQL.

use serde_json::{json, Value};
use sqlx::Connection;

use super::{Server, TempDir};

/// The crash drill: a client writes facilities and evidence files while the server is
/// killed with SIGKILL at random moments; after each kill every write the server
/// acknowledged must be there, SQLite's integrity check must pass and so must the audit
/// chain. `VIGIA_CRASH_CYCLES` sets the cycles (50 by default; docs/operations.md reports
/// a 1,000-cycle run); `VIGIA_CRASH_SEED` replays a run.
#[test]
fn acknowledged_writes_survive_sigkill() {
    let cycles: u64 = std::env::var("VIGIA_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    crash_drill(None, cycles);
}

/// The same against PostgreSQL, fewer cycles (when VIGIA_TEST_DATABASE_URL is set).
#[test]
fn acknowledged_writes_survive_sigkill_on_postgres() {
    let Some(server) = std::env::var("VIGIA_TEST_DATABASE_URL").ok() else {
        eprintln!("skipped: PostgreSQL crash drill (VIGIA_TEST_DATABASE_URL not set)");
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let db = rt.block_on(vigia_store::testing::TestDb::postgres(&server)).expect("database");
    let cycles: u64 = std::env::var("VIGIA_CRASH_CYCLES_PG").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    crash_drill(Some(db.url.clone()), cycles);
    drop(db);
}

fn crash_drill(database_url: Option<String>, cycles: u64) {
    let t = TempDir::new("crash");
    let dir = t.data();
    let db_args: Vec<String> = database_url.iter().flat_map(|u| ["--database-url".to_string(), u.clone()]).collect();
    let db_args: Vec<&str> = db_args.iter().map(String::as_str).collect();
    let token = super::init_with_token(&dir, &db_args);
    let seed: u64 = std::env::var("VIGIA_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| vigia_store::now_micros() as u64 | 1);
    eprintln!("crash drill: {cycles} cycles, seed {seed}");
    let mut rng = seed;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n.max(1)
    };
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let mut acked_names: Vec<String> = Vec::new();
    let mut acked_files: Vec<(i64, String)> = Vec::new();
    for cycle in 0..cycles {
        let mut server = Server::start_with("serve", &dir, &db_args);
        let delay = 20 + next(200);
        // The writer only stops when the server dies, so every kill lands mid-load.
        let (names, files) = rt.block_on(async {
            let c = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().expect("client");
            let base = server.base.clone();
            let token = token.clone();
            let writer = tokio::spawn(async move {
                let (mut names, mut files) = (Vec::new(), Vec::new());
                for i in 0.. {
                    let name = format!("Centro {cycle}-{i}");
                    let r = c
                        .post(format!("{base}/api/v1/facilities"))
                        .bearer_auth(&token)
                        .json(&json!({"name": name, "kind": "other", "state_code": "07"}))
                        .send()
                        .await;
                    let Ok(r) = r else { break };
                    if r.status() != 201 {
                        break;
                    }
                    names.push(name);
                    let Ok(f) = r.json::<Value>().await else { break };
                    if i % 3 == 0 {
                        let attempt = c
                            .post(format!("{base}/api/v1/access-attempts"))
                            .bearer_auth(&token)
                            .json(&json!({"facility_id": f["id"], "attempted_at": "2020-01-20T10:00", "purpose": "monitoring", "outcome": "denied"}))
                            .send()
                            .await;
                        let Ok(a) = attempt else { break };
                        let Ok(a) = a.json::<Value>().await else { break };
                        let body = format!("%PDF-1.4 oficio {cycle}-{i}");
                        let r = c
                            .post(format!("{base}/api/v1/access-attempts/{}/files?filename=oficio.pdf", a["id"]))
                            .bearer_auth(&token)
                            .body(body.clone().into_bytes())
                            .send()
                            .await;
                        match r {
                            Ok(r) if r.status() == 201 => {
                                files.push((a["id"].as_i64().unwrap_or(0), vigia_domain::audit::sha256_hex(body.as_bytes())))
                            }
                            _ => break,
                        }
                    }
                }
                (names, files)
            });
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            // SIGKILL: no shutdown code runs.
            let _ = server.child.kill();
            let _ = server.child.wait();
            writer.await.expect("writer")
        });
        acked_names.extend(names);
        acked_files.extend(files);
        drop(server);
        rt.block_on(async {
            let keys = vigia_store::keyfile::load(&dir).expect("key");
            let url = database_url.clone().unwrap_or_else(|| vigia_store::sqlite_url(&dir.join("vigia.db")));
            if database_url.is_none() {
                let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
                let check: (String,) =
                    sqlx::query_as("PRAGMA integrity_check").fetch_one(&mut conn).await.expect("pragma");
                assert_eq!(check.0, "ok", "cycle {cycle} (seed {seed}): integrity check");
                conn.close().await.expect("close");
            }
            let store = vigia_store::open(&url, &keys).await.expect("reopen after kill");
            let present: std::collections::HashSet<String> =
                store.list_facilities().await.expect("list").into_iter().map(|f| f.draft.name).collect();
            for n in &acked_names {
                assert!(present.contains(n), "cycle {cycle} (seed {seed}): acknowledged facility {n} lost");
            }
            for (attempt, sha) in &acked_files {
                let files = store.attachments(vigia_domain::RecordType::AccessAttempt, *attempt).await.expect("files");
                assert!(files.iter().any(|f| &f.sha256 == sha), "cycle {cycle} (seed {seed}): acknowledged file lost");
            }
            let report = store.verify_audit().await.expect("verify");
            assert!(report.ok(), "cycle {cycle} (seed {seed}): {:?}", report.problems);
            store.close().await;
        });
    }
    assert!(acked_names.len() as u64 >= cycles, "the load wrote while it was killed");
    eprintln!(
        "crash drill: {cycles} kills under load, {} acknowledged facilities and {} files all present, integrity and audit chain ok",
        acked_names.len(),
        acked_files.len()
    );
}
