use super::*;

pub(super) fn audit_from_row(row: &DbRow) -> Result<AuditEntry> {
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

impl SqlStore {
    /// A record's own audit entries, oldest first.
    pub(super) async fn own_history(
        &self,
        record_type: RecordType,
        record_id: i64,
        org_id: Option<i64>,
    ) -> Result<Vec<HistoryEntry>> {
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
    pub(super) async fn imported_version(&self, attempt_id: i64, entries: &mut Vec<HistoryEntry>) -> Result<()> {
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
}

#[async_trait::async_trait]
impl crate::Audit for SqlStore {
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
        let head =
            sqlx::query("SELECT seq, hash, touched_at FROM chain_head WHERE id = 1").fetch_one(&self.pool).await?;
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
}
