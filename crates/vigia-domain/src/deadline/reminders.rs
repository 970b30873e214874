//! What a case's lawyers are told: running deadlines due soon or overdue, and the
//! violations going on or just recorded ([`reminders`]).

use jiff::civil::Date;
use serde::Serialize;

use super::{Assessment, Deadline, RuleId, Status, ViolationKind};
use crate::clock::{Calendars, ClockError};

/// Working days from `today` until `due` on the rule's calendar (negative when past).
pub fn working_days_left(d: &Deadline, cals: &Calendars, today: Date) -> Result<Option<i64>, ClockError> {
    let Some(due) = d.due else { return Ok(None) };
    match d.rule.calendar() {
        None => Ok(Some((due - today).get_days().into())),
        Some(name) => cals.get(name)?.count_working_days(today, due).map(Some),
    }
}

/// How long after a return its possible refoulement is still told as an alert (days).
pub const RECENT_RETURN_DAYS: i32 = 30;

/// Something a case's lawyers should be told about today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    /// `deadline` or `violation`, as alerts are kinds.
    pub kind: &'static str,
    /// Unique per thing to tell, so a sweep run twice tells it once.
    pub key: String,
    /// The rule or violation, e.g. `detention_max`, `child_detained`.
    pub what: &'static str,
    /// `due_soon`, `overdue` or `ongoing`.
    pub state: &'static str,
    pub due: Option<Date>,
    pub working_days_left: Option<i64>,
}

/// What to remind about for one case: running deadlines due within `horizon` working
/// days or overdue, and ongoing violations (child detained, held past the limit). The
/// 36-hour threshold is an advocacy figure shown on the case, not a reminder.
pub fn reminders(case_id: i64, a: &Assessment, cals: &Calendars, today: Date, horizon: u32) -> Vec<Reminder> {
    let mut out = Vec::new();
    for d in a.deadlines.iter().filter(|d| d.rule != RuleId::Detention36h) {
        let left = working_days_left(d, cals, today).ok().flatten();
        let state = match (d.status, left) {
            (Status::Overdue, _) => "overdue",
            (Status::Pending, Some(n)) if n <= i64::from(horizon) => "due_soon",
            _ => continue,
        };
        let due = d.due.map(|x| x.to_string()).unwrap_or_default();
        out.push(Reminder {
            kind: "deadline",
            key: format!("deadline:{case_id}:{}:{}:{due}:{state}", d.rule.as_str(), d.from_event),
            what: d.rule.as_str(),
            state,
            due: d.due,
            working_days_left: left,
        });
    }
    for v in a.violations.iter().filter(|v| v.kind != ViolationKind::HeldPast36Hours) {
        // A return is told once, when recorded; other violations while they go on.
        let state = match (v.kind, v.ongoing) {
            // Only a return recorded soon after it happened: an old one found when its
            // case is first assessed (an upgrade, an import) is on the case, not news.
            (ViolationKind::PossibleRefoulement, _) if (today - v.since).get_days() > RECENT_RETURN_DAYS => continue,
            (ViolationKind::PossibleRefoulement, _) => "happened",
            (_, true) => "ongoing",
            (_, false) => continue,
        };
        out.push(Reminder {
            kind: "violation",
            key: format!("violation:{case_id}:{}:{}", v.kind.as_str(), v.event),
            what: v.kind.as_str(),
            state,
            due: None,
            working_days_left: None,
        });
    }
    out
}
