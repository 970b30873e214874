//! The second factor at sign-in: codes, recovery codes, the lock after wrong codes.

use super::*;

#[derive(Template)]
#[template(path = "account/templates/login_totp.html")]
pub(super) struct SecondFactorPage {
    c: Chrome,
    error: Option<String>,
}

pub(super) fn challenge_token<'h>(st: &AppState, headers: &'h HeaderMap) -> Option<&'h str> {
    let name = auth::cookie_name(st.config.secure_cookies, auth::CHALLENGE_COOKIE);
    auth::cookie(headers, &name).filter(|t| t.len() >= 32 && t.len() <= 64)
}

pub(super) async fn second_factor_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
) -> PageResult {
    let Some(token) = challenge_token(&st, &headers) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let max_age = auth::CHALLENGE_AGE.as_micros() as i64;
    if st.store.login_challenge(&secrets::token_hash(token), now_micros(), max_age).await?.is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    render(StatusCode::OK, &SecondFactorPage { c: Chrome::new(&ctx, "/login/totp"), error: None })
}

pub(super) fn clear_challenge(st: &AppState, resp: &mut Response) {
    let c = set_cookie(st.config.secure_cookies, auth::CHALLENGE_COOKIE, "", Some(0), true);
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// What a second-factor code came to.
pub(super) enum SecondFactor {
    Accepted {
        /// Wrong codes were given for this account since its last good one.
        after_failures: bool,
    },
    Refused,
    /// Too many wrong codes for the account (or from the address) in the window.
    Locked {
        minutes: u64,
    },
}

/// The key under which an account's wrong second-factor codes are counted. A right
/// password does not clear it (that was the hole: 5 codes, the password again, 5 more);
/// only a right code does.
pub(super) fn second_factor_key(user: &User) -> String {
    format!("2fa:{}", user.id)
}

/// Checks a TOTP code, or else a recovery code, for a user whose two-factor sign-in is
/// on, counting wrong codes per account and per address across sign-in attempts; the
/// account's second factor is locked for the lockout window after
/// `max_failed_second_factor` of them, and the lock is written in the audit history.
/// A TOTP code is good once.
pub(super) async fn second_factor(
    st: &AppState,
    user: &User,
    code: &str,
    address: Option<std::net::IpAddr>,
) -> Result<SecondFactor, WebError> {
    let now = now_micros();
    let window = st.config.lockout_window;
    let since = now - window.as_micros() as i64;
    let key = second_factor_key(user);
    let address_key = address.map(|a| format!("address:{a}"));
    let locked = SecondFactor::Locked { minutes: window.as_secs().div_ceil(60) };
    let failures = st.store.login_failures_since(&key, since).await?;
    if failures >= st.config.max_failed_second_factor {
        tracing::info!(user_id = user.id, "second factor refused: locked");
        return Ok(locked);
    }
    if let Some(a) = &address_key {
        // As for passwords: an address with many failures is slowed, never refused a
        // right code (its other users share it).
        if st.store.login_failures_since(a, since).await? >= st.config.max_failed_logins_per_address {
            tracing::info!(user_id = user.id, "second factor slowed: too many failures from this address");
            tokio::time::sleep(st.config.address_penalty).await;
        }
    }
    if code_matches(st, user, code).await? {
        let after_failures = st.store.login_failures_since(&key, 0).await? > 0;
        st.store.clear_login_failures(&key).await?;
        return Ok(SecondFactor::Accepted { after_failures });
    }
    st.store.record_login_failure(&key, now).await?;
    if let Some(a) = &address_key {
        st.store.record_login_failure(a, now).await?;
    }
    if failures + 1 >= st.config.max_failed_second_factor {
        st.store.second_factor_locked(user.id, failures + 1, now + window.as_micros() as i64).await?;
        tracing::warn!(user_id = user.id, "second factor locked after repeated wrong codes");
        return Ok(locked);
    }
    tracing::info!(user_id = user.id, "second factor refused");
    Ok(SecondFactor::Refused)
}

pub(super) async fn code_matches(st: &AppState, user: &User, code: &str) -> Result<bool, WebError> {
    let Some(state) = st.store.totp(user.id, user.org_id).await?.filter(|t| t.enabled) else {
        return Ok(false);
    };
    if let Some(step) = totp::verify(&state.secret, code, now_micros() / 1_000_000, state.last_step) {
        return Ok(st.store.totp_use_step(user.id, step).await?);
    }
    let actor = vigia_store::Actor::user(user);
    let chars = code.chars().filter(char::is_ascii_alphanumeric).count();
    Ok((chars == RECOVERY_CHARS || chars == LEGACY_RECOVERY_CHARS)
        && st.store.use_recovery_code(&actor, user.id, &recovery_hash(user.id, code)).await?)
}

pub(super) async fn second_factor_submit(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let Some(token) = challenge_token(&st, &headers) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let hash = secrets::token_hash(token);
    let max_age = auth::CHALLENGE_AGE.as_micros() as i64;
    let Some(ch) = st.store.login_challenge(&hash, now_micros(), max_age).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let user = st.store.user(ch.user_id).await?.filter(|u| !u.disabled);
    let Some(user) = user else {
        st.store.delete_login_challenge(&hash).await?;
        return Ok(Redirect::to("/login").into_response());
    };
    let locked = match second_factor(&st, &user, form.get("code").unwrap_or(""), ctx.address).await? {
        SecondFactor::Accepted { after_failures } => {
            st.store.delete_login_challenge(&hash).await?;
            let session = auth::open_session(&st, &user).await?;
            // Wrong codes before this one mean someone else may hold the password: the
            // person is told first, on their account page.
            let next = match (after_failures, ch.next.as_str()) {
                (true, _) => "/account?wrong_codes=1".to_string(),
                (false, "/") => crate::kit::landing(&user).to_string(),
                (false, _) => ch.next,
            };
            let mut resp = Redirect::to(&next).into_response();
            let secure = st.config.secure_cookies;
            if let Ok(v) =
                HeaderValue::from_str(&set_cookie(secure, auth::session_cookie_name(secure), &session, None, true))
            {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            clear_challenge(&st, &mut resp);
            return Ok(resp);
        }
        SecondFactor::Locked { minutes } => Some(minutes),
        SecondFactor::Refused => None,
    };
    if locked.is_some() || ch.attempts + 1 >= auth::CHALLENGE_TRIES {
        st.store.delete_login_challenge(&hash).await?;
    } else {
        st.store.bump_login_challenge(&hash).await?;
    }
    if let Some(minutes) = locked {
        let error = tr_args(ctx.locale, "account-2fa-locked", &[("minutes", minutes.to_string())]);
        let mut resp = render(
            StatusCode::TOO_MANY_REQUESTS,
            &SecondFactorPage { c: Chrome::new(&ctx, "/login/totp"), error: Some(error) },
        )?;
        clear_challenge(&st, &mut resp);
        return Ok(resp);
    }
    if ch.attempts + 1 >= auth::CHALLENGE_TRIES {
        let mut resp = Redirect::to("/login?retry=1").into_response();
        clear_challenge(&st, &mut resp);
        return Ok(resp);
    }
    let page =
        SecondFactorPage { c: Chrome::new(&ctx, "/login/totp"), error: Some(tr(ctx.locale, "account-2fa-bad-code")) };
    render(StatusCode::UNAUTHORIZED, &page)
}
