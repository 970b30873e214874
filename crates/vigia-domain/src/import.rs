//! CSV import of facilities: every row is validated; the import is all or nothing, and
//! each bad row is reported with its line, its column and the reason.

use crate::facility::{self, FacilityDraft, FIELDS};
use crate::input::RawInput;
use crate::FieldError;

/// A problem in one row of an import. `line` is the 1-based line in the file (the
/// header is line 1); `column` is the header name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<(&'static str, String)>,
}

impl RowError {
    /// The problem as a field error, to be explained in the reader's language.
    pub fn as_field_error(&self) -> FieldError {
        FieldError { field: self.column.clone(), code: self.code, params: self.params.clone() }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line,
            if self.column.is_empty() { "-" } else { &self.column },
            self.code
        )?;
        for (k, v) in &self.params {
            write!(f, " ({k} {v})")?;
        }
        Ok(())
    }
}

/// The most rows one import accepts.
pub const MAX_ROWS: usize = 100_000;

/// The most rows one import of access attempts accepts: a year of a large coalition's
/// attempts and more, in one file.
pub const MAX_ATTEMPT_ROWS: usize = 1_000_000;

/// Problems after which a file is read no further (one more says so).
pub const MAX_PROBLEMS: usize = 10_000;

/// How many of a refused file's problems are listed back (all are counted): a file
/// wrong on every line would otherwise be answered with a list larger than itself.
pub const LISTED_PROBLEMS: usize = 200;

fn row_error(line: u64, e: FieldError) -> RowError {
    RowError { line, column: e.field, code: e.code, params: e.params }
}

/// Reads an import file: checks the header (every column known, every group of
/// `required` present — a group is met by any one of its names), then hands each
/// row to `row` with its line number. Every problem is collected; all or nothing.
fn read_import<T>(
    bytes: &[u8],
    known: impl Fn(&str) -> bool,
    required: &[&[&str]],
    max_rows: usize,
    row: impl FnMut(u64, &[String], &csv::StringRecord, &mut Vec<RowError>) -> Option<T>,
) -> Result<Vec<T>, Vec<RowError>> {
    let mut items = Vec::new();
    read_import_each(bytes, known, required, max_rows, row, |item| items.push(item))?;
    Ok(items)
}

/// An import file read row by row, at the reader's pace: [`GoodRows::next_good`]
/// gives each good item for as long as no problem has been found, and
/// [`GoodRows::finish`] reads whatever is left and answers the count or every
/// problem. A consumer may start on the first rows while later ones are unread, and
/// must keep nothing unless `finish` answers `Ok`.
///
/// `row` is what the import does with one row: given its line, the header and the
/// record, the item, or `None` having pushed the row's problems.
pub struct ImportRows<R, F> {
    reader: csv::Reader<SkipBom<R>>,
    headers: Vec<String>,
    record: csv::StringRecord,
    row: F,
    errors: Vec<RowError>,
    max_rows: usize,
    items: usize,
    read: u64,
    ended: bool,
}

impl<R, F, T> ImportRows<R, F>
where
    R: std::io::Read,
    F: FnMut(u64, &[String], &csv::StringRecord, &mut Vec<RowError>) -> Option<T>,
{
    /// Checks the header (every column known, every group of `required` present — a
    /// group is met by any one of its names); its problems come back at once.
    fn open(
        input: R,
        known: impl Fn(&str) -> bool,
        required: &[&[&str]],
        max_rows: usize,
        row: F,
    ) -> Result<Self, Vec<RowError>> {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(SkipBom::new(input));
        let headers = match reader.headers() {
            Ok(h) => h.iter().map(|h| h.trim().to_string()).collect::<Vec<_>>(),
            Err(e) => {
                let (code, params) = match e.kind() {
                    csv::ErrorKind::Io(io) => io_problem(io),
                    _ => ("invalid_csv", vec![]),
                };
                return Err(vec![RowError { line: 1, column: String::new(), code, params }]);
            }
        };
        let mut errors = Vec::new();
        for h in headers.iter().filter(|h| !known(h)) {
            errors.push(RowError { line: 1, column: h.clone(), code: "unknown_column", params: vec![] });
        }
        for group in required {
            if !headers.iter().any(|h| group.contains(&h.as_str())) {
                errors.push(RowError { line: 1, column: group[0].into(), code: "missing_column", params: vec![] });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let record = csv::StringRecord::new();
        Ok(Self { reader, headers, record, row, errors, max_rows, items: 0, read: 0, ended: false })
    }

    /// Reads one record: its item if it is good and no problem was found so far.
    fn step(&mut self) -> Option<T> {
        let fallback_line = self.read + 2;
        self.read += 1;
        // A file wrong on every line stops being read at a bound, as a long one does:
        // its problems are kept, and kept in memory, only up to it.
        if self.errors.len() >= MAX_PROBLEMS {
            let line = self.reader.position().line();
            self.errors.push(RowError {
                line,
                column: String::new(),
                code: "too_many_problems",
                params: vec![("max", MAX_PROBLEMS.to_string())],
            });
            self.ended = true;
            return None;
        }
        match self.reader.read_record(&mut self.record) {
            Ok(false) => {
                self.ended = true;
                None
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(fallback_line);
                if self.read as usize > self.max_rows {
                    self.too_many(line);
                    return None;
                }
                let (code, params) = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => ("invalid_utf8", vec![]),
                    // The input itself failed (an upload cut short, a row past the
                    // longest allowed): nothing after it can be read.
                    csv::ErrorKind::Io(io) => {
                        self.ended = true;
                        io_problem(io)
                    }
                    _ => ("wrong_column_count", vec![]),
                };
                self.errors.push(RowError { line, column: String::new(), code, params });
                None
            }
            Ok(true) => {
                let line = self.record.position().map(|p| p.line()).unwrap_or(fallback_line);
                // Every record counts, good or not.
                if self.read as usize > self.max_rows {
                    self.too_many(line);
                    return None;
                }
                let item = (self.row)(line, &self.headers, &self.record, &mut self.errors)?;
                self.items += 1;
                self.errors.is_empty().then_some(item)
            }
        }
    }
}

impl<R, F> ImportRows<R, F> {
    fn too_many(&mut self, line: u64) {
        self.errors.push(RowError {
            line,
            column: String::new(),
            code: "too_many_rows",
            params: vec![("max", self.max_rows.to_string())],
        });
        self.ended = true;
    }
}

/// Good rows of a file, read at the reader's pace (see [`ImportRows`]).
pub trait GoodRows {
    type Item;
    /// The next good item, while the file has had no problem; `None` at its end or
    /// from its first problem on.
    fn next_good(&mut self) -> Option<Self::Item>;
    /// Whether the whole file was read and every row of it was good.
    fn is_whole(&self) -> bool;
    /// Reads what is left, for every problem: the number of good rows, or every problem.
    fn finish(self) -> Result<usize, Vec<RowError>>;
    /// Records read so far (good or not) and problems found so far: an import's progress.
    fn counts(&self) -> (u64, usize);
    /// Reads up to `records` more records without giving their items (after a
    /// problem, to find every other one at the reader's pace); whether the input ended.
    fn skim(&mut self, records: usize) -> bool;

    /// Hands each good item to `sink` as it is read, then [`GoodRows::finish`]es.
    fn each_good(mut self, mut sink: impl FnMut(Self::Item)) -> Result<usize, Vec<RowError>>
    where
        Self: Sized,
    {
        while let Some(item) = self.next_good() {
            sink(item);
        }
        self.finish()
    }
}

impl<R, F, T> GoodRows for ImportRows<R, F>
where
    R: std::io::Read,
    F: FnMut(u64, &[String], &csv::StringRecord, &mut Vec<RowError>) -> Option<T>,
{
    type Item = T;

    fn next_good(&mut self) -> Option<T> {
        while !self.ended && self.errors.is_empty() {
            if let Some(item) = self.step() {
                return Some(item);
            }
        }
        None
    }

    fn is_whole(&self) -> bool {
        self.ended && self.errors.is_empty()
    }

    fn finish(mut self) -> Result<usize, Vec<RowError>> {
        while !self.skim(usize::MAX) {}
        if self.errors.is_empty() {
            Ok(self.items)
        } else {
            Err(self.errors)
        }
    }

    fn counts(&self) -> (u64, usize) {
        // `read` counts the attempt that found the end too.
        (if self.ended { self.read.saturating_sub(1) } else { self.read }, self.errors.len())
    }

    fn skim(&mut self, records: usize) -> bool {
        for _ in 0..records {
            if self.ended {
                break;
            }
            self.step();
        }
        self.ended
    }
}

/// A bound an input reader enforces (a row, a whole file, longer than allowed), carried
/// inside the `std::io::Error` it fails with: the import names it as a problem with its
/// code and its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimit {
    pub code: &'static str,
    pub max: u64,
}

impl std::fmt::Display for InputLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at most {})", self.code, self.max)
    }
}

impl std::error::Error for InputLimit {}

impl InputLimit {
    pub fn error(self) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, self)
    }
}

/// What an input's own failure is called in an import's problems: a bound its reader
/// enforces ([`InputLimit`]), or the input ending before the file did
/// (`upload_incomplete`: a connection lost, say).
fn io_problem(e: &std::io::Error) -> (&'static str, Vec<(&'static str, String)>) {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<InputLimit>()) {
        Some(limit) => (limit.code, vec![("max", limit.max.to_string())]),
        None => ("upload_incomplete", vec![]),
    }
}

/// A reader that drops a UTF-8 byte-order mark at the start of its input, however
/// few bytes each read of the input gives.
pub struct SkipBom<R> {
    inner: R,
    /// The first bytes, held until it is known whether they are a mark.
    head: Vec<u8>,
    checked: bool,
}

impl<R: std::io::Read> SkipBom<R> {
    pub fn new(inner: R) -> Self {
        Self { inner, head: Vec::new(), checked: false }
    }
}

impl<R: std::io::Read> std::io::Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        if !self.checked {
            let mut byte = [0u8; 3];
            while self.head.len() < 3 && BOM.starts_with(&self.head) {
                let n = self.inner.read(&mut byte[..3 - self.head.len()])?;
                if n == 0 {
                    break;
                }
                self.head.extend_from_slice(&byte[..n]);
            }
            if self.head == BOM {
                self.head.clear();
            }
            self.checked = true;
        }
        if !self.head.is_empty() {
            let n = self.head.len().min(buf.len());
            buf[..n].copy_from_slice(&self.head[..n]);
            self.head.drain(..n);
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// [`read_import`], handing each good item to `sink` as soon as it is read, for as
/// long as no problem has been found: a consumer may start on the first rows while
/// later ones are read, and must keep nothing unless the answer is `Ok` (the count).
fn read_import_each<T>(
    bytes: &[u8],
    known: impl Fn(&str) -> bool,
    required: &[&[&str]],
    max_rows: usize,
    row: impl FnMut(u64, &[String], &csv::StringRecord, &mut Vec<RowError>) -> Option<T>,
    sink: impl FnMut(T),
) -> Result<usize, Vec<RowError>> {
    ImportRows::open(bytes, known, required, max_rows, row)?.each_good(sink)
}

fn duplicate(line: u64, column: &str, first: u64) -> RowError {
    RowError { line, column: column.into(), code: "duplicate_row", params: vec![("line", first.to_string())] }
}

/// Parses a facilities CSV (UTF-8, comma-separated, with a header naming columns from
/// [`facility::FIELDS`]). Returns every draft, or every problem found.
pub fn facilities_csv(bytes: &[u8]) -> Result<Vec<FacilityDraft>, Vec<RowError>> {
    let mut seen = std::collections::HashMap::new();
    let required: &[&[&str]] = &[&["name"], &["kind"], &["state_code"]];
    read_import(
        bytes,
        |h| FIELDS.contains(&h),
        required,
        MAX_ROWS,
        |line, headers, record, errors| {
            let raw = RawInput::from_pairs(headers.iter().cloned().zip(record.iter().map(str::to_string)));
            match facility::validate(&raw) {
                Ok(d) => {
                    let key = (
                        d.name.to_lowercase(),
                        d.state_code.clone(),
                        d.municipality.clone().unwrap_or_default().to_lowercase(),
                    );
                    if let Some(first) = seen.insert(key, line) {
                        errors.push(duplicate(line, "name", first));
                    }
                    Some(d)
                }
                Err(errs) => {
                    errors.extend(errs.0.into_iter().map(|e| row_error(line, e)));
                    None
                }
            }
        },
    )
}

/// A facility as the attempts importer resolves it: id and time zone.
pub type FacilityRef<'a> = (i64, &'a str);

/// Parses an access-attempts CSV. The facility is named by `facility_id` or by
/// `facility` (its exact name, case-insensitive), resolved with `resolve`; civil times
/// are read in that facility's time zone. All rows or none.
pub fn attempts_csv<'a>(
    bytes: &[u8],
    resolve: impl Fn(Option<i64>, Option<&str>) -> Option<FacilityRef<'a>>,
    now: crate::Micros,
) -> Result<Vec<crate::access::AttemptDraft>, Vec<RowError>> {
    let mut drafts = Vec::new();
    attempts_csv_each(bytes, resolve, now, |d| drafts.push(d))?;
    Ok(drafts)
}

/// An attempts CSV read row by row (see [`ImportRows`]), for a writer that pulls rows
/// while it stores the ones before: header problems come back at once.
pub fn attempts_csv_rows<'a, B: AsRef<[u8]>>(
    bytes: B,
    resolve: impl Fn(Option<i64>, Option<&str>) -> Option<FacilityRef<'a>>,
    now: crate::Micros,
) -> Result<impl GoodRows<Item = crate::access::AttemptDraft>, Vec<RowError>> {
    attempts_csv_reader(std::io::Cursor::new(bytes), resolve, now)
}

/// [`attempts_csv_rows`] from any reader (a file, a request body as it arrives): the
/// header is read at once, each row when asked for.
pub fn attempts_csv_reader<'a, R: std::io::Read>(
    input: R,
    resolve: impl Fn(Option<i64>, Option<&str>) -> Option<FacilityRef<'a>>,
    now: crate::Micros,
) -> Result<impl GoodRows<Item = crate::access::AttemptDraft>, Vec<RowError>> {
    use crate::access;
    let mut seen = std::collections::HashMap::new();
    let known = |h: &str| h == "facility" || access::FIELDS.contains(&h);
    let required: &[&[&str]] = &[&["facility", "facility_id"], &["attempted_at"], &["purpose"], &["outcome"]];
    // One input refilled for every row: every row has every column, so each row
    // overwrites all of it.
    let mut raw = RawInput::default();
    let mut id_text = String::new();
    let row = move |line: u64, headers: &[String], record: &csv::StringRecord, errors: &mut Vec<RowError>| {
        let cell = |name: &str| headers.iter().position(|h| h == name).and_then(|i| record.get(i)).map(str::trim);
        let id = match cell("facility_id").filter(|s| !s.is_empty()).map(|s| s.parse::<i64>()) {
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => {
                errors.push(RowError { line, column: "facility_id".into(), code: "expected_integer", params: vec![] });
                return None;
            }
            None => None,
        };
        let Some((facility_id, zone)) = resolve(id, cell("facility").filter(|s| !s.is_empty())) else {
            let column = if id.is_some() { "facility_id" } else { "facility" };
            errors.push(RowError { line, column: column.into(), code: "unknown_facility", params: vec![] });
            return None;
        };
        for (h, v) in headers.iter().zip(record.iter()).filter(|(h, _)| *h != "facility" && *h != "facility_id") {
            raw.set_text(h, v);
        }
        id_text.clear();
        let _ = std::fmt::Write::write_fmt(&mut id_text, format_args!("{facility_id}"));
        raw.set_text("facility_id", &id_text);
        match access::validate(&raw, zone, now) {
            Ok(d) => {
                if let Some(first) = seen.insert((d.facility_id, d.attempted_at, d.purpose, d.outcome), line) {
                    errors.push(duplicate(line, "attempted_at", first));
                }
                Some(d)
            }
            Err(errs) => {
                errors.extend(errs.0.into_iter().map(|e| row_error(line, e)));
                None
            }
        }
    };
    ImportRows::open(input, known, required, MAX_ATTEMPT_ROWS, row)
}

/// [`attempts_csv`], handing each valid row to `sink` as it is read for as long as
/// the file has shown no problem, so that storing can start before reading ends.
/// Keep what `sink` received only if the answer is `Ok` (the number of rows).
pub fn attempts_csv_each<'a>(
    bytes: &[u8],
    resolve: impl Fn(Option<i64>, Option<&str>) -> Option<FacilityRef<'a>>,
    now: crate::Micros,
    sink: impl FnMut(crate::access::AttemptDraft),
) -> Result<usize, Vec<RowError>> {
    attempts_csv_rows(bytes, resolve, now)?.each_good(sink)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_file_imports_every_row() {
        let csv = "name,kind,state_code,municipality,capacity\n\
                   Siglo XXI,estacion_migratoria,07,Tapachula,960\n\
                   \"Acayucan, Ver.\",estacion_migratoria,30,Acayucan,836\n";
        let d = facilities_csv(csv.as_bytes()).expect("valid");
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].name, "Acayucan, Ver.");
    }

    #[test]
    fn one_bad_row_fails_the_import_and_is_named() {
        let csv = "name,kind,state_code,capacity\nA,estacion_migratoria,07,10\nB,estacion_migratoria,07,muchos\nC,other,09,\n";
        let errs = facilities_csv(csv.as_bytes()).expect_err("invalid");
        assert_eq!(
            errs,
            vec![RowError { line: 3, column: "capacity".into(), code: "expected_integer", params: vec![] }]
        );
        assert_eq!(errs[0].to_string(), "line 3, column capacity: expected_integer");
    }

    #[test]
    fn headers_are_checked_before_rows() {
        let errs = facilities_csv(b"nombre,kind\nx,y\n").expect_err("invalid");
        let codes: Vec<_> = errs.iter().map(|e| (e.column.as_str(), e.code)).collect();
        assert!(codes.contains(&("nombre", "unknown_column")));
        assert!(codes.contains(&("name", "missing_column")));
        assert!(codes.contains(&("state_code", "missing_column")));
    }

    #[test]
    fn ragged_rows_duplicates_and_bad_bytes_are_reported() {
        let mut csv = b"name,kind,state_code\nA,other,07\nA,other,07\nB,other\n".to_vec();
        csv.extend_from_slice(b"C\xff,other,07\n");
        let errs = facilities_csv(&csv).expect_err("invalid");
        let got: Vec<_> = errs.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(got, vec![(3, "duplicate_row"), (4, "wrong_column_count"), (5, "invalid_utf8")]);
    }

    #[test]
    fn quoted_newlines_keep_line_numbers_right() {
        let csv = "name,kind,state_code,sources\nA,other,07,\"uno\ndos\"\nB,other,99,\n";
        let errs = facilities_csv(csv.as_bytes()).expect_err("invalid");
        assert_eq!((errs[0].line, errs[0].code), (4, "unknown_state"));
    }
}

#[cfg(test)]
mod attempt_tests {
    use super::*;

    const MX: &str = crate::geo::LEGAL_TIME_ZONE;

    fn resolve(id: Option<i64>, name: Option<&str>) -> Option<FacilityRef<'static>> {
        match (id, name.map(str::to_lowercase).as_deref()) {
            (Some(1), _) | (None, Some("siglo xxi")) => Some((1, MX)),
            (Some(2), _) | (None, Some("las agujas")) => Some((2, MX)),
            _ => None,
        }
    }

    fn now() -> crate::Micros {
        crate::access::parse_local_instant("2021-01-01T00:00", MX).expect("now")
    }

    #[test]
    fn facilities_resolve_by_id_or_name() {
        let csv = "facility,facility_id,attempted_at,purpose,outcome\nSiglo XXI,,2020-01-20T10:00,monitoring,denied\n,2,2020-01-21 09:30,religious,granted\n";
        let d = attempts_csv(csv.as_bytes(), resolve, now()).expect("valid");
        assert_eq!((d[0].facility_id, d[1].facility_id), (1, 2));
    }

    #[test]
    fn bad_dates_unknown_facilities_and_duplicates_fail_the_whole_file() {
        let csv = "facility,attempted_at,purpose,outcome\n\
                   Siglo XXI,2020-01-20T10:00,monitoring,denied\n\
                   Siglo XXI,20/01/2020,monitoring,denied\n\
                   Atlántida,2020-01-20T10:00,monitoring,denied\n\
                   Siglo XXI,2020-01-20T10:00,monitoring,denied\n\
                   Las Agujas,2030-01-01T10:00,monitoring,denied\n";
        let errs = attempts_csv(csv.as_bytes(), resolve, now()).expect_err("invalid");
        let got: Vec<_> = errs.iter().map(|e| (e.line, e.column.as_str(), e.code)).collect();
        assert_eq!(
            got,
            vec![
                (3, "attempted_at", "expected_datetime"),
                (4, "facility", "unknown_facility"),
                (5, "attempted_at", "duplicate_row"),
                (6, "attempted_at", "in_future"),
            ]
        );
    }

    #[test]
    fn a_hundred_thousand_rows_parse() {
        let mut csv = String::from("facility_id,attempted_at,purpose,outcome\n");
        for i in 0..100_000u32 {
            let (d, h, m) = (i / 1440 % 28 + 1, i / 60 % 24, i % 60);
            csv.push_str(&format!("{},2019-{:02}-{d:02}T{h:02}:{m:02},monitoring,granted\n", 1 + i % 2, 1 + i / 40320));
        }
        let d = attempts_csv(csv.as_bytes(), resolve, now()).expect("valid");
        assert_eq!(d.len(), 100_000);
    }

    #[test]
    fn rows_are_handed_on_as_read_until_the_first_problem() {
        let mut csv = String::from("facility_id,attempted_at,purpose,outcome\n");
        for i in 0..50u32 {
            csv.push_str(&format!("1,2019-01-{:02}T{}:00,monitoring,granted\n", 1 + i % 28, 10 + i / 28));
        }
        let mut seen = 0;
        assert_eq!(attempts_csv_each(csv.as_bytes(), resolve, now(), |_| seen += 1), Ok(50));
        assert_eq!(seen, 50);
        let whole = attempts_csv(csv.as_bytes(), resolve, now()).expect("valid");
        let mut fed = Vec::new();
        attempts_csv_each(csv.as_bytes(), resolve, now(), |d| fed.push(d)).expect("valid");
        assert_eq!(fed, whole, "the same rows, in file order");

        // Line 21 (the 20th row) is bad: the first 19 were handed on, none after.
        let broken = csv.replacen("2019-01-20T10:00", "2019-01-40T10:00", 1);
        let mut fed = Vec::new();
        let errors = attempts_csv_each(broken.as_bytes(), resolve, now(), |d| fed.push(d)).expect_err("invalid");
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![21]);
        assert_eq!(fed.len(), 19);
        assert_eq!(fed[..], whole[..19]);
    }

    #[test]
    fn a_file_pulled_row_by_row_stops_at_its_first_problem_and_finishes_with_all() {
        let mut csv = String::from("facility_id,attempted_at,purpose,outcome\n");
        for i in 0..30u32 {
            csv.push_str(&format!("1,2019-01-{:02}T10:00,monitoring,granted\n", 1 + i % 28 + i / 28));
        }
        let mut rows = attempts_csv_rows(csv.as_bytes(), resolve, now()).expect("header");
        let mut n = 0;
        while rows.next_good().is_some() {
            n += 1;
        }
        // Line 30 repeats line 2 (day 1 again): a duplicate ends the good rows.
        assert_eq!((n, rows.is_whole()), (28, false));
        assert_eq!(rows.next_good(), None, "nothing more once a problem was found");
        let errors = rows.finish().expect_err("a duplicate");
        assert_eq!(
            errors.iter().map(|e| (e.line, e.code)).collect::<Vec<_>>(),
            [(30, "duplicate_row"), (31, "duplicate_row")]
        );

        let good: String = csv.lines().take(29).map(|l| format!("{l}\n")).collect();
        let mut rows = attempts_csv_rows(good.into_bytes(), resolve, now()).expect("header");
        while rows.next_good().is_some() {}
        assert!(rows.is_whole());
        assert_eq!(rows.finish(), Ok(28));
        let header = attempts_csv_rows("facility_id,when\n".as_bytes(), resolve, now()).err().expect("bad header");
        assert!(header.iter().all(|e| e.line == 1), "{header:?}");
    }

    /// Gives its bytes a few at a time, then fails if `fail` says so: a request body
    /// arriving over a poor connection, or cut short.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        step: usize,
        fail: Option<Fail>,
    }

    #[derive(Clone, Copy)]
    enum Fail {
        Cut,
        TooLong,
    }

    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.at == self.bytes.len() {
                return match self.fail {
                    Some(Fail::Cut) => Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut")),
                    Some(Fail::TooLong) => Err(InputLimit { code: "row_too_long", max: 65_536 }.error()),
                    None => Ok(0),
                };
            }
            let n = self.step.min(buf.len()).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn trickle(text: &str, bom: bool, step: usize, fail: Option<Fail>) -> Trickle {
        let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        bytes.extend_from_slice(text.as_bytes());
        Trickle { bytes, at: 0, step, fail }
    }

    #[test]
    fn a_file_read_as_it_arrives_reads_as_the_same_bytes_in_memory() {
        let mut csv = String::from("facility_id,attempted_at,purpose,outcome\n");
        for day in 1..=20u32 {
            csv.push_str(&format!("1,2019-02-{day:02}T10:00,monitoring,denied\n"));
        }
        let whole = attempts_csv(csv.as_bytes(), resolve, now()).expect("valid");
        for step in [1, 2, 3, 7, 4096] {
            for bom in [false, true] {
                let mut rows = attempts_csv_reader(trickle(&csv, bom, step, None), resolve, now()).expect("header");
                let mut got = Vec::new();
                while let Some(d) = rows.next_good() {
                    got.push(d);
                }
                assert_eq!(rows.counts(), (20, 0), "step {step}, mark {bom}");
                assert_eq!(got, whole, "step {step}, mark {bom}");
                assert_eq!(rows.finish(), Ok(20));
            }
        }
        // A mark cut short is not a mark: its bytes stay, and fail the header.
        let odd = attempts_csv_reader(trickle("\u{FEFF}", false, 1, None), resolve, now()).err().expect("no header");
        assert_eq!(odd[0].line, 1);
    }

    #[test]
    fn an_input_that_fails_ends_the_import_with_its_reason() {
        let csv = "facility_id,attempted_at,purpose,outcome\n1,2019-02-01T10:00,monitoring,denied\n1,2019-02";
        let mut rows = attempts_csv_reader(trickle(csv, false, 5, Some(Fail::Cut)), resolve, now()).expect("header");
        assert!(rows.next_good().is_some());
        assert!(rows.next_good().is_none());
        let errors = rows.finish().expect_err("cut short");
        assert_eq!(errors.iter().map(|e| e.code).collect::<Vec<_>>(), ["upload_incomplete"]);

        let long = attempts_csv_reader(trickle(csv, false, 5, Some(Fail::TooLong)), resolve, now()).expect("header");
        let problem = long.finish().expect_err("too long").remove(0);
        assert_eq!((problem.code, problem.params), ("row_too_long", vec![("max", "65536".to_string())]));
        let header = attempts_csv_reader(trickle("facil", false, 2, Some(Fail::TooLong)), resolve, now())
            .err()
            .expect("no header");
        assert_eq!(header[0].code, "row_too_long");
    }

    #[test]
    fn a_file_wrong_on_every_line_is_read_only_to_a_bound() {
        let csv = format!("name,kind,state_code\n{}", "x\n".repeat(MAX_PROBLEMS + 500));
        let errors = facilities_csv(csv.as_bytes()).expect_err("ragged");
        assert_eq!(errors.len(), MAX_PROBLEMS + 1);
        let last = errors.last().expect("the bound");
        assert_eq!((last.code, last.line), ("too_many_problems", MAX_PROBLEMS as u64 + 2));
    }

    #[test]
    fn skimming_after_a_problem_counts_every_record_at_the_readers_pace() {
        let mut csv = String::from("facility_id,attempted_at,purpose,outcome\n");
        csv.push_str("1,2019-02-40T10:00,monitoring,denied\n");
        for day in 1..=9u32 {
            csv.push_str(&format!("1,2019-02-{day:02}T10:00,monitoring,denied\n"));
        }
        let mut rows = attempts_csv_rows(csv.as_bytes(), resolve, now()).expect("header");
        assert!(rows.next_good().is_none());
        assert_eq!(rows.counts(), (1, 1));
        assert!(!rows.skim(4));
        assert_eq!(rows.counts(), (5, 1));
        assert!(rows.skim(100));
        assert_eq!(rows.counts(), (10, 1));
        assert_eq!(rows.finish().expect_err("one bad day").len(), 1);
    }
}

/// A statement to import with its claims.
pub type StatementItem = (crate::statement::StatementDraft, Vec<crate::statement::ClaimDraft>);

/// Splits a row's fields between the statement and its one claim (CSV rows carry at
/// most one claim; repeat the statement's row for more).
fn statement_item(
    raw_pairs: Vec<(String, String)>,
    now: crate::Micros,
) -> Result<StatementItem, crate::ValidationErrors> {
    use crate::statement::{validate_claim, validate_statement, CLAIM_FIELDS, STATEMENT_FIELDS};
    let (claim, statement): (Vec<_>, Vec<_>) = raw_pairs
        .into_iter()
        .partition(|(k, _)| CLAIM_FIELDS.contains(&k.as_str()) && !STATEMENT_FIELDS.contains(&k.as_str()));
    let mut errs = crate::ValidationErrors::new();
    let s = validate_statement(&RawInput::from_pairs(statement), crate::geo::LEGAL_TIME_ZONE, now)
        .map_err(|e| errs.0.extend(e.0));
    let has_claim = claim.iter().any(|(_, v)| !v.trim().is_empty());
    let c = if has_claim {
        validate_claim(&RawInput::from_pairs(claim)).map(Some).map_err(|e| errs.0.extend(e.0))
    } else {
        Ok(None)
    };
    match (s, c) {
        (Ok(s), Ok(c)) => Ok((s, c.into_iter().collect())),
        _ => Err(errs),
    }
}

/// Parses statements to import: a CSV (one statement and at most one claim per row) or
/// a JSON array of statements, each with a `claims` list. All rows or none.
pub fn statements(bytes: &[u8], json: bool, now: crate::Micros) -> Result<Vec<StatementItem>, Vec<RowError>> {
    use crate::statement::{validate_claim, validate_statement, CLAIM_FIELDS, STATEMENT_FIELDS};
    if !json {
        let known = |h: &str| STATEMENT_FIELDS.contains(&h) || CLAIM_FIELDS.contains(&h);
        let required: &[&[&str]] = &[&["authority"], &["published_at"], &["channel"], &["text"]];
        return read_import(bytes, known, required, MAX_ROWS, |line, headers, record, errors| {
            let pairs = headers.iter().cloned().zip(record.iter().map(str::to_string)).collect();
            match statement_item(pairs, now) {
                Ok(item) => Some(item),
                Err(e) => {
                    errors.extend(e.0.into_iter().map(|f| row_error(line, f)));
                    None
                }
            }
        });
    }
    let one = |line: u64, code: &'static str| vec![RowError { line, column: String::new(), code, params: vec![] }];
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| one(1, "invalid_json"))?;
    let serde_json::Value::Array(items) = value else { return Err(one(1, "expected_array")) };
    if items.len() > MAX_ROWS {
        return Err(vec![RowError {
            line: 1,
            column: String::new(),
            code: "too_many_rows",
            params: vec![("max", MAX_ROWS.to_string())],
        }]);
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, mut item) in items.into_iter().enumerate() {
        // "Line" is the item's position in the array, from 1.
        let line = i as u64 + 1;
        let claims = item.as_object_mut().and_then(|m| m.remove("claims"));
        let s = match RawInput::from_json(item) {
            Ok(raw) => validate_statement(&raw, crate::geo::LEGAL_TIME_ZONE, now),
            Err(e) => Err(e),
        };
        let mut drafts = Vec::new();
        match claims {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(list)) => {
                for c in list {
                    match RawInput::from_json(c).and_then(|raw| validate_claim(&raw)) {
                        Ok(d) => drafts.push(d),
                        Err(e) => errors.extend(e.0.into_iter().map(|f| {
                            let mut r = row_error(line, f);
                            r.column = format!("claims.{}", r.column);
                            r
                        })),
                    }
                }
            }
            Some(_) => errors.push(RowError { line, column: "claims".into(), code: "expected_array", params: vec![] }),
        }
        match s {
            Ok(s) => out.push((s, drafts)),
            Err(e) => errors.extend(e.0.into_iter().map(|f| row_error(line, f))),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod statement_import_tests {
    use super::*;

    const NOW: crate::Micros = 1_767_225_600_000_000;

    #[test]
    fn csv_rows_carry_a_statement_and_maybe_a_claim_and_fail_together() {
        let csv = "authority,published_at,channel,text,topic,position,from\n\
                   inm,2020-01-27 19:30,official_letter,Se suspende,ngo_access,suspended,2020-01-27\n\
                   segob,2020-01-27 23:10,social_media,No se reconoce,,,\n";
        let items = statements(csv.as_bytes(), false, NOW).expect("valid");
        assert_eq!((items[0].1.len(), items[1].1.len()), (1, 0));
        let bad = "authority,published_at,channel,text,topic,position,from\n\
                   inm,2020-01-27 19:30,official_letter,Se suspende,ngo_access,affirms,2020-01-27\n\
                   segob,ayer,social_media,No se reconoce,,,\n";
        let errs = statements(bad.as_bytes(), false, NOW).expect_err("invalid");
        let cells: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(cells, vec![(2, "position"), (3, "published_at")]);
    }

    #[test]
    fn json_items_carry_their_claims_and_errors_name_the_item() {
        let json = br#"[{"authority": "inm", "published_at": "2020-01-27T19:30", "channel": "press_release", "text": "x",
                         "claims": [{"topic": "ngo_access", "position": "suspended", "from": "2020-01-27"},
                                    {"topic": "deportations", "position": "affirms", "from": "2020-01-18", "until": "2020-01-27"}]}]"#;
        let items = statements(json, true, NOW).expect("valid");
        assert_eq!(items[0].1.len(), 2);
        let bad =
            br#"[{"authority": "inm", "published_at": "2020-01-27T19:30", "channel": "press_release", "text": "x"},
                       {"authority": "inm", "channel": "fax", "text": "y", "claims": [{"topic": "ngo_access"}]}]"#;
        let errs = statements(bad, true, NOW).expect_err("invalid");
        assert!(errs.iter().all(|e| e.line == 2), "{errs:?}");
        assert!(errs.iter().any(|e| e.column == "claims.position"));
        assert!(errs.iter().any(|e| e.column == "channel"));
        assert_eq!(statements(b"{}", true, NOW).expect_err("not an array")[0].code, "expected_array");
    }
}

/// The columns of a requests log beyond the request's own: the day of each step known,
/// with the answer's type and the appeal's outcome.
pub const REQUEST_STEP_COLUMNS: [&str; 7] = [
    "extension_on",
    "answered_on",
    "answer_type",
    "appeal_filed_on",
    "appeal_admitted_on",
    "appeal_resolved_on",
    "outcome",
];

/// A request read from a log, with the steps it has been through.
pub type RequestItem = (crate::transparency::RequestDraft, Vec<crate::transparency::EventDraft>);

/// Parses an access-to-information requests log (CSV, UTF-8, header naming columns of
/// [`crate::transparency::REQUEST_FIELDS`] and [`REQUEST_STEP_COLUMNS`]). Each row is a
/// request; each step day given becomes an event, checked as if recorded in order. The
/// same authority and folio twice is refused. All rows or none.
pub fn requests_csv(
    bytes: &[u8],
    regimes: &crate::transparency::Regimes,
    today: jiff::civil::Date,
) -> Result<Vec<RequestItem>, Vec<RowError>> {
    use crate::transparency::{validate_event, validate_request, EventKind, REQUEST_FIELDS};
    let mut seen = std::collections::HashMap::new();
    let required: &[&[&str]] = &[&["authority"], &["folio"], &["filed_on"], &["question"]];
    read_import(
        bytes,
        |h| REQUEST_FIELDS.contains(&h) || REQUEST_STEP_COLUMNS.contains(&h),
        required,
        MAX_ROWS,
        |line, headers, record, errors| {
            let pairs: Vec<(String, String)> = headers.iter().cloned().zip(record.iter().map(str::to_string)).collect();
            let get = |k: &str| pairs.iter().find(|(h, v)| h == k && !v.trim().is_empty()).map(|(_, v)| v.clone());
            let own = RawInput::from_pairs(pairs.iter().filter(|(h, _)| REQUEST_FIELDS.contains(&h.as_str())).cloned());
            let draft = match validate_request(&own, regimes, today, &[]) {
                Ok(d) => d,
                Err(errs) => {
                    errors.extend(errs.0.into_iter().map(|e| row_error(line, e)));
                    return None;
                }
            };
            if let Some(first) = seen.insert((draft.authority.clone(), draft.folio.clone()), line) {
                errors.push(duplicate(line, "folio", first));
            }
            let steps = [
                ("extension_on", EventKind::Extension, None),
                ("answered_on", EventKind::Answer, Some("answer_type")),
                ("appeal_filed_on", EventKind::AppealFiled, None),
                ("appeal_admitted_on", EventKind::AppealAdmitted, None),
                ("appeal_resolved_on", EventKind::AppealResolved, Some("outcome")),
            ];
            let mut events = Vec::new();
            let before = errors.len();
            for (column, kind, extra) in steps {
                let Some(on) = get(column) else {
                    if let Some(x) = extra.filter(|x| get(x).is_some()) {
                        errors.push(RowError { line, column: x.into(), code: "not_for_kind", params: vec![] });
                    }
                    continue;
                };
                let mut fields = vec![("kind".to_string(), kind.as_str().to_string()), ("on".to_string(), on)];
                if let Some(x) = extra {
                    fields.push((x.to_string(), get(x).unwrap_or_default()));
                }
                match validate_event(&RawInput::from_pairs(fields), draft.filed_on, &events, today) {
                    Ok(e) => events.push(e),
                    Err(errs) => errors.extend(errs.0.into_iter().map(|e| {
                        // A problem with the step's day or kind is the step column's.
                        let column = match e.field.as_str() {
                            "on" | "kind" => column.to_string(),
                            other => other.to_string(),
                        };
                        RowError { line, column, code: e.code, params: e.params }
                    })),
                }
            }
            (errors.len() == before).then_some((draft, events))
        },
    )
}
