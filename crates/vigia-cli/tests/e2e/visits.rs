//! Monitoring visits through the API and the form: sent exactly once under a draft key,
//! conflicts refused, indicators and flags with their basis, sealed interview notes.

use serde_json::{json, Value};
use vigia_domain::account::Role;
use vigia_domain::RecordType;

use crate::helpers::{csrf_of, get_text, TestApp};

fn report(facility: i64) -> Value {
    json!({"facility_id": facility, "on": "2020-03-10", "time_in": "10:00", "time_out": "13:30",
           "population": {"total": 180, "women": 40, "men": 125, "children_accompanied": 15, "held_beyond_limit": 12},
           "sections": {"legal_safeguards": {"access_to_lawyer": "no", "observations": "No hay lista de abogados"}},
           "findings": [{"section": "material_conditions", "severity": 4, "description": "Colchonetas en el piso del patio"}],
           "interview_notes": "Yolanda M. relata 45 días detenida y amenazas si pide asilo"})
}

#[tokio::test]
async fn a_visit_is_stored_once_per_draft_and_its_notes_stay_sealed() {
    for app in TestApp::all().await {
        let (_, monitor) = app.api_user("monitor@a.org", "org-a", Role::Monitor).await;
        let (_, coordinator) = app.api_user("coord@a.org", "org-a", Role::Coordinator).await;
        let (_, analyst) = app.api_user("analyst@a.org", "org-a", Role::Analyst).await;
        let (_, other) = app.api_user("coord@b.org", "org-b", Role::Coordinator).await;
        let f = app.facility("Estación Migratoria Acayucan").await;
        let http = reqwest::Client::new();
        let url = app.url("/api/v1/visits");
        let send = |token: String, key: &'static str, body: Value| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let r = http
                    .post(url)
                    .bearer_auth(token)
                    .header("idempotency-key", key)
                    .json(&body)
                    .send()
                    .await
                    .expect("post");
                (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let (s, v) = send(monitor.clone(), "draft-0001-phone", report(f)).await;
        assert_eq!(s, 201, "{v}");
        // Sent again (the connection dropped before the answer): the same visit, not a second.
        let (s, again) = send(monitor.clone(), "draft-0001-phone", report(f)).await;
        assert_eq!((s, &again["id"]), (200, &v["id"]));
        // The same draft edited elsewhere: a conflict, nothing overwritten.
        let mut changed = report(f);
        changed["population"]["total"] = json!(181);
        assert_eq!(send(monitor.clone(), "draft-0001-phone", changed).await.0, 409);
        assert_eq!(app.store.visits(app.org("org-a").await, None).await.expect("visits").len(), 1);
        // Finding 11: findings and observations can name a person; sealed in the row and
        // in the history, read as written.
        for sql in [
            "SELECT COUNT(*) FROM visits WHERE report LIKE '%Colchonetas%' OR report LIKE '%lista de abogados%'",
            "SELECT COUNT(*) FROM audit_log WHERE content LIKE '%Colchonetas%' OR content LIKE '%lista de abogados%'",
        ] {
            assert_eq!(crate::hardening::behind_the_back(&app._db, sql).await, Some(0), "{sql}");
        }
        assert_eq!(v["report"]["findings"][0]["description"], "Colchonetas en el piso del patio");
        let read = app.get_json(&monitor, &format!("/api/v1/visits/{}", v["id"])).await;
        assert_eq!(
            read["report"]["sections"]["legal_safeguards"]["observations"], "No hay lista de abogados",
            "{read}"
        );

        let flags: Vec<&str> =
            v["flags"].as_array().expect("flags").iter().filter_map(|x| x["flag"].as_str()).collect();
        for want in ["children_detained", "held_beyond_limit", "safeguard_missing", "grave_finding"] {
            assert!(flags.contains(&want), "{want} in {flags:?}");
        }
        assert!(v.to_string().contains("art. 99") || v.to_string().contains("LGDNNA"));
        assert!(v["report"].get("interview_notes").is_none(), "notes stay sealed");
        // A photo of the yard, attached to the visit; another organization cannot reach it.
        let jpg = b"\xFF\xD8\xFF\xE0 patio con colchonetas".to_vec();
        let r = http
            .post(app.url(&format!("/api/v1/visits/{}/files?filename=patio.jpg", v["id"])))
            .bearer_auth(&monitor)
            .body(jpg.clone())
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 201);
        let file: Value = r.json().await.expect("json");
        let got = app.get_json(&analyst, &format!("/api/v1/visits/{}", v["id"])).await;
        assert_eq!(got["files"][0]["sha256"], vigia_domain::audit::sha256_hex(&jpg));
        let r =
            http.get(app.url(&format!("/api/v1/files/{}", file["id"]))).bearer_auth(&other).send().await.expect("get");
        assert_eq!(r.status(), 404, "another organization's visit evidence is not found");

        // Notes: coordinators read them (recorded), analysts do not, other organizations cannot find the visit.
        let notes = app.url(&format!("/api/v1/visits/{}/notes", v["id"]));
        let r = http.get(&notes).bearer_auth(&analyst).send().await.expect("get");
        assert_eq!(r.status(), 403);
        let r = http.get(&notes).bearer_auth(&other).send().await.expect("get");
        assert_eq!(r.status(), 404);
        let n: Value =
            http.get(&notes).bearer_auth(&coordinator).send().await.expect("get").json().await.expect("json");
        assert!(n["interview_notes"].as_str().expect("notes").contains("45 días"));
        let org = app.org("org-a").await;
        let reads =
            app.store.history(RecordType::VisitRead, v["id"].as_i64().expect("id"), Some(org)).await.expect("h");
        assert_eq!(reads.len(), 1);

        // Absurd numbers are refused by field.
        let mut absurd = report(f);
        absurd["population"] = json!({"total": 50, "women": 70, "asylum_seekers": -1});
        let (s, e) = send(monitor.clone(), "draft-0002-phone", absurd).await;
        assert_eq!(s, 422);
        let fields: Vec<&str> =
            e["errors"].as_array().expect("errors").iter().filter_map(|x| x["field"].as_str()).collect();
        assert!(fields.contains(&"population.total") && fields.contains(&"population.asylum_seekers"), "{fields:?}");
        assert_eq!(send(analyst.clone(), "draft-0003-phone", report(f)).await.0, 403, "analysts do not record visits");
        // A correction names an earlier visit of the same organization; both are kept.
        let mut fixed = report(f);
        fixed["population"]["total"] = json!(181);
        fixed["corrects"] = v["id"].clone();
        let (s, c) = send(monitor.clone(), "draft-0001-fixed", fixed).await;
        assert_eq!((s, &c["report"]["corrects"]), (201, &v["id"]), "{c}");
        // A correction is its author's: a colleague cannot hang one on this report.
        let mut colleague = report(f);
        colleague["corrects"] = v["id"].clone();
        let (s, e) = send(coordinator.clone(), "draft-coord-0001", colleague).await;
        assert_eq!((s, e["errors"][0]["field"].as_str()), (422, Some("corrects")), "a colleague's visit: {e}");
        let (_, theirs) = app.api_user("monitor@b.org", "org-b", Role::Monitor).await;
        let mut foreign = report(f);
        foreign["corrects"] = v["id"].clone();
        let (s, e) = send(theirs, "draft-b-0001", foreign).await;
        assert_eq!((s, e["errors"][0]["field"].as_str()), (422, Some("corrects")), "another organization's visit");
        assert!(app.store.verify_audit().await.expect("verify").ok());
        if let Some(dir) = app._db.dir.as_ref() {
            for entry in std::fs::read_dir(dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_file() {
                    let bytes = std::fs::read(&path).expect("read");
                    assert!(
                        !bytes.windows(9).any(|w| w == "45 días d".as_bytes()),
                        "interview notes in plaintext in {path:?}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn the_form_works_without_javascript_and_names_what_is_wrong() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("monitor@a.org", "org-a", Role::Monitor).await;
    let f = app.facility("Estación Migratoria Tapachula").await;
    let c = app.login("monitor@a.org").await;
    let (s, page) = get_text(&c, app.url("/visits/new")).await;
    assert_eq!(s, 200);
    assert!(page.contains("/static/visit-form.js") && page.contains("sections.legal_safeguards.interpreter"));
    let csrf = csrf_of(&page);
    let key =
        page.split("name=\"draft_key\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("key").to_string();
    let fid = f.to_string();
    let base =
        vec![("csrf", csrf.as_str()), ("draft_key", key.as_str()), ("facility_id", fid.as_str()), ("on", "2020-03-10")];
    let mut bad = base.clone();
    bad.push(("population.total", "-4"));
    bad.push(("findings.1.severity", "3"));
    bad.push(("areas_seen", "Dormitorios"));
    let r = c.post(app.url("/visits")).form(&bad).send().await.expect("post");
    assert_eq!(r.status(), 422);
    let page = r.text().await.expect("text");
    // Each error names its field in words and links to it; what was typed comes back.
    let summary = page.split("id=\"form-errors\"").nth(1).and_then(|p| p.split("</div>").next()).expect("summary");
    assert!(summary.contains("href=\"#f-population.total\">Personas detenidas:"), "{summary}");
    assert!(summary.contains("Hallazgo 2 — Descripción:"), "{summary}");
    let words: String = summary.split("href=\"").map(|p| p.split_once('"').map_or(p, |(_, rest)| rest)).collect();
    assert!(
        !words.contains("population.") && !words.contains("findings.") && !words.contains('_'),
        "no codes: {words}"
    );
    assert!(page.contains("value=\"-4\"") && page.contains(">Dormitorios</textarea>"), "kept as typed");
    assert!(page.contains("id=\"finding-1\""), "the second finding is still there");
    assert!(page.contains("name=\"findings.1.severity\" value=\"3\" checked"), "its severity still chosen");
    let mut good = base.clone();
    good.extend([
        ("population.total", "30"),
        ("sections.legal_safeguards.interpreter", "no"),
        ("findings.0.section", "health_care"),
        ("findings.0.severity", "2"),
        ("findings.0.description", "Sin médico por la tarde"),
    ]);
    let r = c.post(app.url("/visits")).form(&good).send().await.expect("post");
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    let (_, shown) = get_text(&c, app.url(&loc)).await;
    assert!(shown.contains("Falta una garantía legal") && shown.contains("Sin médico por la tarde"));

    // The same draft sent again with something else: nothing is overwritten, the report
    // comes back as typed under a new key, marked as a correction of the first.
    let mut changed = good.clone();
    changed.retain(|(k, _)| *k != "population.total");
    changed.push(("population.total", "31"));
    let r = c.post(app.url("/visits")).form(&changed).send().await.expect("post");
    assert_eq!(r.status(), 409);
    let page = r.text().await.expect("text");
    assert!(page.contains("no se sobrescribió") && page.contains("value=\"31\""), "kept as typed");
    assert!(page.contains(&format!("name=\"corrects_key\" value=\"{key}\"")), "names the first");
    let new_key =
        page.split("name=\"draft_key\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("key").to_string();
    assert_ne!(new_key, key);
    let mut correction: Vec<(&str, &str)> = changed.iter().filter(|(k, _)| *k != "draft_key").cloned().collect();
    correction.extend([("draft_key", new_key.as_str()), ("corrects_key", key.as_str())]);
    let r = c.post(app.url("/visits")).form(&correction).send().await.expect("post");
    assert_eq!(r.status(), 303);
    let second = r.headers()["location"].to_str().expect("loc").to_string();
    let (_, shown) = get_text(&c, app.url(&second)).await;
    let first_id = loc.trim_start_matches("/visits/").split('?').next().expect("id").to_string();
    assert!(
        shown.contains("Este informe corrige la visita") && shown.contains(&format!("href=\"/visits/{first_id}\""))
    );
    let (_, first) = get_text(&c, app.url(&format!("/visits/{first_id}"))).await;
    assert!(first.contains("id=\"corrected-by\"") && first.contains("Sin médico por la tarde"), "the first is kept");
    let org = app.org("org-a").await;
    let visits = app.store.visits(org, None).await.expect("visits");
    assert_eq!(visits.len(), 2);
    // The list says how many there are, and the CSV has each, the correction naming the first.
    let (_, list) = get_text(&c, app.url("/visits")).await;
    assert!(list.contains("id=\"list-count\">2 visitas<") && list.contains("href=\"/visits.csv\""), "counted");
    let r = c.get(app.url("/visits.csv")).send().await.expect("csv");
    assert!(r.headers()["content-type"].to_str().expect("ct").starts_with("text/csv"));
    let body = r.text().await.expect("csv");
    let mut reader = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let head = reader.headers().expect("head").clone();
    let at = head.iter().position(|h| h == "Visita que se corrige").expect("corrects column");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get(at), Some(first_id.as_str()), "the newer one corrects the first: {body}");
    let (s, _) = get_text(&c, app.url("/visits?after=nonsense")).await;
    assert_eq!(s, 422);
    assert_eq!(visits.iter().filter_map(|v| v.draft.population.total).collect::<Vec<_>>().len(), 2);
    // The form names what it corrects by draft key only; an id typed in is refused.
    let mut typed = base.clone();
    typed.retain(|(k, _)| *k != "draft_key");
    let first_id_text = first_id.clone();
    typed.extend([("draft_key", "vtypedid00001"), ("corrects", first_id_text.as_str())]);
    let r = c.post(app.url("/visits")).form(&typed).send().await.expect("post");
    assert_eq!(r.status(), 422);
    // A key nobody here sent cannot be corrected.
    let mut stray = base.clone();
    stray.retain(|(k, _)| *k != "draft_key");
    stray.extend([("draft_key", "vstraykey0001"), ("corrects_key", "vnotakey00000")]);
    let r = c.post(app.url("/visits")).form(&stray).send().await.expect("post");
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("text").contains("Visita que se corrige:"));
    // The facility's page shows the visit, its open violations and the occupancy chart.
    let (_, page) = get_text(&c, app.url(&format!("/facilities/{f}"))).await;
    assert!(
        page.contains("id=\"facility-visits\"") && page.contains("id=\"open-violations\""),
        "facility page lists visits"
    );
    let r = c.get(app.url("/visits/sw.js")).send().await.expect("sw");
    assert!(r.headers()["content-type"].to_str().expect("ct").starts_with("text/javascript"));
}
