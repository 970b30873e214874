//! An analyst reads the official figures of the demo on a phone and a desktop, in both
//! languages (issue #18): the January 2020 timeline shows Honduras' returns rising next
//! to the refusals while access was closed, the series marks the break, a version shows
//! its correction, and axe finds nothing serious.

use super::{browser, click, fits, screenshot_dir, sign_in_demo, text_of, text_until, wait_h1};
use crate::helpers::TestApp;

#[tokio::test]
async fn an_analyst_sees_returns_rise_while_access_was_closed_on_a_phone_and_a_desktop() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    for (width, height, device) in [(412, 915, "phone"), (1280, 900, "desktop")] {
        let Some((_driver, c)) = browser(width, height).await else {
            return;
        };
        sign_in_demo(&c, &app, "analisis@defensoria.example").await;
        text_until(&c, "main h1", |t| !t.is_empty() && t != "Iniciar sesión").await;
        // The menu has it (on a phone behind its button); go there directly.
        c.find(fantoccini::Locator::Css("nav a[href='/statistics']")).await.expect("menu entry");
        c.goto(&app.url("/statistics")).await.expect("goto");
        // The demo's analyst reads in English; the page, then the rest in Spanish.
        wait_h1(&c, "Official statistics").await;
        assert!(text_of(&c, "#datasets").await.contains("demo values"));
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("statistics-en-{device}.png")), png);
        click(&c, "#lang-switch").await;
        wait_h1(&c, "Estadísticas oficiales").await;
        let list = text_of(&c, "#datasets").await;
        assert!(list.contains("3.2.1") && list.contains("valores de demostración"), "{list}");
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: statistics");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("statistics-es-{device}.png")), png);

        // The side-by-side view of January 2020.
        click(&c, "#timeline-link").await;
        wait_h1(&c, "Cifras oficiales junto a nuestros registros: Honduras").await;
        let table = text_of(&c, "#timeline").await;
        assert!(table.contains("Enero 2020") && table.contains("4870"), "{table}");
        assert!(table.contains("posible suspensión"), "the closing of January 2020 is beside the returns: {table}");
        let chart = text_of(&c, "#timeline-chart").await;
        assert!(chart.contains("Eventos, no personas"), "{chart}");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: timeline");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("statistics-timeline-es-{device}.png")), png);

        // The series marks the break of January 2020.
        c.goto(&app.url("/statistics/series?measure=returned&dimension=nationality&key=HND")).await.expect("goto");
        wait_h1(&c, "Serie: Honduras").await;
        let signals = text_of(&c, "#signals").await;
        assert!(signals.contains("Enero 2020") && signals.contains("quiebre"), "{signals}");
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: series");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");

        // In English.
        click(&c, "#lang-switch").await;
        wait_h1(&c, "Series: Honduras").await;
        let signals = text_of(&c, "#signals").await;
        assert!(signals.contains("January 2020") && signals.contains("break"), "{signals}");
        assert!(text_of(&c, "main").await.contains("Events, not people"));
        assert!(fits(&c).await, "no sideways scrolling on the {device} in English");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("statistics-series-en-{device}.png")), png);
        c.close().await.expect("close");
    }
}
