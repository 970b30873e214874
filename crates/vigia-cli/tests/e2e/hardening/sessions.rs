//! Findings about signing in and staying signed in: second factors, redirects, links
//! from other sites, tokens and passwords.

use std::time::Duration;

use serde_json::json;
use vigia_domain::account::Role;
use vigia_domain::totp;
use vigia_domain::RecordType;
use vigia_store::Actor;

use super::behind_the_back;
use crate::helpers::{csrf_of, get_text, TestApp, PASSWORD};

async fn post_form(c: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = c.post(url).form(form).send().await.expect("post");
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, location, r.text().await.expect("text"))
}

/// The password step of a sign-in; the client then holds the second-factor challenge.
async fn password_step(app: &TestApp, email: &str) -> (reqwest::Client, String) {
    let (c, csrf) = app.login_form().await;
    let (s, loc, _) =
        post_form(&c, app.url("/login"), &[("csrf", &csrf), ("email", email), ("password", PASSWORD), ("next", "/")])
            .await;
    assert_eq!((s, loc.as_str()), (303, "/login/totp"));
    let csrf = app.csrf_for(&c, "/login/totp").await;
    (c, csrf)
}

/// Finding 3: wrong second-factor codes are counted per account across sign-in
/// attempts; giving the right password again no longer resets the count.
#[tokio::test]
async fn second_factor_guesses_are_counted_across_sign_ins_and_lock_the_account() {
    for db in vigia_store::testing::TestDb::all().await {
        let config = vigia_web::Config { lockout_window: Duration::from_secs(3), ..Default::default() };
        let app = TestApp::with_config(db, config).await;
        let user = app.user("abogada@a.org", "org-a", Role::Lawyer).await;
        let secret = [7u8; totp::SECRET_BYTES];
        app.store.totp_setup(user.id, user.org_id, &secret, vigia_store::now_micros()).await.expect("setup");
        app.store.totp_enable(&Actor::user(&user), user.id, 0, &[]).await.expect("enable");
        let now_secs = || vigia_store::now_micros() / 1_000_000;
        let wrong = |s: i64| {
            // A code that is none of the three the server accepts now.
            let good: Vec<String> = (-1..=1).map(|d| totp::code_at(&secret, s + d * totp::STEP_SECONDS)).collect();
            (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !good.contains(c)).expect("a wrong code")
        };
        // The reviewer's attack: the password, wrong codes, the password again, more codes.
        let mut refused = 0;
        let mut locked = false;
        'rounds: for _ in 0..25 {
            let (c, csrf) = password_step(&app, "abogada@a.org").await;
            for _ in 0..3 {
                let (s, _, page) =
                    post_form(&c, app.url("/login/totp"), &[("csrf", &csrf), ("code", &wrong(now_secs()))]).await;
                match s {
                    401 => refused += 1,
                    429 => {
                        assert!(page.contains("bloqueado"), "{page}");
                        locked = true;
                        break 'rounds;
                    }
                    other => panic!("unexpected answer {other}"),
                }
            }
        }
        assert!(locked && refused == 4, "locked at the fifth wrong code over two sign-ins ({refused} refused first)");
        // The right password and the right code are refused while the lock lasts.
        let (c, csrf) = password_step(&app, "abogada@a.org").await;
        let right = totp::code_at(&secret, now_secs());
        let (s, _, _) = post_form(&c, app.url("/login/totp"), &[("csrf", &csrf), ("code", &right)]).await;
        assert_eq!(s, 429, "the real code does not get through the lock");
        let entries = app.store.audit_entries(Some(user.org_id), None, 50).await.expect("audit");
        assert!(entries.iter().any(|e| e.action == "lock_2fa"), "the lock is in the organization's history");
        // After the window the person signs in and is told about the wrong codes.
        tokio::time::sleep(Duration::from_millis(3_100)).await;
        let (c, csrf) = password_step(&app, "abogada@a.org").await;
        let right = totp::code_at(&secret, now_secs());
        let (s, loc, _) = post_form(&c, app.url("/login/totp"), &[("csrf", &csrf), ("code", &right)]).await;
        assert_eq!((s, loc.as_str()), (303, "/account?wrong_codes=1"));
        let (_, page) = get_text(&c, app.url(&loc)).await;
        assert!(page.contains("códigos equivocados"), "{page}");
        // The next clean sign-in goes where it was going.
        let (c, csrf) = password_step(&app, "abogada@a.org").await;
        let later = totp::code_at(&secret, now_secs() + totp::STEP_SECONDS);
        let (s, loc, _) = post_form(&c, app.url("/login/totp"), &[("csrf", &csrf), ("code", &later)]).await;
        assert_eq!((s, loc.as_str()), (303, "/today"), "a lawyer lands on the day's deadlines");
    }
}

/// Finding 15: `next=/%09/evil.example` decoded to a tab that browsers drop, making
/// `//evil.example`. Every way of asking for another site lands on this one.
#[tokio::test]
async fn sign_in_never_redirects_to_another_site() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    for evil in ["/%09/evil.example", "/%0A/evil.example", "/%0D%0A/evil.example", "/%5Cevil.example", "//evil.example"]
    {
        let c = app.browser();
        let (_, page) = get_text(&c, app.url(&format!("/login?next={evil}"))).await;
        assert!(!page.contains("evil.example"), "the form carries {evil}");
        let csrf = csrf_of(&page);
        let body = format!("csrf={csrf}&email=mon%40a.org&password={}&next={evil}", PASSWORD.replace(' ', "+"));
        let r = c
            .post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/start", "{evil}: a monitor lands on what to record");
    }
    // Nor into sealed data: a link to sign in and then reveal a case's person arrives
    // at the case page, which shows its button (finding 16).
    let c = app.browser();
    let (_, page) = get_text(&c, app.url("/login")).await;
    let body = format!(
        "csrf={}&email=mon%40a.org&password={}&next=%2Fcases%2F7%3Freveal%3D1%26tab%3Devents",
        csrf_of(&page),
        PASSWORD.replace(' ', "+")
    );
    let r = c
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(r.headers()["location"], "/cases/7?tab=events");
}

/// Finding 16: GETs that open sealed data write a read into the audit history, so a
/// link on another site could make a lawyer "read" a person's file. Such a request
/// opens nothing; from Vigía's own pages, or with a script's token, it still does.
#[tokio::test]
async fn a_link_from_another_site_opens_no_sealed_data() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (lawyer, token) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    let http = reqwest::Client::new();
    let body = json!({"reference": "FM-16", "full_name": "Dilcia Cruz Orellana", "nationality": "HN", "sex": "female",
        "age_group": "adult_18_59"});
    let (_, c) = app.post_case(&token, &body).await;
    let id = c["id"].as_i64().expect("id");
    let reads = || async {
        let entries = app.store.history(RecordType::CaseRead, id, Some(lawyer.org_id)).await.expect("history");
        entries.len()
    };
    let browser = app.login("abogada@a.org").await;
    // An older browser sends no Sec-Fetch-Site at all.
    let older =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("c");
    let (_, login) = get_text(&older, app.url("/login")).await;
    let form = [("csrf", csrf_of(&login)), ("email", "abogada@a.org".into()), ("password", PASSWORD.into())];
    assert_eq!(older.post(app.url("/login")).form(&form).send().await.expect("login").status(), 303);
    let page = |site: Option<&'static str>, referer: Option<String>, path: String| {
        let mut r = match site {
            Some(s) => browser.get(app.url(&path)).header("sec-fetch-site", s),
            None => older.get(app.url(&path)),
        };
        if let Some(from) = referer {
            r = r.header("referer", from);
        }
        r.send()
    };
    let reveal = format!("/cases/{id}?reveal=1");
    for (site, referer) in [
        (Some("cross-site"), None),
        (Some("same-site"), None),
        (None, Some("https://evil.example/x".to_string())),
        (None, None),
    ] {
        let r = page(site, referer.clone(), reveal.clone()).await.expect("get");
        assert_eq!(r.status(), 200);
        assert!(!r.text().await.expect("text").contains("Dilcia"), "{site:?} {referer:?}");
        let r = page(site, referer.clone(), format!("/api/v1/cases/{id}/sealed")).await.expect("get");
        assert_eq!(r.status(), 403, "{site:?}");
        let r = page(site, referer, format!("/cases/{id}/edit")).await.expect("get");
        assert_eq!(r.status(), 303, "the form waits for a click on the case page");
    }
    assert_eq!(reads().await, 0, "no read was recorded");
    let r = page(Some("same-origin"), None, reveal.clone()).await.expect("get");
    assert!(r.text().await.expect("text").contains("Dilcia"));
    let r = page(None, Some(app.url(&format!("/cases/{id}"))), reveal).await.expect("get");
    assert!(r.text().await.expect("text").contains("Dilcia"), "an older browser from our own page");
    let r = http.get(app.url(&format!("/api/v1/cases/{id}/sealed"))).bearer_auth(&token).send().await.expect("get");
    assert_eq!(r.status(), 200, "a script with its token");
    assert_eq!(reads().await, 3);
}

/// Finding 6 (tokens): API tokens expire, record their last use, can be listed and
/// revoked by their owner on the account page, and a user disabled then enabled again
/// does not get their old tokens back.
#[tokio::test]
async fn api_tokens_expire_are_revoked_and_stay_dead_after_a_user_is_reenabled() {
    for app in TestApp::all().await {
        let (user, token) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let http = reqwest::Client::new();
        let me = |t: String| http.get(app.url("/api/v1/me")).bearer_auth(t).send();
        assert_eq!(me(token.clone()).await.expect("get").status(), 200);
        let listed = app.store.api_tokens(user.id).await.expect("tokens");
        let t = &listed[0];
        assert!(t.last_used_at.is_some(), "its use is recorded");
        let left = t.expires_at.expect("expires") - t.created_at;
        assert_eq!(left, vigia_store::API_TOKEN_LIFETIME, "90 days");
        // An expired token opens nothing.
        let (viejo, old) = app.api_user("viejo@a.org", "org-a", Role::Monitor).await;
        let sql =
            "UPDATE api_tokens SET expires_at = 1 WHERE user_id = (SELECT id FROM users WHERE email = 'viejo@a.org')";
        behind_the_back(&app._db, sql).await;
        let viejo_token = app.store.api_tokens(viejo.id).await.expect("tokens")[0].id;
        assert_eq!(me(old).await.expect("get").status(), 401, "expired");
        // The owner revokes it on the account page.
        let page = app.login("mon@a.org").await;
        let (_, html) = get_text(&page, app.url("/account")).await;
        assert!(html.contains("id=\"tokens\"") && html.contains("vigente"), "listed");
        let csrf = csrf_of(&html);
        let r = page
            .post(app.url("/account/tokens/revoke"))
            .form(&[("csrf", csrf.as_str()), ("id", &t.id.to_string())])
            .send()
            .await
            .expect("post");
        assert_eq!(r.headers()["location"], "/account?revoked=1");
        assert_eq!(me(token.clone()).await.expect("get").status(), 401, "revoked");
        // Disabling a user revokes their tokens; enabling them again does not revive them.
        let (other, second) = app.api_user("otro@a.org", "org-a", Role::Monitor).await;
        app.store.set_user_disabled(&Actor::SYSTEM, other.id, true).await.expect("disable");
        app.store.set_user_disabled(&Actor::SYSTEM, other.id, false).await.expect("enable");
        assert_eq!(me(second).await.expect("get").status(), 401, "stays dead");
        // Revocations are audited; the expiry changed behind the app's back above is the
        // one row named, by its MAC (issue #22 finding 4).
        let report = app.store.verify_audit().await.expect("verify");
        let named: Vec<&String> = report.problems.iter().filter(|p| p.contains("api_token")).collect();
        assert!(
            named.len() == 1
                && named[0].contains("integrity check")
                && named[0].ends_with(&format!("(id {viejo_token})")),
            "{:?}",
            report.problems
        );
    }
}

/// Finding 6 (tokens, API): a script lists its owner's tokens and revokes one; another
/// person's token id is 404 and stays live; the secret is never listed.
#[tokio::test]
async fn api_tokens_are_listed_and_revoked_through_the_api() {
    for app in TestApp::all().await {
        let (user, token) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let spare = vigia_store::secrets::new_token("vga_").expect("token");
        let hash = vigia_store::secrets::token_hash(&spare);
        app.store.create_api_token(&Actor::user(&user), user.id, "spare", &hash).await.expect("token");
        let (_, theirs) = app.api_user("mon@b.org", "org-b", Role::Monitor).await;
        let http = reqwest::Client::new();
        let list = |t: &str| http.get(app.url("/api/v1/tokens")).bearer_auth(t.to_string()).send();
        let v = app.get_json(&token, "/api/v1/tokens").await;
        let items = v["items"].as_array().expect("items");
        assert_eq!(items.len(), 2, "the owner's two tokens, not org-b's: {v}");
        assert!(items.iter().all(|t| t["state"] == "live" && t["expires_at"].is_string()));
        assert!(!v.to_string().contains(&spare) && !v.to_string().contains(&token), "no secret is listed");
        let b = app.get_json(&theirs, "/api/v1/tokens").await;
        let their_id = b["items"][0]["id"].as_i64().expect("id");
        let revoke = |t: &str, id: i64| {
            http.post(app.url(&format!("/api/v1/tokens/{id}/revoke"))).bearer_auth(t.to_string()).send()
        };
        assert_eq!(revoke(&token, their_id).await.expect("post").status(), 404, "another person's token");
        assert_eq!(list(&theirs).await.expect("get").status(), 200, "and it still works");
        // Revoke the spare one, then the one in use.
        let id_of = |name: &str| items.iter().find(|t| t["name"] == name).and_then(|t| t["id"].as_i64()).expect("id");
        let ids = [id_of("test"), id_of("spare")];
        let r = revoke(&token, ids[1]).await.expect("post");
        assert_eq!(r.status(), 200);
        let t: serde_json::Value = r.json().await.expect("json");
        assert_eq!(t["state"], "revoked");
        assert_eq!(list(&spare).await.expect("get").status(), 401, "the revoked token opens nothing");
        assert_eq!(revoke(&token, ids[1]).await.expect("post").status(), 200, "revoking again answers the same");
        assert_eq!(revoke(&token, ids[0]).await.expect("post").status(), 200);
        assert_eq!(list(&token).await.expect("get").status(), 401, "a script can end its own token");
        assert!(app.store.verify_audit().await.expect("verify").ok());
    }
}

/// Finding 6 (passwords): people change their own password; other sessions end.
#[tokio::test]
async fn people_change_their_password_and_other_sessions_end() {
    for app in TestApp::all().await {
        app.user("mon@a.org", "org-a", Role::Monitor).await;
        let laptop = app.login("mon@a.org").await;
        let phone = app.login("mon@a.org").await;
        let csrf = app.csrf_for(&laptop, "/account").await;
        let new = "otra clave larga de prueba";
        let change = |current: &str, new: &str, again: &str| {
            laptop
                .post(app.url("/account/password"))
                .form(&[("csrf", csrf.as_str()), ("current", current), ("new", new), ("again", again)])
                .send()
        };
        for (current, n, again, why) in [
            ("no es", new, new, "actual no es correcta"),
            (PASSWORD, new, "otra clave larga de prueba!", "no coinciden"),
            (PASSWORD, "corta", "corta", "al menos 12"),
        ] {
            let r = change(current, n, again).await.expect("post");
            assert_eq!(r.status(), 422);
            assert!(r.text().await.expect("text").contains(why), "{why}");
        }
        let r = change(PASSWORD, new, new).await.expect("post");
        assert_eq!(r.headers()["location"], "/account?password=1");
        assert_eq!(get_text(&laptop, app.url("/access")).await.0, 200, "this session stays");
        assert_eq!(get_text(&phone, app.url("/access")).await.0, 303, "the other one ended");
        let (c, csrf) = app.login_form().await;
        for (pw, status) in [(PASSWORD, 401), (new, 303)] {
            let r = c
                .post(app.url("/login"))
                .form(&[("csrf", csrf.as_str()), ("email", "mon@a.org"), ("password", pw)])
                .send()
                .await
                .expect("login");
            assert_eq!(r.status(), status);
        }
        let org = app.org("org-a").await;
        let entries = app.store.audit_entries(Some(org), None, 50).await.expect("audit");
        assert!(entries.iter().any(|e| e.action == "change_password"));
    }
}

/// The password form counts wrong current passwords as failed sign-ins and stops at the
/// same lock, so a stolen session cannot guess the password there (found reviewing 6).
#[tokio::test]
async fn the_password_form_stops_at_the_sign_in_lock() {
    let config = vigia_web::Config { max_failed_logins: 3, ..Default::default() };
    let app = TestApp::with_config(vigia_store::testing::TestDb::sqlite(), config).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    let (c, csrf) = app.login_with_csrf("mon@a.org", "/account").await;
    let new = "otra clave larga de prueba";
    let change = |current: &'static str| {
        c.post(app.url("/account/password"))
            .form(&[("csrf", csrf.as_str()), ("current", current), ("new", new), ("again", new)])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(change("adivinanza").await.expect("post").status(), 422);
    }
    let r = change("una clave larga de prueba").await.expect("post");
    assert_eq!(r.status(), 429, "locked, even for the right password");
}
