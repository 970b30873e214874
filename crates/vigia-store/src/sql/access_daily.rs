use super::*;

/// A cell of `access_daily`: facility, local day, organization, purpose, shared.
type DailyKey = (i64, i32, i64, &'static str, bool);
/// Attempts and refusals to add to cells (negative to take away).
pub(super) type DailyDelta = HashMap<DailyKey, (i64, i64)>;

/// Each facility's time zone, for local days.
pub(super) async fn facility_zones(
    conn: &mut <Db as sqlx::Database>::Connection,
) -> Result<HashMap<i64, jiff::tz::TimeZone>> {
    let rows = sqlx::query("SELECT id, state_code FROM facilities").fetch_all(&mut *conn).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in &rows {
        let code: String = r.try_get("state_code")?;
        let name = vigia_domain::geo::state(&code).map(|s| s.time_zone).unwrap_or(vigia_domain::geo::LEGAL_TIME_ZONE);
        let tz = jiff::tz::TimeZone::get(name).map_err(|e| StoreError::Corrupt(format!("time zone {name}: {e}")))?;
        out.insert(r.try_get("id")?, tz);
    }
    Ok(out)
}

/// Counts an attempt (`sign` 1) or takes it back (`sign` -1).
pub(super) fn count_daily(
    delta: &mut DailyDelta,
    zones: &HashMap<i64, jiff::tz::TimeZone>,
    org_id: i64,
    d: &AttemptDraft,
    sign: i64,
) -> Result<()> {
    let tz = zones.get(&d.facility_id).ok_or(StoreError::NotFound)?;
    let day = vigia_domain::access::local_date(d.attempted_at, tz)
        .ok_or_else(|| StoreError::Corrupt(format!("instant {}", d.attempted_at)))?;
    let key = (
        d.facility_id,
        vigia_domain::access::day_number(day),
        org_id,
        d.purpose.as_str(),
        d.visibility == Visibility::Coalition,
    );
    let e = delta.entry(key).or_default();
    e.0 += sign;
    e.1 += sign * i64::from(d.outcome.is_refusal());
    Ok(())
}

/// Adds the deltas to `access_daily` under a new `access_state.version`. Emptied
/// cells stay with zero counts, so copies kept by app servers see them change.
pub(super) async fn apply_daily(conn: &mut <Db as sqlx::Database>::Connection, delta: DailyDelta) -> Result<()> {
    let version = next_daily_version(conn).await?;
    for stmt in daily_upserts(version, delta) {
        stmt.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A new `access_state.version`, for the cells a write changes.
pub(super) async fn next_daily_version(conn: &mut <Db as sqlx::Database>::Connection) -> Result<i64> {
    Ok(sqlx::query("UPDATE access_state SET version = version + 1 WHERE id = 1 RETURNING version")
        .fetch_one(&mut *conn)
        .await?
        .try_get("version")?)
}

/// The upserts adding `delta` to the daily counts under `version`. Adding commutes,
/// so a long import may add its counts in several parts.
pub(super) fn daily_upserts(version: i64, delta: DailyDelta) -> Vec<Stmt> {
    const COLUMNS: usize = 9;
    let mut out = Vec::new();
    let mut cells: Vec<(DailyKey, (i64, i64))> = delta.into_iter().filter(|(_, v)| *v != (0, 0)).collect();
    // In the table's key order: each page is then visited once, not once per cell
    // (a million-row import touches hundreds of thousands of cells).
    cells.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for chunk in cells.chunks(BULK_ROWS) {
        let sql = format!(
            "INSERT INTO access_daily (facility_id, day, org_id, purpose, shared, month, attempts, refusals, version) \
             VALUES {} ON CONFLICT (facility_id, day, org_id, purpose, shared) DO UPDATE SET \
             attempts = access_daily.attempts + excluded.attempts, refusals = access_daily.refusals + excluded.refusals, \
             version = excluded.version",
            placeholders(chunk.len(), COLUMNS)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((facility, day, org, purpose, shared), (attempts, refusals)) in chunk {
            let month = vigia_domain::access::month_key(vigia_domain::access::date_of_day(*day));
            q = q
                .bind(*facility)
                .bind(i64::from(*day))
                .bind(*org)
                .bind(*purpose)
                .bind(i64::from(*shared))
                .bind(i64::from(month))
                .bind(*attempts)
                .bind(*refusals)
                .bind(version);
        }
        out.push(q);
    }
    out
}

/// Every attempt, of one facility or all, in id order: 20,000 rows per query, so
/// memory stays flat however many millions there are.
pub(super) async fn each_attempt(
    conn: &mut <Db as sqlx::Database>::Connection,
    facility: Option<i64>,
    mut f: impl FnMut(Attempt) -> Result<()>,
) -> Result<()> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM access_attempts a WHERE a.id > $1 AND ($2 IS NULL OR a.facility_id = $2) \
         ORDER BY a.id LIMIT 20000"
    );
    let mut after = 0i64;
    loop {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(after).bind(facility).fetch_all(&mut *conn).await?;
        if rows.is_empty() {
            return Ok(());
        }
        for r in &rows {
            let a = attempt_from_row(r)?;
            after = a.id;
            f(a)?;
        }
    }
}

/// `access_daily` as the attempts say it should be, for one facility or all.
pub(super) async fn recount_daily(
    conn: &mut <Db as sqlx::Database>::Connection,
    facility: Option<i64>,
) -> Result<DailyDelta> {
    let zones = facility_zones(conn).await?;
    let mut delta = DailyDelta::new();
    each_attempt(conn, facility, |a| count_daily(&mut delta, &zones, a.org_id, &a.draft, 1)).await?;
    delta.retain(|_, v| v.0 != 0);
    Ok(delta)
}

/// Rebuilds `access_daily` from the attempts, for one facility or all: after a
/// facility's time zone changes, after importing an archive, and when the table is new.
pub(super) async fn rebuild_daily(conn: &mut <Db as sqlx::Database>::Connection, facility: Option<i64>) -> Result<()> {
    let delta = recount_daily(conn, facility).await?;
    sqlx::query("DELETE FROM access_daily WHERE $1 IS NULL OR facility_id = $1")
        .bind(facility)
        .execute(&mut *conn)
        .await?;
    // Rows went away: copies must start over.
    sqlx::query("UPDATE access_state SET generation = generation + 1 WHERE id = 1").execute(&mut *conn).await?;
    apply_daily(conn, delta).await
}

/// `access_daily` as stored.
pub(super) async fn stored_daily(
    conn: &mut <Db as sqlx::Database>::Connection,
) -> Result<HashMap<(i64, i32, i64, String, bool), (i64, i64)>> {
    let rows = sqlx::query(
        "SELECT facility_id, day, org_id, purpose, shared, attempts, refusals FROM access_daily \
         WHERE attempts <> 0 OR refusals <> 0",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in &rows {
        let day: i64 = r.try_get("day")?;
        let shared: i64 = r.try_get("shared")?;
        out.insert(
            (r.try_get("facility_id")?, day as i32, r.try_get("org_id")?, r.try_get("purpose")?, shared != 0),
            (r.try_get("attempts")?, r.try_get("refusals")?),
        );
    }
    Ok(out)
}
