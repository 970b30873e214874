//! UN recommendations (issue #18 part 2) through the API and pages on both backends:
//! the UHRI export imports (and re-imports by annotation id without duplicating), a
//! bad export is refused by cell, an organization links only evidence it can see,
//! records assessments resting on its own links, sees suggested evidence, and no other
//! organization sees any of it; the follow-up and the CSV; the audit catches a changed
//! assessment.

use serde_json::{json, Value};
use vigia_domain::account::Role;

use crate::helpers::{get_text, TestApp};
use crate::statistics::fixture;

async fn import(app: &TestApp, token: &str, name: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/recommendations/imports?language=en"))
        .bearer_auth(token)
        .body(fixture(name))
        .send()
        .await
        .expect("post");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn visit(app: &TestApp, token: &str, facility: i64, children: i64) -> i64 {
    let body = json!({"facility_id": facility, "on": "2020-01-15", "time_in": "10:00", "time_out": "13:30",
        "population": {"total": 80, "women": 10, "men": 70 - children, "children_accompanied": children},
        "sections": {"legal_safeguards": {"access_to_lawyer": "no"}}});
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/visits"))
        .bearer_auth(token)
        .header("idempotency-key", format!("draft-rec-{facility:04}-{children:04}"))
        .json(&body)
        .send()
        .await
        .expect("post");
    let status = r.status();
    let v: Value = r.json().await.expect("json");
    assert!(status.is_success(), "{status}: {v}");
    v["id"].as_i64().expect("id")
}

#[tokio::test]
async fn recommendations_import_by_id_and_carry_each_organization_s_own_evidence_and_assessments() {
    for db in vigia_store::testing::TestDb::all().await {
        let app = TestApp::new(db).await;
        let (_, analyst) = app.api_user("analisis@a.org", "org-a", Role::Analyst).await;
        let (_, monitor) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let (_, partner) = app.api_user("coord@b.org", "org-b", Role::Coordinator).await;
        let (_, partner_monitor) = app.api_user("mon@b.org", "org-b", Role::Monitor).await;

        assert_eq!(import(&app, &monitor, "uhri-mexico.xlsx").await.0, 403);
        let (s, n) = import(&app, &analyst, "uhri-mexico.xlsx").await;
        assert_eq!((s, n["created"].as_i64()), (200, Some(5)), "{n}");
        // The next export: one text changed, one new; nothing duplicated.
        let (s, n) = import(&app, &analyst, "uhri-mexico-update.xlsx").await;
        assert_eq!((s, &n), (200, &json!({"created": 1, "updated": 1, "unchanged": 4})));
        let (s, e) = import(&app, &analyst, "uhri-bad.xlsx").await;
        assert_eq!(s, 422, "{e}");
        assert!(e.to_string().contains("OHCHR Annotation Id"), "{e}");

        let (_, list) = app.api_get(&analyst, "/api/v1/recommendations").await;
        let items = list["items"].as_array().expect("items");
        assert_eq!(items.len(), 6);
        let para38 = items.iter().find(|r| r["annotation_id"] == "test-cmw-2017-38a").expect("38(a)").clone();
        assert_eq!((para38["paragraph"].as_str(), para38["symbol"].as_str()), (Some("38(a)"), Some("CMW/C/MEX/CO/3")));
        let upr = items.iter().find(|r| r["annotation_id"] == "test-upr-31-124-1").expect("upr");
        assert_eq!((upr["upr_position"].as_str(), upr["upr_states"][0].as_str()), (Some("Supported"), Some("Uruguay")));
        let (_, by_theme) = app.api_get(&analyst, "/api/v1/recommendations?theme=Children%27s%20rights").await;
        assert!(by_theme["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|r| r["themes"].to_string().contains("Children")));
        let id = para38["id"].as_i64().expect("id");

        // Evidence: a visit that found children detained is suggested and linked.
        let f = app.facility("Estación Migratoria Siglo XXI").await;
        let own_visit = visit(&app, &monitor, f, 6).await;
        let other_visit = visit(&app, &partner_monitor, f, 4).await;
        let (_, read) = app.api_get(&lawyer, &format!("/api/v1/recommendations/{id}")).await;
        let suggestions = read["suggestions"].as_array().expect("suggestions");
        assert!(
            suggestions
                .iter()
                .any(|s| s["kind"] == "visit" && s["reference"].as_str() == Some(own_visit.to_string().as_str())),
            "{suggestions:?}"
        );
        assert!(
            !suggestions.iter().any(|s| s["reference"].as_str() == Some(other_visit.to_string().as_str())),
            "another organization's visit"
        );
        let links = format!("/api/v1/recommendations/{id}/links");
        let (s, l) = app.api_post(&lawyer, &links, &json!({"kind": "visit", "reference": own_visit.to_string()})).await;
        assert_eq!(s, 201, "{l}");
        let link_id = l["id"].as_i64().expect("link");
        assert_eq!(
            app.api_post(&lawyer, &links, &json!({"kind": "visit", "reference": own_visit.to_string()})).await.0,
            409
        );
        // Another organization's visit, or a case measure that is a name, is refused.
        let (s, e) =
            app.api_post(&lawyer, &links, &json!({"kind": "visit", "reference": other_visit.to_string()})).await;
        assert_eq!(s, 422, "{e}");
        let (s, _) = app.api_post(&lawyer, &links, &json!({"kind": "case_count", "reference": "Ana López"})).await;
        assert_eq!(s, 422);
        assert_eq!(
            app.api_post(&lawyer, &links, &json!({"kind": "case_count", "reference": "children_detained"})).await.0,
            201
        );
        assert_eq!(app.api_post(&monitor, &links, &json!({"kind": "statement", "reference": "1"})).await.0, 403);

        // Assessments rest on the organization's own links.
        let assess = format!("/api/v1/recommendations/{id}/assessments");
        let body = json!({"status": "not_implemented", "assessed_on": "2020-03-31", "reasoning": "Siguen detenidos", "evidence": [link_id]});
        let (s, a) = app.api_post(&lawyer, &assess, &body).await;
        assert_eq!(s, 201, "{a}");
        assert_eq!(a["recommendation_version"], 2, "it judged the text as updated by the second export: {a}");
        let (s, _) = app
            .api_post(
                &partner,
                &assess,
                &json!({"status": "partly", "assessed_on": "2020-04-01", "reasoning": "x", "evidence": [link_id]}),
            )
            .await;
        assert_eq!(s, 422, "a partner cannot rest on another organization's link");
        let (s, e) = app
            .api_post(&lawyer, &assess, &json!({"status": "partly", "assessed_on": "2099-01-01", "reasoning": " "}))
            .await;
        assert_eq!(s, 422, "{e}");

        // Nobody else sees them.
        let (_, theirs) = app.api_get(&partner, &format!("/api/v1/recommendations/{id}")).await;
        assert_eq!(
            (theirs["links"].as_array().map(Vec::len), theirs["assessments"].as_array().map(Vec::len)),
            (Some(0), Some(0))
        );
        let (_, ours) = app.api_get(&analyst, &format!("/api/v1/recommendations/{id}")).await;
        assert_eq!(
            (ours["links"].as_array().map(Vec::len), ours["assessments"].as_array().map(Vec::len)),
            (Some(2), Some(1))
        );

        // The follow-up since the last review, and the CSV.
        let (_, f) = app.api_get(&analyst, "/api/v1/recommendations/follow-up").await;
        assert_eq!(f["since"], "2019-07-24", "the last review: CAT/C/MEX/CO/7 in the fixture");
        let (_, f) = app.api_get(&analyst, "/api/v1/recommendations/follow-up?since=2017-01-01").await;
        assert_eq!(f["items"].as_array().map(Vec::len), Some(1), "{f}");
        assert_eq!(app.api_get(&analyst, "/api/v1/recommendations/follow-up?since=2017-1-1").await.0, 422);
        let c = app.login("analisis@a.org").await;
        let (s, csv) = get_text(&c, app.url("/recommendations.csv")).await;
        assert_eq!(s, 200);
        assert!(csv.lines().any(|l| l.contains("CMW/C/MEX/CO/3") && l.contains("not_implemented")), "{csv}");
        let (s, page) = get_text(&c, app.url(&format!("/recommendations/{id}"))).await;
        assert_eq!(s, 200);
        assert!(page.contains("No cumplida") && page.contains("Siguen detenidos"), "{page}");
        assert!(app.store.verify_audit().await.expect("verify").ok());
    }
}

/// An assessment changed in the database behind the app's back fails the audit check.
#[tokio::test]
async fn an_assessment_changed_behind_the_app_s_back_fails_the_audit_check() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, analyst) = app.api_user("analisis@a.org", "org-a", Role::Analyst).await;
    assert_eq!(import(&app, &analyst, "uhri-mexico.xlsx").await.0, 200);
    let (_, list) = app.api_get(&analyst, "/api/v1/recommendations").await;
    let id = list["items"][0]["id"].as_i64().expect("id");
    let body = json!({"status": "not_implemented", "assessed_on": "2020-03-31", "reasoning": "No"});
    assert_eq!(app.api_post(&analyst, &format!("/api/v1/recommendations/{id}/assessments"), &body).await.0, 201);
    assert!(app.store.verify_audit().await.expect("verify").ok());
    let pool = sqlx::SqlitePool::connect(&app._db.url).await.expect("pool");
    sqlx::query("UPDATE assessments SET status = 'implemented'").execute(&pool).await.expect("tamper");
    let report = app.store.verify_audit().await.expect("verify");
    assert!(report.problems.iter().any(|p| p.contains("assessment")), "{:?}", report.problems);
    sqlx::query("UPDATE recommendations SET text = 'changed' WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .expect("tamper");
    let report = app.store.verify_audit().await.expect("verify");
    assert!(report.problems.iter().any(|p| p.contains("recommendation")), "{:?}", report.problems);
}

/// A period report carries the official figures of its months and the organization's
/// assessments of UN recommendations, when there are any (issue #18 with #17).
#[tokio::test]
async fn the_demo_s_report_of_early_2020_shows_official_returns_and_the_assessed_recommendation() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    app.user("otra.coordinacion@defensoria.example", "defensoria-sur", Role::Coordinator).await;
    let c = app.login("otra.coordinacion@defensoria.example").await;
    let r = c
        .get(app.url("/api/v1/reports/period?scope=org&from=2020-01-01&until=2020-06-30&format=json"))
        .send()
        .await
        .expect("report");
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.expect("json");
    let report = &report["report"];
    let months = report["official"]["months"].as_array().expect("official months");
    let january = months.iter().find(|m| m["month"] == "2020-01").expect("january");
    assert!(january["returned"].as_i64().unwrap_or(0) > 0, "{january}");
    assert_eq!(report["official"]["illustrative"], true);
    let recs = report["recommendations"].as_array().expect("recommendations");
    assert!(recs.iter().any(|x| x["paragraph"] == "38(a)" && x["status"] == "not_implemented"), "{recs:?}");
    let (s, page) = get_text(&c, app.url("/reports/period?scope=org&from=2020-01-01&until=2020-06-30")).await;
    assert_eq!(s, 200);
    assert!(page.contains("Cifras oficiales del periodo") && page.contains("Recomendaciones de la ONU"), "{page}");
}
