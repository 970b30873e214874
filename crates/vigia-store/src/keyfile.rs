//! The master key file: `master.key` in the data dir, mode 0600, 64 hex characters.
//! `VIGIA_MASTER_KEY` overrides it.
//!
//! Rotation (issue #22 finding 2) holds [`lock`] throughout, first settles a pending
//! `master.key.new` left by an interrupted rotation ([`settle`]), then writes the new key
//! as `master.key.new` (a unique temporary file, flushed, renamed, the directory
//! flushed), commits the re-wrapped keys in the database, and only then renames it over
//! `master.key`. The old key stays on disk until the database no longer needs it, and at
//! every step some key on disk opens the data: [`load`] offers both files, the database
//! records which key it is under, and a damaged pending file is ignored, not fatal.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::vault::MasterKey;

pub const FILE: &str = "master.key";
pub const NEXT: &str = "master.key.new";
pub const ENV: &str = "VIGIA_MASTER_KEY";

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read or write the key file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the key file {0} is malformed (expected 64 hexadecimal characters)")]
    Malformed(PathBuf),
    #[error("no master key: {0} does not exist and VIGIA_MASTER_KEY is not set")]
    Missing(PathBuf),
    #[error("another key rotation is running on {0}: wait for it to finish")]
    Busy(PathBuf),
}

pub const LOCK: &str = "master.key.lock";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io { path: path.to_path_buf(), source }
}

/// Writes a key file readable only by its owner: a new temporary file beside it,
/// flushed, renamed over `path`, and the directory flushed, so `path` holds either its
/// old content or the whole new key, never a part.
pub fn write(path: &Path, key: &MasterKey) -> Result<(), KeyFileError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    static NEXT_TMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT_TMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let written = (|| {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(key.to_hex().as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        crash_point("key-temp-written");
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.map_err(io(path))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Stops the process at a named step of a rotation when `VIGIA_CRASH_AT` names it, so
/// tests can kill it there. Only in debug builds: a release binary never reads it.
pub fn crash_point(step: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("VIGIA_CRASH_AT").is_ok_and(|s| s == step) {
        eprintln!("crashing at {step} (VIGIA_CRASH_AT)");
        std::process::abort();
    }
    let _ = step;
}

/// Held while keys change: an exclusive lock on `master.key.lock` in the data dir,
/// released when dropped or when the process dies.
#[derive(Debug)]
pub struct KeyLock(#[allow(dead_code)] fs::File);

/// Takes the key lock without waiting: a second rotation fails at once, naming why.
pub fn lock(data_dir: &Path) -> Result<KeyLock, KeyFileError> {
    let path = data_dir.join(LOCK);
    let mut opts = fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let f = opts.open(&path).map_err(io(&path))?;
    match f.try_lock() {
        Ok(()) => Ok(KeyLock(f)),
        Err(fs::TryLockError::WouldBlock) => Err(KeyFileError::Busy(data_dir.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(KeyFileError::Io { path, source: e }),
    }
}

fn read(path: &Path) -> Result<MasterKey, KeyFileError> {
    let text = zeroize::Zeroizing::new(fs::read_to_string(path).map_err(io(path))?);
    MasterKey::from_hex(&text).map_err(|_| KeyFileError::Malformed(path.to_path_buf()))
}

/// The candidate master keys, most likely first: the environment's, else the key file,
/// then a pending `master.key.new` left by an interrupted rotation. A pending file that
/// is empty or damaged cannot be the key the data is under (it is renamed into place
/// whole), so it is skipped with a warning instead of stopping the data dir opening.
pub fn load(data_dir: &Path) -> Result<Vec<MasterKey>, KeyFileError> {
    if let Ok(hex) = std::env::var(ENV) {
        let k = MasterKey::from_hex(&hex).map_err(|_| KeyFileError::Malformed(PathBuf::from(ENV)))?;
        return Ok(vec![k]);
    }
    let main = data_dir.join(FILE);
    let next = data_dir.join(NEXT);
    let mut keys = Vec::new();
    if main.exists() {
        keys.push(read(&main)?);
    }
    if next.exists() {
        match read(&next) {
            Ok(k) => keys.push(k),
            Err(e) if !keys.is_empty() => tracing::warn!("ignoring the pending key file: {e}"),
            Err(e) => return Err(e),
        }
    }
    if keys.is_empty() {
        return Err(KeyFileError::Missing(main));
    }
    Ok(keys)
}

/// After opening the data with `in_use` (the key the database says it is under),
/// finishes or undoes an interrupted rotation: a pending `master.key.new` that is the
/// key in use becomes `master.key`; one that is not (the database never committed it,
/// or it is damaged) is removed, as are temporary files a crash left. Call it only
/// while holding [`lock`].
pub fn settle(data_dir: &Path, in_use: &MasterKey, _lock: &KeyLock) -> Result<Settled, KeyFileError> {
    for e in fs::read_dir(data_dir).map_err(io(data_dir))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!(".{NEXT}.")) && name.ends_with(".tmp") {
            let _ = fs::remove_file(e.path());
        }
    }
    let next = data_dir.join(NEXT);
    if !next.exists() {
        return Ok(Settled::Nothing);
    }
    if read(&next).is_ok_and(|k| k.same_as(in_use)) {
        promote_next(data_dir)?;
        Ok(Settled::Finished)
    } else {
        fs::remove_file(&next).map_err(io(&next))?;
        sync_dir(data_dir).map_err(io(data_dir))?;
        Ok(Settled::Undone)
    }
}

/// What [`settle`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Nothing,
    /// The database had committed the new key: it is now `master.key`.
    Finished,
    /// The database never used the pending key: it was removed.
    Undone,
}

/// Loads the key file, creating it with a fresh key when neither it nor the
/// environment variable exists.
pub fn load_or_create(data_dir: &Path) -> Result<Vec<MasterKey>, KeyFileError> {
    match load(data_dir) {
        Err(KeyFileError::Missing(path)) => {
            let k = MasterKey::generate().map_err(|_| KeyFileError::Malformed(path.clone()))?;
            write(&path, &k)?;
            Ok(vec![k])
        }
        other => other,
    }
}

/// Makes the pending key the key file, and flushes the directory so the rename lasts.
pub fn promote_next(data_dir: &Path) -> Result<(), KeyFileError> {
    let next = data_dir.join(NEXT);
    fs::rename(&next, data_dir.join(FILE)).map_err(io(&next))?;
    sync_dir(data_dir).map_err(io(data_dir))
}
