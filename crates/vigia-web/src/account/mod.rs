//! A person's own security: two-factor sign-in (TOTP with recovery codes), their open
//! sessions, re-authentication before sensitive actions, and the organization setting
//! that makes two-factor sign-in compulsory.

pub mod api;
pub mod sign_in;
pub mod users;

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use vigia_domain::account::{Locale, Permission, User};
use vigia_domain::{format_instant, totp};
use vigia_store::{now_micros, secrets};

use crate::auth::recent_auth;
use crate::auth::{self, set_cookie, Ctx, Via};
use crate::error::{ApiError, WebError};
use crate::i18n::{tr, tr_args};
use crate::kit::{render, safe_next, Chrome, FormBody, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub mod reset;
pub mod second_factor;

use reset::*;
use second_factor::*;

pub fn routes() -> Routes {
    Routes::default()
        .get("/account", account_page)
        .post("/account/totp/start", totp_start)
        .post("/account/totp/confirm", totp_confirm)
        .post("/account/totp/disable", totp_disable)
        .post("/account/sessions/end", end_session)
        .post("/account/tokens/revoke", revoke_token)
        .get("/api/v1/tokens", api_tokens)
        .post("/api/v1/tokens/{id}/revoke", api_revoke_token)
        .post("/account/password", change_password)
        .get("/reset/{token}", reset_page)
        .post("/reset/{token}", reset_submit)
        .get("/login/totp", second_factor_page)
        .post("/login/totp", second_factor_submit)
        .get("/reauth", reauth_page)
        .post("/reauth", reauth_submit)
        .post("/admin/security", org_security)
}

/// Recovery codes given when two-factor sign-in is turned on.
const RECOVERY_CODES: usize = 10;

/// A recovery code as stored: a SHA-256 bound to its user (so one guess cannot be tried
/// against every account at once), of the code without spaces or hyphens, lowercase.
/// The store also keeps a MAC of the row under the master key (issue #22 finding 8),
/// so a code hash written into the database without the key is never accepted. Codes
/// issued before codes had 80 bits (10 characters) keep their old hash.
fn recovery_hash(user_id: i64, code: &str) -> String {
    let norm: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    if norm.len() == LEGACY_RECOVERY_CHARS {
        return secrets::token_hash(&format!("recovery:{norm}"));
    }
    secrets::token_hash(&format!("vigia/recovery/v2/{user_id}/{norm}"))
}

/// The length of a recovery code issued before they had 80 bits.
const LEGACY_RECOVERY_CHARS: usize = 10;
/// The length of a recovery code: 16 base32 characters, 80 random bits.
const RECOVERY_CHARS: usize = 16;

/// Sixteen random characters from base32 (80 bits), shown as `xxxx-xxxx-xxxx-xxxx`.
fn new_recovery_code() -> Result<String, WebError> {
    let b = secrets::random_bytes(RECOVERY_CHARS * 5 / 8).map_err(|e| WebError::Internal(e.to_string()))?;
    let b32 = totp::base32_encode(&b).to_lowercase();
    Ok(b32.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-"))
}

// ---- Account page ---------------------------------------------------------------

pub struct SessionView {
    pub id: String,
    pub created: String,
    pub last_seen: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account/templates/account.html")]
struct AccountPage {
    c: Chrome,
    required: bool,
    enabled: bool,
    recovery_left: i64,
    sessions: Vec<SessionView>,
    /// The user's API tokens: id, name, state, last used, expires; live ones can be revoked.
    tokens: Vec<TokenView>,
    org_requires: bool,
    can_manage: bool,
}

struct TokenView {
    id: i64,
    name: String,
    state: String,
    live: bool,
    last_used: String,
    expires: String,
}

async fn account_view(st: &AppState, ctx: &Ctx, user: &User, flash: Option<String>) -> PageResult {
    let enabled = st.store.totp(user.id, user.org_id).await?.is_some_and(|t| t.enabled);
    let org_requires = st.store.org_requires_2fa(user.org_id).await?;
    let current = match &ctx.via {
        Via::Session { token_hash } => token_hash.chars().take(16).collect::<String>(),
        _ => String::new(),
    };
    let sessions = st
        .store
        .user_sessions(user.id)
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: s.id == current,
            id: s.id,
            created: crate::kit::when(s.created_at),
            last_seen: crate::kit::when(s.last_seen_at),
        })
        .collect();
    let now = now_micros();
    let when = |t: Option<i64>| t.map(crate::kit::when).unwrap_or_else(|| "—".into());
    let tokens = st
        .store
        .api_tokens(user.id)
        .await?
        .into_iter()
        .map(|t| {
            let state = token_state(&t, now);
            TokenView {
                id: t.id,
                name: t.name,
                state: tr(ctx.locale, &format!("account-token-{state}")),
                live: state == "live",
                last_used: when(t.last_used_at),
                expires: when(t.expires_at),
            }
        })
        .collect();
    let page = AccountPage {
        c: Chrome::new(ctx, "/account").flash(flash),
        tokens,
        required: org_requires && !enabled,
        enabled,
        recovery_left: if enabled { st.store.recovery_codes_left(user.id).await? } else { 0 },
        sessions,
        org_requires,
        can_manage: ctx.can(Permission::ManageUsers),
    };
    render(StatusCode::OK, &page)
}

async fn account_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    let flash = if q.contains_key("ended") {
        Some(tr(l, "account-session-ended"))
    } else if q.contains_key("disabled") {
        Some(tr(l, "account-2fa-disabled"))
    } else if q.contains_key("password") {
        Some(tr(l, "account-password-changed"))
    } else if q.contains_key("revoked") {
        Some(tr(l, "account-token-revoked-flash"))
    } else if q.contains_key("wrong_codes") {
        Some(tr(l, "account-2fa-wrong-codes"))
    } else {
        None
    };
    account_view(&st, &ctx, &user, flash).await
}

#[derive(Template)]
#[template(path = "account/templates/totp_setup.html")]
struct SetupPage {
    c: Chrome,
    key: String,
    uri: String,
    error: Option<String>,
    codes: Vec<String>,
}

async fn totp_start(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    FormBody::checked(&headers, &body, &ctx)?;
    if st.store.totp(user.id, user.org_id).await?.is_some_and(|t| t.enabled) {
        return Ok(Redirect::to("/account").into_response());
    }
    let secret = secrets::random_bytes(totp::SECRET_BYTES).map_err(|e| WebError::Internal(e.to_string()))?;
    st.store.totp_setup(user.id, user.org_id, &secret, now_micros()).await?;
    setup_page(&ctx, &user, &secret, None, StatusCode::OK)
}

fn setup_page(ctx: &Ctx, user: &User, secret: &[u8], error: Option<String>, status: StatusCode) -> PageResult {
    let key = totp::base32_encode(secret);
    let grouped: Vec<String> = key.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    let page = SetupPage {
        c: Chrome::new(ctx, "/account"),
        key: grouped.join(" "),
        uri: totp::otpauth_uri("Vigía", &user.email, secret),
        error,
        codes: Vec::new(),
    };
    render(status, &page)
}

async fn totp_confirm(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let Some(state) = st.store.totp(user.id, user.org_id).await?.filter(|t| !t.enabled) else {
        return Ok(Redirect::to("/account").into_response());
    };
    let code = form.get("code").unwrap_or("");
    let Some(step) = totp::verify(&state.secret, code, now_micros() / 1_000_000, None) else {
        let error = tr(ctx.locale, "account-2fa-bad-code");
        return setup_page(&ctx, &user, &state.secret, Some(error), StatusCode::UNPROCESSABLE_ENTITY);
    };
    let codes = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect::<Result<Vec<_>, _>>()?;
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(user.id, c)).collect();
    st.store.totp_enable(&ctx.actor(), user.id, step, &hashes).await?;
    tracing::info!(user_id = user.id, "two-factor sign-in enabled");
    let page = SetupPage {
        c: Chrome::new(&ctx, "/account").flash(Some(tr(ctx.locale, "account-2fa-enabled"))),
        key: String::new(),
        uri: String::new(),
        error: None,
        codes,
    };
    render(StatusCode::OK, &page)
}

async fn totp_disable(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    FormBody::checked(&headers, &body, &ctx)?;
    if let Some(r) = recent_auth(&st, &ctx, "/account") {
        return Ok(r);
    }
    match st.store.totp_disable(&ctx.actor(), user.id).await {
        Ok(()) => {
            tracing::info!(user_id = user.id, "two-factor sign-in disabled");
            Ok(Redirect::to("/account?disabled=1").into_response())
        }
        Err(vigia_store::StoreError::NotFound) => Ok(Redirect::to("/account").into_response()),
        Err(e) => Err(WebError::from(e).into()),
    }
}

async fn end_session(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let ended = match form.get("id") {
        Some(id) => st.store.end_user_session(user.id, id).await?,
        None => false,
    };
    Ok(Redirect::to(if ended { "/account?ended=1" } else { "/account" }).into_response())
}

/// A new password given twice, checked by the rules every password follows, then
/// hashed (argon2id, off the async threads): `Ok(Err(message))` says what is wrong.
async fn new_password_hash(l: Locale, new: &str, again: &str) -> Result<Result<String, String>, WebError> {
    let problem = if new != again {
        Some("account-password-mismatch".to_string())
    } else {
        vigia_domain::account::check_password("new", new).err().map(|e| format!("err-{}", e.code))
    };
    if let Some(key) = problem {
        return Ok(Err(tr_args(l, &key, &[("min", vigia_domain::account::PASSWORD_MIN.to_string())])));
    }
    let pw = new.to_string();
    let hashed = tokio::task::spawn_blocking(move || secrets::hash_password(&pw))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(Ok(hashed))
}

/// Changes the user's own password: the current one first, then a new one that passes
/// the same rules as any password (length, not a common one), twice. Every other
/// session of theirs ends; this one stays.
async fn change_password(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let (current, new, again) =
        (form.get("current").unwrap_or(""), form.get("new").unwrap_or(""), form.get("again").unwrap_or(""));
    let window = st.config.lockout_window;
    let since = now_micros() - window.as_micros() as i64;
    if st.store.login_failures_since(&user.email, since).await? >= st.config.max_failed_logins {
        // The same lock as sign-in: a stolen session cannot guess the password here.
        let msg = tr_args(ctx.locale, "login-locked", &[("minutes", window.as_secs().div_ceil(60).to_string())]);
        let mut resp = account_view(&st, &ctx, &user, Some(msg)).await?;
        *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return Ok(resp);
    }
    let hash = st.store.user_by_email(&user.email).await?.map(|(_, h)| h).unwrap_or_default();
    let checked = if current.is_empty() || !auth::password_matches(current, hash).await? {
        st.store.record_login_failure(&user.email, now_micros()).await?;
        Err(tr(ctx.locale, "account-password-wrong"))
    } else {
        new_password_hash(ctx.locale, new, again).await?
    };
    let hashed = match checked {
        Ok(h) => h,
        Err(msg) => {
            let mut resp = account_view(&st, &ctx, &user, Some(msg)).await?;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(resp);
        }
    };
    let keep = match &ctx.via {
        Via::Session { token_hash } => Some(token_hash.as_str()),
        _ => None,
    };
    st.store.set_password(&ctx.actor(), user.id, &hashed, keep).await?;
    tracing::info!(user_id = user.id, "password changed");
    Ok(Redirect::to("/account?password=1").into_response())
}

// ---- Re-authentication ----------------------------------------------------------

#[derive(Template)]
#[template(path = "account/templates/reauth.html")]
struct ReauthPage {
    c: Chrome,
    next: String,
    needs_code: bool,
    error: Option<String>,
}

async fn reauth_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let needs_code = st.store.totp(user.id, user.org_id).await?.is_some_and(|t| t.enabled);
    let next = safe_next(q.get("next").map(String::as_str));
    render(StatusCode::OK, &ReauthPage { c: Chrome::new(&ctx, "/reauth"), next, needs_code, error: None })
}

async fn reauth_submit(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let next = safe_next(form.get("next"));
    let needs_code = st.store.totp(user.id, user.org_id).await?.is_some_and(|t| t.enabled);
    let password = form.get("password").unwrap_or("");
    let now = now_micros();
    let since = now - st.config.lockout_window.as_micros() as i64;
    let locked = st.store.login_failures_since(&user.email, since).await? >= st.config.max_failed_logins;
    let hash = st.store.user_by_email(&user.email).await?.map(|(_, h)| h).unwrap_or_default();
    let mut ok = !locked && !password.is_empty() && auth::password_matches(password, hash).await?;
    let mut code_locked = None;
    if ok && needs_code {
        match second_factor(&st, &user, form.get("code").unwrap_or(""), ctx.address).await? {
            SecondFactor::Accepted { .. } => {}
            SecondFactor::Refused => ok = false,
            SecondFactor::Locked { minutes } => (ok, code_locked) = (false, Some(minutes)),
        }
    }
    if ok {
        if let Via::Session { token_hash } = &ctx.via {
            st.store.mark_reauth(token_hash, now).await?;
        }
        tracing::info!(user_id = user.id, "re-authenticated");
        return Ok(Redirect::to(&next).into_response());
    }
    if !password.is_empty() {
        st.store.record_login_failure(&user.email, now).await?;
    }
    tracing::info!(user_id = user.id, "re-authentication refused");
    let l = ctx.locale;
    let error = if let Some(minutes) = code_locked {
        tr_args(l, "account-2fa-locked", &[("minutes", minutes.to_string())])
    } else if locked {
        tr_args(l, "login-locked", &[("minutes", st.config.lockout_window.as_secs().div_ceil(60).to_string())])
    } else {
        tr(l, "account-reauth-failed")
    };
    let page = ReauthPage { c: Chrome::new(&ctx, "/reauth"), next, needs_code, error: Some(error) };
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

// ---- Organization setting ---------------------------------------------------------

async fn org_security(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require(Permission::ManageUsers)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    if let Some(r) = recent_auth(&st, &ctx, "/account") {
        return Ok(r);
    }
    let on = form.get("require_2fa") == Some("on");
    st.store.set_org_requires_2fa(&ctx.actor(), user.org_id, on).await?;
    tracing::info!(org_id = user.org_id, require_2fa = on, "organization two-factor setting changed");
    Ok(Redirect::to("/account").into_response())
}
