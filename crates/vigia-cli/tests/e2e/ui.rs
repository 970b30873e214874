use vigia_domain::account::Role;

use crate::helpers::{csrf_of, get_text, TestApp};

#[tokio::test]
async fn sign_in_switch_language_and_sign_out() {
    for app in TestApp::all().await {
        app.user("coord@a.org", "org-a", Role::Coordinator).await;
        let c = app.browser();
        // Anonymous: redirected to the login page, in Spanish.
        let r = c.get(app.url("/facilities")).send().await.expect("get");
        assert_eq!(r.status(), 303);
        let (_, page) = get_text(&c, app.url("/login")).await;
        assert!(page.contains("Iniciar sesión"));
        let csrf = csrf_of(&page);

        // Wrong password: a clear message, no session.
        let r = c
            .post(app.url("/login"))
            .form(&[("csrf", csrf.as_str()), ("email", "coord@a.org"), ("password", "equivocada-equivocada")])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 401);
        assert!(r.text().await.expect("t").contains("El correo o la contraseña no son correctos."));

        // Without the CSRF token the form is refused.
        let r = c
            .post(app.url("/login"))
            .form(&[("email", "coord@a.org"), ("password", crate::helpers::PASSWORD)])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 403);

        let c = app.login("coord@a.org").await;
        let (status, page) = get_text(&c, app.url("/facilities")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Centros de detención"));
        let csrf = csrf_of(&page);

        // Switch to English: remembered for the user, on another client too.
        let r = c
            .post(app.url("/lang"))
            .form(&[("csrf", csrf.as_str()), ("locale", "en"), ("next", "/facilities")])
            .send()
            .await
            .expect("lang");
        assert_eq!(r.status(), 303);
        let (_, page) = get_text(&c, app.url("/facilities")).await;
        assert!(page.contains("Detention centers"), "English after the switch");
        let other = app.login("coord@a.org").await;
        let (_, page) = get_text(&other, app.url("/facilities")).await;
        assert!(page.contains("<html lang=\"en\">"), "the choice is stored per user");

        // Sign out ends the session.
        let csrf = csrf_of(&page);
        let r = other.post(app.url("/logout")).form(&[("csrf", csrf.as_str())]).send().await.expect("logout");
        assert_eq!(r.status(), 303);
        let r = other.get(app.url("/facilities")).send().await.expect("get");
        assert_eq!(r.status(), 303, "signed out");
        let (status, _) = get_text(&c, app.url("/facilities")).await;
        assert_eq!(status, 200, "the other session lives on");
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("coord@a.org", "org-a", Role::Coordinator).await;
    let (c, csrf) = app.login_form().await;
    for _ in 0..10 {
        let r = c
            .post(app.url("/login"))
            .form(&[("csrf", csrf.as_str()), ("email", "coord@a.org"), ("password", "no-es-la-clave-correcta")])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 401);
    }
    let r = c
        .post(app.url("/login"))
        .form(&[("csrf", csrf.as_str()), ("email", "coord@a.org"), ("password", crate::helpers::PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 429, "locked even with the right password");
    assert!(r.text().await.expect("t").contains("Demasiados intentos"));
}

#[tokio::test]
async fn facility_forms_show_errors_next_to_fields_and_keep_versions() {
    for app in TestApp::all().await {
        app.user("mon@a.org", "org-a", Role::Monitor).await;
        let (c, csrf) = app.login_with_csrf("mon@a.org", "/facilities/new").await;
        let form = |lat: &'static str, name: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("name", name.to_string()),
                ("kind", "estacion_migratoria".into()),
                ("authority", "INM".into()),
                ("state_code", "27".into()),
                ("municipality", "Tenosique".into()),
                ("latitude", lat.to_string()),
                ("longitude", "-91.42".into()),
                ("capacity", "".into()),
                ("opened_on", "".into()),
                ("closed_on", "".into()),
                ("sources", "<script>alert(1)</script>".into()),
            ]
        };
        let r = c.post(app.url("/facilities")).form(&form("91", "Tenosique")).send().await.expect("post");
        assert_eq!(r.status(), 422);
        let page = r.text().await.expect("t");
        assert!(page.contains("id=\"e-latitude\">Debe estar entre 14 y 33.</p>"), "error next to the field");
        assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"e-latitude\""));
        assert!(page.contains("value=\"Tenosique\""), "typed values are kept");
        assert_eq!(app.store.list_facilities().await.expect("list").len(), 0);

        let r = c.post(app.url("/facilities")).form(&form("17.47", "Tenosique")).send().await.expect("post");
        assert_eq!(r.status(), 303);
        let loc = r.headers()["location"].to_str().expect("loc").to_string();
        let (_, page) = get_text(&c, app.url(&loc)).await;
        assert!(page.contains("Centro registrado."));
        assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "text is escaped");
        assert!(!page.contains("<script>alert(1)"));
        let (_, list) = get_text(&c, app.url("/facilities")).await;
        assert!(list.contains("Tenosique"));

        // Edit: a new version, shown in the history with what changed.
        let id: i64 = loc.trim_start_matches("/facilities/").split('?').next().expect("id").parse().expect("id");
        let (_, edit) = get_text(&c, app.url(&format!("/facilities/{id}/edit"))).await;
        assert!(edit.contains("name=\"version\" value=\"1\""));
        let mut f = form("17.47", "Estación Migratoria Tenosique");
        f.push(("version", "1".into()));
        let r = c.post(app.url(&format!("/facilities/{id}/edit"))).form(&f).send().await.expect("post");
        assert_eq!(r.status(), 303);
        let r = c.post(app.url(&format!("/facilities/{id}/edit"))).form(&f).send().await.expect("post");
        assert_eq!(r.status(), 409, "a stale form is not saved over a newer version");
        let (_, hist) = get_text(&c, app.url(&format!("/facilities/{id}/history"))).await;
        assert!(hist.contains("<del>Tenosique</del> → <ins>Estación Migratoria Tenosique</ins>"), "{hist}");
        assert!(hist.contains("corrección") && hist.contains("alta"));
    }
}

#[tokio::test]
async fn roles_shape_what_pages_offer() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("an@a.org", "org-a", Role::Analyst).await;
    app.user("law@b.org", "org-b", Role::Lawyer).await;
    app.user("law@a.org", "org-a", Role::Lawyer).await;
    let f = app.facility("Siglo XXI").await;
    let analyst = app.login("an@a.org").await;
    let (_, page) = get_text(&analyst, app.url(&format!("/facilities/{f}"))).await;
    assert!(page.contains("Tu rol no da acceso a las notas privadas."));
    assert!(!page.contains("id=\"edit-facility\""));
    assert_eq!(analyst.get(app.url("/facilities/new")).send().await.expect("get").status(), 403);
    assert_eq!(analyst.get(app.url("/audit")).send().await.expect("get").status(), 403);

    let (a, csrf) = app.login_with_csrf("law@a.org", &format!("/facilities/{f}")).await;
    let r = a
        .post(app.url(&format!("/facilities/{f}/notes")))
        .form(&[("csrf", csrf.as_str()), ("body", "Testimonio reservado de R. M.")])
        .send()
        .await
        .expect("note");
    assert_eq!(r.status(), 303);
    let (_, page) = get_text(&a, app.url(&format!("/facilities/{f}"))).await;
    assert!(page.contains("Testimonio reservado de R. M."));
    let b = app.login("law@b.org").await;
    let (_, page) = get_text(&b, app.url(&format!("/facilities/{f}"))).await;
    assert!(!page.contains("Testimonio reservado"));
    assert!(page.contains("Tu organización no tiene notas sobre este centro."));
    let (status, _) = get_text(&b, app.url("/facilities/99999")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_import_page_names_bad_rows_and_imports_good_files() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("coord@a.org", "org-a", Role::Coordinator).await;
    let c = app.login("coord@a.org").await;
    let (status, page) = get_text(&c, app.url("/facilities/import")).await;
    assert_eq!(status, 200);
    let csrf = csrf_of(&page);
    let upload = |csv: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part("file", reqwest::multipart::Part::bytes(csv.as_bytes()).file_name("f.csv"));
        c.post(app.url("/facilities/import")).multipart(form).send()
    };
    let r = upload("name,kind,state_code\nA,estacion_migratoria,07\nB,prison,07\n").await.expect("post");
    assert_eq!(r.status(), 422);
    let page = r.text().await.expect("t");
    assert!(page.contains("No se importó nada: hay 1 problema."), "{page}");
    assert!(
        page.contains("<td class=\"num\">3</td><td><code>kind</code></td><td>No es una de las opciones.</td>"),
        "{page}"
    );
    let r = upload("name,kind,state_code\nA,estacion_migratoria,07\nB,other,07\n").await.expect("post");
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("t").contains("Se importaron 2 centros."));
    let no_csrf = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"x".to_vec()));
    assert_eq!(c.post(app.url("/facilities/import")).multipart(no_csrf).send().await.expect("post").status(), 403);
}

#[tokio::test]
async fn admins_manage_only_their_own_organizations_people() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("admin@a.org", "org-a", Role::Admin).await;
    let mon = app.user("mon@a.org", "org-a", Role::Monitor).await;
    let outsider = app.user("x@b.org", "org-b", Role::Monitor).await;
    let c = app.login("admin@a.org").await;
    let (status, page) = get_text(&c, app.url("/admin/users")).await;
    assert_eq!(status, 200);
    assert!(page.contains("mon@a.org") && !page.contains("x@b.org"));
    let csrf = csrf_of(&page);
    let add = |email: &'static str, pw: &'static str| {
        c.post(app.url("/admin/users"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", email),
                ("display_name", "Nueva"),
                ("role", "lawyer"),
                ("password", pw),
            ])
            .send()
    };
    let r = add("nueva@a.org", "corta").await.expect("post");
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("t").contains("id=\"e-password\">Debe tener al menos 12 caracteres.</p>"));
    let r = add("mon@a.org", "una clave larga de prueba").await.expect("post");
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("t").contains("Ya hay una cuenta con este correo."));
    let r = add("nueva@a.org", crate::helpers::PASSWORD).await.expect("post");
    assert_eq!(r.status(), 303);
    app.login("nueva@a.org").await;

    let r = c
        .post(app.url(&format!("/admin/users/{}/disable", outsider.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 404, "another organization's user cannot be reached");
    let r = c
        .post(app.url(&format!("/admin/users/{}/disable", mon.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let (b, token) = app.login_form().await;
    let r = b
        .post(app.url("/login"))
        .form(&[("csrf", token.as_str()), ("email", "mon@a.org"), ("password", crate::helpers::PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 401, "a disabled user cannot sign in");
    let m = app.login("x@b.org").await;
    assert_eq!(m.get(app.url("/admin/users")).send().await.expect("get").status(), 403);
}

#[tokio::test]
async fn anyone_can_check_a_deadline_by_hand() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let c = app.browser();
    let (status, page) = get_text(&c, app.url("/clock?from=2019-02-18&working_days=15&calendar=lfpa")).await;
    assert_eq!(status, 200);
    assert!(page.contains("15 días hábiles después del 2019-02-18: 2019-03-11"), "{page}");
    assert!(page.contains(
        "<td>2019-02-23</td><td>sábado (LFPA art. 28; texto del art. 28 sin reformas desde la publicación de la Ley (DOF 04-08-1994))</td>"
    ));
    assert!(page.contains("href=\"/legal\""), "the rules are a link away");
    // The law as published, and what it leaves open said on the page (an agency's
    // calendar carries LFPA's notes), never an unverified mark.
    let (_, page) = get_text(&c, app.url("/clock?from=2024-09-27&working_days=3&calendar=inm")).await;
    assert!(page.contains("3 días hábiles después del 2024-09-27: 2024-10-02"), "{page}");
    assert!(page.contains("para 2024 y 2030 no se cuenta como inhábil"), "{page}");
    // …and on the day itself: 1 October 2024 counts, and the row says why it is disputed.
    assert!(page.contains("<td>2024-10-01</td><td>cuenta (2) — texto ambiguo: 1 de octubre: desde 2024"), "{page}");
    assert!(!page.to_lowercase().contains("verificar"));
    let (status, page) = get_text(&c, app.url("/clock?from=2019-02-18&working_days=-3&calendar=lfpa")).await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"e-working_days\""));
}

/// The rules page: every calendar and rule with its article, published text or a
/// summary that says so, and version, from the data the engine counts with; public, in
/// both languages, with the days an administrator declared and no placeholder.
#[tokio::test]
async fn the_rules_page_shows_every_rule_with_its_text_and_version() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let anon = app.browser();
    let (status, es) = get_text(&anon, app.url("/legal")).await;
    assert_eq!(status, 200);
    for want in [
        "<h1>Reglas y textos legales</h1>",
        // LFPA art. 28 quoted, with its version, and the 2024 question.
        "No se considerarán días hábiles: los sábados, los domingos",
        "sin reformas desde la publicación de la Ley (DOF 04-08-1994)",
        "1 de octubre: desde 2024 es la transmisión del Poder Ejecutivo Federal",
        // Amparo art. 19 with 14 September, and the amparo without a time limit.
        "catorce y dieciséis de septiembre",
        "<td>14 de septiembre</td>",
        "reforma publicada en el DOF el 19-01-2018",
        "en cualquier tiempo",
        // Detention, asylum and children, with their versions.
        "Ley de Migración art. 111",
        "reforma publicada en el DOF el 12-07-2018",
        "15 días hábiles; 60 con causal I–IV; sin fin con la causal V",
        "45 días hábiles; 90 con ampliación",
        "hasta por un período igual",
        "En ningún caso, el Instituto presentará ni alojará a niñas, niños o adolescentes migrantes",
        "Reglamento de la LGDNNA (2015)",
        "con efectos solo para quienes lo promovieron",
        // Non-refoulement, quoted.
        "Ningún solicitante o refugiado podrá en modo alguno ser rechazado en frontera",
        "Posible devolución prohibida",
    ] {
        assert!(es.contains(want), "missing {want:?}");
    }
    for bad in ["[por verificar", "[verify", "verificar]", "DOMAIN", ".md"] {
        assert!(!es.contains(bad), "the page shows {bad:?}");
    }
    // The same data as JSON, and the page in English.
    let r: serde_json::Value = anon
        .get(app.url("/api/v1/legal"))
        .header("accept-language", "en")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(r["calendars"].as_array().map(Vec::len), Some(7));
    // The laws information requests are counted under, each deadline with its article
    // and words, and what could not be verified said so (issue #20).
    let regimes = r["requests"].as_array().expect("requests");
    assert_eq!(regimes.len(), 3);
    let r2015 = regimes.iter().find(|g| g["name"] == "lgtaip-2015").expect("2015");
    assert!(r2015["unverified"].as_array().is_some_and(|u| u.len() == 3), "{r2015}");
    assert!(r2015["rules"].to_string().contains("art. 142"), "{r2015}");
    assert_eq!(r["deadlines"].as_array().map(Vec::len), Some(6));
    assert_eq!(r["violations"].as_array().map(Vec::len), Some(4));
    for rule in r["deadlines"].as_array().expect("deadlines") {
        assert!(rule["version"].as_str().is_some_and(|v| !v.is_empty()), "{rule}");
        assert!(rule["summary"].as_str().is_some_and(|s| !s.is_empty()), "{rule}");
    }
    // An administrator settles 1 October 2024 for the INM: the page lists it, with its source.
    app.user("admin@a.org", "org-a", Role::Admin).await;
    let (admin, csrf) = app.login_with_csrf("admin@a.org", "/admin/calendars").await;
    let r = admin
        .post(app.url("/admin/calendars"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("calendar", "inm"),
            ("start_date", "2024-10-01"),
            ("label_es", "Transmisión del Poder Ejecutivo Federal"),
            ("label_en", "Transfer of federal executive power"),
            ("source", "Acuerdo del INM publicado en el DOF (prueba)"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let (_, es) = get_text(&anon, app.url("/legal")).await;
    assert!(es.contains("<td>Transmisión del Poder Ejecutivo Federal</td><td>2024-10-01</td><td>Acuerdo del INM publicado en el DOF (prueba)</td>"), "{es}");
    let (_, page) = get_text(&anon, app.url("/clock?from=2024-09-30&working_days=1&calendar=inm")).await;
    assert!(
        page.contains("1 días hábiles después del 2024-09-30: 2024-10-02") && !page.contains("texto ambiguo"),
        "settled for the INM"
    );
    let (_, page) = get_text(&anon, app.url("/clock?from=2024-09-30&working_days=1&calendar=comar")).await;
    assert!(page.contains("texto ambiguo"), "still open for COMAR");
}

#[tokio::test]
async fn agency_suspensions_entered_by_an_admin_move_the_deadlines() {
    for app in TestApp::all().await {
        app.user("admin@a.org", "org-a", Role::Admin).await;
        let c = app.login("admin@a.org").await;
        let (status, page) = get_text(&c, app.url("/admin/calendars")).await;
        assert_eq!(status, 200);
        let csrf = csrf_of(&page);
        let post = |start: &'static str, end: &'static str, source: &'static str| {
            c.post(app.url("/admin/calendars"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("calendar", "comar"),
                    ("start_date", start),
                    ("end_date", end),
                    ("label_es", "Suspensión de plazos por la contingencia"),
                    ("source", source),
                ])
                .send()
        };
        let r = post("2020-04-30", "2020-04-01", "").await.expect("post");
        assert_eq!(r.status(), 422);
        let page = r.text().await.expect("t");
        assert!(page.contains("id=\"e-end_date\">No puede ser anterior a la fecha de inicio.</p>"));
        assert!(page.contains("id=\"e-source\">Este campo es obligatorio.</p>"));
        let r = post("2020-04-01", "2020-04-30", "Acuerdo COMAR, DOF (prueba)").await.expect("post");
        assert_eq!(r.status(), 303);

        let http = reqwest::Client::new();
        let get = |cal: &str| {
            http.get(app.url(&format!("/api/v1/clock/add?from=2020-03-31&working_days=1&calendar={cal}&explain=true")))
                .send()
        };
        let comar: serde_json::Value = get("comar").await.expect("get").json().await.expect("json");
        assert_eq!(comar["to"], "2020-05-04", "April suspended, 1 May a holiday");
        assert!(comar["days"][0]["reasons"][0].as_str().expect("reason").contains("Acuerdo COMAR, DOF (prueba)"));
        let lfpa: serde_json::Value = get("lfpa").await.expect("get").json().await.expect("json");
        assert_eq!(lfpa["to"], "2020-04-01", "only COMAR is suspended");
        let (_, page) = get_text(&c, app.url("/clock?from=2020-03-31&working_days=1&calendar=comar")).await;
        assert!(page.contains("2020-05-04"));
        assert!(app.store.verify_audit().await.expect("verify").ok());
    }
}

#[tokio::test]
async fn audit_alerts_and_facilities_lists_count_everything_page_and_export() {
    for app in crate::helpers::TestApp::all().await {
        let (_, token) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        let coord = app.user("coord@a.org", "org-a", Role::Coordinator).await;
        let siglo = app.facility_in("Estación Migratoria Siglo XXI", "07").await;
        let agujas = app.facility_in("Estancia Provisional Las Agujas", "09").await;
        let org = app.org("org-a").await;
        // 120 attempts, one by one: 120 entries in the organization's history.
        for i in 0..120 {
            let body = serde_json::json!({"facility_id": siglo, "attempted_at": format!("2020-02-{:02}T{:02}:00", 1 + i / 24, i % 24),
                "purpose": "monitoring", "outcome": if i == 119 { "denied" } else { "granted" }});
            let (s, _) = app.post_attempt(&token, &body).await;
            assert_eq!(s, 201);
        }
        // 130 alerts in the inbox, half of them read.
        for i in 0..130 {
            let a = app
                .store
                .raise_alert(org, "episode", &format!("test-{i}"), None, &format!("{{\"refusals\": {i}, \"attempts\": 9, \"organizations\": 1, \"facilities\": [\"Siglo XXI\"], \"start\": \"2020-02-01\", \"end\": \"2020-02-07\"}}"))
                .await
                .expect("alert")
                .expect("new");
            if i % 2 == 0 {
                app.store.mark_alert_read(org, a.id, 1).await.expect("read");
            }
        }
        let c = app.login("coord@a.org").await;

        let (s, page) = crate::helpers::get_text(&c, app.url("/audit")).await;
        assert_eq!(s, 200);
        let total = app.store.count_audit_entries(Some(org), None).await.expect("count");
        assert!(total > 120, "{total}");
        assert!(page.contains(&format!("Mostrando 1–100 de {total} entradas")), "the real total");
        assert!(page.contains("Mario Monitor (monitoreo)") || page.contains("(monitoreo)"), "who, by name and role");
        assert!(page.contains("Intento de acceso #"), "the record in words");
        let csv = c.get(app.url("/audit.csv")).send().await.expect("csv").text().await.expect("text");
        let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        assert_eq!(rows.len() as i64, total, "every entry");
        // Each row's previous hash is the next row's hash: the chain can be checked from the file.
        // (The chain runs through every organization's entries: where two of this
        // organization's entries are consecutive in it, they are linked.)
        let seq = |r: &csv::StringRecord| r[0].parse::<i64>().expect("seq");
        let linked: Vec<_> = rows.windows(2).filter(|w| seq(&w[0]) == seq(&w[1]) + 1).collect();
        assert!(linked.len() >= 100 && linked.iter().all(|w| w[0][6] == w[1][5]), "a chain");

        // The refusal among the attempts raised one more alert of its own.
        let stored = app.store.alerts(org, 1000).await.expect("alerts");
        let unread = stored.iter().filter(|a| a.read_at.is_none()).count();
        assert_eq!((stored.len(), unread), (131, 66));
        let (_, page) = crate::helpers::get_text(&c, app.url("/alerts")).await;
        let count = page.split("id=\"list-count\">").nth(1).and_then(|p| p.split('<').next()).unwrap_or("");
        assert!(count.contains("Mostrando 1–100 de") && page.contains("id=\"read-all\""), "{count}");
        assert_eq!(count, "Mostrando 1–100 de 131 alertas");
        let csv = c.get(app.url("/alerts.csv")).send().await.expect("csv").text().await.expect("text");
        assert_eq!(csv.lines().count(), 132);
        assert_eq!(csv.matches(",Sin leer").count(), 66);
        let (_, page) = crate::helpers::get_text(&c, app.url("/alerts")).await;
        let r = c
            .post(app.url("/alerts/read-all"))
            .form(&[("csrf", crate::helpers::csrf_of(&page))])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 303);
        let unread = app.store.alerts(org, 1000).await.expect("alerts").iter().filter(|a| a.read_at.is_none()).count();
        assert_eq!(unread, 0, "all read with one press");

        let (_, page) = crate::helpers::get_text(&c, app.url("/facilities?q=siglo")).await;
        assert!(page.contains("Estación Migratoria Siglo XXI") && !page.contains("Las Agujas"), "searched");
        assert!(page.contains("Negado, 2020-02-05"), "the latest attempt, in words");
        let (_, page) = crate::helpers::get_text(&c, app.url("/facilities?q=ciudad")).await;
        assert!(page.contains("Las Agujas") && !page.contains("Siglo XXI"), "by state name, accents ignored");
        let csv = c.get(app.url("/facilities.csv")).send().await.expect("csv").text().await.expect("text");
        assert_eq!(csv.lines().count(), 3);
        assert!(csv.contains("Sin intentos registrados"));
        let _ = (agujas, coord);
    }
}

#[tokio::test]
async fn acceso_finds_the_demo_statements_about_access_and_facets_narrow_them() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo");
    let c = app.browser();
    let page = get_text(&c, app.url("/login")).await.1;
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("email", "analisis@coalicion.example"),
            ("password", vigia_cli::demo::PASSWORD),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 303);
    let about_access = app
        .store
        .statements()
        .await
        .expect("statements")
        .iter()
        .filter(|s| s.claims.iter().any(|c| c.draft.topic == "ngo_access"))
        .count();
    assert!(about_access > 0, "the demo has statements about access");
    for (q, lang) in [("acceso", "es"), ("access", "en")] {
        let c = app.browser();
        let page = get_text(&c, app.url("/login")).await.1;
        c.post(app.url("/login"))
            .form(&[
                ("csrf", csrf_of(&page).as_str()),
                ("email", "analisis@coalicion.example"),
                ("password", vigia_cli::demo::PASSWORD),
            ])
            .send()
            .await
            .expect("login");
        let (s, page) = get_text(&c, app.url(&format!("/statements?q={q}"))).await;
        assert_eq!(s, 200);
        let count = page.split("id=\"list-count\">").nth(1).and_then(|p| p.split(' ').next()).unwrap_or("0");
        let n: usize = count.parse().unwrap_or(if count == "Una" || count == "One" { 1 } else { 0 });
        assert!(n >= about_access, "{q} ({lang}) finds the {about_access} statements about access: {count}");
        assert!(page.contains("<mark>"), "hits are marked");
        // Facets: by authority, in words, with counts; choosing one narrows the list.
        let facet = page.split("<nav class=\"facets\"").nth(1).expect("facets");
        assert!(facet.contains("INM (") || facet.contains("Instituto Nacional de Migración ("), "{facet}");
        assert!(!facet.contains(">ngo_access") && !facet.contains(">inm "), "topics and authorities in words");
        let href =
            facet.split("href=\"").nth(1).and_then(|h| h.split('"').next()).expect("a facet").replace("&amp;", "&");
        let (_, narrowed) = get_text(&c, app.url(&href)).await;
        assert!(narrowed.contains("aria-current=\"true\""), "the chosen facet is shown as chosen");
    }
}
