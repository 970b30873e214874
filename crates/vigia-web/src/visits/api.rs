//! Visits' JSON API: record (sent once from the field), read, files, sealed notes.

use super::*;

/// Records a visit under the client's idempotency key: 201 the first time, 200 with
/// the same visit when the same report comes again, 409 when a different report does.
pub(super) async fn record(
    st: &AppState,
    ctx: &Ctx,
    key: &str,
    value: &serde_json::Value,
) -> Result<(Visit, bool), WebError> {
    let user = ctx.require(Permission::RecordVisits)?.clone();
    if !key_ok(key) {
        return Err(ValidationErrors::single("idempotency_key", "invalid_key").into());
    }
    let draft = validate(st, value).await?;
    st.store.record_visit(&ctx.actor(), user.org_id, key, draft).await.map_err(|e| match e {
        StoreError::Conflict(_) => WebError::Conflict("draft".into()),
        other => other.into(),
    })
}

pub(super) async fn api_create(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    crate::kit::json::api_user(&ctx, Permission::RecordVisits)?;
    ctx.check_api_write(&method, &headers)?;
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.split(';').next().map(str::trim) != Some("application/json") {
        return Err(WebError::UnsupportedMediaType.into());
    }
    if body.len() > crate::state::FORM_LIMIT {
        return Err(WebError::TooLarge.into());
    }
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| WebError::BadRequest(format!("invalid JSON at line {}", e.line())))?;
    let (v, new) = record(&st, &ctx, &key, &value).await?;
    let cap = capacity_of(&st, v.draft.facility_id).await?;
    let mut resp =
        (if new { StatusCode::CREATED } else { StatusCode::OK }, Json(visit_json(&v, cap, ctx.locale))).into_response();
    if let Ok(loc) = header::HeaderValue::from_str(&format!("/api/v1/visits/{}", v.id)) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

pub(super) async fn api_list(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    ctx.signed_in()?;
    let user = ctx.require_user()?.clone();
    let raw = vigia_domain::input::RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["facility_id", "limit", "after"], &mut errs);
    let facility = raw.integer("facility_id", 1, i64::MAX, &mut errs);
    let asked = crate::kit::json::page_asked(&raw, &q, &mut errs);
    let facility = errs.into_result(facility)?;
    // A page of visits is the same for every member of the organization (no part of it
    // depends on the role): kept as written, since each visit's findings are opened and
    // its indicators worked out to write it.
    let key = format!("{}|{facility:?}|{:?}", user.org_id, ctx.locale);
    Ok(crate::kit::json::kept_page(&st, "visits-api", key, asked, || async {
        let rows = st.store.visits_page(user.org_id, facility, asked.after, asked.limit + 1).await?;
        let total = crate::kit::kept::kept(&st, "count-visits", format!("{}|{facility:?}", user.org_id), || async {
            Ok(st.store.count_visits(user.org_id, facility, None).await?)
        })
        .await?;
        let facilities = facilities_by_id(&st).await?;
        crate::kit::json::page_body(
            rows,
            asked,
            total,
            |v| (crate::kit::listing::date_key(v.draft.on), v.id),
            |v| Ok(visit_json(v, facilities.get(&v.draft.facility_id).and_then(|f| f.draft.capacity), ctx.locale)),
        )
    })
    .await?)
}

pub(super) async fn owned(st: &AppState, ctx: &Ctx, id: &str) -> Result<Visit, WebError> {
    ctx.signed_in()?;
    let user = ctx.require_user()?;
    let id = crate::kit::parse_id(id)?;
    st.store.visit(user.org_id, id).await?.ok_or(WebError::NotFound)
}

pub(super) async fn api_get(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let v = owned(&st, &ctx, &id).await?;
    let cap = capacity_of(&st, v.draft.facility_id).await?;
    let mut out = visit_json(&v, cap, ctx.locale);
    let files = st.store.attachments(vigia_domain::RecordType::Visit, v.id).await?;
    out["files"] = files.iter().map(crate::kit::attachment_json).collect::<Vec<_>>().into();
    Ok(Json(out).into_response())
}

pub(super) async fn api_notes(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let v = owned(&st, &ctx, &id).await?;
    ctx.require(Permission::ReadVisitNotes)?;
    ctx.require_deliberate_read(&headers)?;
    let notes = st.store.read_visit_notes(&ctx.actor(), v.org_id, v.id).await?;
    Ok(Json(serde_json::json!({"id": v.id, "interview_notes": notes})).into_response())
}
