//! Access attempts through the API.

use serde_json::Value;

use super::TestApp;

impl TestApp {
    /// Records an access attempt through the API with `token`; the status and the
    /// attempt answered (or the problem).
    pub async fn post_attempt(&self, token: &str, body: &Value) -> (u16, Value) {
        self.api_post(token, "/api/v1/access-attempts", body).await
    }

    /// Corrects attempt `id` from `version` with `body`; the status answered.
    pub async fn correct_attempt(&self, token: &str, id: i64, version: i64, body: &Value) -> u16 {
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
}
