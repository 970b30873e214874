//! The legal clock's JSON API.

use axum::extract::State;
use axum::{Extension, Json};
use vigia_domain::input::RawInput;

use crate::auth::Ctx;
use crate::error::WebError;
use crate::kit::json::*;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .get("/api/v1/clock/calendars", clock_calendars)
        .get("/api/v1/clock/add", clock_add)
        .get("/api/v1/clock/count", clock_count)
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
    Ok(Json(clock_json(&*vigia_store::calendars(&*st.store).await?, &q, false, ctx.locale)?))
}

async fn clock_count(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(clock_json(&*vigia_store::calendars(&*st.store).await?, &q, true, ctx.locale)?))
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
