// Retention and crypto-shredding (issue #20 part 3). Each case's personal data is
// sealed with the case's own data key (`vault::CaseKey`), kept in `case_keys` only
// wrapped by the organization's data key; the history records the wrapped key's hash,
// never the key. Erasure empties that row, empties the rows' sealed values, and records
// it all in one write: every copy left of those values (history, write-ahead log, a
// later backup) then opens with no key Vigía holds. Cases written before case keys
// existed get one at their next sealed write; until then their values stay under the
// organization's key, and what the history kept of them stays readable with it
// (docs/security.md says so).
// Mounted beside the other SQL modules by each backend (see `mod.rs`).

use super::*;
use crate::vault::CaseKey;
use crate::{Erasure, ErasureCheck, RetentionFacts, RuleRecord};
use vigia_domain::retention::{ErasureReason, RetentionRule};

const LITIGATION_KINDS: &str = "('appeal_filed', 'amparo_filed')";

/// A case key row as the history records it: the wrapped key's hash, never the key.
pub(super) fn key_content(r: &DbRow) -> Result<String> {
    let sealed: Option<Vec<u8>> = r.try_get("key_sealed")?;
    Ok(serde_json::json!({
        "case_id": r.try_get::<i64, _>("case_id")?, "org_id": r.try_get::<i64, _>("org_id")?,
        "key_sha256": sealed.as_deref().map(sha256_hex), "created_at": r.try_get::<i64, _>("created_at")?,
        "erased_at": r.try_get::<Option<i64>, _>("erased_at")?, "erased_by": r.try_get::<Option<i64>, _>("erased_by")?,
        "reason": r.try_get::<Option<String>, _>("reason")?,
        "litigation_ended": r.try_get::<Option<bool>, _>("litigation_ended")?,
        "partial": r.try_get::<Option<bool>, _>("partial")?,
    })
    .to_string())
}

pub(super) const KEY_COLUMNS: &str =
    "case_id, org_id, key_sealed, created_at, erased_at, erased_by, reason, litigation_ended, partial";

pub(super) fn rule_content(r: &RuleRecord) -> String {
    serde_json::json!({
        "org_id": r.org_id, "months_after_close": r.rule.months_after_close,
        "hold_while_litigating": r.rule.hold_while_litigating, "updated_by": r.updated_by, "updated_at": r.updated_at,
    })
    .to_string()
}

pub(super) fn rule_from_row(r: &DbRow) -> Result<RuleRecord> {
    let months: i64 = r.try_get("months_after_close")?;
    Ok(RuleRecord {
        org_id: r.try_get("org_id")?,
        rule: RetentionRule {
            months_after_close: u32::try_from(months)
                .map_err(|_| StoreError::Corrupt(format!("retention months {months}")))?,
            hold_while_litigating: r.try_get("hold_while_litigating")?,
        },
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// What the history last said of a case's key: `None` if it never had one, else
/// whether it was erased. Decided on the history, which cannot be changed without the
/// master key, not on the table an operator can (a key row put back from an old backup
/// stays erased; a live key's row deleted is not silently replaced).
async fn audited_key(conn: &mut <Db as sqlx::Database>::Connection, case_id: i64) -> Result<Option<bool>> {
    let latest = latest_audited(conn, RecordType::CaseKey, case_id).await?;
    Ok(latest.map(|v| !v["erased_at"].is_null()))
}

pub(super) async fn audited_erased(conn: &mut <Db as sqlx::Database>::Connection, case_id: i64) -> Result<bool> {
    Ok(audited_key(conn, case_id).await? == Some(true))
}

/// The case's key for reading: `None` for a case written before case keys (its values
/// are under the organization's key); [`StoreError::Erased`] once erased.
pub(super) async fn case_key_for_read(
    vault: &Vault,
    conn: &mut <Db as sqlx::Database>::Connection,
    org_id: i64,
    case_id: i64,
) -> Result<Option<CaseKey>> {
    let row = sqlx::query("SELECT key_sealed, erased_at FROM case_keys WHERE case_id = $1 AND org_id = $2")
        .bind(case_id)
        .bind(org_id)
        .fetch_optional(&mut *conn)
        .await?;
    let audited = audited_key(conn, case_id).await?;
    if audited == Some(true) {
        return Err(StoreError::Erased);
    }
    let Some(row) = row else {
        // A case the history gave a key must still have it: a missing row was deleted
        // behind the app's back, and a new key would hide that its values are lost.
        return match audited {
            Some(_) => Err(StoreError::Integrity(format!("case {case_id}'s key is missing from the database"))),
            None => Ok(None),
        };
    };
    let sealed: Option<Vec<u8>> = row.try_get("key_sealed")?;
    match sealed {
        Some(s) => Ok(Some(CaseKey::unwrap(vault, org_id, case_id, &s)?)),
        None => Err(StoreError::Erased),
    }
}

/// Inside a write: the case's key, made (and recorded) if the case has none yet;
/// [`StoreError::Erased`] once erased.
pub(super) async fn case_key_for_write(
    w: &mut WriteTx,
    vault: &Vault,
    sealer: &vault::Sealer,
    org_id: i64,
    case_id: i64,
) -> Result<CaseKey> {
    match case_key_for_read(vault, &mut w.tx, org_id, case_id).await? {
        Some(k) => Ok(k),
        None => {
            let (key, wrapped) = CaseKey::generate(sealer, case_id)?;
            insert_case_key(w, org_id, case_id, &wrapped).await?;
            Ok(key)
        }
    }
}

/// Inside a write: stores a case's new key, wrapped, and records its hash.
pub(super) async fn insert_case_key(w: &mut WriteTx, org_id: i64, case_id: i64, wrapped: &[u8]) -> Result<()> {
    sqlx::query("INSERT INTO case_keys (case_id, org_id, key_sealed, created_at) VALUES ($1, $2, $3, $4)")
        .bind(case_id)
        .bind(org_id)
        .bind(wrapped)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
    let sql = format!("SELECT {KEY_COLUMNS} FROM case_keys WHERE case_id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id).fetch_one(&mut *w.tx).await?;
    w.audit(&Actor::SYSTEM, Some(org_id), "create", RecordType::CaseKey, case_id, &key_content(&row)?).await
}

/// Opens a case's sealed bytes: with its key when sealed with it, else (written before
/// case keys) with the organization's.
pub(super) fn open_case_bytes(
    vault: &Vault,
    key: Option<&CaseKey>,
    org_id: i64,
    field: &str,
    record: i64,
    sealed: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    if vault::is_case_sealed(sealed) {
        Ok(key.ok_or(StoreError::Vault(VaultError::Damaged))?.open(field, record, sealed)?)
    } else {
        Ok(vault.open(org_id, field, record, sealed)?)
    }
}

/// As [`open_case_bytes`], for sealed text.
pub(super) fn open_case_text(
    vault: &Vault,
    key: Option<&CaseKey>,
    org_id: i64,
    field: &str,
    record: i64,
    stored: &str,
) -> Result<String> {
    if vault::is_case_sealed_text(stored) {
        Ok(key.ok_or(StoreError::Vault(VaultError::Damaged))?.open_text(field, record, stored)?)
    } else {
        Ok(vault.open_text(org_id, field, record, stored)?)
    }
}

/// Whether the history keeps any of the case's personal values sealed with the
/// organization's key (written before case keys): those the erasure cannot reach.
async fn sealed_before_case_keys(
    conn: &mut <Db as sqlx::Database>::Connection,
    org_id: i64,
    case_id: i64,
) -> Result<bool> {
    let b64 = |s: &str| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s).ok();
    let org_sealed = |v: Option<&serde_json::Value>, text: bool| -> bool {
        let Some(s) = v.and_then(|v| v.as_str()).filter(|s| !s.is_empty()) else { return false };
        let bytes = if text { s.strip_prefix(vault::TEXT_MARK).and_then(b64) } else { b64(s) };
        // Text written before text was sealed is the plainest case of all.
        bytes.is_none_or(|b| !vault::is_case_sealed(&b))
    };
    let rows = sqlx::query(
        "SELECT a.record_type, a.content FROM audit_log a WHERE a.org_id = $1 AND ( \
         (a.record_type = $2 AND a.record_id = $3) \
         OR (a.record_type = $4 AND a.record_id IN (SELECT id FROM case_events WHERE case_id = $3)) \
         OR (a.record_type = $5 AND a.record_id IN (SELECT id FROM case_documents WHERE case_id = $3)))",
    )
    .bind(org_id)
    .bind(RecordType::Case.as_str())
    .bind(case_id)
    .bind(RecordType::CaseEvent.as_str())
    .bind(RecordType::CaseDocument.as_str())
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let t: String = r.try_get("record_type")?;
        let content: String = r.try_get("content")?;
        let v: serde_json::Value = serde_json::from_str(&content).unwrap_or_default();
        let before = match t.as_str() {
            "case" => org_sealed(v.get("person_sealed"), false),
            "case_event" => org_sealed(v.get("note_sealed"), false) || org_sealed(v.get("void_reason"), true),
            _ => org_sealed(v.get("filename"), true),
        };
        if before {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The retention facts of an organization's cases (or one), read on `conn`.
async fn facts_on(
    conn: &mut <Db as sqlx::Database>::Connection,
    org_id: i64,
    case_id: Option<i64>,
) -> Result<Vec<RetentionFacts>> {
    let rows = sqlx::query("SELECT id, status FROM cases WHERE org_id = $1 AND ($2 IS NULL OR id = $2) ORDER BY id")
        .bind(org_id)
        .bind(case_id)
        .fetch_all(&mut *conn)
        .await?;
    // When each case was last closed, from its history: the entry that turned it closed.
    let history = sqlx::query(
        "SELECT record_id, at, content FROM audit_log WHERE record_type = $1 AND org_id = $2 \
         AND ($3 IS NULL OR record_id = $3) ORDER BY seq",
    )
    .bind(RecordType::Case.as_str())
    .bind(org_id)
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut closed: HashMap<i64, Option<i64>> = HashMap::new();
    for h in &history {
        let id: i64 = h.try_get("record_id")?;
        let content: String = h.try_get("content")?;
        let status = serde_json::from_str::<serde_json::Value>(&content)
            .ok()
            .and_then(|v| v.get("status").and_then(|s| s.as_str().map(str::to_string)));
        let entry = closed.entry(id).or_insert(None);
        match status.as_deref() {
            Some("closed") if entry.is_none() => *entry = Some(h.try_get("at")?),
            Some("closed") => {}
            _ => *entry = None,
        }
    }
    let sql = format!(
        "SELECT DISTINCT case_id FROM case_events WHERE org_id = $1 AND ($2 IS NULL OR case_id = $2) \
         AND voided_at IS NULL AND kind IN {LITIGATION_KINDS}"
    );
    let litigating: HashSet<i64> = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(case_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("case_id"))
        .collect::<std::result::Result<_, _>>()?;
    let mut erasures: HashMap<i64, Erasure> =
        erasures_on(conn, org_id, case_id).await?.into_iter().map(|e| (e.case_id, e)).collect();
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let status: String = r.try_get("status")?;
            Ok(RetentionFacts {
                case_id: id,
                closed_at: if status == "closed" { closed.get(&id).copied().flatten() } else { None },
                litigating: litigating.contains(&id),
                erasure: erasures.remove(&id),
            })
        })
        .collect()
}

/// Erasures as the history records them (the last `case_key` entry of each case says
/// erased): what the table says is not trusted, as an operator can change it.
async fn erasures_on(
    conn: &mut <Db as sqlx::Database>::Connection,
    org_id: i64,
    case_id: Option<i64>,
) -> Result<Vec<Erasure>> {
    let rows = sqlx::query(
        "SELECT record_id, content FROM audit_log WHERE record_type = $1 AND org_id = $2 \
         AND ($3 IS NULL OR record_id = $3) ORDER BY seq",
    )
    .bind(RecordType::CaseKey.as_str())
    .bind(org_id)
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut last: std::collections::BTreeMap<i64, serde_json::Value> = std::collections::BTreeMap::new();
    for r in &rows {
        let content: String = r.try_get("content")?;
        let v = serde_json::from_str(&content).map_err(|e| StoreError::Corrupt(format!("case key entry: {e}")))?;
        last.insert(r.try_get("record_id")?, v);
    }
    // The names of those who erased, only: ids from the history, numbers only.
    let ids: Vec<String> = last.values().filter_map(|v| v["erased_by"].as_i64()).map(|i| i.to_string()).collect();
    let names: HashMap<i64, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        let sql = format!("SELECT id, display_name FROM users WHERE id IN ({})", ids.join(","));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("display_name")?)))
            .collect::<Result<_>>()?
    };
    last.into_iter()
        .filter_map(|(case_id, v)| {
            let at = v["erased_at"].as_i64()?;
            let by = v["erased_by"].as_i64();
            let reason = v["reason"].as_str().unwrap_or_default().to_string();
            Some(ErasureReason::parse(&reason).map(|reason| Erasure {
                case_id,
                at,
                by_user_id: by,
                by_name: by.and_then(|u| names.get(&u).cloned()),
                reason,
                partial: v["partial"].as_bool().unwrap_or(false),
            }))
        })
        .map(|e| e.ok_or_else(|| StoreError::Corrupt("erasure reason".into())))
        .collect()
}

#[async_trait::async_trait]
impl crate::Retention for SqlStore {
    async fn open_case_history_text(
        &self,
        org_id: i64,
        case_id: i64,
        field: &str,
        record: i64,
        stored: &str,
    ) -> Result<Option<String>> {
        // Nothing of an erased case is opened, whatever key it was sealed with.
        let key = match self.case_key(org_id, case_id).await {
            Err(StoreError::Erased) => return Ok(None),
            other => other?,
        };
        if vault::is_case_sealed_text(stored) {
            let key = key.ok_or(StoreError::Vault(VaultError::Damaged))?;
            return Ok(Some(key.open_text(field, record, stored)?));
        }
        Ok(Some(self.opened(|| Ok(self.vault.open_recorded_text(org_id, field, record, stored)?)).await?))
    }

    async fn retention_rule(&self, org_id: i64) -> Result<Option<RuleRecord>> {
        let row = sqlx::query(
            "SELECT org_id, months_after_close, hold_while_litigating, updated_by, updated_at FROM retention_rules \
             WHERE org_id = $1",
        )
        .bind(org_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rule_from_row).transpose()
    }

    async fn set_retention_rule(&self, actor: &Actor, org_id: i64, rule: RetentionRule) -> Result<RuleRecord> {
        let mut w = self.begin().await?;
        let r = RuleRecord { org_id, rule, updated_by: actor.user_id, updated_at: w.now };
        let exists = sqlx::query("SELECT org_id FROM retention_rules WHERE org_id = $1")
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .is_some();
        let sql = if exists {
            "UPDATE retention_rules SET months_after_close = $2, hold_while_litigating = $3, updated_by = $4, \
             updated_at = $5 WHERE org_id = $1"
        } else {
            "INSERT INTO retention_rules (org_id, months_after_close, hold_while_litigating, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5)"
        };
        sqlx::query(sql)
            .bind(org_id)
            .bind(i64::from(rule.months_after_close))
            .bind(rule.hold_while_litigating)
            .bind(actor.user_id)
            .bind(w.now)
            .execute(&mut *w.tx)
            .await?;
        let action = if exists { "update" } else { "create" };
        w.audit(actor, Some(org_id), action, RecordType::RetentionRule, org_id, &rule_content(&r)).await?;
        w.commit().await?;
        Ok(r)
    }

    async fn retention_facts(&self, org_id: i64, case_id: Option<i64>) -> Result<Vec<RetentionFacts>> {
        facts_on(&mut *self.pool.acquire().await?, org_id, case_id).await
    }

    async fn erasure(&self, org_id: i64, case_id: i64) -> Result<Option<Erasure>> {
        Ok(erasures_on(&mut *self.pool.acquire().await?, org_id, Some(case_id)).await?.pop())
    }

    async fn erase_case_data(
        &self,
        actor: &Actor,
        org_id: i64,
        case_id: i64,
        reason: ErasureReason,
        litigation_ended: bool,
        check: &ErasureCheck,
    ) -> Result<Erasure> {
        let mut w = self.begin().await?;
        let facts = facts_on(&mut w.tx, org_id, Some(case_id)).await?.pop().ok_or(StoreError::NotFound)?;
        if facts.erasure.is_some() || audited_erased(&mut w.tx, case_id).await? {
            return Err(StoreError::Erased);
        }
        // The rule as it stands inside this write: a change racing it is either before
        // or after, never half.
        let sql = "SELECT org_id, months_after_close, hold_while_litigating, updated_by, updated_at \
                   FROM retention_rules WHERE org_id = $1";
        let rule = sqlx::query(sql).bind(org_id).fetch_optional(&mut *w.tx).await?;
        let rule = rule.as_ref().map(rule_from_row).transpose()?;
        check(&facts, rule.as_ref().map(|r| &r.rule))?;
        let partial = sealed_before_case_keys(&mut w.tx, org_id, case_id).await?;
        // The key: destroyed (a case written before case keys gets a row saying so).
        let had_key = sqlx::query("SELECT case_id FROM case_keys WHERE case_id = $1 AND org_id = $2")
            .bind(case_id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .is_some();
        let sql = if had_key {
            "UPDATE case_keys SET key_sealed = NULL, erased_at = $3, erased_by = $4, reason = $5, \
             litigation_ended = $6, partial = $7 WHERE case_id = $1 AND org_id = $2"
        } else {
            "INSERT INTO case_keys (case_id, org_id, key_sealed, created_at, erased_at, erased_by, reason, \
             litigation_ended, partial) VALUES ($1, $2, NULL, $3, $3, $4, $5, $6, $7)"
        };
        let done = sqlx::query(sql)
            .bind(case_id)
            .bind(org_id)
            .bind(w.now)
            .bind(actor.user_id)
            .bind(reason.as_str())
            .bind(litigation_ended)
            .bind(partial)
            .execute(&mut *w.tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Integrity(format!("case {case_id}'s key row could not be destroyed")));
        }
        let sql = format!("SELECT {KEY_COLUMNS} FROM case_keys WHERE case_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id).fetch_one(&mut *w.tx).await?;
        w.audit(actor, Some(org_id), "erase", RecordType::CaseKey, case_id, &key_content(&row)?).await?;
        // The person.
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 AND org_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id).bind(org_id).fetch_one(&mut *w.tx).await?;
        let c = case_from_row(&row)?;
        sqlx::query("UPDATE cases SET person_sealed = $1 WHERE id = $2")
            .bind(Vec::<u8>::new())
            .bind(case_id)
            .execute(&mut *w.tx)
            .await?;
        w.audit(actor, Some(org_id), "erase", RecordType::Case, case_id, &case_content(&c, &[])).await?;
        // Event notes and the reasons events were voided.
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM case_events WHERE case_id = $1 AND (note_sealed IS NOT NULL OR void_reason IS NOT NULL) ORDER BY id"
        );
        for row in &sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id).fetch_all(&mut *w.tx).await? {
            let mut e = event_from_row(row)?;
            sqlx::query("UPDATE case_events SET note_sealed = NULL, void_reason = NULL WHERE id = $1")
                .bind(e.id)
                .execute(&mut *w.tx)
                .await?;
            e.void_reason = None;
            e.has_note = false;
            w.audit(actor, Some(org_id), "erase", RecordType::CaseEvent, e.id, &event_content(&e, org_id, None))
                .await?;
        }
        // Documents: bytes, name and hash emptied; type and size stay.
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM case_documents WHERE case_id = $1 ORDER BY id");
        let empty_sha = sha256_hex(&[]);
        for row in &sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id).fetch_all(&mut *w.tx).await? {
            let mut a = document_from_row(row)?;
            sqlx::query(
                "UPDATE case_documents SET data_sealed = $1, sealed_sha256 = $2, filename = '', sha256 = '' WHERE id = $3",
            )
            .bind(Vec::<u8>::new())
            .bind(&empty_sha)
            .bind(a.id)
            .execute(&mut *w.tx)
            .await?;
            a.filename = String::new();
            a.sha256 = String::new();
            w.audit(actor, Some(org_id), "erase", RecordType::CaseDocument, a.id, &document_content(&a, &empty_sha))
                .await?;
        }
        // Open shares end: there is nothing left to share.
        consents::end_open_shares(&mut w, actor, org_id, case_id, None).await?;
        let at = w.now;
        w.commit().await?;
        if let Err(e) = scrub_erased(&self.pool).await {
            // The erasure stands; only the database's own copies wait for its next
            // checkpoint or vacuum (docs/security.md).
            tracing::error!(error = %e, "the database could not drop its copies of an erased key now");
        }
        let by_name = match actor.user_id {
            Some(u) => sqlx::query("SELECT display_name FROM users WHERE id = $1")
                .bind(u)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get("display_name"))
                .transpose()?,
            None => None,
        };
        Ok(Erasure { case_id, at, by_user_id: actor.user_id, by_name, reason, partial })
    }
}
