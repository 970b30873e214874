//! Consents' and shares' JSON API: a case's consent records with the decision standing
//! for each purpose, recording one, sharing the case with a partner (refused without
//! the consent), ending a share, and the partner's view of what is shared with it.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use vigia_domain::account::Permission;

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::kit::records::owned;
use crate::kit::today;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .get("/api/v1/cases/{id}/consents", api_list)
        .post("/api/v1/cases/{id}/consents", api_record)
        .post("/api/v1/cases/{id}/shares", api_share)
        .post("/api/v1/case-shares/{id}/end", api_end)
        .get("/api/v1/cases/{id}/arco-export", api_arco)
        .get("/api/v1/shared-cases", api_shared_list)
        .get("/api/v1/shared-cases/{id}", api_shared)
}

async fn api_list(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::ReadCases).await?;
    let records = st.store.consents(c.org_id, Some(c.id)).await?;
    let standing: Vec<_> = vigia_app::consents::standing(&records)
        .into_iter()
        .map(|(p, partner, decision, r)| {
            serde_json::json!({"purpose": p, "partner_org_id": partner,
                "decision": decision, "since": r.map(|r| r.draft.on.to_string())})
        })
        .collect();
    let shares = st.store.case_shares(c.org_id, c.id).await?;
    Ok(Json(serde_json::json!({"case_id": c.id, "standing": standing, "records": records, "shares": shares}))
        .into_response())
}

async fn api_record(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    ctx.check_api_write(&method, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let r = vigia_app::consents::record(&st.store, &ctx.actor(), c.org_id, c.id, &raw, today()).await?;
    Ok(crate::kit::json::created(&r, format!("/api/v1/cases/{}/consents", c.id)))
}

async fn api_share(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    ctx.check_api_write(&method, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let s = vigia_app::consents::share(&st.store, &ctx.actor(), c.org_id, c.id, &raw).await?;
    Ok(crate::kit::json::created(&s, format!("/api/v1/cases/{}/consents", c.id)))
}

async fn api_end(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    crate::kit::json::api_user(&ctx, Permission::EditCases)?;
    ctx.check_api_write(&method, &headers)?;
    let s = super::end_share(&st, &ctx, &id).await?;
    Ok(Json(serde_json::to_value(s).unwrap_or_default()).into_response())
}

async fn api_arco(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::ReadCaseSealed).await?;
    ctx.require_deliberate_read(&headers)?;
    let bytes = vigia_app::consents::arco_export(&st.store, &ctx.actor(), c.org_id, c.id).await?;
    let pseudonym = st.store.case_pseudonym(c.org_id, c.id).map_err(WebError::from)?;
    Ok(super::arco_download(&c, bytes, &pseudonym))
}

async fn api_shared_list(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::ReadCaseSealed)?.clone();
    let items = vigia_app::consents::shared_with(&st.store, user.org_id).await?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

async fn api_shared(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::ReadCaseSealed)?.clone();
    ctx.require_deliberate_read(&headers)?;
    let id = crate::kit::parse_id(&id)?;
    let s =
        vigia_app::consents::open_shared(&st.store, &ctx.actor(), user.org_id, id).await?.ok_or(WebError::NotFound)?;
    // What the partner needs, nothing of the owner's internal business (file number,
    // lawyer, ids of its people).
    let f = &s.case.fields;
    let case = serde_json::json!({"nationality": f.nationality, "sex": f.sex, "age_group": f.age_group,
        "minor": f.minor, "status": f.status, "languages": f.languages});
    let share = serde_json::json!({"id": s.share.id, "partner_org_id": s.share.partner_org_id,
        "created_at": s.share.created_at});
    Ok(Json(serde_json::json!({"share": share, "case": case, "person": s.person})).into_response())
}
