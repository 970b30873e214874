//! SQLite, the embedded default: one file, WAL, `synchronous=FULL`, foreign keys on.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

type Db = sqlx::Sqlite;
const BACKEND: Backend = Backend::Sqlite;
const MIGRATIONS: [(i64, &str, &str); 3] = [
    (1, "foundation", include_str!("../migrations/sqlite/0001_foundation.sql")),
    (2, "access", include_str!("../migrations/sqlite/0002_access.sql")),
    (3, "evidence", include_str!("../migrations/sqlite/0003_evidence.sql")),
];

async fn connect_pool(url: &str) -> Result<Pool<Db>> {
    let opts = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30));
    Ok(SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?)
}

/// Evidence bytes live beside the database file, in `blobs/`.
fn blob_dir(url: &str) -> Option<std::path::PathBuf> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(std::path::Path::new(path).parent()?.join("blobs"))
}

async fn backup(pool: &Pool<Db>, path: &Path) -> Result<()> {
    if path.exists() {
        return Err(StoreError::Conflict(format!("{} already exists", path.display())));
    }
    let target = path.to_string_lossy().into_owned();
    // VACUUM INTO reads one consistent snapshot, so writers may go on meanwhile.
    sqlx::query("VACUUM INTO $1").bind(target).execute(pool).await?;
    Ok(())
}

include!("sql/common.rs");
