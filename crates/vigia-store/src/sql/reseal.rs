// Binding every sealed value to its record (issue #22 finding 5). Values sealed before
// named their organization and field only, so one could be moved between two records
// of an organization and still open; text written before free text was sealed was kept
// as it came. When the store opens it re-seals every such value left in a row, once,
// in one recorded write; rows then accept nothing else (`Vault::open`). The history
// keeps what was written when it was and still opens it (`Vault::open_recorded`).
// Mounted beside the other SQL modules by each backend (see `mod.rs`).

use super::*;

/// The action of the entries that record a row re-sealed: its content after.
pub(super) const RESEAL: &str = "reseal";

/// Which way values are re-sealed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// Every value to name its record.
    Bind,
    /// Every value back to how Vigía sealed before (organization and field only):
    /// what tests start from to see an older database brought up to date. Debug
    /// builds only.
    AsBefore,
}

/// Seals again what needs it, each value for its organization, field and record.
struct Resealer<'a> {
    direction: Direction,
    vault: &'a Vault,
    sealers: HashMap<i64, vault::Sealer>,
    /// Values re-sealed.
    values: usize,
    /// Records whose row no longer matched its last audited version: left as they
    /// were (reads refuse their older values), for `audit verify` to name.
    unrecorded: Vec<String>,
}

impl Resealer<'_> {
    fn sealer(&self, org_id: i64) -> Result<&vault::Sealer> {
        self.sealers.get(&org_id).ok_or(StoreError::Vault(VaultError::NoKey(org_id)))
    }

    /// Re-seals a row's text in place if it needs it; whether it did. A value that does
    /// not open is left as it is: reads refuse it, and the audit names the row.
    fn text(&mut self, org_id: i64, field: &str, record: i64, stored: &mut String) -> Result<bool> {
        if Vault::text_needs_reseal(stored) != (self.direction == Direction::Bind) {
            return Ok(false);
        }
        let Ok(plain) = self.vault.open_recorded_text(org_id, field, record, stored) else {
            tracing::warn!(org_id, field, record, "a sealed value does not open: left as it is");
            return Ok(false);
        };
        *stored = match self.direction {
            Direction::Bind => self.sealer(org_id)?.seal_text(field, record, &plain)?,
            Direction::AsBefore => {
                vault::text_of(&self.sealer(org_id)?.seal_unbound_as_before(field, plain.as_bytes())?)
            }
        };
        self.values += 1;
        Ok(true)
    }

    fn opt_text(&mut self, org_id: i64, field: &str, record: i64, stored: &mut Option<String>) -> Result<bool> {
        match stored.as_mut() {
            Some(t) => self.text(org_id, field, record, t),
            None => Ok(false),
        }
    }

    /// As [`Resealer::text`], for sealed bytes.
    fn bytes(&mut self, org_id: i64, field: &str, record: i64, sealed: &mut Vec<u8>) -> Result<bool> {
        if Vault::needs_reseal(sealed) != (self.direction == Direction::Bind) {
            return Ok(false);
        }
        let Ok(plain) = self.vault.open_recorded(org_id, field, record, sealed) else {
            tracing::warn!(org_id, field, record, "a sealed value does not open: left as it is");
            return Ok(false);
        };
        *sealed = match self.direction {
            Direction::Bind => self.sealer(org_id)?.seal(field, record, &plain)?,
            Direction::AsBefore => self.sealer(org_id)?.seal_unbound_as_before(field, &plain)?,
        };
        self.values += 1;
        Ok(true)
    }

    fn opt_bytes(&mut self, org_id: i64, field: &str, record: i64, sealed: &mut Option<Vec<u8>>) -> Result<bool> {
        match sealed.as_mut() {
            Some(b) => self.bytes(org_id, field, record, b),
            None => Ok(false),
        }
    }

    /// Records a row about to be re-sealed, with its content after, if its content
    /// before matched its last audited version; whether it did. A row that did not is
    /// not re-sealed: re-sealing would bind a value moved into it to it, and recording
    /// it would make a change made behind the app's back look recorded.
    async fn record(
        &mut self,
        w: &mut WriteTx,
        org_id: i64,
        record_type: RecordType,
        id: i64,
        before: &str,
        after: &str,
    ) -> Result<bool> {
        let last: Option<String> = sqlx::query(
            "SELECT content_hash FROM audit_log WHERE record_type = $1 AND record_id = $2 ORDER BY seq DESC LIMIT 1",
        )
        .bind(record_type.as_str())
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?
        .map(|r| r.try_get("content_hash"))
        .transpose()?;
        if last.as_deref() == Some(sha256_hex(before.as_bytes()).as_str()) {
            let action = if self.direction == Direction::Bind { RESEAL } else { "update" };
            w.audit(&Actor::SYSTEM, Some(org_id), action, record_type, id, after).await?;
            Ok(true)
        } else {
            tracing::warn!(
                record = record_type.as_str(),
                id,
                "a row differs from its last audited version: not re-sealed"
            );
            self.unrecorded.push(format!("{} {id}", record_type.as_str()));
            Ok(false)
        }
    }
}

impl SqlStore {
    /// Re-seals every value a row holds that does not name its record, unless that
    /// was done: once per database (and again after an older export is imported,
    /// whose head comes without the mark). Nothing to do leaves the history as it is.
    pub(super) async fn bind_sealed_to_records(&self) -> Result<usize> {
        let done: Option<bool> = sqlx::query("SELECT records_bound FROM chain_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get("records_bound")?;
        if done == Some(true) {
            return Ok(0);
        }
        self.reseal(Direction::Bind).await
    }

    /// Re-seals every value a row holds in `direction`, in one recorded write.
    pub(super) async fn reseal(&self, direction: Direction) -> Result<usize> {
        let orgs: Vec<i64> = sqlx::query("SELECT DISTINCT org_id FROM org_keys ORDER BY org_id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("org_id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut sealers = HashMap::new();
        for org in orgs {
            sealers.insert(org, self.vault.sealer(org, self.current_key_version(org).await?)?);
        }
        let mut r = Resealer { direction, vault: &self.vault, sealers, values: 0, unrecorded: Vec::new() };
        let mut w = self.begin().await?;
        reseal_attempts(&mut w, &mut r).await?;
        reseal_visits(&mut w, &mut r).await?;
        reseal_cases(&mut w, &mut r).await?;
        reseal_events(&mut w, &mut r).await?;
        reseal_documents(&mut w, &mut r).await?;
        reseal_notes(&mut w, &mut r).await?;
        reseal_reviews(&mut w, &mut r).await?;
        reseal_webhooks(&mut w, &mut r).await?;
        reseal_totp(&mut w, &mut r).await?;
        // The mark is signed with the head: cleared behind the app's back, the head no
        // longer checks and nothing is re-sealed again.
        w.records_bound = direction == Direction::Bind;
        let bound = w.records_bound.then_some(true);
        sqlx::query("UPDATE chain_head SET records_bound = $1 WHERE id = 1").bind(bound).execute(&mut *w.tx).await?;
        w.commit().await?;
        if r.values > 0 {
            tracing::info!(values = r.values, "sealed values now name their record");
        }
        if !r.unrecorded.is_empty() {
            tracing::warn!(records = %r.unrecorded.join(", "), "rows that differ from their history were left as they were");
        }
        Ok(r.values)
    }
}

/// Attempts. One an import wrote and nothing changed since stands in the history
/// through its import's digest: re-sealed, it is recorded as a correction is, its
/// version as imported first (`original`), if its import's rows still match the
/// digest; the imports themselves are append-only and stay as written.
async fn reseal_attempts(w: &mut WriteTx, r: &mut Resealer<'_>) -> Result<()> {
    let audited: HashSet<i64> = sqlx::query("SELECT DISTINCT record_id FROM audit_log WHERE record_type = $1")
        .bind(RecordType::AccessAttempt.as_str())
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(|x| x.try_get("record_id"))
        .collect::<std::result::Result<_, _>>()?;
    let originals: HashMap<i64, [u8; 32]> =
        sqlx::query("SELECT record_id, content_hash FROM audit_log WHERE record_type = $1 AND action = $2")
            .bind(RecordType::AccessAttempt.as_str())
            .bind(ORIGINAL)
            .fetch_all(&mut *w.tx)
            .await?
            .iter()
            .filter_map(|x| {
                let h: String = x.try_get("content_hash").ok()?;
                Some((x.try_get("record_id").ok()?, <[u8; 32]>::try_from(hex::decode(h).ok()?).ok()?))
            })
            .collect();
    let sql = format!("SELECT {IMPORT_COLUMNS} FROM attempt_imports ORDER BY first_id");
    let imports = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(import_from_row)
        .collect::<Result<Vec<_>>>()?;
    let mut ranges = Vec::with_capacity(2 * imports.len() + 1);
    let mut from = 1;
    for imp in &imports {
        ranges.push((from, imp.first_id - 1, None));
        ranges.push((imp.first_id, imp.last_id, Some(imp)));
        from = imp.last_id + 1;
    }
    ranges.push((from, i64::MAX, None));
    for (first, last, imp) in ranges {
        if first > last {
            continue;
        }
        // Whether the import's rows are still those it wrote: only then may its rows'
        // versions as imported be recorded.
        let intact = match imp {
            Some(imp) => {
                let mut digest = ImportDigest::default();
                each_attempt_in(w, first, last, |a| {
                    let kept = originals.get(&a.id).copied();
                    digest.push(&kept.unwrap_or_else(|| row_hash(a.content_json().as_bytes())));
                    Ok(())
                })
                .await?;
                let got = digest.finish();
                got.rows == imp.row_count && got.all == imp.rows_sha256
            }
            None => false,
        };
        if imp.is_some() && !intact {
            tracing::warn!(first, last, "an import's rows differ from its digest: left as they were");
            r.unrecorded.push(format!("attempts {first}–{last}"));
        }
        let mut changed = Vec::new();
        each_attempt_in(w, first, last, |mut a| {
            let old = a.content_json();
            let (org, id) = (a.org_id, a.id);
            let d = &mut a.draft;
            let moved = r.opt_text(org, ATTEMPT_REASON, id, &mut d.reason_text)?
                | r.opt_text(org, ATTEMPT_OFFICIAL, id, &mut d.official)?
                | r.opt_text(org, ATTEMPT_NOTES, id, &mut d.notes)?;
            if moved {
                changed.push((a, old));
            }
            Ok(())
        })
        .await?;
        for (a, old) in changed {
            let id = a.id;
            let new = a.content_json();
            if imp.is_none() || audited.contains(&id) {
                if !r.record(w, a.org_id, RecordType::AccessAttempt, id, &old, &new).await? {
                    continue;
                }
            } else if intact {
                w.audit(&Actor::SYSTEM, Some(a.org_id), ORIGINAL, RecordType::AccessAttempt, id, &old).await?;
                let action = if r.direction == Direction::Bind { RESEAL } else { "update" };
                w.audit(&Actor::SYSTEM, Some(a.org_id), action, RecordType::AccessAttempt, id, &new).await?;
            } else {
                continue;
            }
            sqlx::query("UPDATE access_attempts SET reason_text = $1, official = $2, notes = $3 WHERE id = $4")
                .bind(&a.draft.reason_text)
                .bind(&a.draft.official)
                .bind(&a.draft.notes)
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
        }
    }
    Ok(())
}

/// Calls `f` with each attempt whose id is in `first..=last`, in id order, a page at
/// a time.
async fn each_attempt_in(
    w: &mut WriteTx,
    first: i64,
    last: i64,
    mut f: impl FnMut(Attempt) -> Result<()>,
) -> Result<()> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE a.id > $1 AND a.id <= $2 ORDER BY a.id LIMIT 5000"
    );
    let mut at = first - 1;
    loop {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(at).bind(last).fetch_all(&mut *w.tx).await?;
        if rows.is_empty() {
            return Ok(());
        }
        for row in &rows {
            let a = attempt_from_row(row)?;
            at = a.id;
            f(a)?;
        }
    }
}

async fn reseal_visits(w: &mut WriteTx, r: &mut Resealer<'_>) -> Result<()> {
    let sql = format!("SELECT {VISIT_COLUMNS} FROM visits ORDER BY id");
    for row in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *w.tx).await? {
        let mut v = visit_from_row(row)?;
        let mut notes: Option<Vec<u8>> = row.try_get("notes_sealed")?;
        let old = visit_content(&v, notes.as_deref());
        let (org, id) = (v.org_id, v.id);
        let mut changed = r.opt_bytes(org, VISIT_NOTES_FIELD, id, &mut notes)?;
        for f in &mut v.draft.findings {
            changed |= r.text(org, VISIT_FINDING, id, &mut f.description)?;
        }
        for section in v.draft.sections.values_mut() {
            changed |= r.opt_text(org, VISIT_OBSERVATIONS, id, &mut section.observations)?;
        }
        if !changed {
            continue;
        }
        let report = serde_json::to_string(&v.draft).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if !r.record(w, org, RecordType::Visit, id, &old, &visit_content(&v, notes.as_deref())).await? {
            continue;
        }
        sqlx::query("UPDATE visits SET report = $1, notes_sealed = $2 WHERE id = $3")
            .bind(report)
            .bind(notes.as_deref())
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}

async fn reseal_cases(w: &mut WriteTx, r: &mut Resealer<'_>) -> Result<()> {
    let sql = format!("SELECT {CASE_COLUMNS}, person_sealed FROM cases ORDER BY id");
    for row in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *w.tx).await? {
        let mut c = case_from_row(row)?;
        let mut person: Vec<u8> = row.try_get("person_sealed")?;
        let old = case_content(&c, &person);
        let (org, id) = (c.org_id, c.id);
        let changed =
            r.bytes(org, PERSON_FIELD, id, &mut person)? | r.text(org, CASE_REFERENCE, id, &mut c.fields.reference)?;
        if !changed {
            continue;
        }
        if !r.record(w, org, RecordType::Case, id, &old, &case_content(&c, &person)).await? {
            continue;
        }
        sqlx::query("UPDATE cases SET reference = $1, person_sealed = $2 WHERE id = $3")
            .bind(&c.fields.reference)
            .bind(&person)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}

async fn reseal_events(w: &mut WriteTx, r: &mut Resealer<'_>) -> Result<()> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM case_events WHERE note_sealed IS NOT NULL OR void_reason IS NOT NULL ORDER BY id"
    );
    for row in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *w.tx).await? {
        let mut e = event_from_row(row)?;
        let org: i64 = row.try_get("org_id")?;
        let mut note: Option<Vec<u8>> = row.try_get("note_sealed")?;
        let old = event_content(&e, org, note.as_deref());
        let id = e.id;
        let changed = r.opt_bytes(org, EVENT_NOTE_FIELD, id, &mut note)?
            | r.opt_text(org, VOID_REASON, id, &mut e.void_reason)?;
        if !changed {
            continue;
        }
        if !r.record(w, org, RecordType::CaseEvent, id, &old, &event_content(&e, org, note.as_deref())).await? {
            continue;
        }
        sqlx::query("UPDATE case_events SET note_sealed = $1, void_reason = $2 WHERE id = $3")
            .bind(note.as_deref())
            .bind(&e.void_reason)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}

async fn reseal_documents(w: &mut WriteTx, r: &mut Resealer<'_>) -> Result<()> {
    let sql = format!("SELECT {DOCUMENT_COLUMNS}, data_sealed FROM case_documents ORDER BY id");
    for row in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *w.tx).await? {
        let mut a = document_from_row(row)?;
        let sealed_sha: String = row.try_get("sealed_sha256")?;
        let mut data: Vec<u8> = row.try_get("data_sealed")?;
        if data.is_empty() && a.filename.is_empty() {
            // Erased with its case's personal data: nothing is left to seal.
            continue;
        }
        let old = document_content(&a, &sealed_sha);
        let (org, id) = (a.org_id, a.id);
        // Bytes that no longer match their hash are left for `audit verify` to name.
        let changed = (sha256_hex(&data) == sealed_sha && r.bytes(org, DOCUMENT_FIELD, id, &mut data)?)
            | r.text(org, DOCUMENT_NAME, id, &mut a.filename)?
            | r.text(org, DOCUMENT_SHA, id, &mut a.sha256)?;
        if !changed {
            continue;
        }
        let sealed_sha = sha256_hex(&data);
        if !r.record(w, org, RecordType::CaseDocument, id, &old, &document_content(&a, &sealed_sha)).await? {
            continue;
        }
        sqlx::query(
            "UPDATE case_documents SET data_sealed = $1, sealed_sha256 = $2, filename = $3, sha256 = $4 WHERE id = $5",
        )
        .bind(&data)
        .bind(&sealed_sha)
        .bind(&a.filename)
        .bind(&a.sha256)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
    }
    Ok(())
}

async fn reseal_notes(w: &mut WriteTx, r: &mut Resealer<'_>) -> Result<()> {
    let sql = "SELECT id, org_id, facility_id, author_user_id, body_sealed FROM facility_notes ORDER BY id";
    for row in &sqlx::query(sql).fetch_all(&mut *w.tx).await? {
        let (id, org, facility): (i64, i64, i64) =
            (row.try_get("id")?, row.try_get("org_id")?, row.try_get("facility_id")?);
        let author: Option<i64> = row.try_get("author_user_id")?;
        let mut body: Vec<u8> = row.try_get("body_sealed")?;
        let old = note_content(id, org, facility, author, &body);
        if !r.bytes(org, NOTE_FIELD, id, &mut body)? {
            continue;
        }
        if !r
            .record(w, org, RecordType::FacilityNote, id, &old, &note_content(id, org, facility, author, &body))
            .await?
        {
            continue;
        }
        sqlx::query("UPDATE facility_notes SET body_sealed = $1 WHERE id = $2")
            .bind(&body)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}

async fn reseal_reviews(w: &mut WriteTx, r: &mut Resealer<'_>) -> Result<()> {
    let sql = "SELECT key, org_id, status, reason, reviewed_by, reviewed_at, by_org FROM detection_reviews ORDER BY key, org_id";
    for row in &sqlx::query(sql).fetch_all(&mut *w.tx).await? {
        let mut review = review_from_row(row)?;
        let by_org: bool = row.try_get("by_org")?;
        let old = review_content(&review);
        let org = review.org_id;
        if !r.text(org, REVIEW_REASON, review_seal_id(&review.key, org), &mut review.reason)? {
            continue;
        }
        let record = review_record_id(&review.key, org, by_org);
        if !r.record(w, org, RecordType::DetectionReview, record, &old, &review_content(&review)).await? {
            continue;
        }
        sqlx::query("UPDATE detection_reviews SET reason = $1 WHERE key = $2 AND org_id = $3")
            .bind(&review.reason)
            .bind(&review.key)
            .bind(org)
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}

/// A webhook's secret is not in its audited content: the entry says it was re-sealed.
/// (Two hooks' older secrets swapped before the upgrade cannot be told apart: a hook's
/// secret was never under the history; after it, a moved secret does not open.)
async fn reseal_webhooks(w: &mut WriteTx, r: &mut Resealer<'_>) -> Result<()> {
    let sql = "SELECT id, org_id, url, active, deleted_at, created_at, secret_sealed FROM webhooks ORDER BY id";
    for row in &sqlx::query(sql).fetch_all(&mut *w.tx).await? {
        let hook = webhook_from_row(row)?;
        let mut secret: Vec<u8> = row.try_get("secret_sealed")?;
        if !r.bytes(hook.org_id, WEBHOOK_FIELD, hook.id, &mut secret)? {
            continue;
        }
        let content = hook.content_json();
        if !r.record(w, hook.org_id, RecordType::Webhook, hook.id, &content, &content).await? {
            continue;
        }
        sqlx::query("UPDATE webhooks SET secret_sealed = $1 WHERE id = $2")
            .bind(&secret)
            .bind(hook.id)
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}

/// Second-factor secrets are kept under row MACs, not in the history: a row that
/// matched its MAC gets one for its secret re-sealed; one that did not stays refused.
async fn reseal_totp(w: &mut WriteTx, r: &mut Resealer<'_>) -> Result<()> {
    let sql = "SELECT user_id, org_id, secret_sealed, enabled_at, last_step, mac FROM user_totp ORDER BY user_id";
    for row in &sqlx::query(sql).fetch_all(&mut *w.tx).await? {
        let (user, org): (i64, i64) = (row.try_get("user_id")?, row.try_get("org_id")?);
        let mut secret: Vec<u8> = row.try_get("secret_sealed")?;
        let intact = row_mac_ok(&w.key, "user_totp", row, "mac")?;
        if !intact || !r.bytes(org, TOTP_FIELD, user, &mut secret)? {
            continue;
        }
        let fields = crate::rowmac::totp(user, org, &secret, row.try_get("enabled_at")?, row.try_get("last_step")?);
        sqlx::query("UPDATE user_totp SET secret_sealed = $1, mac = $2 WHERE user_id = $3")
            .bind(&secret)
            .bind(crate::rowmac::mac(&w.key, "user_totp", &fields))
            .bind(user)
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}
