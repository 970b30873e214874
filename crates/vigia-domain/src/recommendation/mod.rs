//! UN recommendations to Mexico (issue #18 part 2): what treaty bodies, special
//! procedures and the Universal Periodic Review asked of the State, imported from the
//! OHCHR Universal Human Rights Index (UHRI) export, and what each organization links to
//! them as evidence and how it assesses their implementation over time.
//!
//! A recommendation's text is kept as published, with its language; a text Vigía
//! ships itself (the demo's) is a **summary** in our own words with the document symbol
//! and paragraph, and says so wherever it shows.

use serde::{Deserialize, Serialize};

use crate::{FieldError, ValidationErrors};

pub mod suggest;
pub mod uhri;

/// A recommendation as imported (or, for the demo, summarized).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecommendationDraft {
    /// The UHRI's own identifier ("OHCHR Annotation Id"): re-imports update by it.
    pub annotation_id: String,
    /// The recommending body: "Committee on Migrant Workers", "UPR", a special procedure.
    pub body: String,
    pub symbol: String,
    /// The paragraph, read from the start of the text ("38(a)", "124.1"); empty if none.
    pub paragraph: String,
    pub published_on: Option<jiff::civil::Date>,
    pub text: String,
    /// The language of `text` (ISO 639-1).
    pub language: String,
    /// Our own summary rather than the published wording.
    pub summary: bool,
    pub kind: String,
    pub themes: Vec<String>,
    pub affected_persons: Vec<String>,
    pub sdgs: Vec<String>,
    pub countries: Vec<String>,
    pub upr_states: Vec<String>,
    pub upr_position: Option<String>,
    pub upr_session: Option<String>,
}

choice!(
    /// How far an organization judges a recommendation implemented, at a date.
    Status { NotImplemented = "not_implemented", Partly = "partly", Implemented = "implemented" }
);

choice!(
    /// What a piece of evidence linked to a recommendation is: a record by its id, or a
    /// count from the organization's cases (`case_count`, never a person) by its measure.
    EvidenceKind { AccessAttempt = "access_attempt", Visit = "visit", Statement = "statement", CaseCount = "case_count" }
);

/// The case counts that can be linked as evidence (never a person).
pub const CASE_COUNTS: [&str; 6] = [
    "children_detained",
    "held_past_limit",
    "possible_refoulement",
    "pressure_to_abandon",
    "ill_treatment",
    "forced_return",
];

/// A link an organization asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkDraft {
    pub kind: EvidenceKind,
    /// The record's id, or the measure of a case count.
    pub reference: String,
    pub note: Option<String>,
}

/// Reads a link: a known kind, a numeric id (or a known case measure), a short note.
pub fn validate_link(raw: &crate::input::RawInput) -> Result<LinkDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["kind", "reference", "note"], &mut errs);
    let kind = match raw.text("kind", 40, &mut errs) {
        Some(k) => EvidenceKind::parse(&k).or_else(|| {
            errs.push(FieldError::new("kind", "unknown_choice"));
            None
        }),
        None => {
            errs.push(FieldError::new("kind", "required"));
            None
        }
    };
    let mut reference = raw.required_line("reference", 40, &mut errs);
    if let (Some(k), Some(r)) = (kind, &reference) {
        // A record id is kept as the number it is ("012" and "+12" are 12): one record,
        // one link.
        let normal = match k {
            EvidenceKind::CaseCount => CASE_COUNTS.contains(&r.as_str()).then(|| r.clone()),
            _ => r.parse::<i64>().ok().filter(|n| *n > 0).map(|n| n.to_string()),
        };
        match normal {
            Some(n) => reference = Some(n),
            None => errs.push(FieldError::new("reference", "unknown_record")),
        }
    }
    let note = raw.text("note", 2000, &mut errs);
    match (kind, reference) {
        (Some(kind), Some(reference)) if errs.is_empty() => Ok(LinkDraft { kind, reference, note }),
        _ => Err(errs),
    }
}

/// An assessment an organization records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentDraft {
    pub status: Status,
    pub assessed_on: jiff::civil::Date,
    pub reasoning: String,
    /// Ids of the organization's links to this recommendation that support it.
    pub evidence: Vec<i64>,
}

/// Reads an assessment: a status, a date not after today, the reasoning (required: an
/// assessment without reasons cannot be checked), the links it rests on.
pub fn validate_assessment(
    raw: &crate::input::RawInput,
    today: jiff::civil::Date,
) -> Result<AssessmentDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["status", "assessed_on", "reasoning", "evidence"], &mut errs);
    let status = match raw.text("status", 40, &mut errs) {
        Some(s) => Status::parse(&s).or_else(|| {
            errs.push(FieldError::new("status", "unknown_choice"));
            None
        }),
        None => {
            errs.push(FieldError::new("status", "required"));
            None
        }
    };
    let assessed_on = raw.date("assessed_on", &mut errs);
    if !raw.has("assessed_on") {
        errs.push(FieldError::new("assessed_on", "required"));
    }
    if assessed_on.is_some_and(|d| d > today) {
        errs.push(FieldError::new("assessed_on", "in_future"));
    }
    let reasoning = raw.required_text("reasoning", 10_000, &mut errs);
    let mut evidence = raw.ids("evidence", &mut errs);
    evidence.sort_unstable();
    evidence.dedup();
    match (status, assessed_on, reasoning) {
        (Some(status), Some(assessed_on), Some(reasoning)) if errs.is_empty() => {
            Ok(AssessmentDraft { status, assessed_on, reasoning, evidence })
        }
        _ => Err(errs),
    }
}

/// The paragraph at the start of a recommendation's text, as UHRI writes it: "38.
/// (a) The Committee…" → "38(a)"; "124.1. Guarantee…" → "124.1"; "80. …" → "80"; no
/// number → empty.
pub fn paragraph(text: &str) -> String {
    let t = text.trim_start();
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let number = digits.trim_end_matches('.');
    // A paragraph number has at most three digits per part ("124.1"): "2030 Agenda…" is
    // a year, not a paragraph.
    let parts_ok = number.split('.').all(|p| !p.is_empty() && p.len() <= 3);
    if number.is_empty() || !number.starts_with(|c: char| c.is_ascii_digit()) || !parts_ok {
        return String::new();
    }
    let rest = t[digits.len()..].trim_start();
    let letter = rest
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .filter(|(inner, _)| !inner.is_empty() && inner.len() <= 4 && inner.chars().all(|c| c.is_ascii_lowercase()))
        .map(|(inner, _)| format!("({inner})"))
        .unwrap_or_default();
    format!("{number}{letter}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::RawInput;
    use proptest::prelude::*;

    #[test]
    fn the_paragraph_is_read_from_the_start_of_the_text() {
        assert_eq!(paragraph("38. (a) End the detention of children"), "38(a)");
        assert_eq!(paragraph("37. The Committee is concerned"), "37");
        assert_eq!(paragraph("124.1. Guarantee access"), "124.1");
        assert_eq!(paragraph("  80. Overcrowding"), "80");
        assert_eq!(paragraph("The Committee recommends"), "");
        assert_eq!(paragraph(".5 x"), "");
        assert_eq!(paragraph("2030 Agenda for Sustainable Development"), "");
    }

    #[test]
    fn a_link_names_a_known_kind_and_record() {
        let ok = RawInput::from_json(serde_json::json!({"kind": "visit", "reference": "12"})).expect("json");
        assert_eq!(validate_link(&ok).expect("valid").kind, EvidenceKind::Visit);
        let count = RawInput::from_json(serde_json::json!({"kind": "case_count", "reference": "children_detained"}))
            .expect("json");
        assert!(validate_link(&count).is_ok());
        let bad =
            RawInput::from_json(serde_json::json!({"kind": "case_count", "reference": "Ana López"})).expect("json");
        assert_eq!(validate_link(&bad).expect_err("refused").0[0].field, "reference");
    }

    #[test]
    fn an_assessment_needs_reasons_and_a_date_not_in_the_future() {
        let today = jiff::civil::date(2026, 1, 1);
        let raw = RawInput::from_json(
            serde_json::json!({"status": "partly", "assessed_on": "2027-01-01", "evidence": [3, 3, 1]}),
        )
        .expect("json");
        let e = validate_assessment(&raw, today).expect_err("refused");
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert!(fields.contains(&"assessed_on") && fields.contains(&"reasoning"), "{fields:?}");
        let raw = RawInput::from_json(
            serde_json::json!({"status": "partly", "assessed_on": "2020-02-01", "reasoning": "Sigue", "evidence": [3, 3, 1]}),
        )
        .expect("json");
        assert_eq!(validate_assessment(&raw, today).expect("valid").evidence, vec![1, 3]);
    }

    proptest! {
        #[test]
        fn any_text_gives_a_short_paragraph_or_none(t in ".{0,60}") {
            let p = paragraph(&t);
            prop_assert!(p.len() <= t.len() + 2);
            prop_assert!(p.is_empty() || p.starts_with(|c: char| c.is_ascii_digit()));
        }
    }
}
