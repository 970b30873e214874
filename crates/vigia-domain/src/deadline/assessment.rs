//! A case's assessment: its events, put in the engine's one order, give its deadlines
//! and violations as of a day ([`assess`]).

use jiff::civil::{Date, Time};
use serde::Serialize;

use super::rules::{
    RuleId, ViolationKind, APPEAL_DAYS, ART_99_IN_FORCE, ASYLUM_FILING_DAYS, COMAR_DECISION_DAYS, DETENTION_DAYS,
    DETENTION_DAYS_EXTENDED, THRESHOLD_HOURS,
};
use crate::account::Locale;
use crate::case::{chronological, DecisionOutcome, EventKind, ExtensionGround, Fact};
use crate::clock::{Calendars, ClockError};

/// Where a deadline stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Still running; `due` is today or later.
    Pending,
    /// Still running and `due` has passed.
    Overdue,
    /// Closed on or before `due`.
    Met,
    /// Closed after `due`.
    Missed,
    /// Running with no fixed end (detention under ground V).
    Open,
    /// No time limit at all (an amparo against a deportation).
    AnyTime,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Overdue => "overdue",
            Status::Met => "met",
            Status::Missed => "missed",
            Status::Open => "open",
            Status::AnyTime => "any_time",
        }
    }

    pub fn is_running(self) -> bool {
        matches!(self, Status::Pending | Status::Overdue | Status::Open)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub rule: RuleId,
    /// The event that started it.
    pub from_event: i64,
    pub start: Date,
    /// Working days allowed (hours for the 36-hour threshold).
    pub allowed: u32,
    pub due: Option<Date>,
    /// The time of day on `due` (the 36-hour threshold only).
    pub due_time: Option<Time>,
    /// The event that closed it, if any.
    pub closed_by: Option<i64>,
    pub closed_on: Option<Date>,
    pub status: Status,
}

/// Why a return was flagged under LRPCAP art. 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimState {
    /// Requested and no decision yet.
    Pending,
    /// A negative decision, inside the review-appeal window.
    AppealWindow,
    /// An appeal filed and not decided.
    AppealPending,
    /// Refugee status recognized.
    Recognized,
    /// Complementary protection granted: a protection against being returned.
    ComplementaryProtection,
}

impl ClaimState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimState::Pending => "pending",
            ClaimState::AppealWindow => "appeal_window",
            ClaimState::AppealPending => "appeal_pending",
            ClaimState::Recognized => "recognized",
            ClaimState::ComplementaryProtection => "complementary_protection",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub kind: ViolationKind,
    pub since: Date,
    /// The event it is about (the detention).
    pub event: i64,
    /// Whether it is still going on today.
    pub ongoing: bool,
    pub basis_es: &'static str,
    pub basis_en: &'static str,
    /// For a possible refoulement: where the claim stood on the day of the return.
    pub claim: Option<ClaimState>,
}

impl Violation {
    pub fn basis(&self, l: Locale) -> &'static str {
        match l {
            Locale::Es => self.basis_es,
            Locale::En => self.basis_en,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Assessment {
    pub deadlines: Vec<Deadline>,
    pub violations: Vec<Violation>,
    /// The start of the detention going on today, if any.
    pub detained_since: Option<Date>,
}

impl Assessment {
    pub fn in_detention(&self) -> bool {
        self.detained_since.is_some()
    }

    pub fn held_past_limit(&self) -> bool {
        self.violations.iter().any(|v| v.kind == ViolationKind::HeldPastLimit && v.ongoing)
    }
}

fn status(due: Option<Date>, closed_on: Option<Date>, today: Date) -> Status {
    match (due, closed_on) {
        (None, None) => Status::Open,
        (None, Some(_)) => Status::Met,
        (Some(d), Some(c)) if c <= d => Status::Met,
        (Some(_), Some(_)) => Status::Missed,
        (Some(d), None) if today > d => Status::Overdue,
        (Some(_), None) => Status::Pending,
    }
}

fn add(cals: &Calendars, rule: RuleId, from: Date, n: u32) -> Result<Date, ClockError> {
    cals.get(rule.calendar().unwrap_or("inm"))?.add_working_days(from, n)
}

/// A detention period: from a `detained` event to the event that ended it.
struct Period {
    start: Fact,
    end: Option<Fact>,
    ground: Option<ExtensionGround>,
}

fn periods(facts: &[Fact]) -> Vec<Period> {
    let mut out: Vec<Period> = Vec::new();
    for f in facts {
        let open = out.last_mut().filter(|p| p.end.is_none());
        match (f.kind, open) {
            (EventKind::Detained, None) => out.push(Period { start: *f, end: None, ground: None }),
            // Ground V (a pending remedy) outweighs I–IV: it has no fixed end.
            (EventKind::DetentionExtended, Some(p)) if p.ground != Some(ExtensionGround::V) => p.ground = f.ground,
            (k, Some(p)) if k.ends_detention() => p.end = Some(*f),
            _ => {}
        }
    }
    out
}

/// The deadlines and violations a case's events give rise to, as of `today`.
/// `minor` is the case's minor flag. Voided events must be left out by the caller.
pub fn assess(minor: bool, events: &[Fact], cals: &Calendars, today: Date) -> Result<Assessment, ClockError> {
    let mut facts = events.to_vec();
    chronological(&mut facts);
    let mut a = Assessment::default();

    for p in periods(&facts) {
        let start = p.start.on;
        let end_on = p.end.map(|e| e.on);
        let ongoing = p.end.is_none();
        if ongoing {
            a.detained_since = Some(start);
        }
        // 36 hours from the moment of detention (midnight when no time was recorded).
        let at = start.to_datetime(p.start.time.unwrap_or(Time::midnight()));
        let due36 =
            at.checked_add(jiff::Span::new().hours(i64::from(THRESHOLD_HOURS))).map_err(|_| ClockError::OutOfRange)?;
        let end36 = p.end.map(|e| e.on.to_datetime(e.time.unwrap_or(Time::midnight())));
        let now36 = today.to_datetime(Time::midnight());
        let st36 = match end36 {
            Some(e) if e <= due36 => Status::Met,
            Some(_) => Status::Missed,
            None if now36 > due36 => Status::Overdue,
            None => Status::Pending,
        };
        a.deadlines.push(Deadline {
            rule: RuleId::Detention36h,
            from_event: p.start.id,
            start,
            allowed: THRESHOLD_HOURS,
            due: Some(due36.date()),
            due_time: Some(due36.time()),
            closed_by: p.end.map(|e| e.id),
            closed_on: end_on,
            status: st36,
        });
        if matches!(st36, Status::Overdue | Status::Missed) {
            a.violations.push(Violation {
                kind: ViolationKind::HeldPast36Hours,
                since: due36.date(),
                event: p.start.id,
                ongoing,
                basis_es: "Constitución art. 21; SCJN AR 388/2022",
                basis_en: "Constitution art. 21; SCJN AR 388/2022",
                claim: None,
            });
        }

        let allowed = match p.ground {
            None => Some(DETENTION_DAYS),
            Some(ExtensionGround::V) => None,
            Some(_) => Some(DETENTION_DAYS_EXTENDED),
        };
        let due = allowed.map(|n| add(cals, RuleId::DetentionMax, start, n)).transpose()?;
        let st = status(due, end_on, today);
        a.deadlines.push(Deadline {
            rule: RuleId::DetentionMax,
            from_event: p.start.id,
            start,
            allowed: allowed.unwrap_or(0),
            due,
            due_time: None,
            closed_by: p.end.map(|e| e.id),
            closed_on: end_on,
            status: st,
        });
        if let (Some(d), Status::Overdue | Status::Missed) = (due, st) {
            a.violations.push(Violation {
                kind: ViolationKind::HeldPastLimit,
                since: d.tomorrow().unwrap_or(d),
                event: p.start.id,
                ongoing,
                basis_es: "Ley de Migración art. 111",
                basis_en: "Migration Law art. 111",
                claim: None,
            });
        }

        if minor {
            let (es, en) = if start >= ART_99_IN_FORCE {
                (
                    "Ley de Migración art. 99 (DOF 11-11-2020): nunca se presenta ni aloja a niñas, niños y adolescentes en estaciones migratorias",
                    "Migration Law art. 99 (DOF 11-11-2020): children are never presented or held in migration stations",
                )
            } else {
                (
                    "Reglamento de la LGDNNA (2015); CRC/C/MEX/CO/3 párr. 61(d)",
                    "Regulation of the General Law on the Rights of Children (LGDNNA, 2015); CRC/C/MEX/CO/3 para 61(d)",
                )
            };
            a.violations.push(Violation {
                kind: ViolationKind::ChildDetained,
                since: start,
                event: p.start.id,
                ongoing,
                basis_es: es,
                basis_en: en,
                claim: None,
            });
        }
    }

    // Asylum filing window, from the last entry into Mexico.
    if let Some(entry) = facts.iter().rev().find(|f| f.kind == EventKind::EnteredMexico) {
        let due = add(cals, RuleId::AsylumFiling, entry.on, ASYLUM_FILING_DAYS)?;
        let filed = facts.iter().find(|f| f.kind == EventKind::AsylumRequested && f.on >= entry.on);
        a.deadlines.push(Deadline {
            rule: RuleId::AsylumFiling,
            from_event: entry.id,
            start: entry.on,
            allowed: ASYLUM_FILING_DAYS,
            due: Some(due),
            due_time: None,
            closed_by: filed.map(|f| f.id),
            closed_on: filed.map(|f| f.on),
            status: status(Some(due), filed.map(|f| f.on), today),
        });
    }

    // Each asylum request runs until a decision; the decision opens the appeal window.
    let requests: Vec<&Fact> = facts.iter().filter(|f| f.kind == EventKind::AsylumRequested).collect();
    for (i, req) in requests.iter().enumerate() {
        let next_req = requests.get(i + 1).map(|r| (r.on, r.id));
        let within = |f: &&Fact| (f.on, f.id) >= (req.on, req.id) && next_req.is_none_or(|n| (f.on, f.id) < n);
        let cycle: Vec<&Fact> = facts.iter().filter(within).collect();
        // LRPCAP art. 24 counts from the application (the day after it), not from the
        // admission COMAR records later: a late admission must not make a late decision
        // look on time.
        let trigger = req;
        let extended = cycle.iter().any(|f| f.kind == EventKind::ComarExtension);
        // "hasta por un período igual": an extension doubles the period.
        let allowed = if extended { 2 * COMAR_DECISION_DAYS } else { COMAR_DECISION_DAYS };
        let due = add(cals, RuleId::ComarDecision, trigger.on, allowed)?;
        let decision = cycle.iter().find(|f| f.kind == EventKind::Decision && (f.on, f.id) >= (trigger.on, trigger.id));
        a.deadlines.push(Deadline {
            rule: RuleId::ComarDecision,
            from_event: trigger.id,
            start: trigger.on,
            allowed,
            due: Some(due),
            due_time: None,
            closed_by: decision.map(|f| f.id),
            closed_on: decision.map(|f| f.on),
            status: status(Some(due), decision.map(|f| f.on), today),
        });
        if let Some(dec) = decision.filter(|d| d.decision != Some(DecisionOutcome::Recognized)) {
            let due = add(cals, RuleId::Appeal, dec.on, APPEAL_DAYS)?;
            let appeal = cycle.iter().find(|f| f.kind == EventKind::AppealFiled && (f.on, f.id) >= (dec.on, dec.id));
            a.deadlines.push(Deadline {
                rule: RuleId::Appeal,
                from_event: dec.id,
                start: dec.on,
                allowed: APPEAL_DAYS,
                due: Some(due),
                due_time: None,
                closed_by: appeal.map(|f| f.id),
                closed_on: appeal.map(|f| f.on),
                status: status(Some(due), appeal.map(|f| f.on), today),
            });
        }
    }

    for (i, ret) in
        facts.iter().enumerate().filter(|(_, f)| matches!(f.kind, EventKind::Deported | EventKind::ForcedReturn))
    {
        // No time limit for an amparo against a deportation (art. 17 fr. IV, art. 20).
        a.deadlines.push(Deadline {
            rule: RuleId::AmparoAnyTime,
            from_event: ret.id,
            start: ret.on,
            allowed: 0,
            due: None,
            due_time: None,
            closed_by: None,
            closed_on: None,
            status: Status::AnyTime,
        });
        if let Some(claim) = claim_on(&facts[..i], ret, cals)? {
            a.violations.push(Violation {
                kind: ViolationKind::PossibleRefoulement,
                since: ret.on,
                event: ret.id,
                ongoing: false,
                basis_es: "LRPCAP art. 6",
                basis_en: "LRPCAP art. 6",
                claim: Some(claim),
            });
        }
    }
    Ok(a)
}

/// Where the person's asylum claim stood when `ret` happened, if it protected them:
/// `before` is every fact before the return, in the engine's one order
/// ([`chronological`]: date, time, then kind, so a same-day request without a time
/// comes before the return). Read from the last request on:
/// - no decision yet: pending;
/// - refugee status or complementary protection granted: protected;
/// - refused: the review-appeal window (LRPCAP art. 25) is open for 15 working days;
///   an appeal filed after the refusal keeps the claim pending until a later decision,
///   and a refusal that decides an appeal closes it. An appeal recorded before any
///   decision appeals nothing and is ignored.
fn claim_on(before: &[Fact], ret: &Fact, cals: &Calendars) -> Result<Option<ClaimState>, ClockError> {
    #[derive(Clone, Copy)]
    enum St {
        Pending,
        Refused(Date),
        Appealed,
        Closed,
        Granted(ClaimState),
    }
    let Some(req) = before.iter().rposition(|f| f.kind == EventKind::AsylumRequested) else {
        return Ok(None);
    };
    let mut st = St::Pending;
    for f in &before[req + 1..] {
        st = match (f.kind, f.decision, st) {
            (EventKind::Decision, Some(DecisionOutcome::Recognized), _) => St::Granted(ClaimState::Recognized),
            (EventKind::Decision, Some(DecisionOutcome::ComplementaryProtection), _) => {
                St::Granted(ClaimState::ComplementaryProtection)
            }
            (EventKind::Decision, _, St::Appealed) => St::Closed,
            (EventKind::Decision, _, _) => St::Refused(f.on),
            (EventKind::AppealFiled, _, St::Refused(_)) => St::Appealed,
            _ => st,
        };
    }
    Ok(match st {
        St::Pending => Some(ClaimState::Pending),
        St::Appealed => Some(ClaimState::AppealPending),
        St::Granted(g) => Some(g),
        St::Closed => None,
        St::Refused(on) => (ret.on <= add(cals, RuleId::Appeal, on, APPEAL_DAYS)?).then_some(ClaimState::AppealWindow),
    })
}
