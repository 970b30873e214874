//! Retention's JSON API: the rule, every case with where it stands, what is due, and
//! the erasure of one case's personal data.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use vigia_domain::account::Permission;

use crate::auth::Ctx;
use crate::error::ApiError;
use crate::kit::records::owned;
use crate::kit::today;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .get("/api/v1/retention", api_list)
        .put("/api/v1/retention/rule", api_rule)
        .get("/api/v1/retention/due", api_due)
        .post("/api/v1/cases/{id}/erasure", api_erase)
}

async fn api_list(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::EraseCaseData)?.clone();
    let (rule, cases) = vigia_app::retention::list(&st.store, user.org_id, today()).await?;
    Ok(Json(serde_json::json!({"rule": rule, "cases": cases})).into_response())
}

async fn api_due(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::EraseCaseData)?.clone();
    let items = vigia_app::retention::due(&st.store, user.org_id, today()).await?;
    Ok(Json(serde_json::json!({"items": items})).into_response())
}

async fn api_rule(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::EraseCaseData)?.clone();
    ctx.check_api_write(&method, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let r = vigia_app::retention::set_rule(&st.store, &ctx.actor(), user.org_id, &raw).await?;
    Ok(Json(serde_json::to_value(r).unwrap_or_default()).into_response())
}

async fn api_erase(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::EraseCaseData).await?;
    ctx.check_api_write(&method, &headers)?;
    // With a session (the page's own calls), only right after signing in again, as the
    // page asks; tokens are issued on the server.
    if crate::auth::recent_auth(&st, &ctx, "/retention").is_some() {
        return Err(crate::error::WebError::Forbidden.into());
    }
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let e = vigia_app::retention::erase(&st.store, &ctx.actor(), c.org_id, c.id, &raw, today()).await?;
    Ok(crate::kit::json::created(&e, format!("/api/v1/cases/{}", c.id)))
}
