// Each backend mounts this module, so each file below is compiled twice, on purpose.
#![allow(clippy::duplicate_mod)]

// The SQL implementation of the store, shared by both backends.
//
// This module is mounted by `sqlite.rs` and by `postgres.rs` (`#[path]`), each of which defines
// `Db` (the sqlx database), `BACKEND`, `MIGRATIONS` and `connect_pool`: the same code is compiled
// once per backend. SQL here is written once in the dialect both engines accept: `$n` parameters,
// `RETURNING`, integers for instants. Anything that differs lives in the migrations or behind
// `BACKEND`. One file per aggregate, each implementing its trait (`crate::Access` in
// `access.rs`, …); what several share (the write transaction and its audit entry, row
// helpers, evidence files) is here.

mod access;
mod access_daily;
mod access_import;

mod accounts;
mod alerts;
mod audit;
mod calendars;
mod cases;
mod consents;
mod evidence;
mod facilities;
mod integrity;
mod maintenance;
mod migrate;
mod publications;
mod recommendations;
mod reseal;
mod retention;
mod sign_in;
mod statements;
mod statistics;
mod transparency;
mod visits;

use access::*;
use access_daily::*;
use access_import::*;
use accounts::*;
use alerts::*;
use audit::*;
use cases::*;
use evidence::*;
use facilities::*;
use integrity::*;
use maintenance::*;
use migrate::*;
use reseal::*;
use retention::*;
use sign_in::*;
use statements::*;
use visits::*;

use super::*;
use crate::prelude::*;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use sqlx::{Pool, Row, Transaction};
use vigia_domain::access::{
    Attempt, AttemptDraft, AttemptFilter, AttemptImport, Outcome, Purpose, ReasonCategory, Restriction, TallyFilter,
    Visibility,
};
use vigia_domain::account::{Locale, Organization, Role, User};
use vigia_domain::audit::{entry_hash, row_hash, sha256_hex, AuditEntry, ImportDigest, RowsDigest, Verifier};
use vigia_domain::case::{
    AgeGroup, Case, CaseDraft, CaseEvent, CaseFields, CaseFilter, CaseStatus, DecisionOutcome, EventDraft, EventKind,
    ExtensionGround, Fact, Person, Sex, Vulnerability,
};
use vigia_domain::facility::{Facility, FacilityDraft, FacilityKind};
use vigia_domain::note::FacilityNote;
use vigia_domain::statement::{Channel, Claim, ClaimDraft, Position, Review, ReviewStatus, Statement, StatementDraft};
use vigia_domain::visit::{Visit, VisitDraft};
use vigia_domain::{FieldError, Micros, RecordType, ValidationErrors};

use crate::vault::{self, b64, MasterKey, Vault, VaultError};
use crate::{
    now_micros, Actor, Alert, ApiToken, Attachment, Backend, CalendarRule, CaseFacts, Coalition, Counts, DailyCell,
    Delivery, DeliveryOutcome, DueDelivery, DueEmail, EmailMode, EmailOutcome, EmailPref, ExportRow, HistoryEntry,
    ImportFeed, ImportSource, ImportedFile, LoginChallenge, NewUser, OutboxEntry, Result, SealedCase, SessionInfo,
    SessionRow, StoreError, TallyCell, TotpState, VerifyReport, Webhook, WebhookState,
};

type DbRow = <Db as sqlx::Database>::Row;

/// Appends a keyset condition for a newest-first list ordered by `key_col` then `id`:
/// rows strictly after `(key, id)`. Written as a range both planners read from an index
/// (`key <= k AND (key < k OR id < i)`), so a deep page costs what the first does.
fn push_after<K>(q: &mut sqlx::QueryBuilder<Db>, key_col: &str, after: Option<(K, i64)>)
where
    K: for<'t> sqlx::Encode<'t, Db> + sqlx::Type<Db> + Clone,
{
    if let Some((key, id)) = after {
        q.push(format!(" AND {key_col} <= ")).push_bind(key.clone());
        q.push(format!(" AND ({key_col} < ")).push_bind(key).push(" OR id < ").push_bind(id).push(")");
    }
}

/// SQLite's page cache per connection, in KiB (negative: SQLite's unit for KiB).
pub(super) const SQLITE_READ_CACHE_KIB: &str = "-4096";
/// SQLite's page cache of a connection writing a bulk import: its index pages stay in
/// memory instead of spilling to the WAL again and again.
const SQLITE_IMPORT_CACHE_KIB: &str = "-32768";

/// A store on one database pool.
pub struct SqlStore {
    pool: Pool<Db>,
    vault: Vault,
    /// Where evidence bytes live on disk; `None` keeps them in the database.
    blob_dir: Option<std::path::PathBuf>,
    /// Writes this process committed that moved the data version ([`crate::Access::local_changes`]).
    changes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// A write transaction holding the audit chain's head.
struct WriteTx {
    tx: Transaction<'static, Db>,
    chain: Chain,
    now: Micros,
    /// The master key the data is under, checked as the transaction began.
    key: MasterKey,
    /// Where the head was first signed (kept under the head's MAC).
    keyed_from: Option<i64>,
    /// Whether sealed values name their record (kept under the head's MAC).
    records_bound: bool,
    /// The chain's length when the transaction began, and how many of the entries it
    /// added record a read of sealed data rather than a change: a transaction that
    /// changed something moves `access_state.changes`, the data version kept answers
    /// follow (issue #19).
    started_at_seq: i64,
    reads: i64,
    /// The store's count of committed changes, moved when this one commits.
    changes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// The audit chain as a write transaction carries it: the last entry's number and hash.
struct Chain {
    seq: i64,
    hash: String,
}

/// The audit action of a read of sealed data: recorded, but not a change.
const READ_SEALED: &str = "read_sealed";

/// A statement built ahead of running it, its values bound and owned.
type Stmt = sqlx::query::Query<'static, Db, <Db as sqlx::Database>::Arguments>;

fn unique_to_conflict(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what.to_string()),
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::NotFound,
        _ => StoreError::Database(e),
    }
}

/// The newest data-key version the history recorded for an organization (created or
/// re-wrapped), if any.
async fn audited_key_version(conn: &mut <Db as sqlx::Database>::Connection, org_id: i64) -> Result<Option<i64>> {
    Ok(latest_audited(conn, RecordType::OrgKey, org_id).await?.and_then(|v| v.get("version")?.as_i64()))
}

/// A record's content as its last audit entry holds it: what the signed history says,
/// whatever its table says now.
async fn latest_audited(
    conn: &mut <Db as sqlx::Database>::Connection,
    record_type: RecordType,
    id: i64,
) -> Result<Option<serde_json::Value>> {
    let row = sqlx::query(
        "SELECT content FROM audit_log WHERE record_type = $1 AND record_id = $2 ORDER BY seq DESC LIMIT 1",
    )
    .bind(record_type.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let content: String = row.try_get("content")?;
    Ok(Some(serde_json::from_str(&content).map_err(|e| StoreError::Corrupt(e.to_string()))?))
}

/// Whether an organization requires two-step sign-in, as its history last recorded it.
/// Read from the history, not from `org_settings`: the history cannot be changed without
/// the master key (its head is signed), the table can (found by our own attack pass:
/// switching the requirement off in the database let members without a second factor
/// in). The table is kept, and `audit verify` compares it with the history.
async fn audited_requires_2fa(conn: &mut <Db as sqlx::Database>::Connection, org_id: i64) -> Result<bool> {
    let latest = latest_audited(conn, RecordType::OrgSettings, org_id).await?;
    Ok(requires_2fa_in(latest.as_ref()))
}

/// Whether an organization's settings, as its history recorded them, require two-step
/// sign-in (none recorded: not required).
fn requires_2fa_in(settings: Option<&serde_json::Value>) -> bool {
    settings.and_then(|v| v.get("require_2fa")?.as_bool()).unwrap_or(false)
}

/// What the head's MAC is for, in the key derivation.
const HEAD_MAC: &str = "audit-head";

/// The audit chain's head as `chain_head` records it; every column is under its MAC, so
/// neither the entry it names, nor the time writers date from, nor the entry the time
/// rule starts at can be moved without the master key.
struct Head {
    seq: i64,
    hash: String,
    touched_at: i64,
    keyed_from: Option<i64>,
    /// Whether every sealed value in the rows names its record (finding 5): signed,
    /// so clearing it to have older values re-sealed into other rows breaks the head.
    records_bound: bool,
}

impl Head {
    fn from_row(r: &DbRow) -> Result<Head> {
        Ok(Head {
            seq: r.try_get("seq")?,
            hash: r.try_get("hash")?,
            touched_at: r.try_get("touched_at")?,
            keyed_from: r.try_get("keyed_from")?,
            // Absent before migration 22 added it.
            records_bound: r.try_get::<Option<bool>, _>("records_bound").ok().flatten() == Some(true),
        })
    }

    /// What the MAC covers; heads signed before `records_bound` existed sign the same.
    fn message(&self) -> String {
        let from = self.keyed_from.map_or("-".to_string(), |n| n.to_string());
        let bound = if self.records_bound { "\nrecords bound" } else { "" };
        format!("{}\n{}\n{}\n{from}{bound}", self.seq, self.hash, self.touched_at)
    }

    /// The head's MAC under the master key.
    fn mac(&self, key: &MasterKey) -> String {
        key.mac(HEAD_MAC, self.message().as_bytes())
    }

    fn signed_by(&self, key: &MasterKey, mac: Option<&str>) -> bool {
        mac.is_some_and(|m| key.verify_mac(HEAD_MAC, self.message().as_bytes(), m))
    }
}

/// One INSERT of an audit entry per record (at most [`BULK_ROWS`]), hashed and chained
/// in order after `chain`: the one place entries are hashed and chained.
fn audit_insert(
    chain: &mut Chain,
    now: Micros,
    actor: &Actor,
    org_id: Option<i64>,
    action: &'static str,
    record_type: RecordType,
    records: Vec<(i64, String)>,
) -> Stmt {
    const COLUMNS: usize = 11;
    let sql = format!(
        "INSERT INTO audit_log (seq, at, actor_user_id, org_id, action, record_type, record_id, \
         content, content_hash, prev_hash, entry_hash) VALUES {}",
        placeholders(records.len(), COLUMNS)
    );
    debug_assert!(crate::AUDIT_ACTIONS.contains(&action), "audit action {action:?} is not in AUDIT_ACTIONS");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (record_id, content) in records {
        let seq = chain.seq + 1;
        let content_hash = sha256_hex(content.as_bytes());
        let hash = entry_hash(
            &chain.hash,
            seq,
            now,
            actor.user_id,
            org_id,
            action,
            record_type.as_str(),
            record_id,
            &content_hash,
        );
        q = q
            .bind(seq)
            .bind(now)
            .bind(actor.user_id)
            .bind(org_id)
            .bind(action)
            .bind(record_type.as_str())
            .bind(record_id)
            .bind(content)
            .bind(content_hash)
            .bind(std::mem::replace(&mut chain.hash, hash.clone()))
            .bind(hash);
        chain.seq = seq;
    }
    q
}

impl WriteTx {
    /// The id the next row of `table` gets, taken before its INSERT so that what is
    /// sealed in it can name its record (review of keys, finding 5). On PostgreSQL the
    /// identity hands it out; on SQLite writers hold the database, so nothing else
    /// inserts meanwhile.
    async fn next_id(&mut self, table: &'static str) -> Result<i64> {
        let sql = match BACKEND {
            Backend::Postgres => format!("SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id"),
            Backend::Sqlite => format!("SELECT COALESCE(MAX(id), 0) + 1 AS id FROM {table}"),
        };
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *self.tx).await?.try_get("id")?)
    }

    /// The organization a user belongs to, if any.
    async fn org_of_user(&mut self, user_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query("SELECT org_id FROM memberships WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *self.tx)
            .await?
            .map(|r| r.try_get("org_id"))
            .transpose()?)
    }

    /// Appends an audit entry for a record's new content.
    async fn audit(
        &mut self,
        actor: &Actor,
        org_id: Option<i64>,
        action: &'static str,
        record_type: RecordType,
        record_id: i64,
        content: &str,
    ) -> Result<()> {
        if action == READ_SEALED {
            self.reads += 1;
        }
        audit_insert(
            &mut self.chain,
            self.now,
            actor,
            org_id,
            action,
            record_type,
            vec![(record_id, content.to_string())],
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn commit(mut self) -> Result<()> {
        // The head moves only with its MAC under the master key (finding 6).
        let head = Head {
            seq: self.chain.seq,
            hash: self.chain.hash.clone(),
            touched_at: self.now,
            keyed_from: self.keyed_from,
            records_bound: self.records_bound,
        };
        let changed = self.chain.seq - self.started_at_seq > self.reads;
        if changed {
            sqlx::query("UPDATE access_state SET changes = changes + 1 WHERE id = 1").execute(&mut *self.tx).await?;
        }
        sqlx::query("UPDATE chain_head SET seq = $1, hash = $2, mac = $3, touched_at = $4 WHERE id = 1")
            .bind(self.chain.seq)
            .bind(&self.chain.hash)
            .bind(head.mac(&self.key))
            .bind(self.now)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        if changed {
            self.changes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {v:?}"))
}

/// Rows per multi-row INSERT: under SQLite's 32,766 and PostgreSQL's 65,535 bound
/// parameters for the widest table written in bulk (18 columns).
const BULK_ROWS: usize = 1_000;

/// `($1, $2, …), (…)` for `rows` rows of `columns` parameters.
fn placeholders(rows: usize, columns: usize) -> String {
    placeholders_then(rows, columns, "")
}

/// [`placeholders`] with `tail` (literal SQL values) closing each row.
fn placeholders_then(rows: usize, columns: usize, tail: &str) -> String {
    let mut out = String::with_capacity(rows * (columns * 6 + tail.len()));
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            if BACKEND == Backend::Sqlite {
                // SQLite treats `$n` as a named parameter and looks names up one by
                // one: thousands per statement cost quadratic time. `?` is positional.
                out.push('?');
            } else {
                out.push('$');
                out.push_str(&(r * columns + c + 1).to_string());
            }
        }
        out.push_str(tail);
        out.push(')');
    }
    out
}

pub(super) fn blob_path(dir: &Path, name: &str) -> std::path::PathBuf {
    dir.join(&name[..2.min(name.len())]).join(name)
}

/// An evidence file's name in `blobs/` ([`vigia_domain::evidence::file_name`]): its
/// plaintext hash and the organization whose key sealed it (`<sha256>.<org>`), or the
/// hash alone for a file kept before sealing. Organizations storing the same bytes at
/// the same moment never write each other's file. A hash or organization that could
/// name a path outside `blobs/` is refused.
pub(super) fn blob_name(sha: &str, key_org: Option<i64>) -> Result<String> {
    vigia_domain::evidence::file_name(sha, key_org)
        .ok_or_else(|| StoreError::Corrupt(format!("an evidence file is named {sha:?} ({key_org:?}), not by its hash")))
}

/// Writes bytes under their name: a temporary file, flushed, then renamed into place,
/// so a crash never leaves a partial file under a valid name.
fn write_blob_file(dir: &Path, sha: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let path = blob_path(dir, sha);
    private_dir(dir)?;
    if path.exists() {
        return Ok(());
    }
    let parent = path.parent().unwrap_or(dir);
    private_dir(parent)?;
    // A name no other writer uses, in this process or another: identical uploads at
    // the same moment each write their own file and the renames agree.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = parent.join(format!(".{sha}.{}.{n}.tmp", std::process::id()));
    let written = new_private_file(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Ok(d) = std::fs::File::open(parent) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// [`write_blob_file`] away from the async workers.
async fn store_blob_file(dir: &Path, name: String, bytes: Vec<u8>) -> Result<()> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || write_blob_file(&dir, &name, &bytes))
        .await
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .map_err(|e| StoreError::Corrupt(format!("cannot write evidence file: {e}")))
}

/// Creates a directory readable by its owner only (0700 on Unix), or leaves an
/// existing one as it is.
pub(super) fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// A new file readable and writable by its owner only (0600 on Unix).
pub(super) fn new_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

const ATTACHMENT_COLUMNS: &str = "id, org_id, record_type, record_id, sha256, filename, content_type, size, created_at";

const WEBHOOK_FIELD: &str = "webhook.secret";

const CASE_COLUMNS: &str = "id, org_id, version, reference, facility_id, lawyer_user_id, nationality, sex, age_group, \
     minor, languages, vulnerabilities, status, created_at, updated_at";
const PERSON_FIELD: &str = "case.person";
/// A case's reference: sealed, as it can name a person (finding 11).
const CASE_REFERENCE: &str = "case.reference";
const EVENT_NOTE_FIELD: &str = "case_event.note";
const EVENT_COLUMNS: &str = "id, case_id, org_id, kind, occurred_on, occurred_time, facility_id, ground, decision, \
     note_sealed, voided_at, void_reason, author_user_id, created_at";

/// Why an event was voided: sealed (finding 11).
const VOID_REASON: &str = "case_event.void_reason";
/// Why an organization confirmed or dismissed a contradiction: sealed (finding 11).
const REVIEW_REASON: &str = "review.reason";

const DOCUMENT_FIELD: &str = "case.document";
/// A case document's file name: sealed, as it can name the person (finding 11).
const DOCUMENT_NAME: &str = "case.document_name";
/// A case document's plaintext hash, sealed (issue #22 finding 7): in the clear it let
/// anyone with the database confirm that a file they hold is attached to a case.
const DOCUMENT_SHA: &str = "case.document_sha256";
const DOCUMENT_COLUMNS: &str = "id, org_id, case_id, sha256, sealed_sha256, filename, content_type, size, created_at";

const TOTP_FIELD: &str = "user_totp.secret";
/// Hex characters of a session's token hash that name it in its user's list.
const SESSION_ID_LEN: usize = 16;

/// What a column holds, as the portable export reads and writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    Integer,
    Real,
    Text,
    Bytes,
    Bool,
}

const STATEMENT_COLUMNS: &str = "id, org_id, version, authority, speaker, speaker_position, published_at, channel, \
     source_url, language, text, translation, created_at, updated_at";
const CLAIM_COLUMNS: &str = "id, statement_id, topic, scope, position, from_date, until_date, confirmed";

const VISIT_NOTES_FIELD: &str = "visit.interview_notes";
const VISIT_COLUMNS: &str =
    "id, org_id, facility_id, visited_on, report, notes_sealed, idempotency_key, author_user_id, created_at";

const VISIT_FINDING: &str = "visit.finding";
const VISIT_OBSERVATIONS: &str = "visit.observations";

const NOTE_FIELD: &str = "facility_note.body";

fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'Á' => 'a',
            'é' | 'è' | 'ë' | 'É' => 'e',
            'í' | 'ì' | 'ï' | 'Í' => 'i',
            'ó' | 'ò' | 'ö' | 'Ó' => 'o',
            'ú' | 'ù' | 'ü' | 'Ú' => 'u',
            'ñ' | 'Ñ' => 'n',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

impl SqlStore {
    /// Connects, applies migrations, and opens the data keys with the first of `keys`
    /// that opens them all.
    pub async fn connect(url: &str, keys: &[MasterKey]) -> Result<Self> {
        let pool = connect_pool(url).await?;
        migrate(&pool, None).await?;
        restrict_database_files(url)?;
        let check: Option<String> = sqlx::query("SELECT key_check FROM chain_head WHERE id = 1")
            .fetch_one(&pool)
            .await?
            .try_get("key_check")?;
        let rows = sqlx::query("SELECT org_id, version, wrapped FROM org_keys").fetch_all(&pool).await?;
        let mut last_err = VaultError::WrongMasterKey;
        // The key the database names, when it names one; else the first that opens
        // every data key (a database from before key checks, or a new one).
        for key in keys.iter().filter(|k| check.as_ref().is_none_or(|c| *c == k.key_check())) {
            let vault = Vault::new(key.clone());
            let opened: std::result::Result<(), VaultError> = rows.iter().try_for_each(|r| {
                let org: i64 = r.try_get("org_id").map_err(|_| VaultError::Damaged)?;
                let ver: i64 = r.try_get("version").map_err(|_| VaultError::Damaged)?;
                let wrapped: Vec<u8> = r.try_get("wrapped").map_err(|_| VaultError::Damaged)?;
                vault.load_key(org, ver, &wrapped)
            });
            match opened {
                Ok(()) => {
                    migrate(&pool, Some(key)).await?;
                    if check.is_none() {
                        sqlx::query("UPDATE chain_head SET key_check = $1 WHERE id = 1 AND key_check IS NULL")
                            .bind(key.key_check())
                            .execute(&pool)
                            .await?;
                    }
                    let store = Self { pool, vault, blob_dir: blob_dir(url), changes: Default::default() };
                    store.seal_plain_evidence().await?;
                    store.index_case_references().await?;
                    // A database that cannot take a write now (its head fails its
                    // check) still opens, for `audit verify` to say why; its older
                    // sealed values are refused until they are re-sealed.
                    if let Err(e) = store.bind_sealed_to_records().await {
                        tracing::error!(error = %e, "sealed values could not be bound to their records yet");
                    }
                    return Ok(store);
                }
                Err(e) => last_err = e,
            }
        }
        Err(StoreError::Vault(last_err))
    }

    pub fn pool(&self) -> &Pool<Db> {
        &self.pool
    }

    /// The master key the vault uses now.
    pub fn master_key(&self) -> MasterKey {
        self.vault.master()
    }

    async fn begin(&self) -> Result<WriteTx> {
        let mut tx = self.pool.begin().await?;
        // A write first: it takes SQLite's write lock (waiting on busy_timeout rather than
        // failing later on a read-to-write upgrade) and PostgreSQL's row lock on the head.
        let row = sqlx::query(
            "UPDATE chain_head SET touched_at = touched_at WHERE id = 1 \
             RETURNING seq, hash, key_check, touched_at, keyed_from, records_bound, mac",
        )
        .fetch_one(&mut *tx)
        .await?;
        // Nothing is written under a master key the data is no longer under (finding 2).
        let check: Option<String> = row.try_get("key_check")?;
        let key = self.vault.master();
        if check.is_some_and(|c| c != key.key_check()) {
            return Err(StoreError::Vault(VaultError::Rotated));
        }
        // Nothing is chained onto a head the master key did not sign: a write would
        // otherwise sign entries appended behind the app's back (finding 6).
        let head = Head::from_row(&row)?;
        let mac: Option<String> = row.try_get("mac")?;
        if !head.signed_by(&key, mac.as_deref()) {
            tracing::error!(
                seq = head.seq,
                "the audit head is not signed by the master key: writes refused; run `vigia audit verify`"
            );
            return Err(StoreError::Integrity("the audit history's head is not signed by the master key".into()));
        }
        // The clock is read holding the chain, and never before the last write: entry
        // times only go forward, so a backdated entry stands out (finding 6).
        let now = now_micros().max(head.touched_at);
        Ok(WriteTx {
            started_at_seq: head.seq,
            reads: 0,
            chain: Chain { seq: head.seq, hash: head.hash },
            tx,
            now,
            key,
            keyed_from: head.keyed_from,
            records_bound: head.records_bound,
            changes: self.changes.clone(),
        })
    }

    /// A security row failed its MAC: if that is because another process rotated the
    /// master key (this one still holds the old key), say so (503, "restart") rather than
    /// refusing the person as if their credentials were wrong.
    async fn unless_rotated(&self) -> Result<()> {
        let check: Option<String> = sqlx::query("SELECT key_check FROM chain_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get("key_check")?;
        if check.is_some_and(|c| c != self.vault.master().key_check()) {
            return Err(StoreError::Vault(VaultError::Rotated));
        }
        Ok(())
    }

    async fn current_key_version(&self, org_id: i64) -> Result<i64> {
        let v: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM org_keys WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(&self.pool)
            .await?
            .try_get("v")?;
        let v = v.ok_or(StoreError::Vault(VaultError::NoKey(org_id)))?;
        // The newest data key is the one the history last recorded: with a newer one
        // deleted behind the app's back, new data would be sealed under an older key that
        // a replaced master key may open (found by our own attack pass). Refused instead.
        if audited_key_version(&mut *self.pool.acquire().await?, org_id).await?.is_some_and(|a| a > v) {
            tracing::error!(
                org_id,
                "an organization's newest data key is missing: sealing refused; run `vigia audit verify`"
            );
            return Err(StoreError::Integrity(format!("organization {org_id}'s newest data key is missing")));
        }
        if !self.vault.has_key(org_id, v) {
            self.load_new_keys().await?;
        }
        Ok(v)
    }

    /// Opens the data keys written since this store opened: an organization added from
    /// the command line while the server runs.
    async fn load_new_keys(&self) -> Result<()> {
        for r in &sqlx::query("SELECT org_id, version, wrapped FROM org_keys").fetch_all(&self.pool).await? {
            let (org, ver): (i64, i64) = (r.try_get("org_id")?, r.try_get("version")?);
            if !self.vault.has_key(org, ver) {
                self.vault.load_key(org, ver, &r.try_get::<Vec<u8>, _>("wrapped")?)?;
            }
        }
        Ok(())
    }

    /// Runs `open` (what turns stored rows into what readers see); if a data key it
    /// needs is not open yet, opens the new keys and runs it again.
    async fn opened<T>(&self, open: impl Fn() -> Result<T>) -> Result<T> {
        match open() {
            Err(StoreError::Vault(VaultError::NoKey(_))) => {
                self.load_new_keys().await?;
                open()
            }
            other => other,
        }
    }
}

/// Each record's last audited `(seq, content hash)`, by `(record type, id)`.
type Latest = HashMap<(String, i64), (i64, String)>;

#[async_trait::async_trait]
impl crate::Store for SqlStore {
    fn master_key(&self) -> MasterKey {
        self.vault.master()
    }

    fn backend(&self) -> Backend {
        BACKEND
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn counts(&self) -> Result<Counts> {
        let mut n = std::collections::BTreeMap::new();
        for table in crate::RECORD_TABLES {
            // Table names come from the constant list above, never from input.
            let sql = format!("SELECT COUNT(*) AS n FROM {table}");
            n.insert(
                table.to_string(),
                sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&self.pool).await?.try_get("n")?,
            );
        }
        Ok(Counts(n))
    }
}
