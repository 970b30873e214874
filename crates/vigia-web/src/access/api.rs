//! Access attempts' JSON API: list, record, read, update, history, import.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use vigia_domain::account::Permission;

use crate::auth::Ctx;
use crate::error::WebError;
use crate::kit::json::*;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .get("/api/v1/access-attempts", list_attempts)
        .post("/api/v1/access-attempts", create_attempt)
        .streamed("/api/v1/access-attempts/import", import_attempts)
        .get("/api/v1/access-attempts/import/progress/{key}", import_progress)
        .get("/api/v1/access-attempts/{id}", get_attempt)
        .put("/api/v1/access-attempts/{id}", update_attempt)
        .get("/api/v1/access-attempts/{id}/history", attempt_history)
}

async fn list_attempts(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Response> {
    let user = api_user(&ctx, Permission::ReadFacilities)?.clone();
    let mut filter = crate::access::filter(&q)?;
    let limit = filter.limit;
    let asked = crate::kit::json::PageAsked { limit, after: filter.after };
    // A page is the same for every member of the organization: kept as written.
    let key = format!("{}|{:?}", user.org_id, vigia_domain::access::AttemptFilter { after: None, ..filter.clone() });
    Ok(crate::kit::json::kept_page(&st, "attempts-api", key, asked, || async {
        // One more than asked for says whether another page follows.
        filter.limit = limit + 1;
        let mut list = st.store.list_attempts(user.org_id, &filter).await?;
        let more = list.len() as i64 > limit;
        list.truncate(limit as usize);
        let total = st
            .counts
            .count(&st.store, user.org_id, &vigia_domain::access::AttemptFilter { after: None, ..filter })
            .await?;
        let next = list
            .last()
            .filter(|_| more)
            .map(|a| vigia_domain::paging::Cursor::after(a.draft.attempted_at, a.id).encode());
        let (facilities, orgs) = crate::kit::records::names(&st).await?;
        let items: Vec<_> = list
            .iter()
            .map(|a| {
                crate::access::json(
                    a,
                    facilities.get(&a.draft.facility_id),
                    orgs.get(&a.org_id).map(String::as_str),
                    user.org_id,
                )
            })
            .collect();
        Ok(serde_json::json!({ "items": items, "total": total, "next": next }))
    })
    .await?)
}

async fn create_attempt(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let user = api_user(&ctx, Permission::RecordAccess)?.clone();
    ctx.check_api_write(&method, &headers)?;
    let draft = crate::access::draft(&st, &json_body(&headers, &body)?).await?;
    let a = st.store.create_attempt(&ctx.actor(), user.org_id, draft).await?;
    let f = st.store.facility(a.draft.facility_id).await?;
    let body = crate::access::json(&a, f.as_ref(), ctx.org.as_ref().map(|o| o.name.as_str()), user.org_id);
    Ok(created(body, format!("/api/v1/access-attempts/{}", a.id)))
}

async fn get_attempt(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let user = api_user(&ctx, Permission::ReadFacilities)?.clone();
    let a = crate::kit::records::visible(&st, &ctx, &id).await?;
    let f = st.store.facility(a.draft.facility_id).await?;
    let org = st.store.org(a.org_id).await?;
    Ok(tagged(crate::access::json(&a, f.as_ref(), org.as_ref().map(|o| o.name.as_str()), user.org_id), a.version))
}

async fn update_attempt(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let user = api_user(&ctx, Permission::ReadFacilities)?.clone();
    let current = crate::kit::records::visible(&st, &ctx, &id).await?;
    crate::kit::records::editable(&ctx, &current)?;
    ctx.check_api_write(&method, &headers)?;
    let expected = if_match(&headers)?;
    let draft = crate::access::draft(&st, &json_body(&headers, &body)?).await?;
    let a = st.store.update_attempt(&ctx.actor(), user.org_id, current.id, expected, draft).await?;
    let f = st.store.facility(a.draft.facility_id).await?;
    Ok(Json(crate::access::json(&a, f.as_ref(), ctx.org.as_ref().map(|o| o.name.as_str()), user.org_id)))
}

async fn attempt_history(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let user = api_user(&ctx, Permission::ReadFacilities)?;
    let a = crate::kit::records::visible(&st, &ctx, &id).await?;
    let (entries, withheld) = crate::access::history(&st, user.org_id, &a).await?;
    let mut v = history_json(&entries, withheld);
    // What the sealed text says, beside the content the audit history holds.
    let opened = crate::kit::opened_text(&st, &entries).await?;
    if let Some(items) = v["items"].as_array_mut() {
        for (item, text) in items.iter_mut().zip(opened) {
            item["opened"] = serde_json::Value::Object(text);
        }
    }
    Ok(Json(v))
}

/// A CSV of attempts for the caller's organization, read as it arrives (no size limit;
/// at most a million rows): all rows or none. `?progress=KEY` lets the caller (or its
/// page) ask how far it has come at `…/import/progress/KEY` meanwhile.
async fn import_attempts(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let user = api_user(&ctx, Permission::RecordAccess)?.clone();
    ctx.check_api_write(&method, &headers)?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.split(';').next().map(str::trim) != Some("text/csv") {
        return Err(WebError::UnsupportedMediaType.into());
    }
    let _running = st.imports.run(user.id).ok_or(WebError::Busy)?;
    let progress = crate::access::watch(&st, user.id, q.get("progress"))?;
    let (tx, reader) = vigia_app::imports::ChannelReader::new(crate::access::QUEUED_CHUNKS);
    let (_, imported) = tokio::join!(
        crate::access::feed_body(body, tx),
        crate::access::import_stream(&st, &ctx, user.org_id, reader, progress)
    );
    let imp = imported?.map_err(WebError::Import)?;
    let json = serde_json::json!({
        "imported": imp.row_count, "import_id": imp.id, "first_id": imp.first_id, "last_id": imp.last_id,
        "file_sha256": imp.file_sha256, "file_bytes": imp.file_bytes, "rows_sha256": imp.rows_sha256,
    });
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

/// How far the caller's import named `key` has come (only the caller's own).
async fn import_progress(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(key): Path<String>,
) -> ApiResult<Json<vigia_app::imports::ProgressView>> {
    let user = api_user(&ctx, Permission::RecordAccess)?;
    Ok(Json(st.imports.view(user.id, &key).ok_or(WebError::NotFound)?))
}
