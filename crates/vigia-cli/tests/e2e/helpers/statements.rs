//! Official statements and their claims through the API.

use serde_json::Value;

use super::TestApp;

impl TestApp {
    /// Records a statement through the API with `token`; the status and the statement
    /// answered (or the problem).
    pub async fn post_statement(&self, token: &str, body: &Value) -> (u16, Value) {
        self.api_post(token, "/api/v1/statements", body).await
    }

    /// Adds a claim to the statement `id`; the status and the statement answered, its
    /// claims included (or the problem).
    pub async fn post_claim(&self, token: &str, id: &Value, body: &Value) -> (u16, Value) {
        self.api_post(token, &format!("/api/v1/statements/{id}/claims"), body).await
    }

    /// Records the token's organization's verdict on a detection (`key`, `status`,
    /// `reason`); the status and the review answered (or the problem).
    pub async fn post_review(&self, token: &str, body: &Value) -> (u16, Value) {
        self.api_post(token, "/api/v1/contradictions/review", body).await
    }
}
