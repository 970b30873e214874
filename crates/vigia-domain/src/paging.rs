//! Lists that tell the truth (issue #16): every list states how many rows match and
//! pages through all of them, never stopping silently at a cap.
//!
//! Pages are found by *keyset*, not by offset: a page starts after the last row of the
//! page before, named by that row's sort key and id. A row recorded while someone reads
//! page 3 does not push a row of page 3 onto page 4 twice or hide one, as an offset
//! would; every row is listed once, in the order of the list (newest first).

/// Where a page starts: after the row with this sort key (e.g. when the attempt happened,
/// in microseconds) and this id, the tie-breaker when two rows share the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub key: i64,
    pub id: i64,
}

/// Rows on one page of a list in the web pages.
pub const PAGE_ROWS: i64 = 100;

/// The most rows one API request may ask for.
pub const MAX_ROWS: i64 = 10_000;

impl Cursor {
    /// The row a page ends with, as the `after` of the next page.
    pub fn after(key: i64, id: i64) -> Self {
        Cursor { key, id }
    }

    /// As written in a link: `KEY_ID` (digits, an optional minus on the key).
    pub fn encode(self) -> String {
        format!("{}_{}", self.key, self.id)
    }

    /// Reads what [`Cursor::encode`] wrote; anything else is not a cursor.
    pub fn parse(s: &str) -> Option<Self> {
        let (key, id) = s.split_once('_')?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(key.strip_prefix('-').unwrap_or(key)) || !digits(id) {
            return None;
        }
        let id: i64 = id.parse().ok()?;
        (id > 0).then_some(Cursor { key: key.parse().ok()?, id })
    }

    /// Whether a row with this key and id comes after the cursor in a newest-first list.
    pub fn precedes(self, key: i64, id: i64) -> bool {
        key < self.key || (key == self.key && id < self.id)
    }
}

/// Where a page sits in its list: rows `first..=last` of `total` (1-based), for "showing
/// 101–200 of 765". `remaining` is how many rows match from this page's start on.
pub fn position(total: i64, remaining: i64, shown: usize) -> (i64, i64) {
    let first = (total - remaining + 1).max(1);
    let last = (first + shown as i64 - 1).max(first - 1);
    (first, last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_cursor_reads_back_and_nothing_else_is_one() {
        let c = Cursor::after(1_579_000_000_000_000, 42);
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        assert_eq!(Cursor::parse("-5_3"), Some(Cursor { key: -5, id: 3 }));
        for bad in
            ["", "_", "5_", "_5", "5_0", "5_-1", "a_1", "5_1_2", "5 _1", "+5_1", "99999999999999999999_1", "5.0_1"]
        {
            assert_eq!(Cursor::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn positions_count_from_one() {
        assert_eq!(position(765, 765, 100), (1, 100));
        assert_eq!(position(765, 65, 65), (701, 765));
        assert_eq!(position(0, 0, 0), (1, 0));
    }

    proptest! {
        /// Paging a newest-first list by keyset visits every row exactly once, in order,
        /// whatever the page size and however many rows share a key.
        #[test]
        fn keyset_pages_list_every_row_once(
            keys in proptest::collection::vec(0i64..20, 0..200),
            size in 1usize..30,
        ) {
            let mut rows: Vec<(i64, i64)> = keys.iter().enumerate().map(|(i, k)| (*k, i as i64 + 1)).collect();
            rows.sort_by(|a, b| b.cmp(a));
            let mut seen = Vec::new();
            let mut after: Option<Cursor> = None;
            loop {
                let page: Vec<(i64, i64)> = rows
                    .iter()
                    .filter(|(k, id)| after.is_none_or(|c| c.precedes(*k, *id)))
                    .take(size)
                    .copied()
                    .collect();
                let remaining = rows.iter().filter(|(k, id)| after.is_none_or(|c| c.precedes(*k, *id))).count();
                let (first, last) = position(rows.len() as i64, remaining as i64, page.len());
                prop_assert_eq!(first, seen.len() as i64 + 1);
                seen.extend(page.iter().copied());
                prop_assert_eq!(last, seen.len() as i64);
                match page.last() {
                    Some((k, id)) if page.len() == size => after = Some(Cursor::after(*k, *id)),
                    _ => break,
                }
            }
            prop_assert_eq!(seen, rows);
        }
    }
}
