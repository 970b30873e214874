use super::*;

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

pub(super) fn review_from_row(r: &DbRow) -> Result<Review> {
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

impl SqlStore {
    /// Reads the claims of these statements into them.
    async fn with_claims(&self, mut list: Vec<Statement>) -> Result<Vec<Statement>> {
        if list.is_empty() {
            return Ok(list);
        }
        let index: HashMap<i64, usize> = list.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        for chunk in list.iter().map(|s| s.id).collect::<Vec<_>>().chunks(1000) {
            let mut q =
                sqlx::QueryBuilder::<Db>::new(format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE statement_id IN ("));
            let mut ids = q.separated(", ");
            for id in chunk {
                ids.push_bind(*id);
            }
            q.push(") ORDER BY id");
            for r in &q.build().fetch_all(&self.pool).await? {
                let c = claim_from_row(r)?;
                if let Some(&i) = index.get(&c.statement_id) {
                    list[i].claims.push(c);
                }
            }
        }
        Ok(list)
    }
}

pub(super) fn statement_content(s: &Statement) -> String {
    serde_json::json!({"id": s.id, "org_id": s.org_id, "version": s.version, "statement": s.draft}).to_string()
}

pub(super) fn claim_content(c: &Claim) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

pub(super) fn review_content(r: &Review) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

/// Detection keys are text; the audit history names records by number. Each
/// organization's review is its own record, numbered from the key and the organization;
/// a review written before reviews were kept per organization (`by_org` false) keeps the
/// number it was written under, from the key alone.
pub(super) fn review_record_id(key: &str, org_id: i64, by_org: bool) -> i64 {
    let h = if by_org { sha256_hex(format!("{org_id}\u{1f}{key}").as_bytes()) } else { sha256_hex(key.as_bytes()) };
    i64::from_str_radix(&h[..15], 16).unwrap_or(0)
}

/// The record a review's sealed reason names: one organization's review of one
/// detection, whichever way its history numbers it.
pub(super) fn review_seal_id(key: &str, org_id: i64) -> i64 {
    review_record_id(key, org_id, true)
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
async fn insert_claim(
    w: &mut WriteTx,
    actor: &Actor,
    org_id: i64,
    statement_id: i64,
    draft: ClaimDraft,
) -> Result<Claim> {
    if let vigia_domain::statement::Scope::Facilities { ids } = &draft.scope {
        for id in ids {
            if sqlx::query("SELECT id FROM facilities WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *w.tx)
                .await?
                .is_none()
            {
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

#[async_trait::async_trait]
impl crate::Statements for SqlStore {
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
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
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
        Ok(crate::Statements::statement(self, id).await?.unwrap_or(s))
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
        use futures_util::TryStreamExt;
        // Every statement and claim, a row at a time: the driver's copy of all rows read
        // at once was twice the statements' own size (100,000 statements: 150 MB).
        let sql = format!("SELECT {STATEMENT_COLUMNS} FROM statements ORDER BY published_at, id");
        let mut list: Vec<Statement> = Vec::new();
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            list.push(statement_from_row(&r)?);
        }
        drop(rows);
        let index: HashMap<i64, usize> = list.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        let sql = format!("SELECT {CLAIM_COLUMNS} FROM claims ORDER BY id");
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            let c = claim_from_row(&r)?;
            if let Some(&i) = index.get(&c.statement_id) {
                list[i].claims.push(c);
            }
        }
        Ok(list)
    }

    async fn statements_page(&self, after: Option<vigia_domain::paging::Cursor>, limit: i64) -> Result<Vec<Statement>> {
        let mut q = sqlx::QueryBuilder::<Db>::new(format!("SELECT {STATEMENT_COLUMNS} FROM statements WHERE 1 = 1"));
        push_after(&mut q, "published_at", after.map(|c| (c.key, c.id)));
        q.push(" ORDER BY published_at DESC, id DESC LIMIT ").push_bind(limit.max(0));
        let list: Vec<Statement> =
            q.build().fetch_all(&self.pool).await?.iter().map(statement_from_row).collect::<Result<_>>()?;
        self.with_claims(list).await
    }

    async fn statements_by_ids(&self, ids: &[i64]) -> Result<Vec<Statement>> {
        let mut list = Vec::with_capacity(ids.len());
        // A thousand at a time: well under either database's limit of bound values.
        for chunk in ids.chunks(1000) {
            let mut q =
                sqlx::QueryBuilder::<Db>::new(format!("SELECT {STATEMENT_COLUMNS} FROM statements WHERE id IN ("));
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            q.push(")");
            for r in &q.build().fetch_all(&self.pool).await? {
                list.push(statement_from_row(r)?);
            }
        }
        self.with_claims(list).await
    }

    async fn count_statements(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM statements").fetch_one(&self.pool).await?.try_get("n")?)
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
        sqlx::query("UPDATE claims SET confirmed = $1 WHERE id = $2")
            .bind(confirmed)
            .bind(claim_id)
            .execute(&mut *w.tx)
            .await?;
        let sql = format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(claim_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let c = claim_from_row(&row)?;
        w.audit(
            actor,
            actor.org_id,
            if confirmed { "confirm" } else { "unconfirm" },
            RecordType::Claim,
            c.id,
            &claim_content(&c),
        )
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
        let stored = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?.seal_text(
            REVIEW_REASON,
            review_seal_id(key, org_id),
            reason,
        )?;
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
}
