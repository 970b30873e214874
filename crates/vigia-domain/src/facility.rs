//! The registry of detention facilities: shared reference data, readable by every
//! signed-in user, edited with a full audit history.

use serde::{Deserialize, Serialize};

use crate::input::RawInput;
use crate::{geo, FieldError, Micros, ValidationErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityKind {
    /// Estación migratoria (LM art. 106).
    EstacionMigratoria,
    /// Estancia provisional tipo A: up to 48 hours (LM art. 106).
    EstanciaProvisionalA,
    /// Estancia provisional tipo B: up to 7 days (LM art. 106).
    EstanciaProvisionalB,
    Other,
}

impl FacilityKind {
    pub const ALL: [FacilityKind; 4] = [
        FacilityKind::EstacionMigratoria,
        FacilityKind::EstanciaProvisionalA,
        FacilityKind::EstanciaProvisionalB,
        FacilityKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FacilityKind::EstacionMigratoria => "estacion_migratoria",
            FacilityKind::EstanciaProvisionalA => "estancia_provisional_a",
            FacilityKind::EstanciaProvisionalB => "estancia_provisional_b",
            FacilityKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// What a user may set on a facility, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacilityDraft {
    pub name: String,
    pub kind: FacilityKind,
    pub authority: String,
    pub state_code: String,
    pub municipality: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Official capacity as published. Unknown stays unknown: never invented.
    pub capacity: Option<i64>,
    pub opened_on: Option<String>,
    pub closed_on: Option<String>,
    pub sources: Option<String>,
}

/// A facility as stored: the draft plus identity and version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facility {
    pub id: i64,
    pub version: i64,
    #[serde(flatten)]
    pub draft: FacilityDraft,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// The part of a facility whose hash goes into the audit chain: everything a user set,
/// its id and version, and nothing the database fills in on its own.
#[derive(Serialize)]
struct FacilityContent<'a> {
    id: i64,
    version: i64,
    #[serde(flatten)]
    draft: &'a FacilityDraft,
}

impl Facility {
    pub fn content_json(&self) -> String {
        content_json(self.id, self.version, &self.draft)
    }

    pub fn state(&self) -> Option<&'static geo::State> {
        geo::state(&self.draft.state_code)
    }

    pub fn time_zone(&self) -> &'static str {
        self.state().map(|s| s.time_zone).unwrap_or(crate::geo::LEGAL_TIME_ZONE)
    }

    pub fn is_open(&self) -> bool {
        self.draft.closed_on.is_none()
    }
}

pub fn content_json(id: i64, version: i64, draft: &FacilityDraft) -> String {
    serde_json::to_string(&FacilityContent { id, version, draft }).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

pub const FIELDS: [&str; 11] = [
    "name",
    "kind",
    "authority",
    "state_code",
    "municipality",
    "latitude",
    "longitude",
    "capacity",
    "opened_on",
    "closed_on",
    "sources",
];

/// The largest official capacity we accept: far above any Mexican station (Siglo XXI,
/// the largest, publishes 960), so only a typing mistake trips it.
pub const MAX_CAPACITY: i64 = 100_000;

/// Validates a facility input, collecting every problem.
pub fn validate(raw: &RawInput) -> Result<FacilityDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&FIELDS, &mut errs);
    let name = raw.required_line("name", 200, &mut errs);
    let kind = match raw.required_text("kind", 40, &mut errs) {
        Some(k) => {
            let kind = FacilityKind::parse(&k);
            if kind.is_none() {
                errs.push(FieldError::new("kind", "unknown_choice"));
            }
            kind
        }
        None => None,
    };
    let authority = raw.line("authority", 100, &mut errs).unwrap_or_else(|| "INM".to_string());
    let state_code = match raw.required_text("state_code", 2, &mut errs) {
        Some(code) => match geo::state(&code) {
            Some(s) => Some(s.code.to_string()),
            None => {
                errs.push(FieldError::new("state_code", "unknown_state"));
                None
            }
        },
        None => {
            // `required_text` with max 2 already reported an over-long code.
            None
        }
    };
    let municipality = raw.line("municipality", 120, &mut errs);
    let latitude = raw.float("latitude", geo::LATITUDE.0, geo::LATITUDE.1, &mut errs);
    let longitude = raw.float("longitude", geo::LONGITUDE.0, geo::LONGITUDE.1, &mut errs);
    if raw.has("latitude") != raw.has("longitude") {
        let missing = if raw.has("latitude") { "longitude" } else { "latitude" };
        errs.push(FieldError::new(missing, "coordinates_incomplete"));
    }
    let capacity = raw.integer("capacity", 0, MAX_CAPACITY, &mut errs);
    let opened_on = raw.date("opened_on", &mut errs);
    let closed_on = raw.date("closed_on", &mut errs);
    if let (Some(o), Some(c)) = (opened_on, closed_on) {
        if c < o {
            errs.push(FieldError::new("closed_on", "before_opened"));
        }
    }
    let sources = raw.text("sources", 4000, &mut errs);
    match (name, kind, state_code) {
        (Some(name), Some(kind), Some(state_code)) if errs.is_empty() => Ok(FacilityDraft {
            name,
            kind,
            authority,
            state_code,
            municipality,
            latitude,
            longitude,
            capacity,
            opened_on: opened_on.map(|d| d.to_string()),
            closed_on: closed_on.map(|d| d.to_string()),
            sources,
        }),
        _ => Err(errs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: serde_json::Value) -> Result<FacilityDraft, ValidationErrors> {
        validate(&RawInput::from_json(v).expect("object"))
    }

    #[test]
    fn a_complete_facility_validates() {
        let d = check(json!({
            "name": "Estación Migratoria Siglo XXI", "kind": "estacion_migratoria",
            "state_code": "07", "municipality": "Tapachula", "latitude": 14.9, "longitude": -92.26,
            "capacity": 960, "opened_on": "2006-03-01"
        }))
        .expect("valid");
        assert_eq!(d.authority, "INM");
        assert_eq!(d.capacity, Some(960));
        assert_eq!(d.opened_on.as_deref(), Some("2006-03-01"));
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let errs = check(json!({
            "kind": "prison", "state_code": "40", "latitude": 50.0,
            "capacity": -3, "opened_on": "2020-05-01", "closed_on": "2019-01-01", "color": "red"
        }))
        .expect_err("invalid");
        let got: Vec<_> = errs.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        for want in [
            ("color", "unknown_field"),
            ("name", "required"),
            ("kind", "unknown_choice"),
            ("state_code", "unknown_state"),
            ("latitude", "out_of_range"),
            ("longitude", "coordinates_incomplete"),
            ("capacity", "out_of_range"),
            ("closed_on", "before_opened"),
        ] {
            assert!(got.contains(&want), "missing {want:?} in {got:?}");
        }
    }

    #[test]
    fn unknown_capacity_stays_unknown() {
        let d = check(json!({"name": "Iztapalapa", "kind": "estacion_migratoria", "state_code": "09"})).expect("valid");
        assert_eq!(d.capacity, None);
    }

    #[test]
    fn content_hash_input_is_stable() {
        let d = check(json!({"name": "X", "kind": "other", "state_code": "9"})).expect("valid");
        let a = content_json(1, 1, &d);
        assert_eq!(a, content_json(1, 1, &d.clone()));
        assert!(a.starts_with("{\"id\":1,\"version\":1,\"name\":\"X\""), "{a}");
    }

    #[test]
    fn names_are_one_line() {
        for (field, value) in [
            ("name", "Siglo\nXXI"),
            ("name", "Siglo\r\nXXI"),
            ("authority", "INM\nSEGOB"),
            ("municipality", "Tapa\nchula"),
        ] {
            let mut input = json!({"name": "Siglo XXI", "kind": "estacion_migratoria", "state_code": "07"});
            input[field] = json!(value);
            let e = check(input).expect_err(field);
            assert_eq!(e.for_field(field).map(|f| f.code), Some("line_break"), "{field}: {value:?}");
        }
        let ok = check(
            json!({"name": "Siglo XXI", "kind": "estacion_migratoria", "state_code": "07", "sources": "línea 1\nlínea 2"}),
        );
        assert!(ok.is_ok(), "free text keeps its lines");
    }
}
