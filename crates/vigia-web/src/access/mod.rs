//! Access attempts in the API and the pages: thin handlers over the domain validator
//! and the store. Visibility is the store's: another organization's private attempt
//! is simply not found; a coalition partner's shared attempt is readable, not editable.

pub mod api;

use std::collections::HashMap;

use vigia_domain::access::{self, Attempt, AttemptFilter, AttemptImport, Outcome};
use vigia_domain::account::Locale;
use vigia_domain::facility::Facility;
use vigia_domain::input::RawInput;
use vigia_domain::RecordType;
use vigia_domain::{format_instant, format_local, ValidationErrors};
use vigia_store::now_micros;

use crate::auth::Ctx;
use crate::error::WebError;
use crate::i18n::tr;
use crate::state::AppState;

pub mod pages;

use pages::*;

/// Reads an attempt from raw input: the facility must exist, and civil times are read
/// in its time zone.
pub async fn draft(st: &AppState, raw: &RawInput) -> Result<access::AttemptDraft, WebError> {
    // The facility decides the time zone; resolve it before the full validation.
    let mut probe = ValidationErrors::new();
    let facility_id = raw.integer("facility_id", 1, i64::MAX, &mut probe);
    let facility = match facility_id {
        Some(id) => st.store.facility(id).await?,
        None => None,
    };
    let zone = facility.as_ref().map(|f| f.time_zone()).unwrap_or(vigia_domain::geo::LEGAL_TIME_ZONE);
    match access::validate(raw, zone, now_micros()) {
        Ok(d) if facility.is_some() => Ok(d),
        Ok(_) => Err(ValidationErrors::single("facility_id", "unknown_facility").into()),
        Err(mut errs) => {
            if facility_id.is_some() && facility.is_none() {
                errs.push(vigia_domain::FieldError::new("facility_id", "unknown_facility"));
            }
            Err(errs.into())
        }
    }
}

/// Reads list filters from a query string; bad values are field errors.
pub fn filter(q: &HashMap<String, String>) -> Result<AttemptFilter, WebError> {
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["facility_id", "org_id", "outcome", "from", "until", "limit", "after"], &mut errs);
    let facility_id = raw.integer("facility_id", 1, i64::MAX, &mut errs);
    let org_id = raw.integer("org_id", 1, i64::MAX, &mut errs);
    let outcome = raw.text("outcome", 40, &mut errs).and_then(|o| {
        let v = Outcome::parse(&o);
        if v.is_none() {
            errs.push(vigia_domain::FieldError::new("outcome", "unknown_choice"));
        }
        v
    });
    let day = |field: &str, errs: &mut ValidationErrors| {
        raw.date(field, errs)
            .and_then(|d| d.to_datetime(jiff::civil::Time::midnight()).in_tz(vigia_domain::geo::LEGAL_TIME_ZONE).ok())
            .map(|z| z.timestamp().as_microsecond())
    };
    let from = day("from", &mut errs);
    let until = day("until", &mut errs).map(|t| t + 86_400_000_000);
    let limit = raw.integer("limit", 1, vigia_domain::paging::MAX_ROWS, &mut errs).unwrap_or(500);
    let after = crate::kit::listing::after(q, &mut errs);
    errs.into_result(AttemptFilter { facility_id, org_id, outcome, from, until, limit, after }).map_err(Into::into)
}

/// The JSON form of an attempt, with local times in the facility's zone.
pub fn json(a: &Attempt, facility: Option<&Facility>, org_name: Option<&str>, viewer_org: i64) -> serde_json::Value {
    let zone = facility.map(|f| f.time_zone()).unwrap_or(vigia_domain::geo::LEGAL_TIME_ZONE);
    let d = &a.draft;
    serde_json::json!({
        "id": a.id, "version": a.version, "organization_id": a.org_id, "organization": org_name,
        "mine": a.org_id == viewer_org,
        "facility_id": d.facility_id, "facility": facility.map(|f| f.draft.name.clone()),
        "requested_at": d.requested_at.map(format_instant),
        "attempted_at": format_instant(d.attempted_at),
        "attempted_local": format_local(d.attempted_at, zone),
        "purpose": d.purpose, "team_size": d.team_size, "people_to_see": d.people_to_see,
        "outcome": d.outcome, "reason_category": d.reason_category, "reason_text": d.reason_text,
        "official": d.official, "restrictions": d.restrictions, "notes": d.notes, "visibility": d.visibility,
        "created_at": format_instant(a.created_at), "updated_at": format_instant(a.updated_at),
    })
}

/// An attempt's versions that the viewer's organization may read, oldest first, and
/// how many were withheld: its own organization sees every version; others only the
/// versions that were themselves shared (`access::version_is_shared`).
pub async fn history(
    st: &AppState,
    viewer_org: i64,
    a: &Attempt,
) -> Result<(Vec<vigia_store::HistoryEntry>, usize), WebError> {
    let mut entries = st.store.history(RecordType::AccessAttempt, a.id, None).await?;
    if a.org_id == viewer_org {
        return Ok((entries, 0));
    }
    let all = entries.len();
    entries.retain(|e| vigia_domain::access::version_is_shared(&e.content));
    Ok((entries.clone(), all - entries.len()))
}
