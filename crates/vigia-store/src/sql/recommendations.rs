use super::*;
use crate::{Assessment, RecImport, RecLink, Recommendation};
use vigia_domain::recommendation::{AssessmentDraft, EvidenceKind, LinkDraft, RecommendationDraft, Status};

pub(super) const REC_COLUMNS: &str =
    "id, annotation_id, body, symbol, paragraph, published_on, text, language, summary, \
     kind, themes, affected_persons, sdgs, countries, upr_states, upr_position, upr_session, version, updated_at";
pub(super) const LINK_COLUMNS: &str = "id, org_id, recommendation_id, kind, reference, note, created_by, created_at";
pub(super) const ASSESSMENT_COLUMNS: &str =
    "id, org_id, recommendation_id, status, assessed_on, reasoning, evidence, recommendation_version, created_by, created_at";

fn corrupt(what: &str, v: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("recommendation {what} {v:?}"))
}

fn lines(v: &[String]) -> String {
    v.join("\n")
}

fn unlines(s: &str) -> Vec<String> {
    s.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

pub(super) fn rec_from_row(r: &<Db as sqlx::Database>::Row) -> Result<Recommendation> {
    let published: Option<String> = r.try_get("published_on")?;
    Ok(Recommendation {
        id: r.try_get("id")?,
        draft: RecommendationDraft {
            annotation_id: r.try_get("annotation_id")?,
            body: r.try_get("body")?,
            symbol: r.try_get("symbol")?,
            paragraph: r.try_get("paragraph")?,
            published_on: published.as_deref().map(|d| d.parse().map_err(|_| corrupt("date", d))).transpose()?,
            text: r.try_get("text")?,
            language: r.try_get("language")?,
            summary: r.try_get("summary")?,
            kind: r.try_get("kind")?,
            themes: unlines(&r.try_get::<String, _>("themes")?),
            affected_persons: unlines(&r.try_get::<String, _>("affected_persons")?),
            sdgs: unlines(&r.try_get::<String, _>("sdgs")?),
            countries: unlines(&r.try_get::<String, _>("countries")?),
            upr_states: unlines(&r.try_get::<String, _>("upr_states")?),
            upr_position: r.try_get("upr_position")?,
            upr_session: r.try_get("upr_session")?,
        },
        version: r.try_get("version")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(super) fn link_from_row(r: &<Db as sqlx::Database>::Row) -> Result<RecLink> {
    let kind: String = r.try_get("kind")?;
    Ok(RecLink {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        recommendation_id: r.try_get("recommendation_id")?,
        kind: EvidenceKind::parse(&kind).ok_or_else(|| corrupt("link kind", &kind))?,
        reference: r.try_get("reference")?,
        note: r.try_get("note")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn assessment_from_row(r: &<Db as sqlx::Database>::Row) -> Result<Assessment> {
    let status: String = r.try_get("status")?;
    let on: String = r.try_get("assessed_on")?;
    let evidence: String = r.try_get("evidence")?;
    Ok(Assessment {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        recommendation_id: r.try_get("recommendation_id")?,
        draft: AssessmentDraft {
            status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            assessed_on: on.parse().map_err(|_| corrupt("date", &on))?,
            reasoning: r.try_get("reasoning")?,
            evidence: evidence
                .split(',')
                .filter(|e| !e.is_empty())
                .map(|e| e.parse().map_err(|_| corrupt("evidence", &evidence)))
                .collect::<Result<_>>()?,
        },
        recommendation_version: r.try_get("recommendation_version")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

fn bind_draft<'q>(
    q: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>,
    d: &'q RecommendationDraft,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    q.bind(&d.body)
        .bind(&d.symbol)
        .bind(&d.paragraph)
        .bind(d.published_on.map(|p| p.to_string()))
        .bind(&d.text)
        .bind(&d.language)
        .bind(d.summary)
        .bind(&d.kind)
        .bind(lines(&d.themes))
        .bind(lines(&d.affected_persons))
        .bind(lines(&d.sdgs))
        .bind(lines(&d.countries))
        .bind(lines(&d.upr_states))
        .bind(&d.upr_position)
        .bind(&d.upr_session)
}

#[async_trait::async_trait]
impl crate::Recommendations for SqlStore {
    async fn import_recommendations(
        &self,
        actor: &Actor,
        org_id: i64,
        drafts: Vec<RecommendationDraft>,
    ) -> Result<RecImport> {
        let mut w = self.begin().await?;
        let mut out = RecImport::default();
        for d in &drafts {
            let sql = format!("SELECT {REC_COLUMNS} FROM recommendations WHERE annotation_id = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&d.annotation_id).fetch_optional(&mut *w.tx).await?;
            let existing = row.as_ref().map(rec_from_row).transpose()?;
            let rec = match existing {
                Some(e) if e.draft == *d => {
                    out.unchanged += 1;
                    continue;
                }
                Some(e) => {
                    let q = sqlx::query(
                        "UPDATE recommendations SET body = $1, symbol = $2, paragraph = $3, published_on = $4, text = $5, \
                         language = $6, summary = $7, kind = $8, themes = $9, affected_persons = $10, sdgs = $11, \
                         countries = $12, upr_states = $13, upr_position = $14, upr_session = $15, version = $16, \
                         updated_at = $17 WHERE id = $18",
                    );
                    bind_draft(q, d).bind(e.version + 1).bind(w.now).bind(e.id).execute(&mut *w.tx).await?;
                    out.updated += 1;
                    Recommendation { id: e.id, draft: d.clone(), version: e.version + 1, updated_at: w.now }
                }
                None => {
                    let q = sqlx::query(
                        "INSERT INTO recommendations (body, symbol, paragraph, published_on, text, language, summary, kind, \
                         themes, affected_persons, sdgs, countries, upr_states, upr_position, upr_session, annotation_id, \
                         version, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17) RETURNING id",
                    );
                    let id: i64 = bind_draft(q, d)
                        .bind(&d.annotation_id)
                        .bind(w.now)
                        .fetch_one(&mut *w.tx)
                        .await?
                        .try_get("id")?;
                    out.created += 1;
                    Recommendation { id, draft: d.clone(), version: 1, updated_at: w.now }
                }
            };
            let action = if rec.version == 1 { "import" } else { "update" };
            w.audit(actor, Some(org_id), action, RecordType::Recommendation, rec.id, &rec.content_json()).await?;
        }
        w.commit().await?;
        Ok(out)
    }

    async fn recommendations(&self) -> Result<Vec<Recommendation>> {
        let sql = format!("SELECT {REC_COLUMNS} FROM recommendations ORDER BY published_on DESC, symbol, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(rec_from_row).collect()
    }

    async fn recommendation(&self, id: i64) -> Result<Option<Recommendation>> {
        let sql = format!("SELECT {REC_COLUMNS} FROM recommendations WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(rec_from_row).transpose()
    }

    async fn link_evidence(
        &self,
        actor: &Actor,
        org_id: i64,
        recommendation_id: i64,
        link: LinkDraft,
    ) -> Result<RecLink> {
        let mut w = self.begin().await?;
        let taken: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM recommendation_links WHERE org_id = $1 AND recommendation_id = $2 AND kind = $3 AND reference = $4",
        )
        .bind(org_id)
        .bind(recommendation_id)
        .bind(link.kind.as_str())
        .bind(&link.reference)
        .fetch_optional(&mut *w.tx)
        .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict("link_exists".into()));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO recommendation_links (org_id, recommendation_id, kind, reference, note, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(org_id)
        .bind(recommendation_id)
        .bind(link.kind.as_str())
        .bind(&link.reference)
        .bind(&link.note)
        .bind(actor.user_id)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        let l = RecLink {
            id,
            org_id,
            recommendation_id,
            kind: link.kind,
            reference: link.reference,
            note: link.note,
            created_by: actor.user_id,
            created_at: w.now,
        };
        w.audit(actor, Some(org_id), "create", RecordType::RecommendationLink, id, &l.content_json()).await?;
        w.commit().await?;
        Ok(l)
    }

    async fn evidence_links(&self, org_id: i64, recommendation_id: Option<i64>) -> Result<Vec<RecLink>> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM recommendation_links WHERE org_id = $1 AND ($2 IS NULL OR recommendation_id = $2) ORDER BY id"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(recommendation_id).fetch_all(&self.pool).await?;
        rows.iter().map(link_from_row).collect()
    }

    async fn assess(
        &self,
        actor: &Actor,
        org_id: i64,
        recommendation_id: i64,
        draft: AssessmentDraft,
    ) -> Result<Assessment> {
        let mut w = self.begin().await?;
        for e in &draft.evidence {
            let ok: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM recommendation_links WHERE id = $1 AND org_id = $2 AND recommendation_id = $3",
            )
            .bind(e)
            .bind(org_id)
            .bind(recommendation_id)
            .fetch_optional(&mut *w.tx)
            .await?;
            if ok.is_none() {
                return Err(ValidationErrors::single("evidence", "unknown_record").into());
            }
        }
        let evidence = draft.evidence.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(",");
        let version: i64 = sqlx::query_scalar("SELECT version FROM recommendations WHERE id = $1")
            .bind(recommendation_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let id: i64 = sqlx::query(
            "INSERT INTO assessments (org_id, recommendation_id, status, assessed_on, reasoning, evidence, \
             recommendation_version, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(org_id)
        .bind(recommendation_id)
        .bind(draft.status.as_str())
        .bind(draft.assessed_on.to_string())
        .bind(&draft.reasoning)
        .bind(&evidence)
        .bind(version)
        .bind(actor.user_id)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("id")?;
        let a = Assessment {
            id,
            org_id,
            recommendation_id,
            draft,
            recommendation_version: version,
            created_by: actor.user_id,
            created_at: w.now,
        };
        w.audit(actor, Some(org_id), "create", RecordType::Assessment, id, &a.content_json()).await?;
        w.commit().await?;
        Ok(a)
    }

    async fn assessments(&self, org_id: i64, recommendation_id: Option<i64>) -> Result<Vec<Assessment>> {
        let sql = format!(
            "SELECT {ASSESSMENT_COLUMNS} FROM assessments WHERE org_id = $1 AND ($2 IS NULL OR recommendation_id = $2) ORDER BY id"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(recommendation_id).fetch_all(&self.pool).await?;
        rows.iter().map(assessment_from_row).collect()
    }
}
