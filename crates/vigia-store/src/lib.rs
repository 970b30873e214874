//! Vigía's storage.
//!
//! One [`Store`] interface, implemented once in SQL shared by both backends
//! (`src/sql/common.rs` is compiled twice, for SQLite and for PostgreSQL), each with its
//! own migrations. Every write runs in one transaction together with its audit entry:
//! the transaction first takes the chain head (a write, so SQLite takes its write lock
//! and PostgreSQL a row lock at once), which serializes writers on the one hash chain.

use std::path::Path;
use std::sync::Arc;

use vigia_domain::access::{Attempt, AttemptDraft, AttemptFilter, AttemptImport, Outcome, TallyFilter};
use vigia_domain::account::{Locale, Organization, Role, User};
use vigia_domain::audit::AuditEntry;
use vigia_domain::case::{Case, CaseDraft, CaseEvent, CaseFilter, EventDraft, Fact, Person};
use vigia_domain::facility::{Facility, FacilityDraft};
use vigia_domain::note::FacilityNote;
use vigia_domain::statement::{Claim, ClaimDraft, Review, ReviewStatus, Statement, StatementDraft};
use vigia_domain::visit::{Visit, VisitDraft};
use vigia_domain::{Micros, RecordType, ValidationErrors};

pub mod keyfile;
#[macro_use]
mod migrations;
pub mod postgres;
mod rowmac;
pub mod secrets;
pub mod sqlite;
/// Fresh test databases: for tests only (feature `testing`), never in production builds.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod vault;

pub use vault::{MasterKey, Vault, VaultError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique value is taken or a version moved on: the caller should reload.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("not supported on this backend: {0}")]
    Unsupported(&'static str),
    #[error("migration {version} ({name}) failed: {reason}")]
    Migration { version: i64, name: String, reason: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A security row fails its MAC: written or changed without the master key.
    #[error("a security record fails its integrity check: {0}")]
    Integrity(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The most alerts one read returns.
pub const MAX_ALERTS: i64 = 100_000;

/// Who does something: a user of an organization, or the system itself (CLI, demo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
}

impl Actor {
    pub const SYSTEM: Actor = Actor { user_id: None, org_id: None };

    pub fn user(u: &User) -> Actor {
        Actor { user_id: Some(u.id), org_id: Some(u.org_id) }
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub org_id: i64,
    pub role: Role,
    pub locale: Locale,
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user_id: i64,
    pub csrf: String,
    pub created_at: Micros,
    pub last_seen_at: Micros,
    /// When the user last confirmed their password in this session.
    pub reauth_at: Option<Micros>,
}

/// A session as its user sees it in their list: `id` is a prefix of the token's hash,
/// enough to name it, useless to sign in with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: Micros,
    pub last_seen_at: Micros,
}

/// A user's TOTP secret, opened, and whether it is confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpState {
    pub secret: Vec<u8>,
    pub enabled: bool,
    pub last_step: Option<i64>,
}

/// A sign-in that passed the password and waits for its second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginChallenge {
    pub user_id: i64,
    pub next: String,
    pub attempts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: Micros,
    pub revoked_at: Option<Micros>,
    /// After this it signs nothing in ([`API_TOKEN_LIFETIME`] after creation).
    pub expires_at: Option<Micros>,
    /// Recorded at most once a minute.
    pub last_used_at: Option<Micros>,
}

/// How long an API token works: 90 days (ASVS 3.5; a script's owner makes a new one).
pub const API_TOKEN_LIFETIME: Micros = 90 * 86_400 * 1_000_000;

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

/// A coalition: organizations that share access attempts with each other.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Coalition {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub members: Vec<i64>,
}

impl Coalition {
    pub fn content_json(&self) -> String {
        serde_json::json!({"id": self.id, "slug": self.slug, "name": self.name, "members": self.members}).to_string()
    }
}

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

/// An entry in an organization's alerts inbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Alert {
    pub id: i64,
    pub org_id: i64,
    pub kind: String,
    pub attempt_id: Option<i64>,
    /// The JSON document webhooks receive.
    pub payload: String,
    pub created_at: Micros,
    pub read_at: Option<Micros>,
}

/// A registered webhook (its secret stays sealed in the store).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Webhook {
    pub id: i64,
    pub org_id: i64,
    pub url: String,
    pub active: bool,
    /// Deleted by an admin: it sends nothing and leaves the lists; the row stays.
    pub deleted: bool,
    pub created_at: Micros,
}

impl Webhook {
    pub fn content_json(&self) -> String {
        let mut v = serde_json::json!({"id": self.id, "org_id": self.org_id, "url": self.url, "active": self.active});
        // Written only once deleted, so webhooks audited before deletion existed keep
        // the same content, byte for byte.
        if self.deleted {
            v["deleted"] = true.into();
        }
        v.to_string()
    }
}

/// What an admin can make of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookState {
    Active,
    Disabled,
    /// Final: a deleted webhook cannot be turned on again.
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub alert_id: i64,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Micros,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Micros,
    pub delivered_at: Option<Micros>,
}

/// A delivery claimed for sending, with what it needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub attempts: i64,
    pub url: String,
    pub secret: String,
    pub payload: String,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered { status: i64 },
    Retry { status: Option<i64>, error: String, next_at: Micros },
    Failed { status: Option<i64>, error: String },
}

/// How often a kind of alert reaches a person by e-mail (not at all when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailMode {
    Immediate,
    Daily,
}

impl EmailMode {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailMode::Immediate => "immediate",
            EmailMode::Daily => "daily",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "immediate" => Some(EmailMode::Immediate),
            "daily" => Some(EmailMode::Daily),
            _ => None,
        }
    }
}

/// The kinds of alert a person can choose to receive by e-mail.
pub const ALERT_KINDS: [&str; 4] = ["deadline", "violation", "episode", "denial"];

/// One person's choice for one kind of alert, with the last alert already considered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmailPref {
    pub user_id: i64,
    pub kind: String,
    pub mode: EmailMode,
    pub last_alert_id: i64,
}

/// A message claimed for sending, with its recipient as the account has it now.
#[derive(Debug, Clone)]
pub struct DueEmail {
    pub id: i64,
    pub user_id: i64,
    pub to: String,
    pub dedup_key: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// A message in the outbox, as the person's account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub attempts: i64,
    pub created_at: Micros,
    pub sent_at: Option<Micros>,
    pub last_error: Option<String>,
}

/// How a sending attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailOutcome {
    Sent,
    Retry { error: String, next_at: Micros },
    Failed { error: String },
}

/// A non-working day or period an agency declared, with its source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CalendarRule {
    pub id: i64,
    pub calendar: String,
    pub start_date: String,
    pub end_date: String,
    pub label_es: String,
    pub label_en: String,
    pub source: String,
}

impl CalendarRule {
    pub fn content_json(&self) -> String {
        serde_json::json!({
            "id": self.id, "calendar": self.calendar, "start_date": self.start_date, "end_date": self.end_date,
            "label_es": self.label_es, "label_en": self.label_en, "source": self.source,
        })
        .to_string()
    }

    /// The rule as the domain's clock reads it.
    pub fn to_rule(&self) -> vigia_domain::clock::Rule {
        vigia_domain::clock::Rule {
            when: vigia_domain::clock::When::Range { start: self.start_date.clone(), end: self.end_date.clone() },
            label_es: self.label_es.clone(),
            label_en: self.label_en.clone(),
            source: self.source.clone(),
            from: None,
            until: None,
        }
    }
}

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

/// The tables that hold records, counted for backups and restore checks.
pub const RECORD_TABLES: [&str; 21] = [
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
    "case_events",
    "case_documents",
    "statements",
    "claims",
    "detection_reviews",
    "visits",
    "audit_log",
];

/// Every table a portable export carries, in an order that satisfies foreign keys.
/// Sessions, sign-in failures and pending second factors are left out: after an import
/// people sign in again.
pub const EXPORT_TABLES: [&str; 31] = [
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
    "case_events",
    "case_documents",
    "user_totp",
    "recovery_codes",
    "org_settings",
    "statements",
    "claims",
    "detection_reviews",
    "visits",
    "audit_log",
    "chain_head",
];

/// Every action an audit entry can name. Pages label each one in both languages
/// (`action-…` in the catalogues, checked by a test there); a write naming another
/// fails in debug builds.
pub const AUDIT_ACTIONS: [&str; 27] = [
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
];

/// One row of a portable export: column name to value; bytes are `{"base64": "…"}`.
pub type ExportRow = serde_json::Map<String, serde_json::Value>;

/// Attempts and refusals of one facility, organization and local month (`year * 100 + month`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TallyCell {
    pub facility_id: i64,
    pub org_id: i64,
    pub month: i32,
    pub attempts: i64,
    pub refusals: i64,
}

/// What an import is fed while its file is still being read and validated.
#[derive(Debug)]
pub enum ImportFeed {
    /// Rows read and valid so far, in file order.
    Rows(Vec<AttemptDraft>),
    /// The whole file was valid: keep everything fed.
    Complete,
}

/// Where an import's rows come from. The store asks for more on one blocking thread
/// that also prepares them while the database writes the rows before (reading,
/// validating and preparing share that thread; the database's keeps the other core):
/// give up to a few thousand rows at a time, in file order.
pub trait ImportSource: Send {
    /// The next rows, then [`ImportFeed::Complete`] once the whole file was read and
    /// valid; `None` if reading stopped at a problem: nothing is kept.
    fn next_feed(&mut self) -> Option<ImportFeed>;
}

/// Rows already in memory, in the order given.
impl ImportSource for std::vec::IntoIter<ImportFeed> {
    fn next_feed(&mut self) -> Option<ImportFeed> {
        self.next()
    }
}

/// The fingerprint of a file rows were imported from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFile {
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub bytes: i64,
}

impl ImportedFile {
    pub fn of(bytes: &[u8]) -> Self {
        Self { sha256: vigia_domain::audit::sha256_hex(bytes), bytes: bytes.len() as i64 }
    }
}

/// One cell of the daily access counts, with the version of the write that last changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyCell {
    pub facility_id: i64,
    /// The facility-local day, a [`vigia_domain::access::day_number`].
    pub day: i32,
    pub org_id: i64,
    pub purpose: vigia_domain::access::Purpose,
    /// Shared with the owner's coalitions (not private).
    pub shared: bool,
    pub attempts: i64,
    pub refusals: i64,
    pub version: i64,
}

/// Row counts by table, for backups and restore checks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts(pub std::collections::BTreeMap<String, i64>);

impl Counts {
    pub fn get(&self, table: &str) -> i64 {
        self.0.get(table).copied().unwrap_or(0)
    }
}

/// The one storage interface. Methods that change data take an [`Actor`] and write an
/// audit entry in the same transaction.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    fn backend(&self) -> Backend;
    /// Checks the database answers.
    async fn ping(&self) -> Result<()>;
    /// Closes every connection, waiting for them (files can then be moved safely).
    async fn close(&self);
    async fn counts(&self) -> Result<Counts>;

    // Organizations
    async fn create_org(&self, actor: &Actor, slug: &str, name: &str) -> Result<Organization>;
    async fn list_orgs(&self) -> Result<Vec<Organization>>;
    async fn org(&self, id: i64) -> Result<Option<Organization>>;
    async fn org_by_slug(&self, slug: &str) -> Result<Option<Organization>>;

    // Users
    async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User>;
    /// The user and their password hash.
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>>;
    async fn user(&self, id: i64) -> Result<Option<User>>;
    async fn list_users(&self, org_id: Option<i64>) -> Result<Vec<User>>;
    async fn set_user_disabled(&self, actor: &Actor, user_id: i64, disabled: bool) -> Result<User>;
    async fn set_user_locale(&self, actor: &Actor, user_id: i64, locale: Locale) -> Result<User>;

    // Failed logins, for throttling
    async fn record_login_failure(&self, email: &str, at: Micros) -> Result<()>;
    async fn login_failures_since(&self, email: &str, since: Micros) -> Result<i64>;
    async fn clear_login_failures(&self, email: &str) -> Result<()>;

    // Sessions (server-side, so several servers can share them)
    async fn create_session(&self, token_hash: &str, user_id: i64, csrf: &str, now: Micros) -> Result<()>;
    /// The live session with this token, touched; `None` when absent or expired.
    async fn session(
        &self,
        token_hash: &str,
        now: Micros,
        idle_timeout: Micros,
        absolute_timeout: Micros,
    ) -> Result<Option<SessionRow>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// The user's live sessions, most recent first.
    async fn user_sessions(&self, user_id: i64) -> Result<Vec<SessionInfo>>;
    /// Ends one of the user's sessions by its listed id; false when there is none.
    async fn end_user_session(&self, user_id: i64, id: &str) -> Result<bool>;
    /// Records that the session's user just confirmed their password.
    async fn mark_reauth(&self, token_hash: &str, now: Micros) -> Result<()>;

    // Two-factor sign-in
    /// Stores a new, not yet confirmed TOTP secret (sealed), replacing any pending one.
    async fn totp_setup(&self, user_id: i64, org_id: i64, secret: &[u8], now: Micros) -> Result<()>;
    async fn totp(&self, user_id: i64, org_id: i64) -> Result<Option<TotpState>>;
    /// Confirms the secret (the first code's step is remembered) and replaces the
    /// recovery codes with these hashes, audited.
    async fn totp_enable(&self, actor: &Actor, user_id: i64, step: i64, recovery_hashes: &[String]) -> Result<()>;
    async fn totp_disable(&self, actor: &Actor, user_id: i64) -> Result<()>;
    /// Accepts a code's step only if it is later than the last one used (a code is
    /// good once, even between two servers).
    async fn totp_use_step(&self, user_id: i64, step: i64) -> Result<bool>;
    /// Uses up a recovery code; false if it is unknown or used.
    async fn use_recovery_code(&self, actor: &Actor, user_id: i64, code_hash: &str) -> Result<bool>;
    async fn recovery_codes_left(&self, user_id: i64) -> Result<i64>;
    /// Replaces a user's password hash, ends every other session (all but the one whose
    /// token hash is `keep`), and records the change.
    async fn set_password(&self, actor: &Actor, user_id: i64, password_hash: &str, keep: Option<&str>) -> Result<()>;
    /// Stores a one-time password reset (its token's hash) for a user, valid until
    /// `expires_at`, with an audit entry.
    async fn create_password_reset(
        &self,
        actor: &Actor,
        user_id: i64,
        token_hash: &str,
        expires_at: Micros,
    ) -> Result<()>;
    /// The user a reset is for, if it is unused and unexpired.
    async fn password_reset_user(&self, token_hash: &str, now: Micros) -> Result<Option<i64>>;
    /// Uses a reset: sets the password, ends every session, marks the reset used, in
    /// one transaction; `None` if it was not (any longer) valid.
    async fn use_password_reset(&self, token_hash: &str, now: Micros, password_hash: &str) -> Result<Option<i64>>;
    /// Records in the audit history that a user's second factor was locked after
    /// `failures` wrong codes (until `until`), so the organization can see it.
    async fn second_factor_locked(&self, user_id: i64, failures: i64, until: Micros) -> Result<()>;
    async fn create_login_challenge(&self, token_hash: &str, user_id: i64, next: &str, now: Micros) -> Result<()>;
    /// The challenge if it is younger than `max_age`; expired ones are removed.
    async fn login_challenge(&self, token_hash: &str, now: Micros, max_age: Micros) -> Result<Option<LoginChallenge>>;
    async fn bump_login_challenge(&self, token_hash: &str) -> Result<()>;
    async fn delete_login_challenge(&self, token_hash: &str) -> Result<()>;
    async fn org_requires_2fa(&self, org_id: i64) -> Result<bool>;
    /// Whether the user's organization requires two-step sign-in and the user has not
    /// turned it on: one query, on every request, with nothing unsealed.
    async fn two_factor_missing(&self, user_id: i64, org_id: i64) -> Result<bool>;
    async fn set_org_requires_2fa(&self, actor: &Actor, org_id: i64, on: bool) -> Result<()>;

    // API tokens
    async fn create_api_token(&self, actor: &Actor, user_id: i64, name: &str, token_hash: &str) -> Result<ApiToken>;
    /// The user a live token belongs to: not revoked, not expired. Notes its use.
    async fn user_by_api_token(&self, token_hash: &str) -> Result<Option<User>>;
    /// A user's tokens, newest first, revoked and expired ones included.
    async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>>;
    /// Revokes one of a user's tokens (NotFound if it is not theirs or already revoked).
    async fn revoke_api_token(&self, actor: &Actor, user_id: i64, id: i64) -> Result<()>;

    // Facilities (shared reference data)
    async fn create_facility(&self, actor: &Actor, draft: FacilityDraft) -> Result<Facility>;
    /// Replaces a facility's fields as a new version. With `expected_version`, refuses
    /// with [`StoreError::Conflict`] when someone else saved in between.
    async fn update_facility(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        draft: FacilityDraft,
    ) -> Result<Facility>;
    async fn facility(&self, id: i64) -> Result<Option<Facility>>;
    async fn list_facilities(&self) -> Result<Vec<Facility>>;
    /// Creates all facilities in one transaction: all or none.
    async fn import_facilities(&self, actor: &Actor, drafts: Vec<FacilityDraft>) -> Result<Vec<i64>>;

    // Sealed notes (private to an organization)
    async fn add_facility_note(&self, actor: &Actor, org_id: i64, facility_id: i64, body: &str)
        -> Result<FacilityNote>;
    async fn facility_notes(&self, org_id: i64, facility_id: i64) -> Result<Vec<FacilityNote>>;

    // Coalitions
    async fn create_coalition(&self, actor: &Actor, slug: &str, name: &str) -> Result<Coalition>;
    async fn add_coalition_member(&self, actor: &Actor, coalition_id: i64, org_id: i64) -> Result<Coalition>;
    async fn list_coalitions(&self) -> Result<Vec<Coalition>>;

    // Access attempts (owned by an organization; shared with its coalitions unless private)
    async fn create_attempt(&self, actor: &Actor, org_id: i64, draft: AttemptDraft) -> Result<Attempt>;
    /// A new version of an attempt the organization `org_id` owns; another
    /// organization's attempt is [`StoreError::NotFound`].
    async fn update_attempt(
        &self,
        actor: &Actor,
        org_id: i64,
        id: i64,
        expected_version: Option<i64>,
        draft: AttemptDraft,
    ) -> Result<Attempt>;
    /// The attempt if `viewer_org` may see it.
    async fn attempt(&self, viewer_org: i64, id: i64) -> Result<Option<Attempt>>;
    /// The attempts among `ids` the viewer may read, in one read per thousand ids (a
    /// list of alerts or of cited refusals asks for many at once).
    async fn attempts_by_ids(&self, viewer_org: i64, ids: &[i64]) -> Result<Vec<Attempt>>;
    /// The attempts `viewer_org` may see, newest first.
    async fn list_attempts(&self, viewer_org: i64, filter: &AttemptFilter) -> Result<Vec<Attempt>>;
    /// How many attempts the viewer may read match the filter (from `after` on, if set).
    async fn count_attempts(&self, viewer_org: i64, filter: &AttemptFilter) -> Result<i64>;
    /// Creates all attempts in one transaction: all or none.
    async fn import_attempts(&self, actor: &Actor, org_id: i64, drafts: Vec<AttemptDraft>) -> Result<AttemptImport>;
    /// Creates the attempts `source` gives in one transaction, writing each chunk
    /// while the next is read: commits when [`ImportFeed::Complete`] comes and answers
    /// the import's record (one audit entry for all its rows, see [`AttemptImport`]);
    /// if the source ends before that (the file turned out to have errors), nothing
    /// is kept and the answer is `None`. `file` is the uploaded file's fingerprint,
    /// when the rows came from one.
    async fn import_attempts_fed(
        &self,
        actor: &Actor,
        org_id: i64,
        file: Option<ImportedFile>,
        source: Box<dyn ImportSource>,
    ) -> Result<Option<AttemptImport>>;
    /// Attempts and refusals `viewer_org` may see, by facility, organization and local
    /// month, grouped by the database over the daily counts: the reference the app's
    /// in-memory copy is tested against.
    async fn access_tallies(&self, viewer_org: i64, filter: &TallyFilter) -> Result<Vec<TallyCell>>;
    /// Every cell of the daily counts changed after `after_version` (all of them for
    /// -1), for a copy kept in memory; see [`Store::access_state`].
    async fn access_daily_since(&self, after_version: i64) -> Result<Vec<DailyCell>>;
    /// `(id, facility, local day)` of the refused attempts `viewer_org` may see on a
    /// local day in `[from_day, until_day)`, oldest first.
    async fn refused_attempts(&self, viewer_org: i64, from_day: i32, until_day: i32) -> Result<Vec<(i64, i64, i32)>>;
    /// `(attempted_at, outcome)` of every attempt in `[from, until)` that `viewer_org`
    /// may see, at `facility` or at any: what a calendar or a timeline of outcomes
    /// draws, and no more.
    async fn attempt_outcomes(
        &self,
        viewer_org: i64,
        facility: Option<i64>,
        from: Micros,
        until: Micros,
    ) -> Result<Vec<(Micros, Outcome)>>;
    /// Each facility's latest `per_facility` attempts that `viewer_org` may see.
    async fn latest_attempts(&self, viewer_org: i64, per_facility: i64) -> Result<Vec<Attempt>>;
    /// `(version, generation)` of the daily counts: the version grows with every change
    /// to them or to who sees them; the generation when they are rebuilt (a copy must
    /// then be fetched whole).
    async fn access_state(&self) -> Result<(i64, i64)>;
    /// Moves with every recorded change: the audit history's last entry (every write is
    /// audited) with [`Store::access_state`], for answers kept until the data change.
    async fn data_version(&self) -> Result<(i64, i64, i64)>;
    /// Opens a text value as the audit history keeps it, for `org_id`'s `field` (e.g.
    /// `attempt.notes`) of record `record`; text written before such fields were sealed
    /// comes back as it is, and text sealed before values named their record opens too.
    async fn open_recorded_text(&self, org_id: i64, field: &str, record: i64, stored: &str) -> Result<String>;
    /// Recounts the daily table from the attempts (after `audit verify` found it out of step).
    async fn recount_access(&self) -> Result<()>;

    // Legal-aid cases (private to their organization; the person is sealed)
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

    // Official statements (a public record every organization reads)
    async fn create_statement(&self, actor: &Actor, org_id: i64, draft: StatementDraft) -> Result<Statement>;
    /// Every statement with its claims, oldest first.
    async fn statements(&self) -> Result<Vec<Statement>>;
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

    // Monitoring visits (the organization's own)
    /// Records a visit sent under `key`. The same key again returns the stored visit
    /// (`false`: nothing new) when the report is the same, and is a conflict when it
    /// differs: a draft sent twice is stored once, and never silently overwritten.
    async fn record_visit(&self, actor: &Actor, org_id: i64, key: &str, draft: VisitDraft) -> Result<(Visit, bool)>;
    /// The visit this person sent under `key`, if any: a correction names the report it
    /// corrects by the draft's key, which is all the device knows of it.
    async fn visit_sent_under(&self, org_id: i64, user_id: i64, key: &str) -> Result<Option<i64>>;
    async fn visit(&self, org_id: i64, id: i64) -> Result<Option<Visit>>;
    /// The organization's visits, newest first, optionally of one facility.
    async fn visits(&self, org_id: i64, facility_id: Option<i64>) -> Result<Vec<Visit>>;
    /// Opens a visit's sealed interview notes and records the read.
    async fn read_visit_notes(&self, actor: &Actor, org_id: i64, id: i64) -> Result<Option<String>>;

    // Evidence files
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

    // Alerts and webhooks
    /// Registers a webhook for an organization; the secret is sealed.
    async fn create_webhook(&self, actor: &Actor, org_id: i64, url: &str, secret: &str) -> Result<Webhook>;
    /// The organization's webhooks, deleted ones left out.
    async fn webhooks(&self, org_id: i64) -> Result<Vec<Webhook>>;
    /// Turns a webhook on or off, or deletes it, with an audit entry; deliveries not yet
    /// sent are given up. Not found for another organization's or a deleted webhook.
    async fn set_webhook_state(&self, actor: &Actor, org_id: i64, id: i64, state: WebhookState) -> Result<Webhook>;
    /// The organization's alerts, newest first.
    async fn alerts(&self, org_id: i64, limit: i64) -> Result<Vec<Alert>>;
    async fn mark_alert_read(&self, org_id: i64, id: i64, at: Micros) -> Result<()>;
    /// Raises an alert unless one with the same key exists for the organization, with
    /// a delivery for each of its active webhooks, in one transaction.
    async fn raise_alert(
        &self,
        org_id: i64,
        kind: &str,
        dedup_key: &str,
        attempt_id: Option<i64>,
        payload: &str,
    ) -> Result<Option<Alert>>;
    /// How many of the organization's alerts are unread, as the inbox counts them: case
    /// alerts only when `with_cases`, an alert about an attempt only while the
    /// organization can still see it.
    async fn count_unread_alerts(&self, org_id: i64, with_cases: bool) -> Result<i64>;
    /// The organization's alerts of one kind after `after_id`, oldest first.
    async fn alerts_after(&self, org_id: i64, kind: &str, after_id: i64, limit: i64) -> Result<Vec<Alert>>;
    /// The newest alert id of the organization, or of all when `None` (0 when none).
    async fn newest_alert(&self, org_id: Option<i64>) -> Result<i64>;
    /// A person's e-mail choices, one per kind they receive.
    async fn email_prefs(&self, user_id: i64) -> Result<Vec<EmailPref>>;
    /// Every person's e-mail choices (disabled people's too: their watermarks move on
    /// while they are disabled, so turning them back on does not send the backlog).
    async fn all_email_prefs(&self) -> Result<Vec<EmailPref>>;
    /// Replaces a person's e-mail choices, with an audit entry. A kind newly chosen
    /// starts after the organization's newest alert: the past is not sent.
    async fn set_email_prefs(
        &self,
        actor: &Actor,
        user_id: i64,
        prefs: &[(String, EmailMode)],
    ) -> Result<Vec<EmailPref>>;
    /// Puts a message in the outbox unless one with the same key exists, and moves the
    /// person's watermarks to `seen` (kind, last alert id) in the same transaction.
    /// Returns whether the message is new. With no message, only moves the watermarks.
    async fn queue_email(
        &self,
        user_id: i64,
        message: Option<(&str, &str, &str)>,
        seen: &[(String, i64)],
        now: Micros,
    ) -> Result<bool>;
    /// Leases due messages until `now + lease` (see [`Store::claim_deliveries`]); a
    /// message to a disabled person is given up.
    async fn claim_emails(&self, now: Micros, lease: Micros, limit: i64) -> Result<Vec<DueEmail>>;
    async fn finish_email(&self, id: i64, outcome: EmailOutcome, now: Micros) -> Result<()>;
    /// A person's messages, newest first.
    async fn outbox(&self, user_id: i64, limit: i64) -> Result<Vec<OutboxEntry>>;
    /// The organization's webhook deliveries, newest first.
    async fn deliveries(&self, org_id: i64, limit: i64) -> Result<Vec<Delivery>>;
    /// Leases due deliveries until `now + lease`, so several servers never send the same
    /// one at once; a crashed sender's lease simply expires.
    async fn claim_deliveries(&self, now: Micros, lease: Micros, limit: i64) -> Result<Vec<DueDelivery>>;
    async fn finish_delivery(&self, id: i64, outcome: DeliveryOutcome, now: Micros) -> Result<()>;

    // Agency calendars
    async fn add_calendar_rule(&self, actor: &Actor, rule: CalendarRule) -> Result<CalendarRule>;
    async fn calendar_rules(&self) -> Result<Vec<CalendarRule>>;

    // History
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

    // Keys and maintenance
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
    /// The master key this store opened its data keys with (it signs what must prove
    /// it came from a holder of the key, such as a backup's manifest).
    fn master_key(&self) -> MasterKey;
}

pub type DynStore = Arc<dyn Store>;

/// The shipped calendars with every rule admins entered.
pub async fn calendars(store: &dyn Store) -> Result<vigia_domain::clock::Calendars> {
    let mut cals = vigia_domain::clock::Calendars::builtin();
    let rules = store.calendar_rules().await?;
    let names: std::collections::BTreeSet<&str> = rules.iter().map(|r| r.calendar.as_str()).collect();
    for name in names {
        let extra: Vec<_> = rules.iter().filter(|r| r.calendar == name).map(CalendarRule::to_rule).collect();
        cals = cals.with_extra_rules(name, &extra).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    Ok(cals)
}

/// Opens the store a URL names (`sqlite://…` or `postgres://…`), applying migrations.
pub async fn open(url: &str, keys: &[MasterKey]) -> Result<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::SqlStore::connect(url, keys).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqlStore::connect(url, keys).await?))
    } else {
        Err(StoreError::Unsupported("database URL must start with sqlite: or postgres://"))
    }
}

/// Makes a tree readable by its owner only (security review finding 10): every
/// directory 0700, every file 0600; symbolic links are left alone, not followed.
pub fn owner_only_tree(root: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(root)?;
        if meta.is_dir() {
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))?;
            for entry in std::fs::read_dir(root)? {
                owner_only_tree(&entry?.path())?;
            }
        } else if meta.is_file() {
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = root;
    Ok(())
}

/// The SQLite URL for a database file.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

pub fn now_micros() -> Micros {
    jiff::Timestamp::now().as_microsecond()
}
