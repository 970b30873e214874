//! Detention centers: the list, a center's page (its calendar of outcomes, visits,
//! suspected suspensions, the organization's sealed notes), forms, history and import.

pub mod api;
pub mod visits;

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Extension;
use vigia_domain::account::{Locale, Permission};
use vigia_domain::facility::{self, Facility, FacilityKind};
use vigia_domain::input::RawInput;
use vigia_domain::{geo, note, RecordType, ValidationErrors};

use crate::auth::Ctx;
use crate::error::WebError;
use crate::i18n::{field_error, tr, tr_args};
use crate::routes::Routes;
use crate::state::AppState;

use crate::kit::*;

pub fn routes() -> Routes {
    Routes::default()
        .get("/facilities", facilities)
        .get("/facilities.csv", facilities_csv)
        .get("/facilities.jsonl", facilities_csv)
        .post("/facilities", facility_create)
        .get("/facilities/new", facility_new)
        .get("/facilities/import", import_page)
        .upload("/facilities/import", import_submit, crate::state::CSV_ROUTE_LIMIT)
        .get("/facilities/{id}", facility_show)
        .get("/facilities/{id}/edit", facility_edit)
        .post("/facilities/{id}/edit", facility_update)
        .get("/facilities/{id}/history", facility_history)
        .post("/facilities/{id}/notes", note_create)
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
#[template(path = "facilities/templates/facilities.html")]
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
    uri: axum::http::Uri,
) -> PageResult {
    ctx.require(Permission::ReadFacilities)?;
    let l = ctx.locale;
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let head = crate::kit::listing::columns(
        l,
        &[
            "field-id",
            "field-name",
            "field-kind",
            "field-state_code",
            "field-municipality",
            "field-capacity",
            "field-status",
            "facilities-access",
        ],
    );
    let rows = facility_rows(&st, &ctx, &query)
        .await?
        .into_iter()
        .map(|r| vec![r.id.to_string(), r.name, r.kind, r.state, r.municipality, r.capacity, r.status, r.access.1])
        .collect();
    Ok(crate::kit::listing::download_of(crate::kit::listing::Format::of(&uri), "vigia-facilities", head, rows))
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
#[template(path = "facilities/templates/facility.html")]
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
    visits: visits::FacilityVisits,
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
        .filter_map(|(at, outcome)| Some((local(at)?, crate::kit::map::class_of(Some(outcome)))))
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
    // The calendar, the visits and the organization's notes are kept together, per
    // organization, facility, language, year and whether the viewer may read notes,
    // until the data change (issue #19): every note written or erased is audited, so
    // it moves the data version.
    let can_read_notes = ctx.can(Permission::ReadSealed);
    let parts = || async {
        let (year, months) = outcome_calendar(st, ctx, &f, year).await?;
        let notes: Vec<(String, String)> = match (&ctx.user, can_read_notes) {
            (Some(u), true) => st
                .store
                .facility_notes(u.org_id, f.id)
                .await?
                .into_iter()
                .map(|n| (vigia_domain::format_local(n.created_at, f.time_zone()), n.body))
                .collect(),
            _ => Vec::new(),
        };
        Ok((year, months, visits::for_facility(st, ctx, &f).await?, notes))
    };
    let (year, months, visits, notes) = match &ctx.user {
        Some(u) => {
            // Without a year asked for, the calendar can show the current one: the
            // current year is in the key.
            let now = jiff::Timestamp::now().in_tz(f.time_zone()).map(|z| z.year()).unwrap_or_default();
            let key = format!("{}|{}|{:?}|{year:?}|{now}|{can_read_notes}", u.org_id, f.id, ctx.locale);
            crate::kit::kept::kept(st, "facility-parts", key, parts).await?
        }
        // Signed out, all are empty.
        None => parts().await?,
    };
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
    // Kept until the data change like the page's other parts: a facility's every
    // change is audited. The id is checked before it becomes a key; an unknown one is
    // an error, and errors are not kept.
    let key = parse_id(&id)?.to_string();
    let f = crate::kit::kept::kept(&st, "facility", key, || load_facility(&st, &id)).await?;
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

const FACILITY_IMPORT: ImportKind = ImportKind {
    path: "/facilities/import",
    title: "import-title",
    intro: "import-intro",
    columns: "import-columns",
    done: "import-done",
    progress: None,
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
