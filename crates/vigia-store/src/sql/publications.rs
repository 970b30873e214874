use super::*;
use crate::Publication;
use vigia_domain::publication::{Detail, PublicationDraft, Section, Status};

pub(super) const PUBLICATION_COLUMNS: &str = "id, org_id, year, sections, detail, status, content, content_sha256, \
     proposed_by, proposed_at, decided_by, decided_at";

pub(super) fn publication_from_row(r: &<Db as sqlx::Database>::Row) -> Result<Publication> {
    let sections: String = r.try_get("sections")?;
    let sections = sections
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| Section::parse(s).ok_or_else(|| StoreError::Corrupt(format!("publication section {s:?}"))))
        .collect::<Result<Vec<_>>>()?;
    let detail: String = r.try_get("detail")?;
    let status: String = r.try_get("status")?;
    let year: i64 = r.try_get("year")?;
    Ok(Publication {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        draft: PublicationDraft {
            year: i16::try_from(year).map_err(|_| StoreError::Corrupt(format!("publication year {year}")))?,
            sections,
            detail: Detail::parse(&detail)
                .ok_or_else(|| StoreError::Corrupt(format!("publication detail {detail:?}")))?,
        },
        status: Status::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("publication status {status:?}")))?,
        // The hash shown is the content's own, recomputed: the column is only a copy.
        content_sha256: vigia_domain::audit::sha256_hex(r.try_get::<String, _>("content")?.as_bytes()),
        content: r.try_get("content")?,
        proposed_by: r.try_get("proposed_by")?,
        proposed_at: r.try_get("proposed_at")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
    })
}

fn sections_text(d: &PublicationDraft) -> String {
    d.sections.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

#[async_trait::async_trait]
impl crate::Publications for SqlStore {
    async fn propose_publication(
        &self,
        actor: &Actor,
        org_id: i64,
        draft: PublicationDraft,
        content: String,
    ) -> Result<Publication> {
        let proposed_by = actor.user_id.ok_or_else(|| StoreError::Conflict("person_required".into()))?;
        let mut w = self.begin().await?;
        let sha = vigia_domain::audit::sha256_hex(content.as_bytes());
        let id: i64 = sqlx::query(
            "INSERT INTO publications (org_id, year, sections, detail, status, content, content_sha256, proposed_by, proposed_at) \
             VALUES ($1, $2, $3, $4, 'proposed', $5, $6, $7, $8) RETURNING id",
        )
        .bind(org_id)
        .bind(i64::from(draft.year))
        .bind(sections_text(&draft))
        .bind(draft.detail.as_str())
        .bind(&content)
        .bind(&sha)
        .bind(proposed_by)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        let p = Publication {
            id,
            org_id,
            draft,
            status: Status::Proposed,
            content,
            content_sha256: sha,
            proposed_by,
            proposed_at: w.now,
            decided_by: None,
            decided_at: None,
        };
        w.audit(actor, Some(org_id), "propose", RecordType::Publication, id, &p.content_json()).await?;
        w.commit().await?;
        Ok(p)
    }

    async fn decide_publication(&self, actor: &Actor, org_id: i64, id: i64, approve: bool) -> Result<Publication> {
        let deciding = actor.user_id.ok_or_else(|| StoreError::Conflict("person_required".into()))?;
        let mut w = self.begin().await?;
        let sql = format!("SELECT {PUBLICATION_COLUMNS} FROM publications WHERE id = $1 AND org_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(org_id).fetch_optional(&mut *w.tx).await?;
        let mut p = publication_from_row(&row.ok_or(StoreError::NotFound)?)?;
        if p.status != Status::Proposed {
            return Err(StoreError::Conflict("publication_decided".into()));
        }
        if !vigia_domain::publication::may_decide(p.proposed_by, deciding) {
            return Err(StoreError::Conflict("four_eyes".into()));
        }
        if approve {
            let taken: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM publications WHERE org_id = $1 AND year = $2 AND status = 'approved'",
            )
            .bind(org_id)
            .bind(i64::from(p.draft.year))
            .fetch_optional(&mut *w.tx)
            .await?;
            if taken.is_some() {
                // A second set of the same year could be subtracted from the first.
                return Err(StoreError::Conflict("year_published".into()));
            }
        }
        p.status = if approve { Status::Approved } else { Status::Rejected };
        p.decided_by = Some(deciding);
        p.decided_at = Some(w.now);
        sqlx::query("UPDATE publications SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4")
            .bind(p.status.as_str())
            .bind(deciding)
            .bind(w.now)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        let action = if approve { "approve" } else { "reject" };
        w.audit(actor, Some(org_id), action, RecordType::Publication, id, &p.content_json()).await?;
        w.commit().await?;
        Ok(p)
    }

    async fn publications(&self, org_id: i64) -> Result<Vec<Publication>> {
        let sql = format!("SELECT {PUBLICATION_COLUMNS} FROM publications WHERE org_id = $1 ORDER BY id DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).fetch_all(&self.pool).await?;
        rows.iter().map(publication_from_row).collect()
    }

    async fn publication(&self, org_id: i64, id: i64) -> Result<Option<Publication>> {
        let sql = format!("SELECT {PUBLICATION_COLUMNS} FROM publications WHERE id = $1 AND org_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(org_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(publication_from_row).transpose()
    }

    async fn approved_publications(&self) -> Result<Vec<Publication>> {
        let sql = format!(
            "SELECT {PUBLICATION_COLUMNS} FROM publications WHERE status = 'approved' ORDER BY year DESC, org_id, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(publication_from_row).collect()
    }

    async fn approved_publication(&self, id: i64) -> Result<Option<Publication>> {
        let sql = format!("SELECT {PUBLICATION_COLUMNS} FROM publications WHERE id = $1 AND status = 'approved'");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(publication_from_row).transpose()
    }

    async fn sign_publication(&self, org_id: i64, message: &[u8]) -> Result<(String, String)> {
        use ring::signature::KeyPair;
        // The seed is the master key's MAC of the organization's id for this purpose:
        // the same key signs every publication of the organization until the master key
        // is rotated, and nothing secret is written anywhere for it.
        let seed = hex::decode(self.vault.master().mac("publication-key-v1", &org_id.to_be_bytes()))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|e| StoreError::Corrupt(format!("publication key: {e}")))?;
        Ok((hex::encode(pair.public_key().as_ref()), hex::encode(pair.sign(message).as_ref())))
    }
}
