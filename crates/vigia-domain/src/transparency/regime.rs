//! The laws requests are counted under, as data: each regime names its law, the version
//! of the text, when it is in force, the calendar its working days are counted on, and
//! one rule per deadline with the article and its published words. The federal regimes
//! ship in `data/transparency.json`; administrators may add state regimes in the same
//! shape (`vigia requests regime add FILE`).

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::deadlines::DeadlineKind;
use crate::account::Locale;

/// The regimes shipped with Vigía.
pub const DEFAULT_REGIMES: &str = include_str!("../../data/transparency.json");

/// One deadline as a law sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegimeRule {
    pub kind: DeadlineKind,
    /// Working days on the regime's calendar.
    pub days: u32,
    /// The article, e.g. "art. 134".
    pub article: String,
    /// The article's published words the value is read from, in Spanish.
    pub quote: String,
    /// The calendar this deadline counts on, when not the regime's (a suspension that
    /// stops appeals but not answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
}

/// A period in which the law's count of some deadlines is uncertain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uncertain {
    pub start: Date,
    pub end: Date,
    pub kinds: Vec<DeadlineKind>,
}

impl RegimeRule {
    pub fn calendar<'a>(&'a self, regime: &'a Regime) -> &'a str {
        self.calendar.as_deref().unwrap_or(&regime.calendar)
    }
}

/// A law (federal or of a state) with the deadlines it sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Regime {
    /// A short stable name, e.g. `lgtaip-2025`.
    pub name: String,
    pub title_es: String,
    pub title_en: String,
    /// Which text: its publication in the official gazette.
    pub version_es: String,
    pub version_en: String,
    /// Federal regimes apply by filing date; a state regime is chosen by name.
    pub federal: bool,
    /// First and last day of force (inclusive); open when absent.
    pub from: Option<Date>,
    pub until: Option<Date>,
    /// The calendar working days are counted on (see `clock`).
    pub calendar: String,
    /// The article that makes the law's days working days, when verified (else the
    /// notes say how days are counted and why).
    pub days_article: Option<String>,
    pub rules: Vec<RegimeRule>,
    /// Deadlines the law sets whose value or article could not be verified from the
    /// published text: named, so the user is told they are not computed, and why.
    #[serde(default)]
    pub unverified: Vec<DeadlineKind>,
    /// Periods in which the count of some deadlines is uncertain (a suspension reported
    /// but not verified in a published text): a deadline of those kinds whose count
    /// crosses one is not computed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncertain: Vec<Uncertain>,
    #[serde(default)]
    pub notes_es: Option<String>,
    #[serde(default)]
    pub notes_en: Option<String>,
}

impl Regime {
    pub fn in_force(&self, d: Date) -> bool {
        self.from.is_none_or(|f| f <= d) && self.until.is_none_or(|u| d <= u)
    }

    pub fn rule(&self, kind: DeadlineKind) -> Option<&RegimeRule> {
        self.rules.iter().find(|r| r.kind == kind)
    }

    pub fn title(&self, l: Locale) -> &str {
        match l {
            Locale::Es => &self.title_es,
            Locale::En => &self.title_en,
        }
    }

    pub fn version(&self, l: Locale) -> &str {
        match l {
            Locale::Es => &self.version_es,
            Locale::En => &self.version_en,
        }
    }

    pub fn notes(&self, l: Locale) -> Option<&str> {
        match l {
            Locale::Es => self.notes_es.as_deref(),
            Locale::En => self.notes_en.as_deref(),
        }
    }

    /// Checks a regime as an administrator writes it: a name of letters, digits and
    /// dashes, a known calendar, days between 1 and 365, each deadline once.
    pub fn check(&self, calendars: &crate::clock::Calendars) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 60
            && self.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(format!("name {:?}: lowercase letters, digits and dashes", self.name));
        }
        for cal in std::iter::once(&self.calendar).chain(self.rules.iter().filter_map(|r| r.calendar.as_ref())) {
            if calendars.get(cal).is_err() {
                return Err(format!("calendar {cal:?} is unknown"));
            }
        }
        if let (Some(f), Some(u)) = (self.from, self.until) {
            if u < f {
                return Err("until is before from".into());
            }
        }
        if self.uncertain.iter().any(|u| u.end < u.start) {
            return Err("an uncertain period ends before it starts".into());
        }
        for (i, r) in self.rules.iter().enumerate() {
            if !(1..=365).contains(&r.days) {
                return Err(format!("{}: days must be 1 to 365", r.kind.as_str()));
            }
            if r.article.trim().is_empty() || r.quote.trim().is_empty() {
                return Err(format!("{}: an article and its words are required", r.kind.as_str()));
            }
            if self.rules[..i].iter().any(|o| o.kind == r.kind) {
                return Err(format!("{}: given twice", r.kind.as_str()));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
struct RegimeFile {
    regimes: Vec<Regime>,
}

/// The regimes by name.
#[derive(Debug, Clone, Default)]
pub struct Regimes {
    by_name: BTreeMap<String, Regime>,
}

impl Regimes {
    pub fn from_json(json: &str) -> Result<Regimes, String> {
        let file: RegimeFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut out = Regimes::default();
        for r in file.regimes {
            out.by_name.insert(r.name.clone(), r);
        }
        Ok(out)
    }

    /// The shipped regimes (tested to parse).
    pub fn builtin() -> Regimes {
        Regimes::from_json(DEFAULT_REGIMES).unwrap_or_default()
    }

    /// Adds (or replaces) regimes, e.g. the state regimes administrators entered.
    pub fn with(mut self, extra: impl IntoIterator<Item = Regime>) -> Regimes {
        for r in extra {
            self.by_name.insert(r.name.clone(), r);
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<&Regime> {
        self.by_name.get(name)
    }

    pub fn all(&self) -> impl Iterator<Item = &Regime> {
        self.by_name.values()
    }

    /// The federal regime in force on `d`.
    pub fn federal_on(&self, d: Date) -> Option<&Regime> {
        self.by_name.values().find(|r| r.federal && r.in_force(d))
    }

    /// The regime a request is counted under: the one it names, else the federal one in
    /// force on its filing date.
    pub fn for_request(&self, named: Option<&str>, filed_on: Date) -> Option<&Regime> {
        match named {
            Some(n) => self.get(n),
            None => self.federal_on(filed_on),
        }
    }
}
