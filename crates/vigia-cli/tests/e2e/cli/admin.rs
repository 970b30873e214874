//! An administrator's commands: help and bad arguments, users, tokens, imports, webhooks,
//! reset links and the legal clock.

use serde_json::{json, Value};

use super::{init, open_dir, run, run_with_stdin, text, vigia, Server, TempDir};

#[test]
fn every_command_has_help_and_bad_arguments_fail_with_a_reason() {
    for cmd in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["serve", "--help"],
        vec!["init", "--help"],
        vec!["org", "add", "--help"],
        vec!["user", "add", "--help"],
        vec!["user", "list", "--help"],
        vec!["user", "disable", "--help"],
        vec!["token", "create", "--help"],
        vec!["facility", "import", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["webhook", "disable", "--help"],
        vec!["user", "reset-password", "--help"],
        vec!["audit", "recount", "--help"],
        vec!["keys", "rotate", "--help"],
        vec!["backup", "--help"],
    ] {
        let o = vigia().args(&cmd).output().expect("run");
        assert!(o.status.success(), "{cmd:?}");
        assert!(String::from_utf8_lossy(&o.stdout).contains("Usage:"), "{cmd:?}");
    }
    let o = vigia().args(["frobnicate"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    let (_, err) = text(&o);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("frobnicate"), "{err}");
    let o = vigia().args(["user", "add", "--email"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(text(&o).1.trim().lines().count(), 1);
    let t = TempDir::new("badargs");
    let o = run(&t.data(), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    let (_, err) = text(&o);
    assert!(err.contains("run `vigia init`"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn init_users_tokens_and_the_api_work_together() {
    let t = TempDir::new("users");
    let dir = t.data();
    init(&dir);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("master.key")).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let o = run_with_stdin(
        &dir,
        &["user", "add", "--email", "Laura@D.org", "--name", "Laura", "--role", "lawyer", "--org", "defensoria"],
        "otra clave larga de prueba\n",
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run_with_stdin(
        &dir,
        &["user", "add", "--email", "x@d.org", "--name", "X", "--role", "boss", "--org", "defensoria"],
        "",
    );
    assert!(!o.status.success());
    assert!(text(&o).1.contains("--role"));
    let o = run_with_stdin(
        &dir,
        &[
            "user",
            "add",
            "--email",
            "y@d.org",
            "--name",
            "Y",
            "--role",
            "monitor",
            "--org",
            "defensoria",
            "--password-stdin",
        ],
        "corta\n",
    );
    assert!(!o.status.success());
    assert!(text(&o).1.contains("password_too_short"));

    let o = run(&dir, &["user", "list", "--json"]);
    let users: Vec<Value> = text(&o).0.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(users.len(), 2);
    assert!(users.contains(&json!({"email": "laura@d.org", "organization": "defensoria", "role": "lawyer", "name": "Laura", "disabled": false})));

    let o = run(&dir, &["token", "create", "--user", "laura@d.org"]);
    assert!(o.status.success());
    let token = text(&o).0.trim().to_string();
    assert!(token.starts_with("vga_"));

    let secret = "Testimonio: Marisol Quiñónez, pasaporte G1234567";
    {
        let server = Server::start("serve", &dir);
        let rt = tokio::runtime::Runtime::new().expect("rt");
        rt.block_on(async {
            let c = reqwest::Client::new();
            let me = server.get_json(&token, "/api/v1/me").await;
            assert_eq!(me["email"], "laura@d.org");
            let r = c
                .post(format!("{}/api/v1/facilities", server.base))
                .bearer_auth(&token)
                .json(&json!({"name": "Siglo XXI", "kind": "estacion_migratoria", "state_code": "07"}))
                .send()
                .await
                .expect("post");
            assert_eq!(r.status(), 403, "lawyers do not edit the registry");
        });
    }
    // An admin-made facility, then a sealed note through the API.
    let csv_path = t.0.join("f.csv");
    std::fs::write(&csv_path, "name,kind,state_code\nSiglo XXI,estacion_migratoria,07\n").expect("write");
    assert!(run(&dir, &["facility", "import", csv_path.to_str().expect("p")]).status.success());
    {
        let server = Server::start("serve", &dir);
        let rt = tokio::runtime::Runtime::new().expect("rt");
        rt.block_on(async {
            let c = reqwest::Client::new();
            let r = c
                .post(format!("{}/api/v1/facilities/1/notes", server.base))
                .bearer_auth(&token)
                .json(&json!({"body": secret}))
                .send()
                .await
                .expect("post");
            assert_eq!(r.status(), 201);
        });
    }
    for entry in std::fs::read_dir(&dir).expect("dir") {
        let bytes = std::fs::read(entry.expect("e").path()).expect("read");
        for needle in ["Marisol", "Quiñónez", "G1234567"] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "{needle} in plaintext on disk");
        }
    }

    // Rotating the master key keeps the note readable.
    let old_key = std::fs::read_to_string(dir.join("master.key")).expect("key");
    let o = run(&dir, &["keys", "rotate"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_ne!(std::fs::read_to_string(dir.join("master.key")).expect("key"), old_key);
    {
        let server = Server::start("serve", &dir);
        let rt = tokio::runtime::Runtime::new().expect("rt");
        rt.block_on(async {
            let notes = server.get_json(&token, "/api/v1/facilities/1/notes").await;
            assert_eq!(notes["items"][0]["body"], secret);
        });
    }

    // Disabling a user stops their token.
    assert!(run(&dir, &["user", "disable", "--email", "laura@d.org"]).status.success());
    let o = run(&dir, &["token", "create", "--user", "laura@d.org"]);
    assert!(!o.status.success());
    assert!(run(&dir, &["audit", "verify"]).status.success());
}

#[test]
fn a_csv_with_one_bad_row_imports_nothing_and_names_the_row() {
    let t = TempDir::new("import");
    let dir = t.data();
    init(&dir);
    let bad = t.0.join("bad.csv");
    std::fs::write(
        &bad,
        "name,kind,state_code,capacity\nSiglo XXI,estacion_migratoria,07,960\nAcayucan,estacion_migratoria,30,ochocientos\nPalenque,estacion_migratoria,07,110\n",
    )
    .expect("write");
    let o = run(&dir, &["facility", "import", bad.to_str().expect("p")]);
    assert_eq!(o.status.code(), Some(1));
    let (_, err) = text(&o);
    assert!(err.contains("nothing imported"), "{err}");
    assert!(err.contains("line 3, column capacity: expected_integer"), "{err}");
    let verify = run(&dir, &["audit", "verify"]);
    assert!(text(&verify).0.contains("ok: "));
    let good = t.0.join("good.csv");
    std::fs::write(&good, "name,kind,state_code,capacity\nSiglo XXI,estacion_migratoria,07,960\n").expect("write");
    let o = run(&dir, &["facility", "import", good.to_str().expect("p")]);
    assert!(text(&o).0.contains("Imported 1 facilities"));
}

/// `vigia import attempts FILE --org SLUG` (issue #19): the import the page and the API
/// make, read as it goes, all rows or none, each problem named; `-` reads standard input.
#[test]
fn attempts_import_from_the_command_line_all_or_nothing() {
    let t = TempDir::new("attempts");
    let dir = t.data();
    init(&dir);
    let facilities = t.0.join("facilities.csv");
    std::fs::write(&facilities, "name,kind,state_code\nSiglo XXI,estacion_migratoria,07\n").expect("write");
    assert!(run(&dir, &["facility", "import", facilities.to_str().expect("p")]).status.success());
    let mut csv = String::from("facility,attempted_at,purpose,outcome\n");
    for i in 0..2_500 {
        csv.push_str(&format!(
            "Siglo XXI,2021-02-{:02}T{:02}:{:02},monitoring,denied\n",
            1 + i / 100,
            i % 100 / 60 + 8,
            i % 60
        ));
    }
    let bad = t.0.join("bad.csv");
    std::fs::write(&bad, csv.replacen("2021-02-10T08:00", "2021-02-10T08:77", 1)).expect("write");
    let o = run(&dir, &["import", "attempts", bad.to_str().expect("p"), "--org", "defensoria", "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    let (_, err) = text(&o);
    assert!(err.contains("nothing imported; 1 problem(s)") && err.contains("line 902, column attempted_at"), "{err}");
    let o = run(&dir, &["import", "attempts", bad.to_str().expect("p"), "--org", "nadie"]);
    assert!(!o.status.success() && text(&o).1.contains("no organization"), "{:?}", text(&o));

    let good = t.0.join("good.csv");
    std::fs::write(&good, &csv).expect("write");
    let o = run(&dir, &["import", "attempts", good.to_str().expect("p"), "--org", "defensoria"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out} {err}");
    let fingerprint = vigia_domain::audit::sha256_hex(csv.as_bytes());
    assert!(out.contains("Imported 2500 attempts") && out.contains(&fingerprint), "{out}");
    // Not a terminal here: the progress comes as plain lines, if the import lasted long
    // enough for one; never a carriage return.
    assert!(!err.contains('\r'), "{err:?}");
    // Standard input, the same way; the archive loader is still `vigia import --all`.
    let more = csv.replace("2021-02", "2021-03");
    let o = run_with_stdin(&dir, &["import", "attempts", "-", "--org", "defensoria", "--quiet"], &more);
    assert!(o.status.success() && text(&o).0.contains("Imported 2500 attempts"), "{:?}", text(&o));
    let o = run(&dir, &["import", "nothing.jsonl"]);
    assert!(!o.status.success() && text(&o).1.contains("--all"), "{:?}", text(&o));
    assert!(run(&dir, &["audit", "verify"]).status.success());
}

/// `vigia synth` (issue #19) fills a new data dir from the command line, prints what it
/// wrote, leaves a history that verifies, and refuses a data dir that has data.
#[test]
fn synth_fills_a_new_data_dir_from_the_command_line() {
    let t = TempDir::new("synth");
    let dir = t.data();
    let o = run(&dir, &["synth", "--scale", "0.0005", "--quiet", "--seed", "3"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out} {err}");
    assert!(out.contains("500 attempts, 50 cases") && out.contains("5 visits"), "{out}");
    assert!(run(&dir, &["audit", "verify"]).status.success());
    let o = run(&dir, &["synth", "--scale", "0.0005", "--quiet"]);
    assert!(!o.status.success() && text(&o).1.contains("not empty"), "{:?}", text(&o));
    let o = run(&dir, &["synth", "--scale", "0"]);
    assert!(!o.status.success() && text(&o).1.contains("--scale"), "{:?}", text(&o));
}

/// Finding 8: webhooks can be turned off, on and deleted from the command line (the
/// page has the same buttons); what was queued for a stopped webhook is given up, and
/// a deletion is audited, not a hole in the history.
#[test]
fn webhooks_are_turned_off_on_and_deleted_from_the_command_line() {
    let t = TempDir::new("webhooks");
    let dir = t.data();
    init(&dir);
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let hook = rt.block_on(async {
        let store = open_dir(&dir).await;
        let org = store.org_by_slug("defensoria").await.expect("org").expect("org").id;
        let hook = store
            .create_webhook(&vigia_store::Actor::SYSTEM, org, "http://127.0.0.1:9/v", "whsec_x")
            .await
            .expect("hook");
        store.raise_alert(org, "denial", "k1", None, "{}").await.expect("alert");
        store.close().await;
        hook.id
    });
    let id = hook.to_string();
    let list = || text(&run(&dir, &["webhook", "list", "--org", "defensoria"])).0;
    assert_eq!(list(), format!("{id}\ton\thttp://127.0.0.1:9/v\n"));
    let o = run(&dir, &["webhook", "disable", "--org", "defensoria", "--id", &id]);
    assert!(text(&o).0.contains("is off"), "{:?}", text(&o));
    assert!(list().contains("\toff\t"));
    rt.block_on(async {
        let store = open_dir(&dir).await;
        let org = store.org_by_slug("defensoria").await.expect("org").expect("org").id;
        let log = store.deliveries(org, 10).await.expect("log");
        assert_eq!((log[0].status.as_str(), log[0].last_error.as_deref()), ("failed", Some("webhook disabled")));
        store.close().await;
    });
    assert!(text(&run(&dir, &["webhook", "enable", "--org", "defensoria", "--id", &id])).0.contains("is on"));
    assert!(text(&run(&dir, &["webhook", "delete", "--org", "defensoria", "--id", &id])).0.contains("is deleted"));
    assert_eq!(list(), "", "a deleted webhook leaves the list");
    let o = run(&dir, &["webhook", "enable", "--org", "defensoria", "--id", &id]);
    assert!(!o.status.success() && text(&o).1.contains("has no webhook"), "deleted is final: {:?}", text(&o));
    let o = run(&dir, &["audit", "verify"]);
    assert!(o.status.success(), "a deletion through the app is audited: {:?}", text(&o));
}

/// Finding 6 (tokens): an administrator lists and revokes a user's tokens.
#[test]
fn tokens_are_listed_and_revoked_from_the_command_line() {
    let t = TempDir::new("tokens");
    let dir = t.data();
    init(&dir);
    assert!(run(&dir, &["token", "create", "--user", "admin@d.org", "--name", "informe"]).status.success());
    let list = || text(&run(&dir, &["token", "list", "--user", "admin@d.org"])).0;
    let line = list();
    assert!(line.starts_with("1\tlive\tinforme\t"), "{line}");
    let o = run(&dir, &["token", "revoke", "--user", "admin@d.org", "--id", "1"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(list().starts_with("1\trevoked\t"));
    let o = run(&dir, &["token", "revoke", "--user", "admin@d.org", "--id", "1"]);
    assert!(!o.status.success() && text(&o).1.contains("no live token 1"));
    assert!(run(&dir, &["audit", "verify"]).status.success());
}

/// Finding 6 (reset links): an administrator issues a one-time link from the command
/// line; it sets a new password once, ends every session, and is spent.
#[test]
fn a_one_time_reset_link_sets_a_new_password_once() {
    let t = TempDir::new("reset");
    let dir = t.data();
    init(&dir);
    let o = run(&dir, &["user", "reset-password", "--email", "admin@d.org"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let path = text(&o).0.trim().to_string();
    assert!(path.starts_with("/reset/") && path.len() > 40, "{path}");
    let server = Server::start("serve", &dir);
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("c");
        let page = c.get(format!("{}{path}", server.base)).send().await.expect("get");
        assert_eq!(page.status(), 200);
        let csrf = crate::helpers::csrf_of(&page.text().await.expect("t"));
        let set = |new: &'static str| {
            let (c, url, csrf) = (c.clone(), format!("{}{path}", server.base), csrf.clone());
            async move {
                c.post(url).form(&[("csrf", csrf.as_str()), ("new", new), ("again", new)]).send().await.expect("post")
            }
        };
        assert_eq!(set("corta").await.status(), 422);
        let r = set("una clave nueva y larga").await;
        assert_eq!(r.headers()["location"], "/login?reset=1");
        assert_eq!(set("otra clave nueva y larga").await.status(), 404, "spent");
        assert_eq!(c.get(format!("{}{path}", server.base)).send().await.expect("get").status(), 404);
        assert_eq!(c.get(format!("{}/reset/{}", server.base, "x".repeat(43))).send().await.expect("get").status(), 404);
        let login = c.get(format!("{}/login", server.base)).send().await.expect("get").text().await.expect("t");
        let csrf = crate::helpers::csrf_of(&login);
        let r = c
            .post(format!("{}/login", server.base))
            .form(&[("csrf", csrf.as_str()), ("email", "admin@d.org"), ("password", "una clave nueva y larga")])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 303, "the new password signs in");
    });
    drop(server);
    assert!(run(&dir, &["audit", "verify"]).status.success());
}

#[test]
fn the_clock_answers_on_the_command_line() {
    let out = |args: &[&str]| {
        let o = vigia().args(args).output().expect("run");
        (o.status.code(), text(&o).0, text(&o).1)
    };
    let (code, stdout, _) = out(&["clock", "add", "--from", "2019-02-18", "--working-days", "15"]);
    assert_eq!((code, stdout.as_str()), (Some(0), "2019-03-11\n"));
    let (_, stdout, _) = out(&["clock", "count", "--from", "2019-02-18", "--to", "2019-03-11"]);
    assert_eq!(stdout, "15\n");
    // 21 March 2019 does not count under LFPA art. 28 (a fixed date, not the LFT's third
    // Monday: 18 March counts).
    let (_, stdout, _) =
        out(&["clock", "add", "--from", "2019-03-15", "--working-days", "5", "--explain", "--lang", "en"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "2019-03-25");
    // Each excluded day names its article and the version of the text it follows.
    let version = "text of art. 28 unamended since the Law was published (DOF 04-08-1994)";
    assert!(lines[1].contains("LFPA art. 28") && lines[1].contains(version), "{stdout}");
    assert!(lines.contains(&format!("2019-03-16\tSaturday (LFPA art. 28; {version})").as_str()), "{stdout}");
    assert!(lines.iter().any(|l| l.starts_with("2019-03-18\tcounts 1")), "{stdout}");
    assert!(lines.contains(&format!("2019-03-21\t21 March (LFPA art. 28; {version})").as_str()), "{stdout}");
    assert!(lines.iter().any(|l| l.starts_with("2019-03-25\tcounts 5")), "{stdout}");
    // 1 October 2024 counts, and the explanation says why that is open to dispute.
    let (_, stdout, _) =
        out(&["clock", "add", "--from", "2024-09-30", "--working-days", "1", "--explain", "--lang", "es"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "2024-10-01");
    assert!(lines[2].starts_with("2024-10-01\tcuenta 1; texto ambiguo: 1 de octubre"), "{stdout}");
    assert!(lines[2].contains("nombra el 1 de diciembre"), "{stdout}");
    // Amparo art. 19: 14 and 16 September do not count.
    let (_, stdout, _) = out(&["clock", "add", "--from", "2021-09-10", "--working-days", "5", "--calendar", "amparo"]);
    assert_eq!(stdout, "2021-09-21\n");
    // 5 May 2021 is a working day for labour law, not for administrative procedure.
    let (_, stdout, _) = out(&["clock", "add", "--from", "2021-05-04", "--working-days", "1", "--calendar", "lft"]);
    assert_eq!(stdout, "2021-05-05\n");
    let (_, stdout, _) = out(&["clock", "add", "--from", "2021-05-04", "--working-days", "1"]);
    assert_eq!(stdout, "2021-05-06\n");
    for bad in [
        vec!["clock", "add", "--from", "18/02/2019", "--working-days", "15"],
        vec!["clock", "add", "--from", "2019-02-18", "--working-days", "-1"],
        vec!["clock", "add", "--from", "2019-02-18", "--working-days", "15", "--calendar", "mars"],
    ] {
        let (code, stdout, stderr) = out(&bad);
        assert_eq!(code, Some(1), "{bad:?}");
        assert!(stdout.is_empty());
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    let (_, _, stderr) = out(&["clock", "add", "--from", "2019-02-30", "--working-days", "1"]);
    assert!(stderr.contains("--from: expected_date"), "{stderr}");
}
