//! One-time reset links (`vigia user reset-password`): the page that sets a new password.

use super::*;

#[derive(Template)]
#[template(path = "account/templates/reset.html")]
pub(super) struct ResetPage {
    c: Chrome,
    action: String,
    error: Option<String>,
}

/// A reset link's token, if it has the shape of one (the hash is what is stored).
pub(super) fn reset_hash(token: &str) -> Option<String> {
    (token.len() >= 32
        && token.len() <= 64
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| secrets::token_hash(token))
}

pub(super) async fn reset_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(token): Path<String>,
) -> PageResult {
    let hash = reset_hash(&token).ok_or(WebError::NotFound)?;
    st.store.password_reset_user(&hash, now_micros()).await?.ok_or(WebError::NotFound)?;
    let page = ResetPage { c: Chrome::new(&ctx, "/reset"), action: format!("/reset/{token}"), error: None };
    render(StatusCode::OK, &page)
}

/// Sets a new password through a one-time link: every session of the person ends, and
/// the link is spent.
pub(super) async fn reset_submit(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let hash = reset_hash(&token).ok_or(WebError::NotFound)?;
    st.store.password_reset_user(&hash, now_micros()).await?.ok_or(WebError::NotFound)?;
    let (new, again) = (form.get("new").unwrap_or(""), form.get("again").unwrap_or(""));
    let hashed = match new_password_hash(ctx.locale, new, again).await? {
        Ok(h) => h,
        Err(msg) => {
            let page =
                ResetPage { c: Chrome::new(&ctx, "/reset"), action: format!("/reset/{token}"), error: Some(msg) };
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let user = st.store.use_password_reset(&hash, now_micros(), &hashed).await?.ok_or(WebError::NotFound)?;
    tracing::info!(user_id = user, "password set through a reset link");
    Ok(Redirect::to("/login?reset=1").into_response())
}

/// Revokes one of the user's own API tokens; another person's id does nothing.
pub(super) async fn revoke_token(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let revoked = match form.get("id").and_then(|id| id.parse::<i64>().ok()) {
        Some(id) => match st.store.revoke_api_token(&ctx.actor(), user.id, id).await {
            Ok(()) => true,
            Err(vigia_store::StoreError::NotFound) => false,
            Err(e) => return Err(WebError::from(e).into()),
        },
        None => false,
    };
    Ok(Redirect::to(if revoked { "/account?revoked=1" } else { "/account" }).into_response())
}

/// Whether a token still signs in: `live`, `expired` or `revoked`.
pub(super) fn token_state(t: &vigia_store::ApiToken, now: i64) -> &'static str {
    if t.revoked_at.is_some() {
        "revoked"
    } else if t.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "live"
    }
}

pub(super) fn token_json(t: &vigia_store::ApiToken, now: i64) -> serde_json::Value {
    let when = |t: Option<i64>| t.map(format_instant);
    serde_json::json!({
        "id": t.id, "name": t.name, "state": token_state(t, now), "created_at": format_instant(t.created_at),
        "expires_at": when(t.expires_at), "last_used_at": when(t.last_used_at), "revoked_at": when(t.revoked_at),
    })
}

/// The signed-in person's own API tokens (never their secrets, which are not kept).
pub(super) async fn api_tokens(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in()?.clone();
    let now = now_micros();
    let items: Vec<_> = st.store.api_tokens(user.id).await?.iter().map(|t| token_json(t, now)).collect();
    Ok(Json(serde_json::json!({"items": items})).into_response())
}

/// Revokes one of the person's own tokens (a script can revoke the token it signs in
/// with). Another person's token id is 404, as if it did not exist.
pub(super) async fn api_revoke_token(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in()?.clone();
    ctx.check_api_write(&method, &headers)?;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    // Revoking a token already revoked answers with it, unchanged.
    match st.store.revoke_api_token(&ctx.actor(), user.id, id).await {
        Ok(()) | Err(vigia_store::StoreError::NotFound) => {}
        Err(e) => return Err(WebError::from(e).into()),
    }
    let now = now_micros();
    let t = st.store.api_tokens(user.id).await?.into_iter().find(|t| t.id == id).ok_or(WebError::NotFound)?;
    Ok(Json(token_json(&t, now)).into_response())
}
