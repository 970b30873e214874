//! HTTP throughput under concurrent load on loopback (issue: foundation benchmark).
//!
//! Starts the server in-process on the demo dataset, then drives each scenario with
//! `VIGIA_BENCH_CONCURRENCY` workers (default 32) for `VIGIA_BENCH_SECONDS` (default 5)
//! and prints requests per second, latency percentiles and the ratio to the static
//! `/healthz` baseline measured in the same run. The load generator shares the
//! machine's cores with the server, so absolute figures understate a dedicated server;
//! the ratios are the comparable part. Set `VIGIA_BENCH_DATABASE_URL=postgres://…` to
//! run against PostgreSQL (a fresh database is made there).
//!
//! Run: `cargo bench -p vigia-cli --bench http_load` (or `bench/run.sh`).

use std::sync::Arc;
use std::time::Duration;

#[path = "common/load.rs"]
mod load;
use load::drive;

use vigia_store::testing::TestDb;
use vigia_store::{secrets, Actor, MasterKey};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let workers = env_num("VIGIA_BENCH_CONCURRENCY", 32) as usize;
    let duration = Duration::from_secs(env_num("VIGIA_BENCH_SECONDS", 5));
    let db = match std::env::var("VIGIA_BENCH_DATABASE_URL") {
        Ok(url) => TestDb::postgres(&url).await.expect("PostgreSQL database"),
        Err(_) => TestDb::sqlite(),
    };
    let store = vigia_store::open(&db.url, &[MasterKey::generate().expect("key")]).await.expect("store");
    vigia_cli::demo::seed(&store).await.expect("demo data");
    let facilities = store.list_facilities().await.expect("facilities").len();
    let (user, _) = store.user_by_email("monitoreo@defensoria.example").await.expect("lookup").expect("demo user");
    let token = secrets::new_token("vga_").expect("token");
    store.create_api_token(&Actor::user(&user), user.id, "bench", &secrets::token_hash(&token)).await.expect("token");
    let addr = vigia_web::spawn(store.clone(), vigia_web::Config { max_failed_logins: i64::MAX, ..Default::default() })
        .await
        .expect("server");
    let base = format!("http://{addr}");

    // A session for the HTML page, and a CSRF cookie + token for the login form.
    let (session_cookie, cookie, login_form) =
        load::sign_in(&base, "monitoreo@defensoria.example", vigia_cli::demo::PASSWORD).await;

    println!("Vigía HTTP load: backend {}, {facilities} facilities, {workers} workers, {}s per scenario, loopback, load generator in-process", store.backend().as_str(), duration.as_secs());
    let mut results = Vec::new();
    let b = base.clone();
    results.push(
        drive("GET /healthz (baseline)", workers, duration, 200, Arc::new(move |c| c.get(format!("{b}/healthz"))))
            .await,
    );
    let b = base.clone();
    let t = token.clone();
    results.push(
        drive(
            "GET /api/v1/facilities (Bearer)",
            workers,
            duration,
            200,
            Arc::new(move |c| c.get(format!("{b}/api/v1/facilities")).bearer_auth(&t)),
        )
        .await,
    );
    let b = base.clone();
    let sc = session_cookie.clone();
    results.push(
        drive(
            "GET /facilities (HTML, session)",
            workers,
            duration,
            200,
            Arc::new(move |c| c.get(format!("{b}/facilities")).header("cookie", &sc)),
        )
        .await,
    );
    let b = base.clone();
    results.push(
        drive(
            "POST /login (argon2id m=19MiB t=2)",
            workers,
            duration,
            303,
            Arc::new(move |c| {
                c.post(format!("{b}/login"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("cookie", &cookie)
                    .body(login_form.clone())
            }),
        )
        .await,
    );
    let base_rps = results[0].rps();
    println!(
        "{:<40} {:>10} {:>9} {:>9} {:>8} {:>16}",
        "scenario", "req/s", "p50 ms", "p95 ms", "errors", "ratio to healthz"
    );
    for r in &results {
        println!(
            "{:<40} {:>10.0} {:>9.2} {:>9.2} {:>8} {:>16.3}",
            r.name,
            r.rps(),
            r.p50_ms,
            r.p95_ms,
            r.errors,
            r.rps() / base_rps
        );
    }
    drop(db);
}
