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
