//! Spikes and breaks in a monthly series of official figures.
//!
//! **Method** (a robust control chart, documented in `docs/statistics.md`): for each
//! month, the baseline is the median of the twelve months before it and its spread is
//! the median absolute deviation scaled to a standard deviation (1.4826 · MAD) — but
//! never less than the square root of the median, the spread a count of independent
//! events would have anyway (Poisson), so a flat series does not make every small wobble
//! an alarm. A month at least [`Z`] spreads away from its baseline, and at least a
//! quarter of the baseline (and [`MIN_EVENTS`] events) away from it, is a **spike**; when
//! the two following months are away in the same direction too, it is a **break** (a
//! level shift: the series moved and stayed). After a break, the months of the same
//! shift are not reported again for a year. A month needs at least six published
//! months among the twelve before it to be judged at all.
//!
//! Median and MAD rather than mean and standard deviation: one spike in the window does
//! not hide the next one (Iglewicz & Hoaglin's modified z-score uses the same pair).

use super::YearMonth;

/// How many spreads from the baseline a month must be.
pub const Z: f64 = 4.0;
/// The fewest events a change must amount to, whatever the spread.
pub const MIN_EVENTS: f64 = 10.0;
/// The months before a month that make its baseline.
pub const WINDOW: usize = 12;
/// The fewest published months in the window for a month to be judged.
pub const MIN_HISTORY: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Spike,
    Break,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

/// A month that stands out, with the baseline it stands out from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Signal {
    pub month: YearMonth,
    pub kind: Kind,
    pub direction: Direction,
    pub value: i64,
    pub baseline: f64,
    pub score: f64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The baseline and spread of month `i` from the window before it, if it has enough
/// history.
fn baseline(values: &[Option<i64>], i: usize) -> Option<(f64, f64)> {
    let mut window: Vec<f64> = values[i.saturating_sub(WINDOW)..i].iter().flatten().map(|v| *v as f64).collect();
    if window.len() < MIN_HISTORY {
        return None;
    }
    let m = median(&mut window);
    let mut dev: Vec<f64> = window.iter().map(|v| (v - m).abs()).collect();
    let spread = (1.4826 * median(&mut dev)).max(m.max(1.0).sqrt());
    Some((m, spread))
}

/// How far month `i` stands from its own baseline, signed, if it counts as away.
fn away(values: &[Option<i64>], i: usize) -> Option<(f64, f64)> {
    let x = values.get(i).copied().flatten()? as f64;
    let (m, s) = baseline(values, i)?;
    let z = (x - m) / s;
    ((z.abs() >= Z) && (x - m).abs() >= (0.25 * m).max(MIN_EVENTS)).then_some((z, m))
}

/// The spikes and breaks of a series of consecutive months from `start` (`None` for a
/// month with no published figure).
pub fn signals(start: YearMonth, values: &[Option<i64>]) -> Vec<Signal> {
    let mut out: Vec<Signal> = Vec::new();
    let mut quiet_until: Option<(usize, Direction)> = None;
    for i in 0..values.len() {
        let Some((z, m)) = away(values, i) else { continue };
        let direction = if z > 0.0 { Direction::Up } else { Direction::Down };
        if quiet_until.is_some_and(|(end, d)| i <= end && d == direction) {
            continue;
        }
        // A break: the two months after stay on the same side, by the same measure
        // against this month's baseline.
        let stays = (1..=2).all(|k| {
            values.get(i + k).copied().flatten().is_some_and(|v| {
                let d = v as f64 - m;
                let (_, s) = baseline(values, i).unwrap_or((m, 1.0));
                d.signum() == z.signum() && (d / s).abs() >= Z && d.abs() >= (0.25 * m).max(MIN_EVENTS)
            })
        });
        let kind = if stays { Kind::Break } else { Kind::Spike };
        if stays {
            quiet_until = Some((i + WINDOW - 1, direction));
        }
        out.push(Signal {
            month: YearMonth::from_index(start.index() + i as i32),
            kind,
            direction,
            value: values[i].unwrap_or(0),
            baseline: m,
            score: z,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn start() -> YearMonth {
        YearMonth { year: 2018, month: 1 }
    }

    #[test]
    fn the_january_2020_rise_of_returns_is_a_break() {
        // Two flat years around 2,000 events a month, then a rise that stays.
        let mut v: Vec<Option<i64>> = (0..24).map(|i| Some(2_000 + (i % 5) * 20)).collect();
        v.extend([Some(4_800), Some(4_200), Some(3_900)]);
        let s = signals(start(), &v);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(
            (s[0].month, s[0].kind, s[0].direction),
            (YearMonth { year: 2020, month: 1 }, Kind::Break, Direction::Up)
        );
    }

    #[test]
    fn a_month_without_history_is_not_judged() {
        let v = vec![Some(10), Some(10_000), None, Some(5)];
        assert!(signals(start(), &v).is_empty());
    }

    proptest! {
        #[test]
        fn a_flat_series_with_small_noise_raises_nothing(
            level in 0i64..50_000,
            noise in proptest::collection::vec(-1.0f64..1.0, 12..60),
        ) {
            // Noise within half the Poisson spread of the level.
            let amp = (level.max(1) as f64).sqrt() / 2.0;
            let v: Vec<Option<i64>> = noise.iter().map(|e| Some((level as f64 + e * amp).round().max(0.0) as i64)).collect();
            prop_assert!(signals(start(), &v).is_empty(), "{:?}", signals(start(), &v));
        }

        #[test]
        fn a_lasting_step_is_one_break_where_it_starts(
            level in 0i64..50_000,
            at in 12usize..30,
            after in 3usize..20,
            up in any::<bool>(),
        ) {
            let step = (8.0 * (level.max(1) as f64).sqrt()).max(0.5 * level as f64).max(2.0 * MIN_EVENTS) as i64;
            prop_assume!(up || level - step >= 0);
            let shifted = if up { level + step } else { level - step };
            let v: Vec<Option<i64>> = (0..at + after).map(|i| Some(if i < at { level } else { shifted })).collect();
            let s = signals(start(), &v);
            prop_assert!(!s.is_empty());
            let first = &s[0];
            prop_assert_eq!(first.month, YearMonth::from_index(start().index() + at as i32));
            prop_assert_eq!(first.kind, Kind::Break);
            prop_assert_eq!(first.direction, if up { Direction::Up } else { Direction::Down });
            // Nothing is reported before the step.
            prop_assert!(s.iter().all(|x| x.month.index() >= start().index() + at as i32));
        }

        #[test]
        fn one_month_out_of_line_is_a_spike_and_only_that(
            level in 0i64..50_000,
            at in 12usize..30,
        ) {
            let jump = (8.0 * (level.max(1) as f64).sqrt()).max(0.5 * level as f64).max(2.0 * MIN_EVENTS) as i64;
            let v: Vec<Option<i64>> = (0..at + 6).map(|i| Some(if i == at { level + jump } else { level })).collect();
            let s = signals(start(), &v);
            prop_assert_eq!(s.len(), 1);
            prop_assert_eq!(s[0].kind, Kind::Spike);
            prop_assert_eq!(s[0].month, YearMonth::from_index(start().index() + at as i32));
        }

        #[test]
        fn any_series_is_judged_without_panicking(v in proptest::collection::vec(proptest::option::of(0i64..1_000_000), 0..80)) {
            let _ = signals(start(), &v);
        }
    }
}
