//! The legal clock: working-day calendars held as data (each rule names its published
//! source: LFPA art. 28, LFT art. 74, Ley de Amparo art. 19), and counting on
//! them. Counting starts the working day after the triggering event; a calendar may
//! extend another (an agency's extends LFPA) and add declared days and suspension
//! periods, each with its source.

mod calendar;
mod query;
mod rules;

#[cfg(test)]
mod agency_tests;
#[cfg(test)]
mod rest_day_table;
#[cfg(test)]
mod tests;

pub use calendar::{Calendar, Calendars};
pub use query::{
    answer, validate_agency_rule, validate_query, AgencyRule, ClockAnswer, ClockAsk, ClockQuery, MAX_WORKING_DAYS,
};
pub use rules::{CalendarSpec, Reason, Rule, WeekdayName, When};

/// The calendars shipped with Vigía.
pub const DEFAULT_CALENDARS: &str = include_str!("../../data/calendars.json");

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
