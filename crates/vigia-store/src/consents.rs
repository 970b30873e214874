//! Consent per purpose and case shares (issue #20 part 2): each person's consent records,
//! never edited (a withdrawal is a new record), and the shares of a case with a partner
//! organization, which the application opens only while the matching consent stands.

use crate::*;
use vigia_domain::consent::ConsentDraft;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsentRecord {
    pub id: i64,
    pub org_id: i64,
    pub case_id: i64,
    #[serde(flatten)]
    pub draft: ConsentDraft,
    pub recorded_by: Option<i64>,
    pub created_at: Micros,
}

impl ConsentRecord {
    pub fn content_json(&self) -> String {
        let mut v = serde_json::to_value(&self.draft).unwrap_or_default();
        v["id"] = self.id.into();
        v["org_id"] = self.org_id.into();
        v["case_id"] = self.case_id.into();
        v["recorded_by"] = self.recorded_by.into();
        v["created_at"] = self.created_at.into();
        v.to_string()
    }
}

/// A case shared with a partner organization.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaseShare {
    pub id: i64,
    pub org_id: i64,
    pub case_id: i64,
    pub partner_org_id: i64,
    pub created_by: Option<i64>,
    pub created_at: Micros,
    pub ended_by: Option<i64>,
    pub ended_at: Option<Micros>,
}

impl CaseShare {
    pub fn content_json(&self) -> String {
        serde_json::json!({
            "id": self.id, "org_id": self.org_id, "case_id": self.case_id, "partner_org_id": self.partner_org_id,
            "created_by": self.created_by, "created_at": self.created_at, "ended_by": self.ended_by,
            "ended_at": self.ended_at,
        })
        .to_string()
    }
}

#[async_trait::async_trait]
pub trait Consents: Send + Sync {
    /// Records a consent (given or withdrawn) for a case of the organization; a
    /// withdrawal of sharing with a partner ends the open share with it in the same
    /// transaction. Invalid
    /// `evidence_document_id` unless it is a document of this case, `partner_org_id`
    /// unless it names another organization.
    async fn record_consent(
        &self,
        actor: &Actor,
        org_id: i64,
        case_id: i64,
        draft: ConsentDraft,
    ) -> Result<ConsentRecord>;
    /// The organization's consent records, of one case or all, oldest first.
    async fn consents(&self, org_id: i64, case_id: Option<i64>) -> Result<Vec<ConsentRecord>>;
    /// Shares a case with a partner (the caller checks the consent). Conflict
    /// `share_exists` while a share with that partner is open.
    async fn share_case(&self, actor: &Actor, org_id: i64, case_id: i64, partner_org_id: i64) -> Result<CaseShare>;
    /// Ends an open share of one of the organization's cases.
    async fn end_share(&self, actor: &Actor, org_id: i64, share_id: i64) -> Result<CaseShare>;
    /// The shares of one of the organization's cases, oldest first.
    async fn case_shares(&self, org_id: i64, case_id: i64) -> Result<Vec<CaseShare>>;
    /// The open shares made with a partner organization, newest first.
    async fn shares_with(&self, partner_org_id: i64) -> Result<Vec<CaseShare>>;
    /// A case's consent records as the audit history last recorded each: what access
    /// decisions trust, since the history cannot be changed without the master key and
    /// the table can.
    async fn audited_consents(&self, org_id: i64, case_id: i64) -> Result<Vec<ConsentRecord>>;
    /// A share as the audit history last recorded it.
    async fn audited_share(&self, share_id: i64) -> Result<Option<CaseShare>>;
    /// Opens the person's sealed data of a shared case for the partner (only the person,
    /// not the event notes), recording the read with the share and the partner in the
    /// owner's history.
    async fn read_shared_person(&self, actor: &Actor, share: &CaseShare) -> Result<vigia_domain::case::Person>;
    /// Records in the case's history that everything held about its person was exported
    /// for them (an ARCO access request): `content` says what the file held.
    async fn record_arco_export(&self, actor: &Actor, org_id: i64, case_id: i64, content: &str) -> Result<()>;
}
