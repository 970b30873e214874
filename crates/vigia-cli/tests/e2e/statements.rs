//! Official statements through the API and the pages: claims, search in both languages,
//! the detections with their evidence, and reviews.

use serde_json::{json, Value};
use vigia_domain::account::Role;
use vigia_domain::RecordType;

use crate::helpers::{csrf_of, get_text, TestApp};

/// The first detection the token's organization sees that `pick` chooses.
async fn detection(app: &TestApp, token: &str, pick: impl Fn(&Value) -> bool) -> Option<Value> {
    let v = app.get_json(token, "/api/v1/contradictions").await;
    v["items"].as_array().expect("items").iter().find(|d| pick(d)).cloned()
}

#[tokio::test]
async fn the_episode_is_flagged_as_a_conflict_and_words_against_practice() {
    for app in TestApp::all().await {
        let (_, analyst) = app.api_user("analista@a.org", "org-a", Role::Analyst).await;
        let (_, monitor) = app.api_user("monitor@a.org", "org-a", Role::Monitor).await;
        let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let f = app.facility("Estación Migratoria Siglo XXI").await;
        let http = reqwest::Client::new();
        // A team turned away the day after the ministry said access was open.
        let (s, attempt) = app.post_attempt(&monitor,
            &json!({"facility_id": f, "attempted_at": "2020-01-28T10:00", "purpose": "monitoring", "outcome": "denied"})).await;
        assert_eq!(s, 201);
        let mut ids = Vec::new();
        for (authority, at, position, text) in [
            (
                "inm",
                "2020-01-27T19:30",
                "suspended",
                "Se suspende hasta nuevo aviso el ingreso de organizaciones a las estaciones.",
            ),
            (
                "segob",
                "2020-01-27T23:10",
                "denies_suspension",
                "La Secretaría no reconoce la suspensión: las visitas continúan.",
            ),
        ] {
            let (s, st) = app
                .post_statement(
                    &analyst,
                    &json!({"authority": authority, "published_at": at, "channel": "press_release", "text": text}),
                )
                .await;
            assert_eq!(s, 201, "{st}");
            let (s, st) = app
                .post_claim(
                    &analyst,
                    &st["id"],
                    &json!({"topic": "ngo_access", "position": position, "from": "2020-01-27"}),
                )
                .await;
            assert_eq!(s, 201, "{st}");
            ids.push(st["claims"][0]["id"].as_i64().expect("claim id"));
        }
        // Lawyers read statements but do not record them; a bad claim names its field.
        let (s, _) = app
            .post_statement(
                &lawyer,
                &json!({"authority": "inm", "published_at": "2020-01-27T19:30", "channel": "press_release", "text": "x"}),
            )
            .await;
        assert_eq!(s, 403);
        let (s, v) = app
            .api_post(
                &analyst,
                "/api/v1/statements/1/claims",
                &json!({"topic": "ngo_access", "position": "affirms", "from": "2020-01-27"}),
            )
            .await;
        assert_eq!((s, v["errors"][0]["field"].as_str()), (422, Some("position")));

        let list = app.get_json(&analyst, "/api/v1/contradictions").await;
        let items = list["items"].as_array().expect("items");
        let conflict = items.iter().find(|d| d["rule"] == "conflict").expect("conflict");
        assert_eq!(conflict["gap"], "3 h 40 min");
        assert_eq!(conflict["claims"], json!(ids));
        let words = items.iter().find(|d| d["rule"] == "words_against_practice").expect("words against practice");
        assert_eq!(words["attempts"], json!([attempt["id"]]));
        assert_eq!((words["refusals"].as_i64(), words["refusal_days"].as_i64()), (Some(1), Some(1)));
        // Finding 19: the rule reads daily counts, and they follow visibility: another
        // organization's private refusal that day is not counted nor cited for org-a,
        // and org-b sees its own.
        let (_, b_monitor) = app.api_user("monitor@b.org", "org-b", Role::Monitor).await;
        let (s, b_attempt) = app.post_attempt(&b_monitor,
            &json!({"facility_id": f, "attempted_at": "2020-01-28T12:00", "purpose": "legal_assistance", "outcome": "denied", "visibility": "private"})).await;
        assert_eq!(s, 201, "{b_attempt}");
        let words_for = |token: String| {
            let app = &app;
            async move { detection(app, &token, |d| d["rule"] == "words_against_practice").await }
        };
        let a_words = words_for(analyst.clone()).await.expect("org-a's words against practice");
        assert_eq!((a_words["refusals"].as_i64(), a_words["attempts"].clone()), (Some(1), json!([attempt["id"]])));
        let b_words = words_for(b_monitor.clone()).await.expect("org-b's");
        assert_eq!((b_words["refusals"].as_i64(), b_words["attempts"].clone()), (Some(1), json!([b_attempt["id"]])));
        // A refusal recorded after the counts were read is counted at the next read.
        let (s, later) = app.post_attempt(&monitor,
            &json!({"facility_id": f, "attempted_at": "2020-01-29T09:00", "purpose": "monitoring", "outcome": "no_response"})).await;
        assert_eq!(s, 201, "{later}");
        let a_words = words_for(analyst.clone()).await.expect("org-a's words against practice");
        assert_eq!((a_words["refusals"].as_i64(), a_words["refusal_days"].as_i64()), (Some(2), Some(2)));
        assert_eq!(a_words["attempts"], json!([attempt["id"], later["id"]]), "earliest first");

        // Search ignores accents and case, and finds stems, in Spanish and English.
        for (q, n) in [("suspensión", 2), ("SUSPENDE", 2), ("visita", 1), ("deportación", 0)] {
            let v: Value = http
                .get(app.url("/api/v1/statements"))
                .query(&[("q", q)])
                .bearer_auth(&lawyer)
                .send()
                .await
                .expect("get")
                .json()
                .await
                .expect("json");
            assert_eq!(v["items"].as_array().expect("items").len(), n, "{q}");
        }

        // An analyst confirms the conflict with a reason; the verdict is audited.
        let key = conflict["key"].as_str().expect("key");
        let (s, _) = app.post_review(&monitor, &json!({"key": key, "status": "confirmed", "reason": "x"})).await;
        assert_eq!(s, 403, "monitors record, analysts judge");
        let (s, _) = app.post_review(&analyst, &json!({"key": key, "status": "confirmed"})).await;
        assert_eq!(s, 422, "a verdict needs its reason");
        let (s, r) = app
            .post_review(
                &analyst,
                &json!({"key": key, "status": "confirmed", "reason": "Oficio y comunicado verificados en sus fuentes"}),
            )
            .await;
        assert_eq!((s, r["status"].as_str()), (200, Some("confirmed")));
        let org = app.org("org-a").await;
        let entries = app.store.audit_entries(Some(org), None, 50).await.expect("audit");
        assert!(entries
            .iter()
            .any(|e| e.record_type == RecordType::DetectionReview.as_str() && e.action == "confirmed"));
        assert!(app.store.verify_audit().await.expect("verify").ok());

        // Security review finding 12: another organization's analyst dismisses the same
        // detection. Before, that replaced org-a's verdict and reason for everyone; now
        // each organization keeps its own, and sees the other's verdict attributed, not
        // its reason.
        let (_, other) = app.api_user("analista@b.org", "org-b", Role::Analyst).await;
        let (s, _) =
            app.post_review(&other, &json!({"key": key, "status": "dismissed", "reason": "Nota interna de B"})).await;
        assert_eq!(s, 200);
        let listed = |token: String| {
            let app = &app;
            async move { detection(app, &token, |d| d["key"] == key).await.expect("detection") }
        };
        let mine = listed(analyst.clone()).await;
        assert_eq!(mine["review"]["status"], "confirmed", "org-a's verdict stands: {mine}");
        assert_eq!(mine["review"]["reason"], "Oficio y comunicado verificados en sus fuentes");
        assert_eq!(
            mine["other_reviews"],
            json!([{"organization": "Org org-b", "status": "dismissed", "at": mine["other_reviews"][0]["at"]}])
        );
        assert!(!mine.to_string().contains("Nota interna de B"), "another organization's reason stays its own");
        let theirs = listed(other.clone()).await;
        assert_eq!(
            (theirs["review"]["status"].as_str(), theirs["review"]["reason"].as_str()),
            (Some("dismissed"), Some("Nota interna de B"))
        );
        assert_eq!(theirs["other_reviews"][0]["status"], "confirmed");
        assert!(!theirs.to_string().contains("Oficio y comunicado"));
        // A review of words against practice would tell that its organization saw
        // refusals there: only coalition partners are shown it.
        let wap = b_words["key"].as_str().expect("key").to_string();
        let (s, _) =
            app.post_review(&other, &json!({"key": wap, "status": "confirmed", "reason": "Vimos rechazos"})).await;
        assert_eq!(s, 200);
        let seen = words_for(analyst.clone()).await.expect("org-a's words against practice");
        assert_eq!(seen["other_reviews"], json!([]), "org-b is not org-a's partner: {seen}");
        app.coalition("red", &["org-a", "org-b"]).await;
        let seen = words_for(analyst.clone()).await.expect("org-a's words against practice");
        assert_eq!(seen["other_reviews"][0]["status"], "confirmed", "partners see each other's verdicts");
        // org-a changes its mind: its own review is replaced (the history keeps both),
        // org-b's is untouched, and verify reads each under its own record.
        let (s, _) =
            app.post_review(&analyst, &json!({"key": key, "status": "dismissed", "reason": "Segunda lectura"})).await;
        assert_eq!(s, 200);
        assert_eq!(listed(other.clone()).await["review"]["reason"], "Nota interna de B");
        assert_eq!(listed(analyst.clone()).await["review"]["reason"], "Segunda lectura");
        assert!(app.store.verify_audit().await.expect("verify").ok());
        // Removing org-b's review behind the app's back is seen.
        // Finding 11: reasons are sealed, in the rows and in the audit history.
        for sql in [
            "SELECT COUNT(*) FROM detection_reviews WHERE reason LIKE '%Nota interna%' OR reason LIKE '%Segunda%'",
            "SELECT COUNT(*) FROM audit_log WHERE content LIKE '%Nota interna%' OR content LIKE '%Segunda lectura%'",
        ] {
            assert_eq!(crate::hardening::behind_the_back(&app._db, sql).await, Some(0), "{sql}");
        }
        let sql = "DELETE FROM detection_reviews WHERE org_id = (SELECT id FROM organizations WHERE slug = 'org-b')";
        crate::hardening::behind_the_back(&app._db, sql).await;
        assert!(!app.store.verify_audit().await.expect("verify").ok(), "a deleted review is missed");
    }
}

#[tokio::test]
async fn statements_are_recorded_and_reviewed_through_the_pages() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("analista@a.org", "org-a", Role::Analyst).await;
    let (c, csrf) = app.login_with_csrf("analista@a.org", "/statements/new").await;
    let r = c
        .post(app.url("/statements"))
        .form(&[("csrf", csrf.as_str()), ("authority", "inm"), ("channel", "official_letter"), ("text", "")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let page = r.text().await.expect("text");
    assert!(page.contains("id=\"e-published_at\"") && page.contains("id=\"e-text\""));
    let r = c
        .post(app.url("/statements"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("authority", "inm"),
            ("channel", "official_letter"),
            ("published_at", "2020-01-27T19:30"),
            ("language", "es"),
            ("text", "Se suspende el ingreso de organizaciones <b>hasta nuevo aviso</b>."),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let path = r.headers()["location"].to_str().expect("loc").split('?').next().expect("path").to_string();
    let (_, page) = get_text(&c, app.url(&path)).await;
    assert!(page.contains("&#60;b&#62;hasta nuevo aviso"), "escaped");
    let csrf = csrf_of(&page);
    let r = c
        .post(app.url(&format!("{path}/claims")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("topic", "ngo_access"),
            ("position", "suspended"),
            ("scope", "state"),
            ("state_code", "07"),
            ("from", "2020-01-27"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let (_, page) = get_text(&c, app.url(&path)).await;
    assert!(page.contains("Suspendido") && page.contains("Chiapas"));
    let (s, page) = get_text(&c, app.url("/contradictions")).await;
    assert_eq!(s, 200);
    assert!(page.contains("No se detectan contradicciones."));
    // The timeline, and its downloads.
    let (s, page) = get_text(&c, app.url("/statements/timeline")).await;
    assert_eq!(s, 200);
    assert_eq!(page.matches("class=\"statement\"").count(), 1);
    let r = c.get(app.url("/statements/timeline?format=svg")).send().await.expect("svg");
    assert_eq!(r.headers()["content-type"], "image/svg+xml; charset=utf-8");
    let svg = r.text().await.expect("text");
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("INM"));
    let r = c.get(app.url("/statements/timeline?format=csv")).send().await.expect("csv");
    let csv = r.text().await.expect("text");
    assert!(csv.starts_with("statement_id,authority") && csv.contains("2020-01-28T01:30:00Z"), "{csv}");
    let (s, _) = get_text(&c, app.url("/statements/timeline?from=2020-02-01&until=2020-01-01")).await;
    assert_eq!(s, 422, "a window that ends before it starts is refused");
}

#[tokio::test]
async fn statements_import_all_or_nothing_and_corrections_are_versions() {
    for app in TestApp::all().await {
        let (_, analyst) = app.api_user("analista@a.org", "org-a", Role::Analyst).await;
        let http = reqwest::Client::new();
        let url = app.url("/api/v1/statements/import");
        let bad = "authority,published_at,channel,text,topic,position,from\n\
                   inm,2020-01-27 19:30,official_letter,Se suspende,ngo_access,suspended,2020-01-27\n\
                   segob,ayer,social_media,No se reconoce,,,\n";
        let r = http
            .post(&url)
            .bearer_auth(&analyst)
            .header("content-type", "text/csv")
            .body(bad)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 422);
        let v: Value = r.json().await.expect("json");
        assert_eq!(
            (v["errors"][0]["line"].as_i64(), v["errors"][0]["field"].as_str()),
            (Some(3), Some("published_at"))
        );
        assert_eq!(app.store.statements().await.expect("list").len(), 0, "nothing imported");
        let json = json!([
            {"authority": "inm", "published_at": "2020-01-27T19:30", "channel": "official_letter", "text": "Se suspende el ingreso.",
             "claims": [{"topic": "ngo_access", "position": "suspended", "from": "2020-01-27"}]},
            {"authority": "segob", "published_at": "2020-01-27T23:10", "channel": "social_media", "text": "No se reconoce el oficio.",
             "claims": [{"topic": "ngo_access", "position": "denies_suspension", "from": "2020-01-27"}]}
        ]);
        let r = http.post(&url).bearer_auth(&analyst).json(&json).send().await.expect("post");
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["imported"], 2);
        let list = app.get_json(&analyst, "/api/v1/contradictions").await;
        assert!(
            list["items"].as_array().expect("items").iter().any(|d| d["rule"] == "conflict"),
            "imported claims are checked"
        );

        // A correction is a new version; a stale version is refused.
        let id = v["ids"][0].as_i64().expect("id");
        let one = app.url(&format!("/api/v1/statements/{id}"));
        let fixed = json!({"authority": "inm", "published_at": "2020-01-27T19:45", "channel": "official_letter", "text": "Se suspende el ingreso (texto completo)."});
        let r =
            http.put(&one).bearer_auth(&analyst).header("if-match", "\"1\"").json(&fixed).send().await.expect("put");
        assert_eq!(r.status(), 200);
        let s: Value = r.json().await.expect("json");
        assert_eq!((s["version"].as_i64(), s["claims"].as_array().map(Vec::len)), (Some(2), Some(1)), "claims stay");
        let r =
            http.put(&one).bearer_auth(&analyst).header("if-match", "\"1\"").json(&fixed).send().await.expect("put");
        assert_eq!(r.status(), 409);
        // Evidence of a statement is content-addressed and readable by every organization.
        let (_, lawyer) = app.api_user("abogada@b.org", "org-b", Role::Lawyer).await;
        let png = b"\x89PNG\r\n\x1a\n captura del comunicado".to_vec();
        let r = http
            .post(app.url(&format!("/api/v1/statements/{id}/files?filename=captura.png")))
            .bearer_auth(&analyst)
            .body(png.clone())
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 201);
        let f: Value = r.json().await.expect("json");
        assert_eq!(f["sha256"], vigia_domain::audit::sha256_hex(&png));
        let r = http
            .get(app.url(&format!("/api/v1/files/{}", f["id"])))
            .bearer_auth(&lawyer)
            .send()
            .await
            .expect("download");
        assert_eq!(r.bytes().await.expect("bytes").to_vec(), png, "another organization reads public evidence");
        let r = http
            .post(app.url(&format!("/api/v1/statements/{id}/files")))
            .bearer_auth(&lawyer)
            .body(png.clone())
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 403, "lawyers do not record statements");
        let history = app.store.history(RecordType::Statement, id, None).await.expect("history");
        assert_eq!(history.len(), 2, "both versions kept");
        assert!(app.store.verify_audit().await.expect("verify").ok());

        // 150 more: the list says how many, pages to the end, and the CSV has every one.
        let many: Vec<Value> = (0..150)
            .map(|i| {
                json!({"authority": "inm", "published_at": format!("2021-03-{:02}T{:02}:00", 1 + i / 24, i % 24),
                             "channel": "press_release", "text": format!("Boletín número {i}")})
            })
            .collect();
        let r = http.post(&url).bearer_auth(&analyst).json(&many).send().await.expect("post");
        assert_eq!(r.status(), 201);
        app.user("analista3@a.org", "org-a", Role::Analyst).await;
        let c = app.login("analista3@a.org").await;
        let (_, page) = get_text(&c, app.url("/statements")).await;
        assert!(page.contains("Mostrando 1–100 de 152 declaraciones"), "counted");
        let next = page.split("id=\"next-page\"").next().and_then(|p| p.rsplit("href=\"").next()).expect("next");
        let next = next.split('"').next().expect("href").replace("&amp;", "&");
        let (_, page) = get_text(&c, app.url(&next)).await;
        assert!(page.contains("Mostrando 101–152 de 152 declaraciones") && !page.contains("id=\"next-page\""));
        let csv = c.get(app.url("/statements.csv")).send().await.expect("csv").text().await.expect("text");
        let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
        assert_eq!(reader.records().count(), 152);
        let csv = c.get(app.url("/statements.csv?q=reconoce")).send().await.expect("csv").text().await.expect("text");
        let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
        assert_eq!(reader.records().count(), 1, "the search's rows only");
    }
}
