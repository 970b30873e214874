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
        }
    }

    fn set(&self, field: &std::sync::atomic::AtomicU64, value: u64) {
        field.store(value, std::sync::atomic::Ordering::Relaxed);
    }

    fn set_phase(&self, phase: u8) {
        if phase == 1 {
            let at = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX).max(1);
            self.set(&self.storing_at, at);
        }
        self.phase.store(phase, std::sync::atomic::Ordering::Relaxed);
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

/// A file as it arrives: each byte on to the reader, into the spool and into the
/// fingerprint; rows longer than [`MAX_ROW_BYTES`] stop it.
struct Arriving<'p, R> {
    input: R,
    spool: vigia_store::spool::Spool,
    /// The spool's own failure (a full disk), told apart from the input's.
    spool_failed: Option<std::io::Error>,
    hash: sha2::Sha256,
    bytes: u64,
    /// Bytes since the last row ended, and whether inside a quoted field (a doubled
    /// quote toggles twice, so this stays right).
    row: usize,
    quoted: bool,
    progress: &'p Progress,
}

impl<R: std::io::Read> std::io::Read for Arriving<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.input.read(buf)?;
        for &b in &buf[..n] {
            match b {
                b'"' => self.quoted = !self.quoted,
                b'\n' if !self.quoted => self.row = 0,
                _ => {}
            }
            self.row += 1;
            if self.row > MAX_ROW_BYTES {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "row too long"));
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
        quoted: false,
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
        if !self.0.ended() {
            self.0.set_phase(3);
        }
    }
}

/// How long an ended import's progress can still be asked for.
const KEPT_AFTER_END: std::time::Duration = std::time::Duration::from_secs(600);
/// Imports watched at once, at most: past it an import runs unwatched.
const MOST_WATCHED: usize = 1_000;

/// Imports under way, by the user who started them and the key their page chose, so
/// that their progress can be asked for while the file uploads. Each server keeps its
/// own (behind a proxy, a page asks the server its upload went to: see
/// `docs/operations.md`); ended ones are forgotten after ten minutes.
#[derive(Debug, Default)]
pub struct Watched {
    map: std::sync::Mutex<std::collections::HashMap<(i64, String), WatchedImport>>,
}

/// An import's progress and when it started being watched.
type WatchedImport = (std::sync::Arc<Progress>, std::time::Instant);

/// Whether `key` is what a page may name its import by: 16 to 64 letters, digits,
/// `-` or `_` (a random value, not a guessable count).
pub fn valid_watch_key(key: &str) -> bool {
    (16..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Watched {
    /// The progress of a new import by `user_id`, watched under `key` if given.
    pub fn start(&self, user_id: i64, key: Option<&str>) -> std::sync::Arc<Progress> {
        let progress = std::sync::Arc::new(Progress::new());
        let Some(key) = key else { return progress };
        let Ok(mut map) = self.map.lock() else { return progress };
        let now = std::time::Instant::now();
        map.retain(|_, (p, at)| !(p.ended() && now.duration_since(*at) > KEPT_AFTER_END));
        if map.len() < MOST_WATCHED {
            map.insert((user_id, key.to_string()), (progress.clone(), now));
        }
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
