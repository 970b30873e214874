//! Deadlines and limits derived from a case's events, each with its legal basis and the
//! calendar it is counted on (DOMAIN.md §2–§4). Pure: events and calendars in, an
//! assessment out, in the same order whatever order the events were recorded in.
//!
//! Rules:
//! - **36 hours** (Constitution art. 21, as SCJN AR 388/2022 reads it): an advocacy
//!   threshold shown beside the statutory limits, from the moment of detention.
//! - **Maximum detention** (LM art. 111): 15 working days from presentation; 60 when a
//!   ground I–IV is recorded; with ground V (a pending remedy) no fixed end is computed.
//!   Transfers do not restart it; a new detention after release starts a new period.
//! - **Child detained** (LM art. 99 from 2021-01-11; before, the Reglamento of the LGDNNA (2015), cited without an article: its number is not verified):
//!   a violation at once, for every detention period of a minor.
//! - **Asylum filing** (LRPCAP art. 18): 30 working days from entry into Mexico.
//! - **COMAR decision** (LRPCAP art. 24): 45 working days from admission (or from the
//!   request when no admission is recorded), 45 more when an extension is recorded.
//! - **Appeal** (LRPCAP art. 25): 15 working days from notification of a decision that
//!   does not recognize refugee status.

use jiff::civil::{Date, Time};
use serde::Serialize;

use crate::account::Locale;
use crate::case::{chronological, DecisionOutcome, EventKind, ExtensionGround, Fact};
use crate::clock::{Calendars, ClockError};

/// Which rule produced a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    Detention36h,
    DetentionMax,
    AsylumFiling,
    ComarDecision,
    Appeal,
}

impl RuleId {
    pub const ALL: [RuleId; 5] =
        [RuleId::Detention36h, RuleId::DetentionMax, RuleId::AsylumFiling, RuleId::ComarDecision, RuleId::Appeal];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::Detention36h => "detention_36h",
            RuleId::DetentionMax => "detention_max",
            RuleId::AsylumFiling => "asylum_filing",
            RuleId::ComarDecision => "comar_decision",
            RuleId::Appeal => "appeal",
        }
    }

    /// The calendar the rule counts on (`None`: counted in hours).
    pub fn calendar(self) -> Option<&'static str> {
        match self {
            RuleId::Detention36h => None,
            RuleId::DetentionMax => Some("inm"),
            RuleId::AsylumFiling | RuleId::ComarDecision | RuleId::Appeal => Some("comar"),
        }
    }

    pub fn basis(self, l: Locale) -> &'static str {
        match (self, l) {
            (RuleId::Detention36h, Locale::Es) => {
                "Constitución art. 21; SCJN AR 388/2022 (umbral de incidencia, no plazo legal vigente)"
            }
            (RuleId::Detention36h, Locale::En) => {
                "Constitution art. 21; SCJN AR 388/2022 (advocacy threshold, not a statutory limit in force)"
            }
            (RuleId::DetentionMax, Locale::Es) => "Ley de Migración art. 111 (15 días hábiles; 60 con causal I–IV)",
            (RuleId::DetentionMax, Locale::En) => "Migration Law art. 111 (15 working days; 60 with a ground I–IV)",
            (RuleId::AsylumFiling, Locale::Es) => "LRPCAP art. 18 (30 días hábiles desde el ingreso)",
            (RuleId::AsylumFiling, Locale::En) => "LRPCAP art. 18 (30 working days from entry)",
            (RuleId::ComarDecision, Locale::Es) => "LRPCAP art. 24 (45 días hábiles; ampliable «hasta por un período igual» solo por las causas que enumera)",
            (RuleId::ComarDecision, Locale::En) => "LRPCAP art. 24 (45 working days; extendable «hasta por un período igual» only on the grounds it lists)",
            (RuleId::Appeal, Locale::Es) => "LRPCAP art. 25 (recurso de revisión, 15 días hábiles)",
            (RuleId::Appeal, Locale::En) => "LRPCAP art. 25 (review appeal, 15 working days)",
        }
    }
}

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
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Overdue => "overdue",
            Status::Met => "met",
            Status::Missed => "missed",
            Status::Open => "open",
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    ChildDetained,
    HeldPastLimit,
    HeldPast36Hours,
}

impl ViolationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::ChildDetained => "child_detained",
            ViolationKind::HeldPastLimit => "held_past_limit",
            ViolationKind::HeldPast36Hours => "held_past_36_hours",
        }
    }
}

/// The date from which LM art. 99 (reform DOF 11-11-2020) forbids detaining children.
pub const ART_99_IN_FORCE: Date = jiff::civil::date(2021, 1, 11);

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
        let due36 = at.checked_add(jiff::Span::new().hours(36)).map_err(|_| ClockError::OutOfRange)?;
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
            allowed: 36,
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
            });
        }

        let allowed = match p.ground {
            None => Some(15),
            Some(ExtensionGround::V) => None,
            Some(_) => Some(60),
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
            });
        }
    }

    // Asylum filing window, from the last entry into Mexico.
    if let Some(entry) = facts.iter().rev().find(|f| f.kind == EventKind::EnteredMexico) {
        let due = add(cals, RuleId::AsylumFiling, entry.on, 30)?;
        let filed = facts.iter().find(|f| f.kind == EventKind::AsylumRequested && f.on >= entry.on);
        a.deadlines.push(Deadline {
            rule: RuleId::AsylumFiling,
            from_event: entry.id,
            start: entry.on,
            allowed: 30,
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
        let admission = cycle.iter().find(|f| f.kind == EventKind::ComarAdmission);
        let trigger = admission.copied().unwrap_or(req);
        let extended = cycle.iter().any(|f| f.kind == EventKind::ComarExtension);
        let allowed = if extended { 90 } else { 45 };
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
            let due = add(cals, RuleId::Appeal, dec.on, 15)?;
            let appeal = cycle.iter().find(|f| f.kind == EventKind::AppealFiled && (f.on, f.id) >= (dec.on, dec.id));
            a.deadlines.push(Deadline {
                rule: RuleId::Appeal,
                from_event: dec.id,
                start: dec.on,
                allowed: 15,
                due: Some(due),
                due_time: None,
                closed_by: appeal.map(|f| f.id),
                closed_on: appeal.map(|f| f.on),
                status: status(Some(due), appeal.map(|f| f.on), today),
            });
        }
    }
    Ok(a)
}

/// Working days from `today` until `due` on the rule's calendar (negative when past).
pub fn working_days_left(d: &Deadline, cals: &Calendars, today: Date) -> Result<Option<i64>, ClockError> {
    let Some(due) = d.due else { return Ok(None) };
    match d.rule.calendar() {
        None => Ok(Some((due - today).get_days().into())),
        Some(name) => cals.get(name)?.count_working_days(today, due).map(Some),
    }
}

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
    for v in a.violations.iter().filter(|v| v.ongoing && v.kind != ViolationKind::HeldPast36Hours) {
        out.push(Reminder {
            kind: "violation",
            key: format!("violation:{case_id}:{}:{}", v.kind.as_str(), v.event),
            what: v.kind.as_str(),
            state: "ongoing",
            due: None,
            working_days_left: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};
    use proptest::prelude::*;

    fn fact(id: i64, kind: EventKind, on: Date) -> Fact {
        Fact { id, kind, on, time: None, ground: None, decision: None }
    }

    fn cals() -> Calendars {
        Calendars::builtin()
    }

    fn find(a: &Assessment, rule: RuleId) -> &Deadline {
        a.deadlines.iter().find(|d| d.rule == rule).expect("deadline")
    }

    #[test]
    fn detention_of_fifteen_working_days_skips_weekends_and_rest_days() {
        // Presented Monday 18 Feb 2019: 15 INM working days end Monday 11 March
        // (weekends excluded; no rest day falls in between after 4 Feb).
        let a =
            assess(false, &[fact(1, EventKind::Detained, date(2019, 2, 18))], &cals(), date(2019, 3, 1)).expect("ok");
        let d = find(&a, RuleId::DetentionMax);
        assert_eq!(d.due, Some(date(2019, 3, 11)));
        assert_eq!(d.status, Status::Pending);
        assert_eq!(a.detained_since, Some(date(2019, 2, 18)));
        // The 18 March 2019 rest day (third Monday of March) is skipped when it falls inside.
        let a =
            assess(false, &[fact(1, EventKind::Detained, date(2019, 3, 4))], &cals(), date(2019, 3, 5)).expect("ok");
        assert_eq!(find(&a, RuleId::DetentionMax).due, Some(date(2019, 3, 26)));
    }

    #[test]
    fn overdue_detention_is_a_violation_until_release() {
        let detained = fact(1, EventKind::Detained, date(2019, 2, 18));
        let a = assess(false, &[detained], &cals(), date(2019, 3, 12)).expect("ok");
        assert_eq!(find(&a, RuleId::DetentionMax).status, Status::Overdue);
        assert!(a.held_past_limit());
        let released = fact(2, EventKind::Released, date(2019, 3, 14));
        let a = assess(false, &[detained, released], &cals(), date(2019, 3, 20)).expect("ok");
        let d = find(&a, RuleId::DetentionMax);
        assert_eq!((d.status, d.closed_by), (Status::Missed, Some(2)));
        assert!(!a.held_past_limit(), "no longer ongoing");
        assert!(a.violations.iter().any(|v| v.kind == ViolationKind::HeldPastLimit && !v.ongoing));
        assert_eq!(a.detained_since, None);
        // Released on the last day: met.
        let a = assess(false, &[detained, fact(2, EventKind::Released, date(2019, 3, 11))], &cals(), date(2019, 3, 20))
            .expect("ok");
        assert_eq!(find(&a, RuleId::DetentionMax).status, Status::Met);
    }

    #[test]
    fn grounds_i_to_iv_allow_sixty_working_days_and_v_has_no_fixed_end() {
        let detained = fact(1, EventKind::Detained, date(2019, 2, 18));
        let mut ext = fact(2, EventKind::DetentionExtended, date(2019, 3, 1));
        ext.ground = Some(ExtensionGround::Ii);
        let a = assess(false, &[detained, ext], &cals(), date(2019, 3, 20)).expect("ok");
        let d = find(&a, RuleId::DetentionMax);
        assert_eq!(d.allowed, 60);
        assert_eq!(d.due, Some(cals().get("inm").expect("ok").add_working_days(date(2019, 2, 18), 60).expect("ok")));
        assert_eq!(d.status, Status::Pending);
        ext.ground = Some(ExtensionGround::V);
        let a = assess(false, &[detained, ext], &cals(), date(2019, 9, 20)).expect("ok");
        let d = find(&a, RuleId::DetentionMax);
        assert_eq!((d.due, d.status), (None, Status::Open));
        assert!(!a.held_past_limit());
    }

    #[test]
    fn a_minor_detained_is_a_violation_at_once_with_the_basis_of_the_day() {
        let a = assess(true, &[fact(1, EventKind::Detained, date(2022, 5, 2))], &cals(), date(2022, 5, 2)).expect("ok");
        let v = a.violations.iter().find(|v| v.kind == ViolationKind::ChildDetained).expect("violation");
        assert_eq!(v.since, date(2022, 5, 2));
        assert!(v.ongoing);
        assert!(v.basis_es.contains("art. 99"));
        let a = assess(true, &[fact(1, EventKind::Detained, date(2019, 5, 2))], &cals(), date(2019, 5, 2)).expect("ok");
        let v = a.violations.iter().find(|v| v.kind == ViolationKind::ChildDetained).expect("violation");
        assert!(v.basis_es.contains("LGDNNA"));
        let a =
            assess(false, &[fact(1, EventKind::Detained, date(2022, 5, 2))], &cals(), date(2022, 5, 2)).expect("ok");
        assert!(a.violations.iter().all(|v| v.kind != ViolationKind::ChildDetained));
    }

    #[test]
    fn thirty_six_hours_counts_from_the_recorded_time() {
        let mut d = fact(1, EventKind::Detained, date(2020, 1, 20));
        d.time = Some(time(18, 0, 0, 0));
        let a = assess(false, &[d], &cals(), date(2020, 1, 22)).expect("ok");
        let t = find(&a, RuleId::Detention36h);
        assert_eq!((t.due, t.due_time), (Some(date(2020, 1, 22)), Some(time(6, 0, 0, 0))));
        assert_eq!(t.status, Status::Pending, "today at midnight is before 06:00");
        let a = assess(false, &[d], &cals(), date(2020, 1, 23)).expect("ok");
        assert_eq!(find(&a, RuleId::Detention36h).status, Status::Overdue);
    }

    #[test]
    fn asylum_decision_and_appeal_chain() {
        let mut dec = fact(4, EventKind::Decision, date(2019, 6, 3));
        dec.decision = Some(DecisionOutcome::Denied);
        let events = [
            fact(1, EventKind::EnteredMexico, date(2019, 1, 7)),
            fact(2, EventKind::AsylumRequested, date(2019, 1, 21)),
            fact(3, EventKind::ComarAdmission, date(2019, 1, 23)),
            dec,
        ];
        let a = assess(false, &events, &cals(), date(2019, 6, 10)).expect("ok");
        let filing = find(&a, RuleId::AsylumFiling);
        assert_eq!((filing.status, filing.closed_by), (Status::Met, Some(2)));
        let comar = find(&a, RuleId::ComarDecision);
        assert_eq!(comar.from_event, 3, "counted from admission");
        assert_eq!(
            comar.due,
            Some(cals().get("comar").expect("ok").add_working_days(date(2019, 1, 23), 45).expect("ok"))
        );
        assert_eq!(comar.status, Status::Missed, "decided in June, long after 45 working days");
        let appeal = find(&a, RuleId::Appeal);
        assert_eq!(appeal.status, Status::Pending);
        assert_eq!(
            appeal.due,
            Some(cals().get("comar").expect("ok").add_working_days(date(2019, 6, 3), 15).expect("ok"))
        );
        // Recognized: no appeal window.
        let mut ok = dec;
        ok.decision = Some(DecisionOutcome::Recognized);
        let a = assess(false, &[events[0], events[1], events[2], ok], &cals(), date(2019, 6, 10)).expect("ok");
        assert!(a.deadlines.iter().all(|d| d.rule != RuleId::Appeal));
    }

    #[test]
    fn an_extension_doubles_the_comar_period() {
        let events = [
            fact(1, EventKind::AsylumRequested, date(2019, 1, 21)),
            fact(2, EventKind::ComarExtension, date(2019, 3, 1)),
        ];
        let a = assess(false, &events, &cals(), date(2019, 3, 2)).expect("ok");
        assert_eq!(find(&a, RuleId::ComarDecision).allowed, 90);
    }

    #[test]
    fn a_second_detention_after_release_starts_a_new_period() {
        let events = [
            fact(1, EventKind::Detained, date(2019, 1, 7)),
            fact(2, EventKind::Transferred, date(2019, 1, 9)),
            fact(3, EventKind::Released, date(2019, 1, 15)),
            fact(4, EventKind::Detained, date(2019, 4, 1)),
        ];
        let a = assess(false, &events, &cals(), date(2019, 4, 2)).expect("ok");
        let max: Vec<_> = a.deadlines.iter().filter(|d| d.rule == RuleId::DetentionMax).collect();
        assert_eq!(max.len(), 2);
        assert_eq!((max[0].status, max[1].status), (Status::Met, Status::Pending));
        assert_eq!(a.detained_since, Some(date(2019, 4, 1)));
    }

    #[test]
    fn the_agency_calendar_moves_the_limit() {
        let rule = crate::clock::Rule {
            when: crate::clock::When::Range { start: "2019-02-25".into(), end: "2019-03-01".into() },
            label_es: "suspensión".into(),
            label_en: "suspension".into(),
            source: "DOF".into(),
            from: None,
            until: None,
        };
        let with = Calendars::builtin().with_extra_rules("inm", &[rule]).expect("ok");
        let events = [fact(1, EventKind::Detained, date(2019, 2, 18))];
        let base = assess(false, &events, &cals(), date(2019, 2, 19)).expect("ok");
        let moved = assess(false, &events, &with, date(2019, 2, 19)).expect("ok");
        assert_eq!(find(&base, RuleId::DetentionMax).due, Some(date(2019, 3, 11)));
        // Five suspended days push it a week on. (18 March 2019, the third Monday, is a
        // working day under LFPA art. 28 as published: it names 21 March, a fixed date.)
        assert_eq!(find(&moved, RuleId::DetentionMax).due, Some(date(2019, 3, 18)));
    }

    #[test]
    fn reminders_cover_due_soon_overdue_and_ongoing_violations_once_each() {
        let cals = cals();
        let events = [fact(7, EventKind::Detained, date(2019, 2, 18))];
        // Three working days before the limit (11 March): due soon within a 5-day horizon.
        let a = assess(true, &events, &cals, date(2019, 3, 6)).expect("assess");
        let r = reminders(42, &a, &cals, date(2019, 3, 6), 5);
        let keys: Vec<&str> = r.iter().map(|r| r.key.as_str()).collect();
        assert!(keys.contains(&"deadline:42:detention_max:7:2019-03-11:due_soon"), "{keys:?}");
        assert!(keys.contains(&"violation:42:child_detained:7"));
        assert!(r.iter().all(|r| r.what != "detention_36h"));
        assert!(reminders(42, &a, &cals, date(2019, 3, 6), 2).iter().all(|r| r.state != "due_soon"));
        // Past the limit: overdue, and held past the limit is ongoing.
        let a = assess(false, &events, &cals, date(2019, 3, 12)).expect("assess");
        let r = reminders(42, &a, &cals, date(2019, 3, 12), 5);
        let states: Vec<(&str, &str)> = r.iter().map(|r| (r.what, r.state)).collect();
        assert_eq!(states, vec![("detention_max", "overdue"), ("held_past_limit", "ongoing")]);
        // Released: nothing to tell.
        let done = [events[0], fact(8, EventKind::Released, date(2019, 3, 13))];
        let a = assess(false, &done, &cals, date(2019, 3, 14)).expect("assess");
        assert!(reminders(42, &a, &cals, date(2019, 3, 14), 5).is_empty());
    }

    fn any_kind() -> impl Strategy<Value = EventKind> {
        proptest::sample::select(EventKind::ALL.to_vec())
    }

    fn any_events() -> impl Strategy<Value = Vec<Fact>> {
        proptest::collection::vec((any_kind(), 0i64..400, proptest::option::of(0i8..24), 0usize..5), 0..12).prop_map(
            |items| {
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, (kind, offset, hour, g))| Fact {
                        id: i as i64 + 1,
                        kind,
                        on: date(2019, 1, 1).checked_add(jiff::Span::new().days(offset)).expect("date"),
                        time: hour.map(|h| time(h, 0, 0, 0)),
                        ground: (kind == EventKind::DetentionExtended).then(|| ExtensionGround::ALL[g]),
                        decision: (kind == EventKind::Decision).then(|| DecisionOutcome::ALL[g % 3]),
                    })
                    .collect()
            },
        )
    }

    proptest! {
        #[test]
        fn the_order_events_arrive_in_does_not_matter(events in any_events(), seed in any::<u64>(), minor in any::<bool>()) {
            let cals = cals();
            let today = date(2020, 3, 1);
            let expected = assess(minor, &events, &cals, today).expect("assess");
            let mut shuffled = events.clone();
            // A deterministic shuffle driven by the seed.
            let mut s = seed | 1;
            for i in (1..shuffled.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                shuffled.swap(i, (s % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(assess(minor, &shuffled, &cals, today).expect("assess"), expected);
        }

        #[test]
        fn every_deadline_is_consistent(events in any_events(), minor in any::<bool>(), days in 0i64..600) {
            let cals = cals();
            let today = date(2019, 1, 1).checked_add(jiff::Span::new().days(days)).expect("date");
            let a = assess(minor, &events, &cals, today).expect("assess");
            for d in &a.deadlines {
                if let Some(due) = d.due { prop_assert!(due >= d.start); }
                match d.status {
                    Status::Overdue => prop_assert!(d.closed_on.is_none() && d.due.is_some_and(|x| today > x)),
                    Status::Pending => prop_assert!(d.closed_on.is_none()),
                    Status::Met | Status::Missed => prop_assert!(d.closed_on.is_some()),
                    Status::Open => prop_assert!(d.due.is_none()),
                }
            }
            // A minor with any detention always has the violation; an adult never.
            let detained = events.iter().any(|e| e.kind == EventKind::Detained);
            let flagged = a.violations.iter().any(|v| v.kind == ViolationKind::ChildDetained);
            prop_assert_eq!(flagged, minor && detained);
            // Ongoing past-limit violations only while in detention.
            if a.held_past_limit() { prop_assert!(a.in_detention()); }
        }

        #[test]
        fn a_later_release_never_turns_a_met_limit_into_a_violation_before_it(offset in 0i64..30) {
            let cals = cals();
            let start = date(2019, 2, 18);
            let end = start.checked_add(jiff::Span::new().days(offset)).expect("date");
            let events = [fact(1, EventKind::Detained, start), fact(2, EventKind::Released, end)];
            let a = assess(false, &events, &cals, date(2019, 6, 1)).expect("assess");
            let d = find(&a, RuleId::DetentionMax);
            prop_assert_eq!(d.status == Status::Met, end <= date(2019, 3, 11));
        }
    }
}
