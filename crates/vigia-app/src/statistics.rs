//! Official statistics (issue #18 part 1): reading the bulletin's files, importing them
//! as dataset versions, the series charts draw, their spikes and breaks raised as
//! alerts, and the side-by-side view with an organization's own records. The web pages,
//! the JSON API, the `vigia stats` command and the demo call these functions.

use std::collections::{BTreeMap, HashMap};

use vigia_domain::statistics::bulletin::{self, Problem};
use vigia_domain::statistics::signals::{self, Signal};
use vigia_domain::statistics::{Dimension, Measure, Provenance, RowKind, YearMonth};
use vigia_store::{Actor, DynStore, StatFile, StatVersion};

use crate::AppError;

pub use crate::sheets::{read_sheets, MAX_FILE_BYTES};

/// What an import came to: the versions stored, or every problem (nothing stored).
pub type ImportOutcome = Result<Vec<StatVersion>, Vec<Problem>>;

/// Reads a bulletin file and stores each of its tables as a new dataset version, then
/// raises the alerts its months bring. All tables or none; a file imported before (the
/// same bytes' same sheet) is a conflict.
pub async fn import(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    file_name: &str,
    bytes: Vec<u8>,
    provenance: Provenance,
) -> Result<ImportOutcome, AppError> {
    let (read, bytes) = tokio::task::spawn_blocking(move || {
        let read = read_sheets(&bytes).map_err(|p| vec![p]).and_then(|(sheets, media)| {
            let tables = bulletin::read(&sheets)?;
            Ok((tables, media))
        });
        (read, bytes)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let (tables, media) = match read {
        Ok(t) => t,
        Err(problems) => return Ok(Err(problems)),
    };
    let name: String = file_name.chars().filter(|c| !c.is_control()).take(200).collect();
    let file = StatFile { name: if name.is_empty() { "file".into() } else { name }, media_type: media.into(), bytes };
    let versions = store.import_statistics(actor, org_id, file, provenance, tables).await?;
    for v in &versions {
        raise_signals(store, v).await?;
    }
    Ok(Ok(versions))
}

/// A series: one row key of one table (its number, measure and dimension), month by
/// month across the latest version of each year.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Series {
    pub table: Option<String>,
    pub measure: Measure,
    pub dimension: Dimension,
    pub key: String,
    pub start: Option<YearMonth>,
    /// One value per month from `start`; `None` where no version has the month yet.
    pub values: Vec<Option<i64>>,
    /// The versions the values come from, one per year.
    pub versions: Vec<StatVersion>,
    pub signals: Vec<Signal>,
    /// Whether any value comes from the demo's invented figures.
    pub illustrative: bool,
}

impl Series {
    /// The months of the series with their values.
    pub fn months(&self) -> Vec<(YearMonth, Option<i64>)> {
        let Some(start) = self.start else { return Vec::new() };
        self.values.iter().enumerate().map(|(i, v)| (YearMonth::from_index(start.index() + i as i32), *v)).collect()
    }
}

/// Which of two versions of one table and year is the newer file: the one covering
/// more months (the bulletin's file is cumulative), then the later retrieval, then the
/// later import. Importing May's file after June's does not put May's in charts.
fn newer(a: &StatVersion, b: &StatVersion) -> bool {
    (a.months.len(), a.provenance.retrieved_on, a.id) > (b.months.len(), b.provenance.retrieved_on, b.id)
}

/// The newest version of each table (number, measure, dimension) and year: what series
/// and charts use. The rest are history, one click away on each version's page.
pub fn latest(versions: &[StatVersion]) -> Vec<&StatVersion> {
    let mut by: BTreeMap<(String, Measure, Dimension, i16), &StatVersion> = BTreeMap::new();
    for v in versions {
        let e = by.entry((v.code.clone(), v.measure, v.dimension, v.year)).or_insert(v);
        if newer(v, e) {
            *e = v;
        }
    }
    by.into_values().collect()
}

/// The versions of the same table and year as `v`, newest file first.
pub fn siblings<'a>(versions: &'a [StatVersion], v: &StatVersion) -> Vec<&'a StatVersion> {
    let mut out: Vec<&StatVersion> = versions
        .iter()
        .filter(|s| s.code == v.code && s.measure == v.measure && s.dimension == v.dimension && s.year == v.year)
        .collect();
    out.sort_by(|a, b| if newer(a, b) { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater });
    out
}

/// The table a series of a measure and dimension reads when none is named: the one
/// imported for the most years (3.2.1 for returns by nationality, say).
fn main_table(latest: &[&StatVersion], measure: Measure, dimension: Dimension) -> Option<String> {
    let mut years: BTreeMap<&str, usize> = BTreeMap::new();
    for v in latest.iter().filter(|v| v.measure == measure && v.dimension == dimension) {
        *years.entry(v.code.as_str()).or_default() += 1;
    }
    years.iter().max_by_key(|(code, n)| (**n, std::cmp::Reverse(**code))).map(|(c, _)| c.to_string())
}

/// The latest versions of one table: the one named, or the main one of the measure and
/// dimension.
fn table_versions(
    all: &[StatVersion],
    table: Option<&str>,
    measure: Measure,
    dimension: Dimension,
) -> (Option<String>, Vec<StatVersion>) {
    let latest = latest(all);
    let code = table.map(str::to_string).or_else(|| main_table(&latest, measure, dimension));
    let versions = latest
        .into_iter()
        .filter(|v| v.measure == measure && v.dimension == dimension && Some(&v.code) == code.as_ref())
        .cloned()
        .collect();
    (code, versions)
}

/// Every row key's monthly values (from its first month to its last) in some versions,
/// read in one query.
async fn values_of(
    store: &DynStore,
    versions: &[StatVersion],
    key: Option<&str>,
) -> Result<HashMap<String, (YearMonth, Vec<Option<i64>>)>, AppError> {
    let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let year_of: HashMap<i64, i16> = versions.iter().map(|v| (v.id, v.year)).collect();
    let mut by_key: HashMap<String, BTreeMap<YearMonth, i64>> = HashMap::new();
    for (vid, f) in store.stat_figures(&ids, key).await? {
        if let Some(ym) = year_of.get(&vid).and_then(|y| YearMonth::new(*y, f.month)) {
            by_key.entry(f.key).or_default().insert(ym, f.value);
        }
    }
    Ok(by_key
        .into_iter()
        .filter_map(|(k, months)| {
            let (s, e) = (*months.keys().next()?, *months.keys().next_back()?);
            Some((k, (s, (s.index()..=e.index()).map(|i| months.get(&YearMonth::from_index(i)).copied()).collect())))
        })
        .collect())
}

/// The series of `key` in a table (named, or the main one of the measure and
/// dimension), from the latest versions.
pub async fn series(
    store: &DynStore,
    table: Option<&str>,
    measure: Measure,
    dimension: Dimension,
    key: &str,
) -> Result<Series, AppError> {
    let all = store.stat_versions().await?;
    let (table, versions) = table_versions(&all, table, measure, dimension);
    let (start, values) =
        values_of(store, &versions, Some(key)).await?.remove(key).map_or((None, Vec::new()), |(s, v)| (Some(s), v));
    let signals = start.map(|s| signals::signals(s, &values)).unwrap_or_default();
    let illustrative = versions.iter().any(|v| v.provenance.illustrative);
    let years: Vec<i16> = start
        .map(|s| (0..values.len()).map(|i| YearMonth::from_index(s.index() + i as i32).year).collect())
        .unwrap_or_default();
    let versions: Vec<StatVersion> = versions.into_iter().filter(|v| years.contains(&v.year)).collect();
    Ok(Series { table, measure, dimension, key: key.to_string(), start, values, versions, signals, illustrative })
}

/// The row keys of a table's latest versions, with their kind, in the files' order
/// (totals and regions first, as printed).
pub async fn keys(
    store: &DynStore,
    table: Option<&str>,
    measure: Measure,
    dimension: Dimension,
) -> Result<Vec<(String, RowKind)>, AppError> {
    let all = store.stat_versions().await?;
    let (_, versions) = table_versions(&all, table, measure, dimension);
    let mut out: Vec<(String, RowKind)> = Vec::new();
    for v in versions.iter().rev() {
        for r in store.stat_rows(v.id).await? {
            if !out.iter().any(|(k, _)| *k == r.key) {
                out.push((r.key, r.kind));
            }
        }
    }
    Ok(out)
}

/// How many of a series' last months a new file's signal may be in to be news: a
/// historical year imported today raises nothing.
const RECENT_MONTHS: i32 = 3;

/// Raises an alert in every organization for each spike or break a new version brings:
/// in a month the version before it did not have yet, among the last months of the
/// series, for the table's total and each country or category (regions are sums of
/// those and would repeat them). One alert per series and month: when a spike becomes a
/// break with the next files, nobody is told twice.
pub async fn raise_signals(store: &DynStore, v: &StatVersion) -> Result<usize, AppError> {
    let all = store.stat_versions().await?;
    let (_, versions) = table_versions(&all, Some(&v.code), v.measure, v.dimension);
    if !versions.iter().any(|x| x.id == v.id) {
        // An older file imported after a newer one: what charts show did not change.
        return Ok(0);
    }
    let before: Vec<u8> =
        siblings(&all, v).iter().filter(|s| s.id != v.id && newer(v, s)).flat_map(|s| s.months.clone()).collect();
    let new_months: Vec<u8> = v.months.iter().copied().filter(|m| !before.contains(m)).collect();
    let illustrative = versions.iter().any(|x| x.provenance.illustrative);
    let values = values_of(store, &versions, None).await?;
    let orgs = store.list_orgs().await?;
    let mut raised = 0;
    for row in store.stat_rows(v.id).await? {
        if row.kind == RowKind::Region {
            continue;
        }
        let Some((start, series)) = values.get(&row.key) else { continue };
        let last = start.index() + series.len() as i32 - 1;
        for sig in signals::signals(*start, series).iter().filter(|x| {
            x.month.year == v.year && new_months.contains(&x.month.month) && x.month.index() > last - RECENT_MONTHS
        }) {
            let key = format!("stats:{}:{}:{}", v.code, row.key, sig.month.label());
            let payload = serde_json::json!({
                "type": "statistics.signal", "table": v.code,
                "measure": v.measure, "dimension": v.dimension, "key": row.key,
                "month": sig.month.label(), "kind": sig.kind, "direction": sig.direction,
                "value": sig.value, "baseline": sig.baseline.round() as i64, "version_id": v.id,
                "illustrative": illustrative, "unit": "events",
            })
            .to_string();
            for org in &orgs {
                if store.raise_alert(org.id, "statistics", &key, None, &payload).await?.is_some() {
                    raised += 1;
                }
            }
        }
    }
    Ok(raised)
}

/// One month of the side-by-side view: official events next to the organization's own
/// records.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TimelineMonth {
    pub month: String,
    pub returned: Option<i64>,
    pub presented: Option<i64>,
    pub attempts: i64,
    pub refusals: i64,
    pub statements: usize,
    /// Suspected suspensions that overlap the month (their start dates).
    pub suspensions: Vec<String>,
}

/// Returns and detention events of one nationality (or all: `total`) next to the
/// access refusals, suspected suspensions and statements the viewer's organization can
/// see (its coalition's, as its reports count them), month by month.
pub async fn timeline(
    store: &DynStore,
    mirror: &crate::analysis::Mirror,
    found: &crate::findings::FoundCache,
    cache: &Timelines,
    q: &TimelineQuery,
) -> Result<std::sync::Arc<(Vec<TimelineMonth>, bool)>, AppError> {
    cache.kept.get(store, q.clone(), || compute_timeline(store, mirror, found, q)).await
}

/// Which timeline: the viewer's organization, the official series' key, the months.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimelineQuery {
    pub viewer_org: i64,
    pub key: String,
    pub from: YearMonth,
    pub until: YearMonth,
}

/// Timelines kept per viewer and period until the data change (issue #19): one joins
/// two official series, the access analysis and every statement's month.
pub struct Timelines {
    kept: crate::kept::Kept<TimelineQuery, (Vec<TimelineMonth>, bool)>,
}

impl Default for Timelines {
    fn default() -> Self {
        Timelines { kept: crate::kept::Kept::new(1024) }
    }
}

async fn compute_timeline(
    store: &DynStore,
    mirror: &crate::analysis::Mirror,
    found: &crate::findings::FoundCache,
    q: &TimelineQuery,
) -> Result<(Vec<TimelineMonth>, bool), AppError> {
    let (viewer_org, key, from, until) = (q.viewer_org, q.key.as_str(), q.from, q.until);
    let returned = series(store, None, Measure::Returned, Dimension::Nationality, key).await?;
    let presented = series(store, None, Measure::Presented, Dimension::Nationality, key).await?;
    let value = |s: &Series, ym: YearMonth| s.months().into_iter().find(|(m, _)| *m == ym).and_then(|(_, v)| v);
    let first =
        jiff::civil::Date::new(from.year, from.month as i8, 1).map_err(|e| AppError::Internal(e.to_string()))?;
    let after = YearMonth::from_index(until.index() + 1);
    let last = jiff::civil::Date::new(after.year, after.month as i8, 1)
        .map_err(|e| AppError::Internal(e.to_string()))?
        .yesterday()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let q = crate::reports::PeriodQuery { coalition: true, from: first, until: last, facility_id: None };
    // Only the access part: the rest of a coalition report is kept to whole years.
    let access = crate::reports::access_part(store, mirror, viewer_org, &q).await?;
    let detections = crate::findings::detections(store, mirror, found, viewer_org).await?;
    let tz =
        jiff::tz::TimeZone::get(vigia_domain::geo::LEGAL_TIME_ZONE).map_err(|e| AppError::Internal(e.to_string()))?;
    // Statements by the month they were published in, in one pass.
    let mut statements: HashMap<YearMonth, usize> = HashMap::new();
    for s in detections.statements.iter() {
        if let Some(ym) = vigia_domain::access::local_date(s.draft.published_at, &tz)
            .and_then(|d| YearMonth::new(d.year(), d.month() as u8))
        {
            *statements.entry(ym).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for i in from.index()..=until.index() {
        let ym = YearMonth::from_index(i);
        let label = ym.label();
        let month_access = access.by_month.iter().find(|r| r.label == label);
        out.push(TimelineMonth {
            returned: value(&returned, ym),
            presented: value(&presented, ym),
            attempts: month_access.map(|a| a.attempts).unwrap_or(0),
            refusals: month_access.map(|a| a.refusals).unwrap_or(0),
            statements: statements.get(&ym).copied().unwrap_or(0),
            suspensions: access
                .suspensions
                .iter()
                .filter(|s| {
                    let (a, b) = (
                        YearMonth::new(s.start.year(), s.start.month() as u8),
                        YearMonth::new(s.end.year(), s.end.month() as u8),
                    );
                    a.zip(b).is_some_and(|(a, b)| a <= ym && ym <= b)
                })
                .map(|s| s.start.to_string())
                .collect(),
            month: label,
        });
    }
    Ok((out, returned.illustrative || presented.illustrative))
}
