//! The legal clock: working-day calendars held as data (each rule names its published
//! source: LFPA art. 28, LFT art. 74, Ley de Amparo art. 19), and counting on
//! them. Counting starts the working day after the triggering event; a calendar may
//! extend another (an agency's extends LFPA) and add declared days and suspension
//! periods, each with its source.

use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use crate::account::Locale;

/// The calendars shipped with Vigía.
pub const DEFAULT_CALENDARS: &str = include_str!("../data/calendars.json");

/// The calendar legal deadlines use unless a rule names another.
pub const DEFAULT_CALENDAR: &str = "lfpa";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("unknown calendar {0:?}")]
    UnknownCalendar(String),
    #[error("calendar data is invalid: {0}")]
    InvalidData(String),
    #[error("no working day within {0} days: check the calendar's suspension periods")]
    NoWorkingDay(i64),
    #[error("the date falls outside the supported range")]
    OutOfRange,
}

/// When a rule makes a day non-working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum When {
    /// The same day every year.
    Fixed { month: i8, day: i8 },
    /// The n-th given weekday of a month (n = 1..=5, or -1 for the last).
    NthWeekday { month: i8, weekday: WeekdayName, n: i8 },
    /// A day in the years `base_year + 6k` (transfers of executive power).
    EverySixYears { month: i8, day: i8, base_year: i16 },
    /// One day, e.g. declared non-working in the DOF.
    Date { date: String },
    /// A run of days, e.g. a suspension of time limits, both ends included.
    Range { start: String, end: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeekdayName {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl WeekdayName {
    fn to_jiff(self) -> Weekday {
        match self {
            WeekdayName::Monday => Weekday::Monday,
            WeekdayName::Tuesday => Weekday::Tuesday,
            WeekdayName::Wednesday => Weekday::Wednesday,
            WeekdayName::Thursday => Weekday::Thursday,
            WeekdayName::Friday => Weekday::Friday,
            WeekdayName::Saturday => Weekday::Saturday,
            WeekdayName::Sunday => Weekday::Sunday,
        }
    }
}

/// One rule, with the law that makes it and the dates it is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    #[serde(flatten)]
    pub when: When,
    pub label_es: String,
    pub label_en: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSpec {
    pub name: String,
    pub title_es: String,
    pub title_en: String,
    pub source: String,
    #[serde(default)]
    pub extends: Option<String>,
    pub weekends: bool,
    /// The article that makes Saturdays and Sundays non-working, when the text says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekends_source: Option<String>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Days the text leaves open (2024 and 2030 under LFPA art. 28): counted as working
    /// days, and shown with their note wherever a count crosses them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_days: Vec<Rule>,
    /// The article's published text, in Spanish, as the calendar follows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// A plain summary where the text is not quoted (it says so itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_es: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_en: Option<String>,
    /// Which version of the text the calendar follows (the reform's date in the DOF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_es: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_en: Option<String>,
    #[serde(default)]
    pub notes_es: Option<String>,
    #[serde(default)]
    pub notes_en: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct CalendarFile {
    calendars: Vec<CalendarSpec>,
}

/// A rule ready to test dates against.
#[derive(Debug, Clone)]
struct Compiled {
    rule: Rule,
    /// The version of the text the rule comes from, `(es, en)`: its calendar's.
    version: Option<(String, String)>,
    from: Option<Date>,
    until: Option<Date>,
    date: Option<(Date, Date)>,
}

/// Why a day does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Reason {
    /// A Saturday or Sunday, with the article that excludes it when the calendar's text
    /// names weekends.
    Weekend {
        day: &'static str,
        source: Option<String>,
        version: Option<String>,
    },
    Rule {
        label: String,
        source: String,
        version: Option<String>,
    },
}

impl Reason {
    /// The reason with its legal basis. Only rules taken from a published text are
    /// shipped; a day the text leaves open is not counted and the calendar's notes say so.
    pub fn describe(&self) -> String {
        match self {
            Reason::Weekend { day, source: None, .. } => day.to_string(),
            Reason::Weekend { day, source: Some(s), version: None } => format!("{day} ({s})"),
            Reason::Weekend { day, source: Some(s), version: Some(v) } => format!("{day} ({s}; {v})"),
            Reason::Rule { label, source, version: None } => format!("{label} ({source})"),
            Reason::Rule { label, source, version: Some(v) } => format!("{label} ({source}; {v})"),
        }
    }
}

/// A calendar with its inherited rules resolved.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub spec: CalendarSpec,
    /// Its notes and those of the calendars it extends, `(es, en)`: what a reader must
    /// know, such as a day the law leaves open.
    notes: Vec<(String, String)>,
    weekends: bool,
    rules: Vec<Compiled>,
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

fn parse_date(s: &str) -> Result<Date, ClockError> {
    s.parse::<Date>().map_err(|e| ClockError::InvalidData(format!("{s:?}: {e}")))
}

fn compile(rule: &Rule) -> Result<Compiled, ClockError> {
    let date = match &rule.when {
        When::Date { date } => {
            let d = parse_date(date)?;
            Some((d, d))
        }
        When::Range { start, end } => {
            let (s, e) = (parse_date(start)?, parse_date(end)?);
            if e < s {
                return Err(ClockError::InvalidData(format!("range {start}..{end} ends before it starts")));
            }
            Some((s, e))
        }
        When::Fixed { month, day } | When::EverySixYears { month, day, .. } => {
            Date::new(2024, *month, *day).map_err(|e| ClockError::InvalidData(format!("{month}-{day}: {e}")))?;
            None
        }
        When::NthWeekday { month, n, .. } => {
            if !(1..=12).contains(month) || !(matches!(n, 1..=5) || *n == -1) {
                return Err(ClockError::InvalidData(format!("month {month}, n {n}")));
            }
            None
        }
    };
    Ok(Compiled {
        rule: rule.clone(),
        version: None,
        from: rule.from.as_deref().map(parse_date).transpose()?,
        until: rule.until.as_deref().map(parse_date).transpose()?,
        date,
    })
}

impl Compiled {
    fn reason(&self, l: Locale) -> Reason {
        let (label, version) = match l {
            Locale::Es => (&self.rule.label_es, self.version.as_ref().map(|v| &v.0)),
            Locale::En => (&self.rule.label_en, self.version.as_ref().map(|v| &v.1)),
        };
        Reason::Rule { label: label.clone(), source: self.rule.source.clone(), version: version.cloned() }
    }

    fn matches(&self, d: Date) -> bool {
        if self.from.is_some_and(|f| d < f) || self.until.is_some_and(|u| d > u) {
            return false;
        }
        match &self.rule.when {
            When::Fixed { month, day } => d.month() == *month && d.day() == *day,
            When::EverySixYears { month, day, base_year } => {
                d.month() == *month && d.day() == *day && (d.year() - base_year).rem_euclid(6) == 0
            }
            When::NthWeekday { month, weekday, n } => {
                d.month() == *month
                    && d.weekday() == weekday.to_jiff()
                    && d.nth_weekday_of_month(*n, weekday.to_jiff()).is_ok_and(|x| x == d)
            }
            When::Date { .. } | When::Range { .. } => self.date.is_some_and(|(s, e)| s <= d && d <= e),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn cal(name: &str) -> Calendar {
        Calendars::builtin().get(name).expect("calendar").clone()
    }

    #[test]
    fn the_shipped_data_parses_and_every_calendar_resolves() {
        let all = Calendars::from_json(DEFAULT_CALENDARS).expect("valid data");
        let names: Vec<_> = all.names().collect();
        assert_eq!(names, ["amparo", "comar", "inm", "lfpa", "lft"]);
        assert_eq!(all.get("inm").expect("inm").rules.len(), all.get("lfpa").expect("lfpa").rules.len());
    }

    #[test]
    fn fifteen_working_days_from_18_february_2019() {
        // Monday 18 Feb 2019: counting starts Tuesday 19; no holiday until 18 March.
        for name in ["lfpa", "lft", "inm", "amparo"] {
            assert_eq!(cal(name).add_working_days(date(2019, 2, 18), 15), Ok(date(2019, 3, 11)), "{name}");
        }
    }

    #[test]
    fn holidays_differ_by_regime() {
        let (lfpa, lft, amparo) = (cal("lfpa"), cal("lft"), cal("amparo"));
        // 5 May: LFPA and amparo, not LFT.
        assert!(!lfpa.is_working_day(date(2021, 5, 5)));
        assert!(lft.is_working_day(date(2021, 5, 5)));
        assert!(!amparo.is_working_day(date(2021, 5, 5)));
        // 12 Oct: only amparo.
        assert!(!amparo.is_working_day(date(2021, 10, 12)));
        assert!(lfpa.is_working_day(date(2021, 10, 12)));
        // Third Monday of March vs fixed 21 March.
        assert!(!lft.is_working_day(date(2021, 3, 15)));
        assert!(lft.is_working_day(date(2023, 3, 21)));
        assert!(!amparo.is_working_day(date(2023, 3, 21)));
    }

    /// LFPA art. 28 as published: fixed dates (5 Feb, 21 Mar, 20 Nov, not the LFT's
    /// Mondays), 1 September a rest day, 1 December every six years while it was the
    /// transfer of power; for 2024 and 2030 the article names neither date, so neither
    /// is counted (the calendar's notes say so and an agency may declare the day).
    #[test]
    fn the_lfpa_calendar_is_article_28_as_published() {
        let lfpa = cal("lfpa");
        for d in [date(2019, 2, 5), date(2019, 3, 21), date(2019, 11, 20), date(2021, 9, 1), date(2000, 12, 1)] {
            assert!(!lfpa.is_working_day(d), "{d}");
        }
        for d in [
            date(2019, 2, 4),
            date(2019, 3, 18),
            date(2019, 11, 18),
            date(2024, 10, 1),
            date(2030, 10, 1),
            date(2030, 12, 2),
        ] {
            assert!(lfpa.is_working_day(d), "{d}");
        }
        for c in ["lfpa", "inm", "comar"] {
            let notes = cal(c).notes(Locale::En).join(" ");
            assert!(notes.contains("for 2024 and 2030 neither"), "{c}: {notes}");
            assert!(cal(c).notes(Locale::Es).join(" ").contains("para 2024 y 2030"), "{c}");
        }
        for c in ["lfpa", "lft", "amparo", "inm", "comar"] {
            for r in &cal(c).spec.rules {
                assert!(!r.source.is_empty(), "every rule names its source");
            }
        }
    }

    #[test]
    fn inauguration_days_follow_the_2024_change() {
        let lft = cal("lft");
        // 1 Dec 2012 and 2018 were Saturdays: check the rule itself, not just the weekend.
        let reasons = lft.reasons(date(2018, 12, 1), Locale::En);
        assert!(reasons.iter().any(|r| r.describe().contains("1 December")), "{reasons:?}");
        assert!(lft.reasons(date(2024, 12, 1), Locale::En).iter().all(|r| !r.describe().contains("executive")));
        assert!(!lft.is_working_day(date(2024, 10, 1)), "Tuesday 1 Oct 2024");
        assert!(!lft.is_working_day(date(2030, 10, 1)), "Tuesday 1 Oct 2030");
        assert!(lft.is_working_day(date(2030, 12, 2)));
        assert!(lft.is_working_day(date(2025, 10, 1)));
    }

    #[test]
    fn suspensions_and_declared_days_apply_to_descendants() {
        let extra = vec![Rule {
            when: When::Range { start: "2020-04-01".into(), end: "2020-04-30".into() },
            label_es: "Suspensión de plazos".into(),
            label_en: "Time limits suspended".into(),
            source: "Acuerdo DOF (ejemplo de prueba)".into(),
            from: None,
            until: None,
        }];
        let all = Calendars::builtin().with_extra_rules("comar", &extra).expect("extra");
        let comar = all.get("comar").expect("comar");
        assert!(!comar.is_working_day(date(2020, 4, 15)));
        assert!(all.get("lfpa").expect("lfpa").is_working_day(date(2020, 4, 15)), "only COMAR is suspended");
        assert_eq!(comar.add_working_days(date(2020, 3, 31), 1), Ok(date(2020, 5, 4)));
        let why = comar.explain(date(2020, 3, 31), date(2020, 5, 4), Locale::Es).expect("explain");
        assert!(why[0].1[0].describe().contains("Suspensión de plazos"));
        let bad = vec![Rule {
            when: When::Range { start: "2020-05-01".into(), end: "2020-04-01".into() },
            ..extra[0].clone()
        }];
        assert!(Calendars::builtin().with_extra_rules("comar", &bad).is_err());
    }

    #[test]
    fn counting_is_signed_and_zero_for_the_same_day() {
        let c = cal("lfpa");
        assert_eq!(c.count_working_days(date(2019, 2, 18), date(2019, 3, 11)), Ok(15));
        assert_eq!(c.count_working_days(date(2019, 3, 11), date(2019, 2, 18)), Ok(-15));
        assert_eq!(c.count_working_days(date(2019, 2, 18), date(2019, 2, 18)), Ok(0));
        assert_eq!(c.add_working_days(date(2019, 2, 16), 0), Ok(date(2019, 2, 16)));
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (2011i16..=2030, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d))
    }

    fn any_calendar() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just("lfpa"), Just("lft"), Just("amparo"), Just("inm"), Just("comar")]
    }

    proptest! {
        #[test]
        fn adding_then_counting_round_trips(from in any_date(), n in 0u32..120, name in any_calendar()) {
            let c = cal(name);
            let end = c.add_working_days(from, n).expect("add");
            prop_assert_eq!(c.count_working_days(from, end).expect("count"), i64::from(n));
            if n > 0 {
                prop_assert!(c.is_working_day(end));
            }
        }

        #[test]
        fn adding_is_strictly_monotonic(from in any_date(), n in 0u32..120, name in any_calendar()) {
            let c = cal(name);
            prop_assert!(c.add_working_days(from, n + 1).expect("add") > c.add_working_days(from, n).expect("add"));
        }

        #[test]
        fn the_index_agrees_with_walking(from in any_date(), n in 0u32..200, span in 0i64..400, name in any_calendar()) {
            let c = cal(name);
            prop_assert_eq!(c.add_working_days(from, n).expect("add"), c.add_working_days_walking(from, n).expect("walk"));
            let to = from.checked_add(jiff::Span::new().days(span)).expect("date");
            prop_assert_eq!(c.count_working_days(from, to).expect("count"), c.count_working_days_walking(from, to).expect("walk"));
        }

        #[test]
        fn explanations_account_for_every_day(from in any_date(), n in 1u32..40, name in any_calendar()) {
            let c = cal(name);
            let end = c.add_working_days(from, n).expect("add");
            let days = c.explain(from, end, Locale::Es).expect("explain");
            prop_assert_eq!(days.iter().filter(|(_, r)| r.is_empty()).count() as u32, n);
            prop_assert_eq!(days.last().map(|(d, _)| *d), Some(end));
        }
    }
}

#[cfg(test)]
mod rest_day_table {
    //! Mexico's statutory rest days (LFT art. 74) for 2011–2030, computed independently
    //! of this engine (the list of dates below was written out from the law's rules
    //! with a separate program and checked against the 2012/2018 1-December and
    //! 2024/2030 1-October inauguration days).
    use super::*;
    use jiff::civil::date;

    const LFT_REST_DAYS: &[(i16, &[&str])] = &[
        (2011, &["2011-01-01", "2011-02-07", "2011-03-21", "2011-05-01", "2011-09-16", "2011-11-21", "2011-12-25"]),
        (
            2012,
            &[
                "2012-01-01",
                "2012-02-06",
                "2012-03-19",
                "2012-05-01",
                "2012-09-16",
                "2012-11-19",
                "2012-12-01",
                "2012-12-25",
            ],
        ),
        (2013, &["2013-01-01", "2013-02-04", "2013-03-18", "2013-05-01", "2013-09-16", "2013-11-18", "2013-12-25"]),
        (2014, &["2014-01-01", "2014-02-03", "2014-03-17", "2014-05-01", "2014-09-16", "2014-11-17", "2014-12-25"]),
        (2015, &["2015-01-01", "2015-02-02", "2015-03-16", "2015-05-01", "2015-09-16", "2015-11-16", "2015-12-25"]),
        (2016, &["2016-01-01", "2016-02-01", "2016-03-21", "2016-05-01", "2016-09-16", "2016-11-21", "2016-12-25"]),
        (2017, &["2017-01-01", "2017-02-06", "2017-03-20", "2017-05-01", "2017-09-16", "2017-11-20", "2017-12-25"]),
        (
            2018,
            &[
                "2018-01-01",
                "2018-02-05",
                "2018-03-19",
                "2018-05-01",
                "2018-09-16",
                "2018-11-19",
                "2018-12-01",
                "2018-12-25",
            ],
        ),
        (2019, &["2019-01-01", "2019-02-04", "2019-03-18", "2019-05-01", "2019-09-16", "2019-11-18", "2019-12-25"]),
        (2020, &["2020-01-01", "2020-02-03", "2020-03-16", "2020-05-01", "2020-09-16", "2020-11-16", "2020-12-25"]),
        (2021, &["2021-01-01", "2021-02-01", "2021-03-15", "2021-05-01", "2021-09-16", "2021-11-15", "2021-12-25"]),
        (2022, &["2022-01-01", "2022-02-07", "2022-03-21", "2022-05-01", "2022-09-16", "2022-11-21", "2022-12-25"]),
        (2023, &["2023-01-01", "2023-02-06", "2023-03-20", "2023-05-01", "2023-09-16", "2023-11-20", "2023-12-25"]),
        (
            2024,
            &[
                "2024-01-01",
                "2024-02-05",
                "2024-03-18",
                "2024-05-01",
                "2024-09-16",
                "2024-10-01",
                "2024-11-18",
                "2024-12-25",
            ],
        ),
        (2025, &["2025-01-01", "2025-02-03", "2025-03-17", "2025-05-01", "2025-09-16", "2025-11-17", "2025-12-25"]),
        (2026, &["2026-01-01", "2026-02-02", "2026-03-16", "2026-05-01", "2026-09-16", "2026-11-16", "2026-12-25"]),
        (2027, &["2027-01-01", "2027-02-01", "2027-03-15", "2027-05-01", "2027-09-16", "2027-11-15", "2027-12-25"]),
        (2028, &["2028-01-01", "2028-02-07", "2028-03-20", "2028-05-01", "2028-09-16", "2028-11-20", "2028-12-25"]),
        (2029, &["2029-01-01", "2029-02-05", "2029-03-19", "2029-05-01", "2029-09-16", "2029-11-19", "2029-12-25"]),
        (
            2030,
            &[
                "2030-01-01",
                "2030-02-04",
                "2030-03-18",
                "2030-05-01",
                "2030-09-16",
                "2030-10-01",
                "2030-11-18",
                "2030-12-25",
            ],
        ),
    ];

    #[test]
    fn every_rest_day_from_2011_to_2030_matches() {
        let lft = Calendars::builtin().get("lft").expect("lft").clone();
        for (year, days) in LFT_REST_DAYS {
            let want: Vec<Date> = days.iter().map(|d| d.parse().expect("date")).collect();
            let mut got = Vec::new();
            let mut d = date(*year, 1, 1);
            while d.year() == *year {
                let by_rule = lft.reasons(d, Locale::Es).iter().any(|r| matches!(r, Reason::Rule { .. }));
                if by_rule {
                    got.push(d);
                }
                d = d.tomorrow().expect("date");
            }
            assert_eq!(got, want, "{year}");
        }
    }
}

/// A request to add working days or count them, validated from raw input (API query,
/// form, CLI): one reading of the fields for every entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockQuery {
    pub calendar: String,
    pub from: Date,
    pub what: ClockAsk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockAsk {
    Add { working_days: u32 },
    Count { to: Date },
}

/// The most working days one query may add (ten years' worth).
pub const MAX_WORKING_DAYS: i64 = 2600;

pub fn validate_query(
    raw: &crate::input::RawInput,
    calendars: &Calendars,
    counting: bool,
) -> Result<ClockQuery, crate::ValidationErrors> {
    use crate::{FieldError, ValidationErrors};
    let mut errs = ValidationErrors::new();
    let known: &[&str] = if counting {
        &["calendar", "from", "to", "explain", "lang"]
    } else {
        &["calendar", "from", "working_days", "explain", "lang"]
    };
    raw.reject_unknown(known, &mut errs);
    let calendar = raw.text("calendar", 40, &mut errs).unwrap_or_else(|| DEFAULT_CALENDAR.to_string());
    if calendars.get(&calendar).is_err() {
        errs.push(FieldError::new("calendar", "unknown_choice"));
    }
    let from = raw.date("from", &mut errs);
    if from.is_none() && errs.for_field("from").is_none() {
        errs.push(FieldError::new("from", "required"));
    }
    let what = if counting {
        let to = raw.date("to", &mut errs);
        if to.is_none() && errs.for_field("to").is_none() {
            errs.push(FieldError::new("to", "required"));
        }
        to.map(|to| ClockAsk::Count { to })
    } else {
        let n = raw.integer("working_days", 0, MAX_WORKING_DAYS, &mut errs);
        if n.is_none() && errs.for_field("working_days").is_none() {
            errs.push(FieldError::new("working_days", "required"));
        }
        n.map(|n| ClockAsk::Add { working_days: n as u32 })
    };
    raw.boolean("explain", &mut errs);
    match (from, what) {
        (Some(from), Some(what)) if errs.is_empty() => Ok(ClockQuery { calendar, from, what }),
        _ => Err(errs),
    }
}

/// The answer to a [`ClockQuery`], with every day in between when asked to explain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockAnswer {
    pub calendar: String,
    pub from: Date,
    pub to: Date,
    pub working_days: i64,
    pub days: Vec<(Date, Vec<Reason>)>,
    /// Days in between that count but that the text leaves open, with why.
    pub open: Vec<(Date, Vec<Reason>)>,
}

pub fn answer(q: &ClockQuery, calendars: &Calendars, explain: bool, l: Locale) -> Result<ClockAnswer, ClockError> {
    let cal = calendars.get(&q.calendar)?;
    let (to, n) = match q.what {
        ClockAsk::Add { working_days } => (cal.add_working_days(q.from, working_days)?, i64::from(working_days)),
        ClockAsk::Count { to } => (to, cal.count_working_days(q.from, to)?),
    };
    let days = if explain {
        let (a, b) = if to < q.from { (to, q.from) } else { (q.from, to) };
        cal.explain(a, b, l)?
    } else {
        Vec::new()
    };
    let open = cal.open_between(q.from.min(to), q.from.max(to), l)?;
    Ok(ClockAnswer { calendar: q.calendar.clone(), from: q.from, to, working_days: n, days, open })
}

/// An agency-declared non-working period, validated: the calendar exists, the dates are
/// real and in order, at most three years long, and it names its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyRule {
    pub calendar: String,
    pub start: Date,
    pub end: Date,
    pub label_es: String,
    pub label_en: String,
    pub source: String,
}

pub fn validate_agency_rule(
    raw: &crate::input::RawInput,
    calendars: &Calendars,
) -> Result<AgencyRule, crate::ValidationErrors> {
    use crate::{FieldError, ValidationErrors};
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["calendar", "start_date", "end_date", "label_es", "label_en", "source"], &mut errs);
    let calendar = raw.required_text("calendar", 40, &mut errs);
    if calendar.as_deref().is_some_and(|c| calendars.get(c).is_err()) {
        errs.push(FieldError::new("calendar", "unknown_choice"));
    }
    let start = raw.date("start_date", &mut errs);
    if start.is_none() && errs.for_field("start_date").is_none() {
        errs.push(FieldError::new("start_date", "required"));
    }
    let end = raw.date("end_date", &mut errs).or(start);
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            errs.push(FieldError::new("end_date", "before_start"));
        } else if s.until(e).map(|sp| sp.get_days()).unwrap_or(0) > 3 * 366 {
            errs.push(FieldError::new("end_date", "range_too_long"));
        }
    }
    let label_es = raw.required_text("label_es", 200, &mut errs);
    let label_en = raw.text("label_en", 200, &mut errs);
    let source = raw.required_text("source", 500, &mut errs);
    match (calendar, start, end, label_es, source) {
        (Some(calendar), Some(start), Some(end), Some(label_es), Some(source)) if errs.is_empty() => Ok(AgencyRule {
            calendar,
            start,
            end,
            label_en: label_en.unwrap_or_else(|| label_es.clone()),
            label_es,
            source,
        }),
        _ => Err(errs),
    }
}

#[cfg(test)]
mod agency_tests {
    use super::*;
    use crate::input::RawInput;

    #[test]
    fn agency_rules_need_a_known_calendar_ordered_dates_and_a_source() {
        let cals = Calendars::builtin();
        let ok = RawInput::from_pairs([
            ("calendar", "comar"),
            ("start_date", "2020-04-01"),
            ("end_date", "2020-04-30"),
            ("label_es", "Suspensión de plazos"),
            ("source", "Acuerdo DOF 2020-04-01"),
        ]);
        let r = validate_agency_rule(&ok, &cals).expect("valid");
        assert_eq!(r.label_en, "Suspensión de plazos", "English falls back to Spanish");
        let bad = RawInput::from_pairs([
            ("calendar", "marte"),
            ("start_date", "2020-04-30"),
            ("end_date", "2020-04-01"),
            ("label_es", "x"),
        ]);
        let errs = validate_agency_rule(&bad, &cals).expect_err("invalid");
        let got: Vec<_> = errs.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert!(got.contains(&("calendar", "unknown_choice")));
        assert!(got.contains(&("end_date", "before_start")));
        assert!(got.contains(&("source", "required")));
    }
}
