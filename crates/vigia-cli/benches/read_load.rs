//! Every read at 50 concurrent clients over the synthetic ten-year dataset (issue #19).
//!
//! 1. Makes the dataset with `vigia synth --scale VIGIA_BENCH_SCALE` (default 1: a
//!    million attempts, 100,000 cases, 100,000 statements, 10,000 visits) in a fresh
//!    data dir, or reuses `VIGIA_BENCH_DATA_DIR` if it already holds one (the dataset
//!    takes a while to write; measuring again needs no new one). With
//!    `VIGIA_BENCH_DATABASE_URL=postgres://…` a fresh PostgreSQL database is used, or
//!    with `VIGIA_BENCH_REUSE_DATABASE=1` that URL's own database as it is (one an
//!    earlier `vigia synth` wrote, at full scale in about twenty minutes, with its keys
//!    in `VIGIA_BENCH_DATA_DIR`).
//! 2. Starts `vigia serve` as its own process (the same binary a deployment runs) and
//!    signs in as the coordinator of an organization in the coalition: a bearer token
//!    for the API, a session for the pages.
//! 3. Sends each request alone, then all of them mixed, from `VIGIA_BENCH_CONCURRENCY`
//!    keep-alive clients (default 50) for `VIGIA_BENCH_SECONDS` each (default 5), and
//!    prints req/s, p50, p95, p99, errors and the ratio to `GET /healthz` measured in the
//!    same run, with the server's resident memory after each scenario and its peak.
//!
//! The clients run on the same two cores as the server, so absolute figures understate
//! a dedicated server; the ratio to /healthz is the comparable part.
//!
//! Run: `cargo bench -p vigia-cli --bench read_load` (`VIGIA_BENCH_ONLY=page,map` for
//! the reads whose names hold one of those words).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

#[path = "common/load.rs"]
mod load;
use load::{drive, MakeRequest};

use vigia_store::testing::TestDb;

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn vigia(data: &Path, url: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigia"));
    c.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("VIGIA_DATA_DIR", data);
    if let Some(u) = url {
        c.env("VIGIA_DATABASE_URL", u);
    }
    c
}

/// The server, stopped when the benchmark ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Resident and peak resident memory of a process, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

/// CPU time a process has used, in seconds (Linux; 0 elsewhere).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and stime are the
    // 12th and 13th of them, in clock ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().filter_map(|v| v.parse().ok()).collect();
    f.get(11).zip(f.get(12)).map_or(0.0, |(u, s)| (u + s) / 100.0)
}

/// Waits until the process has used under a tenth of a core for two seconds running, or
/// `limit` passed; the seconds waited.
async fn quiet(pid: u32, limit: std::time::Duration) -> f64 {
    let start = std::time::Instant::now();
    let mut last = cpu_seconds(pid);
    let mut calm = 0;
    while start.elapsed() < limit && calm < 4 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let now = cpu_seconds(pid);
        calm = if now - last < 0.05 { calm + 1 } else { 0 };
        last = now;
    }
    start.elapsed().as_secs_f64()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port()
}

async fn json(client: &reqwest::Client, url: String, token: &str) -> serde_json::Value {
    let r = client.get(&url).bearer_auth(token).send().await.expect("request");
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.expect("json")
}

/// The ids of a list's items (`items` or the array itself).
fn ids(v: &serde_json::Value, n: usize) -> Vec<i64> {
    let list = v.get("items").or(v.get("data")).unwrap_or(v);
    list.as_array().map(|a| a.iter().filter_map(|x| x["id"].as_i64()).take(n).collect()).unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let scale = env_num("VIGIA_BENCH_SCALE", 1.0);
    let workers = env_num("VIGIA_BENCH_CONCURRENCY", 50.0) as usize;
    let duration = Duration::from_secs_f64(env_num("VIGIA_BENCH_SECONDS", 5.0));
    let reuse = std::env::var("VIGIA_BENCH_REUSE_DATABASE").is_ok_and(|v| v == "1");
    let given = std::env::var("VIGIA_BENCH_DATABASE_URL").ok();
    let pg = match &given {
        Some(url) if !reuse => Some(TestDb::postgres(url).await.expect("PostgreSQL database")),
        _ => None,
    };
    let url = pg.as_ref().map(|db| db.url.clone()).or(given.filter(|_| reuse));
    let scratch = std::env::temp_dir().join(format!("vigia-read-load-{}", std::process::id()));
    let data: PathBuf = match (std::env::var("VIGIA_BENCH_DATA_DIR"), &url) {
        // A reused database keeps its keys in the data dir that wrote it.
        (Ok(d), None) => PathBuf::from(d),
        (Ok(d), Some(_)) if reuse => PathBuf::from(d),
        _ => scratch.join("data"),
    };
    if reuse && url.is_some() {
        println!("Reusing the dataset in the database of VIGIA_BENCH_DATABASE_URL");
    } else if !data.join("vigia.db").exists() || url.is_some() {
        let t = std::time::Instant::now();
        let out = vigia(&data, url.as_deref())
            .args(["synth", "--scale", &scale.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .expect("vigia synth");
        assert!(out.status.success(), "synth failed");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        println!("(dataset written in {:.0} s)", t.elapsed().as_secs_f64());
    } else {
        println!("Reusing the dataset in {}", data.display());
    }
    let token = {
        let out = vigia(&data, url.as_deref())
            .args(["token", "create", "--user", "coordinacion@defensoria.example", "--name", "bench"])
            .output()
            .expect("token");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let port = free_port();
    let server = Server(
        vigia(&data, url.as_deref())
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("vigia serve"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let probe = reqwest::Client::new();
    for _ in 0..600 {
        if probe.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = server.0.id();
    let (session, ..) = load::sign_in(&base, "coordinacion@defensoria.example", vigia_cli::demo::PASSWORD).await;

    // Real ids to read: the busiest facility, attempts, cases, statements.
    let facilities = json(&probe, format!("{base}/api/v1/facilities"), &token).await;
    let facility = ids(&facilities, 1).first().copied().expect("a facility");
    let attempt = ids(&json(&probe, format!("{base}/api/v1/access-attempts?limit=50"), &token).await, 50);
    let case = ids(&json(&probe, format!("{base}/api/v1/cases"), &token).await, 50);
    let statement = ids(&json(&probe, format!("{base}/api/v1/statements"), &token).await, 50);
    let visit = ids(&json(&probe, format!("{base}/api/v1/visits"), &token).await, 50);
    assert!(!attempt.is_empty() && !case.is_empty() && !statement.is_empty(), "the dataset has records");

    type Read = (&'static str, String, bool);
    let pick = |list: &[i64], path: &str| {
        list.first().map(|id| path.replace("{id}", &id.to_string())).unwrap_or_else(|| path.replace("/{id}", ""))
    };
    let reads: Vec<Read> = vec![
        ("GET /api/v1/access-attempts (list)", "/api/v1/access-attempts?limit=50".into(), false),
        (
            "GET /api/v1/access-attempts?facility_id",
            format!("/api/v1/access-attempts?facility_id={facility}&limit=50"),
            false,
        ),
        ("GET /api/v1/access-attempts/{id}", pick(&attempt, "/api/v1/access-attempts/{id}"), false),
        ("GET /api/v1/access-analysis", "/api/v1/access-analysis".into(), false),
        ("GET /api/v1/access-analysis?facility_id", format!("/api/v1/access-analysis?facility_id={facility}"), false),
        ("GET /access/analysis (page)", "/access/analysis".into(), true),
        ("GET /access/map.svg", "/access/map.svg".into(), true),
        ("GET /facilities/{id} (page)", format!("/facilities/{facility}"), true),
        ("GET /api/v1/contradictions?limit=50", "/api/v1/contradictions?limit=50".into(), false),
        ("GET /api/v1/statements?limit=50", "/api/v1/statements?limit=50".into(), false),
        ("GET /api/v1/statements/{id}", pick(&statement, "/api/v1/statements/{id}"), false),
        ("GET /api/v1/cases?limit=50", "/api/v1/cases?limit=50".into(), false),
        ("GET /api/v1/cases/{id} (timeline)", pick(&case, "/api/v1/cases/{id}"), false),
        ("GET /api/v1/today", "/api/v1/today?scope=org".into(), false),
        ("GET /api/v1/visits?limit=50", "/api/v1/visits?limit=50".into(), false),
        ("GET /api/v1/visits/{id}", pick(&visit, "/api/v1/visits/{id}"), false),
        ("GET /api/v1/statistics/timeline", "/api/v1/statistics/timeline".into(), false),
    ];
    // `VIGIA_BENCH_ONLY=page,map`: only the reads whose names hold one of these (the
    // mix of them too), to look at a few closely.
    let only = std::env::var("VIGIA_BENCH_ONLY").unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
    let reads: Vec<Read> =
        reads.into_iter().filter(|(name, ..)| only.is_empty() || only.iter().any(|o| name.contains(o))).collect();
    // Every read answers before the load starts: a failing one is a defect, not a figure.
    for (name, path, page) in &reads {
        let r = if *page {
            probe.get(format!("{base}{path}")).header("cookie", &session)
        } else {
            probe.get(format!("{base}{path}")).bearer_auth(&token)
        };
        let r = r.send().await.expect("request");
        assert_eq!(r.status(), 200, "{name}: {}", r.text().await.unwrap_or_default());
    }

    // The worker's first pass (the deadline, request and retention sweeps over every
    // open case, the episode scan) takes seconds of one core after a start: measured
    // during it, the first scenarios read what the worker left them. Wait until the
    // server has used under a tenth of a core for two seconds (at most two minutes).
    let settled = quiet(pid, std::time::Duration::from_secs(120)).await;
    let (rss0, _) = memory(pid);
    println!(
        "Vigía reads under load: backend {}, scale {scale}, {workers} clients, {}s per scenario, server pid {pid} (RSS {rss0:.0} MiB at start, idle after {settled:.0} s)",
        if url.is_some() { "postgres" } else { "sqlite" },
        duration.as_secs_f64()
    );
    let request = |path: String, page: bool| -> MakeRequest {
        let (b, t, s) = (base.clone(), token.clone(), session.clone());
        Arc::new(move |c: &reqwest::Client| {
            let r = c.get(format!("{b}{path}"));
            if page {
                r.header("cookie", &s)
            } else {
                r.bearer_auth(&t)
            }
        })
    };
    let mut rows = Vec::new();
    let b = base.clone();
    let health =
        drive("GET /healthz (baseline)", workers, duration, 200, Arc::new(move |c| c.get(format!("{b}/healthz"))))
            .await;
    rows.push((health, memory(pid).0));
    for (name, path, page) in &reads {
        let o = drive(name, workers, duration, 200, request(path.clone(), *page)).await;
        rows.push((o, memory(pid).0));
    }
    // The mix: each client goes round the reads, starting at a different one.
    let mixed: Vec<MakeRequest> = reads.iter().map(|(_, p, page)| request(p.clone(), *page)).collect();
    let turn = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mix: MakeRequest = Arc::new(move |c| {
        let i = turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        mixed[i % mixed.len()](c)
    });
    let o = drive("mix of all the reads above", workers, duration, 200, mix).await;
    rows.push((o, memory(pid).0));

    let base_rps = rows[0].0.rps();
    println!(
        "{:<44} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8} {:>8}",
        "request", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "ratio", "RSS MiB"
    );
    for (r, rss) in &rows {
        println!(
            "{:<44} {:>8.0} {:>8.1} {:>8.1} {:>8.1} {:>7} {:>8.3} {:>8.0}",
            r.name,
            r.rps(),
            r.p50_ms,
            r.p95_ms,
            r.p99_ms,
            r.errors,
            r.rps() / base_rps,
            rss
        );
    }
    let over: Vec<_> = rows.iter().filter(|(r, _)| r.p95_ms >= 50.0).map(|(r, _)| r.name).collect();
    let (_, peak) = memory(pid);
    println!(
        "server peak RSS: {peak:.0} MiB; p95 at or over 50 ms: {}",
        if over.is_empty() { "none".into() } else { over.join(", ") }
    );
    drop(server);
    drop(pg);
    let _ = std::fs::remove_dir_all(&scratch);
}
