//! Evidence files: content-addressed, sealed, tampering caught, concurrent uploads kept.

use sqlx::Connection;
use vigia_domain::RecordType;
use vigia_store::testing::TestDb;
use vigia_store::{MasterKey, StoreError};

use super::{draft, open, raw, seeded, super_attempt};

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
