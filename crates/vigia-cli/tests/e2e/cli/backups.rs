//! Backups, restores and portable exports: verified copies, doctored manifests refused,
//! restores under write load, exports between backends.

use serde_json::{json, Value};
use sqlx::Connection;

use super::{init, open_dir, run, text, Server, TempDir};

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
        let f = server.post_json(&token, "/api/v1/facilities", &json!({"name": "Siglo XXI", "kind": "estacion_migratoria", "state_code": "07"})).await;
        let a = server.post_json(&token, "/api/v1/access-attempts", &json!({"facility_id": f["id"], "attempted_at": "2020-01-20T10:00", "purpose": "monitoring", "outcome": "denied"})).await;
        let r = c
            .post(format!("{base}/api/v1/access-attempts/{}/files?filename=oficio.pdf", a["id"]))
            .bearer_auth(&token)
            .body(b"%PDF-1.4 oficio de suspension".to_vec())
            .send()
            .await
            .expect("file");
        assert_eq!(r.status(), 201);
        let case = server.post_json(&token, "/api/v1/cases", &json!({"reference": "DMS-1", "full_name": "Nombre Sellado Prueba", "age_group": "adolescent_12_17"})).await;
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
