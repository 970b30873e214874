//! The rule as first written, attempt by attempt: the reference the tests hold the
//! daily-count [`Scan`](super::Scan) to.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;

use super::{poisson_binomial_tail, Episode, Observation, Settings};

pub(super) fn days_between(a: Date, b: Date) -> i64 {
    a.until(b).map(|span| i64::from(span.get_days())).unwrap_or(0)
}

/// The rule as first written, attempt by attempt, at every length and every end (no
/// screens, no shortcuts): the reference the daily version must agree with.
pub(super) fn detect_reference(observations: &[Observation], s: &Settings) -> Vec<Episode> {
    if observations.is_empty() || s.window_days < 1 {
        return Vec::new();
    }
    let mut obs: Vec<Observation> = observations.to_vec();
    obs.sort_by_key(|o| (o.day, o.attempt_id));
    let first = obs[0].day;
    let index = |d: Date| days_between(first, d);
    let last_day = index(obs[obs.len() - 1].day);
    // Each attempt's day index, ascending.
    let days: Vec<i64> = obs.iter().map(|o| index(o.day)).collect();
    // Per facility, cumulative attempts and refusals by day index, for O(1) baselines.
    let mut per_day: HashMap<i64, BTreeMap<i64, (u32, u32)>> = HashMap::new();
    for o in &obs {
        let e = per_day.entry(o.facility_id).or_default().entry(index(o.day)).or_default();
        e.0 += 1;
        e.1 += u32::from(o.refused);
    }
    // A facility's attempts and refusals in the `baseline_days` before `start`.
    let record = |facility: i64, start: i64| -> (u32, u32) {
        let (mut n, mut r) = (0u32, 0u32);
        if let Some(days) = per_day.get(&facility) {
            for (_, (a, x)) in days.range((start - s.baseline_days)..start) {
                n += a;
                r += x;
            }
        }
        (n, r)
    };
    let baseline = |facility: i64, start: i64| -> f64 {
        let (n, r) = record(facility, start);
        (f64::from(r) + 0.5) / (f64::from(n) + 1.0)
    };
    let scales = s.scales.max(1);
    let alpha = s.alpha / f64::from(scales);
    // (start, end, p) of every flagged window, at every length.
    let mut flagged: Vec<(i64, i64, f64)> = Vec::new();
    for k in 0..scales {
        let len = s.window_days * (1 << k);
        for end in 0..=last_day {
            let start = end - len + 1;
            let mut window: Vec<&Observation> =
                obs[days.partition_point(|&d| d < start)..days.partition_point(|&d| d <= end)].iter().collect();
            if k > 0 {
                // Past the shortest length, only facilities with twice the window's
                // attempts in their baseline take part.
                let mut attempts: HashMap<i64, u32> = HashMap::new();
                for o in &window {
                    *attempts.entry(o.facility_id).or_default() += 1;
                }
                let kept: BTreeSet<i64> =
                    attempts.iter().filter(|&(f, n)| record(*f, start).0 >= 2 * n).map(|(f, _)| *f).collect();
                window.retain(|o| kept.contains(&o.facility_id));
            }
            let refusals = window.iter().filter(|o| o.refused).count();
            if refusals == 0 {
                continue;
            }
            // Each facility against its own baseline, attempt by attempt.
            let mut by_facility: BTreeMap<i64, (Vec<f64>, usize)> = BTreeMap::new();
            let mut rates: HashMap<i64, f64> = HashMap::new();
            for o in &window {
                let p = *rates.entry(o.facility_id).or_insert_with(|| baseline(o.facility_id, start));
                let e = by_facility.entry(o.facility_id).or_insert_with(|| (Vec::new(), 0));
                e.0.push(p);
                e.1 += usize::from(o.refused);
            }
            let elevated: BTreeSet<i64> = by_facility
                .iter()
                .filter(|(_, (ps, r))| *r > 0 && poisson_binomial_tail(ps, *r) < s.facility_alpha)
                .map(|(f, _)| *f)
                .collect();
            let orgs: BTreeSet<i64> =
                window.iter().filter(|o| o.refused && elevated.contains(&o.facility_id)).map(|o| o.org_id).collect();
            if orgs.len() < s.min_orgs || elevated.len() < s.min_facilities {
                continue;
            }
            let ps: Vec<f64> = by_facility.values().flat_map(|(ps, _)| ps.iter().copied()).collect();
            let p = poisson_binomial_tail(&ps, refusals);
            if p < alpha {
                flagged.push((start, end, p));
            }
        }
    }
    // Only windows holding no shorter flagged window draw episodes.
    let mut minimal: Vec<(i64, i64, f64)> = flagged
        .iter()
        .copied()
        .filter(|&(a, b, _)| !flagged.iter().any(|&(c, d, _)| d - c < b - a && c >= a && d <= b))
        .collect();
    minimal.sort_by_key(|&(a, b, _)| (a, b));
    // Merge overlapping or touching windows into episodes: the smallest p, and the
    // shortest length among equal ones.
    let mut spans: Vec<(i64, i64, f64, i64)> = Vec::new();
    for (a, b, p) in minimal {
        match spans.last_mut() {
            Some(last) if a <= last.1 + 1 => {
                last.1 = last.1.max(b);
                if p < last.2 || (p == last.2 && b - a + 1 < last.3) {
                    (last.2, last.3) = (p, b - a + 1);
                }
            }
            _ => spans.push((a, b, p, b - a + 1)),
        }
    }
    spans
        .into_iter()
        .map(|(a, b, p, scale_days)| {
            let inside: Vec<&Observation> = obs.iter().filter(|o| (a..=b).contains(&index(o.day))).collect();
            let refused: Vec<&Observation> = inside.iter().copied().filter(|o| o.refused).collect();
            // Trim the span to the refusals it rests on.
            let start = refused.first().map(|o| o.day).unwrap_or(first);
            let end = refused.last().map(|o| o.day).unwrap_or(first);
            Episode {
                start,
                end,
                orgs: refused.iter().map(|o| o.org_id).collect::<BTreeSet<_>>().into_iter().collect(),
                facilities: refused.iter().map(|o| o.facility_id).collect::<BTreeSet<_>>().into_iter().collect(),
                attempts: inside.len(),
                refusals: refused.len(),
                expected: inside.iter().map(|o| baseline(o.facility_id, index(o.day) - scale_days + 1)).sum(),
                p_value: (p * f64::from(scales)).min(1.0),
                scale_days,
                attempt_ids: refused.iter().map(|o| o.attempt_id).collect(),
            }
        })
        .collect()
}
