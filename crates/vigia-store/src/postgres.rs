//! PostgreSQL, for deployments with several app servers: sessions live in the database,
//! so servers are stateless; PostgreSQL's own replication keeps standby copies.

use sqlx::postgres::PgPoolOptions;

type Db = sqlx::Postgres;
const BACKEND: Backend = Backend::Postgres;
const MIGRATIONS: [(i64, &str, &str); 22] = [
    (1, "foundation", include_str!("../migrations/postgres/0001_foundation.sql")),
    (2, "access", include_str!("../migrations/postgres/0002_access.sql")),
    (3, "evidence", include_str!("../migrations/postgres/0003_evidence.sql")),
    (4, "alerts", include_str!("../migrations/postgres/0004_alerts.sql")),
    (5, "calendar_rules", include_str!("../migrations/postgres/0005_calendar_rules.sql")),
    (6, "cases", include_str!("../migrations/postgres/0006_cases.sql")),
    (7, "case_documents", include_str!("../migrations/postgres/0007_case_documents.sql")),
    (8, "two_factor", include_str!("../migrations/postgres/0008_two_factor.sql")),
    (9, "statements", include_str!("../migrations/postgres/0009_statements.sql")),
    (10, "visits", include_str!("../migrations/postgres/0010_visits.sql")),
    (11, "access_daily", include_str!("../migrations/postgres/0011_access_daily.sql")),
    (12, "attempt_imports", include_str!("../migrations/postgres/0012_attempt_imports.sql")),
    (13, "webhook_deleted", include_str!("../migrations/postgres/0013_webhook_deleted.sql")),
    (14, "token_lifetime", include_str!("../migrations/postgres/0014_token_lifetime.sql")),
    (15, "password_resets", include_str!("../migrations/postgres/0015_password_resets.sql")),
    (16, "reviews_by_org", include_str!("../migrations/postgres/0016_reviews_by_org.sql")),
    (17, "sealed_evidence", include_str!("../migrations/postgres/0017_sealed_evidence.sql")),
    (18, "case_reference_key", include_str!("../migrations/postgres/0018_case_reference_key.sql")),
    (19, "key_check", include_str!("../migrations/postgres/0019_key_check.sql")),
    (20, "security_macs", include_str!("../migrations/postgres/0020_security_macs.sql")),
    (21, "audit_head_mac", include_str!("../migrations/postgres/0021_audit_head_mac.sql")),
    (22, "records_bound", include_str!("../migrations/postgres/0022_records_bound.sql")),
];

async fn connect_pool(url: &str) -> Result<Pool<Db>> {
    Ok(PgPoolOptions::new().max_connections(16).connect(url).await?)
}

/// PostgreSQL keeps evidence bytes in the database, so app servers keep no files.
fn blob_dir(_url: &str) -> Option<std::path::PathBuf> {
    None
}

/// No files of the database's own on the app server.
fn restrict_database_files(_url: &str) -> Result<()> {
    Ok(())
}

async fn backup(_pool: &Pool<Db>, _blob_dir: Option<&Path>, _path: &Path) -> Result<()> {
    Err(StoreError::Unsupported("use pg_dump for PostgreSQL backups (see docs/operations.md)"))
}

include!("sql/common.rs");
include!("sql/integrity.rs");
include!("sql/reseal.rs");
