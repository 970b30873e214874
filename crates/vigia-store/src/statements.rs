//! Official statements: a public record every organization reads; claims and reviews of detections.

use crate::*;

/// Official statements: a public record every organization reads; claims and reviews of detections.
#[async_trait::async_trait]
pub trait Statements: Send + Sync {
    async fn create_statement(&self, actor: &Actor, org_id: i64, draft: StatementDraft) -> Result<Statement>;
    /// Every statement with its claims, oldest first.
    async fn statements(&self) -> Result<Vec<Statement>>;
    /// Up to `limit` statements with their claims after `after` (when published, in
    /// microseconds, and the id), newest first: read page by page from an index.
    async fn statements_page(&self, after: Option<Cursor>, limit: i64) -> Result<Vec<Statement>>;
    /// How many statements there are.
    async fn count_statements(&self) -> Result<i64>;
    /// These statements with their claims (those that exist, in no particular order).
    async fn statements_by_ids(&self, ids: &[i64]) -> Result<Vec<Statement>>;
    async fn statement(&self, id: i64) -> Result<Option<Statement>>;
    /// Corrects a statement's fields as a new version (claims stay); with
    /// `expected_version`, refuses when someone else saved in between.
    async fn update_statement(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        draft: StatementDraft,
    ) -> Result<Statement>;
    /// Records statements with their claims in one transaction: all or none.
    async fn import_statements(
        &self,
        actor: &Actor,
        org_id: i64,
        items: Vec<(StatementDraft, Vec<ClaimDraft>)>,
    ) -> Result<Vec<i64>>;
    /// Adds a claim; its facility ids must exist.
    async fn add_claim(&self, actor: &Actor, statement_id: i64, draft: ClaimDraft) -> Result<Claim>;
    /// Marks a claim as confirmed (or not) by a second source.
    async fn set_claim_confirmed(&self, actor: &Actor, claim_id: i64, confirmed: bool) -> Result<Claim>;
    /// Records an analyst's verdict on a detection (a new verdict replaces the last, and
    /// both stay in the history).
    async fn review_detection(
        &self,
        actor: &Actor,
        org_id: i64,
        key: &str,
        status: ReviewStatus,
        reason: &str,
    ) -> Result<Review>;
    async fn detection_reviews(&self) -> Result<Vec<Review>>;
}
