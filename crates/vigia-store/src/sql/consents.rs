use super::*;
use crate::{CaseShare, ConsentRecord};
use vigia_domain::consent::{ConsentDraft, Decision, How, Purpose};

pub(super) const CONSENT_COLUMNS: &str =
    "id, org_id, case_id, purpose, partner_org_id, decision, on_date, how, evidence_document_id, recorded_by, created_at";
pub(super) const SHARE_COLUMNS: &str =
    "id, org_id, case_id, partner_org_id, created_by, created_at, ended_by, ended_at";

fn corrupt(what: &str, v: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("consent {what} {v:?}"))
}

pub(super) fn consent_from_row(r: &<Db as sqlx::Database>::Row) -> Result<ConsentRecord> {
    let purpose: String = r.try_get("purpose")?;
    let decision: String = r.try_get("decision")?;
    let how: String = r.try_get("how")?;
    let on: String = r.try_get("on_date")?;
    Ok(ConsentRecord {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        case_id: r.try_get("case_id")?,
        draft: ConsentDraft {
            purpose: Purpose::parse(&purpose).ok_or_else(|| corrupt("purpose", &purpose))?,
            partner_org_id: r.try_get("partner_org_id")?,
            decision: Decision::parse(&decision).ok_or_else(|| corrupt("decision", &decision))?,
            on: on.parse().map_err(|_| corrupt("date", &on))?,
            how: How::parse(&how).ok_or_else(|| corrupt("how", &how))?,
            evidence_document_id: r.try_get("evidence_document_id")?,
        },
        recorded_by: r.try_get("recorded_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn share_from_row(r: &<Db as sqlx::Database>::Row) -> Result<CaseShare> {
    Ok(CaseShare {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        case_id: r.try_get("case_id")?,
        partner_org_id: r.try_get("partner_org_id")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        ended_by: r.try_get("ended_by")?,
        ended_at: r.try_get("ended_at")?,
    })
}

/// Inside a write: ends the case's open shares (with one partner, or all), each ended
/// share recorded.
pub(super) async fn end_open_shares(
    w: &mut WriteTx,
    actor: &Actor,
    org_id: i64,
    case_id: i64,
    partner: Option<i64>,
) -> Result<()> {
    let sql = format!(
        "SELECT {SHARE_COLUMNS} FROM case_shares WHERE case_id = $1 AND ($2 IS NULL OR partner_org_id = $2) \
         AND ended_at IS NULL"
    );
    let open = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id).bind(partner).fetch_all(&mut *w.tx).await?;
    for row in &open {
        let mut share = share_from_row(row)?;
        sqlx::query("UPDATE case_shares SET ended_by = $1, ended_at = $2 WHERE id = $3")
            .bind(actor.user_id)
            .bind(w.now)
            .bind(share.id)
            .execute(&mut *w.tx)
            .await?;
        share.ended_by = actor.user_id;
        share.ended_at = Some(w.now);
        w.audit(actor, Some(org_id), "update", RecordType::CaseShare, share.id, &share.content_json()).await?;
    }
    Ok(())
}

async fn case_is_org_s(w: &mut WriteTx, org_id: i64, case_id: i64) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM cases WHERE id = $1 AND org_id = $2")
        .bind(case_id)
        .bind(org_id)
        .fetch_optional(&mut *w.tx)
        .await?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

async fn partner_exists(w: &mut WriteTx, org_id: i64, partner: i64) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM organizations WHERE id = $1")
        .bind(partner)
        .fetch_optional(&mut *w.tx)
        .await?;
    if found.is_none() || partner == org_id {
        return Err(ValidationErrors::single("partner_org_id", "unknown_record").into());
    }
    Ok(())
}

#[async_trait::async_trait]
impl crate::Consents for SqlStore {
    async fn record_consent(
        &self,
        actor: &Actor,
        org_id: i64,
        case_id: i64,
        draft: ConsentDraft,
    ) -> Result<ConsentRecord> {
        let mut w = self.begin().await?;
        case_is_org_s(&mut w, org_id, case_id).await?;
        if let Some(p) = draft.partner_org_id {
            partner_exists(&mut w, org_id, p).await?;
        }
        if let Some(doc) = draft.evidence_document_id {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM case_documents WHERE id = $1 AND case_id = $2")
                .bind(doc)
                .bind(case_id)
                .fetch_optional(&mut *w.tx)
                .await?;
            if found.is_none() {
                return Err(ValidationErrors::single("evidence_document_id", "unknown_record").into());
            }
        }
        let id: i64 = sqlx::query(
            "INSERT INTO consents (org_id, case_id, purpose, partner_org_id, decision, on_date, how, \
             evidence_document_id, recorded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(org_id)
        .bind(case_id)
        .bind(draft.purpose.as_str())
        .bind(draft.partner_org_id)
        .bind(draft.decision.as_str())
        .bind(draft.on.to_string())
        .bind(draft.how.as_str())
        .bind(draft.evidence_document_id)
        .bind(actor.user_id)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        let c = ConsentRecord { id, org_id, case_id, draft, recorded_by: actor.user_id, created_at: w.now };
        w.audit(actor, Some(org_id), "create", RecordType::Consent, id, &c.content_json()).await?;
        // A withdrawal of sharing ends the open share with that partner: giving consent
        // again does not silently reopen it; someone decides to share again.
        if let (Purpose::SharePartner, Decision::Withdrawn, Some(partner)) =
            (c.draft.purpose, c.draft.decision, c.draft.partner_org_id)
        {
            end_open_shares(&mut w, actor, org_id, case_id, Some(partner)).await?;
        }
        w.commit().await?;
        Ok(c)
    }

    async fn consents(&self, org_id: i64, case_id: Option<i64>) -> Result<Vec<ConsentRecord>> {
        let sql = format!(
            "SELECT {CONSENT_COLUMNS} FROM consents WHERE org_id = $1 AND ($2 IS NULL OR case_id = $2) ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(case_id).fetch_all(&self.pool).await?;
        rows.iter().map(consent_from_row).collect()
    }

    async fn share_case(&self, actor: &Actor, org_id: i64, case_id: i64, partner_org_id: i64) -> Result<CaseShare> {
        let mut w = self.begin().await?;
        case_is_org_s(&mut w, org_id, case_id).await?;
        // An erased case has nothing left to share (decided on the history, in the write).
        if audited_erased(&mut w.tx, case_id).await? {
            return Err(StoreError::Erased);
        }
        partner_exists(&mut w, org_id, partner_org_id).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO case_shares (org_id, case_id, partner_org_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(org_id)
        .bind(case_id)
        .bind(partner_org_id)
        .bind(actor.user_id)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(unique_to_conflict("share_exists"))?
        .try_get("id")?;
        let s = CaseShare {
            id,
            org_id,
            case_id,
            partner_org_id,
            created_by: actor.user_id,
            created_at: w.now,
            ended_by: None,
            ended_at: None,
        };
        w.audit(actor, Some(org_id), "create", RecordType::CaseShare, id, &s.content_json()).await?;
        w.commit().await?;
        Ok(s)
    }

    async fn end_share(&self, actor: &Actor, org_id: i64, share_id: i64) -> Result<CaseShare> {
        let mut w = self.begin().await?;
        let sql = format!("SELECT {SHARE_COLUMNS} FROM case_shares WHERE id = $1 AND org_id = $2 AND ended_at IS NULL");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(share_id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut s = share_from_row(&row)?;
        sqlx::query("UPDATE case_shares SET ended_by = $1, ended_at = $2 WHERE id = $3")
            .bind(actor.user_id)
            .bind(w.now)
            .bind(share_id)
            .execute(&mut *w.tx)
            .await?;
        s.ended_by = actor.user_id;
        s.ended_at = Some(w.now);
        w.audit(actor, Some(org_id), "update", RecordType::CaseShare, share_id, &s.content_json()).await?;
        w.commit().await?;
        Ok(s)
    }

    async fn case_shares(&self, org_id: i64, case_id: i64) -> Result<Vec<CaseShare>> {
        let sql = format!("SELECT {SHARE_COLUMNS} FROM case_shares WHERE org_id = $1 AND case_id = $2 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(case_id).fetch_all(&self.pool).await?;
        rows.iter().map(share_from_row).collect()
    }

    async fn audited_consents(&self, org_id: i64, case_id: i64) -> Result<Vec<ConsentRecord>> {
        let rows =
            sqlx::query("SELECT record_id, content FROM audit_log WHERE record_type = $1 AND org_id = $2 ORDER BY seq")
                .bind(RecordType::Consent.as_str())
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?;
        let mut latest: std::collections::BTreeMap<i64, ConsentRecord> = Default::default();
        for r in &rows {
            let content: String = r.try_get("content")?;
            let c: ConsentRecord = serde_json::from_str(&content).map_err(|_| corrupt("audited record", &content))?;
            if c.case_id == case_id {
                latest.insert(c.id, c);
            }
        }
        Ok(latest.into_values().collect())
    }

    async fn audited_share(&self, share_id: i64) -> Result<Option<CaseShare>> {
        let mut conn = self.pool.acquire().await?;
        latest_audited(&mut conn, RecordType::CaseShare, share_id)
            .await?
            .map(|v| serde_json::from_value(v).map_err(|e| StoreError::Corrupt(format!("audited share: {e}"))))
            .transpose()
    }

    async fn read_shared_person(&self, actor: &Actor, share: &CaseShare) -> Result<vigia_domain::case::Person> {
        let mut w = self.begin().await?;
        let row = sqlx::query("SELECT person_sealed FROM cases WHERE id = $1 AND org_id = $2")
            .bind(share.case_id)
            .bind(share.org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let sealed: Vec<u8> = row.try_get("person_sealed")?;
        let key = case_key_for_read(&self.vault, &mut w.tx, share.org_id, share.case_id).await?;
        let person = serde_json::from_slice(&open_case_bytes(
            &self.vault,
            key.as_ref(),
            share.org_id,
            PERSON_FIELD,
            share.case_id,
            &sealed,
        )?)
        .map_err(|e| StoreError::Corrupt(format!("case {} person: {e}", share.case_id)))?;
        let content = serde_json::json!({
            "case_id": share.case_id, "org_id": share.org_id, "reader_user_id": actor.user_id,
            "fields": ["person"], "share_id": share.id, "partner_org_id": share.partner_org_id,
        })
        .to_string();
        w.audit(actor, Some(share.org_id), "read_sealed", RecordType::CaseRead, share.case_id, &content).await?;
        w.commit().await?;
        Ok(person)
    }

    async fn record_arco_export(&self, actor: &Actor, org_id: i64, case_id: i64, content: &str) -> Result<()> {
        let mut w = self.begin().await?;
        case_is_org_s(&mut w, org_id, case_id).await?;
        w.audit(actor, Some(org_id), "arco_export", RecordType::CaseRead, case_id, content).await?;
        w.commit().await?;
        Ok(())
    }

    async fn shares_with(&self, partner_org_id: i64) -> Result<Vec<CaseShare>> {
        let sql = format!(
            "SELECT {SHARE_COLUMNS} FROM case_shares WHERE partner_org_id = $1 AND ended_at IS NULL ORDER BY id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(partner_org_id).fetch_all(&self.pool).await?;
        rows.iter().map(share_from_row).collect()
    }
}
