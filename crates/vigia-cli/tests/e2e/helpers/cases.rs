//! Legal-aid cases through the API.

use serde_json::Value;

use super::TestApp;

impl TestApp {
    /// Opens a case through the API with `token`; the status and the case answered (or
    /// the problem).
    pub async fn post_case(&self, token: &str, body: &Value) -> (u16, Value) {
        self.api_post(token, "/api/v1/cases", body).await
    }
}
