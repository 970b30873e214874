//! Backups as self-checking archives, and restoring them.
//!
//! `vigia backup OUT` writes `OUT/vigia.db` (one snapshot), `OUT/blobs/` (evidence files)
//! and `OUT/MANIFEST.json`: the database file's SHA-256, the audit chain's head and the
//! row count of every record table, taken from the verified copy. `vigia restore FROM`
//! checks all of that on a staged copy — file hash, every blob against its name, the
//! whole audit chain, the head and the counts, and that the master key opens the sealed
//! data — before it moves anything into the data dir; what it replaces is kept aside.
//!
//! The manifest is signed: an HMAC under a key derived from the master key. The audit
//! chain alone is unkeyed, so someone who doctors a backup's database can recompute the
//! chain, the file hash and the counts; without the master key they cannot sign the
//! manifest again, and `restore` refuses it. Backups of format 1 (before signing)
//! restore only with `--allow-unsigned`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};
use vigia_domain::audit::sha256_hex;
use vigia_store::{Counts, MasterKey, StoreError, VaultError, VerifyReport};

pub const MANIFEST: &str = "MANIFEST.json";
const FORMAT: u32 = 2;
/// What the manifest's signature is for, in the key derivation.
const SIGNING: &str = "backup-manifest";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: String,
    pub vigia_version: String,
    pub database_sha256: String,
    pub audit_entries: i64,
    pub head_seq: i64,
    pub head_hash: String,
    pub counts: Counts,
    /// HMAC-SHA256 of the manifest with this field empty, under the master key's
    /// backup-manifest key (hex); absent in format 1.
    #[serde(default)]
    pub signature: String,
}

impl Manifest {
    fn signed_bytes(&self) -> anyhow::Result<Vec<u8>> {
        Ok(serde_json::to_vec(&Manifest { signature: String::new(), ..self.clone() })?)
    }
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(sha256_hex(&bytes))
}

/// Writes the manifest of a backup directory whose copy verified as `report`, signed
/// with `key` (the data dir's master key).
pub fn write_manifest(out: &Path, report: &VerifyReport, counts: Counts, key: &MasterKey) -> anyhow::Result<Manifest> {
    let mut m = Manifest {
        format: FORMAT,
        created_at: vigia_domain::format_instant(vigia_store::now_micros()),
        vigia_version: env!("CARGO_PKG_VERSION").to_string(),
        database_sha256: sha256_file(&out.join("vigia.db"))?,
        audit_entries: report.entries,
        head_seq: report.head_seq,
        head_hash: report.head_hash.clone(),
        counts,
        signature: String::new(),
    };
    m.signature = key.mac(SIGNING, &m.signed_bytes()?);
    let path = out.join(MANIFEST);
    std::fs::write(&path, serde_json::to_string_pretty(&m)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(m)
}

/// Every file under `dir/blobs`, checked against the hash it is named by.
fn check_blobs(dir: &Path) -> anyhow::Result<usize> {
    let root = dir.join("blobs");
    if !root.exists() {
        return Ok(0);
    }
    let mut n = 0;
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') {
                continue;
            }
            // A sealed file (`<sha256>.<org>`) is checked when the staged copy opens:
            // every chunk is authenticated, then the whole against its hash. A file kept
            // before sealing is named by the hash of its bytes. Nothing else belongs here.
            let (hash, org) = name.split_once('.').map_or((name, None), |(h, o)| (h, Some(o)));
            let hex = hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !hex || org.is_some_and(|o| o.is_empty() || !o.bytes().all(|b| b.is_ascii_digit())) {
                bail!("{} is not an evidence file: the backup was altered", path.display());
            }
            if org.is_none() && sha256_file(&path)? != name {
                bail!("evidence file {} does not match its hash: the backup was altered", path.display());
            }
            n += 1;
        }
    }
    Ok(n)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// What a restore checked and did.
pub struct Restored {
    pub manifest: Manifest,
    pub blobs: usize,
    pub kept_aside: Option<PathBuf>,
}

/// Checks the backup in `from` and, when everything holds, makes it the data in
/// `data_dir`. With existing data, `force` is needed; the old files are moved to
/// `data_dir/replaced-<time>/`, never deleted. The server must not be running.
/// How a restore may go: over existing data (`force`), and from a backup made before
/// manifests were signed (`allow_unsigned`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RestoreOptions {
    pub force: bool,
    pub allow_unsigned: bool,
}

pub async fn restore(
    from: &Path,
    data_dir: &Path,
    keys: &[MasterKey],
    opts: RestoreOptions,
) -> anyhow::Result<Restored> {
    let force = opts.force;
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(from.join(MANIFEST))
            .with_context(|| format!("{} has no {MANIFEST}: not a Vigía backup", from.display()))?,
    )
    .with_context(|| format!("{MANIFEST} is not readable"))?;
    match manifest.format {
        FORMAT => {
            let bytes = manifest.signed_bytes()?;
            if !keys.iter().any(|k| k.verify_mac(SIGNING, &bytes, &manifest.signature)) {
                bail!(
                    "the manifest's signature does not verify with this master key: the backup was altered, \
                     or it was made under another key (restoring needs the master key of the time of the backup)"
                );
            }
        }
        1 if opts.allow_unsigned => {
            eprintln!("warning: this backup's manifest is unsigned (format 1); only its hashes and chain are checked");
        }
        1 => bail!(
            "this backup's manifest is unsigned (made before manifests were signed): restore it with --allow-unsigned \
             only if you know where it has been"
        ),
        other => bail!("unknown backup format {other}"),
    }
    let current = data_dir.join("vigia.db");
    if current.exists() && !force {
        bail!("{} already holds data; pass --force to replace it (it is kept aside, not deleted)", data_dir.display());
    }

    // Stage a copy and check it with the store itself before touching the data dir.
    let stamp = vigia_store::now_micros();
    let stage = data_dir.join(format!(".restore-{stamp}"));
    std::fs::create_dir_all(&stage).with_context(|| format!("cannot create {}", stage.display()))?;
    vigia_store::owner_only_tree(&stage).with_context(|| format!("cannot restrict {}", stage.display()))?;
    // Everything is checked on the staged copy, the bytes that will be used: a file
    // swapped in the backup between a check and a copy would otherwise slip through.
    let mut blobs = 0;
    let checked: anyhow::Result<()> = async {
        std::fs::copy(from.join("vigia.db"), stage.join("vigia.db"))?;
        if from.join("blobs").exists() {
            copy_tree(&from.join("blobs"), &stage.join("blobs"))?;
        }
        if sha256_file(&stage.join("vigia.db"))? != manifest.database_sha256 {
            bail!("the database file does not match the manifest's hash: the backup was altered or is incomplete");
        }
        blobs = check_blobs(&stage)?;
        let store =
            vigia_store::open(&vigia_store::sqlite_url(&stage.join("vigia.db")), keys).await.map_err(|e| match e {
                StoreError::Vault(VaultError::WrongMasterKey) => anyhow!(
                "the master key does not open this backup: restoring needs the master key of the time of the backup"
            ),
                other => anyhow!("the backup's database does not open: {other}"),
            })?;
        let report = store.verify_audit().await?;
        if !report.ok() {
            bail!("the backup's audit history does not verify: {}", report.problems.join("; "));
        }
        let same = holds_recorded(&store, &report, manifest.head_seq, &manifest.head_hash, &manifest.counts).await;
        store.close().await;
        match same? {
            Recorded::Same => {}
            Recorded::OtherHead => bail!("the backup's audit head is not the one its manifest recorded"),
            Recorded::OtherCounts => bail!("the backup's record counts differ from its manifest"),
        }
        Ok(())
    }
    .await;
    if let Err(e) = checked {
        let _ = std::fs::remove_dir_all(&stage);
        return Err(e);
    }

    let mut kept_aside = None;
    if current.exists() {
        let aside = data_dir.join(format!("replaced-{stamp}"));
        std::fs::create_dir_all(&aside)?;
        for name in ["vigia.db", "vigia.db-wal", "vigia.db-shm", "blobs"] {
            let p = data_dir.join(name);
            if p.exists() {
                std::fs::rename(&p, aside.join(name)).with_context(|| format!("cannot move {} aside", p.display()))?;
            }
        }
        kept_aside = Some(aside);
    }
    for name in ["vigia.db", "vigia.db-wal", "blobs"] {
        let p = stage.join(name);
        if p.exists() {
            std::fs::rename(&p, data_dir.join(name))
                .with_context(|| format!("cannot move {} into place", p.display()))?;
        }
    }
    let _ = std::fs::remove_dir_all(&stage);
    for name in ["vigia.db", "vigia.db-wal", "blobs"] {
        let p = data_dir.join(name);
        if p.exists() {
            vigia_store::owner_only_tree(&p).with_context(|| format!("cannot restrict {}", p.display()))?;
        }
    }
    if let Some(aside) = &kept_aside {
        vigia_store::owner_only_tree(aside).with_context(|| format!("cannot restrict {}", aside.display()))?;
    }
    Ok(Restored { manifest, blobs, kept_aside })
}

// ---- Portable export, for PostgreSQL and for moving between backends -------------

/// Format 2 ends with a signed trailer line; format 1 (unsigned) imports only with
/// `--allow-unsigned`.
const EXPORT_FORMAT: u32 = 2;
/// What an export's signature is for, in the key derivation.
const EXPORT_SIGNING: &str = "export";

/// The first line of a portable export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportHeader {
    pub vigia_export: u32,
    pub created_at: String,
    pub vigia_version: String,
    pub backend: String,
    pub head_seq: i64,
    pub head_hash: String,
    pub counts: Counts,
}

/// The last line of a signed export: how many lines came before it, and the HMAC of
/// exactly those bytes under the master key's export key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportEnd {
    pub lines: u64,
    pub mac: String,
}

/// Writes lines to the file and into the signature at once.
struct SignedWriter<W: std::io::Write> {
    out: W,
    mac: vigia_store::vault::MacStream,
    lines: u64,
}

impl<W: std::io::Write> SignedWriter<W> {
    fn line(&mut self, text: &str) -> std::io::Result<()> {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(b'\n');
        self.mac.update(&bytes);
        self.lines += 1;
        self.out.write_all(&bytes)
    }
}

/// Writes every record of `store` as JSON Lines: a header (audit head and counts, after
/// the chain verified), one line per row, and a trailer signing every byte before it
/// with a key derived from the master key. Sealed values stay ciphertext. The file is
/// readable by its owner only: it carries password hashes and sealed data. Take it with
/// the server stopped, so the rows and the head belong together; `vigia import --all`
/// refuses an export whose signature or rows do not verify.
pub async fn export_all(store: &vigia_store::DynStore, out: &Path) -> anyhow::Result<ExportHeader> {
    use std::io::Write;
    let report = store.verify_audit().await?;
    if !report.ok() {
        bail!("the database does not verify; export refused: {}", report.problems.join("; "));
    }
    let header = ExportHeader {
        vigia_export: EXPORT_FORMAT,
        created_at: vigia_domain::format_instant(vigia_store::now_micros()),
        vigia_version: env!("CARGO_PKG_VERSION").to_string(),
        backend: store.backend().as_str().to_string(),
        head_seq: report.head_seq,
        head_hash: report.head_hash,
        counts: store.counts().await?,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts.open(out).with_context(|| format!("cannot create {} (it must not exist)", out.display()))?;
    let mut w = SignedWriter {
        out: std::io::BufWriter::new(file),
        mac: store.master_key().mac_stream(EXPORT_SIGNING),
        lines: 0,
    };
    w.line(&serde_json::to_string(&header)?)?;
    for table in vigia_store::EXPORT_TABLES {
        let mut offset = 0;
        loop {
            let rows = store.export_page(table, offset, 1000).await?;
            for row in &rows {
                w.line(&serde_json::json!({ "table": table, "row": row }).to_string())?;
            }
            if rows.len() < 1000 {
                break;
            }
            offset += rows.len() as i64;
        }
    }
    let SignedWriter { out: mut file, mac, lines } = w;
    let end = ExportEnd { lines, mac: mac.finish() };
    writeln!(file, "{}", serde_json::json!({ "vigia_export_end": end }))?;
    file.into_inner().map_err(|e| anyhow!("cannot write {}: {e}", out.display()))?.sync_all()?;
    Ok(header)
}

/// The longest line an export may have: a 10 MiB evidence file in base64 is about
/// 14 MiB; anything longer is not Vigía's and is refused before it fills memory.
const MAX_LINE: u64 = 32 * 1024 * 1024;

/// Reads the next line's bytes, `\n` included; `false` at the end.
fn next_line(r: &mut impl std::io::BufRead, buf: &mut Vec<u8>) -> anyhow::Result<bool> {
    use std::io::{BufRead, Read};
    buf.clear();
    let n = r.by_ref().take(MAX_LINE + 1).read_until(b'\n', buf)?;
    if n as u64 > MAX_LINE {
        bail!("a line of the export is longer than {} MiB: not a Vigía export", MAX_LINE / (1024 * 1024));
    }
    Ok(n > 0)
}

/// A private copy of the export, read from once the signature is checked, so the file
/// cannot change between the check and the import; removed when dropped.
struct CheckedCopy {
    path: PathBuf,
    file: std::fs::File,
}

impl CheckedCopy {
    fn create() -> anyhow::Result<CheckedCopy> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("vigia-import-{}-{n}.jsonl", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = opts.open(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(CheckedCopy { path, file })
    }
}

impl Drop for CheckedCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The trailer, if `line` is one.
fn export_end(line: &[u8]) -> Option<ExportEnd> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    serde_json::from_value(v.get("vigia_export_end")?.clone()).ok()
}

/// Reads the whole export once and checks its trailer against each of `keys`, before
/// anything is written: a file changed after export (a row added, removed or edited, a
/// token re-pointed) or signed with another master key is refused. An unsigned file
/// (format 1, or cut short before its trailer) passes only with `allow_unsigned`.
fn check_export_signature(
    file: std::fs::File,
    keys: &[MasterKey],
    allow_unsigned: bool,
) -> anyhow::Result<CheckedCopy> {
    use std::io::{Seek, Write};
    let mut copy = CheckedCopy::create()?;
    let mut out = std::io::BufWriter::new(&mut copy.file);
    let mut r = std::io::BufReader::new(file);
    let mut macs: Vec<_> = keys.iter().map(|k| k.mac_stream(EXPORT_SIGNING)).collect();
    let mut buf = Vec::new();
    let mut lines = 0u64;
    let mut end = None;
    while next_line(&mut r, &mut buf)? {
        if end.is_some() {
            bail!("the export goes on after its signed end: refused");
        }
        if let Some(e) = export_end(&buf) {
            end = Some(e);
            continue;
        }
        for m in &mut macs {
            m.update(&buf);
        }
        out.write_all(&buf)?;
        lines += 1;
    }
    out.flush()?;
    drop(out);
    copy.file.rewind()?;
    let checked = match end {
        Some(end) => {
            if end.lines != lines || !macs.into_iter().any(|m| m.verify(&end.mac)) {
                bail!(
                    "the export's signature does not match: the file was changed after it was written, or it was \
                     signed with another master key (use the key of the exported data)"
                );
            }
            Ok(())
        }
        None if allow_unsigned => Ok(()),
        None => Err(anyhow!(
            "the export is not signed (made before exports were signed, or cut short): \
             re-export it, or pass --allow-unsigned if you trust where it came from"
        )),
    };
    checked.map(|()| copy)
}

/// Loads a portable export into the empty database at `url`, then reopens it with
/// `keys` (which must open the exported organizations' data keys) and checks the whole
/// audit chain, its head and every count against the export's header. The file's
/// signature is checked first, before anything is written.
pub async fn import_all(
    url: &str,
    keys: &[MasterKey],
    from: &Path,
    allow_unsigned: bool,
) -> anyhow::Result<ExportHeader> {
    let file = std::fs::File::open(from).with_context(|| format!("cannot read {}", from.display()))?;
    // Imported from the copy that was checked, not from the file again.
    let copy = check_export_signature(file, keys, allow_unsigned)?;
    let store = vigia_store::open(url, keys).await.map_err(|e| anyhow!("cannot open the target database: {e}"))?;
    let existing = store.counts().await?;
    if existing.get("organizations") > 0 || existing.get("audit_log") > 0 {
        bail!("the target database already holds data: import needs an empty one");
    }
    load_checked(url, keys, &copy, store).await.map_err(|e| {
        anyhow!(
            "{e:#}. The import stopped part way: the target may hold part of the export; remove it (or drop and \
             re-create the PostgreSQL database) before trying again"
        )
    })
}

/// Loads a checked copy into the empty `store`, then reopens and verifies it.
async fn load_checked(
    url: &str,
    keys: &[MasterKey],
    copy: &CheckedCopy,
    store: vigia_store::DynStore,
) -> anyhow::Result<ExportHeader> {
    let mut r = std::io::BufReader::new(&copy.file);
    let mut buf = Vec::new();
    if !next_line(&mut r, &mut buf)? {
        bail!("the export is empty");
    }
    let header: ExportHeader = serde_json::from_slice(&buf).context("the first line is not a Vigía export header")?;
    // A format-1 (unsigned) file got this far only with --allow-unsigned.
    if header.vigia_export != EXPORT_FORMAT && header.vigia_export != 1 {
        bail!("unknown export format {}", header.vigia_export);
    }
    let mut batch: Vec<vigia_store::ExportRow> = Vec::new();
    let mut current: Option<String> = None;
    let mut n = 1;
    while next_line(&mut r, &mut buf)? {
        n += 1;
        if export_end(&buf).is_some() {
            break;
        }
        let v: serde_json::Value = serde_json::from_slice(&buf).with_context(|| format!("line {n} is not JSON"))?;
        let table = v["table"].as_str().ok_or_else(|| anyhow!("line {n} names no table"))?.to_string();
        let row = v["row"].as_object().ok_or_else(|| anyhow!("line {n} has no row"))?.clone();
        if current.as_deref() != Some(table.as_str()) || batch.len() >= 1000 {
            if let Some(t) = &current {
                store.import_rows(t, &batch).await?;
            }
            batch.clear();
            current = Some(table);
        }
        batch.push(row);
    }
    if let Some(t) = &current {
        store.import_rows(t, &batch).await?;
    }
    store.finish_import().await?;
    store.close().await;
    // Reopened, the vault unwraps the imported data keys: a wrong master key shows here.
    let store = vigia_store::open(url, keys).await.map_err(|e| match e {
        StoreError::Vault(VaultError::WrongMasterKey) => anyhow!(
            "imported, but the master key does not open the exported data keys: use the key of the exported data"
        ),
        other => anyhow!("cannot reopen the imported database: {other}"),
    })?;
    let report = store.verify_audit().await?;
    if !report.ok() {
        bail!("the imported data does not verify: {}", report.problems.join("; "));
    }
    match holds_recorded(&store, &report, header.head_seq, &header.head_hash, &header.counts).await? {
        Recorded::Same => Ok(header),
        Recorded::OtherHead => bail!("the imported audit head is not the one the export recorded"),
        Recorded::OtherCounts => bail!("the imported record counts differ from the export's"),
    }
}

/// Whether a database just opened holds what an export or a backup recorded.
enum Recorded {
    Same,
    OtherHead,
    OtherCounts,
}

/// Compares a verified database with the head and counts recorded when it was saved.
/// Data saved by a version that sealed values without naming their record is
/// re-sealed as it opens, which appends one entry per row re-sealed: the recorded
/// head must then still be in the history with its hash, followed by those entries
/// only, and the history longer by as many.
async fn holds_recorded(
    store: &vigia_store::DynStore,
    report: &vigia_store::VerifyReport,
    seq: i64,
    hash: &str,
    counts: &vigia_store::Counts,
) -> anyhow::Result<Recorded> {
    let resealed = if report.head_seq == seq && report.head_hash == hash {
        0
    } else {
        match (store.entry_hash_at(seq).await?, store.reseals_after(seq).await?) {
            (Some(h), Some(n)) if h == hash => n,
            _ => return Ok(Recorded::OtherHead),
        }
    };
    let mut expected = counts.clone();
    *expected.0.entry("audit_log".to_string()).or_default() += resealed;
    // A table an older export does not name did not exist then: it holds nothing.
    let actual = store.counts().await?;
    let tables: std::collections::BTreeSet<&String> = actual.0.keys().chain(expected.0.keys()).collect();
    let same = tables.iter().all(|t| actual.get(t) == expected.get(t));
    Ok(if same { Recorded::Same } else { Recorded::OtherCounts })
}

// ---- Published heads ---------------------------------------------------------------

/// What is wrong with the history against a head published earlier (`vigia audit
/// head`): empty when the history still holds that entry with that hash.
pub async fn check_published_head(store: &vigia_store::DynStore, file: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let head: vigia_store::PublishedHead = serde_json::from_str(text.trim())
        .with_context(|| format!("{} is not a head printed by `vigia audit head`", file.display()))?;
    let mut problems = Vec::new();
    match store.entry_hash_at(head.seq).await? {
        None => problems.push(format!(
            "the history no longer reaches the head published at {} (entry {}): it was cut back",
            head.at, head.seq
        )),
        Some(h) if h != head.hash => problems
            .push(format!("entry {} is not the one published at {}: the history was rewritten", head.seq, head.at)),
        Some(_) => {
            if !head.signed_by(&store.master_key()) {
                // Still an anchor by its values; only its origin cannot be shown with
                // today's key (it was signed before a rotation, or by someone else).
                eprintln!("note: {} is not signed by the current master key (made before a rotation?)", file.display());
            }
        }
    }
    Ok(problems)
}
