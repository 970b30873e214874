//! The authorization matrix (docs/authorization-matrix.csv): every route the router
//! serves must have a row for every role, and every cell is exercised against a seeded
//! database with three organizations.

use std::collections::{BTreeSet, HashMap};

use serde_json::json;
use vigia_domain::account::Role;

use crate::helpers::{csrf_of, TestApp, PASSWORD};

const MATRIX: &str = include_str!("../../../../docs/authorization-matrix.csv");

struct Row {
    method: String,
    path: String,
    role: Role,
    own: u16,
    other: Option<u16>,
    anon: u16,
}

fn rows() -> Vec<Row> {
    MATRIX
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("method,") && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 6, "{l}");
            Row {
                method: f[0].into(),
                path: f[1].into(),
                role: Role::parse(f[2]).unwrap_or_else(|| panic!("role in {l}")),
                own: f[3].parse().expect("own"),
                other: (f[4] != "-").then(|| f[4].parse().expect("other")),
                anon: f[5].parse().expect("anon"),
            }
        })
        .collect()
}

#[test]
fn every_served_route_has_a_row_for_every_role_and_nothing_else() {
    let served: BTreeSet<(String, String)> =
        vigia_web::route_list().into_iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    let rows = rows();
    let listed: BTreeSet<(String, String)> = rows.iter().map(|r| (r.method.clone(), r.path.clone())).collect();
    let missing: Vec<_> = served.difference(&listed).collect();
    assert!(missing.is_empty(), "routes missing from the authorization matrix: {missing:?}");
    let stale: Vec<_> = listed.difference(&served).collect();
    assert!(stale.is_empty(), "matrix rows for routes that are not served: {stale:?}");
    for (m, p) in &served {
        let roles: BTreeSet<_> = rows.iter().filter(|r| &r.method == m && &r.path == p).map(|r| r.role).collect();
        assert_eq!(roles.len(), Role::ALL.len(), "{m} {p} needs one row per role");
    }
}

/// Who makes a request: a role of organization A, or nobody.
#[derive(Clone, Copy)]
enum Who {
    Role(Role),
    Anonymous,
}

struct World {
    app: TestApp,
    sessions: HashMap<Role, reqwest::Client>,
    tokens: HashMap<Role, String>,
    anon: reqwest::Client,
    facility: i64,
    victim_own: i64,
    victim_other: i64,
    attempt_own: i64,
    attempt_other: i64,
    file_own: i64,
    file_other: i64,
    alert_own: i64,
    alert_other: i64,
    webhook_own: i64,
    webhook_other: i64,
    case_own: i64,
    case_other: i64,
    doc_own: i64,
    doc_other: i64,
    statement: i64,
    claim: i64,
    visit_own: i64,
    visit_other: i64,
    detection: String,
    stat_version: i64,
    counter: std::sync::atomic::AtomicU64,
}

/// A small bulletin table, different for each `n` (a file is imported once).
fn bulletin_csv(n: u64) -> Vec<u8> {
    format!(
        "Cuadro 3.2.1 Eventos de extranjeros devueltos, 2019\n\nPaís de nacionalidad,Enero,Total\nHonduras,{n},{n}\n"
    )
    .into_bytes()
}

impl World {
    async fn new() -> World {
        // The webhooks the walk registers point at a closed loopback port, which the
        // operator must allow (no delivery goes to an internal address otherwise).
        let config = vigia_web::Config { webhook_allow_hosts: vec!["127.0.0.1".into()], ..Default::default() };
        let app = TestApp::with_config(vigia_store::testing::TestDb::sqlite(), config).await;
        let mut tokens = HashMap::new();
        for role in Role::ALL {
            let (_, t) = app.api_user(&format!("{}@a.org", role.as_str()), "org-a", role).await;
            tokens.insert(role, t);
        }
        let victim_own = app.user("victim@a.org", "org-a", Role::Monitor).await.id;
        let victim_other = app.user("victim@b.org", "org-b", Role::Monitor).await.id;
        let c_user = app.user("lawyer@c.org", "org-c", Role::Lawyer).await;
        let facility = app.facility("Siglo XXI").await;
        for (org, who) in [("org-b", None), ("org-c", Some(&c_user))] {
            let org_id = app.org(org).await;
            let actor = who.map(vigia_store::Actor::user).unwrap_or_default();
            app.store
                .add_facility_note(&actor, org_id, facility, &format!("nota privada de {org}"))
                .await
                .expect("note");
        }
        let attempt = |private: bool| {
            serde_json::json!({"facility_id": facility, "attempted_at": "2020-01-20T10:30", "purpose": "monitoring",
                               "outcome": "denied", "visibility": if private { "private" } else { "coalition" }})
        };
        let a_org = app.org("org-a").await;
        let b_org = app.org("org-b").await;
        let mut ids = Vec::new();
        for (org, private) in [(a_org, false), (b_org, true)] {
            let raw = vigia_domain::input::RawInput::from_json(attempt(private)).expect("json");
            let d =
                vigia_domain::access::validate(&raw, "America/Mexico_City", vigia_store::now_micros()).expect("valid");
            ids.push(app.store.create_attempt(&vigia_store::Actor::SYSTEM, org, d).await.expect("attempt").id);
        }
        let (attempt_own, attempt_other) = (ids[0], ids[1]);
        let mut files = Vec::new();
        for (org, attempt) in [(a_org, attempt_own), (b_org, attempt_other)] {
            let f = app
                .store
                .add_attachment(
                    &vigia_store::Actor::SYSTEM,
                    org,
                    vigia_domain::RecordType::AccessAttempt,
                    attempt,
                    "f.pdf",
                    "application/pdf",
                    b"%PDF-1.4 x",
                )
                .await
                .expect("file");
            files.push(f.id);
        }
        let (file_own, file_other) = (files[0], files[1]);
        let mut alerts = Vec::new();
        for org in [a_org, b_org] {
            let alert =
                app.store.raise_alert(org, "episode", "episode:test", None, "{}").await.expect("alert").expect("new");
            alerts.push(alert.id);
        }
        let (alert_own, alert_other) = (alerts[0], alerts[1]);
        let mut hooks = Vec::new();
        for org in [a_org, b_org] {
            let hook =
                app.store.create_webhook(&vigia_store::Actor::SYSTEM, org, "http://127.0.0.1:9/matrix", "whsec_m");
            hooks.push(hook.await.expect("webhook").id);
        }
        let (webhook_own, webhook_other) = (hooks[0], hooks[1]);
        let mut cases = Vec::new();
        for org in [a_org, b_org] {
            let raw = vigia_domain::input::RawInput::from_json(
                json!({"reference": "M-1", "full_name": format!("Persona privada {org}")}),
            )
            .expect("json");
            let d = vigia_domain::case::validate_case(&raw, jiff::civil::date(2024, 1, 1)).expect("valid");
            cases.push(app.store.create_case(&vigia_store::Actor::SYSTEM, org, d).await.expect("case").id);
        }
        let (case_own, case_other) = (cases[0], cases[1]);
        let mut docs = Vec::new();
        for (org, case) in [(a_org, case_own), (b_org, case_other)] {
            let d = app
                .store
                .add_case_document(
                    &vigia_store::Actor::SYSTEM,
                    org,
                    case,
                    "acta.pdf",
                    "application/pdf",
                    b"%PDF-1.4 acta",
                )
                .await
                .expect("document");
            docs.push(d.id);
        }
        let (doc_own, doc_other) = (docs[0], docs[1]);
        // Two authorities contradicting each other: a detection to review.
        let mut claims = Vec::new();
        let mut statements = Vec::new();
        for (authority, position) in [("inm", "suspended"), ("segob", "denies_suspension")] {
            let raw = vigia_domain::input::RawInput::from_json(
                json!({"authority": authority, "published_at": "2020-01-20T09:00",
                "channel": "press_release", "text": format!("Declaración de {authority}")}),
            )
            .expect("json");
            let d = vigia_domain::statement::validate_statement(&raw, "America/Mexico_City", vigia_store::now_micros())
                .expect("valid");
            let s = app.store.create_statement(&vigia_store::Actor::SYSTEM, a_org, d).await.expect("statement");
            let raw = vigia_domain::input::RawInput::from_json(
                json!({"topic": "ngo_access", "position": position, "from": "2020-01-20"}),
            )
            .expect("json");
            let c = vigia_domain::statement::validate_claim(&raw).expect("claim");
            claims.push(app.store.add_claim(&vigia_store::Actor::SYSTEM, s.id, c).await.expect("claim").id);
            statements.push(s.id);
        }
        let (statement, claim) = (statements[0], claims[0]);
        let mut visits = Vec::new();
        for (org, key) in [(a_org, "matrix-visit-a"), (b_org, "matrix-visit-b")] {
            let d = vigia_domain::visit::validate_visit(
                &json!({"facility_id": facility, "on": "2020-03-10", "interview_notes": "Relato privado"}),
                jiff::civil::date(2026, 1, 1),
                None,
            )
            .expect("visit");
            visits.push(app.store.record_visit(&vigia_store::Actor::SYSTEM, org, key, d).await.expect("visit").0.id);
        }
        let (visit_own, visit_other) = (visits[0], visits[1]);
        let detection = format!("conflict:{}:{}", claims[0], claims[1]);
        let mut sessions = HashMap::new();
        for role in Role::ALL {
            sessions.insert(role, app.login(&format!("{}@a.org", role.as_str())).await);
        }
        let provenance = vigia_domain::statistics::Provenance {
            publisher: "UPM".into(),
            source_url: None,
            retrieved_on: jiff::civil::date(2020, 7, 6),
            published_on: None,
            illustrative: false,
        };
        let stat_version = vigia_app::statistics::import(
            &app.store,
            &vigia_store::Actor::SYSTEM,
            a_org,
            "t.csv",
            bulletin_csv(1_000_000),
            provenance,
        )
        .await
        .expect("import")
        .expect("read")[0]
            .id;
        let anon = app.browser();
        anon.get(app.url("/login")).send().await.expect("csrf cookie");
        World {
            app,
            sessions,
            tokens,
            anon,
            facility,
            victim_own,
            victim_other,
            attempt_own,
            attempt_other,
            file_own,
            file_other,
            alert_own,
            alert_other,
            webhook_own,
            webhook_other,
            case_own,
            case_other,
            doc_own,
            doc_other,
            statement,
            claim,
            visit_own,
            visit_other,
            detection,
            stat_version,
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn unique(&self) -> u64 {
        self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn client(&self, who: Who) -> &reqwest::Client {
        match who {
            Who::Role(r) => &self.sessions[&r],
            Who::Anonymous => &self.anon,
        }
    }

    async fn csrf(&self, who: Who) -> String {
        let page = self.client(who).get(self.app.url("/clock")).send().await.expect("page").text().await.expect("t");
        csrf_of(&page)
    }

    /// A fresh case of `org` whose person consented to sharing with `partner`, and, when
    /// `shared`, the share made: (case id, share id).
    async fn consented_case(&self, org: &str, partner: &str, shared: bool) -> (i64, Option<i64>) {
        let (org, partner) = (self.app.org(org).await, self.app.org(partner).await);
        let n = self.unique();
        let raw = vigia_domain::input::RawInput::from_json(
            json!({"reference": format!("S-{n}"), "full_name": format!("Persona compartida {n}")}),
        )
        .expect("json");
        let d = vigia_domain::case::validate_case(&raw, jiff::civil::date(2024, 1, 1)).expect("valid");
        let store = &self.app.store;
        let case = store.create_case(&vigia_store::Actor::SYSTEM, org, d).await.expect("case").id;
        let consent = vigia_domain::consent::ConsentDraft {
            purpose: vigia_domain::consent::Purpose::SharePartner,
            partner_org_id: Some(partner),
            decision: vigia_domain::consent::Decision::Given,
            on: jiff::civil::date(2024, 1, 2),
            how: vigia_domain::consent::How::Written,
            evidence_document_id: None,
        };
        store.record_consent(&vigia_store::Actor::SYSTEM, org, case, consent).await.expect("consent");
        let share = if shared {
            Some(store.share_case(&vigia_store::Actor::SYSTEM, org, case, partner).await.expect("share").id)
        } else {
            None
        };
        (case, share)
    }

    /// Sends the row's request with a valid body; returns the status.
    async fn send(&self, method: &str, path: &str, who: Who, other: bool) -> u16 {
        let n = self.unique();
        let id = if path.starts_with("/admin/users/") {
            if other {
                self.victim_other
            } else {
                self.victim_own
            }
        } else if path.starts_with("/api/v1/tokens/") {
            // A fresh token each time: revoking the one the walk signs in with would
            // end the walk. "Other" is a token of another organization's person.
            let email = match (who, other) {
                (_, true) => "victim@b.org".to_string(),
                (Who::Role(r), false) => format!("{}@a.org", r.as_str()),
                (Who::Anonymous, false) => "victim@a.org".to_string(),
            };
            let (user, _) = self.app.store.user_by_email(&email).await.expect("lookup").expect("user");
            let hash = vigia_store::secrets::token_hash(&format!("matrix-{n}-{email}"));
            let actor = vigia_store::Actor::user(&user);
            self.app.store.create_api_token(&actor, user.id, "matrix", &hash).await.expect("token").id
        } else if path.starts_with("/api/v1/publications/") || path.starts_with("/publications/") {
            // A fresh proposal each time, by someone else of the organization (four
            // eyes): deciding one leaves the others to decide.
            let email = if other { "victim@b.org" } else { "victim@a.org" };
            let (user, _) = self.app.store.user_by_email(email).await.expect("lookup").expect("user");
            let draft = vigia_domain::publication::PublicationDraft {
                year: 2021,
                sections: vec![vigia_domain::publication::Section::Access],
                detail: vigia_domain::publication::Detail::State,
            };
            vigia_app::publications::propose(
                &self.app.store,
                &vigia_app::analysis::Mirror::default(),
                &vigia_app::findings::FoundCache::default(),
                &vigia_store::Actor::user(&user),
                user.org_id,
                draft,
            )
            .await
            .expect("proposal")
            .id
        } else if path.starts_with("/recommendations/{id}") || path.starts_with("/api/v1/recommendations/{id}") {
            // A fresh recommendation each time: a link is made once.
            let draft = vigia_domain::recommendation::RecommendationDraft {
                annotation_id: format!("matrix-{n}"),
                body: "CMW".into(),
                symbol: "CMW/C/MEX/CO/3".into(),
                paragraph: "38(a)".into(),
                published_on: None,
                text: "38. (a) Test".into(),
                language: "en".into(),
                summary: false,
                kind: String::new(),
                themes: vec![],
                affected_persons: vec![],
                sdgs: vec![],
                countries: vec![],
                upr_states: vec![],
                upr_position: None,
                upr_session: None,
            };
            let store = &self.app.store;
            store
                .import_recommendations(&vigia_store::Actor::SYSTEM, self.app.org("org-a").await, vec![draft])
                .await
                .expect("rec");
            store
                .recommendations()
                .await
                .expect("recs")
                .iter()
                .find(|r| r.draft.annotation_id == format!("matrix-{n}"))
                .expect("rec")
                .id
        } else if path.ends_with("/{id}/shares") {
            // A fresh case each time: a case is shared with a partner once.
            let (org, partner) = if other { ("org-b", "org-a") } else { ("org-a", "org-b") };
            self.consented_case(org, partner, false).await.0
        } else if path.starts_with("/case-shares/") || path.starts_with("/api/v1/case-shares/") {
            let (org, partner) = if other { ("org-b", "org-a") } else { ("org-a", "org-b") };
            self.consented_case(org, partner, true).await.1.expect("share")
        } else if path.starts_with("/shared-cases/") || path.starts_with("/api/v1/shared-cases/") {
            // Own: a case org-b shared with the viewer's organization; other: one org-a
            // shared with org-b.
            let (org, partner) = if other { ("org-a", "org-b") } else { ("org-b", "org-a") };
            self.consented_case(org, partner, true).await.1.expect("share")
        } else if path.starts_with("/requests/{id}") || path.starts_with("/api/v1/requests/{id}") {
            // A fresh request each time, of the organization the row asks about: an
            // answer is recorded once.
            let org = self.app.org(if other { "org-b" } else { "org-a" }).await;
            let draft = vigia_domain::transparency::RequestDraft {
                authority: "inm".into(),
                folio: format!("matrix-{n}"),
                filed_on: jiff::civil::date(2020, 1, 20),
                question: "Copia del oficio".into(),
                channel: vigia_domain::transparency::Channel::Pnt,
                filed_by: None,
                regime: None,
            };
            self.app
                .store
                .create_requests(&vigia_store::Actor::SYSTEM, org, vec![(draft, vec![])])
                .await
                .expect("request")[0]
                .id
        } else if path.starts_with("/statistics/versions/") || path.starts_with("/api/v1/statistics/versions/") {
            self.stat_version
        } else if path.starts_with("/admin/webhooks/") {
            if other {
                self.webhook_other
            } else {
                self.webhook_own
            }
        } else if path.starts_with("/alerts/") {
            if other {
                self.alert_other
            } else {
                self.alert_own
            }
        } else if path.starts_with("/api/v1/files/") || path.starts_with("/files/") {
            if other {
                self.file_other
            } else {
                self.file_own
            }
        } else if path.starts_with("/api/v1/visits/") || path.starts_with("/visits/") {
            if other {
                self.visit_other
            } else {
                self.visit_own
            }
        } else if path.starts_with("/api/v1/statements/") || path.starts_with("/statements/") {
            self.statement
        } else if path.starts_with("/api/v1/case-documents/") || path.starts_with("/case-documents/") {
            if other {
                self.doc_other
            } else {
                self.doc_own
            }
        } else if path.starts_with("/api/v1/cases/") || path.starts_with("/cases/") {
            if other {
                self.case_other
            } else {
                self.case_own
            }
        } else if path.starts_with("/api/v1/access-attempts/") || path.starts_with("/access/") {
            if other {
                self.attempt_other
            } else {
                self.attempt_own
            }
        } else {
            self.facility
        };
        let attempt_json = json!({"facility_id": self.facility, "attempted_at": format!("2020-01-{:02}T10:{:02}", 1 + n % 28, n % 60),
                                  "purpose": "monitoring", "outcome": "denied"});
        let url = self.app.url(&path.replace("{id}", &id.to_string()));
        // Voiding needs a live event of the case each time.
        let event_id = if path.ends_with("/void") {
            let org = self.app.org(if other { "org-b" } else { "org-a" }).await;
            let raw = vigia_domain::input::RawInput::from_json(json!({"kind": "interview", "on": "2024-01-02"}))
                .expect("json");
            let d = vigia_domain::case::validate_event(&raw, jiff::civil::date(2024, 6, 1)).expect("valid");
            self.app.store.add_case_event(&vigia_store::Actor::SYSTEM, org, id, d).await.expect("event").id
        } else {
            0
        };
        let case_json = json!({"reference": format!("M-{n}-{}", u8::from(other)), "full_name": "Nombre Sellado", "age_group": "adult_18_59"});
        let facility_form = |csrf: String, name: String| {
            vec![
                ("csrf", csrf),
                ("name", name),
                ("kind", "estacion_migratoria".to_string()),
                ("state_code", "07".to_string()),
            ]
        };
        let resp = if path.starts_with("/api/") {
            let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
            let mut req = match method {
                "GET" => c.get(&url),
                "POST" => c.post(&url),
                "PUT" => c.put(&url),
                m => panic!("method {m}"),
            };
            if let Who::Role(r) = who {
                req = req.bearer_auth(&self.tokens[&r]);
            }
            req = match (method, path) {
                ("POST", "/api/v1/publications") => req.json(&json!({"year": 2021, "sections": ["access"]})),
                ("POST", "/api/v1/publications/{id}/decision") => req.json(&json!({"decision": "reject"})),
                ("GET", "/api/v1/clock/add") => req.query(&[("from", "2019-02-18"), ("working_days", "15")]),
                ("GET", "/api/v1/clock/count") => req.query(&[("from", "2019-02-18"), ("to", "2019-03-11")]),
                ("POST", "/api/v1/facilities") | ("PUT", "/api/v1/facilities/{id}") => {
                    req.json(&json!({"name": format!("F{n}"), "kind": "estacion_migratoria", "state_code": "07"}))
                }
                ("POST", "/api/v1/facilities/import") => {
                    req.header("content-type", "text/csv").body(format!("name,kind,state_code\nImport {n},other,09\n"))
                }
                ("POST", "/api/v1/facilities/{id}/notes") => req.json(&json!({"body": format!("nota {n}")})),
                ("POST", "/api/v1/cases") | ("PUT", "/api/v1/cases/{id}") => req.json(&case_json),
                ("POST", "/api/v1/cases/{id}/documents") => {
                    req.query(&[("filename", "pasaporte.pdf")]).body(b"%PDF-1.4 pasaporte".to_vec())
                }
                ("POST", "/api/v1/statements") => req
                    .json(&json!({"authority": "segob", "published_at": "2020-01-21T10:00",
                    "channel": "interview", "text": format!("Texto {n}")})),
                ("PUT", "/api/v1/statements/{id}") => req
                    .json(&json!({"authority": "inm", "published_at": "2020-01-20T09:00",
                    "channel": "press_release", "text": format!("Declaración corregida {n}")})),
                ("POST", "/api/v1/visits/{id}/files") => {
                    req.query(&[("filename", "patio.jpg")]).body(b"\xFF\xD8\xFF\xE0 patio".to_vec())
                }
                ("POST", "/api/v1/visits") => req
                    .header("idempotency-key", format!("matrix-api-{n}"))
                    .json(&json!({"facility_id": self.facility, "on": "2020-03-11", "population": {"total": 10}})),
                ("POST", "/api/v1/statements/{id}/files") => {
                    req.query(&[("filename", "captura.png")]).body(b"\x89PNG\r\n\x1a\n captura".to_vec())
                }
                ("POST", "/api/v1/statements/import") => req.header("content-type", "text/csv").body(format!(
                    "authority,published_at,channel,text\nsre,2020-01-2{}T10:00,interview,Importada {n}\n",
                    n % 10
                )),
                ("POST", "/api/v1/statements/{id}/claims") => {
                    req.json(&json!({"topic": "deportations", "position": "affirms", "from": "2020-01-01"}))
                }
                ("POST", "/api/v1/contradictions/review") => {
                    req.json(&json!({"key": self.detection, "status": "confirmed", "reason": "Dos fuentes"}))
                }
                ("POST", "/api/v1/cases/{id}/events") => req.json(&json!({"kind": "detained", "on": "2024-01-03"})),
                ("POST", "/api/v1/cases/{id}/void") => {
                    req.json(&json!({"event_id": event_id, "reason": "error de captura"}))
                }
                ("POST", "/api/v1/access-attempts") | ("PUT", "/api/v1/access-attempts/{id}") => {
                    req.json(&attempt_json)
                }
                ("POST", "/api/v1/access-attempts/{id}/files") => {
                    req.query(&[("filename", "foto.jpg")]).body(b"\xFF\xD8\xFF\xE0 jpeg".to_vec())
                }
                ("POST", "/api/v1/cases/{id}/consents") => req.json(&json!({"purpose": "litigation",
                    "decision": "given", "on": "2024-02-01", "how": "oral"})),
                ("POST", "/api/v1/cases/{id}/shares") => {
                    let partner = self.app.org(if other { "org-a" } else { "org-b" }).await;
                    req.json(&json!({"partner_org_id": partner}))
                }
                ("PUT", "/api/v1/retention/rule") => req.json(&json!({"months_after_close": 24})),
                ("POST", "/api/v1/cases/{id}/erasure") => req.json(&json!({"reason": "person_request"})),
                ("POST", "/api/v1/requests") => req.json(&json!({"authority": "comar", "folio": format!("api-{n}"),
                    "filed_on": "2020-02-03", "question": "Solicitudes de asilo"})),
                ("POST", "/api/v1/requests/imports") => req
                    .header("content-type", "text/csv")
                    .body(format!("authority,folio,filed_on,question\ninm,csv-{n},2020-01-21,Oficio\n")),
                ("POST", "/api/v1/requests/{id}/events") => {
                    req.json(&json!({"kind": "answer", "on": "2020-02-10", "answer_type": "inexistent"}))
                }
                ("POST", "/api/v1/requests/{id}/links") => {
                    req.json(&json!({"kind": "suspension", "reference": "2020-01-20/2020-01-31"}))
                }
                ("POST", "/api/v1/requests/{id}/files") => {
                    req.query(&[("filename", "respuesta.pdf")]).body(b"%PDF-1.4 respuesta".to_vec())
                }
                ("POST", "/api/v1/recommendations/imports") => req.body(crate::statistics::fixture("uhri-mexico.xlsx")),
                ("POST", "/api/v1/recommendations/{id}/links") => {
                    req.json(&json!({"kind": "statement", "reference": self.statement.to_string()}))
                }
                ("POST", "/api/v1/recommendations/{id}/assessments") => {
                    req.json(&json!({"status": "partly", "assessed_on": "2020-01-01", "reasoning": "Prueba"}))
                }
                ("POST", "/api/v1/statistics/imports") => req
                    .query(&[("file_name", "t.csv"), ("publisher", "UPM"), ("retrieved_on", "2020-07-06")])
                    .body(bulletin_csv(n)),
                ("POST", "/api/v1/access-attempts/import") => req.header("content-type", "text/csv").body(format!(
                    "facility_id,attempted_at,purpose,outcome\n{},2019-06-{:02}T10:{:02},monitoring,granted\n",
                    self.facility,
                    1 + n % 28,
                    n % 60
                )),
                _ => req,
            };
            req.send().await.expect("send")
        } else {
            let c = self.client(who);
            if method == "GET" {
                c.get(&url).send().await.expect("send")
            } else {
                let csrf = self.csrf(who).await;
                let form: Vec<(&str, String)> = match path {
                    "/login" => {
                        let email = match who {
                            Who::Role(r) => format!("{}@a.org", r.as_str()),
                            Who::Anonymous => "nobody@a.org".to_string(),
                        };
                        vec![("csrf", csrf), ("email", email), ("password", PASSWORD.to_string())]
                    }
                    "/lang" => vec![("csrf", csrf), ("locale", "es".into()), ("next", "/".into())],
                    "/facilities" => facility_form(csrf, format!("F{n}")),
                    "/publications" => vec![("csrf", csrf), ("year", "2021".into()), ("sections", "access".into())],
                    "/publications/{id}/decision" => vec![("csrf", csrf), ("decision", "reject".into())],
                    "/facilities/{id}/edit" => facility_form(csrf, "Siglo XXI".into()),
                    "/facilities/{id}/notes" => vec![("csrf", csrf), ("body", format!("nota {n}"))],
                    // Loopback only: the worker really sends to registered webhooks.
                    "/admin/webhooks" => vec![("csrf", csrf), ("url", format!("http://127.0.0.1:9/hook-{n}"))],
                    "/admin/webhooks/{id}/state" => vec![("csrf", csrf), ("state", "disabled".into())],
                    "/admin/calendars" => vec![
                        ("csrf", csrf),
                        ("calendar", "inm".into()),
                        ("start_date", format!("2019-12-{:02}", 1 + n % 28)),
                        ("label_es", "Periodo vacacional".into()),
                        ("source", "Acuerdo publicado en el DOF (prueba)".into()),
                    ],
                    "/access" | "/access/{id}/edit" => vec![
                        ("csrf", csrf),
                        ("facility_id", self.facility.to_string()),
                        ("attempted_at", format!("2019-07-{:02}T09:{:02}", 1 + n % 28, n % 60)),
                        ("purpose", "monitoring".into()),
                        ("outcome", "denied".into()),
                        ("restrictions", "no_phones".into()),
                        ("restrictions", "searched".into()),
                        ("visibility", "coalition".into()),
                    ],
                    "/cases" | "/cases/{id}/edit" => vec![
                        ("csrf", csrf),
                        ("reference", format!("P-{n}-{}", u8::from(other))),
                        ("full_name", "Nombre Sellado".into()),
                        ("vulnerabilities", "lgbti".into()),
                        ("vulnerabilities", "disability".into()),
                    ],
                    "/visits" => vec![
                        ("csrf", csrf),
                        ("draft_key", format!("matrix-form-{n}")),
                        ("facility_id", self.facility.to_string()),
                        ("on", "2020-03-12".into()),
                        ("population.total", "12".into()),
                    ],
                    "/statements" => vec![
                        ("csrf", csrf),
                        ("authority", "inm".into()),
                        ("published_at", "2020-01-22T09:00".into()),
                        ("channel", "official_letter".into()),
                        ("text", format!("Oficio {n}")),
                    ],
                    "/statements/{id}/claims" => vec![
                        ("csrf", csrf),
                        ("topic", "ngo_access".into()),
                        ("position", "restricted".into()),
                        ("scope", "all".into()),
                        ("from", "2020-01-22".into()),
                    ],
                    "/statements/{id}/confirm" => {
                        vec![("csrf", csrf), ("claim_id", self.claim.to_string()), ("confirmed", "on".into())]
                    }
                    "/contradictions/review" => vec![
                        ("csrf", csrf),
                        ("key", self.detection.clone()),
                        ("status", "dismissed".into()),
                        ("reason", "Prueba".into()),
                    ],
                    "/cases/{id}/events" => {
                        vec![("csrf", csrf), ("kind", "released".into()), ("on", "2024-01-05".into())]
                    }
                    "/cases/{id}/void" => {
                        vec![("csrf", csrf), ("event_id", event_id.to_string()), ("reason", "error".into())]
                    }
                    "/admin/users" => vec![
                        ("csrf", csrf),
                        ("email", format!("new{n}@a.org")),
                        ("display_name", "Nueva".into()),
                        ("role", "monitor".into()),
                        ("password", PASSWORD.into()),
                    ],
                    "/recommendations/import" => {
                        let form = reqwest::multipart::Form::new().text("csrf", csrf).text("language", "en").part(
                            "file",
                            reqwest::multipart::Part::bytes(crate::statistics::fixture("uhri-mexico.xlsx"))
                                .file_name("u.xlsx"),
                        );
                        return c.post(&url).multipart(form).send().await.expect("send").status().as_u16();
                    }
                    "/cases/{id}/consents" => vec![
                        ("csrf", csrf),
                        ("purpose", "contact_after_release".into()),
                        ("decision", "withdrawn".into()),
                        ("on", "2024-02-01".into()),
                        ("how", "written".into()),
                    ],
                    "/cases/{id}/shares" => {
                        let partner = self.app.org(if other { "org-a" } else { "org-b" }).await;
                        vec![("csrf", csrf), ("partner_org_id", partner.to_string())]
                    }
                    "/retention/rule" => vec![("csrf", csrf), ("months_after_close", "24".into())],
                    "/cases/{id}/erase" => vec![("csrf", csrf), ("reason", "person_request".into())],
                    "/requests" => vec![
                        ("csrf", csrf),
                        ("authority", "inm".into()),
                        ("folio", format!("form-{n}")),
                        ("filed_on", "2020-01-29".into()),
                        ("question", "Copia del oficio".into()),
                    ],
                    "/requests/{id}/events" => vec![
                        ("csrf", csrf),
                        ("kind", "answer".into()),
                        ("on", "2020-02-10".into()),
                        ("answer_type", "partial".into()),
                    ],
                    "/requests/{id}/links" => {
                        vec![("csrf", csrf), ("kind", "statement".into()), ("reference", self.statement.to_string())]
                    }
                    "/requests/import" => {
                        let csv = format!("authority,folio,filed_on,question\ncomar,page-{n},2020-02-03,Asilo\n");
                        let form = reqwest::multipart::Form::new()
                            .text("csrf", csrf)
                            .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("r.csv"));
                        return c.post(&url).multipart(form).send().await.expect("send").status().as_u16();
                    }
                    "/requests/{id}/files" => {
                        let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
                            "file",
                            reqwest::multipart::Part::bytes(b"%PDF-1.4 respuesta".to_vec()).file_name("respuesta.pdf"),
                        );
                        return c.post(&url).multipart(form).send().await.expect("send").status().as_u16();
                    }
                    "/recommendations/{id}/links" => {
                        vec![("csrf", csrf), ("kind", "statement".into()), ("reference", self.statement.to_string())]
                    }
                    "/recommendations/{id}/assessments" => vec![
                        ("csrf", csrf),
                        ("status", "partly".into()),
                        ("assessed_on", "2020-01-01".into()),
                        ("reasoning", "Prueba".into()),
                    ],
                    "/statistics/import" => {
                        let form = reqwest::multipart::Form::new()
                            .text("csrf", csrf)
                            .text("publisher", "UPM")
                            .text("retrieved_on", "2020-07-06")
                            .part("file", reqwest::multipart::Part::bytes(bulletin_csv(n)).file_name("t.csv"));
                        return c.post(&url).multipart(form).send().await.expect("send").status().as_u16();
                    }
                    "/access/import" => {
                        let csv = format!(
                            "facility_id,attempted_at,purpose,outcome\n{},2018-03-{:02}T10:{:02},monitoring,granted\n",
                            self.facility,
                            1 + n % 28,
                            n % 60
                        );
                        let form = reqwest::multipart::Form::new()
                            .text("csrf", csrf)
                            .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("a.csv"));
                        return c.post(&url).multipart(form).send().await.expect("send").status().as_u16();
                    }
                    "/visits/{id}/files" => {
                        let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
                            "file",
                            reqwest::multipart::Part::bytes(b"\xFF\xD8\xFF\xE0 patio".to_vec()).file_name("patio.jpg"),
                        );
                        return c.post(&url).multipart(form).send().await.expect("send").status().as_u16();
                    }
                    "/statements/{id}/files" => {
                        let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
                            "file",
                            reqwest::multipart::Part::bytes(b"%PDF-1.4 oficio DGCVM".to_vec()).file_name("oficio.pdf"),
                        );
                        return c.post(&url).multipart(form).send().await.expect("send").status().as_u16();
                    }
                    "/cases/{id}/documents" => {
                        let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
                            "file",
                            reqwest::multipart::Part::bytes(b"%PDF-1.4 acta".to_vec()).file_name("acta.pdf"),
                        );
                        return c.post(&url).multipart(form).send().await.expect("send").status().as_u16();
                    }
                    "/access/{id}/files" => {
                        let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
                            "file",
                            reqwest::multipart::Part::bytes(b"%PDF-1.4 oficio".to_vec()).file_name("oficio.pdf"),
                        );
                        return c.post(&url).multipart(form).send().await.expect("send").status().as_u16();
                    }
                    "/facilities/import" => {
                        let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
                            "file",
                            reqwest::multipart::Part::bytes(
                                format!("name,kind,state_code\nUp {n},other,09\n").into_bytes(),
                            )
                            .file_name("f.csv"),
                        );
                        return c.post(&url).multipart(form).send().await.expect("send").status().as_u16();
                    }
                    _ => vec![("csrf", csrf)],
                };
                c.post(&url).form(&form).send().await.expect("send")
            }
        };
        resp.status().as_u16()
    }
}

#[tokio::test]
async fn every_cell_of_the_matrix_holds() {
    let world = World::new().await;
    let (logout, rows): (Vec<Row>, Vec<Row>) = rows().into_iter().partition(|r| r.path == "/logout");
    let mut failures = Vec::new();
    for r in &rows {
        check(&world, r, &mut failures).await;
    }
    // Nothing of organizations B and C reached A's pages along the way. And a note of
    // A's own, written now (the page's kept parts start again), is seen only by A's
    // roles that may read sealed data: those that may not look first, so a copy kept
    // for them and served to the others would show.
    let a_actor = vigia_store::Actor::user(&world.app.user("notas@a.org", "org-a", Role::Coordinator).await);
    let a_org = world.app.org("org-a").await;
    world.app.store.add_facility_note(&a_actor, a_org, world.facility, "nota propia de org-a").await.expect("note");
    let may = |role: &Role| vigia_domain::account::allows(*role, vigia_domain::account::Permission::ReadSealed);
    let mut sessions: Vec<_> = world.sessions.iter().collect();
    sessions.sort_by_key(|(role, _)| (may(role), role.as_str()));
    for (role, client) in sessions {
        let page = client.get(world.app.url(&format!("/facilities/{}", world.facility))).send().await.expect("page");
        assert_eq!(page.status(), 200, "{role:?} still signed in");
        let text = page.text().await.expect("text");
        assert!(!text.contains("nota privada de org-b") && !text.contains("nota privada de org-c"), "{role:?}");
        assert_eq!(text.contains("nota propia de org-a"), may(role), "{role:?}");
    }
    // Signing out ends the session the other rows use: last.
    for r in &logout {
        check(&world, r, &mut failures).await;
    }
    assert!(failures.is_empty(), "{} cells do not hold:\n{}", failures.len(), failures.join("\n"));
}

async fn check(world: &World, r: &Row, failures: &mut Vec<String>) {
    let who = Who::Role(r.role);
    let role = r.role.as_str();
    let got = world.send(&r.method, &r.path, who, false).await;
    if got != r.own {
        failures.push(format!("{} {} as {role} (own): expected {}, got {got}", r.method, r.path, r.own));
    }
    if let Some(other) = r.other {
        let got = world.send(&r.method, &r.path, who, true).await;
        if got != other {
            failures.push(format!("{} {} as {role} (other org): expected {other}, got {got}", r.method, r.path));
        }
    }
    if r.role == Role::Admin {
        let got = world.send(&r.method, &r.path, Who::Anonymous, false).await;
        if got != r.anon {
            failures.push(format!("{} {} anonymous: expected {}, got {got}", r.method, r.path, r.anon));
        }
    }
}
