//! Server-rendered pages. Core forms work without JavaScript.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use vigia_domain::account::{Locale, Permission};
use vigia_domain::facility::{self, Facility, FacilityKind};
use vigia_domain::input::RawInput;
use vigia_domain::{geo, note, RecordType, ValidationErrors};

use crate::auth::{self, set_cookie, Ctx, Login, Via, LANG_COOKIE};
use crate::error::WebError;
use crate::i18n::{field_error, tr, tr_args};
use crate::routes::Routes;
use crate::AppState;

use crate::kit::*;

pub fn routes() -> Routes {
    Routes::default()
        .get("/healthz", healthz)
        .get("/static/app.css", css)
        .get("/login", login_page)
        .post("/login", login_submit)
        .post("/logout", logout)
        .post("/lang", set_lang)
        .get("/facilities", facilities)
        .get("/facilities.csv", facilities_csv)
        .post("/facilities", facility_create)
        .get("/facilities/new", facility_new)
        .get("/facilities/import", import_page)
        .upload("/facilities/import", import_submit, crate::CSV_ROUTE_LIMIT)
        .get("/facilities/{id}", facility_show)
        .get("/facilities/{id}/edit", facility_edit)
        .post("/facilities/{id}/edit", facility_update)
        .get("/facilities/{id}/history", facility_history)
        .post("/facilities/{id}/notes", note_create)
        .get("/audit", audit)
        .get("/audit.csv", audit_csv)
        .get("/clock", clock_page)
        .merge(crate::legal::routes())
        .merge(crate::analysis::routes())
        .merge(crate::evidence::routes())
        .merge(crate::alerts::routes())
        .merge(crate::calendars::routes())
        .merge(crate::access::page_routes())
        .merge(crate::cases::routes())
        .merge(crate::account::routes())
        .merge(crate::email::routes())
        .merge(crate::overview::routes())
        .merge(crate::statements::routes())
        .merge(crate::timeline::routes())
        .merge(crate::visits::routes())
        .get("/admin/users", users_page)
        .post("/admin/users", user_create)
        .post("/admin/users/{id}/disable", user_disable)
        .post("/admin/users/{id}/enable", user_enable)
}

async fn healthz(State(st): State<AppState>) -> Response {
    match st.store.ping().await {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"unavailable"}"#,
        )
            .into_response(),
    }
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/app.css"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    error: Option<String>,
    email: String,
    next: String,
}

async fn login_page(Extension(ctx): Extension<Ctx>, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let flash = if q.contains_key("reset") {
        Some(tr(ctx.locale, "reset-done"))
    } else {
        q.contains_key("bye").then(|| tr(ctx.locale, "logged-out"))
    };
    let page = LoginPage {
        c: Chrome::new(&ctx, "/login").flash(flash),
        error: None,
        email: String::new(),
        next: safe_next(q.get("next").map(String::as_str)),
    };
    render(StatusCode::OK, &page)
}

async fn login_submit(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let email = form.get("email").unwrap_or("").to_string();
    let password = form.get("password").unwrap_or("");
    let next = safe_next(form.get("next"));
    let address = ctx.address;
    let (status, error) = match auth::login(&st, &email, password, address, &next).await? {
        Login::Ok { session_token, user } => {
            let mut resp =
                Redirect::to(if next == "/" { crate::overview::landing(&user) } else { &next }).into_response();
            let secure = st.config.secure_cookies;
            let c = set_cookie(secure, auth::session_cookie_name(secure), &session_token, None, true);
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            return Ok(resp);
        }
        Login::SecondFactor { challenge_token } => {
            let mut resp = Redirect::to("/login/totp").into_response();
            let max_age = auth::CHALLENGE_AGE.as_secs() as i64;
            let c = set_cookie(st.config.secure_cookies, auth::CHALLENGE_COOKIE, &challenge_token, Some(max_age), true);
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            return Ok(resp);
        }
        Login::Failed => (StatusCode::UNAUTHORIZED, tr(ctx.locale, "login-failed")),
        Login::Locked { minutes } => {
            (StatusCode::TOO_MANY_REQUESTS, tr_args(ctx.locale, "login-locked", &[("minutes", minutes.to_string())]))
        }
    };
    let page = LoginPage { c: Chrome::new(&ctx, "/login"), error: Some(error), email, next };
    render(status, &page)
}

async fn logout(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    FormBody::checked(&headers, &body, &ctx)?;
    if let Via::Session { token_hash } = &ctx.via {
        st.store.delete_session(token_hash).await?;
    }
    let secure = st.config.secure_cookies;
    let mut resp = Redirect::to("/login?bye=1").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(secure, auth::session_cookie_name(secure), "", Some(0), true)) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

async fn set_lang(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let locale = form.get("locale").and_then(Locale::parse).ok_or_else(|| WebError::BadRequest("locale".into()))?;
    if let Some(u) = &ctx.user {
        st.store.set_user_locale(&ctx.actor(), u.id, locale).await?;
    }
    let mut resp = Redirect::to(&safe_next(form.get("next"))).into_response();
    let c = set_cookie(st.config.secure_cookies, LANG_COOKIE, locale.as_str(), Some(365 * 24 * 3600), false);
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

struct FacilityRow {
    id: i64,
    name: String,
    kind: String,
    state: String,
    municipality: String,
    capacity: String,
    status: String,
    /// The latest attempt's outcome code (for its colour) and, in words, what and when.
    access: (&'static str, String),
}

fn kind_label(l: Locale, k: FacilityKind) -> String {
    tr(l, &format!("kind-{}", k.as_str()))
}

fn status_label(l: Locale, f: &Facility) -> String {
    match &f.draft.closed_on {
        None => tr(l, "facility-open"),
        Some(d) => tr_args(l, "facility-closed", &[("date", d.clone())]),
    }
}

#[derive(Template)]
#[template(path = "facilities.html")]
struct FacilitiesPage {
    c: Chrome,
    rows: Vec<FacilityRow>,
    count: String,
    q: String,
    csv: String,
    can_edit: bool,
}

/// Every facility matching the search (name, municipality, state; accents and case
/// ignored), in name order, with the latest access attempt the viewer may see.
async fn facility_rows(st: &AppState, ctx: &Ctx, q: &str) -> Result<Vec<FacilityRow>, WebError> {
    let l = ctx.locale;
    let latest: HashMap<i64, vigia_domain::access::Attempt> = match &ctx.user {
        Some(u) => st.store.latest_attempts(u.org_id, 1).await?.into_iter().map(|a| (a.draft.facility_id, a)).collect(),
        None => HashMap::new(),
    };
    let unknown = tr(l, "facility-unknown");
    let mut list = st.store.list_facilities().await?;
    list.sort_by(|a, b| a.draft.name.cmp(&b.draft.name).then(a.id.cmp(&b.id)));
    Ok(list
        .iter()
        .filter(|f| {
            let hay = format!(
                "{} {} {}",
                f.draft.name,
                f.draft.municipality.as_deref().unwrap_or(""),
                f.state().map(|s| s.name).unwrap_or("")
            );
            vigia_domain::statement::matches(q, &hay)
        })
        .map(|f| FacilityRow {
            id: f.id,
            name: f.draft.name.clone(),
            kind: kind_label(l, f.draft.kind),
            state: f.state().map(|s| s.name.to_string()).unwrap_or_default(),
            municipality: f.draft.municipality.clone().unwrap_or_default(),
            capacity: f.draft.capacity.map(|c| c.to_string()).unwrap_or_else(|| unknown.clone()),
            status: status_label(l, f),
            access: latest
                .get(&f.id)
                .map(|a| {
                    (
                        a.draft.outcome.as_str(),
                        tr_args(
                            l,
                            "facilities-last-attempt",
                            &[
                                ("outcome", crate::kit::label(l, "outcome", a.draft.outcome.as_str())),
                                ("date", {
                                    let when = vigia_domain::format_local(a.draft.attempted_at, f.time_zone());
                                    when.get(..10).unwrap_or(&when).to_string()
                                }),
                            ],
                        ),
                    )
                })
                .unwrap_or(("none", tr(l, "facilities-no-attempt"))),
        })
        .collect())
}

async fn facilities(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    ctx.require(Permission::ReadFacilities)?;
    let l = ctx.locale;
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let rows = facility_rows(&st, &ctx, &query).await?;
    let page = FacilitiesPage {
        c: Chrome::new(&ctx, "/facilities"),
        count: tr_args(l, "facilities-count", &[("count", rows.len().to_string())]),
        csv: if query.is_empty() {
            "/facilities.csv".into()
        } else {
            format!("/facilities.csv?{}", serde_urlencoded::to_string([("q", &query)]).unwrap_or_default())
        },
        rows,
        q: query,
        can_edit: ctx.can(Permission::EditFacilities),
    };
    render(StatusCode::OK, &page)
}

/// The facilities the search matches, as CSV, with the latest access attempt.
async fn facilities_csv(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    ctx.require(Permission::ReadFacilities)?;
    let l = ctx.locale;
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let head = [
        "field-id",
        "field-name",
        "field-kind",
        "field-state_code",
        "field-municipality",
        "field-capacity",
        "field-status",
        "facilities-access",
    ]
    .iter()
    .map(|k| tr(l, k))
    .collect();
    let rows = facility_rows(&st, &ctx, &query)
        .await?
        .into_iter()
        .map(|r| vec![r.id.to_string(), r.name, r.kind, r.state, r.municipality, r.capacity, r.status, r.access.1])
        .collect();
    Ok(crate::listing::csv_of("vigia-facilities.csv", head, rows))
}

/// The facility form, filled with `values` and showing `errors` next to their fields.
fn facility_form(l: Locale, values: &HashMap<String, String>, errors: &ValidationErrors) -> Vec<FieldView> {
    let field = |name: &'static str, input: &'static str, required: bool| {
        let value = values.get(name).cloned().unwrap_or_default();
        FieldView::new(l, name, &format!("field-{name}"), input, value, required, errors)
    };
    let selected = |name: &str, v: &str| values.get(name).map(String::as_str) == Some(v);
    let mut kind = field("kind", "select", true);
    kind.options = FacilityKind::ALL
        .iter()
        .map(|k| OptionView {
            value: k.as_str().into(),
            label: kind_label(l, *k),
            selected: selected("kind", k.as_str()),
        })
        .collect();
    let mut state = field("state_code", "select", true);
    state.options = geo::STATES
        .iter()
        .map(|s| OptionView {
            value: s.code.into(),
            label: format!("{} · {}", s.code, s.name),
            selected: selected("state_code", s.code),
        })
        .collect();
    vec![
        field("name", "text", true),
        kind,
        field("authority", "text", false),
        state,
        field("municipality", "text", false),
        field("latitude", "decimal", false),
        field("longitude", "decimal", false),
        field("capacity", "number", false),
        field("opened_on", "date", false),
        field("closed_on", "date", false),
        field("sources", "textarea", false),
    ]
    .into_iter()
    .map(|mut f| {
        if f.input == "decimal" {
            f.input = "text";
        }
        f
    })
    .collect()
}

fn facility_values(f: &Facility) -> HashMap<String, String> {
    let d = &f.draft;
    let mut m = HashMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    put("name", Some(d.name.clone()));
    put("kind", Some(d.kind.as_str().into()));
    put("authority", Some(d.authority.clone()));
    put("state_code", Some(d.state_code.clone()));
    put("municipality", d.municipality.clone());
    put("latitude", d.latitude.map(|v| v.to_string()));
    put("longitude", d.longitude.map(|v| v.to_string()));
    put("capacity", d.capacity.map(|v| v.to_string()));
    put("opened_on", d.opened_on.clone());
    put("closed_on", d.closed_on.clone());
    put("sources", d.sources.clone());
    m
}

fn form_page(ctx: &Ctx, path: &str, form: FormView, status: StatusCode) -> PageResult {
    render(status, &FormPage { c: Chrome::new(ctx, path), form })
}

async fn facility_new(Extension(ctx): Extension<Ctx>) -> PageResult {
    ctx.require(Permission::EditFacilities)?;
    let l = ctx.locale;
    let mut values = HashMap::new();
    values.insert("authority".to_string(), "INM".to_string());
    values.insert("kind".to_string(), FacilityKind::EstacionMigratoria.as_str().to_string());
    let form = FormView {
        title: tr(l, "facility-new-title"),
        action: "/facilities".into(),
        submit: tr(l, "facility-save"),
        version: None,
        summary: None,
        fields: facility_form(l, &values, &ValidationErrors::new()),
    };
    form_page(&ctx, "/facilities/new", form, StatusCode::OK)
}

fn invalid_form(
    ctx: &Ctx,
    title: String,
    action: String,
    version: Option<i64>,
    form: &FormBody,
    errs: &ValidationErrors,
    summary: String,
) -> PageResult {
    let l = ctx.locale;
    let values: HashMap<String, String> = form.pairs.iter().cloned().collect();
    let view = FormView {
        title,
        action: action.clone(),
        submit: tr(l, "facility-save"),
        version,
        summary: Some(summary),
        fields: facility_form(l, &values, errs),
    };
    form_page(ctx, &action, view, StatusCode::UNPROCESSABLE_ENTITY)
}

async fn facility_create(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require(Permission::EditFacilities)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let raw = RawInput::from_pairs(form.pairs.iter().cloned());
    match facility::validate(&raw) {
        Ok(draft) => {
            let f = st.store.create_facility(&ctx.actor(), draft).await?;
            Ok(Redirect::to(&format!("/facilities/{}?created=1", f.id)).into_response())
        }
        Err(errs) => {
            let l = ctx.locale;
            let summary = tr_args(l, "form-errors", &[("count", errs.0.len().to_string())]);
            invalid_form(&ctx, tr(l, "facility-new-title"), "/facilities".into(), None, &form, &errs, summary)
        }
    }
}

async fn load_facility(st: &AppState, id: &str) -> Result<Facility, WebError> {
    st.store.facility(parse_id(id)?).await?.ok_or(WebError::NotFound)
}

#[derive(Template)]
#[template(path = "facility.html")]
struct FacilityPage {
    c: Chrome,
    id: i64,
    name: String,
    version_label: String,
    details: Vec<(String, String)>,
    can_edit: bool,
    can_read_notes: bool,
    notes: Vec<(String, String)>,
    note_error: Option<String>,
    year: i16,
    /// Each month's name, grid and the days inside a flagged episode at this facility.
    months: Vec<(String, vigia_domain::suspension::MonthGrid, Vec<i8>)>,
    weekdays: Vec<String>,
    visits: crate::visits::FacilityVisits,
}

/// The facility's calendar of outcomes for a year: the attempts the viewer may see.
async fn outcome_calendar(
    st: &AppState,
    ctx: &Ctx,
    f: &Facility,
    year: Option<i16>,
) -> Result<(i16, Vec<(String, vigia_domain::suspension::MonthGrid, Vec<i8>)>), WebError> {
    let Some(user) = &ctx.user else { return Ok((year.unwrap_or(2020), Vec::new())) };
    let zone = f.time_zone();
    let local = |at: i64| Some(jiff::Timestamp::from_microsecond(at).ok()?.in_tz(zone).ok()?.date());
    let facility = vigia_domain::access::AttemptFilter { facility_id: Some(f.id), limit: 1, ..Default::default() };
    // Without a year asked for, the year of the latest attempt the viewer may see.
    let year = match year {
        Some(y) => y,
        None => match st.store.list_attempts(user.org_id, &facility).await?.first() {
            Some(a) => local(a.draft.attempted_at).map(|d| d.year()).unwrap_or(2020),
            None => jiff::Timestamp::now().in_tz(zone).map(|z| z.year()).unwrap_or(2020),
        },
    };
    // Only that year's times and outcomes, by the facility-and-time index: a busy
    // facility with tens of thousands of attempts over the years costs what one year holds.
    let start = |y: i16| Some(jiff::civil::Date::new(y, 1, 1).ok()?.in_tz(zone).ok()?.timestamp().as_microsecond());
    let (from, until) = (start(year).unwrap_or(i64::MIN), start(year.saturating_add(1)).unwrap_or(i64::MAX));
    let outcomes = st.store.attempt_outcomes(user.org_id, Some(f.id), from, until).await?;
    let days: Vec<(jiff::civil::Date, &'static str)> = outcomes
        .into_iter()
        .filter_map(|(at, outcome)| Some((local(at)?, crate::map::class_of(Some(outcome)))))
        .collect();
    // The days of the flagged episodes this facility is part of, shaded on the calendar.
    let settings = vigia_domain::suspension::Settings::default();
    let episodes = vigia_app::analysis::find_episodes(&st.store, &st.analyses, user.org_id, &settings, false).await?;
    let spans: Vec<(jiff::civil::Date, jiff::civil::Date)> =
        episodes.iter().filter(|e| e.facilities.contains(&f.id)).map(|e| (e.start, e.end)).collect();
    let months = vigia_domain::suspension::calendar_months(year, &days)
        .into_iter()
        .map(|(m, grid)| {
            let flagged = (1..=31i8)
                .filter(|d| {
                    jiff::civil::Date::new(year, m, *d)
                        .is_ok_and(|date| spans.iter().any(|(a, b)| *a <= date && date <= *b))
                })
                .collect();
            (tr(ctx.locale, &format!("month-{m}")), grid, flagged)
        })
        .collect();
    Ok((year, months))
}

async fn facility_page(
    st: &AppState,
    ctx: &Ctx,
    f: Facility,
    flash: Option<String>,
    note_error: Option<String>,
    year: Option<i16>,
) -> PageResult {
    let (year, months) = outcome_calendar(st, ctx, &f, year).await?;
    let visits = crate::visits::for_facility(st, ctx, &f).await?;
    let l = ctx.locale;
    let d = &f.draft;
    let unknown = tr(l, "facility-unknown");
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| unknown.clone());
    let details = vec![
        (tr(l, "field-kind"), kind_label(l, d.kind)),
        (tr(l, "field-authority"), d.authority.clone()),
        (tr(l, "field-state_code"), f.state().map(|s| format!("{} · {}", s.code, s.name)).unwrap_or_default()),
        (tr(l, "field-municipality"), opt(&d.municipality)),
        (
            format!("{} / {}", tr(l, "field-latitude"), tr(l, "field-longitude")),
            match (d.latitude, d.longitude) {
                (Some(a), Some(b)) => format!("{a}, {b}"),
                _ => unknown.clone(),
            },
        ),
        (tr(l, "field-capacity"), d.capacity.map(|c| c.to_string()).unwrap_or_else(|| unknown.clone())),
        (tr(l, "field-opened_on"), opt(&d.opened_on)),
        (tr(l, "field-status"), status_label(l, &f)),
        (tr(l, "field-sources"), opt(&d.sources)),
    ];
    let can_read_notes = ctx.can(Permission::ReadSealed);
    let notes = match (&ctx.user, can_read_notes) {
        (Some(u), true) => st
            .store
            .facility_notes(u.org_id, f.id)
            .await?
            .into_iter()
            .map(|n| (vigia_domain::format_local(n.created_at, f.time_zone()), n.body))
            .collect(),
        _ => Vec::new(),
    };
    let page = FacilityPage {
        c: Chrome::new(ctx, &format!("/facilities/{}", f.id)).flash(flash),
        id: f.id,
        name: d.name.clone(),
        version_label: tr_args(l, "facility-version", &[("version", f.version.to_string())]),
        details,
        can_edit: ctx.can(Permission::EditFacilities),
        can_read_notes,
        notes,
        note_error: note_error.clone(),
        year,
        months,
        weekdays: (1..=7).map(|d| tr(l, &format!("weekday-{d}"))).collect(),
        visits,
    };
    render(if note_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }, &page)
}

async fn facility_show(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    ctx.require(Permission::ReadFacilities)?;
    let f = load_facility(&st, &id).await?;
    let l = ctx.locale;
    let flash = if q.contains_key("created") {
        Some(tr(l, "facility-created"))
    } else if q.contains_key("saved") {
        Some(tr_args(l, "facility-saved", &[("version", f.version.to_string())]))
    } else if q.contains_key("noted") {
        Some(tr(l, "facility-note-saved"))
    } else {
        None
    };
    let year = q.get("year").and_then(|y| y.parse::<i16>().ok()).filter(|y| (2000..=2100).contains(y));
    facility_page(&st, &ctx, f, flash, None, year).await
}

async fn facility_edit(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    ctx.require(Permission::EditFacilities)?;
    let f = load_facility(&st, &id).await?;
    let l = ctx.locale;
    let form = FormView {
        title: tr_args(l, "facility-edit-title", &[("name", f.draft.name.clone())]),
        action: format!("/facilities/{}/edit", f.id),
        submit: tr(l, "facility-save"),
        version: Some(f.version),
        summary: None,
        fields: facility_form(l, &facility_values(&f), &ValidationErrors::new()),
    };
    form_page(&ctx, &format!("/facilities/{}/edit", f.id), form, StatusCode::OK)
}

async fn facility_update(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require(Permission::EditFacilities)?;
    let f = load_facility(&st, &id).await?;
    let mut form = FormBody::checked(&headers, &body, &ctx)?;
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    form.pairs.retain(|(k, _)| k != "version");
    let l = ctx.locale;
    let title = tr_args(l, "facility-edit-title", &[("name", f.draft.name.clone())]);
    let action = format!("/facilities/{}/edit", f.id);
    let raw = RawInput::from_pairs(form.pairs.iter().cloned());
    match facility::validate(&raw) {
        Ok(draft) => match st.store.update_facility(&ctx.actor(), f.id, version, draft).await {
            Ok(g) => Ok(Redirect::to(&format!("/facilities/{}?saved={}", g.id, g.version)).into_response()),
            Err(vigia_store::StoreError::Conflict(_)) => {
                let mut page = invalid_form(
                    &ctx,
                    title,
                    action,
                    Some(f.version),
                    &form,
                    &ValidationErrors::new(),
                    tr(l, "form-conflict"),
                )?;
                *page.status_mut() = StatusCode::CONFLICT;
                Ok(page)
            }
            Err(e) => Err(e.into()),
        },
        Err(errs) => {
            let summary = tr_args(l, "form-errors", &[("count", errs.0.len().to_string())]);
            invalid_form(&ctx, title, action, version, &form, &errs, summary)
        }
    }
}

async fn note_create(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require(Permission::WriteSealed)?.clone();
    let f = load_facility(&st, &id).await?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let raw = RawInput::from_pairs(form.pairs.iter().cloned());
    match note::validate(&raw) {
        Ok(text) => {
            st.store.add_facility_note(&ctx.actor(), user.org_id, f.id, &text).await?;
            Ok(Redirect::to(&format!("/facilities/{}?noted=1", f.id)).into_response())
        }
        Err(errs) => {
            let msg = errs.0.first().map(|e| field_error(ctx.locale, e));
            facility_page(&st, &ctx, f, None, msg, None).await
        }
    }
}

async fn facility_history(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    ctx.require(Permission::ReadFacilities)?;
    let f = load_facility(&st, &id).await?;
    let entries = st.store.history(RecordType::Facility, f.id, None).await?;
    let l = ctx.locale;
    let page = HistoryPage {
        c: Chrome::new(&ctx, &format!("/facilities/{}/history", f.id)),
        title: tr_args(l, "history-title", &[("name", f.draft.name.clone())]),
        versions: version_views(&st, l, &entries).await?,
        withheld: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    entries: Vec<AuditRow>,
    paging: crate::listing::Paging,
    cursor_error: Option<String>,
}

/// An audit entry in words: who (name and role, or the system), what, on which record.
pub struct AuditRow {
    pub seq: i64,
    pub when: String,
    pub who: String,
    pub action: String,
    pub record: String,
    pub hash: String,
}

/// The people of the organization by id, as "Name (role)".
async fn who_is_who(st: &AppState, l: Locale, org_id: i64) -> Result<HashMap<i64, String>, WebError> {
    Ok(st
        .store
        .list_users(Some(org_id))
        .await?
        .into_iter()
        .map(|u| (u.id, format!("{} ({})", u.display_name, tr(l, &format!("role-{}", u.role.as_str())))))
        .collect())
}

fn audit_row(l: Locale, people: &HashMap<i64, String>, e: &vigia_domain::audit::AuditEntry) -> AuditRow {
    AuditRow {
        seq: e.seq,
        when: crate::kit::when(e.at),
        who: match e.actor_user_id {
            Some(id) => {
                people.get(&id).cloned().unwrap_or_else(|| tr_args(l, "audit-someone", &[("id", id.to_string())]))
            }
            None => tr(l, "audit-system"),
        },
        action: tr(l, &format!("action-{}", e.action)),
        record: format!("{} #{}", crate::kit::label(l, "record", &e.record_type), e.record_id),
        hash: e.entry_hash.chars().take(16).collect(),
    }
}

async fn audit(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require(Permission::ReadAudit)?.clone();
    let l = ctx.locale;
    let mut errs = ValidationErrors::new();
    let after = crate::listing::after(&q, &mut errs);
    let before = after.map(|c| c.id);
    let page_rows = vigia_domain::paging::PAGE_ROWS;
    let mut list = st.store.audit_entries(Some(user.org_id), before, page_rows + 1).await?;
    let more = list.len() as i64 > page_rows;
    list.truncate(page_rows as usize);
    let remaining = st.store.count_audit_entries(Some(user.org_id), before).await?;
    let total = if before.is_some() { st.store.count_audit_entries(Some(user.org_id), None).await? } else { remaining };
    let next = list.last().filter(|_| more).map(|e| vigia_domain::paging::Cursor::after(e.seq, e.seq));
    let paging =
        crate::listing::Paging::new(l, "/audit", "/audit.csv", &q, "audit-count", total, remaining, list.len(), next);
    let people = who_is_who(&st, l, user.org_id).await?;
    let entries = list.iter().map(|e| audit_row(l, &people, e)).collect();
    let cursor_error = errs.for_field("after").map(|e| crate::i18n::field_error(l, e));
    render(
        if cursor_error.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &AuditPage { c: Chrome::new(&ctx, "/audit"), entries, paging, cursor_error },
    )
}

/// The organization's whole audit history as CSV, newest first, with the full hashes
/// that link each entry to the one before (so the file can be checked against the chain).
async fn audit_csv(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let user = ctx.require(Permission::ReadAudit)?.clone();
    let l = ctx.locale;
    let people = who_is_who(&st, l, user.org_id).await?;
    let head =
        ["audit-seq", "history-when", "audit-who", "history-action", "audit-record", "history-hash", "audit-prev-hash"]
            .iter()
            .map(|k| tr(l, k))
            .collect();
    let org = user.org_id;
    Ok(crate::listing::csv_download("vigia-audit.csv", head, move |after| {
        let (st, people) = (st.clone(), people.clone());
        async move {
            let batch = 1000;
            let list = st.store.audit_entries(Some(org), after.map(|c| c.id), batch).await?;
            let next = list
                .last()
                .filter(|_| list.len() as i64 == batch)
                .map(|e| vigia_domain::paging::Cursor::after(e.seq, e.seq));
            let rows = list
                .iter()
                .map(|e| {
                    let r = audit_row(l, &people, e);
                    vec![
                        r.seq.to_string(),
                        r.when,
                        r.who,
                        r.action,
                        r.record,
                        e.entry_hash.clone(),
                        e.prev_hash.clone(),
                    ]
                })
                .collect();
            Ok((rows, next))
        }
    }))
}

const FACILITY_IMPORT: ImportKind = ImportKind {
    path: "/facilities/import",
    title: "import-title",
    intro: "import-intro",
    columns: "import-columns",
    done: "import-done",
};

async fn import_page(Extension(ctx): Extension<Ctx>) -> PageResult {
    ctx.require(Permission::EditFacilities)?;
    import_page_for(&ctx, &FACILITY_IMPORT, None)
}

async fn import_submit(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    multipart: axum::extract::Multipart,
) -> PageResult {
    ctx.require(Permission::EditFacilities)?;
    let (csrf, _, bytes) = read_upload(multipart).await?;
    ctx.check_form(csrf.as_deref(), &headers)?;
    let outcome = match vigia_domain::import::facilities_csv(&bytes) {
        Ok(drafts) => Ok(vec![("count", st.store.import_facilities(&ctx.actor(), drafts).await?.len().to_string())]),
        Err(errors) => Err(errors),
    };
    import_page_for(&ctx, &FACILITY_IMPORT, Some(outcome))
}

pub struct MemberRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    members: Vec<MemberRow>,
    form: FormView,
}

fn user_form(l: Locale, values: &HashMap<String, String>, errors: &ValidationErrors) -> Vec<FieldView> {
    let field = |name: &'static str, label: &str, input: &'static str| {
        let value = if input == "password" { String::new() } else { values.get(name).cloned().unwrap_or_default() };
        FieldView::new(l, name, label, input, value, true, errors)
    };
    let mut role = field("role", "users-role", "select");
    role.options = vigia_domain::account::Role::ALL
        .iter()
        .map(|r| OptionView {
            value: r.as_str().into(),
            label: tr(l, &format!("role-{}", r.as_str())),
            selected: values.get("role").map(String::as_str) == Some(r.as_str()),
        })
        .collect();
    let mut password = field("password", "users-password", "password");
    password.hint =
        Some(tr_args(l, "users-password-hint", &[("min", vigia_domain::account::PASSWORD_MIN.to_string())]));
    vec![field("email", "login-email", "email"), field("display_name", "users-name", "text"), role, password]
}

async fn users_view(
    st: &AppState,
    ctx: &Ctx,
    values: &HashMap<String, String>,
    errors: &ValidationErrors,
    flash: Option<String>,
) -> Result<UsersPage, WebError> {
    let me = ctx.require(Permission::ManageUsers)?;
    let l = ctx.locale;
    let members = st
        .store
        .list_users(Some(me.org_id))
        .await?
        .into_iter()
        .map(|u| MemberRow {
            id: u.id,
            is_me: u.id == me.id,
            email: u.email,
            name: u.display_name,
            role: tr(l, &format!("role-{}", u.role.as_str())),
            disabled: u.disabled,
        })
        .collect();
    let summary = (!errors.is_empty()).then(|| tr_args(l, "form-errors", &[("count", errors.0.len().to_string())]));
    Ok(UsersPage {
        c: Chrome::new(ctx, "/admin/users").flash(flash),
        members,
        form: FormView {
            title: tr(l, "users-add"),
            action: "/admin/users".into(),
            submit: tr(l, "users-add"),
            version: None,
            summary,
            fields: user_form(l, values, errors),
        },
    })
}

async fn users_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let l = ctx.locale;
    let flash = q
        .get("added")
        .map(|e| tr_args(l, "users-added", &[("email", e.clone())]))
        .or_else(|| q.contains_key("changed").then(|| tr(l, "users-changed")));
    let page = users_view(&st, &ctx, &HashMap::new(), &ValidationErrors::new(), flash).await?;
    render(StatusCode::OK, &page)
}

async fn user_create(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let me = ctx.require(Permission::ManageUsers)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    // Giving someone a role is sensitive: the password must be recent.
    if let Some(r) = crate::account::recent_auth(&st, &ctx, "/admin/users") {
        return Ok(r);
    }
    let values: HashMap<String, String> = form.pairs.iter().cloned().collect();
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let new = vigia_app::accounts::NewAccount {
        email: get("email"),
        display_name: get("display_name"),
        role: get("role"),
        password: get("password"),
        org_id: me.org_id,
        locale: ctx.locale,
    };
    let errors = match vigia_app::accounts::create_user(&st.store, &ctx.actor(), new).await {
        Ok(user) => {
            let q = serde_urlencoded::to_string([("added", user.email.as_str())]).unwrap_or_default();
            return Ok(Redirect::to(&format!("/admin/users?{q}")).into_response());
        }
        Err(vigia_app::AppError::Store(vigia_store::StoreError::Conflict(_))) => {
            ValidationErrors::single("email", "email_taken")
        }
        Err(vigia_app::AppError::Invalid(errs)) => errs,
        Err(e) => return Err(e.into()),
    };
    let page = users_view(&st, &ctx, &values, &errors, None).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

async fn set_disabled(
    st: &AppState,
    ctx: &Ctx,
    id: &str,
    headers: &HeaderMap,
    body: &Bytes,
    disabled: bool,
) -> PageResult {
    let me = ctx.require(Permission::ManageUsers)?;
    FormBody::checked(headers, body, ctx)?;
    if let Some(r) = crate::account::recent_auth(st, ctx, "/admin/users") {
        return Ok(r);
    }
    let id = parse_id(id)?;
    // Another organization's user is not found, so ids cannot be probed.
    let target = st.store.user(id).await?.filter(|u| u.org_id == me.org_id).ok_or(WebError::NotFound)?;
    if target.id == me.id {
        return Err(WebError::BadRequest(tr(ctx.locale, "users-not-self")).into());
    }
    st.store.set_user_disabled(&ctx.actor(), target.id, disabled).await?;
    Ok(Redirect::to("/admin/users?changed=1").into_response())
}

async fn user_disable(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    set_disabled(&st, &ctx, &id, &headers, &body, true).await
}

async fn user_enable(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    set_disabled(&st, &ctx, &id, &headers, &body, false).await
}

#[derive(Template)]
#[template(path = "clock.html")]
struct ClockPage {
    c: Chrome,
    form: FormView,
    result: Option<String>,
    calendar_note: Option<String>,
    days: Vec<(String, bool, String)>,
}

/// Anyone can check a legal date by hand: a GET form, no sign-in needed.
async fn clock_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    use vigia_domain::clock::{answer, validate_query, ClockAsk};
    let l = ctx.locale;
    let calendars = vigia_store::calendars(&*st.store).await?;
    let mut values: HashMap<String, String> = q.clone();
    values.entry("calendar".into()).or_insert_with(|| vigia_domain::clock::DEFAULT_CALENDAR.into());
    let asked = q.contains_key("from");
    let raw = RawInput::from_pairs(q.iter().filter(|(k, _)| *k != "explain").map(|(k, v)| (k.clone(), v.clone())));
    let (errors, result, note, days) = if asked {
        match validate_query(&raw, &calendars, false) {
            Ok(query) => match answer(&query, &calendars, true, l) {
                Ok(a) => {
                    let cal = calendars.get(&a.calendar)?;
                    let n = match query.what {
                        ClockAsk::Add { working_days } => working_days,
                        ClockAsk::Count { .. } => 0,
                    };
                    let result = tr_args(
                        l,
                        "clock-result",
                        &[("n", n.to_string()), ("from", a.from.to_string()), ("date", a.to.to_string())],
                    );
                    let mut counted = 0;
                    let days = a
                        .days
                        .iter()
                        .map(|(d, reasons)| {
                            if reasons.is_empty() {
                                counted += 1;
                                let mut why = tr_args(l, "clock-counts", &[("n", counted.to_string())]);
                                for (_, open) in a.open.iter().filter(|(o, _)| o == d) {
                                    for r in open {
                                        why.push_str(" — ");
                                        why.push_str(&tr(l, "clock-open"));
                                        why.push_str(": ");
                                        why.push_str(&r.describe());
                                    }
                                }
                                (d.to_string(), true, why)
                            } else {
                                (
                                    d.to_string(),
                                    false,
                                    reasons.iter().map(|r| r.describe()).collect::<Vec<_>>().join("; "),
                                )
                            }
                        })
                        .collect();
                    let mut note = match cal.version(l) {
                        Some(v) => format!("{} — {} ({v})", cal.title(l), cal.spec.source),
                        None => format!("{} — {}", cal.title(l), cal.spec.source),
                    };
                    for n in cal.notes(l) {
                        note.push_str(". ");
                        note.push_str(n);
                    }
                    let note = Some(note);
                    (ValidationErrors::new(), Some(result), note, days)
                }
                // Only a date near the end of the supported range gets here.
                Err(_) => (ValidationErrors::single("from", "out_of_range"), None, None, Vec::new()),
            },
            Err(errs) => (errs, None, None, Vec::new()),
        }
    } else {
        (ValidationErrors::new(), None, None, Vec::new())
    };
    let field = |name: &'static str, label: &str, input: &'static str| {
        FieldView::new(l, name, label, input, values.get(name).cloned().unwrap_or_default(), true, &errors)
    };
    let mut cal_field = field("calendar", "clock-calendar", "select");
    cal_field.options = calendars
        .names()
        .filter_map(|n| calendars.get(n).ok())
        .map(|c| OptionView {
            value: c.name().into(),
            label: c.title(l).into(),
            selected: values.get("calendar").map(String::as_str) == Some(c.name()),
        })
        .collect();
    let form = FormView {
        title: tr(l, "clock-title"),
        action: "/clock".into(),
        submit: tr(l, "clock-submit"),
        version: None,
        summary: (!errors.is_empty()).then(|| tr_args(l, "form-errors", &[("count", errors.0.len().to_string())])),
        fields: vec![
            field("from", "clock-from", "date"),
            field("working_days", "clock-working-days", "number"),
            cal_field,
        ],
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, &ClockPage { c: Chrome::new(&ctx, "/clock"), form, result, calendar_note: note, days })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Where a browser goes for a `Location` of `next` on a page of ours.
    fn host_after(next: &str) -> Option<String> {
        let base = url::Url::parse("https://vigia.example/login").ok()?;
        base.join(next).ok()?.host_str().map(str::to_string)
    }

    #[test]
    fn the_reviewers_redirects_stay_on_the_site() {
        for evil in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "https://evil.example",
            " /\t/evil.example",
            "/\u{0}/evil.example",
            "/\u{85}/evil.example",
        ] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
        // A tab is what `next=/%09/evil.example` decodes to.
        assert_eq!(host_after("/\t/evil.example").as_deref(), Some("evil.example"), "the attack is real");
        for fine in ["/", "/access?facility=3&from=2020-01-01", "/cases/7/history", "/facilities/%09x"] {
            assert_eq!(safe_next(Some(fine)), fine);
        }
    }

    proptest! {
        /// Whatever is accepted leads a browser to this site, and never panics a redirect.
        #[test]
        /// A redirect after sign-in never carries `reveal`; the rest of the path stays.
        #[test]
        fn the_next_path_after_sign_in_never_reveals(path in "/[a-z0-9]{1,8}(/[a-z0-9]{1,5}){0,2}", params in proptest::collection::vec(("[a-z]{1,6}", "[a-z0-9]{0,3}"), 0..4), at in 0usize..4) {
            let mut pairs: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            pairs.insert(at.min(pairs.len()), "reveal=1".into());
            let next = format!("{path}?{}", pairs.join("&"));
            let kept = safe_next(Some(&next));
            prop_assert!(!kept.split(['?', '&']).any(|p| p.split('=').next() == Some("reveal")), "{} -> {}", next, kept);
            prop_assert!(kept.starts_with(&path));
            for (k, v) in params.iter().filter(|(k, _)| k != "reveal") {
                prop_assert!(kept.contains(&format!("{k}={v}")), "{} lost {}={}", kept, k, v);
            }
        }

        #[test]
        fn accepted_next_paths_stay_on_the_site(next in "[/\\\\\t\n\r a-z.:%0-9@?#]{0,16}", tail in "\\PC{0,8}") {
            for n in [next.clone(), format!("{next}{tail}")] {
                let kept = safe_next(Some(&n));
                let host = host_after(&kept);
                prop_assert_eq!(host.as_deref(), Some("vigia.example"), "{:?} -> {:?}", n, kept);
                prop_assert!(axum::http::HeaderValue::from_str(&kept).is_ok());
            }
        }
    }
}
