//! The JSON API under `/api/v1`, documented by `/api/openapi.json`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use vigia_domain::account::Permission;
use vigia_domain::facility::{self, Facility};
use vigia_domain::input::RawInput;
use vigia_domain::{format_instant, note, RecordType};

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::routes::Routes;
use crate::AppState;

type ApiResult<T> = Result<T, ApiError>;

pub fn routes() -> Routes {
    Routes::default()
        .get("/api/openapi.json", openapi)
        .get("/api/v1/me", me)
        .get("/api/v1/access-attempts", list_attempts)
        .post("/api/v1/access-attempts", create_attempt)
        .upload("/api/v1/access-attempts/import", import_attempts, crate::CSV_ROUTE_LIMIT)
        .get("/api/v1/access-attempts/{id}", get_attempt)
        .put("/api/v1/access-attempts/{id}", update_attempt)
        .get("/api/v1/access-attempts/{id}/history", attempt_history)
        .get("/api/v1/clock/calendars", clock_calendars)
        .get("/api/v1/clock/add", clock_add)
        .get("/api/v1/clock/count", clock_count)
        .get("/api/v1/facilities", list_facilities)
        .post("/api/v1/facilities", create_facility)
        .upload("/api/v1/facilities/import", import_facilities, crate::CSV_ROUTE_LIMIT)
        .get("/api/v1/facilities/{id}", get_facility)
        .put("/api/v1/facilities/{id}", update_facility)
        .get("/api/v1/facilities/{id}/history", facility_history)
        .get("/api/v1/facilities/{id}/notes", list_notes)
        .post("/api/v1/facilities/{id}/notes", create_note)
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::document().to_string()).into_response()
}

fn api_user(ctx: &Ctx, p: Permission) -> Result<&vigia_domain::account::User, WebError> {
    ctx.signed_in()?;
    ctx.require(p)
}

/// Reads a JSON object body: the right content type, valid JSON, within the size limit.
pub(crate) fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<RawInput, WebError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime != "application/json" && !mime.ends_with("+json") {
        return Err(WebError::UnsupportedMediaType);
    }
    if body.len() > crate::FORM_LIMIT {
        return Err(WebError::TooLarge);
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| WebError::BadRequest(format!("invalid JSON at line {}, column {}", e.line(), e.column())))?;
    Ok(RawInput::from_json(value)?)
}

/// `201 Created` with the new record and its `Location`.
pub(crate) fn created(body: impl serde::Serialize, location: String) -> Response {
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn parse_id(s: &str) -> Result<i64, WebError> {
    s.parse::<i64>().ok().filter(|id| *id > 0).ok_or(WebError::NotFound)
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

async fn me(Extension(ctx): Extension<Ctx>) -> ApiResult<Json<serde_json::Value>> {
    let u = api_user(&ctx, Permission::ReadFacilities)?;
    Ok(Json(serde_json::json!({
        "id": u.id, "email": u.email, "display_name": u.display_name, "role": u.role,
        "locale": u.locale,
        "organization": ctx.org.as_ref().map(|o| serde_json::json!({"id": o.id, "slug": o.slug, "name": o.name})),
    })))
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
    let mut resp = Json(FacilityOut::from(&f)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&format!("\"{}\"", f.version)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    Ok(resp)
}

/// `If-Match: "3"` makes the update refuse with 409 when version 3 is no longer current.
pub(crate) fn if_match(headers: &HeaderMap) -> Result<Option<i64>, WebError> {
    match headers.get(header::IF_MATCH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|s| s.parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| WebError::BadRequest("If-Match must be a version such as \"3\"".into())),
    }
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
    if body.len() > crate::CSV_LIMIT {
        return Err(WebError::TooLarge.into());
    }
    let drafts = vigia_domain::import::facilities_csv(&body).map_err(WebError::Import)?;
    let ids = st.store.import_facilities(&ctx.actor(), drafts).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"imported": ids.len(), "ids": ids}))).into_response())
}

/// The clock is public reference: anyone may check a date by hand, signed in or not.
fn clock_json(
    calendars: &vigia_domain::clock::Calendars,
    q: &std::collections::HashMap<String, String>,
    counting: bool,
    l: vigia_domain::account::Locale,
) -> Result<serde_json::Value, WebError> {
    use vigia_domain::clock::{answer, validate_query};
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let query = validate_query(&raw, calendars, counting)?;
    let explain = matches!(q.get("explain").map(String::as_str), Some("true" | "1" | "on"));
    let a = answer(&query, calendars, explain, l).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let cal = calendars.get(&a.calendar).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let mut out = serde_json::json!({
        "calendar": a.calendar, "calendar_title": cal.title(l), "source": cal.spec.source, "version": cal.version(l),
        "notes": cal.notes(l),
        "open_days": a.open.iter().map(|(d, why)| serde_json::json!({
            "date": d.to_string(), "why": why.iter().map(|r| r.describe()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "from": a.from.to_string(), "to": a.to.to_string(), "working_days": a.working_days,
        "rule": match l {
            vigia_domain::account::Locale::Es => "El cómputo empieza el día hábil siguiente al hecho que lo inicia.",
            vigia_domain::account::Locale::En => "Counting starts the working day after the triggering event.",
        },
    });
    if explain {
        out["days"] = a
            .days
            .iter()
            .map(|(d, reasons)| {
                let open = a.open.iter().filter(|(o, _)| o == d).flat_map(|(_, why)| why.iter().map(|r| r.describe()));
                serde_json::json!({
                    "date": d.to_string(), "counts": reasons.is_empty(),
                    "reasons": reasons.iter().map(|r| r.describe()).collect::<Vec<_>>(),
                    "open": open.collect::<Vec<_>>(),
                })
            })
            .collect();
    }
    Ok(out)
}

async fn clock_add(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(clock_json(&vigia_store::calendars(&*st.store).await?, &q, false, ctx.locale)?))
}

async fn clock_count(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(clock_json(&vigia_store::calendars(&*st.store).await?, &q, true, ctx.locale)?))
}

async fn clock_calendars(State(st): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let calendars = vigia_store::calendars(&*st.store).await?;
    let entered = st.store.calendar_rules().await?;
    let items: Vec<_> = calendars
        .names()
        .filter_map(|n| calendars.get(n).ok())
        .map(|c| serde_json::to_value(&c.spec).unwrap_or_default())
        .collect();
    Ok(Json(serde_json::json!({ "items": items, "agency_rules": entered })))
}

async fn list_attempts(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    let user = api_user(&ctx, Permission::ReadFacilities)?;
    let mut filter = crate::access::filter(&q)?;
    // One more than asked for says whether another page follows.
    let limit = filter.limit;
    filter.limit = limit + 1;
    let mut list = st.store.list_attempts(user.org_id, &filter).await?;
    let more = list.len() as i64 > limit;
    list.truncate(limit as usize);
    let total =
        st.store.count_attempts(user.org_id, &vigia_domain::access::AttemptFilter { after: None, ..filter }).await?;
    let next =
        list.last().filter(|_| more).map(|a| vigia_domain::paging::Cursor::after(a.draft.attempted_at, a.id).encode());
    let (facilities, orgs) = crate::access::names(&st).await?;
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
    Ok(Json(serde_json::json!({ "items": items, "total": total, "next": next })))
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
    let a = crate::access::visible(&st, &ctx, &id).await?;
    let f = st.store.facility(a.draft.facility_id).await?;
    let org = st.store.org(a.org_id).await?;
    let mut resp =
        Json(crate::access::json(&a, f.as_ref(), org.as_ref().map(|o| o.name.as_str()), user.org_id)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&format!("\"{}\"", a.version)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    Ok(resp)
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
    let current = crate::access::visible(&st, &ctx, &id).await?;
    crate::access::editable(&ctx, &current)?;
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
    let a = crate::access::visible(&st, &ctx, &id).await?;
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

/// The history of a record as JSON, oldest first, with the number of versions the
/// viewer may not read (another organization's versions that were never shared).
fn history_json(entries: &[vigia_store::HistoryEntry], withheld: usize) -> serde_json::Value {
    let items: Vec<_> = entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "seq": e.seq, "at": format_instant(e.at), "action": e.action,
                "actor": e.actor_name, "content": serde_json::from_str::<serde_json::Value>(&e.content).unwrap_or_default(),
                "content_hash": e.content_hash, "entry_hash": e.entry_hash,
            })
        })
        .collect();
    serde_json::json!({ "items": items, "withheld_versions": withheld })
}

/// A CSV of attempts for the caller's organization: all rows or none.
async fn import_attempts(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let user = api_user(&ctx, Permission::RecordAccess)?.clone();
    ctx.check_api_write(&method, &headers)?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.split(';').next().map(str::trim) != Some("text/csv") {
        return Err(WebError::UnsupportedMediaType.into());
    }
    if body.len() > crate::CSV_LIMIT {
        return Err(WebError::TooLarge.into());
    }
    let imp = crate::access::import_csv(&st, &ctx, user.org_id, body).await?.map_err(WebError::Import)?;
    let json = serde_json::json!({
        "imported": imp.row_count, "import_id": imp.id, "first_id": imp.first_id, "last_id": imp.last_id,
        "file_sha256": imp.file_sha256, "rows_sha256": imp.rows_sha256,
    });
    Ok((StatusCode::CREATED, Json(json)).into_response())
}
