//! An episode's p-value in plain words: "fewer than once in N" ([`one_in`]) and how
//! strongly it speaks ([`Certainty`]).

use serde::Serialize;

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
    /// The word's key, as serialized: `strong`, `very_strong`, `overwhelming`.
    pub fn as_str(self) -> &'static str {
        match self {
            Certainty::Strong => "strong",
            Certainty::VeryStrong => "very_strong",
            Certainty::Overwhelming => "overwhelming",
        }
    }

    pub fn of(p_value: f64) -> Certainty {
        match one_in(p_value) {
            n if n >= ONE_IN_CAP => Certainty::Overwhelming,
            n if n >= 1_000_000 => Certainty::VeryStrong,
            _ => Certainty::Strong,
        }
    }
}
