//! Reports (issue #17): the period report and a centre's dossier, as JSON, as a page and
//! as a PDF that is read back with `pdftotext` (poppler-utils, installed by `.ci/run`)
//! and drawn to pixels with `pdftoppm`, in Spanish and in English, on both backends.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use vigia_domain::account::Role;

use crate::helpers::{get_text, TestApp};

/// Whether poppler's tools are here; says why not when they are not.
pub(crate) fn poppler() -> bool {
    let found =
        Command::new("pdftotext").arg("-v").output().is_ok() && Command::new("pdftoppm").arg("-v").output().is_ok();
    if !found {
        eprintln!("skipped: pdftotext/pdftoppm not found (Debian package poppler-utils; .ci/run installs it)");
    }
    found
}

/// The PDF's text, page by page (pdftotext ends each page with a form feed).
pub(crate) fn pdf_pages(pdf: &[u8], dir: &Path, name: &str) -> Vec<String> {
    let file = dir.join(format!("{name}.pdf"));
    std::fs::write(&file, pdf).expect("write pdf");
    let out = Command::new("pdftotext").arg("-layout").arg(&file).arg("-").output().expect("pdftotext");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8 text");
    text.split('\u{c}').filter(|p| !p.trim().is_empty()).map(str::to_string).collect()
}

/// The share of pixels that are not white on page 1, drawn in grey at 40 dpi.
pub(crate) fn inked_share(pdf: &[u8], dir: &Path, name: &str) -> f64 {
    let file = dir.join(format!("{name}-px.pdf"));
    std::fs::write(&file, pdf).expect("write pdf");
    let out = Command::new("pdftoppm")
        .args(["-f", "1", "-l", "1", "-r", "40", "-gray"])
        .arg(&file)
        .output()
        .expect("pdftoppm");
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    // A binary PGM: "P5\n<w> <h>\n<max>\n" then one byte per pixel.
    let data = out.stdout;
    let mut fields = 0;
    let mut at = 0;
    while fields < 4 && at < data.len() {
        while at < data.len() && data[at].is_ascii_whitespace() {
            at += 1;
        }
        while at < data.len() && !data[at].is_ascii_whitespace() {
            at += 1;
        }
        fields += 1;
    }
    let pixels = &data[(at + 1).min(data.len())..];
    assert!(pixels.len() > 10_000, "a page of pixels: {}", pixels.len());
    pixels.iter().filter(|p| **p < 200).count() as f64 / pixels.len() as f64
}

fn attempt(facility: i64, day: u32, outcome: &str) -> Value {
    json!({"facility_id": facility, "attempted_at": format!("2020-01-{day:02}T10:30"), "purpose": "monitoring",
           "team_size": 2, "outcome": outcome, "reason_category": if outcome == "granted" { Value::Null } else { json!("orders_from_above") },
           "reason_text": if outcome == "granted" { Value::Null } else { json!("Órdenes de arriba") }})
}

async fn pdf(app: &TestApp, token: &str, query: &str) -> Vec<u8> {
    let r = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/reports/period?{query}&format=pdf")))
        .bearer_auth(token)
        .send()
        .await
        .expect("pdf");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[reqwest::header::CONTENT_TYPE], "application/pdf");
    let cd = r.headers()[reqwest::header::CONTENT_DISPOSITION].to_str().expect("cd").to_string();
    assert!(cd.starts_with("attachment; filename=\"vigia-"), "{cd}");
    r.bytes().await.expect("bytes").to_vec()
}

#[tokio::test]
async fn a_period_report_reads_back_from_its_pdf_in_both_languages_with_the_figures_of_the_database() {
    if !poppler() {
        return;
    }
    for app in TestApp::all().await {
        let dir = std::env::temp_dir().join(format!("vigia-report-{}", app.addr.port()));
        std::fs::create_dir_all(&dir).expect("dir");
        let (_, coord) = app.api_user("coord@a.org", "org-a", Role::Coordinator).await;
        let (_, monitor) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let (_, analyst) = app.api_user("ana@a.org", "org-a", Role::Analyst).await;
        let siglo = app.facility("Estación Siglo XXI").await;
        let tapachula = app.facility("Estación Tapachula Norte").await;
        // 7 attempts at Siglo XXI (3 refused), 5 at Tapachula Norte (1 refused).
        for (i, outcome) in
            ["denied", "denied", "no_response", "granted", "granted", "granted", "granted"].iter().enumerate()
        {
            let (s, v) = app.post_attempt(&monitor, &attempt(siglo, 6 + i as u32, outcome)).await;
            assert_eq!(s, 201, "{v}");
        }
        for (i, outcome) in ["denied", "granted", "granted", "granted", "granted"].iter().enumerate() {
            let (s, v) = app.post_attempt(&monitor, &attempt(tapachula, 6 + i as u32, outcome)).await;
            assert_eq!(s, 201, "{v}");
        }
        // An attempt outside the period is not counted.
        let mut later = attempt(siglo, 6, "denied");
        later["attempted_at"] = json!("2020-03-02T10:00");
        assert_eq!(app.post_attempt(&monitor, &later).await.0, 201);
        let (s, _) = app
            .post_statement(
                &analyst,
                &json!({"authority": "inm", "published_at": "2020-01-20T19:30", "channel": "press_release",
                        "text": "El acceso de las organizaciones continúa con normalidad."}),
            )
            .await;
        assert_eq!(s, 201);

        let q = "from=2020-01-01&until=2020-01-31";
        let (s, j) = app.api_get(&coord, &format!("/api/v1/reports/period?{q}")).await;
        assert_eq!(s, 200, "{j}");
        let r = &j["report"];
        assert_eq!((r["access"]["attempts"].as_i64(), r["access"]["refusals"].as_i64()), (Some(12), Some(4)), "{j}");
        // The same figures as the attempts the database holds, counted one by one.
        let filter = vigia_domain::access::AttemptFilter {
            from: vigia_domain::access::parse_local_instant("2020-01-01T00:00", "America/Mexico_City"),
            until: vigia_domain::access::parse_local_instant("2020-02-01T00:00", "America/Mexico_City"),
            limit: 1000,
            ..Default::default()
        };
        let stored = app.store.list_attempts(app.org("org-a").await, &filter).await.expect("list");
        let refused = stored.iter().filter(|a| a.draft.outcome.is_refusal()).count() as i64;
        assert_eq!((stored.len() as i64, refused), (12, 4));
        let rows = r["access"]["by_facility"].as_array().expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0]["label"].as_str(), rows[0]["attempts"].as_i64(), rows[0]["refusals"].as_i64()),
            (Some("Estación Siglo XXI"), Some(7), Some(3))
        );
        assert_eq!(r["statements"]["published"], 1);
        let hash = j["content_sha256"].as_str().expect("hash").to_string();
        assert_eq!(hash.len(), 64);

        for (lang, title, attempts, page_word) in [
            ("es", "Informe del periodo", "Intentos de acceso", "Página"),
            ("en", "Period report", "Access attempts", "Page"),
        ] {
            let bytes = pdf(&app, &coord, &format!("{q}&lang={lang}")).await;
            assert!(bytes.starts_with(b"%PDF-"));
            let pages = pdf_pages(&bytes, &dir, lang);
            let all = pages.join("\n");
            assert!(all.contains(title), "{lang}: {all}");
            assert!(all.contains(attempts), "{lang}");
            // The table's row for Siglo XXI reads 7, 3 and 43 %.
            let numbers = |l: &str| -> Vec<String> {
                l.split_whitespace().filter(|w| w.chars().all(|c| c.is_ascii_digit())).map(str::to_string).collect()
            };
            let row = all
                .lines()
                .filter(|l| l.contains("Estación Siglo XXI"))
                .find(|l| numbers(l).len() == 3)
                .unwrap_or_else(|| panic!("{all}"));
            assert_eq!(numbers(row), ["7", "3", "43"], "{row}");
            let total = all
                .lines()
                .find(|l| l.trim_start().starts_with("Total") && l.contains("12"))
                .unwrap_or_else(|| panic!("{all}"));
            assert!(total.contains(" 4 ") && total.contains("33 %"), "{total}");
            // Every page's foot: its number of the count, and the content's hash.
            for (i, p) in pages.iter().enumerate() {
                assert!(
                    p.contains(&format!("{page_word} {} ", i + 1)) && p.contains(&format!(" {}", pages.len())),
                    "{lang} page {}: {p}",
                    i + 1
                );
                assert!(p.replace([' ', '\n'], "").contains(&hash), "{lang} page {} has the hash", i + 1);
            }
            let inked = inked_share(&bytes, &dir, lang);
            assert!(inked > 0.01 && inked < 0.6, "{lang}: page 1 is drawn, not blank ({inked})");
        }
        // The page: the same words, with the PDF a click away.
        let c = app.login("coord@a.org").await;
        let (s, page) = get_text(&c, app.url(&format!("/reports/period?{q}&lang=en"))).await;
        assert_eq!(s, 200);
        assert!(page.contains("Period report") && page.contains(&hash) && page.contains("Estación Tapachula Norte"));
        let link = page.split("id=\"report-pdf-link\"").next().and_then(|s| s.rsplit("href=\"").next()).unwrap_or("");
        assert!(link.starts_with("/reports/period?scope=org&") && link.contains("lang=en&#38;format=pdf"), "{link}");
        // A dossier counts only its centre.
        let (_, d) = app.api_get(&coord, &format!("/api/v1/reports/period?{q}&facility_id={tapachula}")).await;
        assert_eq!(
            (d["report"]["access"]["attempts"].as_i64(), d["report"]["facility"]["name"].as_str()),
            (Some(5), Some("Estación Tapachula Norte")),
            "{d}"
        );
        assert!(d["title"].as_str().expect("title").contains("Tapachula"));
        // Monitors make no reports; bad asks name their field.
        assert_eq!(app.api_get(&monitor, &format!("/api/v1/reports/period?{q}")).await.0, 403);
        let (s, e) = app.api_get(&coord, "/api/v1/reports/period?scope=coalition&from=2020-01-01").await;
        assert_eq!(s, 422);
        assert!(e.to_string().contains("from"), "{e}");
        let (s, e) = app.api_get(&coord, "/api/v1/reports/period?facility_id=999999").await;
        assert_eq!(s, 422, "{e}");
        assert!(e.to_string().contains("facility_id"), "{e}");
        let (s, _) = app.api_get(&coord, "/api/v1/reports/period?lang=fr").await;
        assert_eq!(s, 422);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn a_coalition_report_hides_other_organizations_small_counts_and_a_dossier_adds_nothing_to_subtract() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, a) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    let (_, b) = app.api_user("analista@b.org", "org-b", Role::Analyst).await;
    app.coalition("red", &["org-a", "org-b"]).await;
    let f = app.facility("Tapachula").await;
    let g = app.facility("Acayucan").await;
    for (i, fac) in [f, f, f, g].into_iter().enumerate() {
        let mut body = crate::cases::person(&format!("FM-{i}"));
        body["facility_id"] = json!(fac);
        let (_, c) = app.post_case(&a, &body).await;
        let events = format!("/api/v1/cases/{}/events", c["id"]);
        let (s, _) =
            app.api_post(&a, &events, &json!({"kind": "detained", "on": "2020-06-01", "facility_id": fac})).await;
        assert_eq!(s, 201);
    }
    let (_, own) = app.api_get(&a, "/api/v1/reports/period?scope=coalition&year=2020").await;
    let child = |j: &Value| j["report"]["cases"]["totals"][1].clone();
    assert_eq!(child(&own), 4, "the organization's own counts are its own: {own}");
    let (_, other) = app.api_get(&b, "/api/v1/reports/period?scope=coalition&year=2020").await;
    assert!(child(&other).is_null(), "4 is hidden from a partner: {other}");
    assert_eq!(other["report"]["cases"]["suppressed_below"], 11);
    for row in other["report"]["cases"]["by_facility"].as_array().expect("rows") {
        assert!(row["counts"][1].is_null(), "{row}");
    }
    // A partner's dossier shows the centre's row of the same table, nothing finer.
    let (_, dossier) =
        app.api_get(&b, &format!("/api/v1/reports/period?scope=coalition&year=2020&facility_id={f}")).await;
    assert!(child(&dossier).is_null(), "{dossier}");
    assert!(dossier["report"]["cases"]["by_facility"].as_array().expect("rows").len() <= 1);
    // Attack: rename the centre whose count is hidden after another one's, or after the
    // row of cases with no centre, and ask again. Rows are the facilities' own, so
    // nothing merges and nothing can be subtracted.
    let mut draft = app.store.facility(g).await.expect("read").expect("facility").draft;
    draft.name = "Tapachula".into();
    app.store.update_facility(&vigia_store::Actor::SYSTEM, g, None, draft).await.expect("rename");
    let (_, renamed) = app.api_get(&b, "/api/v1/reports/period?scope=coalition&year=2020").await;
    let rows = renamed["report"]["cases"]["by_facility"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{renamed}");
    for row in rows {
        assert!(row["label"].as_str().expect("label").starts_with("Tapachula (#"), "{row}");
        assert!(row["counts"][1].is_null(), "{row}");
    }
    assert!(child(&renamed).is_null());
    // Another organization's private attempts are not counted; what it shares with the
    // coalition is, in the coalition scope only.
    let (_, mon_b) = app.api_user("mon@b.org", "org-b", Role::Monitor).await;
    for visibility in ["private", "coalition"] {
        let body = json!({"facility_id": f, "attempted_at": "2020-02-03T10:00", "purpose": "monitoring", "team_size": 2,
                          "outcome": "denied", "reason_category": "orders_from_above", "visibility": visibility});
        assert_eq!(app.post_attempt(&mon_b, &body).await.0, 201);
    }
    let (_, own) = app.api_get(&a, "/api/v1/reports/period?from=2020-01-01&until=2020-12-31").await;
    assert_eq!(own["report"]["access"]["attempts"], 0, "{own}");
    let (_, coalition) = app.api_get(&a, "/api/v1/reports/period?scope=coalition&year=2020").await;
    assert_eq!(coalition["report"]["access"]["attempts"], 1, "only the shared one: {coalition}");
    // The PDF says so in words.
    if poppler() {
        let dir = std::env::temp_dir().join(format!("vigia-report-c-{}", app.addr.port()));
        std::fs::create_dir_all(&dir).expect("dir");
        let bytes = pdf(&app, &b, "scope=coalition&year=2020&lang=en").await;
        let all = pdf_pages(&bytes, &dir, "coalition").join("\n");
        assert!(all.contains("Org org-b and its coalition: Org org-a"), "{all}");
        let flat = all.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("cover whole calendar years: these are for 2020"), "{flat}");
        let row = all.lines().find(|l| l.contains("Children detained")).unwrap_or_else(|| panic!("{all}"));
        assert!(row.trim_end().ends_with('*'), "{row}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn a_lawyer_s_case_summary_shows_the_person_only_after_signing_in_again_and_records_the_read() {
    let config = vigia_web::Config { reauth_window: std::time::Duration::from_secs(2), ..Default::default() };
    let app = TestApp::with_config(vigia_store::testing::TestDb::sqlite(), config).await;
    let (lawyer, token) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
    app.user("analista@a.org", "org-a", Role::Analyst).await;
    let f = app.facility("Siglo XXI").await;
    let mut body = crate::cases::person("FM-2020-009");
    body["facility_id"] = json!(f);
    body["lawyer_user_id"] = json!(lawyer.id);
    let (s, case) = app.post_case(&token, &body).await;
    assert_eq!(s, 201, "{case}");
    let id = case["id"].as_i64().expect("id");
    let events = format!("/api/v1/cases/{id}/events");
    let (s, _) = app
        .api_post(
            &token,
            &events,
            &json!({"kind": "detained", "on": "2020-01-10", "facility_id": f, "note": "Golpe en el brazo"}),
        )
        .await;
    assert_eq!(s, 201);
    let name = "Dilcia Yamileth Cruz Orellana";
    let reads = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            let org = store.org_by_slug("org-a").await.expect("org").expect("org").id;
            store.history(vigia_domain::RecordType::CaseRead, id, Some(org)).await.expect("history").len()
        }
    };
    let before = reads(&app).await;

    // Without the person: the pseudonym, the deadlines with their basis, no name.
    let c = app.login("abogada@a.org").await;
    let (s, page) = get_text(&c, app.url(&format!("/cases/{id}/summary"))).await;
    assert_eq!(s, 200);
    assert!(page.contains("Resumen del caso") && page.contains("Ley de Migración art. 111"), "{page}");
    assert!(!page.contains(name) && !page.contains("Golpe en el brazo"), "no personal data unless asked");
    assert_eq!(reads(&app).await, before, "nothing sealed was read");

    // With the person, signed in just now: the name, the sealed note, and the read recorded.
    let (s, page) = get_text(&c, app.url(&format!("/cases/{id}/summary?person=1&lang=en"))).await;
    assert_eq!(s, 200);
    assert!(page.contains("Case summary") && page.contains(name) && page.contains("Golpe en el brazo"), "{page}");
    assert_eq!(reads(&app).await, before + 1, "the read is in the audit history");
    if poppler() {
        let r = c.get(app.url(&format!("/cases/{id}/summary?person=1&format=pdf"))).send().await.expect("pdf");
        assert_eq!(r.status(), 200);
        let bytes = r.bytes().await.expect("bytes").to_vec();
        let dir = std::env::temp_dir().join(format!("vigia-summary-{}", app.addr.port()));
        std::fs::create_dir_all(&dir).expect("dir");
        let flat = pdf_pages(&bytes, &dir, "summary").join("\n").split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("Resumen del caso") && flat.contains(name) && flat.contains("Plazos y límites"),
            "{flat}"
        );
        assert!(flat.contains("Ley de Migración art. 111"), "{flat}");
        let _ = std::fs::remove_dir_all(&dir);
    }
    // Later, the person's data ask for the password again first; nothing is read.
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let after = reads(&app).await;
    let r = c.get(app.url(&format!("/cases/{id}/summary?person=1"))).send().await.expect("get");
    let landed = r.url().path().to_string();
    let status = r.status().as_u16();
    assert!(landed == "/reauth" || status == 303, "asked to sign in again: {status} {landed}");
    assert_eq!(reads(&app).await, after);
    // An analyst reads the summary under the pseudonym, and may not ask for the person.
    let analyst = app.login("analista@a.org").await;
    let (s, page) = get_text(&analyst, app.url(&format!("/cases/{id}/summary"))).await;
    assert_eq!(s, 200);
    assert!(!page.contains(name) && !page.contains("summary-person-link"));
    let (s, _) = get_text(&analyst, app.url(&format!("/cases/{id}/summary?person=1"))).await;
    assert_eq!(s, 403);
    let (s, _) = get_text(&analyst, app.url(&format!("/cases/{id}/summary?person=yes"))).await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn a_visit_report_as_filed_lists_its_flags_with_their_basis_and_its_evidence_with_sha_256() {
    for app in TestApp::all().await {
        let (_, monitor) = app.api_user("monitor@a.org", "org-a", Role::Monitor).await;
        let (_, other) = app.api_user("coord@b.org", "org-b", Role::Coordinator).await;
        let f = app.facility("Estación Migratoria Acayucan").await;
        let http = reqwest::Client::new();
        let body = json!({"facility_id": f, "on": "2020-03-10", "time_in": "10:00", "time_out": "13:30",
            "population": {"total": 180, "women": 40, "men": 125, "children_accompanied": 15, "held_beyond_limit": 12},
            "sections": {"legal_safeguards": {"access_to_lawyer": "no", "observations": "No hay lista de abogados"}},
            "findings": [{"section": "material_conditions", "severity": 4, "description": "Colchonetas en el piso del patio"}],
            "interview_notes": "Yolanda M. relata 45 días detenida"});
        let r = http
            .post(app.url("/api/v1/visits"))
            .bearer_auth(&monitor)
            .header("idempotency-key", "draft-0042-report")
            .json(&body)
            .send()
            .await
            .expect("post");
        let status = r.status();
        let v: Value = r.json().await.expect("json");
        assert_eq!(status, 201, "{v}");
        let id = v["id"].as_i64().expect("id");
        let jpg = b"\xFF\xD8\xFF\xE0 patio con colchonetas".to_vec();
        let r = http
            .post(app.url(&format!("/api/v1/visits/{id}/files?filename=patio.jpg")))
            .bearer_auth(&monitor)
            .body(jpg.clone())
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 201);
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&jpg))
        };
        let get = |token: &str, q: &str| {
            http.get(app.url(&format!("/visits/{id}/report{q}"))).bearer_auth(token.to_string()).send()
        };
        let r = get(&monitor, "").await.expect("page");
        assert_eq!(r.status(), 200);
        let page = r.text().await.expect("text");
        assert!(
            page.contains("Colchonetas en el piso del patio") && page.contains("patio.jpg") && page.contains(&sha),
            "{page}"
        );
        assert!(page.contains("Ley de Migración art. 111"), "the flag's basis: {page}");
        assert!(!page.contains("Yolanda"), "interview notes stay sealed");
        assert_eq!(get(&other, "").await.expect("other").status(), 404, "another organization's visit is not found");
        assert_eq!(get(&monitor, "?format=doc").await.expect("bad").status(), 422);
        if poppler() {
            let r = get(&monitor, "?format=pdf&lang=en").await.expect("pdf");
            assert_eq!(r.status(), 200);
            let bytes = r.bytes().await.expect("bytes").to_vec();
            let dir = std::env::temp_dir().join(format!("vigia-visit-{}", app.addr.port()));
            std::fs::create_dir_all(&dir).expect("dir");
            let all = pdf_pages(&bytes, &dir, "visit").join("\n");
            let flat = all.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains("Flags and their legal basis") && flat.contains("Migration Law art. 111"), "{flat}");
            assert!(flat.contains("Children detained"), "{flat}");
            // The hash may be broken across lines in its narrow column: read it back whole.
            assert!(all.replace([' ', '\n'], "").contains(&sha), "{all}");
            assert!(!flat.contains("Yolanda"));
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
