//! Official statistics (issue #18 part 1): reading the bulletin's files, importing them
//! as dataset versions, the series charts draw, their spikes and breaks raised as
//! alerts, and the side-by-side view with an organization's own records. The web pages,
//! the JSON API, the `vigia stats` command and the demo call these functions.

use std::collections::{BTreeMap, HashMap};

use vigia_domain::statistics::bulletin::{self, Cell, Problem, Sheet};
use vigia_domain::statistics::signals::{self, Signal};
use vigia_domain::statistics::{Dimension, Measure, Provenance, RowKind, YearMonth};
use vigia_store::{Actor, DynStore, StatFile, StatVersion};

use crate::AppError;

/// The largest file an import reads (a year's table is tens of kilobytes).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

fn file_problem(code: &'static str, detail: String) -> Problem {
    Problem { sheet: String::new(), row: 1, column: "A".into(), code, params: vec![("detail", detail)] }
}

/// What kind of file the bytes are, by their first bytes (never by the name alone).
fn media_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        "application/vnd.ms-excel"
    } else if bytes.starts_with(b"PK\x03\x04") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        "text/csv"
    }
}

/// Reads an XLS, XLSX or CSV file into sheets of cells. A file that is none of them is
/// one problem (`stats_unreadable_file`) naming why.
pub fn read_sheets(name: &str, bytes: &[u8]) -> Result<(Vec<Sheet>, &'static str), Problem> {
    let media = media_type(bytes);
    if bytes.len() > MAX_FILE_BYTES {
        return Err(file_problem("stats_file_too_large", MAX_FILE_BYTES.to_string()));
    }
    if media == "text/csv" {
        return Ok((vec![csv_sheet(name, bytes)?], media));
    }
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| file_problem("stats_unreadable_file", e.to_string()))?;
    let mut sheets = Vec::new();
    for sheet_name in book.sheet_names() {
        let range =
            book.worksheet_range(&sheet_name).map_err(|e| file_problem("stats_unreadable_file", e.to_string()))?;
        // A range starts at its first used cell: rows and columns before it are empty.
        let (top, left) = range.start().map(|(r, c)| (r as usize, c as usize)).unwrap_or((0, 0));
        let mut rows: Vec<Vec<Cell>> = (0..top).map(|_| Vec::new()).collect();
        for row in range.rows() {
            let mut cells: Vec<Cell> = (0..left).map(|_| Cell::Empty).collect();
            cells.extend(row.iter().map(|d| match d {
                calamine::Data::Empty => Cell::Empty,
                calamine::Data::Int(i) => Cell::Number(*i as f64),
                calamine::Data::Float(f) => Cell::Number(*f),
                calamine::Data::String(s) => Cell::Text(s.clone()),
                other => Cell::Text(other.to_string()),
            }));
            rows.push(cells);
        }
        sheets.push(Sheet { name: sheet_name, rows });
    }
    Ok((sheets, media))
}

/// A CSV as one sheet: UTF-8 (with or without its BOM) or else Windows-1252, the
/// Latin-1 the bulletin's text is often in; comma, semicolon or tab separated.
fn csv_sheet(name: &str, bytes: &[u8]) -> Result<Sheet, Problem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
    };
    if text.contains('\0') {
        return Err(file_problem("stats_unreadable_file", "binary".into()));
    }
    let head: String = text.lines().take(20).collect();
    let delimiter =
        [b',', b';', b'\t'].into_iter().max_by_key(|d| head.bytes().filter(|b| b == d).count()).unwrap_or(b',');
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| file_problem("stats_unreadable_file", e.to_string()))?;
        rows.push(
            record.iter().map(|c| if c.trim().is_empty() { Cell::Empty } else { Cell::Text(c.to_string()) }).collect(),
        );
    }
    let stem = name.rsplit(['/', '\\']).next().unwrap_or(name);
    Ok(Sheet { name: stem.trim_end_matches(".csv").trim_end_matches(".CSV").to_string(), rows })
}

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
    let name = file_name.to_string();
    let (read, bytes) = tokio::task::spawn_blocking(move || {
        let read = read_sheets(&name, &bytes).map_err(|p| vec![p]).and_then(|(sheets, media)| {
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

/// A series: one row key of one measure and dimension, month by month across the
/// latest version of each year.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Series {
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

/// The newest version of each (measure, dimension, year): what series and charts use.
/// The rest are history, one click away on each version's page.
pub fn latest(versions: &[StatVersion]) -> Vec<&StatVersion> {
    let mut by: BTreeMap<(Measure, Dimension, i16), &StatVersion> = BTreeMap::new();
    for v in versions {
        let e = by.entry((v.measure, v.dimension, v.year)).or_insert(v);
        if v.id > e.id {
            *e = v;
        }
    }
    by.into_values().collect()
}

/// The series of `key` for a measure and dimension, from the latest versions.
pub async fn series(store: &DynStore, measure: Measure, dimension: Dimension, key: &str) -> Result<Series, AppError> {
    let all = store.stat_versions().await?;
    let versions: Vec<StatVersion> =
        latest(&all).into_iter().filter(|v| v.measure == measure && v.dimension == dimension).cloned().collect();
    let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let year_of: HashMap<i64, i16> = versions.iter().map(|v| (v.id, v.year)).collect();
    let mut by_month: BTreeMap<YearMonth, i64> = BTreeMap::new();
    for (vid, f) in store.stat_figures(&ids, Some(key)).await? {
        if let Some(ym) = year_of.get(&vid).and_then(|y| YearMonth::new(*y, f.month)) {
            by_month.insert(ym, f.value);
        }
    }
    let start = by_month.keys().next().copied();
    let values = match (start, by_month.keys().next_back()) {
        (Some(s), Some(e)) => {
            (s.index()..=e.index()).map(|i| by_month.get(&YearMonth::from_index(i)).copied()).collect()
        }
        _ => Vec::new(),
    };
    let signals = start.map(|s| signals::signals(s, &values)).unwrap_or_default();
    let illustrative = versions.iter().any(|v| v.provenance.illustrative);
    let versions: Vec<StatVersion> =
        versions.into_iter().filter(|v| by_month.keys().any(|m| m.year == v.year)).collect();
    Ok(Series { measure, dimension, key: key.to_string(), start, values, versions, signals, illustrative })
}

/// The row keys a measure and dimension has in its latest versions, with their kind
/// and label, in the files' order (totals and regions first, as printed).
pub async fn keys(
    store: &DynStore,
    measure: Measure,
    dimension: Dimension,
) -> Result<Vec<(String, RowKind)>, AppError> {
    let all = store.stat_versions().await?;
    let mut out: Vec<(String, RowKind)> = Vec::new();
    for v in latest(&all).into_iter().rev().filter(|v| v.measure == measure && v.dimension == dimension) {
        for r in store.stat_rows(v.id).await? {
            if !out.iter().any(|(k, _)| *k == r.key) {
                out.push((r.key, r.kind));
            }
        }
    }
    Ok(out)
}

/// Every row key's monthly values (from its first month to its last) for a measure and
/// dimension, from the latest versions, read in one query.
async fn all_values(
    store: &DynStore,
    measure: Measure,
    dimension: Dimension,
) -> Result<(bool, HashMap<String, (YearMonth, Vec<Option<i64>>)>), AppError> {
    let all = store.stat_versions().await?;
    let versions: Vec<&StatVersion> =
        latest(&all).into_iter().filter(|v| v.measure == measure && v.dimension == dimension).collect();
    let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let year_of: HashMap<i64, i16> = versions.iter().map(|v| (v.id, v.year)).collect();
    let mut by_key: HashMap<String, BTreeMap<YearMonth, i64>> = HashMap::new();
    for (vid, f) in store.stat_figures(&ids, None).await? {
        if let Some(ym) = year_of.get(&vid).and_then(|y| YearMonth::new(*y, f.month)) {
            by_key.entry(f.key).or_default().insert(ym, f.value);
        }
    }
    let out = by_key
        .into_iter()
        .filter_map(|(k, months)| {
            let (s, e) = (*months.keys().next()?, *months.keys().next_back()?);
            Some((k, (s, (s.index()..=e.index()).map(|i| months.get(&YearMonth::from_index(i)).copied()).collect())))
        })
        .collect();
    Ok((versions.iter().any(|v| v.provenance.illustrative), out))
}

/// Raises an alert in every organization for each spike or break a new version brings
/// (months of its own year), for the table's total and each country or category —
/// regions are sums of those and would repeat them.
pub async fn raise_signals(store: &DynStore, v: &StatVersion) -> Result<usize, AppError> {
    let mut raised = 0;
    let orgs = store.list_orgs().await?;
    let (illustrative, values) = all_values(store, v.measure, v.dimension).await?;
    for row in store.stat_rows(v.id).await? {
        if row.kind == RowKind::Region {
            continue;
        }
        let Some((start, series)) = values.get(&row.key) else { continue };
        for sig in signals::signals(*start, series)
            .iter()
            .filter(|x| x.month.year == v.year && v.months.contains(&x.month.month))
        {
            let key = format!(
                "stats:{}:{}:{}:{}:{:?}",
                v.measure.as_str(),
                v.dimension.as_str(),
                row.key,
                sig.month.label(),
                sig.kind
            );
            let payload = serde_json::json!({
                "type": "statistics.signal",
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
    viewer_org: i64,
    key: &str,
    from: YearMonth,
    until: YearMonth,
) -> Result<Vec<TimelineMonth>, AppError> {
    let returned = series(store, Measure::Returned, Dimension::Nationality, key).await?;
    let presented = series(store, Measure::Presented, Dimension::Nationality, key).await?;
    let value = |s: &Series, ym: YearMonth| s.months().into_iter().find(|(m, _)| *m == ym).and_then(|(_, v)| v);
    let first =
        jiff::civil::Date::new(from.year, from.month as i8, 1).map_err(|e| AppError::Internal(e.to_string()))?;
    let after = YearMonth::from_index(until.index() + 1);
    let last = jiff::civil::Date::new(after.year, after.month as i8, 1)
        .map_err(|e| AppError::Internal(e.to_string()))?
        .yesterday()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let q = crate::reports::PeriodQuery { coalition: true, from: first, until: last, facility_id: None };
    let report = crate::reports::period(store, mirror, found, viewer_org, &q).await?;
    let detections = crate::findings::detections(store, mirror, found, viewer_org).await?;
    let tz =
        jiff::tz::TimeZone::get(vigia_domain::geo::LEGAL_TIME_ZONE).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut out = Vec::new();
    for i in from.index()..=until.index() {
        let ym = YearMonth::from_index(i);
        let label = ym.label();
        let access = report.access.by_month.iter().find(|r| r.label == label);
        let in_month = |d: jiff::civil::Date| d.year() == ym.year && d.month() as u8 == ym.month;
        out.push(TimelineMonth {
            returned: value(&returned, ym),
            presented: value(&presented, ym),
            attempts: access.map(|a| a.attempts).unwrap_or(0),
            refusals: access.map(|a| a.refusals).unwrap_or(0),
            statements: detections
                .statements
                .iter()
                .filter(|s| vigia_domain::access::local_date(s.draft.published_at, &tz).is_some_and(in_month))
                .count(),
            suspensions: report
                .access
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
    Ok(out)
}
