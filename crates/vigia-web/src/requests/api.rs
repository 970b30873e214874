//! Access-to-information requests' JSON API: list and record requests, import a log
//! (the CSV as the body), read one with its deadlines, record events and links, the
//! "today" list, the analysis by authority and year, and the regimes with their
//! articles.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use vigia_domain::account::Permission;

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::kit::today;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .get("/api/v1/requests", api_list)
        .post("/api/v1/requests", api_create)
        .upload("/api/v1/requests/imports", api_import, crate::state::CSV_ROUTE_LIMIT)
        .get("/api/v1/requests/today", api_today)
        .get("/api/v1/requests/analysis", api_analysis)
        .get("/api/v1/requests/regimes", api_regimes)
        .get("/api/v1/requests/{id}", api_get)
        .post("/api/v1/requests/{id}/events", api_event)
        .post("/api/v1/requests/{id}/links", api_link)
}

fn no_query(q: &HashMap<String, String>) -> Result<(), WebError> {
    let mut errs = vigia_domain::ValidationErrors::new();
    vigia_domain::input::RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())))
        .reject_unknown(&[], &mut errs);
    Ok(errs.into_result(())?)
}

async fn api_list(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::TrackRequests)?.clone();
    no_query(&q)?;
    let views = vigia_app::transparency::list(&st.store, user.org_id, today()).await?;
    let items: Vec<_> = views.iter().map(super::view_json).collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

async fn api_create(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::TrackRequests)?.clone();
    ctx.check_api_write(&method, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let r = vigia_app::transparency::create(&st.store, &ctx.actor(), user.org_id, &raw, today()).await?;
    let v = vigia_app::transparency::view(&st.store, user.org_id, r.id, today()).await?.ok_or(WebError::NotFound)?;
    Ok(crate::kit::json::created(super::view_json(&v), format!("/api/v1/requests/{}", r.id)))
}

async fn api_import(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::TrackRequests)?.clone();
    ctx.check_api_write(&method, &headers)?;
    if body.is_empty() {
        return Err(WebError::from(vigia_domain::ValidationErrors::single("file", "required")).into());
    }
    let n = vigia_app::transparency::import_csv(&st.store, &ctx.actor(), user.org_id, &body, today())
        .await?
        .map_err(WebError::Import)?;
    Ok(Json(serde_json::json!({ "imported": n })).into_response())
}

async fn api_get(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    crate::kit::json::api_user(&ctx, Permission::TrackRequests)?;
    let v = super::found(&st, &ctx, &id).await?;
    let mut j = super::view_json(&v);
    j["files"] =
        serde_json::to_value(st.store.attachments(vigia_domain::RecordType::TransparencyRequest, v.request.id).await?)
            .unwrap_or_default();
    Ok(Json(j).into_response())
}

async fn api_event(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    crate::kit::json::api_user(&ctx, Permission::TrackRequests)?;
    ctx.check_api_write(&method, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let e = super::add_event(&st, &ctx, &id, &raw).await?;
    Ok(crate::kit::json::created(&e, format!("/api/v1/requests/{}", e.request_id)))
}

async fn api_link(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    crate::kit::json::api_user(&ctx, Permission::TrackRequests)?;
    ctx.check_api_write(&method, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let l = super::add_link(&st, &ctx, &id, &raw).await?;
    Ok(crate::kit::json::created(&l, format!("/api/v1/requests/{}", l.request_id)))
}

async fn api_today(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::TrackRequests)?.clone();
    no_query(&q)?;
    let day = today();
    let views = vigia_app::transparency::list(&st.store, user.org_id, day).await?;
    let cals = vigia_store::calendars(&*st.store).await?;
    let items = vigia_app::transparency::today_list(&views, &cals, day, super::HORIZON);
    Ok(Json(serde_json::json!({ "today": day.to_string(), "horizon_working_days": super::HORIZON, "items": items }))
        .into_response())
}

async fn api_analysis(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::TrackRequests)?.clone();
    no_query(&q)?;
    let views = vigia_app::transparency::list(&st.store, user.org_id, today()).await?;
    let cals = vigia_store::calendars(&*st.store).await?;
    Ok(Json(serde_json::json!({ "items": vigia_app::transparency::analysis(&views, &cals) })).into_response())
}

async fn api_regimes(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    crate::kit::json::api_user(&ctx, Permission::TrackRequests)?;
    no_query(&q)?;
    let regimes = vigia_app::transparency::regimes(&st.store).await?;
    let items: Vec<_> = regimes.all().collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}
