//! `vigia import attempts FILE`: the same import as the page and the API, read as it
//! goes, with a progress line on the terminal.
//!
//! The line is written by hand (a carriage return and the text, four times a second; a
//! plain line every ten seconds when standard error is not a terminal) rather than
//! with a progress-bar crate: this is the only bar in the program, it needs no terminal
//! control beyond `\r`, and it reads the same counters the import page shows.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use vigia_app::imports::{Progress, ProgressView};
use vigia_store::{Actor, DynStore};

/// Imports the attempts in `file` (`-`: standard input) for the organization `org`.
pub async fn attempts(store: &DynStore, file: &Path, org: &str, quiet: bool) -> anyhow::Result<ExitCode> {
    let orgs = store.list_orgs().await?;
    let o = orgs.iter().find(|o| o.slug == org).ok_or_else(|| anyhow!("--org: no organization {org:?}"))?;
    let facilities = store.list_facilities().await?;
    let (input, size): (Box<dyn std::io::Read + Send>, Option<u64>) = if file.as_os_str() == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let f = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(f), size)
    };
    let progress = Arc::new(Progress::new());
    let terminal = std::io::stderr().is_terminal();
    let shown = (!quiet).then(|| tokio::spawn(show(progress.clone(), size, terminal)));
    let outcome =
        vigia_app::imports::import_attempts_stream(store, facilities, &Actor::SYSTEM, o.id, input, progress.clone())
            .await;
    if let Some(task) = shown {
        task.abort();
        if terminal {
            eprintln!("\r{}", line(&progress.view(), size));
        }
    }
    match outcome.map_err(|e| anyhow!("{e}"))? {
        Ok(imp) => {
            println!(
                "Imported {} attempts (import {}, ids {}..={}); file SHA-256 {}, {} bytes",
                imp.row_count,
                imp.id,
                imp.first_id,
                imp.last_id,
                imp.file_sha256.unwrap_or_default(),
                imp.file_bytes.unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            eprintln!("{}: nothing imported; {} problem(s):", file.display(), problems.len());
            for p in problems.iter().take(vigia_domain::import::LISTED_PROBLEMS) {
                // A column's name comes from the file: no terminal controls from it.
                let line: String = p
                    .to_string()
                    .chars()
                    .flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] })
                    .collect();
                eprintln!("  {line}");
            }
            if problems.len() > vigia_domain::import::LISTED_PROBLEMS {
                eprintln!("  … and {} more", problems.len() - vigia_domain::import::LISTED_PROBLEMS);
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// Redraws the progress line until aborted.
async fn show(progress: Arc<Progress>, size: Option<u64>, terminal: bool) {
    let every = if terminal { Duration::from_millis(250) } else { Duration::from_secs(10) };
    loop {
        tokio::time::sleep(every).await;
        let text = line(&progress.view(), size);
        if terminal {
            eprint!("\r{text}\x1b[K");
        } else {
            eprintln!("{text}");
        }
    }
}

/// `[#######.............]  35%  reading  350,000 rows  98,000 rows/s  0 problems`.
fn line(v: &ProgressView, size: Option<u64>) -> String {
    const WIDTH: u64 = 20;
    let share = match (v.phase, size) {
        ("reading", Some(total)) if total > 0 => (v.bytes_read.min(total) * 100 / total) as u8,
        ("storing", _) if v.rows_read > 0 => (v.rows_stored.min(v.rows_read) * 100 / v.rows_read) as u8,
        ("done", _) => 100,
        _ => 0,
    };
    let filled = u64::from(share) * WIDTH / 100;
    let bar: String = (0..WIDTH).map(|i| if i < filled { '#' } else { '.' }).collect();
    let rows = if v.phase == "storing" || v.phase == "done" { v.rows_stored } else { v.rows_read };
    format!(
        "[{bar}] {share:>3}%  {:<8} {} rows  {} rows/s  {} problem(s)",
        v.phase,
        grouped(rows),
        grouped(v.rows_per_second),
        grouped(v.problems)
    )
}

/// 1234567 as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_phase_share_rows_rate_and_problems() {
        let v = ProgressView {
            phase: "reading",
            bytes_read: 350,
            rows_read: 350_000,
            problems: 2,
            rows_stored: 0,
            seconds: 3.5,
            rows_per_second: 100_000,
        };
        assert_eq!(
            line(&v, Some(1000)),
            "[#######.............]  35%  reading  350,000 rows  100,000 rows/s  2 problem(s)"
        );
        let v = ProgressView { phase: "storing", rows_stored: 500, rows_read: 1000, ..v };
        assert!(line(&v, None).starts_with("[##########..........]  50%  storing  500 rows"), "{}", line(&v, None));
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(999_999), "999,999");
    }
}
