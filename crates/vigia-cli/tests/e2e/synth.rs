//! `vigia synth` (issue #19): the load tests' dataset, written through the store's own
//! paths on both backends, with the habits the reads must cope with.

use std::collections::BTreeSet;

use vigia_cli::synth::{generate, Made, Plan};
use vigia_domain::access::AttemptFilter;
use vigia_store::testing::TestDb;
use vigia_store::{secrets, Actor, DynStore};

use crate::helpers::TestApp;

async fn fill(store: &DynStore, scale: f64, seed: u64) -> Made {
    let plan = Plan::at(scale).expect("plan");
    generate(store, plan, seed, vigia_app::today(), &mut |_, _, _| {}).await.expect("synth")
}

/// Everything the plan asks for is stored and audited; the lawyer's "today" list has
/// deadlines (the open cases count back from today); partners see each other's shared
/// attempts; a second run on a filled database is refused.
#[tokio::test]
async fn synth_fills_a_new_database_through_the_store() {
    for app in TestApp::all().await {
        let made = fill(&app.store, 0.002, 7).await;
        assert_eq!(
            (made.attempts, made.cases, made.statements, made.visits),
            (2_000, 200, 200, 20),
            "{:?}",
            app._db.backend
        );
        assert!(made.events >= 2 * made.cases && made.claims > 0, "{made:?}");
        let report = app.store.verify_audit().await.expect("verify");
        assert!(report.ok(), "{:?}: {report:?}", app._db.backend);

        let (lawyer, _) = app.store.user_by_email("abogada@defensoria.example").await.expect("u").expect("lawyer");
        let token = secrets::new_token("vga_").expect("token");
        app.store
            .create_api_token(&Actor::user(&lawyer), lawyer.id, "t", &secrets::token_hash(&token))
            .await
            .expect("token");
        let today = app.get_json(&token, "/api/v1/today?scope=org&days=30").await;
        let mut synthetic = 0;
        for item in ["overdue", "due_soon"].iter().filter_map(|k| today[k].as_array()).flatten() {
            let id = item["case_id"].as_i64().expect("case id");
            let case = app.store.case(lawyer.org_id, id).await.expect("case").expect("listed case exists");
            synthetic += usize::from(case.fields.reference.starts_with("SYN-"));
        }
        assert!(synthetic > 0, "{today}");

        // The viewer's own attempts and its partners' shared ones, newest first.
        let viewer = lawyer.org_id;
        let all = AttemptFilter { limit: 5_000, ..Default::default() };
        let seen = app.store.list_attempts(viewer, &all).await.expect("list");
        let owners: BTreeSet<i64> = seen.iter().map(|a| a.org_id).collect();
        assert!(owners.len() >= 2, "{owners:?}");
        assert!(seen.iter().all(|a| a.org_id == viewer || a.draft.visibility.as_str() == "coalition"));
        let keys: Vec<_> = seen.iter().map(|a| (a.draft.attempted_at, a.id)).collect();
        assert!(keys.windows(2).all(|w| w[0] > w[1]), "newest first");

        let again = generate(&app.store, Plan::at(0.001).expect("p"), 7, vigia_app::today(), &mut |_, _, _| {}).await;
        assert!(again.is_err_and(|e| e.to_string().contains("not empty")));
    }
}

/// The same seed on the same day gives the same records; another seed does not.
#[tokio::test]
async fn synth_is_the_same_for_the_same_seed() {
    let mut lists = Vec::new();
    for seed in [11, 11, 12] {
        let app = TestApp::new(TestDb::sqlite()).await;
        fill(&app.store, 0.001, seed).await;
        let org = app.store.org_by_slug("defensoria-sur").await.expect("org").expect("org").id;
        let all = AttemptFilter { limit: 5_000, ..Default::default() };
        let attempts: Vec<_> = app
            .store
            .list_attempts(org, &all)
            .await
            .expect("list")
            .into_iter()
            .map(|a| (a.org_id, a.draft.facility_id, a.draft.attempted_at, a.draft.outcome, a.draft.visibility))
            .collect();
        lists.push(attempts);
    }
    assert!(lists[0].len() > 500);
    assert_eq!(lists[0], lists[1]);
    assert_ne!(lists[0], lists[2]);
}
