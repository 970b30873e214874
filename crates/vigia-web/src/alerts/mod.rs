//! The alerts inbox, webhook registration and the delivery log.

pub mod email;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Json};
use std::collections::HashMap;
use vigia_domain::account::Permission;
use vigia_domain::{format_instant, ValidationErrors};
use vigia_store::{now_micros, secrets, Alert};

use crate::auth::{Ctx, Via};
use crate::error::{ApiError, WebError};
use crate::i18n::{field_error, tr};
use crate::kit::alerts::{view, AlertView};
use crate::kit::{render, Chrome, FormBody, PageResult};
use crate::routes::Routes;
use crate::state::AppState;
use vigia_app::alerts::severity;

pub fn routes() -> Routes {
    Routes::default()
        .get("/alerts", inbox)
        .get("/alerts.csv", inbox_csv)
        .get("/alerts.jsonl", inbox_csv)
        .post("/alerts/read-all", mark_all_read)
        .post("/alerts/{id}/read", mark_read)
        .get("/admin/webhooks", webhooks_page)
        .post("/admin/webhooks", webhook_create)
        .post("/admin/webhooks/{id}/state", webhook_state)
        .get("/api/v1/alerts", api_alerts)
}

/// The organization's alerts the viewer may read now ([`vigia_app::alerts::readable`]);
/// none without a signed-in person.
async fn readable(st: &AppState, ctx: &Ctx, org_id: i64) -> Result<Vec<Alert>, WebError> {
    match &ctx.user {
        Some(u) => Ok(vigia_app::alerts::readable(&st.store, u.role, org_id).await?),
        None => Ok(Vec::new()),
    }
}

#[derive(Template)]
#[template(path = "alerts/templates/alerts.html")]
struct InboxPage {
    c: Chrome,
    alerts: Vec<AlertView>,
    paging: crate::kit::listing::Paging,
    cursor_error: Option<String>,
    unread: usize,
    /// Unread urgent alerts, listed first whatever the page.
    urgent: Vec<AlertView>,
}

async fn inbox(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    let all = readable(&st, &ctx, user.org_id).await?;
    let unread = all.iter().filter(|a| a.read_at.is_none()).count();
    let urgent = all.iter().filter(|a| a.read_at.is_none() && severity(a) == 0).take(50).map(|a| view(l, a)).collect();
    let listed =
        crate::kit::listing::list_page_of(l, ("/alerts", "/alerts.csv"), &q, "alerts-count", all, |a| (a.id, a.id));
    let status = listed.status();
    let page = InboxPage {
        c: Chrome::new(&ctx, "/alerts").flash(q.contains_key("all_read").then(|| tr(l, "alerts-all-read-done"))),
        alerts: listed.rows.iter().map(|a| view(l, a)).collect(),
        paging: listed.paging,
        cursor_error: listed.cursor_error,
        unread,
        urgent,
    };
    render(status, &page)
}

/// Every alert the viewer may read, as CSV, newest first.
async fn inbox_csv(State(st): State<AppState>, Extension(ctx): Extension<Ctx>, uri: axum::http::Uri) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    let head =
        crate::kit::listing::columns(l, &["field-id", "history-when", "alerts-what", "alerts-detail", "alerts-state"]);
    let (read, unread) = (tr(l, "alerts-read"), tr(l, "alerts-unread"));
    let rows = readable(&st, &ctx, user.org_id)
        .await?
        .iter()
        .map(|a| {
            let v = view(l, a);
            vec![v.id.to_string(), v.when, v.title, v.detail, if v.unread { unread.clone() } else { read.clone() }]
        })
        .collect();
    Ok(crate::kit::listing::download_of(crate::kit::listing::Format::of(&uri), "vigia-alerts", head, rows))
}

/// Marks every alert the viewer may read as read: one press instead of one per alert.
async fn mark_all_read(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    FormBody::checked(&headers, &body, &ctx)?;
    let now = now_micros();
    for a in readable(&st, &ctx, user.org_id).await?.iter().filter(|a| a.read_at.is_none()) {
        st.store.mark_alert_read(user.org_id, a.id, now).await?;
    }
    Ok(Redirect::to("/alerts?all_read=1").into_response())
}

async fn mark_read(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    FormBody::checked(&headers, &body, &ctx)?;
    let id = id.parse::<i64>().map_err(|_| WebError::NotFound)?;
    // Only an alert this person may read: a monitor cannot mark a lawyer's case alert as
    // read for the whole organization (read state is the organization's).
    if !readable(&st, &ctx, user.org_id).await?.iter().any(|a| a.id == id) {
        return Err(WebError::NotFound.into());
    }
    st.store.mark_alert_read(user.org_id, id, now_micros()).await?;
    Ok(Redirect::to("/alerts").into_response())
}

async fn api_alerts(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if ctx.via == Via::BadBearer {
        return Err(WebError::Unauthorized.into());
    }
    let user = ctx.require_user()?.clone();
    let items: Vec<_> = readable(&st, &ctx, user.org_id)
        .await?
        .iter()
        .map(|a| {
            serde_json::json!({
                "id": a.id, "kind": a.kind, "attempt_id": a.attempt_id, "created_at": format_instant(a.created_at),
                "read": a.read_at.is_some(),
                "payload": serde_json::from_str::<serde_json::Value>(&a.payload).unwrap_or_default(),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

#[derive(Template)]
#[template(path = "alerts/templates/webhooks.html")]
struct WebhooksPage {
    c: Chrome,
    hooks: Vec<(i64, String, bool)>,
    deliveries: Vec<(i64, i64, String, i64, String, String)>,
    secret: Option<String>,
    url_value: String,
    url_error: Option<String>,
}

async fn webhooks_view(
    st: &AppState,
    ctx: &Ctx,
    secret: Option<String>,
    url_value: String,
    url_error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let me = ctx.require(Permission::ManageUsers)?;
    let hooks = st.store.webhooks(me.org_id).await?.into_iter().map(|h| (h.id, h.url, h.active)).collect();
    let deliveries = st
        .store
        .deliveries(me.org_id, 100)
        .await?
        .into_iter()
        .map(|d| {
            (
                d.id,
                d.webhook_id,
                tr(ctx.locale, &format!("delivery-{}", d.status)),
                d.attempts,
                d.last_status.map(|s| s.to_string()).or(d.last_error).unwrap_or_default(),
                crate::kit::when(d.delivered_at.unwrap_or(d.next_attempt_at)),
            )
        })
        .collect();
    render(
        status,
        &WebhooksPage { c: Chrome::new(ctx, "/admin/webhooks"), hooks, deliveries, secret, url_value, url_error },
    )
}

/// Turns one of the organization's webhooks on or off, or deletes it.
async fn webhook_state(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let me = ctx.require(Permission::ManageUsers)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let id = crate::kit::parse_id(&id)?;
    let state = match form.get("state") {
        Some("active") => vigia_store::WebhookState::Active,
        Some("disabled") => vigia_store::WebhookState::Disabled,
        Some("deleted") => vigia_store::WebhookState::Deleted,
        _ => return Err(WebError::Invalid(ValidationErrors::single("state", "unknown_choice")).into()),
    };
    st.store.set_webhook_state(&ctx.actor(), me.org_id, id, state).await?;
    Ok(Redirect::to("/admin/webhooks").into_response())
}

async fn webhooks_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(_q): Query<HashMap<String, String>>,
) -> PageResult {
    webhooks_view(&st, &ctx, None, String::new(), None, StatusCode::OK).await
}

/// An http(s) URL with a host, at most 500 characters.
fn check_url(raw: &str) -> Result<String, ValidationErrors> {
    let u = raw.trim();
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    match rest {
        Some(r)
            if !r.is_empty()
                && !r.starts_with('/')
                && u.len() <= 500
                && !u.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(u.to_string())
        }
        _ => Err(ValidationErrors::single("url", "invalid_url")),
    }
}

async fn webhook_create(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let me = ctx.require(Permission::ManageUsers)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let url = form.get("url").unwrap_or("").to_string();
    let checked = match check_url(&url) {
        // Refused now rather than at every delivery: a destination that is not public
        // (the name is resolved again, and checked again, at each send).
        Ok(u) => match vigia_app::webhooks::destination(&u, &st.config.webhook_allow_hosts).await {
            Err(why) if why.starts_with("refused: only https") => {
                Err(ValidationErrors::single("url", "webhook_not_https"))
            }
            Err(why) if why.starts_with("refused") => Err(ValidationErrors::single("url", "webhook_not_public")),
            _ => Ok(u),
        },
        Err(e) => Err(e),
    };
    match checked {
        Ok(url) => {
            let secret = secrets::new_token("whsec_").map_err(|e| WebError::Internal(e.to_string()))?;
            st.store.create_webhook(&ctx.actor(), me.org_id, &url, &secret).await?;
            webhooks_view(&st, &ctx, Some(secret), String::new(), None, StatusCode::OK).await
        }
        Err(errs) => {
            let msg = errs.0.first().map(|e| field_error(ctx.locale, e));
            webhooks_view(&st, &ctx, None, url, msg, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_attempt_time_reads_in_mexico_s_legal_time() {
        assert_eq!(crate::kit::alerts::local_time("2026-12-05T16:00:00Z"), "2026-12-05 10:00 CST");
        assert_eq!(crate::kit::alerts::local_time("not a time"), "not a time");
    }
}
