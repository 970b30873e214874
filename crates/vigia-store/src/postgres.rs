//! PostgreSQL, for deployments with several app servers: sessions live in the database,
//! so servers are stateless; PostgreSQL's own replication keeps standby copies.

use sqlx::postgres::PgPoolOptions;
use std::path::Path;

use sqlx::Pool;

use crate::{Backend, Result, StoreError};

type Db = sqlx::Postgres;
const BACKEND: Backend = Backend::Postgres;
const MIGRATIONS: &[crate::migrations::Migration] = &crate::migrations::POSTGRES;

/// Every connection plans each query for its own values (`plan_cache_mode =
/// force_custom_plan`): the lists' optional filters (`$2 IS NULL OR facility_id = $2`)
/// make PostgreSQL's generic plan, chosen after five runs of a prepared statement, scan
/// by time and filter a million rows (150 ms for a page of one facility's attempts at
/// 1M rows, against 0.3 ms planned for the values; issue #19). Planning costs a
/// fraction of a millisecond.
async fn connect_pool(url: &str) -> Result<Pool<Db>> {
    use sqlx::Executor;
    Ok(PgPoolOptions::new()
        .max_connections(16)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("SET plan_cache_mode = force_custom_plan").await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
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
/// After a large import: the planner's statistics of the attempts are refreshed at once
/// (`ANALYZE` samples the table: a fraction of a second at a million rows), and the
/// table is vacuumed in the background so counts can read the index alone. Until
/// autovacuum came by, the planner took a facility with 76,000 attempts for one with
/// 2,000 and read them all for a page of 50 (48 ms for the page and 34 ms for its count
/// at a million attempts; issue #19).
async fn after_bulk_import(pool: &Pool<Db>) {
    if let Err(e) = sqlx::query("ANALYZE access_attempts").execute(pool).await {
        tracing::warn!(error = %e, "could not refresh the attempts' statistics after an import");
    }
    let pool = pool.clone();
    tokio::spawn(async move {
        if let Err(e) = sqlx::query("VACUUM access_attempts").execute(&pool).await {
            tracing::warn!(error = %e, "could not vacuum the attempts after an import");
        }
    });
}

/// A transaction older than the erasure still sees the old row, and VACUUM FULL copies
/// it: it goes at the next rewrite (docs/security.md). The rewrite takes the table's
/// exclusive lock: it waits at most two seconds for it (a `pg_dump` or a long
/// transaction holding the table), so case pages never queue behind it; if it cannot,
/// that is reported and the row goes at the next rewrite.
async fn scrub_erased(pool: &Pool<Db>) -> Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SET lock_timeout = '2s'").execute(&mut *conn).await?;
    let done = sqlx::query("VACUUM FULL case_keys").execute(&mut *conn).await;
    sqlx::query("RESET lock_timeout").execute(&mut *conn).await?;
    done?;
    Ok(())
}

async fn backup(_pool: &Pool<Db>, _blob_dir: Option<&Path>, _path: &Path) -> Result<()> {
    Err(StoreError::Unsupported("use pg_dump for PostgreSQL backups (see docs/operations.md)"))
}

// The same SQL, compiled for this backend (see `sql/mod.rs`).
#[path = "sql/mod.rs"]
mod sql;
pub use sql::SqlStore;
