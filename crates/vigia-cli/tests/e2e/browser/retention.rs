//! Retention on a phone and a desktop, in both languages (issue #20 part 3): the demo
//! coordinator reads the rule and the list, opens the case the demo erased (its page
//! says when and by whom, and offers no way to reveal the person), and erases another
//! case on the person's request through the form; axe finds nothing serious.

use super::{browser, click, fits, screenshot_dir, sign_in_demo, text_of, text_until};
use crate::helpers::TestApp;

#[tokio::test]
async fn retention_is_read_and_an_erasure_confirmed_on_a_phone_and_a_desktop() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    let org = app.org("defensoria-sur").await;
    let facts = app.store.retention_facts(org, None).await.expect("facts");
    let erased = facts.iter().find(|f| f.erasure.is_some()).expect("the demo's erased case").case_id;
    let mut closed = facts.iter().filter(|f| f.erasure.is_none() && f.closed_at.is_some() && !f.litigating);
    for (width, height, device) in [(412, 915, "phone"), (1280, 900, "desktop")] {
        let Some((_driver, c)) = browser(width, height).await else {
            return;
        };
        sign_in_demo(&c, &app, "coordinacion@defensoria.example").await;
        text_until(&c, "main h1", |t| !t.is_empty() && t != "Iniciar sesión").await;
        c.goto(&app.url("/retention")).await.expect("goto");
        text_until(&c, "main h1", |t| t.starts_with("Conservación")).await;
        assert!(text_of(&c, "#rule-words").await.contains("24 meses"));
        assert!(text_of(&c, "#erased-list").await.contains("Datos personales borrados el"));
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: retention");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("retention-es-{device}.png")), png);
        click(&c, "#lang-switch").await;
        text_until(&c, "main h1", |t| t.starts_with("Retention")).await;
        assert!(text_of(&c, "#rule-words").await.contains("24 months"));
        assert!(fits(&c).await, "no sideways scrolling on the {device} in English");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("retention-en-{device}.png")), png);
        click(&c, "#lang-switch").await;
        text_until(&c, "main h1", |t| t.starts_with("Conservación")).await;

        c.goto(&app.url(&format!("/cases/{erased}"))).await.expect("goto");
        text_until(&c, "#erased", |t| t.contains("Datos personales borrados el")).await;
        assert!(c.find(fantoccini::Locator::Css("#reveal")).await.is_err(), "nothing to reveal");
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: erased case");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("case-erased-es-{device}.png")), png);

        let target = closed.next().expect("a closed case to erase").case_id;
        c.goto(&app.url(&format!("/cases/{target}/erase"))).await.expect("goto");
        text_until(&c, "main h1", |t| t.starts_with("Borrar datos personales")).await;
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: erase form");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("erase-es-{device}.png")), png);
        c.execute("document.querySelector('input[value=person_request]').checked = true;", vec![])
            .await
            .expect("reason");
        click(&c, "#erase-button").await;
        text_until(&c, "#erased", |t| t.contains("pidió la cancelación")).await;
        c.close().await.expect("close");
    }
}
