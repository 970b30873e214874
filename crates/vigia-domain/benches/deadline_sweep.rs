//! The nightly deadline sweep over 100,000 open cases (issue: under 2 s on the 2-core
//! machine kind): every case's deadlines and violations assessed and its reminders
//! picked, in the domain core, on the shipped calendars.
//!
//! Baseline, measured in the same run: the same sweep on calendars that walk day by
//! day over the rules (the engine before the working-day index).
//!
//! `cargo bench -p vigia-domain --bench deadline_sweep` (VIGIA_BENCH_CASES to change 100,000).

use std::time::Instant;

use jiff::civil::{date, Date, Time};
use vigia_domain::case::{DecisionOutcome, EventKind, ExtensionGround, Fact};
use vigia_domain::clock::Calendars;
use vigia_domain::deadline::{assess, reminders};

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn day(base: Date, offset: u64) -> Date {
    base.checked_add(jiff::Span::new().days(offset as i64)).unwrap_or(base)
}

/// Open cases as a legal-aid caseload looks: most detained in the last months, some
/// with asylum claims, decisions and appeals, a few children, some released, some
/// deported.
fn caseload(n: usize) -> Vec<(bool, Vec<Fact>)> {
    let mut rng = Rng(0x5eed_0100_0000);
    let start = date(2025, 6, 2);
    (0..n)
        .map(|i| {
            let mut facts = Vec::new();
            let mut id = i as i64 * 10;
            let mut push = |kind: EventKind, on: Date, rng: &mut Rng| {
                id += 1;
                facts.push(Fact {
                    id,
                    kind,
                    on,
                    time: (rng.below(2) == 0)
                        .then(|| Time::new(rng.below(24) as i8, 0, 0, 0).unwrap_or(Time::midnight())),
                    ground: (kind == EventKind::DetentionExtended)
                        .then_some(ExtensionGround::ALL[rng.below(5) as usize]),
                    decision: (kind == EventKind::Decision).then_some(DecisionOutcome::ALL[rng.below(3) as usize]),
                });
            };
            let entered = day(start, rng.below(150));
            push(EventKind::EnteredMexico, entered, &mut rng);
            let detained = day(entered, 1 + rng.below(20));
            push(EventKind::Detained, detained, &mut rng);
            if rng.below(100) < 15 {
                push(EventKind::DetentionExtended, day(detained, 10), &mut rng);
            }
            if rng.below(100) < 50 {
                let asked = day(detained, 1 + rng.below(10));
                push(EventKind::AsylumRequested, asked, &mut rng);
                push(EventKind::ComarAdmission, day(asked, 2), &mut rng);
                if rng.below(100) < 40 {
                    push(EventKind::Decision, day(asked, 40 + rng.below(60)), &mut rng);
                }
            }
            match rng.below(100) {
                0..40 => push(EventKind::Released, day(detained, 5 + rng.below(40)), &mut rng),
                // Returns, some while a claim is pending (the LRPCAP art. 6 check).
                40..50 => push(EventKind::Deported, day(detained, 5 + rng.below(40)), &mut rng),
                _ => {}
            }
            (rng.below(100) < 8, facts)
        })
        .collect()
}

fn sweep(cases: &[(bool, Vec<Fact>)], cals: &Calendars, today: Date) -> (usize, usize) {
    let (mut deadlines, mut reminded) = (0, 0);
    for (i, (minor, facts)) in cases.iter().enumerate() {
        let a = assess(*minor, facts, cals, today).expect("assess");
        deadlines += a.deadlines.len();
        reminded += reminders(i as i64, &a, cals, today, 3).len();
    }
    (deadlines, reminded)
}

fn main() {
    let n: usize = std::env::var("VIGIA_BENCH_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let today = date(2025, 11, 28);
    let cases = caseload(n);
    let indexed = Calendars::builtin();
    let walking = Calendars::builtin().walking();
    // Warm up (and build the index once, as a long-running server has it).
    sweep(&cases[..1000.min(n)], &indexed, today);

    let t = Instant::now();
    let (d1, r1) = sweep(&cases, &walking, today);
    let base = t.elapsed();
    let t = Instant::now();
    let (d2, r2) = sweep(&cases, &indexed, today);
    let fast = t.elapsed();
    assert_eq!((d1, r1), (d2, r2), "both engines must agree");

    let facts: usize = cases.iter().map(|c| c.1.len()).sum();
    println!("deadline sweep: {n} open cases, {facts} events, {d2} deadlines, {r2} reminders");
    println!("| engine | time | per case | ratio to baseline |");
    println!("|---|---:|---:|---:|");
    for (name, d) in [("walking the rules day by day (baseline)", base), ("working-day index", fast)] {
        println!(
            "| {name} | {:.3} s | {:.2} µs | {:.3} |",
            d.as_secs_f64(),
            d.as_secs_f64() * 1e6 / n as f64,
            d.as_secs_f64() / base.as_secs_f64()
        );
    }
    println!("target: under 2 s for 100,000 cases -> {}", if fast.as_secs_f64() < 2.0 { "met" } else { "NOT met" });
}
