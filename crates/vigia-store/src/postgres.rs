//! PostgreSQL, for deployments with several app servers: sessions live in the database,
//! so servers are stateless; PostgreSQL's own replication keeps standby copies.

use sqlx::postgres::PgPoolOptions;
use std::path::Path;

use sqlx::Pool;

use crate::{Backend, Result, StoreError};

type Db = sqlx::Postgres;
const BACKEND: Backend = Backend::Postgres;
const MIGRATIONS: &[crate::migrations::Migration] = &crate::migrations::POSTGRES;

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

/// After an erasure: the key table is rewritten into new files, so its dead row holding
/// the erased key is no longer in the database's files (the write-ahead log keeps it
/// until the server recycles the segment: docs/security.md).
/// A transaction older than the erasure still sees the old row, and VACUUM FULL copies
/// it: that is reported, and the row goes at the next rewrite (docs/security.md).
async fn scrub_erased(pool: &Pool<Db>) -> Result<()> {
    use sqlx::Row;
    sqlx::query("VACUUM FULL case_keys").execute(pool).await?;
    let row = sqlx::query("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'case_keys'")
        .fetch_optional(pool)
        .await?;
    let older: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
         AND backend_xmin IS NOT NULL AND pid <> pg_backend_pid()",
    )
    .fetch_one(pool)
    .await?
    .try_get("n")?;
    let _ = row;
    if older > 0 {
        return Err(StoreError::Conflict(format!(
            "{older} older transaction(s) were open: the rewritten key table may still hold the erased key until the next VACUUM FULL"
        )));
    }
    Ok(())
}

async fn backup(_pool: &Pool<Db>, _blob_dir: Option<&Path>, _path: &Path) -> Result<()> {
    Err(StoreError::Unsupported("use pg_dump for PostgreSQL backups (see docs/operations.md)"))
}

// The same SQL, compiled for this backend (see `sql/mod.rs`).
#[path = "sql/mod.rs"]
mod sql;
pub use sql::SqlStore;
