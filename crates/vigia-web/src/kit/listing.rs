//! Part of the shared kit (imports no feature): lists that tell the truth. A list page
//! states how many rows match, which of them it shows, links to the next page with the
//! same filters (keyset: `vigia_domain::paging`), and offers the filtered rows as CSV,
//! written to the client batch by batch so a list of any size downloads whole without
//! being held in memory. A download that fails part-way is cut off, not ended as if it
//! were complete.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use vigia_domain::account::Locale;
use vigia_domain::paging::{position, Cursor};

use crate::error::WebError;
use crate::i18n::tr_args;

/// What a list page says about its rows, and its links.
pub struct Paging {
    /// "Showing 101–200 of 765 attempts".
    pub summary: String,
    pub next: Option<String>,
    pub first: Option<String>,
    pub csv: String,
    /// The same rows as JSON Lines.
    pub jsonl: String,
}

/// The query string of `q` without `after`, with `extra` pairs added.
fn query(q: &HashMap<String, String>, extra: &[(&str, String)]) -> String {
    let mut pairs: Vec<(&str, &str)> = q
        .iter()
        .filter(|(k, v)| k.as_str() != "after" && !v.is_empty())
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.sort();
    pairs.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

fn link(path: &str, query: String) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

impl Paging {
    /// `noun_key` names the rows in the catalogue with a `$count` plural
    /// ("{ $count } intentos"); `total` matches the filters, `remaining` matches from this
    /// page's start on, `shown` rows are on it, and `next` is the cursor after its last
    /// row when more follow.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        l: Locale,
        path: &str,
        csv_path: &str,
        q: &HashMap<String, String>,
        noun_key: &str,
        total: i64,
        remaining: i64,
        shown: usize,
        next: Option<Cursor>,
    ) -> Self {
        Self::after_key(l, path, csv_path, q, noun_key, total, remaining, shown, next.map(Cursor::encode))
    }

    /// As [`Paging::new`], for a list whose rows are named by a key of their own
    /// rather than a sort key and id (`next` is the last row's key, as written in links).
    #[allow(clippy::too_many_arguments)]
    pub fn after_key(
        l: Locale,
        path: &str,
        csv_path: &str,
        q: &HashMap<String, String>,
        noun_key: &str,
        total: i64,
        remaining: i64,
        shown: usize,
        next: Option<String>,
    ) -> Self {
        let (first, last) = position(total, remaining, shown);
        let noun = tr_args(l, noun_key, &[("count", total.to_string())]);
        // One page holding every row: the count says it all ("2 visitas", "Un caso").
        let summary = if total == 0 || (shown as i64 >= total && next.is_none()) {
            noun
        } else {
            tr_args(l, "list-showing", &[("first", first.to_string()), ("last", last.to_string()), ("total", noun)])
        };
        Paging {
            summary,
            next: next.map(|c| link(path, query(q, &[("after", c)]))),
            first: q.contains_key("after").then(|| link(path, query(q, &[]))),
            csv: link(csv_path, query(q, &[])),
            jsonl: link(&jsonl_path(csv_path), query(q, &[])),
        }
    }
}

/// Reads `after` from a query: a cursor, or a field error.
pub fn after(q: &HashMap<String, String>, errs: &mut vigia_domain::ValidationErrors) -> Option<Cursor> {
    let raw = q.get("after").map(|s| s.trim()).filter(|s| !s.is_empty())?;
    let c = Cursor::parse(raw);
    if c.is_none() {
        errs.push(vigia_domain::FieldError::new("after", "invalid_cursor"));
    }
    c
}

/// A list page's link: the cursor `q`'s `after` names, or, when it names none, what to
/// tell the reader (the first page is shown instead).
pub fn page_link(l: Locale, q: &HashMap<String, String>) -> (Option<Cursor>, Option<String>) {
    let mut errs = vigia_domain::ValidationErrors::new();
    let c = after(q, &mut errs);
    (c, errs.for_field("after").map(|e| crate::i18n::field_error(l, e)))
}

/// A list page's status: 422 when its link was broken, else 200.
pub fn status_of(cursor_error: &Option<String>) -> axum::http::StatusCode {
    if cursor_error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    }
}

type Batch = Result<(Vec<Vec<String>>, Option<Cursor>), WebError>;

/// A list's download path as JSON Lines: `/access.csv` → `/access.jsonl`.
pub fn jsonl_path(csv_path: &str) -> String {
    format!("{}.jsonl", csv_path.strip_suffix(".csv").unwrap_or(csv_path))
}

/// What a list downloads as: chosen by the path asked for (`….csv` or `….jsonl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, a header of the reader's words, every cell neutralized against
    /// formulas, with a byte-order mark for spreadsheet programs.
    Csv,
    /// One JSON object per line, keyed by the columns' stable names (`id`,
    /// `attempted_at`, …), values as the CSV's cells.
    JsonLines,
}

impl Format {
    pub fn of(uri: &axum::http::Uri) -> Format {
        if uri.path().ends_with(".jsonl") {
            Format::JsonLines
        } else {
            Format::Csv
        }
    }
}

/// A download's columns: each one's name (for JSON Lines) and its header in the
/// reader's language (for CSV), from catalogue keys (`field-attempted_at` →
/// `attempted_at`, `visit-pop-men` → `population_men`, `audit-seq` → `seq`).
pub fn columns(l: Locale, keys: &[&str]) -> Vec<(String, String)> {
    let cols: Vec<(String, String)> = keys.iter().map(|k| (column_name(k), crate::i18n::tr(l, k))).collect();
    debug_assert!(
        cols.iter().enumerate().all(|(i, (n, _))| cols[..i].iter().all(|(m, _)| m != n)),
        "column names repeat: {cols:?}"
    );
    cols
}

/// A column's name from its catalogue key.
fn column_name(key: &str) -> String {
    const PREFIXES: [(&str, &str); 4] =
        [("field-statement-", ""), ("visit-field-", ""), ("visit-pop-", "population_"), ("field-", "")];
    let name = PREFIXES
        .iter()
        .find_map(|(p, with)| key.strip_prefix(p).map(|rest| format!("{with}{rest}")))
        .unwrap_or_else(|| key.split_once('-').map_or(key, |(_, rest)| rest).to_string())
        .replace('-', "_");
    // The column holds the facility's name, not its number.
    if name == "facility_id" {
        "facility".into()
    } else {
        name
    }
}

/// A download of every row a list's filters match: `batch(after)` gives the next rows
/// and the cursor after them (`None` when they were the last). Rows are written as they
/// come, a few batches in flight at most: memory does not grow with the list, and a
/// slow client slows the reading. `stem` is the file's name without its extension.
pub fn download<F, Fut>(format: Format, stem: &str, head: Vec<(String, String)>, mut batch: F) -> Response
where
    F: FnMut(Option<Cursor>) -> Fut + Send + 'static,
    Fut: Future<Output = Batch> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let (names, labels): (Vec<String>, Vec<String>) = head.into_iter().unzip();
    tokio::spawn(async move {
        if format == Format::Csv {
            let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
            // The byte-order mark lets spreadsheet programs read the accents as UTF-8.
            let first = format!("\u{feff}{}", vigia_domain::export::csv(&labels, Vec::<Vec<String>>::new()));
            if tx.send(Ok(Bytes::from(first))).await.is_err() {
                return;
            }
        }
        // The next batch is read while this one is written: reading and writing each
        // take a core of their own. Held at once: the batch being read, the one being
        // written, and up to four written ones the client has not taken yet.
        let mut reading = Some(tokio::spawn(batch(None)));
        while let Some(read) = reading.take() {
            let read = read.await.unwrap_or_else(|e| Err(WebError::Internal(format!("a batch's reader failed: {e}"))));
            match read {
                Ok((rows, next)) => {
                    reading = next.map(|c| tokio::spawn(batch(Some(c))));
                    let body = match format {
                        Format::Csv => vigia_domain::export::csv_rows(rows),
                        Format::JsonLines => json_lines(&names, rows),
                    };
                    if !body.is_empty() && tx.send(Ok(Bytes::from(body))).await.is_err() {
                        // The client went away: the read under way is dropped unfinished.
                        if let Some(r) = reading.take() {
                            r.abort();
                        }
                        return;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "a download stopped part-way");
                    let _ = tx.send(Err(std::io::Error::other("the export stopped part-way"))).await;
                    return;
                }
            }
        }
    });
    let (kind, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::JsonLines => ("application/jsonl; charset=utf-8", "jsonl"),
    };
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{stem}.{ext}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::new(Channel(rx)),
    )
        .into_response()
}

/// Rows as JSON Lines: one object per row, its cells under the columns' names.
fn json_lines(names: &[String], rows: Vec<Vec<String>>) -> String {
    // Written straight out, not built as a JSON map per row (a download writes a million
    // rows): the keys in the order such a map keeps them (sorted), each escaped once.
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|a, b| names[*a].cmp(&names[*b]));
    order.dedup_by(|a, b| names[*a] == names[*b]);
    let keys: Vec<(usize, String)> =
        order.into_iter().map(|i| (i, serde_json::Value::from(names[i].as_str()).to_string())).collect();
    let mut out = Vec::with_capacity(rows.len() * 64 * names.len().max(1));
    for row in rows {
        debug_assert_eq!(row.len(), names.len(), "a row of another list's width");
        out.push(b'{');
        let mut first = true;
        for (i, key) in &keys {
            let Some(cell) = row.get(*i) else { continue };
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(key.as_bytes());
            out.push(b':');
            // Writing a string into memory cannot fail.
            let _ = serde_json::to_writer(&mut out, cell);
        }
        out.extend_from_slice(b"}\n");
    }
    // serde_json writes UTF-8, and the keys are strings.
    String::from_utf8(out).unwrap_or_default()
}

/// A list worked out in memory from every row (a search by stem the database cannot
/// index): each match's sort key and id, newest first, and how many matches have each
/// value of each facet. Kept until the data change, it is what the list pages through
/// and downloads, reading the rows themselves a page at a time.
#[derive(Debug, Default)]
pub struct Matched {
    pub keys: Vec<(i64, i64)>,
    pub facets: Vec<std::collections::BTreeMap<String, usize>>,
}

impl Matched {
    /// Nothing found, with `facets` facets to count.
    pub fn none(facets: usize) -> Matched {
        Matched { keys: Vec::new(), facets: vec![Default::default(); facets] }
    }

    /// Where the page after `after` starts in [`Matched::keys`].
    pub fn start_after(&self, after: Option<Cursor>) -> usize {
        after.map_or(0, |c| self.keys.partition_point(|&(k, id)| !c.precedes(k, id)))
    }
}

/// One page of a list that is read whole (visits, statements, cases: lists whose rows
/// are worked out in memory today), found by the same keyset rule as the lists read
/// page by page from the database, so links and totals behave alike.
pub struct Slice<T> {
    pub rows: Vec<T>,
    pub total: i64,
    pub remaining: i64,
    pub next: Option<Cursor>,
}

/// Sorts `rows` newest first by `key` (sort key, id) and keeps the `size` rows after
/// `after`.
pub fn keyset<T>(mut rows: Vec<T>, key: impl Fn(&T) -> (i64, i64), after: Option<Cursor>, size: i64) -> Slice<T> {
    rows.sort_by_key(|r| std::cmp::Reverse(key(r)));
    let total = rows.len() as i64;
    let mut rest: Vec<T> = rows
        .into_iter()
        .filter(|r| {
            let (k, id) = key(r);
            after.is_none_or(|c| c.precedes(k, id))
        })
        .collect();
    let remaining = rest.len() as i64;
    let size = size.max(1);
    let more = remaining > size;
    rest.truncate(size as usize);
    let next = if more {
        rest.last().map(|r| {
            let (k, id) = key(r);
            Cursor::after(k, id)
        })
    } else {
        None
    };
    Slice { rows: rest, total, remaining, next }
}

/// A list page's rows, its paging and what went wrong with its page link, if anything.
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub paging: Paging,
    pub cursor_error: Option<String>,
}

impl<T> Listed<T> {
    /// 422 when the page link was broken (the first page is shown instead), else 200.
    pub fn status(&self) -> axum::http::StatusCode {
        status_of(&self.cursor_error)
    }
}

/// One page of a list read whole, for the page at `path` whose CSV is at `csv_path`:
/// the page `q`'s `after` names, newest first by `key`, counted with `noun_key`.
pub fn list_page_of<T>(
    l: Locale,
    (path, csv_path): (&str, &str),
    q: &HashMap<String, String>,
    noun_key: &str,
    rows: Vec<T>,
    key: impl Fn(&T) -> (i64, i64),
) -> Listed<T> {
    let mut errs = vigia_domain::ValidationErrors::new();
    let after = after(q, &mut errs);
    let slice = keyset(rows, key, after, vigia_domain::paging::PAGE_ROWS);
    let paging =
        Paging::new(l, path, csv_path, q, noun_key, slice.total, slice.remaining, slice.rows.len(), slice.next);
    Listed { rows: slice.rows, paging, cursor_error: errs.for_field("after").map(|e| crate::i18n::field_error(l, e)) }
}

/// A download of rows already worked out, written a thousand at a time.
pub fn download_of(format: Format, stem: &str, head: Vec<(String, String)>, rows: Vec<Vec<String>>) -> Response {
    let rows = std::sync::Arc::new(rows);
    download(format, stem, head, move |after| {
        let rows = rows.clone();
        async move {
            // Here the cursor's id is simply the position reached.
            let start = after.map_or(0, |c| c.id as usize);
            let end = (start + 1000).min(rows.len());
            let next = (end < rows.len()).then(|| Cursor::after(0, end as i64));
            Ok((rows[start..end].to_vec(), next))
        }
    })
}

/// A civil date as a sort key (2020-03-10 → 20200310).
pub fn date_key(d: jiff::civil::Date) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// A response body fed by a channel; an error in it aborts the response.
struct Channel(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl http_body::Body for Channel {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(cx).map(|o| o.map(|r| r.map(http_body::Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_keep_the_filters_and_drop_the_old_cursor() {
        let q: std::collections::HashMap<String, String> = [("outcome", "denied"), ("after", "5_3"), ("from", "")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let p = super::Paging::new(
            vigia_domain::account::Locale::Es,
            "/access",
            "/access.csv",
            &q,
            "access-count",
            765,
            665,
            100,
            Some(vigia_domain::paging::Cursor::after(9, 2)),
        );
        assert_eq!(p.next.as_deref(), Some("/access?outcome=denied&after=9_2"));
        assert_eq!(p.first.as_deref(), Some("/access?outcome=denied"));
        assert_eq!(p.csv, "/access.csv?outcome=denied");
        assert_eq!(p.jsonl, "/access.jsonl?outcome=denied");
        let names: Vec<String> =
            ["field-attempted_at", "field-facility_id", "visit-pop-men", "audit-seq", "field-statement-speaker"]
                .iter()
                .map(|k| super::column_name(k))
                .collect();
        assert_eq!(names, ["attempted_at", "facility", "population_men", "seq", "speaker"]);
        assert!(p.summary.contains("101") && p.summary.contains("200") && p.summary.contains("765"), "{}", p.summary);
    }

    #[test]
    fn an_in_memory_list_pages_like_a_stored_one() {
        let rows: Vec<(i64, i64)> = (1..=250).map(|id| (id % 7, id)).collect();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let s = super::keyset(rows.clone(), |r| *r, after, 100);
            assert_eq!(s.total, 250);
            assert_eq!(vigia_domain::paging::position(s.total, s.remaining, s.rows.len()).0, seen.len() as i64 + 1);
            seen.extend(s.rows.iter().map(|r| r.1));
            match s.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=250).collect::<Vec<_>>());
    }

    proptest::proptest! {
        /// Each line is the JSON object of its row, byte for byte what serde_json writes
        /// for it as a map, whatever the cells hold.
        #[test]
        fn json_lines_are_each_row_s_object(
            rows in proptest::collection::vec(proptest::collection::vec("[\"\\\\\n\t\u{1}\u{7f}a-zñé😀 ,:{}]{0,8}", 3), 0..5)
        ) {
            let names: Vec<String> = ["visibility", "attempted_at", "\"id\""].iter().map(|s| s.to_string()).collect();
            let want: String = rows
                .iter()
                .map(|r| {
                    let m: serde_json::Map<String, serde_json::Value> =
                        names.iter().cloned().zip(r.iter().cloned().map(serde_json::Value::String)).collect();
                    format!("{}\n", serde_json::Value::Object(m))
                })
                .collect();
            proptest::prop_assert_eq!(super::json_lines(&names, rows), want);
        }
    }

    #[test]
    fn the_listing_kit_imports_no_feature() {
        let source = include_str!("listing.rs");
        let code = &source[..source.find("#[cfg(test)]").unwrap_or(source.len())];
        for line in code.lines().filter(|l| l.contains("crate::")) {
            assert!(
                ["crate::error", "crate::i18n"].iter().any(|ok| line.contains(ok)),
                "listing.rs reaches beyond the kit: {line}"
            );
        }
    }
}
