//! Legal-aid cases: a detained person followed by an organization's lawyers, the events
//! of their detention and asylum procedure, and the deadlines and limits those events
//! start (DOMAIN.md §2–§4).
//!
//! A case has plain fields (usable in counts) and sealed fields (the person: names,
//! date of birth, identity documents, contact, family links), which the store encrypts
//! and only the owning organization's lawyers, coordinators and admins read. Event
//! notes may hold testimony and are sealed too.

use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};

use crate::input::RawInput;
use crate::{FieldError, ValidationErrors};

choice!(
    Sex {
        Female = "female",
        Male = "male",
        Other = "other",
        Unknown = "unknown",
    }
);

choice!(
    AgeGroup {
        Child = "child_0_11",
        Adolescent = "adolescent_12_17",
        Adult = "adult_18_59",
        Older = "older_60_plus",
        Unknown = "unknown",
    }
);

choice!(
    Vulnerability {
        Pregnant = "pregnant",
        Disability = "disability",
        ChronicIllness = "chronic_illness",
        Lgbti = "lgbti",
        Indigenous = "indigenous",
        Unaccompanied = "unaccompanied",
        SurvivorOfViolence = "survivor_of_violence",
        Other = "other",
    }
);

choice!(
    CaseStatus {
        Open = "open",
        Closed = "closed",
    }
);

choice!(
    /// What happened to the person, in the order a detention and an asylum claim go.
    EventKind {
        EnteredMexico = "entered_mexico",
        Detained = "detained",
        Transferred = "transferred",
        DetentionExtended = "detention_extended",
        AsylumRequested = "asylum_requested",
        ComarAdmission = "comar_admission",
        ComarExtension = "comar_extension",
        Interview = "interview",
        Decision = "decision",
        AppealFiled = "appeal_filed",
        AmparoFiled = "amparo_filed",
        Released = "released",
        Deported = "deported",
        PressureToAbandon = "pressure_to_abandon",
        IllTreatment = "ill_treatment",
        DeniedLawyer = "denied_lawyer",
        DeniedConsul = "denied_consul",
        ForcedReturn = "forced_return",
    }
);

choice!(
    /// The statutory grounds of LM art. 111 that allow detention past 15 working days.
    ExtensionGround {
        I = "i",
        Ii = "ii",
        Iii = "iii",
        Iv = "iv",
        V = "v",
    }
);

choice!(
    DecisionOutcome {
        Recognized = "recognized",
        ComplementaryProtection = "complementary_protection",
        Denied = "denied",
    }
);

impl EventKind {
    /// Incidents: things done to the person that reports count by type.
    pub fn is_incident(self) -> bool {
        matches!(
            self,
            EventKind::PressureToAbandon
                | EventKind::IllTreatment
                | EventKind::DeniedLawyer
                | EventKind::DeniedConsul
                | EventKind::ForcedReturn
        )
    }

    /// Events that end a detention.
    pub fn ends_detention(self) -> bool {
        matches!(self, EventKind::Released | EventKind::Deported | EventKind::ForcedReturn)
    }

    /// Where an event sorts among others on the same day and time: a detention begins
    /// before anything else happens that day, and ends after.
    fn same_day_order(self) -> u8 {
        match self {
            EventKind::EnteredMexico => 0,
            EventKind::Detained => 1,
            k if k.ends_detention() => 9,
            _ => 5,
        }
    }
}

impl AgeGroup {
    pub fn is_minor(self) -> bool {
        matches!(self, AgeGroup::Child | AgeGroup::Adolescent)
    }
}

/// The sealed part of a case: who the person is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Person {
    pub full_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_documents: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_links: Option<String>,
}

/// The plain fields of a case: what counts, lists and deadlines use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFields {
    /// The organization's own file number, e.g. `FM-2020-014`. Shown to its lawyers,
    /// not to analysts (it may contain initials).
    pub reference: String,
    pub facility_id: Option<i64>,
    pub lawyer_user_id: Option<i64>,
    pub nationality: Option<String>,
    pub sex: Sex,
    pub age_group: AgeGroup,
    pub minor: bool,
    pub languages: Vec<String>,
    pub vulnerabilities: Vec<Vulnerability>,
    pub status: CaseStatus,
}

/// What a user sets on a case, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDraft {
    #[serde(flatten)]
    pub fields: CaseFields,
    pub person: Person,
}

pub const CASE_FIELDS: [&str; 15] = [
    "reference",
    "facility_id",
    "lawyer_user_id",
    "nationality",
    "sex",
    "age_group",
    "minor",
    "languages",
    "vulnerabilities",
    "status",
    "full_name",
    "birth_date",
    "identity_documents",
    "contact",
    "family_links",
];

/// The fields whose values are sealed.
pub const SEALED_FIELDS: [&str; 5] = ["full_name", "birth_date", "identity_documents", "contact", "family_links"];

fn one_of<T: Copy>(
    raw: &RawInput,
    field: &str,
    parse: fn(&str) -> Option<T>,
    required: bool,
    errs: &mut ValidationErrors,
) -> Option<T> {
    let before = errs.0.len();
    let Some(text) = raw.text(field, 40, errs) else {
        if required && errs.0.len() == before {
            errs.push(FieldError::new(field, "required"));
        }
        return None;
    };
    let v = parse(&text);
    if v.is_none() {
        errs.push(FieldError::new(field, "unknown_choice"));
    }
    v
}

/// A list written as comma-separated codes (forms) or as a JSON array (API).
fn code_list(raw: &RawInput, field: &str, errs: &mut ValidationErrors) -> Vec<String> {
    let Some(text) = raw.list_text(field, 400, errs) else {
        return Vec::new();
    };
    let mut out: Vec<String> = text.split(',').map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).collect();
    out.dedup();
    out
}

/// Validates a case. `today` is the civil date now (a birth date may not be later).
pub fn validate_case(raw: &RawInput, today: Date) -> Result<CaseDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&CASE_FIELDS, &mut errs);
    let reference = raw.required_text("reference", 60, &mut errs);
    let facility_id = raw.integer("facility_id", 1, i64::MAX, &mut errs);
    let lawyer_user_id = raw.integer("lawyer_user_id", 1, i64::MAX, &mut errs);
    let nationality = raw.text("nationality", 2, &mut errs).map(|s| s.to_uppercase());
    if let Some(n) = &nationality {
        // An ISO 3166-1 code that names a country (`XX` is two letters, not a country:
        // found by the attack pass of issue #16).
        if n.len() != 2
            || !n.bytes().all(|b| b.is_ascii_uppercase())
            || crate::names::country(n, crate::account::Locale::Es).is_none()
        {
            errs.push(FieldError::new("nationality", "expected_country_code"));
        }
    }
    let sex = one_of(raw, "sex", Sex::parse, false, &mut errs).unwrap_or(Sex::Unknown);
    let age_group = one_of(raw, "age_group", AgeGroup::parse, false, &mut errs).unwrap_or(AgeGroup::Unknown);
    let minor_given = raw.boolean("minor", &mut errs);
    let minor = minor_given.unwrap_or(false) || age_group.is_minor();
    if minor_given == Some(true) && matches!(age_group, AgeGroup::Adult | AgeGroup::Older) {
        errs.push(FieldError::new("minor", "contradicts_age_group"));
    }
    let languages = code_list(raw, "languages", &mut errs);
    if languages.iter().any(|l| l.chars().count() > 20 || !l.chars().all(|c| c.is_alphanumeric() || c == '-')) {
        errs.push(FieldError::new("languages", "expected_language_codes"));
    }
    let mut vulnerabilities = Vec::new();
    for code in code_list(raw, "vulnerabilities", &mut errs) {
        match Vulnerability::parse(&code) {
            Some(v) if !vulnerabilities.contains(&v) => vulnerabilities.push(v),
            Some(_) => {}
            None => errs.push(FieldError::new("vulnerabilities", "unknown_choice").with("value", code)),
        }
    }
    let status = one_of(raw, "status", CaseStatus::parse, false, &mut errs).unwrap_or(CaseStatus::Open);
    let full_name = raw.required_text("full_name", 200, &mut errs);
    let birth_date = raw.date("birth_date", &mut errs);
    if birth_date.is_some_and(|b| b > today) {
        errs.push(FieldError::new("birth_date", "in_future"));
    }
    let identity_documents = raw.text("identity_documents", 1000, &mut errs);
    let contact = raw.text("contact", 1000, &mut errs);
    let family_links = raw.text("family_links", 2000, &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(CaseDraft {
        fields: CaseFields {
            reference: reference.unwrap_or_default(),
            facility_id,
            lawyer_user_id,
            nationality,
            sex,
            age_group,
            minor,
            languages,
            vulnerabilities,
            status,
        },
        person: Person {
            full_name: full_name.unwrap_or_default(),
            birth_date: birth_date.map(|d| d.to_string()),
            identity_documents,
            contact,
            family_links,
        },
    })
}

/// A case as stored, without the person: opening that is a separate, audited read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: i64,
    pub org_id: i64,
    pub version: i64,
    #[serde(flatten)]
    pub fields: CaseFields,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One event on a case's timeline, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDraft {
    pub kind: EventKind,
    /// The civil date in the facility's (or Mexico City's) time zone.
    pub on: Date,
    pub time: Option<Time>,
    pub facility_id: Option<i64>,
    /// The statutory ground, for `detention_extended`.
    pub ground: Option<ExtensionGround>,
    /// The outcome, for `decision`.
    pub decision: Option<DecisionOutcome>,
    /// Sealed: may hold testimony.
    pub note: Option<String>,
}

pub const EVENT_FIELDS: [&str; 7] = ["kind", "on", "time", "facility_id", "ground", "decision", "note"];

/// The earliest event date accepted.
pub const EARLIEST_EVENT: &str = "1990-01-01";

/// Validates an event; `today` bounds its date (one day of slack for time zones).
pub fn validate_event(raw: &RawInput, today: Date) -> Result<EventDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&EVENT_FIELDS, &mut errs);
    let kind = one_of(raw, "kind", EventKind::parse, true, &mut errs);
    let on = raw.date("on", &mut errs);
    if on.is_none() && errs.for_field("on").is_none() {
        errs.push(FieldError::new("on", "required"));
    }
    if let Some(d) = on {
        if today.tomorrow().is_ok_and(|t| d > t) {
            errs.push(FieldError::new("on", "in_future"));
        } else if d < EARLIEST_EVENT.parse::<Date>().unwrap_or(Date::MIN) {
            errs.push(FieldError::new("on", "too_early").with("min", EARLIEST_EVENT));
        }
    }
    let time = match raw.text("time", 8, &mut errs) {
        None => None,
        Some(t) => match t.parse::<Time>() {
            Ok(t) => Some(t),
            Err(_) => {
                errs.push(FieldError::new("time", "expected_time"));
                None
            }
        },
    };
    let facility_id = raw.integer("facility_id", 1, i64::MAX, &mut errs);
    let ground = one_of(raw, "ground", ExtensionGround::parse, kind == Some(EventKind::DetentionExtended), &mut errs);
    let decision = one_of(raw, "decision", DecisionOutcome::parse, kind == Some(EventKind::Decision), &mut errs);
    if ground.is_some() && kind.is_some_and(|k| k != EventKind::DetentionExtended) {
        errs.push(FieldError::new("ground", "not_for_this_event"));
    }
    if decision.is_some() && kind.is_some_and(|k| k != EventKind::Decision) {
        errs.push(FieldError::new("decision", "not_for_this_event"));
    }
    let note = raw.text("note", 5000, &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    match (kind, on) {
        (Some(kind), Some(on)) => Ok(EventDraft { kind, on, time, facility_id, ground, decision, note }),
        _ => Err(errs),
    }
}

/// An event as stored. Events are never deleted: a mistaken one is voided, with a
/// reason, and stops counting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub id: i64,
    pub case_id: i64,
    #[serde(flatten)]
    pub draft: EventDraft,
    /// Whether a sealed note exists (its text is only present once opened).
    pub has_note: bool,
    pub voided_at: Option<i64>,
    pub void_reason: Option<String>,
    pub author_user_id: Option<i64>,
    pub created_at: i64,
}

impl CaseEvent {
    pub fn is_voided(&self) -> bool {
        self.voided_at.is_some()
    }
}

/// Which of an organization's cases to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    pub lawyer_user_id: Option<i64>,
    pub facility_id: Option<i64>,
}

/// The plain facts of an event the rules read (no sealed note), so deadlines can be
/// computed without opening anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    pub id: i64,
    pub kind: EventKind,
    pub on: Date,
    pub time: Option<Time>,
    pub ground: Option<ExtensionGround>,
    pub decision: Option<DecisionOutcome>,
}

impl From<&CaseEvent> for Fact {
    fn from(e: &CaseEvent) -> Fact {
        Fact {
            id: e.id,
            kind: e.draft.kind,
            on: e.draft.on,
            time: e.draft.time,
            ground: e.draft.ground,
            decision: e.draft.decision,
        }
    }
}

/// Puts facts in the order they happened, whatever order they were recorded in.
pub fn chronological(facts: &mut [Fact]) {
    facts.sort_by_key(|f| (f.on, f.time.unwrap_or(Time::midnight()), f.kind.same_day_order(), f.id));
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn raw(v: serde_json::Value) -> RawInput {
        RawInput::from_json(v).expect("object")
    }

    fn codes(e: &ValidationErrors) -> Vec<(String, String)> {
        e.0.iter().map(|f| (f.field.clone(), f.code.to_string())).collect()
    }

    #[test]
    fn a_case_needs_a_reference_and_a_name_and_reads_lists_both_ways() {
        let today = date(2020, 2, 1);
        let e = validate_case(&raw(serde_json::json!({})), today).expect_err("invalid");
        assert_eq!(codes(&e), vec![("reference".into(), "required".into()), ("full_name".into(), "required".into())]);
        let c = validate_case(
            &raw(serde_json::json!({"reference": "FM-1", "full_name": "Ana", "nationality": "hn",
                "age_group": "adolescent_12_17", "languages": ["es", "mam"], "vulnerabilities": "unaccompanied, lgbti"})),
            today,
        )
        .expect("ok");
        assert_eq!(c.fields.nationality.as_deref(), Some("HN"));
        assert!(c.fields.minor, "an adolescent is a minor");
        assert_eq!(c.fields.languages, vec!["es", "mam"]);
        assert_eq!(c.fields.vulnerabilities, vec![Vulnerability::Unaccompanied, Vulnerability::Lgbti]);
        assert_eq!(c.fields.status, CaseStatus::Open);
    }

    #[test]
    fn a_nationality_is_a_country_not_any_two_letters() {
        for code in ["XX", "zz", "QQ"] {
            let today = date(2020, 2, 1);
            let e = validate_case(
                &raw(serde_json::json!({"reference": "FM-2", "full_name": "Ana", "nationality": code})),
                today,
            )
            .expect_err(code);
            assert_eq!(codes(&e), vec![("nationality".into(), "expected_country_code".into())], "{code}");
        }
        for code in ["HN", "gt", "SV", "VE", "HT"] {
            let today = date(2020, 2, 1);
            let ok = validate_case(
                &raw(serde_json::json!({"reference": "FM-2", "full_name": "Ana", "nationality": code})),
                today,
            );
            assert!(ok.is_ok(), "{code}");
        }
    }

    #[test]
    fn contradictions_and_bad_values_name_their_field() {
        let e = validate_case(
            &raw(serde_json::json!({"reference": "x", "full_name": "y", "minor": true, "age_group": "adult_18_59",
                "nationality": "Honduras", "birth_date": "2030-01-01", "vulnerabilities": ["pregnant", "rich"], "sex": "x",
                "organization_id": 3})),
            date(2020, 1, 1),
        )
        .expect_err("invalid");
        let got = codes(&e);
        for want in [
            ("organization_id", "unknown_field"),
            ("minor", "contradicts_age_group"),
            ("nationality", "too_long"),
            ("birth_date", "in_future"),
            ("vulnerabilities", "unknown_choice"),
            ("sex", "unknown_choice"),
        ] {
            assert!(got.iter().any(|(f, c)| f == want.0 && c == want.1), "{want:?} in {got:?}");
        }
    }

    #[test]
    fn events_check_their_kind_specific_fields_and_dates() {
        let today = date(2020, 2, 1);
        let e = validate_event(&raw(serde_json::json!({"kind": "detention_extended", "on": "2020-01-10"})), today)
            .expect_err("invalid");
        assert_eq!(codes(&e), vec![("ground".into(), "required".into())]);
        let e = validate_event(
            &raw(serde_json::json!({"kind": "released", "on": "2020-03-10", "decision": "denied"})),
            today,
        )
        .expect_err("invalid");
        let got = codes(&e);
        assert!(got.contains(&("on".into(), "in_future".into())));
        assert!(got.contains(&("decision".into(), "not_for_this_event".into())));
        let ev = validate_event(
            &raw(serde_json::json!({"kind": "detained", "on": "2020-01-20", "time": "18:30", "note": "dijo que…"})),
            today,
        )
        .expect("ok");
        assert_eq!(ev.time, Some(jiff::civil::time(18, 30, 0, 0)));
        let e =
            validate_event(&raw(serde_json::json!({"kind": "teleported", "on": "20/01/2020", "time": "25:99"})), today)
                .expect_err("invalid");
        let got = codes(&e);
        for f in ["kind", "on", "time"] {
            assert!(got.iter().any(|(g, _)| g == f), "{f} in {got:?}");
        }
    }

    #[test]
    fn facts_sort_by_when_they_happened() {
        let d = date(2020, 1, 20);
        let mut facts = vec![
            Fact { id: 1, kind: EventKind::Released, on: d, time: None, ground: None, decision: None },
            Fact { id: 2, kind: EventKind::Detained, on: d, time: None, ground: None, decision: None },
            Fact {
                id: 3,
                kind: EventKind::EnteredMexico,
                on: date(2020, 1, 2),
                time: None,
                ground: None,
                decision: None,
            },
        ];
        chronological(&mut facts);
        assert_eq!(facts.iter().map(|f| f.id).collect::<Vec<_>>(), vec![3, 2, 1]);
    }
}
