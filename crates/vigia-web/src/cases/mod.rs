//! Legal-aid cases: pages and API over the domain's case validation and deadline
//! rules. A case is its organization's alone: another organization's case is not
//! found. Lawyers, coordinators and admins open sealed fields (each read is audited);
//! analysts see cases under a pseudonym; monitors do not see cases.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use jiff::civil::Date;
use vigia_domain::account::{Locale, Permission, User};
use vigia_domain::case::{
    self, AgeGroup, Case, CaseDraft, CaseEvent, CaseFilter, CaseStatus, DecisionOutcome, EventKind, ExtensionGround,
    Sex, Vulnerability,
};
use vigia_domain::clock::Calendars;
use vigia_domain::deadline::{self, Assessment, Deadline, RuleId, Status};
use vigia_domain::disclosure::{Cell, Table};
use vigia_domain::input::RawInput;
use vigia_domain::{format_instant, RecordType, ValidationErrors};
use vigia_store::{CaseFacts, SealedCase};

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::i18n::{tr, tr_args};
use crate::kit::options;
use crate::kit::records::owned;
use crate::kit::{label, today};
use crate::kit::{render, Chrome, FieldView, FormBody, FormPage, FormView, HistoryPage, OptionView, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub mod api;
pub mod pages;
pub mod report;
pub mod summary;
pub mod today;

use api::*;
use pages::*;
use report::*;
use summary::*;
use today::*;

pub fn routes() -> Routes {
    Routes::default()
        .get("/cases", list_page)
        .get("/cases.csv", csv_page)
        .get("/cases.jsonl", csv_page)
        .post("/cases", create_page)
        .get("/cases/new", new_page)
        .get("/cases/report", report_page)
        .get("/cases/{id}", show_page)
        .get("/cases/{id}/edit", edit_page)
        .post("/cases/{id}/edit", update_page)
        .post("/cases/{id}/events", event_page)
        .post("/cases/{id}/void", void_page)
        .get("/cases/{id}/history", history_page)
        .get("/cases/{id}/summary", summary_page)
        .get("/today", today_page)
        .get("/api/v1/cases", api_list)
        .post("/api/v1/cases", api_create)
        .get("/api/v1/cases/{id}", api_get)
        .put("/api/v1/cases/{id}", api_update)
        .get("/api/v1/cases/{id}/sealed", api_sealed)
        .post("/api/v1/cases/{id}/events", api_event)
        .post("/api/v1/cases/{id}/void", api_void)
        .get("/api/v1/today", api_today)
        .get("/api/v1/case-report", api_report)
}

/// How a case is named to this viewer. One identifier for every role and page (issue #16 part 3): the pseudonym, which
/// alerts, e-mails, reports and the audit page also use; roles that may read the
/// person's data see the organization's own reference beside it.
fn name_for(st: &AppState, ctx: &Ctx, c: &Case) -> Result<String, WebError> {
    let pseudonym = st.store.case_pseudonym(c.org_id, c.id)?;
    if ctx.can(Permission::ReadCaseSealed) {
        Ok(format!("{pseudonym} · {}", c.fields.reference))
    } else {
        Ok(pseudonym)
    }
}

/// The calendars, kept until the data change: adding a rule is audited, so it moves the
/// data version, and a read then costs no question to the database.
async fn calendars(st: &AppState) -> Result<std::sync::Arc<Calendars>, WebError> {
    crate::kit::kept::kept(st, "calendars", String::new(), || async { Ok(vigia_store::calendars(&*st.store).await?) })
        .await
}

fn assess(cf: &CaseFacts, cals: &Calendars, today: Date) -> Result<Assessment, WebError> {
    Ok(vigia_app::cases::assess(cf, cals, today)?)
}

/// The case's recorded pressure to abandon the asylum claim, shown beside a possible
/// refoulement.
fn pressure_events(cf: &CaseFacts) -> Vec<&case::Fact> {
    cf.facts.iter().filter(|f| f.kind == EventKind::PressureToAbandon).collect()
}

/// Reads a case draft from raw input.
fn draft(raw: &RawInput) -> Result<CaseDraft, WebError> {
    Ok(case::validate_case(raw, today())?)
}

// ---- JSON -------------------------------------------------------------------

fn deadline_json(l: Locale, d: &Deadline, cals: &Calendars, today: Date) -> serde_json::Value {
    serde_json::json!({
        "rule": d.rule.as_str(), "calendar": d.rule.calendar(), "basis": d.rule.basis(l),
        "from_event": d.from_event, "start": d.start.to_string(), "allowed": d.allowed,
        "due": d.due.map(|x| x.to_string()), "due_time": d.due_time.map(|t| t.strftime("%H:%M").to_string()),
        "status": d.status.as_str(), "closed_by": d.closed_by, "closed_on": d.closed_on.map(|x| x.to_string()),
        "working_days_left": if d.status.is_running() { deadline::working_days_left(d, cals, today).ok().flatten() } else { None },
    })
}

fn assessment_json(l: Locale, a: &Assessment, pressure: &[i64], cals: &Calendars, today: Date) -> serde_json::Value {
    serde_json::json!({
        "in_detention": a.in_detention(), "detained_since": a.detained_since.map(|d| d.to_string()),
        "held_past_limit": a.held_past_limit(),
        "deadlines": a.deadlines.iter().map(|d| deadline_json(l, d, cals, today)).collect::<Vec<_>>(),
        "violations": a.violations.iter().map(|v| {
            let mut j = serde_json::json!({
                "kind": v.kind.as_str(), "since": v.since.to_string(), "event": v.event, "ongoing": v.ongoing, "basis": v.basis(l),
            });
            if let Some(c) = v.claim {
                j["claim"] = c.as_str().into();
                j["pressure_to_abandon"] = pressure.into();
            }
            j
        }).collect::<Vec<_>>(),
    })
}

fn case_json(st: &AppState, ctx: &Ctx, c: &Case) -> Result<serde_json::Value, WebError> {
    let f = &c.fields;
    let mut v = serde_json::json!({
        "id": c.id, "version": c.version, "pseudonym": st.store.case_pseudonym(c.org_id, c.id)?,
        "facility_id": f.facility_id, "lawyer_user_id": f.lawyer_user_id, "nationality": f.nationality,
        "sex": f.sex, "age_group": f.age_group, "minor": f.minor, "languages": f.languages,
        "vulnerabilities": f.vulnerabilities, "status": f.status,
        "created_at": format_instant(c.created_at), "updated_at": format_instant(c.updated_at),
    });
    if ctx.can(Permission::ReadCaseSealed) {
        v["reference"] = f.reference.clone().into();
    }
    Ok(v)
}

/// An event as JSON. Why it was voided can name the person (as a note can), so the
/// reason goes only to those who may open sealed data; others see that it was voided.
fn event_json(ctx: &Ctx, e: &CaseEvent, notes: Option<&SealedCase>) -> serde_json::Value {
    let d = &e.draft;
    let reason = e.void_reason.as_ref().filter(|_| ctx.can(Permission::ReadCaseSealed));
    serde_json::json!({
        "id": e.id, "kind": d.kind, "on": d.on.to_string(), "time": d.time.map(|t| t.strftime("%H:%M").to_string()),
        "facility_id": d.facility_id, "ground": d.ground, "decision": d.decision, "has_note": e.has_note,
        "note": notes.and_then(|s| s.notes.get(&e.id)),
        "voided": e.is_voided(), "voided_at": e.voided_at.map(format_instant), "void_reason": reason,
        "created_at": format_instant(e.created_at),
    })
}
