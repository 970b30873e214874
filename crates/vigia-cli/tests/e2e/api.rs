use serde_json::{json, Value};
use vigia_domain::account::Role;

use crate::helpers::TestApp;

fn facility_body(name: &str) -> Value {
    json!({"name": name, "kind": "estacion_migratoria", "state_code": "07", "municipality": "Tapachula",
           "latitude": 14.9, "longitude": -92.26, "capacity": 960})
}

#[tokio::test]
async fn facilities_round_trip_through_the_api_with_history() {
    for app in TestApp::all().await {
        let (_, token) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let c = reqwest::Client::new();
        let r = c
            .post(app.url("/api/v1/facilities"))
            .bearer_auth(&token)
            .json(&facility_body("Siglo XXI"))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 201);
        let loc = r.headers()["location"].to_str().expect("loc").to_string();
        let created: Value = r.json().await.expect("json");
        assert_eq!(created["version"], 1);
        assert_eq!(created["state_name"], "Chiapas");
        assert_eq!(created["authority"], "INM");

        let r = c.get(app.url(&loc)).bearer_auth(&token).send().await.expect("get");
        assert_eq!(r.headers()["etag"], "\"1\"");
        let mut body = facility_body("Siglo XXI");
        body["capacity"] = json!(1000);
        let r =
            c.put(app.url(&loc)).bearer_auth(&token).header("if-match", "\"1\"").json(&body).send().await.expect("put");
        assert_eq!(r.status(), 200);
        let r =
            c.put(app.url(&loc)).bearer_auth(&token).header("if-match", "\"1\"").json(&body).send().await.expect("put");
        assert_eq!(r.status(), 409, "stale version refused");

        let h = app.get_json(&token, &format!("{loc}/history")).await;
        let items = h["items"].as_array().expect("items");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["content"]["capacity"], 960);
        assert_eq!(items[1]["content"]["capacity"], 1000);
        assert_eq!(items[1]["action"], "update");

        let list = app.get_json(&token, "/api/v1/facilities").await;
        assert_eq!(list["items"].as_array().expect("items").len(), 1);
    }
}

#[tokio::test]
async fn invalid_input_gets_problem_details_naming_each_field() {
    for app in TestApp::all().await {
        let (_, token) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let c = reqwest::Client::new();
        let post = |body: String, ct: &'static str| {
            c.post(app.url("/api/v1/facilities")).bearer_auth(&token).header("content-type", ct).body(body).send()
        };
        // Wrong types and values, in English.
        let r = c
            .post(app.url("/api/v1/facilities"))
            .bearer_auth(&token)
            .header("accept-language", "en")
            .json(&json!({"name": "", "kind": "jail", "state_code": "07", "capacity": "many", "latitude": 99, "longitude": -92.0, "organization_id": 2}))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 422);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.expect("json");
        let fields: Vec<(&str, &str)> = p["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| (e["field"].as_str().expect("f"), e["code"].as_str().expect("c")))
            .collect();
        for want in [
            ("name", "required"),
            ("kind", "unknown_choice"),
            ("capacity", "expected_integer"),
            ("latitude", "out_of_range"),
            ("organization_id", "unknown_field"),
        ] {
            assert!(fields.contains(&want), "{want:?} in {fields:?}");
        }
        let lat = p["errors"].as_array().expect("e").iter().find(|e| e["field"] == "latitude").expect("lat");
        assert_eq!(lat["message"], "Must be between 14 and 33.");

        // Spanish by default.
        let r = post(json!({"kind": "other", "state_code": "07"}).to_string(), "application/json").await.expect("post");
        let p: Value = r.json().await.expect("json");
        assert_eq!(p["errors"][0]["message"], "Este campo es obligatorio.");

        // Malformed JSON, wrong content type, non-object, oversize body.
        let r = post("{\"name\": ".into(), "application/json").await.expect("post");
        assert_eq!(r.status(), 400);
        let p: Value = r.json().await.expect("json");
        assert!(p["detail"].as_str().expect("detail").contains("JSON"));
        assert_eq!(post("name=x".into(), "application/x-www-form-urlencoded").await.expect("post").status(), 415);
        assert_eq!(post("[1,2]".into(), "application/json").await.expect("post").status(), 422);
        let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
        assert_eq!(post(huge, "application/json").await.expect("post").status(), 413);
        let r = post("\"\u{0}\"".into(), "application/json").await.expect("post");
        assert!(r.status().is_client_error());

        // Unknown and malformed ids.
        for path in ["/api/v1/facilities/999999", "/api/v1/facilities/abc", "/api/v1/facilities/-1", "/api/v1/nothing"]
        {
            let r = c.get(app.url(path)).bearer_auth(&token).send().await.expect("get");
            assert_eq!(r.status(), 404, "{path}");
            assert_eq!(r.headers()["content-type"], "application/problem+json");
        }
    }
}

#[tokio::test]
async fn authentication_and_roles_are_enforced() {
    for app in TestApp::all().await {
        let (_, analyst) = app.api_user("an@a.org", "org-a", Role::Analyst).await;
        let c = reqwest::Client::new();
        let r = c.get(app.url("/api/v1/facilities")).send().await.expect("get");
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let r = c
            .get(app.url("/api/v1/facilities"))
            .bearer_auth("vga_not-a-real-token-at-all-000000")
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 401);
        let r = c.get(app.url("/api/v1/facilities")).bearer_auth(&analyst).send().await.expect("get");
        assert_eq!(r.status(), 200, "analysts read the registry");
        let r = c
            .post(app.url("/api/v1/facilities"))
            .bearer_auth(&analyst)
            .json(&facility_body("X"))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 403, "analysts do not edit it");
        let f = app.facility("Siglo XXI").await;
        let r =
            c.get(app.url(&format!("/api/v1/facilities/{f}/notes"))).bearer_auth(&analyst).send().await.expect("get");
        assert_eq!(r.status(), 403, "analysts do not read sealed notes");

        let me: Value =
            c.get(app.url("/api/v1/me")).bearer_auth(&analyst).send().await.expect("me").json().await.expect("json");
        assert_eq!(me["role"], "analyst");
        assert_eq!(me["organization"]["slug"], "org-a");

        // A disabled user's token stops working.
        let (u, token) = app.api_user("gone@a.org", "org-a", Role::Monitor).await;
        app.store.set_user_disabled(&vigia_store::Actor::SYSTEM, u.id, true).await.expect("disable");
        let r = c.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.expect("me");
        assert_eq!(r.status(), 401);
    }
}

#[tokio::test]
async fn another_organizations_notes_are_invisible() {
    for app in TestApp::all().await {
        let (_, a) = app.api_user("law@a.org", "org-a", Role::Lawyer).await;
        let (_, b) = app.api_user("law@b.org", "org-b", Role::Lawyer).await;
        let f = app.facility("Siglo XXI").await;
        let c = reqwest::Client::new();
        let url = app.url(&format!("/api/v1/facilities/{f}/notes"));
        let r = c
            .post(&url)
            .bearer_auth(&a)
            .json(&json!({"body": "Nombre del detenido: Juan Pérez"}))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 201);
        // Forcing another organization in the body is refused.
        let r = c.post(&url).bearer_auth(&b).json(&json!({"body": "x", "org_id": 1})).send().await.expect("post");
        assert_eq!(r.status(), 422);

        let mine: Value = c.get(&url).bearer_auth(&a).send().await.expect("get").json().await.expect("json");
        assert_eq!(mine["items"][0]["body"], "Nombre del detenido: Juan Pérez");
        let theirs: Value = c.get(&url).bearer_auth(&b).send().await.expect("get").json().await.expect("json");
        assert_eq!(theirs["items"].as_array().expect("items").len(), 0);
        let body =
            c.get(app.url("/api/v1/facilities")).bearer_auth(&b).send().await.expect("get").text().await.expect("t");
        assert!(!body.contains("Juan"));
        let body = c
            .get(app.url(&format!("/api/v1/facilities/{f}/history")))
            .bearer_auth(&b)
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("t");
        assert!(!body.contains("Juan"));
    }
}

#[tokio::test]
async fn session_cookies_need_the_csrf_header_on_api_writes() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    let c = app.login("mon@a.org").await;
    let r = c.get(app.url("/api/v1/me")).send().await.expect("me");
    assert_eq!(r.status(), 200, "a session reads the API");
    let r = c.post(app.url("/api/v1/facilities")).json(&facility_body("X")).send().await.expect("post");
    assert_eq!(r.status(), 403, "a session write without X-CSRF-Token is refused");
    let page = c.get(app.url("/facilities")).send().await.expect("page").text().await.expect("t");
    let csrf = crate::helpers::csrf_of(&page);
    let r = c
        .post(app.url("/api/v1/facilities"))
        .header("x-csrf-token", csrf)
        .json(&facility_body("X"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn the_openapi_document_and_health_check_answer() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let c = reqwest::Client::new();
    let doc: Value = c.get(app.url("/api/openapi.json")).send().await.expect("get").json().await.expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/facilities"]["post"].is_object());
    let r = c.get(app.url("/healthz")).send().await.expect("get");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("t"), r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn csv_imports_through_the_api_are_all_or_nothing() {
    for app in TestApp::all().await {
        let (_, token) = app.api_user("coord@a.org", "org-a", Role::Coordinator).await;
        let c = reqwest::Client::new();
        let post = |csv: &'static str, ct: &'static str| {
            c.post(app.url("/api/v1/facilities/import")).bearer_auth(&token).header("content-type", ct).body(csv).send()
        };
        let bad =
            "name,kind,state_code,capacity\nSiglo XXI,estacion_migratoria,07,960\nAcayucan,estacion_migratoria,30,-5\n";
        let r = post(bad, "text/csv").await.expect("post");
        assert_eq!(r.status(), 422);
        let p: Value = r.json().await.expect("json");
        assert_eq!(p["errors"].as_array().expect("errors").len(), 1);
        assert_eq!(p["errors"][0]["line"], 3);
        assert_eq!(p["errors"][0]["field"], "capacity");
        assert_eq!(p["errors"][0]["code"], "out_of_range");
        assert_eq!(app.store.list_facilities().await.expect("list").len(), 0, "nothing imported");
        assert_eq!(post(bad, "application/json").await.expect("post").status(), 415);
        let good = "name,kind,state_code,capacity\nSiglo XXI,estacion_migratoria,07,960\nAcayucan,estacion_migratoria,30,836\n";
        let r = post(good, "text/csv; charset=utf-8").await.expect("post");
        assert_eq!(r.status(), 201);
        let out: Value = r.json().await.expect("json");
        assert_eq!(out["imported"], 2);
        assert_eq!(app.store.list_facilities().await.expect("list").len(), 2);
    }
}

#[tokio::test]
async fn the_clock_is_public_and_explains_itself() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let c = reqwest::Client::new();
    let r = app.public_json("/api/v1/clock/add?from=2019-02-18&working_days=15").await;
    assert_eq!(r["to"], "2019-03-11");
    assert_eq!(r["calendar"], "lfpa");
    assert_eq!(r["source"], "LFPA art. 28");
    assert!(r["version"].as_str().expect("version").contains("DOF 04-08-1994"), "{r}");
    // 1 October 2024 counts, and the day says the text leaves it open.
    let r = app.public_json("/api/v1/clock/add?from=2024-09-30&working_days=1&calendar=inm&explain=true").await;
    assert_eq!((r["to"].as_str(), r["days"][0]["counts"].as_bool()), (Some("2024-10-01"), Some(true)));
    assert!(r["days"][0]["open"][0].as_str().expect("open").contains("LFPA art. 28"), "{r}");
    // Said without asking for the explanation too.
    let r = app.public_json("/api/v1/clock/add?from=2024-09-27&working_days=5&calendar=lfpa").await;
    assert_eq!(r["to"], "2024-10-04");
    assert_eq!(r["open_days"][0]["date"], "2024-10-01", "{r}");
    let r: Value = c
        .get(app.url("/api/v1/clock/count?from=2019-03-15&to=2019-03-19&calendar=lft&explain=true"))
        .header("accept-language", "en")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(r["working_days"], 1);
    let days = r["days"].as_array().expect("days");
    assert_eq!(days.len(), 4);
    assert_eq!(days[2]["date"], "2019-03-18");
    assert_eq!(days[2]["counts"], false);
    assert!(days[2]["reasons"][0].as_str().expect("reason").contains("LFT art. 74 fr. III"));
    for (q, field) in [
        ("from=2019-13-01&working_days=1", "from"),
        ("from=2019-01-01&working_days=x", "working_days"),
        ("from=2019-01-01&working_days=1&calendar=x", "calendar"),
        ("working_days=1", "from"),
    ] {
        let r = c.get(app.url(&format!("/api/v1/clock/add?{q}"))).send().await.expect("get");
        assert_eq!(r.status(), 422, "{q}");
        let p: Value = r.json().await.expect("json");
        assert_eq!(p["errors"][0]["field"], field, "{q}");
    }
    let cals: Value = c.get(app.url("/api/v1/clock/calendars")).send().await.expect("get").json().await.expect("json");
    assert_eq!(
        cals["items"].as_array().expect("items").len(),
        7,
        "the five legal calendars and the two for information requests"
    );
}
