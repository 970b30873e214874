//! Importing a file of records: all rows or none, each problem named by line and
//! column. The web pages, the JSON API and the benchmarks call the same function.

use vigia_domain::access::{AttemptDraft, AttemptImport};
use vigia_domain::facility::Facility;
use vigia_domain::import::GoodRows;
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
    let source = CsvSource { rows: Some(rows), outcome: outcome.clone() };
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
