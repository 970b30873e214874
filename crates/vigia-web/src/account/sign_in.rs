//! Signing in and out, and choosing the language.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Extension;
use vigia_domain::account::Locale;

use crate::auth::{self, set_cookie, Ctx, Login, Via, LANG_COOKIE};
use crate::error::WebError;
use crate::i18n::{tr, tr_args};
use crate::routes::Routes;
use crate::state::AppState;

use crate::kit::*;

pub fn routes() -> Routes {
    Routes::default()
        .get("/login", login_page)
        .post("/login", login_submit)
        .post("/logout", logout)
        .post("/lang", set_lang)
}

#[derive(Template)]
#[template(path = "account/templates/login.html")]
struct LoginPage {
    c: Chrome,
    error: Option<String>,
    email: String,
    next: String,
}

async fn login_page(Extension(ctx): Extension<Ctx>, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let flash = if q.contains_key("reset") {
        Some(tr(ctx.locale, "reset-done"))
    } else {
        q.contains_key("bye").then(|| tr(ctx.locale, "logged-out"))
    };
    let page = LoginPage {
        c: Chrome::new(&ctx, "/login").flash(flash),
        error: None,
        email: String::new(),
        next: safe_next(q.get("next").map(String::as_str)),
    };
    render(StatusCode::OK, &page)
}

async fn login_submit(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let email = form.get("email").unwrap_or("").to_string();
    let password = form.get("password").unwrap_or("");
    let next = safe_next(form.get("next"));
    let address = ctx.address;
    let (status, error) = match auth::login(&st, &email, password, address, &next).await? {
        Login::Ok { session_token, user } => {
            let mut resp = Redirect::to(if next == "/" { crate::kit::landing(&user) } else { &next }).into_response();
            let secure = st.config.secure_cookies;
            let c = set_cookie(secure, auth::session_cookie_name(secure), &session_token, None, true);
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            return Ok(resp);
        }
        Login::SecondFactor { challenge_token } => {
            let mut resp = Redirect::to("/login/totp").into_response();
            let max_age = auth::CHALLENGE_AGE.as_secs() as i64;
            let c = set_cookie(st.config.secure_cookies, auth::CHALLENGE_COOKIE, &challenge_token, Some(max_age), true);
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            return Ok(resp);
        }
        Login::Failed => (StatusCode::UNAUTHORIZED, tr(ctx.locale, "login-failed")),
        Login::Locked { minutes } => {
            (StatusCode::TOO_MANY_REQUESTS, tr_args(ctx.locale, "login-locked", &[("minutes", minutes.to_string())]))
        }
    };
    let page = LoginPage { c: Chrome::new(&ctx, "/login"), error: Some(error), email, next };
    render(status, &page)
}

async fn logout(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    FormBody::checked(&headers, &body, &ctx)?;
    if let Via::Session { token_hash } = &ctx.via {
        st.store.delete_session(token_hash).await?;
    }
    let secure = st.config.secure_cookies;
    let mut resp = Redirect::to("/login?bye=1").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(secure, auth::session_cookie_name(secure), "", Some(0), true)) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

async fn set_lang(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let locale = form.get("locale").and_then(Locale::parse).ok_or_else(|| WebError::BadRequest("locale".into()))?;
    if let Some(u) = &ctx.user {
        st.store.set_user_locale(&ctx.actor(), u.id, locale).await?;
    }
    let mut resp = Redirect::to(&safe_next(form.get("next"))).into_response();
    let c = set_cookie(st.config.secure_cookies, LANG_COOKIE, locale.as_str(), Some(365 * 24 * 3600), false);
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Where a browser goes for a `Location` of `next` on a page of ours.
    fn host_after(next: &str) -> Option<String> {
        let base = url::Url::parse("https://vigia.example/login").ok()?;
        base.join(next).ok()?.host_str().map(str::to_string)
    }

    #[test]
    fn the_reviewers_redirects_stay_on_the_site() {
        for evil in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "https://evil.example",
            " /\t/evil.example",
            "/\u{0}/evil.example",
            "/\u{85}/evil.example",
        ] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
        // A tab is what `next=/%09/evil.example` decodes to.
        assert_eq!(host_after("/\t/evil.example").as_deref(), Some("evil.example"), "the attack is real");
        for fine in ["/", "/access?facility=3&from=2020-01-01", "/cases/7/history", "/facilities/%09x"] {
            assert_eq!(safe_next(Some(fine)), fine);
        }
    }

    proptest! {
        /// Whatever is accepted leads a browser to this site, and never panics a redirect.
        #[test]
        /// A redirect after sign-in never carries `reveal`; the rest of the path stays.
        #[test]
        fn the_next_path_after_sign_in_never_reveals(path in "/[a-z0-9]{1,8}(/[a-z0-9]{1,5}){0,2}", params in proptest::collection::vec(("[a-z]{1,6}", "[a-z0-9]{0,3}"), 0..4), at in 0usize..4) {
            let mut pairs: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            pairs.insert(at.min(pairs.len()), "reveal=1".into());
            let next = format!("{path}?{}", pairs.join("&"));
            let kept = safe_next(Some(&next));
            prop_assert!(!kept.split(['?', '&']).any(|p| p.split('=').next() == Some("reveal")), "{} -> {}", next, kept);
            prop_assert!(kept.starts_with(&path));
            for (k, v) in params.iter().filter(|(k, _)| k != "reveal") {
                prop_assert!(kept.contains(&format!("{k}={v}")), "{} lost {}={}", kept, k, v);
            }
        }

        #[test]
        fn accepted_next_paths_stay_on_the_site(next in "[/\\\\\t\n\r a-z.:%0-9@?#]{0,16}", tail in "\\PC{0,8}") {
            for n in [next.clone(), format!("{next}{tail}")] {
                let kept = safe_next(Some(&n));
                let host = host_after(&kept);
                prop_assert_eq!(host.as_deref(), Some("vigia.example"), "{:?} -> {:?}", n, kept);
                prop_assert!(axum::http::HeaderValue::from_str(&kept).is_ok());
            }
        }
    }
}
