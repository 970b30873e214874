//! A calendar with its inherited rules resolved, and counting working days on it
//! ([`Calendar`]); a set of calendars by name ([`Calendars`]).

use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};

use super::rules::{compile, CalendarFile, CalendarSpec, Compiled, Reason, Rule};
use super::{ClockError, DEFAULT_CALENDARS};
use crate::account::Locale;

/// A calendar with its inherited rules resolved.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub spec: CalendarSpec,
    /// Its notes and those of the calendars it extends, `(es, en)`: what a reader must
    /// know, such as a day the law leaves open.
    notes: Vec<(String, String)>,
    weekends: bool,
    pub(super) rules: Vec<Compiled>,
    /// Days the text leaves open, its own and inherited.
    open: Vec<Compiled>,
    /// Working days between [`INDEX_FIRST`] and [`INDEX_LAST`], computed on first use.
    index: std::sync::OnceLock<DayIndex>,
    /// Whether to use the index (benchmarks turn it off to measure the walk).
    indexed: bool,
}

/// The first and last years the working-day index covers; dates outside are counted
/// day by day.
const INDEX_FIRST: i16 = 1990;
const INDEX_LAST: i16 = 2075;

/// Every working day of a span, so adding and counting are lookups instead of walks
/// over the rules: the nightly sweep over 100,000 cases needs that (see
/// `benches/deadline_sweep.rs`).
#[derive(Debug, Clone)]
struct DayIndex {
    first: Date,
    /// `cum[i]`: working days among the first `i + 1` days of the span.
    cum: Vec<u32>,
    /// Offsets of the working days, in order.
    work: Vec<u32>,
}

impl DayIndex {
    fn build(cal: &Calendar) -> Option<DayIndex> {
        let first = Date::new(INDEX_FIRST, 1, 1).ok()?;
        let last = Date::new(INDEX_LAST, 12, 31).ok()?;
        let (mut cum, mut work) = (Vec::new(), Vec::new());
        let (mut d, mut n, mut i) = (first, 0u32, 0u32);
        while d <= last {
            if cal.is_working_day(d) {
                n += 1;
                work.push(i);
            }
            cum.push(n);
            i += 1;
            d = d.tomorrow().ok()?;
        }
        Some(DayIndex { first, cum, work })
    }

    fn offset(&self, d: Date) -> Option<usize> {
        let days = (d - self.first).get_days();
        usize::try_from(days).ok().filter(|&i| i < self.cum.len())
    }

    fn add(&self, from: Date, n: u32) -> Option<Date> {
        let k = self.cum[self.offset(from)?] as usize + n as usize;
        let off = *self.work.get(k.checked_sub(1)?)?;
        self.first.checked_add(jiff::Span::new().days(i64::from(off))).ok()
    }

    fn count(&self, from: Date, to: Date) -> Option<i64> {
        Some(i64::from(self.cum[self.offset(to)?]) - i64::from(self.cum[self.offset(from)?]))
    }
}

/// The longest run of non-working days tolerated before counting gives up.
const MAX_GAP_DAYS: i64 = 3660;

impl Calendar {
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// What a reader must know about this calendar and those it extends.
    pub fn notes(&self, l: Locale) -> Vec<&str> {
        self.notes
            .iter()
            .map(|(es, en)| match l {
                Locale::Es => es.as_str(),
                Locale::En => en.as_str(),
            })
            .collect()
    }

    pub fn title(&self, l: Locale) -> &str {
        match l {
            Locale::Es => &self.spec.title_es,
            Locale::En => &self.spec.title_en,
        }
    }

    /// Why `d` is not a working day; empty when it is one.
    pub fn reasons(&self, d: Date, l: Locale) -> Vec<Reason> {
        let mut out = Vec::new();
        if self.weekends {
            let day = match (d.weekday(), l) {
                (Weekday::Saturday, Locale::Es) => Some("sábado"),
                (Weekday::Saturday, Locale::En) => Some("Saturday"),
                (Weekday::Sunday, Locale::Es) => Some("domingo"),
                (Weekday::Sunday, Locale::En) => Some("Sunday"),
                _ => None,
            };
            if let Some(day) = day {
                let source = self.spec.weekends_source.clone();
                let version = source.as_ref().and(self.version(l)).map(str::to_string);
                out.push(Reason::Weekend { day, source, version });
            }
        }
        out.extend(self.rules.iter().filter(|c| c.matches(d)).map(|c| c.reason(l)));
        out
    }

    /// What the text leaves open about `d`, when `d` counts as a working day: e.g. 1
    /// October 2024 under LFPA art. 28. Empty for most days, and once an agency has
    /// declared the day non-working.
    pub fn open_questions(&self, d: Date, l: Locale) -> Vec<Reason> {
        if !self.is_working_day(d) {
            return Vec::new();
        }
        self.open.iter().filter(|c| c.matches(d)).map(|c| c.reason(l)).collect()
    }

    /// The days after `from` up to `to` that count but that the text leaves open, with
    /// why: what a deadline crossing them must say. Cheap when the calendar has none.
    pub fn open_between(&self, from: Date, to: Date, l: Locale) -> Result<Vec<(Date, Vec<Reason>)>, ClockError> {
        let mut out = Vec::new();
        if self.open.is_empty() {
            return Ok(out);
        }
        let mut d = from;
        while d < to {
            d = d.tomorrow().map_err(|_| ClockError::OutOfRange)?;
            let q = self.open_questions(d, l);
            if !q.is_empty() {
                out.push((d, q));
            }
        }
        Ok(out)
    }

    /// The version of the text this calendar follows.
    pub fn version(&self, l: Locale) -> Option<&str> {
        match l {
            Locale::Es => self.spec.version_es.as_deref(),
            Locale::En => self.spec.version_en.as_deref(),
        }
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        if self.weekends && matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
            return false;
        }
        !self.rules.iter().any(|c| c.matches(d))
    }

    fn next_working_day(&self, mut d: Date) -> Result<Date, ClockError> {
        for _ in 0..MAX_GAP_DAYS {
            d = d.tomorrow().map_err(|_| ClockError::OutOfRange)?;
            if self.is_working_day(d) {
                return Ok(d);
            }
        }
        Err(ClockError::NoWorkingDay(MAX_GAP_DAYS))
    }

    fn index(&self) -> Option<&DayIndex> {
        if !self.indexed {
            return None;
        }
        self.index
            .get_or_init(|| DayIndex::build(self).unwrap_or(DayIndex { first: Date::MIN, cum: vec![], work: vec![] }))
            .into()
    }

    /// The date on which the `n`-th working day after `from` falls (`from` itself when
    /// `n` is 0). Counting starts the day after the triggering event.
    pub fn add_working_days(&self, from: Date, n: u32) -> Result<Date, ClockError> {
        if n == 0 {
            return Ok(from);
        }
        if let Some(d) = self.index().and_then(|i| i.add(from, n)) {
            return Ok(d);
        }
        self.add_working_days_walking(from, n)
    }

    /// [`Calendar::add_working_days`] by walking day by day over the rules: the
    /// reference the index is tested and benchmarked against.
    pub fn add_working_days_walking(&self, from: Date, n: u32) -> Result<Date, ClockError> {
        let mut d = from;
        for _ in 0..n {
            d = self.next_working_day(d)?;
        }
        Ok(d)
    }

    /// Working days after `from` up to and including `to`; negative when `to` is before
    /// `from`.
    pub fn count_working_days(&self, from: Date, to: Date) -> Result<i64, ClockError> {
        if to < from {
            return self.count_working_days(to, from).map(|n| -n);
        }
        if let Some(n) = self.index().and_then(|i| i.count(from, to)) {
            return Ok(n);
        }
        self.count_working_days_walking(from, to)
    }

    /// [`Calendar::count_working_days`] by walking day by day (`from` ≤ `to`).
    pub fn count_working_days_walking(&self, from: Date, to: Date) -> Result<i64, ClockError> {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = d.tomorrow().map_err(|_| ClockError::OutOfRange)?;
            if self.is_working_day(d) {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Every day from the day after `from` to `to`, with whether it counts and why not.
    pub fn explain(&self, from: Date, to: Date, l: Locale) -> Result<Vec<(Date, Vec<Reason>)>, ClockError> {
        let mut out = Vec::new();
        let mut d = from;
        while d < to {
            d = d.tomorrow().map_err(|_| ClockError::OutOfRange)?;
            out.push((d, self.reasons(d, l)));
        }
        Ok(out)
    }
}

/// A set of calendars by name, with inheritance resolved.
#[derive(Debug, Clone)]
pub struct Calendars {
    by_name: BTreeMap<String, Calendar>,
}

impl Calendars {
    /// Reads calendar data (the shipped JSON, or a corrected copy).
    pub fn from_json(json: &str) -> Result<Calendars, ClockError> {
        let file: CalendarFile = serde_json::from_str(json).map_err(|e| ClockError::InvalidData(e.to_string()))?;
        Self::from_specs(file.calendars)
    }

    pub fn from_specs(specs: Vec<CalendarSpec>) -> Result<Calendars, ClockError> {
        let specs: BTreeMap<String, CalendarSpec> = specs.into_iter().map(|s| (s.name.clone(), s)).collect();
        let mut by_name = BTreeMap::new();
        for (name, spec) in &specs {
            let mut rules = Vec::new();
            let mut open = Vec::new();
            let mut notes = Vec::new();
            let mut seen = vec![name.clone()];
            let mut cur = Some(spec);
            while let Some(s) = cur {
                let version = s.version_es.clone().zip(s.version_en.clone());
                for (list, into) in [(&s.rules, &mut rules), (&s.open_days, &mut open)] {
                    for r in list {
                        into.push(Compiled { version: version.clone(), ..compile(r)? });
                    }
                }
                if let (Some(es), Some(en)) = (&s.notes_es, &s.notes_en) {
                    notes.push((es.clone(), en.clone()));
                }
                cur = match &s.extends {
                    None => None,
                    Some(parent) if seen.contains(parent) => {
                        return Err(ClockError::InvalidData(format!("calendar {name} extends itself through {parent}")))
                    }
                    Some(parent) => {
                        seen.push(parent.clone());
                        Some(specs.get(parent).ok_or_else(|| ClockError::UnknownCalendar(parent.clone()))?)
                    }
                };
            }
            by_name.insert(
                name.clone(),
                Calendar {
                    spec: spec.clone(),
                    notes,
                    weekends: spec.weekends,
                    rules,
                    open,
                    index: Default::default(),
                    indexed: true,
                },
            );
        }
        Ok(Calendars { by_name })
    }

    /// The shipped calendars.
    pub fn builtin() -> Calendars {
        // The shipped data is checked by a test; should it ever fail to parse, an empty
        // set makes every lookup an UnknownCalendar error instead of a panic.
        Self::from_json(DEFAULT_CALENDARS).unwrap_or(Calendars { by_name: BTreeMap::new() })
    }

    /// The same calendars counting day by day over the rules, without the index: the
    /// baseline the deadline benchmark compares against.
    pub fn walking(mut self) -> Calendars {
        for c in self.by_name.values_mut() {
            c.indexed = false;
        }
        self
    }

    pub fn get(&self, name: &str) -> Result<&Calendar, ClockError> {
        self.by_name.get(name).ok_or_else(|| ClockError::UnknownCalendar(name.to_string()))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Adds agency-declared rules (DOF days, suspensions) to a calendar and to every
    /// calendar that extends it.
    pub fn with_extra_rules(mut self, calendar: &str, rules: &[Rule]) -> Result<Calendars, ClockError> {
        // A declared day rests on its calendar's article (LFPA art. 28: days "que se harán
        // del conocimiento público mediante acuerdo … en el DOF"): its explanation names
        // that article and version beside the agreement.
        let spec = &self.get(calendar)?.spec;
        let version = spec.version_es.clone().zip(spec.version_en.clone());
        let compiled = rules
            .iter()
            .map(|r| compile(r).map(|c| Compiled { version: version.clone(), ..c }))
            .collect::<Result<Vec<_>, _>>()?;
        let names: Vec<String> = self.by_name.keys().cloned().collect();
        for name in names {
            if self.descends_from(&name, calendar) {
                if let Some(c) = self.by_name.get_mut(&name) {
                    c.rules.extend(compiled.iter().cloned());
                    c.index = Default::default();
                }
            }
        }
        Ok(self)
    }

    fn descends_from(&self, name: &str, ancestor: &str) -> bool {
        let mut cur = Some(name.to_string());
        let mut steps = 0;
        while let Some(n) = cur {
            if n == ancestor {
                return true;
            }
            steps += 1;
            if steps > 32 {
                return false;
            }
            cur = self.by_name.get(&n).and_then(|c| c.spec.extends.clone());
        }
        false
    }
}
