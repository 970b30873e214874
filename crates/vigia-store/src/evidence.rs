//! Evidence files: content-addressed, sealed per organization.

use crate::*;

/// An evidence file attached to a record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    pub id: i64,
    pub org_id: i64,
    pub record_type: String,
    pub record_id: i64,
    pub sha256: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: Micros,
}

impl Attachment {
    pub fn content_json(&self) -> String {
        serde_json::json!({
            "id": self.id, "org_id": self.org_id, "record_type": self.record_type, "record_id": self.record_id,
            "sha256": self.sha256, "filename": self.filename, "content_type": self.content_type, "size": self.size,
        })
        .to_string()
    }
}

/// Evidence files: content-addressed, sealed per organization.
#[async_trait::async_trait]
pub trait Evidence: Send + Sync {
    /// Stores the bytes (once per content) and attaches them to a record, audited.
    #[allow(clippy::too_many_arguments)]
    async fn add_attachment(
        &self,
        actor: &Actor,
        org_id: i64,
        record_type: RecordType,
        record_id: i64,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<Attachment>;
    async fn attachments(&self, record_type: RecordType, record_id: i64) -> Result<Vec<Attachment>>;
    async fn attachment(&self, id: i64) -> Result<Option<Attachment>>;
    /// The bytes of a blob, checked against their hash on the way out.
    async fn blob(&self, sha256: &str) -> Result<Vec<u8>>;
}
