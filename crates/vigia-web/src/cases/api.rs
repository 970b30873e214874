//! Cases' JSON API: list, create, read, update, the sealed person, events.

use super::*;

/// A list's filters and the page asked for; bad values are field errors.
pub(super) fn list_filter(q: &HashMap<String, String>) -> Result<(CaseFilter, crate::kit::json::PageAsked), WebError> {
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["status", "lawyer_user_id", "facility_id", "limit", "after"], &mut errs);
    let status = raw.text("status", 20, &mut errs).and_then(|s| {
        let v = CaseStatus::parse(&s);
        if v.is_none() && s != "all" {
            errs.push(vigia_domain::FieldError::new("status", "unknown_choice"));
        }
        v
    });
    let lawyer_user_id = raw.integer("lawyer_user_id", 1, i64::MAX, &mut errs);
    let facility_id = raw.integer("facility_id", 1, i64::MAX, &mut errs);
    let asked = crate::kit::json::page_asked(&raw, q, &mut errs);
    Ok(errs.into_result((CaseFilter { status, lawyer_user_id, facility_id }, asked))?)
}

pub(super) async fn api_list(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in().and_then(|_| ctx.require(Permission::ReadCases))?.clone();
    let (filter, asked) = list_filter(&q)?;
    // A case's cursor is its number twice: the list runs newest (highest number) first.
    let before = asked.after.map(|c| c.id);
    // What a page shows depends on the organization, the filter and whether the role
    // may read references.
    let key = format!("{}|{}|{filter:?}", user.org_id, ctx.can(Permission::ReadCaseSealed));
    Ok(crate::kit::json::kept_page(&st, "cases-api", key, asked, || async {
        let cases = st.store.cases_page(user.org_id, &filter, before, asked.limit + 1).await?;
        let total = crate::kit::kept::kept(&st, "count-cases", format!("{}|{filter:?}", user.org_id), || async {
            Ok(st.store.count_cases(user.org_id, &filter, None).await?)
        })
        .await?;
        crate::kit::json::page_body(cases, asked, total, |c| (c.id, c.id), |c| case_json(&st, &ctx, c))
    })
    .await?)
}

pub(super) async fn api_create(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in().and_then(|_| ctx.require(Permission::EditCases))?.clone();
    ctx.check_api_write(&axum::http::Method::POST, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let d = draft(&raw)?;
    let c = st.store.create_case(&ctx.actor(), user.org_id, d).await?;
    Ok(crate::kit::json::created(case_json(&st, &ctx, &c)?, format!("/api/v1/cases/{}", c.id)))
}

pub(super) async fn api_get(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::ReadCases).await?;
    let l = ctx.locale;
    let cals = calendars(&st).await?;
    let today = today();
    let events = st.store.case_events(c.org_id, c.id).await?;
    let facts =
        CaseFacts { facts: events.iter().filter(|e| !e.is_voided()).map(Into::into).collect(), case: c.clone() };
    let a = assess(&facts, &cals, today)?;
    let mut v = case_json(&st, &ctx, &c)?;
    v["events"] = events.iter().map(|e| event_json(&ctx, e, None)).collect::<Vec<_>>().into();
    let pressure: Vec<i64> = pressure_events(&facts).iter().map(|f| f.id).collect();
    v["assessment"] = assessment_json(l, &a, &pressure, &cals, today);
    v["today"] = today.to_string().into();
    Ok(Json(v).into_response())
}

pub(super) async fn api_update(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    ctx.check_api_write(&axum::http::Method::PUT, &headers)?;
    let version = crate::kit::json::if_match(&headers)?;
    let mut d = draft(&crate::kit::json::json_body(&headers, &body)?)?;
    vigia_app::consents::keep_withheld_contact(&st.store, &ctx.actor(), c.org_id, c.id, &mut d.person).await?;
    let c = st.store.update_case(&ctx.actor(), c.org_id, c.id, version, d).await?;
    Ok(Json(case_json(&st, &ctx, &c)?).into_response())
}

pub(super) async fn api_sealed(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::ReadCaseSealed).await?;
    ctx.require_deliberate_read(&headers)?;
    let (s, withheld) = vigia_app::consents::read_for_view(&st.store, &ctx.actor(), c.org_id, c.id).await?;
    Ok(Json(serde_json::json!({
        "id": c.id, "reference": c.fields.reference, "person": s.person, "contact_withheld": withheld,
        "event_notes": s.notes.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>(),
    }))
    .into_response())
}

pub(super) async fn api_event(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    ctx.check_api_write(&axum::http::Method::POST, &headers)?;
    let raw = crate::kit::json::json_body(&headers, &body)?;
    let d = case::validate_event(&raw, today())?;
    let e = st.store.add_case_event(&ctx.actor(), c.org_id, c.id, d).await?;
    Ok(crate::kit::json::created(event_json(&ctx, &e, None), format!("/api/v1/cases/{}", c.id)))
}

pub(super) fn void_input(raw: &RawInput) -> Result<(i64, String), WebError> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["event_id", "reason"], &mut errs);
    let event = raw.integer("event_id", 1, i64::MAX, &mut errs);
    if event.is_none() && errs.for_field("event_id").is_none() {
        errs.push(vigia_domain::FieldError::new("event_id", "required"));
    }
    let reason = raw.required_text("reason", 500, &mut errs);
    match (event, reason) {
        (Some(e), Some(r)) if errs.is_empty() => Ok((e, r)),
        _ => Err(errs.into()),
    }
}

pub(super) async fn api_void(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    ctx.check_api_write(&axum::http::Method::POST, &headers)?;
    let (event, reason) = void_input(&crate::kit::json::json_body(&headers, &body)?)?;
    let e = st.store.void_case_event(&ctx.actor(), c.org_id, c.id, event, &reason).await?;
    Ok(Json(event_json(&ctx, &e, None)).into_response())
}
