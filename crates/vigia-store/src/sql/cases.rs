use super::*;
use crate::vault::CaseKey;

fn split_codes(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect()
}

/// The conditions of a case list: the organization's, and only the filters asked for
/// (so the planner keeps to the organization's index).
fn push_case_filter(q: &mut sqlx::QueryBuilder<Db>, org_id: i64, f: &CaseFilter) {
    q.push("org_id = ").push_bind(org_id);
    if let Some(s) = f.status {
        q.push(" AND status = ").push_bind(s.as_str());
    }
    if let Some(l) = f.lawyer_user_id {
        q.push(" AND lawyer_user_id = ").push_bind(l);
    }
    if let Some(fac) = f.facility_id {
        q.push(" AND facility_id = ").push_bind(fac);
    }
}

/// An event's plain facts, from a row of `id, kind, occurred_on, occurred_time, ground,
/// decision`.
fn fact_from_row(r: &DbRow) -> Result<Fact> {
    let kind: String = r.try_get("kind")?;
    let on: String = r.try_get("occurred_on")?;
    let time: Option<String> = r.try_get("occurred_time")?;
    let ground: Option<String> = r.try_get("ground")?;
    let decision: Option<String> = r.try_get("decision")?;
    Ok(Fact {
        id: r.try_get("id")?,
        kind: EventKind::parse(&kind).ok_or_else(|| corrupt("event kind", &kind))?,
        on: on.parse().map_err(|_| corrupt("event date", &on))?,
        time: time.map(|t| t.parse().map_err(|_| corrupt("event time", &t))).transpose()?,
        ground: ground.and_then(|g| ExtensionGround::parse(&g)),
        decision: decision.and_then(|d| DecisionOutcome::parse(&d)),
    })
}

pub(super) fn case_from_row(r: &DbRow) -> Result<Case> {
    let sex: String = r.try_get("sex")?;
    let age: String = r.try_get("age_group")?;
    let status: String = r.try_get("status")?;
    let vulns: String = r.try_get("vulnerabilities")?;
    let languages: String = r.try_get("languages")?;
    Ok(Case {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        version: r.try_get("version")?,
        fields: CaseFields {
            reference: r.try_get("reference")?,
            facility_id: r.try_get("facility_id")?,
            lawyer_user_id: r.try_get("lawyer_user_id")?,
            nationality: r.try_get("nationality")?,
            sex: Sex::parse(&sex).ok_or_else(|| corrupt("sex", &sex))?,
            age_group: AgeGroup::parse(&age).ok_or_else(|| corrupt("age_group", &age))?,
            minor: r.try_get("minor")?,
            languages: split_codes(&languages),
            vulnerabilities: split_codes(&vulns)
                .iter()
                .map(|v| Vulnerability::parse(v).ok_or_else(|| corrupt("vulnerability", v)))
                .collect::<Result<_>>()?,
            status: CaseStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        },
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(super) fn case_content(c: &Case, sealed: &[u8]) -> String {
    let mut v = serde_json::to_value(&c.fields).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("id".into(), c.id.into());
        m.insert("org_id".into(), c.org_id.into());
        m.insert("version".into(), c.version.into());
        m.insert("person_sealed".into(), b64(sealed).into());
    }
    v.to_string()
}

pub(super) fn event_from_row(r: &DbRow) -> Result<CaseEvent> {
    let kind: String = r.try_get("kind")?;
    let on: String = r.try_get("occurred_on")?;
    let time: Option<String> = r.try_get("occurred_time")?;
    let ground: Option<String> = r.try_get("ground")?;
    let decision: Option<String> = r.try_get("decision")?;
    let note: Option<Vec<u8>> = r.try_get("note_sealed")?;
    Ok(CaseEvent {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        draft: EventDraft {
            kind: EventKind::parse(&kind).ok_or_else(|| corrupt("event kind", &kind))?,
            on: on.parse().map_err(|_| corrupt("event date", &on))?,
            time: time.map(|t| t.parse().map_err(|_| corrupt("event time", &t))).transpose()?,
            facility_id: r.try_get("facility_id")?,
            ground: ground.map(|g| ExtensionGround::parse(&g).ok_or_else(|| corrupt("ground", &g))).transpose()?,
            decision: decision
                .map(|d| DecisionOutcome::parse(&d).ok_or_else(|| corrupt("decision", &d)))
                .transpose()?,
            note: None,
        },
        has_note: note.is_some(),
        voided_at: r.try_get("voided_at")?,
        void_reason: r.try_get("void_reason")?,
        author_user_id: r.try_get("author_user_id")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn event_content(e: &CaseEvent, org_id: i64, sealed: Option<&[u8]>) -> String {
    let d = &e.draft;
    serde_json::json!({
        "id": e.id, "case_id": e.case_id, "org_id": org_id, "kind": d.kind.as_str(), "on": d.on.to_string(),
        "time": d.time.map(|t| t.to_string()), "facility_id": d.facility_id, "ground": d.ground.map(|g| g.as_str()),
        "decision": d.decision.map(|x| x.as_str()), "note_sealed": sealed.map(b64), "voided_at": e.voided_at,
        "void_reason": e.void_reason, "author_user_id": e.author_user_id,
    })
    .to_string()
}

/// Checks what a case points at, inside the write: the facility exists and the
/// lawyer is a member of the same organization.
async fn check_case_links(w: &mut WriteTx, org_id: i64, f: &CaseFields) -> Result<()> {
    let mut errs = ValidationErrors::new();
    if let Some(id) = f.facility_id {
        if sqlx::query("SELECT id FROM facilities WHERE id = $1").bind(id).fetch_optional(&mut *w.tx).await?.is_none() {
            errs.push(FieldError::new("facility_id", "unknown_facility"));
        }
    }
    if let Some(id) = f.lawyer_user_id {
        let member = sqlx::query("SELECT user_id FROM memberships WHERE user_id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?;
        if member.is_none() {
            errs.push(FieldError::new("lawyer_user_id", "unknown_user"));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errs))
    }
}

/// Writes a case as stored (`c` with its reference sealed) with the reference's keyed
/// hash, which keeps references unique within the organization.
async fn write_case(w: &mut WriteTx, c: &Case, sealed: &[u8], reference_key: &str, insert: bool) -> Result<i64> {
    let f = &c.fields;
    let sql = if insert {
        "INSERT INTO cases (version, reference, facility_id, lawyer_user_id, nationality, sex, age_group, minor, \
         languages, vulnerabilities, status, person_sealed, created_at, updated_at, reference_key, org_id, id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id"
    } else {
        "UPDATE cases SET version = $1, reference = $2, facility_id = $3, lawyer_user_id = $4, nationality = $5, \
         sex = $6, age_group = $7, minor = $8, languages = $9, vulnerabilities = $10, status = $11, \
         person_sealed = $12, created_at = $13, updated_at = $14, reference_key = $15 WHERE org_id = $16 AND id = $17 \
         RETURNING id"
    };
    let vulns: Vec<&str> = f.vulnerabilities.iter().map(|v| v.as_str()).collect();
    let q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(c.version)
        .bind(&f.reference)
        .bind(f.facility_id)
        .bind(f.lawyer_user_id)
        .bind(&f.nationality)
        .bind(f.sex.as_str())
        .bind(f.age_group.as_str())
        .bind(f.minor)
        .bind(f.languages.join(","))
        .bind(vulns.join(","))
        .bind(f.status.as_str())
        .bind(sealed)
        .bind(c.created_at)
        .bind(c.updated_at)
        .bind(reference_key)
        .bind(c.org_id)
        .bind(c.id);
    let row = q.fetch_one(&mut *w.tx).await.map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Invalid(ValidationErrors::single("reference", "taken"))
        }
        _ => StoreError::Database(e),
    })?;
    Ok(row.try_get("id")?)
}

pub(super) fn document_from_row(r: &DbRow) -> Result<Attachment> {
    Ok(Attachment {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        record_type: RecordType::Case.as_str().to_string(),
        record_id: r.try_get("case_id")?,
        sha256: r.try_get("sha256")?,
        filename: r.try_get("filename")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(super) fn document_content(a: &Attachment, sealed_sha: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&a.content_json()).unwrap_or_default();
    v["sealed_sha256"] = sealed_sha.into();
    v.to_string()
}

impl SqlStore {
    /// A case as stored: its reference sealed (finding 11), and the keyed hash that
    /// keeps references unique within the organization.
    pub(super) fn stored_case(&self, c: &Case, sealer: &vault::Sealer) -> Result<(Case, String)> {
        let mut stored = c.clone();
        let reference = &c.fields.reference;
        stored.fields.reference = sealer.seal_text(CASE_REFERENCE, c.id, reference)?;
        Ok((stored, self.vault.blind_index(c.org_id, CASE_REFERENCE, reference)?))
    }

    /// A case document as its readers see it: the file name opened (with the case's
    /// key, or the organization's for one written before case keys). An erased
    /// document has neither name nor hash.
    pub(super) fn opened_document(&self, key: Option<&CaseKey>, mut a: Attachment) -> Result<Attachment> {
        if a.filename.is_empty() && a.sha256.is_empty() {
            return Ok(a);
        }
        a.filename = open_case_text(&self.vault, key, a.org_id, DOCUMENT_NAME, a.id, &a.filename)?;
        a.sha256 = open_case_text(&self.vault, key, a.org_id, DOCUMENT_SHA, a.id, &a.sha256)?;
        Ok(a)
    }

    /// A case's key for reading, `None` when erased or written before case keys.
    pub(super) async fn case_key_or_none(&self, org_id: i64, case_id: i64) -> Result<Option<CaseKey>> {
        match self.case_key(org_id, case_id).await {
            Err(StoreError::Erased) => Ok(None),
            other => other,
        }
    }

    /// A case's key for reading ([`case_key_for_read`]), its organization's keys
    /// loaded again if one was added by another process.
    pub(super) async fn case_key(&self, org_id: i64, case_id: i64) -> Result<Option<CaseKey>> {
        let mut conn = self.pool.acquire().await?;
        match case_key_for_read(&self.vault, &mut conn, org_id, case_id).await {
            Err(StoreError::Vault(VaultError::NoKey(_))) => {
                self.load_new_keys().await?;
                case_key_for_read(&self.vault, &mut conn, org_id, case_id).await
            }
            other => other,
        }
    }

    /// A case as its readers see it: the reference opened.
    pub(super) fn opened_case(&self, mut c: Case) -> Result<Case> {
        c.fields.reference = self.vault.open_text(c.org_id, CASE_REFERENCE, c.id, &c.fields.reference)?;
        Ok(c)
    }

    /// Gives cases written before references were sealed the keyed hash of their
    /// reference, so a new case cannot take a reference an older one has (finding 11).
    /// Their rows and histories are not rewritten; a correction seals the reference.
    pub(super) async fn index_case_references(&self) -> Result<()> {
        let rows = sqlx::query("SELECT id, org_id, reference FROM cases WHERE reference_key IS NULL")
            .fetch_all(&self.pool)
            .await?;
        for r in &rows {
            let (id, org): (i64, i64) = (r.try_get("id")?, r.try_get("org_id")?);
            // These rows are older than the re-sealing that runs after this. One that
            // does not open is skipped: reads refuse it and the audit names it; it must
            // not stop the database from opening.
            let stored: String = r.try_get("reference")?;
            let Ok(reference) = self.vault.open_recorded_text(org, CASE_REFERENCE, id, &stored) else {
                tracing::warn!(case = id, "a case reference does not open: not indexed");
                continue;
            };
            let key = self.vault.blind_index(org, CASE_REFERENCE, &reference)?;
            sqlx::query("UPDATE cases SET reference_key = $1 WHERE id = $2")
                .bind(key)
                .bind(id)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

/// Within a write: the case, if it is the organization's; not found otherwise.
pub(super) async fn case_of(w: &mut WriteTx, org_id: i64, case_id: i64) -> Result<()> {
    let owned = sqlx::query("SELECT id FROM cases WHERE id = $1 AND org_id = $2")
        .bind(case_id)
        .bind(org_id)
        .fetch_optional(&mut *w.tx)
        .await?;
    owned.map(|_| ()).ok_or(StoreError::NotFound)
}

#[async_trait::async_trait]
impl crate::Cases for SqlStore {
    async fn create_case(&self, actor: &Actor, org_id: i64, draft: CaseDraft) -> Result<Case> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let person = serde_json::to_vec(&draft.person).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut w = self.begin().await?;
        check_case_links(&mut w, org_id, &draft.fields).await?;
        let id = w.next_id("cases").await?;
        let c = Case { id, org_id, version: 1, fields: draft.fields, created_at: w.now, updated_at: w.now };
        // The person is sealed with the case's own key (crypto-shredding).
        let (case_key, wrapped) = CaseKey::generate(&sealer, id)?;
        let sealed = case_key.seal(PERSON_FIELD, id, &person)?;
        let (stored, key) = self.stored_case(&c, &sealer)?;
        write_case(&mut w, &stored, &sealed, &key, true).await?;
        insert_case_key(&mut w, org_id, id, &wrapped).await?;
        w.audit(actor, Some(org_id), "create", RecordType::Case, c.id, &case_content(&stored, &sealed)).await?;
        w.commit().await?;
        Ok(c)
    }

    async fn update_case(
        &self,
        actor: &Actor,
        org_id: i64,
        id: i64,
        expected_version: Option<i64>,
        draft: CaseDraft,
    ) -> Result<Case> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let person = serde_json::to_vec(&draft.person).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut w = self.begin().await?;
        let row = sqlx::query("SELECT version, created_at FROM cases WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let current: i64 = row.try_get("version")?;
        if expected_version.is_some_and(|v| v != current) {
            return Err(StoreError::Conflict("version".into()));
        }
        check_case_links(&mut w, org_id, &draft.fields).await?;
        let sealed =
            case_key_for_write(&mut w, &self.vault, &sealer, org_id, id).await?.seal(PERSON_FIELD, id, &person)?;
        let c = Case {
            id,
            org_id,
            version: current + 1,
            fields: draft.fields,
            created_at: row.try_get("created_at")?,
            updated_at: w.now,
        };
        let (stored, key) = self.stored_case(&c, &sealer)?;
        write_case(&mut w, &stored, &sealed, &key, false).await?;
        w.audit(actor, Some(org_id), "update", RecordType::Case, id, &case_content(&stored, &sealed)).await?;
        w.commit().await?;
        Ok(c)
    }

    async fn case(&self, org_id: i64, id: i64) -> Result<Option<Case>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_optional(&self.pool).await?;
        self.opened(|| row.as_ref().map(|r| self.opened_case(case_from_row(r)?)).transpose()).await
    }

    async fn list_cases(&self, org_id: i64, f: &CaseFilter) -> Result<Vec<Case>> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE org_id = $1 AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR lawyer_user_id = $3) AND ($4 IS NULL OR facility_id = $4) ORDER BY id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .bind(f.status.map(|s| s.as_str()))
            .bind(f.lawyer_user_id)
            .bind(f.facility_id)
            .fetch_all(&self.pool)
            .await?;
        self.opened(|| rows.iter().map(|r| self.opened_case(case_from_row(r)?)).collect()).await
    }

    async fn cases_page(&self, org_id: i64, f: &CaseFilter, before: Option<i64>, limit: i64) -> Result<Vec<Case>> {
        let mut q = sqlx::QueryBuilder::<Db>::new(format!("SELECT {CASE_COLUMNS} FROM cases WHERE "));
        push_case_filter(&mut q, org_id, f);
        if let Some(id) = before {
            q.push(" AND id < ").push_bind(id);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit.max(0));
        let rows = q.build().fetch_all(&self.pool).await?;
        self.opened(|| rows.iter().map(|r| self.opened_case(case_from_row(r)?)).collect()).await
    }

    async fn count_cases(&self, org_id: i64, f: &CaseFilter, before: Option<i64>) -> Result<i64> {
        let mut q = sqlx::QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM cases WHERE ");
        push_case_filter(&mut q, org_id, f);
        if let Some(id) = before {
            q.push(" AND id < ").push_bind(id);
        }
        Ok(q.build().fetch_one(&self.pool).await?.try_get("n")?)
    }

    async fn facts_of(&self, org_id: i64, cases: Vec<Case>) -> Result<Vec<CaseFacts>> {
        let mut out: Vec<CaseFacts> = cases.into_iter().map(|case| CaseFacts { case, facts: Vec::new() }).collect();
        if out.is_empty() {
            return Ok(out);
        }
        let index: HashMap<i64, usize> = out.iter().enumerate().map(|(i, c)| (c.case.id, i)).collect();
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT id, case_id, kind, occurred_on, occurred_time, ground, decision FROM case_events \
             WHERE voided_at IS NULL AND org_id = ",
        );
        q.push_bind(org_id).push(" AND case_id IN (");
        let mut ids = q.separated(", ");
        for c in &out {
            ids.push_bind(c.case.id);
        }
        q.push(") ORDER BY case_id, id");
        for r in &q.build().fetch_all(&self.pool).await? {
            let case_id: i64 = r.try_get("case_id")?;
            if let Some(&i) = index.get(&case_id) {
                out[i].facts.push(fact_from_row(r)?);
            }
        }
        Ok(out)
    }

    async fn read_case_sealed(&self, actor: &Actor, org_id: i64, id: i64) -> Result<SealedCase> {
        let mut w = self.begin().await?;
        let row = sqlx::query("SELECT person_sealed FROM cases WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let sealed: Vec<u8> = row.try_get("person_sealed")?;
        let key = case_key_for_read(&self.vault, &mut w.tx, org_id, id).await?;
        let person: Person =
            serde_json::from_slice(&open_case_bytes(&self.vault, key.as_ref(), org_id, PERSON_FIELD, id, &sealed)?)
                .map_err(|e| StoreError::Corrupt(format!("case {id} person: {e}")))?;
        let mut notes = std::collections::BTreeMap::new();
        let rows =
            sqlx::query("SELECT id, note_sealed FROM case_events WHERE case_id = $1 AND note_sealed IS NOT NULL")
                .bind(id)
                .fetch_all(&mut *w.tx)
                .await?;
        for r in &rows {
            let sealed: Vec<u8> = r.try_get("note_sealed")?;
            let event: i64 = r.try_get("id")?;
            let text = open_case_bytes(&self.vault, key.as_ref(), org_id, EVENT_NOTE_FIELD, event, &sealed)?;
            notes.insert(event, String::from_utf8_lossy(&text).into_owned());
        }
        let content = serde_json::json!({
            "case_id": id, "org_id": org_id, "reader_user_id": actor.user_id,
            "fields": ["person", "event_notes"], "event_notes": notes.len(),
        })
        .to_string();
        w.audit(actor, Some(org_id), "read_sealed", RecordType::CaseRead, id, &content).await?;
        w.commit().await?;
        Ok(SealedCase { person, notes })
    }

    async fn add_case_event(&self, actor: &Actor, org_id: i64, case_id: i64, draft: EventDraft) -> Result<CaseEvent> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        case_of(&mut w, org_id, case_id).await?;
        if let Some(fid) = draft.facility_id {
            if sqlx::query("SELECT id FROM facilities WHERE id = $1")
                .bind(fid)
                .fetch_optional(&mut *w.tx)
                .await?
                .is_none()
            {
                return Err(StoreError::Invalid(ValidationErrors::single("facility_id", "unknown_facility")));
            }
        }
        let d = &draft;
        let id = w.next_id("case_events").await?;
        let sealed = match d.note.as_ref() {
            Some(n) => Some(case_key_for_write(&mut w, &self.vault, &sealer, org_id, case_id).await?.seal(
                EVENT_NOTE_FIELD,
                id,
                n.as_bytes(),
            )?),
            None => None,
        };
        sqlx::query(
            "INSERT INTO case_events (case_id, org_id, kind, occurred_on, occurred_time, facility_id, ground, decision, \
             note_sealed, author_user_id, created_at, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(case_id)
        .bind(org_id)
        .bind(d.kind.as_str())
        .bind(d.on.to_string())
        .bind(d.time.map(|t| t.to_string()))
        .bind(d.facility_id)
        .bind(d.ground.map(|g| g.as_str()))
        .bind(d.decision.map(|x| x.as_str()))
        .bind(sealed.as_deref())
        .bind(actor.user_id)
        .bind(w.now)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        let e = CaseEvent {
            id,
            case_id,
            has_note: sealed.is_some(),
            draft: EventDraft { note: None, ..draft.clone() },
            voided_at: None,
            void_reason: None,
            author_user_id: actor.user_id,
            created_at: w.now,
        };
        w.audit(
            actor,
            Some(org_id),
            "create",
            RecordType::CaseEvent,
            id,
            &event_content(&e, org_id, sealed.as_deref()),
        )
        .await?;
        w.commit().await?;
        Ok(CaseEvent { draft, ..e })
    }

    async fn void_case_event(
        &self,
        actor: &Actor,
        org_id: i64,
        case_id: i64,
        event_id: i64,
        reason: &str,
    ) -> Result<CaseEvent> {
        let mut w = self.begin().await?;
        case_of(&mut w, org_id, case_id).await?;
        let sql = format!("SELECT {EVENT_COLUMNS} FROM case_events WHERE id = $1 AND case_id = $2 AND org_id = $3");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(event_id)
            .bind(case_id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::Invalid(ValidationErrors::single("event_id", "unknown_event")))?;
        let mut e = event_from_row(&row)?;
        if e.is_voided() {
            return Err(StoreError::Conflict("already voided".into()));
        }
        let sealed: Option<Vec<u8>> = row.try_get("note_sealed")?;
        // The reason can name a person (finding 11): sealed, here and in the history.
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let stored = case_key_for_write(&mut w, &self.vault, &sealer, org_id, case_id).await?.seal_text(
            VOID_REASON,
            event_id,
            reason,
        )?;
        e.voided_at = Some(w.now);
        e.void_reason = Some(stored.clone());
        sqlx::query("UPDATE case_events SET voided_at = $1, void_reason = $2 WHERE id = $3")
            .bind(w.now)
            .bind(&stored)
            .bind(event_id)
            .execute(&mut *w.tx)
            .await?;
        w.audit(
            actor,
            Some(org_id),
            "void",
            RecordType::CaseEvent,
            event_id,
            &event_content(&e, org_id, sealed.as_deref()),
        )
        .await?;
        w.commit().await?;
        e.void_reason = Some(reason.to_string());
        Ok(e)
    }

    async fn case_events(&self, org_id: i64, case_id: i64) -> Result<Vec<CaseEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM case_events WHERE case_id = $1 AND org_id = $2 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id).bind(org_id).fetch_all(&self.pool).await?;
        let key = if rows.is_empty() { None } else { self.case_key_or_none(org_id, case_id).await? };
        let opened = |r: &DbRow| {
            let mut e = event_from_row(r)?;
            if let Some(reason) = e.void_reason.as_mut() {
                *reason = open_case_text(&self.vault, key.as_ref(), org_id, VOID_REASON, e.id, reason)?;
            }
            Ok(e)
        };
        self.opened(|| rows.iter().map(opened).collect()).await
    }

    async fn cases_with_facts(&self, org_ids: Option<&[i64]>, open_only: bool) -> Result<Vec<CaseFacts>> {
        let orgs = org_ids.map(|o| o.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        let org_filter = |column: &str| match &orgs {
            Some(list) => format!("{column} IN ({list})"),
            None => "1 = 1".to_string(),
        };
        if orgs.as_ref().is_some_and(|l| l.is_empty()) {
            return Ok(Vec::new());
        }
        let status = if open_only { "AND status = 'open'" } else { "" };
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE {} {status} ORDER BY id", org_filter("org_id"));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        let mut out: Vec<CaseFacts> = self
            .opened(|| {
                rows.iter()
                    .map(|r| Ok(CaseFacts { case: self.opened_case(case_from_row(r)?)?, facts: Vec::new() }))
                    .collect::<Result<_>>()
            })
            .await?;
        let index: HashMap<i64, usize> = out.iter().enumerate().map(|(i, c)| (c.case.id, i)).collect();
        let sql = format!(
            "SELECT e.id, e.case_id, e.kind, e.occurred_on, e.occurred_time, e.ground, e.decision FROM case_events e \
             JOIN cases c ON c.id = e.case_id WHERE e.voided_at IS NULL AND {} {} ORDER BY e.case_id, e.id",
            org_filter("c.org_id"),
            if open_only { "AND c.status = 'open'" } else { "" }
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        for r in &rows {
            let case_id: i64 = r.try_get("case_id")?;
            let Some(&i) = index.get(&case_id) else { continue };
            out[i].facts.push(fact_from_row(r)?);
        }
        Ok(out)
    }

    fn case_pseudonym(&self, org_id: i64, case_id: i64) -> Result<String> {
        Ok(format!("P-{}", self.vault.pseudonym(org_id, "case", case_id)?))
    }

    async fn add_case_document(
        &self,
        actor: &Actor,
        org_id: i64,
        case_id: i64,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<Attachment> {
        let sha = sha256_hex(bytes);
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        case_of(&mut w, org_id, case_id).await?;
        let key = case_key_for_write(&mut w, &self.vault, &sealer, org_id, case_id).await?;
        let id = w.next_id("case_documents").await?;
        let sealed = key.seal(DOCUMENT_FIELD, id, bytes)?;
        // A document's file name can name its person (finding 11): sealed too.
        let stored_name = key.seal_text(DOCUMENT_NAME, id, filename)?;
        let stored_sha = key.seal_text(DOCUMENT_SHA, id, &sha)?;
        sqlx::query(
            "INSERT INTO case_documents (id, org_id, case_id, sha256, sealed_sha256, filename, content_type, size, data_sealed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(org_id)
        .bind(case_id)
        .bind(&stored_sha)
        .bind(sha256_hex(&sealed))
        .bind(&stored_name)
        .bind(content_type)
        .bind(bytes.len() as i64)
        .bind(&sealed)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
        let mut a = Attachment {
            id,
            org_id,
            record_type: RecordType::Case.as_str().to_string(),
            record_id: case_id,
            sha256: stored_sha,
            filename: stored_name,
            content_type: content_type.to_string(),
            size: bytes.len() as i64,
            created_at: w.now,
        };
        w.audit(
            actor,
            Some(org_id),
            "attach",
            RecordType::CaseDocument,
            id,
            &document_content(&a, &sha256_hex(&sealed)),
        )
        .await?;
        w.commit().await?;
        a.filename = filename.to_string();
        a.sha256 = sha;
        Ok(a)
    }

    async fn case_documents(&self, org_id: i64, case_id: i64) -> Result<Vec<Attachment>> {
        let sql =
            format!("SELECT {DOCUMENT_COLUMNS} FROM case_documents WHERE org_id = $1 AND case_id = $2 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(case_id).fetch_all(&self.pool).await?;
        let key = if rows.is_empty() { None } else { self.case_key_or_none(org_id, case_id).await? };
        self.opened(|| rows.iter().map(|r| self.opened_document(key.as_ref(), document_from_row(r)?)).collect()).await
    }

    async fn read_case_document(&self, actor: &Actor, org_id: i64, id: i64) -> Result<(Attachment, Vec<u8>)> {
        let mut w = self.begin().await?;
        let sql = format!("SELECT {DOCUMENT_COLUMNS}, data_sealed FROM case_documents WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let case_id: i64 = row.try_get("case_id")?;
        let key = case_key_for_read(&self.vault, &mut w.tx, org_id, case_id).await?;
        let a = self.opened(|| self.opened_document(key.as_ref(), document_from_row(&row)?)).await?;
        let sealed: Vec<u8> = row.try_get("data_sealed")?;
        let bytes = open_case_bytes(&self.vault, key.as_ref(), org_id, DOCUMENT_FIELD, id, &sealed)?.to_vec();
        if sha256_hex(&bytes) != a.sha256 {
            return Err(StoreError::Corrupt(format!("case document {id} does not match its hash")));
        }
        let content = serde_json::json!({
            "case_id": a.record_id, "org_id": org_id, "reader_user_id": actor.user_id, "fields": ["document"], "document_id": id,
        })
        .to_string();
        w.audit(actor, Some(org_id), "read_sealed", RecordType::CaseRead, a.record_id, &content).await?;
        w.commit().await?;
        Ok((a, bytes))
    }
}
