//! Consent per purpose (issue #20 part 2): what the person a case follows agreed to, for
//! what, when, how, and recorded by whom — given or withdrawn, never edited, the latest
//! by date deciding.
//!
//! Basis: Mexico's law on personal data held by private parties (new LFPDPPP, DOF
//! 20-03-2025) rests the processing of personal data on consent for its purposes, and
//! sensitive personal data — a person's migration situation, health, asylum claim — on
//! express consent (cited without article numbers: they were not verified in the
//! published text). Vigía keeps one record per purpose so each can be given or withdrawn alone,
//! and refuses what a purpose covers without it ([`allows`]).
//!
//! Purposes:
//! - `legal_representation`: the organization's lawyers act for the person;
//! - `litigation`: the case may be taken to court (amparo, strategic litigation);
//! - `share_partner`: the person's data may be shared with one named partner
//!   organization (one record per partner);
//! - `anonymized_publication`: the person's story may be published, anonymized;
//! - `contact_after_release`: the organization may contact the person after release.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::input::RawInput;
use crate::{FieldError, ValidationErrors};

choice!(
    /// What a person may agree to, each on its own.
    Purpose {
        LegalRepresentation = "legal_representation",
        Litigation = "litigation",
        SharePartner = "share_partner",
        AnonymizedPublication = "anonymized_publication",
        ContactAfterRelease = "contact_after_release"
    }
);

choice!(
    /// Whether the person gave or withdrew their consent.
    Decision { Given = "given", Withdrawn = "withdrawn" }
);

choice!(
    /// How the person expressed it.
    How { Oral = "oral", Written = "written" }
);

/// A consent record as entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentDraft {
    pub purpose: Purpose,
    /// For `share_partner`: the partner organization; for no other purpose.
    pub partner_org_id: Option<i64>,
    pub decision: Decision,
    /// The day the person gave or withdrew it.
    pub on: Date,
    pub how: How,
    /// A sealed case document holding the signed form or the recording, when there is one.
    pub evidence_document_id: Option<i64>,
}

pub const CONSENT_FIELDS: [&str; 6] = ["purpose", "partner_org_id", "decision", "on", "how", "evidence_document_id"];

fn choice<T>(raw: &RawInput, field: &str, parse: fn(&str) -> Option<T>, errs: &mut ValidationErrors) -> Option<T> {
    match raw.text(field, 40, errs) {
        Some(v) => parse(&v).or_else(|| {
            errs.push(FieldError::new(field, "unknown_choice"));
            None
        }),
        None => {
            if errs.for_field(field).is_none() {
                errs.push(FieldError::new(field, "required"));
            }
            None
        }
    }
}

/// Reads a consent record: a known purpose, a partner exactly when the purpose is
/// sharing with one, a decision, a day not in the future, how.
pub fn validate_consent(raw: &RawInput, today: Date) -> Result<ConsentDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&CONSENT_FIELDS, &mut errs);
    let purpose = choice(raw, "purpose", Purpose::parse, &mut errs);
    let decision = choice(raw, "decision", Decision::parse, &mut errs);
    let how = choice(raw, "how", How::parse, &mut errs);
    let on = raw.date("on", &mut errs);
    if !raw.has("on") {
        errs.push(FieldError::new("on", "required"));
    }
    if on.is_some_and(|d| d > today) {
        errs.push(FieldError::new("on", "in_future"));
    }
    let partner = raw.integer("partner_org_id", 1, i64::MAX, &mut errs);
    match (purpose, partner) {
        (Some(Purpose::SharePartner), None) if errs.for_field("partner_org_id").is_none() => {
            errs.push(FieldError::new("partner_org_id", "required"))
        }
        (Some(p), Some(_)) if p != Purpose::SharePartner => {
            errs.push(FieldError::new("partner_org_id", "not_for_purpose"))
        }
        _ => {}
    }
    let evidence = raw.integer("evidence_document_id", 1, i64::MAX, &mut errs);
    match (purpose, decision, on, how) {
        (Some(purpose), Some(decision), Some(on), Some(how)) if errs.is_empty() => {
            Ok(ConsentDraft { purpose, partner_org_id: partner, decision, on, how, evidence_document_id: evidence })
        }
        _ => Err(errs),
    }
}

/// A stored record's order: its day, and its id (the order it was recorded in).
pub type Ordered<'a> = (Date, i64, &'a ConsentDraft);

/// The decision standing for a purpose (and partner); `None` when the person was never
/// asked. A withdrawal counts from the moment the organization learns of it, so it fails
/// closed: the decision is "given" only when the latest record by day (a withdrawal
/// winning a tie on the same day) **and** the latest record entered are both "given" —
/// a "given" entered late with an earlier day, or backdated, never reopens what a
/// withdrawal closed.
pub fn current<'a>(
    records: impl IntoIterator<Item = Ordered<'a>>,
    purpose: Purpose,
    partner: Option<i64>,
) -> Option<Decision> {
    let matching: Vec<Ordered<'a>> = records
        .into_iter()
        .filter(|(_, _, r)| r.purpose == purpose && (purpose != Purpose::SharePartner || r.partner_org_id == partner))
        .collect();
    let by_day = matching
        .iter()
        .max_by_key(|(on, id, r)| (*on, r.decision == Decision::Withdrawn, *id))
        .map(|(_, _, r)| r.decision)?;
    let by_entry = matching.iter().max_by_key(|(_, id, _)| *id).map(|(_, _, r)| r.decision)?;
    Some(if by_day == Decision::Given && by_entry == Decision::Given { Decision::Given } else { Decision::Withdrawn })
}

/// Whether the person's contact details are withheld from the organization: once the
/// detention ended (`released`: a live release, deportation or forced return is
/// recorded), contacting the person is what `contact_after_release` covers, so their
/// contact details are shown only while that consent stands. Before, they serve the
/// legal representation and are shown.
pub fn contact_withheld<'a>(released: bool, records: impl IntoIterator<Item = Ordered<'a>>) -> bool {
    released && !allows(records, Purpose::ContactAfterRelease, None)
}

/// Whether the records allow the purpose (for that partner) now.
pub fn allows<'a>(records: impl IntoIterator<Item = Ordered<'a>>, purpose: Purpose, partner: Option<i64>) -> bool {
    current(records, purpose, partner) == Some(Decision::Given)
}

#[cfg(test)]
mod contact_tests {
    use super::*;

    #[test]
    fn contact_details_are_withheld_after_release_without_consent_to_contact() {
        let on = jiff::civil::date(2024, 1, 2);
        let given = ConsentDraft {
            purpose: Purpose::ContactAfterRelease,
            partner_org_id: None,
            decision: Decision::Given,
            on,
            how: How::Oral,
            evidence_document_id: None,
        };
        let withdrawn = ConsentDraft { decision: Decision::Withdrawn, ..given.clone() };
        assert!(!contact_withheld(false, []), "before release: for the legal representation");
        assert!(contact_withheld(true, []), "after release, never asked: withheld");
        assert!(!contact_withheld(true, [(on, 1, &given)]));
        assert!(contact_withheld(true, [(on, 1, &given), (on, 2, &withdrawn)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn rec(purpose: Purpose, partner: Option<i64>, decision: Decision, on: Date) -> ConsentDraft {
        ConsentDraft { purpose, partner_org_id: partner, decision, on, how: How::Written, evidence_document_id: None }
    }

    fn ordered(v: &[(i64, ConsentDraft)]) -> Vec<Ordered<'_>> {
        v.iter().map(|(id, r)| (r.on, *id, r)).collect()
    }

    #[test]
    fn a_withdrawal_ends_what_was_given_and_each_partner_is_asked_alone() {
        let v = vec![
            (1, rec(Purpose::SharePartner, Some(7), Decision::Given, date(2020, 2, 1))),
            (2, rec(Purpose::SharePartner, Some(8), Decision::Given, date(2020, 2, 1))),
            (3, rec(Purpose::SharePartner, Some(7), Decision::Withdrawn, date(2020, 3, 1))),
            (4, rec(Purpose::AnonymizedPublication, None, Decision::Given, date(2020, 2, 1))),
        ];
        assert!(!allows(ordered(&v), Purpose::SharePartner, Some(7)));
        assert!(allows(ordered(&v), Purpose::SharePartner, Some(8)));
        assert!(!allows(ordered(&v), Purpose::SharePartner, Some(9)), "never asked");
        assert!(allows(ordered(&v), Purpose::AnonymizedPublication, None));
        assert_eq!(current(ordered(&v), Purpose::Litigation, None), None);
    }

    #[test]
    fn a_record_is_read_with_its_partner_only_when_sharing() {
        let today = date(2026, 12, 6);
        let raw = |pairs: &[(&str, &str)]| RawInput::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)));
        let ok = validate_consent(
            &raw(&[
                ("purpose", "share_partner"),
                ("partner_org_id", "3"),
                ("decision", "given"),
                ("on", "2020-02-01"),
                ("how", "written"),
            ]),
            today,
        )
        .expect("valid");
        assert_eq!((ok.purpose, ok.partner_org_id), (Purpose::SharePartner, Some(3)));
        let e = validate_consent(
            &raw(&[("purpose", "share_partner"), ("decision", "given"), ("on", "2020-02-01"), ("how", "oral")]),
            today,
        )
        .expect_err("no partner");
        assert_eq!((e.0[0].field.as_str(), e.0[0].code), ("partner_org_id", "required"));
        let e = validate_consent(
            &raw(&[
                ("purpose", "litigation"),
                ("partner_org_id", "3"),
                ("decision", "given"),
                ("on", "2030-01-01"),
                ("how", "fax"),
            ]),
            today,
        )
        .expect_err("refused");
        let codes: Vec<_> = e.0.iter().map(|f| (f.field.as_str(), f.code)).collect();
        for want in [("partner_org_id", "not_for_purpose"), ("on", "in_future"), ("how", "unknown_choice")] {
            assert!(codes.contains(&want), "{want:?} in {codes:?}");
        }
    }

    #[test]
    fn a_withdrawal_wins_a_tie_and_a_late_or_backdated_given_does_not_reopen() {
        let d = date(2020, 3, 1);
        // The same day: the withdrawal wins, whatever order they were typed in.
        let v = vec![
            (1, rec(Purpose::Litigation, None, Decision::Withdrawn, d)),
            (2, rec(Purpose::Litigation, None, Decision::Given, d)),
        ];
        assert!(!allows(ordered(&v), Purpose::Litigation, None));
        // A withdrawal entered today, dated before an earlier-entered "given": closed.
        let v = vec![
            (1, rec(Purpose::Litigation, None, Decision::Given, date(2020, 3, 5))),
            (2, rec(Purpose::Litigation, None, Decision::Withdrawn, date(2020, 3, 1))),
        ];
        assert_eq!(current(ordered(&v), Purpose::Litigation, None), Some(Decision::Withdrawn));
        // A backdated "given" entered after a withdrawal: still closed.
        let v = vec![
            (1, rec(Purpose::Litigation, None, Decision::Withdrawn, date(2020, 3, 5))),
            (2, rec(Purpose::Litigation, None, Decision::Given, date(2020, 3, 1))),
        ];
        assert!(!allows(ordered(&v), Purpose::Litigation, None));
        // Given again later, and entered later: open.
        let v = [v, vec![(3, rec(Purpose::Litigation, None, Decision::Given, date(2020, 4, 1)))]].concat();
        assert!(allows(ordered(&v), Purpose::Litigation, None));
    }

    proptest! {
        /// Whatever order records are stored in, the purpose is allowed only when both the
        /// latest by day (withdrawal winning ties) and the latest entered gave it; any
        /// withdrawal that is the latest either way closes it.
        #[test]
        fn consent_fails_closed(days in proptest::collection::vec((0i32..60, any::<bool>()), 1..12)) {
            let v: Vec<(i64, ConsentDraft)> = days
                .iter()
                .enumerate()
                .map(|(i, (d, given))| {
                    let on = date(2020, 1, 1).checked_add(jiff::Span::new().days(*d)).expect("date");
                    let decision = if *given { Decision::Given } else { Decision::Withdrawn };
                    (i as i64, rec(Purpose::Litigation, None, decision, on))
                })
                .collect();
            let last_entered = v.last().map(|(_, r)| r.decision);
            let latest_day = v.iter().map(|(_, r)| r.on).max();
            let withdrawn_that_day = v.iter().any(|(_, r)| Some(r.on) == latest_day && r.decision == Decision::Withdrawn);
            let expect = last_entered == Some(Decision::Given) && !withdrawn_that_day;
            let mut shuffled = v.clone();
            shuffled.reverse();
            prop_assert_eq!(allows(ordered(&shuffled), Purpose::Litigation, None), expect);
            prop_assert_eq!(allows(ordered(&v), Purpose::Litigation, None), expect);
        }
    }
}
