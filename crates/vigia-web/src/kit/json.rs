//! What every JSON handler shares: reading a JSON body, `201 Created`, `If-Match`,
//! ids in paths, and the signed-in API user.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use vigia_domain::account::Permission;
use vigia_domain::format_instant;
use vigia_domain::input::RawInput;

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};

pub(crate) type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn api_user(ctx: &Ctx, p: Permission) -> Result<&vigia_domain::account::User, WebError> {
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
    if body.len() > crate::state::FORM_LIMIT {
        return Err(WebError::TooLarge);
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| WebError::BadRequest(format!("invalid JSON at line {}, column {}", e.line(), e.column())))?;
    Ok(RawInput::from_json(value)?)
}

/// The page an API list asks for: `limit` rows (1 to 10,000; 500 unless asked) after
/// the `after` cursor the previous page's `next` gave.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageAsked {
    pub limit: i64,
    pub after: Option<vigia_domain::paging::Cursor>,
}

/// Reads `limit` and `after`; bad values are field errors in `errs`.
pub(crate) fn page_asked(
    raw: &RawInput,
    q: &std::collections::HashMap<String, String>,
    errs: &mut vigia_domain::ValidationErrors,
) -> PageAsked {
    let limit = raw.integer("limit", 1, vigia_domain::paging::MAX_ROWS, errs).unwrap_or(500);
    PageAsked { limit, after: crate::kit::listing::after(q, errs) }
}

/// The largest page of a list kept as written until the data change, in rows and in
/// bytes: larger pages are written per request, so pages asked from every cursor (a
/// cursor can be made up) hold at most 256 × 256 KiB in `AppState::pages`.
pub(crate) const KEPT_PAGE: i64 = 100;
const KEPT_PAGE_BYTES: usize = 256 * 1024;

/// A page of a list as JSON, kept as written under `key` (which names everything the
/// page depends on besides the data, the viewer's organization first) while the data do
/// not change, when it is small enough (see [`KEPT_PAGE`]); `write` makes the document.
pub(crate) async fn kept_page<F, Fut>(
    st: &crate::state::AppState,
    name: &'static str,
    key: String,
    asked: PageAsked,
    write: F,
) -> Result<Response, WebError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value, WebError>>,
{
    if asked.limit > KEPT_PAGE {
        let body = axum::body::Bytes::from(write().await?.to_string());
        return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
    }
    kept_body(st, name, format!("{key}|{:?}|{}", asked.after, asked.limit), write).await
}

/// A JSON answer kept as written under `key` (everything it depends on besides the
/// data, the viewer's organization first) while the data do not change, in the cache of
/// written bodies (`AppState::pages`: 256 of at most 256 KiB); a larger one is written
/// per request. `write` makes the document.
pub(crate) async fn kept_body<F, Fut>(
    st: &crate::state::AppState,
    name: &'static str,
    key: String,
    write: F,
) -> Result<Response, WebError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value, WebError>>,
{
    let bytes = |v: serde_json::Value| axum::body::Bytes::from(v.to_string());
    // `write` runs at most once: for the body kept, or for a body too large to keep
    // (written then, or per request once it is known to be too large).
    let write = std::sync::Mutex::new(Some(write));
    let take = || write.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    let large = std::sync::Mutex::new(None);
    let kept = st
        .pages
        .get(&st.store, (name, key), || async {
            let w = take().ok_or_else(|| WebError::Internal("a page was written twice".into()))?;
            let b = bytes(w().await?);
            if b.len() <= KEPT_PAGE_BYTES {
                return Ok::<_, WebError>(Some(b));
            }
            *large.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(b);
            Ok(None)
        })
        .await?;
    let large = large.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    let body = match (kept.as_ref(), large) {
        (Some(b), _) => b.clone(),
        (None, Some(b)) => b,
        (None, None) => match take() {
            Some(w) => bytes(w().await?),
            None => return Err(WebError::Internal("a page was written twice".into())),
        },
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A page of an API list read with one row more than asked for (that row says another
/// page follows): `{"items", "total", "next"}`, `next` the cursor after the last row
/// shown (by `key`: sort key and id) or `null` on the last page.
pub(crate) fn page_body<T>(
    mut rows: Vec<T>,
    asked: PageAsked,
    total: i64,
    key: impl Fn(&T) -> (i64, i64),
    item: impl FnMut(&T) -> Result<serde_json::Value, WebError>,
) -> Result<serde_json::Value, WebError> {
    let more = rows.len() as i64 > asked.limit;
    rows.truncate(asked.limit.max(0) as usize);
    let next = rows.last().filter(|_| more).map(|r| {
        let (k, id) = key(r);
        vigia_domain::paging::Cursor::after(k, id).encode()
    });
    let items = rows.iter().map(item).collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::json!({ "items": items, "total": total, "next": next }))
}

/// `201 Created` with the new record and its `Location`.
pub(crate) fn created(body: impl serde::Serialize, location: String) -> Response {
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

pub(crate) use crate::kit::parse_id;

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

/// The history of a record as JSON, oldest first, with the number of versions the
/// viewer may not read (another organization's versions that were never shared).
pub(crate) fn history_json(entries: &[vigia_store::HistoryEntry], withheld: usize) -> serde_json::Value {
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

/// A record's JSON with its version as the `ETag`, which `If-Match` sends back to update it.
pub(crate) fn tagged(body: impl serde::Serialize, version: i64) -> Response {
    let mut resp = Json(body).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&format!("\"{version}\"")) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}
