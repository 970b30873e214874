//! Monitoring visits: what monitors found inside, recorded with the standard checklist
//! sections of detention monitoring (DOMAIN.md §5), population figures, findings, and
//! the rules that turn them into indicators and flagged violations, each with its legal
//! basis (DOMAIN.md §2).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::input::RawInput;
use crate::{FieldError, ValidationErrors};

choice!(
    /// The sections of the detention-monitoring checklist.
    Section {
        Treatment = "treatment",
        Protection = "protection",
        MaterialConditions = "material_conditions",
        Regime = "regime",
        HealthCare = "health_care",
        LegalSafeguards = "legal_safeguards",
        ContactOutside = "contact_outside",
        VulnerableGroups = "vulnerable_groups",
        Personnel = "personnel",
    }
);

choice!(
    /// An answer to a checklist question.
    Answer {
        Yes = "yes",
        Partly = "partly",
        No = "no",
        NotSeen = "not_seen",
    }
);

impl Section {
    /// The questions of each section, as codes (labels live in the catalogues). A "no"
    /// to any of them is a concern; they are phrased so that "yes" is what the law asks.
    pub fn questions(self) -> &'static [&'static str] {
        match self {
            Section::Treatment => &["no_ill_treatment_reported", "no_isolation_as_punishment", "respectful_searches"],
            Section::Protection => &["complaint_mechanism", "protection_from_other_detainees"],
            Section::MaterialConditions => {
                &["bed_for_everyone", "three_meals", "drinking_water", "hygiene_items", "ventilation_and_light"]
            }
            Section::Regime => &["daily_outdoor_time", "activities"],
            Section::HealthCare => &["medical_staff_present", "exam_on_arrival", "psychological_care"],
            Section::LegalSafeguards => {
                &["informed_of_rights_in_writing", "access_to_lawyer", "interpreter", "asylum_information"]
            }
            Section::ContactOutside => &["free_phone_calls", "family_visits", "consular_access_on_request"],
            Section::VulnerableGroups => &["women_held_apart_from_men", "families_kept_together", "lgbti_protection"],
            Section::Personnel => &["staff_identified", "female_staff_for_women"],
        }
    }
}

/// One section's answers and observations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SectionNotes {
    pub answers: std::collections::BTreeMap<String, Answer>,
    pub observations: Option<String>,
}

/// How many people, as the authority or the monitors reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Population {
    pub total: Option<i64>,
    pub women: Option<i64>,
    pub men: Option<i64>,
    pub children_unaccompanied: Option<i64>,
    pub children_accompanied: Option<i64>,
    pub asylum_seekers: Option<i64>,
    pub held_beyond_limit: Option<i64>,
    /// The capacity posted at the site, if any.
    pub capacity_posted: Option<i64>,
    /// Floor area of the dormitories seen, square metres.
    pub area_m2: Option<i64>,
}

impl Population {
    pub fn children(&self) -> i64 {
        self.children_unaccompanied.unwrap_or(0) + self.children_accompanied.unwrap_or(0)
    }
}

/// Something monitors saw, graded 1 (minor) to 4 (grave).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub section: Section,
    pub severity: u8,
    pub description: String,
}

/// What a monitor records about a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitDraft {
    pub facility_id: i64,
    pub on: Date,
    pub time_in: Option<jiff::civil::Time>,
    pub time_out: Option<jiff::civil::Time>,
    pub team_size: i64,
    pub areas_seen: Option<String>,
    pub areas_refused: Option<String>,
    pub sections: std::collections::BTreeMap<Section, SectionNotes>,
    pub population: Population,
    pub findings: Vec<Finding>,
    /// Sealed: words of detained people.
    pub interview_notes: Option<String>,
    /// The visit this report corrects. A report, once sent, is never overwritten: a
    /// monitor who finds it wrong sends a new report that names the first, and both stay
    /// in the record (evidence is never silently changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<i64>,
}

/// A visit as stored (interview notes only once opened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub id: i64,
    pub org_id: i64,
    pub idempotency_key: String,
    #[serde(flatten)]
    pub draft: VisitDraft,
    pub has_notes: bool,
    pub author_user_id: Option<i64>,
    pub created_at: i64,
}

/// The most people a report may give relative to capacity before it is refused as a
/// typing error (ten times the capacity).
pub const IMPLAUSIBLE_FACTOR: i64 = 10;

/// Validates a visit from a JSON body. `today` bounds its date; `capacity` is the
/// facility's official capacity, if known, for the plausibility check.
pub fn validate_visit(
    value: &serde_json::Value,
    today: Date,
    capacity: Option<i64>,
) -> Result<VisitDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    let Some(obj) = value.as_object() else { return Err(ValidationErrors::single("", "expected_object")) };
    let known = [
        "facility_id",
        "on",
        "time_in",
        "time_out",
        "team_size",
        "areas_seen",
        "areas_refused",
        "sections",
        "population",
        "findings",
        "interview_notes",
        "corrects",
    ];
    for k in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        errs.push(FieldError::new(k.clone(), "unknown_field"));
    }
    let flat: serde_json::Map<String, serde_json::Value> = obj
        .iter()
        .filter(|(k, _)| !["sections", "population", "findings"].contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let raw = RawInput::from_json(serde_json::Value::Object(flat)).unwrap_or_default();
    let facility_id = raw.integer("facility_id", 1, i64::MAX, &mut errs);
    if facility_id.is_none() && errs.for_field("facility_id").is_none() {
        errs.push(FieldError::new("facility_id", "required"));
    }
    let on = raw.date("on", &mut errs);
    match on {
        None if errs.for_field("on").is_none() => errs.push(FieldError::new("on", "required")),
        Some(d) if today.tomorrow().is_ok_and(|t| d > t) => errs.push(FieldError::new("on", "in_future")),
        _ => {}
    }
    let time = |field: &str, errs: &mut ValidationErrors| {
        raw.text(field, 8, errs).and_then(|t| match t.parse::<jiff::civil::Time>() {
            Ok(t) => Some(t),
            Err(_) => {
                errs.push(FieldError::new(field, "expected_time"));
                None
            }
        })
    };
    let time_in = time("time_in", &mut errs);
    let time_out = time("time_out", &mut errs);
    if let (Some(a), Some(b)) = (time_in, time_out) {
        if b < a {
            errs.push(FieldError::new("time_out", "before_time_in"));
        }
    }
    let team_size = raw.integer("team_size", 1, 100, &mut errs).unwrap_or(1);
    let areas_seen = raw.text("areas_seen", 2000, &mut errs);
    let areas_refused = raw.text("areas_refused", 2000, &mut errs);
    let interview_notes = raw.text("interview_notes", 50_000, &mut errs);
    let corrects = raw.integer("corrects", 1, i64::MAX, &mut errs);

    let mut sections = std::collections::BTreeMap::new();
    match obj.get("sections") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(map)) => {
            for (name, notes) in map {
                let field = format!("sections.{name}");
                let Some(section) = Section::parse(name) else {
                    errs.push(FieldError::new(field, "unknown_choice"));
                    continue;
                };
                let Some(notes) = notes.as_object() else {
                    errs.push(FieldError::new(field, "expected_object"));
                    continue;
                };
                let mut out = SectionNotes::default();
                for (k, v) in notes {
                    match k.as_str() {
                        "observations" => {
                            if let Some(s) = v.as_str() {
                                out.observations =
                                    crate::input::check_text(&format!("{field}.observations"), s, 5000, &mut errs);
                            } else if !v.is_null() {
                                errs.push(FieldError::new(format!("{field}.observations"), "expected_text"));
                            }
                        }
                        q if section.questions().contains(&q) => match v.as_str().and_then(Answer::parse) {
                            Some(a) => {
                                out.answers.insert(q.to_string(), a);
                            }
                            None => errs.push(FieldError::new(format!("{field}.{q}"), "unknown_choice")),
                        },
                        other => errs.push(FieldError::new(format!("{field}.{other}"), "unknown_field")),
                    }
                }
                sections.insert(section, out);
            }
        }
        Some(_) => errs.push(FieldError::new("sections", "expected_object")),
    }

    let mut population = Population::default();
    match obj.get("population") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(map)) => {
            let praw = RawInput::from_json(serde_json::Value::Object(map.clone())).unwrap_or_default();
            let mut perrs = ValidationErrors::new();
            praw.reject_unknown(
                &[
                    "total",
                    "women",
                    "men",
                    "children_unaccompanied",
                    "children_accompanied",
                    "asylum_seekers",
                    "held_beyond_limit",
                    "capacity_posted",
                    "area_m2",
                ],
                &mut perrs,
            );
            let n = |f: &str, e: &mut ValidationErrors| praw.integer(f, 0, 1_000_000, e);
            population = Population {
                total: n("total", &mut perrs),
                women: n("women", &mut perrs),
                men: n("men", &mut perrs),
                children_unaccompanied: n("children_unaccompanied", &mut perrs),
                children_accompanied: n("children_accompanied", &mut perrs),
                asylum_seekers: n("asylum_seekers", &mut perrs),
                held_beyond_limit: n("held_beyond_limit", &mut perrs),
                capacity_posted: n("capacity_posted", &mut perrs),
                area_m2: n("area_m2", &mut perrs),
            };
            for e in perrs.0 {
                errs.push(FieldError { field: format!("population.{}", e.field), ..e });
            }
            if let Some(total) = population.total {
                let parts = population.women.unwrap_or(0) + population.men.unwrap_or(0);
                if parts > total {
                    errs.push(FieldError::new("population.total", "less_than_parts"));
                }
                for (f, v) in
                    [("asylum_seekers", population.asylum_seekers), ("held_beyond_limit", population.held_beyond_limit)]
                {
                    if v.is_some_and(|v| v > total) {
                        errs.push(FieldError::new(format!("population.{f}"), "more_than_total"));
                    }
                }
                if population.children() > total {
                    errs.push(FieldError::new("population.children_accompanied", "more_than_total"));
                }
                if let Some(cap) = capacity.or(population.capacity_posted).filter(|c| *c > 0) {
                    if total > cap * IMPLAUSIBLE_FACTOR {
                        errs.push(
                            FieldError::new("population.total", "implausible").with("max", cap * IMPLAUSIBLE_FACTOR),
                        );
                    }
                }
            }
        }
        Some(_) => errs.push(FieldError::new("population", "expected_object")),
    }

    let mut findings = Vec::new();
    match obj.get("findings") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let field = |f: &str| format!("findings.{i}.{f}");
                let Some(o) = item.as_object() else {
                    errs.push(FieldError::new(format!("findings.{i}"), "expected_object"));
                    continue;
                };
                let section = o.get("section").and_then(|s| s.as_str()).and_then(Section::parse);
                if section.is_none() {
                    let code = if o.get("section").is_none_or(|s| s.is_null()) { "required" } else { "unknown_choice" };
                    errs.push(FieldError::new(field("section"), code));
                }
                let severity = o.get("severity").and_then(serde_json::Value::as_i64).filter(|s| (1..=4).contains(s));
                if severity.is_none() {
                    errs.push(FieldError::new(field("severity"), "out_of_range").with("min", 1).with("max", 4));
                }
                let description = match o.get("description").and_then(|d| d.as_str()) {
                    Some(d) => crate::input::check_text(&field("description"), d, 5000, &mut errs),
                    None => None,
                };
                if description.is_none() && errs.for_field(&field("description")).is_none() {
                    errs.push(FieldError::new(field("description"), "required"));
                }
                if let (Some(section), Some(severity), Some(description)) = (section, severity, description) {
                    findings.push(Finding { section, severity: severity as u8, description });
                }
            }
        }
        Some(_) => errs.push(FieldError::new("findings", "expected_array")),
    }

    match (facility_id, on) {
        (Some(facility_id), Some(on)) if errs.is_empty() => Ok(VisitDraft {
            facility_id,
            on,
            time_in,
            time_out,
            team_size,
            areas_seen,
            areas_refused,
            sections,
            population,
            findings,
            interview_notes,
            corrects,
        }),
        _ => Err(errs),
    }
}

choice!(
    /// What the rules flag about a visit.
    Flag {
        ChildrenDetained = "children_detained",
        Overcrowded = "overcrowded",
        HeldBeyondLimit = "held_beyond_limit",
        SafeguardMissing = "safeguard_missing",
        GraveFinding = "grave_finding",
    }
);

/// A flag with its legal basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub flag: Flag,
    pub detail: String,
    pub basis_es: &'static str,
    pub basis_en: &'static str,
}

/// The numbers a visit gives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Indicators {
    /// People held over capacity (official, else posted), e.g. 1.8.
    pub occupancy: Option<f64>,
    /// Square metres per person in the dormitories seen.
    pub space_per_person: Option<f64>,
    pub children: i64,
    pub held_beyond_limit: i64,
    /// Findings by severity 1..=4.
    pub findings_by_severity: [usize; 4],
}

/// Indicators and flagged violations of a visit. `capacity` is the facility's official
/// capacity, if published.
pub fn assess(v: &VisitDraft, capacity: Option<i64>) -> (Indicators, Vec<Violation>) {
    let p = &v.population;
    let cap = capacity.or(p.capacity_posted).filter(|c| *c > 0);
    let occupancy = match (p.total, cap) {
        (Some(t), Some(c)) => Some(t as f64 / c as f64),
        _ => None,
    };
    let space_per_person = match (p.area_m2, p.total) {
        (Some(a), Some(t)) if t > 0 => Some(a as f64 / t as f64),
        _ => None,
    };
    let mut by_sev = [0usize; 4];
    for f in &v.findings {
        by_sev[usize::from(f.severity.clamp(1, 4)) - 1] += 1;
    }
    let ind = Indicators {
        occupancy,
        space_per_person,
        children: p.children(),
        held_beyond_limit: p.held_beyond_limit.unwrap_or(0),
        findings_by_severity: by_sev,
    };
    let mut out = Vec::new();
    if ind.children > 0 {
        let (es, en) = if v.on >= crate::deadline::ART_99_IN_FORCE {
            ("Ley de Migración art. 99 (DOF 11-11-2020)", "Migration Law art. 99 (DOF 11-11-2020)")
        } else {
            (
                "Reglamento de la LGDNNA (2015); CRC/C/MEX/CO/3 párr. 61(d)",
                "LGDNNA Regulation (2015); CRC/C/MEX/CO/3 para 61(d)",
            )
        };
        out.push(Violation {
            flag: Flag::ChildrenDetained,
            detail: ind.children.to_string(),
            basis_es: es,
            basis_en: en,
        });
    }
    if let Some(o) = occupancy.filter(|o| *o > 1.0) {
        out.push(Violation {
            flag: Flag::Overcrowded,
            detail: format!("{o:.2}"),
            basis_es: "Ley de Migración arts. 106 y 107 (sin población por encima de la capacidad; sin hacinamiento)",
            basis_en: "Migration Law arts. 106 and 107 (no population above capacity; no overcrowding)",
        });
    }
    if ind.held_beyond_limit > 0 {
        out.push(Violation {
            flag: Flag::HeldBeyondLimit,
            detail: ind.held_beyond_limit.to_string(),
            basis_es: "Ley de Migración art. 111",
            basis_en: "Migration Law art. 111",
        });
    }
    let legal = v.sections.get(&Section::LegalSafeguards);
    for q in ["access_to_lawyer", "informed_of_rights_in_writing", "interpreter", "asylum_information"] {
        if legal.and_then(|s| s.answers.get(q)) == Some(&Answer::No) {
            out.push(Violation {
                flag: Flag::SafeguardMissing,
                detail: q.to_string(),
                basis_es: "Ley de Migración art. 109",
                basis_en: "Migration Law art. 109",
            });
        }
    }
    for f in v.findings.iter().filter(|f| f.severity == 4) {
        out.push(Violation {
            flag: Flag::GraveFinding,
            detail: f.section.as_str().to_string(),
            basis_es: "Ley de Migración art. 107 (condiciones mínimas)",
            basis_en: "Migration Law art. 107 (minimum conditions)",
        });
    }
    (ind, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn visit(json: serde_json::Value) -> Result<VisitDraft, ValidationErrors> {
        validate_visit(&json, date(2026, 1, 1), Some(960))
    }

    fn fields(e: &ValidationErrors) -> Vec<String> {
        e.0.iter().map(|f| f.field.clone()).collect()
    }

    #[test]
    fn a_full_visit_reads_every_part() {
        let v = visit(serde_json::json!({
            "facility_id": 1, "on": "2020-03-10", "time_in": "10:00", "time_out": "14:30", "team_size": 3,
            "areas_seen": "Dormitorios de hombres, comedor", "areas_refused": "Área de mujeres",
            "sections": {"legal_safeguards": {"access_to_lawyer": "no", "interpreter": "partly", "observations": "Sin traductores de criollo haitiano"}},
            "population": {"total": 1900, "women": 400, "men": 1450, "children_accompanied": 50, "asylum_seekers": 600, "held_beyond_limit": 120, "area_m2": 3000},
            "findings": [{"section": "material_conditions", "severity": 4, "description": "Personas durmiendo en el piso del patio"}],
            "interview_notes": "Relata 40 días detenido"
        }))
        .expect("valid");
        let (ind, flags) = assess(&v, Some(960));
        assert!((ind.occupancy.expect("occupancy") - 1.979).abs() < 0.01);
        assert!((ind.space_per_person.expect("space") - 1.578).abs() < 0.01);
        let kinds: Vec<Flag> = flags.iter().map(|f| f.flag).collect();
        for k in [
            Flag::ChildrenDetained,
            Flag::Overcrowded,
            Flag::HeldBeyondLimit,
            Flag::SafeguardMissing,
            Flag::GraveFinding,
        ] {
            assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
        }
        let child = flags.iter().find(|f| f.flag == Flag::ChildrenDetained).expect("children");
        assert!(child.basis_es.contains("LGDNNA"), "before 2021");
    }

    #[test]
    fn a_correction_names_the_report_it_corrects_and_an_original_names_none() {
        let v = visit(serde_json::json!({"facility_id": 1, "on": "2020-03-10", "corrects": 12})).expect("valid");
        assert_eq!(v.corrects, Some(12));
        let first = visit(serde_json::json!({"facility_id": 1, "on": "2020-03-10"})).expect("valid");
        assert_eq!(first.corrects, None);
        // Reports stored before corrections existed read back the same, and write the same.
        let json = serde_json::to_value(&first).expect("json");
        assert!(json.get("corrects").is_none(), "{json}");
        for bad in [serde_json::json!(0), serde_json::json!(-3), serde_json::json!("doce")] {
            let e =
                visit(serde_json::json!({"facility_id": 1, "on": "2020-03-10", "corrects": bad})).expect_err("invalid");
            assert_eq!(fields(&e), vec!["corrects".to_string()]);
        }
    }

    #[test]
    fn absurd_and_malformed_input_is_refused_by_field() {
        let e =
            visit(serde_json::json!({"facility_id": 1, "on": "2099-01-01", "time_in": "14:00", "time_out": "10:00",
            "population": {"total": 20000, "women": -3, "asylum_seekers": 30000}}))
            .expect_err("invalid");
        let f = fields(&e);
        for want in ["on", "time_out", "population.women", "population.total", "population.asylum_seekers"] {
            assert!(f.contains(&want.to_string()), "{want} in {f:?}");
        }
        let e = visit(serde_json::json!({"facility_id": 1, "on": "2020-01-01",
            "sections": {"kitchen": {}, "treatment": {"tortured": "yes", "no_ill_treatment_reported": "maybe"}},
            "findings": [{"section": "treatment", "severity": 7}, "x"]}))
        .expect_err("invalid");
        let f = fields(&e);
        for want in [
            "sections.kitchen",
            "sections.treatment.tortured",
            "sections.treatment.no_ill_treatment_reported",
            "findings.0.severity",
            "findings.0.description",
            "findings.1",
        ] {
            assert!(f.contains(&want.to_string()), "{want} in {f:?}");
        }
        assert_eq!(fields(&visit(serde_json::json!([])).expect_err("array")), vec![""]);
    }

    #[test]
    fn an_empty_visit_flags_nothing() {
        let v = visit(serde_json::json!({"facility_id": 1, "on": "2022-05-01"})).expect("valid");
        let (ind, flags) = assess(&v, None);
        assert_eq!((ind.occupancy, ind.children), (None, 0));
        assert!(flags.is_empty());
    }

    proptest! {
        #[test]
        fn flags_follow_the_numbers(total in 0i64..3000, cap in proptest::option::of(1i64..2000), children in 0i64..50, beyond in 0i64..100) {
            let children = children.min(total);
            let beyond = beyond.min(total);
            let json = serde_json::json!({"facility_id": 1, "on": "2022-05-01",
                "population": {"total": total, "children_unaccompanied": children, "held_beyond_limit": beyond}});
            match validate_visit(&json, date(2026, 1, 1), cap) {
                Err(e) => prop_assert!(cap.is_some_and(|c| total > c * IMPLAUSIBLE_FACTOR) && fields(&e) == vec!["population.total"]),
                Ok(v) => {
                    let (_, flags) = assess(&v, cap);
                    let has = |f: Flag| flags.iter().any(|x| x.flag == f);
                    prop_assert_eq!(has(Flag::ChildrenDetained), children > 0);
                    prop_assert_eq!(has(Flag::HeldBeyondLimit), beyond > 0);
                    prop_assert_eq!(has(Flag::Overcrowded), cap.is_some_and(|c| total > c));
                }
            }
        }
    }
}
