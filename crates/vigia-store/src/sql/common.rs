// The SQL implementation of `Store`, shared by both backends.
//
// This file is `include!`d by `sqlite.rs` and `postgres.rs`, each of which defines
// `Db` (the sqlx database), `BACKEND`, `MIGRATIONS` and `connect_pool`. SQL here is
// written once in the dialect both engines accept: `$n` parameters, `RETURNING`,
// integers for instants. Anything that differs lives in the migrations or behind
// `BACKEND`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use sqlx::{Pool, Row, Transaction};
use vigia_domain::access::{
    Attempt, AttemptDraft, AttemptFilter, AttemptImport, Outcome, Purpose, ReasonCategory, Restriction, TallyFilter, Visibility,
};
use vigia_domain::account::{Locale, Organization, Role, User};
use vigia_domain::audit::{entry_hash, row_hash, sha256_hex, AuditEntry, ImportDigest, RowsDigest, Verifier};
use vigia_domain::case::{
    AgeGroup, Case, CaseDraft, CaseEvent, CaseFields, CaseFilter, CaseStatus, DecisionOutcome, EventDraft, EventKind,
    ExtensionGround, Fact, Person, Sex, Vulnerability,
};
use vigia_domain::facility::{Facility, FacilityDraft, FacilityKind};
use vigia_domain::note::FacilityNote;
use vigia_domain::visit::{Visit, VisitDraft};
use vigia_domain::statement::{Channel, Claim, ClaimDraft, Position, Review, ReviewStatus, Statement, StatementDraft};
use vigia_domain::{FieldError, Micros, RecordType, ValidationErrors};

use crate::vault::{self, b64, MasterKey, Vault, VaultError};
use crate::{
    now_micros, Actor, Alert, ImportFeed, ImportSource, ImportedFile, ApiToken, ExportRow, Attachment, DailyCell, TallyCell, Backend, CalendarRule, CaseFacts, Coalition, Counts, Delivery, DeliveryOutcome, DueDelivery, DueEmail, EmailMode, EmailOutcome, EmailPref, OutboxEntry,
    Webhook, WebhookState, HistoryEntry, LoginChallenge, NewUser, Result, SealedCase, SessionInfo, SessionRow, TotpState,
    StoreError, VerifyReport,
};

type DbRow = <Db as sqlx::Database>::Row;

/// A store on one database pool.
pub struct SqlStore {
    pool: Pool<Db>,
    vault: Vault,
    /// Where evidence bytes live on disk; `None` keeps them in the database.
    blob_dir: Option<std::path::PathBuf>,
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
}

/// The audit chain as a write transaction carries it: the last entry's number and hash.
struct Chain {
    seq: i64,
    hash: String,
}

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
    let row = sqlx::query("SELECT content FROM audit_log WHERE record_type = $1 AND record_id = $2 ORDER BY seq DESC LIMIT 1")
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
    Ok(latest.and_then(|v| v.get("require_2fa")?.as_bool()).unwrap_or(false))
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
        audit_insert(&mut self.chain, self.now, actor, org_id, action, record_type, vec![(record_id, content.to_string())])
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
        sqlx::query("UPDATE chain_head SET seq = $1, hash = $2, mac = $3, touched_at = $4 WHERE id = 1")
            .bind(self.chain.seq)
            .bind(&self.chain.hash)
            .bind(head.mac(&self.key))
            .bind(self.now)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

const FACILITY_SELECT: &str = "SELECT id, version, name, kind, authority, state_code, municipality, latitude, longitude, \
     capacity, opened_on, closed_on, sources, created_at, updated_at FROM facilities";

/// A user with their membership; callers add the WHERE clause.
const USER_SELECT: &str = "SELECT u.id, u.email, u.display_name, u.locale, u.disabled, u.created_at, m.org_id, m.role, \
     u.password_hash FROM users u JOIN memberships m ON m.user_id = u.id";

fn user_query(filter: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("{USER_SELECT} {filter}"))
}

fn facility_from_row(row: &DbRow) -> Result<Facility> {
    let kind: String = row.try_get("kind")?;
    let kind = FacilityKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("facility kind {kind:?}")))?;
    Ok(Facility {
        id: row.try_get("id")?,
        version: row.try_get("version")?,
        draft: FacilityDraft {
            name: row.try_get("name")?,
            kind,
            authority: row.try_get("authority")?,
            state_code: row.try_get("state_code")?,
            municipality: row.try_get("municipality")?,
            latitude: row.try_get("latitude")?,
            longitude: row.try_get("longitude")?,
            capacity: row.try_get("capacity")?,
            opened_on: row.try_get("opened_on")?,
            closed_on: row.try_get("closed_on")?,
            sources: row.try_get("sources")?,
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn user_from_row(row: &DbRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    let locale: String = row.try_get("locale")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        org_id: row.try_get("org_id")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        locale: Locale::parse(&locale).unwrap_or_default(),
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
    })
}

fn org_from_row(row: &DbRow) -> Result<Organization> {
    Ok(Organization {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

fn audit_from_row(row: &DbRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor_user_id: row.try_get("actor_user_id")?,
        org_id: row.try_get("org_id")?,
        action: row.try_get("action")?,
        record_type: row.try_get("record_type")?,
        record_id: row.try_get("record_id")?,
        content_hash: row.try_get("content_hash")?,
        prev_hash: row.try_get("prev_hash")?,
        entry_hash: row.try_get("entry_hash")?,
    })
}


const ATTEMPT_COLUMNS: &str = "a.id, a.org_id, a.facility_id, a.version, a.requested_at, a.attempted_at, a.purpose, \
     a.team_size, a.people_to_see, a.outcome, a.reason_category, a.reason_text, a.official, a.restrictions, a.notes, \
     a.visibility, a.created_at, a.updated_at";

/// The daily counts (alias `d`) organization `$1` may see: its own, and those other
/// organizations share with a coalition both belong to.
const DAILY_VISIBLE_TO: &str = "(d.org_id = $1 OR (d.shared = 1 AND d.org_id IN (\
     SELECT m2.org_id FROM coalition_members m1 JOIN coalition_members m2 ON m1.coalition_id = m2.coalition_id \
     WHERE m1.org_id = $1)))";

/// SQL's list of the refusal outcomes.
fn refusal_list() -> String {
    vigia_domain::access::refusals().map(|o| format!("'{o}'")).collect::<Vec<_>>().join(", ")
}

/// The attempts organization `$1` may see: its own, and those other organizations
/// share with a coalition both belong to.
/// An attempts list's filters, after the viewer's visibility ($1): facility ($2),
/// organization ($3), outcome ($4), from ($5), until ($6), and the page's start — after
/// the row with time $7 and id $8 in the newest-first list (`vigia_domain::paging`).
/// Bound by [`bind_attempt_filter`]; the list and its count read the same rows.
const ATTEMPT_FILTER: &str = "AND ($2 IS NULL OR a.facility_id = $2) AND ($3 IS NULL OR a.org_id = $3) \
     AND ($4 IS NULL OR a.outcome = $4) AND ($5 IS NULL OR a.attempted_at >= $5) AND ($6 IS NULL OR a.attempted_at < $6) \
     AND ($7 IS NULL OR a.attempted_at < $7 OR (a.attempted_at = $7 AND a.id < $8))";

fn bind_attempt_filter<'q>(
    q: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>,
    viewer_org: i64,
    f: &AttemptFilter,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    q.bind(viewer_org)
        .bind(f.facility_id)
        .bind(f.org_id)
        .bind(f.outcome.map(|o| o.as_str()))
        .bind(f.from)
        .bind(f.until)
        .bind(f.after.map(|c| c.key))
        .bind(f.after.map(|c| c.id))
}

const VISIBLE_TO: &str = "(a.org_id = $1 OR (a.visibility = 'coalition' AND EXISTS (\
     SELECT 1 FROM coalition_members m1 JOIN coalition_members m2 ON m1.coalition_id = m2.coalition_id \
     WHERE m1.org_id = a.org_id AND m2.org_id = $1)))";

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {v:?}"))
}

fn attempt_from_row(row: &DbRow) -> Result<Attempt> {
    let purpose: String = row.try_get("purpose")?;
    let outcome: String = row.try_get("outcome")?;
    let reason: Option<String> = row.try_get("reason_category")?;
    let restrictions: String = row.try_get("restrictions")?;
    let visibility: String = row.try_get("visibility")?;
    Ok(Attempt {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        version: row.try_get("version")?,
        draft: AttemptDraft {
            facility_id: row.try_get("facility_id")?,
            requested_at: row.try_get("requested_at")?,
            attempted_at: row.try_get("attempted_at")?,
            purpose: Purpose::parse(&purpose).ok_or_else(|| corrupt("purpose", &purpose))?,
            team_size: row.try_get("team_size")?,
            people_to_see: row.try_get("people_to_see")?,
            outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
            reason_category: match reason {
                None => None,
                Some(r) => Some(ReasonCategory::parse(&r).ok_or_else(|| corrupt("reason", &r))?),
            },
            reason_text: row.try_get("reason_text")?,
            official: row.try_get("official")?,
            restrictions: restrictions
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|r| Restriction::parse(r).ok_or_else(|| corrupt("restriction", r)))
                .collect::<Result<Vec<_>>>()?,
            notes: row.try_get("notes")?,
            visibility: Visibility::parse(&visibility).ok_or_else(|| corrupt("visibility", &visibility))?,
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// An attempt's free text that can name a person (the official, the reason given, the
/// notes) is sealed with its organization's data key (security review finding 11), and
/// so is what the audit history keeps of it; the coded fields stay open for analysis.
const ATTEMPT_REASON: &str = "attempt.reason_text";
const ATTEMPT_OFFICIAL: &str = "attempt.official";
const ATTEMPT_NOTES: &str = "attempt.notes";

/// The draft as stored for attempt `id`: its free text sealed.
fn seal_attempt_text(sealer: &crate::vault::Sealer, id: i64, d: &mut AttemptDraft) -> Result<()> {
    for (field, value) in [
        (ATTEMPT_REASON, &mut d.reason_text),
        (ATTEMPT_OFFICIAL, &mut d.official),
        (ATTEMPT_NOTES, &mut d.notes),
    ] {
        // Always sealed: a draft is plaintext, even one that looks sealed.
        if let Some(t) = value.as_mut() {
            *t = sealer.seal_text(field, id, t)?;
        }
    }
    Ok(())
}

/// The attempt as its readers see it: its free text opened (text written before
/// sealing reads as it was).
fn open_attempt_text(vault: &Vault, mut a: Attempt) -> Result<Attempt> {
    let (org, id) = (a.org_id, a.id);
    for (field, value) in [
        (ATTEMPT_REASON, &mut a.draft.reason_text),
        (ATTEMPT_OFFICIAL, &mut a.draft.official),
        (ATTEMPT_NOTES, &mut a.draft.notes),
    ] {
        if let Some(t) = value.as_mut() {
            *t = vault.open_text(org, field, id, t)?;
        }
    }
    Ok(a)
}

fn restrictions_text(d: &AttemptDraft) -> String {
    d.restrictions.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
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

/// A cell of `access_daily`: facility, local day, organization, purpose, shared.
type DailyKey = (i64, i32, i64, &'static str, bool);
/// Attempts and refusals to add to cells (negative to take away).
type DailyDelta = HashMap<DailyKey, (i64, i64)>;

/// Each facility's time zone, for local days.
async fn facility_zones(conn: &mut <Db as sqlx::Database>::Connection) -> Result<HashMap<i64, jiff::tz::TimeZone>> {
    let rows = sqlx::query("SELECT id, state_code FROM facilities").fetch_all(&mut *conn).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in &rows {
        let code: String = r.try_get("state_code")?;
        let name = vigia_domain::geo::state(&code).map(|s| s.time_zone).unwrap_or(vigia_domain::geo::LEGAL_TIME_ZONE);
        let tz = jiff::tz::TimeZone::get(name).map_err(|e| StoreError::Corrupt(format!("time zone {name}: {e}")))?;
        out.insert(r.try_get("id")?, tz);
    }
    Ok(out)
}

/// Counts an attempt (`sign` 1) or takes it back (`sign` -1).
fn count_daily(
    delta: &mut DailyDelta,
    zones: &HashMap<i64, jiff::tz::TimeZone>,
    org_id: i64,
    d: &AttemptDraft,
    sign: i64,
) -> Result<()> {
    let tz = zones.get(&d.facility_id).ok_or(StoreError::NotFound)?;
    let day = vigia_domain::access::local_date(d.attempted_at, tz)
        .ok_or_else(|| StoreError::Corrupt(format!("instant {}", d.attempted_at)))?;
    let key = (d.facility_id, vigia_domain::access::day_number(day), org_id, d.purpose.as_str(), d.visibility == Visibility::Coalition);
    let e = delta.entry(key).or_default();
    e.0 += sign;
    e.1 += sign * i64::from(d.outcome.is_refusal());
    Ok(())
}

/// Adds the deltas to `access_daily` under a new `access_state.version`. Emptied
/// cells stay with zero counts, so copies kept by app servers see them change.
async fn apply_daily(conn: &mut <Db as sqlx::Database>::Connection, delta: DailyDelta) -> Result<()> {
    let version = next_daily_version(conn).await?;
    for stmt in daily_upserts(version, delta) {
        stmt.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A new `access_state.version`, for the cells a write changes.
async fn next_daily_version(conn: &mut <Db as sqlx::Database>::Connection) -> Result<i64> {
    Ok(sqlx::query("UPDATE access_state SET version = version + 1 WHERE id = 1 RETURNING version")
        .fetch_one(&mut *conn)
        .await?
        .try_get("version")?)
}

/// The upserts adding `delta` to the daily counts under `version`. Adding commutes,
/// so a long import may add its counts in several parts.
fn daily_upserts(version: i64, delta: DailyDelta) -> Vec<Stmt> {
    const COLUMNS: usize = 9;
    let mut out = Vec::new();
    let mut cells: Vec<(DailyKey, (i64, i64))> = delta.into_iter().filter(|(_, v)| *v != (0, 0)).collect();
    // In the table's key order: each page is then visited once, not once per cell
    // (a million-row import touches hundreds of thousands of cells).
    cells.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for chunk in cells.chunks(BULK_ROWS) {
        let sql = format!(
            "INSERT INTO access_daily (facility_id, day, org_id, purpose, shared, month, attempts, refusals, version) \
             VALUES {} ON CONFLICT (facility_id, day, org_id, purpose, shared) DO UPDATE SET \
             attempts = access_daily.attempts + excluded.attempts, refusals = access_daily.refusals + excluded.refusals, \
             version = excluded.version",
            placeholders(chunk.len(), COLUMNS)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((facility, day, org, purpose, shared), (attempts, refusals)) in chunk {
            let month = vigia_domain::access::month_key(vigia_domain::access::date_of_day(*day));
            q = q
                .bind(*facility)
                .bind(i64::from(*day))
                .bind(*org)
                .bind(*purpose)
                .bind(i64::from(*shared))
                .bind(i64::from(month))
                .bind(*attempts)
                .bind(*refusals)
                .bind(version);
        }
        out.push(q);
    }
    out
}

/// Every attempt, of one facility or all, in id order: 20,000 rows per query, so
/// memory stays flat however many millions there are.
async fn each_attempt(
    conn: &mut <Db as sqlx::Database>::Connection,
    facility: Option<i64>,
    mut f: impl FnMut(Attempt) -> Result<()>,
) -> Result<()> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE a.id > $1 AND ($2 IS NULL OR a.facility_id = $2) \
         ORDER BY a.id LIMIT 20000"
    );
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(after).bind(facility).fetch_all(&mut *conn).await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.try_get("id")?;
        for r in &rows {
            f(attempt_from_row(r)?)?;
        }
    }
}

/// `access_daily` as the attempts say it should be, for one facility or all.
async fn recount_daily(conn: &mut <Db as sqlx::Database>::Connection, facility: Option<i64>) -> Result<DailyDelta> {
    let zones = facility_zones(conn).await?;
    let mut delta = DailyDelta::new();
    each_attempt(conn, facility, |a| count_daily(&mut delta, &zones, a.org_id, &a.draft, 1)).await?;
    delta.retain(|_, v| v.0 != 0);
    Ok(delta)
}

/// Rebuilds `access_daily` from the attempts, for one facility or all: after a
/// facility's time zone changes, after importing an archive, and when the table is new.
async fn rebuild_daily(conn: &mut <Db as sqlx::Database>::Connection, facility: Option<i64>) -> Result<()> {
    let delta = recount_daily(conn, facility).await?;
    sqlx::query("DELETE FROM access_daily WHERE $1 IS NULL OR facility_id = $1").bind(facility).execute(&mut *conn).await?;
    // Rows went away: copies must start over.
    sqlx::query("UPDATE access_state SET generation = generation + 1 WHERE id = 1").execute(&mut *conn).await?;
    apply_daily(conn, delta).await
}

/// `access_daily` as stored.
async fn stored_daily(conn: &mut <Db as sqlx::Database>::Connection) -> Result<HashMap<(i64, i32, i64, String, bool), (i64, i64)>> {
    let rows = sqlx::query(
        "SELECT facility_id, day, org_id, purpose, shared, attempts, refusals FROM access_daily \
         WHERE attempts <> 0 OR refusals <> 0",
    )
        .fetch_all(&mut *conn)
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in &rows {
        let day: i64 = r.try_get("day")?;
        let shared: i64 = r.try_get("shared")?;
        out.insert(
            (r.try_get("facility_id")?, day as i32, r.try_get("org_id")?, r.try_get("purpose")?, shared != 0),
            (r.try_get("attempts")?, r.try_get("refusals")?),
        );
    }
    Ok(out)
}

/// How inserted attempts enter the audit chain.
enum Audited {
    /// One entry each (an attempt recorded on its own).
    PerRecord,
    /// Digested together for the one entry of their import, written by the caller.
    Digest(ImportDigest),
}

/// What [`insert_attempts_fed`] wrote: ids `before + 1 ..= last`.
struct Inserted {
    before: i64,
    last: i64,
    digest: Option<RowsDigest>,
}

/// Inserts new attempts, with an audit entry each and the daily counts.
async fn insert_attempts_bulk(
    w: &mut WriteTx,
    actor: &Actor,
    sealer: crate::vault::Sealer,
    drafts: Vec<AttemptDraft>,
) -> Result<Inserted> {
    insert_attempts_fed(w, actor, sealer, Audited::PerRecord, Box::new(feed_of(drafts)))
        .await?
        .ok_or_else(|| StoreError::Corrupt("an in-memory import feed ended early".into()))
}

/// The action of an import's one audit entry.
const IMPORT: &str = "import";
/// The action of the entry that keeps the version an import wrote, at the imported
/// attempt's first correction.
const ORIGINAL: &str = "original";

/// Records an import of the attempts `ins` wrote, and its one audit entry.
async fn record_import(
    w: &mut WriteTx,
    actor: &Actor,
    org_id: i64,
    ins: Inserted,
    file: Option<ImportedFile>,
) -> Result<AttemptImport> {
    let digest = ins.digest.ok_or_else(|| StoreError::Corrupt("an import without its digest".into()))?;
    let mut imp = AttemptImport {
        id: 0,
        org_id,
        first_id: ins.before + 1,
        last_id: ins.last,
        row_count: digest.rows,
        rows_sha256: digest.all,
        chunk_sha256: digest.chunks,
        file_sha256: file.as_ref().map(|f| f.sha256.clone()),
        file_bytes: file.map(|f| f.bytes),
        created_at: w.now,
    };
    imp.id = sqlx::query(
        "INSERT INTO attempt_imports (org_id, first_id, last_id, row_count, rows_sha256, chunk_sha256, file_sha256, \
         file_bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(org_id)
    .bind(imp.first_id)
    .bind(imp.last_id)
    .bind(imp.row_count)
    .bind(&imp.rows_sha256)
    .bind(imp.chunk_sha256.join(" "))
    .bind(&imp.file_sha256)
    .bind(imp.file_bytes)
    .bind(imp.created_at)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get("id")?;
    w.audit(actor, Some(org_id), IMPORT, RecordType::AttemptImport, imp.id, &imp.content_json()).await?;
    Ok(imp)
}

const IMPORT_COLUMNS: &str =
    "id, org_id, first_id, last_id, row_count, rows_sha256, chunk_sha256, file_sha256, file_bytes, created_at";

fn import_from_row(r: &DbRow) -> Result<AttemptImport> {
    let chunks: String = r.try_get("chunk_sha256")?;
    Ok(AttemptImport {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        first_id: r.try_get("first_id")?,
        last_id: r.try_get("last_id")?,
        row_count: r.try_get("row_count")?,
        rows_sha256: r.try_get("rows_sha256")?,
        chunk_sha256: chunks.split_whitespace().map(str::to_string).collect(),
        file_sha256: r.try_get("file_sha256")?,
        file_bytes: r.try_get("file_bytes")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A source already holding every row, in [`BULK_ROWS`] chunks, and its end.
fn feed_of(drafts: Vec<AttemptDraft>) -> std::vec::IntoIter<ImportFeed> {
    let mut feed = Vec::with_capacity(drafts.len() / BULK_ROWS + 2);
    let mut drafts = drafts.into_iter();
    loop {
        let chunk: Vec<AttemptDraft> = drafts.by_ref().take(BULK_ROWS).collect();
        if chunk.is_empty() {
            break;
        }
        feed.push(ImportFeed::Rows(chunk));
    }
    feed.push(ImportFeed::Complete);
    feed.into_iter()
}

/// Inserts the attempts `source` gives under ids following the current largest, a
/// thousand rows per statement, audited as `audited` says, and the daily counts.
/// Pipelined: a blocking thread asks the source for rows (reading and validating
/// them) and serializes, hashes and binds them, up to a few statements ahead, while
/// this task hands each statement to the database the moment the one before is
/// written: two busy threads, one per core on a small server. Returns what was
/// written, or `None` if the source ended before [`ImportFeed::Complete`] (the caller
/// rolls back).
async fn insert_attempts_fed(
    w: &mut WriteTx,
    actor: &Actor,
    sealer: crate::vault::Sealer,
    audited: Audited,
    mut source: Box<dyn ImportSource>,
) -> Result<Option<Inserted>> {
    /// Statements prepared ahead of the one being written, at most.
    const AHEAD: usize = 8;
    let zones = facility_zones(&mut w.tx).await?;
    let before: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) AS m FROM access_attempts")
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("m")?;
    let daily_version = next_daily_version(&mut w.tx).await?;
    let org_id = sealer.org_id();
    let mut p = AttemptPreparer {
        actor: *actor,
        org_id,
        sealer,
        now: w.now,
        zones,
        // Lent to the preparing thread and given back with its new head.
        chain: std::mem::replace(&mut w.chain, Chain { seq: 0, hash: String::new() }),
        audited,
        last: before,
        delta: DailyDelta::new(),
        daily_version,
        uncounted: 0,
        pending: Vec::with_capacity(BULK_ROWS),
    };
    let (ready, mut prepared) = tokio::sync::mpsc::channel::<(Stmt, &'static str)>(AHEAD);
    let preparing = tokio::task::spawn_blocking(move || -> Result<(AttemptPreparer, bool)> {
        let mut queue = Vec::new();
        // `None` while rows may still come; then whether the source said it was complete.
        let mut ended: Option<bool> = None;
        while ended.is_none() {
            p.take(source.next_feed(), &mut queue, &mut ended)?;
            for stmt in queue.drain(..) {
                if ready.blocking_send(stmt).is_err() {
                    // The writer stopped on an error, which it reports.
                    return Ok((p, false));
                }
            }
        }
        Ok((p, ended == Some(true)))
    });
    let mut written = Ok(());
    while let Some((stmt, what)) = prepared.recv().await {
        written = stmt.execute(&mut *w.tx).await.map(drop).map_err(unique_to_conflict(what));
        if written.is_err() {
            break;
        }
    }
    // A problem preparing closed the channel: the statement in flight was finished.
    drop(prepared);
    let prepared = preparing.await.map_err(|e| StoreError::Corrupt(format!("preparing an import failed: {e}")))?;
    written?;
    let (p, complete) = prepared?;
    w.chain = p.chain;
    if !complete {
        return Ok(None);
    }
    let (last, delta) = (p.last, p.delta);
    let digest = match p.audited {
        Audited::Digest(d) => Some(d.finish()),
        Audited::PerRecord => None,
    };
    if BACKEND == Backend::Postgres && last > before {
        // The ids were given here, not by the sequence; writers hold the chain head,
        // so nothing else inserted attempts meanwhile.
        sqlx::query("SELECT setval(pg_get_serial_sequence('access_attempts', 'id'), $1)")
            .bind(last)
            .execute(&mut *w.tx)
            .await?;
    }
    for stmt in daily_upserts(daily_version, delta) {
        stmt.execute(&mut *w.tx).await?;
    }
    Ok(Some(Inserted { before, last, digest }))
}

/// Rows whose daily counts an import keeps before writing them.
const DAILY_EVERY: usize = 50_000;

/// Turns fed rows into INSERTs of attempts and of their chained audit entries.
struct AttemptPreparer {
    actor: Actor,
    org_id: i64,
    /// Seals each row's free text with the organization's current data key.
    sealer: crate::vault::Sealer,
    now: Micros,
    zones: HashMap<i64, jiff::tz::TimeZone>,
    chain: Chain,
    audited: Audited,
    /// The id given last.
    last: i64,
    /// Daily counts not yet written, of the last `uncounted` rows; written under
    /// `daily_version` every [`DAILY_EVERY`] rows, along with the rows.
    delta: DailyDelta,
    daily_version: i64,
    uncounted: usize,
    /// Rows taken but not yet in a statement: fewer than [`BULK_ROWS`].
    pending: Vec<AttemptDraft>,
}

impl AttemptPreparer {
    /// Takes what the source gave: rows to prepare, a statement for each thousand, or
    /// its end (`ended` says whether the source called the file complete or just
    /// stopped; a complete file's last rows are prepared then).
    fn take(
        &mut self,
        item: Option<ImportFeed>,
        out: &mut Vec<(Stmt, &'static str)>,
        ended: &mut Option<bool>,
    ) -> Result<()> {
        match item {
            Some(ImportFeed::Rows(rows)) => {
                self.pending.extend(rows);
                while self.pending.len() >= BULK_ROWS {
                    let rest = self.pending.split_off(BULK_ROWS);
                    let chunk = std::mem::replace(&mut self.pending, rest);
                    self.prepare(chunk, out)?;
                }
                Ok(())
            }
            other => {
                let complete = matches!(other, Some(ImportFeed::Complete));
                *ended = Some(complete);
                let rest = std::mem::take(&mut self.pending);
                if complete && !rest.is_empty() {
                    self.prepare(rest, out)?;
                }
                Ok(())
            }
        }
    }

    /// The statements for at most [`BULK_ROWS`] rows.
    fn prepare(&mut self, chunk: Vec<AttemptDraft>, out: &mut Vec<(Stmt, &'static str)>) -> Result<()> {
        for d in &chunk {
            count_daily(&mut self.delta, &self.zones, self.org_id, d, 1)?;
        }
        self.uncounted += chunk.len();
        if self.uncounted >= DAILY_EVERY {
            // Written while the rows go on, not all at the end while nothing else runs.
            out.extend(daily_upserts(self.daily_version, std::mem::take(&mut self.delta)).into_iter().map(|q| (q, "daily count")));
            self.uncounted = 0;
        }
        let mut contents = Vec::with_capacity(chunk.len());
        let mut chunk = chunk;
        // Each attempt's text is sealed for the id it is about to get.
        for (next, d) in (self.last + 1..).zip(&mut chunk) {
            seal_attempt_text(&self.sealer, next, d)?;
        }
        out.push((attempts_insert(&mut self.last, self.org_id, self.now, chunk, &mut contents), "attempt"));
        match &mut self.audited {
            Audited::Digest(d) => contents.iter().for_each(|(_, c)| d.push(&row_hash(c.as_bytes()))),
            Audited::PerRecord => {
                let audit =
                    audit_insert(&mut self.chain, self.now, &self.actor, Some(self.org_id), "create", RecordType::AccessAttempt, contents);
                out.push((audit, "audit entry"));
            }
        }
        Ok(())
    }
}

/// One INSERT of new attempts (at most [`BULK_ROWS`]) under the ids after `last`;
/// pushes each one's audited content onto `contents`.
fn attempts_insert(
    last: &mut i64,
    org_id: i64,
    now: Micros,
    chunk: Vec<AttemptDraft>,
    contents: &mut Vec<(i64, String)>,
) -> Stmt {
    const COLUMNS: usize = 15;
    let sql = format!(
        "INSERT INTO access_attempts (id, org_id, facility_id, requested_at, attempted_at, purpose, team_size, \
         people_to_see, outcome, reason_category, reason_text, official, restrictions, notes, visibility, \
         version, created_at, updated_at) VALUES {}",
        placeholders_then(chunk.len(), COLUMNS, &format!(", 1, {now}, {now}"))
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for d in chunk {
        *last += 1;
        let a = Attempt { id: *last, org_id, version: 1, draft: d, created_at: now, updated_at: now };
        contents.push((a.id, a.content_json()));
        q = bind_draft(q.bind(a.id).bind(org_id), a.draft);
    }
    q
}

/// Binds an attempt's recorded fields, from `facility_id` to `visibility`, in the order
/// the INSERT and the UPDATE of attempts both name them.
fn bind_draft<'q>(
    q: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>,
    d: AttemptDraft,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    let restrictions = restrictions_text(&d);
    q.bind(d.facility_id)
        .bind(d.requested_at)
        .bind(d.attempted_at)
        .bind(d.purpose.as_str())
        .bind(d.team_size)
        .bind(d.people_to_see)
        .bind(d.outcome.as_str())
        .bind(d.reason_category.map(|r| r.as_str()))
        .bind(d.reason_text)
        .bind(d.official)
        .bind(restrictions)
        .bind(d.notes)
        .bind(d.visibility.as_str())
}

async fn load_coalition(conn: &mut <Db as sqlx::Database>::Connection, id: i64) -> Result<Coalition> {
    let row = sqlx::query("SELECT id, slug, name FROM coalitions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let members = sqlx::query("SELECT org_id FROM coalition_members WHERE coalition_id = $1 ORDER BY org_id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("org_id"))
        .collect::<std::result::Result<Vec<i64>, _>>()?;
    Ok(Coalition { id, slug: row.try_get("slug")?, name: row.try_get("name")?, members })
}


fn attachment_from_row(r: &DbRow) -> Result<Attachment> {
    Ok(Attachment {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        record_type: r.try_get("record_type")?,
        record_id: r.try_get("record_id")?,
        sha256: r.try_get("sha256")?,
        filename: r.try_get("filename")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        created_at: r.try_get("created_at")?,
    })
}

fn blob_path(dir: &Path, name: &str) -> std::path::PathBuf {
    dir.join(&name[..2.min(name.len())]).join(name)
}

/// An evidence file's name in `blobs/` ([`vigia_domain::evidence::file_name`]): its
/// plaintext hash and the organization whose key sealed it (`<sha256>.<org>`), or the
/// hash alone for a file kept before sealing. Organizations storing the same bytes at
/// the same moment never write each other's file. A hash or organization that could
/// name a path outside `blobs/` is refused.
fn blob_name(sha: &str, key_org: Option<i64>) -> Result<String> {
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
fn private_dir(dir: &Path) -> std::io::Result<()> {
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
fn new_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

const ATTACHMENT_COLUMNS: &str = "id, org_id, record_type, record_id, sha256, filename, content_type, size, created_at";


const WEBHOOK_FIELD: &str = "webhook.secret";

fn alert_from_row(r: &DbRow) -> Result<Alert> {
    Ok(Alert {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        kind: r.try_get("kind")?,
        attempt_id: r.try_get("attempt_id")?,
        payload: r.try_get("payload")?,
        created_at: r.try_get("created_at")?,
        read_at: r.try_get("read_at")?,
    })
}

fn email_pref_from_row(r: &DbRow) -> Result<EmailPref> {
    let mode: String = r.try_get("mode")?;
    Ok(EmailPref {
        user_id: r.try_get("user_id")?,
        kind: r.try_get("kind")?,
        mode: EmailMode::parse(&mode).ok_or_else(|| StoreError::Corrupt(format!("e-mail mode {mode:?}")))?,
        last_alert_id: r.try_get("last_alert_id")?,
    })
}

fn webhook_from_row(r: &DbRow) -> Result<Webhook> {
    Ok(Webhook {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        url: r.try_get("url")?,
        active: r.try_get("active")?,
        deleted: r.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
        created_at: r.try_get("created_at")?,
    })
}

fn delivery_from_row(r: &DbRow) -> Result<Delivery> {
    Ok(Delivery {
        id: r.try_get("id")?,
        webhook_id: r.try_get("webhook_id")?,
        alert_id: r.try_get("alert_id")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        delivered_at: r.try_get("delivered_at")?,
    })
}

/// Inserts an alert (unless its key exists for the organization) and a pending
/// delivery for each active webhook, inside the caller's transaction.
async fn raise_in_tx(
    w: &mut WriteTx,
    org_id: i64,
    kind: &str,
    dedup_key: &str,
    attempt_id: Option<i64>,
    payload: &str,
) -> Result<Option<Alert>> {
    let row = sqlx::query(
        "INSERT INTO alerts (org_id, kind, dedup_key, attempt_id, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (org_id, dedup_key) DO NOTHING RETURNING id",
    )
    .bind(org_id)
    .bind(kind)
    .bind(dedup_key)
    .bind(attempt_id)
    .bind(payload)
    .bind(w.now)
    .fetch_optional(&mut *w.tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let id: i64 = row.try_get("id")?;
    sqlx::query(
        "INSERT INTO deliveries (webhook_id, alert_id, status, attempts, next_attempt_at, created_at) \
         SELECT id, $1, 'pending', 0, $2, $2 FROM webhooks WHERE org_id = $3 AND active = $4",
    )
    .bind(id)
    .bind(w.now)
    .bind(org_id)
    .bind(true)
    .execute(&mut *w.tx)
    .await?;
    Ok(Some(Alert {
        id,
        org_id,
        kind: kind.to_string(),
        attempt_id,
        payload: payload.to_string(),
        created_at: w.now,
        read_at: None,
    }))
}

/// Alerts every organization that can see a refusal: its own, and its coalition
/// partners when the attempt is shared.
async fn alert_refusal(w: &mut WriteTx, a: &Attempt) -> Result<()> {
    let mut recipients = vec![a.org_id];
    if a.draft.visibility == Visibility::Coalition {
        let rows = sqlx::query(
            "SELECT DISTINCT m2.org_id FROM coalition_members m1 JOIN coalition_members m2 \
             ON m1.coalition_id = m2.coalition_id WHERE m1.org_id = $1",
        )
        .bind(a.org_id)
        .fetch_all(&mut *w.tx)
        .await?;
        for r in &rows {
            let o: i64 = r.try_get("org_id")?;
            if !recipients.contains(&o) {
                recipients.push(o);
            }
        }
    }
    let facility: Option<String> = sqlx::query("SELECT name FROM facilities WHERE id = $1")
        .bind(a.draft.facility_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .map(|r| r.try_get("name"))
        .transpose()?;
    let org: Option<String> = sqlx::query("SELECT name FROM organizations WHERE id = $1")
        .bind(a.org_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .map(|r| r.try_get("name"))
        .transpose()?;
    let payload = serde_json::json!({
        "type": "access.refused",
        "attempt_id": a.id, "organization_id": a.org_id, "organization": org,
        "facility_id": a.draft.facility_id, "facility": facility,
        "attempted_at": vigia_domain::format_instant(a.draft.attempted_at),
        "outcome": a.draft.outcome, "reason_category": a.draft.reason_category,
    })
    .to_string();
    for org_id in recipients {
        raise_in_tx(w, org_id, "denial", &format!("attempt:{}", a.id), Some(a.id), &payload).await?;
    }
    Ok(())
}

const CASE_COLUMNS: &str = "id, org_id, version, reference, facility_id, lawyer_user_id, nationality, sex, age_group, \
     minor, languages, vulnerabilities, status, created_at, updated_at";
const PERSON_FIELD: &str = "case.person";
/// A case's reference: sealed, as it can name a person (finding 11).
const CASE_REFERENCE: &str = "case.reference";
const EVENT_NOTE_FIELD: &str = "case_event.note";
const EVENT_COLUMNS: &str = "id, case_id, org_id, kind, occurred_on, occurred_time, facility_id, ground, decision, \
     note_sealed, voided_at, void_reason, author_user_id, created_at";

fn split_codes(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect()
}

fn case_from_row(r: &DbRow) -> Result<Case> {
    let sex: String = r.try_get("sex")?;
    let age: String = r.try_get("age_group")?;
    let status: String = r.try_get("status")?;
    let vulns: String = r.try_get("vulnerabilities")?;
    let languages: String = r.try_get("languages")?;
    Ok(Case {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        version: r.try_get("version")?,
        fields: CaseFields {
            reference: r.try_get("reference")?,
            facility_id: r.try_get("facility_id")?,
            lawyer_user_id: r.try_get("lawyer_user_id")?,
            nationality: r.try_get("nationality")?,
            sex: Sex::parse(&sex).ok_or_else(|| corrupt("sex", &sex))?,
            age_group: AgeGroup::parse(&age).ok_or_else(|| corrupt("age_group", &age))?,
            minor: r.try_get("minor")?,
            languages: split_codes(&languages),
            vulnerabilities: split_codes(&vulns)
                .iter()
                .map(|v| Vulnerability::parse(v).ok_or_else(|| corrupt("vulnerability", v)))
                .collect::<Result<_>>()?,
            status: CaseStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        },
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn case_content(c: &Case, sealed: &[u8]) -> String {
    let mut v = serde_json::to_value(&c.fields).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("id".into(), c.id.into());
        m.insert("org_id".into(), c.org_id.into());
        m.insert("version".into(), c.version.into());
        m.insert("person_sealed".into(), b64(sealed).into());
    }
    v.to_string()
}

/// Why an event was voided: sealed (finding 11).
const VOID_REASON: &str = "case_event.void_reason";
/// Why an organization confirmed or dismissed a contradiction: sealed (finding 11).
const REVIEW_REASON: &str = "review.reason";

fn event_from_row(r: &DbRow) -> Result<CaseEvent> {
    let kind: String = r.try_get("kind")?;
    let on: String = r.try_get("occurred_on")?;
    let time: Option<String> = r.try_get("occurred_time")?;
    let ground: Option<String> = r.try_get("ground")?;
    let decision: Option<String> = r.try_get("decision")?;
    let note: Option<Vec<u8>> = r.try_get("note_sealed")?;
    Ok(CaseEvent {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        draft: EventDraft {
            kind: EventKind::parse(&kind).ok_or_else(|| corrupt("event kind", &kind))?,
            on: on.parse().map_err(|_| corrupt("event date", &on))?,
            time: time.map(|t| t.parse().map_err(|_| corrupt("event time", &t))).transpose()?,
            facility_id: r.try_get("facility_id")?,
            ground: ground.map(|g| ExtensionGround::parse(&g).ok_or_else(|| corrupt("ground", &g))).transpose()?,
            decision: decision.map(|d| DecisionOutcome::parse(&d).ok_or_else(|| corrupt("decision", &d))).transpose()?,
            note: None,
        },
        has_note: note.is_some(),
        voided_at: r.try_get("voided_at")?,
        void_reason: r.try_get("void_reason")?,
        author_user_id: r.try_get("author_user_id")?,
        created_at: r.try_get("created_at")?,
    })
}

fn event_content(e: &CaseEvent, org_id: i64, sealed: Option<&[u8]>) -> String {
    let d = &e.draft;
    serde_json::json!({
        "id": e.id, "case_id": e.case_id, "org_id": org_id, "kind": d.kind.as_str(), "on": d.on.to_string(),
        "time": d.time.map(|t| t.to_string()), "facility_id": d.facility_id, "ground": d.ground.map(|g| g.as_str()),
        "decision": d.decision.map(|x| x.as_str()), "note_sealed": sealed.map(b64), "voided_at": e.voided_at,
        "void_reason": e.void_reason, "author_user_id": e.author_user_id,
    })
    .to_string()
}

/// Checks what a case points at, inside the write: the facility exists and the
/// lawyer is a member of the same organization.
async fn check_case_links(w: &mut WriteTx, org_id: i64, f: &CaseFields) -> Result<()> {
    let mut errs = ValidationErrors::new();
    if let Some(id) = f.facility_id {
        if sqlx::query("SELECT id FROM facilities WHERE id = $1").bind(id).fetch_optional(&mut *w.tx).await?.is_none() {
            errs.push(FieldError::new("facility_id", "unknown_facility"));
        }
    }
    if let Some(id) = f.lawyer_user_id {
        let member = sqlx::query("SELECT user_id FROM memberships WHERE user_id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?;
        if member.is_none() {
            errs.push(FieldError::new("lawyer_user_id", "unknown_user"));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errs))
    }
}

/// Writes a case as stored (`c` with its reference sealed) with the reference's keyed
/// hash, which keeps references unique within the organization.
async fn write_case(w: &mut WriteTx, c: &Case, sealed: &[u8], reference_key: &str, insert: bool) -> Result<i64> {
    let f = &c.fields;
    let sql = if insert {
        "INSERT INTO cases (version, reference, facility_id, lawyer_user_id, nationality, sex, age_group, minor, \
         languages, vulnerabilities, status, person_sealed, created_at, updated_at, reference_key, org_id, id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id"
    } else {
        "UPDATE cases SET version = $1, reference = $2, facility_id = $3, lawyer_user_id = $4, nationality = $5, \
         sex = $6, age_group = $7, minor = $8, languages = $9, vulnerabilities = $10, status = $11, \
         person_sealed = $12, created_at = $13, updated_at = $14, reference_key = $15 WHERE org_id = $16 AND id = $17 \
         RETURNING id"
    };
    let vulns: Vec<&str> = f.vulnerabilities.iter().map(|v| v.as_str()).collect();
    let q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(c.version)
        .bind(&f.reference)
        .bind(f.facility_id)
        .bind(f.lawyer_user_id)
        .bind(&f.nationality)
        .bind(f.sex.as_str())
        .bind(f.age_group.as_str())
        .bind(f.minor)
        .bind(f.languages.join(","))
        .bind(vulns.join(","))
        .bind(f.status.as_str())
        .bind(sealed)
        .bind(c.created_at)
        .bind(c.updated_at)
        .bind(reference_key)
        .bind(c.org_id)
        .bind(c.id);
    let row = q.fetch_one(&mut *w.tx).await.map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Invalid(ValidationErrors::single("reference", "taken"))
        }
        _ => StoreError::Database(e),
    })?;
    Ok(row.try_get("id")?)
}

const DOCUMENT_FIELD: &str = "case.document";
/// A case document's file name: sealed, as it can name the person (finding 11).
const DOCUMENT_NAME: &str = "case.document_name";
/// A case document's plaintext hash, sealed (issue #22 finding 7): in the clear it let
/// anyone with the database confirm that a file they hold is attached to a case.
const DOCUMENT_SHA: &str = "case.document_sha256";
const DOCUMENT_COLUMNS: &str = "id, org_id, case_id, sha256, sealed_sha256, filename, content_type, size, created_at";

fn document_from_row(r: &DbRow) -> Result<Attachment> {
    Ok(Attachment {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        record_type: RecordType::Case.as_str().to_string(),
        record_id: r.try_get("case_id")?,
        sha256: r.try_get("sha256")?,
        filename: r.try_get("filename")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        created_at: r.try_get("created_at")?,
    })
}

fn document_content(a: &Attachment, sealed_sha: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&a.content_json()).unwrap_or_default();
    v["sealed_sha256"] = sealed_sha.into();
    v.to_string()
}

const TOTP_FIELD: &str = "user_totp.secret";
/// Hex characters of a session's token hash that name it in its user's list.
const SESSION_ID_LEN: usize = 16;

fn org_settings_content(org_id: i64, require_2fa: bool) -> String {
    serde_json::json!({"org_id": org_id, "require_2fa": require_2fa}).to_string()
}

/// What a column holds, as the portable export reads and writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    Integer,
    Real,
    Text,
    Bytes,
    Bool,
}

fn export_table(table: &str) -> Result<&'static str> {
    crate::EXPORT_TABLES.into_iter().find(|t| *t == table).ok_or(StoreError::Unsupported("not an exportable table"))
}

/// The declared column types of a table (one of [`crate::EXPORT_TABLES`]).
async fn column_types(pool: &Pool<Db>, table: &'static str) -> Result<HashMap<String, ColumnKind>> {
    let kind = |t: &str| {
        let t = t.to_ascii_lowercase();
        if t.contains("bool") {
            ColumnKind::Bool
        } else if t.contains("int") {
            ColumnKind::Integer
        } else if t.contains("real") || t.contains("double") || t.contains("float") {
            ColumnKind::Real
        } else if t.contains("blob") || t.contains("bytea") {
            ColumnKind::Bytes
        } else {
            ColumnKind::Text
        }
    };
    let rows = if BACKEND == Backend::Sqlite {
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT name, type FROM pragma_table_info('{table}')"))).fetch_all(pool).await?
    } else {
        sqlx::query(
            "SELECT column_name::text AS name, data_type::text AS type FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(table)
        .fetch_all(pool)
        .await?
    };
    rows.iter()
        .map(|r| {
            let name: String = r.try_get("name")?;
            let t: String = r.try_get("type")?;
            let k = kind(&t);
            Ok((name, k))
        })
        .collect()
}

fn json_bytes(v: &serde_json::Value) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = v.get("base64")?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// A row as JSON, whatever its table: integers, reals, text, booleans, and bytes as
/// `{"base64": …}`.
fn row_to_json(r: &DbRow) -> Result<ExportRow> {
    use sqlx::{Column, TypeInfo, ValueRef};
    let mut m = ExportRow::new();
    for (i, col) in r.columns().iter().enumerate() {
        let raw = r.try_get_raw(i)?;
        let value = if raw.is_null() {
            serde_json::Value::Null
        } else {
            let t = raw.type_info().name().to_ascii_uppercase();
            if t.contains("BOOL") {
                r.try_get::<bool, _>(i)?.into()
            } else if t.contains("INT") {
                r.try_get::<i64, _>(i)?.into()
            } else if t.contains("REAL") || t.contains("FLOAT") || t.contains("DOUBLE") {
                r.try_get::<f64, _>(i)?.into()
            } else if t.contains("BLOB") || t.contains("BYTEA") {
                serde_json::json!({ "base64": b64(&r.try_get::<Vec<u8>, _>(i)?) })
            } else {
                r.try_get::<String, _>(i)?.into()
            }
        };
        m.insert(col.name().to_string(), value);
    }
    Ok(m)
}

const STATEMENT_COLUMNS: &str = "id, org_id, version, authority, speaker, speaker_position, published_at, channel, \
     source_url, language, text, translation, created_at, updated_at";
const CLAIM_COLUMNS: &str = "id, statement_id, topic, scope, position, from_date, until_date, confirmed";

fn statement_from_row(r: &DbRow) -> Result<Statement> {
    let channel: String = r.try_get("channel")?;
    Ok(Statement {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        version: r.try_get("version")?,
        draft: StatementDraft {
            authority: r.try_get("authority")?,
            speaker: r.try_get("speaker")?,
            speaker_position: r.try_get("speaker_position")?,
            published_at: r.try_get("published_at")?,
            channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
            source_url: r.try_get("source_url")?,
            language: r.try_get("language")?,
            text: r.try_get("text")?,
            translation: r.try_get("translation")?,
        },
        claims: Vec::new(),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn claim_from_row(r: &DbRow) -> Result<Claim> {
    let scope: String = r.try_get("scope")?;
    let position: String = r.try_get("position")?;
    let from: String = r.try_get("from_date")?;
    let until: Option<String> = r.try_get("until_date")?;
    Ok(Claim {
        id: r.try_get("id")?,
        statement_id: r.try_get("statement_id")?,
        draft: ClaimDraft {
            topic: r.try_get("topic")?,
            scope: serde_json::from_str(&scope).map_err(|_| corrupt("scope", &scope))?,
            position: Position::parse(&position).ok_or_else(|| corrupt("position", &position))?,
            from: from.parse().map_err(|_| corrupt("date", &from))?,
            until: until.map(|u| u.parse().map_err(|_| corrupt("date", &u))).transpose()?,
        },
        confirmed: r.try_get("confirmed")?,
    })
}

fn review_from_row(r: &DbRow) -> Result<Review> {
    let status: String = r.try_get("status")?;
    Ok(Review {
        key: r.try_get("key")?,
        org_id: r.try_get("org_id")?,
        status: ReviewStatus::parse(&status).ok_or_else(|| corrupt("review status", &status))?,
        reason: r.try_get("reason")?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_at: r.try_get("reviewed_at")?,
    })
}

fn statement_content(s: &Statement) -> String {
    serde_json::json!({"id": s.id, "org_id": s.org_id, "version": s.version, "statement": s.draft}).to_string()
}

fn claim_content(c: &Claim) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

fn review_content(r: &Review) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

/// Detection keys are text; the audit history names records by number. Each
/// organization's review is its own record, numbered from the key and the organization;
/// a review written before reviews were kept per organization (`by_org` false) keeps the
/// number it was written under, from the key alone.
fn review_record_id(key: &str, org_id: i64, by_org: bool) -> i64 {
    let h = if by_org { sha256_hex(format!("{org_id}\u{1f}{key}").as_bytes()) } else { sha256_hex(key.as_bytes()) };
    i64::from_str_radix(&h[..15], 16).unwrap_or(0)
}

/// The record a review's sealed reason names: one organization's review of one
/// detection, whichever way its history numbers it.
fn review_seal_id(key: &str, org_id: i64) -> i64 {
    review_record_id(key, org_id, true)
}

const VISIT_NOTES_FIELD: &str = "visit.interview_notes";
const VISIT_COLUMNS: &str = "id, org_id, facility_id, visited_on, report, notes_sealed, idempotency_key, author_user_id, created_at";

fn visit_from_row(r: &DbRow) -> Result<Visit> {
    let report: String = r.try_get("report")?;
    let notes: Option<Vec<u8>> = r.try_get("notes_sealed")?;
    Ok(Visit {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        idempotency_key: r.try_get("idempotency_key")?,
        draft: serde_json::from_str(&report).map_err(|e| StoreError::Corrupt(format!("visit report: {e}")))?,
        has_notes: notes.is_some(),
        author_user_id: r.try_get("author_user_id")?,
        created_at: r.try_get("created_at")?,
    })
}

const VISIT_FINDING: &str = "visit.finding";
const VISIT_OBSERVATIONS: &str = "visit.observations";

/// A visit report as stored: each finding's description and each section's
/// observations sealed (finding 11); answers, counts and severities stay open.
fn seal_visit_text(sealer: &crate::vault::Sealer, id: i64, d: &mut VisitDraft) -> Result<()> {
    for f in &mut d.findings {
        f.description = sealer.seal_text(VISIT_FINDING, id, &f.description)?;
    }
    for notes in d.sections.values_mut() {
        if let Some(o) = notes.observations.as_mut() {
            *o = sealer.seal_text(VISIT_OBSERVATIONS, id, o)?;
        }
    }
    Ok(())
}

/// A visit as its organization reads it (a report written before sealing reads as it was).
fn open_visit_text(vault: &Vault, mut v: Visit) -> Result<Visit> {
    for f in &mut v.draft.findings {
        f.description = vault.open_text(v.org_id, VISIT_FINDING, v.id, &f.description)?;
    }
    for notes in v.draft.sections.values_mut() {
        if let Some(o) = notes.observations.as_mut() {
            *o = vault.open_text(v.org_id, VISIT_OBSERVATIONS, v.id, o)?;
        }
    }
    Ok(v)
}

fn visit_content(v: &Visit, sealed: Option<&[u8]>) -> String {
    serde_json::json!({"id": v.id, "org_id": v.org_id, "key": v.idempotency_key, "report": v.draft,
                       "notes_sealed": sealed.map(b64), "author_user_id": v.author_user_id})
    .to_string()
}

const NOTE_FIELD: &str = "facility_note.body";

fn note_content(id: i64, org_id: i64, facility_id: i64, author: Option<i64>, sealed: &[u8]) -> String {
    serde_json::json!({
        "id": id, "org_id": org_id, "facility_id": facility_id,
        "author_user_id": author, "body_sealed": b64(sealed),
    })
    .to_string()
}

fn org_key_content(org_id: i64, version: i64) -> String {
    serde_json::json!({"org_id": org_id, "version": version}).to_string()
}

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
        let check: Option<String> =
            sqlx::query("SELECT key_check FROM chain_head WHERE id = 1").fetch_one(&pool).await?.try_get("key_check")?;
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
                    let store = Self { pool, vault, blob_dir: blob_dir(url) };
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

    /// One pass of [`crate::Store::verify_audit`].
    async fn verify_once(&self) -> Result<VerifyReport> {
        use crate::Store as _;
        let (mut report, latest, originals) = self.latest_hashes().await?;
        if !report.ok() {
            return Ok(report);
        }
        let problems = &mut report.problems;
        let mut cur = Current::new(&latest);
        for f in self.list_facilities().await? {
            cur.check(problems, RecordType::Facility, f.id, &f.content_json());
        }
        for o in self.list_orgs().await? {
            cur.check(problems, RecordType::Organization, o.id, &o.content_json());
        }
        for u in self.list_users(None).await? {
            cur.check(problems, RecordType::User, u.id, &u.content_json());
        }
        let sql = format!("SELECT {IMPORT_COLUMNS} FROM attempt_imports ORDER BY first_id");
        let imports =
            sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?.iter().map(import_from_row).collect::<Result<Vec<_>>>()?;
        for imp in &imports {
            cur.check(problems, RecordType::AttemptImport, imp.id, &imp.content_json());
        }
        let mut imported = ImportedCheck::new(&imports, &originals);
        // Attempts with entries of their own (created alone, or corrected since import).
        let audited: HashSet<i64> =
            latest.keys().filter(|(t, _)| t == RecordType::AccessAttempt.as_str()).map(|(_, id)| *id).collect();
        {
            let mut conn = self.pool.acquire().await?;
            // One walk over the attempts checks each against the chain and recounts the
            // daily counts, as `recount_daily` would.
            let zones = facility_zones(&mut conn).await?;
            let mut expected = DailyDelta::new();
            each_attempt(&mut conn, None, |a| {
                let content = a.content_json();
                if !imported.push(problems, &a, &content) || audited.contains(&a.id) {
                    cur.check(problems, RecordType::AccessAttempt, a.id, &content);
                }
                count_daily(&mut expected, &zones, a.org_id, &a.draft, 1)
            })
            .await?;
            imported.finish(problems);
            expected.retain(|_, v| v.0 != 0);
            let stored = stored_daily(&mut conn).await?;
            let mut wrong = 0usize;
            for ((f, d, o, p, sh), v) in &expected {
                if stored.get(&(*f, *d, *o, p.to_string(), *sh)) != Some(v) {
                    wrong += 1;
                }
            }
            wrong += stored.len().saturating_sub(expected.len());
            if wrong > 0 {
                problems.push(format!(
                    "the daily access counts disagree with the attempts in {wrong} cells (run `vigia audit recount`)"
                ));
            }
        }
        for c in self.list_coalitions().await? {
            cur.check(problems, RecordType::Coalition, c.id, &c.content_json());
        }
        for r in &sqlx::query("SELECT id, org_id, url, active, deleted_at, created_at FROM webhooks ORDER BY id")
            .fetch_all(&self.pool)
            .await?
        {
            let hook = webhook_from_row(r)?;
            cur.check(problems, RecordType::Webhook, hook.id, &hook.content_json());
        }
        for r in crate::Store::calendar_rules(self).await? {
            cur.check(problems, RecordType::CalendarRule, r.id, &r.content_json());
        }
        let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments ORDER BY id");
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let a = attachment_from_row(r)?;
            cur.check(problems, RecordType::Attachment, a.id, &a.content_json());
        }
        let shas: Vec<String> = sqlx::query("SELECT sha256 FROM blobs ORDER BY sha256")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("sha256"))
            .collect::<std::result::Result<_, _>>()?;
        for sha in shas {
            match crate::Store::blob(self, &sha).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => problems.push(format!("evidence file {sha} is missing")),
                Err(_) => problems.push(format!("evidence file {sha} was altered: its bytes no longer match its hash")),
            }
        }
        let sql = format!("SELECT {DOCUMENT_COLUMNS}, data_sealed FROM case_documents ORDER BY id");
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let a = document_from_row(r)?;
            let sealed_sha: String = r.try_get("sealed_sha256")?;
            let sealed: Vec<u8> = r.try_get("data_sealed")?;
            cur.check(problems, RecordType::CaseDocument, a.id, &document_content(&a, &sealed_sha));
            // Whether the bytes are whole; whether they may sit in this row is the
            // check above (and reads refuse a value that does not name its record).
            let plain_sha = self.vault.open_recorded_text(a.org_id, DOCUMENT_SHA, a.id, &a.sha256).unwrap_or_default();
            let intact = sha256_hex(&sealed) == sealed_sha
                && self.vault.open_recorded(a.org_id, DOCUMENT_FIELD, a.id, &sealed).is_ok_and(|b| sha256_hex(&b) == plain_sha);
            if !intact {
                problems.push(format!("case document {} was altered: its sealed bytes no longer match its hashes", a.id));
            }
        }
        for r in &sqlx::query("SELECT org_id, require_2fa FROM org_settings ORDER BY org_id").fetch_all(&self.pool).await? {
            let org_id: i64 = r.try_get("org_id")?;
            let on: bool = r.try_get("require_2fa")?;
            cur.check(problems, RecordType::OrgSettings, org_id, &org_settings_content(org_id, on));
        }
        for st in crate::Store::statements(self).await? {
            cur.check(problems, RecordType::Statement, st.id, &statement_content(&st));
            for c in &st.claims {
                cur.check(problems, RecordType::Claim, c.id, &claim_content(c));
            }
        }
        let sql = "SELECT key, org_id, status, reason, reviewed_by, reviewed_at, by_org FROM detection_reviews ORDER BY key, org_id";
        for row in &sqlx::query(sql).fetch_all(&self.pool).await? {
            let r = review_from_row(row)?;
            let by_org: bool = row.try_get("by_org")?;
            cur.check(problems, RecordType::DetectionReview, review_record_id(&r.key, r.org_id, by_org), &review_content(&r));
        }
        let sql = format!("SELECT {VISIT_COLUMNS} FROM visits ORDER BY id");
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let v = visit_from_row(r)?;
            let sealed: Option<Vec<u8>> = r.try_get("notes_sealed")?;
            cur.check(problems, RecordType::Visit, v.id, &visit_content(&v, sealed.as_deref()));
        }
        let sql = format!("SELECT {CASE_COLUMNS}, person_sealed FROM cases ORDER BY id");
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let c = case_from_row(r)?;
            let sealed: Vec<u8> = r.try_get("person_sealed")?;
            cur.check(problems, RecordType::Case, c.id, &case_content(&c, &sealed));
        }
        let sql = format!("SELECT {EVENT_COLUMNS} FROM case_events ORDER BY id");
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let e = event_from_row(r)?;
            let sealed: Option<Vec<u8>> = r.try_get("note_sealed")?;
            let org_id: i64 = r.try_get("org_id")?;
            cur.check(problems, RecordType::CaseEvent, e.id, &event_content(&e, org_id, sealed.as_deref()));
        }
        let notes = sqlx::query("SELECT id, org_id, facility_id, author_user_id, body_sealed FROM facility_notes ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        for r in &notes {
            let id: i64 = r.try_get("id")?;
            let sealed: Vec<u8> = r.try_get("body_sealed")?;
            let content = note_content(id, r.try_get("org_id")?, r.try_get("facility_id")?, r.try_get("author_user_id")?, &sealed);
            cur.check(problems, RecordType::FacilityNote, id, &content);
        }
        let tokens = sqlx::query("SELECT id, user_id, name, revoked_at FROM api_tokens ORDER BY id").fetch_all(&self.pool).await?;
        for r in &tokens {
            let id: i64 = r.try_get("id")?;
            let (user_id, name): (i64, String) = (r.try_get("user_id")?, r.try_get("name")?);
            let revoked = r.try_get::<Option<i64>, _>("revoked_at")?.is_some();
            cur.check(problems, RecordType::ApiToken, id, &token_content(id, user_id, &name, revoked));
        }
        cur.missing(problems);
        {
            let mut conn = self.pool.acquire().await?;
            let rows = sqlx::query("SELECT org_id, MAX(version) AS v FROM org_keys GROUP BY org_id ORDER BY org_id")
                .fetch_all(&mut *conn)
                .await?;
            let mut with_keys = HashSet::new();
            for r in &rows {
                let (org, v): (i64, i64) = (r.try_get("org_id")?, r.try_get("v")?);
                with_keys.insert(org);
                if audited_key_version(&mut conn, org).await? != Some(v) {
                    problems.push(format!(
                        "organization {org}'s data keys differ from the history: a key was added or removed behind the app's back"
                    ));
                }
            }
            for o in self.list_orgs().await? {
                if !with_keys.contains(&o.id) {
                    problems.push(format!("organization {} has no data key: it was removed behind the app's back", o.id));
                }
            }
        }
        problems.extend(integrity_problems(&mut *self.pool.acquire().await?, &self.vault.master()).await?);
        Ok(report)
    }

    /// The chain's last entry: it moves with every recorded write.
    async fn head_seq(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT seq FROM chain_head WHERE id = 1").fetch_one(&self.pool).await?.try_get("seq")?)
    }

    /// A case as stored: its reference sealed (finding 11), and the keyed hash that
    /// keeps references unique within the organization.
    fn stored_case(&self, c: &Case, sealer: &vault::Sealer) -> Result<(Case, String)> {
        let mut stored = c.clone();
        let reference = &c.fields.reference;
        stored.fields.reference = sealer.seal_text(CASE_REFERENCE, c.id, reference)?;
        Ok((stored, self.vault.blind_index(c.org_id, CASE_REFERENCE, reference)?))
    }

    /// A case document as its readers see it: the file name opened.
    fn opened_document(&self, mut a: Attachment) -> Result<Attachment> {
        a.filename = self.vault.open_text(a.org_id, DOCUMENT_NAME, a.id, &a.filename)?;
        a.sha256 = self.vault.open_text(a.org_id, DOCUMENT_SHA, a.id, &a.sha256)?;
        Ok(a)
    }

    /// A case as its readers see it: the reference opened.
    fn opened_case(&self, mut c: Case) -> Result<Case> {
        c.fields.reference = self.vault.open_text(c.org_id, CASE_REFERENCE, c.id, &c.fields.reference)?;
        Ok(c)
    }

    /// Gives cases written before references were sealed the keyed hash of their
    /// reference, so a new case cannot take a reference an older one has (finding 11).
    /// Their rows and histories are not rewritten; a correction seals the reference.
    async fn index_case_references(&self) -> Result<()> {
        let rows = sqlx::query("SELECT id, org_id, reference FROM cases WHERE reference_key IS NULL")
            .fetch_all(&self.pool)
            .await?;
        for r in &rows {
            let (id, org): (i64, i64) = (r.try_get("id")?, r.try_get("org_id")?);
            // These rows are older than the re-sealing that runs after this. One that
            // does not open is skipped: reads refuse it and the audit names it; it must
            // not stop the database from opening.
            let stored: String = r.try_get("reference")?;
            let Ok(reference) = self.vault.open_recorded_text(org, CASE_REFERENCE, id, &stored) else {
                tracing::warn!(case = id, "a case reference does not open: not indexed");
                continue;
            };
            let key = self.vault.blind_index(org, CASE_REFERENCE, &reference)?;
            sqlx::query("UPDATE cases SET reference_key = $1 WHERE id = $2").bind(key).bind(id).execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Seals evidence files stored before files were sealed (finding 10), each with the
    /// key of the organization that first attached it, checking its hash first. A file
    /// whose bytes no longer match is left as it is for `audit verify` to name. Runs
    /// when the store opens; once every file is sealed it costs one query.
    async fn seal_plain_evidence(&self) -> Result<usize> {
        let rows = sqlx::query(
            "SELECT b.sha256, (SELECT a.org_id FROM attachments a WHERE a.sha256 = b.sha256 ORDER BY a.id LIMIT 1) AS org_id \
             FROM blobs b WHERE b.key_org IS NULL ORDER BY b.sha256",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut sealed = 0;
        for r in &rows {
            let sha: String = r.try_get("sha256")?;
            let Some(org) = r.try_get::<Option<i64>, _>("org_id")? else { continue };
            let plain = match crate::Store::blob(self, &sha).await {
                Ok(b) => b,
                Err(StoreError::NotFound | StoreError::Corrupt(_)) => continue,
                Err(e) => return Err(e),
            };
            let bytes = self.vault.seal_file(org, self.current_key_version(org).await?, &sha, &plain)?;
            let data = match &self.blob_dir {
                Some(dir) => {
                    store_blob_file(dir, blob_name(&sha, Some(org))?, bytes).await?;
                    None
                }
                None => Some(bytes),
            };
            sqlx::query("UPDATE blobs SET key_org = $1, data = $2 WHERE sha256 = $3 AND key_org IS NULL")
                .bind(org)
                .bind(data)
                .bind(&sha)
                .execute(&self.pool)
                .await?;
            if let Some(dir) = &self.blob_dir {
                let _ = tokio::fs::remove_file(blob_path(dir, &sha)).await;
            }
            sealed += 1;
        }
        if sealed > 0 {
            tracing::info!(files = sealed, "evidence files kept in the clear are now sealed");
        }
        if let Some(dir) = &self.blob_dir {
            // A plain copy left by a stop between sealing a file and removing it.
            let done = sqlx::query("SELECT sha256 FROM blobs WHERE key_org IS NOT NULL").fetch_all(&self.pool).await?;
            for r in &done {
                let plain = blob_path(dir, &r.try_get::<String, _>("sha256")?);
                if plain.exists() {
                    let _ = tokio::fs::remove_file(plain).await;
                }
            }
            // Directories made before they were made owner-only.
            if dir.exists() {
                crate::owner_only_tree(dir).map_err(|e| StoreError::Corrupt(format!("cannot restrict {}: {e}", dir.display())))?;
            }
        }
        Ok(sealed)
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
            tracing::error!(seq = head.seq, "the audit head is not signed by the master key: writes refused; run `vigia audit verify`");
            return Err(StoreError::Integrity("the audit history's head is not signed by the master key".into()));
        }
        // The clock is read holding the chain, and never before the last write: entry
        // times only go forward, so a backdated entry stands out (finding 6).
        let now = now_micros().max(head.touched_at);
        Ok(WriteTx {
            chain: Chain { seq: head.seq, hash: head.hash },
            tx,
            now,
            key,
            keyed_from: head.keyed_from,
            records_bound: head.records_bound,
        })
    }

    /// A security row failed its MAC: if that is because another process rotated the
    /// master key (this one still holds the old key), say so (503, "restart") rather than
    /// refusing the person as if their credentials were wrong.
    async fn unless_rotated(&self) -> Result<()> {
        let check: Option<String> =
            sqlx::query("SELECT key_check FROM chain_head WHERE id = 1").fetch_one(&self.pool).await?.try_get("key_check")?;
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
            tracing::error!(org_id, "an organization's newest data key is missing: sealing refused; run `vigia audit verify`");
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

    /// A record's own audit entries, oldest first.
    async fn own_history(&self, record_type: RecordType, record_id: i64, org_id: Option<i64>) -> Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(
            "SELECT a.seq, a.record_type, a.record_id, a.at, a.actor_user_id, u.display_name, a.action, a.content, \
             a.content_hash, a.entry_hash \
             FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id \
             WHERE a.record_type = $1 AND a.record_id = $2 AND ($3 IS NULL OR a.org_id = $3) ORDER BY a.seq",
        )
        .bind(record_type.as_str())
        .bind(record_id)
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    seq: r.try_get("seq")?,
                    record_type: r.try_get("record_type")?,
                    record_id: r.try_get("record_id")?,
                    at: r.try_get("at")?,
                    actor_user_id: r.try_get("actor_user_id")?,
                    actor_name: r.try_get("display_name")?,
                    action: r.try_get("action")?,
                    content: r.try_get("content")?,
                    content_hash: r.try_get("content_hash")?,
                    entry_hash: r.try_get("entry_hash")?,
                })
            })
            .collect()
    }

    /// Puts first in an imported attempt's history the version its import wrote, under
    /// the import's entry: the attempt as it is if never corrected, else the version
    /// its first correction recorded (the `original` entry, which it stands in for).
    async fn imported_version(&self, attempt_id: i64, entries: &mut Vec<HistoryEntry>) -> Result<()> {
        let import = sqlx::query(
            "SELECT a.seq, a.at, a.actor_user_id, u.display_name, a.entry_hash FROM attempt_imports i \
             JOIN audit_log a ON a.record_type = $2 AND a.record_id = i.id AND a.action = $3 \
             LEFT JOIN users u ON u.id = a.actor_user_id WHERE i.first_id <= $1 AND i.last_id >= $1",
        )
        .bind(attempt_id)
        .bind(RecordType::AttemptImport.as_str())
        .bind(IMPORT)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = import else { return Ok(()) };
        let (content, content_hash) = match entries.iter().position(|e| e.action == ORIGINAL) {
            Some(i) => {
                let o = entries.remove(i);
                (o.content, o.content_hash)
            }
            None => {
                let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE a.id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(attempt_id).fetch_one(&self.pool).await?;
                let content = attempt_from_row(&row)?.content_json();
                let hash = sha256_hex(content.as_bytes());
                (content, hash)
            }
        };
        entries.insert(
            0,
            HistoryEntry {
                seq: r.try_get("seq")?,
                record_type: RecordType::AccessAttempt.as_str().to_string(),
                record_id: attempt_id,
                at: r.try_get("at")?,
                actor_user_id: r.try_get("actor_user_id")?,
                actor_name: r.try_get("display_name")?,
                action: IMPORT.into(),
                content,
                content_hash,
                entry_hash: r.try_get("entry_hash")?,
            },
        );
        Ok(())
    }

    /// Walks the chain: the report so far, each record's last audited `(seq, content
    /// hash)`, and the `original` entries' content hashes by attempt id.
    async fn latest_hashes(&self) -> Result<(VerifyReport, Latest, HashMap<i64, String>)> {
        let head = sqlx::query("SELECT keyed_from FROM chain_head WHERE id = 1").fetch_one(&self.pool).await?;
        let keyed_from: Option<i64> = head.try_get("keyed_from")?;
        let mut verifier = Verifier::default().times_from(keyed_from.unwrap_or(i64::MAX));
        let mut latest: Latest = HashMap::new();
        let mut originals = HashMap::new();
        let mut problems = Vec::new();
        let mut after = 0i64;
        let mut entries = 0i64;
        'pages: loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor_user_id, org_id, action, record_type, record_id, content, \
                 content_hash, prev_hash, entry_hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let e = audit_from_row(row)?;
                let content: String = row.try_get("content")?;
                if let Err(b) = verifier.push(&e) {
                    problems.push(b.to_string());
                    break 'pages;
                }
                if sha256_hex(content.as_bytes()) != e.content_hash {
                    problems.push(format!("entry {} was altered: its stored content does not match its hash", e.seq));
                    break 'pages;
                }
                entries += 1;
                after = e.seq;
                if e.action == ORIGINAL && e.record_type == RecordType::AccessAttempt.as_str() {
                    originals.insert(e.record_id, e.content_hash.clone());
                }
                latest.insert((e.record_type.clone(), e.record_id), (e.seq, e.content_hash));
            }
        }
        let row = sqlx::query("SELECT seq, hash, touched_at, keyed_from, records_bound, mac FROM chain_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let head = Head::from_row(&row)?;
        let (head_seq, head_hash) = (head.seq, head.hash.clone());
        let mac: Option<String> = row.try_get("mac")?;
        if !head.signed_by(&self.vault.master(), mac.as_deref()) {
            problems.push(format!(
                "the recorded head (entry {head_seq}) is not signed by the master key: the history was extended or rewritten without it"
            ));
        }
        if problems.is_empty() {
            let (vseq, vhash) = verifier.head();
            if vseq != head_seq || vhash != head_hash {
                problems.push(format!(
                    "the chain ends at entry {vseq} but the recorded head is entry {head_seq}: entries were removed or added"
                ));
            }
        }
        Ok((VerifyReport { entries, head_seq, head_hash, problems }, latest, originals))
    }
}

/// Each record's last audited `(seq, content hash)`, by `(record type, id)`.
type Latest = HashMap<(String, i64), (i64, String)>;

/// Compares current records with their last audited versions, in both directions:
/// each record checked must match its last entry (or it was changed or added behind
/// the app's back), and each record the log knows must have been checked (or it was
/// deleted behind the app's back: nothing in Vigía deletes a record).
/// What of an API token goes into the audit chain (never its hash). "revoked" is
/// written only once revoked, so tokens audited before revocation existed keep their
/// content byte for byte.
fn token_content(id: i64, user_id: i64, name: &str, revoked: bool) -> String {
    let mut v = serde_json::json!({"id": id, "user_id": user_id, "name": name});
    if revoked {
        v["revoked"] = true.into();
    }
    v.to_string()
}

/// Revokes a user's live tokens (one, or all), each with an audit entry; whether any was.
async fn revoke_tokens(w: &mut WriteTx, actor: &Actor, user_id: i64, only: Option<i64>) -> Result<bool> {
    let sql = format!("{TOKENS_SEC} WHERE t.user_id = $1 AND t.revoked_at IS NULL AND ($2 IS NULL OR t.id = $2)");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).bind(only).fetch_all(&mut *w.tx).await?;
    let org = w.org_of_user(user_id).await?;
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        // A revoked token keeps a valid MAC only if it had one: revoking never
        // vouches for a row written without the key.
        let intact = row_mac_ok(&w.key, "api_tokens", r, "mac")?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1, mac = NULL WHERE id = $2")
            .bind(w.now)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        let name: String = sqlx::query("SELECT name FROM api_tokens WHERE id = $1").bind(id).fetch_one(&mut *w.tx).await?.try_get("name")?;
        w.audit(actor, org, "revoke", RecordType::ApiToken, id, &token_content(id, user_id, &name, true)).await?;
        if intact {
            write_token_mac(&mut w.tx, &w.key, id).await?;
        }
    }
    Ok(!rows.is_empty())
}

struct Current<'a> {
    latest: &'a Latest,
    seen: HashSet<(&'static str, i64)>,
}

impl<'a> Current<'a> {
    fn new(latest: &'a Latest) -> Self {
        Current { latest, seen: HashSet::new() }
    }

    fn check(&mut self, problems: &mut Vec<String>, record_type: RecordType, id: i64, content: &str) {
        self.seen.insert((record_type.as_str(), id));
        match self.latest.get(&(record_type.as_str().to_string(), id)) {
            None => problems
                .push(format!("{} {id} has no audit entry: it was added behind the app's back", record_type.as_str())),
            Some((seq, hash)) if *hash != sha256_hex(content.as_bytes()) => problems.push(format!(
                "{} {id} differs from its last audited version (entry {seq}): it was changed behind the app's back",
                record_type.as_str()
            )),
            Some(_) => {}
        }
    }

    /// Every kept record the log knows and no check met.
    fn missing(&self, problems: &mut Vec<String>) {
        let mut gone: Vec<(&str, i64, i64)> = self
            .latest
            .iter()
            .filter_map(|((t, id), (seq, _))| {
                let kind = RecordType::parse(t).filter(|k| k.is_kept_record())?;
                (!self.seen.contains(&(kind.as_str(), *id))).then_some((kind.as_str(), *id, *seq))
            })
            .collect();
        gone.sort_unstable();
        for (t, id, seq) in gone {
            problems.push(format!(
                "{t} {id} is missing: its last audited version is entry {seq}, and it was deleted behind the app's back"
            ));
        }
    }
}

/// Checks imported attempts against their imports' digests, fed every attempt in id
/// order: each one's version as imported is its `original` entry's if it was corrected
/// since, else its content now.
struct ImportedCheck<'a> {
    imports: &'a [AttemptImport],
    originals: &'a HashMap<i64, String>,
    /// The import `digest` is being computed for.
    at: usize,
    digest: ImportDigest,
}

impl<'a> ImportedCheck<'a> {
    fn new(imports: &'a [AttemptImport], originals: &'a HashMap<i64, String>) -> Self {
        Self { imports, originals, at: 0, digest: ImportDigest::default() }
    }

    /// Digests an attempt if an import wrote it (answers whether one did).
    fn push(&mut self, problems: &mut Vec<String>, a: &Attempt, content: &str) -> bool {
        while self.imports.get(self.at).is_some_and(|i| i.last_id < a.id) {
            self.close(problems);
        }
        let Some(imp) = self.imports.get(self.at).filter(|i| i.first_id <= a.id) else {
            return false;
        };
        if a.org_id != imp.org_id {
            problems.push(format!(
                "access_attempt {} belongs to another organization than import {} that wrote it: it was changed behind the app's back",
                a.id, imp.id
            ));
        }
        let original = self.originals.get(&a.id).and_then(|h| <[u8; 32]>::try_from(hex::decode(h).ok()?).ok());
        self.digest.push(&original.unwrap_or_else(|| row_hash(content.as_bytes())));
        true
    }

    /// Compares the digest of the current import's attempts with its record.
    fn close(&mut self, problems: &mut Vec<String>) {
        let Some(imp) = self.imports.get(self.at) else { return };
        let got = std::mem::take(&mut self.digest).finish();
        self.at += 1;
        if got.rows != imp.row_count {
            problems.push(format!(
                "import {} wrote {} attempts (ids {}–{}) but {} are there: attempts were removed behind the app's back",
                imp.id, imp.row_count, imp.first_id, imp.last_id, got.rows
            ));
        } else if got.all != imp.rows_sha256 {
            let changed: Vec<String> = (0..imp.chunk_sha256.len())
                .filter(|&c| got.chunks.get(c) != imp.chunk_sha256.get(c))
                .map(|c| {
                    let (first, last) = imp.chunk_ids(c);
                    format!("{first}–{last}")
                })
                .collect();
            problems.push(format!(
                "access attempts imported by import {} differ from what it wrote (among ids {}): they were changed behind the app's back",
                imp.id,
                changed.join(", ")
            ));
        }
    }

    fn finish(mut self, problems: &mut Vec<String>) {
        while self.at < self.imports.len() {
            self.close(problems);
        }
    }
}

/// Applies the backend's migrations that are not yet applied, each in its own
/// transaction with its Rust step (see `migrations.rs`), and refuses to start if an
/// applied migration's text has changed. Without `key`, stops before the first migration
/// whose step needs it.
async fn migrate(pool: &Pool<Db>, key: Option<&MasterKey>) -> Result<()> {
    use crate::migrations::Step;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, \
         checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(pool)
    .await?;
    for m in MIGRATIONS {
        let (version, name, sql) = (m.version, m.name, m.sql);
        let key = match (m.step.keyed(), key) {
            (true, None) => return Ok(()),
            (_, key) => key,
        };
        let checksum = sha256_hex(sql.as_bytes());
        let applied = sqlx::query("SELECT checksum FROM schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(pool)
            .await?;
        if let Some(row) = applied {
            let stored: String = row.try_get("checksum")?;
            if stored != checksum {
                return Err(StoreError::Migration {
                    version,
                    name: name.to_string(),
                    reason: "it was changed after being applied".into(),
                });
            }
            continue;
        }
        let fail = |e: sqlx::Error| StoreError::Migration { version, name: name.to_string(), reason: e.to_string() };
        let mut tx = pool.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(fail)?;
        let failed = |e: StoreError| StoreError::Migration { version, name: name.to_string(), reason: e.to_string() };
        match (m.step, key) {
            (Step::None, _) => {}
            (Step::RebuildDaily, _) => rebuild_daily(&mut tx, None).await.map_err(failed)?,
            (Step::TrustRows, Some(key)) => {
                remac(&mut tx, key, None).await.map_err(failed)?;
            }
            (Step::SignHead, Some(key)) => {
                let row = sqlx::query("SELECT seq, hash, touched_at, keyed_from FROM chain_head WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
                let mut head = Head::from_row(&row)?;
                head.keyed_from = Some(head.seq);
                sqlx::query("UPDATE chain_head SET mac = $1, keyed_from = $2 WHERE id = 1")
                    .bind(head.mac(key))
                    .bind(head.seq)
                    .execute(&mut *tx)
                    .await?;
            }
            (Step::TrustRows | Step::SignHead, None) => {
                return Err(StoreError::Migration { version, name: name.to_string(), reason: "it needs the master key".into() })
            }
        }
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
            .bind(version)
            .bind(name)
            .bind(&checksum)
            .bind(now_micros())
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        tx.commit().await?;
        tracing::info!(version, name, backend = BACKEND.as_str(), "migration applied");
    }
    Ok(())
}

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
            n.insert(table.to_string(), sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&self.pool).await?.try_get("n")?);
        }
        Ok(Counts(n))
    }

    async fn create_org(&self, actor: &Actor, slug: &str, name: &str) -> Result<Organization> {
        let mut w = self.begin().await?;
        let id: i64 = sqlx::query("INSERT INTO organizations (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(slug)
            .bind(name)
            .bind(w.now)
            .fetch_one(&mut *w.tx)
            .await
            .map_err(unique_to_conflict("slug"))?
            .try_get("id")?;
        let org = Organization { id, slug: slug.to_string(), name: name.to_string(), created_at: w.now };
        let wrapped = vault::new_wrapped_key(&self.vault.master(), id, 1)?;
        sqlx::query("INSERT INTO org_keys (org_id, version, wrapped, created_at) VALUES ($1, 1, $2, $3)")
            .bind(id)
            .bind(&wrapped)
            .bind(w.now)
            .execute(&mut *w.tx)
            .await?;
        w.audit(actor, Some(id), "create", RecordType::Organization, id, &org.content_json()).await?;
        w.audit(actor, Some(id), "create", RecordType::OrgKey, id, &org_key_content(id, 1)).await?;
        w.commit().await?;
        self.vault.load_key(id, 1, &wrapped)?;
        Ok(org)
    }

    async fn list_orgs(&self) -> Result<Vec<Organization>> {
        let rows = sqlx::query("SELECT id, slug, name, created_at FROM organizations ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(org_from_row).collect()
    }

    async fn org(&self, id: i64) -> Result<Option<Organization>> {
        let row = sqlx::query("SELECT id, slug, name, created_at FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    async fn org_by_slug(&self, slug: &str) -> Result<Option<Organization>> {
        let row = sqlx::query("SELECT id, slug, name, created_at FROM organizations WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User> {
        let mut w = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO users (email, display_name, password_hash, locale, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&new.email)
        .bind(&new.display_name)
        .bind(&new.password_hash)
        .bind(new.locale.as_str())
        .bind(false)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(unique_to_conflict("email"))?
        .try_get("id")?;
        sqlx::query("INSERT INTO memberships (user_id, org_id, role) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(new.org_id)
            .bind(new.role.as_str())
            .execute(&mut *w.tx)
            .await
            .map_err(unique_to_conflict("membership"))?;
        let user = User {
            id,
            email: new.email,
            display_name: new.display_name,
            org_id: new.org_id,
            role: new.role,
            locale: new.locale,
            disabled: false,
            created_at: w.now,
        };
        w.audit(actor, Some(user.org_id), "create", RecordType::User, id, &user.content_json()).await?;
        // Its MAC covers this entry: written after it.
        write_user_mac(&mut w.tx, &w.key, id).await?;
        w.commit().await?;
        Ok(user)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(user_query("WHERE u.email = $1"))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let user = user_from_row(&r)?;
                // A password hash copied in, a role raised or a second factor removed
                // without the master key: the account does not sign in (finding 4).
                if !user_mac_ok(&mut *self.pool.acquire().await?, &self.vault.master(), user.id).await? {
                    self.unless_rotated().await?;
                    tracing::error!(user_id = user.id, "an account fails its integrity check: sign-in refused");
                    return Ok(None);
                }
                Ok(Some((user, r.try_get("password_hash")?)))
            }
        }
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        let row = sqlx::query(user_query("WHERE u.id = $1"))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self, org_id: Option<i64>) -> Result<Vec<User>> {
        let rows = sqlx::query(user_query("WHERE ($1 IS NULL OR m.org_id = $1) ORDER BY m.org_id, u.email"))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn set_user_disabled(&self, actor: &Actor, user_id: i64, disabled: bool) -> Result<User> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let intact = user_mac_ok(&mut w.tx, &key, user_id).await?;
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(disabled)
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *w.tx).await?;
            // Revoked, not only stopped: enabling the user again does not bring them back.
            revoke_tokens(&mut w, actor, user_id, None).await?;
        }
        let row = sqlx::query(user_query("WHERE u.id = $1"))
        .bind(user_id)
        .fetch_one(&mut *w.tx)
        .await?;
        let user = user_from_row(&row)?;
        let action = if disabled { "disable" } else { "enable" };
        w.audit(actor, Some(user.org_id), action, RecordType::User, user.id, &user.content_json()).await?;
        if intact {
            write_user_mac(&mut w.tx, &key, user_id).await?;
        }
        w.commit().await?;
        Ok(user)
    }

    async fn set_user_locale(&self, actor: &Actor, user_id: i64, locale: Locale) -> Result<User> {
        let mut w = self.begin().await?;
        let done = sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
            .bind(locale.as_str())
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(user_query("WHERE u.id = $1"))
        .bind(user_id)
        .fetch_one(&mut *w.tx)
        .await?;
        let user = user_from_row(&row)?;
        w.audit(actor, Some(user.org_id), "set_locale", RecordType::User, user.id, &user.content_json()).await?;
        w.commit().await?;
        Ok(user)
    }

    async fn record_login_failure(&self, email: &str, at: Micros) -> Result<()> {
        sqlx::query("INSERT INTO login_failures (email, at) VALUES ($1, $2)")
            .bind(email)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn login_failures_since(&self, email: &str, since: Micros) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM login_failures WHERE email = $1 AND at >= $2")
            .bind(email)
            .bind(since)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    async fn clear_login_failures(&self, email: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE email = $1").bind(email).execute(&self.pool).await?;
        Ok(())
    }

    async fn create_session(&self, token_hash: &str, user_id: i64, csrf: &str, now: Micros) -> Result<()> {
        let mac = crate::rowmac::mac(&self.vault.master(), "sessions", &crate::rowmac::session(token_hash, user_id, now, None));
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, mac) VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .bind(mac)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: Micros,
        idle_timeout: Micros,
        absolute_timeout: Micros,
    ) -> Result<Option<SessionRow>> {
        // The session and its user with what their MACs cover, in one query.
        let row = sqlx::query(SESSION_USER_SEC).bind(token_hash).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        // A session written or changed without the master key, or for a user whose
        // row was, lets no one in (finding 4).
        let key = self.vault.master();
        let user_id: i64 = row.try_get("user_id")?;
        let user_mac: Option<String> = row.try_get("user_mac")?;
        let user_ok = crate::rowmac::matches(&key, "users", &user_mac_fields(&row)?, user_mac.as_deref());
        if !row_mac_ok(&key, "sessions", &row, "mac")? || !user_ok {
            self.unless_rotated().await?;
            tracing::error!(user_id, "a session or its user fails the integrity check: refused");
            return Ok(None);
        }
        let s = SessionRow {
            user_id: row.try_get("user_id")?,
            csrf: row.try_get("csrf")?,
            created_at: row.try_get("created_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            reauth_at: row.try_get("reauth_at")?,
        };
        if now - s.last_seen_at > idle_timeout || now - s.created_at > absolute_timeout {
            self.delete_session(token_hash).await?;
            return Ok(None);
        }
        // Touch at most once a minute: a page view should not always be a write.
        if now - s.last_seen_at > 60_000_000 {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(s))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn user_sessions(&self, user_id: i64) -> Result<Vec<SessionInfo>> {
        let rows = sqlx::query(
            "SELECT token_hash, created_at, last_seen_at FROM sessions WHERE user_id = $1 ORDER BY last_seen_at DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let hash: String = r.try_get("token_hash")?;
                Ok(SessionInfo {
                    id: hash.chars().take(SESSION_ID_LEN).collect(),
                    created_at: r.try_get("created_at")?,
                    last_seen_at: r.try_get("last_seen_at")?,
                })
            })
            .collect()
    }

    async fn end_user_session(&self, user_id: i64, id: &str) -> Result<bool> {
        if id.len() != SESSION_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash LIKE $2")
            .bind(user_id)
            .bind(format!("{id}%"))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn mark_reauth(&self, token_hash: &str, now: Micros) -> Result<()> {
        let key = self.vault.master();
        let row = sqlx::query("SELECT token_hash, user_id, created_at, reauth_at, mac FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(()) };
        if !row_mac_ok(&key, "sessions", &row, "mac")? {
            return Err(StoreError::Integrity("session".into()));
        }
        let fields = crate::rowmac::session(token_hash, row.try_get("user_id")?, row.try_get("created_at")?, Some(now));
        sqlx::query("UPDATE sessions SET reauth_at = $1, mac = $2 WHERE token_hash = $3")
            .bind(now)
            .bind(crate::rowmac::mac(&key, "sessions", &fields))
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn totp_setup(&self, user_id: i64, org_id: i64, secret: &[u8], now: Micros) -> Result<()> {
        let sealed = self.vault.seal(org_id, self.current_key_version(org_id).await?, TOTP_FIELD, user_id, secret)?;
        let mut tx = self.pool.begin().await?;
        let enabled = sqlx::query("SELECT enabled_at FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if enabled.is_some() {
            return Err(StoreError::Conflict("two-factor already enabled".into()));
        }
        sqlx::query("DELETE FROM user_totp WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        let mac = crate::rowmac::mac(&self.vault.master(), "user_totp", &crate::rowmac::totp(user_id, org_id, &sealed, None, None));
        sqlx::query(
            "INSERT INTO user_totp (user_id, org_id, secret_sealed, enabled_at, last_step, created_at, mac) \
             VALUES ($1, $2, $3, NULL, NULL, $4, $5)",
        )
        .bind(user_id)
        .bind(org_id)
        .bind(&sealed)
        .bind(now)
        .bind(mac)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn totp(&self, user_id: i64, org_id: i64) -> Result<Option<TotpState>> {
        let row = sqlx::query(
            "SELECT user_id, org_id, secret_sealed, enabled_at, last_step, mac FROM user_totp WHERE user_id = $1 AND org_id = $2",
        )
        .bind(user_id)
        .bind(org_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        // A secret swapped in from another user, or a step rolled back, is refused.
        if !row_mac_ok(&self.vault.master(), "user_totp", &r, "mac")? {
            tracing::error!(user_id, "a two-factor secret fails its integrity check: refused");
            return Err(StoreError::Integrity("two-factor secret".into()));
        }
        let sealed: Vec<u8> = r.try_get("secret_sealed")?;
        let enabled: Option<i64> = r.try_get("enabled_at")?;
        Ok(Some(TotpState {
            secret: self.vault.open(org_id, TOTP_FIELD, user_id, &sealed)?.to_vec(),
            enabled: enabled.is_some(),
            last_step: r.try_get("last_step")?,
        }))
    }

    async fn totp_enable(&self, actor: &Actor, user_id: i64, step: i64, recovery_hashes: &[String]) -> Result<()> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let row = sqlx::query(
            "SELECT user_id, org_id, secret_sealed, enabled_at, last_step, mac FROM user_totp WHERE user_id = $1 AND enabled_at IS NULL",
        )
        .bind(user_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        if !row_mac_ok(&key, "user_totp", &row, "mac")? {
            return Err(StoreError::Integrity("two-factor secret".into()));
        }
        let org_id: i64 = row.try_get("org_id")?;
        let sealed: Vec<u8> = row.try_get("secret_sealed")?;
        let intact = user_mac_ok(&mut w.tx, &key, user_id).await?;
        let mac = crate::rowmac::mac(&key, "user_totp", &crate::rowmac::totp(user_id, org_id, &sealed, Some(w.now), Some(step)));
        sqlx::query("UPDATE user_totp SET enabled_at = $1, last_step = $2, mac = $3 WHERE user_id = $4 AND enabled_at IS NULL")
            .bind(w.now)
            .bind(step)
            .bind(mac)
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *w.tx).await?;
        let mut codes = Vec::with_capacity(recovery_hashes.len());
        for h in recovery_hashes {
            let id: i64 = sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2) RETURNING id")
                .bind(user_id)
                .bind(h)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("id")?;
            codes.push(id);
        }
        let content =
            serde_json::json!({"user_id": user_id, "totp": "enabled", "recovery_codes": recovery_hashes.len()}).to_string();
        w.audit(actor, Some(org_id), "enable_2fa", RecordType::UserSecurity, user_id, &content).await?;
        // The MACs cover this entry: written after it.
        if intact {
            write_user_mac(&mut w.tx, &key, user_id).await?;
        }
        write_recovery_macs(&mut w.tx, &key, user_id, &codes).await?;
        w.commit().await
    }

    async fn totp_disable(&self, actor: &Actor, user_id: i64) -> Result<()> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let intact = user_mac_ok(&mut w.tx, &key, user_id).await?;
        let row = sqlx::query("DELETE FROM user_totp WHERE user_id = $1 RETURNING org_id")
            .bind(user_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let org_id: i64 = row.try_get("org_id")?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *w.tx).await?;
        let content = serde_json::json!({"user_id": user_id, "totp": "disabled"}).to_string();
        w.audit(actor, Some(org_id), "disable_2fa", RecordType::UserSecurity, user_id, &content).await?;
        if intact {
            write_user_mac(&mut w.tx, &key, user_id).await?;
        }
        w.commit().await
    }

    async fn totp_use_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let key = self.vault.master();
        let row = sqlx::query(
            "SELECT user_id, org_id, secret_sealed, enabled_at, last_step, mac FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(false) };
        if !row_mac_ok(&key, "user_totp", &row, "mac")? {
            return Ok(false);
        }
        let old: Option<String> = row.try_get("mac")?;
        let sealed: Vec<u8> = row.try_get("secret_sealed")?;
        let fields = crate::rowmac::totp(user_id, row.try_get("org_id")?, &sealed, row.try_get("enabled_at")?, Some(step));
        // The step moves only forward, and only from the row just checked.
        let done = sqlx::query(
            "UPDATE user_totp SET last_step = $1, mac = $2 WHERE user_id = $3 AND enabled_at IS NOT NULL \
             AND (last_step IS NULL OR last_step < $1) AND mac = $4",
        )
        .bind(step)
        .bind(crate::rowmac::mac(&key, "user_totp", &fields))
        .bind(user_id)
        .bind(old)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_recovery_code(&self, actor: &Actor, user_id: i64, code_hash: &str) -> Result<bool> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let sql = format!("{RECOVERY_SEC} WHERE r.user_id = $1 AND r.code_hash = $2 AND r.used_at IS NULL");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).bind(code_hash).fetch_all(&mut *w.tx).await?;
        let mut found = None;
        for r in &rows {
            if row_mac_ok(&key, "recovery_codes", r, "mac")? {
                found = Some(r.try_get::<i64, _>("id")?);
                break;
            }
        }
        let Some(id) = found else { return Ok(false) };
        // Every code's MAC covers the last issue or use: those that matched are written
        // again after this use's entry, so an older copy of any of them stops matching.
        let intact = intact_recovery_codes(&mut w.tx, &key, user_id).await?;
        sqlx::query("UPDATE recovery_codes SET used_at = $1, mac = NULL WHERE id = $2 AND used_at IS NULL")
            .bind(w.now)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        let org = w.org_of_user(user_id).await?;
        let content = serde_json::json!({"user_id": user_id, "recovery_code_used": id}).to_string();
        w.audit(actor, org, "use_recovery_code", RecordType::UserSecurity, user_id, &content).await?;
        write_recovery_macs(&mut w.tx, &key, user_id, &intact).await?;
        w.commit().await?;
        Ok(true)
    }

    async fn set_password(&self, actor: &Actor, user_id: i64, password_hash: &str, keep: Option<&str>) -> Result<()> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let intact = user_mac_ok(&mut w.tx, &key, user_id).await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR token_hash <> $2)")
            .bind(user_id)
            .bind(keep)
            .execute(&mut *w.tx)
            .await?;
        let org = w.org_of_user(user_id).await?;
        let content = serde_json::json!({"user_id": user_id, "password": "changed"}).to_string();
        w.audit(actor, org, "change_password", RecordType::UserSecurity, user_id, &content).await?;
        if intact {
            write_user_mac(&mut w.tx, &key, user_id).await?;
        }
        w.commit().await
    }

    async fn create_password_reset(&self, actor: &Actor, user_id: i64, token_hash: &str, expires_at: Micros) -> Result<()> {
        let mut w = self.begin().await?;
        let mac = crate::rowmac::mac(&self.vault.master(), "password_resets", &crate::rowmac::reset(token_hash, user_id, expires_at, None));
        sqlx::query("INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, mac) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(user_id)
            .bind(w.now)
            .bind(expires_at)
            .bind(mac)
            .execute(&mut *w.tx)
            .await?;
        let org = w.org_of_user(user_id).await?;
        let content = serde_json::json!({"user_id": user_id, "password_reset_until": expires_at}).to_string();
        w.audit(actor, org, "issue_password_reset", RecordType::UserSecurity, user_id, &content).await?;
        w.commit().await
    }

    async fn password_reset_user(&self, token_hash: &str, now: Micros) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT r.token_hash, r.user_id, r.expires_at, r.used_at, r.mac FROM password_resets r JOIN users u ON u.id = r.user_id \
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND NOT u.disabled",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) if row_mac_ok(&self.vault.master(), "password_resets", &r, "mac")? => Ok(Some(r.try_get("user_id")?)),
            _ => Ok(None),
        }
    }

    async fn use_password_reset(&self, token_hash: &str, now: Micros, password_hash: &str) -> Result<Option<i64>> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let row = sqlx::query(
            "SELECT token_hash, user_id, expires_at, used_at, mac FROM password_resets WHERE token_hash = $1 \
             AND used_at IS NULL AND expires_at > $2 AND user_id IN (SELECT id FROM users WHERE NOT disabled)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *w.tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if !row_mac_ok(&key, "password_resets", &row, "mac")? {
            tracing::error!("a password reset link fails its integrity check: refused");
            return Ok(None);
        }
        let user_id: i64 = row.try_get("user_id")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let used_mac = crate::rowmac::mac(&key, "password_resets", &crate::rowmac::reset(token_hash, user_id, expires_at, Some(now)));
        sqlx::query("UPDATE password_resets SET used_at = $1, mac = $2 WHERE token_hash = $3 AND used_at IS NULL")
            .bind(now)
            .bind(used_mac)
            .bind(token_hash)
            .execute(&mut *w.tx)
            .await?;
        let intact = user_mac_ok(&mut w.tx, &key, user_id).await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(password_hash).bind(user_id).execute(&mut *w.tx).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *w.tx).await?;
        let org = w.org_of_user(user_id).await?;
        let content = serde_json::json!({"user_id": user_id, "password": "reset"}).to_string();
        w.audit(&Actor { user_id: Some(user_id), org_id: org }, org, "reset_password", RecordType::UserSecurity, user_id, &content)
            .await?;
        if intact {
            write_user_mac(&mut w.tx, &key, user_id).await?;
        }
        w.commit().await?;
        Ok(Some(user_id))
    }

    async fn second_factor_locked(&self, user_id: i64, failures: i64, until: Micros) -> Result<()> {
        let mut w = self.begin().await?;
        let org = w.org_of_user(user_id).await?;
        let content = serde_json::json!({"user_id": user_id, "wrong_codes": failures, "locked_until": until}).to_string();
        w.audit(&Actor::SYSTEM, org, "lock_2fa", RecordType::UserSecurity, user_id, &content).await?;
        w.commit().await
    }

    async fn recovery_codes_left(&self, user_id: i64) -> Result<i64> {
        let key = self.vault.master();
        let sql = format!("{RECOVERY_SEC} WHERE r.user_id = $1 AND r.used_at IS NULL");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(&self.pool).await?;
        let mut n = 0;
        for r in &rows {
            n += i64::from(row_mac_ok(&key, "recovery_codes", r, "mac")?);
        }
        Ok(n)
    }

    async fn create_login_challenge(&self, token_hash: &str, user_id: i64, next: &str, now: Micros) -> Result<()> {
        let mac = crate::rowmac::mac(&self.vault.master(), "login_challenges", &crate::rowmac::challenge(token_hash, user_id, next, now));
        sqlx::query(
            "INSERT INTO login_challenges (token_hash, user_id, next, created_at, attempts, mac) VALUES ($1, $2, $3, $4, 0, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(next)
        .bind(now)
        .bind(mac)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn login_challenge(&self, token_hash: &str, now: Micros, max_age: Micros) -> Result<Option<LoginChallenge>> {
        sqlx::query("DELETE FROM login_challenges WHERE created_at < $1").bind(now - max_age).execute(&self.pool).await?;
        let row = sqlx::query("SELECT token_hash, user_id, next, created_at, attempts, mac FROM login_challenges WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        let key = self.vault.master();
        let row = match row {
            Some(r) if row_mac_ok(&key, "login_challenges", &r, "mac")? => Some(r),
            _ => None,
        };
        row.map(|r| {
            Ok(LoginChallenge { user_id: r.try_get("user_id")?, next: r.try_get("next")?, attempts: r.try_get("attempts")? })
        })
        .transpose()
    }

    async fn bump_login_challenge(&self, token_hash: &str) -> Result<()> {
        sqlx::query("UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_login_challenge(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn org_requires_2fa(&self, org_id: i64) -> Result<bool> {
        audited_requires_2fa(&mut *self.pool.acquire().await?, org_id).await
    }

    async fn two_factor_missing(&self, user_id: i64, org_id: i64) -> Result<bool> {
        let mut conn = self.pool.acquire().await?;
        if !audited_requires_2fa(&mut conn, org_id).await? {
            return Ok(false);
        }
        let on = sqlx::query("SELECT 1 AS on_ FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(on.is_none())
    }

    async fn set_org_requires_2fa(&self, actor: &Actor, org_id: i64, on: bool) -> Result<()> {
        let mut w = self.begin().await?;
        sqlx::query(
            "INSERT INTO org_settings (org_id, require_2fa, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET require_2fa = $2, updated_at = $3",
        )
        .bind(org_id)
        .bind(on)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await
        .map_err(unique_to_conflict("organization"))?;
        w.audit(actor, Some(org_id), "update", RecordType::OrgSettings, org_id, &org_settings_content(org_id, on)).await?;
        w.commit().await
    }

    async fn create_api_token(&self, actor: &Actor, user_id: i64, name: &str, token_hash: &str) -> Result<ApiToken> {
        let user = self.user(user_id).await?.ok_or(StoreError::NotFound)?;
        let mut w = self.begin().await?;
        let expires_at = w.now + crate::API_TOKEN_LIFETIME;
        let id: i64 = sqlx::query(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(w.now)
        .bind(expires_at)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(unique_to_conflict("token"))?
        .try_get("id")?;
        let token = ApiToken {
            id,
            user_id,
            name: name.to_string(),
            created_at: w.now,
            revoked_at: None,
            expires_at: Some(expires_at),
            last_used_at: None,
        };
        w.audit(actor, Some(user.org_id), "create", RecordType::ApiToken, id, &token_content(id, user_id, name, false)).await?;
        // Its MAC covers its audit entry: written after it.
        write_token_mac(&mut w.tx, &w.key, id).await?;
        w.commit().await?;
        Ok(token)
    }

    async fn user_by_api_token(&self, token_hash: &str) -> Result<Option<User>> {
        let now = now_micros();
        let row = sqlx::query(TOKEN_USER_SEC).bind(token_hash).bind(now).fetch_optional(&self.pool).await?;
        // A token, or a user, written or changed without the master key lets no one in
        // (finding 4): one query, two MACs.
        let row = match row {
            Some(r) => {
                let key = self.vault.master();
                let user_id: i64 = r.try_get("id")?;
                let token = crate::rowmac::api_token(
                    r.try_get("token_id")?,
                    user_id,
                    token_hash,
                    r.try_get("expires_at")?,
                    None,
                    r.try_get("token_seq")?,
                );
                let token_mac: Option<String> = r.try_get("token_mac")?;
                let user_mac: Option<String> = r.try_get("user_mac")?;
                if crate::rowmac::matches(&key, "api_tokens", &token, token_mac.as_deref())
                    && crate::rowmac::matches(&key, "users", &user_mac_fields(&r)?, user_mac.as_deref())
                {
                    Some(r)
                } else {
                    self.unless_rotated().await?;
                    tracing::error!(user_id, "an API token or its user fails the integrity check: refused");
                    None
                }
            }
            None => None,
        };
        if row.is_some() {
            // At most one write a minute per token, not one per request (a write takes
            // SQLite's one write lock): read first. Noting the use is not worth failing
            // the request over.
            let last: Option<i64> = sqlx::query("SELECT last_used_at FROM api_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_one(&self.pool)
                .await?
                .try_get("last_used_at")?;
            if last.is_none_or(|t| t < now - 60_000_000) {
                let noted = sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
                    .bind(now)
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await;
                if let Err(e) = noted {
                    tracing::warn!(error = %e, "could not note an API token's use");
                }
            }
        }
        row.as_ref().map(user_from_row).transpose()
    }

    async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, created_at, revoked_at, expires_at, last_used_at FROM api_tokens \
             WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                    expires_at: r.try_get("expires_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    async fn revoke_api_token(&self, actor: &Actor, user_id: i64, id: i64) -> Result<()> {
        let mut w = self.begin().await?;
        revoke_tokens(&mut w, actor, user_id, Some(id)).await?.then_some(()).ok_or(StoreError::NotFound)?;
        w.commit().await
    }

    async fn create_facility(&self, actor: &Actor, draft: FacilityDraft) -> Result<Facility> {
        let mut w = self.begin().await?;
        let f = insert_facility(&mut w, actor, draft).await?;
        w.commit().await?;
        Ok(f)
    }

    async fn update_facility(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        draft: FacilityDraft,
    ) -> Result<Facility> {
        let mut w = self.begin().await?;
        let row = sqlx::query("SELECT version, created_at, state_code FROM facilities WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let version: i64 = row.try_get("version")?;
        let zone = |code: &str| vigia_domain::geo::state(code).map(|s| s.time_zone);
        let old_state: String = row.try_get("state_code")?;
        let rezoned = zone(&old_state) != zone(&draft.state_code);
        if expected_version.is_some_and(|v| v != version) {
            return Err(StoreError::Conflict("version".into()));
        }
        let f = Facility { id, version: version + 1, draft, created_at: row.try_get("created_at")?, updated_at: w.now };
        let d = &f.draft;
        sqlx::query(
            "UPDATE facilities SET version = $1, name = $2, kind = $3, authority = $4, state_code = $5, \
             municipality = $6, latitude = $7, longitude = $8, capacity = $9, opened_on = $10, closed_on = $11, \
             sources = $12, updated_at = $13 WHERE id = $14",
        )
        .bind(f.version)
        .bind(&d.name)
        .bind(d.kind.as_str())
        .bind(&d.authority)
        .bind(&d.state_code)
        .bind(&d.municipality)
        .bind(d.latitude)
        .bind(d.longitude)
        .bind(d.capacity)
        .bind(&d.opened_on)
        .bind(&d.closed_on)
        .bind(&d.sources)
        .bind(f.updated_at)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        if rezoned {
            // Its attempts' local days may move.
            rebuild_daily(&mut w.tx, Some(id)).await?;
        }
        w.audit(actor, actor.org_id, "update", RecordType::Facility, id, &f.content_json()).await?;
        w.commit().await?;
        Ok(f)
    }

    async fn facility(&self, id: i64) -> Result<Option<Facility>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{FACILITY_SELECT} WHERE id = $1"))).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(facility_from_row).transpose()
    }

    async fn list_facilities(&self) -> Result<Vec<Facility>> {
        let rows = sqlx::query(FACILITY_SELECT)
        .fetch_all(&self.pool)
        .await?;
        let mut list = rows.iter().map(facility_from_row).collect::<Result<Vec<_>>>()?;
        list.sort_by_cached_key(|f| (fold(&f.draft.name), f.id));
        Ok(list)
    }

    async fn import_facilities(&self, actor: &Actor, drafts: Vec<FacilityDraft>) -> Result<Vec<i64>> {
        let mut w = self.begin().await?;
        let mut ids = Vec::with_capacity(drafts.len());
        for d in drafts {
            ids.push(insert_facility(&mut w, actor, d).await?.id);
        }
        w.commit().await?;
        Ok(ids)
    }

    async fn add_facility_note(&self, actor: &Actor, org_id: i64, facility_id: i64, body: &str) -> Result<FacilityNote> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        let exists = sqlx::query("SELECT id FROM facilities WHERE id = $1")
            .bind(facility_id)
            .fetch_optional(&mut *w.tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let id = w.next_id("facility_notes").await?;
        let sealed = sealer.seal(NOTE_FIELD, id, body.as_bytes())?;
        sqlx::query(
            "INSERT INTO facility_notes (id, org_id, facility_id, author_user_id, body_sealed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(org_id)
        .bind(facility_id)
        .bind(actor.user_id)
        .bind(&sealed)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
        let content = note_content(id, org_id, facility_id, actor.user_id, &sealed);
        w.audit(actor, Some(org_id), "create", RecordType::FacilityNote, id, &content).await?;
        let created_at = w.now;
        w.commit().await?;
        Ok(FacilityNote { id, org_id, facility_id, author_user_id: actor.user_id, body: body.to_string(), created_at })
    }

    async fn facility_notes(&self, org_id: i64, facility_id: i64) -> Result<Vec<FacilityNote>> {
        let rows = sqlx::query(
            "SELECT id, org_id, facility_id, author_user_id, body_sealed, created_at FROM facility_notes \
             WHERE org_id = $1 AND facility_id = $2 ORDER BY id",
        )
        .bind(org_id)
        .bind(facility_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let sealed: Vec<u8> = r.try_get("body_sealed")?;
                let id: i64 = r.try_get("id")?;
                let body = self.vault.open(org_id, NOTE_FIELD, id, &sealed)?;
                Ok(FacilityNote {
                    id,
                    org_id: r.try_get("org_id")?,
                    facility_id: r.try_get("facility_id")?,
                    author_user_id: r.try_get("author_user_id")?,
                    body: String::from_utf8_lossy(&body).into_owned(),
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn create_coalition(&self, actor: &Actor, slug: &str, name: &str) -> Result<Coalition> {
        let mut w = self.begin().await?;
        let id: i64 = sqlx::query("INSERT INTO coalitions (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(slug)
            .bind(name)
            .bind(w.now)
            .fetch_one(&mut *w.tx)
            .await
            .map_err(unique_to_conflict("slug"))?
            .try_get("id")?;
        let c = Coalition { id, slug: slug.to_string(), name: name.to_string(), members: Vec::new() };
        w.audit(actor, actor.org_id, "create", RecordType::Coalition, id, &c.content_json()).await?;
        w.commit().await?;
        Ok(c)
    }

    async fn add_coalition_member(&self, actor: &Actor, coalition_id: i64, org_id: i64) -> Result<Coalition> {
        let mut w = self.begin().await?;
        sqlx::query("INSERT INTO coalition_members (coalition_id, org_id) VALUES ($1, $2)")
            .bind(coalition_id)
            .bind(org_id)
            .execute(&mut *w.tx)
            .await
            .map_err(unique_to_conflict("member"))?;
        let c = load_coalition(&mut w.tx, coalition_id).await?;
        // Who sees which counts changed.
        sqlx::query("UPDATE access_state SET version = version + 1 WHERE id = 1").execute(&mut *w.tx).await?;
        w.audit(actor, actor.org_id, "add_member", RecordType::Coalition, c.id, &c.content_json()).await?;
        w.commit().await?;
        Ok(c)
    }

    async fn list_coalitions(&self) -> Result<Vec<Coalition>> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<i64> = sqlx::query("SELECT id FROM coalitions ORDER BY id")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(load_coalition(&mut conn, id).await?);
        }
        Ok(out)
    }

    async fn create_attempt(&self, actor: &Actor, org_id: i64, draft: AttemptDraft) -> Result<Attempt> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        let id = insert_attempts_bulk(&mut w, actor, sealer, vec![draft.clone()]).await?.last;
        let a = Attempt { id, org_id, version: 1, draft, created_at: w.now, updated_at: w.now };
        if a.draft.outcome.is_refusal() {
            alert_refusal(&mut w, &a).await?;
        }
        w.commit().await?;
        Ok(a)
    }

    async fn update_attempt(
        &self,
        actor: &Actor,
        org_id: i64,
        id: i64,
        expected_version: Option<i64>,
        draft: AttemptDraft,
    ) -> Result<Attempt> {
        let mut w = self.begin().await?;
        let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE a.id = $1 AND a.org_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let before = attempt_from_row(&row)?;
        let version = before.version;
        if expected_version.is_some_and(|v| v != version) {
            return Err(StoreError::Conflict("version".into()));
        }
        let zones = facility_zones(&mut w.tx).await?;
        let mut delta = DailyDelta::new();
        count_daily(&mut delta, &zones, org_id, &before.draft, -1)?;
        count_daily(&mut delta, &zones, org_id, &draft, 1)?;
        let a = Attempt { id, org_id, version: version + 1, draft, created_at: row.try_get("created_at")?, updated_at: w.now };
        let mut stored = a.clone();
        seal_attempt_text(&self.vault.sealer(org_id, self.current_key_version(org_id).await?)?, id, &mut stored.draft)?;
        let update = sqlx::query(
            "UPDATE access_attempts SET version = $1, facility_id = $2, requested_at = $3, attempted_at = $4, \
             purpose = $5, team_size = $6, people_to_see = $7, outcome = $8, reason_category = $9, reason_text = $10, \
             official = $11, restrictions = $12, notes = $13, visibility = $14, updated_at = $15 WHERE id = $16",
        );
        bind_draft(update.bind(a.version), stored.draft.clone())
            .bind(a.updated_at)
            .bind(id)
            .execute(&mut *w.tx)
            .await
            .map_err(unique_to_conflict("attempt"))?;
        apply_daily(&mut w.tx, delta).await?;
        let audited_alone = sqlx::query("SELECT 1 AS one FROM audit_log WHERE record_type = $1 AND record_id = $2 LIMIT 1")
            .bind(RecordType::AccessAttempt.as_str())
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?
            .is_some();
        if !audited_alone {
            // Imported: its import's entry stands for it until now. Its own entries begin
            // with the version the import wrote, so the correction below has a before.
            w.audit(actor, Some(org_id), ORIGINAL, RecordType::AccessAttempt, id, &before.content_json()).await?;
        }
        w.audit(actor, Some(org_id), "update", RecordType::AccessAttempt, id, &stored.content_json()).await?;
        w.commit().await?;
        Ok(a)
    }

    async fn attempt(&self, viewer_org: i64, id: i64) -> Result<Option<Attempt>> {
        let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE {VISIBLE_TO} AND a.id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(viewer_org).bind(id).fetch_optional(&self.pool).await?;
        self.opened(|| row.as_ref().map(|r| open_attempt_text(&self.vault, attempt_from_row(r)?)).transpose()).await
    }

    async fn attempts_by_ids(&self, viewer_org: i64, ids: &[i64]) -> Result<Vec<Attempt>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::new();
        for chunk in ids.chunks(1000) {
            // Integers only: the list is written into the statement, not bound.
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE {VISIBLE_TO} AND a.id IN ({list})");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(viewer_org).fetch_all(&self.pool).await?;
            let found: Vec<Attempt> =
                self.opened(|| rows.iter().map(|r| open_attempt_text(&self.vault, attempt_from_row(r)?)).collect()).await?;
            out.extend(found);
        }
        Ok(out)
    }

    async fn list_attempts(&self, viewer_org: i64, f: &AttemptFilter) -> Result<Vec<Attempt>> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE {VISIBLE_TO} {ATTEMPT_FILTER} \
             ORDER BY a.attempted_at DESC, a.id DESC LIMIT $9"
        );
        let limit = if f.limit <= 0 { 500 } else { f.limit.min(100_000) };
        let rows = bind_attempt_filter(sqlx::query(sqlx::AssertSqlSafe(sql)), viewer_org, f)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        self.opened(|| rows.iter().map(|r| open_attempt_text(&self.vault, attempt_from_row(r)?)).collect()).await
    }

    async fn count_attempts(&self, viewer_org: i64, f: &AttemptFilter) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) AS n FROM access_attempts a WHERE {VISIBLE_TO} {ATTEMPT_FILTER}");
        let row = bind_attempt_filter(sqlx::query(sqlx::AssertSqlSafe(sql)), viewer_org, f).fetch_one(&self.pool).await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    async fn import_attempts(&self, actor: &Actor, org_id: i64, drafts: Vec<AttemptDraft>) -> Result<AttemptImport> {
        self.import_attempts_fed(actor, org_id, None, Box::new(feed_of(drafts)))
            .await?
            .ok_or_else(|| StoreError::Corrupt("an in-memory import feed ended early".into()))
    }

    async fn import_attempts_fed(
        &self,
        actor: &Actor,
        org_id: i64,
        file: Option<ImportedFile>,
        source: Box<dyn ImportSource>,
    ) -> Result<Option<AttemptImport>> {
        let mut w = self.begin().await?;
        let audited = Audited::Digest(ImportDigest::default());
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let Some(ins) = insert_attempts_fed(&mut w, actor, sealer, audited, source).await? else {
            // Dropping the transaction rolls it back: nothing of the file is kept.
            return Ok(None);
        };
        let imp = record_import(&mut w, actor, org_id, ins, file).await?;
        w.commit().await?;
        Ok(Some(imp))
    }

    async fn access_tallies(&self, viewer_org: i64, f: &TallyFilter) -> Result<Vec<TallyCell>> {
        let sql = format!(
            "SELECT d.facility_id, d.org_id, d.month, CAST(SUM(d.attempts) AS BIGINT) AS attempts, \
             CAST(SUM(d.refusals) AS BIGINT) AS refusals FROM access_daily d WHERE {DAILY_VISIBLE_TO} \
             AND ($2 IS NULL OR d.facility_id = $2) \
             AND ($3 IS NULL OR d.facility_id IN (SELECT id FROM facilities WHERE state_code = $3)) \
             AND ($4 IS NULL OR d.org_id = $4) AND ($5 IS NULL OR d.purpose = $5) \
             AND ($6 IS NULL OR d.day >= $6) AND ($7 IS NULL OR d.day < $7) \
             GROUP BY d.facility_id, d.org_id, d.month"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(viewer_org)
            .bind(f.facility_id)
            .bind(f.state_code.as_deref())
            .bind(f.org_id)
            .bind(f.purpose.map(|p| p.as_str()))
            .bind(f.from_day.map(i64::from))
            .bind(f.until_day.map(i64::from))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let month: i64 = r.try_get("month")?;
                Ok(TallyCell {
                    facility_id: r.try_get("facility_id")?,
                    org_id: r.try_get("org_id")?,
                    month: month as i32,
                    attempts: r.try_get("attempts")?,
                    refusals: r.try_get("refusals")?,
                })
            })
            .collect()
    }

    async fn refused_attempts(&self, viewer_org: i64, from_day: i32, until_day: i32) -> Result<Vec<(i64, i64, i32)>> {
        // Local days are at most a day from UTC ones: read a day more each side, then
        // keep what falls inside in each facility's own zone.
        let micros = |day: i32| i64::from(day) * 86_400_000_000;
        let sql = format!(
            "SELECT a.id, a.facility_id, a.attempted_at FROM access_attempts a WHERE {VISIBLE_TO} \
             AND a.outcome IN ({}) AND a.attempted_at >= $2 AND a.attempted_at < $3 ORDER BY a.attempted_at, a.id",
            refusal_list()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(viewer_org)
            .bind(micros(from_day - 1))
            .bind(micros(until_day + 1))
            .fetch_all(&self.pool)
            .await?;
        let zones = facility_zones(&mut *self.pool.acquire().await?).await?;
        let mut out = Vec::new();
        for r in &rows {
            let (id, facility): (i64, i64) = (r.try_get("id")?, r.try_get("facility_id")?);
            let at: i64 = r.try_get("attempted_at")?;
            let day = zones
                .get(&facility)
                .and_then(|tz| vigia_domain::access::local_date(at, tz))
                .map(vigia_domain::access::day_number);
            if let Some(day) = day.filter(|d| (from_day..until_day).contains(d)) {
                out.push((id, facility, day));
            }
        }
        Ok(out)
    }

    async fn attempt_outcomes(
        &self,
        viewer_org: i64,
        facility: Option<i64>,
        from: Micros,
        until: Micros,
    ) -> Result<Vec<(Micros, Outcome)>> {
        // Two statements, not `($4 IS NULL OR a.facility_id = $4)`: SQLite would use no
        // index for that, and read a million rows for one facility's year.
        let at_facility = if facility.is_some() { "a.facility_id = $4 AND" } else { "" };
        let sql = format!(
            "SELECT a.attempted_at, a.outcome FROM access_attempts a WHERE {at_facility} \
             a.attempted_at >= $2 AND a.attempted_at < $3 AND {VISIBLE_TO}"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(viewer_org).bind(from).bind(until);
        if let Some(f) = facility {
            q = q.bind(f);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let outcome: String = r.try_get("outcome")?;
                let outcome = Outcome::parse(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?;
                Ok((r.try_get("attempted_at")?, outcome))
            })
            .collect()
    }

    async fn latest_attempts(&self, viewer_org: i64, per_facility: i64) -> Result<Vec<Attempt>> {
        let ids: Vec<i64> = sqlx::query("SELECT id FROM facilities ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE a.facility_id = $2 AND {VISIBLE_TO} \
             ORDER BY a.attempted_at DESC, a.id DESC LIMIT $3"
        );
        let mut out = Vec::new();
        let mut conn = self.pool.acquire().await?;
        for id in ids {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(viewer_org)
                .bind(id)
                .bind(per_facility)
                .fetch_all(&mut *conn)
                .await?;
            let opened = |r: &DbRow| open_attempt_text(&self.vault, attempt_from_row(r)?);
            out.extend(self.opened(|| rows.iter().map(opened).collect::<Result<Vec<_>>>()).await?);
        }
        Ok(out)
    }

    async fn access_state(&self) -> Result<(i64, i64)> {
        let row = sqlx::query("SELECT version, generation FROM access_state WHERE id = 1").fetch_one(&self.pool).await?;
        Ok((row.try_get("version")?, row.try_get("generation")?))
    }

    async fn open_recorded_text(&self, org_id: i64, field: &str, record: i64, stored: &str) -> Result<String> {
        self.opened(|| Ok(self.vault.open_recorded_text(org_id, field, record, stored)?)).await
    }

    async fn data_version(&self) -> Result<(i64, i64, i64)> {
        let row = sqlx::query(
            "SELECT h.seq, s.version, s.generation FROM chain_head h, access_state s WHERE h.id = 1 AND s.id = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("seq")?, row.try_get("version")?, row.try_get("generation")?))
    }

    async fn access_daily_since(&self, after_version: i64) -> Result<Vec<DailyCell>> {
        let rows = sqlx::query(
            "SELECT facility_id, day, org_id, purpose, shared, attempts, refusals, version FROM access_daily \
             WHERE version > $1",
        )
        .bind(after_version)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let purpose: String = r.try_get("purpose")?;
                let (day, shared): (i64, i64) = (r.try_get("day")?, r.try_get("shared")?);
                Ok(DailyCell {
                    facility_id: r.try_get("facility_id")?,
                    day: day as i32,
                    org_id: r.try_get("org_id")?,
                    purpose: Purpose::parse(&purpose).ok_or_else(|| corrupt("purpose", &purpose))?,
                    shared: shared != 0,
                    attempts: r.try_get("attempts")?,
                    refusals: r.try_get("refusals")?,
                    version: r.try_get("version")?,
                })
            })
            .collect()
    }

    async fn recount_access(&self) -> Result<()> {
        let mut w = self.begin().await?;
        rebuild_daily(&mut w.tx, None).await?;
        w.commit().await
    }

    async fn create_case(&self, actor: &Actor, org_id: i64, draft: CaseDraft) -> Result<Case> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let person = serde_json::to_vec(&draft.person).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut w = self.begin().await?;
        check_case_links(&mut w, org_id, &draft.fields).await?;
        let id = w.next_id("cases").await?;
        let c = Case { id, org_id, version: 1, fields: draft.fields, created_at: w.now, updated_at: w.now };
        let sealed = sealer.seal(PERSON_FIELD, id, &person)?;
        let (stored, key) = self.stored_case(&c, &sealer)?;
        write_case(&mut w, &stored, &sealed, &key, true).await?;
        w.audit(actor, Some(org_id), "create", RecordType::Case, c.id, &case_content(&stored, &sealed)).await?;
        w.commit().await?;
        Ok(c)
    }

    async fn update_case(
        &self,
        actor: &Actor,
        org_id: i64,
        id: i64,
        expected_version: Option<i64>,
        draft: CaseDraft,
    ) -> Result<Case> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let person = serde_json::to_vec(&draft.person).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = sealer.seal(PERSON_FIELD, id, &person)?;
        let mut w = self.begin().await?;
        let row = sqlx::query("SELECT version, created_at FROM cases WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let current: i64 = row.try_get("version")?;
        if expected_version.is_some_and(|v| v != current) {
            return Err(StoreError::Conflict("version".into()));
        }
        check_case_links(&mut w, org_id, &draft.fields).await?;
        let c = Case {
            id,
            org_id,
            version: current + 1,
            fields: draft.fields,
            created_at: row.try_get("created_at")?,
            updated_at: w.now,
        };
        let (stored, key) = self.stored_case(&c, &sealer)?;
        write_case(&mut w, &stored, &sealed, &key, false).await?;
        w.audit(actor, Some(org_id), "update", RecordType::Case, id, &case_content(&stored, &sealed)).await?;
        w.commit().await?;
        Ok(c)
    }

    async fn case(&self, org_id: i64, id: i64) -> Result<Option<Case>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_optional(&self.pool).await?;
        self.opened(|| row.as_ref().map(|r| self.opened_case(case_from_row(r)?)).transpose()).await
    }

    async fn list_cases(&self, org_id: i64, f: &CaseFilter) -> Result<Vec<Case>> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE org_id = $1 AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR lawyer_user_id = $3) AND ($4 IS NULL OR facility_id = $4) ORDER BY id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .bind(f.status.map(|s| s.as_str()))
            .bind(f.lawyer_user_id)
            .bind(f.facility_id)
            .fetch_all(&self.pool)
            .await?;
        self.opened(|| rows.iter().map(|r| self.opened_case(case_from_row(r)?)).collect()).await
    }

    async fn read_case_sealed(&self, actor: &Actor, org_id: i64, id: i64) -> Result<SealedCase> {
        let mut w = self.begin().await?;
        let row = sqlx::query("SELECT person_sealed FROM cases WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let sealed: Vec<u8> = row.try_get("person_sealed")?;
        let person: Person = serde_json::from_slice(&self.vault.open(org_id, PERSON_FIELD, id, &sealed)?)
            .map_err(|e| StoreError::Corrupt(format!("case {id} person: {e}")))?;
        let mut notes = std::collections::BTreeMap::new();
        let rows = sqlx::query("SELECT id, note_sealed FROM case_events WHERE case_id = $1 AND note_sealed IS NOT NULL")
            .bind(id)
            .fetch_all(&mut *w.tx)
            .await?;
        for r in &rows {
            let sealed: Vec<u8> = r.try_get("note_sealed")?;
            let event: i64 = r.try_get("id")?;
            let text = self.vault.open(org_id, EVENT_NOTE_FIELD, event, &sealed)?;
            notes.insert(event, String::from_utf8_lossy(&text).into_owned());
        }
        let content = serde_json::json!({
            "case_id": id, "org_id": org_id, "reader_user_id": actor.user_id,
            "fields": ["person", "event_notes"], "event_notes": notes.len(),
        })
        .to_string();
        w.audit(actor, Some(org_id), "read_sealed", RecordType::CaseRead, id, &content).await?;
        w.commit().await?;
        Ok(SealedCase { person, notes })
    }

    async fn add_case_event(&self, actor: &Actor, org_id: i64, case_id: i64, draft: EventDraft) -> Result<CaseEvent> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        let owned = sqlx::query("SELECT id FROM cases WHERE id = $1 AND org_id = $2")
            .bind(case_id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?;
        if owned.is_none() {
            return Err(StoreError::NotFound);
        }
        if let Some(fid) = draft.facility_id {
            if sqlx::query("SELECT id FROM facilities WHERE id = $1").bind(fid).fetch_optional(&mut *w.tx).await?.is_none() {
                return Err(StoreError::Invalid(ValidationErrors::single("facility_id", "unknown_facility")));
            }
        }
        let d = &draft;
        let id = w.next_id("case_events").await?;
        let sealed = d.note.as_ref().map(|n| sealer.seal(EVENT_NOTE_FIELD, id, n.as_bytes())).transpose()?;
        sqlx::query(
            "INSERT INTO case_events (case_id, org_id, kind, occurred_on, occurred_time, facility_id, ground, decision, \
             note_sealed, author_user_id, created_at, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(case_id)
        .bind(org_id)
        .bind(d.kind.as_str())
        .bind(d.on.to_string())
        .bind(d.time.map(|t| t.to_string()))
        .bind(d.facility_id)
        .bind(d.ground.map(|g| g.as_str()))
        .bind(d.decision.map(|x| x.as_str()))
        .bind(sealed.as_deref())
        .bind(actor.user_id)
        .bind(w.now)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        let e = CaseEvent {
            id,
            case_id,
            has_note: sealed.is_some(),
            draft: EventDraft { note: None, ..draft.clone() },
            voided_at: None,
            void_reason: None,
            author_user_id: actor.user_id,
            created_at: w.now,
        };
        w.audit(actor, Some(org_id), "create", RecordType::CaseEvent, id, &event_content(&e, org_id, sealed.as_deref()))
            .await?;
        w.commit().await?;
        Ok(CaseEvent { draft, ..e })
    }

    async fn void_case_event(
        &self,
        actor: &Actor,
        org_id: i64,
        case_id: i64,
        event_id: i64,
        reason: &str,
    ) -> Result<CaseEvent> {
        let mut w = self.begin().await?;
        let owned = sqlx::query("SELECT id FROM cases WHERE id = $1 AND org_id = $2")
            .bind(case_id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?;
        if owned.is_none() {
            return Err(StoreError::NotFound);
        }
        let sql = format!("SELECT {EVENT_COLUMNS} FROM case_events WHERE id = $1 AND case_id = $2 AND org_id = $3");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(event_id)
            .bind(case_id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::Invalid(ValidationErrors::single("event_id", "unknown_event")))?;
        let mut e = event_from_row(&row)?;
        if e.is_voided() {
            return Err(StoreError::Conflict("already voided".into()));
        }
        let sealed: Option<Vec<u8>> = row.try_get("note_sealed")?;
        // The reason can name a person (finding 11): sealed, here and in the history.
        let stored = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?.seal_text(VOID_REASON, event_id, reason)?;
        e.voided_at = Some(w.now);
        e.void_reason = Some(stored.clone());
        sqlx::query("UPDATE case_events SET voided_at = $1, void_reason = $2 WHERE id = $3")
            .bind(w.now)
            .bind(&stored)
            .bind(event_id)
            .execute(&mut *w.tx)
            .await?;
        w.audit(actor, Some(org_id), "void", RecordType::CaseEvent, event_id, &event_content(&e, org_id, sealed.as_deref()))
            .await?;
        w.commit().await?;
        e.void_reason = Some(reason.to_string());
        Ok(e)
    }

    async fn case_events(&self, org_id: i64, case_id: i64) -> Result<Vec<CaseEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM case_events WHERE case_id = $1 AND org_id = $2 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id).bind(org_id).fetch_all(&self.pool).await?;
        let opened = |r: &DbRow| {
            let mut e = event_from_row(r)?;
            if let Some(reason) = e.void_reason.as_mut() {
                *reason = self.vault.open_text(org_id, VOID_REASON, e.id, reason)?;
            }
            Ok(e)
        };
        self.opened(|| rows.iter().map(opened).collect()).await
    }

    async fn cases_with_facts(&self, org_ids: Option<&[i64]>, open_only: bool) -> Result<Vec<CaseFacts>> {
        let orgs = org_ids.map(|o| o.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        let org_filter = |column: &str| match &orgs {
            Some(list) => format!("{column} IN ({list})"),
            None => "1 = 1".to_string(),
        };
        if orgs.as_ref().is_some_and(|l| l.is_empty()) {
            return Ok(Vec::new());
        }
        let status = if open_only { "AND status = 'open'" } else { "" };
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE {} {status} ORDER BY id", org_filter("org_id"));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        let mut out: Vec<CaseFacts> =
            self.opened(|| rows.iter().map(|r| Ok(CaseFacts { case: self.opened_case(case_from_row(r)?)?, facts: Vec::new() })).collect::<Result<_>>()).await?;
        let index: HashMap<i64, usize> = out.iter().enumerate().map(|(i, c)| (c.case.id, i)).collect();
        let sql = format!(
            "SELECT e.id, e.case_id, e.kind, e.occurred_on, e.occurred_time, e.ground, e.decision FROM case_events e \
             JOIN cases c ON c.id = e.case_id WHERE e.voided_at IS NULL AND {} {} ORDER BY e.case_id, e.id",
            org_filter("c.org_id"),
            if open_only { "AND c.status = 'open'" } else { "" }
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        for r in &rows {
            let case_id: i64 = r.try_get("case_id")?;
            let Some(&i) = index.get(&case_id) else { continue };
            let kind: String = r.try_get("kind")?;
            let on: String = r.try_get("occurred_on")?;
            let time: Option<String> = r.try_get("occurred_time")?;
            let ground: Option<String> = r.try_get("ground")?;
            let decision: Option<String> = r.try_get("decision")?;
            out[i].facts.push(Fact {
                id: r.try_get("id")?,
                kind: EventKind::parse(&kind).ok_or_else(|| corrupt("event kind", &kind))?,
                on: on.parse().map_err(|_| corrupt("event date", &on))?,
                time: time.map(|t| t.parse().map_err(|_| corrupt("event time", &t))).transpose()?,
                ground: ground.and_then(|g| ExtensionGround::parse(&g)),
                decision: decision.and_then(|d| DecisionOutcome::parse(&d)),
            });
        }
        Ok(out)
    }

    fn case_pseudonym(&self, org_id: i64, case_id: i64) -> Result<String> {
        Ok(format!("P-{}", self.vault.pseudonym(org_id, "case", case_id)?))
    }

    async fn add_case_document(
        &self,
        actor: &Actor,
        org_id: i64,
        case_id: i64,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<Attachment> {
        let sha = sha256_hex(bytes);
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        let owned = sqlx::query("SELECT id FROM cases WHERE id = $1 AND org_id = $2")
            .bind(case_id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?;
        if owned.is_none() {
            return Err(StoreError::NotFound);
        }
        let id = w.next_id("case_documents").await?;
        let sealed = sealer.seal(DOCUMENT_FIELD, id, bytes)?;
        // A document's file name can name its person (finding 11): sealed too.
        let stored_name = sealer.seal_text(DOCUMENT_NAME, id, filename)?;
        let stored_sha = sealer.seal_text(DOCUMENT_SHA, id, &sha)?;
        sqlx::query(
            "INSERT INTO case_documents (id, org_id, case_id, sha256, sealed_sha256, filename, content_type, size, data_sealed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(org_id)
        .bind(case_id)
        .bind(&stored_sha)
        .bind(sha256_hex(&sealed))
        .bind(&stored_name)
        .bind(content_type)
        .bind(bytes.len() as i64)
        .bind(&sealed)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
        let mut a = Attachment {
            id,
            org_id,
            record_type: RecordType::Case.as_str().to_string(),
            record_id: case_id,
            sha256: stored_sha,
            filename: stored_name,
            content_type: content_type.to_string(),
            size: bytes.len() as i64,
            created_at: w.now,
        };
        w.audit(actor, Some(org_id), "attach", RecordType::CaseDocument, id, &document_content(&a, &sha256_hex(&sealed))).await?;
        w.commit().await?;
        a.filename = filename.to_string();
        a.sha256 = sha;
        Ok(a)
    }

    async fn case_documents(&self, org_id: i64, case_id: i64) -> Result<Vec<Attachment>> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM case_documents WHERE org_id = $1 AND case_id = $2 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(case_id).fetch_all(&self.pool).await?;
        self.opened(|| rows.iter().map(|r| self.opened_document(document_from_row(r)?)).collect()).await
    }

    async fn read_case_document(&self, actor: &Actor, org_id: i64, id: i64) -> Result<(Attachment, Vec<u8>)> {
        let mut w = self.begin().await?;
        let sql = format!("SELECT {DOCUMENT_COLUMNS}, data_sealed FROM case_documents WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let a = self.opened(|| self.opened_document(document_from_row(&row)?)).await?;
        let sealed: Vec<u8> = row.try_get("data_sealed")?;
        let bytes = self.vault.open(org_id, DOCUMENT_FIELD, id, &sealed)?.to_vec();
        if sha256_hex(&bytes) != a.sha256 {
            return Err(StoreError::Corrupt(format!("case document {id} does not match its hash")));
        }
        let content = serde_json::json!({
            "case_id": a.record_id, "org_id": org_id, "reader_user_id": actor.user_id, "fields": ["document"], "document_id": id,
        })
        .to_string();
        w.audit(actor, Some(org_id), "read_sealed", RecordType::CaseRead, a.record_id, &content).await?;
        w.commit().await?;
        Ok((a, bytes))
    }

    async fn create_statement(&self, actor: &Actor, org_id: i64, draft: StatementDraft) -> Result<Statement> {
        let mut w = self.begin().await?;
        let s = insert_statement(&mut w, actor, org_id, draft).await?;
        w.commit().await?;
        Ok(s)
    }

    async fn update_statement(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        draft: StatementDraft,
    ) -> Result<Statement> {
        let mut w = self.begin().await?;
        let sql = format!("SELECT {STATEMENT_COLUMNS} FROM statements WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *w.tx).await?.ok_or(StoreError::NotFound)?;
        let old = statement_from_row(&row)?;
        if expected_version.is_some_and(|v| v != old.version) {
            return Err(StoreError::Conflict("version".into()));
        }
        let d = &draft;
        sqlx::query(
            "UPDATE statements SET version = $1, authority = $2, speaker = $3, speaker_position = $4, published_at = $5, \
             channel = $6, source_url = $7, language = $8, text = $9, translation = $10, updated_at = $11 WHERE id = $12",
        )
        .bind(old.version + 1)
        .bind(&d.authority)
        .bind(&d.speaker)
        .bind(&d.speaker_position)
        .bind(d.published_at)
        .bind(d.channel.as_str())
        .bind(&d.source_url)
        .bind(&d.language)
        .bind(&d.text)
        .bind(&d.translation)
        .bind(w.now)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        let s = Statement { version: old.version + 1, draft, updated_at: w.now, ..old };
        w.audit(actor, actor.org_id, "update", RecordType::Statement, id, &statement_content(&s)).await?;
        w.commit().await?;
        Ok(crate::Store::statement(self, id).await?.unwrap_or(s))
    }

    async fn import_statements(
        &self,
        actor: &Actor,
        org_id: i64,
        items: Vec<(StatementDraft, Vec<ClaimDraft>)>,
    ) -> Result<Vec<i64>> {
        let mut w = self.begin().await?;
        let mut ids = Vec::with_capacity(items.len());
        for (draft, claims) in items {
            let s = insert_statement(&mut w, actor, org_id, draft).await?;
            for c in claims {
                insert_claim(&mut w, actor, org_id, s.id, c).await?;
            }
            ids.push(s.id);
        }
        w.commit().await?;
        Ok(ids)
    }

    async fn statements(&self) -> Result<Vec<Statement>> {
        let sql = format!("SELECT {STATEMENT_COLUMNS} FROM statements ORDER BY published_at, id");
        let mut list: Vec<Statement> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(statement_from_row)
            .collect::<Result<_>>()?;
        let index: HashMap<i64, usize> = list.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        let sql = format!("SELECT {CLAIM_COLUMNS} FROM claims ORDER BY id");
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let c = claim_from_row(r)?;
            if let Some(&i) = index.get(&c.statement_id) {
                list[i].claims.push(c);
            }
        }
        Ok(list)
    }

    async fn statement(&self, id: i64) -> Result<Option<Statement>> {
        let sql = format!("SELECT {STATEMENT_COLUMNS} FROM statements WHERE id = $1");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let mut s = statement_from_row(&row)?;
        let sql = format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE statement_id = $1 ORDER BY id");
        s.claims = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(claim_from_row)
            .collect::<Result<_>>()?;
        Ok(Some(s))
    }

    async fn add_claim(&self, actor: &Actor, statement_id: i64, draft: ClaimDraft) -> Result<Claim> {
        let mut w = self.begin().await?;
        let org: i64 = sqlx::query("SELECT org_id FROM statements WHERE id = $1")
            .bind(statement_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get("org_id")?;
        let c = insert_claim(&mut w, actor, org, statement_id, draft).await?;
        w.commit().await?;
        Ok(c)
    }

    async fn set_claim_confirmed(&self, actor: &Actor, claim_id: i64, confirmed: bool) -> Result<Claim> {
        let mut w = self.begin().await?;
        sqlx::query("UPDATE claims SET confirmed = $1 WHERE id = $2").bind(confirmed).bind(claim_id).execute(&mut *w.tx).await?;
        let sql = format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(claim_id).fetch_optional(&mut *w.tx).await?.ok_or(StoreError::NotFound)?;
        let c = claim_from_row(&row)?;
        w.audit(actor, actor.org_id, if confirmed { "confirm" } else { "unconfirm" }, RecordType::Claim, c.id, &claim_content(&c))
            .await?;
        w.commit().await?;
        Ok(c)
    }

    async fn review_detection(
        &self,
        actor: &Actor,
        org_id: i64,
        key: &str,
        status: ReviewStatus,
        reason: &str,
    ) -> Result<Review> {
        let stored = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?.seal_text(REVIEW_REASON, review_seal_id(key, org_id), reason)?;
        let mut w = self.begin().await?;
        // One review per organization and detection: writing again replaces the
        // organization's own review (the audit history keeps the earlier one), never
        // another organization's.
        let by_org: bool = sqlx::query_scalar(
            "INSERT INTO detection_reviews (key, org_id, status, reason, reviewed_by, reviewed_at, by_org) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE) \
             ON CONFLICT (key, org_id) DO UPDATE SET status = $3, reason = $4, reviewed_by = $5, reviewed_at = $6 \
             RETURNING by_org",
        )
        .bind(key)
        .bind(org_id)
        .bind(status.as_str())
        .bind(&stored)
        .bind(actor.user_id)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?;
        let mut r = Review {
            key: key.to_string(),
            org_id,
            status,
            reason: stored,
            reviewed_by: actor.user_id,
            reviewed_at: w.now,
        };
        let record = review_record_id(key, org_id, by_org);
        w.audit(actor, Some(org_id), status.as_str(), RecordType::DetectionReview, record, &review_content(&r)).await?;
        w.commit().await?;
        r.reason = reason.to_string();
        Ok(r)
    }

    async fn detection_reviews(&self) -> Result<Vec<Review>> {
        let rows = sqlx::query(
            "SELECT key, org_id, status, reason, reviewed_by, reviewed_at FROM detection_reviews ORDER BY key, org_id",
        )
            .fetch_all(&self.pool)
            .await?;
        let opened = |row: &DbRow| {
            let mut r = review_from_row(row)?;
            r.reason = self.vault.open_text(r.org_id, REVIEW_REASON, review_seal_id(&r.key, r.org_id), &r.reason)?;
            Ok(r)
        };
        self.opened(|| rows.iter().map(opened).collect()).await
    }

    async fn record_visit(&self, actor: &Actor, org_id: i64, key: &str, draft: VisitDraft) -> Result<(Visit, bool)> {
        let notes = draft.interview_notes.clone();
        let mut plain = draft.clone();
        plain.interview_notes = None;
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        let sql = format!("SELECT {VISIT_COLUMNS} FROM visits WHERE org_id = $1 AND idempotency_key = $2");
        if let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(key).fetch_optional(&mut *w.tx).await? {
            let existing = open_visit_text(&self.vault, visit_from_row(&row)?)?;
            // A key is its author's: anyone else gets the same answer whatever they sent,
            // so a resubmission cannot be used to guess another person's sealed notes
            // (a match had answered 200, a miss 409).
            if existing.author_user_id != actor.user_id {
                return Err(StoreError::Conflict("this key was used by another person".into()));
            }
            let stored_notes: Option<Vec<u8>> = row.try_get("notes_sealed")?;
            let same_notes = match (&stored_notes, &notes) {
                (None, None) => true,
                (Some(s), Some(n)) => {
                    self.vault.open(org_id, VISIT_NOTES_FIELD, existing.id, s).is_ok_and(|p| p.as_slice() == n.as_bytes())
                }
                _ => false,
            };
            return if existing.draft == plain && same_notes {
                Ok((existing, false))
            } else {
                Err(StoreError::Conflict("a different report was already sent under this key".into()))
            };
        }
        if sqlx::query("SELECT id FROM facilities WHERE id = $1").bind(draft.facility_id).fetch_optional(&mut *w.tx).await?.is_none() {
            return Err(StoreError::Invalid(ValidationErrors::single("facility_id", "unknown_facility")));
        }
        // A correction is its author's: it names a visit this person sent. A colleague's or
        // another organization's is as unknown as none (a coordinator cannot hang a
        // "correction" on a monitor's report).
        if let Some(first) = draft.corrects {
            if sqlx::query("SELECT id FROM visits WHERE id = $1 AND org_id = $2 AND author_user_id = $3")
                .bind(first)
                .bind(org_id)
                .bind(actor.user_id)
                .fetch_optional(&mut *w.tx)
                .await?
                .is_none()
            {
                return Err(StoreError::Invalid(ValidationErrors::single("corrects", "unknown_visit")));
            }
        }
        let id = w.next_id("visits").await?;
        // Findings and observations are free text that can name a person (finding 11).
        let mut stored = plain.clone();
        seal_visit_text(&sealer, id, &mut stored)?;
        let report = serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = notes.as_ref().map(|n| sealer.seal(VISIT_NOTES_FIELD, id, n.as_bytes())).transpose()?;
        sqlx::query(
            "INSERT INTO visits (id, org_id, facility_id, visited_on, report, notes_sealed, idempotency_key, author_user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(org_id)
        .bind(draft.facility_id)
        .bind(draft.on.to_string())
        .bind(&report)
        .bind(sealed.as_deref())
        .bind(key)
        .bind(actor.user_id)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
        let mut v = Visit {
            id,
            org_id,
            idempotency_key: key.to_string(),
            draft: stored,
            has_notes: sealed.is_some(),
            author_user_id: actor.user_id,
            created_at: w.now,
        };
        w.audit(actor, Some(org_id), "create", RecordType::Visit, id, &visit_content(&v, sealed.as_deref())).await?;
        w.commit().await?;
        v.draft = plain;
        Ok((v, true))
    }

    async fn visit_sent_under(&self, org_id: i64, user_id: i64, key: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT id FROM visits WHERE org_id = $1 AND author_user_id = $2 AND idempotency_key = $3")
            .bind(org_id)
            .bind(user_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("id")?),
            None => None,
        })
    }

    async fn visit(&self, org_id: i64, id: i64) -> Result<Option<Visit>> {
        let sql = format!("SELECT {VISIT_COLUMNS} FROM visits WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_optional(&self.pool).await?;
        self.opened(|| row.as_ref().map(|r| open_visit_text(&self.vault, visit_from_row(r)?)).transpose()).await
    }

    async fn visits(&self, org_id: i64, facility_id: Option<i64>) -> Result<Vec<Visit>> {
        let sql = format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE org_id = $1 AND ($2 IS NULL OR facility_id = $2) ORDER BY visited_on DESC, id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(facility_id).fetch_all(&self.pool).await?;
        self.opened(|| rows.iter().map(|r| open_visit_text(&self.vault, visit_from_row(r)?)).collect()).await
    }

    async fn read_visit_notes(&self, actor: &Actor, org_id: i64, id: i64) -> Result<Option<String>> {
        let mut w = self.begin().await?;
        let row = sqlx::query("SELECT notes_sealed FROM visits WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let sealed: Option<Vec<u8>> = row.try_get("notes_sealed")?;
        let Some(sealed) = sealed else { return Ok(None) };
        let text = String::from_utf8_lossy(&self.vault.open(org_id, VISIT_NOTES_FIELD, id, &sealed)?).into_owned();
        let content = serde_json::json!({"visit_id": id, "org_id": org_id, "reader_user_id": actor.user_id, "fields": ["interview_notes"]}).to_string();
        w.audit(actor, Some(org_id), "read_sealed", RecordType::VisitRead, id, &content).await?;
        w.commit().await?;
        Ok(Some(text))
    }

    async fn add_attachment(
        &self,
        actor: &Actor,
        org_id: i64,
        record_type: RecordType,
        record_id: i64,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<Attachment> {
        // Sealed with the organization's data key (finding 10); the hash, shown to
        // users and kept in the history for the chain of custody, is the plaintext's.
        let sha = sha256_hex(bytes);
        let sealed = self.vault.seal_file(org_id, self.current_key_version(org_id).await?, &sha, bytes)?;
        let sealed = match &self.blob_dir {
            Some(dir) => {
                store_blob_file(dir, blob_name(&sha, Some(org_id))?, sealed).await?;
                None
            }
            None => Some(sealed),
        };
        let mut w = self.begin().await?;
        sqlx::query(
            "INSERT INTO blobs (sha256, size, content_type, data, created_at, key_org) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha)
        .bind(bytes.len() as i64)
        .bind(content_type)
        .bind(sealed.clone())
        .bind(w.now)
        .bind(org_id)
        .execute(&mut *w.tx)
        .await?;
        // The same bytes kept before files were sealed take this sealed copy instead.
        let repaired = sqlx::query("UPDATE blobs SET key_org = $1, data = $2 WHERE sha256 = $3 AND key_org IS NULL")
            .bind(org_id)
            .bind(sealed)
            .bind(&sha)
            .execute(&mut *w.tx)
            .await?
            .rows_affected()
            > 0;
        let key_org: Option<i64> =
            sqlx::query("SELECT key_org FROM blobs WHERE sha256 = $1").bind(&sha).fetch_one(&mut *w.tx).await?.try_get("key_org")?;
        let id: i64 = sqlx::query(
            "INSERT INTO attachments (org_id, record_type, record_id, sha256, filename, content_type, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(org_id)
        .bind(record_type.as_str())
        .bind(record_id)
        .bind(&sha)
        .bind(filename)
        .bind(content_type)
        .bind(bytes.len() as i64)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        let a = Attachment {
            id,
            org_id,
            record_type: record_type.as_str().to_string(),
            record_id,
            sha256: sha,
            filename: filename.to_string(),
            content_type: content_type.to_string(),
            size: bytes.len() as i64,
            created_at: w.now,
        };
        w.audit(actor, Some(org_id), "attach", RecordType::Attachment, id, &a.content_json()).await?;
        w.commit().await?;
        if let Some(dir) = &self.blob_dir {
            // Stored once, under the key of whoever stored it first: a copy sealed here
            // for another organization's bytes is not needed; a plain one replaced is gone.
            if key_org != Some(org_id) {
                if let Ok(name) = blob_name(&a.sha256, Some(org_id)) {
                    let _ = tokio::fs::remove_file(blob_path(dir, &name)).await;
                }
            }
            if repaired {
                let _ = tokio::fs::remove_file(blob_path(dir, &a.sha256)).await;
            }
        }
        Ok(a)
    }

    async fn attachments(&self, record_type: RecordType, record_id: i64) -> Result<Vec<Attachment>> {
        let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE record_type = $1 AND record_id = $2 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(record_type.as_str()).bind(record_id).fetch_all(&self.pool).await?;
        rows.iter().map(attachment_from_row).collect()
    }

    async fn attachment(&self, id: i64) -> Result<Option<Attachment>> {
        let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(attachment_from_row).transpose()
    }

    async fn blob(&self, sha256: &str) -> Result<Vec<u8>> {
        let row = sqlx::query("SELECT data, key_org FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let key_org: Option<i64> = row.try_get("key_org")?;
        let stored = match &self.blob_dir {
            Some(dir) => {
                let path = blob_path(dir, &blob_name(sha256, key_org)?);
                tokio::fs::read(&path).await.map_err(|_| StoreError::NotFound)?
            }
            None => {
                let data: Option<Vec<u8>> = row.try_get("data")?;
                data.ok_or(StoreError::NotFound)?
            }
        };
        // Every chunk is verified as it opens; then the whole against its hash.
        let bytes = match key_org {
            Some(org) => self
                .vault
                .open_file(org, sha256, &stored)
                .map_err(|_| StoreError::Corrupt(format!("evidence file {sha256} does not open: altered or replaced")))?
                .to_vec(),
            None => stored,
        };
        if sha256_hex(&bytes) != sha256 {
            return Err(StoreError::Corrupt(format!("evidence file {sha256} does not match its hash")));
        }
        Ok(bytes)
    }

    async fn create_webhook(&self, actor: &Actor, org_id: i64, url: &str, secret: &str) -> Result<Webhook> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        let id = w.next_id("webhooks").await?;
        let sealed = sealer.seal(WEBHOOK_FIELD, id, secret.as_bytes())?;
        sqlx::query("INSERT INTO webhooks (id, org_id, url, secret_sealed, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id)
            .bind(org_id)
            .bind(url)
            .bind(&sealed)
            .bind(true)
            .bind(w.now)
            .execute(&mut *w.tx)
            .await?;
        let hook = Webhook { id, org_id, url: url.to_string(), active: true, deleted: false, created_at: w.now };
        w.audit(actor, Some(org_id), "create", RecordType::Webhook, id, &hook.content_json()).await?;
        w.commit().await?;
        Ok(hook)
    }

    async fn webhooks(&self, org_id: i64) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(
            "SELECT id, org_id, url, active, deleted_at, created_at FROM webhooks \
             WHERE org_id = $1 AND deleted_at IS NULL ORDER BY id",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    async fn set_webhook_state(&self, actor: &Actor, org_id: i64, id: i64, state: WebhookState) -> Result<Webhook> {
        let mut w = self.begin().await?;
        let active = state == WebhookState::Active;
        let deleted_at = (state == WebhookState::Deleted).then_some(w.now);
        let row = sqlx::query(
            "UPDATE webhooks SET active = $1, deleted_at = $2 WHERE id = $3 AND org_id = $4 AND deleted_at IS NULL \
             RETURNING id, org_id, url, active, deleted_at, created_at",
        )
        .bind(active)
        .bind(deleted_at)
        .bind(id)
        .bind(org_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let hook = webhook_from_row(&row)?;
        if !active {
            sqlx::query(
                "UPDATE deliveries SET status = 'failed', last_error = $1 WHERE webhook_id = $2 AND status = 'pending'",
            )
            .bind(if deleted_at.is_some() { "webhook deleted" } else { "webhook disabled" })
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        }
        let action = match state {
            WebhookState::Active => "enable",
            WebhookState::Disabled => "disable",
            WebhookState::Deleted => "delete",
        };
        w.audit(actor, Some(org_id), action, RecordType::Webhook, id, &hook.content_json()).await?;
        w.commit().await?;
        Ok(hook)
    }

    async fn alerts(&self, org_id: i64, limit: i64) -> Result<Vec<Alert>> {
        let rows = sqlx::query(
            "SELECT id, org_id, kind, attempt_id, payload, created_at, read_at FROM alerts WHERE org_id = $1 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(org_id)
        .bind(limit.clamp(1, crate::MAX_ALERTS))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    async fn mark_alert_read(&self, org_id: i64, id: i64, at: Micros) -> Result<()> {
        let done = sqlx::query("UPDATE alerts SET read_at = $1 WHERE id = $2 AND org_id = $3 AND read_at IS NULL")
            .bind(at)
            .bind(id)
            .bind(org_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT id FROM alerts WHERE id = $1 AND org_id = $2")
                .bind(id)
                .bind(org_id)
                .fetch_optional(&self.pool)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        Ok(())
    }

    async fn raise_alert(
        &self,
        org_id: i64,
        kind: &str,
        dedup_key: &str,
        attempt_id: Option<i64>,
        payload: &str,
    ) -> Result<Option<Alert>> {
        let mut w = self.begin().await?;
        let a = raise_in_tx(&mut w, org_id, kind, dedup_key, attempt_id, payload).await?;
        w.commit().await?;
        Ok(a)
    }

    async fn count_unread_alerts(&self, org_id: i64, with_cases: bool) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM alerts x WHERE x.org_id = $1 AND x.read_at IS NULL \
             AND ($2 OR x.kind NOT IN ('deadline', 'violation')) \
             AND (x.attempt_id IS NULL OR EXISTS (SELECT 1 FROM access_attempts a WHERE a.id = x.attempt_id AND {VISIBLE_TO}))"
        );
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(with_cases).fetch_one(&self.pool).await?.try_get("n")?;
        Ok(n)
    }

    async fn newest_alert(&self, org_id: Option<i64>) -> Result<i64> {
        let row = match org_id {
            Some(org) => {
                sqlx::query("SELECT MAX(id) AS m FROM alerts WHERE org_id = $1").bind(org).fetch_one(&self.pool).await?
            }
            None => sqlx::query("SELECT MAX(id) AS m FROM alerts").fetch_one(&self.pool).await?,
        };
        let n: Option<i64> = row.try_get("m")?;
        Ok(n.unwrap_or(0))
    }

    async fn alerts_after(&self, org_id: i64, kind: &str, after_id: i64, limit: i64) -> Result<Vec<Alert>> {
        let rows = sqlx::query(
            "SELECT id, org_id, kind, attempt_id, payload, created_at, read_at FROM alerts WHERE org_id = $1 AND id > $2 \
             AND kind = $4 ORDER BY id LIMIT $3",
        )
        .bind(org_id)
        .bind(after_id)
        .bind(limit.clamp(1, crate::MAX_ALERTS))
        .bind(kind)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    async fn email_prefs(&self, user_id: i64) -> Result<Vec<EmailPref>> {
        let rows = sqlx::query("SELECT user_id, kind, mode, last_alert_id FROM email_prefs WHERE user_id = $1 ORDER BY kind")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(email_pref_from_row).collect()
    }

    async fn all_email_prefs(&self) -> Result<Vec<EmailPref>> {
        let rows = sqlx::query(
            "SELECT p.user_id, p.kind, p.mode, p.last_alert_id FROM email_prefs p ORDER BY p.user_id, p.kind",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(email_pref_from_row).collect()
    }

    async fn set_email_prefs(&self, actor: &Actor, user_id: i64, prefs: &[(String, EmailMode)]) -> Result<Vec<EmailPref>> {
        for (kind, _) in prefs {
            if !crate::ALERT_KINDS.contains(&kind.as_str()) {
                return Err(StoreError::Invalid(ValidationErrors::single("kind", "unknown_choice")));
            }
        }
        let mut w = self.begin().await?;
        let org_id: i64 = sqlx::query("SELECT org_id FROM memberships WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get("org_id")?;
        let newest: Option<i64> = sqlx::query("SELECT MAX(id) AS m FROM alerts WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("m")?;
        let before: HashMap<String, (String, i64)> =
            sqlx::query("SELECT kind, mode, last_alert_id FROM email_prefs WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&mut *w.tx)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("kind")?, (r.try_get("mode")?, r.try_get("last_alert_id")?))))
                .collect::<Result<_>>()?;
        sqlx::query("DELETE FROM email_prefs WHERE user_id = $1").bind(user_id).execute(&mut *w.tx).await?;
        let now = now_micros();
        let mut kept = Vec::new();
        for (kind, mode) in prefs {
            // A kind already received keeps its watermark: changing how often is not
            // a reason to skip or repeat alerts.
            let mark = before.get(kind).map(|b| b.1).unwrap_or(newest.unwrap_or(0));
            sqlx::query(
                "INSERT INTO email_prefs (user_id, kind, mode, last_alert_id, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_id, kind) DO UPDATE SET mode = $3, updated_at = $5",
            )
            .bind(user_id)
            .bind(kind)
            .bind(mode.as_str())
            .bind(mark)
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
            kept.push(EmailPref { user_id, kind: kind.clone(), mode: *mode, last_alert_id: mark });
        }
        kept.sort_by(|a, b| a.kind.cmp(&b.kind));
        let content = serde_json::json!({
            "user_id": user_id,
            "email": kept.iter().map(|p| (p.kind.clone(), p.mode.as_str())).collect::<std::collections::BTreeMap<_, _>>(),
        })
        .to_string();
        w.audit(actor, Some(org_id), "set_email_prefs", RecordType::EmailPrefs, user_id, &content).await?;
        w.commit().await?;
        Ok(kept)
    }

    async fn queue_email(
        &self,
        user_id: i64,
        message: Option<(&str, &str, &str)>,
        seen: &[(String, i64)],
        now: Micros,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let mut new = false;
        if let Some((key, subject, body)) = message {
            let inserted = sqlx::query(
                "INSERT INTO outbox (user_id, dedup_key, subject, body, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) ON CONFLICT (dedup_key) DO NOTHING",
            )
            .bind(user_id)
            .bind(key)
            .bind(subject)
            .bind(body)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            new = inserted.rows_affected() > 0;
            if !new {
                // Already queued (by this worker before a restart, or another one):
                // the watermarks moved with it then.
                tx.rollback().await?;
                return Ok(false);
            }
        }
        for (kind, last) in seen {
            sqlx::query("UPDATE email_prefs SET last_alert_id = $1 WHERE user_id = $2 AND kind = $3 AND last_alert_id < $1")
                .bind(*last)
                .bind(user_id)
                .bind(kind)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    async fn claim_emails(&self, now: Micros, lease: Micros, limit: i64) -> Result<Vec<DueEmail>> {
        let rows = sqlx::query(
            "UPDATE outbox SET locked_until = $2 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' \
             AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until < $1) ORDER BY id LIMIT $3) \
             AND status = 'pending' AND (locked_until IS NULL OR locked_until < $1) \
             RETURNING id, user_id, dedup_key, subject, body, attempts",
        )
        .bind(now)
        .bind(now + lease)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let user_id: i64 = r.try_get("user_id")?;
            let to = match crate::Store::user(self, user_id).await? {
                Some(u) if !u.disabled => u.email,
                _ => {
                    sqlx::query("UPDATE outbox SET status = 'failed', last_error = $1, locked_until = NULL WHERE id = $2")
                        .bind("the account is disabled")
                        .bind(id)
                        .execute(&self.pool)
                        .await?;
                    continue;
                }
            };
            out.push(DueEmail {
                id,
                user_id,
                to,
                dedup_key: r.try_get("dedup_key")?,
                subject: r.try_get("subject")?,
                body: r.try_get("body")?,
                attempts: r.try_get("attempts")?,
            });
        }
        Ok(out)
    }

    async fn finish_email(&self, id: i64, outcome: EmailOutcome, now: Micros) -> Result<()> {
        let q = match &outcome {
            EmailOutcome::Sent => sqlx::query(
                "UPDATE outbox SET status = 'sent', attempts = attempts + 1, last_error = NULL, sent_at = $1, \
                 locked_until = NULL WHERE id = $2",
            )
            .bind(now)
            .bind(id),
            EmailOutcome::Retry { error, next_at } => sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, locked_until = NULL \
                 WHERE id = $3",
            )
            .bind(error.clone())
            .bind(*next_at)
            .bind(id),
            EmailOutcome::Failed { error } => sqlx::query(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $1, locked_until = NULL \
                 WHERE id = $2",
            )
            .bind(error.clone())
            .bind(id),
        };
        q.execute(&self.pool).await?;
        Ok(())
    }

    async fn outbox(&self, user_id: i64, limit: i64) -> Result<Vec<OutboxEntry>> {
        let rows = sqlx::query(
            "SELECT id, subject, status, attempts, created_at, sent_at, last_error FROM outbox WHERE user_id = $1 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxEntry {
                    id: r.try_get("id")?,
                    subject: r.try_get("subject")?,
                    status: r.try_get("status")?,
                    attempts: r.try_get("attempts")?,
                    created_at: r.try_get("created_at")?,
                    sent_at: r.try_get("sent_at")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }

    async fn deliveries(&self, org_id: i64, limit: i64) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT d.id, d.webhook_id, d.alert_id, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error, \
             d.created_at, d.delivered_at FROM deliveries d JOIN webhooks h ON h.id = d.webhook_id \
             WHERE h.org_id = $1 ORDER BY d.id DESC LIMIT $2",
        )
        .bind(org_id)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn claim_deliveries(&self, now: Micros, lease: Micros, limit: i64) -> Result<Vec<DueDelivery>> {
        // The outer conditions repeat the inner ones so that, when two servers race for
        // a row, the second one's re-check fails and it skips the row.
        let rows = sqlx::query(
            "UPDATE deliveries SET locked_until = $2 WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' \
             AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until < $1) ORDER BY id LIMIT $3) \
             AND status = 'pending' AND (locked_until IS NULL OR locked_until < $1) RETURNING id, webhook_id, alert_id, attempts",
        )
        .bind(now)
        .bind(now + lease)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let webhook_id: i64 = r.try_get("webhook_id")?;
            let alert_id: i64 = r.try_get("alert_id")?;
            let hook = sqlx::query("SELECT org_id, url, secret_sealed FROM webhooks WHERE id = $1")
                .bind(webhook_id)
                .fetch_one(&self.pool)
                .await?;
            let org_id: i64 = hook.try_get("org_id")?;
            // An alert about an attempt that is no longer visible to the webhook's
            // organization (made private since) is not sent.
            let attempt_id: Option<i64> =
                sqlx::query("SELECT attempt_id FROM alerts WHERE id = $1").bind(alert_id).fetch_one(&self.pool).await?.try_get("attempt_id")?;
            if let Some(attempt) = attempt_id {
                if crate::Store::attempt(self, org_id, attempt).await?.is_none() {
                    let id: i64 = r.try_get("id")?;
                    sqlx::query("UPDATE deliveries SET status = 'failed', last_error = $1, locked_until = NULL WHERE id = $2")
                        .bind("the record is no longer shared")
                        .bind(id)
                        .execute(&self.pool)
                        .await?;
                    continue;
                }
            }
            let sealed: Vec<u8> = hook.try_get("secret_sealed")?;
            let secret = String::from_utf8_lossy(&self.vault.open(org_id, WEBHOOK_FIELD, webhook_id, &sealed)?).into_owned();
            let payload: String = sqlx::query("SELECT payload FROM alerts WHERE id = $1")
                .bind(alert_id)
                .fetch_one(&self.pool)
                .await?
                .try_get("payload")?;
            out.push(DueDelivery { id: r.try_get("id")?, attempts: r.try_get("attempts")?, url: hook.try_get("url")?, secret, payload });
        }
        Ok(out)
    }

    async fn finish_delivery(&self, id: i64, outcome: DeliveryOutcome, now: Micros) -> Result<()> {
        let q = match &outcome {
            DeliveryOutcome::Delivered { status } => sqlx::query(
                "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, last_status = $1, last_error = NULL, \
                 delivered_at = $2, locked_until = NULL WHERE id = $3",
            )
            .bind(Some(*status))
            .bind(now)
            .bind(id),
            DeliveryOutcome::Retry { status, error, next_at } => sqlx::query(
                "UPDATE deliveries SET attempts = attempts + 1, last_status = $1, last_error = $2, next_attempt_at = $3, \
                 locked_until = NULL WHERE id = $4",
            )
            .bind(*status)
            .bind(error.clone())
            .bind(*next_at)
            .bind(id),
            DeliveryOutcome::Failed { status, error } => sqlx::query(
                "UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_status = $1, last_error = $2, \
                 locked_until = NULL WHERE id = $3",
            )
            .bind(*status)
            .bind(error.clone())
            .bind(id),
        };
        q.execute(&self.pool).await?;
        Ok(())
    }

    async fn add_calendar_rule(&self, actor: &Actor, rule: CalendarRule) -> Result<CalendarRule> {
        let mut w = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO calendar_rules (calendar, start_date, end_date, label_es, label_en, source, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&rule.calendar)
        .bind(&rule.start_date)
        .bind(&rule.end_date)
        .bind(&rule.label_es)
        .bind(&rule.label_en)
        .bind(&rule.source)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        let r = CalendarRule { id, ..rule };
        w.audit(actor, actor.org_id, "create", RecordType::CalendarRule, id, &r.content_json()).await?;
        w.commit().await?;
        Ok(r)
    }

    async fn calendar_rules(&self) -> Result<Vec<CalendarRule>> {
        let rows = sqlx::query(
            "SELECT id, calendar, start_date, end_date, label_es, label_en, source FROM calendar_rules ORDER BY start_date, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CalendarRule {
                    id: r.try_get("id")?,
                    calendar: r.try_get("calendar")?,
                    start_date: r.try_get("start_date")?,
                    end_date: r.try_get("end_date")?,
                    label_es: r.try_get("label_es")?,
                    label_en: r.try_get("label_en")?,
                    source: r.try_get("source")?,
                })
            })
            .collect()
    }

    async fn history(&self, record_type: RecordType, record_id: i64, org_id: Option<i64>) -> Result<Vec<HistoryEntry>> {
        let mut entries = self.own_history(record_type, record_id, org_id).await?;
        if record_type == RecordType::AccessAttempt && !entries.iter().any(|e| e.action == "create") {
            self.imported_version(record_id, &mut entries).await?;
        }
        Ok(entries)
    }

    async fn count_audit_entries(&self, org_id: Option<i64>, before_seq: Option<i64>) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM audit_log WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR seq < $2)",
        )
        .bind(org_id)
        .bind(before_seq)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    async fn audit_entries(&self, org_id: Option<i64>, before_seq: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_user_id, org_id, action, record_type, record_id, content_hash, prev_hash, entry_hash \
             FROM audit_log WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR seq < $2) \
             ORDER BY seq DESC LIMIT $3",
        )
        .bind(org_id)
        .bind(before_seq)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn verify_audit(&self) -> Result<VerifyReport> {
        // Each check reads the database on its own: a write that commits while they run
        // (a live server, or the last commit of one just killed) would look like a
        // record added or deleted behind the app's back. Every recorded write moves the
        // chain's head, so a run during which the head stayed put saw one state; a run
        // with problems during which it moved is run again.
        for _ in 0..4 {
            let before = self.head_seq().await?;
            let report = self.verify_once().await?;
            if report.ok() || self.head_seq().await? == before {
                return Ok(report);
            }
        }
        self.verify_once().await
    }

    async fn audit_head(&self) -> Result<crate::PublishedHead> {
        let head = sqlx::query("SELECT seq, hash, touched_at FROM chain_head WHERE id = 1").fetch_one(&self.pool).await?;
        let at = vigia_domain::format_instant(head.try_get("touched_at")?);
        Ok(crate::PublishedHead::new(&self.vault.master(), head.try_get("seq")?, head.try_get("hash")?, at))
    }

    async fn entry_hash_at(&self, seq: i64) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT entry_hash FROM audit_log WHERE seq = $1")
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("entry_hash"))
            .transpose()?)
    }

    async fn seal_as_before_for_tests(&self) -> Result<usize> {
        if !cfg!(debug_assertions) {
            return Err(StoreError::Unsupported("only debug builds seal as before"));
        }
        self.reseal(Direction::AsBefore).await
    }

    async fn reseals_after(&self, seq: i64) -> Result<Option<i64>> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(CASE WHEN action IN ($2, $3) AND actor_user_id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
             AS reseals FROM audit_log WHERE seq > $1",
        )
        .bind(seq)
        .bind(RESEAL)
        .bind(ORIGINAL)
        .fetch_one(&self.pool)
        .await?;
        let (n, reseals): (i64, i64) = (r.try_get("n")?, r.try_get("reseals")?);
        Ok((n == reseals).then_some(n))
    }

    async fn rotate_master_key(&self, actor: &Actor, new: &MasterKey) -> Result<usize> {
        let old = self.vault.master();
        let mut w = self.begin().await?;
        let rows = sqlx::query("SELECT org_id, version, wrapped FROM org_keys ORDER BY org_id, version")
            .fetch_all(&mut *w.tx)
            .await?;
        let mut rewrapped = Vec::with_capacity(rows.len());
        for r in &rows {
            let org: i64 = r.try_get("org_id")?;
            let ver: i64 = r.try_get("version")?;
            let wrapped: Vec<u8> = r.try_get("wrapped")?;
            rewrapped.push((org, ver, vault::rewrap(&old, new, org, ver, &wrapped)?));
        }
        for (org, ver, wrapped) in &rewrapped {
            sqlx::query("UPDATE org_keys SET wrapped = $1 WHERE org_id = $2 AND version = $3")
                .bind(wrapped)
                .bind(org)
                .bind(ver)
                .execute(&mut *w.tx)
                .await?;
            w.audit(actor, Some(*org), "rewrap", RecordType::OrgKey, *org, &org_key_content(*org, *ver)).await?;
        }
        // A new data key per organization, wrapped only under the new master key, for
        // everything sealed from now on (finding 3): someone who kept the old master key
        // and an old copy of the wrapped keys opens nothing written after this.
        let mut newest: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
        for (org, ver, _) in &rewrapped {
            let v = newest.entry(*org).or_insert(*ver);
            *v = (*v).max(*ver);
        }
        let mut added = Vec::with_capacity(newest.len());
        for (org, ver) in newest {
            let next = ver + 1;
            let wrapped = vault::new_wrapped_key(new, org, next)?;
            sqlx::query("INSERT INTO org_keys (org_id, version, wrapped, created_at) VALUES ($1, $2, $3, $4)")
                .bind(org)
                .bind(next)
                .bind(&wrapped)
                .bind(w.now)
                .execute(&mut *w.tx)
                .await?;
            w.audit(actor, Some(org), "create", RecordType::OrgKey, org, &org_key_content(org, next)).await?;
            added.push((org, next, wrapped));
        }
        sqlx::query("UPDATE chain_head SET key_check = $1 WHERE id = 1").bind(new.key_check()).execute(&mut *w.tx).await?;
        let failing = remac(&mut w.tx, new, Some(&old)).await?;
        // The head is signed with the new key as this commits.
        w.key = new.clone();
        if failing > 0 {
            tracing::warn!(rows = failing, "security rows that failed their integrity check stay refused under the new key");
        }
        w.commit().await?;
        self.vault.set_master(new.clone());
        for (org, ver, wrapped) in rewrapped.iter().chain(&added) {
            self.vault.load_key(*org, *ver, wrapped)?;
        }
        Ok(rewrapped.len())
    }

    async fn export_page(&self, table: &str, offset: i64, limit: i64) -> Result<Vec<ExportRow>> {
        let table = export_table(table)?;
        let sql = format!("SELECT * FROM {table} ORDER BY 1, 2 LIMIT $1 OFFSET $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).bind(offset).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut m = row_to_json(r)?;
            // Evidence bytes kept as files travel inside the export.
            if table == "blobs" && m.get("data").is_some_and(serde_json::Value::is_null) {
                if let (Some(dir), Some(sha)) = (&self.blob_dir, m.get("sha256").and_then(|s| s.as_str())) {
                    let key_org = m.get("key_org").and_then(serde_json::Value::as_i64);
                    let bytes = tokio::fs::read(blob_path(dir, &blob_name(sha, key_org)?))
                        .await
                        .map_err(|e| StoreError::Corrupt(format!("evidence file {sha}: {e}")))?;
                    m.insert("data".into(), serde_json::json!({ "base64": b64(&bytes) }));
                }
            }
            out.push(m);
        }
        Ok(out)
    }

    async fn import_rows(&self, table: &str, rows: &[ExportRow]) -> Result<()> {
        let table = export_table(table)?;
        let types = column_types(&self.pool, table).await?;
        let mut tx = self.pool.begin().await?;
        if table == "chain_head" {
            sqlx::query("DELETE FROM chain_head").execute(&mut *tx).await?;
        }
        for row in rows {
            let mut row = row.clone();
            if table == "blobs" {
                if let Some(dir) = &self.blob_dir {
                    // Back into files: the SQLite layout keeps bytes out of the database.
                    let data = row.insert("data".into(), serde_json::Value::Null);
                    let (Some(bytes), Some(sha)) = (data.as_ref().and_then(json_bytes), row.get("sha256").and_then(|s| s.as_str())) else {
                        return Err(StoreError::Corrupt("an exported evidence file has no bytes".into()));
                    };
                    let key_org = match row.get("key_org") {
                        None | Some(serde_json::Value::Null) => None,
                        Some(v) => Some(v.as_i64().ok_or_else(|| {
                            StoreError::Corrupt(format!("an exported evidence file names organization {v}, not a number"))
                        })?),
                    };
                    let name = blob_name(sha, key_org)?;
                    // A file kept in the clear is checked before it is written; a sealed
                    // one opens only with its organization's key, checked when the
                    // imported data is verified.
                    if key_org.is_none() && sha256_hex(&bytes) != sha {
                        return Err(StoreError::Corrupt(format!("exported evidence file {sha} does not match its hash")));
                    }
                    store_blob_file(dir, name, bytes).await?;
                }
            }
            let columns: Vec<&String> = row.keys().collect();
            for c in &columns {
                if !types.contains_key(c.as_str()) {
                    return Err(StoreError::Corrupt(format!("{table} has no column {c}")));
                }
            }
            let names = columns.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ");
            let marks = (1..=columns.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!("INSERT INTO {table} ({names}) VALUES ({marks})");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for c in &columns {
                let v = &row[c.as_str()];
                q = match (types[c.as_str()], v) {
                    // A NULL is bound with its column's type: PostgreSQL refuses an
                    // integer NULL for a text or bytes column.
                    (ColumnKind::Text, serde_json::Value::Null) => q.bind(None::<String>),
                    (ColumnKind::Bytes, serde_json::Value::Null) => q.bind(None::<Vec<u8>>),
                    (ColumnKind::Real, serde_json::Value::Null) => q.bind(None::<f64>),
                    (ColumnKind::Bool, serde_json::Value::Null) => q.bind(None::<bool>),
                    (_, serde_json::Value::Null) => q.bind(None::<i64>),
                    (ColumnKind::Bool, v) => q.bind(v.as_bool().or_else(|| v.as_i64().map(|n| n != 0))),
                    (ColumnKind::Integer, serde_json::Value::Bool(b)) => q.bind(i64::from(*b)),
                    (ColumnKind::Integer, v) => q.bind(v.as_i64()),
                    (ColumnKind::Real, v) => q.bind(v.as_f64()),
                    (ColumnKind::Bytes, v) => q.bind(json_bytes(v)),
                    (ColumnKind::Text, serde_json::Value::String(s)) => q.bind(s.clone()),
                    (ColumnKind::Text, v) => q.bind(v.to_string()),
                };
            }
            q.execute(&mut *tx).await.map_err(|e| StoreError::Corrupt(format!("importing {table}: {e}")))?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn finish_import(&self) -> Result<()> {
        // Derived counts are not in archives: made again from the attempts.
        rebuild_daily(&mut *self.pool.acquire().await?, None).await?;
        if BACKEND == Backend::Postgres {
            for table in crate::EXPORT_TABLES {
                let has_id = column_types(&self.pool, table).await?.contains_key("id");
                if has_id && table != "chain_head" {
                    let sql = format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    );
                    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&self.pool).await?;
                }
            }
        }
        Ok(())
    }

    async fn backup_to(&self, path: &Path) -> Result<()> {
        backup(&self.pool, self.blob_dir.as_deref(), path).await
    }
}

async fn insert_statement(w: &mut WriteTx, actor: &Actor, org_id: i64, draft: StatementDraft) -> Result<Statement> {
    let d = &draft;
    let id: i64 = sqlx::query(
        "INSERT INTO statements (org_id, version, authority, speaker, speaker_position, published_at, channel, source_url, \
         language, text, translation, created_at, updated_at) VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(org_id)
    .bind(&d.authority)
    .bind(&d.speaker)
    .bind(&d.speaker_position)
    .bind(d.published_at)
    .bind(d.channel.as_str())
    .bind(&d.source_url)
    .bind(&d.language)
    .bind(&d.text)
    .bind(&d.translation)
    .bind(w.now)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get("id")?;
    let s = Statement { id, org_id, version: 1, draft, claims: Vec::new(), created_at: w.now, updated_at: w.now };
    w.audit(actor, Some(org_id), "create", RecordType::Statement, id, &statement_content(&s)).await?;
    Ok(s)
}

/// Adds a claim inside a write; its facility ids must exist.
async fn insert_claim(w: &mut WriteTx, actor: &Actor, org_id: i64, statement_id: i64, draft: ClaimDraft) -> Result<Claim> {
    if let vigia_domain::statement::Scope::Facilities { ids } = &draft.scope {
        for id in ids {
            if sqlx::query("SELECT id FROM facilities WHERE id = $1").bind(id).fetch_optional(&mut *w.tx).await?.is_none() {
                return Err(StoreError::Invalid(ValidationErrors::single("facility_ids", "unknown_facility")));
            }
        }
    }
    let scope = serde_json::to_string(&draft.scope).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let id: i64 = sqlx::query(
        "INSERT INTO claims (statement_id, topic, scope, position, from_date, until_date, confirmed, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(statement_id)
    .bind(&draft.topic)
    .bind(&scope)
    .bind(draft.position.as_str())
    .bind(draft.from.to_string())
    .bind(draft.until.map(|d| d.to_string()))
    .bind(false)
    .bind(w.now)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get("id")?;
    let c = Claim { id, statement_id, draft, confirmed: false };
    w.audit(actor, Some(org_id), "create", RecordType::Claim, id, &claim_content(&c)).await?;
    Ok(c)
}

async fn insert_facility(w: &mut WriteTx, actor: &Actor, draft: FacilityDraft) -> Result<Facility> {
    let d = &draft;
    let id: i64 = sqlx::query(
        "INSERT INTO facilities (version, name, kind, authority, state_code, municipality, latitude, longitude, \
         capacity, opened_on, closed_on, sources, created_at, updated_at) \
         VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(&d.name)
    .bind(d.kind.as_str())
    .bind(&d.authority)
    .bind(&d.state_code)
    .bind(&d.municipality)
    .bind(d.latitude)
    .bind(d.longitude)
    .bind(d.capacity)
    .bind(&d.opened_on)
    .bind(&d.closed_on)
    .bind(&d.sources)
    .bind(w.now)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get("id")?;
    let f = Facility { id, version: 1, draft, created_at: w.now, updated_at: w.now };
    w.audit(actor, actor.org_id, "create", RecordType::Facility, id, &f.content_json()).await?;
    Ok(f)
}
