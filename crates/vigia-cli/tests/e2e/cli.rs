//! The `vigia` binary as an administrator uses it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::{json, Value};
use sqlx::Connection;

const BIN: &str = env!("CARGO_BIN_EXE_vigia");

pub(crate) fn vigia() -> Command {
    let mut c = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("VIGIA_") {
            c.env_remove(k);
        }
    }
    c.stdin(Stdio::null());
    c
}

pub(crate) fn run(dir: &Path, args: &[&str]) -> Output {
    vigia().args(args).arg("--data-dir").arg(dir).output().expect("run vigia")
}

pub(crate) fn run_with_stdin(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = vigia()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    child.wait_with_output().expect("wait")
}

pub(crate) fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        let p =
            std::env::temp_dir().join(format!("vigia_cli_{tag}_{}_{}", std::process::id(), vigia_store::now_micros()));
        std::fs::create_dir_all(&p).expect("mkdir");
        TempDir(p)
    }
    pub(crate) fn data(&self) -> PathBuf {
        self.0.join("data")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `vigia serve` or `vigia demo` process, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn start(cmd: &str, dir: &Path) -> Server {
        Self::start_with(cmd, dir, &[])
    }

    fn start_with(cmd: &str, dir: &Path, extra: &[&str]) -> Server {
        let mut child = vigia()
            .args([cmd, "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines.next().expect("server printed its address").expect("line");
            if let Some(rest) = line.split("serving on ").nth(1) {
                break rest.split_whitespace().next().expect("url").trim_end_matches('/').to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn init(dir: &Path) {
    let o = run_with_stdin(
        dir,
        &["init", "--org-slug", "defensoria", "--org-name", "Defensoría", "--admin-email", "admin@d.org"],
        "una clave larga de prueba\n",
    );
    assert!(o.status.success(), "{:?}", text(&o));
}

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
            let me: Value = c
                .get(format!("{}/api/v1/me", server.base))
                .bearer_auth(&token)
                .send()
                .await
                .expect("me")
                .json()
                .await
                .expect("json");
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
            let notes: Value = reqwest::Client::new()
                .get(format!("{}/api/v1/facilities/1/notes", server.base))
                .bearer_auth(&token)
                .send()
                .await
                .expect("get")
                .json()
                .await
                .expect("json");
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

#[test]
fn audit_verify_catches_a_row_edited_directly_in_sqlite() {
    let t = TempDir::new("audit");
    let dir = t.data();
    init(&dir);
    let csv = t.0.join("f.csv");
    std::fs::write(
        &csv,
        "name,kind,state_code,capacity\nSiglo XXI,estacion_migratoria,07,960\nAcayucan,estacion_migratoria,30,836\n",
    )
    .expect("write");
    assert!(run(&dir, &["facility", "import", csv.to_str().expect("p")]).status.success());
    let o = run(&dir, &["audit", "verify"]);
    assert!(o.status.success(), "{:?}", text(&o));

    let url = vigia_store::sqlite_url(&dir.join("vigia.db"));
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connect");
        sqlx::query("UPDATE facilities SET capacity = 2000 WHERE name = 'Acayucan'")
            .execute(&mut c)
            .await
            .expect("edit");
    });
    let o = run(&dir, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    let (_, err) = text(&o);
    assert!(err.contains("BROKEN: facility 2 differs from its last audited version"), "{err}");

    rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connect");
        sqlx::query("UPDATE facilities SET capacity = 836 WHERE name = 'Acayucan'")
            .execute(&mut c)
            .await
            .expect("edit");
        sqlx::raw_sql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET action = 'update' WHERE seq = 2")
            .execute(&mut c)
            .await
            .expect("edit");
    });
    let o = run(&dir, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("BROKEN: entry 2 was altered"), "{:?}", text(&o));
}

#[test]
fn daily_counts_out_of_step_are_reported_and_recounted() {
    let t = TempDir::new("recount");
    let dir = t.data();
    init(&dir);
    let csv = t.0.join("f.csv");
    std::fs::write(&csv, "name,kind,state_code,capacity\nSiglo XXI,estacion_migratoria,07,960\n").expect("write");
    assert!(run(&dir, &["facility", "import", csv.to_str().expect("p")]).status.success());
    let url = vigia_store::sqlite_url(&dir.join("vigia.db"));
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connect");
        sqlx::query(
            "INSERT INTO access_daily (facility_id, day, org_id, purpose, shared, month, attempts, refusals, version) \
             VALUES (1, 18000, 1, 'monitoring', 1, 201903, 40, 40, 1)",
        )
        .execute(&mut c)
        .await
        .expect("forge");
    });
    let o = run(&dir, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("daily access counts disagree") && text(&o).1.contains("vigia audit recount"));
    let o = run(&dir, &["audit", "recount"]);
    assert!(text(&o).0.contains("Recounted"), "{:?}", text(&o));
    assert!(run(&dir, &["audit", "verify"]).status.success());
}

#[test]
fn backups_are_verified_copies() {
    let t = TempDir::new("backup");
    let dir = t.data();
    init(&dir);
    let out = t.0.join("copy");
    let o = run(&dir, &["backup", out.to_str().expect("p")]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("Backup written"));
    assert!(out.join("vigia.db").exists());
    let o = run(&dir, &["backup", out.to_str().expect("p")]);
    assert!(!o.status.success(), "never overwrites");
}

/// Finding 4 of the security review: someone who doctors a backup and recomputes its
/// manifest's hashes (the audit chain is unkeyed) cannot sign the manifest again; a
/// manifest downgraded to the unsigned format needs --allow-unsigned.
#[test]
fn a_doctored_backup_with_recomputed_hashes_is_refused() {
    let t = TempDir::new("doctored");
    let dir = t.data();
    init(&dir);
    let out = t.0.join("backup");
    let o = run(&dir, &["backup", out.to_str().expect("p")]);
    assert!(o.status.success(), "{:?}", text(&o));
    let path = out.join("MANIFEST.json");
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).expect("manifest")).expect("json");
    assert_eq!(manifest["format"], 2);
    assert_eq!(manifest["signature"].as_str().map(str::len), Some(64));
    // Doctor the database where no check looks, then make every hash agree again.
    let url = vigia_store::sqlite_url(&out.join("vigia.db"));
    tokio::runtime::Runtime::new().expect("rt").block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connect");
        sqlx::query("INSERT INTO login_failures (email, at) VALUES ('planted', 0)")
            .execute(&mut c)
            .await
            .expect("doctor");
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut c).await.expect("checkpoint");
    });
    let _ = std::fs::remove_file(out.join("vigia.db-wal"));
    let _ = std::fs::remove_file(out.join("vigia.db-shm"));
    let db = std::fs::read(out.join("vigia.db")).expect("db");
    manifest["database_sha256"] = vigia_domain::audit::sha256_hex(&db).into();
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).expect("json")).expect("write");
    let fresh = |name: &str| {
        let d = t.0.join(name);
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::copy(dir.join("master.key"), d.join("master.key")).expect("key");
        d
    };
    let target = fresh("target");
    let o = run(&target, &["restore", out.to_str().expect("p")]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("signature does not verify"), "{:?}", text(&o));
    assert!(!target.join("vigia.db").exists(), "nothing moved");
    // Passed off as a backup from before signing: refused unless asked for by name.
    manifest["format"] = 1.into();
    manifest.as_object_mut().expect("object").remove("signature");
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).expect("json")).expect("write");
    let o = run(&target, &["restore", out.to_str().expect("p")]);
    assert!(!o.status.success() && text(&o).1.contains("--allow-unsigned"), "{:?}", text(&o));
    let o = run(&target, &["restore", out.to_str().expect("p"), "--allow-unsigned"]);
    assert!(o.status.success() && text(&o).1.contains("unsigned"), "{:?}", text(&o));
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

/// Opens a data dir's store the way the server would.
pub(crate) async fn open_dir(dir: &Path) -> vigia_store::DynStore {
    let keys = vigia_store::keyfile::load(dir).expect("key");
    vigia_store::open(&vigia_store::sqlite_url(&dir.join("vigia.db")), &keys).await.expect("open")
}

#[test]
fn backups_taken_under_write_load_restore_only_after_every_check() {
    let t = TempDir::new("restore");
    let dir = t.data();
    init(&dir);
    let token = text(&run(&dir, &["token", "create", "--user", "admin@d.org"])).0.trim().to_string();
    let server = Server::start("serve", &dir);
    let out = t.0.join("backup");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let written = rt.block_on(async {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (stop, base, token) = (stop.clone(), server.base.clone(), token.clone());
            tokio::spawn(async move {
                let c = reqwest::Client::new();
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = c
                        .post(format!("{base}/api/v1/facilities"))
                        .bearer_auth(&token)
                        .json(&json!({"name": format!("Centro {n}"), "kind": "other", "state_code": "07"}))
                        .send()
                        .await
                        .expect("post");
                    assert_eq!(r.status(), 201);
                    let attempt: Value = c
                        .post(format!("{base}/api/v1/access-attempts"))
                        .bearer_auth(&token)
                        .json(&json!({"facility_id": r.json::<Value>().await.expect("json")["id"], "attempted_at": "2020-01-20T10:00",
                                      "purpose": "monitoring", "outcome": "denied"}))
                        .send()
                        .await
                        .expect("post")
                        .json()
                        .await
                        .expect("json");
                    c.post(format!("{base}/api/v1/access-attempts/{}/files?filename=oficio.pdf", attempt["id"]))
                        .bearer_auth(&token)
                        .body(format!("%PDF-1.4 oficio {n}").into_bytes())
                        .send()
                        .await
                        .expect("file");
                    n += 1;
                }
                n
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (d, o) = (dir.clone(), out.clone());
        let backup = tokio::task::spawn_blocking(move || run(&d, &["backup", o.to_str().expect("p")])).await.expect("join");
        assert!(backup.status.success(), "{:?}", text(&backup));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writer.await.expect("writer")
    });
    drop(server);
    assert!(written > 0, "writes went on during the backup");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("MANIFEST.json")).expect("manifest")).expect("json");

    // Into a fresh data dir with the master key of the time.
    let fresh = t.0.join("fresh");
    std::fs::create_dir_all(&fresh).expect("mkdir");
    std::fs::copy(dir.join("master.key"), fresh.join("master.key")).expect("key");
    let o = run(&fresh, &["restore", out.to_str().expect("p")]);
    assert!(o.status.success(), "{:?}", text(&o));
    rt.block_on(async {
        let store = open_dir(&fresh).await;
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(report.head_hash, manifest["head_hash"].as_str().expect("head"));
        let counts = serde_json::to_value(store.counts().await.expect("counts")).expect("json");
        assert_eq!(counts, manifest["counts"]);
        assert!(counts["facilities"].as_i64().expect("n") > 0 && counts["blobs"].as_i64().expect("n") > 0);
        let original = open_dir(&dir).await.counts().await.expect("counts");
        assert!(original.get("facilities") >= counts["facilities"].as_i64().expect("n"), "the copy is a snapshot");
    });

    // Existing data needs --force, and is kept aside.
    let o = run(&fresh, &["restore", out.to_str().expect("p")]);
    assert!(!o.status.success() && text(&o).1.contains("--force"));
    let o = run(&fresh, &["restore", out.to_str().expect("p"), "--force"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(std::fs::read_dir(&fresh).expect("dir").any(|e| e
        .expect("e")
        .file_name()
        .to_string_lossy()
        .starts_with("replaced-")));

    // Without the right key nothing is restored.
    let wrong = t.0.join("wrong");
    std::fs::create_dir_all(&wrong).expect("mkdir");
    std::fs::write(wrong.join("master.key"), "ab".repeat(32)).expect("key");
    let o = run(&wrong, &["restore", out.to_str().expect("p")]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("master key"), "{:?}", text(&o));
    assert!(!wrong.join("vigia.db").exists());

    // An altered backup is refused before anything moves.
    let mut db = std::fs::read(out.join("vigia.db")).expect("db");
    let i = db.len() / 2;
    db[i] ^= 0x55;
    std::fs::write(out.join("vigia.db"), db).expect("write");
    let altered = t.0.join("altered");
    std::fs::create_dir_all(&altered).expect("mkdir");
    std::fs::copy(dir.join("master.key"), altered.join("master.key")).expect("key");
    let o = run(&altered, &["restore", out.to_str().expect("p")]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("altered"), "{:?}", text(&o));
    assert!(!altered.join("vigia.db").exists());
}

#[test]
fn the_demo_starts_with_its_dataset_and_answers_health_checks() {
    let t = TempDir::new("demo");
    let dir = t.data();
    let server = Server::start("demo", &dir);
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let c = reqwest::Client::new();
        let r = c.get(format!("{}/healthz", server.base)).send().await.expect("health");
        assert_eq!(r.status(), 200);
    });
    drop(server);
    let o = run(&dir, &["user", "list", "--json"]);
    let users: Vec<Value> = text(&o).0.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let roles: std::collections::BTreeSet<_> =
        users.iter().map(|u| u["role"].as_str().expect("role").to_string()).collect();
    assert_eq!(roles.len(), 5, "a user for each role: {roles:?}");
    let o = run(&dir, &["audit", "verify"]);
    assert!(o.status.success(), "{:?}", text(&o));
    // A second start reuses the data.
    let server = Server::start("demo", &dir);
    drop(server);
    let o = run(&dir, &["org", "list"]);
    assert_eq!(text(&o).0.lines().count(), 3);
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

#[test]
fn the_demo_flags_the_january_2020_closing_and_the_spring_2020_blanket_refusal() {
    let t = TempDir::new("episode");
    let dir = t.data();
    let server = Server::start("demo", &dir);
    let o = run(&dir, &["token", "create", "--user", "coordinacion@coalicion.example"]);
    let token = text(&o).0.trim().to_string();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let c = reqwest::Client::new();
        let a: Value = c
            .get(format!("{}/api/v1/access-analysis", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        let episodes = a["episodes"].as_array().expect("episodes");
        let jan: Vec<&Value> =
            episodes.iter().filter(|e| e["start"].as_str().is_some_and(|s| s.starts_with("2020-01"))).collect();
        assert_eq!(jan.len(), 1, "{episodes:?}");
        let e = jan[0];
        assert!(e["organizations"].as_array().expect("orgs").len() >= 3);
        let states: Vec<&str> = e["facilities"].as_array().expect("f").iter().filter_map(|f| f.as_str()).collect();
        for place in ["Tuxtla", "Villahermosa", "Iztapalapa"] {
            assert!(states.iter().any(|f| f.contains(place)), "{place} in {states:?}");
        }
        assert!(e["p_value"].as_f64().expect("p") < 1e-6);
        // And the long blanket refusal for "health measures", March to June 2020 (#16,
        // part 3): one attempt a week at most centers, which 7-day windows cannot show;
        // the longer windows do, and the page says how sure in words.
        let spring = episodes
            .iter()
            .find(|e| {
                let (start, end) = (e["start"].as_str().unwrap_or(""), e["end"].as_str().unwrap_or(""));
                ("2020-03-01"..="2020-04-30").contains(&start) && ("2020-05-15"..="2020-07-31").contains(&end)
            })
            .unwrap_or_else(|| panic!("the spring 2020 closing in {episodes:#?}"));
        assert!(spring["organizations"].as_array().expect("orgs").len() >= 3, "{spring}");
        assert!(spring["scale_days"].as_i64().expect("scale") >= 14, "{spring}");
        assert!(spring["certainty"].is_string() && spring["fewer_than_once_in"].as_u64().expect("odds") >= 1000);
        // The statements follow the public record (#21, item 7): the letter dated 28 January
        // 2020, confirmed that evening, SEGOB disowning it the same evening (approximate
        // time), Amnesty International's "on Monday" recorded as its account, each text
        // naming its sources; and the contradictions are still found.
        let get = |path: &str| c.get(format!("{}{path}", server.base)).bearer_auth(&token).send();
        let statements: Value = get("/api/v1/statements").await.expect("get").json().await.expect("json");
        let items = statements["items"].as_array().expect("items");
        let find = |authority: &str, channel: &str| {
            items
                .iter()
                .find(|s| s["authority"] == authority && s["channel"] == channel)
                .unwrap_or_else(|| panic!("{authority} {channel} in {items:?}"))
        };
        let letter = find("inm", "official_letter");
        let segob = find("segob", "press_release");
        // 19:30 and 22:00 in Mexico City on 28 January, already 29 January in UTC.
        assert_eq!(letter["published_at"], "2020-01-29T01:30:00Z");
        assert_eq!(segob["published_at"], "2020-01-29T04:00:00Z");
        assert_eq!(
            (letter["claims"][0]["position"].as_str(), letter["claims"][0]["from"].as_str()),
            (Some("suspended"), Some("2020-01-28"))
        );
        let text = letter["text"].as_str().expect("text");
        for cited in [
            "INM/DGCVM/0118/2020",
            "28-01-2020",
            "\"on Monday\"",
            "27-01-2020",
            "AMR 41/1714/2020, 24-01-2020",
            "Amnistía Internacional, comunicado, 29-01-2020",
        ] {
            assert!(text.contains(cited), "{cited} in {text}");
        }
        assert!(letter["translation"].as_str().is_some_and(|t| t.contains("Sources:")), "{letter}");
        let text = segob["text"].as_str().expect("text");
        assert!(
            text.contains("Hora aproximada")
                && text.contains("declaración de la Secretaría de Gobernación del 28-01-2020"),
            "{text}"
        );
        for s in items {
            assert!(s["text"].as_str().is_some_and(|t| t.contains("Fuentes:") || t.contains("ilustrativa")), "{s}");
        }
        let found: Value = get("/api/v1/contradictions").await.expect("get").json().await.expect("json");
        let found = found["items"].as_array().expect("items");
        let ids = |s: &Value| s["id"].as_i64().expect("id");
        assert!(
            found.iter().any(|d| d["rule"] == "conflict"
                && d["statements"] == serde_json::json!([ids(letter), ids(segob)])
                && d["gap"] == "2 h 30 min"),
            "INM against SEGOB: {found:?}"
        );
        assert!(found.iter().any(|d| d["rule"] == "reversal"), "{found:?}");
        let spokesperson = find("inm", "interview");
        assert!(
            found.iter().any(|d| d["rule"] == "words_against_practice"
                && d["statements"] == serde_json::json!([ids(spokesperson)])
                && d["refusals"].as_u64().is_some_and(|n| n > 0)),
            "words against practice: {found:?}"
        );
        assert_eq!(found.len(), 5, "{found:?}");
        // Facility sources name public references, never a design file.
        let facilities: Value = get("/api/v1/facilities").await.expect("get").json().await.expect("json");
        for f in facilities["items"].as_array().expect("items") {
            let sources = f["sources"].as_str().unwrap_or_default();
            assert!(!sources.contains("DOMAIN") && !sources.contains(".md") && !sources.contains('§'), "{f}");
        }
        // The worker's scan puts it in the inbox.
        let mut found = false;
        for _ in 0..100 {
            let inbox: Value = c
                .get(format!("{}/api/v1/alerts", server.base))
                .bearer_auth(&token)
                .send()
                .await
                .expect("get")
                .json()
                .await
                .expect("json");
            found = inbox["items"].as_array().expect("items").iter().any(|a| {
                a["kind"] == "episode" && a["payload"]["start"].as_str().is_some_and(|s| s.starts_with("2020-01"))
            });
            if found {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(found, "the January 2020 episode is in the coalition's inbox");
        // The page shows it too.
        let session = reqwest::Client::builder().cookie_store(true).build().expect("c");
        let login = session.get(format!("{}/login", server.base)).send().await.expect("get").text().await.expect("t");
        let csrf = crate::helpers::csrf_of(&login);
        session
            .post(format!("{}/login", server.base))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "analisis@defensoria.example"),
                ("password", vigia_cli::demo::PASSWORD),
            ])
            .send()
            .await
            .expect("login");
        let page =
            session.get(format!("{}/access/analysis", server.base)).send().await.expect("get").text().await.expect("t");
        assert!(page.contains("Suspected general suspensions"), "the analyst reads English");
        assert!(page.contains("2020-01-14 → 2020-01-25"), "{page}");
    });
    drop(server);
}

/// The crash drill: a client writes facilities and evidence files while the server is
/// killed with SIGKILL at random moments; after each kill every write the server
/// acknowledged must be there, SQLite's integrity check must pass and so must the audit
/// chain. `VIGIA_CRASH_CYCLES` sets the cycles (50 by default; docs/operations.md reports
/// a 1,000-cycle run); `VIGIA_CRASH_SEED` replays a run.
#[test]
fn acknowledged_writes_survive_sigkill() {
    let cycles: u64 = std::env::var("VIGIA_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    crash_drill(None, cycles);
}

/// The same against PostgreSQL, fewer cycles (when VIGIA_TEST_DATABASE_URL is set).
#[test]
fn acknowledged_writes_survive_sigkill_on_postgres() {
    let Some(server) = std::env::var("VIGIA_TEST_DATABASE_URL").ok() else {
        eprintln!("skipped: PostgreSQL crash drill (VIGIA_TEST_DATABASE_URL not set)");
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let db = rt.block_on(vigia_store::testing::TestDb::postgres(&server)).expect("database");
    let cycles: u64 = std::env::var("VIGIA_CRASH_CYCLES_PG").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    crash_drill(Some(db.url.clone()), cycles);
    drop(db);
}

fn crash_drill(database_url: Option<String>, cycles: u64) {
    let t = TempDir::new("crash");
    let dir = t.data();
    let db_args: Vec<String> = database_url.iter().flat_map(|u| ["--database-url".to_string(), u.clone()]).collect();
    let db_args: Vec<&str> = db_args.iter().map(String::as_str).collect();
    let o = run_with_stdin(
        &dir,
        &[
            &["init", "--org-slug", "defensoria", "--org-name", "Defensoría", "--admin-email", "admin@d.org"][..],
            &db_args,
        ]
        .concat(),
        "una clave larga de prueba\n",
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run(&dir, &[&["token", "create", "--user", "admin@d.org"][..], &db_args].concat());
    let token = text(&o).0.trim().to_string();
    assert!(token.starts_with("vga_"), "{:?}", text(&o));
    let seed: u64 = std::env::var("VIGIA_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| vigia_store::now_micros() as u64 | 1);
    eprintln!("crash drill: {cycles} cycles, seed {seed}");
    let mut rng = seed;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n.max(1)
    };
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let mut acked_names: Vec<String> = Vec::new();
    let mut acked_files: Vec<(i64, String)> = Vec::new();
    for cycle in 0..cycles {
        let mut server = Server::start_with("serve", &dir, &db_args);
        let delay = 20 + next(200);
        // The writer only stops when the server dies, so every kill lands mid-load.
        let (names, files) = rt.block_on(async {
            let c = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().expect("client");
            let base = server.base.clone();
            let token = token.clone();
            let writer = tokio::spawn(async move {
                let (mut names, mut files) = (Vec::new(), Vec::new());
                for i in 0.. {
                    let name = format!("Centro {cycle}-{i}");
                    let r = c
                        .post(format!("{base}/api/v1/facilities"))
                        .bearer_auth(&token)
                        .json(&json!({"name": name, "kind": "other", "state_code": "07"}))
                        .send()
                        .await;
                    let Ok(r) = r else { break };
                    if r.status() != 201 {
                        break;
                    }
                    names.push(name);
                    let Ok(f) = r.json::<Value>().await else { break };
                    if i % 3 == 0 {
                        let attempt = c
                            .post(format!("{base}/api/v1/access-attempts"))
                            .bearer_auth(&token)
                            .json(&json!({"facility_id": f["id"], "attempted_at": "2020-01-20T10:00", "purpose": "monitoring", "outcome": "denied"}))
                            .send()
                            .await;
                        let Ok(a) = attempt else { break };
                        let Ok(a) = a.json::<Value>().await else { break };
                        let body = format!("%PDF-1.4 oficio {cycle}-{i}");
                        let r = c
                            .post(format!("{base}/api/v1/access-attempts/{}/files?filename=oficio.pdf", a["id"]))
                            .bearer_auth(&token)
                            .body(body.clone().into_bytes())
                            .send()
                            .await;
                        match r {
                            Ok(r) if r.status() == 201 => {
                                files.push((a["id"].as_i64().unwrap_or(0), vigia_domain::audit::sha256_hex(body.as_bytes())))
                            }
                            _ => break,
                        }
                    }
                }
                (names, files)
            });
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            // SIGKILL: no shutdown code runs.
            let _ = server.child.kill();
            let _ = server.child.wait();
            writer.await.expect("writer")
        });
        acked_names.extend(names);
        acked_files.extend(files);
        drop(server);
        rt.block_on(async {
            let keys = vigia_store::keyfile::load(&dir).expect("key");
            let url = database_url.clone().unwrap_or_else(|| vigia_store::sqlite_url(&dir.join("vigia.db")));
            if database_url.is_none() {
                let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
                let check: (String,) =
                    sqlx::query_as("PRAGMA integrity_check").fetch_one(&mut conn).await.expect("pragma");
                assert_eq!(check.0, "ok", "cycle {cycle} (seed {seed}): integrity check");
                conn.close().await.expect("close");
            }
            let store = vigia_store::open(&url, &keys).await.expect("reopen after kill");
            let present: std::collections::HashSet<String> =
                store.list_facilities().await.expect("list").into_iter().map(|f| f.draft.name).collect();
            for n in &acked_names {
                assert!(present.contains(n), "cycle {cycle} (seed {seed}): acknowledged facility {n} lost");
            }
            for (attempt, sha) in &acked_files {
                let files = store.attachments(vigia_domain::RecordType::AccessAttempt, *attempt).await.expect("files");
                assert!(files.iter().any(|f| &f.sha256 == sha), "cycle {cycle} (seed {seed}): acknowledged file lost");
            }
            let report = store.verify_audit().await.expect("verify");
            assert!(report.ok(), "cycle {cycle} (seed {seed}): {:?}", report.problems);
            store.close().await;
        });
    }
    assert!(acked_names.len() as u64 >= cycles, "the load wrote while it was killed");
    eprintln!(
        "crash drill: {cycles} kills under load, {} acknowledged facilities and {} files all present, integrity and audit chain ok",
        acked_names.len(),
        acked_files.len()
    );
}

#[test]
fn portable_exports_move_between_backends_and_verify() {
    let t = TempDir::new("export");
    let dir = t.data();
    init(&dir);
    let token = text(&run(&dir, &["token", "create", "--user", "admin@d.org"])).0.trim().to_string();
    let server = Server::start("serve", &dir);
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let case_id = rt.block_on(async {
        let c = reqwest::Client::new();
        let base = &server.base;
        let f: Value = c
            .post(format!("{base}/api/v1/facilities"))
            .bearer_auth(&token)
            .json(&json!({"name": "Siglo XXI", "kind": "estacion_migratoria", "state_code": "07"}))
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json");
        let a: Value = c
            .post(format!("{base}/api/v1/access-attempts"))
            .bearer_auth(&token)
            .json(&json!({"facility_id": f["id"], "attempted_at": "2020-01-20T10:00", "purpose": "monitoring", "outcome": "denied"}))
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json");
        let r = c
            .post(format!("{base}/api/v1/access-attempts/{}/files?filename=oficio.pdf", a["id"]))
            .bearer_auth(&token)
            .body(b"%PDF-1.4 oficio de suspension".to_vec())
            .send()
            .await
            .expect("file");
        assert_eq!(r.status(), 201);
        let case: Value = c
            .post(format!("{base}/api/v1/cases"))
            .bearer_auth(&token)
            .json(&json!({"reference": "DMS-1", "full_name": "Nombre Sellado Prueba", "age_group": "adolescent_12_17"}))
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json");
        let r = c
            .post(format!("{base}/api/v1/cases/{}/documents?filename=acta.pdf", case["id"]))
            .bearer_auth(&token)
            .body(b"%PDF-1.4 acta de nacimiento".to_vec())
            .send()
            .await
            .expect("doc");
        assert_eq!(r.status(), 201);
        case["id"].as_i64().expect("id")
    });
    drop(server);
    let original = rt.block_on(async { open_dir(&dir).await.counts().await.expect("counts") });

    let export = t.0.join("export.jsonl");
    let o = run(&dir, &["export", "--all", export.to_str().expect("p")]);
    assert!(o.status.success(), "{:?}", text(&o));
    let dump = std::fs::read_to_string(&export).expect("export");
    assert!(!dump.contains("Nombre Sellado"), "sealed data stays sealed in the export");

    // SQLite -> PostgreSQL (when configured) -> SQLite again.
    let pg = std::env::var("VIGIA_TEST_DATABASE_URL").ok();
    let pg_db = pg.as_ref().map(|url| rt.block_on(vigia_store::testing::TestDb::postgres(url)).expect("database"));
    let last_export = match &pg_db {
        Some(db) => {
            let pgdir = t.0.join("pg");
            std::fs::create_dir_all(&pgdir).expect("mkdir");
            std::fs::copy(dir.join("master.key"), pgdir.join("master.key")).expect("key");
            let o = run(&pgdir, &["import", "--all", export.to_str().expect("p"), "--database-url", &db.url]);
            assert!(o.status.success(), "into PostgreSQL: {:?}", text(&o));
            let again = t.0.join("from-pg.jsonl");
            let o = run(&pgdir, &["export", "--all", again.to_str().expect("p"), "--database-url", &db.url]);
            assert!(o.status.success(), "out of PostgreSQL: {:?}", text(&o));
            again
        }
        None => {
            eprintln!("skipped: the PostgreSQL leg of the export round trip (VIGIA_TEST_DATABASE_URL not set)");
            export.clone()
        }
    };
    let back = t.0.join("back");
    std::fs::create_dir_all(&back).expect("mkdir");
    std::fs::copy(dir.join("master.key"), back.join("master.key")).expect("key");
    let o = run(&back, &["import", "--all", last_export.to_str().expect("p")]);
    assert!(o.status.success(), "into SQLite: {:?}", text(&o));
    rt.block_on(async {
        let store = open_dir(&back).await;
        assert_eq!(store.counts().await.expect("counts"), original);
        assert!(store.verify_audit().await.expect("verify").ok());
        let org = store.org_by_slug("defensoria").await.expect("org").expect("org").id;
        let sealed = store.read_case_sealed(&vigia_store::Actor::SYSTEM, org, case_id).await.expect("sealed");
        assert_eq!(sealed.person.full_name, "Nombre Sellado Prueba");
        let docs = store.case_documents(org, case_id).await.expect("docs");
        let (_, bytes) = store.read_case_document(&vigia_store::Actor::SYSTEM, org, docs[0].id).await.expect("doc");
        assert_eq!(bytes, b"%PDF-1.4 acta de nacimiento");
    });
    assert!(back.join("blobs").exists(), "evidence bytes are files again on SQLite");
    // Into data that exists, or with another key: refused.
    let o = run(&back, &["import", "--all", export.to_str().expect("p")]);
    assert!(!o.status.success() && text(&o).1.contains("empty"), "{:?}", text(&o));
    let wrong = t.0.join("wrong");
    std::fs::create_dir_all(&wrong).expect("mkdir");
    std::fs::write(wrong.join("master.key"), "cd".repeat(32)).expect("key");
    let o = run(&wrong, &["import", "--all", export.to_str().expect("p")]);
    assert!(!o.status.success() && text(&o).1.contains("master key"), "{:?}", text(&o));
    drop(pg_db);
}
