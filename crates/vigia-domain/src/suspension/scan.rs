//! The rule over daily counts: [`Scan`] tests every window, at every length, and
//! finishes the episodes once the refusing organizations are known.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;

use super::stats::{binomial_tail, poisson_binomial_tail, tail_bounds, Moments};
use super::{Episode, Settings};

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

/// One facility's days as dense arrays with prefix sums, for O(1) window sums.
pub(super) struct Series {
    pub(super) attempts: Vec<u32>,
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

/// What is known of a flagged window's joint tail: its exact value, or bounds that
/// already put it below the level (the exact value is then computed only if an
/// episode's p-value may be this window's).
#[derive(Debug, Clone, Copy)]
enum Tail {
    Exact(f64),
    Between(f64, f64),
}

impl Tail {
    fn lower(self) -> f64 {
        match self {
            Tail::Exact(p) | Tail::Between(p, _) => p,
        }
    }

    fn upper(self) -> f64 {
        match self {
            Tail::Exact(p) | Tail::Between(_, p) => p,
        }
    }
}

/// A window that passed conditions 1 and 3; condition 2 needs the refusing organizations.
#[derive(Debug, Clone)]
pub(super) struct Window {
    start: i64,
    pub(super) end: i64,
    tail: Tail,
    elevated: Vec<i64>,
}

impl Window {
    fn len(&self) -> i64 {
        self.end - self.start + 1
    }
}

/// In a window longer than `window_days`, a facility takes part only if its baseline
/// holds at least this many times its attempts in the window (see the module doc).
const LONG_WINDOW_RECORD: u64 = 2;

/// Above this many attempts × refusals in a window (the exact tail's cost), the joint
/// tail is first bounded by [`tail_bounds`], and computed exactly only if the bounds
/// leave the decision open, or an episode needs its value.
const EXACT_BUDGET: u64 = 10_000;

/// The rule run over daily counts. [`Scan::new`] tests every window, at every length,
/// against the facilities' baselines and the joint tail; the organizations refused
/// (condition 2) are asked for only on the days [`Scan::needs`] names, and
/// [`Scan::episodes`] finishes.
pub struct Scan {
    settings: Settings,
    first: i32,
    pub(super) series: BTreeMap<i64, Series>,
    /// Ordered by start, then end.
    windows: Vec<Window>,
    /// See [`EXACT_BUDGET`]; tests lower it to reach the bounds on small data.
    exact_budget: u64,
}

impl Scan {
    pub fn new(days: &[FacilityDay], s: &Settings) -> Self {
        Scan::build(days, s, EXACT_BUDGET)
    }

    pub(super) fn build(days: &[FacilityDay], s: &Settings, exact_budget: u64) -> Self {
        let mut scan = Scan { settings: *s, first: 0, series: BTreeMap::new(), windows: Vec::new(), exact_budget };
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
        let mut windows = Vec::new();
        for end in 0..len as i64 {
            scan.windows_ending(end, &mut windows);
        }
        windows.sort_by_key(|w| (w.start, w.end));
        scan.windows = windows;
        scan
    }

    /// The windows ending at day index `end` that pass the baselines and the joint tail,
    /// one length after another. Once a window reaches back to the first day, the longer
    /// ones have no record before them, so no facility takes part: they are not tested.
    fn windows_ending(&self, end: i64, out: &mut Vec<Window>) {
        let alpha = self.settings.scale_alpha();
        let mut counts = Vec::with_capacity(self.series.len());
        for k in 0..self.settings.scale_count() {
            let len = self.settings.length(k);
            out.extend(self.window(end, len, alpha, &mut counts));
            if end - len < 0 {
                break;
            }
        }
    }

    /// Each facility taking part in the window `[start, end]`, into `out`: (facility,
    /// attempts, refusals, baseline rate as of `start`). In a window longer than
    /// `window_days`, a facility takes part only if its baseline holds at least
    /// [`LONG_WINDOW_RECORD`] times its attempts in the window.
    fn counts(&self, start: i64, end: i64, out: &mut Vec<(i64, u32, u32, f64)>) {
        let s = &self.settings;
        let long = end - start + 1 > s.window_days;
        out.clear();
        for (f, series) in &self.series {
            let (n, r) = series.sum(start, end);
            if n == 0 {
                continue;
            }
            let (record, refused) = series.sum(start.saturating_sub(s.baseline_days), start - 1);
            if long && record < LONG_WINDOW_RECORD.saturating_mul(n) {
                continue;
            }
            out.push((*f, n as u32, r as u32, (refused as f64 + 0.5) / (record as f64 + 1.0)));
        }
    }

    /// The exact joint tail of the window `[start, end]`.
    fn exact_tail(&self, start: i64, end: i64) -> f64 {
        let mut counts = Vec::new();
        self.counts(start, end, &mut counts);
        let refusals = counts.iter().map(|c| c.2 as usize).sum();
        let ps: Vec<f64> = counts.iter().flat_map(|&(_, n, _, p)| std::iter::repeat_n(p, n as usize)).collect();
        poisson_binomial_tail(&ps, refusals)
    }

    /// The window of `len` days ending at day index `end`, if it passes the baselines and
    /// the joint tail at `alpha`. The cheap screens come first: a window can only be
    /// flagged if enough facilities refused above their median and the Berry–Esseen bound
    /// leaves room below `alpha`; each facility's own tail is computed only then, and the
    /// exact joint tail of a large window only when [`tail_bounds`] cannot decide.
    /// `counts` is room to work in.
    fn window(&self, end: i64, len: i64, alpha: f64, counts: &mut Vec<(i64, u32, u32, f64)>) -> Option<Window> {
        let s = &self.settings;
        let start = end - len + 1;
        self.counts(start, end, counts);
        let (mut refusals, mut candidates, mut moments) = (0usize, 0usize, Moments::default());
        // The binomial median is ⌊np⌋ or ⌈np⌉: at or below it the tail is ≥ ½.
        let candidate = |&(_, n, r, p): &(i64, u32, u32, f64)| r > 0 && f64::from(r) > (f64::from(n) * p).floor();
        for c in counts.iter() {
            refusals += c.2 as usize;
            candidates += usize::from(candidate(c));
            moments.add(c.1, c.3);
        }
        if refusals == 0 || candidates < s.min_facilities || moments.tail_lower_bound(refusals) >= alpha {
            return None;
        }
        let elevated: Vec<i64> = counts
            .iter()
            .filter(|c| candidate(c) && binomial_tail(c.1, c.3, c.2) < s.facility_alpha)
            .map(|c| c.0)
            .collect();
        if elevated.len() < s.min_facilities {
            return None;
        }
        let groups: Vec<(u32, f64)> = counts.iter().map(|&(_, n, _, p)| (n, p)).collect();
        let attempts: u64 = groups.iter().map(|&(n, _)| u64::from(n)).sum();
        if attempts.saturating_mul(refusals as u64) > self.exact_budget {
            let (lower, upper) = tail_bounds(&groups, refusals);
            if lower >= alpha {
                return None;
            }
            if upper < alpha {
                return Some(Window { start, end, tail: Tail::Between(lower, upper), elevated });
            }
        }
        let ps: Vec<f64> = groups.iter().flat_map(|&(n, p)| std::iter::repeat_n(p, n as usize)).collect();
        let p = poisson_binomial_tail(&ps, refusals);
        (p < alpha).then_some(Window { start, end, tail: Tail::Exact(p), elevated })
    }

    /// Applies changes to the daily counts (added, or taken away when negative) and
    /// re-tests only the windows they can touch: those, of any length, whose days or
    /// baselines hold a changed day. Gives what [`Scan::new`] over the changed counts gives.
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
            *self = Scan::build(&days, &self.settings, self.exact_budget);
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
            *self = Scan::build(&self.days(), &self.settings, self.exact_budget);
            return;
        }
        // A changed day is inside the windows ending up to the longest length − 1 days
        // after it, and inside the baselines of those ending up to `baseline_days` more.
        let longest = self.settings.length(self.settings.scale_count() - 1);
        let last = hi.saturating_add(longest - 1).saturating_add(self.settings.baseline_days).min(len - 1);
        self.windows.retain(|w| w.end < lo || w.end > last);
        let mut fresh = Vec::new();
        for end in lo..=last {
            self.windows_ending(end, &mut fresh);
        }
        self.windows.extend(fresh);
        self.windows.sort_by_key(|w| (w.start, w.end));
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
        let (n, r) = series.sum(start.saturating_sub(self.settings.baseline_days), start - 1);
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

    /// The organizations refused at `facilities` on day indices `[a, b]`.
    fn orgs_at(&self, refusers: &Refusers, facilities: &[i64], a: i64, b: i64) -> BTreeSet<i64> {
        let mut out = BTreeSet::new();
        for f in facilities {
            for i in a.max(0)..=b {
                if let Some(list) = refusers.get(&(*f, self.date(i))) {
                    out.extend(list.iter().copied());
                }
            }
        }
        out
    }

    /// The windows that pass all three conditions, ordered by start.
    pub(super) fn flagged(&self, refusers: &Refusers) -> Vec<&Window> {
        let min = self.settings.min_orgs;
        let enough = |w: &Window| {
            let mut orgs = BTreeSet::new();
            for i in w.start.max(0)..=w.end {
                for f in &w.elevated {
                    if let Some(list) = refusers.get(&(*f, self.date(i))) {
                        orgs.extend(list.iter().copied());
                        if orgs.len() >= min {
                            return true;
                        }
                    }
                }
            }
            orgs.len() >= min
        };
        self.windows.iter().filter(|w| enough(w)).collect()
    }

    /// The smallest exact tail among `windows`, and its window's length (the shortest
    /// among equal tails). A window whose lower bound is above some window's upper bound
    /// cannot hold the smallest, so its exact tail is not computed.
    fn smallest_tail(&self, windows: &[&Window]) -> (f64, i64) {
        let ceiling = windows.iter().map(|w| w.tail.upper()).fold(f64::INFINITY, f64::min);
        let mut best: Option<(f64, i64)> = None;
        for w in windows.iter().filter(|w| w.tail.lower() <= ceiling) {
            let p = match w.tail {
                Tail::Exact(p) => p,
                Tail::Between(..) => self.exact_tail(w.start, w.end),
            };
            if best.is_none_or(|(q, len)| p < q || (p == q && w.len() < len)) {
                best = Some((p, w.len()));
            }
        }
        best.unwrap_or((1.0, self.settings.window_days))
    }

    /// The episodes, given the refusing organizations on the days [`Scan::needs`]
    /// names. Their `attempt_ids` are left for the caller to fill.
    pub fn episodes(&self, refusers: &Refusers) -> Vec<Episode> {
        let s = &self.settings;
        let flagged = self.flagged(refusers);
        // The flagged windows' ends by length (each list ascending, as the windows are
        // ordered by start): a window holds a shorter flagged window of length `l` when
        // one ends between its start + l − 1 and its end.
        let mut ends: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for w in &flagged {
            ends.entry(w.len()).or_default().push(w.end);
        }
        let holds_shorter = |w: &Window| {
            ends.range(..w.len()).any(|(l, list)| {
                let from = list.partition_point(|&e| e < w.start + l - 1);
                list.get(from).is_some_and(|&e| e <= w.end)
            })
        };
        // Merge the windows holding no shorter flagged window, in order of start, where
        // they overlap or touch.
        let mut spans: Vec<(i64, i64, Vec<&Window>)> = Vec::new();
        for w in flagged.into_iter().filter(|w| !holds_shorter(w)) {
            match spans.last_mut() {
                Some(last) if w.start <= last.1 + 1 => {
                    last.1 = last.1.max(w.end);
                    last.2.push(w);
                }
                _ => spans.push((w.start, w.end, vec![w])),
            }
        }
        let adjust = f64::from(s.scale_count());
        spans
            .into_iter()
            .map(|(a, b, windows)| {
                let (p, scale_days) = self.smallest_tail(&windows);
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
                            expected += f64::from(day_n) * self.baseline(series, i - scale_days + 1);
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
                    orgs: self.orgs_at(refusers, &facilities, a, b).into_iter().collect(),
                    facilities,
                    attempts: attempts as usize,
                    refusals: refusals as usize,
                    expected,
                    p_value: (p * adjust).min(1.0),
                    scale_days,
                    attempt_ids: Vec::new(),
                }
            })
            .collect()
    }
}
