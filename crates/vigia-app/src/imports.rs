//! Importing a file of records: all rows or none, each problem named by line and
//! column. The web pages, the JSON API and the benchmarks call the same function.

use crate::AppError;
use vigia_domain::access::{AttemptDraft, AttemptImport};
use vigia_domain::facility::Facility;
use vigia_domain::import::{GoodRows, RowError};
use vigia_store::now_micros;

/// Finds a facility by id, or else by its name (ignoring case), with its time zone: how
/// the attempts importers name facilities. Owns them, for a file read on another
/// thread; names are lowercased once, not per row.
pub fn resolver(facilities: Vec<Facility>) -> impl Fn(Option<i64>, Option<&str>) -> Option<(i64, &'static str)> + Send {
    let names: Vec<String> = facilities.iter().map(|f| f.draft.name.to_lowercase()).collect();
    move |id, name| {
        let at = match (id, name) {
            (Some(id), _) => facilities.iter().position(|f| f.id == id),
            (None, Some(n)) => {
                let n = n.to_lowercase();
                names.iter().position(|m| *m == n)
            }
            (None, None) => None,
        };
        at.map(|i| (facilities[i].id, facilities[i].time_zone()))
    }
}

/// Rows handed to the store at a time while the file is still being read.
const FEED_ROWS: usize = 1_000;

/// What reading a file came to: the number of good rows, or every problem.
type ReadOutcome = Result<usize, Vec<vigia_domain::import::RowError>>;

/// An attempts CSV as the store pulls it: [`FEED_ROWS`] valid rows at a time. Once
/// the file is read to its end or to a problem, it reads the rest (for every
/// problem) and leaves the outcome in `outcome`.
struct CsvSource<R> {
    rows: Option<R>,
    outcome: std::sync::Arc<std::sync::Mutex<Option<ReadOutcome>>>,
    /// Where the rows handed on so far are counted, if anyone watches.
    progress: Option<std::sync::Arc<Progress>>,
    fed: u64,
}

impl<R: GoodRows<Item = AttemptDraft> + Send> vigia_store::ImportSource for CsvSource<R> {
    fn next_feed(&mut self) -> Option<vigia_store::ImportFeed> {
        let rows = self.rows.as_mut()?;
        let mut chunk = Vec::with_capacity(FEED_ROWS);
        while chunk.len() < FEED_ROWS {
            match rows.next_good() {
                Some(d) => chunk.push(d),
                None => break,
            }
        }
        if !chunk.is_empty() {
            self.fed += chunk.len() as u64;
            if let Some(p) = &self.progress {
                p.set(&p.stored, self.fed);
            }
            return Some(vigia_store::ImportFeed::Rows(chunk));
        }
        let rows = self.rows.take()?;
        let whole = rows.is_whole();
        let read = rows.finish();
        if let Ok(mut outcome) = self.outcome.lock() {
            *outcome = Some(read);
        }
        whole.then_some(vigia_store::ImportFeed::Complete)
    }
}

/// Imports an attempts CSV: the store reads it a thousand rows at a time while it
/// writes the rows before, and commits only if the whole file was valid; otherwise it
/// keeps nothing and every row problem comes back, as with
/// [`vigia_domain::import::attempts_csv`]. Else the import's record, with the file's
/// fingerprint.
pub async fn import_attempts_csv(
    store: &vigia_store::DynStore,
    facilities: Vec<Facility>,
    actor: &vigia_store::Actor,
    org_id: i64,
    bytes: impl AsRef<[u8]> + Send + 'static,
) -> Result<Result<AttemptImport, Vec<vigia_domain::import::RowError>>, vigia_store::StoreError> {
    let file = Some(vigia_store::ImportedFile::of(bytes.as_ref()));
    let rows = match vigia_domain::import::attempts_csv_rows(bytes, resolver(facilities), now_micros()) {
        Ok(rows) => rows,
        Err(header) => return Ok(Err(header)),
    };
    let outcome = std::sync::Arc::new(std::sync::Mutex::new(None));
    let source = CsvSource { rows: Some(rows), outcome: outcome.clone(), progress: None, fed: 0 };
    let stored = store.import_attempts_fed(actor, org_id, file, Box::new(source)).await;
    let read = outcome.lock().ok().and_then(|mut o| o.take());
    match (read, stored) {
        // Row problems first: nothing was kept, and they are what the user can fix.
        (Some(Err(errors)), _) => Ok(Err(errors)),
        (_, Err(e)) => Err(e),
        (_, Ok(Some(imported))) => Ok(Ok(imported)),
        (_, Ok(None)) => Err(vigia_store::StoreError::Corrupt("the import was not completed".into())),
    }
}

/// The longest row an attempts file may have, in bytes: every text of an attempt at its
/// longest, in four-byte characters, fits well within it. A longer one (a quote never
/// closed, a file that is not CSV) stops the reading there instead of growing without end.
pub const MAX_ROW_BYTES: usize = 64 * 1024;

/// How far an import has come: shared between the import and whoever shows it (the
/// import page asks for it while the file uploads; the CLI draws a bar).
#[derive(Debug)]
pub struct Progress {
    started: std::time::Instant,
    /// 0 reading, 1 storing, 2 done, 3 refused.
    phase: std::sync::atomic::AtomicU8,
    bytes: std::sync::atomic::AtomicU64,
    rows: std::sync::atomic::AtomicU64,
    problems: std::sync::atomic::AtomicU64,
    stored: std::sync::atomic::AtomicU64,
    /// Microseconds from `started` to the start of storing (0: not yet).
    storing_at: std::sync::atomic::AtomicU64,
    /// Microseconds from `started` to the end (0: not yet).
    ended_at: std::sync::atomic::AtomicU64,
}

/// A moment of an import's [`Progress`], as the API answers it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProgressView {
    /// `reading` (the file arrives and each row is checked), `storing` (the whole file
    /// was valid and is being written), `done`, or `refused` (problems; nothing kept).
    pub phase: &'static str,
    pub bytes_read: u64,
    pub rows_read: u64,
    pub problems: u64,
    pub rows_stored: u64,
    pub seconds: f64,
    /// Rows read per second so far (while reading), or stored per second (after).
    pub rows_per_second: u64,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicU64, AtomicU8};
        Self {
            started: std::time::Instant::now(),
            phase: AtomicU8::new(0),
            bytes: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            problems: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            storing_at: AtomicU64::new(0),
            ended_at: AtomicU64::new(0),
        }
    }

    fn set(&self, field: &std::sync::atomic::AtomicU64, value: u64) {
        field.store(value, std::sync::atomic::Ordering::Relaxed);
    }

    fn set_phase(&self, phase: u8) {
        let at = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX).max(1);
        match phase {
            1 => self.set(&self.storing_at, at),
            2.. => self.set(&self.ended_at, at),
            _ => {}
        }
        self.phase.store(phase, std::sync::atomic::Ordering::Relaxed);
    }

    /// Marks the import refused (it could not start, or was abandoned), unless it ended.
    pub fn refuse(&self) {
        if !self.ended() {
            self.set_phase(3);
        }
    }

    /// How long ago the import ended, if it did.
    fn ended_ago(&self) -> Option<std::time::Duration> {
        let at = self.ended_at.load(std::sync::atomic::Ordering::Relaxed);
        (at > 0).then(|| self.started.elapsed().saturating_sub(std::time::Duration::from_micros(at)))
    }

    /// Whether the import has ended, one way or the other.
    pub fn ended(&self) -> bool {
        self.phase.load(std::sync::atomic::Ordering::Relaxed) >= 2
    }

    pub fn view(&self) -> ProgressView {
        use std::sync::atomic::Ordering::Relaxed;
        let seconds = self.started.elapsed().as_secs_f64();
        let phase = match self.phase.load(Relaxed) {
            0 => "reading",
            1 => "storing",
            2 => "done",
            _ => "refused",
        };
        let (rows, stored) = (self.rows.load(Relaxed), self.stored.load(Relaxed));
        // Each phase's rate over its own time: storing is counted from when it began.
        let storing_at = self.storing_at.load(Relaxed) as f64 / 1e6;
        let (counted, over) = if storing_at > 0.0 { (stored, seconds - storing_at) } else { (rows, seconds) };
        ProgressView {
            phase,
            bytes_read: self.bytes.load(Relaxed),
            rows_read: rows,
            problems: self.problems.load(Relaxed),
            rows_stored: stored,
            seconds: (seconds * 10.0).round() / 10.0,
            rows_per_second: if over > 0.0 { (counted as f64 / over) as u64 } else { 0 },
        }
    }
}

/// The most bytes one import reads: far above a million valid rows (~75 MB), but a
/// bound on what blank lines or a body without end could make the spool hold.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;

/// Where a CSV reader stands inside a record, as the csv crate reads one (a quote opens
/// a quoted field only at a field's start; a doubled quote inside one is a quote; `\r`,
/// `\n` or both end a record outside quotes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Csv {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl Csv {
    /// The state after `b`, and whether `b` ended the record.
    fn after(self, b: u8) -> (Csv, bool) {
        use Csv::*;
        match (self, b) {
            (Quoted, b'"') => (QuoteInQuoted, false),
            (Quoted, _) => (Quoted, false),
            (_, b'\r' | b'\n') => (FieldStart, true),
            (FieldStart, b'"') | (QuoteInQuoted, b'"') => (Quoted, false),
            (_, b',') => (FieldStart, false),
            _ => (Unquoted, false),
        }
    }
}

/// A file as it arrives: each byte on to the reader, into the spool and into the
/// fingerprint; a row longer than [`MAX_ROW_BYTES`] or a file longer than
/// [`MAX_FILE_BYTES`] stops it (bounds on what the CSV reader and the spool may hold).
struct Arriving<'p, R> {
    input: R,
    spool: vigia_store::spool::Spool,
    /// The spool's own failure (a full disk), told apart from the input's.
    spool_failed: Option<std::io::Error>,
    hash: sha2::Sha256,
    bytes: u64,
    /// Bytes of the record being read, and where in it the reader stands.
    row: usize,
    csv: Csv,
    progress: &'p Progress,
}

impl<R: std::io::Read> std::io::Read for Arriving<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.input.read(buf)?;
        if self.bytes + n as u64 > MAX_FILE_BYTES {
            return Err(vigia_domain::import::InputLimit { code: "import_too_large", max: MAX_FILE_BYTES }.error());
        }
        for &b in &buf[..n] {
            let (next, ended) = self.csv.after(b);
            self.csv = next;
            self.row = if ended { 0 } else { self.row + 1 };
            if self.row > MAX_ROW_BYTES {
                return Err(
                    vigia_domain::import::InputLimit { code: "row_too_long", max: MAX_ROW_BYTES as u64 }.error()
                );
            }
        }
        if let Err(e) = std::io::Write::write_all(&mut self.spool, &buf[..n]) {
            let stop = std::io::Error::other("spool");
            self.spool_failed = Some(e);
            return Err(stop);
        }
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        self.progress.set(&self.progress.bytes, self.bytes);
        Ok(n)
    }
}

/// Rows between two updates of the progress.
const PROGRESS_ROWS: usize = 1_000;

/// A file read to its end and valid: its rows' count, its bytes kept, its fingerprint.
type Checked = (usize, vigia_store::spool::Spool, vigia_store::ImportedFile);

/// Reads and checks an arriving attempts file to its end, keeping it in a sealed spool:
/// the rows' count and the spool with the file's fingerprint, or every problem.
fn check_arriving(
    input: impl std::io::Read,
    facilities: Vec<Facility>,
    now: vigia_domain::Micros,
    progress: &Progress,
) -> Result<Result<Checked, Vec<RowError>>, AppError> {
    use sha2::Digest;
    let spool = vigia_store::spool::Spool::new().map_err(|e| AppError::Internal(format!("temporary file: {e}")))?;
    let mut arriving = Arriving {
        input,
        spool,
        spool_failed: None,
        hash: sha2::Sha256::new(),
        bytes: 0,
        row: 0,
        csv: Csv::FieldStart,
        progress,
    };
    let checked = match vigia_domain::import::attempts_csv_reader(&mut arriving, resolver(facilities), now) {
        Err(header) => Err(header),
        Ok(mut rows) => {
            let mut good = 0usize;
            loop {
                while rows.next_good().is_some() {
                    good += 1;
                    if good.is_multiple_of(PROGRESS_ROWS) {
                        progress.set(&progress.rows, good as u64);
                    }
                }
                let (read, problems) = rows.counts();
                progress.set(&progress.rows, read);
                progress.set(&progress.problems, problems as u64);
                if problems == 0 || rows.skim(PROGRESS_ROWS) {
                    break;
                }
            }
            rows.finish()
        }
    };
    if let Some(e) = arriving.spool_failed {
        return Err(AppError::Internal(format!("temporary file: {e}")));
    }
    Ok(match checked {
        Err(problems) => {
            progress.set(&progress.problems, problems.len() as u64);
            progress.set_phase(3);
            Err(problems)
        }
        Ok(count) => {
            progress.set(&progress.rows, count as u64);
            let file = vigia_store::ImportedFile {
                sha256: hex::encode(arriving.hash.finalize()),
                bytes: arriving.bytes as i64,
            };
            Ok((count, arriving.spool, file))
        }
    })
}

/// Imports an attempts file read from `input` as it arrives (a request body, a file):
/// all rows or none, in memory that does not grow with the file.
///
/// Two passes. First every row is read and checked as it arrives, while the bytes wait
/// in a sealed temporary [`vigia_store::spool::Spool`]; the [`Progress`] shows rows and
/// problems meanwhile. Only a whole, valid file goes on: the rows are read back from the
/// spool and written, in one transaction, at the disk's pace, so the database's one
/// writer never waits on a slow connection (see `docs/decisions.md`). Problems come back
/// as [`import_attempts_csv`]'s do; nothing is kept.
pub async fn import_attempts_stream<R: std::io::Read + Send + 'static>(
    store: &vigia_store::DynStore,
    facilities: Vec<Facility>,
    actor: &vigia_store::Actor,
    org_id: i64,
    input: R,
    progress: std::sync::Arc<Progress>,
) -> Result<Result<AttemptImport, Vec<RowError>>, AppError> {
    // An import abandoned on the way (its request dropped) is shown as refused.
    let _ending = Ending(progress.clone());
    let now = now_micros();
    let watch = progress.clone();
    let zones = facilities.clone();
    let checked = tokio::task::spawn_blocking(move || check_arriving(input, zones, now, &watch))
        .await
        .map_err(|e| AppError::Internal(format!("the import's reading stopped: {e}")))??;
    let (count, spool, file) = match checked {
        Ok(ok) => ok,
        Err(problems) => {
            progress.set_phase(3);
            return Ok(Err(problems));
        }
    };
    progress.set_phase(1);
    // The header is read back here, off the async threads; the rows as the store asks.
    let reopened = tokio::task::spawn_blocking(move || {
        let reader = spool.into_reader().map_err(|e| AppError::Internal(format!("temporary file: {e}")))?;
        Ok::<_, AppError>(vigia_domain::import::attempts_csv_reader(reader, resolver(facilities), now))
    })
    .await
    .map_err(|e| AppError::Internal(format!("the import's reading stopped: {e}")))??;
    let rows = match reopened {
        Ok(rows) => rows,
        Err(header) => {
            progress.set_phase(3);
            return Ok(Err(header));
        }
    };
    let outcome = std::sync::Arc::new(std::sync::Mutex::new(None));
    let source = CsvSource { rows: Some(rows), outcome: outcome.clone(), progress: Some(progress.clone()), fed: 0 };
    let stored = store.import_attempts_fed(actor, org_id, Some(file), Box::new(source)).await;
    let read = outcome.lock().ok().and_then(|mut o| o.take());
    let answer = match (read, stored) {
        (Some(Err(errors)), _) => Ok(Err(errors)),
        (_, Err(e)) => Err(e.into()),
        (_, Ok(Some(imported))) if imported.row_count == count as i64 => Ok(Ok(imported)),
        (_, Ok(_)) => Err(AppError::Internal("the import was not completed as checked".into())),
    };
    progress.set_phase(if matches!(answer, Ok(Ok(_))) { 2 } else { 3 });
    answer
}

/// Marks its import refused when dropped before the import ended.
struct Ending(std::sync::Arc<Progress>);

impl Drop for Ending {
    fn drop(&mut self) {
        self.0.refuse();
    }
}

/// How long an ended import's progress can still be asked for.
const KEPT_AFTER_END: std::time::Duration = std::time::Duration::from_secs(600);
/// Imports one user has watched, at most: a new one takes the oldest one's place.
const WATCHED_PER_USER: usize = 20;
/// Imports read at once, in all and per user: each holds a thread, a spool and the
/// duplicate check's memory; more wait their turn (answered "busy").
pub const RUNNING_IN_ALL: usize = 4;
pub const RUNNING_PER_USER: usize = 2;

/// Imports under way, by the user who started them and the key their page chose, so
/// that their progress can be asked for while the file uploads; and how many run, so
/// that one account cannot take every thread. Each server keeps its own (behind a
/// proxy, a page asks the server its upload went to: see `docs/operations.md`); ended
/// imports are forgotten ten minutes after they end.
#[derive(Debug, Default)]
pub struct Watched {
    map: std::sync::Mutex<std::collections::HashMap<(i64, String), WatchedImport>>,
    running: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<i64, usize>>>,
}

/// An import's progress and when it started being watched.
type WatchedImport = (std::sync::Arc<Progress>, std::time::Instant);

/// A place among the imports running; given back when dropped.
#[derive(Debug)]
pub struct Running {
    user_id: i64,
    running: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<i64, usize>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut running) = self.running.lock() {
            if let Some(n) = running.get_mut(&self.user_id) {
                *n -= 1;
                if *n == 0 {
                    running.remove(&self.user_id);
                }
            }
        }
    }
}

/// Whether `key` is what a page may name its import by: 16 to 64 letters, digits,
/// `-` or `_` (a random value, not a guessable count).
pub fn valid_watch_key(key: &str) -> bool {
    (16..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Watched {
    /// A place for a new import by `user_id`, or `None` when as many run as may.
    pub fn run(&self, user_id: i64) -> Option<Running> {
        let mut running = self.running.lock().ok()?;
        let mine = running.get(&user_id).copied().unwrap_or(0);
        if mine >= RUNNING_PER_USER || running.values().sum::<usize>() >= RUNNING_IN_ALL {
            return None;
        }
        running.insert(user_id, mine + 1);
        Some(Running { user_id, running: self.running.clone() })
    }

    /// The progress of a new import by `user_id`, watched under `key` if given.
    pub fn start(&self, user_id: i64, key: Option<&str>) -> std::sync::Arc<Progress> {
        let progress = std::sync::Arc::new(Progress::new());
        let Some(key) = key else { return progress };
        let Ok(mut map) = self.map.lock() else { return progress };
        map.retain(|_, (p, _)| p.ended_ago().is_none_or(|ago| ago <= KEPT_AFTER_END));
        let mine: Vec<(String, std::time::Instant)> =
            map.iter().filter(|((u, _), _)| *u == user_id).map(|((_, k), (_, at))| (k.clone(), *at)).collect();
        if mine.len() >= WATCHED_PER_USER {
            if let Some((oldest, _)) = mine.iter().min_by_key(|(_, at)| *at) {
                map.remove(&(user_id, oldest.clone()));
            }
        }
        map.insert((user_id, key.to_string()), (progress.clone(), std::time::Instant::now()));
        progress
    }

    /// How far `user_id`'s import `key` has come; `None` for another user's or unknown.
    pub fn view(&self, user_id: i64, key: &str) -> Option<ProgressView> {
        let map = self.map.lock().ok()?;
        map.get(&(user_id, key.to_string())).map(|(p, _)| p.view())
    }
}

/// Bytes handed over from async code (a request body as it arrives) to a reader on a
/// blocking thread; an error sent ends the reading with it. The sender is bounded, so a
/// fast client waits for the reader instead of filling memory.
///
/// The input ends only when the sender says so with an empty chunk: a sender dropped
/// without it (a request abandoned half-way) is an input cut short, never a shorter file.
pub struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    at: Vec<u8>,
    pos: usize,
    ended: bool,
}

impl ChannelReader {
    /// A reader and its sender, holding at most `chunks` chunks between them.
    pub fn new(chunks: usize) -> (tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>, Self) {
        let (tx, rx) = tokio::sync::mpsc::channel(chunks.max(1));
        (tx, Self { rx, at: Vec::new(), pos: 0, ended: false })
    }
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.at.len() {
            if self.ended {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                None => {
                    let e = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the upload stopped before its end");
                    return Err(e);
                }
                Some(Err(e)) => return Err(e),
                Some(Ok(b)) if b.is_empty() => self.ended = true,
                Some(Ok(b)) => (self.at, self.pos) = (b, 0),
            }
        }
        let n = buf.len().min(self.at.len() - self.pos);
        buf[..n].copy_from_slice(&self.at[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The longest record `bytes` holds as the arriving counter sees it.
    fn longest(bytes: &[u8]) -> usize {
        let (mut csv, mut row, mut most) = (Csv::FieldStart, 0usize, 0usize);
        for &b in bytes {
            let (next, ended) = csv.after(b);
            csv = next;
            row = if ended { 0 } else { row + 1 };
            most = most.max(row);
        }
        most
    }

    #[test]
    fn the_row_counter_reads_quotes_and_line_ends_as_the_csv_reader_does() {
        // A quote inside an unquoted field is text: each row ends at its line end.
        let text = "1,Informe \"A\" dijo,x\n".repeat(1000);
        assert_eq!(longest(text.as_bytes()), 20);
        // A quote at a field's start opens a quoted field that holds line ends: the
        // csv reader sees one record growing, and so does the counter.
        let open = format!("a,x\"y,\"{}", "aaaa\n".repeat(1000));
        assert!(longest(open.as_bytes()) > 5_000);
        let mut rows = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(open.as_bytes());
        assert_eq!(rows.records().count(), 1, "one record to the csv reader too");
        // Doubled quotes stay inside; a closing quote then a comma ends the field.
        assert_eq!(longest(b"\"a\"\"b\nc\",d\ne\n"), 10);
        // CR alone, LF alone and CRLF all end a record; blank lines are no record.
        assert_eq!(longest(b"ab\rcd\r\nefg\n\n\nh"), 3);
    }

    #[test]
    fn an_arriving_file_stops_at_a_row_without_end_and_at_its_bound() {
        let progress = Progress::new();
        let facilities = Vec::new();
        let body = format!("facility_id,attempted_at,purpose,outcome\n1,\"{}", "x\n".repeat(40_000));
        let checked = check_arriving(body.as_bytes(), facilities, 0, &progress).expect("read");
        let problems = checked.err().expect("refused");
        assert_eq!((problems[0].code, problems[0].line), ("row_too_long", 2), "{problems:?}");
        assert_eq!(progress.view().phase, "refused");
    }

    #[test]
    fn imports_run_a_few_at_a_time_and_each_user_watches_a_bounded_number() {
        let w = Watched::default();
        let (a1, a2) = (w.run(1).expect("first"), w.run(1).expect("second"));
        assert!(w.run(1).is_none(), "two per user");
        let (b1, c1) = (w.run(2).expect("b"), w.run(3).expect("c"));
        assert!(w.run(4).is_none(), "four in all");
        drop(a1);
        assert!(w.run(4).is_some(), "a place given back");
        drop((a2, b1, c1));
        for i in 0..WATCHED_PER_USER + 5 {
            w.start(7, Some(&format!("key-of-user-seven-{i:03}")));
        }
        assert!(w.view(7, "key-of-user-seven-000").is_none(), "the oldest made room");
        assert!(w.view(7, &format!("key-of-user-seven-{:03}", WATCHED_PER_USER + 4)).is_some());
        assert!(w.view(8, "key-of-user-seven-010").is_none(), "another user's is not there");
        let p = w.start(9, Some("refused-at-once-0001"));
        p.refuse();
        assert_eq!(w.view(9, "refused-at-once-0001").map(|v| v.phase), Some("refused"));
    }
}
