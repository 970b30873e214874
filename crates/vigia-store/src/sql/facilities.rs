use super::*;

const FACILITY_SELECT: &str =
    "SELECT id, version, name, kind, authority, state_code, municipality, latitude, longitude, \
     capacity, opened_on, closed_on, sources, created_at, updated_at FROM facilities";

fn facility_from_row(row: &DbRow) -> Result<Facility> {
    let kind: String = row.try_get("kind")?;
    let kind = FacilityKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("facility kind {kind:?}")))?;
    Ok(Facility {
        id: row.try_get("id")?,
        version: row.try_get("version")?,
        draft: FacilityDraft {
            name: row.try_get("name")?,
            kind,
            authority: row.try_get("authority")?,
            state_code: row.try_get("state_code")?,
            municipality: row.try_get("municipality")?,
            latitude: row.try_get("latitude")?,
            longitude: row.try_get("longitude")?,
            capacity: row.try_get("capacity")?,
            opened_on: row.try_get("opened_on")?,
            closed_on: row.try_get("closed_on")?,
            sources: row.try_get("sources")?,
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn note_content(id: i64, org_id: i64, facility_id: i64, author: Option<i64>, sealed: &[u8]) -> String {
    serde_json::json!({
        "id": id, "org_id": org_id, "facility_id": facility_id,
        "author_user_id": author, "body_sealed": b64(sealed),
    })
    .to_string()
}

async fn insert_facility(w: &mut WriteTx, actor: &Actor, draft: FacilityDraft) -> Result<Facility> {
    let d = &draft;
    let id: i64 = sqlx::query(
        "INSERT INTO facilities (version, name, kind, authority, state_code, municipality, latitude, longitude, \
         capacity, opened_on, closed_on, sources, created_at, updated_at) \
         VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(&d.name)
    .bind(d.kind.as_str())
    .bind(&d.authority)
    .bind(&d.state_code)
    .bind(&d.municipality)
    .bind(d.latitude)
    .bind(d.longitude)
    .bind(d.capacity)
    .bind(&d.opened_on)
    .bind(&d.closed_on)
    .bind(&d.sources)
    .bind(w.now)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get("id")?;
    let f = Facility { id, version: 1, draft, created_at: w.now, updated_at: w.now };
    w.audit(actor, actor.org_id, "create", RecordType::Facility, id, &f.content_json()).await?;
    Ok(f)
}

#[async_trait::async_trait]
impl crate::Facilities for SqlStore {
    async fn create_facility(&self, actor: &Actor, draft: FacilityDraft) -> Result<Facility> {
        let mut w = self.begin().await?;
        let f = insert_facility(&mut w, actor, draft).await?;
        w.commit().await?;
        Ok(f)
    }

    async fn update_facility(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        draft: FacilityDraft,
    ) -> Result<Facility> {
        let mut w = self.begin().await?;
        let row = sqlx::query("SELECT version, created_at, state_code FROM facilities WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let version: i64 = row.try_get("version")?;
        let zone = |code: &str| vigia_domain::geo::state(code).map(|s| s.time_zone);
        let old_state: String = row.try_get("state_code")?;
        let rezoned = zone(&old_state) != zone(&draft.state_code);
        if expected_version.is_some_and(|v| v != version) {
            return Err(StoreError::Conflict("version".into()));
        }
        let f = Facility { id, version: version + 1, draft, created_at: row.try_get("created_at")?, updated_at: w.now };
        let d = &f.draft;
        sqlx::query(
            "UPDATE facilities SET version = $1, name = $2, kind = $3, authority = $4, state_code = $5, \
             municipality = $6, latitude = $7, longitude = $8, capacity = $9, opened_on = $10, closed_on = $11, \
             sources = $12, updated_at = $13 WHERE id = $14",
        )
        .bind(f.version)
        .bind(&d.name)
        .bind(d.kind.as_str())
        .bind(&d.authority)
        .bind(&d.state_code)
        .bind(&d.municipality)
        .bind(d.latitude)
        .bind(d.longitude)
        .bind(d.capacity)
        .bind(&d.opened_on)
        .bind(&d.closed_on)
        .bind(&d.sources)
        .bind(f.updated_at)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        if rezoned {
            // Its attempts' local days may move.
            rebuild_daily(&mut w.tx, Some(id)).await?;
        }
        w.audit(actor, actor.org_id, "update", RecordType::Facility, id, &f.content_json()).await?;
        w.commit().await?;
        Ok(f)
    }

    async fn facility(&self, id: i64) -> Result<Option<Facility>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{FACILITY_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(facility_from_row).transpose()
    }

    async fn list_facilities(&self) -> Result<Vec<Facility>> {
        let rows = sqlx::query(FACILITY_SELECT).fetch_all(&self.pool).await?;
        let mut list = rows.iter().map(facility_from_row).collect::<Result<Vec<_>>>()?;
        list.sort_by_cached_key(|f| (fold(&f.draft.name), f.id));
        Ok(list)
    }

    async fn import_facilities(&self, actor: &Actor, drafts: Vec<FacilityDraft>) -> Result<Vec<i64>> {
        let mut w = self.begin().await?;
        let mut ids = Vec::with_capacity(drafts.len());
        for d in drafts {
            ids.push(insert_facility(&mut w, actor, d).await?.id);
        }
        w.commit().await?;
        Ok(ids)
    }

    async fn add_facility_note(
        &self,
        actor: &Actor,
        org_id: i64,
        facility_id: i64,
        body: &str,
    ) -> Result<FacilityNote> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        let exists =
            sqlx::query("SELECT id FROM facilities WHERE id = $1").bind(facility_id).fetch_optional(&mut *w.tx).await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let id = w.next_id("facility_notes").await?;
        let sealed = sealer.seal(NOTE_FIELD, id, body.as_bytes())?;
        sqlx::query(
            "INSERT INTO facility_notes (id, org_id, facility_id, author_user_id, body_sealed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(org_id)
        .bind(facility_id)
        .bind(actor.user_id)
        .bind(&sealed)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
        let content = note_content(id, org_id, facility_id, actor.user_id, &sealed);
        w.audit(actor, Some(org_id), "create", RecordType::FacilityNote, id, &content).await?;
        let created_at = w.now;
        w.commit().await?;
        Ok(FacilityNote { id, org_id, facility_id, author_user_id: actor.user_id, body: body.to_string(), created_at })
    }

    async fn facility_notes(&self, org_id: i64, facility_id: i64) -> Result<Vec<FacilityNote>> {
        let rows = sqlx::query(
            "SELECT id, org_id, facility_id, author_user_id, body_sealed, created_at FROM facility_notes \
             WHERE org_id = $1 AND facility_id = $2 ORDER BY id",
        )
        .bind(org_id)
        .bind(facility_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let sealed: Vec<u8> = r.try_get("body_sealed")?;
                let id: i64 = r.try_get("id")?;
                let body = self.vault.open(org_id, NOTE_FIELD, id, &sealed)?;
                Ok(FacilityNote {
                    id,
                    org_id: r.try_get("org_id")?,
                    facility_id: r.try_get("facility_id")?,
                    author_user_id: r.try_get("author_user_id")?,
                    body: String::from_utf8_lossy(&body).into_owned(),
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}
