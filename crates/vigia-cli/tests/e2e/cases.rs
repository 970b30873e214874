//! Legal-aid cases through the API and the pages: deadlines from events, sealed data
//! that only the owning organization's lawyers open (and every opening recorded),
//! pseudonyms for analysts, and counts protected outside the organization.

use serde_json::{json, Value};
use vigia_domain::account::Role;
use vigia_domain::RecordType;

use crate::helpers::{csrf_of, get_text, TestApp};

const NAME: &str = "Dilcia Yamileth Cruz Orellana";

pub(crate) fn person(reference: &str) -> Value {
    json!({"reference": reference, "full_name": NAME, "birth_date": "2005-03-09", "identity_documents": "DNI 0801-2005-77777",
           "nationality": "HN", "sex": "female", "age_group": "adolescent_12_17", "languages": ["es"],
           "vulnerabilities": ["unaccompanied"]})
}

fn deadline<'a>(case: &'a Value, rule: &str) -> &'a Value {
    case["assessment"]["deadlines"].as_array().expect("deadlines").iter().find(|d| d["rule"] == rule).expect("rule")
}

#[tokio::test]
async fn deadlines_and_violations_follow_the_events_whatever_order_they_arrive_in() {
    for app in TestApp::all().await {
        let (lawyer, token) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let f = app.facility("Siglo XXI").await;
        let mut body = person("FM-2020-001");
        body["facility_id"] = json!(f);
        body["lawyer_user_id"] = json!(lawyer.id);
        let (status, case) = app.post_case(&token, &body).await;
        assert_eq!(status, 201, "{case}");
        assert_eq!(case["minor"], true, "an adolescent is a minor");
        assert_eq!(case["reference"], "FM-2020-001");
        assert!(case.get("full_name").is_none(), "sealed fields are not in the plain record");
        let id = case["id"].as_i64().expect("id");
        let events = format!("/api/v1/cases/{id}/events");
        // Recorded out of order: the asylum request first, then the detention, then entry.
        for e in [
            json!({"kind": "asylum_requested", "on": "2020-01-08", "note": "Pidió asilo ante el agente; lo ignoraron"}),
            json!({"kind": "detained", "on": "2020-01-06", "time": "22:15", "facility_id": f}),
            json!({"kind": "entered_mexico", "on": "2020-01-02"}),
        ] {
            let (s, v) = app.api_post(&token, &events, &e).await;
            assert_eq!(s, 201, "{v}");
        }
        let (_, c) = app.api_get(&token, &format!("/api/v1/cases/{id}")).await;
        // 15 INM working days after Monday 6 January 2020 end on Monday 27 January.
        let max = deadline(&c, "detention_max");
        assert_eq!((max["due"].as_str(), max["status"].as_str()), (Some("2020-01-27"), Some("overdue")));
        assert_eq!(max["calendar"], "inm");
        assert_eq!(c["assessment"]["held_past_limit"], true);
        let kinds: Vec<&str> =
            c["assessment"]["violations"].as_array().expect("v").iter().filter_map(|v| v["kind"].as_str()).collect();
        assert!(kinds.contains(&"child_detained") && kinds.contains(&"held_past_limit"), "{kinds:?}");
        let child = c["assessment"]["violations"]
            .as_array()
            .expect("v")
            .iter()
            .find(|v| v["kind"] == "child_detained")
            .expect("child");
        assert!(
            child["basis"].as_str().expect("basis").contains("LGDNNA"),
            "before 2021 the basis is the LGDNNA regulation"
        );
        assert_eq!(deadline(&c, "asylum_filing")["status"], "met");
        assert_eq!(deadline(&c, "detention_36h")["due"], "2020-01-08");

        // Today: the overdue detention is listed for the assigned lawyer.
        let (_, t) = app.api_get(&token, "/api/v1/today").await;
        assert_eq!(t["scope"], "mine");
        let overdue: Vec<&str> =
            t["overdue"].as_array().expect("o").iter().filter_map(|i| i["rule"].as_str()).collect();
        assert!(overdue.contains(&"detention_max"), "{t}");
        assert_eq!(t["held_past_limit"][0]["case_id"], id);
        assert_eq!(t["children_detained"][0]["case_id"], id);
        // The pages say it in words: overdue by so many working days, never "-n left".
        let page = app.login("abogada@a.org").await;
        let (_, shown) = crate::helpers::get_text(&page, app.url(&format!("/cases/{id}"))).await;
        assert!(shown.contains("vencido hace ") && !shown.contains("quedan -"), "case page");
        let (_, list) = crate::helpers::get_text(&page, app.url("/cases")).await;
        assert!(list.contains("Límite de detención: vencido hace "), "the list flags it, in words");
        assert!(!list.contains("quedan -"), "list");

        // A release ends the detention: the limit was missed, nothing is ongoing.
        let (s, rel) = app.api_post(&token, &events, &json!({"kind": "released", "on": "2020-02-10"})).await;
        assert_eq!(s, 201);
        let (_, c) = app.api_get(&token, &format!("/api/v1/cases/{id}")).await;
        assert_eq!(deadline(&c, "detention_max")["status"], "missed");
        assert_eq!(c["assessment"]["held_past_limit"], false);
        let (_, t) = app.api_get(&token, "/api/v1/today").await;
        assert!(t["held_past_limit"].as_array().expect("a").is_empty());
        assert!(t["overdue"].as_array().expect("o").iter().all(|i| i["rule"] != "detention_max"));

        // Voiding the release brings the overdue detention back; the event stays listed.
        let (s, v) = app
            .api_post(
                &token,
                &format!("/api/v1/cases/{id}/void"),
                &json!({"event_id": rel["id"], "reason": "Fecha equivocada"}),
            )
            .await;
        assert_eq!((s, v["voided"].as_bool()), (200, Some(true)));
        let (_, c) = app.api_get(&token, &format!("/api/v1/cases/{id}")).await;
        assert_eq!(deadline(&c, "detention_max")["status"], "overdue");
        assert_eq!(c["events"].as_array().expect("events").len(), 4);

        // Bad events name the field and the reason.
        let (s, v) = app.api_post(&token, &events, &json!({"kind": "detention_extended", "on": "2099-01-01"})).await;
        assert_eq!(s, 422);
        let fields: Vec<&str> =
            v["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
        assert!(fields.contains(&"on") && fields.contains(&"ground"), "{v}");
        assert!(app.store.verify_audit().await.expect("verify").ok());
    }
}

#[tokio::test]
async fn sealed_data_is_for_the_owning_lawyers_and_every_read_is_recorded() {
    for app in TestApp::all().await {
        let (lawyer, lawyer_token) = app.api_user("abogado@a.org", "org-a", Role::Lawyer).await;
        let (_, analyst_token) = app.api_user("analista@a.org", "org-a", Role::Analyst).await;
        let (_, monitor_token) = app.api_user("monitora@a.org", "org-a", Role::Monitor).await;
        let (_, other_token) = app.api_user("abogado@b.org", "org-b", Role::Lawyer).await;
        app.user("analista2@a.org", "org-a", Role::Analyst).await;
        app.user("abogado2@a.org", "org-a", Role::Lawyer).await;
        let http = reqwest::Client::new();
        let (_, case) = app.post_case(&lawyer_token, &person("FM-7")).await;
        let id = case["id"].as_i64().expect("id");
        let one = format!("/api/v1/cases/{id}");
        let sealed = format!("/api/v1/cases/{id}/sealed");

        // The analyst sees the plain record under a pseudonym: no reference, no name.
        let (s, v) = app.api_get(&analyst_token, &one).await;
        assert_eq!(s, 200);
        assert!(v.get("reference").is_none() && v["pseudonym"].as_str().expect("p").starts_with("P-"));
        assert!(!v.to_string().contains("Dilcia"));
        assert_eq!(app.api_get(&analyst_token, &sealed).await.0, 403);
        let (_, list) = app.api_get(&analyst_token, "/api/v1/cases").await;
        assert!(!list.to_string().contains("FM-7"), "analysts do not get references in lists either");
        // Nor in the list's page or its CSV: the pseudonym, never the reference or the name.
        let c = app.login("analista2@a.org").await;
        let (_, page) = crate::helpers::get_text(&c, app.url("/cases")).await;
        assert!(page.contains("id=\"list-count\">Un caso<") && page.contains("href=\"/cases.csv\""), "counted");
        let csv = c.get(app.url("/cases.csv")).send().await.expect("csv").text().await.expect("text");
        assert_eq!(csv.lines().count(), 2, "{csv}");
        assert!(csv.contains("P-") && !csv.contains("FM-7") && !csv.contains("Dilcia"), "{csv}");
        // Monitors do not see cases; another organization cannot even find it.
        assert_eq!(app.api_get(&monitor_token, &one).await.0, 403);
        assert_eq!(app.api_get(&other_token, &one).await.0, 404);
        assert_eq!(app.api_get(&other_token, &sealed).await.0, 404);
        let r = http.put(app.url(&one)).bearer_auth(&other_token).json(&person("FM-7")).send().await.expect("put");
        assert_eq!(r.status(), 404);
        // A forced organization in the body is refused, not obeyed.
        let mut forced = person("FM-8");
        forced["organization_id"] = json!(app.org("org-b").await);
        let (s, v) = app.post_case(&lawyer_token, &forced).await;
        assert_eq!(s, 422);
        assert_eq!(v["errors"][0]["field"], "organization_id");

        // The lawyer opens the sealed fields; the read is in the audit history.
        let org_a = app.org("org-a").await;
        let before = app.store.history(RecordType::CaseRead, id, Some(org_a)).await.expect("h").len();
        let (s, v) = app.api_get(&lawyer_token, &sealed).await;
        assert_eq!((s, v["person"]["full_name"].as_str()), (200, Some(NAME)));
        let reads = app.store.history(RecordType::CaseRead, id, Some(org_a)).await.expect("h");
        assert_eq!(reads.len(), before + 1);
        assert_eq!(reads.last().expect("read").actor_user_id, Some(lawyer.id));

        // The same through the pages: the analyst's page never shows the name, even when asked.
        let analyst = app.login("analista2@a.org").await;
        let (s, page) = get_text(&analyst, app.url(&format!("/cases/{id}?reveal=1"))).await;
        assert_eq!(s, 200);
        assert!(!page.contains("Dilcia") && !page.contains("FM-7"), "analyst page leaks sealed data");
        assert_eq!(get_text(&analyst, app.url(&format!("/cases/{id}/edit"))).await.0, 403);
        let lawyer2 = app.login("abogado2@a.org").await;
        let (_, page) = get_text(&lawyer2, app.url(&format!("/cases/{id}"))).await;
        assert!(!page.contains("Dilcia"), "sealed until asked");
        let (_, page) = get_text(&lawyer2, app.url(&format!("/cases/{id}?reveal=1"))).await;
        assert!(page.contains(NAME) && page.contains("DNI 0801-2005-77777"));
        assert_eq!(app.store.history(RecordType::CaseRead, id, Some(org_a)).await.expect("h").len(), before + 2);
        let (_, history) = get_text(&lawyer2, app.url(&format!("/cases/{id}/history"))).await;
        assert!(history.contains("lectura de datos sellados"), "the case history lists the reads");
    }
}

#[tokio::test]
async fn the_case_form_and_event_form_work_without_javascript() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("coord@a.org", "org-a", Role::Coordinator).await;
    let (c, csrf) = app.login_with_csrf("coord@a.org", "/cases/new").await;
    // Errors come back next to their fields, in Spanish.
    let r = c
        .post(app.url("/cases"))
        .form(&[("csrf", csrf.as_str()), ("reference", ""), ("full_name", "Ana"), ("nationality", "Honduras")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let page = r.text().await.expect("text");
    assert!(page.contains("id=\"e-reference\"") && page.contains("id=\"e-nationality\""));
    let r = c
        .post(app.url("/cases"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reference", "FM-<b>9</b>"),
            ("full_name", "Ana <script>alert(1)</script>"),
            ("age_group", "child_0_11"),
            ("vulnerabilities", "disability"),
            ("vulnerabilities", "indigenous"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().expect("loc").to_string();
    let case_path = location.split('?').next().expect("path").to_string();
    let (_, page) = get_text(&c, app.url(&format!("{case_path}?reveal=1"))).await;
    assert!(
        page.contains("FM-&#60;b&#62;9&#60;/b&#62;") && !page.contains("<script>alert(1)"),
        "escaped: {}",
        &page[page.find("<h1").unwrap_or(0)..][..300]
    );
    assert!(page.contains("Discapacidad") && page.contains("Indígena"));
    // An event with a missing ground is refused next to the field; a valid one lands.
    let csrf = csrf_of(&page);
    let r = c
        .post(app.url(&format!("{case_path}/events")))
        .form(&[("csrf", csrf.as_str()), ("kind", "detention_extended"), ("on", "2020-01-10")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("t").contains("id=\"e-ground\""));
    let r = c
        .post(app.url(&format!("{case_path}/events")))
        .form(&[("csrf", csrf.as_str()), ("kind", "detained"), ("on", "2020-01-10")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let (_, page) = get_text(&c, app.url(&case_path)).await;
    assert!(page.contains("Niña, niño o adolescente detenido"), "the violation is flagged at once");
    assert!(page.contains("Ley de Migración art. 111"));
}

#[tokio::test]
async fn counts_outside_the_organization_hide_small_numbers() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, a) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    let (_, b) = app.api_user("analista@b.org", "org-b", Role::Analyst).await;
    app.coalition("red", &["org-a", "org-b"]).await;
    let f = app.facility("Tapachula").await;
    let http = reqwest::Client::new();
    for i in 0..3 {
        let mut body = person(&format!("FM-{i}"));
        body["facility_id"] = json!(f);
        let (_, c) = app.post_case(&a, &body).await;
        let events = format!("/api/v1/cases/{}/events", c["id"]);
        let (s, _) =
            app.api_post(&a, &events, &json!({"kind": "detained", "on": "2020-06-01", "facility_id": f})).await;
        assert_eq!(s, 201);
    }
    let q = "from=2020-01-01&until=2020-12-31";
    let (_, own) = app.api_get(&a, &format!("/api/v1/case-report?{q}")).await;
    let row = &own["by_facility"]["rows"][0];
    assert_eq!((row["label"].as_str(), row["counts"]["children_detained"].as_i64()), (Some("Tapachula"), Some(3)));
    let (_, shared) = app.api_get(&b, "/api/v1/case-report?scope=coalition&year=2020").await;
    let row = &shared["by_facility"]["rows"][0];
    assert!(row["counts"]["children_detained"].is_null(), "3 is suppressed outside the organization: {shared}");
    assert!(shared["by_facility"]["total"].is_null());
    assert!(shared["by_facility"]["totals"]["children_detained"].is_null());
    assert_eq!((shared["suppressed_below"].as_i64(), shared["year"].as_i64()), (Some(11), Some(2020)));
    // The organization's own cases are its own to see, in the coalition scope too.
    let (_, mine) = app.api_get(&a, "/api/v1/case-report?scope=coalition&year=2020").await;
    assert_eq!(mine["by_facility"]["rows"][0]["counts"]["children_detained"], 3, "{mine}");
    let (s, _) = app.api_get(&a, "/api/v1/case-report?scope=everyone").await;
    assert_eq!(s, 422);
    let r = http
        .get(app.url("/api/v1/case-report?scope=coalition&format=csv&year=2020"))
        .bearer_auth(&b)
        .send()
        .await
        .expect("csv");
    let csv = r.text().await.expect("text");
    assert!(csv.contains("Tapachula") && csv.contains('*'), "{csv}");
}

#[tokio::test]
async fn the_sweep_reminds_once_through_the_inbox_and_webhooks_without_personal_data() {
    for app in TestApp::all().await {
        let (lawyer, token) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let (_, monitor) = app.api_user("monitor@a.org", "org-a", Role::Monitor).await;
        let org = app.org("org-a").await;
        app.store
            .create_webhook(&vigia_store::Actor::user(&lawyer), org, "http://127.0.0.1:9/hook", "s3cret")
            .await
            .expect("webhook");
        let mut body = person("FM-REM");
        body["lawyer_user_id"] = json!(lawyer.id);
        let (_, case) = app.post_case(&token, &body).await;
        let events = format!("/api/v1/cases/{}/events", case["id"]);
        app.api_post(&token, &events, &json!({"kind": "detained", "on": "2020-01-06"})).await;

        let today = jiff::civil::date(2020, 1, 30);
        let raised = vigia_app::cases::sweep_deadlines(&app.store, today, 3).await.expect("sweep");
        assert_eq!(raised, 3, "overdue limit, held past the limit, child detained");
        assert_eq!(vigia_app::cases::sweep_deadlines(&app.store, today, 3).await.expect("sweep"), 0, "told once");

        let (_, alerts) = app.api_get(&token, "/api/v1/alerts").await;
        let items = alerts["items"].as_array().expect("items");
        let kinds: Vec<(&str, &str)> = items
            .iter()
            .map(|a| (a["kind"].as_str().unwrap_or(""), a["payload"]["what"].as_str().unwrap_or("")))
            .collect();
        for want in [("deadline", "detention_max"), ("violation", "held_past_limit"), ("violation", "child_detained")] {
            assert!(kinds.contains(&want), "{want:?} in {kinds:?}");
        }
        let text = alerts.to_string();
        assert!(!text.contains("Dilcia") && !text.contains("FM-REM"), "reminders carry no personal data");
        let (_, mon) = app.api_get(&monitor, "/api/v1/alerts").await;
        assert!(
            mon["items"].as_array().expect("items").iter().all(|a| a["kind"] != "deadline"),
            "monitors do not get them"
        );
        let deliveries = app.store.deliveries(org, 10).await.expect("deliveries");
        assert_eq!(deliveries.len(), 3, "each reminder is queued for the webhook");

        let lawyer_page = app.login("abogada@a.org").await;
        let (_, inbox) = get_text(&lawyer_page, app.url("/alerts")).await;
        assert!(inbox.contains("Límite de detención") && inbox.contains("vencido"), "the inbox says what and when");
    }
}

#[tokio::test]
async fn case_documents_are_sealed_and_only_their_lawyers_download_them() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, lawyer) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    let (_, analyst) = app.api_user("analista@a.org", "org-a", Role::Analyst).await;
    let (_, other) = app.api_user("abogada@b.org", "org-b", Role::Lawyer).await;
    let http = reqwest::Client::new();
    let (_, case) = app.post_case(&lawyer, &person("FM-DOC")).await;
    let scan = b"\xFF\xD8\xFF\xE0\x00\x10JFIF pasaporte HN F998877".to_vec();
    let r = http
        .post(app.url(&format!("/api/v1/cases/{}/documents?filename=../../pasaporte%20Dilcia.jpg", case["id"])))
        .bearer_auth(&lawyer)
        .body(scan.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 201);
    let doc: Value = r.json().await.expect("json");
    assert_eq!(doc["content_type"], "image/jpeg");
    assert_eq!(doc["sha256"], vigia_domain::audit::sha256_hex(&scan));
    assert!(!doc["filename"].as_str().expect("name").contains('/'), "path stripped: {doc}");
    let url = app.url(&format!("/api/v1/case-documents/{}", doc["id"]));
    let r = http.get(&url).bearer_auth(&lawyer).send().await.expect("download");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-content-sha256"].to_str().expect("h"), doc["sha256"].as_str().expect("sha"));
    assert_eq!(r.bytes().await.expect("bytes").to_vec(), scan);
    assert_eq!(http.get(&url).bearer_auth(&analyst).send().await.expect("get").status(), 403);
    assert_eq!(http.get(&url).bearer_auth(&other).send().await.expect("get").status(), 404);
    let (s, list) = app.api_get(&lawyer, &format!("/api/v1/cases/{}/documents", case["id"])).await;
    assert_eq!((s, list["items"].as_array().map(Vec::len)), (200, Some(1)));
    // Finding 11: the file name can name the person; sealed in the row and the history.
    assert!(list["items"][0]["filename"].as_str().expect("name").contains("Dilcia"), "{list}");
    // Issue #22 finding 7: nor is the document's plaintext hash kept in the clear, so a
    // copy of the database cannot confirm that a file someone holds is attached here.
    let plain_sha = vigia_domain::audit::sha256_hex(&scan);
    let by_hash = [
        format!("SELECT COUNT(*) FROM case_documents WHERE sha256 = '{plain_sha}'"),
        format!("SELECT COUNT(*) FROM audit_log WHERE content LIKE '%{plain_sha}%'"),
    ];
    for sql in [
        "SELECT COUNT(*) FROM case_documents WHERE filename LIKE '%Dilcia%'".to_string(),
        "SELECT COUNT(*) FROM audit_log WHERE content LIKE '%Dilcia%'".to_string(),
    ]
    .iter()
    .chain(&by_hash)
    {
        assert_eq!(crate::hardening::behind_the_back(&app._db, sql).await, Some(0), "{sql}");
    }

    // A text file is not evidence: refused with the reason.
    let r = http
        .post(app.url(&format!("/api/v1/cases/{}/documents", case["id"])))
        .bearer_auth(&lawyer)
        .body(b"hola".to_vec())
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 422);
}

/// LRPCAP art. 6: a deportation while the asylum claim is pending is flagged as a
/// possible refoulement, with the pressure to abandon shown beside it; it is told once
/// as an alert, counted in the case figures, and the amparo against it shows no time
/// limit.
#[tokio::test]
async fn a_deportation_while_asylum_is_pending_is_a_possible_refoulement() {
    for app in TestApp::all().await {
        let (lawyer, token) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let f = app.facility("Siglo XXI").await;
        let mut body = person("FM-DEV");
        body["facility_id"] = json!(f);
        body["lawyer_user_id"] = json!(lawyer.id);
        let (_, case) = app.post_case(&token, &body).await;
        let id = case["id"].as_i64().expect("id");
        let events = format!("/api/v1/cases/{id}/events");
        let mut ids = Vec::new();
        for e in [
            json!({"kind": "detained", "on": "2020-01-20", "facility_id": f}),
            json!({"kind": "asylum_requested", "on": "2020-01-21"}),
            json!({"kind": "pressure_to_abandon", "on": "2020-01-23", "note": "Le dijeron que firmara el retorno"}),
            json!({"kind": "deported", "on": "2020-01-27"}),
        ] {
            let (s, v) = app.api_post(&token, &events, &e).await;
            assert_eq!(s, 201, "{v}");
            ids.push(v["id"].as_i64().expect("id"));
        }
        let (_, c) = app.api_get(&token, &format!("/api/v1/cases/{id}")).await;
        let v = c["assessment"]["violations"]
            .as_array()
            .expect("violations")
            .iter()
            .find(|v| v["kind"] == "possible_refoulement")
            .unwrap_or_else(|| panic!("flagged: {c}"))
            .clone();
        assert_eq!(
            (v["claim"].as_str(), v["since"].as_str(), v["ongoing"].as_bool()),
            (Some("pending"), Some("2020-01-27"), Some(false))
        );
        assert_eq!(v["event"], ids[3]);
        assert_eq!(v["pressure_to_abandon"], json!([ids[2]]));
        assert_eq!(v["basis"], "LRPCAP art. 6");
        let amparo = deadline(&c, "amparo_any_time");
        assert_eq!((amparo["status"].as_str(), amparo["due"].is_null()), (Some("any_time"), true));

        // The page says it, with the pressure beside it and the amparo without a deadline.
        let page = app.login("abogada@a.org").await;
        let (_, html) = get_text(&page, app.url(&format!("/cases/{id}"))).await;
        assert!(html.contains("Posible devolución prohibida"), "{html}");
        assert!(html.contains("La solicitud de asilo estaba pendiente el día de la devolución."));
        assert!(
            html.contains("«Ningún solicitante o refugiado podrá en modo alguno ser rechazado en frontera"),
            "art. 6 quoted"
        );
        assert!(html.contains("Posible devolución prohibida (no devolución)</strong> · el 2020-01-27"));
        assert!(html.contains("Presiones para desistir registradas en el caso: 1 (2020-01-23)."));
        assert!(html.contains("En cualquier tiempo, cualquier día y hora"));
        assert!(html.contains("href=\"/legal#deadlines\""));
        // "Why this date?" counts the same days on the same calendar.
        assert!(
            html.contains(
                "<a href=\"/clock?from=2020-01-20&amp;working_days=15&amp;calendar=inm\">¿Por qué esta fecha?</a>"
            ),
            "{html}"
        );

        // Told once, as something that happened.
        let today = jiff::civil::date(2020, 2, 3);
        vigia_app::cases::sweep_deadlines(&app.store, today, 3).await.expect("sweep");
        assert_eq!(vigia_app::cases::sweep_deadlines(&app.store, today, 3).await.expect("sweep"), 0, "told once");
        let (_, alerts) = app.api_get(&token, "/api/v1/alerts").await;
        let told: Vec<&Value> = alerts["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|a| a["payload"]["what"] == "possible_refoulement")
            .collect();
        assert_eq!(told.len(), 1, "{alerts}");
        assert_eq!(told[0]["payload"]["state"], "happened");
        let (_, inbox) = get_text(&page, app.url("/alerts")).await;
        assert!(inbox.contains("Posible devolución prohibida") && inbox.contains("se registró"), "{inbox}");

        // Counted in the case figures, once per person.
        let (_, report) = app.api_get(&token, "/api/v1/case-report?from=2020-01-01&until=2020-12-31").await;
        assert_eq!(report["by_facility"]["totals"]["possible_refoulement"], 1, "{report}");
        assert_eq!(report["by_facility"]["totals"]["pressure_to_abandon"], 1, "{report}");

        // A recorded decision refusing the claim, before the return, and no appeal
        // within the window: no longer flagged once the window is past.
        let (_, other) = app.post_case(&token, &person("FM-DEV-2")).await;
        let events = format!("/api/v1/cases/{}/events", other["id"]);
        for e in [
            json!({"kind": "asylum_requested", "on": "2020-01-06"}),
            json!({"kind": "decision", "on": "2020-03-02", "decision": "denied"}),
            json!({"kind": "deported", "on": "2020-06-01"}),
        ] {
            let (s, v) = app.api_post(&token, &events, &e).await;
            assert_eq!(s, 201, "{v}");
        }
        let (_, c) = app.api_get(&token, &format!("/api/v1/cases/{}", other["id"])).await;
        assert!(
            c["assessment"]["violations"].as_array().expect("v").iter().all(|v| v["kind"] != "possible_refoulement"),
            "{c}"
        );
    }
}

/// A detention limit counted across 1 October 2024 says, on the case, that LFPA art. 28
/// leaves that day open, and links to the clock that counts the same days.
#[tokio::test]
async fn a_deadline_across_1_october_2024_says_the_day_is_open() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, token) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    let (_, case) = app.post_case(&token, &person("FM-2024")).await;
    let id = case["id"].as_i64().expect("id");
    let (s, v) = app
        .api_post(&token, &format!("/api/v1/cases/{id}/events"), &json!({"kind": "detained", "on": "2024-09-20"}))
        .await;
    assert_eq!(s, 201, "{v}");
    let page = app.login("abogada@a.org").await;
    let (_, html) = get_text(&page, app.url(&format!("/cases/{id}"))).await;
    assert!(html.contains("texto ambiguo — 2024-10-01: 1 de octubre: desde 2024"), "{html}");
    assert!(html.contains("/clock?from=2024-09-20&amp;working_days=15&amp;calendar=inm"));
    let (_, clock) = get_text(&page, app.url("/clock?from=2024-09-20&working_days=15&calendar=inm")).await;
    let (_, c) = app.api_get(&token, &format!("/api/v1/cases/{id}")).await;
    let due = deadline(&c, "detention_max")["due"].as_str().expect("due").to_string();
    assert!(
        clock.contains(&format!("15 días hábiles después del 2024-09-20: {due}")),
        "the clock agrees with the case"
    );
}
