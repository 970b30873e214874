//! Disclosure control for counts about people shown outside the organization that owns
//! them (DOMAIN.md §9): every cell from 1 to 10 is suppressed, and complementary cells
//! are suppressed so no hidden value can be worked out from the totals (the CMS cell
//! size rule). Zero may show.

use serde::Serialize;

/// The smallest count shown outside the owning organization (besides zero).
pub const MIN_SHOWN: u64 = 11;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Shown(u64),
    /// Hidden: serialized as `null`.
    Suppressed,
}

impl Cell {
    pub fn shown(self) -> Option<u64> {
        match self {
            Cell::Shown(n) => Some(n),
            Cell::Suppressed => None,
        }
    }
}

/// A table of counts with row, column and grand totals, some cells hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub cells: Vec<Vec<Cell>>,
    pub row_totals: Vec<Cell>,
    pub col_totals: Vec<Cell>,
    pub total: Cell,
}

impl Table {
    /// Every count shown as it is (inside the owning organization).
    pub fn open(values: &[Vec<u64>]) -> Table {
        let values = &rectangular(values);
        let m = Margins::of(values);
        Table {
            cells: values.iter().map(|r| r.iter().map(|&v| Cell::Shown(v)).collect()).collect(),
            row_totals: m.rows.iter().map(|&v| Cell::Shown(v)).collect(),
            col_totals: m.cols.iter().map(|&v| Cell::Shown(v)).collect(),
            total: Cell::Shown(m.total),
        }
    }

    /// The table with small counts and their complements hidden.
    pub fn protected(values: &[Vec<u64>]) -> Table {
        let values = &rectangular(values);
        let m = Margins::of(values);
        let ncols = m.cols.len();
        // One grid holding cells, totals of rows (last column), totals of columns (last
        // row) and the grand total (corner): every row and column of it is additive.
        let mut grid: Vec<Vec<u64>> = values
            .iter()
            .zip(&m.rows)
            .map(|(r, &t)| {
                let mut row = r.clone();
                row.push(t);
                row
            })
            .collect();
        let mut last = m.cols.clone();
        last.push(m.total);
        grid.push(last);
        let mut hidden: Vec<Vec<bool>> =
            grid.iter().map(|r| r.iter().map(|&v| (1..MIN_SHOWN).contains(&v)).collect()).collect();
        let (nr, nc) = (grid.len(), ncols + 1);
        loop {
            let mut changed = false;
            for i in 0..nr {
                let line: Vec<(usize, usize)> = (0..nc).map(|j| (i, j)).collect();
                changed |= complement(&grid, &mut hidden, &line);
            }
            for j in 0..nc {
                let line: Vec<(usize, usize)> = (0..nr).map(|i| (i, j)).collect();
                changed |= complement(&grid, &mut hidden, &line);
            }
            if !changed {
                break;
            }
        }
        let cell = |i: usize, j: usize| if hidden[i][j] { Cell::Suppressed } else { Cell::Shown(grid[i][j]) };
        Table {
            cells: (0..nr - 1).map(|i| (0..ncols).map(|j| cell(i, j)).collect()).collect(),
            row_totals: (0..nr - 1).map(|i| cell(i, ncols)).collect(),
            col_totals: (0..ncols).map(|j| cell(nr - 1, j)).collect(),
            total: cell(nr - 1, ncols),
        }
    }
}

/// Rows padded with zeros to the longest.
fn rectangular(values: &[Vec<u64>]) -> Vec<Vec<u64>> {
    let n = values.iter().map(Vec::len).max().unwrap_or(0);
    values.iter().map(|r| r.iter().copied().chain(std::iter::repeat(0)).take(n).collect()).collect()
}

struct Margins {
    rows: Vec<u64>,
    cols: Vec<u64>,
    total: u64,
}

impl Margins {
    fn of(values: &[Vec<u64>]) -> Margins {
        let ncols = values.iter().map(Vec::len).max().unwrap_or(0);
        let rows: Vec<u64> = values.iter().map(|r| r.iter().sum()).collect();
        let cols: Vec<u64> = (0..ncols).map(|j| values.iter().map(|r| r[j]).sum()).collect();
        Margins { total: rows.iter().sum(), rows, cols }
    }
}

/// In one additive line (its last entry is the total of the others), a single hidden
/// entry could be worked out from the rest: hide one more, the smallest non-zero shown
/// one (or a zero when nothing else is left). Returns whether anything changed.
fn complement(grid: &[Vec<u64>], hidden: &mut [Vec<bool>], line: &[(usize, usize)]) -> bool {
    let hidden_count = line.iter().filter(|&&(i, j)| hidden[i][j]).count();
    if hidden_count != 1 {
        return false;
    }
    let candidates = line.iter().filter(|&&(i, j)| !hidden[i][j]);
    let pick = candidates
        .clone()
        .filter(|&&(i, j)| grid[i][j] > 0)
        .min_by_key(|&&(i, j)| grid[i][j])
        .or_else(|| candidates.clone().next());
    match pick {
        Some(&(i, j)) => {
            hidden[i][j] = true;
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_counts_and_their_complements_are_hidden() {
        let t = Table::protected(&[vec![50, 3], vec![40, 30]]);
        assert_eq!(t.cells[0][1], Cell::Suppressed, "3 is small");
        // Row 0 would give 3 away from its total 53 and 50: another cell in the row hides.
        let row0_hidden = t.cells[0].iter().filter(|c| **c == Cell::Suppressed).count()
            + usize::from(t.row_totals[0] == Cell::Suppressed);
        assert!(row0_hidden >= 2);
        let col1_hidden =
            [t.cells[0][1], t.cells[1][1], t.col_totals[1]].iter().filter(|c| **c == Cell::Suppressed).count();
        assert!(col1_hidden >= 2);
    }

    #[test]
    fn zeros_and_large_counts_show() {
        let t = Table::protected(&[vec![0, 120], vec![33, 0]]);
        assert_eq!(t.cells, vec![vec![Cell::Shown(0), Cell::Shown(120)], vec![Cell::Shown(33), Cell::Shown(0)]]);
        assert_eq!(t.total, Cell::Shown(153));
    }

    #[test]
    fn an_open_table_shows_everything() {
        let t = Table::open(&[vec![1, 2], vec![3, 4]]);
        assert_eq!(t.total, Cell::Shown(10));
        assert_eq!(t.row_totals, vec![Cell::Shown(3), Cell::Shown(7)]);
        assert_eq!(t.col_totals, vec![Cell::Shown(4), Cell::Shown(6)]);
    }

    #[test]
    fn an_empty_table_is_fine() {
        let t = Table::protected(&[]);
        assert_eq!(t.total, Cell::Shown(0));
        assert!(t.cells.is_empty());
    }

    fn lines(t: &Table) -> Vec<Vec<Cell>> {
        let mut out = Vec::new();
        for (i, r) in t.cells.iter().enumerate() {
            let mut l = r.clone();
            l.push(t.row_totals[i]);
            out.push(l);
        }
        for j in 0..t.col_totals.len() {
            let mut l: Vec<Cell> = t.cells.iter().map(|r| r[j]).collect();
            l.push(t.col_totals[j]);
            out.push(l);
        }
        let mut l = t.col_totals.clone();
        l.push(t.total);
        out.push(l);
        let mut l = t.row_totals.clone();
        l.push(t.total);
        out.push(l);
        out
    }

    proptest! {
        #[test]
        fn no_small_count_shows_and_no_line_has_a_lone_hidden_cell(
            values in proptest::collection::vec(proptest::collection::vec(prop_oneof![Just(0u64), 1u64..12, 0u64..200], 1..6), 0..6)
        ) {
            let t = Table::protected(&values);
            let open = Table::open(&values);
            for l in lines(&open).iter().zip(lines(&t)) {
                for (o, p) in l.0.iter().zip(&l.1) {
                    if let Cell::Shown(v) = o {
                        if (1..MIN_SHOWN).contains(v) { prop_assert_eq!(*p, Cell::Suppressed); }
                        if let Cell::Shown(w) = p { prop_assert_eq!(v, w); }
                    }
                }
                let hidden = l.1.iter().filter(|c| **c == Cell::Suppressed).count();
                prop_assert!(hidden != 1, "a lone hidden cell in {:?}", l.1);
            }
        }
    }
}
