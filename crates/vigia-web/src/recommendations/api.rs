//! UN recommendations' JSON API: import the UHRI export (the file as the body), list and
//! read recommendations with the organization's links and assessments, link evidence,
//! record an assessment, and the follow-up since a date.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use vigia_domain::account::Permission;
use vigia_store::Recommendation;

use super::Params;
use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .upload("/api/v1/recommendations/imports", api_import, crate::state::CSV_ROUTE_LIMIT)
        .get("/api/v1/recommendations", api_list)
        .get("/api/v1/recommendations/follow-up", api_follow_up)
        .get("/api/v1/recommendations/{id}", api_get)
        .post("/api/v1/recommendations/{id}/links", api_link)
        .post("/api/v1/recommendations/{id}/assessments", api_assess)
}

fn rec_json(r: &Recommendation) -> serde_json::Value {
    serde_json::to_value(r).unwrap_or_default()
}

async fn api_import(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    Query(q): Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::ImportStatistics)?.clone();
    ctx.check_api_write(&method, &headers)?;
    let lang = super::language(q.get("language"))?;
    if body.is_empty() {
        return Err(WebError::from(vigia_domain::ValidationErrors::single("file", "required")).into());
    }
    let n = vigia_app::recommendations::import(&st.store, &ctx.actor(), user.org_id, body.to_vec(), &lang)
        .await?
        .map_err(WebError::Sheets)?;
    Ok(Json(serde_json::json!(n)).into_response())
}

async fn api_list(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Params,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in()?.clone();
    let assessments = st.store.assessments(user.org_id, None).await?;
    let theme = q.get("theme");
    let mut errs = vigia_domain::ValidationErrors::new();
    if let Some(t) = theme {
        vigia_domain::input::check_text("theme", t, 200, &mut errs);
    }
    if !errs.is_empty() {
        return Err(WebError::from(errs).into());
    }
    let items: Vec<serde_json::Value> = st
        .store
        .recommendations()
        .await?
        .iter()
        .filter(|r| theme.is_none_or(|t| r.draft.themes.contains(t)))
        .map(|r| {
            let mut v = rec_json(r);
            v["current_assessment"] =
                serde_json::to_value(vigia_app::recommendations::current(&assessments, r.id)).unwrap_or_default();
            v
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

async fn api_get(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in()?.clone();
    let r = super::found(&st, &id).await?;
    let mut v = rec_json(&r);
    v["links"] = serde_json::to_value(st.store.evidence_links(user.org_id, Some(r.id)).await?).unwrap_or_default();
    v["assessments"] = serde_json::to_value(st.store.assessments(user.org_id, Some(r.id)).await?).unwrap_or_default();
    if ctx.can(Permission::TrackRecommendations) {
        v["suggestions"] = serde_json::to_value(
            vigia_app::recommendations::suggestions(&st.store, user.org_id, ctx.can(Permission::ReadCases), &r).await?,
        )
        .unwrap_or_default();
    }
    Ok(Json(v).into_response())
}

async fn api_link(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    crate::kit::json::api_user(&ctx, Permission::TrackRecommendations)?;
    ctx.check_api_write(&method, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let l = super::add_link(&st, &ctx, &id, &raw).await?;
    Ok(crate::kit::json::created(&l, format!("/api/v1/recommendations/{}", l.recommendation_id)))
}

async fn api_assess(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    crate::kit::json::api_user(&ctx, Permission::TrackRecommendations)?;
    ctx.check_api_write(&method, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let a = super::add_assessment(&st, &ctx, &id, &raw).await?;
    Ok(crate::kit::json::created(&a, format!("/api/v1/recommendations/{}", a.recommendation_id)))
}

async fn api_follow_up(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Params,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in()?.clone();
    let recs = st.store.recommendations().await?;
    let since = super::since(&q, &recs)?;
    let items = vigia_app::recommendations::follow_up(&st.store, user.org_id, since).await?;
    Ok(Json(serde_json::json!({"since": since, "items": items})).into_response())
}
