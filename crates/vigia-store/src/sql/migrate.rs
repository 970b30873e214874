use super::*;

/// Applies the backend's migrations that are not yet applied, each in its own
/// transaction with its Rust step (see `migrations.rs`), and refuses to start if an
/// applied migration's text has changed. Without `key`, stops before the first migration
/// whose step needs it.
pub(super) async fn migrate(pool: &Pool<Db>, key: Option<&MasterKey>) -> Result<()> {
    use crate::migrations::Step;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, \
         checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(pool)
    .await?;
    for m in MIGRATIONS {
        let (version, name, sql) = (m.version, m.name, m.sql);
        let key = match (m.step.keyed(), key) {
            (true, None) => return Ok(()),
            (_, key) => key,
        };
        let checksum = sha256_hex(sql.as_bytes());
        let applied = sqlx::query("SELECT checksum FROM schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(pool)
            .await?;
        if let Some(row) = applied {
            let stored: String = row.try_get("checksum")?;
            if stored != checksum {
                return Err(StoreError::Migration {
                    version,
                    name: name.to_string(),
                    reason: "it was changed after being applied".into(),
                });
            }
            continue;
        }
        let fail = |e: sqlx::Error| StoreError::Migration { version, name: name.to_string(), reason: e.to_string() };
        let mut tx = pool.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(fail)?;
        let failed = |e: StoreError| StoreError::Migration { version, name: name.to_string(), reason: e.to_string() };
        match (m.step, key) {
            (Step::None, _) => {}
            (Step::RebuildDaily, _) => rebuild_daily(&mut tx, None).await.map_err(failed)?,
            (Step::TrustRows, Some(key)) => {
                remac(&mut tx, key, None).await.map_err(failed)?;
            }
            (Step::SignHead, Some(key)) => {
                let row = sqlx::query("SELECT seq, hash, touched_at, keyed_from FROM chain_head WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
                let mut head = Head::from_row(&row)?;
                head.keyed_from = Some(head.seq);
                sqlx::query("UPDATE chain_head SET mac = $1, keyed_from = $2 WHERE id = 1")
                    .bind(head.mac(key))
                    .bind(head.seq)
                    .execute(&mut *tx)
                    .await?;
            }
            (Step::TrustRows | Step::SignHead, None) => {
                return Err(StoreError::Migration {
                    version,
                    name: name.to_string(),
                    reason: "it needs the master key".into(),
                })
            }
        }
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
            .bind(version)
            .bind(name)
            .bind(&checksum)
            .bind(now_micros())
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        tx.commit().await?;
        tracing::info!(version, name, backend = BACKEND.as_str(), "migration applied");
    }
    Ok(())
}
