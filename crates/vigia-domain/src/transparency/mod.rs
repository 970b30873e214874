//! Access-to-information requests (issue #20 part 1): what an organization asked an
//! authority in writing (a *solicitud de acceso a la información*), what happened to it
//! (extension, answer, appeal — *recurso de revisión* —, resolution, compliance) and the
//! deadlines the law in force on the filing date sets for each step.
//!
//! The laws are data ([`regime`], `data/transparency.json`): each regime names its law,
//! the version of the text, the dates it is in force, the working-day calendar it counts
//! on and, for each deadline, the days and the article with its published words. A
//! value that could not be verified from the published text is not shipped: the
//! deadline is then shown as "not computed" with the reason, never as a number.
//!
//! Rules ([`deadlines`]):
//! - **Answer**: the regime's days (working days) counted from the day after filing; the
//!   extension's days more when an extension was notified before the answer was due.
//! - **Appeal window**: the regime's days from the day after the answer's notice, or
//!   from the day after the answer deadline passed without an answer.
//! - **Appeal resolution**: the regime's days from the day after the appeal's
//!   admission, its extension's days more when an extension was notified.

use serde::{Deserialize, Serialize};

use crate::input::RawInput;
use crate::{FieldError, ValidationErrors};

pub mod deadlines;
pub mod regime;

#[cfg(test)]
mod tests;

pub use deadlines::{deadlines, stage, Deadline, DeadlineKind, DeadlineStatus, Stage};
pub use regime::{Regime, RegimeRule, Regimes, Uncertain, DEFAULT_REGIMES};

choice!(
    /// How a request was filed.
    Channel { Pnt = "pnt", Email = "email", InPerson = "in_person", Mail = "mail", Other = "other" }
);

choice!(
    /// What an answer gave: everything, part, a classification (reserved or
    /// confidential), a declaration that the information does not exist, a declaration
    /// of lack of competence, or nothing by the deadline.
    AnswerType {
        Full = "full",
        Partial = "partial",
        Classified = "classified",
        Inexistent = "inexistent",
        NotCompetent = "not_competent",
        NoAnswer = "no_answer"
    }
);

choice!(
    /// What happened to a request, in the order it usually happens.
    EventKind {
        Extension = "extension",
        Answer = "answer",
        AppealFiled = "appeal_filed",
        AppealAdmitted = "appeal_admitted",
        AppealExtension = "appeal_extension",
        AppealResolved = "appeal_resolved",
        Compliance = "compliance"
    }
);

choice!(
    /// How the guarantor resolved an appeal.
    Outcome { Confirms = "confirms", Modifies = "modifies", Revokes = "revokes", Dismissed = "dismissed" }
);

choice!(
    /// What a request can be linked to (the organization's own records, or shared ones).
    LinkKind { Suspension = "suspension", Statement = "statement", Recommendation = "recommendation", AccessAttempt = "access_attempt" }
);

/// The authorities requests go to most often, offered first; any other *sujeto
/// obligado* is named by a code the same way statements name authorities
/// (`fiscalia_chiapas`).
pub const AUTHORITIES: [&str; 4] = ["inm", "comar", "segob", "guardia_nacional"];

/// A request as filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestDraft {
    /// The *sujeto obligado* asked, as a code: `inm`, `comar`…
    pub authority: String,
    /// The folio the platform or the authority gave it.
    pub folio: String,
    pub filed_on: jiff::civil::Date,
    /// What was asked, as filed.
    pub question: String,
    pub channel: Channel,
    /// Who filed it (a person or an office), when not the one recording it.
    pub filed_by: Option<String>,
    /// The regime it is counted under: the federal law in force on the filing date
    /// unless a state regime is named.
    pub regime: Option<String>,
}

pub const REQUEST_FIELDS: [&str; 7] = ["authority", "folio", "filed_on", "question", "channel", "filed_by", "regime"];

/// Reads a request from a form, a JSON body or a CSV row. `regimes` tells which regime
/// names exist; `today` refuses filing dates in the future.
pub fn validate_request(
    raw: &RawInput,
    regimes: &Regimes,
    today: jiff::civil::Date,
    extra: &[&str],
) -> Result<RequestDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    let known: Vec<&str> = REQUEST_FIELDS.iter().chain(extra).copied().collect();
    raw.reject_unknown(&known, &mut errs);
    let authority = raw.code("authority", &mut errs);
    let folio = raw.required_line("folio", 60, &mut errs);
    let filed_on = raw.date("filed_on", &mut errs);
    if !raw.has("filed_on") {
        errs.push(FieldError::new("filed_on", "required"));
    }
    if filed_on.is_some_and(|d| d > today) {
        errs.push(FieldError::new("filed_on", "in_future"));
    }
    let question = raw.required_text("question", 20_000, &mut errs);
    let channel = match raw.text("channel", 40, &mut errs) {
        None => Some(Channel::Pnt),
        Some(c) => Channel::parse(&c).or_else(|| {
            errs.push(FieldError::new("channel", "unknown_choice"));
            None
        }),
    };
    let filed_by = raw.line("filed_by", 200, &mut errs);
    let regime = raw.line("regime", 60, &mut errs);
    if let Some(r) = &regime {
        match regimes.get(r) {
            None => errs.push(FieldError::new("regime", "unknown_choice")),
            Some(reg) if filed_on.is_some_and(|d| !reg.in_force(d)) => {
                errs.push(FieldError::new("regime", "not_in_force"))
            }
            Some(_) => {}
        }
    } else if let Some(d) = filed_on {
        if regimes.federal_on(d).is_none() {
            errs.push(FieldError::new("filed_on", "no_regime"));
        }
    }
    match (authority, folio, filed_on, question, channel) {
        (Some(authority), Some(folio), Some(filed_on), Some(question), Some(channel)) if errs.is_empty() => {
            Ok(RequestDraft { authority, folio, filed_on, question, channel, filed_by, regime })
        }
        _ => Err(errs),
    }
}

/// Something that happened to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDraft {
    pub kind: EventKind,
    /// The day it was notified or done.
    pub on: jiff::civil::Date,
    /// For an answer: what it gave.
    pub answer_type: Option<AnswerType>,
    /// For a resolved appeal: how.
    pub outcome: Option<Outcome>,
    /// The appeal's folio, the oficio's number, a summary of the answer.
    pub note: Option<String>,
}

pub const EVENT_FIELDS: [&str; 5] = ["kind", "on", "answer_type", "outcome", "note"];

/// Reads an event; `before` are the request's events so far and `filed_on` its filing
/// date: an event must follow what it answers (an answer after the filing, an appeal
/// after the answer or the missed deadline, a resolution after the appeal…).
pub fn validate_event(
    raw: &RawInput,
    filed_on: jiff::civil::Date,
    before: &[EventDraft],
    today: jiff::civil::Date,
) -> Result<EventDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&EVENT_FIELDS, &mut errs);
    let kind = match raw.text("kind", 40, &mut errs) {
        Some(k) => EventKind::parse(&k).or_else(|| {
            errs.push(FieldError::new("kind", "unknown_choice"));
            None
        }),
        None => {
            errs.push(FieldError::new("kind", "required"));
            None
        }
    };
    let on = raw.date("on", &mut errs);
    if !raw.has("on") {
        errs.push(FieldError::new("on", "required"));
    }
    if on.is_some_and(|d| d > today) {
        errs.push(FieldError::new("on", "in_future"));
    }
    if on.is_some_and(|d| d < filed_on) {
        errs.push(FieldError::new("on", "before_filing"));
    }
    let answer_type = raw.text("answer_type", 40, &mut errs).and_then(|t| {
        AnswerType::parse(&t).or_else(|| {
            errs.push(FieldError::new("answer_type", "unknown_choice"));
            None
        })
    });
    let outcome = raw.text("outcome", 40, &mut errs).and_then(|t| {
        Outcome::parse(&t).or_else(|| {
            errs.push(FieldError::new("outcome", "unknown_choice"));
            None
        })
    });
    let note = raw.text("note", 10_000, &mut errs);
    let (Some(kind), Some(on)) = (kind, on) else { return Err(errs) };
    match kind {
        EventKind::Answer if answer_type.is_none() && errs.for_field("answer_type").is_none() => {
            errs.push(FieldError::new("answer_type", "required"))
        }
        EventKind::AppealResolved if outcome.is_none() && errs.for_field("outcome").is_none() => {
            errs.push(FieldError::new("outcome", "required"))
        }
        _ => {}
    }
    if answer_type.is_some() && kind != EventKind::Answer {
        errs.push(FieldError::new("answer_type", "not_for_kind"));
    }
    if outcome.is_some() && kind != EventKind::AppealResolved {
        errs.push(FieldError::new("outcome", "not_for_kind"));
    }
    let has = |k: EventKind| before.iter().find(|e| e.kind == k);
    let real_answer = before.iter().any(|e| e.kind == EventKind::Answer && e.answer_type != Some(AnswerType::NoAnswer));
    // What must come before each step.
    let needs = match kind {
        EventKind::Extension => real_answer.then_some("already_answered"),
        EventKind::Answer => None,
        EventKind::AppealFiled => None,
        EventKind::AppealAdmitted | EventKind::AppealExtension | EventKind::AppealResolved => {
            has(EventKind::AppealFiled).is_none().then_some("no_appeal")
        }
        EventKind::Compliance => None,
    };
    if let Some(code) = needs {
        errs.push(FieldError::new("kind", code));
    }
    // Each step but compliance happens once. A recorded "no answer" leaves room for the
    // late answer that may follow it; nothing else is recorded twice.
    let taken = match kind {
        EventKind::Compliance => false,
        EventKind::Answer if answer_type == Some(AnswerType::NoAnswer) => has(EventKind::Answer).is_some(),
        EventKind::Answer => real_answer,
        _ => has(kind).is_some(),
    };
    if taken {
        errs.push(FieldError::new("kind", "already_recorded"));
    }
    // Dates follow the step they depend on.
    let after = |k: EventKind| has(k).map(|e| e.on);
    let floor = match kind {
        EventKind::AppealAdmitted => after(EventKind::AppealFiled),
        EventKind::AppealExtension | EventKind::AppealResolved => {
            after(EventKind::AppealFiled).max(after(EventKind::AppealAdmitted))
        }
        EventKind::AppealFiled => after(EventKind::Answer),
        // An answer cannot come before an extension already notified of it.
        EventKind::Answer => after(EventKind::Extension),
        _ => None,
    };
    if floor.is_some_and(|f| on < f) {
        errs.push(FieldError::new("on", "before_previous_step"));
    }
    errs.into_result(EventDraft { kind, on, answer_type, outcome, note })
}

/// A request's link to a record it concerns, by kind and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkDraft {
    pub kind: LinkKind,
    /// The record's id; a suspension (found by the analysis, not stored) is its period,
    /// `2020-01-20/2020-01-31`.
    pub reference: String,
}

pub fn validate_link(raw: &RawInput) -> Result<LinkDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["kind", "reference"], &mut errs);
    let kind = match raw.text("kind", 40, &mut errs) {
        Some(k) => LinkKind::parse(&k).or_else(|| {
            errs.push(FieldError::new("kind", "unknown_choice"));
            None
        }),
        None => {
            errs.push(FieldError::new("kind", "required"));
            None
        }
    };
    let reference = raw.required_line("reference", 100, &mut errs);
    let reference = match (kind, reference) {
        (Some(LinkKind::Suspension), Some(r)) => match period(&r) {
            Some((from, until)) => Some(format!("{from}/{until}")),
            None => {
                errs.push(FieldError::new("reference", "invalid_period"));
                None
            }
        },
        (Some(_), Some(r)) => match r.parse::<i64>() {
            Ok(n) if n > 0 => Some(n.to_string()),
            _ => {
                errs.push(FieldError::new("reference", "invalid_id"));
                None
            }
        },
        _ => None,
    };
    match (kind, reference) {
        (Some(kind), Some(reference)) if errs.is_empty() => Ok(LinkDraft { kind, reference }),
        _ => Err(errs),
    }
}

/// A suspension's period as a link names it: `start/end`, start not after end.
pub fn period(s: &str) -> Option<(jiff::civil::Date, jiff::civil::Date)> {
    let (a, b) = s.split_once('/')?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b).then_some((a, b))
}

/// Whether an appeal recorded on `on` comes before it could be filed: with no answer,
/// an appeal rests on the answer's deadline having passed (the law's "vencimiento del
/// plazo para su notificación"), so it cannot be filed on or before that day.
pub fn appeal_too_early(
    filed_on: jiff::civil::Date,
    before: &[EventDraft],
    on: jiff::civil::Date,
    regime: &Regime,
    cals: &crate::clock::Calendars,
) -> Result<bool, crate::clock::ClockError> {
    if before.iter().any(|e| e.kind == EventKind::Answer && e.answer_type != Some(AnswerType::NoAnswer)) {
        return Ok(false);
    }
    let ds = deadlines::deadlines(filed_on, before, regime, cals, on)?;
    Ok(ds.iter().any(|d| d.kind == DeadlineKind::Answer && d.due.is_some_and(|due| on <= due)))
}
