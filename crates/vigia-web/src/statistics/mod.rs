//! Official statistics (issue #18 part 1): the UPM bulletin's tables imported as
//! dataset versions with their provenance, each version's figures and revisions, series
//! with their spikes and breaks, and the side-by-side view with the organization's own
//! records. Every figure is labelled "events, not people". Reading is open to every
//! member; importing needs [`Permission::ImportStatistics`].

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use vigia_domain::account::{Locale, Permission};
use vigia_domain::input::RawInput;
use vigia_domain::statistics::bulletin::Problem;
use vigia_domain::statistics::{self as stats, key_name, Dimension, Measure, YearMonth};
use vigia_domain::{FieldError, ValidationErrors};
use vigia_store::StatVersion;

use crate::auth::Ctx;
use crate::error::WebError;
use crate::i18n::{tr, tr_args};
use crate::kit::{render, today, Chrome, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub mod api;
mod chart;

pub fn routes() -> Routes {
    Routes::default()
        .get("/statistics", index_page)
        .upload("/statistics/import", import_page, crate::state::CSV_ROUTE_LIMIT)
        .get("/statistics/versions/{id}", version_page)
        .get("/statistics/versions/{id}/file", version_file)
        .get("/statistics/series", series_page)
        .get("/statistics/series.csv", series_csv)
        .get("/statistics/series.jsonl", series_csv)
        .get("/statistics/series.svg", series_svg)
        .get("/statistics/timeline", timeline_page)
        .merge(api::routes())
}

pub(crate) type Params = Query<HashMap<String, String>>;

fn spanish(l: Locale) -> bool {
    l == Locale::Es
}

pub(crate) fn month_label(l: Locale, ym: YearMonth) -> String {
    format!("{} {}", tr(l, &format!("month-{}", ym.month)), ym.year)
}

fn months_label(l: Locale, v: &StatVersion) -> String {
    match (v.months.first(), v.months.last()) {
        (Some(a), Some(b)) if a == b => format!("{} {}", tr(l, &format!("month-{a}")), v.year),
        (Some(a), Some(b)) => format!("{}–{} {}", tr(l, &format!("month-{a}")), tr(l, &format!("month-{b}")), v.year),
        _ => v.year.to_string(),
    }
}

/// The series a request names: measure, dimension, key; each checked.
pub(crate) type SeriesQuery = (Option<String>, Measure, Dimension, String);

pub(crate) fn series_query(q: &HashMap<String, String>) -> Result<SeriesQuery, WebError> {
    let mut errs = ValidationErrors::new();
    // Absent: the default; present, exactly a code (no blank, no padding).
    let measure = match q.get("measure") {
        None => Some(Measure::Returned),
        Some(v) => Measure::ALL.iter().copied().find(|m| m.as_str() == v),
    };
    if measure.is_none() {
        errs.push(FieldError::new("measure", "unknown_choice"));
    }
    let dimension = match q.get("dimension") {
        None => Some(Dimension::Nationality),
        Some(v) => Dimension::ALL.iter().copied().find(|d| d.as_str() == v),
    };
    if dimension.is_none() {
        errs.push(FieldError::new("dimension", "unknown_choice"));
    }
    let key = q.get("key").cloned().unwrap_or_else(|| "total".into());
    if key.is_empty()
        || key.len() > 40
        || !key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '+' | '_'))
    {
        errs.push(FieldError::new("key", "unknown_choice"));
    }
    let table = q.get("table").cloned();
    if let Some(t) = &table {
        let parts: Vec<&str> = t.split('.').collect();
        if parts.len() < 2
            || parts.len() > 4
            || parts.iter().any(|p| p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            errs.push(FieldError::new("table", "unknown_choice"));
        }
    }
    match (measure, dimension) {
        (Some(m), Some(d)) if errs.is_empty() => Ok((table, m, d, key)),
        _ => Err(errs.into()),
    }
}

/// A month range from `from` and `until` (`2019-10`), defaulting to the demo's window
/// around January 2020 when absent; at most ten years.
pub(crate) fn range_query(q: &HashMap<String, String>) -> Result<(YearMonth, YearMonth), WebError> {
    let mut errs = ValidationErrors::new();
    let mut month = |k: &str, default: YearMonth| match q.get(k) {
        None => Some(default),
        Some(v) => {
            let shaped = v.len() == 7
                && v.as_bytes()[4] == b'-'
                && v.bytes().enumerate().all(|(i, b)| i == 4 || b.is_ascii_digit());
            let m = YearMonth::parse(v).filter(|m| shaped && (1990..=2100).contains(&m.year));
            if m.is_none() {
                errs.push(FieldError::new(k, "expected_month"));
            }
            m
        }
    };
    let from = month("from", YearMonth { year: 2019, month: 7 });
    let until = month("until", YearMonth { year: 2020, month: 6 });
    if let (Some(a), Some(b)) = (from, until) {
        if b < a {
            errs.push(FieldError::new("until", "before_start"));
        } else if b.index() - a.index() >= 120 {
            errs.push(FieldError::new("until", "range_too_long"));
        }
    }
    match (from, until) {
        (Some(a), Some(b)) if errs.is_empty() => Ok((a, b)),
        _ => Err(errs.into()),
    }
}

/// What the page says of a version: table, period, provenance.
pub struct VersionRow {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub measure: String,
    pub dimension: String,
    pub period: String,
    pub publisher: String,
    pub source_url: Option<String>,
    pub retrieved: String,
    pub published: String,
    pub file_name: String,
    pub file_sha256: String,
    pub imported: String,
    pub illustrative: bool,
    pub series_link: String,
}

pub(crate) fn version_row(l: Locale, v: &StatVersion) -> VersionRow {
    VersionRow {
        id: v.id,
        code: v.code.clone(),
        title: v.title.clone(),
        measure: tr(l, &format!("stats-measure-{}", v.measure.as_str())),
        dimension: tr(l, &format!("stats-dimension-{}", v.dimension.as_str())),
        period: months_label(l, v),
        publisher: v.provenance.publisher.clone(),
        source_url: v.provenance.source_url.clone(),
        retrieved: v.provenance.retrieved_on.to_string(),
        published: v.provenance.published_on.map(|d| d.to_string()).unwrap_or_else(|| tr(l, "stats-unknown")),
        file_name: v.file_name.clone(),
        file_sha256: v.file_sha256.clone(),
        imported: crate::kit::when(v.imported_at),
        illustrative: v.provenance.illustrative,
        series_link: format!(
            "/statistics/series?table={}&measure={}&dimension={}&key=total",
            v.code,
            v.measure.as_str(),
            v.dimension.as_str()
        ),
    }
}

#[derive(Template)]
#[template(path = "statistics/templates/index.html")]
struct IndexPage {
    c: Chrome,
    latest: Vec<VersionRow>,
    history: usize,
    can_import: bool,
    today: String,
    problems: Vec<(String, String, String, String)>,
    error: Option<String>,
}

async fn index(
    st: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    problems: &[Problem],
    error: Option<String>,
) -> PageResult {
    ctx.signed_in()?;
    let l = ctx.locale;
    let all = st.store.stat_versions().await?;
    let latest = vigia_app::statistics::latest(&all);
    render(
        status,
        &IndexPage {
            c: Chrome::new(ctx, "/statistics"),
            history: all.len() - latest.len(),
            latest: latest.iter().rev().map(|v| version_row(l, v)).collect(),
            can_import: ctx.can(Permission::ImportStatistics),
            today: today().to_string(),
            problems: crate::i18n::sheet_problem_rows(l, problems),
            error,
        },
    )
}

async fn index_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    index(&st, &ctx, StatusCode::OK, &[], None).await
}

/// Imports an uploaded file for the signed-in member's organization: the versions, or
/// every cell that could not be placed.
pub(crate) async fn import(
    st: &AppState,
    ctx: &Ctx,
    file_name: &str,
    bytes: Vec<u8>,
    raw: &RawInput,
) -> Result<Result<Vec<StatVersion>, Vec<Problem>>, WebError> {
    let user = ctx.require(Permission::ImportStatistics)?.clone();
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&stats::PROVENANCE_FIELDS, &mut errs);
    let provenance = stats::provenance(raw, today());
    let provenance = match provenance {
        Ok(p) if errs.is_empty() => p,
        Ok(_) => return Err(errs.into()),
        Err(e) => {
            errs.0.extend(e.0);
            return Err(errs.into());
        }
    };
    if bytes.is_empty() {
        return Err(ValidationErrors::single("file", "required").into());
    }
    match vigia_app::statistics::import(&st.store, &ctx.actor(), user.org_id, file_name, bytes, provenance).await {
        Err(vigia_app::AppError::Store(vigia_store::StoreError::Conflict(c)))
            if c.starts_with("stats_already_imported") =>
        {
            let id = c.rsplit(':').next().unwrap_or("").to_string();
            Err(WebError::Conflict(tr_args(ctx.locale, "stats-already-imported", &[("id", id)])))
        }
        other => Ok(other?),
    }
}

async fn import_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    multipart: axum::extract::Multipart,
) -> PageResult {
    ctx.require(Permission::ImportStatistics)?;
    let (csrf, name, bytes, fields) = crate::kit::read_upload_with_fields(multipart).await?;
    ctx.check_form(csrf.as_deref(), &headers)?;
    let raw = RawInput::from_pairs(fields);
    match import(&st, &ctx, &name, bytes.to_vec(), &raw).await {
        Ok(Ok(versions)) => {
            let first = versions.first().map(|v| v.id).unwrap_or(0);
            Ok(Redirect::to(&format!("/statistics/versions/{first}?imported={}", versions.len())).into_response())
        }
        Ok(Err(problems)) => index(&st, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &problems, None).await,
        Err(WebError::Invalid(errs)) => {
            let words: Vec<String> = errs.0.iter().map(|e| crate::i18n::field_error(ctx.locale, e)).collect();
            let fields: Vec<String> = errs.0.iter().map(|e| crate::kit::label(ctx.locale, "field", &e.field)).collect();
            let text = fields.iter().zip(&words).map(|(f, w)| format!("{f}: {w}")).collect::<Vec<_>>().join(" ");
            index(&st, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &[], Some(text)).await
        }
        Err(WebError::Conflict(what)) => index(&st, &ctx, StatusCode::CONFLICT, &[], Some(what)).await,
        Err(e) => Err(e.into()),
    }
}

/// A version with what changed since the version before it of the same table and year.
pub(crate) struct VersionDetail {
    pub version: StatVersion,
    pub rows: Vec<vigia_store::StatRow>,
    pub previous: Option<StatVersion>,
    pub revisions: Vec<stats::Revision>,
    /// Every version of the same table and year, newest first.
    pub siblings: Vec<StatVersion>,
}

pub(crate) async fn detail(st: &AppState, id: &str) -> Result<VersionDetail, WebError> {
    let id = crate::kit::parse_id(id)?;
    let version = st.store.stat_version(id).await?.ok_or(WebError::NotFound)?;
    let all = st.store.stat_versions().await?;
    let siblings: Vec<StatVersion> = vigia_app::statistics::siblings(&all, &version).into_iter().cloned().collect();
    // The file before this one: the next older in the list (newest file first).
    let previous = siblings.iter().skip_while(|v| v.id != version.id).nth(1).cloned();
    let revisions = match &previous {
        Some(p) => {
            let before: Vec<stats::Figure> =
                st.store.stat_figures(&[p.id], None).await?.into_iter().map(|(_, f)| f).collect();
            let after: Vec<stats::Figure> =
                st.store.stat_figures(&[version.id], None).await?.into_iter().map(|(_, f)| f).collect();
            stats::revisions(&before, &after)
        }
        None => Vec::new(),
    };
    let rows = st.store.stat_rows(version.id).await?;
    Ok(VersionDetail { version, rows, previous, revisions, siblings })
}

#[derive(Template)]
#[template(path = "statistics/templates/version.html")]
struct VersionPage {
    c: Chrome,
    v: VersionRow,
    imported: Option<String>,
    months: Vec<String>,
    rows: Vec<(String, bool, String, Vec<String>)>,
    revisions: Vec<String>,
    previous: Option<(i64, String)>,
    siblings: Vec<(i64, String, String, bool)>,
}

async fn version_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Params,
) -> PageResult {
    ctx.signed_in()?;
    let l = ctx.locale;
    let d = detail(&st, &id).await?;
    let v = &d.version;
    let label_of = |key: &str| {
        d.rows
            .iter()
            .find(|r| r.key == key)
            .map(|r| key_name_or_label(l, key, &r.label))
            .unwrap_or_else(|| key_name(key, spanish(l)))
    };
    let file_of =
        |p: &StatVersion| tr_args(l, "stats-file-of", &[("period", months_label(l, p)), ("id", p.id.to_string())]);
    let revisions = d
        .revisions
        .iter()
        .map(|r| {
            let when = YearMonth::new(v.year, r.month).map(|m| month_label(l, m)).unwrap_or_default();
            match (r.before, r.after) {
                (Some(before), Some(after)) => tr_args(
                    l,
                    "stats-revision",
                    &[
                        ("row", label_of(&r.key)),
                        ("month", when),
                        ("before", before.to_string()),
                        ("after", after.to_string()),
                        ("file", file_of(v)),
                    ],
                ),
                (Some(before), None) => tr_args(
                    l,
                    "stats-revision-dropped",
                    &[("row", label_of(&r.key)), ("month", when), ("before", before.to_string()), ("file", file_of(v))],
                ),
                (None, after) => tr_args(
                    l,
                    "stats-revision-added",
                    &[
                        ("row", label_of(&r.key)),
                        ("month", when),
                        ("after", after.map(|a| a.to_string()).unwrap_or_default()),
                        ("file", file_of(v)),
                    ],
                ),
            }
        })
        .collect();
    render(
        StatusCode::OK,
        &VersionPage {
            c: Chrome::new(&ctx, "/statistics"),
            imported: q.get("imported").map(|n| tr_args(l, "stats-imported", &[("count", n.clone())])),
            months: v.months.iter().map(|m| tr(l, &format!("month-{m}"))).collect(),
            rows: d
                .rows
                .iter()
                .map(|r| {
                    (
                        key_name_or_label(l, &r.key, &r.label),
                        r.kind != stats::RowKind::Country && r.kind != stats::RowKind::Category,
                        format!(
                            "/statistics/series?table={}&measure={}&dimension={}&key={}",
                            v.code,
                            v.measure.as_str(),
                            v.dimension.as_str(),
                            r.key
                        ),
                        v.months
                            .iter()
                            .map(|m| {
                                r.values.iter().find(|(k, _)| k == m).map(|(_, x)| x.to_string()).unwrap_or_default()
                            })
                            .collect(),
                    )
                })
                .collect(),
            revisions,
            previous: d.previous.as_ref().map(|p| (p.id, file_of(p))),
            siblings: d
                .siblings
                .iter()
                .map(|s| (s.id, file_of(s), crate::kit::when(s.imported_at), s.id == v.id))
                .collect(),
            v: version_row(l, v),
        },
    )
}

/// A row's name in the reader's language when Vigía knows the key, else as printed.
fn key_name_or_label(l: Locale, key: &str, label: &str) -> String {
    let named = key_name(key, spanish(l));
    if named == key {
        label.to_string()
    } else {
        named
    }
}

async fn version_file(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, crate::error::PageError> {
    ctx.signed_in()?;
    let id = crate::kit::parse_id(&id)?;
    let (name, media, bytes) = st.store.stat_file(id).await?.ok_or(WebError::NotFound)?;
    let safe: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    Ok((
        [
            (header::CONTENT_TYPE, media),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe}\"")),
            (header::HeaderName::from_static("x-content-type-options"), "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "statistics/templates/series.html")]
struct SeriesPage {
    c: Chrome,
    table: String,
    measure: &'static str,
    dimension: &'static str,
    key: String,
    name: String,
    measures: Vec<(&'static str, String)>,
    dimensions: Vec<(&'static str, String)>,
    keys: Vec<(String, String)>,
    chart: String,
    rows: Vec<(String, String, String)>,
    signals: Vec<String>,
    sources: Vec<(i64, String)>,
    illustrative: bool,
    query: String,
}

/// A series' query: its table (when known), measure, dimension and key.
fn series_params(s: &vigia_app::statistics::Series) -> String {
    let table = s.table.as_ref().map(|t| format!("table={t}&")).unwrap_or_default();
    format!("{table}measure={}&dimension={}&key={}", s.measure.as_str(), s.dimension.as_str(), s.key)
}

pub(crate) fn signal_text(l: Locale, s: &vigia_domain::statistics::signals::Signal) -> String {
    tr_args(
        l,
        &format!(
            "stats-signal-{}",
            if s.kind == vigia_domain::statistics::signals::Kind::Break { "break" } else { "spike" }
        ),
        &[
            ("month", month_label(l, s.month)),
            (
                "direction",
                tr(
                    l,
                    if s.direction == vigia_domain::statistics::signals::Direction::Up {
                        "stats-up"
                    } else {
                        "stats-down"
                    },
                ),
            ),
            ("value", s.value.to_string()),
            ("baseline", (s.baseline.round() as i64).to_string()),
        ],
    )
}

fn series_chart(l: Locale, name: &str, measure: Measure, s: &vigia_app::statistics::Series) -> String {
    let months = s.months();
    let marked: Vec<bool> = months.iter().map(|(m, _)| s.signals.iter().any(|x| x.month == *m)).collect();
    chart::svg(
        l,
        &format!("{} — {name}", tr(l, &format!("stats-measure-{}", measure.as_str()))),
        &months.iter().map(|(m, _)| m.label()).collect::<Vec<_>>(),
        &[chart::Panel { title: tr(l, "stats-official"), values: s.values.clone(), marked, class: "official" }],
    )
}

async fn series_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>, Query(q): Params) -> PageResult {
    ctx.signed_in()?;
    let l = ctx.locale;
    let (table, measure, dimension, key) = series_query(&q)?;
    let s = vigia_app::statistics::series(&st.store, table.as_deref(), measure, dimension, &key).await?;
    let keys = vigia_app::statistics::keys(&st.store, s.table.as_deref(), measure, dimension).await?;
    let name = key_name(&key, spanish(l));
    render(
        StatusCode::OK,
        &SeriesPage {
            // The query too: switching language keeps the series in view.
            c: Chrome::new(
                &ctx,
                &format!("/statistics/series?measure={}&dimension={}&key={key}", measure.as_str(), dimension.as_str()),
            ),
            measure: measure.as_str(),
            dimension: dimension.as_str(),
            chart: series_chart(l, &name, measure, &s),
            rows: s
                .months()
                .iter()
                .map(|(m, v)| {
                    let flag = s.signals.iter().find(|x| x.month == *m).map(|x| signal_text(l, x)).unwrap_or_default();
                    (month_label(l, *m), v.map(|v| v.to_string()).unwrap_or_else(|| "—".into()), flag)
                })
                .collect(),
            signals: s.signals.iter().map(|x| signal_text(l, x)).collect(),
            sources: s
                .versions
                .iter()
                .map(|v| (v.id, format!("{} · {} · {}", v.code, months_label(l, v), v.provenance.publisher)))
                .collect(),
            illustrative: s.illustrative,
            measures: Measure::ALL
                .iter()
                .map(|m| (m.as_str(), tr(l, &format!("stats-measure-{}", m.as_str()))))
                .collect(),
            dimensions: Dimension::ALL
                .iter()
                .map(|d| (d.as_str(), tr(l, &format!("stats-dimension-{}", d.as_str()))))
                .collect(),
            keys: keys.iter().map(|(k, _)| (k.clone(), key_name(k, spanish(l)))).collect(),
            query: series_params(&s),
            table: s.table.clone().unwrap_or_default(),
            key,
            name,
        },
    )
}

/// The series as CSV: one row per month, the unit in every row.
async fn series_csv(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Params,
    uri: axum::http::Uri,
) -> Result<Response, crate::error::PageError> {
    ctx.signed_in()?;
    let (table, measure, dimension, key) = series_query(&q)?;
    let s = vigia_app::statistics::series(&st.store, table.as_deref(), measure, dimension, &key).await?;
    let head = ["month", "measure", "dimension", "key", "events", "unit", "signal", "illustrative"];
    let rows: Vec<Vec<String>> = s
        .months()
        .into_iter()
        .map(|(m, v)| {
            let signal = s
                .signals
                .iter()
                .find(|x| x.month == m)
                .map(|x| format!("{:?}", x.kind).to_lowercase())
                .unwrap_or_default();
            vec![
                m.label(),
                measure.as_str().to_string(),
                dimension.as_str().to_string(),
                key.clone(),
                v.map(|v| v.to_string()).unwrap_or_default(),
                stats::EVENTS_NOT_PEOPLE.to_string(),
                signal,
                s.illustrative.to_string(),
            ]
        })
        .collect();
    let name = format!("{}-{}", measure.as_str(), key.replace([':', '+'], "-"));
    let head = head.iter().map(|h| (h.to_string(), h.to_string())).collect();
    Ok(crate::kit::listing::download_of(crate::kit::listing::Format::of(&uri), &name, head, rows))
}

async fn series_svg(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Params,
) -> Result<Response, crate::error::PageError> {
    ctx.signed_in()?;
    let (table, measure, dimension, key) = series_query(&q)?;
    let s = vigia_app::statistics::series(&st.store, table.as_deref(), measure, dimension, &key).await?;
    let svg = series_chart(ctx.locale, &key_name(&key, spanish(ctx.locale)), measure, &s);
    Ok(([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")], svg).into_response())
}

#[derive(Template)]
#[template(path = "statistics/templates/timeline.html")]
struct TimelinePage {
    c: Chrome,
    illustrative: bool,
    key: String,
    name: String,
    from: String,
    until: String,
    keys: Vec<(String, String)>,
    chart: String,
    rows: Vec<(String, String, String, String, String, String)>,
}

async fn timeline_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>, Query(q): Params) -> PageResult {
    let user = ctx.signed_in()?.clone();
    let l = ctx.locale;
    let (from, until) = range_query(&q)?;
    let key = q.get("key").cloned().unwrap_or_else(|| "HND".into());
    let (_, _, _, key) = series_query(&HashMap::from([("key".to_string(), key)]))?;
    let q = vigia_app::statistics::TimelineQuery { viewer_org: user.org_id, key, from, until };
    let kept = vigia_app::statistics::timeline(&st.store, &st.analyses, &st.detections, &st.timelines, &q).await?;
    let (key, (months, illustrative)) = (q.key, (&kept.0, kept.1));
    let name = key_name(&key, spanish(l));
    let labels: Vec<String> = months.iter().map(|m| m.month.clone()).collect();
    let closed: Vec<bool> = months.iter().map(|m| !m.suspensions.is_empty()).collect();
    let chart = chart::svg(
        l,
        &tr_args(l, "stats-timeline-chart", &[("name", name.clone())]),
        &labels,
        &[
            chart::Panel {
                title: tr_args(l, "stats-timeline-returned", &[("name", name.clone())]),
                values: months.iter().map(|m| m.returned).collect(),
                marked: closed.clone(),
                class: "official",
            },
            chart::Panel {
                title: tr(l, "stats-timeline-refusals"),
                values: months.iter().map(|m| Some(m.refusals)).collect(),
                marked: closed,
                class: "own",
            },
        ],
    );
    let keys = vigia_app::statistics::keys(&st.store, None, Measure::Returned, Dimension::Nationality).await?;
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "—".into());
    render(
        StatusCode::OK,
        &TimelinePage {
            c: Chrome::new(
                &ctx,
                &format!("/statistics/timeline?key={key}&from={}&until={}", from.label(), until.label()),
            ),
            rows: months
                .iter()
                .map(|m| {
                    (
                        YearMonth::parse(&m.month).map(|ym| month_label(l, ym)).unwrap_or_else(|| m.month.clone()),
                        opt(m.returned),
                        opt(m.presented),
                        format!("{} / {}", m.refusals, m.attempts),
                        m.statements.to_string(),
                        if m.suspensions.is_empty() {
                            String::new()
                        } else {
                            tr_args(l, "stats-timeline-suspension", &[("start", m.suspensions.join(", "))])
                        },
                    )
                })
                .collect(),
            keys: keys
                .iter()
                .filter(|(_, k)| *k != stats::RowKind::Region)
                .map(|(k, _)| (k.clone(), key_name(k, spanish(l))))
                .collect(),
            from: from.label(),
            until: until.label(),
            illustrative,
            chart,
            key,
            name,
        },
    )
}
