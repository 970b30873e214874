//! Sign-in state: sessions, counted failures, and the two-factor requirement.

use vigia_domain::account::{Locale, Role};
use vigia_store::testing::TestDb;
use vigia_store::{secrets, Actor, Backend, MasterKey, NewUser};

use super::{raw, seeded};

#[tokio::test]
async fn sessions_expire_and_failures_are_counted() {
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, _) = seeded(&db, &key).await;
        let uid = ana.user_id.expect("user");
        let t0 = 1_000_000_000_000i64;
        let min = 60_000_000i64;
        store.create_session("h1", uid, "csrf", t0).await.expect("session");
        let s = store.session("h1", t0 + 5 * min, 30 * min, 720 * min).await.expect("s").expect("live");
        // Who is asking comes with the data version, read in the same query.
        assert_eq!(s.caller.data_version, store.data_version().await.expect("version"));
        assert!(store.session("h1", t0 + 40 * min, 30 * min, 720 * min).await.expect("s").is_none(), "idle");
        assert!(store.session("h1", t0, 30 * min, 720 * min).await.expect("s").is_none(), "deleted");

        store.create_session("h2", uid, "csrf", t0).await.expect("session");
        let mut t = t0;
        while t < t0 + 700 * min {
            t += 20 * min;
            assert!(store.session("h2", t, 30 * min, 720 * min).await.expect("s").is_some());
        }
        assert!(store.session("h2", t0 + 721 * min, 30 * min, 720 * min).await.expect("s").is_none(), "absolute");

        for i in 0..3 {
            store.record_login_failure("ana@a.org", t0 + i).await.expect("fail");
        }
        assert_eq!(store.login_failures_since("ana@a.org", t0 + 1).await.expect("n"), 2);
        store.clear_login_failures("ana@a.org").await.expect("clear");
        assert_eq!(store.login_failures_since("ana@a.org", 0).await.expect("n"), 0);

        let token = secrets::new_token("vga_").expect("token");
        store.create_api_token(&ana, uid, "script", &secrets::token_hash(&token)).await.expect("token");
        let u = store.user_by_api_token(&secrets::token_hash(&token)).await.expect("lookup");
        assert_eq!(u.map(|u| u.id), Some(uid));
        assert!(store.user_by_api_token("nope").await.expect("lookup").is_none());
        // The same lookup brings the organization, and notes the token's use.
        let c = store.api_caller(&secrets::token_hash(&token)).await.expect("caller").expect("live token");
        let org = store.org(c.user.org_id).await.expect("org");
        assert_eq!((c.user.id, c.org, c.two_factor_missing), (uid, org.clone(), false));
        assert_eq!(c.data_version, store.data_version().await.expect("version"), "the version, in the same query");
        assert!(org.is_some());
        let used = store.api_tokens(uid).await.expect("tokens");
        assert!(used.iter().all(|t| t.last_used_at.is_some()), "{used:?}");

        let disabled = store.set_user_disabled(&Actor::SYSTEM, uid, true).await.expect("disable");
        assert!(disabled.disabled);
        assert!(store.verify_audit().await.expect("verify").ok());
    }
}

#[tokio::test]
async fn the_two_factor_requirement_is_one_answer() {
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, _) = seeded(&db, &key).await;
        let (user, org) = (ana.user_id.expect("user"), ana.org_id.expect("org"));
        // An API token's caller carries the same answer, from the same history.
        let token = secrets::token_hash(&secrets::new_token("vga_").expect("token"));
        store.create_api_token(&ana, user, "script", &token).await.expect("token");
        let by_token = |token: String| {
            let store = store.clone();
            async move { store.api_caller(&token).await.expect("caller").expect("live token").two_factor_missing }
        };
        assert!(!store.two_factor_missing(user, org).await.expect("q"), "not required");
        assert!(!by_token(token.clone()).await, "not required");
        store.set_org_requires_2fa(&ana, org, true).await.expect("require");
        assert!(store.two_factor_missing(user, org).await.expect("q"), "required, not set up");
        assert!(by_token(token.clone()).await, "required, not set up");
        // A session's caller too.
        let now = vigia_store::now_micros();
        store.create_session("s-ana", user, "csrf", now).await.expect("session");
        let day = 86_400_000_000;
        let by_session = |store: vigia_store::DynStore| async move {
            let s = store.session("s-ana", now, day, day).await.expect("s").expect("live session");
            assert_eq!((s.caller.user.id, s.caller.org.map(|o| o.id)), (user, Some(org)));
            s.caller.two_factor_missing
        };
        assert!(by_session(store.clone()).await, "required, not set up");
        store.totp_setup(user, org, b"12345678901234567890", 0).await.expect("setup");
        assert!(store.two_factor_missing(user, org).await.expect("q"), "set up but not confirmed");
        assert!(by_token(token.clone()).await, "set up but not confirmed");
        store.totp_enable(&ana, user, 1, &[]).await.expect("enable");
        assert!(!store.two_factor_missing(user, org).await.expect("q"), "on");
        assert!(!by_token(token.clone()).await, "on");
        assert!(!by_session(store.clone()).await, "on");
        // Switched off, or its row deleted, behind the app's back: still required, since
        // the answer comes from the signed history; verify names the row.
        let beto = store
            .create_user(
                &Actor::SYSTEM,
                NewUser {
                    email: "sin2fa@a.org".into(),
                    display_name: "Sin".into(),
                    org_id: org,
                    role: Role::Monitor,
                    locale: Locale::Es,
                    password_hash: "x".into(),
                },
            )
            .await
            .expect("user");
        raw(&db, &format!("UPDATE org_settings SET require_2fa = {} WHERE org_id = {org}", sql_false(&db))).await;
        assert!(store.org_requires_2fa(org).await.expect("q"));
        assert!(store.two_factor_missing(beto.id, org).await.expect("q"), "still required");
        let beto_token = secrets::token_hash(&secrets::new_token("vga_").expect("token"));
        store.create_api_token(&Actor::SYSTEM, beto.id, "script", &beto_token).await.expect("token");
        assert!(by_token(beto_token.clone()).await, "still required through a token");
        assert!(!store.verify_audit().await.expect("verify").ok());
        raw(&db, &format!("DELETE FROM org_settings WHERE org_id = {org}")).await;
        assert!(store.two_factor_missing(beto.id, org).await.expect("q"), "still required");
        assert!(by_token(beto_token).await, "still required through a token");
    }
}

/// `false` as the backend writes it in SQL.
fn sql_false(db: &TestDb) -> &'static str {
    match db.backend {
        Backend::Sqlite => "0",
        Backend::Postgres => "FALSE",
    }
}
