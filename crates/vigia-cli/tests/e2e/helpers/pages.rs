//! Signing in, and the CSRF tokens the pages' forms carry.

use reqwest::redirect::Policy;

use super::{csrf_of, get_text, TestApp, PASSWORD};

impl TestApp {
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

    /// A browser-like client, not signed in, and the CSRF token of the sign-in form.
    pub async fn login_form(&self) -> (reqwest::Client, String) {
        let c = self.browser();
        let csrf = self.csrf_for(&c, "/login").await;
        (c, csrf)
    }

    /// The CSRF token of the page at `path`, as the client `c` is shown it.
    pub async fn csrf_for(&self, c: &reqwest::Client, path: &str) -> String {
        let (_, page) = get_text(c, self.url(path)).await;
        csrf_of(&page)
    }

    /// Signs `email` in and reads the CSRF token of the page at `path`.
    pub async fn login_with_csrf(&self, email: &str, path: &str) -> (reqwest::Client, String) {
        let c = self.login(email).await;
        let csrf = self.csrf_for(&c, path).await;
        (c, csrf)
    }
}
