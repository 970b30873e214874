//! Retention and erasure (issue #20 part 3): each organization's rule, the facts that
//! decide what is due, and the erasure that destroys a case's own data key.

use vigia_domain::retention::{ErasureReason, RetentionRule};

use crate::*;

/// An organization's rule as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleRecord {
    pub org_id: i64,
    pub rule: RetentionRule,
    pub updated_by: Option<i64>,
    pub updated_at: Micros,
}

/// When and by whom a case's personal data was erased, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Erasure {
    pub case_id: i64,
    pub at: Micros,
    pub by_user_id: Option<i64>,
    pub by_name: Option<String>,
    pub reason: ErasureReason,
    /// Some of the case's values were sealed before cases had their own key: the
    /// history keeps those under the organization's key, out of the erasure's reach.
    pub partial: bool,
}

/// What decides a case's retention, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RetentionFacts {
    pub case_id: i64,
    /// When the case was last closed (from its history); `None` while open.
    pub closed_at: Option<Micros>,
    /// A live (not voided) appeal or amparo is recorded.
    pub litigating: bool,
    pub erasure: Option<Erasure>,
}

/// A check run inside the erasure's write, on the facts and the rule read there: a
/// refusal stops it.
pub type ErasureCheck = dyn Fn(&RetentionFacts, Option<&RetentionRule>) -> Result<()> + Send + Sync;

/// Retention and erasure.
#[async_trait::async_trait]
pub trait Retention: Send + Sync {
    async fn retention_rule(&self, org_id: i64) -> Result<Option<RuleRecord>>;
    async fn set_retention_rule(&self, actor: &Actor, org_id: i64, rule: RetentionRule) -> Result<RuleRecord>;
    /// The retention facts of the organization's cases (one case when `case_id`).
    async fn retention_facts(&self, org_id: i64, case_id: Option<i64>) -> Result<Vec<RetentionFacts>>;
    /// Erases a case's personal data: destroys its data key, empties the person, the
    /// event notes and reasons and the documents, ends its open shares, all recorded in
    /// one write; `check` runs first on the facts read inside it. Then asks the database
    /// to drop what it still keeps of the destroyed key (SQLite: the write-ahead log is
    /// checkpointed and truncated, with secure delete on; PostgreSQL: the key table is
    /// rewritten).
    async fn erase_case_data(
        &self,
        actor: &Actor,
        org_id: i64,
        case_id: i64,
        reason: ErasureReason,
        litigation_ended: bool,
        check: &ErasureCheck,
    ) -> Result<Erasure>;
    /// A case's erasure, as the history records it; `None` while its data stands. What a
    /// case page asks on every view: one read of the history, not the retention facts.
    async fn erasure(&self, org_id: i64, case_id: i64) -> Result<Option<Erasure>>;
    /// Opens a case's sealed text as the history keeps it (with the case's key, or the
    /// organization's for a value written before case keys); `None` once the case's
    /// personal data was erased, whatever key the value was sealed with.
    async fn open_case_history_text(
        &self,
        org_id: i64,
        case_id: i64,
        field: &str,
        record: i64,
        stored: &str,
    ) -> Result<Option<String>>;
}
