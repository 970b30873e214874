//! Keys and maintenance: rotation, export and import of every table, backups.

use crate::*;

/// The tables that hold records, counted for backups and restore checks.
pub const RECORD_TABLES: [&str; 36] = [
    "organizations",
    "users",
    "memberships",
    "facilities",
    "facility_notes",
    "coalitions",
    "access_attempts",
    "attempt_imports",
    "blobs",
    "attachments",
    "alerts",
    "webhooks",
    "calendar_rules",
    "cases",
    "case_keys",
    "case_events",
    "case_documents",
    "statements",
    "claims",
    "detection_reviews",
    "visits",
    "publications",
    "stat_files",
    "stat_versions",
    "stat_figures",
    "recommendations",
    "recommendation_links",
    "assessments",
    "transparency_requests",
    "transparency_events",
    "transparency_links",
    "transparency_regimes",
    "consents",
    "case_shares",
    "retention_rules",
    "audit_log",
];

/// Every table a portable export carries, in an order that satisfies foreign keys.
/// Sessions, sign-in failures and pending second factors are left out: after an import
/// people sign in again.
pub const EXPORT_TABLES: [&str; 46] = [
    "organizations",
    "users",
    "memberships",
    "api_tokens",
    "facilities",
    "org_keys",
    "facility_notes",
    "coalitions",
    "coalition_members",
    "access_attempts",
    "attempt_imports",
    "blobs",
    "attachments",
    "alerts",
    "webhooks",
    "deliveries",
    "email_prefs",
    "outbox",
    "calendar_rules",
    "cases",
    "case_keys",
    "case_events",
    "case_documents",
    "user_totp",
    "recovery_codes",
    "org_settings",
    "statements",
    "claims",
    "detection_reviews",
    "visits",
    "publications",
    "stat_files",
    "stat_versions",
    "stat_figures",
    "recommendations",
    "recommendation_links",
    "assessments",
    "transparency_requests",
    "transparency_events",
    "transparency_links",
    "transparency_regimes",
    "consents",
    "case_shares",
    "retention_rules",
    "audit_log",
    "chain_head",
];

/// One row of a portable export: column name to value; bytes are `{"base64": "…"}`.
pub type ExportRow = serde_json::Map<String, serde_json::Value>;

/// Row counts by table, for backups and restore checks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts(pub std::collections::BTreeMap<String, i64>);

impl Counts {
    pub fn get(&self, table: &str) -> i64 {
        self.0.get(table).copied().unwrap_or(0)
    }
}

/// Keys and maintenance: rotation, export and import of every table, backups.
#[async_trait::async_trait]
pub trait Maintenance: Send + Sync {
    /// Re-wraps every data key under `new`; the vault then uses `new`.
    async fn rotate_master_key(&self, actor: &Actor, new: &MasterKey) -> Result<usize>;
    /// Rows of one of [`EXPORT_TABLES`], in primary-key order, for a portable export
    /// (evidence bytes included even when they live in files).
    async fn export_page(&self, table: &str, offset: i64, limit: i64) -> Result<Vec<ExportRow>>;
    /// Inserts exported rows as they are (ids, audit entries and ciphertexts unchanged)
    /// into an empty database.
    async fn import_rows(&self, table: &str, rows: &[ExportRow]) -> Result<()>;
    /// After an import: identity counters continue after the imported ids.
    async fn finish_import(&self) -> Result<()>;
    /// A consistent copy of the database and its evidence files in the new directory
    /// `path` (`vigia.db`, `blobs/`), made while it may be written to.
    async fn backup_to(&self, path: &Path) -> Result<()>;
}
