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

/// The largest figure [`one_in`] gives: once in a billion. Past it the page would print
/// numbers no reader can weigh, resting on a model (independent attempts, a stable
/// baseline) that is not that exact.
pub const ONE_IN_CAP: u64 = 1_000_000_000;

/// A p-value as "had nothing changed, a pattern like this would show up fewer than once
/// in N" windows ending on a day: `1/p` rounded down to 1, 2 or 5 times a power of ten,
/// so the figure never claims more than the p-value does (`p ≤ 1/N`), and capped at
/// [`ONE_IN_CAP`]. A p-value of 1 or more (or NaN) gives 1; 0 gives the cap.
pub fn one_in(p: f64) -> u64 {
    if p.is_nan() || p >= 1.0 {
        return 1;
    }
    if p <= 0.0 {
        return ONE_IN_CAP;
    }
    // A hair of tolerance so that p = 1e-6, whose inverse is 999 999.999…, reads as a million.
    let x = 1.0 / p * (1.0 + 1e-9);
    let mut best = 1;
    let mut decade = 1u64;
    while decade <= ONE_IN_CAP {
        for m in [1, 2, 5] {
            let n = m * decade;
            if n <= ONE_IN_CAP && n as f64 <= x {
                best = n;
            }
        }
        decade *= 10;
    }
    best
}

/// How strongly an episode's p-value speaks, in three plain words, on the same steps as
/// [`one_in`]:
///
/// - [`Certainty::Overwhelming`]: `p ≤ 10⁻⁹`, at most once in a billion ([`one_in`] is at
///   its cap);
/// - [`Certainty::VeryStrong`]: `10⁻⁹ < p ≤ 10⁻⁶`, at most once in a million;
/// - [`Certainty::Strong`]: anything weaker. At the default `alpha` (0.001) every episode
///   is below one in a thousand, strong by any usual standard; an `alpha` raised by the
///   viewer lets weaker episodes through, which are `Strong` here too, so a page that
///   allows it should show the figure beside the word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    Strong,
    VeryStrong,
    Overwhelming,
}

impl Certainty {
    pub fn of(p_value: f64) -> Certainty {
        match one_in(p_value) {
            n if n >= ONE_IN_CAP => Certainty::Overwhelming,
            n if n >= 1_000_000 => Certainty::VeryStrong,
            _ => Certainty::Strong,
        }
    }
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

/// [`Moments::tail_lower_bound`] for the sum of `n_i` Bernoulli(`p_i`) per group.
#[cfg(test)]
fn tail_lower_bound(groups: &[(u32, f64)], k: usize) -> f64 {
    let mut moments = Moments::default();
    for &(n, p) in groups {
        moments.add(n, p);
    }
    moments.tail_lower_bound(k)
}

/// The mean, variance and sum of third absolute central moments of a sum of
/// Bernoulli variables, added group by group.
#[derive(Default)]
struct Moments {
    mu: f64,
    var: f64,
    rho: f64,
}

impl Moments {
    fn add(&mut self, n: u32, p: f64) {
        let n = f64::from(n);
        let q = 1.0 - p;
        self.mu += n * p;
        self.var += n * p * q;
        self.rho += n * p * q * (p * p + q * q);
    }

    /// A lower bound on `P(X ≥ k)` from the Berry–Esseen inequality (Shevtsova's
    /// constant 0.56 for non-identical summands): `P(X ≤ k − 1) ≤ Φ((k − 1 − μ)/σ) +
    /// 0.56 Σρ/σ³`. Cheap, and rigorous: a window whose bound is above `alpha` is surely
    /// not flagged, so the exact O(n²) tail is only computed where it can matter.
    fn tail_lower_bound(&self, k: usize) -> f64 {
        if self.var <= 0.0 {
            return 0.0;
        }
        let sigma = self.var.sqrt();
        let z = (k as f64 - 1.0 - self.mu) / sigma;
        normal_upper(z) * (1.0 - 1.2e-7) - 1e-12 - 0.56 * self.rho / (self.var * sigma)
    }
}

/// Bounds `(lower, upper)` on `P(X ≥ k)` for X the sum of `n_i` Bernoulli(`p_i`) per
/// group, close enough to settle most windows of thousands of attempts without the
/// exact O(n·k) tail. Where Berry–Esseen alone is loose (an additive error of about
/// 1/σ swamps tails near `alpha`), exponential tilting moves the mean to k, where the
/// error is small beside the probabilities it bounds. With `Λ(θ) = Σ n_i ln(1 − p_i +
/// p_i e^θ)` and the tilted rates `p_i e^θ / (1 − p_i + p_i e^θ)`,
/// `P(X = x) = e^{Λ(θ) − θx} P_θ(X = x)`, so by Abel summation
/// `P(X ≥ k) = e^{Λ(θ) − θk} Σ_{x ≥ k} w_x P_θ(k ≤ X ≤ x)` with weights
/// `w_x = e^{−θ(x − k)}(1 − e^{−θ})` summing to 1. Each `P_θ(k ≤ X ≤ x)` is within
/// `2 · 0.56 Σρ_θ/σ_θ³` of its normal value (Berry–Esseen under the tilted rates) and
/// grows with x, so the sum is bounded block by block. Rigorous for any θ ≥ 0; the θ
/// whose tilted mean is k makes it tight: within a factor of about 2 each way for sums
/// of thousands of attempts (looser for small ones, which are computed exactly anyway).
fn tail_bounds(groups: &[(u32, f64)], k: usize) -> (f64, f64) {
    let n: f64 = groups.iter().map(|&(n, _)| f64::from(n)).sum();
    let mean: f64 = groups.iter().map(|&(n, p)| f64::from(n) * p).sum();
    let kf = k as f64;
    if k == 0 {
        return (1.0, 1.0);
    }
    if kf > n {
        return (0.0, 0.0);
    }
    if kf <= mean + 1.0 || kf >= n {
        return (0.0, 1.0);
    }
    // Λ(θ), and the tilted mean, variance and sum of third absolute central moments.
    let tilt = |t: f64| {
        let e = (-t).exp();
        let (mut lambda, mut mu, mut var, mut rho) = (0.0, 0.0, 0.0, 0.0);
        for &(n, p) in groups {
            let n = f64::from(n);
            let p = p.clamp(1e-300, 1.0 - 1e-16);
            lambda += n * (t + (p + (1.0 - p) * e).ln());
            // Tilted rate p' = 1 / (1 + r) and 1 − p' = r / (1 + r), with r = (1 − p) e^{−θ} / p.
            let r = (1.0 - p) / p * e;
            let (pt, qt) = (1.0 / (1.0 + r), r / (1.0 + r));
            mu += n * pt;
            var += n * pt * qt;
            rho += n * pt * qt * (pt * pt + qt * qt);
        }
        (lambda, mu, var, rho)
    };
    // The tilted mean grows with θ from `mean` towards n: Newton's method, kept inside
    // the bracket it narrows (bisecting when a step would leave it), from the θ that is
    // exact when all rates are equal. Any θ gives valid bounds; this one makes them tight.
    let pm = mean / n;
    let (mut lo, mut hi) = (0.0f64, f64::INFINITY);
    let mut theta = ((kf / n) * (1.0 - pm) / (pm * (1.0 - kf / n))).ln().max(1e-9);
    for _ in 0..60 {
        let (_, mu, var, _) = tilt(theta);
        if (mu - kf).abs() < 1e-3 || var <= 0.0 {
            break;
        }
        if mu < kf {
            lo = theta;
        } else {
            hi = theta;
        }
        let step = theta + (kf - mu) / var;
        theta = if step > lo && step < hi {
            step
        } else if hi.is_finite() {
            0.5 * (lo + hi)
        } else {
            2.0 * theta.max(1.0)
        };
    }
    let (lambda, mu, var, rho) = tilt(theta);
    if !theta.is_finite() || theta <= 0.0 || var <= 0.0 || !lambda.is_finite() {
        return (0.0, 1.0);
    }
    let sigma = var.sqrt();
    // Per value of the tilted CDF: Berry–Esseen, and `normal_upper`'s own error.
    let err = 0.56 * rho / (var * sigma) + 1.2e-7;
    let scale = (lambda - theta * kf).exp();
    let below_k = normal_upper((kf - 1.0 - mu) / sigma);
    // The normal value of P_θ(k ≤ X ≤ x): Φ(t_x) − Φ(t_{k−1}).
    let normal = |x: f64| below_k - normal_upper((x - mu) / sigma);
    let h = (sigma / 8.0).floor().max(1.0);
    let decay = (-theta * h).exp();
    let (mut s_lo, mut s_hi, mut left) = (0.0f64, 0.0f64, 1.0f64);
    for b in 0..400 {
        let x = kf + f64::from(b) * h;
        let w = left * (1.0 - decay);
        s_lo += w * (normal(x) - 2.0 * err).clamp(0.0, 1.0);
        s_hi += w * (normal(x + h - 1.0) + 2.0 * err).clamp(0.0, 1.0);
        left *= decay;
        if left < 1e-6 * s_hi {
            break;
        }
    }
    s_hi += left;
    // A margin for rounding in Λ, the exponentials and the sums.
    ((scale * s_lo * (1.0 - 1e-6)).max(0.0), (scale * s_hi * (1.0 + 1e-6)).min(1.0))
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
struct Window {
    start: i64,
    end: i64,
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
    series: BTreeMap<i64, Series>,
    /// Ordered by start, then end.
    windows: Vec<Window>,
    /// See [`EXACT_BUDGET`]; tests lower it to reach the bounds on small data.
    exact_budget: u64,
}

impl Scan {
    pub fn new(days: &[FacilityDay], s: &Settings) -> Self {
        Scan::build(days, s, EXACT_BUDGET)
    }

    fn build(days: &[FacilityDay], s: &Settings, exact_budget: u64) -> Self {
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
    fn flagged(&self, refusers: &Refusers) -> Vec<&Window> {
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

/// The rule as first written, attempt by attempt, at every length and every end (no
/// screens, no shortcuts): the reference the daily version must agree with.
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
        // Two lengths: the reference's exact tails over 56-day windows of thousands of
        // attempts would take minutes in a debug build.
        let s = Settings { scales: 2, ..Settings::default() };
        let (new, old) = (detect(&obs, &s), detect_reference(&obs, &s));
        assert_eq!(new.len(), 1, "{new:?}");
        assert_eq!((new[0].start, new[0].end, new[0].refusals), (old[0].start, old[0].end, old[0].refusals));
        // Trimmed to refusals, which happen every day here: within a window of the closing.
        assert!(new[0].start >= day(194) && new[0].end <= day(210), "{:?}", (new[0].start, new[0].end));
        assert!((new[0].p_value - old[0].p_value).abs() <= 1e-9 * old[0].p_value.max(1e-300));
        // All four lengths, whose long windows hold the closing too: the same span.
        let all = detect(&obs, &Settings::default());
        assert_eq!(all.len(), 1, "{all:?}");
        assert!(all[0].start >= day(194) && all[0].end <= day(210), "{:?}", (all[0].start, all[0].end));
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

    /// The next number of a xorshift64 generator, as `background` draws them.
    fn next(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// The demo's health-measures closing (`vigia-cli`'s demo, March–June 2020), rebuilt:
    /// ten centers, each visited once a week by one of three organizations,
    /// refused about 6 % of the time for a year, then about two times in three from
    /// 23 March to 30 June, then as before.
    fn weekly_visits(seed: u64) -> Vec<Observation> {
        let (closed_from, closed_until) = (date(2020, 3, 23), date(2020, 6, 30));
        let mut x = seed | 1;
        let mut out = Vec::new();
        for f in 0..10 {
            let mut d = date(2019, 3, 25).checked_add(jiff::Span::new().days(f)).expect("date");
            while d <= date(2020, 9, 30) {
                let r = next(&mut x);
                let closed = d >= closed_from && d <= closed_until;
                out.push(Observation {
                    attempt_id: out.len() as i64,
                    org_id: (r % 3) as i64,
                    facility_id: f,
                    day: d,
                    refused: (r >> 8) % 100 < if closed { 67 } else { 6 },
                });
                d = d.checked_add(jiff::Span::new().days(7)).expect("date");
            }
        }
        out
    }

    #[test]
    fn a_months_long_closing_at_weekly_visits_shows_over_longer_windows() {
        let obs = weekly_visits(1);
        let in_closing = |e: &Episode| e.end >= date(2020, 3, 23) && e.start <= date(2020, 6, 30);
        // One window length: a week holds one attempt per center, and one refusal is
        // never out of character.
        let single = detect(&obs, &Settings { scales: 1, ..Settings::default() });
        assert!(!single.iter().any(in_closing), "{single:?}");
        let eps = detect(&obs, &Settings::default());
        assert_eq!(eps.len(), 1, "{eps:?}");
        let e = &eps[0];
        assert!(e.start >= date(2020, 3, 1) && e.start <= date(2020, 3, 31), "starts in March: {e:?}");
        assert!(e.end >= date(2020, 5, 20) && e.end <= date(2020, 6, 30), "ends late May or June: {e:?}");
        assert!(e.scale_days > 7 && e.orgs.len() == 3 && e.facilities.len() >= 3, "{e:?}");
        assert!(e.refusals as f64 > 2.0 * e.expected && e.p_value < 0.001, "{e:?}");
    }

    #[test]
    fn a_short_closing_is_not_stretched_by_the_longer_windows_that_hold_it() {
        let mut obs = background(300, 7);
        inject(&mut obs, 200, 3, 3);
        let one = detect(&obs, &Settings { scales: 1, ..Settings::default() });
        let four = detect(&obs, &Settings::default());
        assert_eq!((one.len(), four.len()), (1, 1), "{four:?}");
        assert_eq!((four[0].start, four[0].end, four[0].scale_days), (one[0].start, one[0].end, 7));
        assert_eq!(four[0].attempt_ids, one[0].attempt_ids);
        // The same windows, their p-value corrected for the four lengths.
        assert!((four[0].p_value - 4.0 * one[0].p_value).abs() <= 1e-12 * four[0].p_value);
        // Two closings seven weeks apart, both inside some 56-day windows: still two.
        let mut obs = background(300, 7);
        inject(&mut obs, 150, 3, 3);
        inject(&mut obs, 200, 3, 3);
        let eps = detect(&obs, &Settings::default());
        assert_eq!(eps.len(), 2, "{eps:?}");
        assert!(eps[0].end <= day(160) && eps[1].start >= day(190), "{eps:?}");
    }

    #[test]
    fn scales_double_from_the_shortest_window() {
        assert_eq!(Settings::default().window_lengths(), vec![7, 14, 28, 56]);
        assert_eq!(Settings { scales: 1, window_days: 5, ..Settings::default() }.window_lengths(), vec![5]);
        assert_eq!(Settings { scales: 0, ..Settings::default() }.window_lengths(), vec![7]);
        assert!(Settings { window_days: 0, ..Settings::default() }.window_lengths().is_empty());
        // Absurd settings neither overflow nor loop for long.
        let s = Settings { scales: u32::MAX, window_days: i64::MAX / 2, ..Settings::default() };
        assert_eq!(s.window_lengths().last(), Some(&i64::MAX));
        let mut obs = background(60, 3);
        inject(&mut obs, 30, 3, 3);
        assert!(detect(&obs, &s).len() <= 1);
    }

    #[test]
    fn one_in_rounds_down_to_a_plain_figure() {
        assert_eq!(one_in(0.001), 1_000);
        assert_eq!(one_in(0.000_3), 2_000);
        assert_eq!(one_in(0.000_15), 5_000);
        assert_eq!(one_in(1e-6), 1_000_000);
        assert_eq!(one_in(1.5e-7), 5_000_000);
        assert_eq!(one_in(0.4), 2);
        assert_eq!(one_in(0.7), 1);
        assert_eq!(one_in(1.0), 1);
        assert_eq!(one_in(3.0), 1);
        assert_eq!(one_in(f64::NAN), 1);
        assert_eq!(one_in(1e-9), ONE_IN_CAP);
        assert_eq!(one_in(1e-40), ONE_IN_CAP);
        assert_eq!(one_in(0.0), ONE_IN_CAP);
        // Never claims more than the p-value: p ≤ 1/N.
        for i in 1..2_000 {
            let p = 10f64.powf(-f64::from(i) / 200.0);
            let n = one_in(p);
            assert!(p * n as f64 <= 1.0 + 1e-9, "{p} {n}");
            let decade = 10u64.pow(n.ilog10());
            assert!(matches!(n / decade, 1 | 2 | 5) && n.is_multiple_of(decade), "{n}");
        }
    }

    #[test]
    fn certainty_follows_the_plain_figure() {
        assert_eq!(Certainty::of(0.000_9), Certainty::Strong);
        assert_eq!(Certainty::of(0.3), Certainty::Strong);
        assert_eq!(Certainty::of(1.1e-6), Certainty::Strong);
        assert_eq!(Certainty::of(1e-6), Certainty::VeryStrong);
        assert_eq!(Certainty::of(2e-9), Certainty::VeryStrong);
        assert_eq!(Certainty::of(1e-9), Certainty::Overwhelming);
        assert_eq!(Certainty::of(0.0), Certainty::Overwhelming);
        assert_eq!(serde_json::to_string(&Certainty::VeryStrong).expect("json"), "\"very_strong\"");
        let mut obs = background(300, 7);
        inject(&mut obs, 200, 3, 3);
        let e = &detect(&obs, &Settings::default())[0];
        assert_eq!((e.certainty(), e.one_in()), (Certainty::Overwhelming, ONE_IN_CAP), "{e:?}");
    }

    #[test]
    fn the_sufficient_condition_is_sufficient() {
        // What `a_closing_with_enough_refusals_is_found` relies on. A facility that had
        // refused at most 15 % and now refused r ≥ 8 of n attempts, r ≥ 70 % of n, is out
        // of character: its tail is at most P(Bin(n, 0.15) ≥ r) (a larger rate only
        // raises it), largest at n = 11, r = 8 (about 3e-5).
        for n in 8u32..300 {
            let r = 8.max((7 * n).div_ceil(10));
            assert!(binomial_tail(n, 0.15, r) < 1e-4, "{n}");
        }
        // A window whose N attempts all had baselines ≤ 15 % and whose refusals are at
        // least 24 (three such facilities) and at least half of N: its joint tail is at
        // most P(Bin(N, 0.15) ≥ max(24, N/2)), largest at N = 48 (about 1e-8), far below
        // alpha / scales. Eight refusals leave that wide a margin on both tests, so the
        // condition holds whatever the baselines within those limits, and a closing seen
        // once a week can still meet it (eight of eight over 56 days).
        let s = Settings::default();
        for n in 24u32..2_000 {
            let r = 24.max(n.div_ceil(2));
            assert!(binomial_tail(n, 0.15, r) < 1e-7 && 1e-7 < s.alpha / f64::from(s.scales), "{n}");
        }
    }

    /// A closing of `length` days from day 240 at `jump` facilities (refused `rate` %),
    /// with `quiet` facilities beside them, all visited about `per_week` times a week by
    /// `orgs` organizations and refused 5 % of the time otherwise, until 30 days after.
    fn closing(seed: u64, jump: i64, quiet: i64, orgs: u64, per_week: u64, length: i64, rate: u64) -> Vec<Observation> {
        let mut x = seed | 1;
        let mut out = Vec::new();
        for d in 0..240 + length + 30 {
            for f in 0..jump + quiet {
                if next(&mut x) % 7 >= per_week {
                    continue;
                }
                let r = next(&mut x);
                let closed = f < jump && (240..240 + length).contains(&d);
                out.push(Observation {
                    attempt_id: out.len() as i64,
                    org_id: (r % orgs) as i64,
                    facility_id: f,
                    day: day(d),
                    refused: (r >> 8) % 100 < if closed { rate } else { 5 },
                });
            }
        }
        out
    }

    /// Whether some window of a tested length inside days `[from, until]` meets the
    /// sufficient condition of `the_sufficient_condition_is_sufficient`, counting the
    /// facilities that take part in it: every one's baseline (as the rule estimates it)
    /// at most 15 %; at least `min_facilities` of them refusing ≥ 8 attempts and ≥ 70 %
    /// of theirs; at least `min_orgs` organizations among those refused there; and at
    /// least half of all their attempts in the window refused.
    fn sufficient(obs: &[Observation], s: &Settings, from: i64, until: i64) -> bool {
        let index = |o: &Observation| days_between(day(0), o.day);
        let last = obs.iter().map(index).max().unwrap_or(0);
        let facilities: BTreeSet<i64> = obs.iter().map(|o| o.facility_id).collect();
        // Per facility, attempts and refusals up to each day.
        let mut prefix: BTreeMap<i64, Vec<(u32, u32)>> = BTreeMap::new();
        for f in &facilities {
            let mut daily = vec![(0u32, 0u32); last as usize + 1];
            for o in obs.iter().filter(|o| o.facility_id == *f) {
                daily[index(o) as usize].0 += 1;
                daily[index(o) as usize].1 += u32::from(o.refused);
            }
            let mut acc = (0, 0);
            let mut p = vec![acc];
            for (a, r) in daily {
                acc = (acc.0 + a, acc.1 + r);
                p.push(acc);
            }
            prefix.insert(*f, p);
        }
        let sum = |f: i64, a: i64, b: i64| {
            let p = &prefix[&f];
            let (a, b) = (a.clamp(0, last + 1) as usize, (b + 1).clamp(0, last + 1) as usize);
            (p[b].0 - p[a].0, p[b].1 - p[a].1)
        };
        for len in s.window_lengths() {
            for start in from..=until - len + 1 {
                let end = start + len - 1;
                // The facilities taking part: past the shortest length, those whose
                // baseline holds twice their attempts in the window.
                let part: Vec<i64> = facilities
                    .iter()
                    .copied()
                    .filter(|&f| {
                        let n = sum(f, start, end).0;
                        n > 0 && (len == s.window_days || sum(f, start - s.baseline_days, start - 1).0 >= 2 * n)
                    })
                    .collect();
                let low = part.iter().all(|&f| {
                    let (n, r) = sum(f, start - s.baseline_days, start - 1);
                    (f64::from(r) + 0.5) / (f64::from(n) + 1.0) <= 0.15
                });
                let strong: Vec<i64> = part
                    .iter()
                    .copied()
                    .filter(|&f| {
                        let (n, r) = sum(f, start, end);
                        r >= 8 && 10 * r >= 7 * n
                    })
                    .collect();
                let (n, r) = part.iter().map(|&f| sum(f, start, end)).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
                if !low || strong.len() < s.min_facilities || 2 * r < n {
                    continue;
                }
                let orgs: BTreeSet<i64> = obs
                    .iter()
                    .filter(|o| o.refused && strong.contains(&o.facility_id) && (start..=end).contains(&index(o)))
                    .map(|o| o.org_id)
                    .collect();
                if orgs.len() >= s.min_orgs {
                    return true;
                }
            }
        }
        false
    }

    /// The days tested, and those that end a window flagged at some length.
    fn flagged_ends_of(obs: &[Observation], s: &Settings) -> (u64, u64) {
        let mut cells: BTreeMap<(i64, Date), (u32, u32)> = BTreeMap::new();
        let mut refusers: Refusers = HashMap::new();
        for o in obs {
            let e = cells.entry((o.facility_id, o.day)).or_default();
            e.0 += 1;
            e.1 += u32::from(o.refused);
            if o.refused {
                refusers.entry((o.facility_id, o.day)).or_default().push(o.org_id);
            }
        }
        let days: Vec<FacilityDay> = cells
            .into_iter()
            .map(|((facility_id, day), (attempts, refusals))| FacilityDay { facility_id, day, attempts, refusals })
            .collect();
        let scan = Scan::new(&days, s);
        let len = scan.series.values().next().map_or(0, |x| x.attempts.len()) as u64;
        let ends: BTreeSet<i64> = scan.flagged(&refusers).iter().map(|w| w.end).collect();
        (len, ends.len() as u64)
    }

    /// Stationary: each facility refuses at its own constant rate, all year.
    fn stationary(seed: u64, facilities: i64, orgs: u64, per_week: u64, rates: &[u64]) -> Vec<Observation> {
        let mut x = seed | 1;
        let mut out = Vec::new();
        for d in 0..400 {
            for f in 0..facilities {
                if next(&mut x) % 7 >= per_week {
                    continue;
                }
                let r = next(&mut x);
                out.push(Observation {
                    attempt_id: out.len() as i64,
                    org_id: (r % orgs) as i64,
                    facility_id: f,
                    day: day(d),
                    refused: (r >> 8) % 100 < rates[f as usize % rates.len()],
                });
            }
        }
        out
    }

    #[test]
    fn a_stationary_background_stays_under_the_ceiling() {
        // The promise: had nothing changed, a day ends a flagged window (at any length)
        // with probability at most `alpha`. Over 300 stationary backgrounds of 400 days
        // (3 to 10 facilities refusing 2 to 25 % each, 1 to 7 attempts a week), the share
        // of such days stays well under it, with four lengths as with one.
        let mut x = 0x5eed_u64;
        let mut totals = [(0u64, 0u64); 2];
        for seed in 0..300 {
            let facilities = 3 + (next(&mut x) % 8) as i64;
            let orgs = 3 + next(&mut x) % 4;
            let per_week = 1 + next(&mut x) % 7;
            let rates: Vec<u64> = (0..10).map(|_| 2 + next(&mut x) % 24).collect();
            let obs = stationary(seed, facilities, orgs, per_week, &rates);
            for (i, scales) in [1, 4].into_iter().enumerate() {
                let (days, flagged) = flagged_ends_of(&obs, &Settings { scales, ..Settings::default() });
                totals[i] = (totals[i].0 + days, totals[i].1 + flagged);
            }
        }
        let alpha = Settings::default().alpha;
        for (days, flagged) in totals {
            assert!((flagged as f64) < alpha * days as f64, "{flagged} of {days} days");
        }
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
            scales in 1u32..5,
        ) {
            let s = Settings { alpha, min_orgs: orgs, min_facilities: facilities, window_days: w, scales, ..Settings::default() };
            let (new, old) = (detect(&obs, &s), detect_reference(&obs, &s));
            prop_assert_eq!(new.len(), old.len());
            for (a, b) in new.iter().zip(&old) {
                prop_assert_eq!((a.start, a.end, &a.orgs, &a.facilities), (b.start, b.end, &b.orgs, &b.facilities));
                prop_assert_eq!(a.scale_days, b.scale_days);
                prop_assert_eq!((a.attempts, a.refusals, &a.attempt_ids), (b.attempts, b.refusals, &b.attempt_ids));
                prop_assert!((a.expected - b.expected).abs() < 1e-9 * b.expected.max(1.0));
                prop_assert!((a.p_value - b.p_value).abs() <= 1e-12 * b.p_value.max(1e-300));
            }
        }

        #[test]
        fn updating_a_scan_gives_what_scanning_again_gives(
            before in proptest::collection::vec((0i64..4, 0i64..90, 1u32..6, 0u32..6), 0..120),
            changes in proptest::collection::vec((0i64..5, -5i64..100, -3i64..4, -3i64..4), 0..8),
            scales in 1u32..5, long_record in any::<bool>(),
        ) {
            // Windows up to 40 days long over 90 days: a change reaches windows ending up
            // to 39 + 20 days after it, and past the end of the counts. With a 20-day
            // baseline, longer windows seldom have the record they need; with 3-day
            // windows and a 40-day baseline, they do.
            let (window_days, baseline_days) = if long_record { (3, 40) } else { (5, 20) };
            let s = Settings { alpha: 0.05, min_orgs: 1, min_facilities: 1, window_days, baseline_days, scales, ..Settings::default() };
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

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn a_closing_with_enough_refusals_is_found(
            seed in any::<u64>(), jump in 4i64..7, quiet in 0i64..3, orgs in 3u64..6, per_week in 1u64..8,
            length in 14i64..121, rate in 75u64..96,
        ) {
            // Whatever its length and pace, a closing that meets the sufficient condition
            // of `the_sufficient_condition_is_sufficient` somewhere inside it is found.
            let obs = closing(seed, jump, quiet, orgs, per_week, length, rate);
            let s = Settings::default();
            prop_assume!(sufficient(&obs, &s, 240, 240 + length - 1));
            let eps = detect(&obs, &s);
            prop_assert!(eps.iter().any(|e| e.end >= day(240) && e.start <= day(240 + length - 1)), "{:?}", eps);
        }

        #[test]
        fn bounds_and_deferred_tails_change_nothing(obs in any_observations(), scales in 1u32..5) {
            // With every window's tail first bounded, and computed only when needed, the
            // scan finds what it finds computing every tail.
            let s = Settings { alpha: 0.05, min_orgs: 2, min_facilities: 2, scales, ..Settings::default() };
            let mut cells: BTreeMap<(i64, Date), (u32, u32)> = BTreeMap::new();
            let mut refusers: Refusers = HashMap::new();
            for o in &obs {
                let e = cells.entry((o.facility_id, o.day)).or_default();
                e.0 += 1;
                e.1 += u32::from(o.refused);
                if o.refused {
                    refusers.entry((o.facility_id, o.day)).or_default().push(o.org_id);
                }
            }
            let days: Vec<FacilityDay> = cells
                .into_iter()
                .map(|((facility_id, day), (attempts, refusals))| FacilityDay { facility_id, day, attempts, refusals })
                .collect();
            let (bounded, exact) = (Scan::build(&days, &s, 0), Scan::build(&days, &s, u64::MAX));
            prop_assert_eq!(bounded.needs(), exact.needs());
            prop_assert_eq!(bounded.episodes(&refusers), exact.episodes(&refusers));
        }

        #[test]
        fn the_tilted_bounds_hold_the_exact_tail(
            groups in proptest::collection::vec((1u32..200, 0.005f64..0.6), 1..6), z in 0.0f64..14.0,
        ) {
            let mean: f64 = groups.iter().map(|&(n, p)| f64::from(n) * p).sum();
            let sd = groups.iter().map(|&(n, p)| f64::from(n) * p * (1.0 - p)).sum::<f64>().sqrt();
            let k = (mean + z * sd).ceil() as usize;
            let ps: Vec<f64> = groups.iter().flat_map(|&(n, p)| std::iter::repeat_n(p, n as usize)).collect();
            let exact = poisson_binomial_tail(&ps, k);
            let (lower, upper) = tail_bounds(&groups, k);
            prop_assert!(lower <= exact * (1.0 + 1e-9) + f64::MIN_POSITIVE, "{} > {}", lower, exact);
            prop_assert!(exact <= upper * (1.0 + 1e-9) + f64::MIN_POSITIVE, "{} > {}", exact, upper);
        }
    }

    proptest! {
        // Fixed cases, so that a run never fails by the chance the rule allows.
        #![proptest_config(ProptestConfig {
            cases: 24,
            rng_seed: proptest::test_runner::RngSeed::Fixed(2020),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn a_stationary_background_is_never_very_strong(
            seed in any::<u64>(), facilities in 3i64..11, orgs in 3u64..7, per_week in 1u64..8,
            rates in proptest::collection::vec(2u64..26, 10),
        ) {
            // Had nothing changed, a window with a p-value of one in a million turns up
            // on a given day at most once in a million (times the four lengths, all
            // counted): over 400 days, almost never.
            let obs = stationary(seed, facilities, orgs, per_week, &rates);
            let eps = detect(&obs, &Settings::default());
            prop_assert!(eps.iter().all(|e| e.certainty() == Certainty::Strong), "{:?}", eps);
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
