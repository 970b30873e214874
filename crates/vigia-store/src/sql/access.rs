use super::*;

// An attempt's columns, in the order `Packed` reads them. Unqualified: every query
// that reads them reads `access_attempts` alone, or a list of its rows.
macro_rules! attempt_fields {
    () => {
        "attempted_at, id, org_id, facility_id, version, requested_at, purpose, team_size, people_to_see, outcome, \
         reason_category, reason_text, official, restrictions, notes, visibility, created_at, updated_at"
    };
}

/// An attempt as read. On SQLite, its columns packed in one JSON array (`packed`), and
/// a list of attempts as one array of those ([`ATTEMPT_LIST`]): SQLite's driver copies
/// each column of each row into allocations of their own on its connection's thread,
/// which the reader frees on another, and wakes the reader for each row; reading a
/// million attempts column by column, the connection's thread spent about half its
/// time in the allocator's locks and a quarter switching threads (perf, issue #19).
/// The arrays hold only numbers, null, and the codes and sealed text the columns hold,
/// written exactly (integers as they are, text escaped). On PostgreSQL the columns as
/// they are: its driver keeps a row in one buffer, and building the JSON in the
/// database tripled the backend's time for a page of a download (1,000 attempts:
/// 380-490 ms against 156 for 100,000 rows, `psql`).
pub(super) const ATTEMPT_COLUMNS: &str = match BACKEND {
    Backend::Sqlite => concat!("json_array(", attempt_fields!(), ") AS packed"),
    Backend::Postgres => attempt_fields!(),
};

/// The attempts a subquery (`r`, with the columns of `attempt_fields!`) lists. On
/// SQLite one array of [`ATTEMPT_COLUMNS`]' arrays in one row (`packed`), `[]` when it
/// lists none; on PostgreSQL a row per attempt. In no particular order (an aggregate's
/// input order is the planner's to choose); [`attempts_listed`] puts them in the
/// list's.
const ATTEMPT_LIST: &str = match BACKEND {
    Backend::Sqlite => concat!("SELECT json_group_array(json_array(", attempt_fields!(), ")) AS packed FROM "),
    Backend::Postgres => concat!("SELECT ", attempt_fields!(), " FROM "),
};

/// The fields of [`ATTEMPT_COLUMNS`]' array, in order. Codes are borrowed from the
/// row's text when they need no unescaping, which they never do as the app writes them.
#[derive(serde::Deserialize)]
struct Packed<'r>(
    Micros,
    i64,
    i64,
    i64,
    i64,
    Option<Micros>,
    #[serde(borrow)] std::borrow::Cow<'r, str>,
    i64,
    Option<i64>,
    #[serde(borrow)] std::borrow::Cow<'r, str>,
    #[serde(borrow)] Option<std::borrow::Cow<'r, str>>,
    Option<String>,
    Option<String>,
    #[serde(borrow)] std::borrow::Cow<'r, str>,
    Option<String>,
    #[serde(borrow)] std::borrow::Cow<'r, str>,
    Micros,
    Micros,
);

/// The daily counts (alias `d`) organization `$1` may see: its own, and those other
/// organizations share with a coalition both belong to.
const DAILY_VISIBLE_TO: &str = "(d.org_id = $1 OR (d.shared = 1 AND d.org_id IN (\
     SELECT m2.org_id FROM coalition_members m1 JOIN coalition_members m2 ON m1.coalition_id = m2.coalition_id \
     WHERE m1.org_id = $1)))";

/// An import of at least this many rows refreshes the planner's statistics at once.
const BULK_ROWS: i64 = 10_000;

/// SQL's list of the refusal outcomes.
fn refusal_list() -> String {
    vigia_domain::access::refusals().map(|o| format!("'{o}'")).collect::<Vec<_>>().join(", ")
}

/// Where a list of attempts reads from: one organization's rows, all of them (the
/// viewer's own) or only those it shares with a coalition (a partner's). A list walks
/// the index `(org_id, attempted_at, id, …)` of 0031 once per source, newest first from
/// the page's cursor, merged by time and stopped at the page's size. One query with `org_id = $1 OR (… IN partners)` made SQLite read every
/// visible row before the cursor and sort them for each page, so downloading a
/// million attempts a thousand at a time took minutes (issue #19).
enum AttemptSource {
    /// One organization's rows: all of them, or only those it shares.
    Org { org_id: i64, shared_only: bool },
    /// Everything the viewer may see in one condition ([`VISIBLE_TO`]): for a viewer
    /// with more partners than [`MAX_SOURCES`], since SQLite allows at most 500 terms
    /// in a compound SELECT. Slower for deep pages, never wrong.
    Visible { viewer: i64 },
}

/// Beyond this many organizations a list reads them in one condition.
const MAX_SOURCES: usize = 64;

/// Appends a source's rows and the list's filters. Only the filters asked for are
/// written: `($2 IS NULL OR a.facility_id = $2)` keeps both databases from using an
/// index on the column. The cursor is a plain upper bound on time (the index's order)
/// and the id breaks ties (`vigia_domain::paging`).
fn push_attempt_source(q: &mut sqlx::QueryBuilder<Db>, source: &AttemptSource, f: &AttemptFilter) {
    match source {
        AttemptSource::Org { org_id, shared_only } => {
            q.push("a.org_id = ").push_bind(*org_id);
            if *shared_only {
                q.push(" AND a.visibility = ").push_bind(Visibility::Coalition.as_str());
            }
        }
        AttemptSource::Visible { viewer } => {
            q.push("(a.org_id = ").push_bind(*viewer);
            q.push(" OR (a.visibility = ").push_bind(Visibility::Coalition.as_str());
            q.push(
                " AND a.org_id IN (SELECT m1.org_id FROM coalition_members m1 JOIN coalition_members m2 \
                 ON m1.coalition_id = m2.coalition_id WHERE m2.org_id = ",
            )
            .push_bind(*viewer)
            .push(")))");
            if let Some(org) = f.org_id {
                q.push(" AND a.org_id = ").push_bind(org);
            }
        }
    }
    if let Some(facility) = f.facility_id {
        q.push(" AND a.facility_id = ").push_bind(facility);
    }
    if let Some(outcome) = f.outcome {
        q.push(" AND a.outcome = ").push_bind(outcome.as_str());
    }
    if let Some(from) = f.from {
        q.push(" AND a.attempted_at >= ").push_bind(from);
    }
    if let Some(until) = f.until {
        q.push(" AND a.attempted_at < ").push_bind(until);
    }
    if let Some(after) = f.after {
        q.push(" AND a.attempted_at <= ").push_bind(after.key);
        q.push(" AND (a.attempted_at < ").push_bind(after.key).push(" OR a.id < ").push_bind(after.id).push(")");
    }
}

/// The attempts organization `$1` may see: its own, and those other organizations
/// share with a coalition both belong to.
/// The partners' list does not depend on the row, so it is worked out once per query
/// (a hashed subplan) rather than once per attempt: counting 35,000 attempts of one
/// facility on PostgreSQL went from 242 ms to 6 ms with the covering index of 0030
/// (issue #19).
pub(super) const VISIBLE_TO: &str = "(a.org_id = $1 OR (a.visibility = 'coalition' AND a.org_id IN (\
     SELECT m1.org_id FROM coalition_members m1 JOIN coalition_members m2 ON m1.coalition_id = m2.coalition_id \
     WHERE m2.org_id = $1)))";

/// An attempt read with [`ATTEMPT_COLUMNS`].
pub(super) fn attempt_from_row(row: &DbRow) -> Result<Attempt> {
    match BACKEND {
        Backend::Sqlite => {
            let packed: &str = row.try_get("packed")?;
            attempt_from_packed(serde_json::from_str(packed).map_err(packing)?)
        }
        Backend::Postgres => attempt_from_packed(packed_columns(row)?),
    }
}

/// The columns of `attempt_fields!` as [`Packed`] reads them, text borrowed from the row.
fn packed_columns(r: &DbRow) -> Result<Packed<'_>> {
    let text = |c: &str| r.try_get::<&str, _>(c).map(std::borrow::Cow::Borrowed);
    let code = |c: &str| r.try_get::<Option<&str>, _>(c).map(|v| v.map(std::borrow::Cow::Borrowed));
    Ok(Packed(
        r.try_get("attempted_at")?,
        r.try_get("id")?,
        r.try_get("org_id")?,
        r.try_get("facility_id")?,
        r.try_get("version")?,
        r.try_get("requested_at")?,
        text("purpose")?,
        r.try_get("team_size")?,
        r.try_get("people_to_see")?,
        text("outcome")?,
        code("reason_category")?,
        r.try_get("reason_text")?,
        r.try_get("official")?,
        text("restrictions")?,
        r.try_get("notes")?,
        text("visibility")?,
        r.try_get("created_at")?,
        r.try_get("updated_at")?,
    ))
}

/// The attempts of an [`ATTEMPT_LIST`] answer, newest first (ties: highest id first).
fn attempts_listed(rows: &[DbRow]) -> Result<Vec<Attempt>> {
    match BACKEND {
        Backend::Sqlite => packed_list(rows.first().map(|r| r.try_get("packed")).transpose()?.unwrap_or("[]")),
        Backend::Postgres => Ok(newest_first(rows.iter().map(attempt_from_row).collect::<Result<Vec<_>>>()?)),
    }
}

/// The attempts of SQLite's one-value list, newest first.
fn packed_list(packed: &str) -> Result<Vec<Attempt>> {
    let list: Vec<Packed> = serde_json::from_str(packed).map_err(packing)?;
    Ok(newest_first(list.into_iter().map(attempt_from_packed).collect::<Result<Vec<_>>>()?))
}

/// A list's order: newest first, ties by the highest id.
fn newest_first(mut attempts: Vec<Attempt>) -> Vec<Attempt> {
    attempts.sort_unstable_by_key(|a| std::cmp::Reverse((a.draft.attempted_at, a.id)));
    attempts
}

fn packing(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("an attempt's columns: {e}"))
}

fn attempt_from_packed(p: Packed<'_>) -> Result<Attempt> {
    let Packed(
        attempted_at,
        id,
        org_id,
        facility_id,
        version,
        requested_at,
        purpose,
        team_size,
        people_to_see,
        outcome,
        reason,
        reason_text,
        official,
        restrictions,
        notes,
        visibility,
        created_at,
        updated_at,
    ) = p;
    Ok(Attempt {
        id,
        org_id,
        version,
        draft: AttemptDraft {
            facility_id,
            requested_at,
            attempted_at,
            purpose: Purpose::parse(&purpose).ok_or_else(|| corrupt("purpose", &purpose))?,
            team_size,
            people_to_see,
            outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
            reason_category: match reason {
                None => None,
                Some(r) => Some(ReasonCategory::parse(&r).ok_or_else(|| corrupt("reason", &r))?),
            },
            reason_text,
            official,
            restrictions: restrictions
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|r| Restriction::parse(r).ok_or_else(|| corrupt("restriction", r)))
                .collect::<Result<Vec<_>>>()?,
            notes,
            visibility: Visibility::parse(&visibility).ok_or_else(|| corrupt("visibility", &visibility))?,
        },
        created_at,
        updated_at,
    })
}

/// An attempt's free text that can name a person (the official, the reason given, the
/// notes) is sealed with its organization's data key (security review finding 11), and
/// so is what the audit history keeps of it; the coded fields stay open for analysis.
pub(super) const ATTEMPT_REASON: &str = "attempt.reason_text";
pub(super) const ATTEMPT_OFFICIAL: &str = "attempt.official";
pub(super) const ATTEMPT_NOTES: &str = "attempt.notes";

/// The draft as stored for attempt `id`: its free text sealed.
pub(super) fn seal_attempt_text(sealer: &crate::vault::Sealer, id: i64, d: &mut AttemptDraft) -> Result<()> {
    for (field, value) in
        [(ATTEMPT_REASON, &mut d.reason_text), (ATTEMPT_OFFICIAL, &mut d.official), (ATTEMPT_NOTES, &mut d.notes)]
    {
        // Always sealed: a draft is plaintext, even one that looks sealed.
        if let Some(t) = value.as_mut() {
            *t = sealer.seal_text(field, id, t)?;
        }
    }
    Ok(())
}

/// The attempt as its readers see it: its free text opened (text written before
/// sealing reads as it was).
fn open_attempt_text(vault: &Vault, mut a: Attempt) -> Result<Attempt> {
    open_attempt_fields(vault, &mut a)?;
    Ok(a)
}

/// Opens an attempt's sealed text in place: every field or, on an error, none.
fn open_attempt_fields(vault: &Vault, a: &mut Attempt) -> Result<()> {
    let (org, id) = (a.org_id, a.id);
    let d = &a.draft;
    let open = |field, value: &Option<String>| value.as_ref().map(|t| vault.open_text(org, field, id, t)).transpose();
    let (reason, official, notes) =
        (open(ATTEMPT_REASON, &d.reason_text)?, open(ATTEMPT_OFFICIAL, &d.official)?, open(ATTEMPT_NOTES, &d.notes)?);
    (a.draft.reason_text, a.draft.official, a.draft.notes) = (reason, official, notes);
    Ok(())
}

pub(super) fn restrictions_text(d: &AttemptDraft) -> String {
    d.restrictions.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

#[async_trait::async_trait]
impl crate::Access for SqlStore {
    async fn create_attempt(&self, actor: &Actor, org_id: i64, draft: AttemptDraft) -> Result<Attempt> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        let id = insert_attempts_bulk(&mut w, actor, sealer, vec![draft.clone()]).await?.last;
        let a = Attempt { id, org_id, version: 1, draft, created_at: w.now, updated_at: w.now };
        if a.draft.outcome.is_refusal() {
            alert_refusal(&mut w, &a).await?;
        }
        w.commit().await?;
        Ok(a)
    }

    async fn update_attempt(
        &self,
        actor: &Actor,
        org_id: i64,
        id: i64,
        expected_version: Option<i64>,
        draft: AttemptDraft,
    ) -> Result<Attempt> {
        let mut w = self.begin().await?;
        let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE a.id = $1 AND a.org_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(org_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let before = attempt_from_row(&row)?;
        let version = before.version;
        if expected_version.is_some_and(|v| v != version) {
            return Err(StoreError::Conflict("version".into()));
        }
        let zones = facility_zones(&mut w.tx).await?;
        let mut delta = DailyDelta::new();
        count_daily(&mut delta, &zones, org_id, &before.draft, -1)?;
        count_daily(&mut delta, &zones, org_id, &draft, 1)?;
        let a = Attempt { id, org_id, version: version + 1, draft, created_at: before.created_at, updated_at: w.now };
        let mut stored = a.clone();
        seal_attempt_text(&self.vault.sealer(org_id, self.current_key_version(org_id).await?)?, id, &mut stored.draft)?;
        let update = sqlx::query(
            "UPDATE access_attempts SET version = $1, facility_id = $2, requested_at = $3, attempted_at = $4, \
             purpose = $5, team_size = $6, people_to_see = $7, outcome = $8, reason_category = $9, reason_text = $10, \
             official = $11, restrictions = $12, notes = $13, visibility = $14, updated_at = $15 WHERE id = $16",
        );
        bind_draft(update.bind(a.version), stored.draft.clone())
            .bind(a.updated_at)
            .bind(id)
            .execute(&mut *w.tx)
            .await
            .map_err(unique_to_conflict("attempt"))?;
        apply_daily(&mut w.tx, delta).await?;
        let audited_alone =
            sqlx::query("SELECT 1 AS one FROM audit_log WHERE record_type = $1 AND record_id = $2 LIMIT 1")
                .bind(RecordType::AccessAttempt.as_str())
                .bind(id)
                .fetch_optional(&mut *w.tx)
                .await?
                .is_some();
        if !audited_alone {
            // Imported: its import's entry stands for it until now. Its own entries begin
            // with the version the import wrote, so the correction below has a before.
            w.audit(actor, Some(org_id), ORIGINAL, RecordType::AccessAttempt, id, &before.content_json()).await?;
        }
        w.audit(actor, Some(org_id), "update", RecordType::AccessAttempt, id, &stored.content_json()).await?;
        w.commit().await?;
        Ok(a)
    }

    async fn attempt(&self, viewer_org: i64, id: i64) -> Result<Option<Attempt>> {
        let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE {VISIBLE_TO} AND a.id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(viewer_org).bind(id).fetch_optional(&self.pool).await?;
        self.opened(|| row.as_ref().map(|r| open_attempt_text(&self.vault, attempt_from_row(r)?)).transpose()).await
    }

    async fn attempts_by_ids(&self, viewer_org: i64, ids: &[i64]) -> Result<Vec<Attempt>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::new();
        for chunk in ids.chunks(1000) {
            // Integers only: the list is written into the statement, not bound.
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let sql =
                format!("SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE {VISIBLE_TO} AND a.id IN ({list})");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(viewer_org).fetch_all(&self.pool).await?;
            let found: Vec<Attempt> = self
                .opened(|| rows.iter().map(|r| open_attempt_text(&self.vault, attempt_from_row(r)?)).collect())
                .await?;
            out.extend(found);
        }
        Ok(out)
    }

    async fn list_attempts(&self, viewer_org: i64, f: &AttemptFilter) -> Result<Vec<Attempt>> {
        let limit = if f.limit <= 0 { 500 } else { f.limit.min(100_000) };
        let sources = self.attempt_sources(viewer_org, f.org_id).await?;
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        // One compound query: each source is walked newest first by the index, and the
        // database merges the ordered walks lazily, stopping at the page's size. The
        // shape differs by planner, checked with each one's EXPLAIN: SQLite merges plain
        // branches (a MERGE of co-routines; a branch with its own LIMIT would be read
        // whole and sorted), PostgreSQL merges branches that have their own LIMIT (a
        // Merge Append of backward index scans; without it, a bitmap scan of every row
        // before the cursor and a sort).
        // On SQLite the page comes back as one value in one row (see ATTEMPT_COLUMNS).
        let own_limit = BACKEND == Backend::Postgres;
        let mut q = sqlx::QueryBuilder::<Db>::new(ATTEMPT_LIST);
        q.push("(");
        for (i, source) in sources.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            if own_limit {
                q.push("SELECT * FROM (");
            }
            q.push(concat!("SELECT ", attempt_fields!(), " FROM access_attempts a WHERE "));
            push_attempt_source(&mut q, source, f);
            if own_limit {
                q.push(" ORDER BY a.attempted_at DESC, a.id DESC LIMIT ").push_bind(limit).push(format_args!(") s{i}"));
            }
        }
        q.push(" ORDER BY attempted_at DESC, id DESC LIMIT ").push_bind(limit).push(") r");
        let rows = q.build().fetch_all(&self.pool).await?;
        // Read whole, so opening may take a connection of its own to load a key another
        // server added since this one loaded its keys.
        self.opened(|| attempts_listed(&rows)?.into_iter().map(|a| open_attempt_text(&self.vault, a)).collect()).await
    }

    async fn count_attempts(&self, viewer_org: i64, f: &AttemptFilter) -> Result<i64> {
        let sources = self.attempt_sources(viewer_org, f.org_id).await?;
        let mut total = 0;
        for source in &sources {
            let mut q = sqlx::QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM access_attempts a WHERE ");
            push_attempt_source(&mut q, source, f);
            total += q.build().fetch_one(&self.pool).await?.try_get::<i64, _>("n")?;
        }
        Ok(total)
    }

    async fn import_attempts(&self, actor: &Actor, org_id: i64, drafts: Vec<AttemptDraft>) -> Result<AttemptImport> {
        self.import_attempts_fed(actor, org_id, None, Box::new(feed_of(drafts)))
            .await?
            .ok_or_else(|| StoreError::Corrupt("an in-memory import feed ended early".into()))
    }

    async fn import_attempts_fed(
        &self,
        actor: &Actor,
        org_id: i64,
        file: Option<ImportedFile>,
        source: Box<dyn ImportSource>,
    ) -> Result<Option<AttemptImport>> {
        let mut w = self.begin().await?;
        let cache = |kib: &str| format!("PRAGMA cache_size = {kib}");
        if BACKEND == Backend::Sqlite {
            sqlx::query(sqlx::AssertSqlSafe(cache(SQLITE_IMPORT_CACHE_KIB))).execute(&mut *w.tx).await?;
        }
        let audited = Audited::Digest(ImportDigest::default());
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let Some(ins) = insert_attempts_fed(&mut w, actor, sealer, audited, source).await? else {
            // Dropping the transaction rolls it back: nothing of the file is kept. (Here
            // and on an error the connection keeps the larger cache: at most 32 MiB on
            // each of the eight, what every connection had before.)
            return Ok(None);
        };
        let imp = record_import(&mut w, actor, org_id, ins, file).await?;
        if BACKEND == Backend::Sqlite {
            sqlx::query(sqlx::AssertSqlSafe(cache(SQLITE_READ_CACHE_KIB))).execute(&mut *w.tx).await?;
        }
        w.commit().await?;
        if imp.row_count >= BULK_ROWS {
            // In the background: the import is committed and answered at once, whatever
            // becomes of its request now.
            let pool = self.pool.clone();
            tokio::spawn(async move { after_bulk_import(&pool).await });
        }
        Ok(Some(imp))
    }

    async fn access_tallies(&self, viewer_org: i64, f: &TallyFilter) -> Result<Vec<TallyCell>> {
        let sql = format!(
            "SELECT d.facility_id, d.org_id, d.month, CAST(SUM(d.attempts) AS BIGINT) AS attempts, \
             CAST(SUM(d.refusals) AS BIGINT) AS refusals FROM access_daily d WHERE {DAILY_VISIBLE_TO} \
             AND ($2 IS NULL OR d.facility_id = $2) \
             AND ($3 IS NULL OR d.facility_id IN (SELECT id FROM facilities WHERE state_code = $3)) \
             AND ($4 IS NULL OR d.org_id = $4) AND ($5 IS NULL OR d.purpose = $5) \
             AND ($6 IS NULL OR d.day >= $6) AND ($7 IS NULL OR d.day < $7) \
             GROUP BY d.facility_id, d.org_id, d.month"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(viewer_org)
            .bind(f.facility_id)
            .bind(f.state_code.as_deref())
            .bind(f.org_id)
            .bind(f.purpose.map(|p| p.as_str()))
            .bind(f.from_day.map(i64::from))
            .bind(f.until_day.map(i64::from))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let month: i64 = r.try_get("month")?;
                Ok(TallyCell {
                    facility_id: r.try_get("facility_id")?,
                    org_id: r.try_get("org_id")?,
                    month: month as i32,
                    attempts: r.try_get("attempts")?,
                    refusals: r.try_get("refusals")?,
                })
            })
            .collect()
    }

    async fn refused_attempts(&self, viewer_org: i64, from_day: i32, until_day: i32) -> Result<Vec<(i64, i64, i32)>> {
        // Local days are at most a day from UTC ones: read a day more each side, then
        // keep what falls inside in each facility's own zone.
        let micros = |day: i32| i64::from(day) * 86_400_000_000;
        // One walk per source of the index (org_id, attempted_at, id, visibility,
        // facility_id, outcome): everything asked is in it, so the table is not read.
        let sources = self.attempt_sources(viewer_org, None).await?;
        let window = AttemptFilter {
            from: Some(micros(from_day - 1)),
            until: Some(micros(until_day + 1)),
            ..Default::default()
        };
        let mut q = sqlx::QueryBuilder::<Db>::new("");
        for (i, source) in sources.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            q.push("SELECT a.id, a.facility_id, a.attempted_at FROM access_attempts a WHERE ");
            push_attempt_source(&mut q, source, &window);
            q.push(format_args!(" AND a.outcome IN ({})", refusal_list()));
        }
        q.push(" ORDER BY attempted_at, id");
        let zones = facility_zones(&mut *self.pool.acquire().await?).await?;
        // Read a row at a time: a claim's period can hold hundreds of thousands of
        // refusals, and holding them all as the driver's rows first was, with the
        // detections, the server's largest peak of memory (issue #19).
        let mut rows = q.build().fetch(&self.pool);
        let mut out = Vec::new();
        while let Some(r) = futures_util::TryStreamExt::try_next(&mut rows).await? {
            let (id, facility): (i64, i64) = (r.try_get("id")?, r.try_get("facility_id")?);
            let at: i64 = r.try_get("attempted_at")?;
            let day = zones
                .get(&facility)
                .and_then(|tz| vigia_domain::access::local_date(at, tz))
                .map(vigia_domain::access::day_number);
            if let Some(day) = day.filter(|d| (from_day..until_day).contains(d)) {
                out.push((id, facility, day));
            }
        }
        Ok(out)
    }

    async fn attempt_outcomes(
        &self,
        viewer_org: i64,
        facility: Option<i64>,
        from: Micros,
        until: Micros,
    ) -> Result<Vec<(Micros, Outcome)>> {
        // Two statements, not `($4 IS NULL OR a.facility_id = $4)`: SQLite would use no
        // index for that, and read a million rows for one facility's year.
        let at_facility = if facility.is_some() { "a.facility_id = $4 AND" } else { "" };
        let sql = format!(
            "SELECT a.attempted_at, a.outcome FROM access_attempts a WHERE {at_facility} \
             a.attempted_at >= $2 AND a.attempted_at < $3 AND {VISIBLE_TO}"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(viewer_org).bind(from).bind(until);
        if let Some(f) = facility {
            q = q.bind(f);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let outcome: String = r.try_get("outcome")?;
                let outcome = Outcome::parse(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?;
                Ok((r.try_get("attempted_at")?, outcome))
            })
            .collect()
    }

    async fn latest_attempts(&self, viewer_org: i64, per_facility: i64) -> Result<Vec<Attempt>> {
        let ids: Vec<i64> = sqlx::query("SELECT id FROM facilities ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE a.facility_id = $2 AND {VISIBLE_TO} \
             ORDER BY a.attempted_at DESC, a.id DESC LIMIT $3"
        );
        let mut out = Vec::new();
        let mut conn = self.pool.acquire().await?;
        for id in ids {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(viewer_org)
                .bind(id)
                .bind(per_facility)
                .fetch_all(&mut *conn)
                .await?;
            let opened = |r: &DbRow| open_attempt_text(&self.vault, attempt_from_row(r)?);
            out.extend(self.opened(|| rows.iter().map(opened).collect::<Result<Vec<_>>>()).await?);
        }
        Ok(out)
    }

    async fn access_state(&self) -> Result<(i64, i64)> {
        let row =
            sqlx::query("SELECT version, generation FROM access_state WHERE id = 1").fetch_one(&self.pool).await?;
        Ok((row.try_get("version")?, row.try_get("generation")?))
    }

    async fn open_recorded_text(&self, org_id: i64, field: &str, record: i64, stored: &str) -> Result<String> {
        self.opened(|| Ok(self.vault.open_recorded_text(org_id, field, record, stored)?)).await
    }

    async fn data_version(&self) -> Result<(i64, i64, i64)> {
        let row = sqlx::query("SELECT changes, version, generation FROM access_state WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get("changes")?, row.try_get("version")?, row.try_get("generation")?))
    }

    fn local_changes(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn access_daily_since(&self, after_version: i64) -> Result<Vec<DailyCell>> {
        use futures_util::TryStreamExt;
        // A row at a time: the driver's copy of every row of a whole table read at once
        // (eight values each, 435,000 rows) was most of what a large server held after
        // its first analysis, long after it was dropped.
        let mut rows = sqlx::query(
            "SELECT facility_id, day, org_id, purpose, shared, attempts, refusals, version FROM access_daily \
             WHERE version > $1",
        )
        .bind(after_version)
        .fetch(&self.pool);
        let mut cells = Vec::new();
        while let Some(r) = rows.try_next().await? {
            let purpose: String = r.try_get("purpose")?;
            let (day, shared): (i64, i64) = (r.try_get("day")?, r.try_get("shared")?);
            cells.push(DailyCell {
                facility_id: r.try_get("facility_id")?,
                day: day as i32,
                org_id: r.try_get("org_id")?,
                purpose: Purpose::parse(&purpose).ok_or_else(|| corrupt("purpose", &purpose))?,
                shared: shared != 0,
                attempts: r.try_get("attempts")?,
                refusals: r.try_get("refusals")?,
                version: r.try_get("version")?,
            });
        }
        Ok(cells)
    }

    async fn recount_access(&self) -> Result<()> {
        let mut w = self.begin().await?;
        rebuild_daily(&mut w.tx, None).await?;
        w.commit().await
    }
}

impl SqlStore {
    /// The sources of the attempts `viewer` may read ([`VISIBLE_TO`], one per
    /// organization), narrowed to one organization when the list asks for it.
    async fn attempt_sources(&self, viewer: i64, only: Option<i64>) -> Result<Vec<AttemptSource>> {
        let partners = sqlx::query(
            "SELECT DISTINCT m1.org_id FROM coalition_members m1 JOIN coalition_members m2 \
             ON m1.coalition_id = m2.coalition_id WHERE m2.org_id = $1 AND m1.org_id <> $1 ORDER BY m1.org_id",
        )
        .bind(viewer)
        .fetch_all(&self.pool)
        .await?;
        let mut sources = vec![AttemptSource::Org { org_id: viewer, shared_only: false }];
        for row in &partners {
            sources.push(AttemptSource::Org { org_id: row.try_get("org_id")?, shared_only: true });
        }
        sources.retain(|s| match s {
            AttemptSource::Org { org_id, .. } => only.is_none_or(|o| o == *org_id),
            AttemptSource::Visible { .. } => true,
        });
        if sources.len() > MAX_SOURCES {
            // One condition for them all, narrowed by the list's own organization filter.
            return Ok(vec![AttemptSource::Visible { viewer }]);
        }
        Ok(sources)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(at: i64, id: i64, purpose: &str) -> String {
        format!(
            r#"[{at},{id},1,2,1,null,"{purpose}",3,null,"denied","capacity","v1.x",null,"",null,"coalition",{at},{at}]"#
        )
    }

    #[test]
    fn a_listed_page_comes_out_newest_first_whatever_order_the_database_gave() {
        let text = format!(
            "[{},{},{}]",
            packed(10, 1, "monitoring"),
            packed(30, 2, "legal_assistance"),
            packed(30, 3, "medical")
        );
        let got: Vec<(i64, i64)> =
            packed_list(&text).expect("list").iter().map(|a| (a.draft.attempted_at, a.id)).collect();
        assert_eq!(got, [(30, 3), (30, 2), (10, 1)]);
        assert_eq!(packed_list("[]").expect("empty"), []);
    }

    #[test]
    fn a_code_written_with_escapes_reads_the_same_and_a_wrong_shape_is_corrupt() {
        let a = packed_list(&format!("[{}]", packed(1, 1, r"monitor\u0069ng"))).expect("escaped");
        assert_eq!(a[0].draft.purpose.as_str(), "monitoring");
        assert_eq!(a[0].draft.reason_text.as_deref(), Some("v1.x"));
        for bad in ["[[1,2]]", "{}", "[", &format!("[{}]", packed(1, 1, "visita"))] {
            assert!(matches!(packed_list(bad), Err(StoreError::Corrupt(_))), "{bad}");
        }
    }
}
