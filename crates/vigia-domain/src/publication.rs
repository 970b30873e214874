//! Publications (issue #17, part 2): what an organization shows the public — a frozen set
//! of aggregates for one whole calendar year, proposed by one person and approved by
//! another (four eyes), then written as a signed static site.
//!
//! The rules here:
//! - **Whole, finished years only** ([`validate`]): the public sees no unit of time
//!   smaller than a year that could single a person out, and a year still running would
//!   be published again with a few more cases, which subtracted give them away.
//! - **One publication per organization and year**: once a year is approved its figures
//!   are what the public has; a second, later set for the same year could be subtracted
//!   from the first (the store refuses to approve it).
//! - **Four eyes** ([`may_decide`]): the person who proposed a publication cannot
//!   approve it; approving freezes nothing new — the approver approves exactly the
//!   figures the proposer froze, whose SHA-256 both see.
//! - **Counts about people** (cases, children seen on visits) go through
//!   [`crate::disclosure::Table::protected`]: no count from 1 to 10, and no hidden count
//!   that rows, columns, totals or the publication's other tables give back
//!   (`docs/disclosure.md`).

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, ValidationErrors};
use crate::input::RawInput;

choice!(
    /// What a publication may contain.
    Section {
        Access = "access",
        Conditions = "conditions",
        Cases = "cases",
        Statements = "statements",
    }
);

choice!(
    /// How finely places are shown: each centre, or only each state.
    Detail {
        Facility = "facility",
        State = "state",
    }
);

choice!(
    /// Where a publication stands.
    Status {
        Proposed = "proposed",
        Approved = "approved",
        Rejected = "rejected",
    }
);

/// What a coordinator proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationDraft {
    pub year: i16,
    pub sections: Vec<Section>,
    pub detail: Detail,
}

/// Reads a proposal: a finished year from 2000, at least one section, a level of detail.
pub fn validate(raw: &RawInput, today: jiff::civil::Date) -> Result<PublicationDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["year", "sections", "detail"], &mut errs);
    let last_finished = i64::from(today.year()) - 1;
    let year = match raw.integer("year", 2000, i64::from(today.year()), &mut errs) {
        None if !raw.has("year") => {
            errs.push(FieldError::new("year", "required"));
            None
        }
        Some(y) if y > last_finished => {
            errs.push(FieldError::new("year", "year_not_finished"));
            None
        }
        y => y.map(|y| y as i16),
    };
    let mut sections = Vec::new();
    let listed = raw.list_text("sections", 200, &mut errs).unwrap_or_default();
    for s in listed.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match Section::parse(s) {
            Some(x) if !sections.contains(&x) => sections.push(x),
            Some(_) => {}
            None => errs.push(FieldError::new("sections", "unknown_choice")),
        }
    }
    if sections.is_empty() && !errs.0.iter().any(|e| e.field == "sections") {
        errs.push(FieldError::new("sections", "required"));
    }
    sections.sort();
    let detail = match raw.text("detail", 10, &mut errs).as_deref() {
        None => Detail::Facility,
        Some(d) => Detail::parse(d).unwrap_or_else(|| {
            errs.push(FieldError::new("detail", "unknown_choice"));
            Detail::Facility
        }),
    };
    errs.into_result(PublicationDraft { year: year.unwrap_or(2000), sections, detail })
}

/// Four eyes: whoever proposed a publication may not approve or reject it.
pub fn may_decide(proposed_by: i64, deciding: i64) -> bool {
    proposed_by != deciding
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(v: serde_json::Value) -> RawInput {
        RawInput::from_json(v).expect("json")
    }

    #[test]
    fn only_a_finished_year_with_a_section_is_accepted() {
        let today = jiff::civil::date(2026, 12, 6);
        let ok = validate(&raw(serde_json::json!({"year": 2020, "sections": ["cases", "access", "cases"]})), today)
            .expect("valid");
        assert_eq!(
            (ok.year, ok.sections.clone(), ok.detail),
            (2020, vec![Section::Access, Section::Cases], Detail::Facility)
        );
        let running =
            validate(&raw(serde_json::json!({"year": 2026, "sections": ["access"]})), today).expect_err("refused");
        assert_eq!(running.0[0].code, "year_not_finished");
        let none = validate(&raw(serde_json::json!({"year": 2020, "sections": []})), today).expect_err("refused");
        assert_eq!(none.0[0].field, "sections");
        let odd = validate(&raw(serde_json::json!({"year": 1999, "sections": ["x"], "detail": "street"})), today)
            .expect_err("refused");
        let fields: Vec<&str> = odd.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["year", "sections", "detail"]);
    }

    #[test]
    fn the_proposer_never_decides() {
        assert!(!may_decide(7, 7));
        assert!(may_decide(7, 8));
    }
}
