//! E-mail alerts against a real SMTP server (aiosmtpd, issue #16 part 5): an overdue
//! detention arrives once, in the person's language, with a pseudonym and a link and no
//! personal data; a daily digest comes once a day after its hour; turning a kind on
//! does not send the past; a restart sends nothing twice.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use vigia_domain::account::{Locale, Role};
use vigia_store::testing::TestDb;
use vigia_store::{Actor, EmailOutcome};
use vigia_web::alerts::email::{self, MailConfig, Mailer};

use crate::helpers::*;

const NAME: &str = "Dilcia Yamileth Cruz Orellana";
const PUBLIC: &str = "https://vigia.example.org";

/// The Python that has aiosmtpd: `VIGIA_TEST_SMTP_PYTHON`, the virtualenv `.ci/run`
/// makes, or the system's.
fn smtp_python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidates = [
        std::env::var_os("VIGIA_TEST_SMTP_PYTHON").map(PathBuf::from),
        Some(root.join("target/smtp-venv/bin/python")),
        Some(PathBuf::from("python3")),
    ];
    candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// A running SMTP server writing what it receives into `dir`; stopped when dropped.
struct Sink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Sink {
    fn start(python: &Path) -> Sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let dir = std::env::temp_dir().join(format!("vigia-smtp-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read");
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        Sink { child, port, dir }
    }

    /// Every message received so far, in order.
    fn received(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")).collect()
    }

    fn to(&self, who: &str) -> Vec<Value> {
        self.received().into_iter().filter(|m| m["rcpt_tos"].to_string().contains(who)).collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn mail_config(port: u16) -> MailConfig {
    MailConfig {
        smtp_url: format!("smtp://127.0.0.1:{port}"),
        from: "Vigía <avisos@vigia.example.org>".into(),
        public_url: PUBLIC.into(),
        digest_hour: 7,
    }
}

/// Chooses through the page, as a person would.
async fn choose(app: &TestApp, email: &str, choices: &[(&str, &str)]) {
    let c = app.login(email).await;
    let (status, page) = get_text(&c, app.url("/account/email")).await;
    assert_eq!(status, 200);
    let mut form = vec![("csrf".to_string(), csrf_of(&page))];
    form.extend(choices.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let r = c.post(app.url("/account/email")).form(&form).send().await.expect("post");
    assert_eq!(r.status(), 303, "{email} saves {choices:?}");
}

/// One pass of the worker, with `now` as the clock; a fresh SMTP pool each time, as
/// after a restart.
async fn pass(app: &TestApp, config: &MailConfig, now: &str) {
    let now: jiff::Timestamp = now.parse().expect("now");
    email::queue_emails(&app.store, config, now).await.expect("queue");
    let mailer = Mailer::new(config).expect("mailer");
    while email::send_due(&app.store, &mailer, std::time::Duration::from_millis(1)).await > 0 {}
}

#[tokio::test]
async fn an_overdue_detention_reaches_the_lawyer_once_by_email_and_digests_come_once_a_day() {
    let Some(python) = smtp_python() else {
        eprintln!("skipped: e-mail tests (no Python with aiosmtpd; .ci/run installs it into target/smtp-venv)");
        return;
    };
    for db in TestDb::all().await {
        let sink = Sink::start(&python);
        let config = mail_config(sink.port);
        let app =
            TestApp::with_config(db, vigia_web::Config { mail: Some(config.clone()), ..Default::default() }).await;
        let (lawyer, token) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        let digest = app.user("digest@a.org", "org-a", Role::Lawyer).await;
        app.store.set_user_locale(&Actor::user(&digest), digest.id, Locale::En).await.expect("locale");
        app.user("callada@a.org", "org-a", Role::Lawyer).await;
        app.user("monitor@a.org", "org-a", Role::Monitor).await;

        choose(&app, "abogada@a.org", &[("deadline", "immediate"), ("violation", "off")]).await;
        choose(&app, "digest@a.org", &[("violation", "daily")]).await;
        // A monitor may not choose case alerts: the page refuses, saying which.
        let m = app.login("monitor@a.org").await;
        let (_, page) = get_text(&m, app.url("/account/email")).await;
        assert!(!page.contains("name=\"deadline\""), "monitors are not offered case alerts");
        let r = m
            .post(app.url("/account/email"))
            .form(&[("csrf", csrf_of(&page).as_str()), ("deadline", "immediate")])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 422);

        // A detention from 6 January, seen on 30 January: past its limit.
        let http = reqwest::Client::new();
        let body = json!({"reference": "FM-MAIL", "full_name": NAME, "birth_date": "2005-03-09",
            "nationality": "HN", "sex": "female", "age_group": "adolescent_12_17", "languages": ["es"],
            "lawyer_user_id": lawyer.id});
        let (s, case) = app.post_case(&token, &body).await;
        assert_eq!(s, 201);
        let id = case["id"].as_i64().expect("id");
        let r = http
            .post(app.url(&format!("/api/v1/cases/{id}/events")))
            .bearer_auth(&token)
            .json(&json!({"kind": "detained", "on": "2020-01-06"}))
            .send()
            .await
            .expect("event");
        assert_eq!(r.status(), 201);
        let raised =
            vigia_app::cases::sweep_deadlines(&app.store, jiff::civil::date(2020, 1, 30), 3).await.expect("sweep");
        assert_eq!(raised, 3, "the overdue limit and two ongoing violations");

        // Before the digest hour (06:00 in Mexico City): only the immediate message.
        pass(&app, &config, "2026-12-06T12:00:00Z").await;
        let got = sink.to("abogada@a.org");
        assert_eq!(got.len(), 1, "one message for one overdue deadline: {got:?}");
        let m = &got[0];
        assert!(m["subject"].as_str().is_some_and(|s| s.starts_with("Vigía: Caso P-")), "{m}");
        let text = m["body"].as_str().expect("body");
        assert!(text.contains("Límite de detención") && text.contains("vencido"), "in Spanish, in words: {text}");
        assert!(text.contains(&format!("{PUBLIC}/cases/{id}")), "a link to the case: {text}");
        assert!(text.contains(&format!("{PUBLIC}/account/email")), "a way to stop: {text}");
        let all = serde_json::to_string(&sink.received()).expect("json");
        assert!(!all.contains("Dilcia") && !all.contains("FM-MAIL") && !all.contains("2005-03-09"), "no personal data");
        assert!(sink.to("digest@a.org").is_empty() && sink.to("callada@a.org").is_empty());

        // A restart and another pass: nothing is sent twice.
        pass(&app, &config, "2026-12-06T12:00:05Z").await;
        assert_eq!(sink.to("abogada@a.org").len(), 1, "told once");

        // After the hour: one digest in English with both violations; once that day.
        pass(&app, &config, "2026-12-06T15:00:00Z").await;
        pass(&app, &config, "2026-12-06T16:00:00Z").await;
        let digests = sink.to("digest@a.org");
        assert_eq!(digests.len(), 1, "{digests:?}");
        let d = &digests[0];
        assert_eq!(d["subject"], "Vigía: digest of 2026-12-06 (2 alerts)");
        let text = d["body"].as_str().expect("body");
        assert!(text.contains("[URGENT] Case P-") && text.contains("Child detained"), "{text}");
        assert_eq!(sink.received().len(), 2, "nobody else was written to");

        // Turning a kind on does not send the past.
        choose(&app, "callada@a.org", &[("deadline", "immediate"), ("violation", "immediate")]).await;
        pass(&app, &config, "2026-12-07T15:00:00Z").await;
        assert!(sink.to("callada@a.org").is_empty());
        assert_eq!(sink.received().len(), 2);

        // What was sent is on the person's page; the choice is in the history.
        let c = app.login("abogada@a.org").await;
        let (_, page) = get_text(&c, app.url("/account/email")).await;
        assert!(page.contains("enviado") && page.contains("Vigía: Caso P-"), "the outbox is listed");
        let audit = app.store.audit_entries(None, None, 200).await.expect("audit");
        assert!(audit.iter().any(|e| e.action == "set_email_prefs" && e.record_id == lawyer.id));
    }
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_retried_and_the_message_waits_in_the_outbox() {
    for db in TestDb::all().await {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let config = mail_config(port);
        let app =
            TestApp::with_config(db, vigia_web::Config { mail: Some(config.clone()), ..Default::default() }).await;
        let (lawyer, token) = app.api_user("abogada@a.org", "org-a", Role::Lawyer).await;
        choose(&app, "abogada@a.org", &[("violation", "immediate")]).await;
        let http = reqwest::Client::new();
        let body = json!({"reference": "FM-R", "full_name": NAME, "birth_date": "2005-03-09", "nationality": "HN",
            "sex": "female", "age_group": "adolescent_12_17", "languages": ["es"], "lawyer_user_id": lawyer.id});
        let (_, case) = app.post_case(&token, &body).await;
        http.post(app.url(&format!("/api/v1/cases/{}/events", case["id"])))
            .bearer_auth(&token)
            .json(&json!({"kind": "detained", "on": "2020-01-06"}))
            .send()
            .await
            .expect("event");
        vigia_app::cases::sweep_deadlines(&app.store, jiff::civil::date(2020, 1, 30), 3).await.expect("sweep");
        let now: jiff::Timestamp = "2026-12-06T12:00:00Z".parse().expect("now");
        assert_eq!(email::queue_emails(&app.store, &config, now).await.expect("queue"), 2);
        let mailer = Mailer::new(&config).expect("mailer");
        assert_eq!(email::send_due(&app.store, &mailer, std::time::Duration::from_secs(60)).await, 2);
        let outbox = app.store.outbox(lawyer.id, 10).await.expect("outbox");
        assert!(
            outbox.iter().all(|o| o.status == "pending" && o.attempts == 1 && o.last_error.is_some()),
            "{outbox:?}"
        );
        // Not due again before its delay: nothing is claimed.
        assert_eq!(email::send_due(&app.store, &mailer, std::time::Duration::from_secs(60)).await, 0);

        // A sender paused past its lease records nothing once another has claimed the
        // message: the second claim's lease and count stand.
        let due_at = outbox.iter().map(|o| o.id).max().expect("a message");
        let t = vigia_store::now_micros() + 3_600_000_000;
        let first = app.store.claim_emails(t, 1_000, 5).await.expect("claim");
        let first = first.into_iter().find(|m| m.id == due_at).expect("due again an hour later");
        let second = app.store.claim_emails(first.lease_until + 1, 60_000_000, 5).await.expect("claim");
        let second = second.into_iter().find(|m| m.id == due_at).expect("claimed again once the lease ran out");
        let late = app.store.finish_email(first.id, first.lease_until, EmailOutcome::Sent, t).await.expect("late");
        assert!(!late, "a late sender's outcome is refused");
        let kept = app.store.outbox(lawyer.id, 10).await.expect("outbox");
        let kept = kept.iter().find(|o| o.id == due_at).expect("kept");
        assert_eq!((kept.status.as_str(), kept.attempts), ("pending", 1));
        let on_time = app.store.finish_email(second.id, second.lease_until, EmailOutcome::Sent, t).await;
        assert!(on_time.expect("on time"), "the claim holding the lease records");
        let sent = app.store.outbox(lawyer.id, 10).await.expect("outbox");
        assert_eq!(sent.iter().find(|o| o.id == due_at).map(|o| (o.status.as_str(), o.attempts)), Some(("sent", 2)));
    }
}

/// Found by attacking the first version: a kind with no alerts held every other kind
/// back once 500 alerts had piled up after it; a disabled account was sent its backlog
/// when turned back on; a monitor could mark a lawyer's case alert as read.
#[tokio::test]
async fn a_quiet_kind_holds_nothing_back_a_disabled_account_gets_no_backlog_and_case_alerts_stay_the_lawyers() {
    for db in TestDb::all().await {
        let config = mail_config(9);
        let app =
            TestApp::with_config(db, vigia_web::Config { mail: Some(config.clone()), ..Default::default() }).await;
        let org = app.org("org-a").await;
        let lawyer = app.user("abogada@a.org", "org-a", Role::Lawyer).await;
        let quiet = app.user("quiet@a.org", "org-a", Role::Coordinator).await;
        app.user("monitor@a.org", "org-a", Role::Monitor).await;
        choose(&app, "quiet@a.org", &[("deadline", "immediate"), ("denial", "immediate")]).await;
        choose(&app, "monitor@a.org", &[("denial", "immediate")]).await;
        let monitor = app.store.user_by_email("monitor@a.org").await.expect("user").expect("user").0;
        app.store.set_user_disabled(&Actor::SYSTEM, monitor.id, true).await.expect("disable");
        // 620 refusals and no deadline at all.
        for i in 0..620 {
            let payload = json!({"facility": "Siglo XXI", "outcome": "denied", "organization": "A"}).to_string();
            app.store.raise_alert(org, "denial", &format!("test:{i}"), None, &payload).await.expect("alert");
        }
        let now: jiff::Timestamp = "2026-12-06T12:00:00Z".parse().expect("now");
        let mut queued = 0;
        for _ in 0..3 {
            queued += email::queue_emails(&app.store, &config, now).await.expect("queue");
        }
        assert_eq!(queued, 620, "every refusal told to the coordinator, none to the disabled monitor");
        assert_eq!(app.store.outbox(quiet.id, 1000).await.expect("outbox").len(), 620);
        app.store.set_user_disabled(&Actor::SYSTEM, monitor.id, false).await.expect("enable");
        assert_eq!(email::queue_emails(&app.store, &config, now).await.expect("queue"), 0, "no backlog");
        assert!(app.store.outbox(monitor.id, 10).await.expect("outbox").is_empty());

        // A case alert is the lawyer's to mark as read, not the monitor's.
        let deadline = json!({"type": "case.deadline", "case_id": 1, "case": "P-0000000001", "what": "detention_max",
            "state": "overdue"})
        .to_string();
        let alert =
            app.store.raise_alert(org, "deadline", "test:deadline", None, &deadline).await.expect("a").expect("new");
        let m = app.login("monitor@a.org").await;
        let (_, page) = get_text(&m, app.url("/alerts")).await;
        let r = m
            .post(app.url(&format!("/alerts/{}/read", alert.id)))
            .form(&[("csrf", csrf_of(&page).as_str())])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 404);
        let unread = app.store.alerts(org, 10).await.expect("alerts").into_iter().find(|a| a.id == alert.id);
        assert!(unread.is_some_and(|a| a.read_at.is_none()), "still unread for {}", lawyer.email);
    }
}

/// An episode already told about is not told again when a facility joins it or a
/// back-dated record moves its edges.
#[tokio::test]
async fn a_suspension_already_told_about_is_not_raised_again_by_a_back_dated_record() {
    let app = TestApp::new(TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo");
    let mirror = vigia_app::analysis::Mirror::default();
    let first = vigia_app::episodes::scan_episodes(&app.store, &mirror).await.expect("scan");
    assert!(first > 0, "the demo's episodes are raised");
    let (_, token) = app.api_user("tarde@a.org", "defensoria-sur", Role::Monitor).await;
    let facilities = app.store.list_facilities().await.expect("facilities");
    let mut csv = String::from("facility_id,attempted_at,purpose,outcome\n");
    for (i, f) in facilities.iter().take(6).enumerate() {
        csv.push_str(&format!("{},2020-04-{:02}T10:00,monitoring,denied\n", f.id, 14 + i));
    }
    app.import_attempts(&token, csv).await;
    let again = vigia_app::episodes::scan_episodes(&app.store, &mirror).await.expect("scan");
    assert_eq!(again, 0, "the spring 2020 episode was already told");
}
