//! The master key file: `master.key` in the data dir, mode 0600, 64 hex characters.
//! `VIGIA_MASTER_KEY` overrides it. Rotation writes `master.key.new` first and renames
//! it over the old file only after the database has committed the re-wrapped keys, so a
//! crash in between leaves a key that opens the data (see [`load`]).

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
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io { path: path.to_path_buf(), source }
}

/// Writes a key file readable only by its owner, flushed to disk.
pub fn write(path: &Path, key: &MasterKey) -> Result<(), KeyFileError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600)).map_err(io(path))?;
    }
    f.write_all(key.to_hex().as_bytes()).map_err(io(path))?;
    f.write_all(b"\n").map_err(io(path))?;
    f.sync_all().map_err(io(path))?;
    Ok(())
}

fn read(path: &Path) -> Result<MasterKey, KeyFileError> {
    let text = zeroize::Zeroizing::new(fs::read_to_string(path).map_err(io(path))?);
    MasterKey::from_hex(&text).map_err(|_| KeyFileError::Malformed(path.to_path_buf()))
}

/// The candidate master keys, most likely first: the environment's, else the key file,
/// then a pending `master.key.new` left by an interrupted rotation.
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
        keys.push(read(&next)?);
    }
    if keys.is_empty() {
        return Err(KeyFileError::Missing(main));
    }
    Ok(keys)
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

/// Makes the pending key the key file.
pub fn promote_next(data_dir: &Path) -> Result<(), KeyFileError> {
    let next = data_dir.join(NEXT);
    fs::rename(&next, data_dir.join(FILE)).map_err(io(&next))
}
