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

async fn backup(_pool: &Pool<Db>, _blob_dir: Option<&Path>, _path: &Path) -> Result<()> {
    Err(StoreError::Unsupported("use pg_dump for PostgreSQL backups (see docs/operations.md)"))
}

// The same SQL, compiled for this backend (see `sql/mod.rs`).
#[path = "sql/mod.rs"]
mod sql;
pub use sql::SqlStore;
