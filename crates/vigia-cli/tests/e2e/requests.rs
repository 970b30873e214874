//! Access-to-information requests (issue #20 part 1) through the API and pages on both
//! backends: a request is counted under the law in force on its filing date (2015 or
//! 2025, either side of 21 March 2025), each deadline cites its article and a value that
//! could not be verified is shown as not computed; events follow the steps they answer;
//! links reach only what the organization can see; another organization sees nothing;
//! the log import is all or nothing by line and column; the "today" list, the reminder
//! sweep (told once), the analysis; the audit catches an event changed behind the app.

use serde_json::{json, Value};
use vigia_domain::account::Role;

use crate::helpers::{csrf_of, get_text, TestApp};

fn deadline<'a>(r: &'a Value, kind: &str) -> &'a Value {
    r["deadlines"].as_array().and_then(|d| d.iter().find(|x| x["kind"] == kind)).unwrap_or(&Value::Null)
}

async fn csv(app: &TestApp, token: &str, body: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/requests/imports"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn requests_are_counted_under_the_law_of_their_filing_date_and_stay_the_organization_s_own() {
    for db in vigia_store::testing::TestDb::all().await {
        let app = TestApp::new(db).await;
        let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let (_, monitor) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let (_, partner) = app.api_user("abogada@b.org", "org-b", Role::Lawyer).await;

        let body = json!({"authority": "INM", "folio": "0411100010520", "filed_on": "2020-01-20",
            "question": "Copia del oficio que suspendió el ingreso de organizaciones"});
        assert_eq!(app.api_post(&monitor, "/api/v1/requests", &body).await.0, 403);
        let (s, r) = app.api_post(&lawyer, "/api/v1/requests", &body).await;
        assert_eq!(s, 201, "{r}");
        let id = r["id"].as_i64().expect("id");
        assert_eq!((r["authority"].as_str(), r["regime_name"].as_str()), (Some("inm"), Some("lgtaip-2015")));
        let answer = deadline(&r, "answer");
        assert_eq!(answer["due"], "2020-02-18", "20 working days, 5 February a rest day: {r}");
        assert_eq!(answer["articles"], json!(["art. 132"]));
        assert_eq!(answer["status"], "overdue");
        assert_eq!(r["stage"], "answer_overdue");
        assert_eq!(app.api_post(&lawyer, "/api/v1/requests", &body).await.0, 409, "the same folio twice");

        // Events follow the steps they answer.
        let (a, t) = (&app, lawyer.as_str());
        let ev = |b: Value| async move { a.api_post(t, &format!("/api/v1/requests/{id}/events"), &b).await };
        let (s, e) = ev(json!({"kind": "appeal_admitted", "on": "2020-02-24"})).await;
        assert_eq!((s, e["errors"][0]["code"].as_str()), (422, Some("no_appeal")), "{e}");
        let (s, e) = ev(json!({"kind": "answer", "on": "2020-02-10"})).await;
        assert_eq!((s, e["errors"][0]["field"].as_str()), (422, Some("answer_type")), "{e}");
        assert_eq!(ev(json!({"kind": "answer", "on": "2020-02-10", "answer_type": "inexistent"})).await.0, 201);
        let (s, e) = ev(json!({"kind": "answer", "on": "2020-02-11", "answer_type": "full"})).await;
        assert_eq!((s, e["errors"][0]["code"].as_str()), (422, Some("already_recorded")), "{e}");
        assert_eq!(ev(json!({"kind": "appeal_filed", "on": "2020-02-20", "note": "RRA 1234/20"})).await.0, 201);
        assert_eq!(ev(json!({"kind": "appeal_admitted", "on": "2020-02-24"})).await.0, 201);
        let (_, r) = app.api_get(&lawyer, &format!("/api/v1/requests/{id}")).await;
        assert_eq!((r["stage"].as_str(), deadline(&r, "answer")["status"].as_str()), (Some("appealed"), Some("met")));
        assert_eq!(deadline(&r, "appeal")["status"], "met", "{r}");
        let resolution = deadline(&r, "resolution");
        assert_eq!(
            (resolution["status"].as_str(), resolution["reason"].as_str()),
            (Some("not_computed"), Some("unverified"))
        );
        assert!(resolution["due"].is_null(), "no unverified value is shown as a day");

        // Filed on 21 March 2025: the 2025 law, whose resolution deadline is verified.
        let b2025 = json!({"authority": "comar", "folio": "330010825000123", "filed_on": "2025-03-21",
            "question": "Solicitudes de asilo presentadas desde estaciones migratorias"});
        let (_, r25) = app.api_post(&lawyer, "/api/v1/requests", &b2025).await;
        let id25 = r25["id"].as_i64().expect("id");
        assert_eq!(
            (r25["regime_name"].as_str(), deadline(&r25, "answer")["articles"][0].as_str()),
            (Some("lgtaip-2025"), Some("art. 134"))
        );
        assert_eq!(deadline(&r25, "answer")["due"], "2025-04-18");
        for b in [
            json!({"kind": "answer", "on": "2025-04-10", "answer_type": "classified"}),
            json!({"kind": "appeal_filed", "on": "2025-04-15"}),
            json!({"kind": "appeal_admitted", "on": "2025-05-14"}),
        ] {
            assert_eq!(app.api_post(&lawyer, &format!("/api/v1/requests/{id25}/events"), &b).await.0, 201);
        }
        let (_, r25) = app.api_get(&lawyer, &format!("/api/v1/requests/{id25}")).await;
        // The count crosses the transition's reported, unverified suspension of appeals.
        assert_eq!(deadline(&r25, "resolution")["reason"], "unverified_suspension", "{r25}");
        assert!(deadline(&r25, "resolution")["due"].is_null());
        // Filed after the transition: the resolution is due 40 working days after admission.
        let later = json!({"authority": "comar", "folio": "330010825000999", "filed_on": "2025-07-01",
            "question": "Personas canalizadas a COMAR desde estaciones migratorias"});
        let (_, rl) = app.api_post(&lawyer, "/api/v1/requests", &later).await;
        let idl = rl["id"].as_i64().expect("id");
        // With no answer, an appeal is refused before the answer's deadline has passed.
        let early = json!({"kind": "appeal_filed", "on": "2025-07-10"});
        let (s, e) = app.api_post(&lawyer, &format!("/api/v1/requests/{idl}/events"), &early).await;
        assert_eq!((s, e["errors"][0]["code"].as_str()), (422, Some("before_answer_due")), "{e}");
        for b in [
            json!({"kind": "answer", "on": "2025-08-01", "answer_type": "inexistent"}),
            json!({"kind": "appeal_filed", "on": "2025-08-11"}),
            json!({"kind": "appeal_admitted", "on": "2025-08-13"}),
        ] {
            assert_eq!(app.api_post(&lawyer, &format!("/api/v1/requests/{idl}/events"), &b).await.0, 201);
        }
        let (_, rl) = app.api_get(&lawyer, &format!("/api/v1/requests/{idl}")).await;
        assert_eq!(deadline(&rl, "resolution")["due"], "2025-10-10", "{rl}");
        assert_eq!(deadline(&rl, "resolution")["articles"], json!(["art. 148"]));

        // Links reach only what the organization can see; a period for a suspension.
        let link = |b: Value| async move { a.api_post(t, &format!("/api/v1/requests/{id}/links"), &b).await };
        let (s, e) = link(json!({"kind": "statement", "reference": "999999"})).await;
        assert_eq!((s, e["errors"][0]["code"].as_str()), (422, Some("unknown_record")), "{e}");
        let (s, e) = link(json!({"kind": "suspension", "reference": "2020-01-31/2020-01-20"})).await;
        assert_eq!((s, e["errors"][0]["code"].as_str()), (422, Some("invalid_period")), "{e}");
        assert_eq!(link(json!({"kind": "suspension", "reference": "2020-01-20/2020-01-31"})).await.0, 201);
        assert_eq!(link(json!({"kind": "suspension", "reference": "2020-01-20/2020-01-31"})).await.0, 409);

        // Another organization sees nothing of it, and cannot add to it.
        assert_eq!(app.api_get(&partner, &format!("/api/v1/requests/{id}")).await.0, 404);
        let e = json!({"kind": "compliance", "on": "2020-06-01"});
        assert_eq!(app.api_post(&partner, &format!("/api/v1/requests/{id}/events"), &e).await.0, 404);
        assert_eq!(
            app.api_post(
                &partner,
                &format!("/api/v1/requests/{id}/links"),
                &json!({"kind": "suspension", "reference": "2020-01-20/2020-01-21"})
            )
            .await
            .0,
            404
        );
        let (_, theirs) = app.api_get(&partner, "/api/v1/requests").await;
        assert_eq!(theirs["items"].as_array().map(Vec::len), Some(0));
        let (_, theirs) = app.api_get(&partner, "/api/v1/requests/analysis").await;
        assert_eq!(theirs["items"].as_array().map(Vec::len), Some(0));

        // A log imports whole or not at all, problems by line and column.
        let (s, e) = csv(
            &app,
            &lawyer,
            "authority,folio,filed_on,question,answered_on,answer_type\n\
            segob,1,2020-01-22,Oficio,2020-02-01,\nsegob,2,2030-01-01,Oficio,,\n",
        )
        .await;
        assert_eq!(s, 422, "{e}");
        let errors = e["errors"].as_array().expect("errors");
        assert!(errors.iter().any(|x| x["line"] == 2 && x["field"] == "answer_type"), "{e}");
        assert!(errors.iter().any(|x| x["line"] == 3 && x["field"] == "filed_on"), "{e}");
        let (s, n) = csv(
            &app,
            &lawyer,
            "authority,folio,filed_on,question,answered_on,answer_type\n\
            segob,1,2020-01-22,Oficio,2020-02-01,full\nsegob,2,2020-01-23,Lista,,\n",
        )
        .await;
        assert_eq!((s, n["imported"].as_i64()), (200, Some(2)), "{n}");
        assert_eq!(csv(&app, &lawyer, "authority,folio,filed_on,question\nsegob,2,2020-01-23,Otra\n").await.0, 409);

        // Today: a request filed 45 days ago is overdue and its appeal window open.
        let filed = vigia_app::today().checked_sub(jiff::Span::new().days(45)).expect("date");
        let recent = json!({"authority": "inm", "folio": "reciente", "filed_on": filed.to_string(), "question": "Población por estación"});
        let (_, rr) = app.api_post(&lawyer, "/api/v1/requests", &recent).await;
        let rid = rr["id"].as_i64().expect("id");
        let (_, t) = app.api_get(&lawyer, "/api/v1/requests/today").await;
        let mine: Vec<&Value> =
            t["items"].as_array().expect("items").iter().filter(|i| i["request_id"] == rid).collect();
        let states: Vec<&str> = mine.iter().filter_map(|i| i["state"].as_str()).collect();
        assert!(states.contains(&"overdue") && states.contains(&"appeal_open"), "{t}");
        let raised = vigia_app::transparency::sweep(&app.store, vigia_app::today(), 5).await.expect("sweep");
        assert!(raised >= 1);
        assert_eq!(
            vigia_app::transparency::sweep(&app.store, vigia_app::today(), 5).await.expect("sweep"),
            0,
            "told once"
        );
        let (_, alerts) = app.api_get(&lawyer, "/api/v1/alerts").await;
        assert!(
            alerts["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|a| a["kind"] == "request" && a["payload"]["request_id"] == rid),
            "{alerts}"
        );
        let (_, theirs) = app.api_get(&monitor, "/api/v1/alerts").await;
        assert!(
            !theirs["items"].as_array().expect("items").iter().any(|a| a["kind"] == "request"),
            "monitors do not track requests"
        );

        // The analysis: INM's 2020 answer declared the information inexistent.
        let (_, a) = app.api_get(&lawyer, "/api/v1/requests/analysis").await;
        let inm = a["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|g| g["authority"] == "inm" && g["year"] == 2020)
            .expect("inm 2020")
            .clone();
        assert_eq!(
            (inm["answered"].as_i64(), inm["inexistent_share"].as_f64(), inm["appealed"].as_i64()),
            (Some(1), Some(1.0), Some(1))
        );
        assert_eq!(inm["median_working_days"], 14, "21 Jan to 10 Feb 2020, 5 Feb a rest day");

        // Pages: the deadlines cite their article; an unverified one says why it has no day.
        let c = app.login("abogada@a.org").await;
        let (s, page) = get_text(&c, app.url(&format!("/requests/{id}"))).await;
        assert_eq!(s, 200);
        assert!(
            page.contains("art. 132") && page.contains("no se pudo verificar") && page.contains("2020-02-18"),
            "{page}"
        );
        assert!(
            page.contains("/clock?calendar=transparencia&#38;from=2020-01-20&#38;working_days=20"),
            "why this date: {}",
            page.split("req-deadlines").nth(1).unwrap_or("")
        );
        let csrf = csrf_of(&page);
        let r = c
            .post(app.url(&format!("/requests/{id}/events")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("kind", "appeal_resolved"),
                ("on", "2020-05-04"),
                ("outcome", "revokes"),
                ("answer_type", "full"),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 303, "redirected back to the request");
        let (_, page) = get_text(&c, app.url(&format!("/requests/{id}"))).await;
        assert!(page.contains("Recurso resuelto") && page.contains("revoca"), "{page}");
        // A file that is not an accepted type is refused, and the page says why.
        let (_, page) = get_text(&c, app.url(&format!("/requests/{id}"))).await;
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf_of(&page))
            .part("file", reqwest::multipart::Part::bytes(b"not a pdf".to_vec()).file_name("respuesta.txt"));
        let r = c.post(app.url(&format!("/requests/{id}/files"))).multipart(form).send().await.expect("upload");
        let back = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert!(back.contains("file_error"), "{back}");
        let (_, page) = get_text(&c, app.url(&back)).await;
        assert!(page.contains("req-error"), "the reason is shown: {page}");
        let (s, list) = get_text(&c, app.url("/requests")).await;
        assert_eq!(s, 200);
        assert!(list.contains("0411100010520") && list.contains("Para hoy") && list.contains("reciente"), "{list}");
        let mc = app.login("mon@a.org").await;
        assert_eq!(get_text(&mc, app.url("/requests")).await.0, 403);
        assert!(app.store.verify_audit().await.expect("verify").ok());
    }
}

/// An event or a request changed in the database behind the app's back fails the audit.
#[tokio::test]
async fn a_request_changed_behind_the_app_s_back_fails_the_audit_check() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    let body = json!({"authority": "inm", "folio": "1", "filed_on": "2020-01-20", "question": "Oficio"});
    let (_, r) = app.api_post(&lawyer, "/api/v1/requests", &body).await;
    let id = r["id"].as_i64().expect("id");
    let e = json!({"kind": "answer", "on": "2020-02-10", "answer_type": "inexistent"});
    assert_eq!(app.api_post(&lawyer, &format!("/api/v1/requests/{id}/events"), &e).await.0, 201);
    assert!(app.store.verify_audit().await.expect("verify").ok());
    let pool = sqlx::SqlitePool::connect(&app._db.url).await.expect("pool");
    sqlx::query("UPDATE transparency_events SET answer_type = 'full'").execute(&pool).await.expect("tamper");
    let report = app.store.verify_audit().await.expect("verify");
    assert!(report.problems.iter().any(|p| p.contains("transparency_event")), "{:?}", report.problems);
    sqlx::query("UPDATE transparency_requests SET filed_on = '2020-03-01'").execute(&pool).await.expect("tamper");
    let report = app.store.verify_audit().await.expect("verify");
    assert!(report.problems.iter().any(|p| p.contains("transparency_request")), "{:?}", report.problems);
}

/// The demo carries the Defensoría's requests about the January 2020 suspension: the
/// INM's "inexistent" answer appealed and linked to the suspension letter.
#[tokio::test]
async fn the_demo_s_request_to_the_inm_was_answered_inexistent_and_appealed() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    let org = app.org("defensoria-sur").await;
    let views = vigia_app::transparency::list(&app.store, org, vigia_app::today()).await.expect("list");
    assert_eq!(views.len(), 3);
    let inm = views.iter().find(|v| v.request.draft.folio == "DEMO-0411100010520").expect("the INM request");
    assert_eq!(inm.stage, vigia_domain::transparency::Stage::Appealed);
    assert_eq!(
        inm.answer().and_then(|a| a.draft.answer_type),
        Some(vigia_domain::transparency::AnswerType::Inexistent)
    );
    assert_eq!(inm.links.len(), 2, "the suspension letter and the suspension's period");
    let comar = views.iter().find(|v| v.request.draft.authority == "comar").expect("COMAR");
    assert!(comar.deadline(vigia_domain::transparency::DeadlineKind::Answer).is_some_and(|d| d.extended));
}
