//! The rules calendars are made of, as the data writes them ([`CalendarSpec`], [`Rule`],
//! [`When`]) and compiled to test dates against, and why a day does not count ([`Reason`]).

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use super::ClockError;
use crate::account::Locale;

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
pub(super) struct CalendarFile {
    pub(super) calendars: Vec<CalendarSpec>,
}

/// A rule ready to test dates against.
#[derive(Debug, Clone)]
pub(super) struct Compiled {
    pub(super) rule: Rule,
    /// The version of the text the rule comes from, `(es, en)`: its calendar's.
    pub(super) version: Option<(String, String)>,
    pub(super) from: Option<Date>,
    pub(super) until: Option<Date>,
    pub(super) date: Option<(Date, Date)>,
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

fn parse_date(s: &str) -> Result<Date, ClockError> {
    s.parse::<Date>().map_err(|e| ClockError::InvalidData(format!("{s:?}: {e}")))
}

pub(super) fn compile(rule: &Rule) -> Result<Compiled, ClockError> {
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
    pub(super) fn reason(&self, l: Locale) -> Reason {
        let (label, version) = match l {
            Locale::Es => (&self.rule.label_es, self.version.as_ref().map(|v| &v.0)),
            Locale::En => (&self.rule.label_en, self.version.as_ref().map(|v| &v.1)),
        };
        Reason::Rule { label: label.clone(), source: self.rule.source.clone(), version: version.cloned() }
    }

    pub(super) fn matches(&self, d: Date) -> bool {
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
