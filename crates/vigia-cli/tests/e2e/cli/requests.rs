//! `vigia requests` and `vigia consents` (issue #20): a requests log imports from the command line as
//! from the web, a bad one is refused by line and column with nothing stored, `list`
//! shows each request judged today under the law of its filing date, and `regime` adds a
//! state regime only when it holds together.

use super::{init, run, text, TempDir};

#[test]
fn requests_import_list_and_take_a_state_regime_from_the_command_line() {
    let t = TempDir::new("requests");
    let dir = t.data();
    init(&dir);
    let log = dir.join("log.csv");
    std::fs::write(
        &log,
        "authority,folio,filed_on,question,answered_on,answer_type,appeal_filed_on\n\
         inm,0411100010520,2020-01-29,Copia del oficio,2020-02-26,inexistent,2020-03-06\n\
         comar,330010825000123,2025-03-21,Solicitudes de asilo,,,\n",
    )
    .expect("write");
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "authority,folio,filed_on,question\ninm,1,2020-13-01,x\n").expect("write");
    let o = run(&dir, &["requests", "import", bad.to_str().expect("path"), "--org", "defensoria"]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("line 2, column filed_on"), "{:?}", text(&o));
    let o = run(&dir, &["requests", "import", log.to_str().expect("path"), "--org", "defensoria"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("imported 2 requests"));
    let o = run(&dir, &["requests", "list", "--org", "defensoria"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let lines: Vec<serde_json::Value> =
        text(&o).0.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(lines.len(), 2, "the bad log stored nothing");
    let regimes: Vec<&str> = lines.iter().filter_map(|l| l["regime_name"].as_str()).collect();
    assert_eq!(regimes, ["lgtaip-2025", "lgtaip-2015"], "newest filing first");
    assert_eq!(lines[1]["stage"], "appealed");

    // A state regime: refused when its calendar is unknown, added when it holds.
    let mut regime: serde_json::Value =
        serde_json::from_str(vigia_domain::transparency::DEFAULT_REGIMES).expect("regimes");
    let mut state = regime["regimes"][1].take();
    state["name"] = "chiapas-2016".into();
    state["federal"] = false.into();
    state["calendar"] = "chiapas".into();
    let file = dir.join("chiapas.json");
    std::fs::write(&file, state.to_string()).expect("write");
    let o = run(&dir, &["requests", "regime", file.to_str().expect("path")]);
    assert!(!o.status.success() && text(&o).1.contains("calendar \"chiapas\" is unknown"), "{:?}", text(&o));
    state["calendar"] = "lfpa".into();
    std::fs::write(&file, state.to_string()).expect("write");
    let o = run(&dir, &["requests", "regime", file.to_str().expect("path")]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run(&dir, &["requests", "regime", file.to_str().expect("path")]);
    assert!(!o.status.success(), "a name is taken once");
}

/// `vigia consents list` and `vigia consents arco`: a case's consents as JSON, and the
/// person's ARCO file written new, recorded in the case's history.
#[test]
fn consents_are_listed_and_the_arco_file_is_written_from_the_command_line() {
    let t = TempDir::new("consents");
    let dir = t.data();
    init(&dir);
    let case = tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        let store = super::open_dir(&dir).await;
        let org = store.org_by_slug("defensoria").await.expect("org").expect("defensoria");
        let raw = vigia_domain::input::RawInput::from_json(
            serde_json::json!({"reference": "CLI-1", "full_name": "Persona de la Línea"}),
        )
        .expect("json");
        let d = vigia_domain::case::validate_case(&raw, jiff::civil::date(2024, 1, 1)).expect("valid");
        let c = store.create_case(&vigia_store::Actor::SYSTEM, org.id, d).await.expect("case");
        let consent = vigia_domain::consent::ConsentDraft {
            purpose: vigia_domain::consent::Purpose::Litigation,
            partner_org_id: None,
            decision: vigia_domain::consent::Decision::Given,
            on: jiff::civil::date(2024, 1, 2),
            how: vigia_domain::consent::How::Oral,
            evidence_document_id: None,
        };
        store.record_consent(&vigia_store::Actor::SYSTEM, org.id, c.id, consent).await.expect("consent");
        store.close().await;
        c.id
    });
    let id = case.to_string();
    let o = run(&dir, &["consents", "list", "--org", "defensoria", "--case", &id]);
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_str(text(&o).0.trim()).expect("json");
    let litigation = v["standing"].as_array().expect("standing").iter().find(|s| s["purpose"] == "litigation").cloned();
    assert_eq!(litigation.expect("litigation")["decision"], "given");
    let out = dir.join("arco.json");
    let o =
        run(&dir, &["consents", "arco", "--org", "defensoria", "--case", &id, "--out", out.to_str().expect("path")]);
    assert!(o.status.success(), "{:?}", text(&o));
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).expect("file")).expect("json");
    assert_eq!(file["person"]["full_name"], "Persona de la Línea");
    let o =
        run(&dir, &["consents", "arco", "--org", "defensoria", "--case", &id, "--out", out.to_str().expect("path")]);
    assert!(!o.status.success(), "an existing file is not overwritten");
    let o = run(&dir, &["consents", "list", "--org", "defensoria", "--case", "999"]);
    assert!(!o.status.success());
}

/// `vigia retention` (issue #20 part 3): the rule set from the command line, the list of
/// closed cases with where each stands, and an erasure that needs `--confirm`, is
/// refused for an open case, and leaves the person unreadable.
#[test]
fn retention_rule_list_and_erase_from_the_command_line() {
    let t = TempDir::new("retention");
    let dir = t.data();
    init(&dir);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (open, closed) = rt.block_on(async {
        let store = super::open_dir(&dir).await;
        let org = store.org_by_slug("defensoria").await.expect("org").expect("defensoria");
        let mut ids = Vec::new();
        for (reference, status) in [("CLI-A", "open"), ("CLI-C", "closed")] {
            let raw = vigia_domain::input::RawInput::from_json(
                serde_json::json!({"reference": reference, "full_name": "Persona Borrable", "status": status}),
            )
            .expect("json");
            let d = vigia_domain::case::validate_case(&raw, jiff::civil::date(2024, 1, 1)).expect("valid");
            ids.push(store.create_case(&vigia_store::Actor::SYSTEM, org.id, d).await.expect("case").id);
        }
        store.close().await;
        (ids[0].to_string(), ids[1].to_string())
    });
    let o = run(&dir, &["retention", "rule", "--org", "defensoria", "--months", "0"]);
    assert!(!o.status.success(), "months from 1: {:?}", text(&o));
    let o = run(&dir, &["retention", "rule", "--org", "defensoria", "--months", "36"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run(&dir, &["retention", "list", "--org", "defensoria"]);
    let lines: Vec<serde_json::Value> = text(&o).0.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let state = |id: &str| {
        lines.iter().find(|l| l["case_id"].as_i64() == id.parse().ok()).map(|l| l["standing"]["state"].clone())
    };
    assert_eq!((state(&open), state(&closed)), (Some("open".into()), Some("kept".into())), "{lines:?}");
    assert!(text(&run(&dir, &["retention", "list", "--org", "defensoria", "--due"])).0.trim().is_empty());
    let erase = |case: &str, confirm: bool| {
        let mut args = vec!["retention", "erase", "--org", "defensoria", "--case", case, "--reason", "person_request"];
        if confirm {
            args.push("--confirm");
        }
        run(&dir, &args)
    };
    assert!(!erase(&closed, false).status.success(), "not without --confirm");
    let o = erase(&open, true);
    assert!(!o.status.success() && text(&o).1.contains("case_open"), "{:?}", text(&o));
    let o = erase(&closed, true);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(!erase(&closed, true).status.success(), "once");
    let out = dir.join("arco.json");
    let o = run(
        &dir,
        &["consents", "arco", "--org", "defensoria", "--case", &closed, "--out", out.to_str().expect("path")],
    );
    assert!(!o.status.success() && !out.exists(), "nothing left to export: {:?}", text(&o));
    let o = run(&dir, &["audit", "verify"]);
    assert!(o.status.success(), "{:?}", text(&o));
}
