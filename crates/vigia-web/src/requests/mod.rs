//! Access-to-information requests (issue #20 part 1): the organization's requests with
//! where each stands and what to act on today, a form to record one and an import of an
//! existing log; each request with its deadlines (article, quoted words, the count's
//! days on the clock page), what happened to it, the records it concerns and its files;
//! the analysis by authority and year. Everything here needs
//! [`Permission::TrackRequests`] and is the organization's own.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Extension;
use vigia_app::transparency::{AuthorityYear, RequestView, TodayRequest};
use vigia_domain::account::{Locale, Permission};
use vigia_domain::input::RawInput;
use vigia_domain::transparency::{
    AnswerType, Channel, Deadline, DeadlineStatus, EventKind, LinkKind, Outcome, Regimes, AUTHORITIES,
};
use vigia_domain::ValidationErrors;

use crate::auth::Ctx;
use crate::error::WebError;
use crate::i18n::{field_error, tr, tr_args};
use crate::kit::{label, render, today, Chrome, FormBody, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub mod api;

pub fn routes() -> Routes {
    Routes::default()
        .get("/requests", list_page)
        .post("/requests", create_page)
        .upload("/requests/import", import_page, crate::state::CSV_ROUTE_LIMIT)
        .get("/requests/{id}", detail_page)
        .post("/requests/{id}/events", event_page)
        .post("/requests/{id}/links", link_page)
        .merge(api::routes())
}

/// How many working days ahead the "today" list looks.
pub(crate) const HORIZON: u32 = 5;

pub(crate) fn authority_name(l: Locale, code: &str) -> String {
    label(l, "authority", code)
}

/// A deadline as people read it: what, the day (or why none), where it stands, and on
/// what basis.
pub struct DeadlineRow {
    pub what: String,
    pub due: String,
    pub status: String,
    pub status_class: &'static str,
    pub basis: String,
    pub why: Option<String>,
}

fn deadline_row(l: Locale, d: &Deadline, regime: Option<&vigia_domain::transparency::Regime>) -> DeadlineRow {
    let status_class = match d.status {
        DeadlineStatus::Overdue | DeadlineStatus::Late => "bad",
        DeadlineStatus::Pending => "warn",
        DeadlineStatus::Met => "ok",
        DeadlineStatus::Expired | DeadlineStatus::NotComputed => "muted",
    };
    let due = match (d.due, d.reason) {
        (Some(due), _) => due.to_string(),
        (None, Some(r)) => tr(l, &format!("req-reason-{r}")),
        (None, None) => "—".into(),
    };
    let mut status = tr(l, &format!("req-status-{}", d.status.as_str()));
    if let Some(done) = d.done_on {
        status = format!("{status} ({done})");
    }
    let basis = match regime {
        Some(r) if !d.articles.is_empty() => {
            let quotes: Vec<String> = r
                .rules
                .iter()
                .filter(|x| x.kind == d.kind || (d.extended && Some(x.kind) == extension_of(d.kind)))
                .map(|x| format!("{}: «{}»", x.article, x.quote))
                .collect();
            let days = d.days.map(|n| tr_args(l, "req-working-days", &[("n", n.to_string())])).unwrap_or_default();
            format!("{days} — {} ({}). {}", r.title(l), r.version(l), quotes.join(" "))
        }
        _ => String::new(),
    };
    let why = match (d.from, d.days) {
        (Some(from), Some(n)) => Some(format!("/clock?calendar={}&from={from}&working_days={n}", d.calendar)),
        _ => None,
    };
    DeadlineRow { what: tr(l, &format!("req-deadline-{}", d.kind.as_str())), due, status, status_class, basis, why }
}

fn extension_of(k: vigia_domain::transparency::DeadlineKind) -> Option<vigia_domain::transparency::DeadlineKind> {
    use vigia_domain::transparency::DeadlineKind as K;
    match k {
        K::Answer => Some(K::Extension),
        K::Resolution => Some(K::ResolutionExtension),
        _ => None,
    }
}

pub struct ListRow {
    pub id: i64,
    pub folio: String,
    pub authority: String,
    pub filed_on: String,
    pub stage: String,
    pub next: String,
}

fn next_deadline(l: Locale, v: &RequestView) -> String {
    v.deadlines
        .iter()
        .filter(|d| matches!(d.status, DeadlineStatus::Pending | DeadlineStatus::Overdue))
        .min_by_key(|d| d.due)
        .and_then(|d| {
            d.due.map(|due| {
                format!(
                    "{}: {due} ({})",
                    tr(l, &format!("req-deadline-{}", d.kind.as_str())),
                    tr(l, &format!("req-status-{}", d.status.as_str()))
                )
            })
        })
        .unwrap_or_else(|| "—".into())
}

pub(crate) fn today_line(l: Locale, t: &TodayRequest) -> String {
    let left = if t.working_days_left < 0 {
        tr_args(l, "today-overdue-by", &[("days", (-t.working_days_left).to_string())])
    } else {
        tr_args(l, "today-left", &[("days", t.working_days_left.to_string())])
    };
    format!(
        "{} {} — {}: {} ({left}). {}",
        authority_name(l, &t.authority),
        t.folio,
        tr(l, &format!("req-deadline-{}", t.kind.as_str())),
        t.due,
        tr(l, &format!("req-today-{}", t.state))
    )
}

pub struct AnalysisRow {
    pub authority: String,
    pub year: i16,
    pub requests: usize,
    pub answered: usize,
    pub late: usize,
    pub median: String,
    pub inexistent: String,
    pub classified: String,
    pub appealed: usize,
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0} %", v * 100.0)).unwrap_or_else(|| "—".into())
}

pub(crate) fn analysis_rows(l: Locale, a: &[AuthorityYear]) -> Vec<AnalysisRow> {
    a.iter()
        .map(|g| AnalysisRow {
            authority: authority_name(l, &g.authority),
            year: g.year,
            requests: g.requests,
            answered: g.answered,
            late: g.late_or_missing,
            median: g.median_working_days.map(|n| n.to_string()).unwrap_or_else(|| "—".into()),
            inexistent: pct(g.inexistent_share),
            classified: pct(g.classified_share),
            appealed: g.appealed,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "requests/templates/list.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<ListRow>,
    today_items: Vec<(i64, String, &'static str)>,
    analysis: Vec<AnalysisRow>,
    authorities: Vec<(&'static str, String)>,
    channels: Vec<(&'static str, String)>,
    regimes: Vec<(String, String)>,
    today: String,
    values: HashMap<String, String>,
    error: Option<String>,
    problems: Vec<(u64, String, String)>,
    message: Option<String>,
}

struct Shown {
    status: StatusCode,
    values: HashMap<String, String>,
    error: Option<String>,
    problems: Vec<(u64, String, String)>,
    message: Option<String>,
}

impl Default for Shown {
    fn default() -> Self {
        Shown { status: StatusCode::OK, values: HashMap::new(), error: None, problems: vec![], message: None }
    }
}

async fn list(st: &AppState, ctx: &Ctx, shown: Shown) -> PageResult {
    let user = ctx.require(Permission::TrackRequests)?.clone();
    let l = ctx.locale;
    let day = today();
    let views = vigia_app::transparency::list(&st.store, user.org_id, day).await?;
    let cals = vigia_store::calendars(&*st.store).await?;
    let today_items = vigia_app::transparency::today_list(&views, &cals, day, HORIZON)
        .iter()
        .map(|t| (t.request_id, today_line(l, t), if t.state == "overdue" { "bad" } else { "warn" }))
        .collect();
    let analysis = analysis_rows(l, &vigia_app::transparency::analysis(&views, &cals));
    let regimes = vigia_app::transparency::regimes(&st.store).await?;
    render(
        shown.status,
        &ListPage {
            c: Chrome::new(ctx, "/requests"),
            rows: views
                .iter()
                .map(|v| ListRow {
                    id: v.request.id,
                    folio: v.request.draft.folio.clone(),
                    authority: authority_name(l, &v.request.draft.authority),
                    filed_on: v.request.draft.filed_on.to_string(),
                    stage: tr(l, &format!("req-stage-{}", v.stage.as_str())),
                    next: next_deadline(l, v),
                })
                .collect(),
            today_items,
            analysis,
            authorities: AUTHORITIES.iter().map(|a| (*a, authority_name(l, a))).collect(),
            channels: Channel::ALL
                .iter()
                .map(|c| (c.as_str(), tr(l, &format!("req-channel-{}", c.as_str()))))
                .collect(),
            regimes: state_regimes(l, &regimes),
            today: day.to_string(),
            values: shown.values,
            error: shown.error,
            problems: shown.problems,
            message: shown.message,
        },
    )
}

/// The regimes chosen by name (state regimes): the federal ones apply by date.
fn state_regimes(l: Locale, r: &Regimes) -> Vec<(String, String)> {
    r.all().filter(|x| !x.federal).map(|x| (x.name.clone(), x.title(l).to_string())).collect()
}

async fn list_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    q: axum::extract::Query<HashMap<String, String>>,
) -> PageResult {
    let message = q
        .get("imported")
        .and_then(|n| n.parse::<u32>().ok())
        .map(|n| tr_args(ctx.locale, "req-imported", &[("count", n.to_string())]));
    list(&st, &ctx, Shown { message, ..Default::default() }).await
}

async fn create_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require(Permission::TrackRequests)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let pairs = form.joined("");
    let raw = RawInput::from_pairs(pairs.clone());
    match vigia_app::transparency::create(&st.store, &ctx.actor(), user.org_id, &raw, today()).await {
        Ok(r) => Ok(Redirect::to(&format!("/requests/{}", r.id)).into_response()),
        Err(e) => {
            let (status, error) = match WebError::from(e) {
                WebError::Invalid(errs) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, crate::kit::form_problems(ctx.locale, &errs))
                }
                WebError::Conflict(_) => (StatusCode::CONFLICT, tr(ctx.locale, "req-exists")),
                other => return Err(other.into()),
            };
            let values = pairs.into_iter().collect();
            list(&st, &ctx, Shown { status, values, error: Some(error), ..Default::default() }).await
        }
    }
}

async fn import_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    multipart: axum::extract::Multipart,
) -> PageResult {
    let user = ctx.require(Permission::TrackRequests)?.clone();
    let (csrf, _, bytes, _) = crate::kit::read_upload_with_fields(multipart).await?;
    ctx.check_form(csrf.as_deref(), &headers)?;
    if bytes.is_empty() {
        return Err(WebError::from(ValidationErrors::single("file", "required")).into());
    }
    let l = ctx.locale;
    match vigia_app::transparency::import_csv(&st.store, &ctx.actor(), user.org_id, &bytes, today()).await {
        Ok(Ok(n)) => Ok(Redirect::to(&format!("/requests?imported={n}")).into_response()),
        Ok(Err(rows)) => {
            let problems = rows
                .iter()
                .take(vigia_domain::import::LISTED_PROBLEMS)
                .map(|r| (r.line, r.column.clone(), field_error(l, &r.as_field_error())))
                .collect();
            let error = Some(tr_args(l, "form-errors", &[("count", rows.len().to_string())]));
            list(&st, &ctx, Shown { status: StatusCode::UNPROCESSABLE_ENTITY, error, problems, ..Default::default() })
                .await
        }
        Err(vigia_app::AppError::Store(vigia_store::StoreError::Conflict(_))) => {
            let error = Some(tr(l, "req-exists"));
            list(&st, &ctx, Shown { status: StatusCode::CONFLICT, error, ..Default::default() }).await
        }
        Err(e) => Err(WebError::from(e).into()),
    }
}

/// The request if it is the viewer organization's; otherwise not found.
pub(crate) async fn found(st: &AppState, ctx: &Ctx, id: &str) -> Result<RequestView, WebError> {
    let user = ctx.require(Permission::TrackRequests)?.clone();
    let id = crate::kit::parse_id(id)?;
    vigia_app::transparency::view(&st.store, user.org_id, id, today()).await?.ok_or(WebError::NotFound)
}

#[derive(Template)]
#[template(path = "requests/templates/detail.html")]
struct DetailPage {
    c: Chrome,
    id: i64,
    title: String,
    facts: Vec<(String, String)>,
    question: String,
    regime_notes: Option<String>,
    deadlines: Vec<DeadlineRow>,
    events: Vec<(String, String, String, String)>,
    links: Vec<(String, Option<String>)>,
    files: Vec<(i64, String, String)>,
    kinds: Vec<(&'static str, String)>,
    answer_types: Vec<(&'static str, String)>,
    outcomes: Vec<(&'static str, String)>,
    link_kinds: Vec<(&'static str, String)>,
    today: String,
    error: Option<String>,
}

fn link_view(l: Locale, kind: LinkKind, reference: &str) -> (String, Option<String>) {
    let what = tr(l, &format!("req-link-{}", kind.as_str()));
    match kind {
        LinkKind::Suspension => {
            let (from, until) = reference.split_once('/').unwrap_or((reference, reference));
            (format!("{what} {from} – {until}"), Some(format!("/access?from={from}&until={until}")))
        }
        LinkKind::Statement => (format!("{what} #{reference}"), Some(format!("/statements/{reference}"))),
        LinkKind::Recommendation => (format!("{what} #{reference}"), Some(format!("/recommendations/{reference}"))),
        LinkKind::AccessAttempt => (format!("{what} #{reference}"), Some(format!("/access/{reference}"))),
    }
}

async fn detail(st: &AppState, ctx: &Ctx, id: &str, status: StatusCode, error: Option<String>) -> PageResult {
    let v = found(st, ctx, id).await?;
    let l = ctx.locale;
    let regimes = vigia_app::transparency::regimes(&st.store).await?;
    let regime = v.regime_name.as_deref().and_then(|n| regimes.get(n));
    let d = &v.request.draft;
    let mut facts = vec![
        (tr(l, "req-authority"), authority_name(l, &d.authority)),
        (tr(l, "req-folio"), d.folio.clone()),
        (tr(l, "req-filed-on"), d.filed_on.to_string()),
        (tr(l, "req-channel"), tr(l, &format!("req-channel-{}", d.channel.as_str()))),
        (tr(l, "req-stage"), tr(l, &format!("req-stage-{}", v.stage.as_str()))),
        (
            tr(l, "req-regime"),
            regime.map(|r| format!("{} ({})", r.title(l), r.version(l))).unwrap_or_else(|| tr(l, "req-no-regime")),
        ),
    ];
    if let Some(r) = regime {
        let days = match &r.days_article {
            Some(a) => tr_args(l, "req-days-working", &[("article", a.clone())]),
            None => tr(l, "req-days-working-unverified"),
        };
        facts.push((tr(l, "req-days"), days));
    }
    if let Some(by) = &d.filed_by {
        facts.push((tr(l, "req-filed-by"), by.clone()));
    }
    let files = st
        .store
        .attachments(vigia_domain::RecordType::TransparencyRequest, v.request.id)
        .await?
        .into_iter()
        .map(|a| (a.id, a.filename, a.sha256))
        .collect();
    render(
        status,
        &DetailPage {
            c: Chrome::new(ctx, &format!("/requests/{}", v.request.id)),
            id: v.request.id,
            title: format!("{} {}", authority_name(l, &d.authority), d.folio),
            facts,
            question: d.question.clone(),
            regime_notes: regime.and_then(|r| r.notes(l)).map(str::to_string),
            deadlines: v.deadlines.iter().map(|x| deadline_row(l, x, regime)).collect(),
            events: v
                .events
                .iter()
                .map(|e| {
                    let detail = match (e.draft.answer_type, e.draft.outcome) {
                        (Some(t), _) => tr(l, &format!("req-answer-{}", t.as_str())),
                        (_, Some(o)) => tr(l, &format!("req-outcome-{}", o.as_str())),
                        _ => String::new(),
                    };
                    (
                        e.draft.on.to_string(),
                        tr(l, &format!("req-event-{}", e.draft.kind.as_str())),
                        detail,
                        e.draft.note.clone().unwrap_or_default(),
                    )
                })
                .collect(),
            links: v.links.iter().map(|k| link_view(l, k.kind, &k.reference)).collect(),
            files,
            kinds: EventKind::ALL.iter().map(|k| (k.as_str(), tr(l, &format!("req-event-{}", k.as_str())))).collect(),
            answer_types: AnswerType::ALL
                .iter()
                .map(|k| (k.as_str(), tr(l, &format!("req-answer-{}", k.as_str()))))
                .collect(),
            outcomes: Outcome::ALL
                .iter()
                .map(|k| (k.as_str(), tr(l, &format!("req-outcome-{}", k.as_str()))))
                .collect(),
            link_kinds: LinkKind::ALL
                .iter()
                .map(|k| (k.as_str(), tr(l, &format!("req-link-{}", k.as_str()))))
                .collect(),
            today: today().to_string(),
            error,
        },
    )
}

async fn detail_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    q: axum::extract::Query<HashMap<String, String>>,
) -> PageResult {
    // A file refused on upload comes back here with its reason.
    let error = crate::kit::file_error(ctx.locale, &q);
    detail(&st, &ctx, &id, StatusCode::OK, error).await
}

/// Records an event from a page or the API; `None` when the request is not the
/// organization's.
pub(crate) async fn add_event(
    st: &AppState,
    ctx: &Ctx,
    id: &str,
    raw: &RawInput,
) -> Result<vigia_store::RequestEvent, WebError> {
    let user = ctx.require(Permission::TrackRequests)?.clone();
    let id = crate::kit::parse_id(id)?;
    vigia_app::transparency::add_event(&st.store, &ctx.actor(), user.org_id, id, raw, today())
        .await?
        .ok_or(WebError::NotFound)
}

pub(crate) async fn add_link(
    st: &AppState,
    ctx: &Ctx,
    id: &str,
    raw: &RawInput,
) -> Result<vigia_store::RequestLink, WebError> {
    let user = ctx.require(Permission::TrackRequests)?.clone();
    let id = crate::kit::parse_id(id)?;
    vigia_app::transparency::link(&st.store, &ctx.actor(), user.org_id, id, raw).await?.ok_or(WebError::NotFound)
}

async fn form_result(st: &AppState, ctx: &Ctx, id: &str, r: Result<(), WebError>, anchor: &str) -> PageResult {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/requests/{id}#{anchor}")).into_response()),
        Err(WebError::Invalid(errs)) => {
            detail(st, ctx, id, StatusCode::UNPROCESSABLE_ENTITY, Some(crate::kit::form_problems(ctx.locale, &errs)))
                .await
        }
        Err(WebError::Conflict(what)) => {
            let msg = tr(ctx.locale, &format!("req-conflict-{what}"));
            detail(st, ctx, id, StatusCode::CONFLICT, Some(msg)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn event_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require(Permission::TrackRequests)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    // The form offers every field; only those that belong to the kind chosen are sent on.
    let mut pairs = form.joined("");
    let kind = pairs.iter().find(|(k, _)| k == "kind").map(|(_, v)| v.clone()).unwrap_or_default();
    pairs.retain(|(k, _)| (k != "answer_type" || kind == "answer") && (k != "outcome" || kind == "appeal_resolved"));
    let r = add_event(&st, &ctx, &id, &RawInput::from_pairs(pairs)).await.map(|_| ());
    form_result(&st, &ctx, &id, r, "events").await
}

async fn link_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require(Permission::TrackRequests)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let r = add_link(&st, &ctx, &id, &RawInput::from_pairs(form.joined(""))).await.map(|_| ());
    form_result(&st, &ctx, &id, r, "links").await
}

/// The JSON of a request with its deadlines.
pub(crate) fn view_json(v: &RequestView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}
