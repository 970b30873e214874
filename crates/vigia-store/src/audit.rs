//! The tamper-evident history: entries, verification, the published head.

use crate::*;

/// One version of a record as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEntry {
    pub seq: i64,
    /// The record the entry is a version of (a page may show several records' entries).
    pub record_type: String,
    pub record_id: i64,
    pub at: Micros,
    pub actor_user_id: Option<i64>,
    pub actor_name: Option<String>,
    pub action: String,
    pub content: String,
    pub content_hash: String,
    pub entry_hash: String,
}

/// The result of recomputing the audit chain and comparing it with the records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub entries: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// What is wrong, first break first; empty when everything verifies.
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The audit chain's head as an organization publishes or keeps it outside Vigía
/// (issue #22 finding 6): later, `vigia audit verify --head FILE` proves the history
/// still holds this entry with this hash, so cutting it back or rewriting it — even by
/// someone with the master key — shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublishedHead {
    pub seq: i64,
    pub hash: String,
    /// When the head last moved, RFC 3339 UTC.
    pub at: String,
    /// HMAC of `seq`, `hash` and `at` under the master key of the time: a head made by
    /// whoever holds the key, not typed by someone else.
    pub mac: String,
}

impl PublishedHead {
    const PURPOSE: &'static str = "published-head";

    fn message(seq: i64, hash: &str, at: &str) -> String {
        format!("{seq}\n{hash}\n{at}")
    }

    pub fn new(key: &MasterKey, seq: i64, hash: String, at: String) -> Self {
        let mac = key.mac(Self::PURPOSE, Self::message(seq, &hash, &at).as_bytes());
        PublishedHead { seq, hash, at, mac }
    }

    /// Whether `key` made this head (false after a rotation: the values still anchor).
    pub fn signed_by(&self, key: &MasterKey) -> bool {
        key.verify_mac(Self::PURPOSE, Self::message(self.seq, &self.hash, &self.at).as_bytes(), &self.mac)
    }
}

/// Every action an audit entry can name. Pages label each one in both languages
/// (`action-…` in the catalogues, checked by a test there); a write naming another
/// fails in debug builds.
pub const AUDIT_ACTIONS: [&str; 32] = [
    "create",
    "update",
    "disable",
    "enable",
    "delete",
    "set_locale",
    "rewrap",
    "import",
    "original",
    "reseal",
    "add_member",
    "attach",
    "void",
    "read_sealed",
    "revoke",
    "confirm",
    "unconfirm",
    "confirmed",
    "dismissed",
    "change_password",
    "reset_password",
    "issue_password_reset",
    "enable_2fa",
    "disable_2fa",
    "lock_2fa",
    "use_recovery_code",
    "set_email_prefs",
    "propose",
    "approve",
    "reject",
    "arco_export",
    "erase",
];

/// The tamper-evident history: entries, verification, the published head.
#[async_trait::async_trait]
pub trait Audit: Send + Sync {
    /// Every version of a record, oldest first. Private records are only returned to
    /// their organization (`org_id`).
    async fn history(&self, record_type: RecordType, record_id: i64, org_id: Option<i64>) -> Result<Vec<HistoryEntry>>;
    /// Audit entries, newest first; only an organization's own when `org_id` is given.
    async fn audit_entries(&self, org_id: Option<i64>, before_seq: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>>;
    /// How many audit entries `audit_entries` would page through (before `before_seq`, if set).
    async fn count_audit_entries(&self, org_id: Option<i64>, before_seq: Option<i64>) -> Result<i64>;
    /// Recomputes the chain and checks current records against their last audited content.
    async fn verify_audit(&self) -> Result<VerifyReport>;
    /// The chain's head to publish, signed with the master key.
    async fn audit_head(&self) -> Result<PublishedHead>;
    /// The stored hash of entry `seq`, if the history holds it.
    async fn entry_hash_at(&self, seq: i64) -> Result<Option<String>>;
    /// How many entries follow entry `seq`, if every one records a row re-sealed so
    /// that its values name their record, or an imported attempt's version kept
    /// before it was (what opening data written by an older version adds); `None` if
    /// any other entry follows.
    async fn reseals_after(&self, seq: i64) -> Result<Option<i64>>;
    /// Seals every value back as Vigía did before values named their record, recorded
    /// as updates, and unmarks the database: how tests make the rows an older version
    /// left. Debug builds only; a release build refuses.
    #[doc(hidden)]
    async fn seal_as_before_for_tests(&self) -> Result<usize>;
}
