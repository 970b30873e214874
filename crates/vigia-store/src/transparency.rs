//! Access-to-information requests (issue #20 part 1): each organization's own requests,
//! what happened to each (events, never changed: a correction is a new event), the
//! records they concern (links), and the state regimes administrators add.

use crate::*;
use vigia_domain::transparency::{EventDraft, LinkDraft, LinkKind, Regime, RequestDraft};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Request {
    pub id: i64,
    pub org_id: i64,
    #[serde(flatten)]
    pub draft: RequestDraft,
    pub created_by: Option<i64>,
    pub created_at: Micros,
}

impl Request {
    pub fn content_json(&self) -> String {
        let mut v = serde_json::to_value(&self.draft).unwrap_or_default();
        v["id"] = self.id.into();
        v["org_id"] = self.org_id.into();
        v["created_by"] = self.created_by.into();
        v["created_at"] = self.created_at.into();
        v.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequestEvent {
    pub id: i64,
    pub org_id: i64,
    pub request_id: i64,
    #[serde(flatten)]
    pub draft: EventDraft,
    pub created_by: Option<i64>,
    pub created_at: Micros,
}

impl RequestEvent {
    pub fn content_json(&self) -> String {
        let mut v = serde_json::to_value(&self.draft).unwrap_or_default();
        v["id"] = self.id.into();
        v["org_id"] = self.org_id.into();
        v["request_id"] = self.request_id.into();
        v["created_by"] = self.created_by.into();
        v["created_at"] = self.created_at.into();
        v.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequestLink {
    pub id: i64,
    pub org_id: i64,
    pub request_id: i64,
    pub kind: LinkKind,
    pub reference: String,
    pub created_by: Option<i64>,
    pub created_at: Micros,
}

impl RequestLink {
    pub fn content_json(&self) -> String {
        serde_json::json!({
            "id": self.id, "org_id": self.org_id, "request_id": self.request_id, "kind": self.kind,
            "reference": self.reference, "created_by": self.created_by, "created_at": self.created_at,
        })
        .to_string()
    }
}

/// A regime an administrator added, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredRegime {
    pub id: i64,
    /// The name column (the regime's own name, kept apart for uniqueness).
    pub name: String,
    pub regime: Regime,
    pub created_by: Option<i64>,
    pub created_at: Micros,
}

impl StoredRegime {
    pub fn content_json(&self) -> String {
        serde_json::json!({"id": self.id, "name": self.name, "regime": self.regime, "created_by": self.created_by,
            "created_at": self.created_at})
        .to_string()
    }
}

/// Makes the event to record from the request's events so far, or says why not.
pub type EventCheck =
    Box<dyn FnOnce(&[EventDraft]) -> std::result::Result<EventDraft, vigia_domain::ValidationErrors> + Send>;

#[async_trait::async_trait]
pub trait Transparency: Send + Sync {
    /// Records a request with the events already known about it (an import of an
    /// existing log), all or nothing. Conflict `request_exists` for the same authority
    /// and folio twice in an organization.
    async fn create_requests(
        &self,
        actor: &Actor,
        org_id: i64,
        items: Vec<(RequestDraft, Vec<EventDraft>)>,
    ) -> Result<Vec<Request>>;
    /// The organization's requests, newest filing first.
    async fn requests(&self, org_id: i64) -> Result<Vec<Request>>;
    async fn request(&self, org_id: i64, id: i64) -> Result<Option<Request>>;
    /// The organization's request events, of one request or all, oldest first.
    async fn request_events(&self, org_id: i64, request_id: Option<i64>) -> Result<Vec<RequestEvent>>;
    /// Adds the event `check` makes of the request's events so far, read inside the
    /// write transaction (writes are serialized), so two people recording at once are
    /// each checked against the other's step. Conflict `already_recorded` when a step
    /// that happens once is recorded twice.
    async fn add_request_event(
        &self,
        actor: &Actor,
        org_id: i64,
        request_id: i64,
        check: EventCheck,
    ) -> Result<RequestEvent>;
    /// Links a record (checked by the caller to be visible). Conflict `link_exists`.
    async fn link_request(&self, actor: &Actor, org_id: i64, request_id: i64, link: LinkDraft) -> Result<RequestLink>;
    async fn request_links(&self, org_id: i64, request_id: Option<i64>) -> Result<Vec<RequestLink>>;
    /// Adds a regime (checked by the caller). Conflict `regime_exists` for a name taken.
    async fn add_regime(&self, actor: &Actor, regime: &Regime) -> Result<StoredRegime>;
    async fn regimes(&self) -> Result<Vec<StoredRegime>>;
}
