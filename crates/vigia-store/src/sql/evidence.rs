use super::*;

pub(super) fn attachment_from_row(r: &DbRow) -> Result<Attachment> {
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

impl SqlStore {
    /// Seals evidence files stored before files were sealed (finding 10), each with the
    /// key of the organization that first attached it, checking its hash first. A file
    /// whose bytes no longer match is left as it is for `audit verify` to name. Runs
    /// when the store opens; once every file is sealed it costs one query.
    pub(super) async fn seal_plain_evidence(&self) -> Result<usize> {
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
            let plain = match crate::Evidence::blob(self, &sha).await {
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
                crate::owner_only_tree(dir)
                    .map_err(|e| StoreError::Corrupt(format!("cannot restrict {}: {e}", dir.display())))?;
            }
        }
        Ok(sealed)
    }
}

#[async_trait::async_trait]
impl crate::Evidence for SqlStore {
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
        let key_org: Option<i64> = sqlx::query("SELECT key_org FROM blobs WHERE sha256 = $1")
            .bind(&sha)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("key_org")?;
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
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE record_type = $1 AND record_id = $2 ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(record_type.as_str())
            .bind(record_id)
            .fetch_all(&self.pool)
            .await?;
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
}
