use super::*;

/// How inserted attempts enter the audit chain.
pub(super) enum Audited {
    /// One entry each (an attempt recorded on its own).
    PerRecord,
    /// Digested together for the one entry of their import, written by the caller.
    Digest(ImportDigest),
}

/// What [`insert_attempts_fed`] wrote: ids `before + 1 ..= last`.
pub(super) struct Inserted {
    pub(super) before: i64,
    pub(super) last: i64,
    pub(super) digest: Option<RowsDigest>,
}

/// Inserts new attempts, with an audit entry each and the daily counts.
pub(super) async fn insert_attempts_bulk(
    w: &mut WriteTx,
    actor: &Actor,
    sealer: crate::vault::Sealer,
    drafts: Vec<AttemptDraft>,
) -> Result<Inserted> {
    insert_attempts_fed(w, actor, sealer, Audited::PerRecord, Box::new(feed_of(drafts)))
        .await?
        .ok_or_else(|| StoreError::Corrupt("an in-memory import feed ended early".into()))
}

/// The action of an import's one audit entry.
pub(super) const IMPORT: &str = "import";
/// The action of the entry that keeps the version an import wrote, at the imported
/// attempt's first correction.
pub(super) const ORIGINAL: &str = "original";

/// Records an import of the attempts `ins` wrote, and its one audit entry.
pub(super) async fn record_import(
    w: &mut WriteTx,
    actor: &Actor,
    org_id: i64,
    ins: Inserted,
    file: Option<ImportedFile>,
) -> Result<AttemptImport> {
    let digest = ins.digest.ok_or_else(|| StoreError::Corrupt("an import without its digest".into()))?;
    let mut imp = AttemptImport {
        id: 0,
        org_id,
        first_id: ins.before + 1,
        last_id: ins.last,
        row_count: digest.rows,
        rows_sha256: digest.all,
        chunk_sha256: digest.chunks,
        file_sha256: file.as_ref().map(|f| f.sha256.clone()),
        file_bytes: file.map(|f| f.bytes),
        created_at: w.now,
    };
    imp.id = sqlx::query(
        "INSERT INTO attempt_imports (org_id, first_id, last_id, row_count, rows_sha256, chunk_sha256, file_sha256, \
         file_bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(org_id)
    .bind(imp.first_id)
    .bind(imp.last_id)
    .bind(imp.row_count)
    .bind(&imp.rows_sha256)
    .bind(imp.chunk_sha256.join(" "))
    .bind(&imp.file_sha256)
    .bind(imp.file_bytes)
    .bind(imp.created_at)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get("id")?;
    w.audit(actor, Some(org_id), IMPORT, RecordType::AttemptImport, imp.id, &imp.content_json()).await?;
    Ok(imp)
}

pub(super) const IMPORT_COLUMNS: &str =
    "id, org_id, first_id, last_id, row_count, rows_sha256, chunk_sha256, file_sha256, file_bytes, created_at";

pub(super) fn import_from_row(r: &DbRow) -> Result<AttemptImport> {
    let chunks: String = r.try_get("chunk_sha256")?;
    Ok(AttemptImport {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        first_id: r.try_get("first_id")?,
        last_id: r.try_get("last_id")?,
        row_count: r.try_get("row_count")?,
        rows_sha256: r.try_get("rows_sha256")?,
        chunk_sha256: chunks.split_whitespace().map(str::to_string).collect(),
        file_sha256: r.try_get("file_sha256")?,
        file_bytes: r.try_get("file_bytes")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A source already holding every row, in [`BULK_ROWS`] chunks, and its end.
pub(super) fn feed_of(drafts: Vec<AttemptDraft>) -> std::vec::IntoIter<ImportFeed> {
    let mut feed = Vec::with_capacity(drafts.len() / BULK_ROWS + 2);
    let mut drafts = drafts.into_iter();
    loop {
        let chunk: Vec<AttemptDraft> = drafts.by_ref().take(BULK_ROWS).collect();
        if chunk.is_empty() {
            break;
        }
        feed.push(ImportFeed::Rows(chunk));
    }
    feed.push(ImportFeed::Complete);
    feed.into_iter()
}

/// Inserts the attempts `source` gives under ids following the current largest, a
/// thousand rows per statement, audited as `audited` says, and the daily counts.
/// Pipelined: a blocking thread asks the source for rows (reading and validating
/// them) and serializes, hashes and binds them, up to a few statements ahead, while
/// this task hands each statement to the database the moment the one before is
/// written: two busy threads, one per core on a small server. Returns what was
/// written, or `None` if the source ended before [`ImportFeed::Complete`] (the caller
/// rolls back).
pub(super) async fn insert_attempts_fed(
    w: &mut WriteTx,
    actor: &Actor,
    sealer: crate::vault::Sealer,
    audited: Audited,
    mut source: Box<dyn ImportSource>,
) -> Result<Option<Inserted>> {
    /// Statements prepared ahead of the one being written, at most.
    const AHEAD: usize = 8;
    let zones = facility_zones(&mut w.tx).await?;
    let before: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) AS m FROM access_attempts")
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("m")?;
    let daily_version = next_daily_version(&mut w.tx).await?;
    let org_id = sealer.org_id();
    let mut p = AttemptPreparer {
        actor: *actor,
        org_id,
        sealer,
        now: w.now,
        zones,
        // Lent to the preparing thread and given back with its new head.
        chain: std::mem::replace(&mut w.chain, Chain { seq: 0, hash: String::new() }),
        audited,
        last: before,
        delta: DailyDelta::new(),
        daily_version,
        uncounted: 0,
        pending: Vec::with_capacity(BULK_ROWS),
    };
    let (ready, mut prepared) = tokio::sync::mpsc::channel::<(Stmt, &'static str)>(AHEAD);
    let preparing = tokio::task::spawn_blocking(move || -> Result<(AttemptPreparer, bool)> {
        let mut queue = Vec::new();
        // `None` while rows may still come; then whether the source said it was complete.
        let mut ended: Option<bool> = None;
        while ended.is_none() {
            p.take(source.next_feed(), &mut queue, &mut ended)?;
            for stmt in queue.drain(..) {
                if ready.blocking_send(stmt).is_err() {
                    // The writer stopped on an error, which it reports.
                    return Ok((p, false));
                }
            }
        }
        Ok((p, ended == Some(true)))
    });
    let mut written = Ok(());
    while let Some((stmt, what)) = prepared.recv().await {
        written = stmt.execute(&mut *w.tx).await.map(drop).map_err(unique_to_conflict(what));
        if written.is_err() {
            break;
        }
    }
    // A problem preparing closed the channel: the statement in flight was finished.
    drop(prepared);
    let prepared = preparing.await.map_err(|e| StoreError::Corrupt(format!("preparing an import failed: {e}")))?;
    written?;
    let (p, complete) = prepared?;
    w.chain = p.chain;
    if !complete {
        return Ok(None);
    }
    let (last, delta) = (p.last, p.delta);
    let digest = match p.audited {
        Audited::Digest(d) => Some(d.finish()),
        Audited::PerRecord => None,
    };
    if BACKEND == Backend::Postgres && last > before {
        // The ids were given here, not by the sequence; writers hold the chain head,
        // so nothing else inserted attempts meanwhile.
        sqlx::query("SELECT setval(pg_get_serial_sequence('access_attempts', 'id'), $1)")
            .bind(last)
            .execute(&mut *w.tx)
            .await?;
    }
    for stmt in daily_upserts(daily_version, delta) {
        stmt.execute(&mut *w.tx).await?;
    }
    Ok(Some(Inserted { before, last, digest }))
}

/// Rows whose daily counts an import keeps before writing them.
const DAILY_EVERY: usize = 50_000;

/// Turns fed rows into INSERTs of attempts and of their chained audit entries.
struct AttemptPreparer {
    actor: Actor,
    org_id: i64,
    /// Seals each row's free text with the organization's current data key.
    sealer: crate::vault::Sealer,
    now: Micros,
    zones: HashMap<i64, jiff::tz::TimeZone>,
    chain: Chain,
    audited: Audited,
    /// The id given last.
    pub(super) last: i64,
    /// Daily counts not yet written, of the last `uncounted` rows; written under
    /// `daily_version` every [`DAILY_EVERY`] rows, along with the rows.
    delta: DailyDelta,
    daily_version: i64,
    uncounted: usize,
    /// Rows taken but not yet in a statement: fewer than [`BULK_ROWS`].
    pending: Vec<AttemptDraft>,
}

impl AttemptPreparer {
    /// Takes what the source gave: rows to prepare, a statement for each thousand, or
    /// its end (`ended` says whether the source called the file complete or just
    /// stopped; a complete file's last rows are prepared then).
    fn take(
        &mut self,
        item: Option<ImportFeed>,
        out: &mut Vec<(Stmt, &'static str)>,
        ended: &mut Option<bool>,
    ) -> Result<()> {
        match item {
            Some(ImportFeed::Rows(rows)) => {
                self.pending.extend(rows);
                while self.pending.len() >= BULK_ROWS {
                    let rest = self.pending.split_off(BULK_ROWS);
                    let chunk = std::mem::replace(&mut self.pending, rest);
                    self.prepare(chunk, out)?;
                }
                Ok(())
            }
            other => {
                let complete = matches!(other, Some(ImportFeed::Complete));
                *ended = Some(complete);
                let rest = std::mem::take(&mut self.pending);
                if complete && !rest.is_empty() {
                    self.prepare(rest, out)?;
                }
                Ok(())
            }
        }
    }

    /// The statements for at most [`BULK_ROWS`] rows.
    fn prepare(&mut self, chunk: Vec<AttemptDraft>, out: &mut Vec<(Stmt, &'static str)>) -> Result<()> {
        for d in &chunk {
            count_daily(&mut self.delta, &self.zones, self.org_id, d, 1)?;
        }
        self.uncounted += chunk.len();
        if self.uncounted >= DAILY_EVERY {
            // Written while the rows go on, not all at the end while nothing else runs.
            out.extend(
                daily_upserts(self.daily_version, std::mem::take(&mut self.delta))
                    .into_iter()
                    .map(|q| (q, "daily count")),
            );
            self.uncounted = 0;
        }
        let mut contents = Vec::with_capacity(chunk.len());
        let mut chunk = chunk;
        // Each attempt's text is sealed for the id it is about to get.
        for (next, d) in (self.last + 1..).zip(&mut chunk) {
            seal_attempt_text(&self.sealer, next, d)?;
        }
        out.push((attempts_insert(&mut self.last, self.org_id, self.now, chunk, &mut contents), "attempt"));
        match &mut self.audited {
            Audited::Digest(d) => contents.iter().for_each(|(_, c)| d.push(&row_hash(c.as_bytes()))),
            Audited::PerRecord => {
                let audit = audit_insert(
                    &mut self.chain,
                    self.now,
                    &self.actor,
                    Some(self.org_id),
                    "create",
                    RecordType::AccessAttempt,
                    contents,
                );
                out.push((audit, "audit entry"));
            }
        }
        Ok(())
    }
}

/// One INSERT of new attempts (at most [`BULK_ROWS`]) under the ids after `last`;
/// pushes each one's audited content onto `contents`.
fn attempts_insert(
    last: &mut i64,
    org_id: i64,
    now: Micros,
    chunk: Vec<AttemptDraft>,
    contents: &mut Vec<(i64, String)>,
) -> Stmt {
    const COLUMNS: usize = 15;
    let sql = format!(
        "INSERT INTO access_attempts (id, org_id, facility_id, requested_at, attempted_at, purpose, team_size, \
         people_to_see, outcome, reason_category, reason_text, official, restrictions, notes, visibility, \
         version, created_at, updated_at) VALUES {}",
        placeholders_then(chunk.len(), COLUMNS, &format!(", 1, {now}, {now}"))
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for d in chunk {
        *last += 1;
        let a = Attempt { id: *last, org_id, version: 1, draft: d, created_at: now, updated_at: now };
        contents.push((a.id, a.content_json()));
        q = bind_draft(q.bind(a.id).bind(org_id), a.draft);
    }
    q
}

/// Binds an attempt's recorded fields, from `facility_id` to `visibility`, in the order
/// the INSERT and the UPDATE of attempts both name them.
pub(super) fn bind_draft<'q>(
    q: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>,
    d: AttemptDraft,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    let restrictions = restrictions_text(&d);
    q.bind(d.facility_id)
        .bind(d.requested_at)
        .bind(d.attempted_at)
        .bind(d.purpose.as_str())
        .bind(d.team_size)
        .bind(d.people_to_see)
        .bind(d.outcome.as_str())
        .bind(d.reason_category.map(|r| r.as_str()))
        .bind(d.reason_text)
        .bind(d.official)
        .bind(restrictions)
        .bind(d.notes)
        .bind(d.visibility.as_str())
}
