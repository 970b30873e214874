//! Publications and the public site (issue #17 part 2): four eyes, one publication per
//! year, small counts hidden, the site served read-only from the frozen figures, signed,
//! and a changed byte caught by the offline check.

use serde_json::{json, Value};
use vigia_domain::account::Role;

use crate::helpers::TestApp;

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    app.api_post(token, path, &body).await
}

#[tokio::test]
async fn a_year_is_proposed_approved_by_another_person_once_and_served_signed_without_small_counts() {
    for db in vigia_store::testing::TestDb::all().await {
        let config = vigia_web::Config { public_site: true, ..Default::default() };
        let app = TestApp::with_config(db, config).await;
        let (_, coord) = app.api_user("coord@a.org", "org-a", Role::Coordinator).await;
        let (_, admin) = app.api_user("admin@a.org", "org-a", Role::Admin).await;
        let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let (_, monitor) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let (_, other) = app.api_user("coord@b.org", "org-b", Role::Coordinator).await;
        let f = app.facility("Estación Tapachula Norte").await;
        // Three children detained at one centre in 2020: a count the public never sees.
        for i in 0..3 {
            let mut body = crate::cases::person(&format!("FM-{i}"));
            body["facility_id"] = json!(f);
            let (_, c) = app.post_case(&lawyer, &body).await;
            consent_to_publication(&app, &lawyer, &c).await;
            let events = format!("/api/v1/cases/{}/events", c["id"]);
            let (s, _) = app
                .api_post(&lawyer, &events, &json!({"kind": "detained", "on": "2020-06-01", "facility_id": f}))
                .await;
            assert_eq!(s, 201);
        }
        for day in 1..=4 {
            let attempt = json!({"facility_id": f, "attempted_at": format!("2020-02-0{day}T10:00"), "purpose": "monitoring",
                                 "team_size": 2, "outcome": if day % 2 == 0 { "denied" } else { "granted" }});
            assert_eq!(app.post_attempt(&monitor, &attempt).await.0, 201);
        }
        let all =
            json!({"year": 2020, "sections": ["access", "conditions", "cases", "statements"], "detail": "facility"});
        assert_eq!(post(&app, &monitor, "/api/v1/publications", all.clone()).await.0, 403, "monitors do not publish");
        let (s, e) = post(&app, &coord, "/api/v1/publications", json!({"year": 2026, "sections": ["access"]})).await;
        assert_eq!(s, 422, "{e}");
        assert!(e.to_string().contains("year_not_finished"), "{e}");
        let (s, p) = post(&app, &coord, "/api/v1/publications", all.clone()).await;
        assert_eq!(s, 201, "{p}");
        assert_eq!(p["status"], "proposed");
        let id = p["id"].as_i64().expect("id");
        let decision = format!("/api/v1/publications/{id}/decision");
        // Four eyes: the proposer cannot approve; another organization cannot see it.
        let (s, e) = post(&app, &coord, &decision, json!({"decision": "approve"})).await;
        assert_eq!(s, 409, "{e}");
        assert!(e.to_string().contains("otra persona") || e.to_string().contains("another person"), "{e}");
        assert_eq!(post(&app, &other, &decision, json!({"decision": "approve"})).await.0, 404);
        // Nothing is public before approval.
        let http = reqwest::Client::new();
        let public = |path: String| http.get(app.url(&path)).send();
        assert_eq!(public(format!("/public/{id}/index.html")).await.expect("get").status(), 404);
        let (s, d) = post(&app, &admin, &decision, json!({"decision": "approve"})).await;
        assert_eq!((s, d["status"].as_str()), (200, Some("approved")), "{d}");
        assert_eq!(post(&app, &admin, &decision, json!({"decision": "reject"})).await.0, 409, "decided once");
        // A second set of the same year is never approved.
        let (_, again) = post(&app, &coord, "/api/v1/publications", all.clone()).await;
        let (s, e) = post(
            &app,
            &admin,
            &format!("/api/v1/publications/{}/decision", again["id"]),
            json!({"decision": "approve"}),
        )
        .await;
        assert_eq!(s, 409, "{e}");

        // The public site: anyone reads it, from the frozen figures only.
        let r = public("/public".to_string()).await.expect("index");
        assert_eq!(r.status(), 200);
        assert!(r.text().await.expect("text").contains(&format!("/public/{id}/index.html")));
        let manifest: Value =
            public(format!("/public/{id}/manifest.json")).await.expect("m").json().await.expect("json");
        let files = manifest["files"].as_object().expect("files");
        assert!(
            files.contains_key("index.html")
                && files.contains_key("en/index.html")
                && files.contains_key("data/cases.csv")
        );
        let dir = std::env::temp_dir().join(format!("vigia-public-{}", app.addr.port()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut all_files = std::collections::BTreeMap::new();
        for path in files.keys().chain(["manifest.json".to_string(), "manifest.sig".to_string()].iter()) {
            let r = public(format!("/public/{id}/{path}")).await.expect("file");
            assert_eq!(r.status(), 200, "{path}");
            all_files.insert(path.clone(), r.bytes().await.expect("bytes").to_vec());
        }
        vigia_report::site::write_dir(&dir, &all_files).expect("write");
        let v = vigia_report::site::verify_dir(&dir, Some(manifest["public_key"].as_str().expect("key")))
            .expect("verifies");
        assert_eq!(v.files, files.len());
        let cases = String::from_utf8(all_files["data/cases.csv"].clone()).expect("utf-8");
        let row = cases.lines().find(|l| l.contains("Tapachula")).unwrap_or_else(|| panic!("{cases}"));
        assert!(!row.contains(",3,") && !row.ends_with(",3"), "3 children are not published: {row}");
        let json: Value = serde_json::from_slice(&all_files["data/publication.json"]).expect("json");
        let place = json["places"]
            .as_array()
            .expect("places")
            .iter()
            .position(|p| p["name"] == "Estación Tapachula Norte")
            .expect("place");
        assert!(json["cases"]["by_place"][place][1].is_null(), "{}", json["cases"]);
        assert_eq!(json["access"]["by_place"][place], json!([4, 2]), "the organization's own attempts");
        let index = String::from_utf8(all_files["index.html"].clone()).expect("html");
        assert!(index.contains("lugar/f") && !index.contains("<script"), "relative links, no JavaScript");
        // A changed byte fails the check.
        let mut bytes = all_files["data/access.csv"].clone();
        bytes[0] ^= 1;
        std::fs::write(dir.join("data/access.csv"), bytes).expect("write");
        let problems = vigia_report::site::verify_dir(&dir, None).expect_err("refused");
        assert!(problems.iter().any(|p| p.contains("data/access.csv")), "{problems:?}");
        let _ = std::fs::remove_dir_all(&dir);
        // The audit chain holds the proposal and the decision.
        let org = app.org("org-a").await;
        let history = app.store.history(vigia_domain::RecordType::Publication, id, Some(org)).await.expect("history");
        let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
        assert_eq!(actions, ["propose", "approve"]);
    }
}

#[tokio::test]
async fn a_figure_changed_behind_the_app_s_back_fails_the_audit_check() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, coord) = app.api_user("coord@a.org", "org-a", Role::Coordinator).await;
    let (s, p) = app
        .api_post(&coord, "/api/v1/publications", &json!({"year": 2021, "sections": ["access"], "detail": "state"}))
        .await;
    assert_eq!(s, 201, "{p}");
    assert!(app.store.verify_audit().await.expect("verify").ok());
    let url = app._db.url.clone();
    let pool = sqlx::SqlitePool::connect(&url).await.expect("pool");
    sqlx::query("UPDATE publications SET content = replace(content, '\"year\":2021', '\"year\":2021 ') WHERE id = $1")
        .bind(p["id"].as_i64().expect("id"))
        .execute(&pool)
        .await
        .expect("tamper");
    let report = app.store.verify_audit().await.expect("verify");
    assert!(report.problems.iter().any(|p| p.contains("publication")), "{:?}", report.problems);
}

/// Review of #17: a member's publication must not let a partner read a third member's
/// small count out of the coalition's figures (31 shown − 25 published = 6).
#[tokio::test]
async fn a_member_s_published_counts_are_left_out_of_the_coalition_s_so_nothing_is_subtracted() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, lawyer_a) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    let (_, coord_a) = app.api_user("coord@a.org", "org-a", Role::Coordinator).await;
    let (_, admin_a) = app.api_user("admin@a.org", "org-a", Role::Admin).await;
    let (_, viewer_b) = app.api_user("analista@b.org", "org-b", Role::Analyst).await;
    let (_, lawyer_c) = app.api_user("abogada@c.org", "org-c", Role::Lawyer).await;
    app.coalition("red", &["org-a", "org-b", "org-c"]).await;
    let f = app.facility("Estación Tapachula Norte").await;
    // Org A: 25 people who agreed to the anonymized publication of their story, and one
    // who did not (issue #20): counted in the coalition's internal report, never published.
    for (token, n, tag) in [(&lawyer_a, 26, "A"), (&lawyer_c, 6, "C")] {
        for i in 0..n {
            let mut body = crate::cases::person(&format!("{tag}-{i}"));
            body["facility_id"] = json!(f);
            let (_, c) = app.post_case(token, &body).await;
            if !(tag == "A" && i == 0) {
                consent_to_publication(&app, token, &c).await;
            }
            let events = format!("/api/v1/cases/{}/events", c["id"]);
            let (s, _) =
                app.api_post(token, &events, &json!({"kind": "detained", "on": "2020-06-01", "facility_id": f})).await;
            assert_eq!(s, 201);
        }
    }
    let children = |j: &Value| j["report"]["cases"]["totals"][1].clone();
    let (_, before) = app.api_get(&viewer_b, "/api/v1/reports/period?scope=coalition&year=2020").await;
    assert!(children(&before).is_null(), "one member's 6 is hidden inside 32: {}", before["report"]["cases"]);
    // Organization A publishes its 2020 figures: 25 children at the centre.
    let (_, p) = post(&app, &coord_a, "/api/v1/publications", json!({"year": 2020, "sections": ["cases"]})).await;
    let (s, _) =
        post(&app, &admin_a, &format!("/api/v1/publications/{}/decision", p["id"]), json!({"decision": "approve"}))
            .await;
    assert_eq!(s, 200);
    let published: Value = serde_json::from_str(
        &app.store
            .publication(app.org("org-a").await, p["id"].as_i64().expect("id"))
            .await
            .expect("get")
            .expect("p")
            .content,
    )
    .expect("json");
    assert_eq!(published["cases"]["measure_totals"][1], 25, "{}", published["cases"]);
    // The coalition's figures now leave A out and say so: C's 6 is hidden.
    let (_, after) = app.api_get(&viewer_b, "/api/v1/reports/period?scope=coalition&year=2020").await;
    assert!(children(&after).is_null(), "6 must not follow from 32 − 25: {}", after["report"]["cases"]);
    assert_eq!(after["report"]["cases"]["published_partners"], json!(["Org org-a"]));
    let (_, report) = app.api_get(&viewer_b, "/api/v1/case-report?scope=coalition&year=2020").await;
    assert!(report["by_facility"]["totals"]["children_detained"].is_null(), "{report}");
}

/// An operator who sets a proposal to "approved" in the database, behind the app's back,
/// does not get it published under the organization's key.
#[tokio::test]
async fn a_proposal_approved_behind_the_app_s_back_is_not_published() {
    let config = vigia_web::Config { public_site: true, ..Default::default() };
    let app = TestApp::with_config(vigia_store::testing::TestDb::sqlite(), config).await;
    let (_, coord) = app.api_user("coord@a.org", "org-a", Role::Coordinator).await;
    let (s, p) = post(&app, &coord, "/api/v1/publications", json!({"year": 2021, "sections": ["access"]})).await;
    assert_eq!(s, 201, "{p}");
    let id = p["id"].as_i64().expect("id");
    let pool = sqlx::SqlitePool::connect(&app._db.url).await.expect("pool");
    sqlx::query("UPDATE publications SET status = 'approved' WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .expect("tamper");
    let r = reqwest::get(app.url(&format!("/public/{id}/manifest.sig"))).await.expect("get");
    assert!(r.status().is_server_error(), "refused, not signed: {}", r.status());
    let org = app.org("org-a").await;
    assert!(
        vigia_web::publications::approved_site(&app.store, org, 2021).await.is_err(),
        "nor written by vigia publish"
    );
}

/// The person agreed to the anonymized publication of their story: only such people are
/// counted in a publication.
async fn consent_to_publication(app: &TestApp, token: &str, case: &Value) {
    let body = json!({"purpose": "anonymized_publication", "decision": "given", "on": "2020-06-01", "how": "written"});
    let (s, e) = app.api_post(token, &format!("/api/v1/cases/{}/consents", case["id"]), &body).await;
    assert_eq!(s, 201, "{e}");
}
