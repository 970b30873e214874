//! An analyst's pages: the statements timeline, the access analysis and its flagged
//! suspensions, and a partner's verdict on a contradiction.

use fantoccini::Locator;
use vigia_domain::account::Role;

use super::{
    browser, click, fill, follow, pick, screenshot_dir, sign_in_demo, submit_sign_in, text_of, text_until, wait_for,
    wait_h1,
};
use crate::helpers::TestApp;

#[tokio::test]
async fn an_analyst_zooms_the_statements_timeline_from_days_to_hours() {
    let Some((_driver, c)) = browser(1280, 900).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("analista@a.org", "org-a", Role::Analyst).await;
    let org = app.org("org-a").await;
    for (authority, at, position) in
        [("inm", "2020-01-27T19:30", "suspended"), ("segob", "2020-01-27T23:10", "denies_suspension")]
    {
        let raw =
            vigia_domain::input::RawInput::from_json(serde_json::json!({"authority": authority, "published_at": at,
            "channel": "press_release", "text": format!("Declaración de {authority}")}))
            .expect("json");
        let d = vigia_domain::statement::validate_statement(&raw, "America/Mexico_City", vigia_store::now_micros())
            .expect("valid");
        let s = app.store.create_statement(&vigia_store::Actor::SYSTEM, org, d).await.expect("statement");
        let raw = vigia_domain::input::RawInput::from_json(
            serde_json::json!({"topic": "ngo_access", "position": position, "from": "2020-01-27"}),
        )
        .expect("json");
        let claim = vigia_domain::statement::validate_claim(&raw).expect("claim");
        app.store.add_claim(&vigia_store::Actor::SYSTEM, s.id, claim).await.expect("claim");
    }
    submit_sign_in(&c, &app.url(""), "analista@a.org").await;
    wait_h1(&c, "Centros de detención").await;
    follow(&c, "Declaraciones").await;
    wait_h1(&c, "Declaraciones oficiales").await;
    click(&c, "#timeline-link").await;
    wait_h1(&c, "Línea de tiempo").await;
    assert_eq!(c.find_all(Locator::Css("#timeline-svg circle.statement")).await.expect("dots").len(), 2);
    assert_eq!(
        c.find_all(Locator::Css("#timeline-svg line.contradiction")).await.expect("lines").len(),
        1,
        "the conflict is drawn"
    );
    // The same, as a list a screen reader or a phone reads: both statements, the conflict named.
    let items = c.find_all(Locator::Css("#timeline-list li")).await.expect("list");
    assert_eq!(items.len(), 2);
    let list = text_of(&c, "#timeline-list").await;
    assert!(list.contains("Contradicción detectada: Contradicción entre autoridades (3 h 40 min)"), "{list}");
    let before = text_of(&c, "#timeline-range").await;
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("timeline-days.png"), png);
    // Zoom to hours around the middle: the two statements, 3 h 40 min apart, stay in view.
    follow(&c, "Horas").await;
    text_until(&c, "#timeline-range", |t| t != before).await;
    let ticks: Vec<String> = {
        let mut v = Vec::new();
        for el in c.find_all(Locator::Css("#timeline-svg text.tick")).await.expect("ticks") {
            v.push(el.text().await.expect("text"));
        }
        v
    };
    assert!(ticks.iter().all(|t| t.contains(':')), "hour ticks: {ticks:?}");
    assert_eq!(text_of(&c, "#timeline-count").await, "2");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("timeline-hours.png"), png);
    // Out to years: ticks are years.
    follow(&c, "Años").await;
    let range = text_until(&c, "#timeline-range", |t| t.contains("2018") || t.contains("2019")).await;
    assert!(range.contains("2021") || range.contains("2022"), "{range}");
    let tick = text_of(&c, "#timeline-svg text.tick").await;
    assert_eq!(tick.len(), 4, "year ticks: {tick}");
    c.close().await.expect("close");
}

#[tokio::test]
async fn an_analyst_filters_the_access_analysis_by_state_and_compares_before_and_after() {
    let Some((_driver, c)) = browser(1280, 900).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("an@a.org", "org-a", Role::Analyst).await;
    let (_, b) = app.api_user("mon@b.org", "org-b", Role::Monitor).await;
    app.coalition("red", &["org-a", "org-b"]).await;
    let siglo = app.facility("Siglo XXI").await;
    let agujas = app.facility_in("Las Agujas", "09").await;
    let csv = format!(
        "facility_id,attempted_at,purpose,outcome,visibility\n\
         {siglo},2024-02-10T10:00,monitoring,granted,coalition\n\
         {siglo},2024-02-11T10:00,legal_assistance,denied,coalition\n\
         {siglo},2024-03-10T10:00,monitoring,denied,coalition\n\
         {siglo},2024-03-11T10:00,monitoring,no_response,coalition\n\
         {agujas},2024-02-12T10:00,monitoring,granted,coalition\n"
    );
    app.import_attempts(&b, csv).await;

    submit_sign_in(&c, &app.url(""), "an@a.org").await;
    wait_h1(&c, "Centros de detención").await;
    follow(&c, "Análisis").await;
    wait_h1(&c, "Análisis del acceso").await;
    let by_facility = text_of(&c, "#by-facility").await;
    assert!(by_facility.contains("Siglo XXI") && by_facility.contains("Las Agujas"), "{by_facility}");

    // Chiapas only, compared before and after 1 March 2024.
    pick(&c, "#q-state option[value='07']").await;
    c.execute("document.getElementById('q-compare').value = '2024-03-01';", vec![]).await.expect("set date");
    click(&c, "#analysis-filters button[type=submit]").await;
    let compare = text_until(&c, "#compare", |t| t.contains("Siglo XXI")).await;
    assert!(compare.contains("50.0 %") && compare.contains("100.0 %"), "{compare}");
    assert!(!compare.contains("Las Agujas"), "Mexico City is filtered out: {compare}");
    let by_facility = text_of(&c, "#by-facility").await;
    assert!(!by_facility.contains("Las Agujas"), "{by_facility}");
    let url = c.current_url().await.expect("url");
    assert!(url.query().unwrap_or("").contains("state=07"), "the filter is in the address, to share: {url}");

    // The month chart is drawn: one bar a month, with a size on the page.
    let bars: Vec<f64> = serde_json::from_value(
        c.execute(
            "return [...document.querySelectorAll('figure.chart svg')[0].querySelectorAll('rect.bar')]\
             .map(r => r.getBoundingClientRect().width);",
            vec![],
        )
        .await
        .expect("bars"),
    )
    .expect("widths");
    assert_eq!(bars.len(), 2, "February and March 2024");
    assert!(bars.iter().all(|w| *w > 0.0), "{bars:?}");
    let figures = text_of(&c, "figure.chart svg").await;
    assert!(figures.contains("50 %") && figures.contains("100 %"), "each bar shows its rate: {figures}");
    c.execute("document.querySelector('figure.chart').scrollIntoView();", vec![]).await.expect("scroll");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("access-analysis-desktop.png"), png);
    c.close().await.expect("close");
}

/// Security review finding 12 as a person sees it, on a phone: a partner organization
/// confirmed a contradiction; an analyst of another organization reads that verdict,
/// attributed and dated but without its reason, beside the form for her own, in both
/// languages.
#[tokio::test]
async fn an_analyst_sees_a_partner_s_verdict_attributed_beside_her_own_form() {
    let Some((_driver, c)) = browser(412, 915).await else {
        return;
    };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, a) = app.api_user("analista@a.org", "org-a", Role::Analyst).await;
    app.user("analista@b.org", "org-b", Role::Analyst).await;
    app.coalition("red", &["org-a", "org-b"]).await;
    for (authority, at, position) in
        [("inm", "2020-01-27T19:30", "suspended"), ("segob", "2020-01-27T23:10", "denies_suspension")]
    {
        let (_, st) = app
            .post_statement(
                &a,
                &serde_json::json!({"authority": authority, "published_at": at, "channel": "press_release", "text": "Declaración"}),
            )
            .await;
        let (s, _) = app
            .post_claim(
                &a,
                &st["id"],
                &serde_json::json!({"topic": "ngo_access", "position": position, "from": "2020-01-27"}),
            )
            .await;
        assert_eq!(s, 201);
    }
    let found = app.get_json(&a, "/api/v1/contradictions").await;
    let key = found["items"][0]["key"].as_str().expect("a detection").to_string();
    let (s, _) = app
        .post_review(&a, &serde_json::json!({"key": key, "status": "confirmed", "reason": "Nota interna de A"}))
        .await;
    assert_eq!(s, 200);

    submit_sign_in(&c, &app.url(""), "analista@b.org").await;
    wait_for(&c, "h1").await;
    c.goto(&app.url("/contradictions")).await.expect("goto");
    wait_h1(&c, "Contradicciones").await;
    let other = text_of(&c, ".review-other").await;
    assert!(other.starts_with("Org org-a: Confirmada ("), "{other}");
    assert!(!c.source().await.expect("source").contains("Nota interna"), "another organization's reason stays its own");
    assert!(c.find(Locator::Css("form[action='/contradictions/review'] input[name=reason]")).await.is_ok());
    // The card quotes both statements side by side, each claim in plain words, and says
    // b has not reviewed it yet.
    let quotes = c.find_all(Locator::Css("#contradictions li.card:first-child figure.quote")).await.expect("quotes");
    assert_eq!(quotes.len(), 2, "both statements quoted");
    let card = text_of(&c, "#contradictions li.card:first-child").await;
    for words in ["suspende el acceso", "niega la suspensión", "Comunicado", "Sin revisar"] {
        assert!(card.contains(words), "{words} in {card}");
    }
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("contradictions-phone-es.png"), png);
    // Dismissing is a choice of its own, with a reason.
    fill(&c, "#contradictions li.card:first-child input[name=reason]", "Dos autoridades distintas").await;
    click(&c, "#contradictions li.card:first-child button[value=dismissed]").await;
    let own = text_until(&c, "#contradictions li.card:first-child .review-own", |t| t.contains("Descartada")).await;
    assert!(own.contains("Dos autoridades distintas"), "{own}");
    assert!(!text_of(&c, "#contradictions li.card:first-child").await.contains("Sin revisar"));
    click(&c, "#lang-switch").await;
    wait_h1(&c, "Contradictions").await;
    let other = text_of(&c, ".review-other").await;
    assert!(other.starts_with("Org org-a: Confirmed ("), "{other}");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("contradictions-phone-en.png"), png);
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_flagged_suspension_reads_in_words_and_is_shaded_on_the_chart_the_map_and_the_calendar() {
    let Some((_driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    sign_in_demo(&c, &app, "coordinacion@defensoria.example").await;
    wait_h1(&c, "Resumen").await;
    c.goto(&app.url("/access/analysis?from=2020-01-01&until=2020-12-31")).await.expect("goto");
    wait_h1(&c, "Análisis del acceso").await;
    let episodes = text_of(&c, "#episodes").await;
    assert!(episodes.contains("si nada hubiera cambiado") && episodes.contains("ventanas de"), "{episodes}");
    let flagged = c.find_all(Locator::Css("#chart-by-month rect.flagged")).await.expect("shaded").len();
    assert!(flagged >= 3, "the spring months are shaded on the monthly chart ({flagged})");
    assert!(!c.find_all(Locator::Css("svg.map circle.flagged")).await.expect("ringed").is_empty(), "and on the map");
    for (css, shot) in
        [("#episodes", "analysis-episodes-phone.png"), ("#chart-by-month", "analysis-chart-flagged-phone.png")]
    {
        c.execute(&format!("document.querySelector('{css}').scrollIntoView({{block: 'start'}});"), vec![])
            .await
            .expect("scroll");
        let _ = std::fs::write(screenshot_dir().join(shot), c.screenshot().await.expect("shot"));
    }
    // A center in the flagged period shows it on its calendar.
    let link = c.find(Locator::Css("svg.map circle.flagged + a")).await.expect("a ringed center");
    let href = link.attr("href").await.expect("attr").expect("href");
    c.goto(&app.url(&format!("{href}?year=2020"))).await.expect("goto");
    wait_for(&c, "#outcome-calendar").await;
    assert!(!c.find_all(Locator::Css("#outcome-calendar td.cal-flagged")).await.expect("days").is_empty());
    c.execute("document.querySelector('td.cal-flagged').scrollIntoView({block: 'center'});", vec![])
        .await
        .expect("scroll");
    let _ = std::fs::write(screenshot_dir().join("calendar-flagged-phone.png"), c.screenshot().await.expect("shot"));
    c.close().await.expect("close");
}
