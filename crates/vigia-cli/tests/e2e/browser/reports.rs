//! A coordinator makes the period report from the demo data on a phone and on a
//! desktop, in Spanish and in English (issue #17).

use super::{browser, click, fill, fits, screenshot_dir, sign_in_demo, text_of, text_until, wait_for, wait_h1};
use crate::helpers::TestApp;

#[tokio::test]
async fn a_coordinator_makes_the_period_report_from_the_menu_on_a_phone_and_a_desktop() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    for (width, height, device) in [(412, 915, "phone"), (1280, 900, "desktop")] {
        let Some((_driver, c)) = browser(width, height).await else {
            return;
        };
        sign_in_demo(&c, &app, "coordinacion@defensoria.example").await;
        text_until(&c, "main h1", |t| !t.is_empty() && t != "Iniciar sesión").await;
        c.goto(&app.url("/reports")).await.expect("goto");
        wait_h1(&c, "Informes").await;
        // The menu leads here too.
        let nav = c.find(fantoccini::Locator::Css("a[href='/reports']")).await.expect("menu entry");
        assert_eq!(nav.attr("aria-current").await.expect("attr").as_deref(), Some("page"));
        fill(&c, "#r-from", "01/10/2019").await;
        fill(&c, "#r-until", "31/03/2020").await;
        let from: String = c
            .execute("return document.getElementById('r-from').value;", vec![])
            .await
            .expect("value")
            .as_str()
            .unwrap_or_default()
            .to_string();
        if from != "2019-10-01" {
            // Chromium's date field takes the locale's order; set it directly if typing did not.
            c.execute(
                "document.getElementById('r-from').value='2019-10-01'; document.getElementById('r-until').value='2020-03-31';",
                vec![],
            )
            .await
            .expect("set dates");
        }
        click(&c, "#report-show").await;
        wait_h1(&c, "Informe del periodo").await;
        let figures = text_of(&c, ".doc-figures").await;
        assert!(figures.contains("Intentos de acceso") && figures.contains("Negados"), "{figures}");
        let body = text_of(&c, "article.doc").await;
        assert!(body.contains("Del 2019-10-01 al 2020-03-31"), "{body}");
        assert!(body.contains("Suspensiones generales sospechadas") && body.contains("Certeza abrumadora"), "{body}");
        assert!(body.contains("SHA-256 del contenido"), "{body}");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("report-es-{device}.png")), png);
        let pdf = c.find(fantoccini::Locator::Css("#report-pdf-link")).await.expect("pdf link");
        let href = pdf.attr("href").await.expect("href").unwrap_or_default();
        assert!(href.contains("format=pdf") && href.contains("from=2019-10-01"), "{href}");
        // The same report in English, from the form it came from.
        click(&c, "#report-change-link").await;
        wait_h1(&c, "Informes").await;
        let from: String = c
            .execute("return document.getElementById('r-from').value;", vec![])
            .await
            .expect("value")
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(from, "2019-10-01", "the form keeps what was asked");
        c.execute("document.getElementById('r-lang').value='en';", vec![]).await.expect("lang");
        click(&c, "#report-show").await;
        wait_h1(&c, "Period report").await;
        let body = text_of(&c, "article.doc").await;
        assert!(body.contains("From 2019-10-01 to 2020-03-31") && body.contains("Content SHA-256"), "{body}");
        assert!(fits(&c).await, "no sideways scrolling on the {device} in English");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("report-en-{device}.png")), png);
        c.close().await.expect("close");
    }
}

/// The published site opened from a folder, as someone who downloaded it would: it
/// reads on a phone and a desktop in both languages, its links work without a server,
/// and axe finds nothing serious.
#[tokio::test]
async fn the_published_site_works_opened_from_a_folder() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    let org = app.store.org_by_slug("defensoria-sur").await.expect("org").expect("org");
    let files = vigia_web::publications::approved_site(&app.store, org.id, 2020).await.expect("site");
    let dir = std::env::temp_dir().join(format!("vigia-site-disk-{}", app.addr.port()));
    let _ = std::fs::remove_dir_all(&dir);
    vigia_report::site::write_dir(&dir, &files).expect("write");
    assert!(vigia_report::site::verify_dir(&dir, None).is_ok());
    for (width, height, device) in [(412, 915, "phone"), (1280, 900, "desktop")] {
        let Some((_driver, c)) = browser(width, height).await else {
            return;
        };
        c.goto(&format!("file://{}", dir.join("index.html").display())).await.expect("open");
        wait_h1(&c, "Defensoría Migrante del Sur, A.C.: datos públicos de 2020").await;
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let found = super::pages::axe_violations(&c).await;
        assert!(found.is_empty(), "{device}: {found:?}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("public-es-{device}.png")), png);
        // A place's page, by its link in the table, then the same page in English.
        click(&c, "a[href='lugar/f1.html'], a[href^='lugar/']").await;
        wait_for(&c, "main table").await;
        let url = c.current_url().await.expect("url");
        assert!(url.as_str().contains("/lugar/"), "{url}");
        assert!(super::pages::axe_violations(&c).await.is_empty());
        click(&c, "nav a[lang='en']").await;
        let body = text_of(&c, "main").await;
        assert!(body.contains("Access attempts") || body.contains("Visits") || body.contains("Refused"), "{body}");
        click(&c, "nav a[href$='en/index.html']").await;
        wait_h1(&c, "Defensoría Migrante del Sur, A.C.: public data for 2020").await;
        assert!(fits(&c).await, "no sideways scrolling on the {device} in English");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("public-en-{device}.png")), png);
        c.close().await.expect("close");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A coordinator freezes 2021 from the page; she cannot approve her own proposal; the
/// admin approves it with one click.
#[tokio::test]
async fn a_coordinator_proposes_a_year_and_the_admin_approves_it() {
    let Some((_driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    sign_in_demo(&c, &app, "coordinacion@defensoria.example").await;
    // Signed in once the sign-in page is gone (the POST may still be on its way).
    text_until(&c, "main h1", |t| !t.is_empty() && t != "Iniciar sesión").await;
    c.goto(&app.url("/publications")).await.expect("goto");
    wait_h1(&c, "Publicaciones").await;
    fill(&c, "#p-year", "2021").await;
    click(&c, "#propose").await;
    // Newest first: the proposal heads the list once the page is back.
    let row = text_until(&c, "#publications tbody tr", |t| t.contains("2021")).await;
    assert!(row.contains("Propuesta"), "{row}");
    assert!(c.find(fantoccini::Locator::Css("button[id^='approve-']")).await.is_err(), "not her own");
    assert!(super::pages::axe_violations(&c).await.is_empty());
    c.delete_all_cookies().await.expect("cookies");
    sign_in_demo(&c, &app, "admin@defensoria.example").await;
    text_until(&c, "main h1", |t| !t.is_empty() && t != "Iniciar sesión").await;
    c.goto(&app.url("/publications")).await.expect("goto");
    wait_h1(&c, "Publicaciones").await;
    click(&c, "button[id^='approve-']").await;
    let row = text_until(&c, "#publications tbody tr", |t| t.contains("2021") && t.contains("Aprobada")).await;
    assert!(row.contains("Aprobada"), "{row}");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("publications-phone.png"), png);
}
