//! One request, a million attempts (issue #19): `POST /api/v1/access-attempts/import`
//! with the file sent as it is generated (chunked, 64 KiB at a time, never whole in
//! memory on either side), through the real server in this process.
//!
//! Prints, for 100,000 rows and then for 1,000,000 (`VIGIA_BENCH_ROWS`):
//! - the import's time and rows/s, with the ratio to the baseline measured in the same
//!   run: reading and checking the same rows alone (the domain's parser over the bytes in
//!   memory; no HTTP, no spool, no store);
//! - the process's resident memory (VmRSS, sampled every 20 ms) before and at its peak
//!   during the import. What grows with the file is the duplicate check's key per row;
//!   a buffered body would add the file itself (~75 MB) and its parsed rows.
//!
//!
//! Then the whole list downloaded (`GET /access.csv` and `/access.jsonl`, every attempt
//! the coordinator may see, the body counted as it arrives and dropped), with the ratio
//! to reading the same rows from the store alone in batches of a thousand (no HTTP, no
//! formatting), and the memory's peak meanwhile.
//!
//! Run: `cargo bench -p vigia-cli --bench import_stream`; with
//! `VIGIA_BENCH_DATABASE_URL=postgres://…` on PostgreSQL (a fresh database is made).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigia_store::testing::TestDb;
use vigia_store::{secrets, Actor, MasterKey};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Row `i` of a file of attempts at `facilities`: each facility's rows five minutes
/// apart in the daytime (06:00–20:55, no clock change falls there), from `year`.
fn row(i: usize, facilities: &[i64], year: i16, out: &mut String) {
    use std::fmt::Write;
    let n = facilities.len();
    let k = i / n;
    let day = jiff::civil::date(year, 1, 1) + jiff::Span::new().days((k / 180) as i64);
    let minute = 360 + (k % 180) * 5;
    let purposes = ["legal_assistance", "monitoring", "religious", "humanitarian", "medical"];
    let outcomes = ["granted", "denied", "partially_granted"];
    let _ = writeln!(
        out,
        "{},{day}T{:02}:{:02},{},{},3",
        facilities[i % n],
        minute / 60,
        minute % 60,
        purposes[i % purposes.len()],
        outcomes[(i / 7) % outcomes.len()]
    );
}

const HEADER: &str = "facility_id,attempted_at,purpose,outcome,team_size\n";

/// The process's resident memory at its highest, sampled every 20 ms on a thread of its
/// own while something runs (not by the code measured, which it would slow).
struct Peak {
    peak: Arc<AtomicU64>,
    on: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Peak {
    fn sample(before: f64) -> Peak {
        let peak = Arc::new(AtomicU64::new(before.to_bits()));
        let on = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (p, running) = (peak.clone(), on.clone());
        let thread = std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                let now = rss_mib();
                if now > f64::from_bits(p.load(Ordering::Relaxed)) {
                    p.store(now.to_bits(), Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Peak { peak, on, thread }
    }

    /// Stops sampling; the highest reading, in MiB.
    fn stop(self) -> f64 {
        self.on.store(false, Ordering::Relaxed);
        let _ = self.thread.join();
        f64::from_bits(self.peak.load(Ordering::Relaxed))
    }
}

/// The process's resident memory now, in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// Sends `rows` rows as one chunked request, generated as they go; the answer's status
/// and body.
async fn upload(addr: std::net::SocketAddr, token: &str, rows: usize, facilities: &[i64], year: i16) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/access-attempts/import HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let mut piece = String::from(HEADER);
    let mut i = 0;
    while i < rows {
        while piece.len() < 64 * 1024 && i < rows {
            row(i, facilities, year, &mut piece);
            i += 1;
        }
        let chunk = format!("{:x}\r\n{piece}\r\n", piece.len());
        stream.write_all(chunk.as_bytes()).await.expect("chunk");
        piece.clear();
    }
    stream.write_all(b"0\r\n\r\n").await.expect("end");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("answer");
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

#[tokio::main]
async fn main() {
    let most = env_num("VIGIA_BENCH_ROWS", 1_000_000) as usize;
    let db = match std::env::var("VIGIA_BENCH_DATABASE_URL") {
        Ok(url) => TestDb::postgres(&url).await.expect("PostgreSQL database"),
        Err(_) => TestDb::sqlite(),
    };
    let store = vigia_store::open(&db.url, &[MasterKey::generate().expect("key")]).await.expect("store");
    vigia_cli::demo::seed(&store).await.expect("demo data");
    let facilities: Vec<i64> = store.list_facilities().await.expect("facilities").iter().map(|f| f.id).collect();
    let (user, _) = store.user_by_email("coordinacion@defensoria.example").await.expect("lookup").expect("demo user");
    let token = secrets::new_token("vga_").expect("token");
    store.create_api_token(&Actor::user(&user), user.id, "bench", &secrets::token_hash(&token)).await.expect("token");
    let addr = vigia_web::spawn(store.clone(), vigia_web::Config::default()).await.expect("server");
    println!(
        "Vigía streamed import: backend {}, one request per file, {} facilities",
        store.backend().as_str(),
        facilities.len()
    );
    println!("| rows | file MB | import s | rows/s | baseline rows/s (read and check alone) | ratio | RSS before MiB | RSS peak MiB | growth MiB |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut year = 2005;
    for rows in [most / 10, most] {
        // The import, with the memory sampled meanwhile.
        let before = rss_mib();
        let sampler = Peak::sample(before);
        let t = Instant::now();
        let (status, answer) = upload(addr, &token, rows, &facilities, year).await;
        let import_s = t.elapsed().as_secs_f64();
        let peak = sampler.stop();
        assert_eq!(status, 201, "{}", answer.chars().take(2_000).collect::<String>());

        // The baseline: the same rows read and checked alone, from memory.
        let mut csv = String::from(HEADER);
        for i in 0..rows {
            row(i, &facilities, year, &mut csv);
        }
        let zones = store.list_facilities().await.expect("facilities");
        let t = Instant::now();
        let checked = vigia_domain::import::attempts_csv_each(
            csv.as_bytes(),
            vigia_app::imports::resolver(zones),
            vigia_store::now_micros(),
            |_| {},
        );
        let parse_s = t.elapsed().as_secs_f64();
        assert_eq!(checked, Ok(rows));
        let (rate, base) = (rows as f64 / import_s, rows as f64 / parse_s);
        println!(
            "| {rows} | {:.1} | {import_s:.2} | {rate:.0} | {base:.0} | {:.2} | {before:.0} | {peak:.0} | {:.0} |",
            csv.len() as f64 / 1e6,
            rate / base,
            peak - before
        );
        year += 4;
    }

    // The whole list, downloaded.
    println!();
    println!(
        "| download | rows | MB | s | rows/s | baseline s (store reads alone) | ratio | RSS before MiB | peak MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let t = Instant::now();
    let mut filter = vigia_domain::access::AttemptFilter { limit: 1000, ..Default::default() };
    let mut stored = 0usize;
    loop {
        let page = store.list_attempts(user.org_id, &filter).await.expect("list");
        stored += page.len();
        match page.last() {
            Some(a) if page.len() == 1000 => {
                filter.after = Some(vigia_domain::paging::Cursor::after(a.draft.attempted_at, a.id))
            }
            _ => break,
        }
    }
    let base_s = t.elapsed().as_secs_f64();
    let client = reqwest::Client::new();
    for path in ["/access.csv", "/access.jsonl"] {
        let before = rss_mib();
        // Memory sampled beside the download, not by the reading client (reading /proc
        // for each of some 15,000 chunks took a core's time from it).
        let sampler = Peak::sample(before);
        let t = Instant::now();
        let mut r = client.get(format!("http://{addr}{path}")).bearer_auth(&token).send().await.expect("download");
        assert_eq!(r.status(), 200);
        let (mut bytes, mut lines) = (0usize, 0usize);
        while let Some(chunk) = r.chunk().await.expect("chunk") {
            bytes += chunk.len();
            lines += chunk.iter().filter(|b| **b == b'\n').count();
        }
        let secs = t.elapsed().as_secs_f64();
        let peak = sampler.stop();
        let rows = if path.ends_with(".csv") { lines - 1 } else { lines };
        assert_eq!(rows, stored, "every row the store holds for the viewer");
        println!(
            "| {path} | {rows} | {:.1} | {secs:.2} | {:.0} | {base_s:.2} | {:.2} | {before:.0} | {peak:.0} |",
            bytes as f64 / 1e6,
            rows as f64 / secs,
            secs / base_s
        );
    }
}
