//! Reports (issue #17): a period report for the organization or its coalition, or a
//! facility's dossier, as a print-friendly page, a PDF made on the server, and JSON.
//! The figures come from `vigia_app::reports` (one model for every form and for
//! `vigia report`); [`document`] puts them in words; `vigia_report` draws them.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use vigia_app::reports::{PeriodQuery, PeriodReport};
use vigia_domain::account::{Locale, Permission};
use vigia_domain::input::RawInput;
use vigia_domain::{FieldError, ValidationErrors};
use vigia_store::DynStore;

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::i18n::tr;
use crate::kit::document::DocLink;
use crate::kit::json::api_user;
use crate::kit::{render, today, Chrome, OptionView, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub mod document;

pub use crate::kit::document::Made;
pub use document::document;

pub fn routes() -> Routes {
    Routes::default()
        .get("/reports", form_page)
        .get("/reports/period", report_page)
        .get("/api/v1/reports/period", api_report)
}

/// The form's choices, as asked.
pub enum Format {
    Html,
    Pdf,
    Json,
}

/// What a report request asks: the figures' question, the document's language and form.
pub struct Ask {
    pub query: PeriodQuery,
    pub lang: Locale,
    pub format: Format,
}

const PARAMS: [&str; 7] = ["scope", "from", "until", "year", "facility_id", "lang", "format"];

/// Reads a report request. A coalition report covers one whole calendar year (`year`,
/// else the year of `until`, else this year): two overlapping coalition periods could
/// be subtracted to reveal what is hidden (docs/disclosure.md). The API (`strict`)
/// refuses `from`/`until` with the coalition scope instead of ignoring them.
pub fn ask(q: &HashMap<String, String>, default_lang: Locale, strict: bool) -> Result<Ask, ValidationErrors> {
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&PARAMS, &mut errs);
    let coalition = match raw.text("scope", 12, &mut errs).as_deref() {
        None | Some("org") => false,
        Some("coalition") => true,
        Some(_) => {
            errs.push(FieldError::new("scope", "unknown_choice"));
            false
        }
    };
    let t = today();
    let until = raw.date("until", &mut errs).unwrap_or(t);
    // By default the twelve months up to `until`, both ends included.
    let mut from = raw
        .date("from", &mut errs)
        .unwrap_or_else(|| until.checked_sub(jiff::Span::new().years(1)).and_then(|d| d.tomorrow()).unwrap_or(until));
    let mut until = until;
    if coalition {
        if strict {
            for field in ["from", "until"] {
                if raw.has(field) {
                    errs.push(FieldError::new(field, "coalition_whole_year"));
                }
            }
        }
        let year = raw.integer("year", 2000, i64::from(t.year()), &mut errs).map_or(until.year(), |y| y as i16);
        from = jiff::civil::date(year, 1, 1);
        until = jiff::civil::date(year, 12, 31);
    } else if raw.has("year") && strict {
        errs.push(FieldError::new("year", "coalition_only"));
    }
    if from > until {
        errs.push(FieldError::new("from", "after_until"));
    }
    let facility_id = raw.integer("facility_id", 1, i64::MAX, &mut errs);
    let lang = match raw.text("lang", 5, &mut errs) {
        None => default_lang,
        Some(s) => Locale::parse(&s).unwrap_or_else(|| {
            errs.push(FieldError::new("lang", "unknown_choice"));
            default_lang
        }),
    };
    let format = match raw.text("format", 5, &mut errs).as_deref() {
        None | Some("html") => Format::Html,
        Some("pdf") => Format::Pdf,
        Some("json") => Format::Json,
        Some(_) => {
            errs.push(FieldError::new("format", "unknown_choice"));
            Format::Html
        }
    };
    errs.into_result(Ask { query: PeriodQuery { coalition, from, until, facility_id }, lang, format })
}

/// The figures and their document, as of now. Shared with `vigia report`.
pub async fn make(
    store: &DynStore,
    mirror: &vigia_app::analysis::Mirror,
    found: &vigia_app::findings::FoundCache,
    viewer_org: i64,
    query: &PeriodQuery,
    lang: Locale,
) -> Result<(PeriodReport, vigia_report::Doc), WebError> {
    let report = vigia_app::reports::period(store, mirror, found, viewer_org, query).await?;
    let made = Made::now(store).await?;
    let doc = document(lang, &report, &made);
    Ok((report, doc))
}

/// `vigia-informe-2020-01-01-2020-12-31-es.pdf`, `vigia-expediente-7-…`.
pub fn file_name(r: &PeriodReport, lang: &str, ext: &str) -> String {
    match &r.facility {
        Some(f) => format!("vigia-dossier-{}-{}-{}-{lang}.{ext}", f.id, r.from, r.until),
        None => format!("vigia-report-{}-{}-{}-{lang}.{ext}", r.scope, r.from, r.until),
    }
}

#[derive(Template)]
#[template(path = "reports/templates/reports.html")]
struct FormPage {
    c: Chrome,
    coalition: bool,
    from: String,
    until: String,
    facilities: Vec<OptionView>,
    langs: Vec<OptionView>,
}

fn lang_options(l: Locale, selected: Locale) -> Vec<OptionView> {
    [Locale::Es, Locale::En]
        .into_iter()
        .map(|x| OptionView {
            value: x.as_str().to_string(),
            label: tr(l, &format!("language-{}", x.as_str())),
            selected: x == selected,
        })
        .collect()
}

async fn form_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    ctx.require(Permission::MakeReports)?;
    let l = ctx.locale;
    let a = ask(&q, l, false)?;
    let mut facilities = vec![OptionView { value: String::new(), label: tr(l, "rep-all-facilities"), selected: false }];
    facilities.extend(st.store.list_facilities().await?.into_iter().map(|f| OptionView {
        value: f.id.to_string(),
        selected: a.query.facility_id == Some(f.id),
        label: f.draft.name,
    }));
    render(
        StatusCode::OK,
        &FormPage {
            c: Chrome::new(&ctx, "/reports"),
            coalition: a.query.coalition,
            from: a.query.from.to_string(),
            until: a.query.until.to_string(),
            facilities,
            langs: lang_options(l, a.lang),
        },
    )
}

/// The query string of a report, for its other forms.
fn link(a: &Ask, format: &str) -> String {
    let q = &a.query;
    let mut parts = vec![format!("scope={}", if q.coalition { "coalition" } else { "org" })];
    if q.coalition {
        parts.push(format!("year={}", q.from.year()));
    } else {
        parts.push(format!("from={}", q.from));
        parts.push(format!("until={}", q.until));
    }
    if let Some(f) = q.facility_id {
        parts.push(format!("facility_id={f}"));
    }
    parts.push(format!("lang={}", a.lang.as_str()));
    if !format.is_empty() {
        parts.push(format!("format={format}"));
    }
    parts.join("&")
}

async fn report_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require(Permission::MakeReports)?.clone();
    let a = ask(&q, ctx.locale, false)?;
    let (report, doc) = make(&st.store, &st.analyses, &st.detections, user.org_id, &a.query, a.lang).await?;
    match a.format {
        Format::Pdf => {
            let name = file_name(&report, &doc.lang, "pdf");
            Ok(crate::kit::document::pdf(doc, &name).await?)
        }
        Format::Json => Ok(json(&report, &doc).into_response()),
        Format::Html => {
            let l = ctx.locale;
            let links = vec![
                crate::kit::document::pdf_link(l, format!("/reports/period?{}", link(&a, "pdf"))),
                DocLink {
                    href: format!("/api/v1/reports/period?{}", link(&a, "")),
                    label: tr(l, "rep-json"),
                    id: "report-json-link",
                },
                DocLink {
                    href: format!("/reports?{}", link(&a, "")),
                    label: tr(l, "rep-change"),
                    id: "report-change-link",
                },
            ];
            crate::kit::document::page(Chrome::new(&ctx, "/reports/period"), &doc, links)
        }
    }
}

fn json(report: &PeriodReport, doc: &vigia_report::Doc) -> Json<serde_json::Value> {
    Json(json_value(report, doc))
}

/// The figures with their hash, language and title: the JSON form (API and CLI).
pub fn json_value(report: &PeriodReport, doc: &vigia_report::Doc) -> serde_json::Value {
    serde_json::json!({
        "report": report,
        "content_sha256": report.content_hash(),
        "language": doc.lang,
        "title": doc.title,
        "made": doc.footer.made,
    })
}

async fn api_report(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let user = api_user(&ctx, Permission::MakeReports)?.clone();
    let a = ask(&q, ctx.locale, true).map_err(WebError::from)?;
    let (report, doc) = make(&st.store, &st.analyses, &st.detections, user.org_id, &a.query, a.lang).await?;
    // The API answers JSON unless another form is asked for.
    let format = if q.contains_key("format") { a.format } else { Format::Json };
    match format {
        Format::Pdf => {
            let name = file_name(&report, &doc.lang, "pdf");
            Ok(crate::kit::document::pdf(doc, &name).await?)
        }
        Format::Html => {
            Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], vigia_report::html::standalone(&doc))
                .into_response())
        }
        Format::Json => Ok(json(&report, &doc).into_response()),
    }
}
