//! Access attempts' pages: the list, an attempt, its forms and history, the CSV import.

use super::*;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Extension;
use vigia_domain::access::{Purpose, ReasonCategory, Restriction, Visibility};
use vigia_domain::account::Permission;
use vigia_domain::RecordType;

use crate::i18n::tr_args;
use crate::kit::listing::Paging;
use crate::kit::records::{editable, names, visible};
use crate::kit::{checkboxes, options};
use crate::kit::{file_error, file_rows, label, FileRow};
use crate::kit::{render, Chrome, FieldView, FormBody, FormPage, FormView, HistoryPage, OptionView, PageResult};
use crate::routes::Routes;
use vigia_domain::paging::{Cursor, PAGE_ROWS};

pub fn page_routes() -> Routes {
    Routes::default()
        .get("/access", list_page)
        .get("/access.csv", csv_page)
        .get("/access.jsonl", csv_page)
        .post("/access", create_page)
        .get("/access/new", new_page)
        .get("/access/import", import_page)
        .get("/static/import-progress.js", progress_script)
        .streamed("/access/import", import_submit)
        .get("/access/{id}", show_page)
        .get("/access/{id}/edit", edit_page)
        .post("/access/{id}/edit", update_page)
        .get("/access/{id}/history", history_page)
}

/// A civil time for a datetime-local input, in the facility's zone.
pub(super) fn local_input(at: vigia_domain::Micros, zone: &str) -> String {
    jiff::Timestamp::from_microsecond(at)
        .ok()
        .and_then(|t| jiff::tz::TimeZone::get(zone).ok().map(|tz| t.to_zoned_datetime(tz)))
        .map(|z| z.strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

pub(super) fn attempt_form(
    l: Locale,
    values: &HashMap<String, String>,
    errors: &ValidationErrors,
    facilities: &[Facility],
) -> Vec<FieldView> {
    let field = |name: &'static str, input: &'static str, required: bool| {
        let value = values.get(name).cloned().unwrap_or_default();
        FieldView::new(l, name, &format!("field-{name}"), input, value, required, errors)
    };
    let sel = |name: &str| values.get(name).map(String::as_str);
    let mut facility = field("facility_id", "select", true);
    facility.options = facilities
        .iter()
        .map(|f| OptionView {
            value: f.id.to_string(),
            label: f.draft.name.clone(),
            selected: sel("facility_id") == Some(&f.id.to_string()),
        })
        .collect();
    let mut purpose = field("purpose", "select", true);
    purpose.options = options(l, "purpose", Purpose::ALL, Purpose::as_str, sel("purpose"));
    let mut outcome = field("outcome", "select", true);
    outcome.options = options(l, "outcome", Outcome::ALL, Outcome::as_str, sel("outcome"));
    let mut reason = field("reason_category", "select", false);
    reason.options = options(l, "reason", ReasonCategory::ALL, ReasonCategory::as_str, sel("reason_category"));
    let chosen: Vec<&str> = sel("restrictions").map(|r| r.split(',').collect()).unwrap_or_default();
    let mut restrictions = field("restrictions", "checkboxes", false);
    restrictions.options = checkboxes(l, "restriction", Restriction::ALL, Restriction::as_str, &chosen);
    let mut visibility = field("visibility", "select", true);
    visibility.options = options(l, "visibility", Visibility::ALL, Visibility::as_str, sel("visibility"));
    vec![
        facility,
        field("attempted_at", "datetime-local", true),
        purpose,
        outcome,
        reason,
        field("reason_text", "textarea", false),
        field("official", "text", false),
        restrictions,
        field("team_size", "number", false),
        field("people_to_see", "number", false),
        field("requested_at", "datetime-local", false),
        field("notes", "textarea", false),
        visibility,
    ]
}

pub(super) fn values_of(a: &Attempt, zone: &str) -> HashMap<String, String> {
    let d = &a.draft;
    let mut m = HashMap::new();
    m.insert("facility_id".into(), d.facility_id.to_string());
    m.insert("attempted_at".into(), local_input(d.attempted_at, zone));
    if let Some(r) = d.requested_at {
        m.insert("requested_at".into(), local_input(r, zone));
    }
    m.insert("purpose".into(), d.purpose.as_str().into());
    m.insert("team_size".into(), d.team_size.to_string());
    if let Some(p) = d.people_to_see {
        m.insert("people_to_see".into(), p.to_string());
    }
    m.insert("outcome".into(), d.outcome.as_str().into());
    if let Some(r) = d.reason_category {
        m.insert("reason_category".into(), r.as_str().into());
    }
    for (k, v) in [("reason_text", &d.reason_text), ("official", &d.official), ("notes", &d.notes)] {
        if let Some(v) = v {
            m.insert(k.into(), v.clone());
        }
    }
    m.insert("restrictions".into(), d.restrictions.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","));
    m.insert("visibility".into(), d.visibility.as_str().into());
    m
}

pub(super) struct Row {
    id: i64,
    when: String,
    facility: String,
    org: String,
    purpose: String,
    outcome: String,
    outcome_code: &'static str,
    reason: String,
}

#[derive(Template)]
#[template(path = "access/templates/access_list.html")]
pub(super) struct ListPage {
    c: Chrome,
    paging: Paging,
    /// A page link that is no longer valid (the filters' own errors sit by their fields).
    cursor_error: Option<String>,
    can_record: bool,
    filters: Vec<FieldView>,
    rows: Vec<Row>,
}

pub(super) async fn list_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    let q: HashMap<String, String> = q.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    let (mut filter, errors) = match filter(&q) {
        Ok(f) => (f, ValidationErrors::new()),
        Err(WebError::Invalid(e)) => (AttemptFilter::default(), e),
        Err(e) => return Err(e.into()),
    };
    // One row more than the page shows says whether another page follows.
    filter.limit = PAGE_ROWS + 1;
    let mut list = st.store.list_attempts(user.org_id, &filter).await?;
    let more = list.len() as i64 > PAGE_ROWS;
    list.truncate(PAGE_ROWS as usize);
    let remaining = st.counts.count(&st.store, user.org_id, &filter).await?;
    let total = if filter.after.is_some() {
        st.counts.count(&st.store, user.org_id, &AttemptFilter { after: None, ..filter.clone() }).await?
    } else {
        remaining
    };
    let next = list.last().filter(|_| more).map(|a| Cursor::after(a.draft.attempted_at, a.id));
    let paging = Paging::new(l, "/access", "/access.csv", &q, "access-count", total, remaining, list.len(), next);
    let (facilities, orgs) = names(&st).await?;
    let rows = list
        .iter()
        .map(|a| {
            let f = facilities.get(&a.draft.facility_id);
            Row {
                id: a.id,
                when: format_local(
                    a.draft.attempted_at,
                    f.map(|f| f.time_zone()).unwrap_or(vigia_domain::geo::LEGAL_TIME_ZONE),
                ),
                facility: f.map(|f| f.draft.name.clone()).unwrap_or_default(),
                org: orgs.get(&a.org_id).cloned().unwrap_or_default(),
                purpose: label(l, "purpose", a.draft.purpose.as_str()),
                outcome: label(l, "outcome", a.draft.outcome.as_str()),
                outcome_code: a.draft.outcome.as_str(),
                reason: a.draft.reason_category.map(|r| label(l, "reason", r.as_str())).unwrap_or_default(),
            }
        })
        .collect();
    let mut sorted: Vec<&Facility> = facilities.values().collect();
    sorted.sort_by(|a, b| a.draft.name.cmp(&b.draft.name));
    let sel = |k: &str| q.get(k).map(String::as_str);
    let fv = |name: &'static str, label_key: &str, input: &'static str| {
        FieldView::new(l, name, label_key, input, q.get(name).cloned().unwrap_or_default(), false, &errors)
    };
    let mut facility = fv("facility_id", "field-facility_id", "select");
    facility.options = sorted
        .iter()
        .map(|f| OptionView {
            value: f.id.to_string(),
            label: f.draft.name.clone(),
            selected: sel("facility_id") == Some(&f.id.to_string()),
        })
        .collect();
    let mut outcome = fv("outcome", "field-outcome", "select");
    outcome.options = options(l, "outcome", Outcome::ALL, Outcome::as_str, sel("outcome"));
    let page = ListPage {
        c: Chrome::new(&ctx, "/access"),
        paging,
        cursor_error: errors.for_field("after").map(|e| crate::i18n::field_error(l, e)),
        can_record: ctx.can(Permission::RecordAccess),
        filters: vec![facility, outcome, fv("from", "field-from", "date"), fv("until", "field-until", "date")],
        rows,
    };
    render(if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }, &page)
}

/// Every attempt the list's filters match, as CSV, local times in each center's zone
/// and every choice in words.
pub(super) async fn csv_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
    uri: axum::http::Uri,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    let q: HashMap<String, String> = q.into_iter().filter(|(k, v)| !v.trim().is_empty() && k != "after").collect();
    let mut f = filter(&q)?;
    f.limit = CSV_BATCH;
    let (facilities, orgs) = names(&st).await?;
    let head = crate::kit::listing::columns(
        l,
        &[
            "field-id",
            "field-attempted_at",
            "field-time_zone",
            "field-facility_id",
            "access-org",
            "field-purpose",
            "field-outcome",
            "field-reason_category",
            "field-reason_text",
            "field-official",
            "field-team_size",
            "field-people_to_see",
            "field-restrictions",
            "field-requested_at",
            "field-notes",
            "field-visibility",
        ],
    );
    let viewer = user.org_id;
    // Each facility's zone looked up once, and each code's name: the rows repeat them.
    let zones: HashMap<i64, jiff::tz::TimeZone> =
        facilities.iter().filter_map(|(id, f)| Some((*id, jiff::tz::TimeZone::get(f.time_zone()).ok()?))).collect();
    let words = std::sync::Arc::new((facilities, zones, orgs));
    let labels = std::sync::Arc::new(std::sync::Mutex::new(crate::kit::Labels::new(l)));
    Ok(crate::kit::listing::download(
        crate::kit::listing::Format::of(&uri),
        "vigia-access-attempts",
        head,
        move |after| {
            let (st, words, labels) = (st.clone(), words.clone(), labels.clone());
            let page = AttemptFilter { after, ..f.clone() };
            async move {
                let list = st.store.list_attempts(viewer, &page).await?;
                let next = list
                    .last()
                    .filter(|_| list.len() as i64 == CSV_BATCH)
                    .map(|a| Cursor::after(a.draft.attempted_at, a.id));
                let (facilities, zones, orgs) = words.as_ref();
                let mut labels =
                    labels.lock().map_err(|_| WebError::Internal("the labels' lock was poisoned".into()))?;
                let rows = list
                    .iter()
                    .map(|a| {
                        let at = a.draft.facility_id;
                        csv_row(&mut labels, a, facilities.get(&at), zones.get(&at), orgs)
                    })
                    .collect();
                Ok((rows, next))
            }
        },
    ))
}

/// Attempts read from the store per part of a CSV download.
pub(super) const CSV_BATCH: i64 = 1000;

pub(super) fn csv_row(
    labels: &mut crate::kit::Labels,
    a: &Attempt,
    f: Option<&Facility>,
    tz: Option<&jiff::tz::TimeZone>,
    orgs: &HashMap<i64, String>,
) -> Vec<String> {
    let d = &a.draft;
    let zone = f.map(|f| f.time_zone()).unwrap_or(vigia_domain::geo::LEGAL_TIME_ZONE);
    let local = |at| match tz {
        Some(tz) => vigia_domain::format_local_in(at, tz),
        None => format_local(at, zone),
    };
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    vec![
        a.id.to_string(),
        local(d.attempted_at),
        zone.to_string(),
        f.map(|f| f.draft.name.clone()).unwrap_or_default(),
        orgs.get(&a.org_id).cloned().unwrap_or_default(),
        labels.of("purpose", d.purpose.as_str()),
        labels.of("outcome", d.outcome.as_str()),
        d.reason_category.map(|r| labels.of("reason", r.as_str())).unwrap_or_default(),
        text(&d.reason_text),
        text(&d.official),
        d.team_size.to_string(),
        d.people_to_see.map(|n| n.to_string()).unwrap_or_default(),
        d.restrictions.iter().map(|r| labels.of("restriction", r.as_str())).collect::<Vec<_>>().join("; "),
        d.requested_at.map(local).unwrap_or_default(),
        text(&d.notes),
        labels.of("visibility", d.visibility.as_str()),
    ]
}

pub(super) async fn sorted_facilities(st: &AppState) -> Result<Vec<Facility>, WebError> {
    Ok(st.store.list_facilities().await?)
}

pub(super) async fn new_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    ctx.require(Permission::RecordAccess)?;
    let l = ctx.locale;
    let mut values = HashMap::new();
    values.insert("visibility".to_string(), "coalition".to_string());
    values.insert("team_size".to_string(), "1".to_string());
    let form = FormView {
        title: tr(l, "access-new-title"),
        action: "/access".into(),
        submit: tr(l, "facility-save"),
        version: None,
        summary: None,
        fields: attempt_form(l, &values, &ValidationErrors::new(), &sorted_facilities(&st).await?),
    };
    render(StatusCode::OK, &FormPage { c: Chrome::new(&ctx, "/access/new"), form })
}

/// Where a re-shown form posts to, and under what title.
pub(super) struct Target {
    title: String,
    action: String,
    version: Option<i64>,
}

pub(super) async fn invalid(
    st: &AppState,
    ctx: &Ctx,
    target: Target,
    pairs: &[(String, String)],
    errs: &ValidationErrors,
    status: StatusCode,
) -> PageResult {
    let l = ctx.locale;
    let values: HashMap<String, String> = pairs.iter().cloned().collect();
    let summary = if status == StatusCode::CONFLICT {
        tr(l, "form-conflict")
    } else {
        tr_args(l, "form-errors", &[("count", errs.0.len().to_string())])
    };
    let form = FormView {
        title: target.title,
        action: target.action.clone(),
        submit: tr(l, "facility-save"),
        version: target.version,
        summary: Some(summary),
        fields: attempt_form(l, &values, errs, &sorted_facilities(st).await?),
    };
    render(status, &FormPage { c: Chrome::new(ctx, &target.action), form })
}

pub(super) async fn create_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require(Permission::RecordAccess)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let pairs = form.joined("restrictions");
    match draft(&st, &RawInput::from_pairs(pairs.clone())).await {
        Ok(d) => {
            let a = st.store.create_attempt(&ctx.actor(), user.org_id, d).await?;
            Ok(Redirect::to(&format!("/access/{}?created=1", a.id)).into_response())
        }
        Err(WebError::Invalid(errs)) => {
            invalid(
                &st,
                &ctx,
                Target { title: tr(ctx.locale, "access-new-title"), action: "/access".into(), version: None },
                &pairs,
                &errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "access/templates/access_show.html")]
pub(super) struct ShowPage {
    c: Chrome,
    id: i64,
    title: String,
    version_label: String,
    outcome: String,
    outcome_code: &'static str,
    can_edit: bool,
    readonly_note: Option<String>,
    details: Vec<(String, String)>,
    files: Vec<FileRow>,
    file_error: Option<String>,
}

pub(super) async fn show_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let a = visible(&st, &ctx, &id).await?;
    let l = ctx.locale;
    let f = st.store.facility(a.draft.facility_id).await?;
    let zone = f.as_ref().map(|f| f.time_zone()).unwrap_or(vigia_domain::geo::LEGAL_TIME_ZONE);
    let org = st.store.org(a.org_id).await?.map(|o| o.name).unwrap_or_default();
    let d = &a.draft;
    let none = tr(l, "facility-unknown");
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| none.clone());
    let details = vec![
        (tr(l, "field-facility_id"), f.as_ref().map(|f| f.draft.name.clone()).unwrap_or_default()),
        (tr(l, "access-org"), org.clone()),
        (tr(l, "field-attempted_at"), format_local(d.attempted_at, zone)),
        (tr(l, "field-requested_at"), d.requested_at.map(|r| format_local(r, zone)).unwrap_or_else(|| none.clone())),
        (tr(l, "field-purpose"), label(l, "purpose", d.purpose.as_str())),
        (tr(l, "field-team_size"), d.team_size.to_string()),
        (tr(l, "field-people_to_see"), d.people_to_see.map(|p| p.to_string()).unwrap_or_else(|| none.clone())),
        (
            tr(l, "field-reason_category"),
            d.reason_category.map(|r| label(l, "reason", r.as_str())).unwrap_or_else(|| none.clone()),
        ),
        (tr(l, "field-reason_text"), opt(&d.reason_text)),
        (tr(l, "field-official"), opt(&d.official)),
        (
            tr(l, "field-restrictions"),
            if d.restrictions.is_empty() {
                none.clone()
            } else {
                d.restrictions.iter().map(|r| label(l, "restriction", r.as_str())).collect::<Vec<_>>().join(", ")
            },
        ),
        (tr(l, "field-notes"), opt(&d.notes)),
        (tr(l, "field-visibility"), label(l, "visibility", d.visibility.as_str())),
    ];
    let mine = ctx.user.as_ref().is_some_and(|u| u.org_id == a.org_id);
    let files = file_rows(st.store.attachments(RecordType::AccessAttempt, a.id).await?);
    let file_error = file_error(l, &q);
    let flash = if q.contains_key("attached") {
        Some(tr(l, "access-file-attached"))
    } else if q.contains_key("created") {
        Some(tr(l, "access-created"))
    } else if q.contains_key("saved") {
        Some(tr_args(l, "access-saved", &[("version", a.version.to_string())]))
    } else {
        None
    };
    let when = format_local(d.attempted_at, zone);
    let page = ShowPage {
        c: Chrome::new(&ctx, &format!("/access/{}", a.id)).flash(flash),
        id: a.id,
        title: tr_args(
            l,
            "access-show-title",
            &[("facility", f.map(|f| f.draft.name).unwrap_or_default()), ("when", when)],
        ),
        version_label: tr_args(l, "facility-version", &[("version", a.version.to_string())]),
        outcome: label(l, "outcome", d.outcome.as_str()),
        outcome_code: d.outcome.as_str(),
        can_edit: mine && ctx.can(Permission::RecordAccess),
        readonly_note: (!mine).then(|| tr_args(l, "access-readonly", &[("org", org)])),
        details,
        files,
        file_error,
    };
    render(StatusCode::OK, &page)
}

pub(super) async fn edit_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let a = visible(&st, &ctx, &id).await?;
    editable(&ctx, &a)?;
    let l = ctx.locale;
    let f = st.store.facility(a.draft.facility_id).await?;
    let zone = f.as_ref().map(|f| f.time_zone()).unwrap_or(vigia_domain::geo::LEGAL_TIME_ZONE);
    let form = FormView {
        title: tr_args(l, "access-edit-title", &[("when", format_local(a.draft.attempted_at, zone))]),
        action: format!("/access/{}/edit", a.id),
        submit: tr(l, "facility-save"),
        version: Some(a.version),
        summary: None,
        fields: attempt_form(l, &values_of(&a, zone), &ValidationErrors::new(), &sorted_facilities(&st).await?),
    };
    render(StatusCode::OK, &FormPage { c: Chrome::new(&ctx, &format!("/access/{}/edit", a.id)), form })
}

pub(super) async fn update_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let a = visible(&st, &ctx, &id).await?;
    editable(&ctx, &a)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let pairs = form.joined("restrictions");
    let l = ctx.locale;
    let title = tr(l, "access-new-title");
    let action = format!("/access/{}/edit", a.id);
    match draft(&st, &RawInput::from_pairs(pairs.clone())).await {
        Ok(d) => match st.store.update_attempt(&ctx.actor(), a.org_id, a.id, version, d).await {
            Ok(b) => Ok(Redirect::to(&format!("/access/{}?saved=1", b.id)).into_response()),
            Err(vigia_store::StoreError::Conflict(_)) => {
                invalid(
                    &st,
                    &ctx,
                    Target { title, action, version: Some(a.version) },
                    &pairs,
                    &ValidationErrors::new(),
                    StatusCode::CONFLICT,
                )
                .await
            }
            Err(e) => Err(WebError::from(e).into()),
        },
        Err(WebError::Invalid(errs)) => {
            invalid(&st, &ctx, Target { title, action, version }, &pairs, &errs, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn history_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let a = visible(&st, &ctx, &id).await?;
    let (entries, withheld) = history(&st, ctx.require_user()?.org_id, &a).await?;
    let l = ctx.locale;
    let page = HistoryPage {
        c: Chrome::new(&ctx, &format!("/access/{}/history", a.id)),
        title: tr(l, "access-title"),
        versions: crate::kit::version_views(&st, l, &crate::kit::with_text_opened(&st, &entries).await?).await?,
        withheld: (withheld > 0).then(|| tr_args(l, "history-withheld", &[("count", withheld.to_string())])),
    };
    render(StatusCode::OK, &page)
}

pub(super) const ATTEMPT_IMPORT: crate::kit::ImportKind = crate::kit::ImportKind {
    path: "/access/import",
    title: "access-import-title",
    intro: "access-import-intro",
    columns: "access-import-columns",
    done: "access-imported",
    progress: Some("/api/v1/access-attempts/import/progress/"),
};

/// Chunks of an arriving file queued for its reader, at most (a few hundred KiB).
pub const QUEUED_CHUNKS: usize = 16;

/// The progress of a new import by `user_id`, watched under the key the caller chose
/// (`?progress=`), which must look random.
pub fn watch(
    st: &AppState,
    user_id: i64,
    key: Option<&String>,
) -> Result<std::sync::Arc<vigia_app::imports::Progress>, WebError> {
    if key.is_some_and(|k| !vigia_app::imports::valid_watch_key(k)) {
        let e = vigia_domain::FieldError::new("progress", "invalid_progress_key");
        return Err(WebError::Invalid(ValidationErrors(vec![e])));
    }
    Ok(st.imports.start(user_id, key.map(String::as_str)))
}

/// How long an import's body may send nothing before it is given up (the signed-in
/// minimum rate is an average: a body could send fast, then wait for days).
const IDLE: std::time::Duration = std::time::Duration::from_secs(60);

fn idle() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "the upload sent nothing for a minute")
}

type Feed = tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>;

/// Hands one piece of an arriving body to its reader: data, the end (`None`, said as
/// the reader expects it: an empty chunk), or the body's failure, which ends the
/// reading with it. Whether to go on: not after the end or a failure, nor once the
/// reader has gone (a problem found, a row too long).
async fn hand_on(tx: &Feed, piece: std::io::Result<Option<axum::body::Bytes>>) -> bool {
    let chunk = match piece {
        Ok(Some(data)) if data.is_empty() => return true,
        Ok(Some(data)) => Ok(Vec::from(data)),
        Ok(None) => Ok(Vec::new()),
        Err(e) => Err(e),
    };
    let last = chunk.as_ref().map_or(true, Vec::is_empty);
    tx.send(chunk).await.is_ok() && !last
}

/// Hands a request body's chunks to `tx` as they arrive (see [`hand_on`]); a body
/// that sends nothing for [`IDLE`] fails.
pub async fn feed_body(mut body: axum::body::Body, tx: Feed) {
    use http_body_util::BodyExt;
    loop {
        let piece = match tokio::time::timeout(IDLE, body.frame()).await {
            Err(_) => Err(idle()),
            Ok(None) => Ok(None),
            Ok(Some(Ok(f))) => match f.into_data() {
                Ok(data) => Ok(Some(data)),
                Err(_) => continue, // trailers
            },
            Ok(Some(Err(e))) => Err(std::io::Error::other(e.to_string())),
        };
        if !hand_on(&tx, piece).await {
            return;
        }
    }
}

/// Hands a multipart field's chunks to `tx` as they arrive (see [`feed_body`]).
async fn feed_field(field: &mut axum::extract::multipart::Field<'_>, tx: Feed) {
    loop {
        let piece = match tokio::time::timeout(IDLE, field.chunk()).await {
            Err(_) => Err(idle()),
            Ok(piece) => piece.map_err(|e| std::io::Error::other(e.body_text())),
        };
        if !hand_on(&tx, piece).await {
            return;
        }
    }
}

/// Imports an attempts CSV for the organization as it arrives: all rows or none.
pub async fn import_stream(
    st: &AppState,
    ctx: &Ctx,
    org_id: i64,
    input: vigia_app::imports::ChannelReader,
    progress: std::sync::Arc<vigia_app::imports::Progress>,
) -> Result<Result<AttemptImport, Vec<vigia_domain::import::RowError>>, WebError> {
    let facilities = match st.store.list_facilities().await {
        Ok(f) => f,
        Err(e) => {
            progress.refuse();
            return Err(e.into());
        }
    };
    Ok(vigia_app::imports::import_attempts_stream(&st.store, facilities, &ctx.actor(), org_id, input, progress).await?)
}

/// The form's token, read in pieces and refused past the length a token has, so a
/// field posing as one cannot fill memory on a route without a body limit.
async fn token_field(field: &mut axum::extract::multipart::Field<'_>) -> Result<String, WebError> {
    const MOST: usize = 256;
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| WebError::BadRequest(e.body_text()))? {
        if bytes.len() + chunk.len() > MOST {
            return Err(WebError::Csrf);
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| WebError::Csrf)
}

const PROGRESS_JS: &str = include_str!("../../static/import-progress.js");

async fn progress_script() -> axum::response::Response {
    use axum::http::header;
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], PROGRESS_JS)
        .into_response()
}

pub(super) async fn import_page(Extension(ctx): Extension<Ctx>) -> PageResult {
    ctx.require(Permission::RecordAccess)?;
    crate::kit::import_page_for(&ctx, &ATTEMPT_IMPORT, None)
}

/// A CSV of the organization's attempts, uploaded from the page and read as it
/// arrives: all rows or none. The form's token must come before the file (as the
/// page's form sends it), so nothing is read from a request that fails it.
pub(super) async fn import_submit(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    mut multipart: axum::extract::Multipart,
) -> PageResult {
    let user = ctx.require(Permission::RecordAccess)?.clone();
    let bad = |e: axum::extract::multipart::MultipartError| WebError::BadRequest(e.body_text());
    let mut csrf = None;
    let mut outcome = None;
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf") if csrf.is_none() => csrf = Some(token_field(&mut field).await?),
            Some("file") => {
                ctx.check_form(csrf.as_deref(), &headers)?;
                let _running = st.imports.run(user.id).ok_or(WebError::Busy)?;
                let progress = watch(&st, user.id, q.get("progress"))?;
                let (tx, reader) = vigia_app::imports::ChannelReader::new(QUEUED_CHUNKS);
                let (_, imported) =
                    tokio::join!(feed_field(&mut field, tx), import_stream(&st, &ctx, user.org_id, reader, progress));
                outcome = Some(imported?);
                break;
            }
            // The form has its token and its file, nothing else: anything before the
            // file is refused unread.
            _ => return Err(WebError::Csrf.into()),
        }
    }
    let Some(outcome) = outcome else {
        ctx.check_form(csrf.as_deref(), &headers)?;
        let e = vigia_domain::FieldError::new("file", "required");
        return Err(WebError::Invalid(ValidationErrors(vec![e])).into());
    };
    let outcome = outcome.map(|imp| {
        vec![
            ("count", imp.row_count.to_string()),
            ("import", imp.id.to_string()),
            ("file", imp.file_sha256.unwrap_or_default()),
        ]
    });
    crate::kit::import_page_for(&ctx, &ATTEMPT_IMPORT, Some(outcome))
}
