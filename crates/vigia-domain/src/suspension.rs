//! Suspected general suspensions of access.
//!
//! A window of `window_days` days is *suspicious* when, inside it, at least
//! `min_facilities` facilities refused access far more than their own baseline
//! predicts (each tested alone at `facility_alpha`), at least `min_orgs` distinct
//! organizations were refused at those facilities, and the window's refusals taken
//! together are far above the baselines (tested at `alpha`). Counting only facilities
//! that are each out of character keeps ordinary, scattered refusals elsewhere from
//! making one station's closing look general.
//!
//! **The test.** Each attempt `i` in the window has its facility's baseline refusal
//! rate `p_i`, estimated from that facility's attempts in the `baseline_days` before
//! the window with a Jeffreys prior, `(refusals + 0.5) / (attempts + 1)`, so a facility
//! with few past attempts is neither certainly open nor certainly closed. Under "nothing
//! changed", the window's refusal count is a sum of independent Bernoulli(`p_i`): a
//! Poisson-binomial variable. We compute its upper tail `P(X ≥ observed)` exactly by
//! dynamic programming and flag the window when it is below `alpha`. Exact, because
//! windows hold tens of attempts, where normal approximations are poor; Poisson-binomial
//! rather than binomial, because a window mixes facilities whose baselines differ
//! (a station that often refuses is not evidence of a new policy).
//!
//! Overlapping or touching suspicious windows merge into one episode, which lists the
//! refusals behind it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;
use serde::Serialize;

/// One attempt as the rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub attempt_id: i64,
    pub org_id: i64,
    pub facility_id: i64,
    pub day: Date,
    pub refused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Settings {
    pub min_orgs: usize,
    pub min_facilities: usize,
    pub window_days: i64,
    pub baseline_days: i64,
    pub alpha: f64,
    pub facility_alpha: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self { min_orgs: 3, min_facilities: 3, window_days: 7, baseline_days: 180, alpha: 0.001, facility_alpha: 0.05 }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub start: Date,
    pub end: Date,
    pub orgs: Vec<i64>,
    pub facilities: Vec<i64>,
    pub attempts: usize,
    pub refusals: usize,
    /// Refusals the baselines predict for the same attempts.
    pub expected: f64,
    /// The smallest tail probability of the windows merged into the episode.
    pub p_value: f64,
    /// The refused attempts inside the episode, oldest first.
    pub attempt_ids: Vec<i64>,
}

/// `P(X ≥ k)` for a sum of independent Bernoulli(`p_i`), exactly, by dynamic
/// programming over the number of successes so far. Counts of `k` or more are one
/// absorbing state, and counts that can no longer reach `k` are dropped, so it costs
/// about `k · (n − k)` steps instead of `n²/2`.
pub fn poisson_binomial_tail(ps: &[f64], k: usize) -> f64 {
    let n = ps.len();
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    // dist[j] = P(exactly j successes so far) for j < k; dist[k] = P(at least k).
    let mut dist = vec![0.0f64; k + 1];
    dist[0] = 1.0;
    let mut lo = 0usize;
    for (i, &p) in ps.iter().enumerate() {
        let p = p.clamp(0.0, 1.0);
        let remaining = n - i - 1;
        // After this step, counts below `next_lo` cannot reach k any more.
        let next_lo = lo.max(k.saturating_sub(remaining));
        let hi = (i + 1).min(k);
        for j in (next_lo.max(1)..=hi).rev() {
            dist[j] = if j == k { dist[k] + dist[k - 1] * p } else { dist[j] * (1.0 - p) + dist[j - 1] * p };
        }
        if next_lo == 0 {
            dist[0] *= 1.0 - p;
        }
        lo = next_lo;
    }
    dist[k].clamp(0.0, 1.0)
}

#[cfg(test)]
fn days_between(a: Date, b: Date) -> i64 {
    a.until(b).map(|span| i64::from(span.get_days())).unwrap_or(0)
}

/// A facility's attempts and refusals on one day: what the rule reads, so it can run
/// over daily counts from storage instead of every attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FacilityDay {
    pub facility_id: i64,
    pub day: Date,
    pub attempts: u32,
    pub refusals: u32,
}

/// A change to a facility's counts on a day: added, or taken away when negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayChange {
    pub facility_id: i64,
    pub day: Date,
    pub attempts: i64,
    pub refusals: i64,
}

/// The organizations refused at a facility on a day, keyed `(facility, day)`.
pub type Refusers = HashMap<(i64, Date), Vec<i64>>;

/// Natural log of Γ(x) for x > 0 (Lanczos, g = 7; relative error about 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI.ln() - (std::f64::consts::PI * x).sin().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// `P(X ≥ k)` for X ~ Binomial(`n`, `p`), summed term by term from `k` up in O(n − k).
pub fn binomial_tail(n: u32, p: f64, k: u32) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let nf = f64::from(n);
    let ln_pmf = |j: u32| {
        let jf = f64::from(j);
        ln_gamma(nf + 1.0) - ln_gamma(jf + 1.0) - ln_gamma(nf - jf + 1.0) + jf * p.ln() + (nf - jf) * (1.0 - p).ln()
    };
    let ratio = p / (1.0 - p);
    if f64::from(k) > nf * p {
        // Above the mean the terms fall from k on: sum upwards.
        let (mut term, mut sum) = (1.0f64, 1.0f64);
        for j in k..n {
            term *= f64::from(n - j) / f64::from(j + 1) * ratio;
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
        }
        (ln_pmf(k).exp() * sum).clamp(0.0, 1.0)
    } else {
        // At or below the mean: one minus the lower tail, whose terms fall from k − 1 down.
        let (mut term, mut sum) = (1.0f64, 1.0f64);
        for j in (1..k).rev() {
            term *= f64::from(j) / f64::from(n - j + 1) / ratio;
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
        }
        (1.0 - ln_pmf(k - 1).exp() * sum).clamp(0.0, 1.0)
    }
}

/// `P(Z > z)` for a standard normal Z (Numerical Recipes' erfc: relative error below 1.2e-7).
fn normal_upper(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.5 * a);
    let poly = -a * a - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    0.5 * if x >= 0.0 { erfc } else { 2.0 - erfc }
}

/// A lower bound on `P(X ≥ k)` for X the sum of `n_i` Bernoulli(`p_i`) per group,
/// from the Berry–Esseen inequality (Shevtsova's constant 0.56 for non-identical
/// summands): `P(X ≤ k − 1) ≤ Φ((k − 1 − μ)/σ) + 0.56 Σρ/σ³`. Cheap, and rigorous: a
/// window whose bound is above `alpha` is surely not flagged, so the exact O(n²) tail
/// is only computed where it can matter.
fn tail_lower_bound(groups: &[(u32, f64)], k: usize) -> f64 {
    let (mut mu, mut var, mut rho) = (0.0, 0.0, 0.0);
    for &(n, p) in groups {
        let n = f64::from(n);
        let q = 1.0 - p;
        mu += n * p;
        var += n * p * q;
        rho += n * p * q * (p * p + q * q);
    }
    if var <= 0.0 {
        return 0.0;
    }
    let sigma = var.sqrt();
    let z = (k as f64 - 1.0 - mu) / sigma;
    normal_upper(z) * (1.0 - 1.2e-7) - 1e-12 - 0.56 * rho / (var * sigma)
}

/// One facility's days as dense arrays with prefix sums, for O(1) window sums.
struct Series {
    attempts: Vec<u32>,
    refusals: Vec<u32>,
    /// `prefix[i]` = (attempts, refusals) over days `0..i`.
    prefix: Vec<(u64, u64)>,
}

impl Series {
    fn new(attempts: Vec<u32>, refusals: Vec<u32>) -> Self {
        let mut s = Series { attempts, refusals, prefix: Vec::new() };
        s.sum_up();
        s
    }

    fn sum_up(&mut self) {
        self.prefix.clear();
        self.prefix.reserve(self.attempts.len() + 1);
        let mut acc = (0u64, 0u64);
        self.prefix.push(acc);
        for (a, r) in self.attempts.iter().zip(&self.refusals) {
            acc = (acc.0 + u64::from(*a), acc.1 + u64::from(*r));
            self.prefix.push(acc);
        }
    }

    /// Sums over day indices `[a, b]`, clamped to the data.
    fn sum(&self, a: i64, b: i64) -> (u64, u64) {
        let len = self.attempts.len() as i64;
        let (a, b) = (a.max(0), (b + 1).min(len));
        if a >= b {
            return (0, 0);
        }
        let (x, y) = (self.prefix[a as usize], self.prefix[b as usize]);
        (y.0 - x.0, y.1 - x.1)
    }
}

/// A window that passed conditions 1 and 3; condition 2 needs the refusing organizations.
#[derive(Debug, Clone)]
struct Window {
    start: i64,
    end: i64,
    p: f64,
    elevated: Vec<i64>,
}

/// The rule run over daily counts. [`Scan::new`] tests every window against the
/// facilities' baselines and the joint tail; the organizations refused (condition 2)
/// are asked for only on the days [`Scan::needs`] names, and [`Scan::episodes`] finishes.
pub struct Scan {
    settings: Settings,
    first: i32,
    series: BTreeMap<i64, Series>,
    windows: Vec<Window>,
}

impl Scan {
    pub fn new(days: &[FacilityDay], s: &Settings) -> Self {
        let mut scan = Scan { settings: *s, first: 0, series: BTreeMap::new(), windows: Vec::new() };
        let Some(first) = days.iter().map(|d| crate::access::day_number(d.day)).min() else { return scan };
        let last = days.iter().map(|d| crate::access::day_number(d.day)).max().unwrap_or(first);
        let len = (last - first + 1) as usize;
        scan.first = first;
        let mut raw: BTreeMap<i64, (Vec<u32>, Vec<u32>)> = BTreeMap::new();
        for d in days {
            let e = raw.entry(d.facility_id).or_insert_with(|| (vec![0; len], vec![0; len]));
            let i = (crate::access::day_number(d.day) - first) as usize;
            e.0[i] += d.attempts;
            e.1[i] += d.refusals.min(d.attempts);
        }
        for (f, (attempts, refusals)) in raw {
            scan.series.insert(f, Series::new(attempts, refusals));
        }
        if s.window_days < 1 {
            return scan;
        }
        scan.windows = (0..len as i64).filter_map(|end| scan.window(end)).collect();
        scan
    }

    /// The window ending at day index `end`, if it passes the baselines and the joint tail.
    fn window(&self, end: i64) -> Option<Window> {
        let s = &self.settings;
        let start = end - s.window_days + 1;
        let mut groups: Vec<(u32, f64)> = Vec::new();
        let (mut refusals, mut elevated) = (0usize, Vec::new());
        for (f, series) in &self.series {
            let (n, r) = series.sum(start, end);
            if n == 0 {
                continue;
            }
            let p = self.baseline(series, start);
            let (n, r) = (n as u32, r as u32);
            refusals += r as usize;
            groups.push((n, p));
            // The binomial median is ⌊np⌋ or ⌈np⌉: at or below it the tail is ≥ ½.
            if r > 0 && f64::from(r) > (f64::from(n) * p).floor() && binomial_tail(n, p, r) < s.facility_alpha {
                elevated.push(*f);
            }
        }
        if refusals == 0 || elevated.len() < s.min_facilities || tail_lower_bound(&groups, refusals) >= s.alpha {
            return None;
        }
        let ps: Vec<f64> = groups.iter().flat_map(|&(n, p)| std::iter::repeat_n(p, n as usize)).collect();
        let p = poisson_binomial_tail(&ps, refusals);
        (p < s.alpha).then_some(Window { start, end, p, elevated })
    }

    /// Applies changes to the daily counts (added, or taken away when negative) and
    /// re-tests only the windows they can touch: those whose days or baselines hold a
    /// changed day. Gives what [`Scan::new`] over the changed counts gives.
    pub fn update(&mut self, changes: &[DayChange]) {
        if changes.is_empty() {
            return;
        }
        let len = self.series.values().next().map(|x| x.attempts.len()).unwrap_or(0) as i64;
        let index = |d: Date| i64::from(crate::access::day_number(d) - self.first);
        let outside =
            changes.iter().any(|c| !(0..len).contains(&index(c.day)) || !self.series.contains_key(&c.facility_id));
        if outside || self.settings.window_days < 1 {
            // The range of days or of facilities grows: start over from the counts.
            let mut days = self.days();
            days.extend(changes.iter().map(|c| FacilityDay {
                facility_id: c.facility_id,
                day: c.day,
                attempts: 0,
                refusals: 0,
            }));
            let mut totals: BTreeMap<(i64, Date), (i64, i64)> = BTreeMap::new();
            for d in &days {
                let e = totals.entry((d.facility_id, d.day)).or_default();
                e.0 += i64::from(d.attempts);
                e.1 += i64::from(d.refusals);
            }
            for c in changes {
                let e = totals.entry((c.facility_id, c.day)).or_default();
                e.0 += c.attempts;
                e.1 += c.refusals;
            }
            let days: Vec<FacilityDay> = totals
                .into_iter()
                .filter(|(_, (a, _))| *a > 0)
                .map(|((facility_id, day), (a, r))| FacilityDay {
                    facility_id,
                    day,
                    attempts: u32::try_from(a).unwrap_or(u32::MAX),
                    refusals: u32::try_from(r.max(0)).unwrap_or(u32::MAX),
                })
                .collect();
            *self = Scan::new(&days, &self.settings);
            return;
        }
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let mut touched = BTreeSet::new();
        for c in changes {
            let i = index(c.day);
            if let Some(series) = self.series.get_mut(&c.facility_id) {
                let a = (i64::from(series.attempts[i as usize]) + c.attempts).max(0);
                let r = (i64::from(series.refusals[i as usize]) + c.refusals).clamp(0, a);
                series.attempts[i as usize] = u32::try_from(a).unwrap_or(u32::MAX);
                series.refusals[i as usize] = u32::try_from(r).unwrap_or(u32::MAX);
                touched.insert(c.facility_id);
            }
            lo = lo.min(i);
            hi = hi.max(i);
        }
        for f in touched {
            if let Some(series) = self.series.get_mut(&f) {
                series.sum_up();
            }
        }
        // A scan spans the first to the last day with an attempt: when the change
        // empties either end, the span shrinks, so start over as a fresh scan would.
        let empty = |i: usize| self.series.values().all(|x| x.attempts[i] == 0);
        if len > 0 && (empty(0) || empty(len as usize - 1)) {
            *self = Scan::new(&self.days(), &self.settings);
            return;
        }
        let last = (hi + self.settings.window_days - 1 + self.settings.baseline_days).min(len - 1);
        self.windows.retain(|w| w.end < lo || w.end > last);
        let fresh: Vec<Window> = (lo..=last).filter_map(|end| self.window(end)).collect();
        self.windows.extend(fresh);
        self.windows.sort_by_key(|w| w.end);
    }

    /// The counts as days again.
    fn days(&self) -> Vec<FacilityDay> {
        let mut out = Vec::new();
        for (f, series) in &self.series {
            for (i, (a, r)) in series.attempts.iter().zip(&series.refusals).enumerate() {
                if *a > 0 {
                    out.push(FacilityDay { facility_id: *f, day: self.date(i as i64), attempts: *a, refusals: *r });
                }
            }
        }
        out
    }

    /// A facility's baseline refusal rate for a window starting at day index `start`.
    fn baseline(&self, series: &Series, start: i64) -> f64 {
        let (n, r) = series.sum(start - self.settings.baseline_days, start - 1);
        (r as f64 + 0.5) / (n as f64 + 1.0)
    }

    fn date(&self, index: i64) -> Date {
        crate::access::date_of_day(self.first + index as i32)
    }

    /// The days `[from, until)` on which [`Scan::episodes`] needs the refusing
    /// organizations: the windows that passed the other two conditions, merged.
    pub fn needs(&self) -> Vec<(Date, Date)> {
        let mut spans: Vec<(i64, i64)> = Vec::new();
        for w in &self.windows {
            match spans.last_mut() {
                Some(last) if w.start <= last.1 + 1 => last.1 = last.1.max(w.end),
                _ => spans.push((w.start, w.end)),
            }
        }
        spans.into_iter().map(|(a, b)| (self.date(a), self.date(b + 1))).collect()
    }

    /// The episodes, given the refusing organizations on the days [`Scan::needs`]
    /// names. Their `attempt_ids` are left for the caller to fill.
    pub fn episodes(&self, refusers: &Refusers) -> Vec<Episode> {
        let s = &self.settings;
        let orgs_at = |facilities: &mut dyn Iterator<Item = i64>, a: i64, b: i64| -> BTreeSet<i64> {
            let mut out = BTreeSet::new();
            for f in facilities {
                for i in a.max(0)..=b {
                    if let Some(list) = refusers.get(&(f, self.date(i))) {
                        out.extend(list.iter().copied());
                    }
                }
            }
            out
        };
        let mut spans: Vec<(i64, i64, f64)> = Vec::new();
        for w in &self.windows {
            if orgs_at(&mut w.elevated.iter().copied(), w.start, w.end).len() < s.min_orgs {
                continue;
            }
            match spans.last_mut() {
                Some(last) if w.start <= last.1 + 1 => {
                    last.1 = last.1.max(w.end);
                    last.2 = last.2.min(w.p);
                }
                _ => spans.push((w.start, w.end, w.p)),
            }
        }
        spans
            .into_iter()
            .map(|(a, b, p)| {
                let (mut attempts, mut refusals, mut expected) = (0u64, 0u64, 0.0f64);
                let (mut first_refusal, mut last_refusal) = (i64::MAX, i64::MIN);
                let mut facilities = Vec::new();
                for (f, series) in &self.series {
                    let (n, r) = series.sum(a, b);
                    attempts += n;
                    refusals += r;
                    if r > 0 {
                        facilities.push(*f);
                    }
                    for i in a.max(0)..=b.min(series.attempts.len() as i64 - 1) {
                        let day_n = series.attempts[i as usize];
                        if day_n > 0 {
                            expected += f64::from(day_n) * self.baseline(series, i - s.window_days + 1);
                        }
                        if series.sum(i, i).1 > 0 {
                            first_refusal = first_refusal.min(i);
                            last_refusal = last_refusal.max(i);
                        }
                    }
                }
                let (start, end) = if first_refusal <= last_refusal {
                    (self.date(first_refusal), self.date(last_refusal))
                } else {
                    (self.date(0), self.date(0))
                };
                Episode {
                    start,
                    end,
                    orgs: orgs_at(&mut facilities.iter().copied(), a, b).into_iter().collect(),
                    facilities,
                    attempts: attempts as usize,
                    refusals: refusals as usize,
                    expected,
                    p_value: p,
                    attempt_ids: Vec::new(),
                }
            })
            .collect()
    }
}

/// Finds the episodes in `observations` (any order), with the refused attempts behind each.
pub fn detect(observations: &[Observation], s: &Settings) -> Vec<Episode> {
    let mut cells: BTreeMap<(i64, Date), (u32, u32)> = BTreeMap::new();
    let mut refusers: Refusers = HashMap::new();
    for o in observations {
        let e = cells.entry((o.facility_id, o.day)).or_default();
        e.0 += 1;
        if o.refused {
            e.1 += 1;
            let list = refusers.entry((o.facility_id, o.day)).or_default();
            if !list.contains(&o.org_id) {
                list.push(o.org_id);
            }
        }
    }
    let days: Vec<FacilityDay> = cells
        .into_iter()
        .map(|((facility_id, day), (attempts, refusals))| FacilityDay { facility_id, day, attempts, refusals })
        .collect();
    let mut refused: Vec<&Observation> = observations.iter().filter(|o| o.refused).collect();
    refused.sort_by_key(|o| (o.day, o.attempt_id));
    let mut episodes = Scan::new(&days, s).episodes(&refusers);
    for e in &mut episodes {
        e.attempt_ids = refused.iter().filter(|o| o.day >= e.start && o.day <= e.end).map(|o| o.attempt_id).collect();
    }
    episodes
}

/// The rule as first written, attempt by attempt: the reference the daily version
/// must agree with.
#[cfg(test)]
fn detect_reference(observations: &[Observation], s: &Settings) -> Vec<Episode> {
    if observations.is_empty() || s.window_days < 1 {
        return Vec::new();
    }
    let mut obs: Vec<Observation> = observations.to_vec();
    obs.sort_by_key(|o| (o.day, o.attempt_id));
    let first = obs[0].day;
    let index = |d: Date| days_between(first, d);
    let last_day = index(obs[obs.len() - 1].day);
    // Per facility, cumulative attempts and refusals by day index, for O(1) baselines.
    let mut per_day: HashMap<i64, BTreeMap<i64, (u32, u32)>> = HashMap::new();
    for o in &obs {
        let e = per_day.entry(o.facility_id).or_default().entry(index(o.day)).or_default();
        e.0 += 1;
        e.1 += u32::from(o.refused);
    }
    let baseline = |facility: i64, start: i64| -> f64 {
        let (mut n, mut r) = (0u32, 0u32);
        if let Some(days) = per_day.get(&facility) {
            for (_, (a, x)) in days.range((start - s.baseline_days)..start) {
                n += a;
                r += x;
            }
        }
        (f64::from(r) + 0.5) / (f64::from(n) + 1.0)
    };
    let mut flagged: Vec<(i64, i64, f64)> = Vec::new();
    let mut lo = 0usize;
    let mut hi = 0usize;
    for end in 0..=last_day {
        let start = end - s.window_days + 1;
        while hi < obs.len() && index(obs[hi].day) <= end {
            hi += 1;
        }
        while lo < hi && index(obs[lo].day) < start {
            lo += 1;
        }
        let window = &obs[lo..hi];
        let refusals = window.iter().filter(|o| o.refused).count();
        if refusals == 0 {
            continue;
        }
        // Each facility against its own baseline.
        let mut by_facility: BTreeMap<i64, (Vec<f64>, usize)> = BTreeMap::new();
        for o in window {
            let e = by_facility.entry(o.facility_id).or_insert_with(|| (Vec::new(), 0));
            e.0.push(baseline(o.facility_id, start));
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
        if p < s.alpha {
            flagged.push((start, end, p));
        }
    }
    // Merge overlapping or touching windows into episodes.
    let mut spans: Vec<(i64, i64, f64)> = Vec::new();
    for (a, b, p) in flagged {
        match spans.last_mut() {
            Some(last) if a <= last.1 + 1 => {
                last.1 = last.1.max(b);
                last.2 = last.2.min(p);
            }
            _ => spans.push((a, b, p)),
        }
    }
    spans
        .into_iter()
        .map(|(a, b, p)| {
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
                expected: inside.iter().map(|o| baseline(o.facility_id, index(o.day) - s.window_days + 1)).sum(),
                p_value: p,
                attempt_ids: refused.iter().map(|o| o.attempt_id).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn day(n: i64) -> Date {
        date(2019, 1, 1).checked_add(jiff::Span::new().days(n)).expect("date")
    }

    /// A quiet background: 4 organizations visiting 5 facilities, ~5 % refused.
    fn background(days: i64, seed: u64) -> Vec<Observation> {
        let mut x = seed | 1;
        let mut out = Vec::new();
        let mut id = 0;
        for d in 0..days {
            for f in 0..5 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x.is_multiple_of(3) {
                    id += 1;
                    out.push(Observation {
                        attempt_id: id,
                        org_id: (x % 4) as i64,
                        facility_id: f,
                        day: day(d),
                        refused: x % 20 == 7,
                    });
                }
            }
        }
        out
    }

    fn inject(obs: &mut Vec<Observation>, start: i64, orgs: i64, facilities: i64) {
        let mut id = 1_000_000;
        for d in start..start + 3 {
            for o in 0..orgs {
                for f in 0..facilities {
                    id += 1;
                    obs.push(Observation { attempt_id: id, org_id: o, facility_id: f, day: day(d), refused: true });
                }
            }
        }
    }

    #[test]
    fn the_tail_matches_the_binomial_when_rates_are_equal() {
        // P(X >= 2) for Binomial(3, 0.5) = 4/8.
        assert!((poisson_binomial_tail(&[0.5, 0.5, 0.5], 2) - 0.5).abs() < 1e-12);
        assert_eq!(poisson_binomial_tail(&[0.1, 0.2], 0), 1.0);
        assert_eq!(poisson_binomial_tail(&[0.1, 0.2], 3), 0.0);
        assert!((poisson_binomial_tail(&[0.1, 0.2], 2) - 0.02).abs() < 1e-12);
    }

    #[test]
    fn a_coordinated_closing_is_flagged_and_a_quiet_year_is_not() {
        let mut obs = background(300, 7);
        assert!(detect(&obs, &Settings::default()).is_empty(), "quiet background");
        inject(&mut obs, 200, 3, 3);
        let eps = detect(&obs, &Settings::default());
        assert_eq!(eps.len(), 1, "{eps:?}");
        let e = &eps[0];
        assert!(e.start <= day(200) && e.end >= day(202), "{e:?}");
        assert!(e.orgs.len() >= 3 && e.facilities.len() >= 3);
        assert!(e.refusals as f64 > 5.0 * e.expected);
        assert!(e.p_value < 1e-6);
    }

    #[test]
    fn busy_facilities_are_judged_the_same_by_both_rules() {
        // Windows of thousands of attempts: the screens and the O(n) binomial tail
        // must not change a single decision.
        let mut obs = Vec::new();
        let mut x = 99u64;
        for d in 0..260 {
            for f in 0..6 {
                for _ in 0..40 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    obs.push(Observation {
                        attempt_id: obs.len() as i64,
                        org_id: (x % 9) as i64,
                        facility_id: f,
                        day: day(d),
                        refused: x % 100 < 10 + 2 * f as u64 || ((200..204).contains(&d) && f < 4 && x % 100 < 60),
                    });
                }
            }
        }
        let s = Settings::default();
        let (new, old) = (detect(&obs, &s), detect_reference(&obs, &s));
        assert_eq!(new.len(), 1, "{new:?}");
        assert_eq!((new[0].start, new[0].end, new[0].refusals), (old[0].start, old[0].end, old[0].refusals));
        // Trimmed to refusals, which happen every day here: within a window of the closing.
        assert!(new[0].start >= day(194) && new[0].end <= day(210), "{:?}", (new[0].start, new[0].end));
        assert!((new[0].p_value - old[0].p_value).abs() <= 1e-9 * old[0].p_value.max(1e-300));
    }

    #[test]
    fn one_organization_or_one_facility_is_not_a_general_suspension() {
        let mut obs = background(300, 11);
        inject(&mut obs, 200, 1, 5);
        assert!(detect(&obs, &Settings::default()).is_empty(), "a single organization");
        let mut obs = background(300, 11);
        inject(&mut obs, 200, 4, 1);
        assert!(detect(&obs, &Settings::default()).is_empty(), "a single facility");
    }

    fn any_observations() -> impl Strategy<Value = Vec<Observation>> {
        proptest::collection::vec((0i64..4, 0i64..4, 0i64..120, any::<bool>()), 0..250).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (o, f, d, r))| Observation {
                    attempt_id: i as i64,
                    org_id: o,
                    facility_id: f,
                    day: day(d),
                    refused: r,
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn episodes_rest_only_on_refusals_inside_them(obs in any_observations()) {
            let s = Settings { alpha: 0.05, min_orgs: 2, min_facilities: 2, ..Settings::default() };
            let by_id: HashMap<i64, &Observation> = obs.iter().map(|o| (o.attempt_id, o)).collect();
            let eps = detect(&obs, &s);
            for e in &eps {
                prop_assert!(e.start <= e.end);
                prop_assert!(e.orgs.len() >= s.min_orgs && e.facilities.len() >= s.min_facilities);
                prop_assert_eq!(e.refusals, e.attempt_ids.len());
                for id in &e.attempt_ids {
                    let o = by_id[id];
                    prop_assert!(o.refused && o.day >= e.start && o.day <= e.end);
                }
            }
            for pair in eps.windows(2) {
                prop_assert!(pair[0].end < pair[1].start, "episodes are disjoint and ordered");
            }
        }

        #[test]
        fn input_order_does_not_matter(obs in any_observations()) {
            let s = Settings { alpha: 0.05, min_orgs: 2, min_facilities: 2, ..Settings::default() };
            let mut reversed = obs.clone();
            reversed.reverse();
            prop_assert_eq!(detect(&obs, &s), detect(&reversed, &s));
        }

        #[test]
        fn too_few_organizations_never_fire(obs in any_observations()) {
            let s = Settings { alpha: 1.0, ..Settings::default() };
            let orgs: BTreeSet<i64> = obs.iter().filter(|o| o.refused).map(|o| o.org_id).collect();
            let facilities: BTreeSet<i64> = obs.iter().filter(|o| o.refused).map(|o| o.facility_id).collect();
            if orgs.len() < s.min_orgs || facilities.len() < s.min_facilities {
                prop_assert!(detect(&obs, &s).is_empty());
            }
        }

        #[test]
        fn daily_counts_find_what_the_attempt_by_attempt_rule_finds(
            obs in any_observations(), alpha in 0.001f64..0.2, orgs in 1usize..4, facilities in 1usize..4, w in 1i64..10,
        ) {
            let s = Settings { alpha, min_orgs: orgs, min_facilities: facilities, window_days: w, ..Settings::default() };
            let (new, old) = (detect(&obs, &s), detect_reference(&obs, &s));
            prop_assert_eq!(new.len(), old.len());
            for (a, b) in new.iter().zip(&old) {
                prop_assert_eq!((a.start, a.end, &a.orgs, &a.facilities), (b.start, b.end, &b.orgs, &b.facilities));
                prop_assert_eq!((a.attempts, a.refusals, &a.attempt_ids), (b.attempts, b.refusals, &b.attempt_ids));
                prop_assert!((a.expected - b.expected).abs() < 1e-9 * b.expected.max(1.0));
                prop_assert!((a.p_value - b.p_value).abs() <= 1e-12 * b.p_value.max(1e-300));
            }
        }

        #[test]
        fn updating_a_scan_gives_what_scanning_again_gives(
            before in proptest::collection::vec((0i64..4, 0i64..90, 1u32..6, 0u32..6), 0..120),
            changes in proptest::collection::vec((0i64..5, -5i64..100, -3i64..4, -3i64..4), 0..8),
        ) {
            let s = Settings { alpha: 0.05, min_orgs: 1, min_facilities: 1, window_days: 5, baseline_days: 20, ..Settings::default() };
            let mut totals: BTreeMap<(i64, Date), (i64, i64)> = BTreeMap::new();
            for (f, d, a, r) in &before {
                let e = totals.entry((*f, day(*d))).or_default();
                e.0 += i64::from(*a);
                e.1 += i64::from((*r).min(*a));
            }
            let as_days = |t: &BTreeMap<(i64, Date), (i64, i64)>| -> Vec<FacilityDay> {
                t.iter()
                    .filter(|(_, (a, _))| *a > 0)
                    .map(|((f, d), (a, r))| FacilityDay { facility_id: *f, day: *d, attempts: *a as u32, refusals: (*r).clamp(0, *a) as u32 })
                    .collect()
            };
            let mut scan = Scan::new(&as_days(&totals), &s);
            let mut applied = Vec::new();
            for (f, d, da, dr) in changes {
                let e = totals.entry((f, day(d))).or_default();
                // Never take away more than is there, as the store never does.
                let da = da.max(-e.0);
                let dr = dr.max(-e.1).min(e.0 + da - e.1);
                e.0 += da;
                e.1 += dr;
                applied.push(DayChange { facility_id: f, day: day(d), attempts: da, refusals: dr });
            }
            scan.update(&applied);
            let again = Scan::new(&as_days(&totals), &s);
            let refusers: Refusers = as_days(&totals).iter().filter(|d| d.refusals > 0).map(|d| ((d.facility_id, d.day), vec![d.facility_id % 3])).collect();
            prop_assert_eq!(scan.needs(), again.needs());
            prop_assert_eq!(scan.episodes(&refusers), again.episodes(&refusers));
        }

        #[test]
        fn the_binomial_tail_matches_the_exact_sum(n in 0u32..300, p in 0.001f64..0.999, k in 0u32..320) {
            let exact = poisson_binomial_tail(&vec![p; n as usize], k as usize);
            let fast = binomial_tail(n, p, k);
            prop_assert!((fast - exact).abs() <= 1e-9 * exact.max(1e-12), "{} vs {}", fast, exact);
        }

        #[test]
        fn the_berry_esseen_bound_never_exceeds_the_tail(
            groups in proptest::collection::vec((1u32..60, 0.01f64..0.99), 1..6), k in 0usize..200,
        ) {
            let ps: Vec<f64> = groups.iter().flat_map(|&(n, p)| std::iter::repeat_n(p, n as usize)).collect();
            prop_assert!(tail_lower_bound(&groups, k) <= poisson_binomial_tail(&ps, k) + 1e-12);
        }

        #[test]
        fn the_tail_is_a_probability_and_falls_with_k(ps in proptest::collection::vec(0.0f64..=1.0, 0..40), k in 0usize..45) {
            let t = poisson_binomial_tail(&ps, k);
            prop_assert!((0.0..=1.0).contains(&t));
            prop_assert!(poisson_binomial_tail(&ps, k + 1) <= t + 1e-12);
        }
    }
}

/// Attempts and refusals in a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub attempts: usize,
    pub refusals: usize,
}

impl Tally {
    /// The share of attempts refused, or `None` for no attempts.
    pub fn rate(&self) -> Option<f64> {
        (self.attempts > 0).then(|| self.refusals as f64 / self.attempts as f64)
    }
}

/// Counts attempts and refusals by a key.
pub fn tally_by<K: Ord>(obs: &[Observation], key: impl Fn(&Observation) -> K) -> BTreeMap<K, Tally> {
    let mut out: BTreeMap<K, Tally> = BTreeMap::new();
    for o in obs {
        let t = out.entry(key(o)).or_default();
        t.attempts += 1;
        t.refusals += usize::from(o.refused);
    }
    out
}

#[cfg(test)]
mod tally_tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn tallies_count_refusals_by_key() {
        let o = |id, org, refused, m| Observation {
            attempt_id: id,
            org_id: org,
            facility_id: 1,
            day: date(2020, m, 1),
            refused,
        };
        let obs = [o(1, 1, true, 1), o(2, 1, false, 1), o(3, 2, true, 2)];
        let by_org = tally_by(&obs, |o| o.org_id);
        assert_eq!(by_org[&1], Tally { attempts: 2, refusals: 1 });
        assert_eq!(by_org[&1].rate(), Some(0.5));
        let by_month = tally_by(&obs, |o| (o.day.year(), o.day.month()));
        assert_eq!(by_month[&(2020, 2)].refusals, 1);
        assert_eq!(Tally::default().rate(), None);
    }
}

/// A day's cell in a facility's calendar of outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCell {
    pub day: i8,
    pub attempts: usize,
    pub refusals: usize,
    /// The worst outcome class that day: "refused", "partial", "granted" or "none".
    pub class: &'static str,
}

/// A month as weeks of seven cells, Monday first; `None` pads days of other months.
pub type MonthGrid = Vec<[Option<DayCell>; 7]>;

/// The months of `year` that had attempts, as grids. `class_of` gives each attempt's
/// class; the worst of the day wins (refused over partial over granted).
pub fn calendar_months(year: i16, days: &[(Date, &'static str)]) -> Vec<(i8, MonthGrid)> {
    let rank = |c: &str| match c {
        "refused" => 3,
        "partial" => 2,
        "granted" => 1,
        _ => 0,
    };
    let mut by_day: BTreeMap<Date, (usize, usize, &'static str)> = BTreeMap::new();
    for (d, class) in days.iter().filter(|(d, _)| d.year() == year) {
        let e = by_day.entry(*d).or_insert((0, 0, "none"));
        e.0 += 1;
        e.1 += usize::from(*class == "refused");
        if rank(class) > rank(e.2) {
            e.2 = class;
        }
    }
    let months: BTreeSet<i8> = by_day.keys().map(|d| d.month()).collect();
    months
        .into_iter()
        .filter_map(|m| {
            let first = Date::new(year, m, 1).ok()?;
            let offset = first.weekday().to_monday_zero_offset() as usize;
            let mut weeks: MonthGrid = Vec::new();
            let mut week: [Option<DayCell>; 7] = Default::default();
            let mut col = offset;
            for day in 1..=first.days_in_month() {
                let d = Date::new(year, m, day).ok()?;
                let (attempts, refusals, class) = by_day.get(&d).copied().unwrap_or((0, 0, "none"));
                week[col] = Some(DayCell { day, attempts, refusals, class });
                col += 1;
                if col == 7 {
                    weeks.push(std::mem::take(&mut week));
                    col = 0;
                }
            }
            if col > 0 {
                weeks.push(week);
            }
            Some((m, weeks))
        })
        .collect()
}

#[cfg(test)]
mod calendar_tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_worst_outcome_of_the_day_colors_it() {
        let days = [
            (date(2020, 1, 20), "granted"),
            (date(2020, 1, 20), "refused"),
            (date(2020, 1, 21), "partial"),
            (date(2019, 5, 1), "granted"),
        ];
        let months = calendar_months(2020, &days);
        assert_eq!(months.len(), 1, "only months with attempts");
        let (m, weeks) = &months[0];
        assert_eq!(*m, 1);
        // January 2020 began on a Wednesday: two blanks before the 1st.
        assert!(weeks[0][0].is_none() && weeks[0][1].is_none());
        assert_eq!(weeks[0][2].as_ref().map(|c| c.day), Some(1));
        let cells: Vec<&DayCell> = weeks.iter().flatten().flatten().collect();
        assert_eq!(cells.len(), 31);
        let d20 = cells.iter().find(|c| c.day == 20).expect("20th");
        assert_eq!((d20.class, d20.attempts, d20.refusals), ("refused", 2, 1));
        assert_eq!(cells.iter().find(|c| c.day == 21).map(|c| c.class), Some("partial"));
        assert_eq!(cells.iter().find(|c| c.day == 22).map(|c| c.class), Some("none"));
    }
}
