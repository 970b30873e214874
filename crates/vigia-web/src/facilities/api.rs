//! The facilities' JSON API: list, create, read, update, history, notes, import.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use vigia_domain::account::Permission;
use vigia_domain::facility::{self, Facility};
use vigia_domain::{format_instant, note, RecordType};

use crate::auth::Ctx;
use crate::error::WebError;
use crate::kit::json::*;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .get("/api/v1/facilities", list_facilities)
        .post("/api/v1/facilities", create_facility)
        .upload("/api/v1/facilities/import", import_facilities, crate::state::CSV_ROUTE_LIMIT)
        .get("/api/v1/facilities/{id}", get_facility)
        .put("/api/v1/facilities/{id}", update_facility)
        .get("/api/v1/facilities/{id}/history", facility_history)
        .get("/api/v1/facilities/{id}/notes", list_notes)
        .post("/api/v1/facilities/{id}/notes", create_note)
}

#[derive(Serialize)]
pub struct FacilityOut {
    pub id: i64,
    pub version: i64,
    pub name: String,
    pub kind: &'static str,
    pub authority: String,
    pub state_code: String,
    pub state_name: String,
    pub municipality: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub capacity: Option<i64>,
    pub opened_on: Option<String>,
    pub closed_on: Option<String>,
    pub sources: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Facility> for FacilityOut {
    fn from(f: &Facility) -> Self {
        let d = &f.draft;
        FacilityOut {
            id: f.id,
            version: f.version,
            name: d.name.clone(),
            kind: d.kind.as_str(),
            authority: d.authority.clone(),
            state_code: d.state_code.clone(),
            state_name: f.state().map(|s| s.name.to_string()).unwrap_or_default(),
            municipality: d.municipality.clone(),
            latitude: d.latitude,
            longitude: d.longitude,
            capacity: d.capacity,
            opened_on: d.opened_on.clone(),
            closed_on: d.closed_on.clone(),
            sources: d.sources.clone(),
            created_at: format_instant(f.created_at),
            updated_at: format_instant(f.updated_at),
        }
    }
}

async fn list_facilities(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> ApiResult<Json<serde_json::Value>> {
    api_user(&ctx, Permission::ReadFacilities)?;
    let list = st.store.list_facilities().await?;
    let items: Vec<FacilityOut> = list.iter().map(FacilityOut::from).collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

async fn create_facility(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    api_user(&ctx, Permission::EditFacilities)?;
    ctx.check_api_write(&method, &headers)?;
    let draft = facility::validate(&json_body(&headers, &body)?)?;
    let f = st.store.create_facility(&ctx.actor(), draft).await?;
    Ok(created(FacilityOut::from(&f), format!("/api/v1/facilities/{}", f.id)))
}

async fn get_facility(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    api_user(&ctx, Permission::ReadFacilities)?;
    let f = st.store.facility(parse_id(&id)?).await?.ok_or(WebError::NotFound)?;
    Ok(tagged(FacilityOut::from(&f), f.version))
}

async fn update_facility(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<FacilityOut>> {
    api_user(&ctx, Permission::EditFacilities)?;
    ctx.check_api_write(&method, &headers)?;
    let id = parse_id(&id)?;
    let expected = if_match(&headers)?;
    let draft = facility::validate(&json_body(&headers, &body)?)?;
    let f = st.store.update_facility(&ctx.actor(), id, expected, draft).await?;
    Ok(Json(FacilityOut::from(&f)))
}

async fn facility_history(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    api_user(&ctx, Permission::ReadFacilities)?;
    let f = st.store.facility(parse_id(&id)?).await?.ok_or(WebError::NotFound)?;
    let entries = st.store.history(RecordType::Facility, f.id, None).await?;
    Ok(Json(history_json(&entries, 0)))
}

async fn list_notes(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let user = api_user(&ctx, Permission::ReadSealed)?;
    let f = st.store.facility(parse_id(&id)?).await?.ok_or(WebError::NotFound)?;
    let notes = st.store.facility_notes(user.org_id, f.id).await?;
    let items: Vec<_> = notes
        .iter()
        .map(|n| serde_json::json!({"id": n.id, "facility_id": n.facility_id, "body": n.body, "created_at": format_instant(n.created_at)}))
        .collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

async fn create_note(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let user = api_user(&ctx, Permission::WriteSealed)?.clone();
    ctx.check_api_write(&method, &headers)?;
    let f = st.store.facility(parse_id(&id)?).await?.ok_or(WebError::NotFound)?;
    let text = note::validate(&json_body(&headers, &body)?)?;
    let n = st.store.add_facility_note(&ctx.actor(), user.org_id, f.id, &text).await?;
    let out = serde_json::json!({"id": n.id, "facility_id": n.facility_id, "body": n.body, "created_at": format_instant(n.created_at)});
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// A CSV file of facilities: every row is validated and all are created, or none.
async fn import_facilities(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    api_user(&ctx, Permission::EditFacilities)?;
    ctx.check_api_write(&method, &headers)?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.split(';').next().map(str::trim) != Some("text/csv") {
        return Err(WebError::UnsupportedMediaType.into());
    }
    if body.len() > crate::state::CSV_LIMIT {
        return Err(WebError::TooLarge.into());
    }
    let drafts = vigia_domain::import::facilities_csv(&body).map_err(WebError::Import)?;
    let ids = st.store.import_facilities(&ctx.actor(), drafts).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"imported": ids.len(), "ids": ids}))).into_response())
}
