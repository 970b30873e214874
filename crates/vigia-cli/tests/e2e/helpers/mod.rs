//! The test server and what the end-to-end tests do with it, one file per feature: the
//! JSON API in general (`api`), access attempts (`access`), cases (`cases`), statements
//! (`statements`), and signing in and reading forms (`pages`). Each adds methods to
//! [`TestApp`].

use std::net::SocketAddr;

use vigia_domain::account::{Locale, Role, User};
use vigia_domain::facility::{FacilityDraft, FacilityKind};
use vigia_store::testing::TestDb;
use vigia_store::{secrets, Actor, DynStore, MasterKey, NewUser};

mod access;
mod api;
mod cases;
mod pages;
mod statements;

pub const PASSWORD: &str = "una clave larga de prueba";

/// A running server with its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub store: DynStore,
    /// Held so the database lives as long as the app.
    pub _db: TestDb,
}

impl TestApp {
    pub async fn new(db: TestDb) -> TestApp {
        Self::with_config(db, vigia_web::Config::default()).await
    }

    pub async fn with_config(db: TestDb, config: vigia_web::Config) -> TestApp {
        let key = MasterKey::generate().expect("key");
        let store = vigia_store::open(&db.url, &[key]).await.expect("store");
        let addr = vigia_web::spawn(store.clone(), config).await.expect("spawn");
        TestApp { addr, store, _db: db }
    }

    /// One app per configured backend.
    pub async fn all() -> Vec<TestApp> {
        let mut apps = Vec::new();
        for db in TestDb::all().await {
            apps.push(TestApp::new(db).await);
        }
        apps
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn org(&self, slug: &str) -> i64 {
        match self.store.org_by_slug(slug).await.expect("org lookup") {
            Some(o) => o.id,
            None => self.store.create_org(&Actor::SYSTEM, slug, &format!("Org {slug}")).await.expect("org").id,
        }
    }

    pub async fn user(&self, email: &str, org_slug: &str, role: Role) -> User {
        let org_id = self.org(org_slug).await;
        let hash = secrets::hash_password(PASSWORD).expect("hash");
        self.store
            .create_user(
                &Actor::SYSTEM,
                NewUser {
                    email: email.into(),
                    display_name: email.split('@').next().unwrap_or(email).into(),
                    org_id,
                    role,
                    locale: Locale::Es,
                    password_hash: hash,
                },
            )
            .await
            .expect("user")
    }

    /// A user with a personal API token.
    pub async fn api_user(&self, email: &str, org_slug: &str, role: Role) -> (User, String) {
        let u = self.user(email, org_slug, role).await;
        let token = secrets::new_token("vga_").expect("token");
        self.store.create_api_token(&Actor::user(&u), u.id, "test", &secrets::token_hash(&token)).await.expect("token");
        (u, token)
    }

    /// A facility in Chiapas.
    pub async fn facility(&self, name: &str) -> i64 {
        self.facility_in(name, "07").await
    }

    /// A facility in the state with that INEGI code.
    pub async fn facility_in(&self, name: &str, state_code: &str) -> i64 {
        let d = facility_draft(name, state_code);
        self.store.create_facility(&Actor::SYSTEM, d).await.expect("facility").id
    }

    /// A coalition of the named organizations.
    pub async fn coalition(&self, slug: &str, orgs: &[&str]) {
        let c = self.store.create_coalition(&Actor::SYSTEM, slug, slug).await.expect("coalition");
        for o in orgs {
            let id = self.org(o).await;
            self.store.add_coalition_member(&Actor::SYSTEM, c.id, id).await.expect("member");
        }
    }
}

/// An INM migration station in the state with that INEGI code, nothing else filled in.
pub fn facility_draft(name: &str, state_code: &str) -> FacilityDraft {
    FacilityDraft {
        name: name.into(),
        kind: FacilityKind::EstacionMigratoria,
        authority: "INM".into(),
        state_code: state_code.into(),
        municipality: None,
        latitude: None,
        longitude: None,
        capacity: None,
        opened_on: None,
        closed_on: None,
        sources: None,
    }
}

/// The CSRF token a page's forms carry.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("page has a CSRF field");
    html[start..].split('"').next().expect("token").to_string()
}

pub async fn get_text(c: &reqwest::Client, url: String) -> (u16, String) {
    let r = c.get(url).send().await.expect("get");
    (r.status().as_u16(), r.text().await.expect("text"))
}
