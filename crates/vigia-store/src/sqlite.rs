//! SQLite, the embedded default: one file, WAL, `synchronous=FULL`, foreign keys on.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;

use sqlx::{Pool, Row};

use crate::{Backend, Result, StoreError};
use sql::{blob_name, blob_path, new_private_file, private_dir};

type Db = sqlx::Sqlite;
const BACKEND: Backend = Backend::Sqlite;
const MIGRATIONS: &[crate::migrations::Migration] = &crate::migrations::SQLITE;

async fn connect_pool(url: &str) -> Result<Pool<Db>> {
    let opts = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // 16 KiB pages for a new database (an existing one keeps its own): a bulk import
        // writes about a quarter faster than with the 4 KiB default, because the audit
        // entries (some 600 bytes each) fill fewer pages, splits and WAL frames.
        .page_size(16384)
        // 4 MiB of page cache per connection (default 2 MiB), so eight readers under
        // load hold at most 32 MiB of it (32 MiB each held 256 MiB, and 8 MiB each
        // still 44 MiB of the server's 330 at 50 clients: issue #19; list pages are
        // kept written, so few reads reach the pages); the OS keeps the file's pages
        // for all of them. A bulk import raises its own connection's to
        // `SQLITE_IMPORT_CACHE_KIB` while it writes.
        .pragma("cache_size", sql::SQLITE_READ_CACHE_KIB)
        // What a correction replaces (text kept before it was sealed, say) is
        // overwritten with zeros, not left readable in free pages.
        .pragma("secure_delete", "on")
        .busy_timeout(Duration::from_secs(30))
        // Rows a query's reader thread may read ahead of the task taking them (sqlx's
        // default is 50). With 50, a long read (a download, a thousand rows a batch)
        // filled the buffer and then woke the two threads in turn for each row: half its
        // time went to waking threads. A thousand rows of attempts are some 200 KB.
        .row_buffer_size(128);
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

/// The database file and its WAL and shared-memory files, owner-only (0600): they hold
/// everything that is not sealed. SQLite gives a WAL it creates the database file's mode.
fn restrict_database_files(url: &str) -> Result<()> {
    let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else { return Ok(()) };
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") {
        return Ok(());
    }
    for suffix in ["", "-wal", "-shm"] {
        let p = std::path::PathBuf::from(format!("{path}{suffix}"));
        if p.exists() {
            owner_only(&p).map_err(|e| StoreError::Corrupt(format!("cannot restrict {}: {e}", p.display())))?;
        }
    }
    Ok(())
}

/// After a large import: SQLite's planner does without statistics here (its lists held
/// their figures at a million attempts), so nothing is done.
async fn after_bulk_import(_pool: &Pool<Db>) {}

/// After an erasure: the write-ahead log is checkpointed into the database (where secure
/// delete has zeroed the freed key) and truncated, so it keeps no copy of the erased key.
/// A reader holding an older snapshot makes the checkpoint report "busy" (a result,
/// not an error): it is tried again for a few seconds, then reported.
async fn scrub_erased(pool: &Pool<Db>) -> Result<()> {
    use sqlx::Row;
    for _ in 0..50 {
        let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(pool).await?;
        if row.try_get::<i64, _>(0)? == 0 {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(StoreError::Conflict(
        "the write-ahead log is still in use: it keeps the erased key until the next checkpoint".into(),
    ))
}

/// Writes a consistent copy into the new directory `out`: `vigia.db` from one
/// snapshot (VACUUM INTO, so writers may go on), and every evidence file under
/// `blobs/`. Blobs are immutable and written before the row that names them commits,
/// so every blob in the snapshot has its file.
async fn backup(pool: &Pool<Db>, blob_dir: Option<&Path>, out: &Path) -> Result<()> {
    if out.exists() {
        return Err(StoreError::Conflict(format!("{} already exists", out.display())));
    }
    // Owner only (finding 10): the directory from the start, the files as they land.
    private_dir(out).map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", out.display())))?;
    let db = out.join("vigia.db");
    // VACUUM INTO writes into an empty file that exists: this one is the owner's only.
    new_private_file(&db).map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", db.display())))?;
    let target = db.to_string_lossy().into_owned();
    sqlx::query("VACUUM INTO $1").bind(target).execute(pool).await?;
    owner_only(&db).map_err(|e| StoreError::Corrupt(format!("cannot restrict {}: {e}", db.display())))?;
    let Some(src) = blob_dir else { return Ok(()) };
    let names: Vec<String> = sqlx::query("SELECT sha256, key_org FROM blobs")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| blob_name(&r.try_get::<String, _>("sha256")?, r.try_get("key_org")?))
        .collect::<Result<_>>()?;
    let (src, dst) = (src.to_path_buf(), out.join("blobs"));
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        for name in names {
            let from = blob_path(&src, &name);
            let to = blob_path(&dst, &name);
            if let Some(parent) = to.parent() {
                private_dir(parent)?;
            }
            std::fs::copy(&from, &to)?;
            owner_only(&to)?;
            std::fs::File::open(&to)?.sync_all()?;
        }
        Ok(())
    })
    .await
    .map_err(|e| StoreError::Corrupt(e.to_string()))?
    .map_err(|e| StoreError::Corrupt(format!("cannot copy evidence files: {e}")))?;
    Ok(())
}

/// Makes an existing file readable and writable by its owner only (0600 on Unix).
fn owner_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

// The same SQL, compiled for this backend (see `sql/mod.rs`).
#[path = "sql/mod.rs"]
mod sql;
pub use sql::SqlStore;
