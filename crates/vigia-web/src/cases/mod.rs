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
use vigia_domain::disclosure::{Cell, Split, Table};
use vigia_domain::facility::Facility;
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
use crate::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .get("/cases", list_page)
        .get("/cases.csv", csv_page)
        .post("/cases", create_page)
        .get("/cases/new", new_page)
        .get("/cases/report", report_page)
        .get("/cases/{id}", show_page)
        .get("/cases/{id}/edit", edit_page)
        .post("/cases/{id}/edit", update_page)
        .post("/cases/{id}/events", event_page)
        .post("/cases/{id}/void", void_page)
        .get("/cases/{id}/history", history_page)
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

async fn calendars(st: &AppState) -> Result<Calendars, WebError> {
    Ok(vigia_store::calendars(&*st.store).await?)
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

// ---- API ------------------------------------------------------------------

fn list_filter(q: &HashMap<String, String>) -> Result<CaseFilter, WebError> {
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["status", "lawyer_user_id", "facility_id"], &mut errs);
    let status = raw.text("status", 20, &mut errs).and_then(|s| {
        let v = CaseStatus::parse(&s);
        if v.is_none() && s != "all" {
            errs.push(vigia_domain::FieldError::new("status", "unknown_choice"));
        }
        v
    });
    let lawyer_user_id = raw.integer("lawyer_user_id", 1, i64::MAX, &mut errs);
    let facility_id = raw.integer("facility_id", 1, i64::MAX, &mut errs);
    Ok(errs.into_result(CaseFilter { status, lawyer_user_id, facility_id })?)
}

async fn api_list(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in().and_then(|_| ctx.require(Permission::ReadCases))?.clone();
    let filter = list_filter(&q)?;
    let cases = st.store.list_cases(user.org_id, &filter).await.map_err(WebError::from)?;
    let out = cases.iter().map(|c| case_json(&st, &ctx, c)).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(serde_json::json!({ "items": out })).into_response())
}

async fn api_create(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in().and_then(|_| ctx.require(Permission::EditCases))?.clone();
    ctx.check_api_write(&axum::http::Method::POST, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let d = draft(&raw)?;
    let c = st.store.create_case(&ctx.actor(), user.org_id, d).await.map_err(WebError::from)?;
    Ok(crate::kit::json::created(case_json(&st, &ctx, &c)?, format!("/api/v1/cases/{}", c.id)))
}

async fn api_get(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::ReadCases).await?;
    let l = ctx.locale;
    let cals = calendars(&st).await?;
    let today = today();
    let events = st.store.case_events(c.org_id, c.id).await.map_err(WebError::from)?;
    let facts =
        CaseFacts { facts: events.iter().filter(|e| !e.is_voided()).map(Into::into).collect(), case: c.clone() };
    let a = assess(&facts, &cals, today)?;
    let mut v = case_json(&st, &ctx, &c)?;
    v["events"] = events.iter().map(|e| event_json(&ctx, e, None)).collect::<Vec<_>>().into();
    let pressure: Vec<i64> = pressure_events(&facts).iter().map(|f| f.id).collect();
    v["assessment"] = assessment_json(l, &a, &pressure, &cals, today);
    v["today"] = today.to_string().into();
    Ok(Json(v).into_response())
}

async fn api_update(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    ctx.check_api_write(&axum::http::Method::PUT, &headers)?;
    let version = crate::kit::json::if_match(&headers)?;
    let d = draft(&crate::kit::json::json_body(&headers, &body)?)?;
    let c = st.store.update_case(&ctx.actor(), c.org_id, c.id, version, d).await.map_err(WebError::from)?;
    Ok(Json(case_json(&st, &ctx, &c)?).into_response())
}

async fn api_sealed(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::ReadCaseSealed).await?;
    ctx.require_deliberate_read(&headers)?;
    let s = st.store.read_case_sealed(&ctx.actor(), c.org_id, c.id).await.map_err(WebError::from)?;
    Ok(Json(serde_json::json!({
        "id": c.id, "reference": c.fields.reference, "person": s.person,
        "event_notes": s.notes.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>(),
    }))
    .into_response())
}

async fn api_event(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    ctx.check_api_write(&axum::http::Method::POST, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let d = case::validate_event(&raw, today()).map_err(WebError::from)?;
    let e = st.store.add_case_event(&ctx.actor(), c.org_id, c.id, d).await.map_err(WebError::from)?;
    Ok(crate::kit::json::created(event_json(&ctx, &e, None), format!("/api/v1/cases/{}", c.id)))
}

fn void_input(raw: &RawInput) -> Result<(i64, String), WebError> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["event_id", "reason"], &mut errs);
    let event = raw.integer("event_id", 1, i64::MAX, &mut errs);
    if event.is_none() && errs.for_field("event_id").is_none() {
        errs.push(vigia_domain::FieldError::new("event_id", "required"));
    }
    let reason = raw.required_text("reason", 500, &mut errs);
    match (event, reason) {
        (Some(e), Some(r)) if errs.is_empty() => Ok((e, r)),
        _ => Err(errs.into()),
    }
}

async fn api_void(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    ctx.check_api_write(&axum::http::Method::POST, &headers)?;
    let (event, reason) = void_input(&crate::kit::json::json_body(&headers, &body)?)?;
    let e = st.store.void_case_event(&ctx.actor(), c.org_id, c.id, event, &reason).await.map_err(WebError::from)?;
    Ok(Json(event_json(&ctx, &e, None)).into_response())
}

// ---- Today ------------------------------------------------------------------

/// One line of the "today" list.
pub struct TodayItem {
    pub case_id: i64,
    pub name: String,
    pub rule: RuleId,
    pub rule_label: String,
    pub due: String,
    pub status: Status,
    pub left: Option<i64>,
    pub when: String,
}

pub struct Today {
    pub overdue: Vec<TodayItem>,
    pub soon: Vec<TodayItem>,
    /// People held past the detention limit, and children held, today.
    pub past_limit: Vec<(i64, String, String)>,
    pub children: Vec<(i64, String, String)>,
}

fn today_query(q: &HashMap<String, String>, user: &User) -> Result<(bool, u32), WebError> {
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["scope", "days"], &mut errs);
    let mine = match raw.text("scope", 10, &mut errs).as_deref() {
        None => user.role == vigia_domain::account::Role::Lawyer,
        Some("mine") => true,
        Some("org") => false,
        Some(_) => {
            errs.push(vigia_domain::FieldError::new("scope", "unknown_choice"));
            false
        }
    };
    let days = raw.integer("days", 0, 60, &mut errs).unwrap_or(5) as u32;
    Ok(errs.into_result((mine, days))?)
}

async fn compute_today(st: &AppState, ctx: &Ctx, user: &User, mine: bool, days: u32) -> Result<Today, WebError> {
    let l = ctx.locale;
    let cals = calendars(st).await?;
    let today = today();
    let mut out = Today { overdue: vec![], soon: vec![], past_limit: vec![], children: vec![] };
    for cf in st.store.cases_with_facts(Some(&[user.org_id]), true).await? {
        if mine && cf.case.fields.lawyer_user_id != Some(user.id) {
            continue;
        }
        let a = assess(&cf, &cals, today)?;
        let name = name_for(st, ctx, &cf.case)?;
        // The 36-hour threshold is shown on each case, not listed here: nearly every
        // detention passes it, and the list is for what a lawyer must act on.
        for d in a.deadlines.iter().filter(|d| d.rule != RuleId::Detention36h) {
            let left = deadline::working_days_left(d, &cals, today).map_err(|e| WebError::Internal(e.to_string()))?;
            let due = match (d.due, d.due_time) {
                (Some(x), Some(t)) => format!("{x} {}", t.strftime("%H:%M")),
                (Some(x), None) => x.to_string(),
                _ => String::new(),
            };
            let item = |when: String| TodayItem {
                case_id: cf.case.id,
                name: name.clone(),
                rule: d.rule,
                rule_label: label(l, "rule", d.rule.as_str()),
                due: due.clone(),
                status: d.status,
                left,
                when,
            };
            match (d.status, left) {
                (Status::Overdue, Some(n)) => {
                    out.overdue.push(item(tr_args(l, "today-overdue-by", &[("days", (-n).to_string())])))
                }
                (Status::Pending, Some(n)) if n <= i64::from(days) => {
                    out.soon.push(item(tr_args(l, "today-left", &[("days", n.to_string())])))
                }
                _ => {}
            }
        }
        for v in a.violations.iter().filter(|v| v.ongoing) {
            let row = (cf.case.id, name.clone(), v.since.to_string());
            match v.kind {
                deadline::ViolationKind::HeldPastLimit => out.past_limit.push(row),
                deadline::ViolationKind::ChildDetained => out.children.push(row),
                // Told once as an alert, and shown on the case: not a list of people to act for today.
                deadline::ViolationKind::HeldPast36Hours | deadline::ViolationKind::PossibleRefoulement => {}
            }
        }
    }
    out.overdue.sort_by(|a, b| a.due.cmp(&b.due));
    out.soon.sort_by(|a, b| a.due.cmp(&b.due));
    Ok(out)
}

fn item_json(i: &TodayItem) -> serde_json::Value {
    serde_json::json!({"case_id": i.case_id, "case": i.name, "rule": i.rule.as_str(), "due": i.due,
                       "status": i.status.as_str(), "working_days_left": i.left})
}

async fn api_today(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in().and_then(|_| ctx.require(Permission::ReadCases))?.clone();
    let (mine, days) = today_query(&q, &user)?;
    let t = compute_today(&st, &ctx, &user, mine, days).await?;
    let people = |v: &[(i64, String, String)]| {
        v.iter().map(|(id, n, since)| serde_json::json!({"case_id": id, "case": n, "since": since})).collect::<Vec<_>>()
    };
    Ok(Json(serde_json::json!({
        "today": today().to_string(), "scope": if mine { "mine" } else { "org" }, "days": days,
        "overdue": t.overdue.iter().map(item_json).collect::<Vec<_>>(),
        "due_soon": t.soon.iter().map(item_json).collect::<Vec<_>>(),
        "held_past_limit": people(&t.past_limit), "children_detained": people(&t.children),
    }))
    .into_response())
}

#[derive(Template)]
#[template(path = "cases/templates/today.html")]
struct TodayPage {
    c: Chrome,
    mine: bool,
    days: u32,
    today: String,
    t: Today,
}

async fn today_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require(Permission::ReadCases)?.clone();
    let (mine, days) = today_query(&q, &user)?;
    let t = compute_today(&st, &ctx, &user, mine, days).await?;
    render(StatusCode::OK, &TodayPage { c: Chrome::new(&ctx, "/today"), mine, days, today: today().to_string(), t })
}

// ---- Report (aggregates with disclosure control) -------------------------------

/// The violations a report counts, in the order of the first `MEASURES`; the rest are
/// events counted by kind.
const VIOLATION_MEASURES: [deadline::ViolationKind; 3] = [
    deadline::ViolationKind::HeldPastLimit,
    deadline::ViolationKind::ChildDetained,
    deadline::ViolationKind::PossibleRefoulement,
];

/// The measures a report counts.
const MEASURES: [&str; 8] = [
    "held_past_limit",
    "children_detained",
    "possible_refoulement",
    "pressure_to_abandon",
    "ill_treatment",
    "denied_lawyer",
    "denied_consul",
    "forced_return",
];

pub struct Report {
    pub coalition: bool,
    pub from: Date,
    pub until: Date,
    /// Row labels and the table by facility; then by month.
    pub facilities: Vec<String>,
    pub by_facility: Table,
    pub months: Vec<String>,
    pub by_month: Table,
}

/// What a report asks for. Coalition counts cover one whole calendar year, never a
/// chosen range: two overlapping ranges could be subtracted to give a period no
/// protection was applied to (docs/disclosure.md).
struct ReportQuery {
    coalition: bool,
    from: Date,
    until: Date,
    csv: bool,
}

/// Reads a report's query. The API (`strict`) refuses `from`/`until` with the
/// coalition scope; the page, whose form always sends them, takes the year of `until`.
fn report_query(q: &HashMap<String, String>, strict: bool) -> Result<ReportQuery, WebError> {
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["scope", "from", "until", "year", "format"], &mut errs);
    let coalition = match raw.text("scope", 12, &mut errs).as_deref() {
        None | Some("org") => false,
        Some("coalition") => true,
        Some(_) => {
            errs.push(vigia_domain::FieldError::new("scope", "unknown_choice"));
            false
        }
    };
    let t = today();
    let until = raw.date("until", &mut errs).unwrap_or(t);
    let mut from =
        raw.date("from", &mut errs).unwrap_or_else(|| until.checked_sub(jiff::Span::new().years(1)).unwrap_or(until));
    let mut until = until;
    if coalition {
        if strict {
            for field in ["from", "until"] {
                if raw.has(field) {
                    errs.push(vigia_domain::FieldError::new(field, "coalition_whole_year"));
                }
            }
        }
        let year = raw.integer("year", 2000, i64::from(t.year()), &mut errs).map_or(until.year(), |y| y as i16);
        from = jiff::civil::date(year, 1, 1);
        until = jiff::civil::date(year, 12, 31);
    } else if raw.has("year") {
        errs.push(vigia_domain::FieldError::new("year", "coalition_only"));
    }
    if from > until {
        errs.push(vigia_domain::FieldError::new("from", "after_until"));
    }
    let csv = match raw.text("format", 10, &mut errs).as_deref() {
        None | Some("html") | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            errs.push(vigia_domain::FieldError::new("format", "unknown_choice"));
            false
        }
    };
    Ok(errs.into_result(ReportQuery { coalition, from, until, csv })?)
}

/// Counts people (cases) per measure, by facility and by month, for the viewer's
/// organization or for every organization it shares a coalition with. Outside the
/// organization, other organizations' small counts are suppressed, deciding on their
/// share of each cell alone, in both tables together (`disclosure::Table::linked`).
async fn compute_report(st: &AppState, user: &User, q: &ReportQuery) -> Result<Report, WebError> {
    let (coalition, from, until) = (q.coalition, q.from, q.until);
    let mut orgs = vec![user.org_id];
    if coalition {
        for c in st.store.list_coalitions().await? {
            if c.members.contains(&user.org_id) {
                orgs.extend(c.members.iter().copied());
            }
        }
        orgs.sort_unstable();
        orgs.dedup();
    }
    let cals = calendars(st).await?;
    let today = today();
    let facilities: HashMap<i64, Facility> = st.store.list_facilities().await?.into_iter().map(|f| (f.id, f)).collect();
    // Per row: the viewer's organization's counts, then everyone else's.
    type Counts = ([u64; 8], [u64; 8]);
    let mut by_fac: BTreeMap<String, Counts> = BTreeMap::new();
    let mut by_month: BTreeMap<String, Counts> = BTreeMap::new();
    let unknown = "—".to_string();
    for cf in st.store.cases_with_facts(Some(&orgs), false).await? {
        let a = assess(&cf, &cals, today)?;
        let fac = cf
            .case
            .fields
            .facility_id
            .and_then(|id| facilities.get(&id))
            .map(|f| f.draft.name.clone())
            .unwrap_or_else(|| unknown.clone());
        let mut hits: Vec<(usize, Date)> = Vec::new();
        for (m, &kind) in VIOLATION_MEASURES.iter().enumerate() {
            // A person counts once per measure: at the first time it happened in the period.
            if let Some(v) = a
                .violations
                .iter()
                .filter(|v| v.kind == kind && v.since >= from && v.since <= until)
                .min_by_key(|v| v.since)
            {
                hits.push((m, v.since));
            }
        }
        for (m, name) in MEASURES.iter().enumerate().skip(VIOLATION_MEASURES.len()) {
            let kind = EventKind::parse(name);
            if let Some(f) =
                cf.facts.iter().filter(|f| Some(f.kind) == kind && f.on >= from && f.on <= until).min_by_key(|f| f.on)
            {
                hits.push((m, f.on));
            }
        }
        let own = cf.case.org_id == user.org_id;
        for (m, on) in hits {
            for row in
                [by_fac.entry(fac.clone()).or_default(), by_month.entry(on.strftime("%Y-%m").to_string()).or_default()]
            {
                if own {
                    row.0[m] += 1;
                } else {
                    row.1[m] += 1;
                }
            }
        }
    }
    let split = |rows: &BTreeMap<String, Counts>| Split {
        own: rows.values().map(|r| r.0.to_vec()).collect(),
        others: rows.values().map(|r| r.1.to_vec()).collect(),
    };
    let (by_facility, by_month_table) = if coalition {
        let mut t = Table::linked(&[split(&by_fac), split(&by_month)]).into_iter();
        let fac = t.next().unwrap_or_else(|| Table::open(&[]));
        (fac, t.next().unwrap_or_else(|| Table::open(&[])))
    } else {
        let open =
            |rows: &BTreeMap<String, Counts>| Table::open(&rows.values().map(|r| r.0.to_vec()).collect::<Vec<_>>());
        (open(&by_fac), open(&by_month))
    };
    Ok(Report {
        coalition,
        from,
        until,
        facilities: by_fac.keys().cloned().collect(),
        by_facility,
        months: by_month.keys().cloned().collect(),
        by_month: by_month_table,
    })
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Shown(n) => n.to_string(),
        Cell::Suppressed => "*".into(),
    }
}

fn report_csv(l: Locale, r: &Report) -> Response {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head = vec![tr(l, "report-group"), tr(l, "report-row")];
    head.extend(MEASURES.iter().map(|m| label(l, "measure", m)));
    head.push(tr(l, "report-total"));
    for (group, names, t) in [("facility", &r.facilities, &r.by_facility), ("month", &r.months, &r.by_month)] {
        for (i, name) in names.iter().enumerate() {
            let mut row = vec![group.to_string(), name.clone()];
            row.extend(t.cells[i].iter().map(cell_text));
            row.push(cell_text(&t.row_totals[i]));
            rows.push(row);
        }
        let mut total = vec![group.to_string(), tr(l, "report-total")];
        total.extend(t.col_totals.iter().map(cell_text));
        total.push(cell_text(&t.total));
        rows.push(total);
    }
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let body = vigia_domain::export::csv(&head, rows);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"vigia-cases-{}-{}.csv\"", r.from, r.until)),
        ],
        body,
    )
        .into_response()
}

fn table_json(names: &[String], t: &Table) -> serde_json::Value {
    serde_json::json!({
        "rows": names.iter().enumerate().map(|(i, n)| serde_json::json!({
            "label": n,
            "counts": MEASURES.iter().zip(&t.cells[i]).map(|(m, c)| (m.to_string(), serde_json::to_value(c).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
            "total": t.row_totals[i],
        })).collect::<Vec<_>>(),
        "totals": MEASURES.iter().zip(&t.col_totals).map(|(m, c)| (m.to_string(), serde_json::to_value(c).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
        "total": t.total,
    })
}

async fn api_report(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in().and_then(|_| ctx.require(Permission::ReadCases))?.clone();
    let q = report_query(&q, true)?;
    let r = compute_report(&st, &user, &q).await?;
    if q.csv {
        return Ok(report_csv(ctx.locale, &r));
    }
    let coalition = q.coalition;
    Ok(Json(serde_json::json!({
        "scope": if coalition { "coalition" } else { "org" }, "from": q.from.to_string(), "until": q.until.to_string(),
        "year": coalition.then(|| q.from.year()),
        "suppressed_below": if coalition { Some(vigia_domain::disclosure::MIN_SHOWN) } else { None },
        "measures": MEASURES, "by_facility": table_json(&r.facilities, &r.by_facility),
        "by_month": table_json(&r.months, &r.by_month),
    }))
    .into_response())
}

pub struct TableView {
    pub title: String,
    pub head: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

fn table_view(l: Locale, title: &str, names: &[String], t: &Table) -> TableView {
    let mut head: Vec<String> = MEASURES.iter().map(|m| label(l, "measure", m)).collect();
    head.push(tr(l, "report-total"));
    let mut rows: Vec<(String, Vec<String>)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut cells: Vec<String> = t.cells[i].iter().map(cell_text).collect();
            cells.push(cell_text(&t.row_totals[i]));
            (n.clone(), cells)
        })
        .collect();
    let mut totals: Vec<String> = t.col_totals.iter().map(cell_text).collect();
    totals.push(cell_text(&t.total));
    rows.push((tr(l, "report-total"), totals));
    TableView { title: tr(l, title), head, rows }
}

#[derive(Template)]
#[template(path = "cases/templates/case_report.html")]
struct ReportPage {
    c: Chrome,
    coalition: bool,
    /// Says which calendar year the coalition counts cover.
    year_note: String,
    from: String,
    until: String,
    tables: Vec<TableView>,
    csv: String,
}

async fn report_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require(Permission::ReadCases)?.clone();
    let q = report_query(&q, false)?;
    let r = compute_report(&st, &user, &q).await?;
    let l = ctx.locale;
    if q.csv {
        return Ok(report_csv(l, &r));
    }
    let (coalition, from, until) = (q.coalition, q.from, q.until);
    let scope = if coalition { "coalition" } else { "org" };
    render(
        StatusCode::OK,
        &ReportPage {
            c: Chrome::new(&ctx, "/cases/report"),
            coalition,
            year_note: tr_args(l, "report-coalition-year", &[("year", from.year().to_string())]),
            from: from.to_string(),
            until: until.to_string(),
            tables: vec![
                table_view(l, "report-by-facility", &r.facilities, &r.by_facility),
                table_view(l, "report-by-month", &r.months, &r.by_month),
            ],
            csv: if coalition {
                format!("/cases/report?scope=coalition&year={}&format=csv", from.year())
            } else {
                format!("/cases/report?scope={scope}&from={from}&until={until}&format=csv")
            },
        },
    )
}

// ---- Pages --------------------------------------------------------------------

async fn case_form(
    st: &AppState,
    l: Locale,
    org_id: i64,
    values: &HashMap<String, String>,
    errors: &ValidationErrors,
) -> Result<Vec<FieldView>, WebError> {
    let field = |name: &'static str, input: &'static str, required: bool| {
        FieldView::new(
            l,
            name,
            &format!("field-{name}"),
            input,
            values.get(name).cloned().unwrap_or_default(),
            required,
            errors,
        )
    };
    let sel = |name: &str| values.get(name).map(String::as_str);
    let mut facility = field("facility_id", "select", false);
    facility.options = st
        .store
        .list_facilities()
        .await?
        .into_iter()
        .map(|f| OptionView {
            selected: sel("facility_id") == Some(&f.id.to_string()),
            value: f.id.to_string(),
            label: f.draft.name,
        })
        .collect();
    let mut lawyer = field("lawyer_user_id", "select", false);
    lawyer.options = st
        .store
        .list_users(Some(org_id))
        .await?
        .into_iter()
        .filter(|u| !u.disabled && vigia_domain::account::allows(u.role, Permission::EditCases))
        .map(|u| OptionView {
            selected: sel("lawyer_user_id") == Some(&u.id.to_string()),
            value: u.id.to_string(),
            label: u.display_name,
        })
        .collect();
    let mut sex = field("sex", "select", false);
    sex.options = options(l, "sex", Sex::ALL, Sex::as_str, sel("sex"));
    let mut age = field("age_group", "select", false);
    age.options = options(l, "age", AgeGroup::ALL, AgeGroup::as_str, sel("age_group"));
    let mut minor = field("minor", "checkboxes", false);
    minor.options = vec![OptionView {
        value: "true".into(),
        label: tr(l, "field-minor-yes"),
        selected: sel("minor") == Some("true"),
    }];
    let chosen: Vec<&str> = sel("vulnerabilities").map(|r| r.split(',').map(str::trim).collect()).unwrap_or_default();
    let mut vulns = field("vulnerabilities", "checkboxes", false);
    vulns.options = Vulnerability::ALL
        .iter()
        .map(|v| OptionView {
            value: v.as_str().into(),
            label: label(l, "vuln", v.as_str()),
            selected: chosen.contains(&v.as_str()),
        })
        .collect();
    let mut status = field("status", "select", false);
    status.options = options(l, "case-status", CaseStatus::ALL, CaseStatus::as_str, sel("status"));
    // Countries by name; a code the table does not know stays listed as it was.
    let mut nationality = field("nationality", "select", false);
    let current = sel("nationality").map(|n| n.trim().to_ascii_uppercase()).filter(|n| !n.is_empty());
    nationality.options = vigia_domain::names::countries(l)
        .into_iter()
        .map(|(code, name)| OptionView {
            value: code.into(),
            label: name.into(),
            selected: current.as_deref() == Some(code),
        })
        .collect();
    if let Some(code) = current.filter(|c| vigia_domain::names::country(c, l).is_none()) {
        nationality.options.insert(0, OptionView { value: code.clone(), label: code, selected: true });
    }
    Ok(vec![
        field("reference", "text", true),
        field("full_name", "text", true),
        field("birth_date", "date", false),
        field("identity_documents", "textarea", false),
        field("contact", "textarea", false),
        field("family_links", "textarea", false),
        nationality,
        sex,
        age,
        minor,
        field("languages", "text", false),
        vulns,
        facility,
        lawyer,
        status,
    ])
}

fn values_of(c: &Case, s: &SealedCase) -> HashMap<String, String> {
    let f = &c.fields;
    let p = &s.person;
    let mut m = HashMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    put("reference", Some(f.reference.clone()));
    put("full_name", Some(p.full_name.clone()));
    put("birth_date", p.birth_date.clone());
    put("identity_documents", p.identity_documents.clone());
    put("contact", p.contact.clone());
    put("family_links", p.family_links.clone());
    put("nationality", f.nationality.clone());
    put("sex", Some(f.sex.as_str().into()));
    put("age_group", Some(f.age_group.as_str().into()));
    put("minor", f.minor.then(|| "true".into()));
    put("languages", Some(f.languages.join(", ")));
    put("vulnerabilities", Some(f.vulnerabilities.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(",")));
    put("facility_id", f.facility_id.map(|x| x.to_string()));
    put("lawyer_user_id", f.lawyer_user_id.map(|x| x.to_string()));
    put("status", Some(f.status.as_str().into()));
    m
}

async fn form_page(
    st: &AppState,
    ctx: &Ctx,
    user: &User,
    (title, action, version): (String, String, Option<i64>),
    values: &HashMap<String, String>,
    errs: &ValidationErrors,
    status: StatusCode,
) -> PageResult {
    let l = ctx.locale;
    let summary = match status {
        StatusCode::CONFLICT => Some(tr(l, "form-conflict")),
        s if s.is_success() => None,
        _ => Some(tr_args(l, "form-errors", &[("count", errs.0.len().to_string())])),
    };
    let form = FormView {
        title,
        action: action.clone(),
        submit: tr(l, "facility-save"),
        version,
        summary,
        fields: case_form(st, l, user.org_id, values, errs).await?,
    };
    let mut resp = render(StatusCode::OK, &FormPage { c: Chrome::new(ctx, &action), form })?;
    *resp.status_mut() = status;
    Ok(resp)
}

async fn new_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let user = ctx.require(Permission::EditCases)?.clone();
    let mut values = HashMap::new();
    values.insert("status".to_string(), "open".to_string());
    if user.role == vigia_domain::account::Role::Lawyer {
        values.insert("lawyer_user_id".to_string(), user.id.to_string());
    }
    let target = (tr(ctx.locale, "case-new-title"), "/cases".to_string(), None);
    form_page(&st, &ctx, &user, target, &values, &ValidationErrors::new(), StatusCode::OK).await
}

async fn create_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require(Permission::EditCases)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let pairs = form.joined("vulnerabilities");
    let result = match draft(&RawInput::from_pairs(pairs.clone())) {
        Ok(d) => st.store.create_case(&ctx.actor(), user.org_id, d).await.map_err(WebError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/cases/{}?created=1", c.id)).into_response()),
        Err(WebError::Invalid(errs)) => {
            let target = (tr(ctx.locale, "case-new-title"), "/cases".to_string(), None);
            form_page(&st, &ctx, &user, target, &pairs.into_iter().collect(), &errs, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> PageResult {
    let (user, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    if !ctx.deliberate_read(&headers) {
        // The form shows sealed data: from another site, go to the case page first.
        return Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response());
    }
    // The form shows the sealed fields: opening them is a read, and is recorded.
    let s = st.store.read_case_sealed(&ctx.actor(), c.org_id, c.id).await?;
    let target = (
        tr_args(ctx.locale, "case-edit-title", &[("case", name_for(&st, &ctx, &c)?)]),
        format!("/cases/{}/edit", c.id),
        Some(c.version),
    );
    form_page(&st, &ctx, &user, target, &values_of(&c, &s), &ValidationErrors::new(), StatusCode::OK).await
}

async fn update_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let (user, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let pairs = form.joined("vulnerabilities");
    let result = match draft(&RawInput::from_pairs(pairs.clone())) {
        Ok(d) => st.store.update_case(&ctx.actor(), c.org_id, c.id, version, d).await.map_err(WebError::from),
        Err(e) => Err(e),
    };
    let target = (
        tr_args(ctx.locale, "case-edit-title", &[("case", name_for(&st, &ctx, &c)?)]),
        format!("/cases/{}/edit", c.id),
        Some(c.version),
    );
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/cases/{}?saved=1", c.id)).into_response()),
        Err(WebError::Conflict(_)) => {
            form_page(
                &st,
                &ctx,
                &user,
                target,
                &pairs.into_iter().collect(),
                &ValidationErrors::new(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(WebError::Invalid(errs)) => {
            form_page(&st, &ctx, &user, target, &pairs.into_iter().collect(), &errs, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct EventRow {
    pub id: i64,
    pub when: String,
    pub kind: String,
    pub detail: String,
    pub note: Option<String>,
    pub sealed_note: bool,
    pub voided: Option<String>,
}

pub struct ViolationRow {
    pub kind: String,
    pub when: String,
    pub basis: String,
    /// For a possible refoulement: where the claim stood, and the pressure recorded.
    pub detail: Vec<String>,
}

pub struct DeadlineRow {
    /// "Why this date?": the clock page, counting the same days on the same calendar.
    pub why: Option<String>,
    /// Days the count crosses that the text leaves open, with why.
    pub open: Vec<String>,
    pub rule: String,
    pub basis: String,
    pub start: String,
    pub due: String,
    pub status_code: &'static str,
    pub status: String,
    pub left: String,
}

#[derive(Template)]
#[template(path = "cases/templates/case_show.html")]
struct ShowPage {
    c: Chrome,
    id: i64,
    title: String,
    version_label: String,
    can_edit: bool,
    can_reveal: bool,
    person: Option<Vec<(String, String)>>,
    details: Vec<(String, String)>,
    deadlines: Vec<DeadlineRow>,
    violations: Vec<ViolationRow>,
    events: Vec<EventRow>,
    event_form: Vec<FieldView>,
    event_summary: Option<String>,
    today: String,
    documents: Option<Vec<crate::kit::FileRow>>,
    file_error: Option<String>,
}

/// What the case page shows besides the case: the event form's state, a message, an
/// upload error.
struct ShowState<'a> {
    reveal: bool,
    event_values: &'a HashMap<String, String>,
    event_errors: &'a ValidationErrors,
    flash: Option<String>,
    file_error: Option<String>,
}

async fn show(st: &AppState, ctx: &Ctx, c: Case, s: ShowState<'_>) -> PageResult {
    let ShowState { reveal, event_values, event_errors, flash, file_error } = s;
    let l = ctx.locale;
    let documents = if ctx.can(Permission::ReadCaseSealed) {
        Some(crate::kit::file_rows(st.store.case_documents(c.org_id, c.id).await?))
    } else {
        None
    };
    let sealed = if reveal && ctx.can(Permission::ReadCaseSealed) {
        Some(st.store.read_case_sealed(&ctx.actor(), c.org_id, c.id).await?)
    } else {
        None
    };
    let cals = calendars(st).await?;
    let today = today();
    let events = st.store.case_events(c.org_id, c.id).await?;
    let cf = CaseFacts { case: c.clone(), facts: events.iter().filter(|e| !e.is_voided()).map(Into::into).collect() };
    let a = assess(&cf, &cals, today)?;
    let facilities: HashMap<i64, String> =
        st.store.list_facilities().await?.into_iter().map(|f| (f.id, f.draft.name)).collect();
    let none = tr(l, "facility-unknown");
    let f = &c.fields;
    let lawyer = match f.lawyer_user_id {
        Some(id) => st.store.user(id).await?.map(|u| u.display_name),
        None => None,
    };
    let details = vec![
        (
            tr(l, "field-nationality"),
            f.nationality
                .as_deref()
                .map(|n| vigia_domain::names::country_or_code(n, l))
                .unwrap_or_else(|| none.clone()),
        ),
        (tr(l, "field-sex"), label(l, "sex", f.sex.as_str())),
        (tr(l, "field-age_group"), label(l, "age", f.age_group.as_str())),
        (tr(l, "field-minor"), tr(l, if f.minor { "yes" } else { "no" })),
        (
            tr(l, "field-languages"),
            if f.languages.is_empty() {
                none.clone()
            } else {
                f.languages.iter().map(|c| vigia_domain::names::language_or_code(c, l)).collect::<Vec<_>>().join(", ")
            },
        ),
        (
            tr(l, "field-vulnerabilities"),
            if f.vulnerabilities.is_empty() {
                none.clone()
            } else {
                f.vulnerabilities.iter().map(|v| label(l, "vuln", v.as_str())).collect::<Vec<_>>().join(", ")
            },
        ),
        (
            tr(l, "field-facility_id"),
            f.facility_id.and_then(|id| facilities.get(&id).cloned()).unwrap_or_else(|| none.clone()),
        ),
        (tr(l, "field-lawyer_user_id"), lawyer.unwrap_or_else(|| none.clone())),
        (tr(l, "field-status"), label(l, "case-status", f.status.as_str())),
    ];
    let person = sealed.as_ref().map(|s| {
        let p = &s.person;
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| none.clone());
        vec![
            (tr(l, "field-full_name"), p.full_name.clone()),
            (tr(l, "field-birth_date"), opt(&p.birth_date)),
            (tr(l, "field-identity_documents"), opt(&p.identity_documents)),
            (tr(l, "field-contact"), opt(&p.contact)),
            (tr(l, "field-family_links"), opt(&p.family_links)),
        ]
    });
    let deadlines = a
        .deadlines
        .iter()
        .map(|d| {
            let left =
                if d.status.is_running() { deadline::working_days_left(d, &cals, today).ok().flatten() } else { None };
            let (why, open) = match (d.rule.calendar(), d.due) {
                (Some(name), Some(due)) => (
                    // A date, a number and a shipped calendar's name: nothing to escape but the `&`.
                    Some(format!("/clock?from={}&amp;working_days={}&amp;calendar={name}", d.start, d.allowed)),
                    cals.get(name)
                        .and_then(|c| c.open_between(d.start, due, l))
                        .unwrap_or_default()
                        .into_iter()
                        .flat_map(|(day, why)| why.into_iter().map(move |r| format!("{day}: {}", r.describe())))
                        .collect(),
                ),
                _ => (None, Vec::new()),
            };
            DeadlineRow {
                why,
                open,
                rule: label(l, "rule", d.rule.as_str()),
                basis: d.rule.basis(l).to_string(),
                start: d.start.to_string(),
                due: match (d.due, d.due_time) {
                    (Some(x), Some(t)) => format!("{x} {}", t.strftime("%H:%M")),
                    (Some(x), None) => x.to_string(),
                    _ if d.status == Status::AnyTime => tr(l, "deadline-any-time"),
                    _ => tr(l, "deadline-no-fixed-end"),
                },
                status_code: d.status.as_str(),
                status: label(l, "deadline", d.status.as_str()),
                left: left_words(l, left, d.rule.calendar().is_some()),
            }
        })
        .collect();
    let violations = a
        .violations
        .iter()
        .map(|v| {
            let state = tr(l, if v.ongoing { "violation-ongoing" } else { "violation-ended" });
            let mut detail = Vec::new();
            let mut when = format!("{} · {state}", tr_args(l, "violation-since", &[("date", v.since.to_string())]));
            if let Some(c) = v.claim {
                // A return happened on a day: it neither goes on nor ends.
                when = tr_args(l, "violation-on", &[("date", v.since.to_string())]);
                detail.push(format!("«{}»", v.kind.text().quote.unwrap_or_default()));
                detail.push(label(l, "claim", c.as_str()));
                let pressure: Vec<String> = pressure_events(&cf).iter().map(|f| f.on.to_string()).collect();
                detail.push(if pressure.is_empty() {
                    tr(l, "refoulement-no-pressure")
                } else {
                    tr_args(
                        l,
                        "refoulement-pressure",
                        &[("count", pressure.len().to_string()), ("dates", pressure.join(", "))],
                    )
                });
            }
            ViolationRow { kind: label(l, "violation", v.kind.as_str()), when, basis: v.basis(l).to_string(), detail }
        })
        .collect();
    let event_rows = events
        .iter()
        .map(|e| {
            let d = &e.draft;
            let mut detail = Vec::new();
            if let Some(g) = d.ground {
                detail.push(label(l, "ground", g.as_str()));
            }
            if let Some(x) = d.decision {
                detail.push(label(l, "decision", x.as_str()));
            }
            if let Some(fid) = d.facility_id {
                detail.push(facilities.get(&fid).cloned().unwrap_or_default());
            }
            EventRow {
                id: e.id,
                when: match d.time {
                    Some(t) => format!("{} {}", d.on, t.strftime("%H:%M")),
                    None => d.on.to_string(),
                },
                kind: label(l, "event", d.kind.as_str()),
                detail: detail.join(" · "),
                note: sealed.as_ref().and_then(|s| s.notes.get(&e.id).cloned()),
                sealed_note: e.has_note,
                voided: e.void_reason.as_ref().map(|r| {
                    if ctx.can(Permission::ReadCaseSealed) {
                        r.clone()
                    } else {
                        tr(l, "case-void-reason-hidden")
                    }
                }),
            }
        })
        .collect();
    let summary =
        (!event_errors.is_empty()).then(|| tr_args(l, "form-errors", &[("count", event_errors.0.len().to_string())]));
    let page = ShowPage {
        c: Chrome::new(ctx, &format!("/cases/{}", c.id)).flash(flash),
        id: c.id,
        title: tr_args(l, "case-title", &[("case", name_for(st, ctx, &c)?)]),
        version_label: tr_args(l, "facility-version", &[("version", c.version.to_string())]),
        can_edit: ctx.can(Permission::EditCases),
        can_reveal: ctx.can(Permission::ReadCaseSealed) && sealed.is_none(),
        person,
        details,
        deadlines,
        violations,
        events: event_rows,
        event_form: event_form(st, l, event_values, event_errors).await?,
        event_summary: summary,
        today: today.to_string(),
        documents,
        file_error,
    };
    let status = if event_errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, &page)
}

async fn event_form(
    st: &AppState,
    l: Locale,
    values: &HashMap<String, String>,
    errors: &ValidationErrors,
) -> Result<Vec<FieldView>, WebError> {
    let field = |name: &'static str, input: &'static str, required: bool| {
        FieldView::new(
            l,
            name,
            &format!("field-event-{name}"),
            input,
            values.get(name).cloned().unwrap_or_default(),
            required,
            errors,
        )
    };
    let sel = |name: &str| values.get(name).map(String::as_str);
    let mut kind = field("kind", "select", true);
    kind.options = options(l, "event", EventKind::ALL, EventKind::as_str, sel("kind"));
    let mut ground = field("ground", "select", false);
    ground.options = options(l, "ground", ExtensionGround::ALL, ExtensionGround::as_str, sel("ground"));
    let mut decision = field("decision", "select", false);
    decision.options = options(l, "decision", DecisionOutcome::ALL, DecisionOutcome::as_str, sel("decision"));
    let mut facility = field("facility_id", "select", false);
    facility.options = st
        .store
        .list_facilities()
        .await?
        .into_iter()
        .map(|f| OptionView {
            selected: sel("facility_id") == Some(&f.id.to_string()),
            value: f.id.to_string(),
            label: f.draft.name,
        })
        .collect();
    Ok(vec![
        kind,
        field("on", "date", true),
        field("time", "time", false),
        facility,
        ground,
        decision,
        field("note", "textarea", false),
    ])
}

async fn show_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::ReadCases).await?;
    let l = ctx.locale;
    let flash = if q.contains_key("created") {
        Some(tr(l, "case-created"))
    } else if q.contains_key("saved") {
        Some(tr_args(l, "case-saved", &[("version", c.version.to_string())]))
    } else if q.contains_key("event") {
        Some(tr(l, "case-event-recorded"))
    } else if q.contains_key("voided") {
        Some(tr(l, "case-event-voided"))
    } else if q.contains_key("attached") {
        Some(tr(l, "case-document-attached"))
    } else {
        None
    };
    let mut values = HashMap::new();
    values.insert("on".to_string(), today().to_string());
    let state = ShowState {
        // A link from another site opens nothing: the page shows its button instead.
        reveal: q.get("reveal").is_some_and(|v| v == "1") && ctx.deliberate_read(&headers),
        event_values: &values,
        event_errors: &ValidationErrors::new(),
        flash,
        file_error: crate::kit::file_error(l, &q),
    };
    show(&st, &ctx, c, state).await
}

async fn event_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let pairs = form.joined("vulnerabilities");
    let result = match case::validate_event(&RawInput::from_pairs(pairs.clone()), today()) {
        Ok(d) => st.store.add_case_event(&ctx.actor(), c.org_id, c.id, d).await.map_err(WebError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{}?event=1", c.id)).into_response()),
        Err(WebError::Invalid(errs)) => {
            let values = pairs.into_iter().collect();
            let state =
                ShowState { reveal: false, event_values: &values, event_errors: &errs, flash: None, file_error: None };
            show(&st, &ctx, c, state).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn void_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let (event, reason) = void_input(&RawInput::from_pairs(form.joined("vulnerabilities")))?;
    st.store.void_case_event(&ctx.actor(), c.org_id, c.id, event, &reason).await?;
    Ok(Redirect::to(&format!("/cases/{}?voided=1", c.id)).into_response())
}

async fn history_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let (user, c) = owned(&st, &ctx, &id, Permission::ReadCaseSealed).await?;
    let mut entries = st.store.history(RecordType::Case, c.id, Some(user.org_id)).await?;
    entries.extend(st.store.history(RecordType::CaseRead, c.id, Some(user.org_id)).await?);
    for e in st.store.case_events(c.org_id, c.id).await? {
        entries.extend(st.store.history(RecordType::CaseEvent, e.id, Some(user.org_id)).await?);
    }
    entries.sort_by_key(|e| e.seq);
    let page = HistoryPage {
        c: Chrome::new(&ctx, &format!("/cases/{}/history", c.id)),
        title: tr_args(ctx.locale, "case-title", &[("case", name_for(&st, &ctx, &c)?)]),
        versions: crate::kit::version_views(&st, ctx.locale, &crate::kit::with_text_opened(&st, &entries).await?)
            .await?,
        withheld: None,
    };
    render(StatusCode::OK, &page)
}

pub struct CaseRow {
    pub id: i64,
    pub name: String,
    pub nationality: String,
    pub age: String,
    pub minor: bool,
    pub status: String,
    pub next: String,
    pub flags: Vec<String>,
}

#[derive(Template)]
#[template(path = "cases/templates/cases.html")]
struct ListPage {
    c: Chrome,
    paging: crate::kit::listing::Paging,
    cursor_error: Option<String>,
    can_edit: bool,
    all: bool,
    rows: Vec<CaseRow>,
}

/// The organization's cases as the list shows them (open ones, or all), newest first,
/// each with its sort key (its number).
async fn case_rows(st: &AppState, ctx: &Ctx, org_id: i64, all: bool) -> Result<Vec<((i64, i64), CaseRow)>, WebError> {
    let l = ctx.locale;
    let cals = calendars(st).await?;
    let today = today();
    let mut rows = Vec::new();
    for cf in &st.store.cases_with_facts(Some(&[org_id]), !all).await? {
        let a = assess(cf, &cals, today)?;
        // The next deadline still to come, as Hoy lists it; one already passed is a flag.
        let next = a
            .deadlines
            .iter()
            .filter(|d| d.status == Status::Pending && d.due.is_some())
            .min_by_key(|d| d.due)
            .map(|d| {
                let left = deadline::working_days_left(d, &cals, today).ok().flatten();
                format!(
                    "{} · {} ({})",
                    label(l, "rule", d.rule.as_str()),
                    d.due.map(|x| x.to_string()).unwrap_or_default(),
                    left_words(l, left, d.rule.calendar().is_some())
                )
            })
            .unwrap_or_default();
        let mut flags: Vec<String> = a
            .deadlines
            .iter()
            .filter(|d| d.status == Status::Overdue)
            .map(|d| {
                let left = deadline::working_days_left(d, &cals, today).ok().flatten();
                format!("{}: {}", label(l, "rule", d.rule.as_str()), left_words(l, left, d.rule.calendar().is_some()))
            })
            .collect();
        flags.extend(
            a.violations
                .iter()
                .filter(|v| v.ongoing && v.kind != deadline::ViolationKind::HeldPast36Hours)
                .map(|v| label(l, "violation", v.kind.as_str())),
        );
        flags.dedup();
        let f = &cf.case.fields;
        rows.push((
            (cf.case.id, cf.case.id),
            CaseRow {
                id: cf.case.id,
                name: name_for(st, ctx, &cf.case)?,
                nationality: f
                    .nationality
                    .as_deref()
                    .map(|n| vigia_domain::names::country_or_code(n, l))
                    .unwrap_or_default(),
                age: label(l, "age", f.age_group.as_str()),
                minor: f.minor,
                status: label(l, "case-status", f.status.as_str()),
                next,
                flags,
            },
        ));
    }
    Ok(rows)
}

/// Days left on a running deadline in words: "quedan 3 días hábiles", "vence hoy",
/// "vencido hace 5 días hábiles" (never "quedan -5").
fn left_words(l: Locale, left: Option<i64>, working: bool) -> String {
    let Some(n) = left else { return String::new() };
    let days = [("days", n.abs().to_string())];
    match (n.cmp(&0), working) {
        (std::cmp::Ordering::Less, true) => tr_args(l, "today-overdue-by", &days),
        (std::cmp::Ordering::Less, false) => tr_args(l, "deadline-overdue-by-days", &days),
        (std::cmp::Ordering::Equal, _) => tr(l, "deadline-due-today"),
        (std::cmp::Ordering::Greater, true) => tr_args(l, "deadline-working-days-left", &days),
        (std::cmp::Ordering::Greater, false) => tr_args(l, "deadline-days-left", &days),
    }
}

async fn list_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require(Permission::ReadCases)?.clone();
    let l = ctx.locale;
    let all = q.get("status").is_some_and(|s| s == "all");
    let rows = case_rows(&st, &ctx, user.org_id, all).await?;
    let listed = crate::kit::listing::list_page_of(l, ("/cases", "/cases.csv"), &q, "cases-count", rows, |(k, _)| *k);
    let status = listed.status();
    let page = ListPage {
        c: Chrome::new(&ctx, "/cases"),
        paging: listed.paging,
        cursor_error: listed.cursor_error,
        can_edit: ctx.can(Permission::EditCases),
        all,
        rows: listed.rows.into_iter().map(|(_, r)| r).collect(),
    };
    render(status, &page)
}

/// The list as CSV: the same columns, the same names (pseudonymous where the role may not
/// see the reference), never the sealed personal data.
async fn csv_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require(Permission::ReadCases)?.clone();
    let l = ctx.locale;
    let all = q.get("status").is_some_and(|s| s == "all");
    let mut rows = case_rows(&st, &ctx, user.org_id, all).await?;
    rows.sort_by_key(|(k, _)| std::cmp::Reverse(*k));
    let head = [
        "field-id",
        "case-name",
        "field-nationality",
        "field-age_group",
        "case-minor",
        "field-status",
        "case-next-deadline",
        "case-flags",
    ]
    .iter()
    .map(|k| tr(l, k))
    .collect();
    let yes = tr(l, "answer-yes");
    let rows = rows
        .into_iter()
        .map(|(_, r)| {
            vec![
                r.id.to_string(),
                r.name,
                r.nationality,
                r.age,
                if r.minor { yes.clone() } else { String::new() },
                r.status,
                r.next,
                r.flags.join("; "),
            ]
        })
        .collect();
    Ok(crate::kit::listing::csv_of("vigia-cases.csv", head, rows))
}
