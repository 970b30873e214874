//! A lawyer follows the demo's CMW recommendation on a phone and a desktop, in both
//! languages (issue #18 part 2): the summary is marked as ours, the visit findings
//! and child-detention cases are linked, the assessment is there, and she links a
//! suggested piece of evidence and records a new assessment; axe finds nothing serious.

use super::{browser, click, fill, fits, screenshot_dir, sign_in_demo, text_of, text_until, wait_h1};
use crate::helpers::TestApp;

#[tokio::test]
async fn a_lawyer_follows_a_recommendation_with_its_evidence_on_a_phone_and_a_desktop() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    let para38 = app
        .store
        .recommendations()
        .await
        .expect("recs")
        .into_iter()
        .find(|r| r.draft.paragraph == "38(a)")
        .expect("38(a)");
    for (width, height, device) in [(412, 915, "phone"), (1280, 900, "desktop")] {
        let Some((_driver, c)) = browser(width, height).await else {
            return;
        };
        sign_in_demo(&c, &app, "abogada@defensoria.example").await;
        text_until(&c, "main h1", |t| !t.is_empty() && t != "Iniciar sesión").await;
        c.find(fantoccini::Locator::Css("nav a[href='/recommendations']")).await.expect("menu entry");
        c.goto(&app.url("/recommendations")).await.expect("goto");
        wait_h1(&c, "Recomendaciones de la ONU a México").await;
        assert!(text_of(&c, "#recommendations").await.contains("CMW/C/MEX/CO/3, párr. 38(a)"));
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: list");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");

        c.goto(&app.url(&format!("/recommendations/{}", para38.id))).await.expect("goto");
        wait_h1(&c, "CMW/C/MEX/CO/3, párr. 38(a) · Committee on Migrant Workers (2017-09-27)").await;
        assert!(text_of(&c, "#rec-summary").await.contains("no es el texto oficial"));
        let links = text_of(&c, "#rec-links").await;
        assert!(links.contains("Visita") && links.contains("Menores detenidos"), "{links}");
        assert!(text_of(&c, "#rec-current").await.contains("No cumplida"));
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: detail");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("recommendation-es-{device}.png")), png);

        if device == "desktop" {
            // A new assessment, partly implemented, resting on the first link.
            c.execute("document.getElementById('a-status').value='partly';", vec![]).await.expect("status");
            fill(&c, "#a-reasoning", "Se liberó a varias familias, pero siguen ingresos de niñas y niños.").await;
            c.execute("document.querySelector('#assess-form input[name=evidence]').checked = true;", vec![])
                .await
                .expect("evidence");
            click(&c, "#assess-button").await;
            text_until(&c, "#rec-current", |t| t.contains("Cumplida en parte")).await;
            assert!(text_of(&c, "#rec-assessments").await.contains("Se liberó a varias familias"));
        }

        click(&c, "#lang-switch").await;
        text_until(&c, "main h1", |t| t.contains("para. 38(a)")).await;
        assert!(text_of(&c, "#rec-summary").await.contains("not the official text"));
        assert!(fits(&c).await, "no sideways scrolling on the {device} in English");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("recommendation-en-{device}.png")), png);
        click(&c, "#lang-switch").await;
        text_until(&c, "main h1", |t| t.contains("párr. 38(a)")).await;
        c.close().await.expect("close");
    }
}
