use super::*;

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
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT name, type FROM pragma_table_info('{table}')")))
            .fetch_all(pool)
            .await?
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

pub(super) fn org_key_content(org_id: i64, version: i64) -> String {
    serde_json::json!({"org_id": org_id, "version": version}).to_string()
}

#[async_trait::async_trait]
impl crate::Maintenance for SqlStore {
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
        sqlx::query("UPDATE chain_head SET key_check = $1 WHERE id = 1")
            .bind(new.key_check())
            .execute(&mut *w.tx)
            .await?;
        let failing = remac(&mut w.tx, new, Some(&old)).await?;
        // The head is signed with the new key as this commits.
        w.key = new.clone();
        if failing > 0 {
            tracing::warn!(
                rows = failing,
                "security rows that failed their integrity check stay refused under the new key"
            );
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
                    let (Some(bytes), Some(sha)) =
                        (data.as_ref().and_then(json_bytes), row.get("sha256").and_then(|s| s.as_str()))
                    else {
                        return Err(StoreError::Corrupt("an exported evidence file has no bytes".into()));
                    };
                    let key_org = match row.get("key_org") {
                        None | Some(serde_json::Value::Null) => None,
                        Some(v) => Some(v.as_i64().ok_or_else(|| {
                            StoreError::Corrupt(format!(
                                "an exported evidence file names organization {v}, not a number"
                            ))
                        })?),
                    };
                    let name = blob_name(sha, key_org)?;
                    // A file kept in the clear is checked before it is written; a sealed
                    // one opens only with its organization's key, checked when the
                    // imported data is verified.
                    if key_org.is_none() && sha256_hex(&bytes) != sha {
                        return Err(StoreError::Corrupt(format!(
                            "exported evidence file {sha} does not match its hash"
                        )));
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
