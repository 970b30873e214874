//! The audit chain: versioned records, concurrent writers, changes behind the app's back,
//! an append-only log, and consistent backups.

use std::sync::Arc;

use sqlx::Connection;
use vigia_domain::RecordType;
use vigia_store::testing::TestDb;
use vigia_store::{Backend, MasterKey, StoreError};

use super::{draft, raw, seeded};

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
