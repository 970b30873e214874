//! The official statistics' JSON API: import a file (its bytes as the body, its
//! provenance in the query), list and read versions with their revisions, series with
//! their spikes and breaks, and the side-by-side timeline. Every figure is in `events`
//! and every answer says so in `unit`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use vigia_domain::account::Permission;
use vigia_domain::input::RawInput;
use vigia_store::StatVersion;

use super::Params;
use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .upload("/api/v1/statistics/imports", api_import, crate::state::CSV_ROUTE_LIMIT)
        .get("/api/v1/statistics/versions", api_versions)
        .get("/api/v1/statistics/versions/{id}", api_version)
        .get("/api/v1/statistics/series", api_series)
        .get("/api/v1/statistics/timeline", api_timeline)
}

const UNIT: &str = "events";

pub fn version_json(v: &StatVersion) -> serde_json::Value {
    serde_json::json!({
        "id": v.id, "table": v.code, "year": v.year, "measure": v.measure, "dimension": v.dimension,
        "title": v.title, "sheet": v.sheet, "months": v.months, "rows": v.row_count,
        "file": {"name": v.file_name, "sha256": v.file_sha256, "size": v.file_size},
        "provenance": v.provenance, "figures_sha256": v.figures_sha256,
        "imported_at": vigia_domain::format_instant(v.imported_at), "unit": UNIT,
    })
}

async fn api_import(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    method: Method,
    headers: HeaderMap,
    Query(q): Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    crate::kit::json::api_user(&ctx, Permission::ImportStatistics)?;
    ctx.check_api_write(&method, &headers)?;
    let file_name = q.get("file_name").cloned().unwrap_or_default();
    let mut errs = vigia_domain::ValidationErrors::new();
    vigia_domain::input::check_text("file_name", &file_name, 200, &mut errs);
    if !errs.is_empty() {
        return Err(WebError::from(errs).into());
    }
    let raw = RawInput::from_pairs(q.into_iter().filter(|(k, _)| k != "file_name"));
    let versions = super::import(&st, &ctx, &file_name, body.to_vec(), &raw).await?.map_err(WebError::Sheets)?;
    let first = versions.first().map(|v| v.id).unwrap_or(0);
    Ok(crate::kit::json::created(
        serde_json::json!({"versions": versions.iter().map(version_json).collect::<Vec<_>>()}),
        format!("/api/v1/statistics/versions/{first}"),
    ))
}

async fn api_versions(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> Result<Response, ApiError> {
    ctx.signed_in()?;
    let all = st.store.stat_versions().await?;
    let latest: Vec<i64> = vigia_app::statistics::latest(&all).iter().map(|v| v.id).collect();
    let items: Vec<serde_json::Value> = all
        .iter()
        .map(|v| {
            let mut j = version_json(v);
            j["latest"] = latest.contains(&v.id).into();
            j
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

async fn api_version(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ctx.signed_in()?;
    let d = super::detail(&st, &id).await?;
    let mut v = version_json(&d.version);
    v["rows"] = serde_json::to_value(&d.rows).unwrap_or_default();
    v["previous_version"] = d.previous.as_ref().map(|p| p.id).into();
    v["revisions"] = serde_json::to_value(&d.revisions).unwrap_or_default();
    v["versions"] = d.siblings.iter().map(|s| s.id).collect::<Vec<_>>().into();
    Ok(Json(v).into_response())
}

async fn api_series(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Params,
) -> Result<Response, ApiError> {
    ctx.signed_in()?;
    let (table, measure, dimension, key) = super::series_query(&q)?;
    let s = vigia_app::statistics::series(&st.store, table.as_deref(), measure, dimension, &key).await?;
    Ok(Json(serde_json::json!({
        "table": s.table, "measure": measure, "dimension": dimension, "key": key, "unit": UNIT,
        "months": s.months().iter().map(|(m, v)| serde_json::json!({"month": m.label(), "events": v})).collect::<Vec<_>>(),
        "signals": s.signals.iter().map(|x| serde_json::json!({
            "month": x.month.label(), "kind": x.kind, "direction": x.direction, "events": x.value,
            "baseline": x.baseline, "score": x.score,
        })).collect::<Vec<_>>(),
        "versions": s.versions.iter().map(|v| v.id).collect::<Vec<_>>(),
        "illustrative": s.illustrative,
    }))
    .into_response())
}

async fn api_timeline(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Params,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in()?.clone();
    let (from, until) = super::range_query(&q)?;
    let key = q.get("key").cloned().unwrap_or_else(|| "total".into());
    let (_, _, _, key) = super::series_query(&std::collections::HashMap::from([("key".to_string(), key)]))?;
    let q = vigia_app::statistics::TimelineQuery { viewer_org: user.org_id, key, from, until };
    let kept = vigia_app::statistics::timeline(&st.store, &st.analyses, &st.detections, &st.timelines, &q).await?;
    let (key, (months, illustrative)) = (q.key, (&kept.0, kept.1));
    Ok(Json(serde_json::json!({
        "key": key, "months": months, "illustrative": illustrative,
        "units": {"returned": UNIT, "presented": UNIT, "attempts": "attempts", "refusals": "attempts", "statements": "statements"},
    }))
    .into_response())
}
