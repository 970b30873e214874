//! The attempts import on a phone and a desktop, in both languages (issue #19): the
//! file is posted in the background once the person presses the button, a bar follows
//! the bytes sent and a line the rows read, and the server's answer (the import done, or
//! each bad row) takes the page's place; axe finds nothing serious.

use fantoccini::Locator;

use std::time::Duration;

use super::{browser, click, fits, screenshot_dir, sign_in, text_of, text_until, text_within};
use crate::helpers::TestApp;
use vigia_domain::account::Role;

fn attempts(rows: usize, month: u32) -> String {
    let mut csv = String::from("facility,attempted_at,purpose,outcome\n");
    for i in 0..rows {
        let (day, minute) = (1 + i / 1440 % 28, i % 1440);
        let year = 2000 + i / (1440 * 28);
        csv.push_str(&format!(
            "Siglo XXI,{year}-{month:02}-{day:02}T{:02}:{:02},monitoring,denied\n",
            minute / 60,
            minute % 60
        ));
    }
    csv
}

/// Records every text the progress line shows, across the page's swap of its content.
const WATCH: &str = "window.__seen = [];
    new MutationObserver(function () {
      var s = document.getElementById('import-status');
      var t = s && s.textContent;
      if (t && window.__seen[window.__seen.length - 1] !== t) window.__seen.push(t);
    }).observe(document.body, {subtree: true, childList: true, characterData: true});";

#[tokio::test]
async fn a_large_file_imports_with_its_progress_on_a_phone_and_a_desktop() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    app.facility("Siglo XXI").await;
    let dir = std::env::temp_dir().join(format!("vigia-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut imported = 0;
    for (width, height, device, month) in [(412, 915, "phone", 1), (1280, 900, "desktop", 2)] {
        let Some((_driver, c)) = browser(width, height).await else {
            return;
        };
        sign_in(&c, &app.url(""), "mon@a.org").await;
        c.goto(&app.url("/access/import")).await.expect("goto");
        text_until(&c, "main h1", |t| t == "Importar intentos desde CSV").await;
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: the import page");
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("import-es-{device}.png")), png);

        // 60,000 rows: the bar and the line show while it goes; the answer replaces them.
        let good = dir.join(format!("intentos-{device}.csv"));
        std::fs::write(&good, attempts(60_000, month)).expect("write");
        c.execute(WATCH, vec![]).await.expect("watch");
        c.find(Locator::Css("#file"))
            .await
            .expect("file")
            .send_keys(&good.display().to_string())
            .await
            .expect("choose");
        assert_eq!(
            app.store.counts().await.expect("counts").get("access_attempts"),
            imported,
            "nothing sent before the button"
        );
        click(&c, "#import").await;
        text_until(&c, "#import-status", |t| !t.is_empty()).await;
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("import-progress-es-{device}.png")), png);
        // The import itself takes as long as the machine takes (a debug build, a busy
        // CI machine): a minute, not the ten seconds a page's answer gets.
        let flash = text_within(&c, ".flash", Duration::from_secs(60), |t| t.starts_with("Se importaron")).await;
        assert!(flash.starts_with("Se importaron 60000 intentos"), "{flash}");
        imported += 60_000;
        assert_eq!(app.store.counts().await.expect("counts").get("access_attempts"), imported);
        let seen = c.execute("return window.__seen;", vec![]).await.expect("seen");
        let seen: Vec<String> = serde_json::from_value(seen).expect("texts");
        assert_eq!(seen.first().map(String::as_str), Some("Enviando el archivo…"), "{seen:?}");
        // Whether a poll fell inside the import depends on the machine's speed; each
        // one seen must read as a person would read it.
        for line in &seen[1..] {
            assert!(
                (line.starts_with("Leyendo: ") && line.contains("problemas hasta ahora"))
                    || line.starts_with("El archivo es válido. Guardando: "),
                "{line}"
            );
            assert!(!line.contains('%'), "every slot filled: {line}");
        }
        eprintln!("{device}: progress lines seen: {seen:?}");
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: the import done");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("import-done-es-{device}.png")), png);

        // In English, a file with a bad row: its problem is listed, nothing imported,
        // and the form is there to send the file again.
        click(&c, "#lang-switch").await;
        text_until(&c, "main h1", |t| t == "Import attempts from CSV").await;
        let bad = dir.join(format!("bad-{device}.csv"));
        std::fs::write(&bad, attempts(3_000, 3).replacen(",monitoring,", ",vigilar,", 1)).expect("write");
        c.execute(WATCH, vec![]).await.expect("watch");
        c.find(Locator::Css("#file")).await.expect("file").send_keys(&bad.display().to_string()).await.expect("choose");
        click(&c, "#import").await;
        let summary = text_until(&c, "#import-errors", |t| !t.is_empty()).await;
        assert!(summary.contains('1'), "{summary}");
        let rows = text_of(&c, "#import-rows").await;
        assert!(rows.contains("purpose"), "{rows}");
        assert_eq!(app.store.counts().await.expect("counts").get("access_attempts"), imported);
        let seen: Vec<String> =
            serde_json::from_value(c.execute("return window.__seen;", vec![]).await.expect("seen")).expect("texts");
        assert_eq!(seen.first().map(String::as_str), Some("Sending the file…"), "{seen:?}");
        assert!(super::pages::axe_violations(&c).await.is_empty(), "{device}: the problems listed");
        assert!(fits(&c).await, "no sideways scrolling on the {device} in English");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("import-problems-en-{device}.png")), png);
        click(&c, "#lang-switch").await;
        text_until(&c, "main h1", |t| t == "Importar intentos desde CSV").await;
        c.close().await.expect("close");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
