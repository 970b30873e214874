use super::*;
use crate::{StatFile, StatRow, StatVersion};
use vigia_domain::statistics::bulletin::Table;
use vigia_domain::statistics::{rows_sha256, Dimension, Figure, Measure, Provenance, RowKind};

pub(super) const VERSION_COLUMNS: &str = "v.id, v.code, v.year, v.measure, v.dimension, v.title, v.sheet, v.months, \
     v.row_count, v.file_name, v.media_type, v.file_sha256, f.size AS file_size, v.publisher, v.source_url, v.retrieved_on, \
     v.published_on, v.illustrative, v.figures_sha256, v.org_id, v.imported_by, v.imported_at";

const FROM_VERSIONS: &str = "stat_versions v JOIN stat_files f ON f.sha256 = v.file_sha256";

fn corrupt(what: &str, v: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("statistics {what} {v:?}"))
}

fn date(text: &str) -> Result<jiff::civil::Date> {
    text.parse().map_err(|_| corrupt("date", text))
}

pub(super) fn version_from_row(r: &<Db as sqlx::Database>::Row) -> Result<StatVersion> {
    let measure: String = r.try_get("measure")?;
    let dimension: String = r.try_get("dimension")?;
    let months: String = r.try_get("months")?;
    let year: i64 = r.try_get("year")?;
    let published: Option<String> = r.try_get("published_on")?;
    Ok(StatVersion {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        year: i16::try_from(year).map_err(|_| corrupt("year", year))?,
        measure: Measure::parse(&measure).ok_or_else(|| corrupt("measure", &measure))?,
        dimension: Dimension::parse(&dimension).ok_or_else(|| corrupt("dimension", &dimension))?,
        title: r.try_get("title")?,
        sheet: r.try_get("sheet")?,
        months: months
            .split(',')
            .filter(|m| !m.is_empty())
            .map(|m| m.parse().map_err(|_| corrupt("months", &months)))
            .collect::<Result<_>>()?,
        row_count: r.try_get("row_count")?,
        file_name: r.try_get("file_name")?,
        media_type: r.try_get("media_type")?,
        file_sha256: r.try_get("file_sha256")?,
        file_size: r.try_get("file_size")?,
        provenance: Provenance {
            publisher: r.try_get("publisher")?,
            source_url: r.try_get("source_url")?,
            retrieved_on: date(&r.try_get::<String, _>("retrieved_on")?)?,
            published_on: published.as_deref().map(date).transpose()?,
            illustrative: r.try_get("illustrative")?,
        },
        figures_sha256: r.try_get("figures_sha256")?,
        org_id: r.try_get("org_id")?,
        imported_by: r.try_get("imported_by")?,
        imported_at: r.try_get("imported_at")?,
    })
}

/// Rows inserted per statement: 7 parameters each stays far under both engines' limits.
const FIGURES_PER_STATEMENT: usize = 1_000;

#[async_trait::async_trait]
impl crate::Statistics for SqlStore {
    async fn import_statistics(
        &self,
        actor: &Actor,
        org_id: i64,
        file: StatFile,
        provenance: Provenance,
        tables: Vec<Table>,
    ) -> Result<Vec<StatVersion>> {
        let sha = vigia_domain::audit::sha256_hex(&file.bytes);
        let size = file.bytes.len() as i64;
        let mut w = self.begin().await?;
        sqlx::query(
            "INSERT INTO stat_files (sha256, size, data, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha)
        .bind(size)
        .bind(file.bytes)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
        let mut out = Vec::new();
        for table in tables {
            let taken: Option<i64> =
                sqlx::query_scalar("SELECT id FROM stat_versions WHERE file_sha256 = $1 AND sheet = $2")
                    .bind(&sha)
                    .bind(&table.sheet)
                    .fetch_optional(&mut *w.tx)
                    .await?;
            if let Some(id) = taken {
                return Err(StoreError::Conflict(format!("stats_already_imported:{id}")));
            }
            let rows_hash =
                rows_sha256(table.rows.iter().map(|r| (r.key.as_str(), r.label.as_str(), r.kind, r.values.as_slice())));
            let months = table.months.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(",");
            let id: i64 = sqlx::query(
                "INSERT INTO stat_versions (code, year, measure, dimension, title, sheet, months, row_count, file_name, \
                 media_type, file_sha256, publisher, source_url, retrieved_on, published_on, illustrative, \
                 figures_sha256, org_id, imported_by, imported_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
                 RETURNING id",
            )
            .bind(&table.code)
            .bind(i64::from(table.year))
            .bind(table.measure.as_str())
            .bind(table.dimension.as_str())
            .bind(&table.title)
            .bind(&table.sheet)
            .bind(&months)
            .bind(table.rows.len() as i64)
            .bind(&file.name)
            .bind(&file.media_type)
            .bind(&sha)
            .bind(&provenance.publisher)
            .bind(&provenance.source_url)
            .bind(provenance.retrieved_on.to_string())
            .bind(provenance.published_on.map(|d| d.to_string()))
            .bind(provenance.illustrative)
            .bind(&rows_hash)
            .bind(org_id)
            .bind(actor.user_id)
            .bind(w.now)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("id")?;
            let cells: Vec<(i64, &str, &str, &str, u8, i64)> = table
                .rows
                .iter()
                .enumerate()
                .flat_map(|(i, r)| {
                    r.values
                        .iter()
                        .map(move |(m, v)| (i as i64, r.key.as_str(), r.label.as_str(), r.kind.as_str(), *m, *v))
                })
                .collect();
            for chunk in cells.chunks(FIGURES_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO stat_figures (version_id, position, key, label, kind, month, value) VALUES {}",
                    placeholders(chunk.len(), 7)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (pos, key, label, kind, month, value) in chunk {
                    q = q.bind(id).bind(*pos).bind(*key).bind(*label).bind(*kind).bind(i64::from(*month)).bind(*value);
                }
                q.execute(&mut *w.tx).await?;
            }
            let v = StatVersion {
                id,
                code: table.code,
                year: table.year,
                measure: table.measure,
                dimension: table.dimension,
                title: table.title,
                sheet: table.sheet,
                months: table.months,
                row_count: table.rows.len() as i64,
                file_name: file.name.clone(),
                media_type: file.media_type.clone(),
                file_sha256: sha.clone(),
                file_size: size,
                provenance: provenance.clone(),
                figures_sha256: rows_hash,
                org_id,
                imported_by: actor.user_id,
                imported_at: w.now,
            };
            w.audit(actor, Some(org_id), "import", RecordType::StatVersion, id, &v.content_json()).await?;
            out.push(v);
        }
        w.commit().await?;
        Ok(out)
    }

    async fn stat_versions(&self) -> Result<Vec<StatVersion>> {
        let sql = format!("SELECT {VERSION_COLUMNS} FROM {FROM_VERSIONS} ORDER BY v.id DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(version_from_row).collect()
    }

    async fn stat_version(&self, id: i64) -> Result<Option<StatVersion>> {
        let sql = format!("SELECT {VERSION_COLUMNS} FROM {FROM_VERSIONS} WHERE v.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(version_from_row).transpose()
    }

    async fn stat_rows(&self, version_id: i64) -> Result<Vec<StatRow>> {
        let rows = sqlx::query(
            "SELECT position, key, label, kind, month, value FROM stat_figures WHERE version_id = $1 ORDER BY position, month",
        )
        .bind(version_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<StatRow> = Vec::new();
        let mut last = -1i64;
        for r in &rows {
            let pos: i64 = r.try_get("position")?;
            let month: i64 = r.try_get("month")?;
            let value: i64 = r.try_get("value")?;
            let month = u8::try_from(month).map_err(|_| corrupt("month", month))?;
            if pos != last {
                let kind: String = r.try_get("kind")?;
                out.push(StatRow {
                    key: r.try_get("key")?,
                    label: r.try_get("label")?,
                    kind: RowKind::parse(&kind).ok_or_else(|| corrupt("row kind", &kind))?,
                    values: Vec::new(),
                });
                last = pos;
            }
            if let Some(row) = out.last_mut() {
                row.values.push((month, value));
            }
        }
        Ok(out)
    }

    async fn stat_figures(&self, version_ids: &[i64], key: Option<&str>) -> Result<Vec<(i64, Figure)>> {
        if version_ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = version_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        // The ids are numbers formatted here, never text from a request.
        let sql = match key {
            Some(_) => format!(
                "SELECT version_id, key, month, value FROM stat_figures WHERE version_id IN ({list}) AND key = $1 \
                 ORDER BY version_id, position, month"
            ),
            None => format!(
                "SELECT version_id, key, month, value FROM stat_figures WHERE version_id IN ({list}) \
                 ORDER BY version_id, position, month"
            ),
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(k) = key {
            q = q.bind(k);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| -> Result<(i64, Figure)> {
                let month: i64 = r.try_get("month")?;
                Ok((
                    r.try_get("version_id")?,
                    Figure {
                        key: r.try_get("key")?,
                        month: u8::try_from(month).map_err(|_| corrupt("month", month))?,
                        value: r.try_get("value")?,
                    },
                ))
            })
            .collect()
    }

    async fn stat_file(&self, version_id: i64) -> Result<Option<(String, String, Vec<u8>)>> {
        let row = sqlx::query(
            "SELECT v.file_name, v.media_type, v.file_sha256, f.data FROM stat_versions v \
             JOIN stat_files f ON f.sha256 = v.file_sha256 WHERE v.id = $1",
        )
        .bind(version_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let data: Vec<u8> = r.try_get("data")?;
        let sha: String = r.try_get("file_sha256")?;
        if vigia_domain::audit::sha256_hex(&data) != sha {
            return Err(StoreError::Integrity(format!("statistics file {sha} no longer matches its hash")));
        }
        Ok(Some((r.try_get("file_name")?, r.try_get("media_type")?, data)))
    }
}

/// Recomputes a version's rows' hash from what is stored (for `audit verify`).
pub(super) async fn stored_figures_sha256(store: &SqlStore, version_id: i64) -> Result<String> {
    let rows = crate::Statistics::stat_rows(store, version_id).await?;
    Ok(rows_sha256(rows.iter().map(|r| (r.key.as_str(), r.label.as_str(), r.kind, r.values.as_slice()))))
}
