//! Legal-aid cases: private to their organization, the person sealed, deadlines computed on read.

use crate::*;

/// A case's sealed content, opened: the person and every event note by event id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCase {
    pub person: Person,
    pub notes: std::collections::BTreeMap<i64, String>,
}

/// A case with the plain facts of its live (not voided) events, for deadline sweeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub case: Case,
    pub facts: Vec<Fact>,
}

/// Legal-aid cases: private to their organization, the person sealed, deadlines computed on read.
#[async_trait::async_trait]
pub trait Cases: Send + Sync {
    async fn create_case(&self, actor: &Actor, org_id: i64, draft: CaseDraft) -> Result<Case>;
    /// A new version of a case `org_id` owns; another organization's is not found.
    async fn update_case(
        &self,
        actor: &Actor,
        org_id: i64,
        id: i64,
        expected_version: Option<i64>,
        draft: CaseDraft,
    ) -> Result<Case>;
    /// The plain fields of a case `org_id` owns.
    async fn case(&self, org_id: i64, id: i64) -> Result<Option<Case>>;
    async fn list_cases(&self, org_id: i64, filter: &CaseFilter) -> Result<Vec<Case>>;
    /// Up to `limit` of the cases `filter` matches with an id below `before`, newest
    /// (highest id) first: read page by page from an index.
    async fn cases_page(&self, org_id: i64, filter: &CaseFilter, before: Option<i64>, limit: i64) -> Result<Vec<Case>>;
    /// How many cases [`Cases::cases_page`] pages through (below `before`, when given).
    async fn count_cases(&self, org_id: i64, filter: &CaseFilter, before: Option<i64>) -> Result<i64>;
    /// These cases of `org_id` with the plain facts of their live events, in the order
    /// given: a page of cases assessed without reading the others.
    async fn facts_of(&self, org_id: i64, cases: Vec<Case>) -> Result<Vec<CaseFacts>>;
    /// Opens the sealed person and event notes, and records the read (who read whose
    /// data, when) in the audit history in the same transaction.
    async fn read_case_sealed(&self, actor: &Actor, org_id: i64, id: i64) -> Result<SealedCase>;
    async fn add_case_event(&self, actor: &Actor, org_id: i64, case_id: i64, draft: EventDraft) -> Result<CaseEvent>;
    /// Marks an event as a mistake, with a reason; it stays in the record.
    async fn void_case_event(
        &self,
        actor: &Actor,
        org_id: i64,
        case_id: i64,
        event_id: i64,
        reason: &str,
    ) -> Result<CaseEvent>;
    /// A case's events, oldest first, notes left sealed.
    async fn case_events(&self, org_id: i64, case_id: i64) -> Result<Vec<CaseEvent>>;
    /// Cases of the given organizations (all when `None`) with their live facts.
    async fn cases_with_facts(&self, org_ids: Option<&[i64]>, open_only: bool) -> Result<Vec<CaseFacts>>;
    /// Seals a document's bytes with the organization's key and attaches it to a case
    /// the organization owns; the plaintext's SHA-256 is recorded in the audit history.
    async fn add_case_document(
        &self,
        actor: &Actor,
        org_id: i64,
        case_id: i64,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<Attachment>;
    /// A case's documents (metadata only).
    async fn case_documents(&self, org_id: i64, case_id: i64) -> Result<Vec<Attachment>>;
    /// Opens a document of the organization, checks it against its hash and records
    /// the read in the audit history.
    async fn read_case_document(&self, actor: &Actor, org_id: i64, id: i64) -> Result<(Attachment, Vec<u8>)>;
    /// A stable pseudonym for a case, keyed by the organization's data key, for
    /// analysts who may not see who the person is.
    fn case_pseudonym(&self, org_id: i64, case_id: i64) -> Result<String>;
}
