//! Who is asking, in which language, and whether a form is genuine.
//!
//! The context layer resolves every request once: a Bearer API token or a session
//! cookie gives the user (disabled users count as anonymous); the language comes from
//! the user's setting, else the `vigia_lang` cookie, else `Accept-Language`. Forms carry
//! a CSRF token: the session's for signed-in users, a random cookie's before sign-in;
//! a cross-site `Origin` is refused too. Every answer gets the security headers.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;
use vigia_domain::account::{allows, Locale, Organization, Permission, User};
use vigia_store::{now_micros, secrets, Actor};

use crate::error::{WebError, LOCALE};
use crate::state::AppState;

pub const LANG_COOKIE: &str = "vigia_lang";
pub const CSRF_COOKIE: &str = "vigia_csrf";
/// Holds a sign-in waiting for its second factor (five minutes at most).
pub const CHALLENGE_COOKIE: &str = "vigia_2fa";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-vigia_session"
    } else {
        "vigia_session"
    }
}

/// A cookie's name as this server sets and reads it: over TLS every cookie carries the
/// `__Host-` prefix (issue #22 finding 12), so a sibling subdomain or a plain-http page
/// cannot set or shadow it.
pub fn cookie_name(secure: bool, base: &str) -> std::borrow::Cow<'_, str> {
    if secure && !base.starts_with("__Host-") {
        std::borrow::Cow::Owned(format!("__Host-{base}"))
    } else {
        std::borrow::Cow::Borrowed(base)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Anonymous,
    Session {
        token_hash: String,
    },
    Bearer,
    /// A Bearer token was sent but matched no active user.
    BadBearer,
}

/// What every handler knows about the request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub user: Option<User>,
    pub org: Option<Organization>,
    pub locale: Locale,
    pub csrf: String,
    pub via: Via,
    /// When the session's user last gave their password (sign-in or re-authentication).
    pub auth_at: Option<vigia_domain::Micros>,
    /// The client's address, for per-address throttling.
    pub address: Option<std::net::IpAddr>,
    /// Alerts the signed-in person has not read, for the menu (pages only).
    pub unread_alerts: i64,
}

impl Ctx {
    pub fn actor(&self) -> Actor {
        self.user.as_ref().map(Actor::user).unwrap_or(Actor::SYSTEM)
    }

    pub fn require_user(&self) -> Result<&User, WebError> {
        self.user.as_ref().ok_or(WebError::Unauthorized)
    }

    /// A signed-in user; a Bearer token that is not valid is 401 even where anonymous
    /// requests would be sent to sign in.
    pub fn signed_in(&self) -> Result<&User, WebError> {
        if self.via == Via::BadBearer {
            return Err(WebError::Unauthorized);
        }
        self.require_user()
    }

    pub fn require(&self, p: Permission) -> Result<&User, WebError> {
        let u = self.require_user()?;
        if allows(u.role, p) {
            Ok(u)
        } else {
            Err(WebError::Forbidden)
        }
    }

    pub fn can(&self, p: Permission) -> bool {
        self.user.as_ref().is_some_and(|u| allows(u.role, p))
    }

    /// Checks a form's token and origin.
    pub fn check_form(&self, token: Option<&str>, headers: &HeaderMap) -> Result<(), WebError> {
        check_origin(headers)?;
        // Fails closed (issue #22 finding 11): if the random generator ever failed and
        // left this request's token empty, an empty or short submitted token matches
        // nothing.
        match token {
            Some(t) if valid_token_shape(&self.csrf) && bool::from(t.as_bytes().ct_eq(self.csrf.as_bytes())) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }

    /// For the JSON API: Bearer tokens need no CSRF token; a session cookie does, in the
    /// `X-CSRF-Token` header, on every request that changes something.
    pub fn check_api_write(&self, method: &Method, headers: &HeaderMap) -> Result<(), WebError> {
        if matches!(self.via, Via::Session { .. }) && !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let token = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            return self.check_form(token, headers);
        }
        Ok(())
    }
}

impl Ctx {
    /// Whether a GET that opens sealed data (and writes a read into the audit history)
    /// was asked for from Vigía itself. A session cookie rides along on a link from any
    /// site, so another site could make a lawyer "read" a person's data with one click
    /// in an e-mail; such a request opens nothing. Asked by a script with its token, it
    /// is deliberate. With a cookie: `Sec-Fetch-Site` must say same-origin (or none:
    /// typed or bookmarked); a browser that does not send it must send a same-host
    /// `Referer` (the pages set `Referrer-Policy: same-origin`).
    pub fn deliberate_read(&self, headers: &HeaderMap) -> bool {
        if !matches!(self.via, Via::Session { .. }) {
            return true;
        }
        if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
            return matches!(site, "same-origin" | "none");
        }
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok());
        match (host, referer) {
            (Some(h), Some(r)) => r.split("://").nth(1).and_then(|rest| rest.split('/').next()) == Some(h),
            _ => false,
        }
    }

    /// [`Ctx::deliberate_read`] as an answer: 403 when not.
    pub fn require_deliberate_read(&self, headers: &HeaderMap) -> Result<(), WebError> {
        if self.deliberate_read(headers) {
            Ok(())
        } else {
            tracing::info!("a read of sealed data asked for from another site was refused");
            Err(WebError::Forbidden)
        }
    }
}

fn check_origin(headers: &HeaderMap) -> Result<(), WebError> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site == "cross-site" {
            return Err(WebError::Csrf);
        }
    }
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return Ok(());
    };
    let origin_host = origin.split("://").nth(1).unwrap_or("");
    if origin == "null" || origin_host != host {
        return Err(WebError::Csrf);
    }
    Ok(())
}

pub fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    cookies(headers).find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A `Set-Cookie` value with this server's attributes.
pub fn set_cookie(secure: bool, name: &str, value: &str, max_age: Option<i64>, http_only: bool) -> String {
    let name = cookie_name(secure, name);
    let mut c = format!("{name}={value}; Path=/; SameSite=Lax");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn secure_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

fn valid_token_shape(t: &str) -> bool {
    (20..=100).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Resolves the request context; see the module documentation.
pub async fn context(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let secure = st.config.secure_cookies;
    // Who is asking: the session's or token's lookup brings the user, the organization,
    // whether a second factor is missing and the data version (one query on every
    // request, not five). This process's count of its changes is taken first: a change
    // it commits after the version was read makes kept answers read the version again.
    let changes_before = st.store.local_changes();
    let mut caller: Option<vigia_store::Caller> = None;
    let mut via = Via::Anonymous;
    let mut csrf = None;
    let mut auth_at = None;
    let lookup: Result<(), vigia_store::StoreError> = async {
        if let Some(token) = bearer(headers) {
            via = Via::BadBearer;
            if valid_token_shape(token) {
                if let Some(c) = st.store.api_caller(&secrets::token_hash(token)).await? {
                    caller = Some(c);
                    via = Via::Bearer;
                }
            }
        } else if let Some(token) = cookie(headers, session_cookie_name(secure)).filter(|t| valid_token_shape(t)) {
            let hash = secrets::token_hash(token);
            let idle = st.config.idle_timeout.as_micros() as i64;
            let absolute = st.config.absolute_timeout.as_micros() as i64;
            if let Some(s) = st.store.session(&hash, now_micros(), idle, absolute).await? {
                caller = Some(s.caller);
                auth_at = Some(s.reauth_at.map_or(s.created_at, |r| r.max(s.created_at)));
                csrf = Some(s.csrf);
                via = Via::Session { token_hash: hash };
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = lookup {
        tracing::error!(error = %e, "request context lookup failed");
        let mut resp = crate::error::ApiError(WebError::Unavailable).into_response();
        secure_headers(&mut resp);
        return resp;
    }
    if caller.as_ref().is_some_and(|c| c.user.disabled) {
        caller = None;
        via = if via == Via::Bearer { Via::BadBearer } else { Via::Anonymous };
        csrf = None;
    }
    let (user, org, two_factor_missing, read_at) = match caller {
        Some(c) => (Some(c.user), c.org, c.two_factor_missing, Some(c.data_version)),
        None => (None, None, false, None),
    };
    // An organization that requires two-factor sign-in sends members without it to set
    // it up before anything else; the API refuses them.
    if user.is_some() {
        let path = req.uri().path();
        let exempt =
            ["/account", "/logout", "/lang", "/static/", "/healthz", "/reauth"].iter().any(|p| path.starts_with(p));
        if !exempt && two_factor_missing {
            let mut resp = if path.starts_with("/api/") {
                crate::error::ApiError(WebError::TwoFactorRequired).into_response()
            } else {
                Redirect::to("/account?required=1").into_response()
            };
            secure_headers(&mut resp);
            return resp;
        }
    }
    let mut new_anon_csrf = None;
    let csrf = match csrf {
        Some(c) => c,
        None => match cookie(headers, &cookie_name(secure, CSRF_COOKIE)).filter(|t| valid_token_shape(t)) {
            Some(c) => c.to_string(),
            None => match secrets::new_token("") {
                Ok(t) => {
                    new_anon_csrf = Some(t.clone());
                    t
                }
                // No token can be made: forms on this request cannot be sent.
                Err(e) => {
                    tracing::error!(error = %e, "no CSRF token: the random generator failed");
                    String::new()
                }
            },
        },
    };
    // Pages: the user's choice, else the language cookie, else Spanish (the people
    // Vigía serves work in Spanish whatever their browser says). The API: an explicit
    // Accept-Language first, since scripts have no other way to ask.
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let api_choice = accept.filter(|_| req.uri().path().starts_with("/api/")).map(Locale::from_accept_language);
    let locale = api_choice
        .or_else(|| user.as_ref().map(|u| u.locale))
        .or_else(|| cookie(headers, &cookie_name(secure, LANG_COOKIE)).and_then(Locale::parse))
        .unwrap_or_default();
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let address = peer.map(|p| client_address(p, headers, &st.config.trusted_proxies));
    let (method, path, user_id) = (req.method().clone(), req.uri().path().to_string(), user.as_ref().map(|u| u.id));
    // The menu's count of unread alerts: pages only (the API and files do not show it).
    let page = !path.starts_with("/api/") && !path.starts_with("/static/") && req.method() == axum::http::Method::GET;
    let unread_alerts = match &user {
        Some(u) if page => st
            .store
            .count_unread_alerts(u.org_id, vigia_domain::account::allows(u.role, Permission::ReadCases))
            .await
            .unwrap_or(0),
        _ => 0,
    };
    // Reads answer at the version read with who is asking; a request that changes
    // something (any other method) reads it again where it needs it.
    let read_at = read_at.filter(|_| req.method() == axum::http::Method::GET);
    let ctx = Ctx { user, org, locale, csrf, via, auth_at, address, unread_alerts };
    req.extensions_mut().insert(ctx);
    let run = LOCALE.scope(locale, next.run(req));
    let mut resp = match read_at {
        Some(version) => vigia_app::kept::at(version, changes_before, run).await,
        None => run.await,
    };
    // Every refused access is recorded (who, what, the answer), never a secret.
    let status = resp.status().as_u16();
    if matches!(status, 401 | 403 | 404 | 429) {
        tracing::info!(%method, %path, user_id, status, "access refused");
    }
    if let Some(t) = new_anon_csrf {
        if let Ok(v) = HeaderValue::from_str(&set_cookie(secure, CSRF_COOKIE, &t, None, true)) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    if !resp.headers().contains_key(header::CONTENT_LANGUAGE) {
        resp.headers_mut().insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(locale.as_str()));
    }
    secure_headers(&mut resp);
    resp
}

/// The client's address for per-address limits: the connection's peer, unless that
/// peer is a proxy the operator trusts (`--trusted-proxy`); then the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy, read from the right (what a
/// client writes on the left is not to be believed). Without trusted proxies the header
/// is ignored, so a client cannot name itself anew on every request.
pub fn client_address(peer: std::net::IpAddr, headers: &HeaderMap, trusted: &[std::net::IpAddr]) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // Something unreadable in the chain: stop at the last address we trust.
            Err(_) => break,
        }
    }
    peer
}

/// Password checks allowed to run at once.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// The outcome of a sign-in attempt.
pub enum Login {
    Ok {
        user: User,
        session_token: String,
    },
    /// The password was right; the user's second factor is asked next.
    SecondFactor {
        challenge_token: String,
    },
    Failed,
    Locked {
        minutes: u64,
    },
}

/// How long a sign-in waits for its second factor, and how many codes it may try.
pub const CHALLENGE_AGE: std::time::Duration = std::time::Duration::from_secs(5 * 60);
pub const CHALLENGE_TRIES: i64 = 5;

/// Opens a new session for a user who proved who they are (a fresh id every time).
pub async fn open_session(st: &AppState, user: &User) -> Result<String, WebError> {
    let token = secrets::new_token("").map_err(|e| WebError::Internal(e.to_string()))?;
    let csrf = secrets::new_token("").map_err(|e| WebError::Internal(e.to_string()))?;
    st.store.create_session(&secrets::token_hash(&token), user.id, &csrf, now_micros()).await?;
    tracing::info!(user_id = user.id, "sign-in succeeded");
    Ok(token)
}

/// Checks a password against a user's stored hash, one of a bounded number at once.
pub async fn password_matches(password: &str, hash: String) -> Result<bool, WebError> {
    let pw = password.to_string();
    // Each argon2id check takes 19 MiB and a core for tens of milliseconds: a bounded
    // number run at once, so a burst of sign-ins queues instead of exhausting memory.
    let _permit = HASHING.acquire().await.map_err(|e| WebError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || secrets::verify_password(&pw, &hash))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))
}

/// The per-address turn that sign-ins from an address over its failure limit wait for.
/// Only such addresses get one; the map is emptied when it grows past 10,000 (a flood
/// of addresses then only loses their serialization, not the per-account limits).
fn address_gate(address: Option<std::net::IpAddr>) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    type Gates = std::collections::HashMap<Option<std::net::IpAddr>, std::sync::Arc<tokio::sync::Mutex<()>>>;
    static GATES: std::sync::OnceLock<std::sync::Mutex<Gates>> = std::sync::OnceLock::new();
    let mut map = GATES.get_or_init(Default::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if map.len() > 10_000 {
        map.clear();
    }
    map.entry(address).or_default().clone()
}

/// Checks a password, with lockout after repeated failures; on success opens a new
/// session (a fresh id at every sign-in).
/// `address` is the client's IP: failures are also counted per address, so one
/// machine cannot try passwords across many accounts.
pub async fn login(
    st: &AppState,
    email: &str,
    password: &str,
    address: Option<std::net::IpAddr>,
    next: &str,
) -> Result<Login, WebError> {
    let email = email.trim().to_lowercase();
    let now = now_micros();
    let window = st.config.lockout_window;
    let since = now - window.as_micros() as i64;
    let locked = Login::Locked { minutes: window.as_secs().div_ceil(60) };
    let address_key = address.map(|a| format!("address:{a}"));
    // Held until this sign-in is decided: one at a time from an address over its limit.
    let mut _turn = None;
    if let Some(key) = &address_key {
        // Many failures from one address slow every sign-in from it, but never refuse a
        // right password: people behind one router or proxy share an address, and one
        // of them guessing must not lock the others out.
        if st.store.login_failures_since(key, since).await? >= st.config.max_failed_logins_per_address {
            tracing::info!("sign-in slowed: too many failures from this address");
            // One at a time from that address, each after the penalty: requests sent in
            // parallel would otherwise all wait the same two seconds together.
            _turn = Some(address_gate(address).lock_owned().await);
            tokio::time::sleep(st.config.address_penalty).await;
        }
    }
    if st.store.login_failures_since(&email, since).await? >= st.config.max_failed_logins {
        tracing::info!("sign-in refused: account locked");
        return Ok(locked);
    }
    let found = st.store.user_by_email(&email).await?;
    let hash = found.as_ref().map(|(_, h)| h.clone()).unwrap_or_else(|| secrets::dummy_hash().to_string());
    let ok = password_matches(password, hash).await?;
    match found {
        Some((user, _)) if ok && !user.disabled => {
            st.store.clear_login_failures(&email).await?;
            if st.store.totp(user.id, user.org_id).await?.is_some_and(|t| t.enabled) {
                let token = secrets::new_token("").map_err(|e| WebError::Internal(e.to_string()))?;
                st.store.create_login_challenge(&secrets::token_hash(&token), user.id, next, now).await?;
                tracing::info!(user_id = user.id, "password accepted; second factor asked");
                return Ok(Login::SecondFactor { challenge_token: token });
            }
            let token = open_session(st, &user).await?;
            Ok(Login::Ok { user, session_token: token })
        }
        _ => {
            st.store.record_login_failure(&email, now).await?;
            if let Some(key) = &address_key {
                st.store.record_login_failure(key, now).await?;
            }
            tracing::info!("sign-in refused");
            Ok(Login::Failed)
        }
    }
}

/// Sensitive actions need the password given within the re-authentication window;
/// otherwise the person is sent to confirm it and come back to `back`.
pub fn recent_auth(st: &AppState, ctx: &Ctx, back: &str) -> Option<axum::response::Response> {
    if !matches!(ctx.via, Via::Session { .. }) {
        // API tokens are for scripts: the re-authentication page is for people.
        return None;
    }
    let window = st.config.reauth_window.as_micros() as i64;
    if ctx.auth_at.is_some_and(|t| now_micros() - t <= window) {
        return None;
    }
    let next: String = back
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"/-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Some(axum::response::Redirect::to(&format!("/reauth?next={next}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #22 finding 11: a request whose token could not be made (the random
    /// generator failed, the token is empty) accepts no form, not even an empty token.
    #[test]
    fn an_empty_csrf_token_matches_nothing() {
        let ctx = |csrf: &str| Ctx {
            user: None,
            org: None,
            locale: Locale::Es,
            csrf: csrf.to_string(),
            via: Via::Anonymous,
            auth_at: None,
            address: None,
            unread_alerts: 0,
        };
        let h = HeaderMap::new();
        assert!(ctx("").check_form(Some(""), &h).is_err());
        assert!(ctx("").check_form(None, &h).is_err());
        assert!(ctx("short").check_form(Some("short"), &h).is_err());
        let good = "a".repeat(43);
        assert!(ctx(&good).check_form(Some(&good), &h).is_ok());
        assert!(ctx(&good).check_form(Some(""), &h).is_err());
    }

    #[test]
    fn cross_site_origins_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(check_origin(&h).is_ok());
        h.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert!(check_origin(&h).is_ok());
        h.insert(header::ORIGIN, HeaderValue::from_static("http://evil.example"));
        assert!(check_origin(&h).is_err());
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(check_origin(&h).is_err());
    }

    #[test]
    fn the_client_address_is_believed_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("ip");
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 203.0.113.7, 10.0.0.2"));
        // Not behind a trusted proxy: the header is ignored.
        assert_eq!(client_address(ip("198.51.100.1"), &h, &[]), ip("198.51.100.1"));
        // Behind 10.0.0.1, which got it from 10.0.0.2 (also trusted): the client is the
        // first untrusted address from the right, not what the client wrote on the left.
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        assert_eq!(client_address(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.7"));
        h.insert("x-forwarded-for", HeaderValue::from_static("nonsense, 10.0.0.2"));
        assert_eq!(client_address(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
        assert_eq!(client_address(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn cookies_are_parsed_and_built() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; vigia_lang=en"));
        assert_eq!(cookie(&h, LANG_COOKIE), Some("en"));
        assert_eq!(
            set_cookie(true, "__Host-vigia_session", "x", Some(0), true),
            "__Host-vigia_session=x; Path=/; SameSite=Lax; HttpOnly; Secure; Max-Age=0"
        );
        assert_eq!(
            set_cookie(true, CSRF_COOKIE, "t", None, true),
            "__Host-vigia_csrf=t; Path=/; SameSite=Lax; HttpOnly; Secure",
            "every cookie is __Host- over TLS"
        );
        assert_eq!(set_cookie(false, LANG_COOKIE, "en", None, false), "vigia_lang=en; Path=/; SameSite=Lax");
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("vigia_lang=en; __Host-vigia_lang=es"));
        assert_eq!(cookie(&h, &cookie_name(true, LANG_COOKIE)), Some("es"));
    }
}
