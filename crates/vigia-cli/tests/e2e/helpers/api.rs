//! The JSON API with a Bearer token, whatever the feature.

use serde_json::Value;

use super::TestApp;

impl TestApp {
    /// GETs `path` without signing in (public routes) and reads the JSON answer.
    pub async fn public_json(&self, path: &str) -> Value {
        let r = reqwest::Client::new().get(self.url(path)).send().await.expect("get");
        r.json().await.expect("json")
    }

    /// `GET path` with a Bearer token; the JSON it answers (200 or not).
    pub async fn get_json(&self, token: &str, path: &str) -> Value {
        let r = reqwest::Client::new().get(self.url(path)).bearer_auth(token).send().await.expect("get");
        r.json().await.expect("json")
    }

    /// `GET path` with a Bearer token; the status and the JSON answered (`null` when the
    /// answer is not JSON).
    pub async fn api_get(&self, token: &str, path: &str) -> (u16, Value) {
        let r = reqwest::Client::new().get(self.url(path)).bearer_auth(token).send().await.expect("get");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// `POST path` with a Bearer token and a JSON body; the status and the JSON answered
    /// (`null` when the answer is not JSON).
    pub async fn api_post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let r = reqwest::Client::new().post(self.url(path)).bearer_auth(token).json(body).send().await.expect("post");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}
