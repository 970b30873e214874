use std::net::SocketAddr;

use reqwest::redirect::Policy;
use vigia_domain::account::{Locale, Role, User};
use vigia_domain::facility::{FacilityDraft, FacilityKind};
use vigia_store::testing::TestDb;
use vigia_store::{secrets, Actor, DynStore, MasterKey, NewUser};

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

    /// Corrects attempt `id` from `version` with `body`; the status answered.
    pub async fn correct_attempt(&self, token: &str, id: i64, version: i64, body: &serde_json::Value) -> u16 {
        let r = reqwest::Client::new()
            .put(self.url(&format!("/api/v1/access-attempts/{id}")))
            .bearer_auth(token)
            .header("if-match", format!("\"{version}\""))
            .json(body)
            .send()
            .await
            .expect("put");
        r.status().as_u16()
    }

    /// `GET path` with a Bearer token; the JSON it answers (200 or not).
    /// GETs `path` without signing in (public routes) and reads the JSON answer.
    pub async fn public_json(&self, path: &str) -> serde_json::Value {
        let r = reqwest::Client::new().get(self.url(path)).send().await.expect("get");
        r.json().await.expect("json")
    }

    pub async fn get_json(&self, token: &str, path: &str) -> serde_json::Value {
        let r = reqwest::Client::new().get(self.url(path)).bearer_auth(token).send().await.expect("get");
        r.json().await.expect("json")
    }

    /// Imports an attempts CSV through the API with `token`; it must be accepted.
    pub async fn import_attempts(&self, token: &str, csv: String) {
        let r = reqwest::Client::new()
            .post(self.url("/api/v1/access-attempts/import"))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .expect("import");
        assert_eq!(r.status(), 201, "import refused: {}", r.text().await.unwrap_or_default());
    }

    /// A facility in Chiapas.
    pub async fn facility(&self, name: &str) -> i64 {
        self.facility_in(name, "07").await
    }

    /// A facility in the state with that INEGI code.
    pub async fn facility_in(&self, name: &str, state_code: &str) -> i64 {
        let d = FacilityDraft {
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
        };
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

    /// A browser-like client: keeps cookies, does not follow redirects, and says its
    /// requests come from the site itself (`Sec-Fetch-Site: same-origin`, as a browser
    /// does for a link on a Vigía page; a test sets another value to play another site).
    pub fn browser(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("sec-fetch-site", reqwest::header::HeaderValue::from_static("same-origin"));
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .default_headers(headers)
            .build()
            .expect("client")
    }

    /// Signs in through the login form; returns the client holding the session.
    pub async fn login(&self, email: &str) -> reqwest::Client {
        let c = self.browser();
        let page = c.get(self.url("/login")).send().await.expect("get login").text().await.expect("body");
        let csrf = csrf_of(&page);
        let resp = c
            .post(self.url("/login"))
            .form(&[("csrf", csrf.as_str()), ("email", email), ("password", PASSWORD), ("next", "/")])
            .send()
            .await
            .expect("post login");
        assert_eq!(resp.status(), 303, "login of {email} should redirect");
        c
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
