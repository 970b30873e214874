//! The store's behaviour, run against every configured backend: SQLite always,
//! PostgreSQL when VIGIA_TEST_DATABASE_URL is set.

use std::sync::Arc;

use sqlx::Connection;
use vigia_domain::account::{Locale, Role};
use vigia_domain::facility::{FacilityDraft, FacilityKind};
use vigia_domain::RecordType;
use vigia_store::testing::TestDb;
use vigia_store::{secrets, Actor, Backend, DynStore, MasterKey, NewUser, StoreError};

fn draft(name: &str, capacity: Option<i64>) -> FacilityDraft {
    FacilityDraft {
        name: name.to_string(),
        kind: FacilityKind::EstacionMigratoria,
        authority: "INM".into(),
        state_code: "07".into(),
        municipality: Some("Tapachula".into()),
        latitude: Some(14.9),
        longitude: Some(-92.26),
        capacity,
        opened_on: Some("2006-03-01".into()),
        closed_on: None,
        sources: None,
    }
}

async fn open(db: &TestDb, key: &MasterKey) -> DynStore {
    vigia_store::open(&db.url, std::slice::from_ref(key)).await.expect("store opens")
}

/// Runs SQL behind the app's back, as someone with access to the database would.
async fn raw(db: &TestDb, sql: &str) {
    let q = sqlx::AssertSqlSafe(sql.to_string());
    match db.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.expect("connect");
            sqlx::raw_sql(q).execute(&mut c).await.expect("raw sql");
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            sqlx::raw_sql(q).execute(&mut c).await.expect("raw sql");
        }
    }
}

/// Every wrapped data key, as a copy of the database would hold them.
async fn org_key_rows(db: &TestDb) -> Vec<(i64, i64, Vec<u8>)> {
    use sqlx::Row;
    let sql = "SELECT org_id, version, wrapped FROM org_keys ORDER BY org_id, version";
    let rows = match db.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.expect("connect");
            let rows = sqlx::query(sql).fetch_all(&mut c).await.expect("rows");
            rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            let rows = sqlx::query(sql).fetch_all(&mut c).await.expect("rows");
            rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
        }
    };
    rows
}

/// The first column of the first row, as bytes.
async fn query_bytes(db: &TestDb, sql: &str) -> Vec<u8> {
    use sqlx::Row;
    let q = sqlx::AssertSqlSafe(sql.to_string());
    match db.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.expect("connect");
            sqlx::query(q).fetch_one(&mut c).await.expect("row").get(0)
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            sqlx::query(q).fetch_one(&mut c).await.expect("row").get(0)
        }
    }
}

async fn seeded(db: &TestDb, key: &MasterKey) -> (DynStore, Actor, Actor) {
    let store = open(db, key).await;
    let a = store.create_org(&Actor::SYSTEM, "org-a", "Org A").await.expect("org a");
    let b = store.create_org(&Actor::SYSTEM, "org-b", "Org B").await.expect("org b");
    let mut actors = Vec::new();
    for (org, email) in [(a.id, "ana@a.org"), (b.id, "beto@b.org")] {
        let u = store
            .create_user(
                &Actor::SYSTEM,
                NewUser {
                    email: email.into(),
                    display_name: email.into(),
                    org_id: org,
                    role: Role::Coordinator,
                    locale: Locale::Es,
                    password_hash: "x".into(),
                },
            )
            .await
            .expect("user");
        actors.push(Actor::user(&u));
    }
    (store, actors[0], actors[1])
}

#[tokio::test]
async fn facilities_are_versioned_and_audited() {
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, _) = seeded(&db, &key).await;
        let f = store.create_facility(&ana, draft("Siglo XXI", Some(960))).await.expect("create");
        assert_eq!(f.version, 1);
        let g = store.update_facility(&ana, f.id, Some(1), draft("Siglo XXI", Some(1000))).await.expect("update");
        assert_eq!(g.version, 2);
        assert_eq!(store.facility(f.id).await.expect("get"), Some(g.clone()));
        let stale = store.update_facility(&ana, f.id, Some(1), draft("Siglo XXI", Some(5))).await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{:?}: {stale:?}", db.backend);
        let missing = store.update_facility(&ana, 9999, None, draft("X", None)).await;
        assert!(matches!(missing, Err(StoreError::NotFound)));

        let history = store.history(RecordType::Facility, f.id, None).await.expect("history");
        assert_eq!(history.iter().map(|h| h.action.as_str()).collect::<Vec<_>>(), ["create", "update"]);
        assert!(history[0].content.contains("\"capacity\":960"));
        assert!(history[1].content.contains("\"capacity\":1000"));
        assert_eq!(history[1].actor_name.as_deref(), Some("ana@a.org"));

        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}: {:?}", db.backend, report.problems);
        assert!(report.entries >= 8, "orgs, keys, users, facility versions: {}", report.entries);
    }
}

#[tokio::test]
async fn concurrent_writers_keep_one_unbroken_chain() {
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, beto) = seeded(&db, &key).await;
        let mut tasks = Vec::new();
        for i in 0..24 {
            let store = Arc::clone(&store);
            let actor = if i % 2 == 0 { ana } else { beto };
            tasks.push(tokio::spawn(
                async move { store.create_facility(&actor, draft(&format!("F{i}"), Some(i))).await },
            ));
        }
        for t in tasks {
            t.await.expect("join").expect("create");
        }
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}: {:?}", db.backend, report.problems);
        assert_eq!(store.list_facilities().await.expect("list").len(), 24);
    }
}

#[tokio::test]
async fn verify_names_what_was_changed_behind_the_apps_back() {
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, _) = seeded(&db, &key).await;
        let f = store.create_facility(&ana, draft("Acayucan", Some(836))).await.expect("create");
        store.create_facility(&ana, draft("Palenque", Some(110))).await.expect("create");

        // 1. A record edited directly.
        raw(&db, &format!("UPDATE facilities SET capacity = 100 WHERE id = {}", f.id)).await;
        let report = store.verify_audit().await.expect("verify");
        assert!(
            report.problems.iter().any(|p| p.contains(&format!("facility {}", f.id))),
            "{:?}: {:?}",
            db.backend,
            report.problems
        );
        raw(&db, &format!("UPDATE facilities SET capacity = 836 WHERE id = {}", f.id)).await;
        assert!(store.verify_audit().await.expect("verify").ok());

        // 2. An audit entry edited directly (the append-only trigger removed first).
        let (disable, enable) = match db.backend {
            Backend::Sqlite => (
                "DROP TRIGGER audit_log_no_update",
                "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'append-only'); END",
            ),
            Backend::Postgres => (
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
                "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change",
            ),
        };
        raw(&db, disable).await;
        raw(&db, "UPDATE audit_log SET actor_user_id = 999 WHERE seq = 3").await;
        raw(&db, enable).await;
        let report = store.verify_audit().await.expect("verify");
        assert_eq!(report.problems.first().map(String::as_str), Some("entry 3 was altered: its hash does not match"));
    }
}

#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes() {
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (_store, _, _) = seeded(&db, &key).await;
        let q = sqlx::AssertSqlSafe("DELETE FROM audit_log".to_string());
        let refused = match db.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&db.url).await.expect("connect");
                sqlx::raw_sql(q).execute(&mut c).await.is_err()
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
                sqlx::raw_sql(q).execute(&mut c).await.is_err()
            }
        };
        assert!(refused, "{:?}", db.backend);
    }
}

#[tokio::test]
async fn sealed_notes_stay_private_and_encrypted() {
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, beto) = seeded(&db, &key).await;
        let f = store.create_facility(&ana, draft("Siglo XXI", Some(960))).await.expect("create");
        let secret = "Contacto interno: Licenciada Xóchitl Quintanilla, tel. 962 555 0199";
        let org_a = ana.org_id.expect("org");
        let org_b = beto.org_id.expect("org");
        let note = store.add_facility_note(&ana, org_a, f.id, secret).await.expect("note");
        assert_eq!(note.body, secret);
        assert_eq!(store.facility_notes(org_a, f.id).await.expect("notes")[0].body, secret);
        assert!(store.facility_notes(org_b, f.id).await.expect("notes").is_empty());
        assert!(store.history(RecordType::FacilityNote, note.id, Some(org_b)).await.expect("h").is_empty());
        let h = store.history(RecordType::FacilityNote, note.id, Some(org_a)).await.expect("h");
        assert!(!h[0].content.contains("Xóchitl"));

        if db.backend == Backend::Sqlite {
            let dir = db.dir.as_ref().expect("dir");
            for entry in std::fs::read_dir(dir).expect("dir") {
                let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
                for needle in ["Xóchitl", "Quintanilla", "962 555 0199"] {
                    assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "plaintext {needle} on disk");
                }
            }
        }

        // A wrong master key does not open the store.
        let wrong = MasterKey::generate().expect("key");
        assert!(matches!(vigia_store::open(&db.url, &[wrong]).await, Err(StoreError::Vault(_))));

        // Rotation: the new key opens, the old one no longer does, notes still read.
        let old_wrapped = org_key_rows(&db).await;
        let new = MasterKey::generate().expect("key");
        assert_eq!(store.rotate_master_key(&Actor::SYSTEM, &new).await.expect("rotate"), 2);
        assert_eq!(store.facility_notes(org_a, f.id).await.expect("notes")[0].body, secret);
        // Issue #22 finding 3: each organization has a new data key for what is sealed
        // from now on. The old master key and an old copy of the wrapped keys open what
        // was sealed before the rotation, and nothing written after it.
        let later = store.add_facility_note(&ana, org_a, f.id, "Escrito tras la rotación").await.expect("note");
        assert_eq!(org_key_rows(&db).await.len(), 4, "a second version for each organization");
        let thief = vigia_store::Vault::new(key.clone());
        for (org, ver, wrapped) in &old_wrapped {
            thief.load_key(*org, *ver, wrapped).expect("the old copy opens under the old key");
        }
        let sealed = |id: i64| {
            let db = &db;
            async move {
                let sql = format!("SELECT body_sealed FROM facility_notes WHERE id = {id}");
                query_bytes(db, &sql).await
            }
        };
        assert!(
            thief.open(org_a, "facility_note.body", note.id, &sealed(note.id).await).is_ok(),
            "written before: exposed"
        );
        assert!(
            thief.open(org_a, "facility_note.body", later.id, &sealed(later.id).await).is_err(),
            "written after: not"
        );
        assert_eq!(store.facility_notes(org_a, f.id).await.expect("notes").len(), 2);
        let reopened = open(&db, &new).await;
        assert_eq!(reopened.facility_notes(org_a, f.id).await.expect("notes")[0].body, secret);
        assert!(vigia_store::open(&db.url, std::slice::from_ref(&key)).await.is_err());
        // Candidate keys: the first that opens wins (an interrupted rotation).
        assert!(vigia_store::open(&db.url, &[key, new]).await.is_ok());
        assert!(store.verify_audit().await.expect("verify").ok());
        // The new key deleted behind the app's back (found by our own attack pass): new
        // data is not sealed under the older key the old master key opens; refused, and
        // verify names it.
        raw(&db, &format!("DELETE FROM org_keys WHERE org_id = {org_a} AND version = 2")).await;
        let err = store.add_facility_note(&ana, org_a, f.id, "Tras borrar la clave").await.expect_err("refused");
        assert!(matches!(err, StoreError::Integrity(_)), "{err:?}");
        let report = store.verify_audit().await.expect("verify");
        assert!(
            report.problems.iter().any(|p| p.contains("data keys differ from the history")),
            "{:?}",
            report.problems
        );
        assert_eq!(store.facility_notes(org_a, f.id).await.expect("notes").len(), 2, "nothing was written");
    }
}

#[tokio::test]
async fn sessions_expire_and_failures_are_counted() {
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, _) = seeded(&db, &key).await;
        let uid = ana.user_id.expect("user");
        let t0 = 1_000_000_000_000i64;
        let min = 60_000_000i64;
        store.create_session("h1", uid, "csrf", t0).await.expect("session");
        assert!(store.session("h1", t0 + 5 * min, 30 * min, 720 * min).await.expect("s").is_some());
        assert!(store.session("h1", t0 + 40 * min, 30 * min, 720 * min).await.expect("s").is_none(), "idle");
        assert!(store.session("h1", t0, 30 * min, 720 * min).await.expect("s").is_none(), "deleted");

        store.create_session("h2", uid, "csrf", t0).await.expect("session");
        let mut t = t0;
        while t < t0 + 700 * min {
            t += 20 * min;
            assert!(store.session("h2", t, 30 * min, 720 * min).await.expect("s").is_some());
        }
        assert!(store.session("h2", t0 + 721 * min, 30 * min, 720 * min).await.expect("s").is_none(), "absolute");

        for i in 0..3 {
            store.record_login_failure("ana@a.org", t0 + i).await.expect("fail");
        }
        assert_eq!(store.login_failures_since("ana@a.org", t0 + 1).await.expect("n"), 2);
        store.clear_login_failures("ana@a.org").await.expect("clear");
        assert_eq!(store.login_failures_since("ana@a.org", 0).await.expect("n"), 0);

        let token = secrets::new_token("vga_").expect("token");
        store.create_api_token(&ana, uid, "script", &secrets::token_hash(&token)).await.expect("token");
        let u = store.user_by_api_token(&secrets::token_hash(&token)).await.expect("lookup");
        assert_eq!(u.map(|u| u.id), Some(uid));
        assert!(store.user_by_api_token("nope").await.expect("lookup").is_none());

        let disabled = store.set_user_disabled(&Actor::SYSTEM, uid, true).await.expect("disable");
        assert!(disabled.disabled);
        assert!(store.verify_audit().await.expect("verify").ok());
    }
}

#[tokio::test]
async fn duplicates_conflict_and_imports_are_atomic() {
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, _) = seeded(&db, &key).await;
        assert!(matches!(store.create_org(&Actor::SYSTEM, "org-a", "Again").await, Err(StoreError::Conflict(_))));
        let ids = store
            .import_facilities(&ana, vec![draft("A", None), draft("B", Some(3)), draft("Á C", None)])
            .await
            .expect("import");
        assert_eq!(ids.len(), 3);
        let names: Vec<_> = store.list_facilities().await.expect("list").into_iter().map(|f| f.draft.name).collect();
        assert_eq!(names, ["A", "Á C", "B"], "sorted ignoring accents");
        let counts = store.counts().await.expect("counts");
        assert_eq!((counts.get("organizations"), counts.get("users"), counts.get("facilities")), (2, 2, 3));
        assert!(store.verify_audit().await.expect("verify").ok());
    }
}

#[tokio::test]
async fn sqlite_backups_are_consistent_copies() {
    let db = TestDb::sqlite();
    let key = MasterKey::generate().expect("key");
    let (store, ana, _) = seeded(&db, &key).await;
    store.create_facility(&ana, draft("Siglo XXI", Some(960))).await.expect("create");
    let f = store.facility(1).await.expect("get").map(|f| f.id).unwrap_or(1);
    let org = ana.org_id.expect("org");
    let x = store
        .add_attachment(&ana, org, RecordType::Facility, f, "foto.jpg", "image/jpeg", b"\xFF\xD8\xFF foto")
        .await
        .expect("attach");
    let out = db.dir.as_ref().expect("dir").join("backup");
    store.backup_to(&out).await.expect("backup");
    assert!(store.backup_to(&out).await.is_err(), "never overwrites");
    let copied = out.join("blobs").join(&x.sha256[..2]).join(format!("{}.{org}", x.sha256));
    assert!(copied.exists(), "evidence files are copied, sealed");
    // Finding 10: a backup is its owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&out), 0o700);
        assert_eq!(mode(&out.join("blobs")), 0o700);
        assert_eq!(mode(&out.join("vigia.db")), 0o600);
        assert_eq!(mode(&copied), 0o600);
        // The live database too.
        let live = db.dir.as_ref().expect("dir").join("vigia.db");
        assert_eq!(mode(&live), 0o600, "{}", live.display());
    }
    let copy = vigia_store::open(&vigia_store::sqlite_url(&out.join("vigia.db")), &[key]).await.expect("open copy");
    assert_eq!(copy.blob(&x.sha256).await.expect("blob"), b"\xFF\xD8\xFF foto");
    assert_eq!(copy.counts().await.expect("c"), store.counts().await.expect("c"));
    assert!(copy.verify_audit().await.expect("verify").ok());
}

fn attempt(
    facility_id: i64,
    day: i64,
    outcome: vigia_domain::access::Outcome,
    private: bool,
) -> vigia_domain::access::AttemptDraft {
    use vigia_domain::access::*;
    AttemptDraft {
        facility_id,
        requested_at: None,
        attempted_at: 1_579_500_000_000_000 + day * 86_400_000_000,
        purpose: Purpose::LegalAssistance,
        team_size: 2,
        people_to_see: Some(4),
        outcome,
        reason_category: (outcome != Outcome::Granted).then_some(ReasonCategory::OrdersFromAbove),
        reason_text: None,
        official: Some("Subdirector de guardia".into()),
        restrictions: vec![Restriction::NoPhones],
        notes: None,
        visibility: if private { Visibility::Private } else { Visibility::Coalition },
    }
}

/// Beto (of org-b, seeded), his organization's id, and a facility to record attempts at.
async fn beto_at_siglo(db: &TestDb) -> (DynStore, Actor, i64, i64) {
    let key = MasterKey::generate().expect("key");
    let (store, _, beto) = seeded(db, &key).await;
    let b = beto.org_id.expect("b");
    let f = store.create_facility(&Actor::SYSTEM, draft("Siglo XXI", Some(960))).await.expect("f").id;
    (store, beto, b, f)
}

/// Whatever a spreadsheet's cells hold comes back byte for byte on both backends
/// (tabs, newlines, backslashes, a literal `\N`: what a bulk path such as COPY would
/// have to escape); missing values stay missing, empty text stays empty.
#[tokio::test]
async fn imported_text_comes_back_exactly_as_written() {
    use vigia_domain::access::{Outcome, Restriction};
    let awkward = [
        "tab\there",
        "two\nlines",
        "cr\r\nlf",
        "back\\slash",
        "\\N",
        "\\",
        "ends with \\",
        "\\t not a tab",
        "ñandú «comillas» 🙂",
        "x\u{7f}y",
        "\u{2028}",
        "",
    ];
    for db in TestDb::all().await {
        let (store, beto, b, f) = beto_at_siglo(&db).await;
        let drafts: Vec<_> = awkward
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut d = attempt(f, i as i64, Outcome::Denied, false);
                d.notes = Some(format!("nota: {t}"));
                d.reason_text = Some((*t).to_string());
                d.official = (i % 2 == 0).then(|| (*t).to_string());
                d.people_to_see = (i % 3 != 0).then_some(i as i64);
                d.requested_at = (i % 2 == 1).then_some(d.attempted_at - 3_600_000_000);
                d.restrictions =
                    if i % 4 == 0 { Vec::new() } else { vec![Restriction::NoPhones, Restriction::Searched] };
                d
            })
            .collect();
        let imp = store.import_attempts(&beto, b, drafts.clone()).await.expect("import");
        for (i, d) in drafts.iter().enumerate() {
            let a = store.attempt(b, imp.first_id + i as i64).await.expect("get").expect("stored");
            assert_eq!(&a.draft, d, "row {i} ({:?}) on {:?}", awkward[i], db.backend);
        }
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
    }
}

#[tokio::test]
async fn an_import_is_one_audit_entry_that_still_catches_any_changed_row() {
    use vigia_domain::access::Outcome;
    use vigia_domain::audit::{row_hash, ImportDigest};
    for db in TestDb::all().await {
        let (store, beto, b, f) = beto_at_siglo(&db).await;
        let before = store.verify_audit().await.expect("verify").head_seq;
        let drafts: Vec<_> = (0..2_500).map(|i| attempt(f, i % 300, Outcome::Denied, i % 9 == 0)).collect();
        let file = vigia_store::ImportedFile::of(b"the uploaded bytes");
        let mut feed: Vec<_> = drafts.chunks(700).map(|c| vigia_store::ImportFeed::Rows(c.to_vec())).collect();
        feed.push(vigia_store::ImportFeed::Complete);
        let imp = store
            .import_attempts_fed(&beto, b, Some(file.clone()), Box::new(feed.into_iter()))
            .await
            .expect("import")
            .expect("complete");
        assert_eq!((imp.row_count, imp.last_id - imp.first_id + 1, imp.chunk_sha256.len()), (2_500, 2_500, 3));
        assert_eq!((imp.file_sha256.as_deref(), imp.file_bytes), (Some(file.sha256.as_str()), Some(18)));
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(report.head_seq, before + 1, "one entry for 2,500 rows");

        // The digest is over the attempts as stored (free text sealed, finding 11), in
        // id order: what each one's history shows as its import's version.
        let mut digest = ImportDigest::default();
        for id in imp.first_id..=imp.last_id {
            let h = store.history(RecordType::AccessAttempt, id, None).await.expect("history");
            digest.push(&row_hash(h[0].content.as_bytes()));
        }
        assert_eq!(digest.finish().all, imp.rows_sha256);

        // An imported attempt's history starts with its import's entry and the version
        // it wrote; a correction first keeps that version, then adds its own.
        let id = imp.first_id + 1_500;
        let original = store.attempt(b, id).await.expect("get").expect("imported");
        let history = store.history(RecordType::AccessAttempt, id, None).await.expect("history");
        assert_eq!(history.len(), 1);
        assert_eq!((history[0].action.as_str(), history[0].seq), ("import", before + 1));
        let imported = history[0].content.clone();
        assert!(!imported.contains("Subdirector de guardia"), "the official is sealed in the history: {imported}");
        let mut shown: serde_json::Value = serde_json::from_str(&imported).expect("json");
        shown["official"] = serde_json::json!(store
            .open_recorded_text(b, "attempt.official", id, shown["official"].as_str().expect("sealed"))
            .await
            .expect("opens"));
        assert_eq!(shown, serde_json::from_str::<serde_json::Value>(&original.content_json()).expect("json"));
        let mut fixed = original.draft.clone();
        fixed.outcome = Outcome::Granted;
        fixed.reason_category = None;
        store.update_attempt(&beto, b, id, Some(1), fixed.clone()).await.expect("correct");
        let history = store.history(RecordType::AccessAttempt, id, None).await.expect("history");
        let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
        assert_eq!(actions, ["import", "update"]);
        assert_eq!(history[0].content, imported, "the imported version survives the correction");
        assert!(history[1].content.contains("\"outcome\":\"granted\""), "{}", history[1].content);
        store.update_attempt(&beto, b, id, Some(2), original.draft.clone()).await.expect("correct again");
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(report.head_seq, before + 4, "the original, then two corrections");

        // Changed behind the app's back: verify names the import and the thousand.
        let victim = imp.first_id + 2_100;
        raw(&db, &format!("UPDATE access_attempts SET team_size = 9 WHERE id = {victim}")).await;
        let report = store.verify_audit().await.expect("verify");
        let range = format!("{}–{}", imp.first_id + 2_000, imp.last_id);
        assert!(
            report.problems.iter().any(|p| p.contains(&format!("import {}", imp.id)) && p.contains(&range)),
            "{:?}",
            report.problems
        );
        raw(&db, &format!("UPDATE access_attempts SET team_size = 2 WHERE id = {victim}")).await;
        assert!(store.verify_audit().await.expect("verify").ok(), "put back as it was");
        // A corrected attempt is checked against its last correction, as any record.
        raw(&db, &format!("UPDATE access_attempts SET team_size = 7 WHERE id = {id}")).await;
        let report = store.verify_audit().await.expect("verify");
        assert!(
            report.problems.iter().any(|p| p.contains(&format!("access_attempt {id} differs"))),
            "{:?}",
            report.problems
        );
        raw(&db, &format!("UPDATE access_attempts SET team_size = 2 WHERE id = {id}")).await;
        // Removed behind the app's back.
        raw(&db, &format!("DELETE FROM access_attempts WHERE id = {}", imp.first_id + 10)).await;
        let report = store.verify_audit().await.expect("verify");
        assert!(
            report.problems.iter().any(|p| p.contains(&format!("import {} wrote 2500 attempts", imp.id))),
            "{:?}",
            report.problems
        );
    }
}

/// Verify reads attempts a page at a time (20,000); rows past the first page are
/// still checked, the imported ones against their digest and the others one by one.
#[tokio::test]
async fn verify_checks_attempts_past_its_first_page() {
    use vigia_domain::access::Outcome;
    for db in TestDb::all().await {
        let (store, beto, b, f) = beto_at_siglo(&db).await;
        let drafts: Vec<_> = (0..20_003).map(|i| attempt(f, i % 300, Outcome::Denied, false)).collect();
        let imp = store.import_attempts(&beto, b, drafts).await.expect("import");
        let single = store.create_attempt(&beto, b, attempt(f, 3, Outcome::Granted, false)).await.expect("one").id;
        assert!(single > 20_003 && store.verify_audit().await.expect("verify").ok());

        raw(&db, &format!("UPDATE access_attempts SET team_size = 9 WHERE id = {}", imp.first_id + 20_001)).await;
        raw(&db, &format!("UPDATE access_attempts SET team_size = 9 WHERE id = {single}")).await;
        let report = store.verify_audit().await.expect("verify");
        let range = format!("{}–{}", imp.first_id + 20_000, imp.last_id);
        assert!(report.problems.iter().any(|p| p.contains(&range)), "{:?}", report.problems);
        assert!(
            report.problems.iter().any(|p| p.contains(&format!("access_attempt {single} differs"))),
            "{:?}",
            report.problems
        );
    }
}

#[tokio::test]
async fn attempts_are_shared_within_coalitions_only() {
    use vigia_domain::access::{AttemptFilter, Outcome};
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, beto) = seeded(&db, &key).await;
        let (a, b) = (ana.org_id.expect("a"), beto.org_id.expect("b"));
        let c = store.create_org(&Actor::SYSTEM, "org-c", "Org C").await.expect("org c").id;
        let coalition = store.create_coalition(&Actor::SYSTEM, "red", "Red").await.expect("coalition");
        store.add_coalition_member(&Actor::SYSTEM, coalition.id, a).await.expect("member");
        let coalition = store.add_coalition_member(&Actor::SYSTEM, coalition.id, b).await.expect("member");
        assert_eq!(coalition.members, vec![a, b]);
        assert!(matches!(
            store.add_coalition_member(&Actor::SYSTEM, coalition.id, b).await,
            Err(StoreError::Conflict(_))
        ));

        let f = store.create_facility(&ana, draft("Siglo XXI", Some(960))).await.expect("facility").id;
        let shared = store.create_attempt(&ana, a, attempt(f, 0, Outcome::Denied, false)).await.expect("shared");
        let private = store.create_attempt(&ana, a, attempt(f, 1, Outcome::Denied, true)).await.expect("private");
        store.create_attempt(&beto, b, attempt(f, 2, Outcome::Granted, false)).await.expect("b's");

        let ids = |v: Vec<vigia_domain::access::Attempt>| v.into_iter().map(|x| x.id).collect::<Vec<_>>();
        let all = AttemptFilter::default();
        assert_eq!(store.list_attempts(a, &all).await.expect("a").len(), 3);
        let seen_by_b = ids(store.list_attempts(b, &all).await.expect("b"));
        assert!(seen_by_b.contains(&shared.id) && !seen_by_b.contains(&private.id), "{seen_by_b:?}");
        assert!(store.list_attempts(c, &all).await.expect("c").is_empty(), "not in the coalition");
        assert!(store.attempt(b, private.id).await.expect("get").is_none());
        assert!(store.attempt(c, shared.id).await.expect("get").is_none());
        assert_eq!(store.attempt(b, shared.id).await.expect("get").map(|x| x.id), Some(shared.id));
        // Read by ids, many at once: the same rule, nothing more.
        let asked = [private.id, shared.id, shared.id, i64::MAX];
        assert_eq!(ids(store.attempts_by_ids(b, &asked).await.expect("b")), vec![shared.id]);
        assert!(store.attempts_by_ids(c, &asked).await.expect("c").is_empty());
        assert_eq!(store.attempts_by_ids(a, &asked).await.expect("a").len(), 2);
        assert!(store.attempts_by_ids(a, &[]).await.expect("none").is_empty());

        let denied = AttemptFilter { outcome: Some(Outcome::Denied), ..Default::default() };
        assert_eq!(store.list_attempts(a, &denied).await.expect("a").len(), 2);
        let first_day = AttemptFilter { until: Some(shared.draft.attempted_at + 1), ..Default::default() };
        assert_eq!(ids(store.list_attempts(a, &first_day).await.expect("a")), vec![shared.id]);

        // Only the owner corrects an attempt; another organization gets NotFound.
        let mut fixed = shared.draft.clone();
        fixed.team_size = 3;
        assert!(matches!(
            store.update_attempt(&beto, b, shared.id, None, fixed.clone()).await,
            Err(StoreError::NotFound)
        ));
        let v2 = store.update_attempt(&ana, a, shared.id, Some(1), fixed.clone()).await.expect("update");
        assert_eq!((v2.version, v2.draft.team_size), (2, 3));
        assert!(matches!(store.update_attempt(&ana, a, shared.id, Some(1), fixed).await, Err(StoreError::Conflict(_))));
        assert_eq!(store.history(RecordType::AccessAttempt, shared.id, None).await.expect("h").len(), 2);

        let imported = store
            .import_attempts(&beto, b, (0..50).map(|i| attempt(f, i, Outcome::Denied, false)).collect())
            .await
            .expect("import");
        assert_eq!(imported.row_count, 50);
        assert_eq!(store.counts().await.expect("counts").get("access_attempts"), 53);
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
        raw(&db, &format!("UPDATE access_attempts SET outcome = 'granted' WHERE id = {}", private.id)).await;
        let report = store.verify_audit().await.expect("verify");
        assert!(
            report.problems.iter().any(|p| p.contains(&format!("access_attempt {}", private.id))),
            "{:?}",
            report.problems
        );
    }
}

#[tokio::test]
async fn evidence_is_content_addressed_and_tampering_is_caught() {
    use vigia_domain::access::Outcome;
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, _) = seeded(&db, &key).await;
        let a = ana.org_id.expect("org");
        let f = store.create_facility(&ana, draft("Siglo XXI", None)).await.expect("facility").id;
        let attempt = store.create_attempt(&ana, a, super_attempt(f, Outcome::Denied)).await.expect("attempt");
        let pdf = b"%PDF-1.7\n oficio DGCVM suspende el ingreso \n%%EOF".to_vec();
        let x = store
            .add_attachment(&ana, a, RecordType::AccessAttempt, attempt.id, "oficio.pdf", "application/pdf", &pdf)
            .await
            .expect("attach");
        assert_eq!(x.sha256, vigia_domain::audit::sha256_hex(&pdf));
        // The same bytes twice: one blob, two attachments.
        store
            .add_attachment(&ana, a, RecordType::AccessAttempt, attempt.id, "copia.pdf", "application/pdf", &pdf)
            .await
            .expect("again");
        assert_eq!(store.attachments(RecordType::AccessAttempt, attempt.id).await.expect("list").len(), 2);
        assert_eq!(store.blob(&x.sha256).await.expect("blob"), pdf);
        let history = store.history(RecordType::Attachment, x.id, None).await.expect("history");
        assert!(history[0].content.contains(&x.sha256), "the hash is in the audit history");
        assert!(store.verify_audit().await.expect("verify").ok());

        // Finding 10: what is stored is sealed, and on disk only its owner reads it.
        let file = db.dir.as_ref().map(|d| d.join("blobs").join(&x.sha256[..2]).join(format!("{}.{a}", x.sha256)));
        let stored = match &file {
            Some(path) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(path).expect("meta").permissions().mode() & 0o777;
                    assert_eq!(mode, 0o600, "{}", path.display());
                }
                std::fs::read(path).expect("the sealed file")
            }
            None => stored_blob(&db, &x.sha256).await,
        };
        assert!(!stored.windows(12).any(|w| w == b"oficio DGCVM"), "the plaintext is not stored");
        assert!(vigia_store::vault::Vault::is_sealed_file(&stored));

        // Change the stored bytes behind the app's back: one bit.
        let mut altered = stored.clone();
        let mid = altered.len() / 2;
        altered[mid] ^= 1;
        match &file {
            Some(path) => std::fs::write(path, &altered).expect("tamper"),
            None => {
                let hex: String = altered.iter().map(|b| format!("{b:02x}")).collect();
                raw(&db, &format!("UPDATE blobs SET data = '\\x{hex}' WHERE sha256 = '{}'", x.sha256)).await
            }
        }
        assert!(matches!(store.blob(&x.sha256).await, Err(StoreError::Corrupt(_))));
        let report = store.verify_audit().await.expect("verify");
        assert!(
            report.problems.iter().any(|p| p.contains(&x.sha256) && p.contains("altered")),
            "{:?}",
            report.problems
        );
    }
}

async fn stored_blob(db: &TestDb, sha: &str) -> Vec<u8> {
    use sqlx::Row;
    let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let row = sqlx::query("SELECT data FROM blobs WHERE sha256 = $1").bind(sha).fetch_one(&mut c).await.expect("row");
    row.try_get::<Vec<u8>, _>("data").expect("data")
}

/// Finding 10: evidence kept in the clear before files were sealed is sealed when the
/// store next opens, under the key of the organization that attached it first; a
/// file whose bytes no longer match its hash is left for verify to name.
#[tokio::test]
async fn evidence_kept_in_the_clear_is_sealed_when_the_store_opens() {
    use vigia_domain::access::Outcome;
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, beto) = seeded(&db, &key).await;
        let a = ana.org_id.expect("org");
        let f = store.create_facility(&ana, draft("Siglo XXI", None)).await.expect("facility").id;
        let attempt = store.create_attempt(&ana, a, super_attempt(f, Outcome::Denied)).await.expect("attempt");
        let photo = b"\xFF\xD8\xFF foto de la fila".to_vec();
        let x = store
            .add_attachment(&ana, a, RecordType::AccessAttempt, attempt.id, "fila.jpg", "image/jpeg", &photo)
            .await
            .expect("attach");
        // Put it back in the clear, as a store before this change kept it.
        let sha = x.sha256.clone();
        match &db.dir {
            Some(dir) => {
                let sub = dir.join("blobs").join(&sha[..2]);
                std::fs::remove_file(sub.join(format!("{sha}.{a}"))).expect("remove sealed");
                std::fs::write(sub.join(&sha), &photo).expect("plain file");
                raw(&db, &format!("UPDATE blobs SET key_org = NULL WHERE sha256 = '{sha}'")).await;
            }
            None => {
                let hex: String = photo.iter().map(|b| format!("{b:02x}")).collect();
                raw(&db, &format!("UPDATE blobs SET key_org = NULL, data = '\\x{hex}' WHERE sha256 = '{sha}'")).await;
            }
        }
        assert_eq!(store.blob(&sha).await.expect("a plain file still reads"), photo);
        store.close().await;
        let store = open(&db, &key).await;
        assert_eq!(store.blob(&sha).await.expect("blob"), photo);
        let stored = match &db.dir {
            Some(dir) => {
                let sub = dir.join("blobs").join(&sha[..2]);
                assert!(!sub.join(&sha).exists(), "the plain file is gone");
                std::fs::read(sub.join(format!("{sha}.{a}"))).expect("sealed file")
            }
            None => stored_blob(&db, &sha).await,
        };
        assert!(vigia_store::vault::Vault::is_sealed_file(&stored) && !stored.windows(4).any(|w| w == b"foto"));
        assert!(store.verify_audit().await.expect("verify").ok());
        if let Some(dir) = &db.dir {
            let blobs = dir.join("blobs");
            let sub = blobs.join(&sha[..2]);
            // The same bytes from another organization: stored once, no second copy.
            let b = beto.org_id.expect("org");
            let other = store.create_attempt(&beto, b, super_attempt(f, Outcome::Denied)).await.expect("attempt");
            store
                .add_attachment(&beto, b, RecordType::AccessAttempt, other.id, "fila.jpg", "image/jpeg", &photo)
                .await
                .expect("attach");
            assert!(!sub.join(format!("{sha}.{b}")).exists(), "an unused sealed copy is left behind");
            assert_eq!(store.blob(&sha).await.expect("blob"), photo);
            // A plain copy left by a stop in the middle of sealing, and directories made
            // before they were owner-only, are put right when the store opens.
            std::fs::write(sub.join(&sha), &photo).expect("plain leftover");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            }
            store.close().await;
            let store = open(&db, &key).await;
            assert!(!sub.join(&sha).exists(), "the plain leftover is removed");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&sub).expect("meta").permissions().mode() & 0o777;
                assert_eq!(mode, 0o700);
            }
            assert!(store.verify_audit().await.expect("verify").ok());
        }
    }
}

/// Finding 17 of the security review: identical uploads at the same moment all land
/// (each writer had used one temporary name per process, so one rename failed).
#[tokio::test]
async fn identical_evidence_uploaded_at_the_same_moment_is_all_kept() {
    use vigia_domain::access::Outcome;
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, _) = seeded(&db, &key).await;
        let a = ana.org_id.expect("org");
        let f = store.create_facility(&ana, draft("Siglo XXI", None)).await.expect("facility").id;
        let attempt = store.create_attempt(&ana, a, super_attempt(f, Outcome::Denied)).await.expect("attempt");
        let photo = vec![0xA5u8; 3 << 20];
        let uploads: Vec<_> = (0..12)
            .map(|i| {
                let (store, ana, photo) = (store.clone(), ana, photo.clone());
                tokio::spawn(async move {
                    let name = format!("foto-{i}.jpg");
                    store
                        .add_attachment(&ana, a, RecordType::AccessAttempt, attempt.id, &name, "image/jpeg", &photo)
                        .await
                })
            })
            .collect();
        for u in uploads {
            u.await.expect("task").expect("every identical upload is kept");
        }
        assert_eq!(store.attachments(RecordType::AccessAttempt, attempt.id).await.expect("list").len(), 12);
        assert_eq!(store.blob(&vigia_domain::audit::sha256_hex(&photo)).await.expect("blob"), photo);
        if let Some(dir) = &db.dir {
            let mut left = Vec::new();
            for d in std::fs::read_dir(dir.join("blobs")).expect("blobs") {
                for e in std::fs::read_dir(d.expect("entry").path()).expect("dir") {
                    left.push(e.expect("entry").file_name().to_string_lossy().into_owned());
                }
            }
            assert!(left.iter().all(|n| !n.ends_with(".tmp")), "temporary files left: {left:?}");
        }
        assert!(store.verify_audit().await.expect("verify").ok());
    }
}

fn super_attempt(f: i64, o: vigia_domain::access::Outcome) -> vigia_domain::access::AttemptDraft {
    attempt(f, 0, o, false)
}

#[tokio::test]
async fn refusals_raise_alerts_and_durable_webhook_deliveries() {
    use vigia_domain::access::Outcome;
    use vigia_store::DeliveryOutcome;
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, beto) = seeded(&db, &key).await;
        let (a, b) = (ana.org_id.expect("a"), beto.org_id.expect("b"));
        let c = store.create_org(&Actor::SYSTEM, "org-c", "Org C").await.expect("c").id;
        let red = store.create_coalition(&Actor::SYSTEM, "red", "Red").await.expect("coalition");
        store.add_coalition_member(&Actor::SYSTEM, red.id, a).await.expect("a");
        store.add_coalition_member(&Actor::SYSTEM, red.id, b).await.expect("b");
        let hook = store.create_webhook(&beto, b, "http://127.0.0.1:9/hook", "secreto-compartido").await.expect("hook");
        let f = store.create_facility(&ana, draft("Siglo XXI", None)).await.expect("f").id;

        store.create_attempt(&ana, a, attempt(f, 0, Outcome::Granted, false)).await.expect("granted");
        let denied = store.create_attempt(&ana, a, attempt(f, 1, Outcome::Denied, false)).await.expect("denied");
        store.create_attempt(&ana, a, attempt(f, 2, Outcome::Denied, true)).await.expect("private");
        assert_eq!(store.alerts(a, 10).await.expect("a").len(), 2, "the owner hears of both refusals");
        let for_b = store.alerts(b, 10).await.expect("b");
        assert_eq!(for_b.len(), 1, "the partner hears only of the shared one");
        assert_eq!(for_b[0].attempt_id, Some(denied.id));
        assert!(for_b[0].payload.contains("\"type\":\"access.refused\"") && for_b[0].payload.contains("Siglo XXI"));
        assert!(store.alerts(c, 10).await.expect("c").is_empty());
        store.mark_alert_read(b, for_b[0].id, 5).await.expect("read");
        assert!(matches!(store.mark_alert_read(c, for_b[0].id, 5).await, Err(StoreError::NotFound)));

        // The outbox: one delivery for B's webhook, leased to one sender at a time.
        let t0 = vigia_store::now_micros() + 1_000_000;
        let due = store.claim_deliveries(t0, 60_000_000, 10).await.expect("claim");
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].secret, "secreto-compartido");
        assert_eq!(due[0].url, hook.url);
        assert!(store.claim_deliveries(t0 + 1, 60_000_000, 10).await.expect("claim").is_empty(), "leased");
        let later = t0 + 600_000_000;
        store
            .finish_delivery(
                due[0].id,
                DeliveryOutcome::Retry { status: Some(503), error: "busy".into(), next_at: later },
                t0,
            )
            .await
            .expect("retry");
        assert!(store.claim_deliveries(later - 1, 60_000_000, 10).await.expect("claim").is_empty(), "not due yet");
        let again = store.claim_deliveries(later, 60_000_000, 10).await.expect("claim");
        assert_eq!((again.len(), again[0].attempts), (1, 1));
        store.finish_delivery(again[0].id, DeliveryOutcome::Delivered { status: 204 }, later).await.expect("done");
        let log = store.deliveries(b, 10).await.expect("log");
        assert_eq!((log[0].status.as_str(), log[0].attempts, log[0].last_status), ("delivered", 2, Some(204)));
        assert!(store.deliveries(a, 10).await.expect("log").is_empty());

        // Episode alerts are raised once per key.
        assert!(store.raise_alert(b, "episode", "episode:2020-01-14", None, "{}").await.expect("raise").is_some());
        assert!(store.raise_alert(b, "episode", "episode:2020-01-14", None, "{}").await.expect("raise").is_none());
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
    }
}

fn case_draft(reference: &str, name: &str) -> vigia_domain::case::CaseDraft {
    use vigia_domain::case::*;
    CaseDraft {
        fields: CaseFields {
            reference: reference.into(),
            facility_id: None,
            lawyer_user_id: None,
            nationality: Some("HN".into()),
            sex: Sex::Female,
            age_group: AgeGroup::Adolescent,
            minor: true,
            languages: vec!["es".into()],
            vulnerabilities: vec![Vulnerability::Unaccompanied],
            status: CaseStatus::Open,
        },
        person: Person {
            full_name: name.into(),
            birth_date: Some("2004-05-06".into()),
            identity_documents: Some("CURP ZZZZ040506".into()),
            contact: None,
            family_links: Some("Madre en San Pedro Sula".into()),
        },
    }
}

#[tokio::test]
async fn cases_are_sealed_private_versioned_and_their_reads_audited() {
    use vigia_domain::case::{CaseFilter, EventDraft, EventKind};
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, beto) = seeded(&db, &key).await;
        let (org_a, org_b) = (ana.org_id.expect("org"), beto.org_id.expect("org"));
        let c = store.create_case(&ana, org_a, case_draft("FM-1", "Yesenia Ramírez Cáceres")).await.expect("case");
        assert_eq!(c.version, 1);
        // Another organization sees nothing.
        assert!(store.case(org_b, c.id).await.expect("case").is_none());
        assert!(store.list_cases(org_b, &CaseFilter::default()).await.expect("list").is_empty());
        assert!(matches!(store.read_case_sealed(&beto, org_b, c.id).await, Err(StoreError::NotFound)));
        let mut d = case_draft("FM-1", "Yesenia Ramírez Cáceres");
        assert!(matches!(store.update_case(&beto, org_b, c.id, None, d.clone()).await, Err(StoreError::NotFound)));
        // Same reference twice in one organization is a field error; in another, fine.
        let dup = store.create_case(&ana, org_a, case_draft("FM-1", "x")).await;
        assert!(matches!(dup, Err(StoreError::Invalid(e)) if e.for_field("reference").is_some()));
        store.create_case(&beto, org_b, case_draft("FM-1", "x")).await.expect("other org may reuse");
        // A lawyer from another organization cannot be assigned.
        d.fields.lawyer_user_id = beto.user_id;
        let bad = store.update_case(&ana, org_a, c.id, Some(1), d.clone()).await;
        assert!(matches!(bad, Err(StoreError::Invalid(e)) if e.for_field("lawyer_user_id").is_some()));
        d.fields.lawyer_user_id = ana.user_id;
        let v2 = store.update_case(&ana, org_a, c.id, Some(1), d.clone()).await.expect("update");
        assert_eq!(v2.version, 2);
        assert!(matches!(store.update_case(&ana, org_a, c.id, Some(1), d).await, Err(StoreError::Conflict(_))));

        let ev = EventDraft {
            kind: EventKind::Detained,
            on: "2020-01-20".parse().expect("date"),
            time: None,
            facility_id: None,
            ground: None,
            decision: None,
            note: Some("Relata que la agente le quitó el teléfono".into()),
        };
        let e = store.add_case_event(&ana, org_a, c.id, ev.clone()).await.expect("event");
        assert!(e.has_note);
        assert!(matches!(store.add_case_event(&beto, org_b, c.id, ev).await, Err(StoreError::NotFound)));
        let listed = store.case_events(org_a, c.id).await.expect("events");
        assert_eq!(listed[0].draft.note, None, "notes stay sealed in lists");
        let facts = store.cases_with_facts(Some(&[org_a]), true).await.expect("facts");
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].facts.len(), 1);

        // Reading the sealed fields opens them and leaves a trace.
        let reads_before = store.history(RecordType::CaseRead, c.id, Some(org_a)).await.expect("h").len();
        let sealed = store.read_case_sealed(&ana, org_a, c.id).await.expect("read");
        assert_eq!(sealed.person.full_name, "Yesenia Ramírez Cáceres");
        assert_eq!(sealed.notes.get(&e.id).map(String::as_str), Some("Relata que la agente le quitó el teléfono"));
        let reads = store.history(RecordType::CaseRead, c.id, Some(org_a)).await.expect("h");
        assert_eq!(reads.len(), reads_before + 1);
        assert_eq!(reads.last().expect("read").actor_user_id, ana.user_id);
        assert!(!reads.last().expect("read").content.contains("Yesenia"));

        // Voiding keeps the event but drops it from the facts.
        let voided = store.void_case_event(&ana, org_a, c.id, e.id, "wrong person").await.expect("void");
        assert!(voided.is_voided());
        assert!(store.cases_with_facts(Some(&[org_a]), true).await.expect("facts")[0].facts.is_empty());
        assert_eq!(store.case_events(org_a, c.id).await.expect("events").len(), 1);

        // Pseudonyms are stable per case and differ between cases.
        let p1 = store.case_pseudonym(org_a, c.id).expect("p");
        assert_eq!(p1, store.case_pseudonym(org_a, c.id).expect("p"));
        assert_ne!(p1, store.case_pseudonym(org_a, c.id + 1).expect("p"));

        assert!(store.verify_audit().await.expect("verify").ok());
        if db.backend == Backend::Sqlite {
            let dir = db.dir.as_ref().expect("dir");
            for entry in std::fs::read_dir(dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    continue;
                }
                let bytes = std::fs::read(&path).expect("read");
                for needle in ["Yesenia", "Cáceres", "ZZZZ040506", "San Pedro Sula", "quitó el teléfono"] {
                    assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "plaintext {needle} on disk");
                }
            }
        }
        // Documents are sealed at rest, hashed in the clear, and every opening is recorded.
        let scan = b"%PDF-1.4 Pasaporte hondureno F1234567 de Yesenia";
        let doc =
            store.add_case_document(&ana, org_a, c.id, "pasaporte.pdf", "application/pdf", scan).await.expect("doc");
        assert_eq!(doc.sha256, vigia_domain::audit::sha256_hex(scan));
        assert!(matches!(
            store.add_case_document(&beto, org_b, c.id, "x.pdf", "application/pdf", scan).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(store.read_case_document(&beto, org_b, doc.id).await, Err(StoreError::NotFound)));
        let reads = store.history(RecordType::CaseRead, c.id, Some(org_a)).await.expect("h").len();
        let (meta, bytes) = store.read_case_document(&ana, org_a, doc.id).await.expect("open");
        assert_eq!((meta.filename.as_str(), bytes.as_slice()), ("pasaporte.pdf", &scan[..]));
        assert_eq!(store.history(RecordType::CaseRead, c.id, Some(org_a)).await.expect("h").len(), reads + 1);
        assert_eq!(store.case_documents(org_a, c.id).await.expect("docs").len(), 1);
        assert!(store.verify_audit().await.expect("verify").ok());
        if db.backend == Backend::Sqlite {
            let dir = db.dir.as_ref().expect("dir");
            for entry in std::fs::read_dir(dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_file() {
                    let bytes = std::fs::read(&path).expect("read");
                    assert!(!bytes.windows(8).any(|w| w == b"F1234567"), "document plaintext on disk in {path:?}");
                }
            }
        }
        let flip = if db.backend == Backend::Sqlite {
            format!("UPDATE case_documents SET data_sealed = randomblob(80) WHERE id = {}", doc.id)
        } else {
            format!("UPDATE case_documents SET data_sealed = decode(md5('x'), 'hex') WHERE id = {}", doc.id)
        };
        raw(&db, &flip).await;
        let report = store.verify_audit().await.expect("verify");
        assert!(
            report.problems.iter().any(|p| p.contains(&format!("case document {}", doc.id))),
            "{:?}",
            report.problems
        );
        assert!(store.read_case_document(&ana, org_a, doc.id).await.is_err(), "a damaged document is not served");

        // Editing a case behind the app's back is caught.
        raw(
            &db,
            &format!(
                "UPDATE cases SET minor = {} WHERE id = {}",
                if db.backend == Backend::Sqlite { "0" } else { "false" },
                c.id
            ),
        )
        .await;
        let report = store.verify_audit().await.expect("verify");
        assert!(report.problems.iter().any(|p| p.contains(&format!("case {}", c.id))), "{:?}", report.problems);
    }
}

#[tokio::test]
async fn the_two_factor_requirement_is_one_answer() {
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, _) = seeded(&db, &key).await;
        let (user, org) = (ana.user_id.expect("user"), ana.org_id.expect("org"));
        assert!(!store.two_factor_missing(user, org).await.expect("q"), "not required");
        store.set_org_requires_2fa(&ana, org, true).await.expect("require");
        assert!(store.two_factor_missing(user, org).await.expect("q"), "required, not set up");
        store.totp_setup(user, org, b"12345678901234567890", 0).await.expect("setup");
        assert!(store.two_factor_missing(user, org).await.expect("q"), "set up but not confirmed");
        store.totp_enable(&ana, user, 1, &[]).await.expect("enable");
        assert!(!store.two_factor_missing(user, org).await.expect("q"), "on");
        // Switched off, or its row deleted, behind the app's back: still required, since
        // the answer comes from the signed history; verify names the row.
        let beto = store
            .create_user(
                &Actor::SYSTEM,
                NewUser {
                    email: "sin2fa@a.org".into(),
                    display_name: "Sin".into(),
                    org_id: org,
                    role: Role::Monitor,
                    locale: Locale::Es,
                    password_hash: "x".into(),
                },
            )
            .await
            .expect("user");
        raw(&db, &format!("UPDATE org_settings SET require_2fa = {} WHERE org_id = {org}", sql_false(&db))).await;
        assert!(store.org_requires_2fa(org).await.expect("q"));
        assert!(store.two_factor_missing(beto.id, org).await.expect("q"), "still required");
        assert!(!store.verify_audit().await.expect("verify").ok());
        raw(&db, &format!("DELETE FROM org_settings WHERE org_id = {org}")).await;
        assert!(store.two_factor_missing(beto.id, org).await.expect("q"), "still required");
    }
}

/// `false` as the backend writes it in SQL.
fn sql_false(db: &TestDb) -> &'static str {
    match db.backend {
        Backend::Sqlite => "0",
        Backend::Postgres => "FALSE",
    }
}

/// The daily counts the analysis reads stay equal to counting the attempts one by one,
/// through creating, correcting, bulk importing, a facility changing time zone and
/// visibility; an abandoned import keeps no audit entry; and tampering with the counts
/// is caught.
#[tokio::test]
async fn daily_counts_follow_every_write_and_tampering_is_caught() {
    use vigia_domain::access::{day_number, local_date, Outcome, Purpose, TallyFilter};
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, beto) = seeded(&db, &key).await;
        let (a, b) = (ana.org_id.expect("a"), beto.org_id.expect("b"));
        let coalition = store.create_coalition(&Actor::SYSTEM, "red", "Red").await.expect("coalition");
        store.add_coalition_member(&Actor::SYSTEM, coalition.id, a).await.expect("member");
        store.add_coalition_member(&Actor::SYSTEM, coalition.id, b).await.expect("member");
        let f = store.create_facility(&Actor::SYSTEM, draft("Siglo XXI", Some(960))).await.expect("f");
        let g = store.create_facility(&Actor::SYSTEM, draft("Tijuana", None)).await.expect("g");

        // 23:30 in Tapachula on day 0 is the next day in UTC: counted on the local day.
        let mut late = attempt(f.id, 0, Outcome::Denied, false);
        late.attempted_at =
            vigia_domain::access::parse_local_instant("2020-01-20T23:30", "America/Mexico_City").expect("instant");
        let one = store.create_attempt(&ana, a, late.clone()).await.expect("create");
        let mut drafts: Vec<_> = (0..2_500)
            .map(|i| {
                attempt(
                    if i % 3 == 0 { g.id } else { f.id },
                    i % 40,
                    if i % 4 == 0 { Outcome::Denied } else { Outcome::Granted },
                    i % 5 == 0,
                )
            })
            .collect();
        for (i, d) in drafts.iter_mut().enumerate() {
            d.attempted_at += i as i64 * 1_000_000;
            if i % 7 == 0 {
                d.purpose = Purpose::Monitoring;
            }
        }
        // A feed that closes before saying the file was whole keeps nothing, even
        // after thousands of its rows were written.
        let head = store.verify_audit().await.expect("verify");
        let feed: Vec<_> = drafts.chunks(700).map(|c| vigia_store::ImportFeed::Rows(c.to_vec())).collect();
        assert_eq!(
            store.import_attempts_fed(&beto, b, None, Box::new(feed.into_iter())).await.expect("abandoned"),
            None
        );
        let after = store.verify_audit().await.expect("verify");
        assert!(after.problems.is_empty(), "{:?}", after.problems);
        assert_eq!((after.head_seq, &after.head_hash), (head.head_seq, &head.head_hash), "no audit entry was kept");
        assert_eq!(store.counts().await.expect("counts").get("access_attempts"), 1, "only the one created above");
        assert_eq!(store.import_attempts(&beto, b, drafts.clone()).await.expect("import").row_count, 2_500);
        // Ids continue after the bulk import, on both backends.
        let next = store.create_attempt(&ana, a, attempt(f.id, 41, Outcome::Granted, true)).await.expect("create");
        assert_eq!(next.id, one.id + 2_501);
        let mut fixed = late.clone();
        fixed.outcome = Outcome::Granted;
        fixed.visibility = vigia_domain::access::Visibility::Private;
        store.update_attempt(&ana, a, one.id, None, fixed).await.expect("update");

        let total =
            |cells: &[vigia_store::TallyCell]| cells.iter().fold((0, 0), |(n, r), c| (n + c.attempts, r + c.refusals));
        let all = TallyFilter::default();
        let seen_by_a = total(&store.access_tallies(a, &all).await.expect("tallies"));
        let shared = drafts.iter().filter(|d| d.visibility == vigia_domain::access::Visibility::Coalition);
        let shared_refused = shared.clone().filter(|d| d.outcome.is_refusal()).count() as i64;
        assert_eq!(seen_by_a, (2 + shared.count() as i64, shared_refused), "own two, b's shared");
        let seen_by_b = total(&store.access_tallies(b, &all).await.expect("tallies"));
        assert_eq!(seen_by_b, (2_500, 625), "b sees its own, not a's private ones");
        let monitoring = TallyFilter { purpose: Some(Purpose::Monitoring), org_id: Some(b), ..Default::default() };
        assert_eq!(total(&store.access_tallies(b, &monitoring).await.expect("t")).0, 358);
        let tz = jiff::tz::TimeZone::get("America/Mexico_City").expect("tz");
        let day0 = day_number(local_date(late.attempted_at, &tz).expect("day"));
        let first_day = TallyFilter { from_day: Some(day0), until_day: Some(day0 + 1), ..Default::default() };
        let day_cells = store.access_tallies(a, &first_day).await.expect("t");
        assert_eq!(
            total(&day_cells).0,
            1 + drafts
                .iter()
                .filter(|d| d.visibility == vigia_domain::access::Visibility::Coalition
                    && day_number(local_date(d.attempted_at, &tz).expect("d")) == day0)
                .count() as i64
        );
        let cells = store.access_daily_since(-1).await.expect("cells");
        assert_eq!(cells.iter().filter(|c| c.org_id == b).map(|c| c.attempts).sum::<i64>(), 2_500);
        let (version, _) = store.access_state().await.expect("state");
        assert!(store.access_daily_since(version).await.expect("none newer").is_empty());
        let before = store.access_state().await.expect("state");
        let refused = store.refused_attempts(b, day0, day0 + 40).await.expect("refused");
        assert_eq!(refused.len(), 625);
        let latest = store.latest_attempts(a, 5).await.expect("latest");
        assert!(
            latest.len() <= 10
                && latest
                    .iter()
                    .all(|x| x.org_id == a || x.draft.visibility == vigia_domain::access::Visibility::Coalition)
        );

        // Each write is a new version; only what it changed is newer.
        store.create_attempt(&ana, a, attempt(f.id, 42, Outcome::Denied, false)).await.expect("create");
        let changed = store.access_daily_since(before.0).await.expect("changed");
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert_eq!(store.access_state().await.expect("state").1, before.1, "same generation");
        // Moving a facility to Baja California moves its attempts' local days.
        let mut tijuana = draft("Tijuana", None);
        tijuana.state_code = "02".into();
        store.update_facility(&Actor::SYSTEM, g.id, None, tijuana).await.expect("rezone");
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(total(&store.access_tallies(b, &all).await.expect("t")), (2_501, 626), "and a's new shared refusal");

        raw(&db, "UPDATE access_daily SET refusals = refusals + 1 WHERE refusals = 0 AND attempts > 0").await;
        let report = store.verify_audit().await.expect("verify");
        assert!(report.problems.iter().any(|p| p.contains("daily access counts")), "{:?}", report.problems);
        store.recount_access().await.expect("recount");
        assert!(store.access_state().await.expect("state").1 > before.1, "a rebuild is a new generation");
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
    }
}

/// An organization added from the command line while the server runs (another store
/// on the same database): the server opens its data key when it first needs it, so
/// its sealed fields are written and read without a restart.
#[tokio::test]
async fn an_organization_added_elsewhere_seals_and_opens_without_a_restart() {
    use vigia_domain::access::Outcome;
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (server, ana, _) = seeded(&db, &key).await;
        let f = server.create_facility(&ana, draft("Siglo XXI", None)).await.expect("facility").id;
        let cli = open(&db, &key).await;
        let c = cli.create_org(&Actor::SYSTEM, "org-c", "Org C").await.expect("org c").id;
        cli.close().await;
        let mut d = super_attempt(f, Outcome::Denied);
        d.notes = Some("Vimos a Carla".into());
        let a = server.create_attempt(&Actor::SYSTEM, c, d).await.expect("sealed with the new key");
        let read = server.attempt(c, a.id).await.expect("read").expect("visible");
        assert_eq!(read.draft.notes.as_deref(), Some("Vimos a Carla"));
        assert!(server.verify_audit().await.expect("verify").ok());
    }
}

/// Findings 10 and 11, as an operator with the database and the disk would try them:
/// sealed notes swapped between two attempts, and one evidence file's sealed bytes put
/// in another's place. Neither opens as something else unnoticed.
#[tokio::test]
async fn sealed_values_and_files_moved_between_records_are_caught() {
    use vigia_domain::access::Outcome;
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, _) = seeded(&db, &key).await;
        let a = ana.org_id.expect("org");
        let f = store.create_facility(&ana, draft("Siglo XXI", None)).await.expect("facility").id;
        let mut ids = Vec::new();
        let mut shas = Vec::new();
        for (notes, photo) in
            [("Vimos a Ana", b"\xFF\xD8\xFF uno".as_slice()), ("Vimos a Luis", b"\xFF\xD8\xFF dos".as_slice())]
        {
            let mut d = super_attempt(f, Outcome::Denied);
            d.notes = Some(notes.into());
            let at = store.create_attempt(&ana, a, d).await.expect("attempt");
            let x = store
                .add_attachment(&ana, a, RecordType::AccessAttempt, at.id, "foto.jpg", "image/jpeg", photo)
                .await
                .expect("attach");
            ids.push(at.id);
            shas.push(x.sha256);
        }
        assert!(store.verify_audit().await.expect("verify").ok());
        // The notes of the first attempt put on the second.
        raw(
            &db,
            &format!(
                "UPDATE access_attempts SET notes = (SELECT notes FROM access_attempts WHERE id = {}) WHERE id = {}",
                ids[0], ids[1]
            ),
        )
        .await;
        let report = store.verify_audit().await.expect("verify");
        assert!(
            report.problems.iter().any(|p| p.contains(&format!("access_attempt {} differs", ids[1]))),
            "{:?}",
            report.problems
        );
        // The first file's sealed bytes in the second's place.
        match &db.dir {
            Some(dir) => {
                let path = |sha: &str| dir.join("blobs").join(&sha[..2]).join(format!("{sha}.{a}"));
                std::fs::copy(path(&shas[0]), path(&shas[1])).expect("copy");
            }
            None => {
                raw(
                    &db,
                    &format!(
                        "UPDATE blobs SET data = (SELECT data FROM blobs WHERE sha256 = '{}') WHERE sha256 = '{}'",
                        shas[0], shas[1]
                    ),
                )
                .await
            }
        }
        assert!(matches!(store.blob(&shas[1]).await, Err(StoreError::Corrupt(_))), "it does not open as the other");
        let report = store.verify_audit().await.expect("verify");
        assert!(report.problems.iter().any(|p| p.contains(&shas[1]) && p.contains("altered")), "{:?}", report.problems);
    }
}

/// Issue #22 finding 5: values sealed before they named their record, as an older
/// version left them, are re-sealed once as the store opens, each change recorded;
/// everything reads as written, the history still opens, and from then on a value
/// moved to another record, or an older value put back, does not open.
#[tokio::test]
async fn values_sealed_before_they_named_their_record_are_bound_as_the_store_opens() {
    use vigia_domain::access::Outcome;
    use vigia_domain::case::{EventDraft, EventKind};
    use vigia_domain::statement::ReviewStatus;
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let (store, ana, beto) = seeded(&db, &key).await;
        let (a, b) = (ana.org_id.expect("a"), beto.org_id.expect("b"));
        let ana_id = ana.user_id.expect("ana");
        let f = store.create_facility(&ana, draft("Siglo XXI", Some(960))).await.expect("f").id;
        let mut said = attempt(f, 0, Outcome::Denied, true);
        said.notes = Some("Vimos a Ana López en la reja".into());
        let made = store.create_attempt(&ana, a, said.clone()).await.expect("attempt");
        let imp = store
            .import_attempts(&ana, a, vec![said.clone(), attempt(f, 1, Outcome::Granted, true)])
            .await
            .expect("import");
        let c1 = store.create_case(&ana, a, case_draft("EXP-1", "María Pérez")).await.expect("c1");
        let c2 = store.create_case(&ana, a, case_draft("EXP-2", "Juana Díaz")).await.expect("c2");
        let c3 = store.create_case(&ana, a, case_draft("EXP-3", "Rosa Gómez")).await.expect("c3");
        let ev = |note: &str| EventDraft {
            kind: EventKind::Detained,
            on: "2020-01-20".parse().expect("date"),
            time: None,
            facility_id: None,
            ground: None,
            decision: None,
            note: Some(note.into()),
        };
        let e1 = store.add_case_event(&ana, a, c1.id, ev("Le quitaron el teléfono")).await.expect("event");
        let e2 = store.add_case_event(&ana, a, c1.id, ev("Duplicado")).await.expect("event");
        store.void_case_event(&ana, a, c1.id, e2.id, "Lo capturó Marta dos veces").await.expect("void");
        let doc = store
            .add_case_document(&ana, a, c1.id, "acta-maria-perez.pdf", "application/pdf", b"%PDF-1.4 acta")
            .await
            .expect("doc");
        store.add_facility_note(&ana, a, f, "El director se llama Ramiro").await.expect("note");
        store.create_webhook(&beto, b, "http://127.0.0.1:9/hook", "secreto-compartido").await.expect("hook");
        store
            .review_detection(&ana, a, "contradiction:1", ReviewStatus::Confirmed, "Lo dijo Ramiro")
            .await
            .expect("review");
        let today: jiff::civil::Date = "2020-03-11".parse().expect("date");
        let report = serde_json::json!({"facility_id": f, "on": "2020-03-10",
            "population": {"total": 180},
            "sections": {"legal_safeguards": {"access_to_lawyer": "no", "observations": "Sin lista de abogados"}},
            "findings": [{"section": "material_conditions", "severity": 4, "description": "Colchonetas en el patio"}],
            "interview_notes": "Yolanda M. relata 45 días detenida"});
        let visit = vigia_domain::visit::validate_visit(&report, today, Some(960)).expect("visit");
        let (v, _) = store.record_visit(&ana, a, "visita-1", visit).await.expect("visit");
        store.totp_setup(ana_id, a, b"12345678901234567890", vigia_store::now_micros()).await.expect("totp");

        // The rows as an older version left them: a row refuses every such value.
        let aged = store.seal_as_before_for_tests().await.expect("as before");
        assert!(aged >= 16, "{aged} values sealed as before");
        assert!(store.case(a, c1.id).await.is_err(), "a row refuses a value that names no record");
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
        let person_of = |id: i64| format!("SELECT person_sealed FROM cases WHERE id = {id}");
        let old_person = query_bytes(&db, &person_of(c1.id)).await;
        let own = query_bytes(&db, &person_of(c3.id)).await;
        let bytes = |b: &[u8]| match db.backend {
            Backend::Sqlite => format!("X'{}'", hex::encode(b)),
            Backend::Postgres => format!("'\\x{}'", hex::encode(b)),
        };
        // Before the upgrade, someone moves case 2's person into case 3: it opened then.
        let moved = query_bytes(&db, &person_of(c2.id)).await;
        raw(&db, &format!("UPDATE cases SET person_sealed = {} WHERE id = {}", bytes(&moved), c3.id)).await;
        let head = report.head_seq;
        store.close().await;

        // Opened again: every value re-sealed, each row's change recorded; the row that
        // differs from its history is left as it was, refused, and named.
        let store = open(&db, &key).await;
        let n = store.reseals_after(head).await.expect("entries").expect("only re-seal entries follow");
        assert!(n >= 10, "{n} rows recorded as re-sealed");
        let report = store.verify_audit().await.expect("verify");
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].contains(&format!("case {} differs", c3.id)), "{:?}", report.problems);
        assert!(store.read_case_sealed(&ana, a, c3.id).await.is_err(), "case 2's person is not shown as case 3's");
        raw(&db, &format!("UPDATE cases SET person_sealed = {} WHERE id = {}", bytes(&own), c3.id)).await;
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(store.case(a, c1.id).await.expect("case").expect("c1").fields.reference, "EXP-1");
        assert_eq!(store.read_case_sealed(&ana, a, c1.id).await.expect("sealed").person.full_name, "María Pérez");
        let notes = store.read_case_sealed(&ana, a, c1.id).await.expect("sealed").notes;
        assert_eq!(notes.get(&e1.id).map(String::as_str), Some("Le quitaron el teléfono"));
        let events = store.case_events(a, c1.id).await.expect("events");
        assert_eq!(
            events.iter().find(|e| e.id == e2.id).and_then(|e| e.void_reason.as_deref()),
            Some("Lo capturó Marta dos veces")
        );
        let (shown, document) = store.read_case_document(&ana, a, doc.id).await.expect("document");
        assert_eq!((shown.filename.as_str(), document.as_slice()), ("acta-maria-perez.pdf", &b"%PDF-1.4 acta"[..]));
        assert_eq!(store.facility_notes(a, f).await.expect("notes")[0].body, "El director se llama Ramiro");
        assert_eq!(store.detection_reviews().await.expect("reviews")[0].reason, "Lo dijo Ramiro");
        assert_eq!(store.attempt(a, made.id).await.expect("a").expect("made").draft.notes, said.notes);
        assert_eq!(store.attempt(a, imp.first_id).await.expect("a").expect("imported").draft.notes, said.notes);
        let opened = store.visit(a, v.id).await.expect("visit").expect("v");
        assert_eq!(opened.draft.findings[0].description, "Colchonetas en el patio");
        assert_eq!(
            store.read_visit_notes(&ana, a, v.id).await.expect("notes").as_deref(),
            Some("Yolanda M. relata 45 días detenida")
        );
        assert_eq!(store.totp(ana_id, a).await.expect("totp").expect("set").secret, b"12345678901234567890");
        store.raise_alert(b, "episode", "episode:2020-01-14", None, "{}").await.expect("alert");
        let due = store.claim_deliveries(vigia_store::now_micros() + 1_000_000, 60_000_000, 10).await.expect("claim");
        assert_eq!(due[0].secret, "secreto-compartido");
        // The history keeps each version as written and still opens the older ones.
        let history = store.history(RecordType::Case, c1.id, Some(a)).await.expect("history");
        assert_eq!(history.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["create", "update", "reseal"]);
        for e in &history {
            let content: serde_json::Value = serde_json::from_str(&e.content).expect("json");
            let reference = content["reference"].as_str().expect("sealed");
            assert_eq!(store.open_recorded_text(a, "case.reference", c1.id, reference).await.expect("opens"), "EXP-1");
        }
        // Done once: opening again changes nothing.
        let seq = store.verify_audit().await.expect("verify").head_seq;
        store.close().await;
        let store = open(&db, &key).await;
        assert_eq!(store.verify_audit().await.expect("verify").head_seq, seq);

        // From now on a value moved to another record of the organization, or the
        // older value put back, does not open, and the audit names the row.
        let swap = "UPDATE cases SET person_sealed = (SELECT person_sealed FROM cases WHERE id = {c2}) WHERE id = {c1}";
        raw(&db, &swap.replace("{c1}", &c1.id.to_string()).replace("{c2}", &c2.id.to_string())).await;
        assert!(store.read_case_sealed(&ana, a, c1.id).await.is_err(), "another case's person does not open here");
        let report = store.verify_audit().await.expect("verify");
        assert!(
            report.problems.iter().any(|p| p.contains(&format!("case {} differs", c1.id))),
            "{:?}",
            report.problems
        );
        raw(&db, &format!("UPDATE cases SET person_sealed = {} WHERE id = {}", bytes(&old_person), c1.id)).await;
        assert!(store.read_case_sealed(&ana, a, c1.id).await.is_err(), "a value sealed before does not open in a row");

        // The mark is signed with the head: cleared so that the store re-seals the older
        // value into the row, it breaks the head instead, and nothing is re-sealed. A
        // reference that does not open does not stop the store from opening either.
        store.close().await;
        raw(&db, "UPDATE chain_head SET records_bound = NULL").await;
        raw(&db, &format!("UPDATE cases SET reference_key = NULL, reference = 'dañado' WHERE id = {}", c2.id)).await;
        let store = open(&db, &key).await;
        assert!(store.read_case_sealed(&ana, a, c1.id).await.is_err(), "still refused");
        let report = store.verify_audit().await.expect("verify");
        assert!(report.problems.iter().any(|p| p.contains("not signed by the master key")), "{:?}", report.problems);
        let _ = beto;
    }
}

/// The SQL that decides who reads an access attempt (one at a time, in lists, and in
/// the daily counts) agrees with the domain's one rule (`tenancy::may_read`) on random
/// organizations, coalitions, owners and visibilities, on every backend.
#[tokio::test]
async fn every_sql_filter_returns_exactly_what_the_tenancy_rule_allows() {
    use std::collections::BTreeSet;
    use vigia_domain::access::{AttemptFilter, Outcome, TallyFilter};
    use vigia_domain::tenancy::{may_read, Partners};
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let store = open(&db, &key).await;
        let f = store.create_facility(&Actor::SYSTEM, draft("Siglo XXI", Some(960))).await.expect("f").id;
        let mut orgs = Vec::new();
        for i in 0..5 {
            let o = store.create_org(&Actor::SYSTEM, &format!("org-{i}"), &format!("Org {i}")).await.expect("org");
            let u = store
                .create_user(
                    &Actor::SYSTEM,
                    NewUser {
                        email: format!("u{i}@o.org"),
                        display_name: format!("u{i}"),
                        org_id: o.id,
                        role: Role::Coordinator,
                        locale: Locale::Es,
                        password_hash: "x".into(),
                    },
                )
                .await
                .expect("user");
            orgs.push((o.id, Actor::user(&u)));
        }
        // A small deterministic generator: the same "random" data every run.
        let mut s: u64 = 0x5eed_7e4a_u64;
        let mut next = |n: u64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % n
        };
        let mut coalitions: Vec<Vec<i64>> = Vec::new();
        for c in 0..3 {
            let coalition =
                store.create_coalition(&Actor::SYSTEM, &format!("c{c}"), &format!("C{c}")).await.expect("c");
            let mut members = Vec::new();
            for (org, _) in &orgs {
                if next(2) == 0 {
                    store.add_coalition_member(&Actor::SYSTEM, coalition.id, *org).await.expect("member");
                    members.push(*org);
                }
            }
            coalitions.push(members);
        }
        let partners = Partners::from_coalitions(coalitions.iter().map(Vec::as_slice));
        let mut made = Vec::new();
        for day in 0..30 {
            let (owner, actor) = &orgs[next(orgs.len() as u64) as usize];
            let private = next(2) == 0;
            let outcome = if next(2) == 0 { Outcome::Denied } else { Outcome::Granted };
            let a = store.create_attempt(actor, *owner, attempt(f, day, outcome, private)).await.expect("attempt");
            made.push((a.id, *owner, !private, outcome.is_refusal()));
        }
        for (viewer, _) in &orgs {
            let allowed: BTreeSet<i64> = made
                .iter()
                .filter(|(_, owner, shared, _)| may_read(*viewer, *owner, *shared, &partners))
                .map(|m| m.0)
                .collect();
            let filter = AttemptFilter { limit: 1000, ..Default::default() };
            let listed: BTreeSet<i64> =
                store.list_attempts(*viewer, &filter).await.expect("list").iter().map(|a| a.id).collect();
            assert_eq!(listed, allowed, "{:?}: viewer {viewer}, coalitions {coalitions:?}", db.backend);
            for (id, ..) in &made {
                let one = store.attempt(*viewer, *id).await.expect("attempt").is_some();
                assert_eq!(one, allowed.contains(id), "{:?}: viewer {viewer} reading {id}", db.backend);
            }
            // The daily counts: the same attempts and refusals.
            let tallies = store.access_tallies(*viewer, &TallyFilter::default()).await.expect("tallies");
            let attempts: i64 = tallies.iter().map(|t| t.attempts).sum();
            let refusals: i64 = tallies.iter().map(|t| t.refusals).sum();
            let want_refusals = made.iter().filter(|m| allowed.contains(&m.0) && m.3).count() as i64;
            assert_eq!(
                (attempts, refusals),
                (allowed.len() as i64, want_refusals),
                "{:?}: viewer {viewer}",
                db.backend
            );
        }
        // The data is not trivial: someone reads a partner's record, and someone is kept out.
        let shared_reads = orgs
            .iter()
            .flat_map(|(v, _)| made.iter().map(move |m| (*v, m)))
            .filter(|(v, m)| *v != m.1 && may_read(*v, m.1, m.2, &partners))
            .count();
        let kept_out = orgs
            .iter()
            .flat_map(|(v, _)| made.iter().map(move |m| (*v, m)))
            .filter(|(v, m)| !may_read(*v, m.1, m.2, &partners))
            .count();
        assert!(shared_reads > 0 && kept_out > 0, "{shared_reads} shared reads, {kept_out} kept out");
    }
}
