//! Access attempts: imports, sharing within coalitions, alerts and webhooks, the daily
//! counts, and the SQL visibility filters against the tenancy rule.

use vigia_domain::account::{Locale, Role};
use vigia_domain::RecordType;
use vigia_store::testing::TestDb;
use vigia_store::{Actor, DynStore, MasterKey, NewUser, StoreError};

use super::{attempt, draft, open, raw, seeded};

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
        assert!(store
            .finish_delivery(
                due[0].id,
                due[0].lease_until,
                DeliveryOutcome::Retry { status: Some(503), error: "busy".into(), next_at: later },
                t0,
            )
            .await
            .expect("retry"));
        assert!(store.claim_deliveries(later - 1, 60_000_000, 10).await.expect("claim").is_empty(), "not due yet");
        let again = store.claim_deliveries(later, 60_000_000, 10).await.expect("claim");
        assert_eq!((again.len(), again[0].attempts), (1, 1));
        // A sender whose lease ran out (paused past it) while another claimed the delivery
        // records nothing: the second claim's lease, outcome and count stand.
        let resent = store.claim_deliveries(again[0].lease_until + 1, 60_000_000, 10).await.expect("claim");
        assert_eq!(resent.len(), 1, "the lease ran out, so another sender claims it");
        let late = store
            .finish_delivery(again[0].id, again[0].lease_until, DeliveryOutcome::Delivered { status: 200 }, later)
            .await
            .expect("late");
        assert!(!late, "the late sender's outcome is refused");
        let log = store.deliveries(b, 10).await.expect("log");
        assert_eq!((log[0].status.as_str(), log[0].attempts), ("pending", 1), "nothing recorded from the late sender");
        assert!(
            store.claim_deliveries(again[0].lease_until + 2, 60_000_000, 10).await.expect("claim").is_empty(),
            "the second claim's lease still holds"
        );
        assert!(store
            .finish_delivery(resent[0].id, resent[0].lease_until, DeliveryOutcome::Delivered { status: 204 }, later)
            .await
            .expect("done"));
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
            // Seven days for thirty attempts: many share a time, and the id breaks ties.
            let a = store.create_attempt(actor, *owner, attempt(f, day % 7, outcome, private)).await.expect("attempt");
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
            // Page by page (one query per organization the viewer reads, merged): the
            // same rows in the same order, newest first, ties by id; and the count.
            let whole = store.list_attempts(*viewer, &filter).await.expect("list");
            assert!(whole.windows(2).all(|w| (w[0].draft.attempted_at, w[0].id) > (w[1].draft.attempted_at, w[1].id)));
            let mut paged = Vec::new();
            let mut page = AttemptFilter { limit: 3, ..Default::default() };
            loop {
                let got = store.list_attempts(*viewer, &page).await.expect("page");
                let Some(last) = got.last() else { break };
                page.after = Some(vigia_domain::paging::Cursor { key: last.draft.attempted_at, id: last.id });
                paged.extend(got.iter().map(|a| a.id));
            }
            assert_eq!(paged, whole.iter().map(|a| a.id).collect::<Vec<_>>(), "{:?}: viewer {viewer}", db.backend);
            assert_eq!(store.count_attempts(*viewer, &filter).await.expect("count"), allowed.len() as i64);
            for (owner, _) in &orgs {
                let one = AttemptFilter { org_id: Some(*owner), limit: 1000, ..Default::default() };
                let listed: BTreeSet<i64> =
                    store.list_attempts(*viewer, &one).await.expect("list").iter().map(|a| a.id).collect();
                let want: BTreeSet<i64> =
                    made.iter().filter(|m| m.1 == *owner && allowed.contains(&m.0)).map(|m| m.0).collect();
                assert_eq!(listed, want, "{:?}: viewer {viewer}, owner {owner}", db.backend);
            }
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

/// A viewer with more partners than a list reads one by one (SQLite allows 500 terms in a
/// compound SELECT) is answered through one condition: the same rows, order, pages and
/// count as the tenancy rule gives.
#[tokio::test]
async fn a_viewer_with_many_partners_sees_exactly_what_the_rule_allows() {
    use vigia_domain::access::{AttemptFilter, Outcome};
    for db in TestDb::all().await {
        let key = MasterKey::generate().expect("key");
        let store = open(&db, &key).await;
        let f = store.create_facility(&Actor::SYSTEM, draft("Siglo XXI", Some(960))).await.expect("f").id;
        let coalition = store.create_coalition(&Actor::SYSTEM, "grande", "Grande").await.expect("c");
        let mut orgs = Vec::new();
        for i in 0..70 {
            let o = store.create_org(&Actor::SYSTEM, &format!("o-{i}"), &format!("O {i}")).await.expect("org").id;
            store.add_coalition_member(&Actor::SYSTEM, coalition.id, o).await.expect("member");
            orgs.push(o);
        }
        let outsider = store.create_org(&Actor::SYSTEM, "fuera", "Fuera").await.expect("org").id;
        let mut visible = Vec::new();
        for (i, owner) in orgs.iter().take(6).chain([&outsider]).enumerate() {
            for day in 0..4 {
                let private = (i + day as usize).is_multiple_of(3);
                let a = store
                    .create_attempt(&Actor::SYSTEM, *owner, attempt(f, day % 2, Outcome::Denied, private))
                    .await
                    .expect("attempt");
                if *owner == orgs[0] || (!private && *owner != outsider) {
                    visible.push((a.draft.attempted_at, a.id));
                }
            }
        }
        visible.sort_by(|x, y| y.cmp(x));
        let want: Vec<i64> = visible.iter().map(|v| v.1).collect();
        let all = AttemptFilter { limit: 1000, ..Default::default() };
        let got: Vec<i64> = store.list_attempts(orgs[0], &all).await.expect("list").iter().map(|a| a.id).collect();
        assert_eq!(got, want, "{:?}", db.backend);
        assert_eq!(store.count_attempts(orgs[0], &all).await.expect("count"), want.len() as i64);
        let mut paged = Vec::new();
        let mut page = AttemptFilter { limit: 4, ..Default::default() };
        loop {
            let rows = store.list_attempts(orgs[0], &page).await.expect("page");
            let Some(last) = rows.last() else { break };
            page.after = Some(vigia_domain::paging::Cursor { key: last.draft.attempted_at, id: last.id });
            paged.extend(rows.iter().map(|a| a.id));
        }
        assert_eq!(paged, want, "{:?}", db.backend);
        let theirs = AttemptFilter { org_id: Some(orgs[1]), limit: 1000, ..Default::default() };
        let listed = store.list_attempts(orgs[0], &theirs).await.expect("list");
        assert!(
            !listed.is_empty()
                && listed.iter().all(|a| a.org_id == orgs[1] && a.draft.visibility.as_str() == "coalition")
        );
        let none = AttemptFilter { org_id: Some(outsider), limit: 1000, ..Default::default() };
        assert!(store.list_attempts(orgs[0], &none).await.expect("list").is_empty());
    }
}
