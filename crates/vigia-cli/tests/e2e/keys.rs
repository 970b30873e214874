//! Keys and integrity when someone holds the files (issue #22): a stolen laptop or
//! backup, a former staff member with an old key, an operator or intruder with write
//! access to the database, a tampered export file sent for a migration.

use std::path::Path;

use serde_json::{json, Value};

use crate::cli::{init, run, text, TempDir};

/// Writes `lines` as an export signed with `dir`'s master key, as `vigia export` would.
fn sign_export(dir: &Path, lines: &[String], out: &Path) {
    let key = vigia_store::keyfile::load(dir).expect("key").remove(0);
    let mut mac = key.mac_stream("export");
    let mut body = String::new();
    for l in lines {
        let line = format!("{l}\n");
        mac.update(line.as_bytes());
        body.push_str(&line);
    }
    let end = json!({"vigia_export_end": {"lines": lines.len(), "mac": mac.finish()}});
    body.push_str(&format!("{end}\n"));
    std::fs::write(out, body).expect("write");
}

/// An export's lines without its trailer.
fn export_lines(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).expect("export");
    text.lines().filter(|l| !l.contains("vigia_export_end")).map(str::to_string).collect()
}

/// Every path under `root`, to compare before and after an import.
fn tree(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Finding 4 (export part) and finding 10: an export is owner-only and signed as a
/// whole; a row changed, added or dropped after export (here: an API token re-pointed
/// to the administrator), a cut-off trailer, or another master key is refused before
/// anything is written.
#[test]
fn a_changed_export_is_refused_before_anything_is_written() {
    let t = TempDir::new("export_sig");
    let dir = t.data();
    init(&dir);
    let o = run(&dir, &["token", "create", "--user", "admin@d.org"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let export = t.0.join("export.jsonl");
    let o = run(&dir, &["export", "--all", export.to_str().expect("p")]);
    assert!(o.status.success(), "{:?}", text(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&export).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "an export carries password hashes: owner-only");
    }
    let original = std::fs::read_to_string(&export).expect("read");
    assert!(original.lines().last().expect("last").contains("vigia_export_end"), "signed trailer");

    let import = |name: &str, content: &str, extra: &[&str]| {
        let file = t.0.join(format!("{name}.jsonl"));
        std::fs::write(&file, content).expect("write");
        let target = t.0.join(name);
        std::fs::create_dir_all(&target).expect("mkdir");
        std::fs::copy(dir.join("master.key"), target.join("master.key")).expect("key");
        let mut args = vec!["import", "--all", file.to_str().expect("p")];
        args.extend_from_slice(extra);
        let o = run(&target, &args);
        (o, target)
    };
    // Re-point the token to another user id: the rows still parse, but not the signature.
    let lines: Vec<String> = original.lines().map(str::to_string).collect();
    let tampered: Vec<String> = lines
        .iter()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("json");
            if v["table"] == "api_tokens" {
                v["row"]["user_id"] = json!(999);
            }
            v.to_string()
        })
        .collect();
    let (o, target) = import("tampered", &(tampered.join("\n") + "\n"), &[]);
    assert!(!o.status.success() && text(&o).1.contains("signature"), "{:?}", text(&o));
    assert!(!target.join("vigia.db").exists(), "nothing was written before the check");
    // A line added after the trailer, or the trailer cut off.
    let (o, _) = import("appended", &format!("{original}{}\n", lines[1]), &[]);
    assert!(!o.status.success() && text(&o).1.contains("after its signed end"), "{:?}", text(&o));
    let cut = lines[..lines.len() - 1].join("\n") + "\n";
    let (o, _) = import("cut", &cut, &[]);
    assert!(!o.status.success() && text(&o).1.contains("not signed"), "{:?}", text(&o));
    // A line dropped, and the line count left as it was.
    let mut dropped = lines.clone();
    dropped.remove(2);
    let (o, _) = import("dropped", &(dropped.join("\n") + "\n"), &[]);
    assert!(!o.status.success() && text(&o).1.contains("signature"), "{:?}", text(&o));
    // A line no export has (here 33 MiB) is refused before it fills memory, signed or not.
    let (o, _) = import("huge", &format!("{}\n", "x".repeat(33 * 1024 * 1024)), &["--allow-unsigned"]);
    assert!(!o.status.success() && text(&o).1.contains("longer than 32 MiB"), "{:?}", text(&o));
    // The untouched file imports and verifies.
    let (o, target) = import("intact", &original, &[]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(run(&target, &["audit", "verify"]).status.success());
}

/// Finding 1: a crafted export's evidence names cannot write outside the data dir,
/// even when the file is signed with the right key (an insider, or --allow-unsigned):
/// names are 64 lowercase hex characters and a number, checked before any write, and
/// a file kept in the clear must match its hash before it is written.
#[test]
fn hostile_evidence_names_in_an_export_never_leave_the_data_dir() {
    let t = TempDir::new("export_hostile");
    let dir = t.data();
    init(&dir);
    let export = t.0.join("export.jsonl");
    assert!(run(&dir, &["export", "--all", export.to_str().expect("p")]).status.success());
    let lines = export_lines(&export);
    let sha = vigia_domain::audit::sha256_hex(b"\x89PNG\r\n\x1a\nhostile");
    let tail = &sha[10..];
    // Hand-picked escapes, and names built at random from the pieces of a path.
    let mut names: Vec<(Value, Value)> = vec![
        (json!(format!("./../../{tail}")), Value::Null),
        (json!(format!("../../../../../../tmp/{tail}")), Value::Null),
        (json!(format!("/{}", &sha[1..])), Value::Null),
        (json!(sha.to_uppercase()), Value::Null),
        (json!(format!("{}\u{0}", &sha[1..])), Value::Null),
        (json!(sha.clone()), json!("../../escaped")),
        (json!(sha.clone()), json!(-3)),
        (json!(sha.clone()), json!(0)),
        (json!(sha.clone()), json!(1.5)),
        (json!("ab".repeat(32)), Value::Null),
    ];
    let pieces = ["..", "/", ".", "a", "0", "\\", "%2e", "escaped", "~", "f"];
    let mut seed: u64 = 0x005e_ed22;
    for _ in 0..30 {
        let mut name = String::new();
        for _ in 0..12 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            name.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
        }
        names.push((json!(name), Value::Null));
    }
    let before = tree(&t.0);
    for (i, (name, key_org)) in names.iter().enumerate() {
        let mut crafted = lines.clone();
        let blob = json!({"table": "blobs", "row": {
            "sha256": name, "size": 17, "content_type": "image/png",
            "data": {"base64": "iVBORw0KGgpob3N0aWxl"}, "created_at": 1, "key_org": key_org}});
        crafted.insert(1, blob.to_string());
        let file = t.0.join(format!("hostile-{i}.jsonl"));
        sign_export(&dir, &crafted, &file);
        let target = t.0.join(format!("target-{i}"));
        std::fs::create_dir_all(&target).expect("mkdir");
        std::fs::copy(dir.join("master.key"), target.join("master.key")).expect("key");
        let o = run(&target, &["import", "--all", file.to_str().expect("p")]);
        assert!(!o.status.success(), "{name} / {key_org} was accepted");
        let (_, err) = text(&o);
        assert!(err.contains("evidence file") || err.contains("not by its hash"), "{name}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        let blobs = target.join("blobs");
        for p in tree(&target) {
            assert!(
                !p.starts_with(&blobs) || p.is_dir() || p.file_name().is_some_and(|f| f.len() >= 64),
                "{name}: unexpected {p:?}"
            );
        }
        let _ = std::fs::remove_dir_all(&target);
        let _ = std::fs::remove_file(&file);
    }
    let after = tree(&t.0);
    assert_eq!(before, after, "no file appeared anywhere outside the targets");
}

fn rotate_crashing_at(dir: &Path, step: &str) -> std::process::Output {
    crate::cli::vigia()
        .args(["keys", "rotate", "--data-dir"])
        .arg(dir)
        .env("VIGIA_CRASH_AT", step)
        .output()
        .expect("run vigia")
}

/// The data dir opens, verifies and takes a write; no temporary key file is left once
/// a rotation has run to the end.
fn assert_usable(dir: &Path, tag: &str) {
    let o = run(dir, &["audit", "verify"]);
    assert!(o.status.success(), "{tag}: {:?}", text(&o));
    let o = run(dir, &["org", "add", "--slug", &format!("org-{tag}"), "--name", tag]);
    assert!(o.status.success(), "{tag}: a write under the right key: {:?}", text(&o));
}

const STEPS: [&str; 6] = [
    "rotate-locked",
    "rotate-settled",
    "key-temp-written",
    "rotate-next-written",
    "rotate-committed",
    "rotate-promoted",
];

/// Finding 2: a rotation killed at every step leaves data that opens and takes writes,
/// and the next rotation finishes or undoes what the killed one left. The reviewer's
/// case is here too: killed after the database committed (the new key only in
/// `master.key.new`), then a second rotation killed before its own commit, which used
/// to overwrite the only key that opened the data.
#[test]
fn key_rotation_survives_a_kill_at_every_step() {
    let t = TempDir::new("rotate_kill");
    let dir = t.data();
    init(&dir);
    for (i, step) in STEPS.iter().enumerate() {
        let o = rotate_crashing_at(&dir, step);
        assert!(!o.status.success() && text(&o).1.contains(step), "{step}: {:?}", text(&o));
        assert_usable(&dir, &format!("after-{i}"));
        let o = run(&dir, &["keys", "rotate"]);
        assert!(o.status.success(), "{step}: {:?}", text(&o));
        assert!(!dir.join("master.key.new").exists(), "{step}: the pending key was settled");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{step}: {leftovers:?}");
        assert_usable(&dir, &format!("rotated-{i}"));
    }
    // Committed but not promoted, then a second rotation killed before its commit.
    let o = rotate_crashing_at(&dir, "rotate-committed");
    assert!(!o.status.success());
    let committed = std::fs::read_to_string(dir.join("master.key.new")).expect("pending key");
    let o = rotate_crashing_at(&dir, "rotate-next-written");
    assert!(!o.status.success() && text(&o).1.contains("rotate-next-written"), "{:?}", text(&o));
    assert_eq!(std::fs::read_to_string(dir.join("master.key")).expect("key"), committed, "settled first");
    assert_usable(&dir, "twice");
    // An empty or half-written pending key does not stop the data dir opening.
    for junk in ["", "abc", &"zz".repeat(32)] {
        std::fs::write(dir.join("master.key.new"), junk).expect("junk");
        assert_usable(&dir, &format!("junk-{}", junk.len()));
        assert!(run(&dir, &["keys", "rotate"]).status.success());
        assert!(!dir.join("master.key.new").exists());
    }
}

/// Finding 2: two rotations at once. The key lock makes the second fail at once with
/// a reason; run truly together, every pair leaves data that opens with the key file.
#[test]
fn concurrent_rotations_never_lose_the_key() {
    let t = TempDir::new("rotate_race");
    let dir = t.data();
    init(&dir);
    let held = vigia_store::keyfile::lock(&dir).expect("lock");
    let o = run(&dir, &["keys", "rotate"]);
    assert!(!o.status.success() && text(&o).1.contains("another key rotation"), "{:?}", text(&o));
    drop(held);
    for round in 0..4 {
        let spawn = || {
            crate::cli::vigia()
                .args(["keys", "rotate", "--data-dir"])
                .arg(&dir)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        };
        let (a, b) = (spawn(), spawn());
        for o in [a.wait_with_output().expect("wait"), b.wait_with_output().expect("wait")] {
            let (_, err) = text(&o);
            assert!(o.status.success() || err.contains("another key rotation"), "round {round}: {err}");
        }
        assert!(!dir.join("master.key.new").exists(), "round {round}");
        assert_usable(&dir, &format!("race-{round}"));
    }
}

/// Finding 2: a process still holding the replaced master key (a server left running
/// through a rotation, an `org add` racing it) cannot write, so it cannot wrap a new
/// organization's key under the old key and lock everyone out.
#[test]
fn a_process_with_the_replaced_key_cannot_write() {
    let t = TempDir::new("rotate_stale");
    let dir = t.data();
    init(&dir);
    let token = text(&run(&dir, &["token", "create", "--user", "admin@d.org"])).0.trim().to_string();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let stale = crate::cli::open_dir(&dir).await;
        let o = run(&dir, &["keys", "rotate"]);
        assert!(o.status.success(), "{:?}", text(&o));
        let rotated =
            |e: &vigia_store::StoreError| matches!(e, vigia_store::StoreError::Vault(vigia_store::VaultError::Rotated));
        let err = stale.create_org(&vigia_store::Actor::SYSTEM, "tarde", "Tarde").await.expect_err("refused");
        assert!(rotated(&err), "{err:?}");
        // Its sign-ins and tokens answer "restart" (503), not "wrong credentials": a
        // right password is not counted as a failure (found by our own attack pass).
        let hash = vigia_store::secrets::token_hash(&token);
        let err = stale.user_by_api_token(&hash).await.expect_err("refused");
        assert!(rotated(&err), "{err:?}");
        let err = stale.user_by_email("admin@d.org").await.expect_err("refused");
        assert!(rotated(&err), "{err:?}");
        stale.close().await;
        let fresh = crate::cli::open_dir(&dir).await;
        fresh.create_org(&vigia_store::Actor::SYSTEM, "tarde", "Tarde").await.expect("a fresh process writes");
    });
    assert_usable(&dir, "after");
}

/// Finding 4 (and 8): with write access to the database but not the master key, an
/// intruder plants or edits the rows that decide who gets in. Each attempt here worked
/// before the rows carried MACs; now each is refused, `audit verify` names the rows,
/// and a key rotation keeps the honest rows working and the planted ones refused.
#[tokio::test]
async fn security_rows_written_without_the_master_key_let_no_one_in() {
    use crate::hardening::behind_the_back;
    use crate::helpers::TestApp;
    use crate::security::{now_secs, password_step};
    use vigia_domain::account::Role;
    use vigia_domain::totp;
    use vigia_store::{secrets, Actor};

    for app in TestApp::all().await {
        let db = &app._db;
        let http = reqwest::Client::new();
        let me = |t: &str| http.get(app.url("/api/v1/me")).bearer_auth(t.to_string()).send();
        let (admin, admin_token) = app.api_user("jefa@a.org", "org-a", Role::Admin).await;
        let (mon, mon_token) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
        assert_eq!(me(&admin_token).await.expect("get").status(), 200);

        // A token planted for the administrator.
        let planted = secrets::new_token("vga_").expect("token");
        let sql = format!(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) \
             VALUES ({}, 'planted', '{}', 1, 9000000000000000)",
            admin.id,
            secrets::token_hash(&planted)
        );
        behind_the_back(db, &sql).await;
        assert_eq!(me(&planted).await.expect("get").status(), 401, "planted token");
        // The monitor's own token re-pointed to the administrator.
        behind_the_back(db, &format!("UPDATE api_tokens SET user_id = {} WHERE user_id = {}", admin.id, mon.id)).await;
        assert_eq!(me(&mon_token).await.expect("get").status(), 401, "re-pointed token");
        // A known password hash copied onto the administrator's account (changing the
        // password legitimately first ends the administrator's sessions).
        let secret_hash = secrets::hash_password("otra clave larga que nadie sabe").expect("hash");
        app.store.set_password(&Actor::SYSTEM, admin.id, &secret_hash, None).await.expect("password");
        let sql = format!(
            "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = {}) WHERE id = {}",
            mon.id, admin.id
        );
        behind_the_back(db, &sql).await;
        let (_, s, loc) = password_step(&app, "jefa@a.org").await;
        assert!(!(s == 303 && loc == "/"), "copied password hash: {s} {loc}");

        // A session planted for the administrator.
        let session = secrets::new_token("").expect("token");
        let now = vigia_store::now_micros();
        let sql = format!(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at) VALUES ('{}', {}, 'x', {now}, {now})",
            secrets::token_hash(&session),
            admin.id
        );
        behind_the_back(db, &sql).await;
        let r = http
            .get(app.url("/api/v1/me"))
            .header("cookie", format!("vigia_session={session}"))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 401, "planted session");
        // A role raised behind the app's back: that user's token stops working.
        let (raised, raised_token) = app.api_user("sube@a.org", "org-a", Role::Analyst).await;
        assert_eq!(me(&raised_token).await.expect("get").status(), 200);
        behind_the_back(db, &format!("UPDATE memberships SET role = 'admin' WHERE user_id = {}", raised.id)).await;
        assert_eq!(me(&raised_token).await.expect("get").status(), 401, "raised role");
        // An e-mail changed (what sign-in and reset links go by).
        let (moved, moved_token) = app.api_user("correo@a.org", "org-a", Role::Analyst).await;
        behind_the_back(db, &format!("UPDATE users SET email = 'intruso@x.org' WHERE id = {}", moved.id)).await;
        assert_eq!(me(&moved_token).await.expect("get").status(), 401, "e-mail changed");
        // Two-factor sign-in switched off by deleting the TOTP row.
        let lawyer = app.user("abogada@a.org", "org-a", Role::Lawyer).await;
        let secret = vec![7u8; totp::SECRET_BYTES];
        app.store.totp_setup(lawyer.id, lawyer.org_id, &secret, now).await.expect("setup");
        let code_hash = secrets::token_hash("recovery-code-for-test");
        app.store
            .totp_enable(&Actor::SYSTEM, lawyer.id, now_secs() / 30, std::slice::from_ref(&code_hash))
            .await
            .expect("enable");
        let (_, s, loc) = password_step(&app, "abogada@a.org").await;
        assert_eq!((s, loc.as_str()), (303, "/login/totp"), "second step asked");
        // A recovery code used, then marked unused again.
        assert!(app.store.use_recovery_code(&Actor::SYSTEM, lawyer.id, &code_hash).await.expect("use"));
        behind_the_back(db, "UPDATE recovery_codes SET used_at = NULL").await;
        assert!(
            !app.store.use_recovery_code(&Actor::SYSTEM, lawyer.id, &code_hash).await.expect("use"),
            "un-used code"
        );
        assert_eq!(app.store.recovery_codes_left(lawyer.id).await.expect("left"), 0);
        // Another user's secret swapped in.
        let other = app.user("otra@a.org", "org-a", Role::Lawyer).await;
        app.store.totp_setup(other.id, other.org_id, &[9u8; totp::SECRET_BYTES], now).await.expect("setup");
        let sql =
            format!("UPDATE user_totp SET secret_sealed = (SELECT secret_sealed FROM user_totp WHERE user_id = {}) WHERE user_id = {}", other.id, lawyer.id);
        behind_the_back(db, &sql).await;
        let err = app.store.totp(lawyer.id, lawyer.org_id).await.expect_err("swapped secret");
        assert!(matches!(err, vigia_store::StoreError::Integrity(_)), "{err:?}");
        behind_the_back(db, &format!("DELETE FROM user_totp WHERE user_id = {}", lawyer.id)).await;
        let (c, s, loc) = password_step(&app, "abogada@a.org").await;
        assert!(!(s == 303 && loc == "/"), "second factor deleted: {s} {loc}");
        assert_eq!(crate::helpers::get_text(&c, app.url("/facilities")).await.0, 303, "not signed in");

        // `audit verify` names every table touched.
        let report = app.store.verify_audit().await.expect("verify");
        // (The TOTP row is gone: the lawyer's own row names it, its second factor was on.)
        for table in ["api_tokens", "sessions", "users", "recovery_codes"] {
            assert!(
                report.problems.iter().any(|p| p.contains(&format!(" {table} row(s) fail their integrity check"))),
                "{table}: {:?}",
                report.problems
            );
        }
        assert!(report.problems.iter().any(|p| p.contains(" users row(s)") && p.contains(&lawyer.id.to_string())));
        // After a rotation the honest rows work and the planted ones still do not.
        let (_, fresh_token) = app.api_user("nueva@a.org", "org-a", Role::Monitor).await;
        let new = vigia_store::MasterKey::generate().expect("key");
        app.store.rotate_master_key(&Actor::SYSTEM, &new).await.expect("rotate");
        assert_eq!(me(&fresh_token).await.expect("get").status(), 200, "an honest token survives rotation");
        assert_eq!(me(&planted).await.expect("get").status(), 401, "a planted one stays refused");
        let report = app.store.verify_audit().await.expect("verify");
        assert!(report.problems.iter().any(|p| p.contains(" api_tokens row(s)")), "{:?}", report.problems);
    }
}

/// Runs SQL on a data dir's SQLite file behind the application's back, with the audit
/// log's guard triggers dropped (as an intruder with the file would); returns the first
/// column of the first row, if any.
async fn sqlite_behind_the_back(dir: &Path, sql: &str) -> Option<String> {
    use sqlx::{Connection, Row};
    let url = vigia_store::sqlite_url(&dir.join("vigia.db"));
    let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connect");
    sqlx::query("DROP TRIGGER IF EXISTS audit_log_no_delete").execute(&mut c).await.expect("drop");
    sqlx::query("DROP TRIGGER IF EXISTS audit_log_no_update").execute(&mut c).await.expect("drop");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).fetch_optional(&mut c).await.expect("sql");
    row.and_then(|r| r.try_get::<String, _>(0).ok().or_else(|| r.try_get::<i64, _>(0).ok().map(|n| n.to_string())))
}

/// Replaces `to` with a copy of the data dir `from` (database, its WAL, the key).
fn copy_data_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).expect("mkdir");
    for f in ["vigia.db", "vigia.db-wal", "master.key"] {
        if from.join(f).exists() {
            std::fs::copy(from.join(f), to.join(f)).expect("copy");
        }
    }
}

/// The MAC a key holder would give the head `seq`, `hash`, keeping the recorded time
/// and start of the time rule.
async fn head_mac(dir: &Path, seq: i64, hash: &str) -> String {
    let key = vigia_store::keyfile::load(dir).expect("key").remove(0);
    let touched = sqlite_behind_the_back(dir, "SELECT touched_at FROM chain_head").await.expect("touched");
    let from = sqlite_behind_the_back(dir, "SELECT keyed_from FROM chain_head").await.unwrap_or_else(|| "-".into());
    let bound = sqlite_behind_the_back(dir, "SELECT records_bound FROM chain_head").await;
    let bound = if bound.as_deref() == Some("1") { "\nrecords bound" } else { "" };
    key.mac("audit-head", format!("{seq}\n{hash}\n{touched}\n{from}{bound}").as_bytes())
}

/// Appends a copy of the last entry (same record, same content) dated `at`, and moves
/// the head to it; with `key`, signs the head as someone holding the master key could.
async fn append_backdated(dir: &Path, at: i64, sign: bool) {
    let q = |col: &str| format!("SELECT {col} FROM audit_log ORDER BY seq DESC LIMIT 1");
    let seq: i64 = sqlite_behind_the_back(dir, &q("seq")).await.expect("seq").parse().expect("n");
    let prev = sqlite_behind_the_back(dir, &q("entry_hash")).await.expect("hash");
    let record_type = sqlite_behind_the_back(dir, &q("record_type")).await.expect("type");
    let record_id: i64 = sqlite_behind_the_back(dir, &q("record_id")).await.expect("id").parse().expect("n");
    let content_hash = sqlite_behind_the_back(dir, &q("content_hash")).await.expect("ch");
    let org: i64 = sqlite_behind_the_back(dir, &q("org_id")).await.expect("org").parse().expect("n");
    let seq = seq + 1;
    let hash = vigia_domain::audit::entry_hash(
        &prev,
        seq,
        at,
        None,
        Some(org),
        "update",
        &record_type,
        record_id,
        &content_hash,
    );
    let sql = format!(
        "INSERT INTO audit_log (seq, at, actor_user_id, org_id, action, record_type, record_id, content, content_hash, \
         prev_hash, entry_hash) SELECT {seq}, {at}, NULL, org_id, 'update', record_type, record_id, content, content_hash, \
         '{prev}', '{hash}' FROM audit_log WHERE seq = {}",
        seq - 1
    );
    sqlite_behind_the_back(dir, &sql).await;
    let mac = if sign { format!("'{}'", head_mac(dir, seq, &hash).await) } else { "mac".to_string() };
    sqlite_behind_the_back(
        dir,
        &format!("UPDATE chain_head SET seq = {seq}, hash = '{hash}', mac = {mac} WHERE id = 1"),
    )
    .await;
}

/// Finding 6: the audit history could be extended or rewritten by anyone with write
/// access to the database (`audit verify` said ok). The head now carries a MAC under
/// the master key, entry times never go backwards, and a head published outside Vigía
/// shows even a key holder cutting the history back.
#[tokio::test]
async fn the_audit_history_cannot_be_extended_rewritten_or_cut_back_unseen() {
    let t = TempDir::new("audit_head");
    let dir = t.data();
    init(&dir);
    assert!(run(&dir, &["audit", "verify"]).status.success());

    // Without the key: an entry appended with an old date, the head moved to it.
    let copy = t.0.join("copy");
    copy_data_dir(&dir, &copy);
    append_backdated(&copy, 1, false).await;
    let o = run(&copy, &["audit", "verify"]);
    assert!(!o.status.success() && text(&o).1.contains("not signed by the master key"), "{:?}", text(&o));
    // An honest write does not chain onto (and so sign) the forged entry: it is refused,
    // and verify still names the head (found by our own attack pass).
    let o = run(&copy, &["org", "add", "--slug", "encima", "--name", "Encima"]);
    assert!(!o.status.success() && text(&o).1.contains("head is not signed"), "{:?}", text(&o));
    let o = run(&copy, &["audit", "verify"]);
    assert!(!o.status.success() && text(&o).1.contains("not signed by the master key"), "{:?}", text(&o));
    // Nor can the time writers date from, or where the time rule starts, be moved.
    for sql in ["UPDATE chain_head SET touched_at = 4102444800000000", "UPDATE chain_head SET keyed_from = NULL"] {
        let fresh = t.0.join("fresh");
        copy_data_dir(&dir, &fresh);
        sqlite_behind_the_back(&fresh, sql).await;
        let o = run(&fresh, &["audit", "verify"]);
        assert!(!o.status.success() && text(&o).1.contains("not signed by the master key"), "{sql}: {:?}", text(&o));
        let o = run(&fresh, &["org", "add", "--slug", "luego", "--name", "Luego"]);
        assert!(!o.status.success(), "{sql}: a write is refused");
    }

    // With the key (a former insider who kept it): the head signs, the date does not.
    copy_data_dir(&dir, &copy);
    append_backdated(&copy, 1, true).await;
    let o = run(&copy, &["audit", "verify"]);
    assert!(!o.status.success() && text(&o).1.contains("dated before the entry before it"), "{:?}", text(&o));

    // A head published outside Vigía, then the history cut back to before it by someone
    // with the key who also removed the records it named.
    let before: i64 =
        sqlite_behind_the_back(&dir, "SELECT seq FROM chain_head").await.expect("seq").parse().expect("n");
    let before_hash = sqlite_behind_the_back(&dir, "SELECT hash FROM chain_head").await.expect("hash");
    let o = run(&dir, &["org", "add", "--slug", "tarde", "--name", "Tarde"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run(&dir, &["audit", "head"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let published = t.0.join("head.json");
    std::fs::write(&published, &o.stdout).expect("write");
    let head: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(head["seq"].as_i64().expect("seq") > before && head["mac"].as_str().is_some_and(|m| m.len() == 64));
    let o = run(&dir, &["audit", "verify", "--head", published.to_str().expect("p")]);
    assert!(o.status.success(), "the published head is in the history: {:?}", text(&o));
    let org = sqlite_behind_the_back(&dir, "SELECT id FROM organizations WHERE slug = 'tarde'").await.expect("org");
    for sql in [
        format!("DELETE FROM audit_log WHERE seq > {before}"),
        format!("DELETE FROM org_keys WHERE org_id = {org}"),
        format!("DELETE FROM organizations WHERE id = {org}"),
        format!(
            "UPDATE chain_head SET seq = {before}, hash = '{before_hash}', mac = '{}' WHERE id = 1",
            head_mac(&dir, before, &before_hash).await
        ),
    ] {
        sqlite_behind_the_back(&dir, &sql).await;
    }
    let o = run(&dir, &["audit", "verify"]);
    assert!(o.status.success(), "cut back by a key holder, the history alone looks whole: {:?}", text(&o));
    let o = run(&dir, &["audit", "verify", "--head", published.to_str().expect("p")]);
    assert!(!o.status.success() && text(&o).1.contains("it was cut back"), "{:?}", text(&o));
    // A head file that is not one is refused with a reason.
    std::fs::write(&published, "{}").expect("write");
    let o = run(&dir, &["audit", "verify", "--head", published.to_str().expect("p")]);
    assert!(!o.status.success() && text(&o).1.contains("not a head printed by"), "{:?}", text(&o));
}

/// From our own attack pass on finding 4: a MAC alone let someone put back an *older*
/// copy of a row with its older MAC — a token before its revocation, a user before a
/// password change, before being disabled or before turning on two-step sign-in, a
/// recovery code before it was used. Each MAC now covers the row's last audit entry.
#[tokio::test]
async fn older_copies_of_security_rows_are_refused() {
    use crate::hardening::behind_the_back;
    use crate::helpers::TestApp;
    use crate::security::{now_secs, password_step};
    use vigia_domain::account::Role;
    use vigia_domain::totp;
    use vigia_store::{secrets, Actor};

    for app in TestApp::all().await {
        let db = &app._db;
        let http = reqwest::Client::new();
        let me = |t: &str| http.get(app.url("/api/v1/me")).bearer_auth(t.to_string()).send();
        let save = |table: &str| format!("CREATE TABLE saved_{table} AS SELECT * FROM {table}");

        // A token put back as it was before its revocation.
        let (ana, token) = app.api_user("ana@a.org", "org-a", Role::Monitor).await;
        behind_the_back(db, &save("api_tokens")).await;
        let id = app.store.api_tokens(ana.id).await.expect("tokens")[0].id;
        app.store.revoke_api_token(&Actor::user(&ana), ana.id, id).await.expect("revoke");
        let sql = "UPDATE api_tokens SET revoked_at = NULL, \
                   mac = (SELECT s.mac FROM saved_api_tokens s WHERE s.id = api_tokens.id)";
        behind_the_back(db, sql).await;
        assert_eq!(me(&token).await.expect("get").status(), 401, "un-revoked token");

        // A password change undone.
        let beto = app.user("beto@a.org", "org-a", Role::Monitor).await;
        behind_the_back(db, &save("users")).await;
        let new_hash = secrets::hash_password("una clave nueva y distinta").expect("hash");
        app.store.set_password(&Actor::user(&beto), beto.id, &new_hash, None).await.expect("password");
        let sql = format!(
            "UPDATE users SET password_hash = (SELECT s.password_hash FROM saved_users s WHERE s.id = users.id), \
             mac = (SELECT s.mac FROM saved_users s WHERE s.id = users.id) WHERE id = {}",
            beto.id
        );
        behind_the_back(db, &sql).await;
        let (_, s, loc) = password_step(&app, "beto@a.org").await;
        assert!(!(s == 303 && loc == "/"), "old password put back: {s} {loc}");

        // A disabled user put back as enabled.
        let carla = app.user("carla@a.org", "org-a", Role::Monitor).await;
        behind_the_back(db, "DROP TABLE saved_users").await;
        behind_the_back(db, &save("users")).await;
        app.store.set_user_disabled(&Actor::SYSTEM, carla.id, true).await.expect("disable");
        let sql = format!(
            "UPDATE users SET disabled = (SELECT s.disabled FROM saved_users s WHERE s.id = users.id), \
             mac = (SELECT s.mac FROM saved_users s WHERE s.id = users.id) WHERE id = {}",
            carla.id
        );
        behind_the_back(db, &sql).await;
        let (_, s, loc) = password_step(&app, "carla@a.org").await;
        assert!(!(s == 303 && loc == "/"), "disabled user put back: {s} {loc}");

        // Two-step sign-in removed: the TOTP row deleted and the user's MAC from before.
        let dora = app.user("dora@a.org", "org-a", Role::Lawyer).await;
        behind_the_back(db, "DROP TABLE saved_users").await;
        behind_the_back(db, &save("users")).await;
        let now = vigia_store::now_micros();
        app.store.totp_setup(dora.id, dora.org_id, &[5u8; totp::SECRET_BYTES], now).await.expect("setup");
        let code_hash = secrets::token_hash("codigo-de-recuperacion-de-prueba");
        let step = now_secs() / totp::STEP_SECONDS;
        app.store.totp_enable(&Actor::user(&dora), dora.id, step, std::slice::from_ref(&code_hash)).await.expect("on");
        // (A recovery code put back as unused, while we are here.)
        behind_the_back(db, &save("recovery_codes")).await;
        assert!(app.store.use_recovery_code(&Actor::user(&dora), dora.id, &code_hash).await.expect("use"));
        let sql = "UPDATE recovery_codes SET used_at = NULL, \
                   mac = (SELECT s.mac FROM saved_recovery_codes s WHERE s.id = recovery_codes.id)";
        behind_the_back(db, sql).await;
        assert!(
            !app.store.use_recovery_code(&Actor::user(&dora), dora.id, &code_hash).await.expect("use"),
            "code put back"
        );
        let sql = format!(
            "UPDATE users SET mac = (SELECT s.mac FROM saved_users s WHERE s.id = users.id) WHERE id = {}",
            dora.id
        );
        behind_the_back(db, &sql).await;
        behind_the_back(db, &format!("DELETE FROM user_totp WHERE user_id = {}", dora.id)).await;
        let (_, s, loc) = password_step(&app, "dora@a.org").await;
        assert!(!(s == 303 && loc == "/"), "second factor removed with an old MAC: {s} {loc}");

        // Verify names every one of them.
        let report = app.store.verify_audit().await.expect("verify");
        for table in ["api_tokens", "users", "recovery_codes"] {
            assert!(
                report.problems.iter().any(|p| p.contains(&format!(" {table} row(s)"))),
                "{table}: {:?}",
                report.problems
            );
        }
        for t in ["api_tokens", "users", "recovery_codes"] {
            behind_the_back(db, &format!("DROP TABLE saved_{t}")).await;
        }
    }
}

/// Whether a stored sealed value (bytes as `{"base64": …}`, or text with the mark)
/// names its record: format `0x03`. `None` for a value that is not sealed data.
fn names_its_record(v: &Value) -> Option<bool> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes = match v {
        Value::Object(m) => b64.decode(m.get("base64")?.as_str()?).ok()?,
        Value::String(s) => match s.strip_prefix(vigia_store::vault::TEXT_MARK) {
            Some(encoded) => b64.decode(encoded).ok()?,
            // Text kept as it came: a value that was never sealed.
            None => return Some(false),
        },
        _ => return None,
    };
    Some(bytes.first() == Some(&3))
}

/// Every sealed value the rows of an export hold, by table: how many, and how many
/// do not name their record.
fn sealed_values(file: &Path) -> std::collections::BTreeMap<String, (usize, usize)> {
    const SEALED: [(&str, &[&str]); 10] = [
        ("access_attempts", &["reason_text", "official", "notes"]),
        ("cases", &["reference", "person_sealed"]),
        ("case_events", &["note_sealed", "void_reason"]),
        ("case_documents", &["data_sealed", "filename", "sha256"]),
        ("facility_notes", &["body_sealed"]),
        ("visits", &["notes_sealed"]),
        ("webhooks", &["secret_sealed"]),
        ("user_totp", &["secret_sealed"]),
        ("detection_reviews", &["reason"]),
        ("visit_text", &[]),
    ];
    let mut out = std::collections::BTreeMap::new();
    for line in export_lines(file).iter().skip(1) {
        let v: Value = serde_json::from_str(line).expect("json");
        let (table, row) = (v["table"].as_str().unwrap_or_default(), &v["row"]);
        let mut values: Vec<Value> = Vec::new();
        if let Some((_, columns)) = SEALED.iter().find(|(t, _)| *t == table) {
            values.extend(columns.iter().map(|c| row[*c].clone()).filter(|v| !v.is_null()));
        }
        if table == "visits" {
            let report: Value = serde_json::from_str(row["report"].as_str().expect("report")).expect("report json");
            values.extend(report["findings"].as_array().into_iter().flatten().map(|f| f["description"].clone()));
            let sections = report["sections"].as_object().into_iter().flatten();
            values.extend(sections.map(|(_, s)| s["observations"].clone()).filter(|o| !o.is_null()));
        }
        let e = out.entry(table.to_string()).or_insert((0, 0));
        for value in &values {
            let bound = names_its_record(value).unwrap_or_else(|| panic!("{table}: {value} is not sealed data"));
            e.0 += 1;
            e.1 += usize::from(!bound);
        }
    }
    out
}

/// Finding 5, the upgrade: data written by the version before sealed values named
/// their record (a real export of it, in `tests/fixtures`) imports into SQLite and
/// PostgreSQL; every value in a row is re-sealed for its record as the data opens,
/// each change recorded after the exported head; it verifies, and exports again.
#[test]
fn data_from_before_values_named_their_record_is_bound_on_import() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/before-record-binding");
    let old = fixture.join("export.jsonl");
    let before = sealed_values(&old);
    for table in ["access_attempts", "cases", "case_events", "facility_notes", "visits"] {
        assert!(before.get(table).is_some_and(|(n, old)| *n > 0 && old == n), "{table}: {before:?}");
    }
    let t = TempDir::new("bind_records");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pg = std::env::var("VIGIA_TEST_DATABASE_URL").ok();
    let pg_db = pg.as_ref().map(|url| rt.block_on(vigia_store::testing::TestDb::postgres(url)).expect("database"));
    let mut targets = vec![("sqlite", None)];
    match &pg_db {
        Some(db) => targets.push(("postgres", Some(db.url.clone()))),
        None => eprintln!("skipped: the PostgreSQL leg of the upgrade import (VIGIA_TEST_DATABASE_URL not set)"),
    }
    for (name, url) in targets {
        let dir = t.0.join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("master.key"), std::fs::read(fixture.join("master.key")).expect("key")).expect("key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join("master.key"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let db: Vec<&str> = url.as_deref().map(|u| vec!["--database-url", u]).unwrap_or_default();
        let go = |args: &[&str]| {
            let mut all = args.to_vec();
            all.extend(db.iter().copied());
            run(&dir, &all)
        };
        let o = go(&["import", "--all", old.to_str().expect("p")]);
        assert!(o.status.success(), "{name}: {:?}", text(&o));
        let o = go(&["audit", "verify"]);
        assert!(o.status.success(), "{name}: {:?}", text(&o));
        let again = t.0.join(format!("{name}.jsonl"));
        let o = go(&["export", "--all", again.to_str().expect("p")]);
        assert!(o.status.success(), "{name}: {:?}", text(&o));
        let after = sealed_values(&again);
        for (table, (n, unbound)) in &after {
            assert_eq!(
                (*unbound, n),
                (0, &before[table].0),
                "{name}: {table}: every value, each now naming its record"
            );
        }
        let lines = export_lines(&again);
        let reseals = lines
            .iter()
            .filter(|l| l.contains("\"table\":\"audit_log\"") && l.contains("\"action\":\"reseal\""))
            .count();
        let originals = lines
            .iter()
            .filter(|l| l.contains("\"table\":\"audit_log\"") && l.contains("\"action\":\"original\""))
            .count();
        assert!(reseals >= before["cases"].0 / 2, "{name}: {reseals} rows recorded as re-sealed");
        assert!(originals > 0, "{name}: imported attempts keep their version as imported");
        // The new export is the whole story: it imports as it is, nothing to re-seal.
        let next = t.0.join(format!("{name}-next"));
        std::fs::create_dir_all(&next).expect("mkdir");
        std::fs::copy(dir.join("master.key"), next.join("master.key")).expect("key");
        let o = run(&next, &["import", "--all", again.to_str().expect("p")]);
        assert!(o.status.success(), "{name} again: {:?}", text(&o));
    }
}
