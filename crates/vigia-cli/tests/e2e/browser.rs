//! Headless Chromium through ChromeDriver, clicking through pages as a person would.
//! Skipped, saying so, when Chromium or ChromeDriver is not installed.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use vigia_domain::account::Role;

use crate::helpers::{TestApp, PASSWORD};

fn find(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// A TCP relay in front of the test server that can be unplugged: while it is, every
/// connection (open or new) is closed at once, so the browser sees the server as a real
/// dead network would show it. ChromeDriver's network emulation alone is not enough for a
/// test that must prove nothing was sent: it is re-applied by ChromeDriver after each
/// navigation, and a request made by the new page in that moment gets through.
pub struct Cable {
    pub port: u16,
    plugged: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Cable {
    pub async fn to(app: &TestApp) -> Cable {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("cable port");
        let port = listener.local_addr().expect("cable addr").port();
        let plugged = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (server, p, o) = (app.addr, plugged.clone(), open.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !p.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(server).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                o.lock().expect("cable").push(relay.abort_handle());
            }
        });
        Cable { port, plugged, open, accept }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Plugs the cable in, or pulls it out and closes every open connection.
    pub fn plug(&self, on: bool) {
        self.plugged.store(on, std::sync::atomic::Ordering::SeqCst);
        if !on {
            for relay in self.open.lock().expect("cable").drain(..) {
                relay.abort();
            }
        }
    }
}

impl Drop for Cable {
    fn drop(&mut self) {
        self.accept.abort();
        self.plug(false);
    }
}

pub struct Driver {
    child: Child,
    profile: PathBuf,
    port: u16,
    chromium: PathBuf,
}

impl Driver {
    /// A new browser session on the same profile (what survived a kill is still there).
    async fn session(&self, width: u32, height: u32) -> Client {
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
                    format!("--user-data-dir={}", self.profile.display()),
                    format!("--window-size={width},{height}"),
                ]
            }
        });
        let caps = match caps {
            serde_json::Value::Object(m) => m,
            _ => unreachable!("object literal"),
        };
        let url = format!("http://127.0.0.1:{}", self.port);
        let mut last = None;
        for _ in 0..50 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
                Ok(c) => return c,
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!("chromedriver did not start a session: {last:?}");
    }

    /// Kills the browser as a phone's system does: at once, no chance to save anything.
    fn kill_browser(&self) {
        let pattern = format!("user-data-dir={}", self.profile.display());
        let _ = Command::new("pkill").args(["-KILL", "-f", &pattern]).status();
        std::thread::sleep(Duration::from_millis(500));
    }

    /// Switches the page's network off or on (ChromeDriver's network emulation).
    async fn network(&self, c: &Client, online: bool) {
        let sid = c.session_id().await.expect("session").expect("session id");
        let url = format!("http://127.0.0.1:{}/session/{sid}/chromium/network_conditions", self.port);
        let body = serde_json::json!({"network_conditions": {"offline": !online, "latency": 0,
            "download_throughput": 1_000_000, "upload_throughput": 1_000_000}});
        let r = reqwest::Client::new().post(url).json(&body).send().await.expect("network conditions");
        assert!(r.status().is_success(), "network conditions: {}", r.text().await.unwrap_or_default());
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Starts ChromeDriver and a headless Chromium session, or says why not.
pub async fn browser(width: u32, height: u32) -> Option<(Driver, Client)> {
    let Some(chromium) =
        find("VIGIA_CHROMIUM", &["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"])
    else {
        eprintln!("skipped: browser test (Chromium not found; install Debian's chromium)");
        return None;
    };
    let Some(driver) = find("VIGIA_CHROMEDRIVER", &["/usr/bin/chromedriver"]) else {
        eprintln!("skipped: browser test (chromedriver not found; install Debian's chromium-driver)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = std::env::temp_dir().join(format!("vigia-chromium-{}-{port}", std::process::id()));
    let d = Driver { child, profile, port, chromium };
    let c = d.session(width, height).await;
    Some((d, c))
}

async fn fill(c: &Client, css: &str, value: &str) {
    let el = c.find(Locator::Css(css)).await.expect(css);
    el.clear().await.expect("clear");
    el.send_keys(value).await.expect("type");
}

/// Clicks as a person would: the element brought to the middle of the screen first, so a
/// bar that stays on screen (the visit form's send bar) is not in the way.
async fn click(c: &Client, css: &str) {
    let el = c.find(Locator::Css(css)).await.expect(css);
    let arg = serde_json::to_value(&el).expect("element");
    c.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg]).await.expect("scroll");
    el.click().await.expect("click");
}

async fn text_of(c: &Client, css: &str) -> String {
    wait_for(c, css).await.text().await.expect("text")
}

/// Polls (up to 10 s) until the element's text satisfies `ok`: after a click that
/// submits a form the old page may still be there, or go stale while read.
async fn text_until(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            if let Ok(t) = el.text().await {
                if ok(&t) {
                    return t;
                }
                last = t;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never matched; last text: {last:?}");
}

/// Waits (up to 10 s) for an element: clicks that submit forms navigate asynchronously.
async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.expect(css)
}

/// Waits for the page heading to read `text`.
async fn wait_h1(c: &Client, text: &str) {
    let xpath = format!("//h1[normalize-space()='{text}']");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("heading {text:?}: {e}"));
}

pub fn screenshot_dir() -> PathBuf {
    let d = std::env::temp_dir().join("vigia-screenshots");
    let _ = std::fs::create_dir_all(&d);
    d
}

#[tokio::test]
async fn a_monitor_signs_in_switches_language_and_registers_a_facility() {
    let Some((_driver, c)) = browser(390, 844).await else {
        return;
    };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;

    c.goto(&app.url("/")).await.expect("goto");
    wait_h1(&c, "Iniciar sesión").await;
    assert!(c.current_url().await.expect("url").path().starts_with("/login"));
    fill(&c, "#email", "mon@a.org").await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "button[type=submit]:not(.link)").await;
    // A monitor lands on what to record.
    wait_h1(&c, "¿Qué quiere registrar?").await;
    assert!(c.find(Locator::Css("#start-visit")).await.is_ok() && c.find(Locator::Css("#start-attempt")).await.is_ok());

    click(&c, "#lang-switch").await;
    wait_h1(&c, "What do you want to record?").await;
    c.find(Locator::LinkText("Detention centers")).await.expect("nav").click().await.expect("click");
    wait_h1(&c, "Detention centers").await;

    click(&c, "#new-facility").await;
    wait_h1(&c, "Register a detention center").await;
    fill(&c, "#f-name", "Estación Migratoria Tenosique").await;
    c.find(Locator::Css("#f-state_code option[value='27']")).await.expect("state").click().await.expect("pick");
    fill(&c, "#f-municipality", "Tenosique").await;
    fill(&c, "#f-latitude", "91.5").await;
    fill(&c, "#f-longitude", "-91.42").await;
    click(&c, "#save").await;
    text_until(&c, "#e-latitude", |t| t == "Must be between 14 and 33.").await;
    assert!(text_of(&c, "#form-errors").await.contains("1 error"));
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("facility-form-error-phone.png"), png);

    fill(&c, "#f-latitude", "17.47").await;
    click(&c, "#save").await;
    text_until(&c, ".flash", |t| t == "Center registered.").await;
    wait_h1(&c, "Estación Migratoria Tenosique").await;
    c.find(Locator::LinkText("Detention centers")).await.expect("nav").click().await.expect("click");
    wait_h1(&c, "Detention centers").await;
    let table = text_of(&c, "#facilities").await;
    assert!(table.contains("Estación Migratoria Tenosique"), "{table}");
    assert!(table.contains("Tabasco"), "{table}");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("facilities-phone.png"), png);
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_monitor_records_a_denial_on_a_phone() {
    let Some((_driver, c)) = browser(390, 844).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    let facility = app.facility("Estación Migratoria Comitán").await;
    c.goto(&app.url("/login")).await.expect("goto");
    wait_h1(&c, "Iniciar sesión").await;
    fill(&c, "#email", "mon@a.org").await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "button[type=submit]:not(.link)").await;
    wait_h1(&c, "¿Qué quiere registrar?").await;
    c.find(Locator::LinkText("Acceso")).await.expect("nav").click().await.expect("click");
    wait_h1(&c, "Intentos de acceso").await;
    click(&c, "#new-attempt").await;
    wait_h1(&c, "Registrar un intento de acceso").await;
    c.find(Locator::Css("#f-facility_id option:nth-child(2)")).await.expect("facility").click().await.expect("pick");
    // A datetime-local input takes the digits in the browser's own order: set it directly.
    c.execute("document.getElementById('f-attempted_at').value = '2020-01-20T10:30';", vec![]).await.expect("set date");
    c.find(Locator::Css("#f-purpose option[value='legal_assistance']"))
        .await
        .expect("purpose")
        .click()
        .await
        .expect("pick");
    c.find(Locator::Css("#f-outcome option[value='denied']")).await.expect("outcome").click().await.expect("pick");
    c.find(Locator::Css("#f-reason_category option[value='orders_from_above']"))
        .await
        .expect("reason")
        .click()
        .await
        .expect("pick");
    click(&c, "input[name=restrictions][value=no_phones]").await;
    fill(&c, "#f-reason_text", "Órdenes de arriba, dijo el guardia").await;
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("attempt-form-phone.png"), png);
    click(&c, "#save").await;
    text_until(&c, ".flash", |t| t == "Intento registrado.").await;
    assert!(text_of(&c, ".outcome").await.contains("Negado"));
    // A photo of the gate, from the phone.
    let photo = std::env::temp_dir().join(format!("vigia-caseta-{}.jpg", std::process::id()));
    std::fs::write(&photo, b"\xFF\xD8\xFF\xE0\x00\x10JFIF caseta").expect("photo");
    c.find(Locator::Css("#file"))
        .await
        .expect("file input")
        .send_keys(&photo.display().to_string())
        .await
        .expect("choose");
    click(&c, "#attach").await;
    text_until(&c, ".flash", |t| t == "Archivo adjuntado; su huella quedó en el historial.").await;
    let files = text_of(&c, "#files").await;
    assert!(
        files.contains("image/jpeg")
            && files.contains(&vigia_domain::audit::sha256_hex(b"\xFF\xD8\xFF\xE0\x00\x10JFIF caseta")),
        "{files}"
    );
    let _ = std::fs::remove_file(&photo);
    c.find(Locator::LinkText("Acceso")).await.expect("nav").click().await.expect("click");
    wait_h1(&c, "Intentos de acceso").await;
    let table = text_of(&c, "#attempts").await;
    assert!(table.contains("Estación Migratoria Comitán") && table.contains("Negado"), "{table}");
    assert!(text_of(&c, ".count").await.contains("1 intento"));
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("attempts-phone.png"), png);
    // Counted in the facility's calendar of outcomes: 20 January 2020 is a refusal.
    c.goto(&app.url(&format!("/facilities/{facility}"))).await.expect("goto");
    wait_h1(&c, "Estación Migratoria Comitán").await;
    let refused = text_until(&c, "#outcome-calendar td.cal-refused", |t| !t.is_empty()).await;
    assert_eq!(refused, "20");
    assert!(text_of(&c, "#cal-h").await.contains("2020"));
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("facility-calendar-phone.png"), png);
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_lawyer_sees_an_overdue_detention_today_records_the_release_and_it_leaves_the_list() {
    let Some((_driver, c)) = browser(390, 844).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let lawyer = app.user("abogada@a.org", "org-a", Role::Lawyer).await;
    let org = app.org("org-a").await;
    let raw = vigia_domain::input::RawInput::from_json(serde_json::json!({
        "reference": "DMS-2020-044", "full_name": "Wendy Carolina Ayala Mejía", "nationality": "SV",
        "age_group": "adult_18_59", "lawyer_user_id": lawyer.id,
    }))
    .expect("json");
    let today = jiff::civil::date(2026, 1, 1);
    let d = vigia_domain::case::validate_case(&raw, today).expect("case");
    let actor = vigia_store::Actor::user(&lawyer);
    let case = app.store.create_case(&actor, org, d).await.expect("case");
    let raw = vigia_domain::input::RawInput::from_json(serde_json::json!({"kind": "detained", "on": "2020-01-06"}))
        .expect("json");
    let e = vigia_domain::case::validate_event(&raw, today).expect("event");
    app.store.add_case_event(&actor, org, case.id, e).await.expect("event");

    c.goto(&app.url("/login")).await.expect("goto");
    wait_h1(&c, "Iniciar sesión").await;
    fill(&c, "#email", "abogada@a.org").await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "button[type=submit]:not(.link)").await;
    // A lawyer lands on the day's deadlines.
    wait_h1(&c, "Hoy: plazos de mis casos").await;
    c.find(Locator::LinkText("Hoy")).await.expect("nav").click().await.expect("click");
    wait_h1(&c, "Hoy: plazos de mis casos").await;
    let overdue = text_of(&c, "#overdue").await;
    assert!(overdue.contains("DMS-2020-044") && overdue.contains("Límite de detención"), "{overdue}");
    assert!(text_of(&c, "#past-limit").await.contains("DMS-2020-044"));
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("today-phone.png"), png);

    c.find(Locator::Css("#overdue a")).await.expect("case link").click().await.expect("click");
    // One identifier everywhere: the pseudonym, with the reference beside it for a lawyer.
    let h1 = text_until(&c, "main h1", |t| t.ends_with("· DMS-2020-044")).await;
    assert!(h1.starts_with("Caso P-"), "{h1}");
    assert!(text_of(&c, "#deadlines").await.contains("Vencido"));
    c.find(Locator::Css("#f-kind option[value='released']")).await.expect("kind").click().await.expect("pick");
    fill(&c, "#f-note", "Salió con oficio de salida; la recogió su hermana.").await;
    click(&c, "#record-event").await;
    text_until(&c, ".flash", |t| t == "Evento registrado.").await;
    assert!(text_of(&c, "#events").await.contains("Liberado"));
    assert!(text_of(&c, "#deadlines").await.contains("Vencido antes de cerrarse"));
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("case-phone.png"), png);

    c.find(Locator::LinkText("Hoy")).await.expect("nav").click().await.expect("click");
    wait_h1(&c, "Hoy: plazos de mis casos").await;
    wait_for(&c, "#overdue-empty").await;
    assert!(c.find(Locator::Css("#past-limit")).await.is_err(), "no one is held past the limit any more");
    c.close().await.expect("close");
}

#[tokio::test]
async fn an_analyst_zooms_the_statements_timeline_from_days_to_hours() {
    let Some((_driver, c)) = browser(1280, 900).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("analista@a.org", "org-a", Role::Analyst).await;
    let org = app.org("org-a").await;
    for (authority, at, position) in
        [("inm", "2020-01-27T19:30", "suspended"), ("segob", "2020-01-27T23:10", "denies_suspension")]
    {
        let raw =
            vigia_domain::input::RawInput::from_json(serde_json::json!({"authority": authority, "published_at": at,
            "channel": "press_release", "text": format!("Declaración de {authority}")}))
            .expect("json");
        let d = vigia_domain::statement::validate_statement(&raw, "America/Mexico_City", vigia_store::now_micros())
            .expect("valid");
        let s = app.store.create_statement(&vigia_store::Actor::SYSTEM, org, d).await.expect("statement");
        let raw = vigia_domain::input::RawInput::from_json(
            serde_json::json!({"topic": "ngo_access", "position": position, "from": "2020-01-27"}),
        )
        .expect("json");
        let claim = vigia_domain::statement::validate_claim(&raw).expect("claim");
        app.store.add_claim(&vigia_store::Actor::SYSTEM, s.id, claim).await.expect("claim");
    }
    c.goto(&app.url("/login")).await.expect("goto");
    wait_h1(&c, "Iniciar sesión").await;
    fill(&c, "#email", "analista@a.org").await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "button[type=submit]:not(.link)").await;
    wait_h1(&c, "Centros de detención").await;
    c.find(Locator::LinkText("Declaraciones")).await.expect("nav").click().await.expect("click");
    wait_h1(&c, "Declaraciones oficiales").await;
    click(&c, "#timeline-link").await;
    wait_h1(&c, "Línea de tiempo").await;
    assert_eq!(c.find_all(Locator::Css("#timeline-svg circle.statement")).await.expect("dots").len(), 2);
    assert_eq!(
        c.find_all(Locator::Css("#timeline-svg line.contradiction")).await.expect("lines").len(),
        1,
        "the conflict is drawn"
    );
    // The same, as a list a screen reader or a phone reads: both statements, the conflict named.
    let items = c.find_all(Locator::Css("#timeline-list li")).await.expect("list");
    assert_eq!(items.len(), 2);
    let list = text_of(&c, "#timeline-list").await;
    assert!(list.contains("Contradicción detectada: Contradicción entre autoridades (3 h 40 min)"), "{list}");
    let before = text_of(&c, "#timeline-range").await;
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("timeline-days.png"), png);
    // Zoom to hours around the middle: the two statements, 3 h 40 min apart, stay in view.
    c.find(Locator::LinkText("Horas")).await.expect("hours").click().await.expect("click");
    text_until(&c, "#timeline-range", |t| t != before).await;
    let ticks: Vec<String> = {
        let mut v = Vec::new();
        for el in c.find_all(Locator::Css("#timeline-svg text.tick")).await.expect("ticks") {
            v.push(el.text().await.expect("text"));
        }
        v
    };
    assert!(ticks.iter().all(|t| t.contains(':')), "hour ticks: {ticks:?}");
    assert_eq!(text_of(&c, "#timeline-count").await, "2");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("timeline-hours.png"), png);
    // Out to years: ticks are years.
    c.find(Locator::LinkText("Años")).await.expect("years").click().await.expect("click");
    let range = text_until(&c, "#timeline-range", |t| t.contains("2018") || t.contains("2019")).await;
    assert!(range.contains("2021") || range.contains("2022"), "{range}");
    let tick = text_of(&c, "#timeline-svg text.tick").await;
    assert_eq!(tick.len(), 4, "year ticks: {tick}");
    c.close().await.expect("close");
}

/// Waits until the service worker controls the page, so it can serve the form offline.
async fn until_controlled(c: &Client) {
    for _ in 0..100 {
        let v = c
            .execute("return !!(navigator.serviceWorker && navigator.serviceWorker.controller);", vec![])
            .await
            .expect("js");
        if v == serde_json::Value::Bool(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service worker never controlled the form");
}

/// Taps an answer button (the radio inside it is hidden behind its label).
async fn answer(c: &Client, name: &str, value: &str) {
    let xpath = format!("//input[@name='{name}' and @value='{value}']/..");
    let el = c.find(Locator::XPath(&xpath)).await.expect(name);
    let arg = serde_json::to_value(&el).expect("element");
    c.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg]).await.expect("scroll");
    el.click().await.expect("tap");
}

async fn value_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.expect(css).prop("value").await.expect("value").unwrap_or_default()
}

async fn checked(c: &Client, name: &str, value: &str) -> bool {
    let css = format!("input[name='{name}'][value='{value}']");
    c.find(Locator::Css(&css)).await.expect(&css).prop("checked").await.expect("checked").as_deref() == Some("true")
}

/// Nothing reaches the server for a while: enough for a script that sends by itself to
/// have done it (it would, on load or on the `online` event, within milliseconds).
async fn nothing_sent(app: &TestApp, org: i64, why: &str) {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(app.store.visits(org, None).await.expect("visits").is_empty(), "{why}");
}

#[tokio::test]
async fn a_monitor_fills_a_visit_offline_and_it_is_sent_once_when_she_presses_send() {
    let Some((driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    let facility = app.facility("Estación Migratoria Tenosique").await;
    let org = app.org("org-a").await;
    let cable = Cable::to(&app).await;
    sign_in(&c, &cable.url(""), "mon@a.org").await;
    c.goto(&cable.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    until_controlled(&c).await;
    let time_in = value_of(&c, "#f-time_in").await;
    assert_eq!(time_in.len(), 5, "the time in defaults to now: {time_in:?}");

    // Offline as a phone is: the browser says so (navigator.onLine, the `online` event
    // later) and the server cannot be reached.
    cable.plug(false);
    driver.network(&c, false).await;
    c.find(Locator::Css(&format!("#f-facility_id option[value='{facility}']")))
        .await
        .expect("facility")
        .click()
        .await
        .expect("pick");
    click(&c, "#sec-population > summary").await;
    fill(&c, "[name='population.total']", "44").await;
    click(&c, "#sec-legal_safeguards > summary").await;
    answer(&c, "sections.legal_safeguards.interpreter", "no").await;
    assert_eq!(text_of(&c, "#sec-legal_safeguards .progress").await, "1/4");
    click(&c, "#sec-material_conditions > summary").await;
    fill(&c, "textarea[name='sections.material_conditions.observations']", "Colchonetas en el piso").await;
    text_until(&c, "#draft-status", |t| t.starts_with("Guardado en este dispositivo")).await;

    // Reload while offline, before pressing send: the page comes from the service worker,
    // the draft from this device, and it stays a draft.
    c.refresh().await.expect("reload");
    wait_h1(&c, "Registrar una visita").await;
    assert_eq!(value_of(&c, "[name='population.total']").await, "44", "the draft survived the reload");
    assert!(checked(&c, "sections.legal_safeguards.interpreter", "no").await, "the answer too");
    text_until(&c, "#draft-status", |t| t.starts_with("Guardado en este dispositivo")).await;
    // The connection returns: a draft nobody asked to send is not sent.
    cable.plug(true);
    driver.network(&c, true).await;
    nothing_sent(&app, org, "online again, but send was never pressed").await;
    assert!(text_of(&c, "#draft-status").await.starts_with("Guardado"), "still a draft");

    // Offline again; now she presses send: queued on the device.
    cable.plug(false);
    driver.network(&c, false).await;
    click(&c, "#send-visit").await;
    text_until(&c, "#draft-status", |t| t.starts_with("Sin conexión")).await;
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("visit-offline-queued-phone.png"), png);
    c.refresh().await.expect("reload");
    wait_h1(&c, "Registrar una visita").await;
    text_until(&c, "#draft-status", |t| t.starts_with("Sin conexión")).await;
    let state = text_of(&c, "#device-drafts-list li[data-state='queued'] .draft-state").await;
    assert!(state.starts_with("En cola"), "the list says it is queued: {state}");
    nothing_sent(&app, org, "the cable is out").await;

    cable.plug(true);
    driver.network(&c, true).await;
    text_until(&c, "#draft-status", |t| t == "Enviado.").await;
    let visits = app.store.visits(org, None).await.expect("visits");
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0].draft.population.total, Some(44));
    // Back again later: a sent draft is shown as sent, locked, and not sent twice.
    c.refresh().await.expect("reload");
    wait_h1(&c, "Registrar una visita").await;
    text_until(&c, "#draft-status", |t| t == "Enviado.").await;
    let locked = c.find(Locator::Css("#form-body")).await.expect("body").prop("disabled").await.expect("prop");
    assert_eq!(locked.as_deref(), Some("true"), "a sent report is not edited in place");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.store.visits(org, None).await.expect("visits").len(), 1, "exactly once");
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_reloaded_visit_form_sends_nothing_keeps_its_drafts_listed_and_a_conflict_becomes_a_correction() {
    let Some((_driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let monitor = app.user("mon@a.org", "org-a", Role::Monitor).await;
    let facility = app.facility("Estación Migratoria Siglo XXI").await;
    let org = app.org("org-a").await;
    sign_in(&c, &app.url(""), "mon@a.org").await;
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    c.find(Locator::Css(&format!("#f-facility_id option[value='{facility}']")))
        .await
        .expect("facility")
        .click()
        .await
        .expect("pick");
    click(&c, "#sec-population > summary").await;
    fill(&c, "[name='population.total']", "30").await;
    click(&c, "#add-finding").await;
    wait_for(&c, "#finding-1").await;
    c.find(Locator::Css("[name='findings.1.section'] option[value='material_conditions']"))
        .await
        .expect("section")
        .click()
        .await
        .expect("pick");
    answer(&c, "findings.1.severity", "3").await;
    fill(&c, "[name='findings.1.description']", "Sin agua potable en el dormitorio").await;
    text_until(&c, "#draft-status", |t| t.starts_with("Guardado en este dispositivo")).await;
    let url = c.current_url().await.expect("url").to_string();
    assert!(url.contains("/visits/new?draft=v"), "the address names the draft: {url}");

    // The tab reloads (the camera was opened): the same draft, nothing sent.
    c.refresh().await.expect("reload");
    wait_h1(&c, "Registrar una visita").await;
    assert_eq!(value_of(&c, "[name='population.total']").await, "30");
    assert_eq!(value_of(&c, "[name='findings.1.description']").await, "Sin agua potable en el dormitorio");
    nothing_sent(&app, org, "a reload sends nothing").await;
    assert!(text_of(&c, "#draft-status").await.starts_with("Guardado"));

    // The form opened afresh: a new, empty draft, and the first one listed on this device.
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    assert_eq!(value_of(&c, "[name='population.total']").await, "", "a new draft starts empty");
    let row = text_of(&c, "#device-drafts-list li").await;
    assert!(row.contains("Estación Migratoria Siglo XXI") && row.contains("Borrador, sin enviar"), "{row}");
    nothing_sent(&app, org, "opening the form sends nothing").await;
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("visit-drafts-list-phone.png"), png);
    c.find(Locator::LinkText("Abrir")).await.expect("open").click().await.expect("click");
    wait_h1(&c, "Registrar una visita").await;
    assert_eq!(value_of(&c, "[name='population.total']").await, "30");
    // Enter in a field (a phone keyboard's "Go") does not send.
    click(&c, "#sec-population > summary").await;
    c.find(Locator::Css("[name='population.total']")).await.expect("total").send_keys("\u{E007}").await.expect("enter");
    nothing_sent(&app, org, "Enter is not send").await;

    // An earlier send of this draft reached the server but its answer was lost, so the
    // device still holds it as a draft; she changes a figure and sends again. The server
    // keeps the first, and the page says so as an error and offers a correction.
    let key = url.split("draft=").nth(1).expect("key").to_string();
    let earlier = vigia_domain::visit::validate_visit(
        &serde_json::json!({"facility_id": facility, "on": "2020-03-10", "population": {"total": 29}}),
        jiff::civil::date(2026, 1, 1),
        None,
    )
    .expect("valid");
    let first =
        app.store.record_visit(&vigia_store::Actor::user(&monitor), org, &key, earlier).await.expect("record").0.id;

    fill(&c, "[name='population.total']", "31").await;
    click(&c, "#send-visit").await;
    text_until(&c, "#draft-status", |t| t.starts_with("No enviado")).await;
    let conflict = text_of(&c, "#conflict-box").await;
    assert!(conflict.contains("No se sobrescribió nada"), "{conflict}");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("visit-conflict-phone.png"), png);
    click(&c, "#send-correction").await;
    text_until(&c, "#draft-status", |t| t == "Enviado.").await;
    let visits = app.store.visits(org, None).await.expect("visits");
    assert_eq!(visits.len(), 2, "both reports are kept");
    assert!(visits.iter().any(|v| v.draft.findings.len() == 1), "the empty first finding slot is no finding");
    let second = visits.iter().find(|v| v.id != first).expect("correction");
    assert_eq!((second.draft.corrects, second.draft.population.total), (Some(first), Some(31)));
    c.find(Locator::Css("#sent-link")).await.expect("link").click().await.expect("click");
    let note = text_of(&c, "#corrects").await;
    assert!(note.starts_with("Este informe corrige la visita"), "{note}");
    c.close().await.expect("close");
}

/// Signs in on the server at `base` (e.g. `http://127.0.0.1:PORT`, a trailing slash or not).
async fn sign_in(c: &Client, base: &str, email: &str) {
    c.goto(&format!("{}/login", base.trim_end_matches('/'))).await.expect("goto");
    wait_h1(c, "Iniciar sesión").await;
    fill(c, "#email", email).await;
    fill(c, "#password", PASSWORD).await;
    click(c, "button[type=submit]:not(.link)").await;
    // Each role lands on its own page: wait until the sign-in page is gone.
    text_until(c, "h1", |t| !t.is_empty() && t != "Iniciar sesión").await;
}

#[tokio::test]
async fn a_draft_queued_on_a_shared_phone_goes_out_only_as_its_author() {
    let Some((driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    app.user("mon@b.org", "org-b", Role::Monitor).await;
    let facility = app.facility("Estación Migratoria Tapachula").await;
    let (a, b) = (app.org("org-a").await, app.org("org-b").await);
    let base = app.url("");
    sign_in(&c, &base, "mon@a.org").await;
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    until_controlled(&c).await;
    driver.network(&c, false).await;
    c.find(Locator::Css(&format!("#f-facility_id option[value='{facility}']")))
        .await
        .expect("facility")
        .click()
        .await
        .expect("pick");
    click(&c, "#sec-notes > summary").await;
    fill(&c, "[name='interview_notes']", "Relata 40 días detenido").await;
    click(&c, "#send-visit").await;
    text_until(&c, "#draft-status", |t| t.starts_with("Sin conexión")).await;
    // Her session ends on the phone; the connection comes back; nothing goes out unsigned.
    c.delete_all_cookies().await.expect("cookies");
    driver.network(&c, true).await;
    text_until(&c, "#draft-status", |t| t.starts_with("No enviado")).await;
    // A colleague from another organization signs in on the same phone: the draft is not
    // listed for him and does not go out under his name.
    sign_in(&c, &base, "mon@b.org").await;
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(app.store.visits(b, None).await.expect("visits").is_empty(), "not under b");
    assert!(app.store.visits(a, None).await.expect("visits").is_empty(), "not yet");
    let listed = c.find(Locator::Css("#device-drafts")).await.expect("list").prop("hidden").await.expect("hidden");
    assert_eq!(listed.as_deref(), Some("true"), "another person's drafts are not listed");
    // She signs in again: her queued draft goes out, as hers.
    c.delete_all_cookies().await.expect("cookies");
    sign_in(&c, &base, "mon@a.org").await;
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    let mut sent = Vec::new();
    for _ in 0..150 {
        sent = app.store.visits(a, None).await.expect("visits");
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let said = text_of(&c, "#draft-status").await;
    assert_eq!(sent.len(), 1, "sent once, by its author (the page says {said:?})");
    assert!(sent[0].has_notes);
    // What was sent no longer sits in the browser's storage.
    let stored = c.execute("return localStorage.getItem('vigia-visit-drafts') || '';", vec![]).await.expect("js");
    assert!(!stored.as_str().unwrap_or("").contains("40 días"), "sent notes left the device: {stored}");
    c.close().await.expect("close");
}

#[tokio::test]
async fn an_analyst_filters_the_access_analysis_by_state_and_compares_before_and_after() {
    let Some((_driver, c)) = browser(1280, 900).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("an@a.org", "org-a", Role::Analyst).await;
    let (_, b) = app.api_user("mon@b.org", "org-b", Role::Monitor).await;
    app.coalition("red", &["org-a", "org-b"]).await;
    let siglo = app.facility("Siglo XXI").await;
    let agujas = app.facility_in("Las Agujas", "09").await;
    let csv = format!(
        "facility_id,attempted_at,purpose,outcome,visibility\n\
         {siglo},2024-02-10T10:00,monitoring,granted,coalition\n\
         {siglo},2024-02-11T10:00,legal_assistance,denied,coalition\n\
         {siglo},2024-03-10T10:00,monitoring,denied,coalition\n\
         {siglo},2024-03-11T10:00,monitoring,no_response,coalition\n\
         {agujas},2024-02-12T10:00,monitoring,granted,coalition\n"
    );
    app.import_attempts(&b, csv).await;

    c.goto(&app.url("/login")).await.expect("goto");
    wait_h1(&c, "Iniciar sesión").await;
    fill(&c, "#email", "an@a.org").await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "button[type=submit]:not(.link)").await;
    wait_h1(&c, "Centros de detención").await;
    c.find(Locator::LinkText("Análisis")).await.expect("nav").click().await.expect("click");
    wait_h1(&c, "Análisis del acceso").await;
    let by_facility = text_of(&c, "#by-facility").await;
    assert!(by_facility.contains("Siglo XXI") && by_facility.contains("Las Agujas"), "{by_facility}");

    // Chiapas only, compared before and after 1 March 2024.
    c.find(Locator::Css("#q-state option[value='07']")).await.expect("state").click().await.expect("pick");
    c.execute("document.getElementById('q-compare').value = '2024-03-01';", vec![]).await.expect("set date");
    click(&c, "#analysis-filters button[type=submit]").await;
    let compare = text_until(&c, "#compare", |t| t.contains("Siglo XXI")).await;
    assert!(compare.contains("50.0 %") && compare.contains("100.0 %"), "{compare}");
    assert!(!compare.contains("Las Agujas"), "Mexico City is filtered out: {compare}");
    let by_facility = text_of(&c, "#by-facility").await;
    assert!(!by_facility.contains("Las Agujas"), "{by_facility}");
    let url = c.current_url().await.expect("url");
    assert!(url.query().unwrap_or("").contains("state=07"), "the filter is in the address, to share: {url}");

    // The month chart is drawn: one bar a month, with a size on the page.
    let bars: Vec<f64> = serde_json::from_value(
        c.execute(
            "return [...document.querySelectorAll('figure.chart svg')[0].querySelectorAll('rect.bar')]\
             .map(r => r.getBoundingClientRect().width);",
            vec![],
        )
        .await
        .expect("bars"),
    )
    .expect("widths");
    assert_eq!(bars.len(), 2, "February and March 2024");
    assert!(bars.iter().all(|w| *w > 0.0), "{bars:?}");
    let figures = text_of(&c, "figure.chart svg").await;
    assert!(figures.contains("50 %") && figures.contains("100 %"), "each bar shows its rate: {figures}");
    c.execute("document.querySelector('figure.chart').scrollIntoView();", vec![]).await.expect("scroll");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("access-analysis-desktop.png"), png);
    c.close().await.expect("close");
}

/// Security review finding 12 as a person sees it, on a phone: a partner organization
/// confirmed a contradiction; an analyst of another organization reads that verdict,
/// attributed and dated but without its reason, beside the form for her own, in both
/// languages.
#[tokio::test]
async fn an_analyst_sees_a_partner_s_verdict_attributed_beside_her_own_form() {
    let Some((_driver, c)) = browser(412, 915).await else {
        return;
    };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, a) = app.api_user("analista@a.org", "org-a", Role::Analyst).await;
    app.user("analista@b.org", "org-b", Role::Analyst).await;
    app.coalition("red", &["org-a", "org-b"]).await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| http.post(app.url(path)).bearer_auth(&a).json(&body).send();
    for (authority, at, position) in
        [("inm", "2020-01-27T19:30", "suspended"), ("segob", "2020-01-27T23:10", "denies_suspension")]
    {
        let st: serde_json::Value = post(
            "/api/v1/statements",
            serde_json::json!({"authority": authority, "published_at": at, "channel": "press_release", "text": "Declaración"}),
        )
        .await
        .expect("statement")
        .json()
        .await
        .expect("json");
        let path = format!("/api/v1/statements/{}/claims", st["id"]);
        let r = post(&path, serde_json::json!({"topic": "ngo_access", "position": position, "from": "2020-01-27"}))
            .await
            .expect("claim");
        assert_eq!(r.status(), 201);
    }
    let found = app.get_json(&a, "/api/v1/contradictions").await;
    let key = found["items"][0]["key"].as_str().expect("a detection").to_string();
    let r = post(
        "/api/v1/contradictions/review",
        serde_json::json!({"key": key, "status": "confirmed", "reason": "Nota interna de A"}),
    )
    .await
    .expect("review");
    assert_eq!(r.status(), 200);

    c.goto(&app.url("/login")).await.expect("goto");
    wait_h1(&c, "Iniciar sesión").await;
    fill(&c, "#email", "analista@b.org").await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "button[type=submit]:not(.link)").await;
    wait_for(&c, "h1").await;
    c.goto(&app.url("/contradictions")).await.expect("goto");
    wait_h1(&c, "Contradicciones").await;
    let other = text_of(&c, ".review-other").await;
    assert!(other.starts_with("Org org-a: Confirmada ("), "{other}");
    assert!(!c.source().await.expect("source").contains("Nota interna"), "another organization's reason stays its own");
    assert!(c.find(Locator::Css("form[action='/contradictions/review'] input[name=reason]")).await.is_ok());
    // The card quotes both statements side by side, each claim in plain words, and says
    // b has not reviewed it yet.
    let quotes = c.find_all(Locator::Css("#contradictions li.card:first-child figure.quote")).await.expect("quotes");
    assert_eq!(quotes.len(), 2, "both statements quoted");
    let card = text_of(&c, "#contradictions li.card:first-child").await;
    for words in ["suspende el acceso", "niega la suspensión", "Comunicado", "Sin revisar"] {
        assert!(card.contains(words), "{words} in {card}");
    }
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("contradictions-phone-es.png"), png);
    // Dismissing is a choice of its own, with a reason.
    fill(&c, "#contradictions li.card:first-child input[name=reason]", "Dos autoridades distintas").await;
    click(&c, "#contradictions li.card:first-child button[value=dismissed]").await;
    let own = text_until(&c, "#contradictions li.card:first-child .review-own", |t| t.contains("Descartada")).await;
    assert!(own.contains("Dos autoridades distintas"), "{own}");
    assert!(!text_of(&c, "#contradictions li.card:first-child").await.contains("Sin revisar"));
    click(&c, "#lang-switch").await;
    wait_h1(&c, "Contradictions").await;
    let other = text_of(&c, ".review-other").await;
    assert!(other.starts_with("Org org-a: Confirmed ("), "{other}");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("contradictions-phone-en.png"), png);
    c.close().await.expect("close");
}

/// A lawyer checks a rule on a phone and on a desktop, in both languages: the rules
/// page fits the screen (no sideways scrolling) and the quoted texts are there.
#[tokio::test]
async fn a_lawyer_reads_the_rules_on_a_phone_and_a_desktop_in_both_languages() {
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    for (width, height, device) in [(412, 915, "phone"), (1280, 900, "desktop")] {
        let Some((_driver, c)) = browser(width, height).await else {
            return;
        };
        c.goto(&app.url("/clock")).await.expect("goto");
        click(&c, "#rules-link").await;
        wait_h1(&c, "Reglas y textos legales").await;
        let lfpa = text_of(&c, "#calendar-lfpa").await;
        assert!(lfpa.contains("No se considerarán días hábiles"), "{lfpa}");
        let refoulement = text_of(&c, "#violation-possible_refoulement").await;
        assert!(refoulement.contains("Ningún solicitante o refugiado"), "{refoulement}");
        let fits = |c: &Client| {
            let c = c.clone();
            async move {
                c.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
                    .await
                    .expect("measure")
                    .as_bool()
                    .unwrap_or(false)
            }
        };
        assert!(fits(&c).await, "no sideways scrolling on the {device}");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("legal-es-{device}.png")), png);
        click(&c, "#lang-switch").await;
        wait_h1(&c, "Rules and legal texts").await;
        let amparo = text_of(&c, "#rule-amparo_any_time").await;
        assert!(amparo.contains("At any time, on any day and at any hour"), "{amparo}");
        assert!(fits(&c).await, "no sideways scrolling on the {device} in English");
        let png = c.screenshot().await.expect("screenshot");
        let _ = std::fs::write(screenshot_dir().join(format!("legal-en-{device}.png")), png);
        c.close().await.expect("close");
    }
}

/// axe-core (vendored from npm, see tests/vendor/axe-core/SOURCE.md), run inside a page:
/// the serious and critical violations of WCAG 2.0–2.2 A/AA and best practice, each as
/// "rule: help (first elements)".
async fn axe_violations(c: &Client) -> Vec<String> {
    const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");
    c.execute(AXE, vec![]).await.expect("axe loads");
    let out = c
        .execute_async(
            "var done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']}).then(function (r) {
               done(r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
                 .map(function (v) {
                   return v.id + ': ' + v.help + ' (' + v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); }).join(' | ') + ')';
                 }));
             }, function (e) { done(['axe failed: ' + e]); });",
            vec![],
        )
        .await
        .expect("axe runs");
    out.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// Text inside drawings (charts, the map, the timeline) that renders under 11 CSS px:
/// the font size times the drawing's scale on screen. Drawings inside a region that
/// scrolls sideways keep their size, so they are not scaled down.
async fn small_svg_text(c: &Client) -> Vec<String> {
    let out = c
        .execute(
            "var bad = [];
             document.querySelectorAll('svg text').forEach(function (t) {
               var svg = t.ownerSVGElement; if (!svg || !svg.getScreenCTM()) return;
               var size = parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a;
               if (size < 11 && t.textContent.trim() !== '') bad.push((svg.id || svg.getAttribute('class') || 'svg') + ': ' + t.textContent.trim().slice(0, 20) + ' = ' + size.toFixed(1));
             });
             return bad.slice(0, 5);",
            vec![],
        )
        .await
        .expect("svg text");
    out.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

#[tokio::test]
async fn every_page_has_no_serious_accessibility_violation_on_a_phone_or_a_desktop_in_every_role() {
    let Some((_driver, c)) = browser(1280, 900).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    let coord = app.store.user_by_email("coordinacion@defensoria.example").await.expect("user").expect("user").0;
    let org = coord.org_id;
    let facility = app.store.list_facilities().await.expect("facilities")[0].id;
    let filter = vigia_domain::access::AttemptFilter { limit: 1, ..Default::default() };
    let attempt = app.store.list_attempts(org, &filter).await.expect("attempts")[0].id;
    let visit = app.store.visits(org, None).await.expect("visits").first().map(|v| v.id).unwrap_or(1);
    let statement = app.store.statements().await.expect("statements").first().map(|s| s.id).unwrap_or(1);
    let case =
        app.store.cases_with_facts(Some(&[org]), false).await.expect("cases").first().map(|c| c.case.id).unwrap_or(1);
    let common = vec![
        "/facilities".to_string(),
        format!("/facilities/{facility}"),
        "/access".into(),
        format!("/access/{attempt}"),
        "/analysis".into(),
        "/statements".into(),
        format!("/statements/{statement}"),
        "/statements/timeline".into(),
        "/contradictions".into(),
        "/alerts".into(),
        "/legal".into(),
        "/account".into(),
        "/account/email".into(),
        "/overview".into(),
        "/no-such-page".into(),
    ];
    let roles: Vec<(&str, Vec<String>)> = vec![
        (
            "coordinacion@defensoria.example",
            ["/audit", "/visits", "/admin/users", "/admin/webhooks", "/admin/calendars"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        (
            "abogada@defensoria.example",
            vec![
                "/cases".into(),
                format!("/cases/{case}"),
                "/cases/new".into(),
                "/cases/report".into(),
                "/today".into(),
                "/clock".into(),
            ],
        ),
        (
            "monitoreo@defensoria.example",
            vec![
                "/start".into(),
                "/access/new".into(),
                "/visits/new".into(),
                format!("/visits/{visit}"),
                "/facilities/new".into(),
            ],
        ),
        ("analisis@defensoria.example", vec!["/analysis".into(), "/statements".into()]),
    ];
    let mut found = Vec::new();
    let mut pages = 0;
    for (email, own) in &roles {
        c.delete_all_cookies().await.expect("cookies");
        c.set_window_size(1280, 900).await.expect("size");
        c.goto(&app.url("/login")).await.expect("goto");
        wait_for(&c, "#email").await;
        fill(&c, "#email", email).await;
        fill(&c, "#password", vigia_cli::demo::PASSWORD).await;
        click(&c, "button[type=submit]:not(.link)").await;
        wait_for(&c, "main h1").await;
        let paths: Vec<&String> = if *email == "coordinacion@defensoria.example" {
            common.iter().chain(own).collect()
        } else {
            own.iter().collect()
        };
        for (w, h) in [(1280, 900), (412, 915)] {
            c.set_window_size(w, h).await.expect("size");
            for path in &paths {
                c.goto(&app.url(path)).await.expect("goto");
                wait_for(&c, "main").await;
                pages += 1;
                for v in axe_violations(&c).await {
                    found.push(format!("{email} {path} @{w}px: {v}"));
                }
                if w < 500 {
                    for v in small_svg_text(&c).await {
                        found.push(format!("{email} {path} @{w}px: svg text under 11 px: {v}"));
                    }
                }
            }
        }
    }
    // And signed out: the sign-in page and the public rules.
    c.delete_all_cookies().await.expect("cookies");
    for (w, h) in [(1280, 900), (412, 915)] {
        c.set_window_size(w, h).await.expect("size");
        for path in ["/login", "/legal"] {
            c.goto(&app.url(path)).await.expect("goto");
            wait_for(&c, "main").await;
            pages += 1;
            for v in axe_violations(&c).await {
                found.push(format!("anonymous {path} @{w}px: {v}"));
            }
        }
    }
    eprintln!("axe-core ran on {pages} page views");
    assert!(found.is_empty(), "{} serious or critical violations:\n{}", found.len(), found.join("\n"));
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_thousand_attempts_page_to_the_end_on_a_phone_and_the_csv_has_them_all() {
    let Some((_driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    let (_, token) = app.api_user("mon@a.org", "org-a", Role::Monitor).await;
    let f = app.facility("Estación Migratoria Tapachula").await;
    let mut csv = String::from("facility_id,attempted_at,purpose,outcome\n");
    for i in 0..1000 {
        let day = jiff::civil::date(2020, 1, 1).checked_add(jiff::Span::new().days(i / 24)).expect("day");
        csv.push_str(&format!(
            "{f},{day}T{:02}:00,monitoring,{}\n",
            i % 24,
            if i % 3 == 0 { "denied" } else { "granted" }
        ));
    }
    app.import_attempts(&token, csv).await;
    sign_in(&c, &app.url(""), "mon@a.org").await;
    c.goto(&app.url("/access")).await.expect("goto");
    wait_h1(&c, "Intentos de acceso").await;
    assert_eq!(text_of(&c, "#list-count").await, "Mostrando 1–100 de 1000 intentos");
    let png = c.screenshot().await.expect("screenshot");
    let _ = std::fs::write(screenshot_dir().join("access-list-phone.png"), png);
    let mut rows = 0;
    let mut pages = 0;
    loop {
        pages += 1;
        rows += c.find_all(Locator::Css("#attempts tbody tr")).await.expect("rows").len();
        if c.find(Locator::Css("#next-page")).await.is_err() {
            break;
        }
        let before = text_of(&c, "#list-count").await;
        click(&c, "#next-page").await;
        text_until(&c, "#list-count", |t| t != before).await;
    }
    assert_eq!((pages, rows), (10, 1000), "every attempt, on ten pages");
    assert_eq!(text_of(&c, "#list-count").await, "Mostrando 901–1000 de 1000 intentos");
    // The CSV link of the page, as the browser would download it.
    let lines = c
        .execute_async(
            "var done = arguments[arguments.length - 1];
             fetch(document.getElementById('csv-export').href, {credentials: 'same-origin'})
               .then(function (r) { return r.text(); })
               .then(function (t) { done(t.trim().split('\\n').length); }, function (e) { done(-1); });",
            vec![],
        )
        .await
        .expect("csv");
    assert_eq!(lines.as_i64(), Some(1001), "a header and every attempt");
    c.close().await.expect("close");
}

#[tokio::test]
async fn each_role_lands_where_its_work_is_and_an_error_page_keeps_the_menu() {
    let Some((_driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    let coord = app.store.user_by_email("coordinacion@defensoria.example").await.expect("user").expect("user").0;
    let payload = serde_json::json!({"type": "access.suspected_suspension", "start": "2020-03-23", "end": "2020-06-15",
        "organizations": 3, "facilities": ["Siglo XXI"], "refusals": 70, "attempts": 104});
    app.store.raise_alert(coord.org_id, "episode", "test:episode", None, &payload.to_string()).await.expect("alert");
    let dir = screenshot_dir();
    for (email, heading, shot) in [
        ("abogada@defensoria.example", "Hoy: plazos de mis casos", "landing-lawyer-phone.png"),
        ("coordinacion@defensoria.example", "Resumen", "landing-coordinator-phone.png"),
        ("monitoreo@defensoria.example", "¿Qué quiere registrar?", "landing-monitor-phone.png"),
        ("analisis@defensoria.example", "Detention centers", "landing-analyst-phone-en.png"),
    ] {
        c.delete_all_cookies().await.expect("cookies");
        c.goto(&app.url("/login")).await.expect("goto");
        wait_for(&c, "#email").await;
        fill(&c, "#email", email).await;
        fill(&c, "#password", vigia_cli::demo::PASSWORD).await;
        click(&c, "button[type=submit]:not(.link)").await;
        wait_h1(&c, heading).await;
        let _ = std::fs::write(dir.join(shot), c.screenshot().await.expect("screenshot"));
    }

    // The coordinator's menu counts unread alerts, and the inbox agrees.
    c.delete_all_cookies().await.expect("cookies");
    c.goto(&app.url("/login")).await.expect("goto");
    wait_for(&c, "#email").await;
    fill(&c, "#email", "coordinacion@defensoria.example").await;
    fill(&c, "#password", vigia_cli::demo::PASSWORD).await;
    click(&c, "button[type=submit]:not(.link)").await;
    wait_h1(&c, "Resumen").await;
    let badge = text_of(&c, "#unread-count").await;
    let menu_count: String = badge.chars().take_while(|ch| ch.is_ascii_digit()).collect();
    assert!(!menu_count.is_empty(), "{badge}");
    let overview = text_of(&c, "#to-review").await;
    assert!(overview.contains("alertas sin leer en total"), "{overview}");
    c.goto(&app.url("/alerts")).await.expect("goto");
    wait_h1(&c, "Alertas").await;
    let unread = c.find_all(Locator::Css("#alerts li.unread")).await.expect("unread").len();
    if menu_count != "99" {
        assert_eq!(menu_count.parse::<usize>().expect("n"), unread, "menu and inbox agree");
    }
    assert!(text_of(&c, "#alerts").await.contains("Por atender"), "each alert says how urgent it is");
    c.find(Locator::Css("#read-all")).await.expect("read all").click().await.expect("click");
    wait_for(&c, "p.flash").await;
    assert!(c.find(Locator::Css("#unread-count")).await.is_err(), "no count once all are read");

    // An error page keeps the menu and says what to do, in both languages.
    c.goto(&app.url("/facilities/999999")).await.expect("goto");
    wait_h1(&c, "Algo no salió bien").await;
    assert!(c.find(Locator::Css("header nav a[href='/alerts']")).await.is_ok(), "the menu is there");
    assert!(text_of(&c, "#error-todo").await.contains("menú"), "it says what to do");
    let _ = std::fs::write(dir.join("error-phone-es.png"), c.screenshot().await.expect("screenshot"));
    click(&c, "#lang-switch").await;
    wait_h1(&c, "Something went wrong").await;
    assert!(text_of(&c, "#error-todo").await.contains("menu"));
    let _ = std::fs::write(dir.join("error-phone-en.png"), c.screenshot().await.expect("screenshot"));

    // The e-mail choices, on a phone.
    c.goto(&app.url("/account/email")).await.expect("goto");
    wait_h1(&c, "E-mail alerts").await;
    let _ = std::fs::write(dir.join("email-prefs-phone-en.png"), c.screenshot().await.expect("screenshot"));
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_visit_typed_just_before_the_browser_is_killed_is_there_when_it_reopens() {
    let Some((driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    app.user("mon@a.org", "org-a", Role::Monitor).await;
    app.facility("Estación Migratoria Tenosique").await;
    sign_in(&c, &app.url("/"), "mon@a.org").await;
    c.goto(&app.url("/visits/new")).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    until_controlled(&c).await;
    c.find(Locator::Css("#f-facility_id option:nth-child(2)")).await.expect("facility").click().await.expect("pick");
    let words = "Celda 3: cuarenta personas, sin colchones ni agua potable";
    click(&c, "#sec-material_conditions > summary").await;
    fill(&c, "textarea[name='sections.material_conditions.observations']", words).await;
    text_until(&c, "#draft-status", |t| t.starts_with("Guardado en este dispositivo")).await;
    let at = c.current_url().await.expect("url").to_string();
    // Moments later the phone's system kills the browser.
    tokio::time::sleep(Duration::from_millis(300)).await;
    driver.kill_browser();
    drop(c);

    let c = driver.session(412, 915).await;
    sign_in(&c, &app.url("/"), "mon@a.org").await;
    c.goto(&at).await.expect("goto");
    wait_h1(&c, "Registrar una visita").await;
    // What localStorage lost, the durable copy gives back: the page reopens with it.
    let kept = text_until(&c, "#draft-status", |t| t.starts_with("Guardado en este dispositivo")).await;
    until_controlled(&c).await;
    let typed = value_of(&c, "textarea[name='sections.material_conditions.observations']").await;
    assert_eq!(typed, words, "the words typed before the kill are there ({kept})");
    let visits = app.store.visits(app.org("org-a").await, None).await.expect("visits");
    assert!(visits.is_empty(), "and nothing was sent");
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_flagged_suspension_reads_in_words_and_is_shaded_on_the_chart_the_map_and_the_calendar() {
    let Some((_driver, c)) = browser(412, 915).await else { return };
    let app = TestApp::new(vigia_store::testing::TestDb::sqlite()).await;
    vigia_cli::demo::seed(&app.store).await.expect("demo data");
    c.goto(&app.url("/login")).await.expect("goto");
    wait_for(&c, "#email").await;
    fill(&c, "#email", "coordinacion@defensoria.example").await;
    fill(&c, "#password", vigia_cli::demo::PASSWORD).await;
    click(&c, "button[type=submit]:not(.link)").await;
    wait_h1(&c, "Resumen").await;
    c.goto(&app.url("/access/analysis?from=2020-01-01&until=2020-12-31")).await.expect("goto");
    wait_h1(&c, "Análisis del acceso").await;
    let episodes = text_of(&c, "#episodes").await;
    assert!(episodes.contains("si nada hubiera cambiado") && episodes.contains("ventanas de"), "{episodes}");
    let flagged = c.find_all(Locator::Css("#chart-by-month rect.flagged")).await.expect("shaded").len();
    assert!(flagged >= 3, "the spring months are shaded on the monthly chart ({flagged})");
    assert!(!c.find_all(Locator::Css("svg.map circle.flagged")).await.expect("ringed").is_empty(), "and on the map");
    for (css, shot) in
        [("#episodes", "analysis-episodes-phone.png"), ("#chart-by-month", "analysis-chart-flagged-phone.png")]
    {
        c.execute(&format!("document.querySelector('{css}').scrollIntoView({{block: 'start'}});"), vec![])
            .await
            .expect("scroll");
        let _ = std::fs::write(screenshot_dir().join(shot), c.screenshot().await.expect("shot"));
    }
    // A center in the flagged period shows it on its calendar.
    let link = c.find(Locator::Css("svg.map circle.flagged + a")).await.expect("a ringed center");
    let href = link.attr("href").await.expect("attr").expect("href");
    c.goto(&app.url(&format!("{href}?year=2020"))).await.expect("goto");
    wait_for(&c, "#outcome-calendar").await;
    assert!(!c.find_all(Locator::Css("#outcome-calendar td.cal-flagged")).await.expect("days").is_empty());
    c.execute("document.querySelector('td.cal-flagged').scrollIntoView({block: 'center'});", vec![])
        .await
        .expect("scroll");
    let _ = std::fs::write(screenshot_dir().join("calendar-flagged-phone.png"), c.screenshot().await.expect("shot"));
    c.close().await.expect("close");
}
