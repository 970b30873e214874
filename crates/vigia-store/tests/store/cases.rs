//! Cases: sealed, private to their organization, versioned, their reads audited.

use vigia_domain::RecordType;
use vigia_store::testing::TestDb;
use vigia_store::{Backend, MasterKey, StoreError};

use super::{case_draft, raw, seeded};

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
        let before = store.data_version().await.expect("version");
        let changes_before = store.local_changes();
        let v2 = store.update_case(&ana, org_a, c.id, Some(1), d.clone()).await.expect("update");
        assert_ne!(store.data_version().await.expect("version"), before, "a change moves the data version");
        assert_eq!(store.local_changes(), changes_before + 1, "and this process's count of its changes");
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

        // Reading the sealed fields opens them and leaves a trace. The trace is not a
        // change: the data version answers are kept under does not move (#19).
        let reads_before = store.history(RecordType::CaseRead, c.id, Some(org_a)).await.expect("h").len();
        let version = store.data_version().await.expect("version");
        let sealed = store.read_case_sealed(&ana, org_a, c.id).await.expect("read");
        assert_eq!(store.data_version().await.expect("version"), version, "a read is not a change");
        assert_eq!(store.local_changes(), changes_before + 2, "the event was; the read was not");
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
