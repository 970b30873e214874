//! Access monitoring at a million attempts (issue #3): import speed and the latency of
//! the analysis dashboard and the denial-rate API over those rows.
//!
//! 1. Generates 1,000,000 attempts (`VIGIA_BENCH_ROWS`) as one CSV per demo
//!    organization, over 2019–2025 at the 19 demo facilities, each facility with its
//!    own refusal habit and a ten-day closing in March 2024, then imports them the way
//!    `POST /api/v1/access-attempts/import` does (`import_attempts_csv`: rows read and
//!    validated on one thread, written as they come, one transaction and one audit
//!    entry per file). Prints rows/s with the ratio to reading and validating alone
//!    (the baseline: no storage); the store alone, given rows read beforehand (into a
//!    scratch copy of the demo); and, on SQLite, two floors written raw with nothing
//!    else: the same rows alone, and the same rows with an audit row each (what an
//!    import wrote before it had one entry per file); on PostgreSQL, one floor: the
//!    server writing as many rows itself into the app's schema. `VIGIA_BENCH_IMPORT_ONLY=1`
//!    stops here.
//! 2. Serves the result in-process and asks, one request at a time, the dashboard
//!    (`GET /access/analysis`, signed in) and the denial-rate query
//!    (`GET /api/v1/access-analysis`, all time and filtered), printing p50/p95 with the
//!    ratio to `GET /healthz`; and, as the "before" figure, what the page did until
//!    this change on every request: load the newest 100,000 attempts. Then the
//!    coalition's period report for 2024 (issue #17, target under 5 s), as JSON, as a
//!    PDF, and as a PDF right after a new attempt (nothing cached can be used).
//!
//! Run: `cargo bench -p vigia-cli --bench access_scale`; with
//! `VIGIA_BENCH_DATABASE_URL=postgres://…` on PostgreSQL (a fresh database is made).

use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/load.rs"]
mod load;

use vigia_cli::demo::Rng;
use vigia_store::testing::TestDb;
use vigia_store::{secrets, Actor, MasterKey};

/// Writes out what earlier steps left dirty in the page cache, so that each timed step
/// starts from a quiet disk instead of paying for the one before it.
fn settle() {
    let _ = std::process::Command::new("sync").status();
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// How a file of `rows` attempts spreads over about seven years: rows per day, and
/// the minutes between them (daytime only, 06:00–21:00, so no row falls in a DST gap).
fn spacing(rows: usize) -> (usize, i64) {
    let per_day = rows.div_ceil(2_555).max(1);
    (per_day, (900 / per_day).max(1) as i64)
}

/// One organization's CSV: `rows` attempts, minutes apart, from 2019-01-01.
fn csv_for(org: usize, rows: usize, facilities: &[i64], rng: &mut Rng) -> Vec<u8> {
    let purposes = ["legal_assistance", "monitoring", "religious", "humanitarian", "medical", "other"];
    let first = jiff::civil::date(2019, 1, 1);
    let closing = (jiff::civil::date(2024, 3, 4), jiff::civil::date(2024, 3, 13));
    // A few minutes apart: every row of a file is distinct.
    let (per_day, minutes) = spacing(rows);
    let mut out = String::with_capacity(rows * 80);
    out.push_str("facility_id,attempted_at,purpose,team_size,outcome,reason_category,visibility\n");
    for i in 0..rows {
        let day = first.checked_add(jiff::Span::new().days((i / per_day) as i64)).unwrap_or(first);
        let at = day
            .to_datetime(jiff::civil::time(6, 0, 0, 0))
            .checked_add(jiff::Span::new().minutes((i % per_day) as i64 * minutes + org as i64 % minutes.max(1)))
            .unwrap_or(day.to_datetime(jiff::civil::time(6, 0, 0, 0)));
        // Organizations work mostly with a few facilities of their region.
        let f = if rng.below(4) == 0 {
            facilities[rng.below(facilities.len() as u64) as usize]
        } else {
            facilities[(org * 3 + rng.below(4) as usize) % facilities.len()]
        };
        let habit = 5 + (f as u64 * 7) % 25;
        let closed = at.date() >= closing.0 && at.date() <= closing.1 && f % 3 != 0;
        let refused = rng.below(100) < if closed { 85 } else { habit };
        let outcome = if refused {
            ["denied", "denied", "no_response", "cancelled_by_authority"][rng.below(4) as usize]
        } else {
            ["granted", "granted", "granted", "partially_granted", "delayed"][rng.below(5) as usize]
        };
        let reason = if refused { "orders_from_above" } else { "" };
        let purpose = purposes[[0, 0, 0, 1, 1, 2, 3, 4, 5][rng.below(9) as usize]];
        let visibility = if rng.below(10) == 0 { "private" } else { "coalition" };
        out.push_str(&format!(
            "{f},{},{purpose},{},{outcome},{reason},{visibility}\n",
            at.strftime("%Y-%m-%dT%H:%M"),
            1 + rng.below(4)
        ));
    }
    out.into_bytes()
}

struct Latency {
    name: String,
    p50_ms: f64,
    p95_ms: f64,
}

async fn measure<F, Fut, T>(name: &str, n: usize, mut call: F) -> Latency
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    call().await; // warm the connection and caches once, not counted
    let mut lat: Vec<Duration> = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        call().await;
        lat.push(t.elapsed());
    }
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0;
    Latency { name: name.to_string(), p50_ms: pct(0.50), p95_ms: pct(0.95) }
}

async fn get_ok(client: &reqwest::Client, req: reqwest::RequestBuilder) -> usize {
    let r = client.execute(req.build().expect("request")).await.expect("response");
    assert_eq!(r.status(), 200, "{}", r.url());
    r.bytes().await.expect("body").len()
}

#[tokio::main]
async fn main() {
    let total_rows = env_num("VIGIA_BENCH_ROWS", 1_000_000) as usize;
    let samples = env_num("VIGIA_BENCH_SAMPLES", 40) as usize;
    let db = match std::env::var("VIGIA_BENCH_DATABASE_URL") {
        Ok(url) => TestDb::postgres(&url).await.expect("PostgreSQL database"),
        Err(_) => TestDb::sqlite(),
    };
    let store = vigia_store::open(&db.url, &[MasterKey::generate().expect("key")]).await.expect("store");
    vigia_cli::demo::seed(&store).await.expect("demo data");
    let facilities = store.list_facilities().await.expect("facilities");
    let ids: Vec<i64> = facilities.iter().map(|f| f.id).collect();
    let orgs = store.list_orgs().await.expect("orgs");
    let (user, _) = store.user_by_email("coordinacion@defensoria.example").await.expect("lookup").expect("demo user");
    let actor = Actor::user(&user);
    println!(
        "Vigía access at scale: backend {}, {total_rows} generated attempts from {} organizations at {} facilities",
        store.backend().as_str(),
        orgs.len(),
        ids.len()
    );

    // 1. Import.
    let mut rng = Rng(0x00c0_ffee_2024);
    let per_file: Vec<usize> =
        (0..orgs.len()).map(|i| total_rows / orgs.len() + usize::from(i < total_rows % orgs.len())).collect();
    let files: Vec<Vec<u8>> = per_file.iter().enumerate().map(|(i, rows)| csv_for(i, *rows, &ids, &mut rng)).collect();
    let bytes: usize = files.iter().map(Vec::len).sum();
    let now = vigia_store::now_micros();
    let resolve = vigia_app::imports::resolver(facilities.clone());
    let t = Instant::now();
    let mut parsed = Vec::with_capacity(files.len());
    for f in &files {
        parsed.push(vigia_domain::import::attempts_csv(f, &resolve, now).expect("valid rows"));
    }
    let parse_s = t.elapsed().as_secs_f64();
    let floors = if store.backend() == vigia_store::Backend::Sqlite {
        Some((sqlite_floor(&parsed, false).await, sqlite_floor(&parsed, true).await))
    } else {
        None
    };
    let pg_floor = match std::env::var("VIGIA_BENCH_DATABASE_URL") {
        Ok(url) => Some(postgres_floor(&url, &per_file).await),
        Err(_) => None,
    };
    // The store alone, given rows read beforehand, into a scratch copy of the demo.
    let stored_s = {
        let scratch_db = match std::env::var("VIGIA_BENCH_DATABASE_URL") {
            Ok(url) => TestDb::postgres(&url).await.expect("PostgreSQL database"),
            Err(_) => TestDb::sqlite(),
        };
        let scratch = vigia_store::open(&scratch_db.url, &[MasterKey::generate().expect("key")]).await.expect("store");
        vigia_cli::demo::seed(&scratch).await.expect("demo data");
        let mut seconds = 0.0;
        settle();
        for (org, drafts) in orgs.iter().zip(parsed) {
            let n = drafts.len();
            let s = Instant::now();
            assert_eq!(scratch.import_attempts(&actor, org.id, drafts).await.expect("import").row_count as usize, n);
            seconds += s.elapsed().as_secs_f64();
        }
        seconds
    };
    // End to end as the import API does it: reading and validating on one thread while
    // the store writes what was read.
    let mut imported = 0;
    settle();
    let t = Instant::now();
    for (org, f) in orgs.iter().zip(&files) {
        let read = vigia_app::imports::import_attempts_csv(&store, facilities.clone(), &actor, org.id, f.clone());
        imported += read.await.expect("import").expect("valid rows").row_count as usize;
    }
    let import_s = t.elapsed().as_secs_f64();
    assert_eq!(imported, total_rows);
    let rate = |s: f64| total_rows as f64 / s;
    println!("\nimport ({:.0} MB of CSV, {} files, all-or-nothing per file)", bytes as f64 / 1e6, files.len());
    println!("{:<52} {:>9} {:>12} {:>10}", "step", "seconds", "rows/s", "ratio");
    println!("{:<52} {:>9.2} {:>12.0} {:>10.3}", "read + validate only (baseline)", parse_s, rate(parse_s), 1.0);
    if let Some((rows, with_audit)) = floors {
        for (what, f) in [
            ("SQLite floor: the same rows raw, nothing else", rows),
            ("SQLite floor: the same rows + an audit row each", with_audit),
        ] {
            println!("{:<52} {:>9.2} {:>12.0} {:>10.3}", what, f, rate(f), rate(f) / rate(parse_s));
        }
    }
    if let Some(f) = pg_floor {
        let what = "PostgreSQL floor: the server writes the rows itself";
        println!("{:<52} {:>9.2} {:>12.0} {:>10.3}", what, f, rate(f), rate(f) / rate(parse_s));
    }
    println!(
        "{:<52} {:>9.2} {:>12.0} {:>10.3}",
        "store only (rows, audit chain, daily counts)",
        stored_s,
        rate(stored_s),
        rate(stored_s) / rate(parse_s)
    );
    println!(
        "{:<52} {:>9.2} {:>12.0} {:>10.3}",
        "import end to end (read, validate, store)",
        import_s,
        rate(import_s),
        rate(import_s) / rate(parse_s)
    );

    if std::env::var_os("VIGIA_BENCH_IMPORT_ONLY").is_some() {
        return;
    }

    // 2. Latency over the million rows.
    let token = secrets::new_token("vga_").expect("token");
    store.create_api_token(&actor, user.id, "bench", &secrets::token_hash(&token)).await.expect("token");
    let addr = vigia_web::spawn(store.clone(), vigia_web::Config { max_failed_logins: i64::MAX, ..Default::default() })
        .await
        .expect("server");
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let session = {
        let jar = reqwest::Client::builder().cookie_store(true).build().expect("client");
        let login = jar.get(format!("{base}/login")).send().await.expect("login").text().await.expect("t");
        let csrf = login
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("csrf field")
            .to_string();
        let r = jar
            .post(format!("{base}/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "coordinacion@defensoria.example"),
                ("password", vigia_cli::demo::PASSWORD),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200, "signed in");
        jar
    };
    let api = |q: &str| http.get(format!("{base}/api/v1/access-analysis{q}")).bearer_auth(&token);
    let all: serde_json::Value = api("").send().await.expect("api").json().await.expect("json");
    println!(
        "\nthe coordinator sees {} attempts; {} suspected suspensions flagged",
        all["attempts"],
        all["episodes"].as_array().map(Vec::len).unwrap_or(0)
    );
    for e in all["episodes"].as_array().into_iter().flatten() {
        println!("  {} → {}: {} refusals of {} attempts", e["start"], e["end"], e["refusals"], e["attempts"]);
    }
    let mut results = Vec::new();
    results
        .push(measure("GET /healthz (baseline)", samples, || get_ok(&http, http.get(format!("{base}/healthz")))).await);
    results.push(
        measure("GET /access/analysis (dashboard, signed in)", samples, || {
            get_ok(&session, session.get(format!("{base}/access/analysis")))
        })
        .await,
    );
    results.push(measure("GET /api/v1/access-analysis (all time)", samples, || get_ok(&http, api(""))).await);
    let filtered = "?state=07&purpose=monitoring&from=2023-01-01&until=2024-12-31&compare=2024-03-04";
    results.push(
        measure("GET /api/v1/access-analysis (state, purpose, period, compare)", samples, || {
            get_ok(&http, api(filtered))
        })
        .await,
    );
    // A busy facility's page: its calendar of outcomes for one year.
    let busiest = ids[0];
    results.push(
        measure("GET /facilities/{id}?year=2024 (outcome calendar)", samples, || {
            get_ok(&session, session.get(format!("{base}/facilities/{busiest}?year=2024")))
        })
        .await,
    );
    // Cold: every view follows a new attempt, so nothing cached can be used.
    let facility = ids[0];
    let mut draft = vigia_domain::access::AttemptDraft {
        facility_id: facility,
        requested_at: None,
        attempted_at: vigia_store::now_micros() - 3_600_000_000,
        purpose: vigia_domain::access::Purpose::Monitoring,
        team_size: 2,
        people_to_see: None,
        outcome: vigia_domain::access::Outcome::Denied,
        reason_category: None,
        reason_text: None,
        official: None,
        restrictions: Vec::new(),
        notes: None,
        visibility: vigia_domain::access::Visibility::Coalition,
    };
    let (st, sess) = (&store, &session);
    results.push(
        measure("GET /access/analysis right after a new attempt (cold)", samples.min(20), || {
            draft.attempted_at += 60_000_000;
            let d = draft.clone();
            let url = format!("{base}/access/analysis");
            async move {
                st.create_attempt(&actor, user.org_id, d).await.expect("attempt");
                get_ok(sess, sess.get(url)).await
            }
        })
        .await,
    );
    let old_filter = vigia_domain::access::AttemptFilter { limit: 100_000, ..Default::default() };
    let old_samples = samples.min(10);
    let s = &store;
    let old = measure("before: loading the newest 100,000 attempts (old page)", old_samples, || async {
        assert!(!s.list_attempts(user.org_id, &old_filter).await.expect("list").is_empty());
    })
    .await;
    results.push(old);
    let old_calendar =
        vigia_domain::access::AttemptFilter { facility_id: Some(busiest), limit: 100_000, ..Default::default() };
    let old = measure("before: the facility page's read, all its attempts (≤ 100,000)", old_samples, || async {
        assert!(!s.list_attempts(user.org_id, &old_calendar).await.expect("list").is_empty());
    })
    .await;
    results.push(old);
    // Reports (issue #17: a coalition period report over a million attempts in under
    // 5 s): the year's figures as JSON, then drawn as a PDF; and cold, right after a new
    // attempt, when nothing computed before can be used.
    let report = |format: &str| {
        http.get(format!("{base}/api/v1/reports/period?scope=coalition&year=2024&format={format}")).bearer_auth(&token)
    };
    let report_samples = samples.min(10);
    results.push(
        measure("GET /api/v1/reports/period coalition 2024 (JSON)", report_samples, || get_ok(&http, report("json")))
            .await,
    );
    results.push(
        measure("GET /api/v1/reports/period coalition 2024 (PDF)", report_samples, || get_ok(&http, report("pdf")))
            .await,
    );
    let st = &store;
    results.push(
        measure("GET /api/v1/reports/period coalition 2024 (PDF) after a new attempt", report_samples, || {
            draft.attempted_at += 60_000_000;
            let d = draft.clone();
            let req = report("pdf");
            let h = &http;
            async move {
                st.create_attempt(&actor, user.org_id, d).await.expect("attempt");
                get_ok(h, req).await
            }
        })
        .await,
    );
    let base_p50 = results[0].p50_ms;
    println!("\n{:<66} {:>9} {:>9} {:>14}", "request (one at a time)", "p50 ms", "p95 ms", "p50 / healthz");
    for r in &results {
        println!("{:<66} {:>9.2} {:>9.2} {:>14.1}", r.name, r.p50_ms, r.p95_ms, r.p50_ms / base_p50);
    }

    // 3. Contradictions at this scale with concurrent clients (issue 14, finding 19:
    // p95 under 50 ms at a million attempts). The demo's statements say access was
    // open from January 2020 on, so words against practice cite years of refusals.
    let workers = env_num("VIGIA_BENCH_CONCURRENCY", 32) as usize;
    let duration = Duration::from_secs(env_num("VIGIA_BENCH_SECONDS", 5));
    let found: serde_json::Value = http
        .get(format!("{base}/api/v1/contradictions"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let items = found["items"].as_array().cloned().unwrap_or_default();
    let cited: i64 = items.iter().filter_map(|d| d["refusals"].as_i64()).max().unwrap_or(0);
    println!("\n{} detections; the largest words against practice counts {cited} refusals", items.len());
    let b = base.clone();
    let health = load::drive(
        "GET /healthz (baseline)",
        workers,
        duration,
        200,
        Arc::new(move |c| c.get(format!("{b}/healthz"))),
    )
    .await;
    let (b, t) = (base.clone(), token.clone());
    let now = load::drive(
        "GET /api/v1/contradictions",
        workers,
        duration,
        200,
        Arc::new(move |c| c.get(format!("{b}/api/v1/contradictions")).bearer_auth(&t)),
    )
    .await;
    // Where a page of one facility's attempts spends its time on this dataset (issue
    // #19): the plans of its two queries, and the page one request at a time.
    if db.backend == vigia_store::Backend::Postgres && std::env::var("VIGIA_BENCH_EXPLAIN").is_ok() {
        use sqlx::{Connection, Row};
        let mut c = sqlx::PgConnection::connect(&db.url).await.expect("explain connection");
        let visible = format!(
            "(a.org_id = {v} OR (a.visibility = 'coalition' AND a.org_id IN (SELECT m1.org_id FROM coalition_members m1 \
             JOIN coalition_members m2 ON m1.coalition_id = m2.coalition_id WHERE m2.org_id = {v})))",
            v = user.org_id
        );
        for q in [
            format!("SELECT a.* FROM access_attempts a WHERE {visible} AND a.facility_id = {busiest} ORDER BY a.attempted_at DESC, a.id DESC LIMIT 51"),
            format!("SELECT COUNT(*) FROM access_attempts a WHERE {visible} AND a.facility_id = {busiest}"),
        ] {
            println!("\nEXPLAIN ANALYZE {}", &q[..60]);
            for r in sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN (ANALYZE, BUFFERS) {q}"))).fetch_all(&mut c).await.expect("explain") {
                println!("  {}", r.get::<String, _>(0));
            }
        }
        let one = measure("GET /api/v1/access-attempts?facility_id=…&limit=50 (one at a time)", 20, || {
            get_ok(
                &http,
                http.get(format!("{base}/api/v1/access-attempts?facility_id={busiest}&limit=50")).bearer_auth(&token),
            )
        })
        .await;
        println!("{}: p50 {:.2} ms, p95 {:.2} ms", one.name, one.p50_ms, one.p95_ms);
    }
    // A page of one busy facility's attempts with its total (issue #19: 55 req/s and a
    // p95 of 1.1 s at 50 clients on PostgreSQL, from counting the facility's attempts
    // row by row on every page).
    let (b, t) = (base.clone(), token.clone());
    let page = load::drive(
        "GET /api/v1/access-attempts?facility_id=…&limit=50",
        workers,
        duration,
        200,
        Arc::new(move |c| c.get(format!("{b}/api/v1/access-attempts?facility_id={busiest}&limit=50")).bearer_auth(&t)),
    )
    .await;
    // Before: what every request did until this change — read the newest 100,000
    // attempts the viewer may see (silently fewer than all), one refusal each, and run
    // the rule over them — from as many clients at once, for the same time.
    let statements: Vec<_> = store.statements().await.expect("statements").iter().map(|s| s.facts()).collect();
    let states: std::collections::BTreeMap<i64, String> =
        facilities.iter().map(|f| (f.id, f.draft.state_code.clone())).collect();
    let shared = Arc::new((store.clone(), statements, states));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let shared = shared.clone();
        let viewer = user.org_id;
        tasks.push(tokio::spawn(async move {
            let (store, statements, states) = &*shared;
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let f = vigia_domain::access::AttemptFilter { limit: 100_000, ..Default::default() };
                let refusals: Vec<_> = store
                    .list_attempts(viewer, &f)
                    .await
                    .expect("list")
                    .iter()
                    .filter(|a| a.draft.outcome.is_refusal())
                    .map(|a| vigia_domain::statement::Refusal {
                        org_id: a.org_id,
                        facility_id: a.draft.facility_id,
                        day: jiff::Timestamp::from_microsecond(a.draft.attempted_at)
                            .expect("instant")
                            .in_tz(vigia_domain::geo::LEGAL_TIME_ZONE)
                            .expect("zone")
                            .date(),
                        count: 1,
                    })
                    .collect();
                assert!(!vigia_domain::statement::detect(statements, &refusals, states).is_empty());
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("worker"));
    }
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    let before = (lat.len(), start.elapsed().as_secs_f64(), pct(0.50), pct(0.95));
    println!(
        "\n{:<66} {:>9} {:>9} {:>9} {:>14}",
        format!("with {workers} concurrent clients, {} s each", duration.as_secs()),
        "req/s",
        "p50 ms",
        "p95 ms",
        "p95 / healthz"
    );
    for o in [&health, &now, &page] {
        println!(
            "{:<66} {:>9.0} {:>9.2} {:>9.2} {:>14.1}",
            o.name,
            o.rps(),
            o.p50_ms,
            o.p95_ms,
            o.p95_ms / health.p95_ms
        );
        assert_eq!(o.errors, 0, "{} answered with errors", o.name);
    }
    // Cold: each read follows a new attempt, so the kept answer cannot be used.
    let mut cold_draft = draft.clone();
    let cold = measure("GET /api/v1/contradictions right after a new attempt (cold)", samples.min(20), || {
        cold_draft.attempted_at += 60_000_000;
        let d = cold_draft.clone();
        let url = format!("{base}/api/v1/contradictions");
        let (t, h) = (token.clone(), http.clone());
        async move {
            st.create_attempt(&actor, user.org_id, d).await.expect("attempt");
            get_ok(&h, h.get(url).bearer_auth(t)).await
        }
    })
    .await;
    println!(
        "{:<66} {:>9} {:>9.2} {:>9.2} {:>14.1}",
        format!("{} (one at a time)", cold.name),
        "",
        cold.p50_ms,
        cold.p95_ms,
        cold.p95_ms / health.p95_ms
    );
    println!(
        "{:<66} {:>9.1} {:>9.2} {:>9.2} {:>14.1}",
        "before: newest 100,000 attempts read and the rule run per request",
        before.0 as f64 / before.1,
        before.2,
        before.3,
        before.3 / health.p95_ms
    );
    drop(db);
}

/// The PostgreSQL floor: the server itself writes `per_file` attempt rows into a
/// fresh copy of the app's schema (same table, indexes and foreign keys, the demo's
/// organizations and facilities), shaped like the generated files (per organization,
/// minutes apart from 2019, a few facilities each), with one `INSERT … SELECT` over
/// `generate_series` per organization in one transaction: no client, no parsing, no
/// audit, no daily counts. Seconds.
async fn postgres_floor(server_url: &str, per_file: &[usize]) -> f64 {
    use sqlx::{Connection, Row};
    let db = TestDb::postgres(server_url).await.expect("floor database");
    let store = vigia_store::open(&db.url, &[MasterKey::generate().expect("key")]).await.expect("store");
    vigia_cli::demo::seed(&store).await.expect("demo data");
    let orgs: Vec<i64> = store.list_orgs().await.expect("orgs").iter().map(|o| o.id).collect();
    let facilities: Vec<i64> = store.list_facilities().await.expect("facilities").iter().map(|f| f.id).collect();
    drop(store);
    let mut c = sqlx::PgConnection::connect(&db.url).await.expect("floor connection");
    let mut next: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) AS m FROM access_attempts")
        .fetch_one(&mut c)
        .await
        .expect("max id")
        .get("m");
    settle();
    let t = Instant::now();
    let mut tx = c.begin().await.expect("begin");
    for (k, (org, rows)) in orgs.iter().zip(per_file).enumerate() {
        let (per_day, minutes) = spacing(*rows);
        let rows = *rows as i64;
        sqlx::query(
            "INSERT INTO access_attempts (id, org_id, facility_id, version, attempted_at, purpose, team_size, \
             outcome, reason_category, restrictions, visibility, created_at, updated_at) \
             SELECT $1 + i, $2, ($3::BIGINT[])[1 + ($4 + i % 4) % cardinality($3::BIGINT[])], 1, \
             1546344000000000 + (i / $5) * 86400000000 + ((i % $5) * $6 + $8) * 60000000, 'legal_assistance', 2, \
             CASE WHEN i % 5 = 0 THEN 'denied' ELSE 'granted' END, \
             CASE WHEN i % 5 = 0 THEN 'orders_from_above' END, 'no_phones', 'coalition', 0, 0 \
             FROM generate_series(1::BIGINT, $7) AS i",
        )
        .bind(next)
        .bind(org)
        .bind(&facilities)
        .bind(k as i64 * 3)
        .bind(per_day as i64)
        .bind(minutes)
        .bind(rows)
        .bind(k as i64 % minutes)
        .execute(&mut *tx)
        .await
        .expect("floor rows");
        next += rows;
    }
    tx.commit().await.expect("commit");
    let seconds = t.elapsed().as_secs_f64();
    drop(db);
    seconds
}

/// The floor: SQLite (the app's settings: WAL, `synchronous=FULL`, 32 MiB cache, 16 KiB
/// pages) writing the
/// same attempt rows and one audit row each — same tables, same indexes, content of the
/// same size — in one transaction, a thousand rows per statement, with everything
/// prepared beforehand: no validation, no hashing, no daily counts, no app. Seconds.
async fn sqlite_floor(files: &[Vec<vigia_domain::access::AttemptDraft>], audit_rows: bool) -> f64 {
    use sqlx::{ConnectOptions, Connection};
    let dir = std::env::temp_dir().join(format!("vigia-floor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("floor.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
        .pragma("cache_size", "-32768")
        .page_size(16384)
        .connect()
        .await
        .expect("floor db");
    sqlx::raw_sql(
        "CREATE TABLE access_attempts (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, facility_id INTEGER NOT NULL, \
         version INTEGER NOT NULL, requested_at INTEGER, attempted_at INTEGER NOT NULL, purpose TEXT NOT NULL, \
         team_size INTEGER NOT NULL, people_to_see INTEGER, outcome TEXT NOT NULL, reason_category TEXT, \
         reason_text TEXT, official TEXT, restrictions TEXT NOT NULL DEFAULT '', notes TEXT, \
         visibility TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
         CREATE INDEX access_attempts_facility_cover ON access_attempts (facility_id, attempted_at, id, org_id, visibility, outcome);
         CREATE INDEX access_attempts_org_cover ON access_attempts (org_id, attempted_at, id, visibility, facility_id, outcome);
         CREATE INDEX access_attempts_time ON access_attempts(attempted_at);
         CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor_user_id INTEGER, org_id INTEGER,
         action TEXT NOT NULL, record_type TEXT NOT NULL, record_id INTEGER NOT NULL, content TEXT NOT NULL,
         content_hash TEXT NOT NULL, prev_hash TEXT NOT NULL, entry_hash TEXT NOT NULL);
         CREATE INDEX audit_log_record ON audit_log(record_type, record_id, seq);
         CREATE INDEX audit_log_org ON audit_log(org_id, seq);",
    )
    .execute(&mut c)
    .await
    .expect("schema");
    let hash = "0".repeat(64);
    let mut id = 0i64;
    let mut elapsed = 0.0;
    settle();
    for drafts in files {
        // Prepared outside the clock: the audit content as the app writes it.
        let contents: Vec<String> = drafts
            .iter()
            .enumerate()
            .map(|(i, d)| {
                vigia_domain::access::Attempt {
                    id: i as i64,
                    org_id: 1,
                    version: 1,
                    draft: d.clone(),
                    created_at: 0,
                    updated_at: 0,
                }
                .content_json()
            })
            .collect();
        let t = Instant::now();
        let mut tx = c.begin().await.expect("begin");
        for (chunk, texts) in drafts.chunks(1000).zip(contents.chunks(1000)) {
            let rows = vec!["(?, 1, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, 0, 0)"; chunk.len()].join(", ");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO access_attempts VALUES {rows}")));
            let first = id;
            for d in chunk {
                id += 1;
                q = q
                    .bind(id)
                    .bind(d.facility_id)
                    .bind(d.requested_at)
                    .bind(d.attempted_at)
                    .bind(d.purpose.as_str())
                    .bind(d.team_size)
                    .bind(d.people_to_see)
                    .bind(d.outcome.as_str())
                    .bind(d.reason_category.map(|r| r.as_str()))
                    .bind(d.reason_text.clone())
                    .bind(d.official.clone())
                    .bind(d.notes.clone())
                    .bind(d.visibility.as_str());
            }
            q.execute(&mut *tx).await.expect("attempts");
            if !audit_rows {
                continue;
            }
            let rows = vec!["(?, 0, 1, 1, 'create', 'access_attempt', ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO audit_log VALUES {rows}")));
            for (i, text) in texts.iter().enumerate() {
                let seq = first + 1 + i as i64;
                q = q
                    .bind(seq)
                    .bind(seq)
                    .bind(text.as_str())
                    .bind(hash.as_str())
                    .bind(hash.as_str())
                    .bind(hash.as_str());
            }
            q.execute(&mut *tx).await.expect("audit");
        }
        tx.commit().await.expect("commit");
        elapsed += t.elapsed().as_secs_f64();
    }
    drop(c);
    let _ = std::fs::remove_dir_all(&dir);
    elapsed
}
