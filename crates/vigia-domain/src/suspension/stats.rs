//! The probability the rule rests on: the exact tail of a sum of independent
//! Bernoulli variables (Poisson-binomial), the binomial tail each facility is tested
//! with, and the cheap, rigorous bounds (Berry–Esseen, exponential tilting) that settle
//! most windows before the exact tail is computed.

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
pub(super) fn tail_lower_bound(groups: &[(u32, f64)], k: usize) -> f64 {
    let mut moments = Moments::default();
    for &(n, p) in groups {
        moments.add(n, p);
    }
    moments.tail_lower_bound(k)
}

/// The mean, variance and sum of third absolute central moments of a sum of
/// Bernoulli variables, added group by group.
#[derive(Default)]
pub(super) struct Moments {
    mu: f64,
    var: f64,
    rho: f64,
}

impl Moments {
    pub(super) fn add(&mut self, n: u32, p: f64) {
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
    pub(super) fn tail_lower_bound(&self, k: usize) -> f64 {
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
pub(super) fn tail_bounds(groups: &[(u32, f64)], k: usize) -> (f64, f64) {
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
