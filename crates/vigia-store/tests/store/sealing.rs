//! Sealed values: encrypted at rest, organization keys opened on demand, values and files
//! moved between records caught, older seals bound to their record.

use sqlx::Connection;
use vigia_domain::RecordType;
use vigia_store::testing::TestDb;
use vigia_store::{Actor, Backend, MasterKey, StoreError};

use super::{attempt, case_draft, draft, open, raw, seeded, super_attempt};

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
        // A second server, opened before the organization existed.
        let reader = open(&db, &key).await;
        let cli = open(&db, &key).await;
        let c = cli.create_org(&Actor::SYSTEM, "org-c", "Org C").await.expect("org c").id;
        cli.close().await;
        let mut d = super_attempt(f, Outcome::Denied);
        d.notes = Some("Vimos a Carla".into());
        let a = server.create_attempt(&Actor::SYSTEM, c, d).await.expect("sealed with the new key");
        let read = server.attempt(c, a.id).await.expect("read").expect("visible");
        assert_eq!(read.draft.notes.as_deref(), Some("Vimos a Carla"));
        // Its list of attempts, read a row at a time, opens the row sealed with the key
        // it did not know when the row arrived.
        let listed = reader.list_attempts(c, &Default::default()).await.expect("listed by the second server");
        assert_eq!(listed.iter().find(|x| x.id == a.id).and_then(|x| x.draft.notes.as_deref()), Some("Vimos a Carla"));
        reader.close().await;
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
        // Since issue #20 a case's person, notes, reasons and documents are sealed with
        // the case's own key, which older versions never had: those stay as they are.
        let aged = store.seal_as_before_for_tests().await.expect("as before");
        assert!(aged >= 7, "{aged} values sealed as before");
        assert!(store.case(a, c1.id).await.is_err(), "a row refuses a value that names no record");
        let report = store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
        let person_of = |id: i64| format!("SELECT person_sealed FROM cases WHERE id = {id}");
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
        assert!(n >= 7, "{n} rows recorded as re-sealed");
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
        // (A person sealed as before cannot be put back: persons are sealed with their
        // case's own key since issue #20, which no older version had.)

        // The mark is signed with the head: cleared so that the store re-seals the older
        // value into the row, it breaks the head instead, and nothing is re-sealed. A
        // reference that does not open does not stop the store from opening either.
        store.close().await;
        raw(&db, "UPDATE chain_head SET records_bound = NULL").await;
        raw(&db, &format!("UPDATE cases SET reference_key = NULL, reference = 'dañado' WHERE id = {}", c2.id)).await;
        let store = open(&db, &key).await;
        raw(&db, &swap.replace("{c1}", &c1.id.to_string()).replace("{c2}", &c2.id.to_string())).await;
        assert!(store.read_case_sealed(&ana, a, c1.id).await.is_err(), "still refused");
        let report = store.verify_audit().await.expect("verify");
        assert!(report.problems.iter().any(|p| p.contains("not signed by the master key")), "{:?}", report.problems);
        let _ = beto;
    }
}
