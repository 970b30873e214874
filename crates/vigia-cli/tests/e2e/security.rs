//! Account security through the pages: two-step sign-in with TOTP and recovery codes,
//! an organization that requires it, sessions a person can end, re-authentication
//! before sensitive actions, and per-address throttling.

use std::time::Duration;

use vigia_domain::account::Role;
use vigia_domain::totp;

use crate::helpers::{csrf_of, get_text, TestApp, PASSWORD};

pub(crate) fn now_secs() -> i64 {
    vigia_store::now_micros() / 1_000_000
}

pub(crate) async fn post_form(c: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = c.post(url).form(form).send().await.expect("post");
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, location, r.text().await.expect("text"))
}

/// Signs in with the password only; returns the client and where it was sent.
pub(crate) async fn password_step(app: &TestApp, email: &str) -> (reqwest::Client, u16, String) {
    let (c, csrf) = app.login_form().await;
    let (s, loc, _) =
        post_form(&c, app.url("/login"), &[("csrf", &csrf), ("email", email), ("password", PASSWORD), ("next", "/")])
            .await;
    (c, s, loc)
}

#[tokio::test]
async fn two_step_sign_in_with_totp_and_single_use_recovery_codes() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("abogada@a.org", "org-a", Role::Lawyer).await;
    let c = app.login("abogada@a.org").await;
    let (_, page) = get_text(&c, app.url("/account")).await;
    assert!(page.contains("id=\"enable-2fa\""));
    let csrf = csrf_of(&page);
    let (s, _, setup) = post_form(&c, app.url("/account/totp/start"), &[("csrf", &csrf)]).await;
    assert_eq!(s, 200);
    let key = setup.split("id=\"totp-key\">").nth(1).and_then(|r| r.split('<').next()).expect("key shown");
    let secret = totp::base32_decode(key).expect("base32 key");
    assert_eq!(secret.len(), totp::SECRET_BYTES);
    assert!(setup.contains("otpauth://totp/"));
    // A wrong code is refused; the right one turns it on and shows ten recovery codes once.
    let (s, _, _) = post_form(&c, app.url("/account/totp/confirm"), &[("csrf", &csrf), ("code", "000000")]).await;
    assert_eq!(s, 422);
    let code = totp::code_at(&secret, now_secs());
    let (s, _, done) = post_form(&c, app.url("/account/totp/confirm"), &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(s, 200);
    let codes: Vec<String> =
        done.split("<li><code>").skip(1).filter_map(|r| r.split('<').next()).map(str::to_string).collect();
    assert_eq!(codes.len(), 10, "{done}");
    // 80 random bits each (issue #22 finding 8), in groups of four.
    assert!(codes.iter().all(|c| c.len() == 19 && c.split('-').all(|g| g.len() == 4)), "{codes:?}");
    let (_, page) = get_text(&c, app.url("/account")).await;
    assert!(page.contains("id=\"disable-2fa\""));

    // The password alone no longer opens a session.
    let (c2, s, loc) = password_step(&app, "abogada@a.org").await;
    assert_eq!((s, loc.as_str()), (303, "/login/totp"));
    assert_eq!(get_text(&c2, app.url("/facilities")).await.0, 303, "not signed in yet");
    let csrf2 = app.csrf_for(&c2, "/login/totp").await;
    let (s, _, _) = post_form(&c2, app.url("/login/totp"), &[("csrf", &csrf2), ("code", "123456")]).await;
    assert_eq!(s, 401);
    // The code used to turn it on is spent: the next step's code signs in.
    let (s, _, _) = post_form(&c2, app.url("/login/totp"), &[("csrf", &csrf2), ("code", &code)]).await;
    assert_eq!(s, 401, "a TOTP code is good once");
    let next = totp::code_at(&secret, now_secs() + totp::STEP_SECONDS);
    let (s, loc, _) = post_form(&c2, app.url("/login/totp"), &[("csrf", &csrf2), ("code", &next)]).await;
    // Two wrong codes came first: the person is shown that before anything else.
    assert_eq!((s, loc.as_str()), (303, "/account?wrong_codes=1"));
    assert_eq!(get_text(&c2, app.url("/facilities")).await.0, 200);

    // A recovery code works once.
    let (c3, _, _) = password_step(&app, "abogada@a.org").await;
    let csrf3 = app.csrf_for(&c3, "/login/totp").await;
    let (s, _, _) =
        post_form(&c3, app.url("/login/totp"), &[("csrf", &csrf3), ("code", &codes[0].to_uppercase())]).await;
    assert_eq!(s, 303);
    let (c4, _, _) = password_step(&app, "abogada@a.org").await;
    let csrf4 = app.csrf_for(&c4, "/login/totp").await;
    let (s, _, _) = post_form(&c4, app.url("/login/totp"), &[("csrf", &csrf4), ("code", &codes[0])]).await;
    assert_eq!(s, 401, "a recovery code is good once");
    // Every decision is in the audit history, without secrets.
    let org = app.org("org-a").await;
    let entries = app.store.audit_entries(Some(org), None, 100).await.expect("audit");
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"enable_2fa") && actions.contains(&"use_recovery_code"), "{actions:?}");
    // Five wrong codes end the attempt.
    for _ in 0..5 {
        post_form(&c4, app.url("/login/totp"), &[("csrf", &csrf4), ("code", "999999")]).await;
    }
    let (s, loc, _) = post_form(&c4, app.url("/login/totp"), &[("csrf", &csrf4), ("code", "999999")]).await;
    assert_eq!((s, loc.as_str()), (303, "/login"));
}

#[tokio::test]
async fn an_organization_can_require_two_step_sign_in() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("admin@a.org", "org-a", Role::Admin).await;
    let (_, token) = app.api_user("monitor@a.org", "org-a", Role::Monitor).await;
    app.user("otra@b.org", "org-b", Role::Monitor).await;
    let admin = app.login("admin@a.org").await;
    let monitor = app.login("monitor@a.org").await;
    let other = app.login("otra@b.org").await;
    let csrf = app.csrf_for(&admin, "/account").await;
    let (s, _, _) = post_form(&admin, app.url("/admin/security"), &[("csrf", &csrf), ("require_2fa", "on")]).await;
    assert_eq!(s, 303);
    // Members without it are sent to set it up; the API refuses their tokens.
    let r = monitor.get(app.url("/access")).send().await.expect("get");
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().expect("loc")), (303, "/account?required=1"));
    let (s, page) = get_text(&monitor, app.url("/account?required=1")).await;
    assert!(s == 200 && page.contains("id=\"2fa-required\""));
    let r = reqwest::Client::new().get(app.url("/api/v1/facilities")).bearer_auth(&token).send().await.expect("get");
    assert_eq!(r.status(), 403);
    let problem: serde_json::Value = r.json().await.expect("json");
    assert!(problem["type"].as_str().expect("type").ends_with("two-factor-required"));
    // Another organization is not affected.
    assert_eq!(get_text(&other, app.url("/access")).await.0, 200);
    // Setting it up lets the member through.
    let csrf = app.csrf_for(&monitor, "/account").await;
    let (_, _, setup) = post_form(&monitor, app.url("/account/totp/start"), &[("csrf", &csrf)]).await;
    let key = setup.split("id=\"totp-key\">").nth(1).and_then(|r| r.split('<').next()).expect("key");
    let secret = totp::base32_decode(key).expect("key");
    let code = totp::code_at(&secret, now_secs());
    post_form(&monitor, app.url("/account/totp/confirm"), &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(get_text(&monitor, app.url("/access")).await.0, 200);
    // And their token again.
    let r = reqwest::Client::new().get(app.url("/api/v1/facilities")).bearer_auth(&token).send().await.expect("get");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn people_see_and_end_their_sessions() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    let laptop = app.login("mon@a.org").await;
    let phone = app.login("mon@a.org").await;
    let (_, page) = get_text(&laptop, app.url("/account")).await;
    assert_eq!(page.matches("<tr><td>").count(), 2, "two sessions listed");
    assert!(page.contains("Esta sesión"));
    let id = page.split("name=\"id\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("other session id");
    let csrf = csrf_of(&page);
    let (s, loc, _) = post_form(&laptop, app.url("/account/sessions/end"), &[("csrf", &csrf), ("id", id)]).await;
    assert_eq!((s, loc.as_str()), (303, "/account?ended=1"));
    assert_eq!(get_text(&phone, app.url("/access")).await.0, 303, "the phone is signed out");
    assert_eq!(get_text(&laptop, app.url("/access")).await.0, 200);
    // Another person's session id does nothing.
    let (s, loc, _) =
        post_form(&laptop, app.url("/account/sessions/end"), &[("csrf", &csrf), ("id", "0123456789abcdef")]).await;
    assert_eq!((s, loc.as_str()), (303, "/account"));
}

#[tokio::test]
async fn sensitive_actions_ask_for_the_password_again() {
    let config = vigia_web::Config { reauth_window: Duration::from_secs(1), ..Default::default() };
    let app = TestApp::with_config(vigia_store::testing::TestDb::sqlite(), config).await;
    app.user("admin@a.org", "org-a", Role::Admin).await;
    let admin = app.login("admin@a.org").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (_, page) = get_text(&admin, app.url("/admin/users")).await;
    let csrf = csrf_of(&page);
    let new_user = [
        ("csrf", csrf.as_str()),
        ("email", "nueva@a.org"),
        ("display_name", "Nueva"),
        ("role", "coordinator"),
        ("password", PASSWORD),
    ];
    let (s, loc, _) = post_form(&admin, app.url("/admin/users"), &new_user).await;
    assert_eq!((s, loc.as_str()), (303, "/reauth?next=/admin/users"));
    assert!(app.store.user_by_email("nueva@a.org").await.expect("lookup").is_none(), "nothing done yet");
    let (s, _, _) =
        post_form(&admin, app.url("/reauth"), &[("csrf", &csrf), ("password", "no es"), ("next", "/admin/users")])
            .await;
    assert_eq!(s, 422);
    let (s, loc, _) =
        post_form(&admin, app.url("/reauth"), &[("csrf", &csrf), ("password", PASSWORD), ("next", "/admin/users")])
            .await;
    assert_eq!((s, loc.as_str()), (303, "/admin/users"));
    let (s, _, _) = post_form(&admin, app.url("/admin/users"), &new_user).await;
    assert_eq!(s, 303);
    assert!(app.store.user_by_email("nueva@a.org").await.expect("lookup").is_some());
    // The next page cannot be somewhere else.
    let (_, loc, _) =
        post_form(&admin, app.url("/reauth"), &[("csrf", &csrf), ("password", PASSWORD), ("next", "//evil.example/")])
            .await;
    assert_eq!(loc, "/");
}

/// One address guessing across many accounts is slowed, but a right password from it
/// still signs in: people behind one router or proxy share an address (issue 14, 7).
#[tokio::test]
async fn one_address_guessing_is_slowed_but_never_locks_others_out() {
    let config = vigia_web::Config {
        max_failed_logins_per_address: 3,
        address_penalty: Duration::from_millis(20),
        ..Default::default()
    };
    let app = TestApp::with_config(vigia_store::testing::TestDb::sqlite(), config).await;
    app.user("real@a.org", "org-a", Role::Monitor).await;
    let (c, csrf) = app.login_form().await;
    for i in 0..4 {
        let email = format!("guess{i}@a.org");
        let (s, _, _) =
            post_form(&c, app.url("/login"), &[("csrf", &csrf), ("email", &email), ("password", "adivinanza-larga")])
                .await;
        assert_eq!(s, 401);
    }
    let (s, loc, _) =
        post_form(&c, app.url("/login"), &[("csrf", &csrf), ("email", "real@a.org"), ("password", PASSWORD)]).await;
    assert_eq!((s, loc.as_str()), (303, "/start"), "a right password from the same address signs in");
    let failures = app.store.login_failures_since("address:127.0.0.1", 0).await.expect("count");
    assert_eq!(failures, 4, "counted against the connection's address");
}

/// Behind a proxy the operator trusts, the client named in X-Forwarded-For is the one
/// counted; without that setting the header is ignored (a client could name itself anew
/// on every request).
#[tokio::test]
async fn failures_are_counted_against_the_client_a_trusted_proxy_names() {
    for trusted in [false, true] {
        let config = vigia_web::Config {
            trusted_proxies: if trusted { vec!["127.0.0.1".parse().expect("ip")] } else { vec![] },
            ..Default::default()
        };
        let app = TestApp::with_config(vigia_store::testing::TestDb::sqlite(), config).await;
        let (c, csrf) = app.login_form().await;
        let r = c
            .post(app.url("/login"))
            .header("x-forwarded-for", "6.6.6.6, 203.0.113.7")
            .form(&[("csrf", csrf.as_str()), ("email", "nadie@a.org"), ("password", "adivinanza-larga")])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 401);
        let named = app.store.login_failures_since("address:203.0.113.7", 0).await.expect("count");
        let peer = app.store.login_failures_since("address:127.0.0.1", 0).await.expect("count");
        let spoofed = app.store.login_failures_since("address:6.6.6.6", 0).await.expect("count");
        assert_eq!((named, peer, spoofed), if trusted { (1, 0, 0) } else { (0, 1, 0) }, "trusted: {trusted}");
    }
}
