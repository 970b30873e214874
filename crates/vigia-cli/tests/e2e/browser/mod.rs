//! Headless Chromium through ChromeDriver, clicking through pages as a person would.
//! Skipped, saying so, when Chromium or ChromeDriver is not installed.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::helpers::{TestApp, PASSWORD};

mod analysis;
mod consents;
mod field;
mod imports;
mod pages;
mod recommendations;
mod reports;
mod requests;
mod retention;
mod statistics;
mod visits;

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
        self.kill_chromium();
        std::thread::sleep(Duration::from_millis(500));
    }

    /// SIGKILL to this driver's Chromium processes, and no other test's: the profile's
    /// path ends its argument.
    fn kill_chromium(&self) {
        let pattern = format!("user-data-dir={}( |$)", self.profile.display());
        let _ = Command::new("pkill").args(["-KILL", "-f", &pattern]).status();
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
        // And the browser: a test that ends without closing its session (a failed
        // assertion, an early return) left Chromium running after its driver was gone.
        self.kill_chromium();
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

/// Picks an option in a list (`css` names the `<option>`), as a tap on it would.
async fn pick(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.expect(css).click().await.expect("pick");
}

/// Follows the link that reads `text` (a menu entry, a zoom level, a draft to open).
async fn follow(c: &Client, text: &str) {
    c.find(Locator::LinkText(text)).await.expect(text).click().await.expect("click");
}

async fn text_of(c: &Client, css: &str) -> String {
    wait_for(c, css).await.text().await.expect("text")
}

/// Polls (up to 10 s) until the element's text satisfies `ok`: after a click that
/// submits a form the old page may still be there, or go stale while read.
async fn text_until(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    text_within(c, css, Duration::from_secs(10), ok).await
}

/// As [`text_until`], for work whose length is the machine's (an import of tens of
/// thousands of rows by a debug build): waits up to `limit`.
async fn text_within(c: &Client, css: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
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

/// Whether the page fits the window's width (no sideways scrolling).
pub(super) async fn fits(c: &Client) -> bool {
    c.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
        .await
        .expect("measure")
        .as_bool()
        .unwrap_or(false)
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

/// Opens the sign-in form on the server at `base` (e.g. `http://127.0.0.1:PORT`, a
/// trailing slash or not) and sends it as `email`; what comes next is the caller's to
/// wait for.
async fn submit_sign_in(c: &Client, base: &str, email: &str) {
    c.goto(&format!("{}/login", base.trim_end_matches('/'))).await.expect("goto");
    wait_h1(c, "Iniciar sesión").await;
    fill(c, "#email", email).await;
    fill(c, "#password", PASSWORD).await;
    click(c, "button[type=submit]:not(.link)").await;
}

/// Signs in on the server at `base` (e.g. `http://127.0.0.1:PORT`, a trailing slash or not).
async fn sign_in(c: &Client, base: &str, email: &str) {
    submit_sign_in(c, base, email).await;
    // Each role lands on its own page: wait until the sign-in page is gone.
    text_until(c, "h1", |t| !t.is_empty() && t != "Iniciar sesión").await;
}

/// Sends the sign-in form as one of the demo's people (`vigia_cli::demo::seed`), with
/// the demo's password; what comes next is the caller's to wait for.
async fn sign_in_demo(c: &Client, app: &TestApp, email: &str) {
    c.goto(&app.url("/login")).await.expect("goto");
    wait_for(c, "#email").await;
    fill(c, "#email", email).await;
    fill(c, "#password", vigia_cli::demo::PASSWORD).await;
    click(c, "button[type=submit]:not(.link)").await;
}
