//! The visit form on a phone: drafts kept on the device, offline, reloaded, shared and
//! killed, and sent once, by their author.

use std::time::Duration;

use fantoccini::{Client, Locator};
use vigia_domain::account::Role;

use super::{
    browser, click, fill, follow, pick, screenshot_dir, sign_in, text_of, text_until, wait_for, wait_h1, Cable,
};
use crate::helpers::TestApp;

/// Waits until the service worker controls the page, so it can serve the form offline.
async fn until_controlled(c: &Client) {
    for _ in 0..100 {
        let v = c
            .execute("return !!(navigator.serviceWorker && navigator.serviceWorker.controller);", vec![])
            .await
            .expect("js");
        if v == serde_json::Value::Bool(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service worker never controlled the form");
}

/// Taps an answer button (the radio inside it is hidden behind its label).
async fn answer(c: &Client, name: &str, value: &str) {
    let xpath = format!("//input[@name='{name}' and @value='{value}']/..");
    let el = c.find(Locator::XPath(&xpath)).await.expect(name);
    let arg = serde_json::to_value(&el).expect("element");
    c.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg]).await.expect("scroll");
    el.click().await.expect("tap");
}

async fn value_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.expect(css).prop("value").await.expect("value").unwrap_or_default()
}

async fn checked(c: &Client, name: &str, value: &str) -> bool {
    let css = format!("input[name='{name}'][value='{value}']");
    c.find(Locator::Css(&css)).await.expect(&css).prop("checked").await.expect("checked").as_deref() == Some("true")
}

/// Nothing reaches the server for a while: enough for a script that sends by itself to
/// have done it (it would, on load or on the `online` event, within milliseconds).
async fn nothing_sent(app: &TestApp, org: i64, why: &str) {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(app.store.visits(org, None).await.expect("visits").is_empty(), "{why}");
}

#[tokio::test]
async fn a_monitor_fills_a_visit_offline_and_it_is_sent_once_when_she_presses_send() {
    let Some((driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    let facility = app.facility("Estación Migratoria Tenosique").await;
    let org = app.org("org-a").await;
    let cable = Cable::to(&app).await;
    sign_in(&c, &cable.url(""), "mon@a.org").await;
    c.goto(&cable.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    until_controlled(&c).await;
    let time_in = value_of(&c, "#f-time_in").await;
    assert_eq!(time_in.len(), 5, "the time in defaults to now: {time_in:?}");

    // Offline as a phone is: the browser says so (navigator.onLine, the `online` event
    // later) and the server cannot be reached.
    cable.plug(false);
    driver.network(&c, false).await;
    pick(&c, &format!("#f-facility_id option[value='{facility}']")).await;
    click(&c, "#sec-population > summary").await;
    fill(&c, "[name='population.total']", "44").await;
    click(&c, "#sec-legal_safeguards > summary").await;
    answer(&c, "sections.legal_safeguards.interpreter", "no").await;
    assert_eq!(text_of(&c, "#sec-legal_safeguards .progress").await, "1/4");
    click(&c, "#sec-material_conditions > summary").await;
    fill(&c, "textarea[name='sections.material_conditions.observations']", "Colchonetas en el piso").await;
    text_until(&c, "#draft-status", |t| t.starts_with("Guardado en este dispositivo")).await;

    // Reload while offline, before pressing send: the page comes from the service worker,
    // the draft from this device, and it stays a draft.
    c.refresh().await.expect("reload");
    wait_h1(&c, "Registrar una visita").await;
    assert_eq!(value_of(&c, "[name='population.total']").await, "44", "the draft survived the reload");
    assert!(checked(&c, "sections.legal_safeguards.interpreter", "no").await, "the answer too");
    text_until(&c, "#draft-status", |t| t.starts_with("Guardado en este dispositivo")).await;
    // The connection returns: a draft nobody asked to send is not sent.
    cable.plug(true);
    driver.network(&c, true).await;
    nothing_sent(&app, org, "online again, but send was never pressed").await;
    assert!(text_of(&c, "#draft-status").await.starts_with("Guardado"), "still a draft");

    // Offline again; now she presses send: queued on the device.
    cable.plug(false);
    driver.network(&c, false).await;
    click(&c, "#send-visit").await;
    text_until(&c, "#draft-status", |t| t.starts_with("Sin conexión")).await;
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("visit-offline-queued-phone.png"), png);
    c.refresh().await.expect("reload");
    wait_h1(&c, "Registrar una visita").await;
    text_until(&c, "#draft-status", |t| t.starts_with("Sin conexión")).await;
    let state = text_of(&c, "#device-drafts-list li[data-state='queued'] .draft-state").await;
    assert!(state.starts_with("En cola"), "the list says it is queued: {state}");
    nothing_sent(&app, org, "the cable is out").await;

    cable.plug(true);
    driver.network(&c, true).await;
    text_until(&c, "#draft-status", |t| t == "Enviado.").await;
    let visits = app.store.visits(org, None).await.expect("visits");
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0].draft.population.total, Some(44));
    // Back again later: a sent draft is shown as sent, locked, and not sent twice.
    c.refresh().await.expect("reload");
    wait_h1(&c, "Registrar una visita").await;
    text_until(&c, "#draft-status", |t| t == "Enviado.").await;
    let locked = c.find(Locator::Css("#form-body")).await.expect("body").prop("disabled").await.expect("prop");
    assert_eq!(locked.as_deref(), Some("true"), "a sent report is not edited in place");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.store.visits(org, None).await.expect("visits").len(), 1, "exactly once");
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_reloaded_visit_form_sends_nothing_keeps_its_drafts_listed_and_a_conflict_becomes_a_correction() {
    let Some((_driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let monitor = app.user("mon@a.org", "org-a", Role::Monitor).await;
    let facility = app.facility("Estación Migratoria Siglo XXI").await;
    let org = app.org("org-a").await;
    sign_in(&c, &app.url(""), "mon@a.org").await;
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    pick(&c, &format!("#f-facility_id option[value='{facility}']")).await;
    click(&c, "#sec-population > summary").await;
    fill(&c, "[name='population.total']", "30").await;
    click(&c, "#add-finding").await;
    wait_for(&c, "#finding-1").await;
    pick(&c, "[name='findings.1.section'] option[value='material_conditions']").await;
    answer(&c, "findings.1.severity", "3").await;
    fill(&c, "[name='findings.1.description']", "Sin agua potable en el dormitorio").await;
    text_until(&c, "#draft-status", |t| t.starts_with("Guardado en este dispositivo")).await;
    let url = c.current_url().await.expect("url").to_string();
    assert!(url.contains("/visits/new?draft=v"), "the address names the draft: {url}");

    // The tab reloads (the camera was opened): the same draft, nothing sent.
    c.refresh().await.expect("reload");
    wait_h1(&c, "Registrar una visita").await;
    assert_eq!(value_of(&c, "[name='population.total']").await, "30");
    assert_eq!(value_of(&c, "[name='findings.1.description']").await, "Sin agua potable en el dormitorio");
    nothing_sent(&app, org, "a reload sends nothing").await;
    assert!(text_of(&c, "#draft-status").await.starts_with("Guardado"));

    // The form opened afresh: a new, empty draft, and the first one listed on this device.
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    assert_eq!(value_of(&c, "[name='population.total']").await, "", "a new draft starts empty");
    let row = text_of(&c, "#device-drafts-list li").await;
    assert!(row.contains("Estación Migratoria Siglo XXI") && row.contains("Borrador, sin enviar"), "{row}");
    nothing_sent(&app, org, "opening the form sends nothing").await;
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("visit-drafts-list-phone.png"), png);
    follow(&c, "Abrir").await;
    wait_h1(&c, "Registrar una visita").await;
    assert_eq!(value_of(&c, "[name='population.total']").await, "30");
    // Enter in a field (a phone keyboard's "Go") does not send.
    click(&c, "#sec-population > summary").await;
    c.find(Locator::Css("[name='population.total']")).await.expect("total").send_keys("\u{E007}").await.expect("enter");
    nothing_sent(&app, org, "Enter is not send").await;

    // An earlier send of this draft reached the server but its answer was lost, so the
    // device still holds it as a draft; she changes a figure and sends again. The server
    // keeps the first, and the page says so as an error and offers a correction.
    let key = url.split("draft=").nth(1).expect("key").to_string();
    let earlier = vigia_domain::visit::validate_visit(
        &serde_json::json!({"facility_id": facility, "on": "2020-03-10", "population": {"total": 29}}),
        jiff::civil::date(2026, 1, 1),
        None,
    )
    .expect("valid");
    let first =
        app.store.record_visit(&vigia_store::Actor::user(&monitor), org, &key, earlier).await.expect("record").0.id;

    fill(&c, "[name='population.total']", "31").await;
    click(&c, "#send-visit").await;
    text_until(&c, "#draft-status", |t| t.starts_with("No enviado")).await;
    let conflict = text_of(&c, "#conflict-box").await;
    assert!(conflict.contains("No se sobrescribió nada"), "{conflict}");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("visit-conflict-phone.png"), png);
    click(&c, "#send-correction").await;
    text_until(&c, "#draft-status", |t| t == "Enviado.").await;
    let visits = app.store.visits(org, None).await.expect("visits");
    assert_eq!(visits.len(), 2, "both reports are kept");
    assert!(visits.iter().any(|v| v.draft.findings.len() == 1), "the empty first finding slot is no finding");
    let second = visits.iter().find(|v| v.id != first).expect("correction");
    assert_eq!((second.draft.corrects, second.draft.population.total), (Some(first), Some(31)));
    c.find(Locator::Css("#sent-link")).await.expect("link").click().await.expect("click");
    let note = text_of(&c, "#corrects").await;
    assert!(note.starts_with("Este informe corrige la visita"), "{note}");
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_draft_queued_on_a_shared_phone_goes_out_only_as_its_author() {
    let Some((driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    app.user("mon@b.org", "org-b", Role::Monitor).await;
    let facility = app.facility("Estación Migratoria Tapachula").await;
    let (a, b) = (app.org("org-a").await, app.org("org-b").await);
    let base = app.url("");
    sign_in(&c, &base, "mon@a.org").await;
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    until_controlled(&c).await;
    driver.network(&c, false).await;
    pick(&c, &format!("#f-facility_id option[value='{facility}']")).await;
    click(&c, "#sec-notes > summary").await;
    fill(&c, "[name='interview_notes']", "Relata 40 días detenido").await;
    click(&c, "#send-visit").await;
    text_until(&c, "#draft-status", |t| t.starts_with("Sin conexión")).await;
    // Her session ends on the phone; the connection comes back; nothing goes out unsigned.
    c.delete_all_cookies().await.expect("cookies");
    driver.network(&c, true).await;
    text_until(&c, "#draft-status", |t| t.starts_with("No enviado")).await;
    // A colleague from another organization signs in on the same phone: the draft is not
    // listed for him and does not go out under his name.
    sign_in(&c, &base, "mon@b.org").await;
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(app.store.visits(b, None).await.expect("visits").is_empty(), "not under b");
    assert!(app.store.visits(a, None).await.expect("visits").is_empty(), "not yet");
    let listed = c.find(Locator::Css("#device-drafts")).await.expect("list").prop("hidden").await.expect("hidden");
    assert_eq!(listed.as_deref(), Some("true"), "another person's drafts are not listed");
    // She signs in again: her queued draft goes out, as hers.
    c.delete_all_cookies().await.expect("cookies");
    sign_in(&c, &base, "mon@a.org").await;
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    let mut sent = Vec::new();
    for _ in 0..150 {
        sent = app.store.visits(a, None).await.expect("visits");
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let said = text_of(&c, "#draft-status").await;
    assert_eq!(sent.len(), 1, "sent once, by its author (the page says {said:?})");
    assert!(sent[0].has_notes);
    // What was sent no longer sits in the browser's storage.
    let stored = c.execute("return localStorage.getItem('vigia-visit-drafts') || '';", vec![]).await.expect("js");
    assert!(!stored.as_str().unwrap_or("").contains("40 días"), "sent notes left the device: {stored}");
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_visit_typed_just_before_the_browser_is_killed_is_there_when_it_reopens() {
    let Some((driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    app.facility("Estación Migratoria Tenosique").await;
    sign_in(&c, &app.url("/"), "mon@a.org").await;
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    until_controlled(&c).await;
    pick(&c, "#f-facility_id option:nth-child(2)").await;
    let words = "Celda 3: cuarenta personas, sin colchones ni agua potable";
    click(&c, "#sec-material_conditions > summary").await;
    fill(&c, "textarea[name='sections.material_conditions.observations']", words).await;
    text_until(&c, "#draft-status", |t| t.starts_with("Guardado en este dispositivo")).await;
    let at = c.current_url().await.expect("url").to_string();
    // Moments later the phone's system kills the browser.
    tokio::time::sleep(Duration::from_millis(300)).await;
    driver.kill_browser();
    drop(c);

    let c = driver.session(412, 915).await;
    sign_in(&c, &app.url("/"), "mon@a.org").await;
    c.goto(&at).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    // What localStorage lost, the durable copy gives back: the page reopens with it.
    let kept = text_until(&c, "#draft-status", |t| t.starts_with("Guardado en este dispositivo")).await;
    until_controlled(&c).await;
    let typed = value_of(&c, "textarea[name='sections.material_conditions.observations']").await;
    assert_eq!(typed, words, "the words typed before the kill are there ({kept})");
    let visits = app.store.visits(app.org("org-a").await, None).await.expect("visits");
    assert!(visits.is_empty(), "and nothing was sent");
    c.close().await.expect("close");
}
