//! The store's behaviour, run against every configured backend: SQLite always,
//! PostgreSQL when VIGIA_TEST_DATABASE_URL is set.

use sqlx::Connection;
use vigia_domain::account::{Locale, Role};
use vigia_domain::facility::{FacilityDraft, FacilityKind};
use vigia_store::testing::TestDb;
use vigia_store::{Actor, Backend, DynStore, MasterKey, NewUser};

mod access;
mod accounts;
mod audit;
mod cases;
mod evidence;
mod sealing;

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

fn super_attempt(f: i64, o: vigia_domain::access::Outcome) -> vigia_domain::access::AttemptDraft {
    attempt(f, 0, o, false)
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
