//! Importing official statistics (issue #18 target: a 10-year, 200-nationality table
//! under 2 s).
//!
//! Generates ten yearly files of the bulletin's returns table (3.2.1) with a total row
//! and 200 nationalities, twelve months each, as the bulletin's CSV, then imports them
//! the way `POST /api/v1/statistics/imports` does (`vigia_app::statistics::import`:
//! read, place every cell, store the version and its figures with its audit entry, and
//! look for spikes and breaks over the whole series to raise alerts). Prints the total
//! and per-file time with the ratio to the baseline measured in the same run: reading
//! and placing the same files alone (no storage).
//!
//! Run: `cargo bench -p vigia-cli --bench stats_import`; with
//! `VIGIA_BENCH_DATABASE_URL=postgres://…` on PostgreSQL (a fresh database is made).

use std::time::Instant;

use vigia_domain::statistics::countries::COUNTRIES;
use vigia_store::testing::TestDb;
use vigia_store::{Actor, MasterKey};

const YEARS: i16 = 10;
const NATIONALITIES: usize = 200;

fn file(year: i16) -> Vec<u8> {
    let months = vigia_domain::statistics::bulletin::MONTH_HEADERS;
    let mut rows: Vec<(String, Vec<i64>)> = COUNTRIES
        .iter()
        .take(NATIONALITIES)
        .enumerate()
        .map(|(i, c)| {
            let values = (0..12).map(|m| ((i as i64 * 37 + m * 11 + i64::from(year) * 7) % 500) + 10).collect();
            (c.es.to_string(), values)
        })
        .collect();
    let total: Vec<i64> = (0..12).map(|m| rows.iter().map(|(_, v)| v[m]).sum()).collect();
    rows.insert(0, ("Total".into(), total));
    let mut out = format!(
        "Unidad de Política Migratoria (bench)\nCuadro 3.2.1 Eventos de extranjeros devueltos, según país de nacionalidad, {year}\n\n\
         País de nacionalidad,{},Total\n",
        months.join(",")
    );
    for (label, values) in rows {
        let cells: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        out.push_str(&format!("\"{label}\",{},{}\n", cells.join(","), values.iter().sum::<i64>()));
    }
    out.into_bytes()
}

#[tokio::main]
async fn main() {
    let db = match std::env::var("VIGIA_BENCH_DATABASE_URL") {
        Ok(url) => TestDb::postgres(&url).await.expect("PostgreSQL database"),
        Err(_) => TestDb::sqlite(),
    };
    let store = vigia_store::open(&db.url, &[MasterKey::generate().expect("key")]).await.expect("store");
    let org = store.create_org(&Actor::SYSTEM, "bench", "Bench").await.expect("org");
    let files: Vec<(String, Vec<u8>)> =
        (0..YEARS).map(|i| (format!("3.2.1-{}.csv", 2015 + i), file(2015 + i))).collect();
    let cells: usize = (NATIONALITIES + 1) * 12 * YEARS as usize;
    println!(
        "Vigía official statistics import: backend {}, {YEARS} yearly files × {NATIONALITIES} nationalities ({cells} figures)",
        store.backend().as_str()
    );

    // Baseline: reading and placing every cell, nothing stored.
    let t = Instant::now();
    for (_, bytes) in &files {
        let (sheets, _) = vigia_app::statistics::read_sheets(bytes).expect("sheets");
        let tables = vigia_domain::statistics::bulletin::read(&sheets).expect("tables");
        assert_eq!(tables[0].rows.len(), NATIONALITIES + 1);
    }
    let baseline = t.elapsed();

    let t = Instant::now();
    let mut per_file = Vec::new();
    for (name, bytes) in files {
        let one = Instant::now();
        let provenance = vigia_domain::statistics::Provenance {
            publisher: "bench".into(),
            source_url: None,
            retrieved_on: jiff::civil::date(2026, 1, 1),
            published_on: None,
            illustrative: true,
        };
        let out = vigia_app::statistics::import(&store, &Actor::SYSTEM, org.id, &name, bytes, provenance)
            .await
            .expect("import")
            .expect("read");
        assert_eq!(out.len(), 1);
        per_file.push(one.elapsed());
    }
    let total = t.elapsed();
    per_file.sort();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!("| step | ms | ratio to baseline |");
    println!("|---|---:|---:|");
    println!("| read and place all cells (baseline, nothing stored) | {:.1} | 1.00 |", ms(baseline));
    println!(
        "| import all {YEARS} files (store, audit, spikes and alerts) | {:.1} | {:.2} |",
        ms(total),
        total.as_secs_f64() / baseline.as_secs_f64().max(1e-9)
    );
    println!(
        "| one file, median / slowest | {:.1} / {:.1} | — |",
        ms(per_file[per_file.len() / 2]),
        ms(per_file[per_file.len() - 1])
    );
    println!("target: the whole table under 2,000 ms — {}", if total.as_secs_f64() < 2.0 { "met" } else { "NOT met" });
}
