use super::*;

/// A visits cursor's key is the day as YYYYMMDD; the column holds it as YYYY-MM-DD.
fn cursor_day(k: i64) -> String {
    format!("{:04}-{:02}-{:02}", k / 10_000, (k / 100) % 100, k % 100)
}

pub(super) fn visit_from_row(r: &DbRow) -> Result<Visit> {
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

pub(super) fn visit_content(v: &Visit, sealed: Option<&[u8]>) -> String {
    serde_json::json!({"id": v.id, "org_id": v.org_id, "key": v.idempotency_key, "report": v.draft,
                       "notes_sealed": sealed.map(b64), "author_user_id": v.author_user_id})
    .to_string()
}

#[async_trait::async_trait]
impl crate::Visits for SqlStore {
    async fn record_visit(&self, actor: &Actor, org_id: i64, key: &str, draft: VisitDraft) -> Result<(Visit, bool)> {
        let notes = draft.interview_notes.clone();
        let mut plain = draft.clone();
        plain.interview_notes = None;
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        let sql = format!("SELECT {VISIT_COLUMNS} FROM visits WHERE org_id = $1 AND idempotency_key = $2");
        if let Some(row) =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(key).fetch_optional(&mut *w.tx).await?
        {
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
                (Some(s), Some(n)) => self
                    .vault
                    .open(org_id, VISIT_NOTES_FIELD, existing.id, s)
                    .is_ok_and(|p| p.as_slice() == n.as_bytes()),
                _ => false,
            };
            return if existing.draft == plain && same_notes {
                Ok((existing, false))
            } else {
                Err(StoreError::Conflict("a different report was already sent under this key".into()))
            };
        }
        if sqlx::query("SELECT id FROM facilities WHERE id = $1")
            .bind(draft.facility_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .is_none()
        {
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
        let row =
            sqlx::query("SELECT id FROM visits WHERE org_id = $1 AND author_user_id = $2 AND idempotency_key = $3")
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

    async fn visits_page(
        &self,
        org_id: i64,
        facility_id: Option<i64>,
        after: Option<vigia_domain::paging::Cursor>,
        limit: i64,
    ) -> Result<Vec<Visit>> {
        let mut q = sqlx::QueryBuilder::<Db>::new(format!("SELECT {VISIT_COLUMNS} FROM visits WHERE org_id = "));
        q.push_bind(org_id);
        if let Some(f) = facility_id {
            q.push(" AND facility_id = ").push_bind(f);
        }
        push_after(&mut q, "visited_on", after.map(|c| (cursor_day(c.key), c.id)));
        q.push(" ORDER BY visited_on DESC, id DESC LIMIT ").push_bind(limit.max(0));
        let rows = q.build().fetch_all(&self.pool).await?;
        self.opened(|| rows.iter().map(|r| open_visit_text(&self.vault, visit_from_row(r)?)).collect()).await
    }

    async fn count_visits(
        &self,
        org_id: i64,
        facility_id: Option<i64>,
        after: Option<vigia_domain::paging::Cursor>,
    ) -> Result<i64> {
        let mut q = sqlx::QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM visits WHERE org_id = ");
        q.push_bind(org_id);
        if let Some(f) = facility_id {
            q.push(" AND facility_id = ").push_bind(f);
        }
        push_after(&mut q, "visited_on", after.map(|c| (cursor_day(c.key), c.id)));
        Ok(q.build().fetch_one(&self.pool).await?.try_get("n")?)
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
}
