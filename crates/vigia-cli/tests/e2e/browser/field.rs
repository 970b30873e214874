//! A monitor and a lawyer at work on a phone: registering a center, recording a denial with
//! a photo, a detention past its limit on the day's list.

use fantoccini::Locator;
use vigia_domain::account::Role;

use super::{
    browser, click, fill, follow, pick, screenshot_dir, submit_sign_in, text_of, text_until, wait_for, wait_h1,
};
use crate::helpers::{TestApp, PASSWORD};

#[tokio::test]
async fn a_monitor_signs_in_switches_language_and_registers_a_facility() {
    let Some((_driver, c)) = browser(390, 844).await else {
        return;
    };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;

    c.goto(&app.url("/")).await.expect("goto");
    wait_h1(&c, "Iniciar sesión").await;
    assert!(c.current_url().await.expect("url").path().starts_with("/login"));
    fill(&c, "#email", "mon@a.org").await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "button[type=submit]:not(.link)").await;
    // A monitor lands on what to record.
    wait_h1(&c, "¿Qué quiere registrar?").await;
    assert!(c.find(Locator::Css("#start-visit")).await.is_ok() && c.find(Locator::Css("#start-attempt")).await.is_ok());

    click(&c, "#lang-switch").await;
    wait_h1(&c, "What do you want to record?").await;
    follow(&c, "Detention centers").await;
    wait_h1(&c, "Detention centers").await;

    click(&c, "#new-facility").await;
    wait_h1(&c, "Register a detention center").await;
    fill(&c, "#f-name", "Estación Migratoria Tenosique").await;
    pick(&c, "#f-state_code option[value='27']").await;
    fill(&c, "#f-municipality", "Tenosique").await;
    fill(&c, "#f-latitude", "91.5").await;
    fill(&c, "#f-longitude", "-91.42").await;
    click(&c, "#save").await;
    text_until(&c, "#e-latitude", |t| t == "Must be between 14 and 33.").await;
    assert!(text_of(&c, "#form-errors").await.contains("1 error"));
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("facility-form-error-phone.png"), png);

    fill(&c, "#f-latitude", "17.47").await;
    click(&c, "#save").await;
    text_until(&c, ".flash", |t| t == "Center registered.").await;
    wait_h1(&c, "Estación Migratoria Tenosique").await;
    follow(&c, "Detention centers").await;
    wait_h1(&c, "Detention centers").await;
    let table = text_of(&c, "#facilities").await;
    assert!(table.contains("Estación Migratoria Tenosique"), "{table}");
    assert!(table.contains("Tabasco"), "{table}");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("facilities-phone.png"), png);
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_monitor_records_a_denial_on_a_phone() {
    let Some((_driver, c)) = browser(390, 844).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    let facility = app.facility("Estación Migratoria Comitán").await;
    submit_sign_in(&c, &app.url(""), "mon@a.org").await;
    wait_h1(&c, "¿Qué quiere registrar?").await;
    follow(&c, "Acceso").await;
    wait_h1(&c, "Intentos de acceso").await;
    click(&c, "#new-attempt").await;
    wait_h1(&c, "Registrar un intento de acceso").await;
    pick(&c, "#f-facility_id option:nth-child(2)").await;
    // A datetime-local input takes the digits in the browser's own order: set it directly.
    c.execute("document.getElementById('f-attempted_at').value = '2020-01-20T10:30';", vec![]).await.expect("set date");
    pick(&c, "#f-purpose option[value='legal_assistance']").await;
    pick(&c, "#f-outcome option[value='denied']").await;
    pick(&c, "#f-reason_category option[value='orders_from_above']").await;
    click(&c, "input[name=restrictions][value=no_phones]").await;
    fill(&c, "#f-reason_text", "Órdenes de arriba, dijo el guardia").await;
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("attempt-form-phone.png"), png);
    click(&c, "#save").await;
    text_until(&c, ".flash", |t| t == "Intento registrado.").await;
    assert!(text_of(&c, ".outcome").await.contains("Negado"));
    // A photo of the gate, from the phone.
    let photo = std::env::temp_dir().join(format!("vigia-caseta-{}.jpg", std::process::id()));
    std::fs::write(&photo, b"\xFF\xD8\xFF\xE0\x00\x10JFIF caseta").expect("photo");
    c.find(Locator::Css("#file"))
        .await
        .expect("file input")
        .send_keys(&photo.display().to_string())
        .await
        .expect("choose");
    click(&c, "#attach").await;
    text_until(&c, ".flash", |t| t == "Archivo adjuntado; su huella quedó en el historial.").await;
    let files = text_of(&c, "#files").await;
    assert!(
        files.contains("image/jpeg")
            && files.contains(&vigia_domain::audit::sha256_hex(b"\xFF\xD8\xFF\xE0\x00\x10JFIF caseta")),
        "{files}"
    );
    let _ = std::fs::remove_file(&photo);
    follow(&c, "Acceso").await;
    wait_h1(&c, "Intentos de acceso").await;
    let table = text_of(&c, "#attempts").await;
    assert!(table.contains("Estación Migratoria Comitán") && table.contains("Negado"), "{table}");
    assert!(text_of(&c, ".count").await.contains("1 intento"));
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("attempts-phone.png"), png);
    // Counted in the facility's calendar of outcomes: 20 January 2020 is a refusal.
    c.goto(&app.url(&format!("/facilities/{facility}"))).await.expect("goto");
    wait_h1(&c, "Estación Migratoria Comitán").await;
    let refused = text_until(&c, "#outcome-calendar td.cal-refused", |t| !t.is_empty()).await;
    assert_eq!(refused, "20");
    assert!(text_of(&c, "#cal-h").await.contains("2020"));
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("facility-calendar-phone.png"), png);
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_lawyer_sees_an_overdue_detention_today_records_the_release_and_it_leaves_the_list() {
    let Some((_driver, c)) = browser(390, 844).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let lawyer = app.user("abogada@a.org", "org-a", Role::Lawyer).await;
    let org = app.org("org-a").await;
    let raw = vigia_domain::input::RawInput::from_json(serde_json::json!({
        "reference": "DMS-2020-044", "full_name": "Wendy Carolina Ayala Mejía", "nationality": "SV",
        "age_group": "adult_18_59", "lawyer_user_id": lawyer.id,
    }))
    .expect("json");
    let today = jiff::civil::date(2026, 1, 1);
    let d = vigia_domain::case::validate_case(&raw, today).expect("case");
    let actor = vigia_store::Actor::user(&lawyer);
    let case = app.store.create_case(&actor, org, d).await.expect("case");
    let raw = vigia_domain::input::RawInput::from_json(serde_json::json!({"kind": "detained", "on": "2020-01-06"}))
        .expect("json");
    let e = vigia_domain::case::validate_event(&raw, today).expect("event");
    app.store.add_case_event(&actor, org, case.id, e).await.expect("event");

    submit_sign_in(&c, &app.url(""), "abogada@a.org").await;
    // A lawyer lands on the day's deadlines.
    wait_h1(&c, "Hoy: plazos de mis casos").await;
    follow(&c, "Hoy").await;
    wait_h1(&c, "Hoy: plazos de mis casos").await;
    let overdue = text_of(&c, "#overdue").await;
    assert!(overdue.contains("DMS-2020-044") && overdue.contains("Límite de detención"), "{overdue}");
    assert!(text_of(&c, "#past-limit").await.contains("DMS-2020-044"));
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("today-phone.png"), png);

    c.find(Locator::Css("#overdue a")).await.expect("case link").click().await.expect("click");
    // One identifier everywhere: the pseudonym, with the reference beside it for a lawyer.
    let h1 = text_until(&c, "main h1", |t| t.ends_with("· DMS-2020-044")).await;
    assert!(h1.starts_with("Caso P-"), "{h1}");
    assert!(text_of(&c, "#deadlines").await.contains("Vencido"));
    pick(&c, "#f-kind option[value='released']").await;
    fill(&c, "#f-note", "Salió con oficio de salida; la recogió su hermana.").await;
    click(&c, "#record-event").await;
    text_until(&c, ".flash", |t| t == "Evento registrado.").await;
    assert!(text_of(&c, "#events").await.contains("Liberado"));
    assert!(text_of(&c, "#deadlines").await.contains("Vencido antes de cerrarse"));
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("case-phone.png"), png);

    follow(&c, "Hoy").await;
    wait_h1(&c, "Hoy: plazos de mis casos").await;
    wait_for(&c, "#overdue-empty").await;
    assert!(c.find(Locator::Css("#past-limit")).await.is_err(), "no one is held past the limit any more");
    c.close().await.expect("close");
}
