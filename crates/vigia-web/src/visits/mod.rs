//! Monitoring visits: the field form (which keeps working offline with a service worker
//! and the browser's storage, and sends each draft exactly once under its own key), the
//! list and the report with its indicators and flags, and the API. Interview notes are
//! sealed and open only to the organization's coordinators and lawyers, each read
//! recorded.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use vigia_domain::account::{Locale, Permission};
use vigia_domain::visit::{self, Answer, Section, Visit};
use vigia_domain::{format_instant, ValidationErrors};
use vigia_store::StoreError;

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::i18n::{field_error, tr, tr_args};
use crate::kit::today;
use crate::kit::VisitRow;
use crate::kit::{render, Chrome, FormBody, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub mod api;
pub mod pages;
pub mod report;

use api::*;
use pages::*;
use report::*;

pub fn routes() -> Routes {
    Routes::default()
        .get("/visits", list_page)
        .get("/visits.csv", csv_page)
        .get("/visits.jsonl", csv_page)
        .post("/visits", create_page)
        .get("/visits/new", new_page)
        .get("/visits/sw.js", service_worker)
        .get("/static/visit-form.js", form_script)
        .get("/visits/{id}", show_page)
        .get("/visits/{id}/report", report_page)
        .get("/api/v1/visits", api_list)
        .post("/api/v1/visits", api_create)
        .get("/api/v1/visits/{id}", api_get)
        .get("/api/v1/visits/{id}/notes", api_notes)
}

const FORM_JS: &str = include_str!("../../static/visit-form.js");
const SW_JS: &str = include_str!("../../static/visit-sw.js");

async fn form_script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], FORM_JS)
        .into_response()
}

/// The service worker lives under /visits/ so it may serve the form offline.
async fn service_worker() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], SW_JS)
        .into_response()
}

/// Reads the form's flat pairs into the nested document the validator reads:
/// `population.total` → `{"population": {"total": …}}`, `sections.legal_safeguards.interpreter`,
/// `findings.0.severity`. Empty fields are left out.
pub fn pairs_to_json(pairs: &[(String, String)]) -> serde_json::Value {
    let mut root = serde_json::Map::new();
    let mut findings: std::collections::BTreeMap<usize, serde_json::Map<String, serde_json::Value>> =
        Default::default();
    for (k, v) in pairs {
        if v.trim().is_empty() || k == "draft_key" {
            continue;
        }
        let parts: Vec<&str> = k.split('.').collect();
        let number = |v: &str| v.trim().parse::<i64>().map(serde_json::Value::from).unwrap_or_else(|_| v.into());
        match parts.as_slice() {
            ["population", f] => {
                let p = root.entry("population").or_insert_with(|| serde_json::json!({}));
                p[*f] = number(v);
            }
            ["sections", s, q] => {
                let secs = root.entry("sections").or_insert_with(|| serde_json::json!({}));
                if secs.get(*s).is_none() {
                    secs[*s] = serde_json::json!({});
                }
                secs[*s][*q] = v.as_str().into();
            }
            ["findings", i, f] => {
                let i: usize = i.parse().unwrap_or(0);
                let value = if *f == "severity" { number(v) } else { v.as_str().into() };
                findings.entry(i).or_default().insert(f.to_string(), value);
            }
            [f] if *f == "facility_id" || *f == "team_size" => {
                root.insert(f.to_string(), number(v));
            }
            _ => {
                root.insert(k.clone(), v.as_str().into());
            }
        }
    }
    if !findings.is_empty() {
        root.insert("findings".into(), findings.into_values().map(serde_json::Value::Object).collect());
    }
    serde_json::Value::Object(root)
}

/// The form's finding slots that hold something, in order: the report's findings are
/// these, numbered from 0, so an error on the report's finding `i` belongs to the form's
/// slot `slots[i]` (an empty first slot and a filled second give one finding, and its
/// errors must point at the second).
fn finding_slots(pairs: &[(String, String)]) -> Vec<usize> {
    let mut slots: Vec<usize> = pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .filter_map(|(k, _)| k.strip_prefix("findings.")?.split('.').next()?.parse().ok())
        .collect();
    slots.sort_unstable();
    slots.dedup();
    slots
}

/// Renames `findings.{i}.…` errors to the form slot they came from.
fn errors_on_slots(errs: ValidationErrors, slots: &[usize]) -> ValidationErrors {
    ValidationErrors(
        errs.0
            .into_iter()
            .map(|mut e| {
                if let Some(rest) = e.field.strip_prefix("findings.") {
                    let (i, tail) = rest.split_once('.').unwrap_or((rest, ""));
                    if let Some(slot) = i.parse::<usize>().ok().and_then(|i| slots.get(i)) {
                        e.field = if tail.is_empty() {
                            format!("findings.{slot}")
                        } else {
                            format!("findings.{slot}.{tail}")
                        };
                    }
                }
                e
            })
            .collect(),
    )
}

async fn validate(st: &AppState, value: &serde_json::Value) -> Result<visit::VisitDraft, WebError> {
    let capacity = match value.get("facility_id").and_then(serde_json::Value::as_i64) {
        Some(id) => st.store.facility(id).await?.and_then(|f| f.draft.capacity),
        None => None,
    };
    Ok(visit::validate_visit(value, today(), capacity)?)
}

fn key_ok(k: &str) -> bool {
    (8..=100).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn visit_json(v: &Visit, capacity: Option<i64>, l: Locale) -> serde_json::Value {
    let (ind, flags) = visit::assess(&v.draft, capacity);
    let mut draft = serde_json::to_value(&v.draft).unwrap_or_default();
    if let Some(m) = draft.as_object_mut() {
        m.remove("interview_notes");
    }
    serde_json::json!({
        "id": v.id, "key": v.idempotency_key, "report": draft, "has_interview_notes": v.has_notes,
        "created_at": format_instant(v.created_at), "indicators": ind,
        "flags": flags.iter().map(|f| serde_json::json!({"flag": f.flag, "detail": f.detail,
            "basis": match l { Locale::Es => f.basis_es, Locale::En => f.basis_en }})).collect::<Vec<_>>(),
    })
}

async fn capacity_of(st: &AppState, facility_id: i64) -> Result<Option<i64>, WebError> {
    Ok(st.store.facility(facility_id).await?.and_then(|f| f.draft.capacity))
}
