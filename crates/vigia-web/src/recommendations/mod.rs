//! UN recommendations (issue #18 part 2): the recommendations imported from the UHRI,
//! by theme; each with the organization's evidence and assessments over time, and the
//! evidence suggested where the rule is clear; the follow-up since the last review; a
//! CSV. Reading is open to every member; importing needs
//! [`Permission::ImportStatistics`], linking and assessing
//! [`Permission::TrackRecommendations`]. Links and assessments are the organization's
//! own: no other organization sees them.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use vigia_domain::account::{Locale, Permission};
use vigia_domain::input::RawInput;
use vigia_domain::recommendation::{self as rec, EvidenceKind};
use vigia_domain::ValidationErrors;
use vigia_store::{Assessment, RecLink, Recommendation};

use crate::auth::Ctx;
use crate::error::WebError;
use crate::i18n::{tr, tr_args};
use crate::kit::{render, today, Chrome, FormBody, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub mod api;

pub fn routes() -> Routes {
    Routes::default()
        .get("/recommendations", list_page)
        .upload("/recommendations/import", import_page, crate::state::CSV_ROUTE_LIMIT)
        .get("/recommendations.csv", csv)
        .get("/recommendations.jsonl", csv)
        .get("/recommendations/follow-up", follow_up_page)
        .get("/recommendations/{id}", detail_page)
        .post("/recommendations/{id}/links", link_page)
        .post("/recommendations/{id}/assessments", assess_page)
        .merge(api::routes())
}

type Params = Query<HashMap<String, String>>;

/// The language an import says its texts are in.
pub(crate) fn language(raw: Option<&String>) -> Result<String, WebError> {
    match raw.map(String::as_str) {
        None => Ok("en".into()),
        Some(l @ ("en" | "es" | "fr")) => Ok(l.to_string()),
        Some(_) => Err(ValidationErrors::single("language", "unknown_choice").into()),
    }
}

pub(crate) async fn found(st: &AppState, id: &str) -> Result<Recommendation, WebError> {
    let id = crate::kit::parse_id(id)?;
    st.store.recommendation(id).await?.ok_or(WebError::NotFound)
}

/// The reference line of a recommendation: symbol, paragraph, body, date.
fn reference(l: Locale, r: &Recommendation) -> String {
    let para = if r.draft.paragraph.is_empty() {
        String::new()
    } else {
        format!(", {} {}", tr(l, "rec-para"), r.draft.paragraph)
    };
    let date = r.draft.published_on.map(|d| format!(" ({d})")).unwrap_or_default();
    format!("{}{para} · {}{date}", r.draft.symbol, r.draft.body)
}

fn status_label(l: Locale, a: Option<&Assessment>) -> String {
    match a {
        Some(a) => format!("{} ({})", tr(l, &format!("rec-status-{}", a.draft.status.as_str())), a.draft.assessed_on),
        None => tr(l, "rec-status-none"),
    }
}

pub struct Row {
    pub id: i64,
    pub reference: String,
    pub excerpt: String,
    pub themes: String,
    pub status: String,
    pub summary: bool,
}

#[derive(Template)]
#[template(path = "recommendations/templates/list.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<Row>,
    themes: Vec<(String, usize, bool)>,
    theme: Option<String>,
    can_import: bool,
    problems: Vec<(String, String, String, String)>,
    message: Option<String>,
}

async fn list(
    st: &AppState,
    ctx: &Ctx,
    q: &HashMap<String, String>,
    status: StatusCode,
    problems: &[vigia_domain::grid::Problem],
    message: Option<String>,
) -> PageResult {
    let user = ctx.signed_in()?.clone();
    let l = ctx.locale;
    let all = st.store.recommendations().await?;
    let assessments = st.store.assessments(user.org_id, None).await?;
    let theme = q.get("theme").cloned().filter(|t| !t.is_empty());
    if let Some(t) = &theme {
        let mut errs = ValidationErrors::new();
        vigia_domain::input::check_text("theme", t, 200, &mut errs);
        if !errs.is_empty() {
            return Err(WebError::from(errs).into());
        }
    }
    let mut themes: std::collections::BTreeMap<String, usize> = Default::default();
    for r in &all {
        for t in &r.draft.themes {
            *themes.entry(t.clone()).or_default() += 1;
        }
    }
    let rows = all
        .iter()
        .filter(|r| theme.as_ref().is_none_or(|t| r.draft.themes.contains(t)))
        .map(|r| Row {
            id: r.id,
            reference: reference(l, r),
            excerpt: r.draft.text.chars().take(220).collect(),
            themes: r.draft.themes.join(" · "),
            status: status_label(l, vigia_app::recommendations::current(&assessments, r.id)),
            summary: r.draft.summary,
        })
        .collect();
    render(
        status,
        &ListPage {
            c: Chrome::new(ctx, "/recommendations"),
            rows,
            themes: themes.into_iter().map(|(t, n)| (t.clone(), n, theme.as_ref() == Some(&t))).collect(),
            theme,
            can_import: ctx.can(Permission::ImportStatistics),
            problems: crate::i18n::sheet_problem_rows(l, problems),
            message,
        },
    )
}

async fn list_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>, Query(q): Params) -> PageResult {
    let message = q.get("imported").map(|_| {
        tr_args(
            ctx.locale,
            "rec-imported",
            &[
                ("created", q.get("created").cloned().unwrap_or_default()),
                ("updated", q.get("updated").cloned().unwrap_or_default()),
                ("unchanged", q.get("unchanged").cloned().unwrap_or_default()),
            ],
        )
    });
    list(&st, &ctx, &q, StatusCode::OK, &[], message).await
}

async fn import_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    multipart: axum::extract::Multipart,
) -> PageResult {
    let user = ctx.require(Permission::ImportStatistics)?.clone();
    let (csrf, _, bytes, fields) = crate::kit::read_upload_with_fields(multipart).await?;
    ctx.check_form(csrf.as_deref(), &headers)?;
    let fields: HashMap<String, String> = fields.into_iter().collect();
    let lang = language(fields.get("language"))?;
    if bytes.is_empty() {
        return Err(WebError::from(ValidationErrors::single("file", "required")).into());
    }
    match vigia_app::recommendations::import(&st.store, &ctx.actor(), user.org_id, bytes.to_vec(), &lang).await? {
        Ok(n) => Ok(Redirect::to(&format!(
            "/recommendations?imported=1&created={}&updated={}&unchanged={}",
            n.created, n.updated, n.unchanged
        ))
        .into_response()),
        Err(problems) => list(&st, &ctx, &HashMap::new(), StatusCode::UNPROCESSABLE_ENTITY, &problems, None).await,
    }
}

/// A link as the organization reads it: what it is, where it leads.
pub(crate) async fn link_view(st: &AppState, ctx: &Ctx, l: &RecLink) -> Result<(String, Option<String>), WebError> {
    let loc = ctx.locale;
    let kind = tr(loc, &format!("rec-kind-{}", l.kind.as_str()));
    Ok(match l.kind {
        EvidenceKind::AccessAttempt => (format!("{kind} #{}", l.reference), Some(format!("/access/{}", l.reference))),
        EvidenceKind::Visit => (format!("{kind} #{}", l.reference), Some(format!("/visits/{}", l.reference))),
        EvidenceKind::Statement => (format!("{kind} #{}", l.reference), Some(format!("/statements/{}", l.reference))),
        EvidenceKind::CaseCount => {
            let measure = tr(loc, &format!("measure-{}", l.reference));
            let count = if ctx.can(Permission::ReadCases) {
                vigia_app::recommendations::case_count(&st.store, l.org_id, &l.reference)
                    .await?
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "—".into())
            } else {
                tr(loc, "rec-count-hidden")
            };
            (format!("{kind}: {measure} — {count}"), None)
        }
    })
}

#[derive(Template)]
#[template(path = "recommendations/templates/detail.html")]
struct DetailPage {
    c: Chrome,
    id: i64,
    reference: String,
    text: String,
    language: String,
    summary: bool,
    facts: Vec<(String, String)>,
    links: Vec<(i64, String, Option<String>, String, String)>,
    assessments: Vec<(String, String, String, String)>,
    current: String,
    suggestions: Vec<(String, String, String, String)>,
    can_track: bool,
    kinds: Vec<(&'static str, String)>,
    statuses: Vec<(&'static str, String)>,
    today: String,
    error: Option<String>,
}

async fn detail(st: &AppState, ctx: &Ctx, id: &str, status: StatusCode, error: Option<String>) -> PageResult {
    let user = ctx.signed_in()?.clone();
    let l = ctx.locale;
    let r = found(st, id).await?;
    let links = st.store.evidence_links(user.org_id, Some(r.id)).await?;
    let assessments = st.store.assessments(user.org_id, Some(r.id)).await?;
    let who: HashMap<i64, String> =
        st.store.list_users(Some(user.org_id)).await?.into_iter().map(|u| (u.id, u.display_name)).collect();
    let name = |id: Option<i64>| id.and_then(|i| who.get(&i).cloned()).unwrap_or_else(|| tr(l, "history-system"));
    let mut link_rows = Vec::new();
    for k in &links {
        let (label, href) = link_view(st, ctx, k).await?;
        link_rows.push((
            k.id,
            label,
            href,
            k.note.clone().unwrap_or_default(),
            format!("{} · {}", name(k.created_by), crate::kit::when(k.created_at)),
        ));
    }
    let mut sorted: Vec<&Assessment> = assessments.iter().collect();
    sorted.sort_by_key(|a| std::cmp::Reverse((a.draft.assessed_on, a.id)));
    let suggestions = if ctx.can(Permission::TrackRecommendations) {
        vigia_app::recommendations::suggestions(&st.store, user.org_id, ctx.can(Permission::ReadCases), &r).await?
    } else {
        Vec::new()
    };
    let list = |v: &[String]| if v.is_empty() { "—".to_string() } else { v.join(" · ") };
    let mut facts = vec![
        (
            tr(l, "rec-version"),
            tr_args(
                l,
                "rec-version-of",
                &[("version", r.version.to_string()), ("when", crate::kit::when(r.updated_at))],
            ),
        ),
        (tr(l, "rec-body"), r.draft.body.clone()),
        (tr(l, "rec-symbol"), r.draft.symbol.clone()),
        (tr(l, "rec-para"), if r.draft.paragraph.is_empty() { "—".into() } else { r.draft.paragraph.clone() }),
        (tr(l, "rec-date"), r.draft.published_on.map(|d| d.to_string()).unwrap_or_else(|| "—".into())),
        (tr(l, "rec-themes"), list(&r.draft.themes)),
        (tr(l, "rec-affected"), list(&r.draft.affected_persons)),
    ];
    if !r.draft.upr_states.is_empty() || r.draft.upr_position.is_some() {
        facts.push((tr(l, "rec-upr-states"), list(&r.draft.upr_states)));
        facts.push((tr(l, "rec-upr-position"), r.draft.upr_position.clone().unwrap_or_else(|| "—".into())));
        facts.push((tr(l, "rec-upr-session"), r.draft.upr_session.clone().unwrap_or_else(|| "—".into())));
    }
    render(
        status,
        &DetailPage {
            c: Chrome::new(ctx, &format!("/recommendations/{}", r.id)),
            id: r.id,
            reference: reference(l, &r),
            text: r.draft.text.clone(),
            language: r.draft.language.clone(),
            summary: r.draft.summary,
            facts,
            links: link_rows,
            current: status_label(l, vigia_app::recommendations::current(&assessments, r.id)),
            assessments: sorted
                .iter()
                .map(|a| {
                    let evidence = a.draft.evidence.iter().map(|e| format!("#{e}")).collect::<Vec<_>>().join(", ");
                    let changed = if a.recommendation_version < r.version {
                        format!(
                            " {}",
                            tr_args(l, "rec-text-changed", &[("version", a.recommendation_version.to_string())])
                        )
                    } else {
                        String::new()
                    };
                    (
                        a.draft.assessed_on.to_string(),
                        tr(l, &format!("rec-status-{}", a.draft.status.as_str())),
                        format!("{}{changed}", a.draft.reasoning),
                        format!("{} · {}", if evidence.is_empty() { "—".into() } else { evidence }, name(a.created_by)),
                    )
                })
                .collect(),
            suggestions: suggestions
                .iter()
                .map(|s| {
                    let what = tr_args(
                        l,
                        &format!("rec-suggest-{}", s.kind.as_str()),
                        &[
                            ("id", s.reference.clone()),
                            ("on", s.on.clone()),
                            ("facility", s.facility.clone().unwrap_or_default()),
                            ("measure", tr(l, &format!("measure-{}", s.reference))),
                        ],
                    );
                    (s.kind.as_str().to_string(), s.reference.clone(), what, tr(l, &format!("rec-shows-{}", s.shows)))
                })
                .collect(),
            can_track: ctx.can(Permission::TrackRecommendations),
            kinds: EvidenceKind::ALL.iter().map(|k| (k.as_str(), tr(l, &format!("rec-kind-{}", k.as_str())))).collect(),
            statuses: rec::Status::ALL
                .iter()
                .map(|s| (s.as_str(), tr(l, &format!("rec-status-{}", s.as_str()))))
                .collect(),
            today: today().to_string(),
            error,
        },
    )
}

async fn detail_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>, Path(id): Path<String>) -> PageResult {
    detail(&st, &ctx, &id, StatusCode::OK, None).await
}

pub(crate) async fn add_link(st: &AppState, ctx: &Ctx, id: &str, raw: &RawInput) -> Result<RecLink, WebError> {
    let user = ctx.require(Permission::TrackRecommendations)?.clone();
    let r = found(st, id).await?;
    let draft = rec::validate_link(raw)?;
    vigia_app::recommendations::link(&st.store, &ctx.actor(), user.org_id, r.id, draft).await.map_err(|e| match e {
        vigia_app::AppError::Store(vigia_store::StoreError::Conflict(_)) => {
            WebError::Conflict(tr(ctx.locale, "rec-link-exists"))
        }
        other => other.into(),
    })
}

pub(crate) async fn add_assessment(st: &AppState, ctx: &Ctx, id: &str, raw: &RawInput) -> Result<Assessment, WebError> {
    let user = ctx.require(Permission::TrackRecommendations)?.clone();
    let r = found(st, id).await?;
    let draft = rec::validate_assessment(raw, today())?;
    Ok(vigia_app::recommendations::assess(&st.store, &ctx.actor(), user.org_id, r.id, draft).await?)
}

async fn link_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require(Permission::TrackRecommendations)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let raw = RawInput::from_pairs(form.joined(""));
    match add_link(&st, &ctx, &id, &raw).await {
        Ok(_) => Ok(Redirect::to(&format!("/recommendations/{id}#evidence")).into_response()),
        Err(WebError::Invalid(errs)) => {
            detail(&st, &ctx, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(crate::kit::form_problems(ctx.locale, &errs)))
                .await
        }
        Err(WebError::Conflict(what)) => detail(&st, &ctx, &id, StatusCode::CONFLICT, Some(what)).await,
        Err(e) => Err(e.into()),
    }
}

async fn assess_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require(Permission::TrackRecommendations)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let raw = RawInput::from_pairs(form.joined("evidence"));
    match add_assessment(&st, &ctx, &id, &raw).await {
        Ok(_) => Ok(Redirect::to(&format!("/recommendations/{id}#assessments")).into_response()),
        Err(WebError::Invalid(errs)) => {
            detail(&st, &ctx, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(crate::kit::form_problems(ctx.locale, &errs)))
                .await
        }
        Err(e) => Err(e.into()),
    }
}

/// The date a follow-up starts from: `since`, or the last review of Mexico by a treaty
/// body.
pub(crate) fn since(q: &HashMap<String, String>, recs: &[Recommendation]) -> Result<jiff::civil::Date, WebError> {
    match q.get("since").filter(|s| !s.is_empty()) {
        Some(s) => {
            let shaped = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
            s.parse::<jiff::civil::Date>()
                .ok()
                .filter(|d| shaped && (1990..=2100).contains(&d.year()))
                .ok_or_else(|| ValidationErrors::single("since", "expected_date").into())
        }
        None => Ok(vigia_app::recommendations::last_review(recs).unwrap_or(jiff::civil::date(2000, 1, 1))),
    }
}

/// One recommendation in the follow-up: id, reference, the assessment before, the
/// assessments and the evidence since.
type FollowItem = (i64, String, String, Vec<String>, Vec<String>);

#[derive(Template)]
#[template(path = "recommendations/templates/follow_up.html")]
struct FollowUpPage {
    c: Chrome,
    since: String,
    items: Vec<FollowItem>,
}

async fn follow_up_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>, Query(q): Params) -> PageResult {
    let user = ctx.signed_in()?.clone();
    let l = ctx.locale;
    let recs = st.store.recommendations().await?;
    let since = since(&q, &recs)?;
    let mut items = Vec::new();
    for f in vigia_app::recommendations::follow_up(&st.store, user.org_id, since).await? {
        let mut links = Vec::new();
        for k in &f.links {
            links.push(link_view(&st, &ctx, k).await?.0);
        }
        items.push((
            f.recommendation.id,
            reference(l, &f.recommendation),
            tr_args(l, "rec-follow-before", &[("status", status_label(l, f.before.as_ref()))]),
            f.assessments
                .iter()
                .map(|a| {
                    format!(
                        "{}: {} — {}",
                        a.draft.assessed_on,
                        tr(l, &format!("rec-status-{}", a.draft.status.as_str())),
                        a.draft.reasoning
                    )
                })
                .collect(),
            links,
        ));
    }
    render(
        StatusCode::OK,
        &FollowUpPage {
            c: Chrome::new(&ctx, &format!("/recommendations/follow-up?since={since}")),
            since: since.to_string(),
            items,
        },
    )
}

/// Every recommendation with the organization's current assessment and how much
/// evidence it linked.
async fn csv(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    uri: axum::http::Uri,
) -> Result<Response, crate::error::PageError> {
    let user = ctx.signed_in()?.clone();
    let recs = st.store.recommendations().await?;
    let assessments = st.store.assessments(user.org_id, None).await?;
    let links = st.store.evidence_links(user.org_id, None).await?;
    let head = [
        "id",
        "body",
        "symbol",
        "paragraph",
        "published_on",
        "language",
        "summary",
        "themes",
        "text",
        "status",
        "assessed_on",
        "evidence_links",
    ];
    let rows = recs
        .iter()
        .map(|r| {
            let a = vigia_app::recommendations::current(&assessments, r.id);
            vec![
                r.id.to_string(),
                r.draft.body.clone(),
                r.draft.symbol.clone(),
                r.draft.paragraph.clone(),
                r.draft.published_on.map(|d| d.to_string()).unwrap_or_default(),
                r.draft.language.clone(),
                r.draft.summary.to_string(),
                r.draft.themes.join("; "),
                r.draft.text.clone(),
                a.map(|a| a.draft.status.as_str().to_string()).unwrap_or_default(),
                a.map(|a| a.draft.assessed_on.to_string()).unwrap_or_default(),
                links.iter().filter(|l| l.recommendation_id == r.id).count().to_string(),
            ]
        })
        .collect();
    Ok(crate::kit::listing::download_of(
        crate::kit::listing::Format::of(&uri),
        "recommendations",
        head.iter().map(|h| (h.to_string(), h.to_string())).collect(),
        rows,
    ))
}
