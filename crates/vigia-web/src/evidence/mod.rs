//! Evidence files on access attempts, statements, visits and access-to-information
//! requests (the answer, the oficio), and sealed documents on cases: upload (API and page), list, download. A file is reachable only by those who
//! can see the record it is attached to; uploads only by the roles that record it.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use vigia_domain::account::Permission;
use vigia_domain::{evidence, RecordType};
use vigia_store::Attachment;

use crate::auth::Ctx;
use crate::error::{ApiError, PageError, WebError};
use crate::kit::attachment_json as json;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .get("/api/v1/access-attempts/{id}/files", api_list)
        .upload("/api/v1/access-attempts/{id}/files", api_upload::<ATTEMPT>, crate::state::FILE_ROUTE_LIMIT)
        .get("/api/v1/files/{id}", api_download)
        .upload("/access/{id}/files", page_upload::<ATTEMPT>, crate::state::FILE_ROUTE_LIMIT)
        .get("/files/{id}", page_download)
        .upload("/api/v1/visits/{id}/files", api_upload::<VISIT>, crate::state::FILE_ROUTE_LIMIT)
        .upload("/visits/{id}/files", page_upload::<VISIT>, crate::state::FILE_ROUTE_LIMIT)
        .get("/api/v1/statements/{id}/files", api_statement_list)
        .upload("/api/v1/statements/{id}/files", api_upload::<STATEMENT>, crate::state::FILE_ROUTE_LIMIT)
        .upload("/statements/{id}/files", page_upload::<STATEMENT>, crate::state::FILE_ROUTE_LIMIT)
        .get("/api/v1/cases/{id}/documents", api_case_list)
        .upload("/api/v1/cases/{id}/documents", api_upload::<CASE>, crate::state::FILE_ROUTE_LIMIT)
        .get("/api/v1/case-documents/{id}", api_case_download)
        .upload("/cases/{id}/documents", page_upload::<CASE>, crate::state::FILE_ROUTE_LIMIT)
        .get("/case-documents/{id}", page_case_download)
        .upload("/api/v1/requests/{id}/files", api_upload::<REQUEST>, crate::state::FILE_ROUTE_LIMIT)
        .upload("/requests/{id}/files", page_upload::<REQUEST>, crate::state::FILE_ROUTE_LIMIT)
}

/// The file if the viewer can see the record it belongs to; otherwise not found.
async fn readable(st: &AppState, ctx: &Ctx, id: &str) -> Result<(Attachment, Vec<u8>), WebError> {
    let user = ctx.require_user()?;
    let id = crate::kit::parse_id(id)?;
    let a = st.store.attachment(id).await?.ok_or(WebError::NotFound)?;
    let visible = match a.record_type.as_str() {
        "access_attempt" => st.store.attempt(user.org_id, a.record_id).await?.is_some(),
        // Statements are a public record: their evidence is everyone's to check.
        "statement" => true,
        // A request's files (the answer, the oficio) are read where requests are.
        "transparency_request" => a.org_id == user.org_id && ctx.can(Permission::TrackRequests),
        _ => a.org_id == user.org_id,
    };
    if !visible {
        return Err(WebError::NotFound);
    }
    let bytes = st.store.blob(&a.sha256).await?;
    Ok((a, bytes))
}

fn download(a: &Attachment, bytes: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&a.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let ascii: String =
        a.filename.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let encoded: String = a
        .filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", a.sha256)) {
        h.insert(header::ETAG, v);
    }
    h.insert("x-content-sha256", HeaderValue::from_str(&a.sha256).unwrap_or(HeaderValue::from_static("")));
    resp
}

/// A name with control characters is refused rather than silently changed.
fn check_filename(name: &str) -> Result<(), WebError> {
    if name.chars().any(char::is_control) {
        return Err(WebError::Invalid(vigia_domain::ValidationErrors::single("filename", "control_characters")));
    }
    if name.chars().any(vigia_domain::input::is_bidi_control) {
        return Err(WebError::Invalid(vigia_domain::ValidationErrors::single("filename", "bidi_controls")));
    }
    Ok(())
}

async fn api_statement_list(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    ctx.signed_in()?;
    let id = crate::kit::parse_id(&id)?;
    st.store.statement(id).await?.ok_or(WebError::NotFound)?;
    let files = st.store.attachments(RecordType::Statement, id).await?;
    Ok(Json(serde_json::json!({"items": files.iter().map(json).collect::<Vec<_>>()})))
}

// ---- Case documents: sealed, readable only by those who may read personal data ----

/// Opens a case document: the role must read personal data (checked first, so the
/// answer says nothing about which ids exist), then it must be the organization's.
async fn case_document(st: &AppState, ctx: &Ctx, id: &str) -> Result<Response, WebError> {
    let user = ctx.require(Permission::ReadCaseSealed)?.clone();
    let id = crate::kit::parse_id(id)?;
    let (a, bytes) = st.store.read_case_document(&ctx.actor(), user.org_id, id).await?;
    Ok(download(&a, bytes))
}

async fn api_case_list(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (_, c) = crate::kit::records::owned(&st, &ctx, &id, Permission::ReadCaseSealed).await?;
    let docs = st.store.case_documents(c.org_id, c.id).await?;
    let items: Vec<_> = docs
        .iter()
        .map(|a| {
            let mut v = json(a);
            v["download"] = format!("/api/v1/case-documents/{}", a.id).into();
            v
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

async fn api_case_download(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    ctx.signed_in()?;
    ctx.require_deliberate_read(&headers)?;
    Ok(case_document(&st, &ctx, &id).await?)
}

async fn page_case_download(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    // Taking a copy of personal data off the server is sensitive: the password must be recent.
    ctx.require(Permission::ReadCaseSealed)?;
    ctx.require_deliberate_read(&headers)?;
    if let Some(r) = crate::auth::recent_auth(&st, &ctx, &format!("/case-documents/{id}")) {
        return Ok(r);
    }
    Ok(case_document(&st, &ctx, &id).await?)
}

async fn api_list(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    ctx.signed_in()?;
    let attempt = crate::kit::records::visible(&st, &ctx, &id).await?;
    let files = st.store.attachments(RecordType::AccessAttempt, attempt.id).await?;
    Ok(Json(serde_json::json!({"items": files.iter().map(json).collect::<Vec<_>>()})))
}

async fn api_download(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ctx.signed_in()?;
    let (a, bytes) = readable(&st, &ctx, &id).await?;
    Ok(download(&a, bytes))
}

async fn page_download(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (a, bytes) = readable(&st, &ctx, &id).await?;
    Ok(download(&a, bytes))
}

// ---- Uploads: one path for every kind of record ----------------------------------

/// The records files attach to (const parameters of the upload handlers).
const ATTEMPT: u8 = 0;
const STATEMENT: u8 = 1;
const VISIT: u8 = 2;
const CASE: u8 = 3;
const REQUEST: u8 = 4;

/// Where a record's page lives, for the redirect after an upload from it.
fn page_of(target: u8) -> &'static str {
    match target {
        ATTEMPT => "/access",
        STATEMENT => "/statements",
        VISIT => "/visits",
        REQUEST => "/requests",
        _ => "/cases",
    }
}

/// Checks the record exists for the viewer (404) and the viewer may add to it (403),
/// then checks the file and stores it: plain evidence, or sealed for a case.
async fn attach(
    st: &AppState,
    ctx: &Ctx,
    target: u8,
    id: &str,
    filename: &str,
    bytes: &[u8],
) -> Result<Attachment, WebError> {
    let user = ctx.require_user()?.clone();
    let record_id = || crate::kit::parse_id(id);
    let (org_id, record_type, record_id) = match target {
        ATTEMPT => {
            let a = crate::kit::records::visible(st, ctx, id).await?;
            crate::kit::records::editable(ctx, &a)?;
            (a.org_id, RecordType::AccessAttempt, a.id)
        }
        STATEMENT => {
            let s = st.store.statement(record_id()?).await?.ok_or(WebError::NotFound)?;
            ctx.require(Permission::RecordStatements)?;
            (user.org_id, RecordType::Statement, s.id)
        }
        VISIT => {
            let v = st.store.visit(user.org_id, record_id()?).await?.ok_or(WebError::NotFound)?;
            ctx.require(Permission::RecordVisits)?;
            (v.org_id, RecordType::Visit, v.id)
        }
        REQUEST => {
            ctx.require(Permission::TrackRequests)?;
            let r = st.store.request(user.org_id, record_id()?).await?.ok_or(WebError::NotFound)?;
            (r.org_id, RecordType::TransparencyRequest, r.id)
        }
        _ => {
            let (_, c) = crate::kit::records::owned(st, ctx, id, Permission::EditCases).await?;
            (c.org_id, RecordType::Case, c.id)
        }
    };
    check_filename(filename)?;
    let content_type =
        evidence::check(bytes).map_err(|e| WebError::Invalid(vigia_domain::ValidationErrors(vec![e])))?;
    let name = evidence::stored_name(filename, content_type);
    let actor = ctx.actor();
    Ok(match record_type {
        RecordType::Case => st.store.add_case_document(&actor, org_id, record_id, &name, content_type, bytes).await?,
        _ => st.store.add_attachment(&actor, org_id, record_type, record_id, &name, content_type, bytes).await?,
    })
}

/// The JSON of an uploaded file; case documents download from their own, audited route.
fn attached_json(target: u8, a: &Attachment) -> serde_json::Value {
    let mut v = json(a);
    if target == CASE {
        v["download"] = format!("/api/v1/case-documents/{}", a.id).into();
    }
    v
}

/// The body is the file itself; its type is read from its bytes; `?filename=` names it.
async fn api_upload<const TARGET: u8>(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    ctx.signed_in()?;
    ctx.check_api_write(&method, &headers)?;
    if body.len() > evidence::MAX_BYTES {
        return Err(WebError::TooLarge.into());
    }
    let a = attach(&st, &ctx, TARGET, &id, q.get("filename").map(String::as_str).unwrap_or(""), &body).await?;
    Ok((StatusCode::CREATED, Json(attached_json(TARGET, &a))).into_response())
}

/// A file chosen on the record's page; a refused file goes back to the page with why.
async fn page_upload<const TARGET: u8>(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    ctx.require_user()?;
    let (csrf, name, bytes) = crate::kit::read_upload(multipart).await?;
    ctx.check_form(csrf.as_deref(), &headers)?;
    let page = page_of(TARGET);
    match attach(&st, &ctx, TARGET, &id, &name, &bytes).await {
        Ok(a) => Ok(Redirect::to(&format!("{page}/{}?attached={}", a.record_id, a.id)).into_response()),
        Err(WebError::Invalid(errs)) => {
            let code = errs.0.first().map(|e| e.code).unwrap_or("file_type");
            Ok(Redirect::to(&format!("{page}/{id}?file_error={code}")).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
