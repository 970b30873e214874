//! A request's deadlines today, from its events and the regime it is counted under
//! (module docs of [`super`] list the rules). Pure: the same events, regime, calendars
//! and day give the same answer.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{AnswerType, EventDraft, EventKind, Regime};
use crate::clock::{Calendars, ClockError};

choice!(
    /// A deadline a law sets for a request (`extension` and `resolution_extension` are
    /// the days an extension adds to `answer` and `resolution`).
    DeadlineKind {
        Answer = "answer",
        Extension = "extension",
        Incompetence = "incompetence",
        Appeal = "appeal",
        Resolution = "resolution",
        ResolutionExtension = "resolution_extension"
    }
);

choice!(
    /// Where a deadline stands today.
    DeadlineStatus {
        /// Running: the step has not happened and the day has not passed.
        Pending = "pending",
        /// The step happened on or before the day.
        Met = "met",
        /// The step happened after the day.
        Late = "late",
        /// The day passed and the authority has not done what it must (answer, resolve).
        Overdue = "overdue",
        /// The appeal window closed without an appeal.
        Expired = "expired",
        /// No day is computed: see the deadline's `reason`.
        NotComputed = "not_computed"
    }
);

choice!(
    /// Where a request stands.
    Stage {
        AwaitingAnswer = "awaiting_answer",
        AnswerOverdue = "answer_overdue",
        Answered = "answered",
        Appealed = "appealed",
        Resolved = "resolved",
        Complied = "complied"
    }
);

/// One deadline of a request, with what it is counted from and on what basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    /// The day the count starts after (the filing, the answer's notice…).
    pub from: Option<Date>,
    /// Working days counted, the extension's included.
    pub days: Option<u32>,
    pub due: Option<Date>,
    /// Whether an extension's days are included.
    pub extended: bool,
    pub status: DeadlineStatus,
    /// When the step happened.
    pub done_on: Option<Date>,
    /// The articles the count rests on ("art. 134", "art. 134 y art. 134").
    pub articles: Vec<String>,
    /// Why no day is computed: `unverified` (the law's value could not be verified from
    /// its published text), `not_in_regime`, `awaiting_admission`.
    pub reason: Option<&'static str>,
    /// The calendar the days are counted on.
    pub calendar: String,
}

/// An answer that answers: anything but a recorded "no answer".
fn answered(events: &[EventDraft]) -> Option<&EventDraft> {
    events.iter().find(|e| e.kind == EventKind::Answer && e.answer_type != Some(AnswerType::NoAnswer))
}

fn first(events: &[EventDraft], kind: EventKind) -> Option<Date> {
    events.iter().filter(|e| e.kind == kind).map(|e| e.on).min()
}

fn judge(due: Date, done: Option<Date>, today: Date, missed: DeadlineStatus) -> DeadlineStatus {
    match done {
        Some(d) if d <= due => DeadlineStatus::Met,
        Some(_) => DeadlineStatus::Late,
        None if today > due => missed,
        None => DeadlineStatus::Pending,
    }
}

struct Counter<'a> {
    regime: &'a Regime,
    cals: &'a Calendars,
}

/// A deadline's day, counted: due, days, articles, calendar.
type Counted = (Date, u32, Vec<String>, String);

impl Counter<'_> {
    fn not_computed(&self, kind: DeadlineKind, reason: &'static str) -> Deadline {
        Deadline {
            kind,
            from: None,
            days: None,
            due: None,
            extended: false,
            status: DeadlineStatus::NotComputed,
            done_on: None,
            articles: vec![],
            reason: Some(reason),
            calendar: self.regime.calendar.clone(),
        }
    }

    fn missing(&self, kind: DeadlineKind) -> Deadline {
        let reason = if self.regime.unverified.contains(&kind) { "unverified" } else { "not_in_regime" };
        self.not_computed(kind, reason)
    }

    /// The deadline `kind` counted from `from`, with `extra`'s days added when
    /// `extended`; `None` for the rule when the regime lacks it.
    fn count(
        &self,
        kind: DeadlineKind,
        extra: Option<DeadlineKind>,
        from: Date,
        extended: bool,
    ) -> Result<Result<Counted, Deadline>, ClockError> {
        let Some(rule) = self.regime.rule(kind) else { return Ok(Err(self.missing(kind))) };
        let mut days = rule.days;
        let mut articles = vec![rule.article.clone()];
        if let (true, Some(extra)) = (extended, extra) {
            match self.regime.rule(extra) {
                Some(x) => {
                    days += x.days;
                    if !articles.contains(&x.article) {
                        articles.push(x.article.clone());
                    }
                }
                None => return Ok(Err(self.missing(extra))),
            }
        }
        let calendar = rule.calendar(self.regime);
        Ok(Ok((self.cals.get(calendar)?.add_working_days(from, days)?, days, articles, calendar.to_string())))
    }
}

/// The request's deadlines today: the answer, the notice of lack of competence (when
/// the answer was one), the appeal window (once it opens) and the appeal's resolution
/// (once an appeal is filed). `events` in any order.
pub fn deadlines(
    filed_on: Date,
    events: &[EventDraft],
    regime: &Regime,
    cals: &Calendars,
    today: Date,
) -> Result<Vec<Deadline>, ClockError> {
    let c = Counter { regime, cals };
    let mut out = Vec::new();
    let answer = answered(events);
    let answered_on = answer.map(|a| a.on);

    // The answer. An extension counts when notified by the day the answer was due.
    let mut answer_due = None;
    match c.count(DeadlineKind::Answer, None, filed_on, false)? {
        Err(d) => out.push(d),
        Ok((plain_due, ..)) => {
            let extended = first(events, EventKind::Extension).is_some_and(|x| x <= plain_due);
            match c.count(DeadlineKind::Answer, Some(DeadlineKind::Extension), filed_on, extended)? {
                Err(d) => out.push(d),
                Ok((due, days, articles, calendar)) => {
                    answer_due = Some(due);
                    out.push(Deadline {
                        kind: DeadlineKind::Answer,
                        from: Some(filed_on),
                        days: Some(days),
                        due: Some(due),
                        extended,
                        status: judge(due, answered_on, today, DeadlineStatus::Overdue),
                        done_on: answered_on,
                        articles,
                        reason: None,
                        calendar,
                    });
                }
            }
        }
    }

    // A declaration of lack of competence has its own, shorter deadline.
    if let Some(a) = answer.filter(|a| a.answer_type == Some(AnswerType::NotCompetent)) {
        out.push(match c.count(DeadlineKind::Incompetence, None, filed_on, false)? {
            Err(d) => d,
            Ok((due, days, articles, calendar)) => Deadline {
                kind: DeadlineKind::Incompetence,
                from: Some(filed_on),
                days: Some(days),
                due: Some(due),
                extended: false,
                status: judge(due, Some(a.on), today, DeadlineStatus::Overdue),
                done_on: Some(a.on),
                articles,
                reason: None,
                calendar,
            },
        });
    }

    // The appeal window opens with the answer's notice, or when the answer's deadline
    // passes without one.
    let appealed_on = first(events, EventKind::AppealFiled);
    let opens = answered_on.or(answer_due.filter(|d| today > *d || appealed_on.is_some()));
    if let Some(from) = opens {
        out.push(match c.count(DeadlineKind::Appeal, None, from, false)? {
            Err(d) => d,
            Ok((due, days, articles, calendar)) => Deadline {
                kind: DeadlineKind::Appeal,
                from: Some(from),
                days: Some(days),
                due: Some(due),
                extended: false,
                status: judge(due, appealed_on, today, DeadlineStatus::Expired),
                done_on: appealed_on,
                articles,
                reason: None,
                calendar,
            },
        });
    } else if appealed_on.is_some() {
        // An appeal recorded while no window can be computed (the answer's rule is not
        // verified): the window itself is not computed.
        out.push(c.missing(DeadlineKind::Appeal));
    }

    // The resolution runs from the appeal's admission.
    if appealed_on.is_some() {
        let resolved_on = first(events, EventKind::AppealResolved);
        out.push(match first(events, EventKind::AppealAdmitted) {
            None => c.not_computed(DeadlineKind::Resolution, "awaiting_admission"),
            Some(admitted) => {
                // As for the answer: an extension counts when notified by the day the
                // resolution was due.
                let extended = match c.count(DeadlineKind::Resolution, None, admitted, false)? {
                    Ok((plain_due, ..)) => first(events, EventKind::AppealExtension).is_some_and(|x| x <= plain_due),
                    Err(_) => false,
                };
                match c.count(DeadlineKind::Resolution, Some(DeadlineKind::ResolutionExtension), admitted, extended)? {
                    Err(d) => d,
                    Ok((due, days, articles, calendar)) => Deadline {
                        kind: DeadlineKind::Resolution,
                        from: Some(admitted),
                        days: Some(days),
                        due: Some(due),
                        extended,
                        status: judge(due, resolved_on, today, DeadlineStatus::Overdue),
                        done_on: resolved_on,
                        articles,
                        reason: None,
                        calendar,
                    },
                }
            }
        });
    }
    // A count crossing a period the law's count is uncertain in is not computed.
    for d in out.iter_mut() {
        let (Some(from), Some(due)) = (d.from, d.due) else { continue };
        if regime.uncertain.iter().any(|u| u.kinds.contains(&d.kind) && u.start <= due && from < u.end) {
            *d = Deadline { from: Some(from), ..c.not_computed(d.kind, "unverified_suspension") };
        }
    }
    Ok(out)
}

/// Where the request stands today, given its deadlines.
pub fn stage(events: &[EventDraft], deadlines: &[Deadline]) -> Stage {
    let has = |k: EventKind| events.iter().any(|e| e.kind == k);
    if has(EventKind::Compliance) {
        Stage::Complied
    } else if has(EventKind::AppealResolved) {
        Stage::Resolved
    } else if has(EventKind::AppealFiled) {
        Stage::Appealed
    } else if answered(events).is_some() {
        Stage::Answered
    } else if deadlines.iter().any(|d| d.kind == DeadlineKind::Answer && d.status == DeadlineStatus::Overdue) {
        Stage::AnswerOverdue
    } else {
        Stage::AwaitingAnswer
    }
}

/// Working days from `today` to the deadline's day on its calendar (negative when past).
pub fn working_days_left(d: &Deadline, cals: &Calendars, today: Date) -> Result<Option<i64>, ClockError> {
    match d.due {
        None => Ok(None),
        Some(due) => cals.get(&d.calendar)?.count_working_days(today, due).map(Some),
    }
}
