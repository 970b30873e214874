//! `vigia keys rotate`: a new master key, crash-safe at every step (issue #22 finding 2).
//!
//! 1. Take the key lock (a second rotation fails at once).
//! 2. Open the data with every key on disk, and settle what an interrupted rotation
//!    left: the database records which key it is under, so a pending `master.key.new`
//!    it committed becomes `master.key`, and one it never used is removed.
//! 3. Write the new key as `master.key.new` (temporary file, flush, rename, flush the
//!    directory). The old key stays in `master.key`.
//! 4. Commit the re-wrapped data keys and the new key check in one transaction.
//! 5. Rename `master.key.new` over `master.key`.
//!
//! A kill between any two steps leaves a data dir that opens, and the next rotation
//! (or server start) carries on from there. A server still running with the old key
//! refuses to write after step 4 (its key no longer matches the database's check):
//! stop it first and start it again after.

use std::path::Path;

use anyhow::{anyhow, bail};
use vigia_store::keyfile::{self, crash_point, Settled};
use vigia_store::{Actor, DynStore, MasterKey};

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    pub data_keys: usize,
    pub settled: Settled,
}

/// Opens the data under the key lock and settles an interrupted rotation.
async fn open_settled(data_dir: &Path, url: &str, lock: &keyfile::KeyLock) -> anyhow::Result<(DynStore, Settled)> {
    let keys = keyfile::load(data_dir)?;
    let store = vigia_store::open(url, &keys).await.map_err(|e| anyhow!("cannot open the database: {e}"))?;
    let settled = keyfile::settle(data_dir, &store.master_key(), lock)?;
    Ok((store, settled))
}

/// Rotates the master key of the data at `url` whose key files live in `data_dir`.
pub async fn rotate(data_dir: &Path, url: &str) -> anyhow::Result<Rotated> {
    if std::env::var(keyfile::ENV).is_ok() {
        bail!("the master key comes from {}: rotate it there, not in a key file", keyfile::ENV);
    }
    let lock = keyfile::lock(data_dir)?;
    crash_point("rotate-locked");
    let (store, settled) = open_settled(data_dir, url, &lock).await?;
    crash_point("rotate-settled");
    let new = MasterKey::generate()?;
    keyfile::write(&data_dir.join(keyfile::NEXT), &new)?;
    crash_point("rotate-next-written");
    let data_keys = store.rotate_master_key(&Actor::SYSTEM, &new).await?;
    crash_point("rotate-committed");
    keyfile::promote_next(data_dir)?;
    crash_point("rotate-promoted");
    store.close().await;
    drop(lock);
    Ok(Rotated { data_keys, settled })
}
