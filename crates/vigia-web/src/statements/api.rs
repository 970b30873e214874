//! Statements' JSON API: list, record, import, update, claims, contradictions, reviews.

use super::*;

pub(super) async fn api_list(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    ctx.signed_in()?;
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["q", "limit", "after"], &mut errs);
    let query = raw.text("q", SEARCH_MAX, &mut errs);
    let asked = crate::kit::json::page_asked(&raw, &q, &mut errs);
    let query = errs.into_result(query)?;
    // Statements are a public record every signed-in member reads alike.
    let key = format!("all|{:?}", query.as_deref().map(str::trim));
    Ok(crate::kit::json::kept_page(&st, "statements-api", key, asked, || async {
        let (rows, total) = search_page(&st, query.as_deref(), asked).await?;
        crate::kit::json::page_body(rows, asked, total, |s| (s.draft.published_at, s.id), |s| Ok(statement_json(s)))
    })
    .await?)
}

pub(super) async fn api_create(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::RecordStatements)?.clone();
    ctx.check_api_write(&method, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let d = statement::validate_statement(&raw, ZONE, now_micros())?;
    let s = st.store.create_statement(&ctx.actor(), user.org_id, d).await?;
    Ok(crate::kit::json::created(statement_json(&s), format!("/api/v1/statements/{}", s.id)))
}

/// A CSV (`text/csv`: one statement and at most one claim per row) or a JSON array of
/// statements with their `claims`: all or none, errors naming line (or item) and column.
pub(super) async fn api_import(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = crate::kit::json::api_user(&ctx, Permission::RecordStatements)?.clone();
    ctx.check_api_write(&method, &headers)?;
    let ct = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let json = match ct.split(';').next().map(str::trim) {
        Some("text/csv") => false,
        Some("application/json") => true,
        _ => return Err(WebError::UnsupportedMediaType.into()),
    };
    if body.len() > crate::state::CSV_LIMIT {
        return Err(WebError::TooLarge.into());
    }
    let items = vigia_domain::import::statements(&body, json, now_micros()).map_err(WebError::Import)?;
    let ids = st.store.import_statements(&ctx.actor(), user.org_id, items).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"imported": ids.len(), "ids": ids}))).into_response())
}

/// The statement the path names, once the caller is signed in, the statement exists, the
/// role may record statements and the write is one the API accepts: the checks an
/// update and a new claim make, in the same order.
async fn statement_to_write(
    st: &AppState,
    ctx: &Ctx,
    id: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<i64, WebError> {
    ctx.signed_in()?;
    let id = parse_id(id)?;
    st.store.statement(id).await?.ok_or(WebError::NotFound)?;
    ctx.require(Permission::RecordStatements)?;
    ctx.check_api_write(method, headers)?;
    Ok(id)
}

pub(super) async fn api_update(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = statement_to_write(&st, &ctx, &id, &method, &headers).await?;
    let version = crate::kit::json::if_match(&headers)?;
    let d = statement::validate_statement(&crate::kit::json::json_body(&headers, &body)?, ZONE, now_micros())?;
    let s = st.store.update_statement(&ctx.actor(), id, version, d).await?;
    Ok(Json(statement_json(&s)).into_response())
}

pub(super) async fn api_get(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ctx.signed_in()?;
    let s = st.store.statement(parse_id(&id)?).await?.ok_or(WebError::NotFound)?;
    Ok(Json(statement_json(&s)).into_response())
}

pub(super) async fn api_claim(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = statement_to_write(&st, &ctx, &id, &method, &headers).await?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let d = statement::validate_claim(&raw)?;
    let c = st.store.add_claim(&ctx.actor(), id, d).await?;
    let s = st.store.statement(id).await?.ok_or(WebError::NotFound)?;
    let _ = c;
    Ok(crate::kit::json::created(statement_json(&s), format!("/api/v1/statements/{id}")))
}

pub(super) async fn api_contradictions(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    ctx.signed_in()?;
    let user = ctx.require_user()?.clone();
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["limit", "after"], &mut errs);
    let limit = raw.integer("limit", 1, vigia_domain::paging::MAX_ROWS, &mut errs).unwrap_or(500);
    let after = detection_after(&q, &mut errs);
    let after = errs.into_result(after)?;
    let d = vigia_app::findings::detections(&st.store, &st.analyses, &st.detections, user.org_id).await?;
    let (page, _, next) = detections_after(&d.found, after.as_deref(), limit as usize);
    Ok(Json(serde_json::json!({
        "items": page.iter().map(|f| detection_json(f, &d.reviews)).collect::<Vec<_>>(),
        "total": d.found.len(), "next": next,
    }))
    .into_response())
}

pub(super) fn review_input(raw: &RawInput) -> Result<(String, ReviewStatus, String), WebError> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["key", "status", "reason"], &mut errs);
    let key = raw.required_text("key", 200, &mut errs);
    let status = raw.required_text("status", 20, &mut errs).and_then(|s| {
        let v = ReviewStatus::parse(&s);
        if v.is_none() {
            errs.push(vigia_domain::FieldError::new("status", "unknown_choice"));
        }
        v
    });
    let reason = raw.required_text("reason", 2000, &mut errs);
    match (key, status, reason) {
        (Some(k), Some(s), Some(r)) if errs.is_empty() => Ok((k, s, r)),
        _ => Err(errs.into()),
    }
}

pub(super) async fn review(st: &AppState, ctx: &Ctx, raw: &RawInput) -> Result<Review, WebError> {
    let user = ctx.require(Permission::ReviewDetections)?.clone();
    let (key, status, reason) = review_input(raw)?;
    let found = vigia_app::findings::evidence(&st.store, &st.analyses, user.org_id).await?.found;
    if !found.iter().any(|d| d.key == key) {
        return Err(ValidationErrors::single("key", "unknown_detection").into());
    }
    Ok(st.store.review_detection(&ctx.actor(), user.org_id, &key, status, &reason).await?)
}

pub(super) async fn api_review(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    crate::kit::json::api_user(&ctx, Permission::ReviewDetections)?;
    ctx.check_api_write(&method, &headers)?;
    let r = review(&st, &ctx, &crate::kit::json::json_body(&headers, &body)?).await?;
    Ok(Json(
        serde_json::json!({"key": r.key, "status": r.status, "reason": r.reason, "at": format_instant(r.reviewed_at)}),
    )
    .into_response())
}
