//! Retention and erasure of a case's personal data (issue #20 part 3).
//!
//! Basis: Mexico's law on personal data held by private parties (new LFPDPPP, DOF
//! 20-03-2025) limits processing to its purposes and calls for personal data to be
//! deleted once they are no longer needed for them; the person may ask for their
//! cancellation (the "C" of ARCO). The law is cited without article numbers: they
//! were not verified in its published text, so none is shown. No period is set by law for an NGO's
//! case files: each organization sets its own rule ([`RetentionRule`]) and Vigía ships
//! none.
//!
//! What is erased: the person (name, documents of identity, contact), the event notes
//! and the reasons given for voiding events, and the case's documents. What stays: the
//! coded fields used for statistics (nationality, sex, age group, vulnerabilities,
//! status, facility), the events' kinds and dates that the legal clock and the reports
//! count, the consents as records, and the history, whose copies of the erased values
//! no longer open (crypto-shredding, `vigia_store::vault::CaseKey`).
//!
//! When: a case is due [`RetentionRule::months_after_close`] months after the day it
//! was closed; an open case is never due. If the rule holds cases in litigation, a case
//! with a recorded appeal or amparo (events `appeal_filed`, `amparo_filed`, not voided)
//! is held: Vigía records no event for the end of a lawsuit, so whoever confirms the
//! erasure says so (`litigation_ended`), and that is recorded. A person's own request
//! (`person_request`) needs no rule to be due, but the case must be closed and not held.

use jiff::civil::Date;
use jiff::Span;
use serde::{Deserialize, Serialize};

use crate::input::RawInput;
use crate::{FieldError, ValidationErrors};

/// An organization's rule: how long personal data is kept after a case is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRule {
    /// Months after the day the case was closed (1 to 1200).
    pub months_after_close: u32,
    /// Whether a case with a recorded appeal or amparo is held until the confirmer
    /// says the litigation ended.
    pub hold_while_litigating: bool,
}

pub const RULE_FIELDS: [&str; 2] = ["months_after_close", "hold_while_litigating"];

/// Reads a rule: whole months from 1 to 1200 (a hundred years), and whether
/// litigation holds a case (on unless said otherwise: the safe side keeps data).
pub fn validate_rule(raw: &RawInput) -> Result<RetentionRule, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&RULE_FIELDS, &mut errs);
    let months = raw.integer("months_after_close", 1, 1200, &mut errs);
    if !raw.has("months_after_close") {
        errs.push(FieldError::new("months_after_close", "required"));
    }
    let hold =
        if raw.has("hold_while_litigating") { raw.boolean("hold_while_litigating", &mut errs) } else { Some(true) };
    match (months.and_then(|m| u32::try_from(m).ok()), hold) {
        (Some(months_after_close), Some(hold_while_litigating)) if errs.is_empty() => {
            Ok(RetentionRule { months_after_close, hold_while_litigating })
        }
        _ => Err(errs),
    }
}

choice!(
    /// Why a case's personal data is erased.
    ErasureReason {
        /// The organization's retention rule made it due.
        Retention = "retention",
        /// The person asked for their data to be cancelled (ARCO).
        PersonRequest = "person_request"
    }
);

/// What decides whether a case's personal data may be erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CaseRetention {
    /// The day the case was last closed; `None` while it is open.
    pub closed_on: Option<Date>,
    /// A live appeal or amparo is recorded.
    pub litigating: bool,
    /// Its personal data was already erased.
    pub erased: bool,
}

/// Where a case stands under a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Standing {
    /// Already erased.
    Erased,
    /// The case is open: never due.
    Open,
    /// The organization has no rule: nothing is due by retention.
    NoRule,
    /// Closed, kept until `due_on`.
    Kept { due_on: Date },
    /// Due since `due_on`, but a recorded appeal or amparo holds it.
    Held { due_on: Date },
    /// Due since `due_on`: the sweep lists it for a coordinator to confirm.
    Due { due_on: Date },
}

/// The day a case closed on `closed_on` is due: that many months later (the last day of
/// the month when the day does not exist, e.g. 31 August + 6 months = 28 February).
pub fn due_on(closed_on: Date, months: u32) -> Date {
    closed_on.checked_add(Span::new().months(i64::from(months))).unwrap_or(Date::MAX)
}

/// Where a case stands today under the organization's rule.
pub fn standing(rule: Option<&RetentionRule>, c: &CaseRetention, today: Date) -> Standing {
    if c.erased {
        return Standing::Erased;
    }
    let Some(closed) = c.closed_on else { return Standing::Open };
    let Some(rule) = rule else { return Standing::NoRule };
    let due = due_on(closed, rule.months_after_close);
    if due > today {
        Standing::Kept { due_on: due }
    } else if rule.hold_while_litigating && c.litigating {
        Standing::Held { due_on: due }
    } else {
        Standing::Due { due_on: due }
    }
}

/// An erasure as the confirmer asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRequest {
    pub reason: ErasureReason,
    /// The confirmer states that the appeal or amparo recorded for the case ended.
    pub litigation_ended: bool,
}

pub const ERASURE_FIELDS: [&str; 2] = ["reason", "litigation_ended"];

pub fn validate_erasure(raw: &RawInput) -> Result<ErasureRequest, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&ERASURE_FIELDS, &mut errs);
    let reason = match raw.text("reason", 40, &mut errs) {
        Some(r) => ErasureReason::parse(&r).or_else(|| {
            errs.push(FieldError::new("reason", "unknown_choice"));
            None
        }),
        None => {
            if errs.for_field("reason").is_none() {
                errs.push(FieldError::new("reason", "required"));
            }
            None
        }
    };
    let ended = if raw.has("litigation_ended") { raw.boolean("litigation_ended", &mut errs) } else { Some(false) };
    match (reason, ended) {
        (Some(reason), Some(litigation_ended)) if errs.is_empty() => Ok(ErasureRequest { reason, litigation_ended }),
        _ => Err(errs),
    }
}

/// Why an erasure is refused (an error code the pages and the API translate); `None`
/// when it may go ahead.
pub fn refusal(
    rule: Option<&RetentionRule>,
    c: &CaseRetention,
    req: &ErasureRequest,
    today: Date,
) -> Option<&'static str> {
    if c.erased {
        return Some("already_erased");
    }
    if c.closed_on.is_none() {
        return Some("case_open");
    }
    // A person's request is held too: data a lawsuit needs is not erased unasked.
    let holds = req.reason == ErasureReason::PersonRequest || rule.is_none_or(|r| r.hold_while_litigating);
    if c.litigating && holds && !req.litigation_ended {
        return Some("litigation_open");
    }
    match req.reason {
        ErasureReason::PersonRequest => None,
        ErasureReason::Retention => match standing(rule, &CaseRetention { litigating: false, ..*c }, today) {
            Standing::Due { .. } => None,
            Standing::NoRule => Some("no_rule"),
            _ => Some("not_due"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn rule(months: u32) -> RetentionRule {
        RetentionRule { months_after_close: months, hold_while_litigating: true }
    }

    fn closed(on: Date) -> CaseRetention {
        CaseRetention { closed_on: Some(on), litigating: false, erased: false }
    }

    #[test]
    fn months_count_from_the_closing_day_and_clamp_to_the_month_end() {
        assert_eq!(due_on(date(2024, 1, 15), 24), date(2026, 1, 15));
        assert_eq!(due_on(date(2025, 8, 31), 6), date(2026, 2, 28));
        assert_eq!(due_on(date(2023, 8, 31), 6), date(2024, 2, 29));
    }

    #[test]
    fn a_case_is_due_on_its_day_not_before_and_never_while_open() {
        let r = rule(12);
        let c = closed(date(2025, 3, 10));
        assert_eq!(standing(Some(&r), &c, date(2026, 3, 9)), Standing::Kept { due_on: date(2026, 3, 10) });
        assert_eq!(standing(Some(&r), &c, date(2026, 3, 10)), Standing::Due { due_on: date(2026, 3, 10) });
        let open = CaseRetention { closed_on: None, litigating: false, erased: false };
        assert_eq!(standing(Some(&r), &open, date(2090, 1, 1)), Standing::Open);
        assert_eq!(standing(None, &c, date(2090, 1, 1)), Standing::NoRule);
        let erased = CaseRetention { erased: true, ..c };
        assert_eq!(standing(Some(&r), &erased, date(2090, 1, 1)), Standing::Erased);
    }

    #[test]
    fn litigation_holds_a_due_case_when_the_rule_says_so() {
        let c = CaseRetention { litigating: true, ..closed(date(2024, 1, 1)) };
        let today = date(2026, 1, 1);
        assert_eq!(standing(Some(&rule(6)), &c, today), Standing::Held { due_on: date(2024, 7, 1) });
        let lax = RetentionRule { months_after_close: 6, hold_while_litigating: false };
        assert_eq!(standing(Some(&lax), &c, today), Standing::Due { due_on: date(2024, 7, 1) });
    }

    #[test]
    fn erasure_is_refused_with_a_reason() {
        let today = date(2026, 1, 1);
        let ret = ErasureRequest { reason: ErasureReason::Retention, litigation_ended: false };
        let asked = ErasureRequest { reason: ErasureReason::PersonRequest, litigation_ended: false };
        let open = CaseRetention { closed_on: None, litigating: false, erased: false };
        assert_eq!(refusal(Some(&rule(6)), &open, &asked, today), Some("case_open"));
        assert_eq!(refusal(None, &closed(date(2025, 12, 1)), &ret, today), Some("no_rule"));
        assert_eq!(refusal(Some(&rule(6)), &closed(date(2025, 12, 1)), &ret, today), Some("not_due"));
        assert_eq!(refusal(Some(&rule(6)), &closed(date(2025, 1, 1)), &ret, today), None);
        assert_eq!(refusal(None, &closed(date(2025, 12, 31)), &asked, today), None, "a person's request needs no rule");
        let suing = CaseRetention { litigating: true, ..closed(date(2020, 1, 1)) };
        assert_eq!(refusal(Some(&rule(6)), &suing, &ret, today), Some("litigation_open"));
        assert_eq!(refusal(Some(&rule(6)), &suing, &asked, today), Some("litigation_open"));
        let ended = ErasureRequest { litigation_ended: true, ..ret };
        assert_eq!(refusal(Some(&rule(6)), &suing, &ended, today), None);
        let gone = CaseRetention { erased: true, ..closed(date(2020, 1, 1)) };
        assert_eq!(refusal(Some(&rule(6)), &gone, &asked, today), Some("already_erased"));
    }

    #[test]
    fn rules_and_requests_are_read_with_field_errors() {
        let raw = RawInput::from_pairs([("months_after_close", "36")]);
        assert_eq!(validate_rule(&raw).expect("rule"), rule(36));
        let raw = RawInput::from_pairs([("months_after_close", "36"), ("hold_while_litigating", "false")]);
        assert!(!validate_rule(&raw).expect("rule").hold_while_litigating);
        for bad in ["0", "1201", "-3", "tres", ""] {
            let e = validate_rule(&RawInput::from_pairs([("months_after_close", bad)])).expect_err("refused");
            assert!(e.for_field("months_after_close").is_some(), "{bad}");
        }
        let e = validate_rule(&RawInput::from_pairs([("days", "3")])).expect_err("refused");
        assert!(e.for_field("months_after_close").is_some() && e.for_field("days").is_some());
        let e = validate_erasure(&RawInput::from_pairs([("reason", "forgot")])).expect_err("refused");
        assert!(e.for_field("reason").is_some());
        let ok = validate_erasure(&RawInput::from_pairs([("reason", "person_request"), ("litigation_ended", "true")]))
            .expect("read");
        assert_eq!(ok, ErasureRequest { reason: ErasureReason::PersonRequest, litigation_ended: true });
    }

    proptest! {
        /// Nothing is ever erased by retention before its day, an open case never, and a
        /// held case only when the confirmer says the litigation ended.
        #[test]
        fn retention_never_erases_early_or_open_or_held(
            closed_days in proptest::option::of(0i64..20_000),
            today_days in 0i64..25_000,
            months in 1u32..=1200,
            litigating: bool,
            hold: bool,
            ended: bool,
        ) {
            let base = date(1990, 1, 1);
            let closed_on = closed_days.map(|d| base.checked_add(Span::new().days(d)).expect("date"));
            let today = base.checked_add(Span::new().days(today_days)).expect("date");
            let r = RetentionRule { months_after_close: months, hold_while_litigating: hold };
            let c = CaseRetention { closed_on, litigating, erased: false };
            let req = ErasureRequest { reason: ErasureReason::Retention, litigation_ended: ended };
            if refusal(Some(&r), &c, &req, today).is_none() {
                let closed_on = closed_on.expect("only a closed case is erased");
                prop_assert!(due_on(closed_on, months) <= today);
                prop_assert!(due_on(closed_on, months) > closed_on);
                prop_assert!(!litigating || ended || !hold);
            }
            if let Standing::Due { due_on: d } = standing(Some(&r), &c, today) {
                prop_assert!(d <= today && (!litigating || !hold));
            }
        }
    }
}
