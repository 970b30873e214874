//! A lawyer follows the demo's requests about the January 2020 suspension on a phone and
//! a desktop, in both languages (issue #20 part 1): the list says what to act on today,
//! the INM's request shows its deadlines with their articles (and the one the 2015 text
//! could not verify as not computed), and she records a new request and its answer
//! through the forms; axe finds nothing serious.

use super::{browser, click, fill, fits, screenshot_dir, sign_in_demo, text_of, text_until, wait_h1};
use crate::helpers::TestApp;

#[tokio::test]
async fn a_lawyer_follows_information_requests_on_a_phone_and_a_desktop() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    let org = app.org("defensoria-sur").await;
    let inm = app
        .store
        .requests(org)
        .await
        .expect("requests")
        .into_iter()
        .find(|r| r.draft.folio == "DEMO-0411100010520")
        .expect("the INM request");
    for (width, height, device) in [(412, 915, "phone"), (1280, 900, "desktop")] {
        let Some((_driver, c)) = browser(width, height).await else {
            return;
        };
        sign_in_demo(&c, &app, "abogada@defensoria.example").await;
        text_until(&c, "main h1", |t| !t.is_empty() && t != "Iniciar sesión").await;
        c.find(fantoccini::Locator::Css("nav a[href='/requests']")).await.expect("menu entry");
        c.goto(&app.url("/requests")).await.expect("goto");
        wait_h1(&c, "Solicitudes de acceso a la información").await;
        assert!(text_of(&c, "#requests").await.contains("DEMO-0063300004520"));
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: list");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("requests-es-{device}.png")), png);

        c.goto(&app.url(&format!("/requests/{}", inm.id))).await.expect("goto");
        wait_h1(&c, "INM DEMO-0411100010520").await;
        let deadlines = text_of(&c, "#req-deadlines").await;
        assert!(deadlines.contains("art. 132") && deadlines.contains("art. 142"), "{deadlines}");
        assert!(deadlines.contains("no se pudo verificar"), "the 2015 resolution deadline: {deadlines}");
        assert!(text_of(&c, "#req-events").await.contains("inexistencia"));
        assert!(text_of(&c, "#req-links").await.contains("Suspensión de acceso 2020-01-20 – 2020-01-31"));
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: detail");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("request-es-{device}.png")), png);

        if device == "desktop" {
            // A new request to COMAR under the 2025 law, after the transition, and its answer.
            c.goto(&app.url("/requests#new")).await.expect("goto");
            fill(&c, "#q-authority", "comar").await;
            fill(&c, "#q-folio", "330010825000777").await;
            c.execute("document.getElementById('q-filed').value='2025-07-01';", vec![]).await.expect("date");
            fill(&c, "#q-question", "Número de solicitudes de asilo presentadas desde estaciones migratorias.").await;
            click(&c, "#req-button").await;
            wait_h1(&c, "COMAR 330010825000777").await;
            assert!(text_of(&c, "#req-deadlines").await.contains("art. 134"));
            c.execute("document.getElementById('e-kind').value='answer';", vec![]).await.expect("kind");
            c.execute("document.getElementById('e-on').value='2025-07-15';", vec![]).await.expect("on");
            c.execute("document.getElementById('e-answer').value='partial';", vec![]).await.expect("type");
            click(&c, "#event-button").await;
            text_until(&c, "#req-events", |t| t.contains("entrega parcial")).await;
            assert!(text_of(&c, "#req-deadlines").await.contains("art. 144"), "the appeal window opened");
        }

        c.goto(&app.url(&format!("/requests/{}", inm.id))).await.expect("goto");
        wait_h1(&c, "INM DEMO-0411100010520").await;
        click(&c, "#lang-switch").await;
        text_until(&c, "#req-deadlines", |t| t.contains("could not be verified")).await;
        assert!(fits(&c).await, "no sideways scrolling on the {device} in English");
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: detail in English");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("request-en-{device}.png")), png);
        click(&c, "#lang-switch").await;
        text_until(&c, "main h1", |t| t.contains("DEMO-0411100010520")).await;
        c.close().await.expect("close");
    }
}
