//! Concurrent load for the benchmarks: `workers` keep-alive clients send one request
//! after another until the time is up; latencies of the expected answers are kept.

use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Outcome {
    pub name: &'static str,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    #[allow(dead_code)] // one of the benchmarks prints it
    pub p99_ms: f64,
}

impl Outcome {
    #[allow(dead_code)] // one of the benchmarks prints requests per second
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

pub type MakeRequest = Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>;

pub async fn drive(name: &'static str, workers: usize, duration: Duration, expect: u16, make: MakeRequest) -> Outcome {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let client = client.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                match make(&client).send().await {
                    Ok(r) if r.status().as_u16() == expect => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.expect("worker");
        all.extend(lat);
        errors += e;
    }
    let seconds = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    };
    Outcome {
        name,
        requests: all.len() as u64,
        errors,
        seconds,
        p50_ms: pct(0.50),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
    }
}

/// Signs in through the login form as a browser does (its CSRF cookie and token) and
/// returns the session cookie, with the CSRF cookie and the form's body for benchmarks
/// that time signing in itself.
#[allow(dead_code)] // not every benchmark signs in
pub async fn sign_in(base: &str, email: &str, password: &str) -> (String, String, String) {
    let jar = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let page = jar.get(format!("{base}/login")).send().await.expect("login page");
    let cookie = cookie_named(&page, "vigia_csrf=");
    let csrf = cookie.trim_start_matches("vigia_csrf=").to_string();
    let email = email.replace('@', "%40");
    let form = format!("csrf={csrf}&email={email}&password={password}&next=%2F");
    let session = jar
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(form.clone())
        .send()
        .await
        .expect("login");
    (cookie_named(&session, "vigia_session="), cookie, form)
}

/// The `name=value` of the cookie an answer sets under `name=`.
#[allow(dead_code)] // not every benchmark signs in
fn cookie_named(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(name))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_string()
}
