//! Suspected general suspensions of access.
//!
//! A window of days is *suspicious* when, inside it, at least `min_facilities`
//! facilities refused access far more than their own baseline predicts (each tested
//! alone at `facility_alpha`), at least `min_orgs` distinct organizations were refused
//! at those facilities, and the window's refusals taken together are far above the
//! baselines (the joint test below). Counting only facilities that are each out of
//! character keeps ordinary, scattered refusals elsewhere from making one station's
//! closing look general.
//!
//! **The test.** Each attempt `i` in the window has its facility's baseline refusal
//! rate `p_i`, estimated from that facility's attempts in the `baseline_days` before
//! the window with a Jeffreys prior, `(refusals + 0.5) / (attempts + 1)`, so a facility
//! with few past attempts is neither certainly open nor certainly closed. Under "nothing
//! changed", the window's refusal count is a sum of independent Bernoulli(`p_i`): a
//! Poisson-binomial variable. We compute its upper tail `P(X ≥ observed)` exactly by
//! dynamic programming and flag the window when it is below `alpha / scales` (see
//! below). Exact, because windows hold tens of attempts, where normal approximations
//! are poor; Poisson-binomial rather than binomial, because a window mixes facilities
//! whose baselines differ (a station that often refuses is not evidence of a new policy).
//!
//! **Several window lengths.** A suspension shows at the pace organizations visit.
//! Where a center sees an organization every day, a week of refusals is plain. Where it
//! sees one attempt a week, a week holds one attempt per center, and a single refusal is
//! never out of character for a center that sometimes refuses: months of health
//! measures applied station by station would never be flagged at seven days, though any
//! month of them is unmistakable. A long window, in turn, dilutes a short, sharp closing
//! with ordinary days. So every day is tested as the end of windows of `scales` lengths,
//! doubling from `window_days`: 7, 14, 28 and 56 days by default. What makes a
//! suspension general — several facilities, several organizations, each facility far
//! above its own habit — is asked the same way at every length; only how long one must
//! look to see it changes.
//!
//! **Correcting for the lengths.** Each extra length is one more chance for an ordinary
//! stretch to be flagged by luck, so each length is tested at `alpha / scales`
//! (Bonferroni): had nothing changed, the probability that *any* of the windows ending
//! on a given day is flagged is at most `alpha`, the promise one length at `alpha` made
//! (and `scales: 1` is exactly the single-length rule). The windows ending on one day
//! share their most recent days, so their tests are strongly dependent. Bonferroni is
//! the union bound: it holds under any dependence, and under strong dependence it is
//! conservative (the true chance is below `alpha`). Šidák's correction assumes the
//! tests independent, which they are not; estimating the dependence by permutations
//! would cost a resampling on every page view and give a slightly different answer each
//! time. The price of the conservative choice is small, because these tails fall
//! steeply: a quarter of `alpha` asks for little more evidence than `alpha`. An
//! episode's reported p-value is its smallest window tail times `scales` (at most 1),
//! so it compares with `alpha` directly. `facility_alpha` is not divided: condition 1
//! only narrows which windows may be flagged, and the false-alarm promise rests on the
//! joint test alone.
//!
//! **Long windows need a longer record.** The test takes each baseline rate as known,
//! though it is estimated. That is fair when the baseline holds many times the window's
//! attempts — a week against half a year, 25 to 1 — and not when a window is a third
//! as long as the record behind it: an estimate that came out low by chance then makes
//! ordinary weeks look elevated, and the more attempts a window holds, the surer the
//! test becomes of that error (the variance it ignores is about window attempts ÷
//! baseline attempts of the variance it counts). It is worst where a facility's record
//! is young: at the start of the data, or for a newly recorded facility. So in a window
//! longer than `window_days` a facility takes part only if its `baseline_days` before
//! the window hold at least twice its attempts in the window, which keeps that share at
//! most a half. The shortest window is judged as the single-length rule always judged
//! it. On synthetic stationary records (3 to 10 facilities refusing 2 to 25 % each, 1 to
//! 7 attempts a week, 300 records of 400 days) the share of days that end a flagged
//! window is about 1.5 in 10,000 with one length and 6 in 10,000 with four (under the
//! ceiling of 10 in 10,000); without the rule, 56-day windows in the first half-year of
//! a record were flagged four times as often as their share of `alpha` allows.
//!
//! **Episodes.** Flagged windows that overlap or touch merge into one episode, which
//! lists the refusals behind it. Only flagged windows that hold no shorter flagged
//! window count: a 56-day window holding a four-day closing is flagged because of those
//! four days alone, and letting it draw the episode would stretch the closing to two
//! months, or join two closings weeks apart into one. Every flagged window holds such a
//! window (itself, or a shorter one inside it), so this changes where episodes begin and
//! end, never whether the rule finds one. An episode's `scale_days` is the length of its
//! window with the smallest p-value ("found over 28-day windows").
//!
//! **Computing it.** The rule reads daily counts (see [`Scan`]). Cheap, rigorous screens
//! decide most windows before the exact tail: a facility at or below its binomial
//! median is never out of character, and a Berry–Esseen lower bound above the level
//! clears a window. In windows of thousands of attempts, where the exact tail costs
//! attempts × refusals steps, bounds from exponential tilting (`tail_bounds`) settle
//! most of the rest either way; the exact tail is computed only when they cannot, and
//! for the windows an episode's p-value may come from. No screen changes a decision.
//!
//! **Why it is built this way.** Access to detention centers is a safeguard for the
//! people held in them. A refusal here and there is an incident; refusals across
//! facilities and organizations, far above each facility's habit, are a practice, and a
//! practice can be questioned as such whether it was announced in a letter or applied
//! quietly at the gate, for a week or for a season. The rule says, with a stated ceiling
//! on false alarms, when the record shows such a pattern, and it shows every refusal it
//! rests on. It errs on the side of silence: `alpha` is a ceiling, not an estimate, and
//! a flag is a lead for people to check, not a finding. [`Certainty`] and [`one_in`]
//! put an episode's p-value in plain words.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use serde::Serialize;

mod certainty;
mod scan;
mod stats;
mod summary;

#[cfg(test)]
mod calendar_tests;
#[cfg(test)]
mod reference;
#[cfg(test)]
mod tally_tests;
#[cfg(test)]
mod tests;

pub use certainty::{one_in, Certainty, ONE_IN_CAP};
pub use scan::{DayChange, FacilityDay, Refusers, Scan};
pub use stats::{binomial_tail, poisson_binomial_tail};
pub use summary::{calendar_months, tally_by, DayCell, MonthGrid, Tally};

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
    /// The shortest window, in days.
    pub window_days: i64,
    pub baseline_days: i64,
    /// The ceiling on the chance that, had nothing changed, a window ending on a given
    /// day is flagged at any of the lengths; each length is tested at `alpha / scales`.
    pub alpha: f64,
    pub facility_alpha: f64,
    /// How many window lengths are tested, doubling from `window_days`: 4 gives 7, 14,
    /// 28 and 56 days; 1 is the single-length rule. 0 counts as 1.
    pub scales: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            min_orgs: 3,
            min_facilities: 3,
            window_days: 7,
            baseline_days: 180,
            alpha: 0.001,
            facility_alpha: 0.05,
            scales: 4,
        }
    }
}

impl Settings {
    /// The number of lengths tested: `scales`, at least 1.
    fn scale_count(&self) -> u32 {
        self.scales.max(1)
    }

    /// The window length at scale `k`: `window_days · 2^k`, saturating.
    fn length(&self, k: u32) -> i64 {
        if k >= 62 {
            i64::MAX
        } else {
            self.window_days.saturating_mul(1 << k)
        }
    }

    /// The window lengths tested, in days, shortest first (for the page to name them);
    /// at most 62, past which a length no longer fits in an `i64`.
    pub fn window_lengths(&self) -> Vec<i64> {
        if self.window_days < 1 {
            return Vec::new();
        }
        (0..self.scale_count().min(62)).map(|k| self.length(k)).collect()
    }

    /// The level each length is tested at: `alpha / scales` (Bonferroni).
    fn scale_alpha(&self) -> f64 {
        self.alpha / f64::from(self.scale_count())
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
    /// Refusals the baselines predict for the same attempts: each day's attempts at its
    /// facility's baseline rate as of the start of the `scale_days` window ending that
    /// day, the baselines the episode's windows were judged against. In an episode much
    /// longer than `scale_days`, the later days' baselines include its earlier days, so
    /// the figure then errs high: it understates the excess rather than overstating it.
    pub expected: f64,
    /// The smallest tail probability of the windows the episode is drawn from, times
    /// `scales` (Bonferroni, at most 1): below `alpha` for every episode.
    pub p_value: f64,
    /// The length in days of the episode's window with the smallest p-value: the scale
    /// the suspension shows at.
    pub scale_days: i64,
    /// The refused attempts inside the episode, oldest first.
    pub attempt_ids: Vec<i64>,
}

impl Episode {
    /// The p-value in words.
    pub fn certainty(&self) -> Certainty {
        Certainty::of(self.p_value)
    }

    /// The p-value as "fewer than once in N" (see [`one_in`]).
    pub fn one_in(&self) -> u64 {
        one_in(self.p_value)
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
