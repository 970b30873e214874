//! `vigia report` (issue #17): from the demo data to a PDF in one command, with the same
//! figures and the same content hash as the web's report.

use serde_json::Value;

use super::{run, text, Server, TempDir};
use crate::reports::{inked_share, pdf_pages, poppler};

#[test]
fn the_cli_writes_the_same_report_as_the_web_from_the_demo_data() {
    let t = TempDir::new("report");
    let dir = t.data();
    let server = Server::start("demo", &dir);
    let o = run(&dir, &["token", "create", "--user", "coordinacion@defensoria.example"]);
    let token = text(&o).0.trim().to_string();
    let q = "from=2019-10-01&until=2020-03-31";
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let web = rt.block_on(server.get_json(&token, &format!("/api/v1/reports/period?{q}")));
    drop(server);
    let hash = web["content_sha256"].as_str().expect("hash").to_string();
    // The January 2020 closing is in the demo's period report, in plain words.
    let suspensions = web["report"]["access"]["suspensions"].as_array().expect("suspensions");
    assert!(suspensions.iter().any(|s| s["start"].as_str().is_some_and(|d| d.starts_with("2020-01"))), "{web}");
    assert!(!web["report"]["statements"]["contradictions"].as_array().expect("c").is_empty(), "{web}");
    assert!(!web["report"]["visits"]["visits"].as_array().expect("v").is_empty(), "{web}");

    let base = ["report", "--org", "defensoria-sur", "--from", "2019-10-01", "--until", "2020-03-31"];
    let json_out = t.0.join("report.json");
    let o = run(&dir, &[&base[..], &["--format", "json", "--out", json_out.to_str().expect("path")]].concat());
    assert!(o.status.success(), "{:?}", text(&o));
    let cli: Value = serde_json::from_slice(&std::fs::read(&json_out).expect("read")).expect("json");
    assert_eq!(cli["content_sha256"], hash.as_str(), "the CLI and the web count the same");
    assert_eq!(cli["report"], web["report"]);

    let html_out = t.0.join("report.html");
    let o = run(
        &dir,
        &[&base[..], &["--format", "html", "--lang", "en", "--out", html_out.to_str().expect("path")]].concat(),
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let html = std::fs::read_to_string(&html_out).expect("html");
    assert!(
        html.starts_with("<!doctype html><html lang=\"en\">")
            && html.contains("<h1>Period report</h1>")
            && html.contains(&hash)
    );

    let pdf_out = t.0.join("report.pdf");
    let o = run(&dir, &[&base[..], &["--out", pdf_out.to_str().expect("path")]].concat());
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains(&hash), "it prints the hash it wrote");
    let bytes = std::fs::read(&pdf_out).expect("pdf");
    assert!(bytes.starts_with(b"%PDF-"));
    if poppler() {
        let pages = pdf_pages(&bytes, &t.0, "cli");
        let all = pages.join("\n");
        assert!(all.contains("Informe del periodo") && all.contains("Suspensiones generales sospechadas"), "{all}");
        assert!(all.contains("Defensoría Migrante del Sur"), "{all}");
        for p in &pages {
            assert!(p.replace([' ', '\n'], "").contains(&hash));
        }
        assert!(inked_share(&bytes, &t.0, "cli") > 0.01);
    }
    // A visit's report as filed, from the same command.
    let visits: Value = {
        let server = Server::start("demo", &dir);
        let v = rt.block_on(server.get_json(&token, "/api/v1/visits"));
        drop(server);
        v
    };
    let visit = visits["items"][0]["id"].as_i64().unwrap_or_else(|| panic!("{visits}"));
    let visit_out = t.0.join("visit.pdf");
    let o = run(
        &dir,
        &["report", "--org", "defensoria-sur", "--visit", &visit.to_string(), "--out", visit_out.to_str().expect("p")],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    if poppler() {
        let flat = pdf_pages(&std::fs::read(&visit_out).expect("pdf"), &t.0, "visit")
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(flat.contains("Datos de la visita") && flat.contains("Evidencia"), "{flat}");
    }
    let o =
        run(&dir, &["report", "--org", "defensoria-sur", "--visit", "999999", "--out", visit_out.to_str().expect("p")]);
    assert!(!o.status.success() && text(&o).1.contains("--visit"), "{:?}", text(&o));
    // A bad ask is refused with the field named, and nothing is written.
    let bad = t.0.join("bad.pdf");
    let o = run(
        &dir,
        &[
            "report",
            "--org",
            "defensoria-sur",
            "--coalition",
            "--from",
            "2020-01-01",
            "--out",
            bad.to_str().expect("p"),
        ],
    );
    assert!(!o.status.success() && text(&o).1.contains("from"), "{:?}", text(&o));
    assert!(!bad.exists());
    let o = run(&dir, &["report", "--org", "nadie", "--out", bad.to_str().expect("p")]);
    assert!(!o.status.success() && text(&o).1.contains("--org"), "{:?}", text(&o));
}

#[test]
fn the_demo_s_approved_year_is_written_as_a_signed_site_that_verifies_offline_and_fails_when_changed() {
    let t = TempDir::new("publish");
    let dir = t.data();
    // The demo's data, with its 2020 publication approved by a second person.
    drop(Server::start("demo", &dir));
    let site = t.0.join("site");
    let site_s = site.to_str().expect("path");
    let o = run(&dir, &["publish", "--org", "defensoria-sur", "--year", "2020", "--out", site_s]);
    assert!(o.status.success(), "{:?}", text(&o));
    let key = text(&o).0.split_whitespace().last().expect("key").to_string();
    assert_eq!(key.len(), 64, "{:?}", text(&o));
    for f in ["index.html", "en/index.html", "data/cases.csv", "data/publication.json", "map.svg", "manifest.json"] {
        assert!(site.join(f).exists(), "{f}");
    }
    // Checked offline, with the key pinned.
    let v = super::vigia().args(["publish", "verify", site_s, "--key", &key]).output().expect("verify");
    assert!(v.status.success(), "{:?}", text(&v));
    assert!(text(&v).0.starts_with("ok: "), "{:?}", text(&v));
    // Not into a folder that holds something already.
    let o = run(&dir, &["publish", "--org", "defensoria-sur", "--year", "2020", "--out", site_s]);
    assert!(!o.status.success() && text(&o).1.contains("not empty"), "{:?}", text(&o));
    // A year with no approved publication.
    let o = run(
        &dir,
        &["publish", "--org", "defensoria-sur", "--year", "2019", "--out", t.0.join("none").to_str().expect("p")],
    );
    assert!(!o.status.success(), "{:?}", text(&o));
    // One byte changed: the check names the file and fails.
    let page = site.join("en/index.html");
    let mut bytes = std::fs::read(&page).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&page, bytes).expect("write");
    let v = super::vigia().args(["publish", "verify", site_s]).output().expect("verify");
    assert!(!v.status.success() && text(&v).1.contains("en/index.html"), "{:?}", text(&v));
}
