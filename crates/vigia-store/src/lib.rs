//! Vigía's storage.
//!
//! One [`Store`] interface, made of one small trait per aggregate ([`Accounts`],
//! [`SignIn`], [`Facilities`], [`Access`], [`Cases`], [`Statements`], [`Visits`],
//! [`Evidence`], [`Alerts`], [`Calendars`], [`Audit`], [`Maintenance`]; each in the file
//! of its name with its types), implemented once in SQL shared by both backends
//! (`src/sql/<aggregate>.rs`, mounted and compiled once for SQLite and once for
//! PostgreSQL), each with its own migrations. Every write runs in one transaction together with its audit entry:
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
use vigia_domain::paging::Cursor;
use vigia_domain::statement::{Claim, ClaimDraft, Review, ReviewStatus, Statement, StatementDraft};
use vigia_domain::visit::{Visit, VisitDraft};
use vigia_domain::{Micros, RecordType, ValidationErrors};

pub mod keyfile;
#[macro_use]
mod migrations;
pub mod postgres;
mod rowmac;
pub mod secrets;
pub mod spool;
pub mod sqlite;
/// Fresh test databases: for tests only (feature `testing`), never in production builds.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod vault;

pub use vault::{MasterKey, Vault, VaultError};

mod access;
mod accounts;
mod alerts;
mod audit;
mod calendars;
mod cases;
mod consents;
mod evidence;
mod facilities;
mod maintenance;
mod publications;
mod recommendations;
mod retention;
mod sign_in;
mod statements;
mod statistics;
mod transparency;
mod visits;

pub use access::*;
pub use accounts::*;
pub use alerts::*;
pub use audit::*;
pub use calendars::*;
pub use cases::*;
pub use consents::*;
pub use evidence::*;
pub use facilities::*;
pub use maintenance::*;
pub use publications::*;
pub use recommendations::*;
pub use retention::*;
pub use sign_in::*;
pub use statements::*;
pub use statistics::*;
pub use transparency::*;
pub use visits::*;

/// The store's traits, for calling their methods on a concrete store (`SqlStore`); a
/// `dyn Store` reaches them without it: `use vigia_store::prelude::*;`.
pub mod prelude {
    pub use crate::Access as _;
    pub use crate::Accounts as _;
    pub use crate::Alerts as _;
    pub use crate::Audit as _;
    pub use crate::Calendars as _;
    pub use crate::Cases as _;
    pub use crate::Consents as _;
    pub use crate::Evidence as _;
    pub use crate::Facilities as _;
    pub use crate::Maintenance as _;
    pub use crate::Publications as _;
    pub use crate::Recommendations as _;
    pub use crate::Retention as _;
    pub use crate::SignIn as _;
    pub use crate::Statements as _;
    pub use crate::Statistics as _;
    pub use crate::Store;
    pub use crate::Transparency as _;
    pub use crate::Visits as _;
}

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
    /// The case's personal data was erased: there is nothing to open or add to.
    #[error("the case's personal data was erased")]
    Erased,
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

/// The one storage interface. Methods that change data take an [`Actor`] and write an
/// audit entry in the same transaction.
#[async_trait::async_trait]
pub trait Store:
    Accounts
    + SignIn
    + Facilities
    + Access
    + Cases
    + Statements
    + Visits
    + Evidence
    + Alerts
    + Calendars
    + Audit
    + Maintenance
    + Publications
    + Statistics
    + Recommendations
    + Transparency
    + Consents
    + Retention
{
    fn backend(&self) -> Backend;
    /// Checks the database answers.
    async fn ping(&self) -> Result<()>;
    /// Closes every connection, waiting for them (files can then be moved safely).
    async fn close(&self);
    async fn counts(&self) -> Result<Counts>;

    /// The master key this store opened its data keys with (it signs what must prove
    /// it came from a holder of the key, such as a backup's manifest).
    fn master_key(&self) -> MasterKey;
}
pub type DynStore = Arc<dyn Store>;

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
