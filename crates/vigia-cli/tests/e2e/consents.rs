//! Consent per purpose, enforced (issue #20 part 2), through the API and pages on both
//! backends: consents are recorded and withdrawn per purpose (and per partner), the
//! latest deciding; sharing a case with a partner is refused without the person's
//! consent to share with that partner; the partner reads the person's data while the
//! consent stands and gets 404 the moment it is withdrawn (the reads recorded in the
//! owner's history); nobody else sees any of it; a record changed behind the app's back
//! fails the audit.

use serde_json::json;
use vigia_domain::account::Role;

use crate::helpers::{csrf_of, get_text, TestApp};

async fn case(app: &TestApp, token: &str, name: &str) -> i64 {
    let (s, c) = app
        .api_post(token, "/api/v1/cases", &json!({"reference": format!("C-{}", name.len()), "full_name": name}))
        .await;
    assert_eq!(s, 201, "{c}");
    c["id"].as_i64().expect("id")
}

#[tokio::test]
async fn a_case_is_shared_only_with_the_person_s_consent_and_unshared_when_it_is_withdrawn() {
    for db in vigia_store::testing::TestDb::all().await {
        let app = TestApp::new(db).await;
        let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let (_, analyst) = app.api_user("analisis@a.org", "org-a", Role::Analyst).await;
        let (_, partner) = app.api_user("abogada@b.org", "org-b", Role::Lawyer).await;
        let (_, third) = app.api_user("abogada@c.org", "org-c", Role::Lawyer).await;
        let (b, c_org) = (app.org("org-b").await, app.org("org-c").await);
        let id = case(&app, &lawyer, "María Ejemplo Sellado").await;
        let consents = format!("/api/v1/cases/{id}/consents");
        let shares = format!("/api/v1/cases/{id}/shares");

        // No consent: no share.
        let (s, e) = app.api_post(&lawyer, &shares, &json!({"partner_org_id": b})).await;
        assert_eq!((s, e["errors"][0]["code"].as_str()), (422, Some("consent_required")), "{e}");
        // Consent to share with org-c is not consent to share with org-b.
        let give = |partner: i64, decision: &str, on: &str| json!({"purpose": "share_partner", "partner_org_id": partner, "decision": decision, "on": on, "how": "written"});
        assert_eq!(app.api_post(&lawyer, &consents, &give(c_org, "given", "2024-02-01")).await.0, 201);
        assert_eq!(app.api_post(&lawyer, &shares, &json!({"partner_org_id": b})).await.0, 422);
        let (s, e) = app
            .api_post(
                &lawyer,
                &consents,
                &json!({"purpose": "share_partner", "decision": "given", "on": "2024-02-01", "how": "oral"}),
            )
            .await;
        assert_eq!((s, e["errors"][0]["field"].as_str()), (422, Some("partner_org_id")), "{e}");
        let (s, e) = app.api_post(&lawyer, &consents, &json!({"purpose": "litigation", "decision": "given", "on": "2024-02-01", "how": "oral", "evidence_document_id": 999})).await;
        assert_eq!((s, e["errors"][0]["code"].as_str()), (422, Some("unknown_record")), "{e}");
        assert_eq!(app.api_post(&analyst, &consents, &give(b, "given", "2024-02-01")).await.0, 403);

        // Given: the share opens and the partner reads the person.
        assert_eq!(app.api_post(&lawyer, &consents, &give(b, "given", "2024-02-02")).await.0, 201);
        let (s, share) = app.api_post(&lawyer, &shares, &json!({"partner_org_id": b})).await;
        assert_eq!(s, 201, "{share}");
        let share_id = share["id"].as_i64().expect("id");
        assert_eq!(app.api_post(&lawyer, &shares, &json!({"partner_org_id": b})).await.0, 409, "one open share");
        let (_, list) = app.api_get(&partner, "/api/v1/shared-cases").await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
        let (s, seen) = app.api_get(&partner, &format!("/api/v1/shared-cases/{share_id}")).await;
        assert_eq!((s, seen["person"]["full_name"].as_str()), (200, Some("María Ejemplo Sellado")), "{seen}");
        assert!(seen["case"].get("reference").is_none(), "the owner's file number stays its own");
        // Nobody else: not a third organization, not the partner's id guessing.
        assert_eq!(app.api_get(&third, &format!("/api/v1/shared-cases/{share_id}")).await.0, 404);
        assert_eq!(app.api_get(&partner, &consents).await.0, 404, "the consents are the owner's");
        assert_eq!(app.api_post(&partner, &format!("/api/v1/case-shares/{share_id}/end"), &json!({})).await.0, 404);

        // Withdrawn: closed to the partner at once, and the share ended with it.
        assert_eq!(app.api_post(&lawyer, &consents, &give(b, "withdrawn", "2024-03-01")).await.0, 201);
        assert_eq!(app.api_get(&partner, &format!("/api/v1/shared-cases/{share_id}")).await.0, 404);
        let (_, list) = app.api_get(&partner, "/api/v1/shared-cases").await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
        let (_, mine) = app.api_get(&lawyer, &consents).await;
        let standing = mine["standing"].as_array().expect("standing");
        let for_b = standing.iter().find(|x| x["partner_org_id"] == b).expect("b");
        assert_eq!(for_b["decision"], "withdrawn", "{mine}");
        let for_c = standing.iter().find(|x| x["partner_org_id"] == c_org).expect("c");
        assert_eq!(for_c["decision"], "given");
        assert_eq!(mine["records"].as_array().map(Vec::len), Some(3), "history kept");
        assert!(mine["shares"][0]["ended_at"].is_i64(), "the withdrawal ended the share: {mine}");
        // A "given" entered later but dated before the withdrawal does not reopen anything.
        assert_eq!(app.api_post(&lawyer, &consents, &give(b, "given", "2024-02-15")).await.0, 201);
        assert_eq!(app.api_post(&lawyer, &shares, &json!({"partner_org_id": b})).await.0, 422);
        // Given again, after the withdrawal: sharing needs a new decision to share.
        assert_eq!(app.api_post(&lawyer, &consents, &give(b, "given", "2024-04-01")).await.0, 201);
        assert_eq!(
            app.api_get(&partner, &format!("/api/v1/shared-cases/{share_id}")).await.0,
            404,
            "not silently reopened"
        );
        let (s, again) = app.api_post(&lawyer, &shares, &json!({"partner_org_id": b})).await;
        assert_eq!(s, 201, "{again}");
        let again = again["id"].as_i64().expect("id");
        let (s, seen) = app.api_get(&partner, &format!("/api/v1/shared-cases/{again}")).await;
        assert_eq!(s, 200);
        assert!(seen["case"].get("lawyer_user_id").is_none() && seen["share"].get("created_by").is_none(), "{seen}");
        let (s, ended) = app.api_post(&lawyer, &format!("/api/v1/case-shares/{again}/end"), &json!({})).await;
        assert_eq!((s, ended["ended_at"].is_i64()), (200, true), "{ended}");
        assert_eq!(app.api_get(&partner, &format!("/api/v1/shared-cases/{again}")).await.0, 404);

        // ARCO: everything held about the person, as one file for them, recorded.
        let (s, doc) = {
            let r = reqwest::Client::new()
                .post(app.url(&format!("/api/v1/cases/{id}/documents?filename=acta.pdf")))
                .bearer_auth(&lawyer)
                .body(b"%PDF-1.4 acta de la persona".to_vec())
                .send()
                .await
                .expect("upload");
            (r.status().as_u16(), r.text().await.expect("text"))
        };
        assert_eq!(s, 201, "{doc}");
        assert_eq!(app.api_get(&analyst, &format!("/api/v1/cases/{id}/arco-export")).await.0, 403);
        assert_eq!(app.api_get(&partner, &format!("/api/v1/cases/{id}/arco-export")).await.0, 404);
        let (s, file) = app.api_get(&lawyer, &format!("/api/v1/cases/{id}/arco-export")).await;
        assert_eq!(s, 200);
        assert_eq!(file["person"]["full_name"], "María Ejemplo Sellado");
        assert!(file["about"]["es"].as_str().is_some_and(|t| t.contains("ARCO")) && file["about"]["en"].is_string());
        assert_eq!(file["consents"].as_array().map(Vec::len), Some(5), "{file}");
        assert!(file["shares"].as_array().is_some_and(|v| v.len() == 2));
        let b64 = file["documents"][0]["base64"].as_str().expect("document");
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).expect("base64");
        assert_eq!(bytes, b"%PDF-1.4 acta de la persona");
        let a = app.org("org-a").await;
        let history = app.store.history(vigia_domain::RecordType::CaseRead, id, Some(a)).await.expect("history");
        assert!(history.iter().any(|h| h.action == "arco_export"), "the export is recorded");

        // The partner's reads are in the owner's history.
        let a = app.org("org-a").await;
        let entries = app.store.history(vigia_domain::RecordType::CaseRead, id, Some(a)).await.expect("history");
        assert!(entries.len() >= 2, "each read recorded: {entries:?}");

        // The page: the standing decisions, and a share refused without consent.
        let c = app.login("abogada@a.org").await;
        let (s, page) = get_text(&c, app.url(&format!("/cases/{id}/consents"))).await;
        assert_eq!(s, 200);
        assert!(page.contains("Compartir con una organización aliada") && page.contains("otorgado"), "{page}");
        let other = case(&app, &lawyer, "Otra Persona").await;
        let (_, page) = get_text(&c, app.url(&format!("/cases/{other}/consents"))).await;
        let r = c
            .post(app.url(&format!("/cases/{other}/shares")))
            .form(&[("csrf", csrf_of(&page)), ("partner_org_id", b.to_string())])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 422);
        assert!(r.text().await.expect("page").contains("no ha dado su consentimiento"));
        assert!(app.store.verify_audit().await.expect("verify").ok());
    }
}

/// A consent changed in the database behind the app's back fails the audit check.
#[tokio::test]
async fn a_consent_changed_behind_the_app_s_back_fails_the_audit_check() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    let id = case(&app, &lawyer, "Persona").await;
    let body = json!({"purpose": "anonymized_publication", "decision": "withdrawn", "on": "2024-02-01", "how": "oral"});
    assert_eq!(app.api_post(&lawyer, &format!("/api/v1/cases/{id}/consents"), &body).await.0, 201);
    assert!(app.store.verify_audit().await.expect("verify").ok());
    let pool = sqlx::SqlitePool::connect(&app._db.url).await.expect("pool");
    sqlx::query("UPDATE consents SET decision = 'given'").execute(&pool).await.expect("tamper");
    let report = app.store.verify_audit().await.expect("verify");
    assert!(report.problems.iter().any(|p| p.contains("consent")), "{:?}", report.problems);
}

/// An operator who removes a withdrawal and reopens the share in the database does not
/// reopen the person's data to the partner: access is decided on the audit history.
#[tokio::test]
async fn a_withdrawal_removed_behind_the_app_s_back_does_not_reopen_a_share() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    let (_, partner) = app.api_user("abogada@b.org", "org-b", Role::Lawyer).await;
    let b = app.org("org-b").await;
    let id = case(&app, &lawyer, "Persona Protegida").await;
    let consents = format!("/api/v1/cases/{id}/consents");
    let give = |d: &str, on: &str| json!({"purpose": "share_partner", "partner_org_id": b, "decision": d, "on": on, "how": "written"});
    assert_eq!(app.api_post(&lawyer, &consents, &give("given", "2024-02-01")).await.0, 201);
    let (_, share) = app.api_post(&lawyer, &format!("/api/v1/cases/{id}/shares"), &json!({"partner_org_id": b})).await;
    let share = share["id"].as_i64().expect("id");
    assert_eq!(app.api_get(&partner, &format!("/api/v1/shared-cases/{share}")).await.0, 200);
    assert_eq!(app.api_post(&lawyer, &consents, &give("withdrawn", "2024-03-01")).await.0, 201);
    assert_eq!(app.api_get(&partner, &format!("/api/v1/shared-cases/{share}")).await.0, 404);
    let pool = sqlx::SqlitePool::connect(&app._db.url).await.expect("pool");
    sqlx::query("DELETE FROM consents WHERE decision = 'withdrawn'").execute(&pool).await.expect("tamper");
    sqlx::query("UPDATE case_shares SET ended_at = NULL, ended_by = NULL").execute(&pool).await.expect("tamper");
    assert_eq!(app.api_get(&partner, &format!("/api/v1/shared-cases/{share}")).await.0, 404);
    let (_, list) = app.api_get(&partner, "/api/v1/shared-cases").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
}

/// Contact after release, enforced: once the person is released, their contact details
/// are withheld from the organization's pages and API (and from a partner) unless their
/// consent to be contacted stands; a correction that leaves them out keeps them; the
/// consent given shows them again, withdrawn hides them again. The ARCO file, for the
/// person, keeps everything.
#[tokio::test]
async fn contact_details_are_withheld_after_release_without_consent_to_contact() {
    for db in vigia_store::testing::TestDb::all().await {
        let app = TestApp::new(db).await;
        let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let phone = "+52 961 555 0101";
        let body = json!({"reference": "C-CONT", "full_name": "Ana Contacto", "contact": phone});
        let (s, c) = app.api_post(&lawyer, "/api/v1/cases", &body).await;
        assert_eq!(s, 201, "{c}");
        let id = c["id"].as_i64().expect("id");
        let sealed = format!("/api/v1/cases/{id}/sealed");
        let (_, v) = app.api_get(&lawyer, &sealed).await;
        assert_eq!((v["person"]["contact"].as_str(), v["contact_withheld"].as_bool()), (Some(phone), Some(false)));
        let (s, _) = app
            .api_post(&lawyer, &format!("/api/v1/cases/{id}/events"), &json!({"kind": "released", "on": "2024-03-01"}))
            .await;
        assert_eq!(s, 201);
        let (_, v) = app.api_get(&lawyer, &sealed).await;
        assert_eq!((v["person"]["contact"].as_str(), v["contact_withheld"].as_bool()), (None, Some(true)), "{v}");
        let c = app.login("abogada@a.org").await;
        let (_, page) = get_text(&c, app.url(&format!("/cases/{id}?reveal=1"))).await;
        assert!(page.contains("id=\"contact-withheld\"") && !page.contains(phone), "{page}");
        // A correction without the contact keeps it.
        let r = reqwest::Client::new()
            .put(app.url(&format!("/api/v1/cases/{id}")))
            .bearer_auth(&lawyer)
            .json(&json!({"reference": "C-CONT", "full_name": "Ana Contacto Corregida"}))
            .send()
            .await
            .expect("put");
        assert_eq!(r.status(), 200);
        let consents = format!("/api/v1/cases/{id}/consents");
        let contact =
            |d: &str, on: &str| json!({"purpose": "contact_after_release", "decision": d, "on": on, "how": "oral"});
        assert_eq!(app.api_post(&lawyer, &consents, &contact("given", "2024-03-02")).await.0, 201);
        let (_, v) = app.api_get(&lawyer, &sealed).await;
        assert_eq!(v["person"]["contact"].as_str(), Some(phone), "kept through the correction: {v}");
        assert_eq!(v["person"]["full_name"], "Ana Contacto Corregida");
        assert_eq!(app.api_post(&lawyer, &consents, &contact("withdrawn", "2024-04-01")).await.0, 201);
        let (_, v) = app.api_get(&lawyer, &sealed).await;
        assert_eq!(v["person"]["contact"].as_str(), None);
        let (_, file) = app.api_get(&lawyer, &format!("/api/v1/cases/{id}/arco-export")).await;
        assert_eq!(file["person"]["contact"].as_str(), Some(phone), "the person's own file keeps everything");
    }
}
