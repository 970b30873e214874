//! Consents on a phone and a desktop, in both languages (issue #20 part 2): the demo
//! lawyer reads where each purpose stands on a case and records a consent through the
//! form; the partner's coordinator finds the case the person agreed to share with her
//! organization and reads it; axe finds nothing serious on any of these pages.

use super::{browser, click, fits, screenshot_dir, sign_in_demo, text_of, text_until, wait_h1};
use crate::helpers::TestApp;

#[tokio::test]
async fn consents_are_read_and_recorded_and_a_shared_case_is_opened_on_a_phone_and_a_desktop() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    let org = app.org("defensoria-sur").await;
    let partner = app.org("casas-del-camino").await;
    let share = app.store.shares_with(partner).await.expect("shares").into_iter().next().expect("the demo's share");
    assert_eq!(share.org_id, org);
    for (width, height, device) in [(412, 915, "phone"), (1280, 900, "desktop")] {
        let Some((_driver, c)) = browser(width, height).await else {
            return;
        };
        sign_in_demo(&c, &app, "abogada@defensoria.example").await;
        text_until(&c, "main h1", |t| !t.is_empty() && t != "Iniciar sesión").await;
        c.goto(&app.url(&format!("/cases/{}/consents", share.case_id))).await.expect("goto");
        text_until(&c, "main h1", |t| t.starts_with("Consentimientos")).await;
        let standing = text_of(&c, "#consent-standing").await;
        assert!(standing.contains("Casas del Camino") && standing.contains("otorgado"), "{standing}");
        assert!(
            standing.contains("Publicación anonimizada de su historia") && standing.contains("retirado"),
            "{standing}"
        );
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: consents");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("consents-es-{device}.png")), png);
        if device == "desktop" {
            c.execute("document.getElementById('k-purpose').value='litigation';", vec![]).await.expect("purpose");
            click(&c, "#consent-button").await;
            text_until(&c, "#consent-history", |t| t.contains("Litigio")).await;
        }
        click(&c, "#lang-switch").await;
        text_until(&c, "main h1", |t| t.starts_with("Consents")).await;
        assert!(text_of(&c, "#consent-standing").await.contains("withdrawn"));
        assert!(fits(&c).await, "no sideways scrolling on the {device} in English");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("consents-en-{device}.png")), png);
        click(&c, "#lang-switch").await;
        text_until(&c, "main h1", |t| t.starts_with("Consentimientos")).await;
        c.close().await.expect("close");

        let Some((_driver, c)) = browser(width, height).await else {
            return;
        };
        sign_in_demo(&c, &app, "coordinacion@casas.example").await;
        text_until(&c, "main h1", |t| !t.is_empty() && t != "Iniciar sesión").await;
        c.goto(&app.url("/shared-cases")).await.expect("goto");
        wait_h1(&c, "Casos compartidos con su organización").await;
        assert!(text_of(&c, "#shared-cases").await.contains("Defensoría Migrante del Sur"));
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: shared list");
        c.goto(&app.url(&format!("/shared-cases/{}", share.id))).await.expect("goto");
        text_until(&c, "main h1", |t| t.starts_with("Caso compartido")).await;
        assert!(!text_of(&c, "#shared-person").await.is_empty());
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: shared case");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("shared-case-es-{device}.png")), png);
        c.close().await.expect("close");
    }
}
