//! The clock's questions from raw input (API query, form, CLI) and their answers, and
//! agency-declared periods as entered.

use jiff::civil::Date;

use super::{Calendars, ClockError, Reason, DEFAULT_CALENDAR};
use crate::account::Locale;

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
