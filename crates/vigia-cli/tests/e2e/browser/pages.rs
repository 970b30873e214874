//! Every page at once: accessibility in every role, where each role lands, error pages,
//! the rules page, and a long list paged to its end.

use fantoccini::{Client, Locator};
use vigia_domain::account::Role;

use super::{browser, click, screenshot_dir, sign_in, sign_in_demo, text_of, text_until, wait_for, wait_h1};
use crate::helpers::TestApp;

/// A lawyer checks a rule on a phone and on a desktop, in both languages: the rules
/// page fits the screen (no sideways scrolling) and the quoted texts are there.
#[tokio::test]
async fn a_lawyer_reads_the_rules_on_a_phone_and_a_desktop_in_both_languages() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    for (width, height, device) in [(412, 915, "phone"), (1280, 900, "desktop")] {
        let Some((_driver, c)) = browser(width, height).await else {
            return;
        };
        c.goto(&app.url("/clock")).await.expect("goto");
        click(&c, "#rules-link").await;
        wait_h1(&c, "Reglas y textos legales").await;
        let lfpa = text_of(&c, "#calendar-lfpa").await;
        assert!(lfpa.contains("No se considerarán días hábiles"), "{lfpa}");
        let refoulement = text_of(&c, "#violation-possible_refoulement").await;
        assert!(refoulement.contains("Ningún solicitante o refugiado"), "{refoulement}");
        let fits = |c: &Client| {
            let c = c.clone();
            async move {
                c.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
                    .await
                    .expect("measure")
                    .as_bool()
                    .unwrap_or(false)
            }
        };
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("legal-es-{device}.png")), png);
        click(&c, "#lang-switch").await;
        wait_h1(&c, "Rules and legal texts").await;
        let amparo = text_of(&c, "#rule-amparo_any_time").await;
        assert!(amparo.contains("At any time, on any day and at any hour"), "{amparo}");
        assert!(fits(&c).await, "no sideways scrolling on the {device} in English");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("legal-en-{device}.png")), png);
        c.close().await.expect("close");
    }
}

/// axe-core (vendored from npm, see tests/vendor/axe-core/SOURCE.md), run inside a page:
/// the serious and critical violations of WCAG 2.0–2.2 A/AA and best practice, each as
/// "rule: help (first elements)".
pub(super) async fn axe_violations(c: &Client) -> Vec<String> {
    const AXE: &str = include_str!("../../vendor/axe-core/axe.min.js");
    c.execute(AXE, vec![]).await.expect("axe loads");
    let out = c
        .execute_async(
            "var done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']}).then(function (r) {
               done(r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
                 .map(function (v) {
                   return v.id + ': ' + v.help + ' (' + v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); }).join(' | ') + ')';
                 }));
             }, function (e) { done(['axe failed: ' + e]); });",
            vec![],
        )
        .await
        .expect("axe runs");
    out.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// Text inside drawings (charts, the map, the timeline) that renders under 11 CSS px:
/// the font size times the drawing's scale on screen. Drawings inside a region that
/// scrolls sideways keep their size, so they are not scaled down.
async fn small_svg_text(c: &Client) -> Vec<String> {
    let out = c
        .execute(
            "var bad = [];
             document.querySelectorAll('svg text').forEach(function (t) {
               var svg = t.ownerSVGElement; if (!svg || !svg.getScreenCTM()) return;
               var size = parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a;
               if (size < 11 && t.textContent.trim() !== '') bad.push((svg.id || svg.getAttribute('class') || 'svg') + ': ' + t.textContent.trim().slice(0, 20) + ' = ' + size.toFixed(1));
             });
             return bad.slice(0, 5);",
            vec![],
        )
        .await
        .expect("svg text");
    out.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

#[tokio::test]
async fn every_page_has_no_serious_accessibility_violation_on_a_phone_or_a_desktop_in_every_role() {
    let Some((_driver, c)) = browser(1280, 900).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    let coord = app.store.user_by_email("coordinacion@defensoria.example").await.expect("user").expect("user").0;
    let org = coord.org_id;
    let facility = app.store.list_facilities().await.expect("facilities")[0].id;
    let filter = vigia_domain::access::AttemptFilter { limit: 1, ..Default::default() };
    let attempt = app.store.list_attempts(org, &filter).await.expect("attempts")[0].id;
    let visit = app.store.visits(org, None).await.expect("visits").first().map(|v| v.id).unwrap_or(1);
    let statement = app.store.statements().await.expect("statements").first().map(|s| s.id).unwrap_or(1);
    let case =
        app.store.cases_with_facts(Some(&[org]), false).await.expect("cases").first().map(|c| c.case.id).unwrap_or(1);
    let common = vec![
        "/facilities".to_string(),
        format!("/facilities/{facility}"),
        "/access".into(),
        format!("/access/{attempt}"),
        "/analysis".into(),
        "/statements".into(),
        format!("/statements/{statement}"),
        "/statements/timeline".into(),
        "/contradictions".into(),
        "/alerts".into(),
        "/legal".into(),
        "/account".into(),
        "/account/email".into(),
        "/overview".into(),
        "/reports".into(),
        "/reports/period?from=2019-10-01&until=2020-03-31".into(),
        format!("/reports/period?scope=coalition&year=2020&facility_id={facility}&lang=en"),
        format!("/visits/{visit}/report"),
        "/publications".into(),
        format!("/cases/{case}/summary?lang=en"),
        "/no-such-page".into(),
    ];
    let roles: Vec<(&str, Vec<String>)> = vec![
        (
            "coordinacion@defensoria.example",
            ["/audit", "/visits", "/admin/users", "/admin/webhooks", "/admin/calendars"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        (
            "abogada@defensoria.example",
            vec![
                "/cases".into(),
                format!("/cases/{case}"),
                "/cases/new".into(),
                "/cases/report".into(),
                "/today".into(),
                "/clock".into(),
            ],
        ),
        (
            "monitoreo@defensoria.example",
            vec![
                "/start".into(),
                "/access/new".into(),
                "/visits/new".into(),
                format!("/visits/{visit}"),
                "/facilities/new".into(),
            ],
        ),
        ("analisis@defensoria.example", vec!["/analysis".into(), "/statements".into()]),
    ];
    let mut found = Vec::new();
    let mut pages = 0;
    for (email, own) in &roles {
        c.delete_all_cookies().await.expect("cookies");
        c.set_window_size(1280, 900).await.expect("size");
        sign_in_demo(&c, &app, email).await;
        wait_for(&c, "main h1").await;
        let paths: Vec<&String> = if *email == "coordinacion@defensoria.example" {
            common.iter().chain(own).collect()
        } else {
            own.iter().collect()
        };
        for (w, h) in [(1280, 900), (412, 915)] {
            c.set_window_size(w, h).await.expect("size");
            for path in &paths {
                c.goto(&app.url(path)).await.expect("goto");
                wait_for(&c, "main").await;
                pages += 1;
                for v in axe_violations(&c).await {
                    found.push(format!("{email} {path} @{w}px: {v}"));
                }
                if w < 500 {
                    for v in small_svg_text(&c).await {
                        found.push(format!("{email} {path} @{w}px: svg text under 11 px: {v}"));
                    }
                }
            }
        }
    }
    // And signed out: the sign-in page and the public rules.
    c.delete_all_cookies().await.expect("cookies");
    for (w, h) in [(1280, 900), (412, 915)] {
        c.set_window_size(w, h).await.expect("size");
        for path in ["/login", "/legal"] {
            c.goto(&app.url(path)).await.expect("goto");
            wait_for(&c, "main").await;
            pages += 1;
            for v in axe_violations(&c).await {
                found.push(format!("anonymous {path} @{w}px: {v}"));
            }
        }
    }
    eprintln!("axe-core ran on {pages} page views");
    assert!(found.is_empty(), "{} serious or critical violations:\n{}", found.len(), found.join("\n"));
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_thousand_attempts_page_to_the_end_on_a_phone_and_the_csv_has_them_all() {
    let Some((_driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, token) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
    let f = app.facility("Estación Migratoria Tapachula").await;
    let mut csv = String::from("facility_id,attempted_at,purpose,outcome\n");
    for i in 0..1000 {
        let day = jiff::civil::date(2020, 1, 1).checked_add(jiff::Span::new().days(i / 24)).expect("day");
        csv.push_str(&format!(
            "{f},{day}T{:02}:00,monitoring,{}\n",
            i % 24,
            if i % 3 == 0 { "denied" } else { "granted" }
        ));
    }
    app.import_attempts(&token, csv).await;
    sign_in(&c, &app.url(""), "mon@a.org").await;
    c.goto(&app.url("/access")).await.expect("goto");
    wait_h1(&c, "Intentos de acceso").await;
    assert_eq!(text_of(&c, "#list-count").await, "Mostrando 1–100 de 1000 intentos");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("access-list-phone.png"), png);
    let mut rows = 0;
    let mut pages = 0;
    loop {
        pages += 1;
        rows += c.find_all(Locator::Css("#attempts tbody tr")).await.expect("rows").len();
        if c.find(Locator::Css("#next-page")).await.is_err() {
            break;
        }
        let before = text_of(&c, "#list-count").await;
        click(&c, "#next-page").await;
        text_until(&c, "#list-count", |t| t != before).await;
    }
    assert_eq!((pages, rows), (10, 1000), "every attempt, on ten pages");
    assert_eq!(text_of(&c, "#list-count").await, "Mostrando 901–1000 de 1000 intentos");
    // The CSV link of the page, as the browser would download it.
    let lines = c
        .execute_async(
            "var done = arguments[arguments.length - 1];
             fetch(document.getElementById('csv-export').href, {credentials: 'same-origin'})
               .then(function (r) { return r.text(); })
               .then(function (t) { done(t.trim().split('\\n').length); }, function (e) { done(-1); });",
            vec![],
        )
        .await
        .expect("csv");
    assert_eq!(lines.as_i64(), Some(1001), "a header and every attempt");
    c.close().await.expect("close");
}

#[tokio::test]
async fn each_role_lands_where_its_work_is_and_an_error_page_keeps_the_menu() {
    let Some((_driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    let coord = app.store.user_by_email("coordinacion@defensoria.example").await.expect("user").expect("user").0;
    let payload = serde_json::json!({"type": "access.suspected_suspension", "start": "2020-03-23", "end": "2020-06-15",
        "organizations": 3, "facilities": ["Siglo XXI"], "refusals": 70, "attempts": 104});
    app.store.raise_alert(coord.org_id, "episode", "test:episode", None, &payload.to_string()).await.expect("alert");
    let dir = screenshot_dir();
    for (email, heading, shot) in [
        ("abogada@defensoria.example", "Hoy: plazos de mis casos", "landing-lawyer-phone.png"),
        ("coordinacion@defensoria.example", "Resumen", "landing-coordinator-phone.png"),
        ("monitoreo@defensoria.example", "¿Qué quiere registrar?", "landing-monitor-phone.png"),
        ("analisis@defensoria.example", "Detention centers", "landing-analyst-phone-en.png"),
    ] {
        c.delete_all_cookies().await.expect("cookies");
        sign_in_demo(&c, &app, email).await;
        wait_h1(&c, heading).await;
        let _ = std::fs::write(dir.join(shot), c.screenshot().await.expect("screenshot"));
    }

    // The coordinator's menu counts unread alerts, and the inbox agrees.
    c.delete_all_cookies().await.expect("cookies");
    sign_in_demo(&c, &app, "coordinacion@defensoria.example").await;
    wait_h1(&c, "Resumen").await;
    let badge = text_of(&c, "#unread-count").await;
    let menu_count: String = badge.chars().take_while(|ch| ch.is_ascii_digit()).collect();
    assert!(!menu_count.is_empty(), "{badge}");
    let overview = text_of(&c, "#to-review").await;
    assert!(overview.contains("alertas sin leer en total"), "{overview}");
    c.goto(&app.url("/alerts")).await.expect("goto");
    wait_h1(&c, "Alertas").await;
    let unread = c.find_all(Locator::Css("#alerts li.unread")).await.expect("unread").len();
    if menu_count != "99" {
        assert_eq!(menu_count.parse::<usize>().expect("n"), unread, "menu and inbox agree");
    }
    assert!(text_of(&c, "#alerts").await.contains("Por atender"), "each alert says how urgent it is");
    c.find(Locator::Css("#read-all")).await.expect("read all").click().await.expect("click");
    wait_for(&c, "p.flash").await;
    assert!(c.find(Locator::Css("#unread-count")).await.is_err(), "no count once all are read");

    // An error page keeps the menu and says what to do, in both languages.
    c.goto(&app.url("/facilities/999999")).await.expect("goto");
    wait_h1(&c, "Algo no salió bien").await;
    assert!(c.find(Locator::Css("header nav a[href='/alerts']")).await.is_ok(), "the menu is there");
    assert!(text_of(&c, "#error-todo").await.contains("menú"), "it says what to do");
    let _ = std::fs::write(dir.join("error-phone-es.png"), c.screenshot().await.expect("screenshot"));
    click(&c, "#lang-switch").await;
    wait_h1(&c, "Something went wrong").await;
    assert!(text_of(&c, "#error-todo").await.contains("menu"));
    let _ = std::fs::write(dir.join("error-phone-en.png"), c.screenshot().await.expect("screenshot"));

    // The e-mail choices, on a phone.
    c.goto(&app.url("/account/email")).await.expect("goto");
    wait_h1(&c, "E-mail alerts").await;
    let _ = std::fs::write(dir.join("email-prefs-phone-en.png"), c.screenshot().await.expect("screenshot"));
    c.close().await.expect("close");
}
