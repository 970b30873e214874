//! Summaries of attempts shown beside the rule: refusals counted by any key
//! ([`tally_by`]) and a facility's calendar of outcomes ([`calendar_months`]).

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;

use super::Observation;

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
