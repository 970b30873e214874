//! Publications (issue #17 part 2): a coordinator proposes a year's public aggregates
//! (frozen at once), another coordinator or an admin approves or rejects them (four
//! eyes), and the approved ones are what `vigia publish` writes as a signed static site
//! and what `/public` serves read-only when the server is started with it. The public
//! pages are written from the frozen content alone, never from operational tables.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use vigia_domain::account::{Locale, Permission};
use vigia_domain::input::RawInput;
use vigia_domain::publication::{self, Section};
use vigia_store::Publication;

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::i18n::{tr, tr_args};
use crate::kit::json::api_user;
use crate::kit::{render, today, Chrome, FormBody, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub mod site;

pub fn routes() -> Routes {
    Routes::default()
        .get("/publications", list_page)
        .post("/publications", propose_page)
        .post("/publications/{id}/decision", decide_page)
        .get("/publications/{id}/site/{*path}", preview)
        .get("/api/v1/publications", api_list)
        .post("/api/v1/publications", api_propose)
        .get("/api/v1/publications/{id}", api_get)
        .post("/api/v1/publications/{id}/decision", api_decide)
        .get("/public", public_index)
        .get("/public/{id}/{*path}", public_file)
}

/// A store conflict in the reader's words: decided already, four eyes, year published.
fn conflict(l: Locale, e: WebError) -> WebError {
    match e {
        WebError::Conflict(code) => WebError::Conflict(tr(l, &format!("pub-conflict-{code}"))),
        other => other,
    }
}

fn publication_json(p: &Publication) -> serde_json::Value {
    serde_json::json!({
        "id": p.id, "year": p.draft.year, "sections": p.draft.sections, "detail": p.draft.detail,
        "status": p.status, "content_sha256": p.content_sha256,
        "proposed_by": p.proposed_by, "proposed_at": vigia_domain::format_instant(p.proposed_at),
        "decided_by": p.decided_by, "decided_at": p.decided_at.map(vigia_domain::format_instant),
    })
}

async fn owned(st: &AppState, ctx: &Ctx, id: &str) -> Result<Publication, WebError> {
    let user = ctx.require(Permission::Publish)?;
    let id = crate::kit::parse_id(id)?;
    st.store.publication(user.org_id, id).await?.ok_or(WebError::NotFound)
}

async fn propose(st: &AppState, ctx: &Ctx, raw: &RawInput) -> Result<Publication, WebError> {
    let user = ctx.require(Permission::Publish)?.clone();
    let draft = publication::validate(raw, today())?;
    let p = vigia_app::publications::propose(&st.store, &st.analyses, &st.detections, &ctx.actor(), user.org_id, draft)
        .await?;
    Ok(p)
}

async fn decide(st: &AppState, ctx: &Ctx, id: &str, raw: &RawInput) -> Result<Publication, WebError> {
    let p = owned(st, ctx, id).await?;
    let mut errs = vigia_domain::ValidationErrors::new();
    raw.reject_unknown(&["decision"], &mut errs);
    let approve = match raw.text("decision", 10, &mut errs).as_deref() {
        Some("approve") => true,
        Some("reject") => false,
        Some(_) => {
            errs.push(vigia_domain::FieldError::new("decision", "unknown_choice"));
            false
        }
        None => {
            errs.push(vigia_domain::FieldError::new("decision", "required"));
            false
        }
    };
    errs.into_result(())?;
    st.store
        .decide_publication(&ctx.actor(), p.org_id, p.id, approve)
        .await
        .map_err(|e| conflict(ctx.locale, WebError::from(e)))
}

pub struct Row {
    pub id: i64,
    pub year: i16,
    pub sections: String,
    pub detail: String,
    pub status_code: &'static str,
    pub status: String,
    pub proposed: String,
    pub decided: String,
    pub sha: String,
    /// Another person proposed it, and it waits for a decision.
    pub can_decide: bool,
}

#[derive(Template)]
#[template(path = "publications/templates/publications.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<Row>,
    year: String,
    sections: Vec<(&'static str, String)>,
    error: Option<String>,
}

async fn names(st: &AppState) -> Result<HashMap<i64, String>, WebError> {
    Ok(st.store.list_users(None).await?.into_iter().map(|u| (u.id, u.display_name)).collect())
}

async fn list(st: &AppState, ctx: &Ctx, error: Option<String>, status: StatusCode) -> PageResult {
    let user = ctx.require(Permission::Publish)?.clone();
    let l = ctx.locale;
    let who = names(st).await?;
    let name = |id: i64| who.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    let rows = st
        .store
        .publications(user.org_id)
        .await?
        .into_iter()
        .map(|p| Row {
            id: p.id,
            year: p.draft.year,
            sections: p
                .draft
                .sections
                .iter()
                .map(|s| tr(l, &format!("pub-section-{}", s.as_str())))
                .collect::<Vec<_>>()
                .join(", "),
            detail: tr(l, &format!("pub-detail-{}", p.draft.detail.as_str())),
            status_code: p.status.as_str(),
            status: tr(l, &format!("pub-status-{}", p.status.as_str())),
            proposed: format!("{} · {}", name(p.proposed_by), crate::kit::when(p.proposed_at)),
            decided: match (p.decided_by, p.decided_at) {
                (Some(by), Some(at)) => format!("{} · {}", name(by), crate::kit::when(at)),
                _ => String::new(),
            },
            can_decide: p.status == publication::Status::Proposed && publication::may_decide(p.proposed_by, user.id),
            sha: p.content_sha256,
        })
        .collect();
    render(
        status,
        &ListPage {
            c: Chrome::new(ctx, "/publications"),
            rows,
            year: (today().year() - 1).to_string(),
            sections: Section::ALL
                .iter()
                .map(|s| (s.as_str(), tr(l, &format!("pub-section-{}", s.as_str()))))
                .collect(),
            error,
        },
    )
}

async fn list_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    list(&st, &ctx, None, StatusCode::OK).await
}

async fn propose_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require(Permission::Publish)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let raw = RawInput::from_pairs(form.joined("sections"));
    match propose(&st, &ctx, &raw).await {
        Ok(_) => Ok(Redirect::to("/publications?proposed=1").into_response()),
        Err(WebError::Invalid(errs)) => {
            let words: Vec<String> = errs.0.iter().map(|e| crate::i18n::field_error(ctx.locale, e)).collect();
            list(&st, &ctx, Some(words.join(" ")), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn decide_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require(Permission::Publish)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let raw = RawInput::from_pairs(form.joined(""));
    match decide(&st, &ctx, &id, &raw).await {
        Ok(_) => Ok(Redirect::to("/publications?decided=1").into_response()),
        Err(WebError::Conflict(what)) => list(&st, &ctx, Some(what), StatusCode::CONFLICT).await,
        Err(e) => Err(e.into()),
    }
}

/// A file of a publication's site, for the members who review it before it is decided.
async fn preview(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path((id, path)): Path<(String, String)>,
) -> Result<Response, crate::error::PageError> {
    let p = owned(&st, &ctx, &id).await?;
    Ok(serve(&st, &p, &path).await?)
}

/// Signed sites already written, by (publication, content hash, signing key): the
/// public pages are not rendered and signed again for every anonymous request.
static SITES: std::sync::LazyLock<std::sync::Mutex<HashMap<SiteKey, std::sync::Arc<site::Files>>>> =
    std::sync::LazyLock::new(Default::default);

/// (publication, status and content hash, signing key).
type SiteKey = (i64, String, String);

async fn serve(st: &AppState, p: &Publication, path: &str) -> Result<Response, WebError> {
    let (signing_key, _) = st.store.sign_publication(p.org_id, b"").await?;
    let key = (p.id, format!("{}:{}", p.status.as_str(), p.content_sha256), signing_key);
    let kept = SITES.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
    let files = match kept {
        Some(f) => f,
        None => {
            let f = std::sync::Arc::new(site::signed(&st.store, p).await?);
            let mut all = SITES.lock().unwrap_or_else(|e| e.into_inner());
            if all.len() >= 32 {
                all.clear();
            }
            all.insert(key, f.clone());
            f
        }
    };
    let path = if path.is_empty() || path.ends_with('/') { format!("{path}index.html") } else { path.to_string() };
    let bytes = files.get(&path).ok_or(WebError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, site::content_type(&path))], bytes.clone()).into_response())
}

#[derive(Template)]
#[template(path = "publications/templates/public.html")]
struct PublicIndex {
    c: Chrome,
    items: Vec<(i64, String, i16)>,
}

/// The approved publications, for anyone, when the server serves them.
async fn public_index(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    if !st.config.public_site {
        return Err(WebError::NotFound.into());
    }
    let orgs: HashMap<i64, String> = st.store.list_orgs().await?.into_iter().map(|o| (o.id, o.name)).collect();
    let items = st
        .store
        .approved_publications()
        .await?
        .into_iter()
        .map(|p| (p.id, orgs.get(&p.org_id).cloned().unwrap_or_default(), p.draft.year))
        .collect();
    render(StatusCode::OK, &PublicIndex { c: Chrome::new(&ctx, "/public"), items })
}

async fn public_file(
    State(st): State<AppState>,
    Path((id, path)): Path<(String, String)>,
) -> Result<Response, crate::error::PageError> {
    if !st.config.public_site {
        return Err(WebError::NotFound.into());
    }
    let id = crate::kit::parse_id(&id)?;
    let p = st.store.approved_publication(id).await?.ok_or(WebError::NotFound)?;
    Ok(serve(&st, &p, &path).await?)
}

async fn api_list(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> Result<Response, ApiError> {
    let user = api_user(&ctx, Permission::Publish)?.clone();
    let items: Vec<serde_json::Value> =
        st.store.publications(user.org_id).await?.iter().map(publication_json).collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

async fn api_get(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    api_user(&ctx, Permission::Publish)?;
    let p = owned(&st, &ctx, &id).await?;
    let mut v = publication_json(&p);
    v["content"] = serde_json::to_value(vigia_app::publications::read(&p)?).unwrap_or_default();
    Ok(Json(v).into_response())
}

async fn api_propose(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    api_user(&ctx, Permission::Publish)?;
    ctx.check_api_write(&method, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let p = propose(&st, &ctx, &raw).await?;
    Ok(crate::kit::json::created(publication_json(&p), format!("/api/v1/publications/{}", p.id)))
}

async fn api_decide(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    api_user(&ctx, Permission::Publish)?;
    ctx.check_api_write(&method, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let p = decide(&st, &ctx, &id, &raw).await?;
    Ok(Json(publication_json(&p)).into_response())
}

/// Every file of an approved publication's signed site (for `vigia publish`).
pub async fn approved_site(store: &vigia_store::DynStore, org_id: i64, year: i16) -> Result<site::Files, WebError> {
    let p = store
        .publications(org_id)
        .await?
        .into_iter()
        .find(|p| p.draft.year == year && p.status == publication::Status::Approved)
        .ok_or_else(|| WebError::Conflict(tr_args(Locale::En, "pub-none-approved", &[("year", year.to_string())])))?;
    site::signed(store, &p).await
}
