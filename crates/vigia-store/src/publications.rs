//! Publications (issue #17 part 2): frozen public aggregates, proposed and decided by two
//! different people, and the organization's publication key that signs what is published.

use crate::*;
use vigia_domain::publication::{PublicationDraft, Status};

/// A publication as stored. `content` is the frozen JSON the public site is written from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Publication {
    pub id: i64,
    pub org_id: i64,
    pub draft: PublicationDraft,
    pub status: Status,
    #[serde(skip)]
    pub content: String,
    pub content_sha256: String,
    pub proposed_by: i64,
    pub proposed_at: Micros,
    pub decided_by: Option<i64>,
    pub decided_at: Option<Micros>,
}

impl Publication {
    /// What the audit chain records of it: everything but the content itself, whose
    /// SHA-256 stands for it (recomputed from the stored content when verified).
    pub fn content_json(&self) -> String {
        serde_json::json!({
            "id": self.id, "org_id": self.org_id, "year": self.draft.year,
            "sections": self.draft.sections, "detail": self.draft.detail, "status": self.status,
            "content_sha256": vigia_domain::audit::sha256_hex(self.content.as_bytes()),
            "proposed_by": self.proposed_by, "proposed_at": self.proposed_at,
            "decided_by": self.decided_by, "decided_at": self.decided_at,
        })
        .to_string()
    }
}

#[async_trait::async_trait]
pub trait Publications: Send + Sync {
    /// Freezes `content` as a proposal of `actor` for `org_id`.
    async fn propose_publication(
        &self,
        actor: &Actor,
        org_id: i64,
        draft: PublicationDraft,
        content: String,
    ) -> Result<Publication>;
    /// Approves or rejects a proposal. Refused (conflict) when it is not a proposal any
    /// more, when the one deciding proposed it (four eyes), or when the year already has
    /// an approved publication.
    async fn decide_publication(&self, actor: &Actor, org_id: i64, id: i64, approve: bool) -> Result<Publication>;
    /// The organization's publications, newest first.
    async fn publications(&self, org_id: i64) -> Result<Vec<Publication>>;
    async fn publication(&self, org_id: i64, id: i64) -> Result<Option<Publication>>;
    /// Every approved publication of every organization, newest year first: what the
    /// public site serves.
    async fn approved_publications(&self) -> Result<Vec<Publication>>;
    /// One approved publication by its id, whoever published it (the public site).
    async fn approved_publication(&self, id: i64) -> Result<Option<Publication>>;
    /// Signs `message` with the organization's Ed25519 publication key (derived from the
    /// master key, so nothing secret is stored for it); returns the public key and the
    /// signature, both hex.
    async fn sign_publication(&self, org_id: i64, message: &[u8]) -> Result<(String, String)>;
}
