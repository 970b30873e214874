//! Disclosure control for counts about people shown outside the organization that owns
//! them (DOMAIN.md §9, method in `docs/disclosure.md`): no other organization's count
//! from 1 to 10 can be read or worked out.
//!
//! - **Primary suppression on the others' share.** In a coalition table each cell is
//!   the viewer's own count plus the other organizations'. The viewer knows their own,
//!   so what is hidden is decided on the others' share alone: a cell whose others' part
//!   is 1–10 is hidden whatever the viewer's own part (padding a cell with one's own
//!   cases reveals nothing, and the pattern does not change with one's own data).
//! - **Complementary suppression** in every additive line (rows, columns, their totals
//!   and the grand total), so no hidden value follows from a total.
//! - **Linked tables.** Tables of the same period share their column totals (by
//!   facility and by month count the same people): those are hidden alike in all.
//! - **An audit by linear algebra.** Whatever is left, the hidden others' values are
//!   solved for from every equation the tables give (each line's sum, the shared
//!   totals); while one with a value from 1 to 10 is uniquely determined, one more cell
//!   beside it is hidden.
//! - **Fixed periods** are the caller's part: coalition counts are published for whole
//!   calendar years only, so overlapping date ranges cannot be subtracted.

use serde::{Deserialize, Serialize};

/// The smallest count shown outside the owning organization (besides zero).
pub const MIN_SHOWN: u64 = 11;

fn sensitive(v: u64) -> bool {
    (1..MIN_SHOWN).contains(&v)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// One table's counts split by whose they are: the viewer's organization's (`own`)
/// and every other organization's (`others`), with the same rows and columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub own: Vec<Vec<u64>>,
    pub others: Vec<Vec<u64>>,
    /// The others' counts one organization at a time (same rows and columns), when they
    /// are more than one: a cell is hidden too when any one organization's share is
    /// from 1 to 10, not only when their sum is. This does not make it safe for a viewer
    /// to know another organization's counts exactly (zeros forced by a known share can
    /// pin a third one's count): an organization whose counts are public for a year is
    /// therefore left out of the coalition's tables of that year altogether
    /// (`vigia_app::cases::measures`, review of issue #17).
    pub each: Vec<Vec<Vec<u64>>>,
}

impl Table {
    /// Every count shown as it is (inside the owning organization).
    pub fn open(values: &[Vec<u64>]) -> Table {
        let grid = with_margins(&rectangular(values, width(values)), width(values));
        let none = grid.iter().map(|r| vec![false; r.len()]).collect::<Vec<_>>();
        Table::from_grid(&grid, &none)
    }

    /// A table of other organizations' counts alone, protected.
    pub fn protected(values: &[Vec<u64>]) -> Table {
        let split = Split { own: Vec::new(), others: values.to_vec(), each: Vec::new() };
        Table::linked(std::slice::from_ref(&split)).into_iter().next().unwrap_or_else(|| Table::open(&[]))
    }

    /// Tables of one period that share their column totals (e.g. by facility and by
    /// month), shown as own + others with the others' small counts and their
    /// complements hidden; the viewer's own counts never decide what is hidden.
    pub fn linked(parts: &[Split]) -> Vec<Table> {
        let ncols = parts.iter().map(|p| width(&p.own).max(width(&p.others))).max().unwrap_or(0);
        let combined: Vec<Grid> = parts
            .iter()
            .map(|p| {
                let rows = p.own.len().max(p.others.len());
                let own = rectangular(&p.own, ncols);
                let others = rectangular(&p.others, ncols);
                let sum: Vec<Vec<u64>> = (0..rows)
                    .map(|i| {
                        (0..ncols)
                            .map(|j| {
                                let at = |t: &Vec<Vec<u64>>| t.get(i).map_or(0, |r| r[j]);
                                at(&own) + at(&others)
                            })
                            .collect()
                    })
                    .collect();
                with_margins(&sum, ncols)
            })
            .collect();
        let others: Vec<Grid> = parts
            .iter()
            .map(|p| {
                let rows = p.own.len().max(p.others.len());
                let mut o = rectangular(&p.others, ncols);
                o.resize(rows, vec![0; ncols]);
                with_margins(&o, ncols)
            })
            .collect();
        // What is hidden first: every entry whose others' count, or any one other
        // organization's, is from 1 to 10 (row and column totals included).
        let primary: Vec<Vec<Vec<bool>>> = parts
            .iter()
            .zip(&others)
            .map(|(p, g)| {
                let rows = g.len().saturating_sub(1);
                let mut mask: Vec<Vec<bool>> = g.iter().map(|r| r.iter().map(|&v| sensitive(v)).collect()).collect();
                for org in &p.each {
                    let mut o = rectangular(org, ncols);
                    o.resize(rows, vec![0; ncols]);
                    for (i, r) in with_margins(&o, ncols).iter().enumerate() {
                        for (j, &v) in r.iter().enumerate() {
                            if sensitive(v) {
                                mask[i][j] = true;
                            }
                        }
                    }
                }
                mask
            })
            .collect();
        // Tables of one period share their column totals; tables that do not (another
        // caller's) are protected each on its own.
        let shared = others.windows(2).all(|w| w[0].last() == w[1].last());
        let hidden = if shared {
            hide(&others, &primary)
        } else {
            others
                .iter()
                .zip(&primary)
                .flat_map(|(g, m)| hide(std::slice::from_ref(g), std::slice::from_ref(m)))
                .collect()
        };
        combined.iter().zip(&hidden).map(|(g, h)| Table::from_grid(g, h)).collect()
    }

    fn from_grid(grid: &Grid, hidden: &[Vec<bool>]) -> Table {
        let nr = grid.len();
        let nc = grid.first().map_or(1, Vec::len);
        let cell = |i: usize, j: usize| if hidden[i][j] { Cell::Suppressed } else { Cell::Shown(grid[i][j]) };
        Table {
            cells: (0..nr - 1).map(|i| (0..nc - 1).map(|j| cell(i, j)).collect()).collect(),
            row_totals: (0..nr - 1).map(|i| cell(i, nc - 1)).collect(),
            col_totals: (0..nc - 1).map(|j| cell(nr - 1, j)).collect(),
            total: cell(nr - 1, nc - 1),
        }
    }
}

/// Counts with their row totals as a last column and their column totals (and the
/// grand total) as a last row: every row and column of it is additive.
type Grid = Vec<Vec<u64>>;

fn width(values: &[Vec<u64>]) -> usize {
    values.iter().map(Vec::len).max().unwrap_or(0)
}

fn with_margins(values: &[Vec<u64>], ncols: usize) -> Grid {
    let mut grid: Grid = values
        .iter()
        .map(|r| {
            let mut row = r.clone();
            row.push(r.iter().sum());
            row
        })
        .collect();
    let last: Vec<u64> = (0..=ncols).map(|j| grid.iter().map(|r| r[j]).sum()).collect();
    grid.push(last);
    grid
}

/// Which entries of linked grids to hide, decided on the others' counts alone, starting
/// from the `primary` ones (a count from 1 to 10 in the sum or in one organization's share).
fn hide(grids: &[Grid], primary: &[Vec<Vec<bool>>]) -> Vec<Vec<Vec<bool>>> {
    let mut hidden: Vec<Vec<Vec<bool>>> = primary.to_vec();
    loop {
        let mut changed = false;
        for (g, h) in grids.iter().zip(hidden.iter_mut()) {
            changed |= complement_lines(g, h);
        }
        changed |= link_totals(&mut hidden);
        if changed {
            continue;
        }
        // Nothing is left to a single line: check what all the equations together give.
        match audit(grids, &hidden, primary) {
            Some((g, i, j)) => {
                hide_beside(&grids[g], &mut hidden[g], i, j);
                link_totals(&mut hidden);
            }
            None => break,
        }
    }
    hidden
}

/// The shared last rows hidden alike in every grid; whether anything changed.
fn link_totals(hidden: &mut [Vec<Vec<bool>>]) -> bool {
    let Some(ncols) = hidden.first().and_then(|h| h.last()).map(Vec::len) else { return false };
    let mut changed = false;
    for j in 0..ncols {
        if hidden.iter().any(|h| h.last().is_some_and(|r| r[j])) {
            for h in hidden.iter_mut() {
                if let Some(r) = h.last_mut() {
                    changed |= !r[j];
                    r[j] = true;
                }
            }
        }
    }
    changed
}

fn complement_lines(grid: &Grid, hidden: &mut [Vec<bool>]) -> bool {
    let (nr, nc) = (grid.len(), grid.first().map_or(0, Vec::len));
    let mut changed = false;
    for i in 0..nr {
        let line: Vec<(usize, usize)> = (0..nc).map(|j| (i, j)).collect();
        changed |= complement(grid, hidden, &line);
    }
    for j in 0..nc {
        let line: Vec<(usize, usize)> = (0..nr).map(|i| (i, j)).collect();
        changed |= complement(grid, hidden, &line);
    }
    changed
}

/// Hides one more shown entry in a line through (i, j): the smallest non-zero one of
/// its row or column (else any), so that the entry is no longer determined.
fn hide_beside(grid: &Grid, hidden: &mut [Vec<bool>], i: usize, j: usize) {
    let nc = grid[0].len();
    let line: Vec<(usize, usize)> = (0..nc).map(|c| (i, c)).chain((0..grid.len()).map(|r| (r, j))).collect();
    let shown = line.iter().filter(|&&(r, c)| !hidden[r][c]);
    let pick = shown
        .clone()
        .filter(|&&(r, c)| grid[r][c] > 0)
        .min_by_key(|&&(r, c)| grid[r][c])
        .or_else(|| shown.clone().next());
    if let Some(&(r, c)) = pick {
        hidden[r][c] = true;
    } else {
        // The whole row and column are hidden already: nothing beside it can help, so
        // hide everything (never reached in practice; it keeps the loop finite).
        for row in hidden.iter_mut() {
            row.iter_mut().for_each(|h| *h = true);
        }
    }
}

/// A primary hidden entry (an others' count, or one organization's share, from 1 to 10)
/// that every equation the grids give together determines, if any: (grid, row, column).
fn audit(grids: &[Grid], hidden: &[Vec<Vec<bool>>], primary: &[Vec<Vec<bool>>]) -> Option<(usize, usize, usize)> {
    // One unknown per hidden entry; the shared last rows are one unknown each.
    let mut index: std::collections::HashMap<(usize, usize, usize), usize> = std::collections::HashMap::new();
    let mut cells: Vec<(usize, usize, usize)> = Vec::new();
    for (g, h) in hidden.iter().enumerate() {
        let last = h.len() - 1;
        for (i, row) in h.iter().enumerate() {
            for (j, &hid) in row.iter().enumerate() {
                if !hid {
                    continue;
                }
                let key = if i == last { (0, usize::MAX, j) } else { (g, i, j) };
                if let std::collections::hash_map::Entry::Vacant(e) = index.entry(key) {
                    e.insert(cells.len());
                    cells.push((g, i, j));
                }
            }
        }
    }
    if cells.is_empty() {
        return None;
    }
    let var = |g: usize, i: usize, j: usize, last: usize| -> Option<usize> {
        let key = if i == last { (0, usize::MAX, j) } else { (g, i, j) };
        index.get(&key).copied()
    };
    let mut equations: Vec<Vec<f64>> = Vec::new();
    for (g, grid) in grids.iter().enumerate() {
        let (nr, nc) = (grid.len(), grid[0].len());
        let last = nr - 1;
        // Row i: cells minus the row total; column j: cells minus the column total.
        let mut lines: Vec<Vec<((usize, usize), f64)>> = Vec::new();
        for i in 0..nr {
            lines.push((0..nc).map(|j| ((i, j), if j == nc - 1 { -1.0 } else { 1.0 })).collect());
        }
        for j in 0..nc {
            lines.push((0..nr).map(|i| ((i, j), if i == last { -1.0 } else { 1.0 })).collect());
        }
        for line in lines {
            let mut eq = vec![0.0; cells.len()];
            let mut any = false;
            for ((i, j), coef) in line {
                if let Some(v) = var(g, i, j, last) {
                    eq[v] += coef;
                    any = true;
                }
            }
            if any {
                equations.push(eq);
            }
        }
    }
    let determined = determined(equations, cells.len());
    cells.iter().enumerate().find_map(|(v, &(g, i, j))| {
        let last = grids[g].len() - 1;
        // A shared total is one unknown for all the linked grids.
        let is_primary = if i == last {
            primary.iter().any(|p| p.last().is_some_and(|r| r.get(j).copied().unwrap_or(false)))
        } else {
            primary[g][i][j]
        };
        (determined[v] && is_primary).then_some((g, i, j))
    })
}

/// Which unknowns a homogeneous linear system pins down to one value: those whose
/// column is a pivot in the reduced row echelon form with no free column in its row.
pub(crate) fn determined(mut rows: Vec<Vec<f64>>, n: usize) -> Vec<bool> {
    const EPS: f64 = 1e-9;
    let mut pivots: Vec<(usize, usize)> = Vec::new();
    let mut r = 0;
    for c in 0..n {
        let Some(p) = (r..rows.len()).max_by(|&a, &b| rows[a][c].abs().total_cmp(&rows[b][c].abs())) else { break };
        if rows[p][c].abs() < EPS {
            continue;
        }
        rows.swap(r, p);
        let lead = rows[r][c];
        rows[r].iter_mut().for_each(|x| *x /= lead);
        for k in 0..rows.len() {
            if k != r && rows[k][c].abs() >= EPS {
                let f = rows[k][c];
                let pivot_row = rows[r].clone();
                rows[k].iter_mut().zip(&pivot_row).for_each(|(x, y)| *x -= f * y);
            }
        }
        pivots.push((r, c));
        r += 1;
        if r == rows.len() {
            break;
        }
    }
    let mut out = vec![false; n];
    for (row, c) in pivots {
        if (0..n).all(|k| k == c || rows[row][k].abs() < EPS) {
            out[c] = true;
        }
    }
    out
}

/// Rows padded with zeros to `ncols`.
fn rectangular(values: &[Vec<u64>], ncols: usize) -> Vec<Vec<u64>> {
    values.iter().map(|r| r.iter().copied().chain(std::iter::repeat(0)).take(ncols).collect()).collect()
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

    /// The reviewer's first attack: an organization pads a hidden cell with its own
    /// cases and reads the others' count as the total less its own.
    #[test]
    fn padding_a_cell_with_one_s_own_cases_reveals_nothing() {
        let others = vec![vec![1, 40], vec![30, 25]];
        for pad in [0, 5, 11, 100] {
            let own = vec![vec![pad, 0], vec![0, 0]];
            let t = Table::linked(&[Split { own, others: others.clone(), each: Vec::new() }]).remove(0);
            assert_eq!(t.cells[0][0], Cell::Suppressed, "padded by {pad}");
        }
    }

    #[test]
    fn linked_tables_hide_their_shared_totals_alike() {
        // By facility and by month, the same people: measure 1's total is small.
        let by_facility = Split { own: vec![], others: vec![vec![20, 3], vec![30, 0]], each: Vec::new() };
        let by_month = Split { own: vec![], others: vec![vec![25, 0], vec![25, 3]], each: Vec::new() };
        let t = Table::linked(&[by_facility, by_month]);
        assert_eq!(t[0].col_totals[1], Cell::Suppressed);
        assert_eq!(t[0].col_totals, t[1].col_totals, "hidden alike in both");
    }

    #[test]
    fn the_solver_finds_what_equations_pin_down() {
        // a + b = k, a = m: both pinned; c + d = n alone: neither.
        let d = determined(vec![vec![1.0, 1.0, 0.0, 0.0], vec![1.0, 0.0, 0.0, 0.0], vec![0.0, 0.0, 1.0, 1.0]], 4);
        assert_eq!(d, vec![true, true, false, false]);
    }

    /// An adversary who knows their own counts and everything shown, and searches for
    /// other non-negative whole-number values of the hidden others' counts that fit
    /// every total: each hidden others' count from 1 to 10 must have another possible
    /// value. Independent of the engine's own linear audit (and stronger: it uses that
    /// counts are whole and never negative).
    fn alternatives_exist(parts: &[Split], tables: &[Table]) -> Result<(), String> {
        let ncols = tables.first().map_or(0, |t| t.col_totals.len());
        // The others' full grids (cells, row totals; last row the column totals).
        let grids: Vec<Vec<Vec<u64>>> = parts
            .iter()
            .map(|p| {
                let rows = p.own.len().max(p.others.len());
                let mut o = rectangular(&p.others, ncols);
                o.resize(rows, vec![0; ncols]);
                with_margins(&o, ncols)
            })
            .collect();
        let hidden: Vec<Vec<Vec<bool>>> = tables
            .iter()
            .map(|t| {
                let mut h: Vec<Vec<bool>> = t
                    .cells
                    .iter()
                    .zip(&t.row_totals)
                    .map(|(r, tot)| r.iter().chain(std::iter::once(tot)).map(|c| *c == Cell::Suppressed).collect())
                    .collect();
                h.push(t.col_totals.iter().chain(std::iter::once(&t.total)).map(|c| *c == Cell::Suppressed).collect());
                h
            })
            .collect();
        // Unknowns: hidden entries; the shared last row is one unknown per column.
        let mut vars: Vec<(usize, usize, usize)> = Vec::new();
        for (g, h) in hidden.iter().enumerate() {
            for (i, row) in h.iter().enumerate() {
                for (j, &x) in row.iter().enumerate() {
                    let shared_dup = i == h.len() - 1 && g > 0;
                    if x && !shared_dup {
                        vars.push((g, i, j));
                    }
                }
            }
        }
        let var_of = |g: usize, i: usize, j: usize| {
            let (g, i) = if i == hidden[g].len() - 1 { (0, hidden[0].len() - 1) } else { (g, i) };
            vars.iter().position(|&v| v == (g, i, j))
        };
        // Lines: (unknowns with coefficients, the known rest) so that sum(coef * x) = rest.
        let mut lines: Vec<(Vec<(usize, i64)>, i64)> = Vec::new();
        for (g, grid) in grids.iter().enumerate() {
            let (nr, nc) = (grid.len(), grid[0].len());
            let mut all: Vec<Vec<(usize, usize, i64)>> = Vec::new();
            for i in 0..nr {
                all.push((0..nc).map(|j| (i, j, if j == nc - 1 { -1 } else { 1 })).collect());
            }
            for j in 0..nc {
                all.push((0..nr).map(|i| (i, j, if i == nr - 1 { -1 } else { 1 })).collect());
            }
            for line in all {
                let mut terms = Vec::new();
                let mut rest = 0i64;
                for (i, j, c) in line {
                    match var_of(g, i, j) {
                        Some(v) => terms.push((v, c)),
                        None => rest -= c * grid[i][j] as i64,
                    }
                }
                if !terms.is_empty() {
                    lines.push((terms, rest));
                }
            }
        }
        let truth: Vec<i64> = vars.iter().map(|&(g, i, j)| grids[g][i][j] as i64).collect();
        let bound =
            grids.iter().map(|g| g.last().and_then(|r| r.last()).copied().unwrap_or(0)).max().unwrap_or(0) as i64;
        for (v, &(g, i, j)) in vars.iter().enumerate() {
            if !sensitive(grids[g][i][j]) {
                continue;
            }
            let mut assign: Vec<Option<i64>> = vec![None; vars.len()];
            if !search(&lines, &mut assign, bound, v, truth[v]) {
                return Err(format!("others' count {} at {:?} is the only value that fits", truth[v], (g, i, j)));
            }
        }
        Ok(())
    }

    /// Depth-first search for whole values in 0..=bound fitting every line, with
    /// unknown `avoid_var` not equal to `avoid`; a line with one unknown left sets it.
    fn search(
        lines: &[(Vec<(usize, i64)>, i64)],
        assign: &mut Vec<Option<i64>>,
        bound: i64,
        avoid_var: usize,
        avoid: i64,
    ) -> bool {
        let saved = assign.clone();
        // Propagate what single-unknown lines force, and check complete lines.
        loop {
            let mut progress = false;
            for (terms, rest) in lines {
                let open: Vec<&(usize, i64)> = terms.iter().filter(|(v, _)| assign[*v].is_none()).collect();
                let sum: i64 = terms.iter().filter_map(|(v, c)| assign[*v].map(|x| c * x)).sum();
                match open.as_slice() {
                    [] if sum != *rest => {
                        *assign = saved;
                        return false;
                    }
                    [(v, c)] => {
                        let need = rest - sum;
                        let ok = need % c == 0
                            && (0..=bound).contains(&(need / c))
                            && !(*v == avoid_var && need / c == avoid);
                        if !ok {
                            *assign = saved;
                            return false;
                        }
                        assign[*v] = Some(need / c);
                        progress = true;
                    }
                    _ => {}
                }
            }
            if !progress {
                break;
            }
        }
        let Some(next) = assign.iter().position(Option::is_none) else { return true };
        for x in 0..=bound {
            if next == avoid_var && x == avoid {
                continue;
            }
            assign[next] = Some(x);
            if search(lines, assign, bound, avoid_var, avoid) {
                return true;
            }
            assign[next] = None;
        }
        *assign = saved;
        false
    }

    fn small_grid() -> impl Strategy<Value = Vec<Vec<u64>>> {
        proptest::collection::vec(proptest::collection::vec(prop_oneof![Just(0u64), 1u64..11, 11u64..16], 3), 1..4)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// No sequence of what the reviewer tried (own padding, the two groupings of one
        /// period, margins and totals) leaves another organization's count from 1 to 10
        /// worked out.
        #[test]
        fn an_adversary_with_their_own_counts_cannot_pin_a_small_count(
            others_a in small_grid(), others_b in small_grid(), own_a in small_grid(), own_b in small_grid(),
        ) {
            // Make the second table count the same people per column as the first.
            let totals: Vec<u64> = (0..3).map(|j| others_a.iter().map(|r| r[j]).sum()).collect();
            let mut others_b = others_b;
            for j in 0..3 {
                let have: u64 = others_b.iter().map(|r| r[j]).sum();
                if have < totals[j] { others_b[0][j] += totals[j] - have; } else {
                    let mut extra = have - totals[j];
                    for r in others_b.iter_mut() { let take = r[j].min(extra); r[j] -= take; extra -= take; }
                }
            }
            let parts = [Split { own: own_a.clone(), others: others_a.clone(), each: Vec::new() }, Split { own: own_b, others: others_b.clone(), each: Vec::new() }];
            let tables = Table::linked(&parts);
            prop_assert!(alternatives_exist(&parts, &tables).is_ok(), "{:?}", alternatives_exist(&parts, &tables));
            // The viewer's own counts never change what is hidden.
            let zeros = |t: &Vec<Vec<u64>>| t.iter().map(|r| vec![0; r.len()]).collect::<Vec<_>>();
            let alone = Table::linked(&[Split { own: zeros(&own_a), others: others_a, each: Vec::new() }, Split { own: zeros(&parts[1].own), others: others_b, each: Vec::new() }]);
            for (t, u) in tables.iter().zip(&alone) {
                let pattern = |t: &Table| t.cells.iter().flatten().chain(&t.row_totals).chain(&t.col_totals).map(|c| *c == Cell::Suppressed).collect::<Vec<_>>();
                prop_assert_eq!(pattern(t), pattern(u));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// A publication (issue #17): the public is "everyone else", with no counts of
        /// its own. An adversary holding both published tables of a year (by place and by
        /// month, which count the same people per measure) solves every line, total and
        /// shared margin for each hidden cell, over whole non-negative numbers, and must
        /// always find another value that fits: no count from 1 to 10 is pinned down.
        #[test]
        fn the_public_cannot_pin_a_small_count_from_a_publication(
            by_place in small_grid(), by_month in small_grid(),
        ) {
            let totals: Vec<u64> = (0..3).map(|j| by_place.iter().map(|r| r[j]).sum()).collect();
            let mut by_month = by_month;
            for j in 0..3 {
                let have: u64 = by_month.iter().map(|r| r[j]).sum();
                if have < totals[j] { by_month[0][j] += totals[j] - have; } else {
                    let mut extra = have - totals[j];
                    for r in by_month.iter_mut() { let take = r[j].min(extra); r[j] -= take; extra -= take; }
                }
            }
            let parts = [Split { own: Vec::new(), others: by_place, each: Vec::new() }, Split { own: Vec::new(), others: by_month, each: Vec::new() }];
            let tables = Table::linked(&parts);
            prop_assert!(alternatives_exist(&parts, &tables).is_ok(), "{:?}", alternatives_exist(&parts, &tables));
        }
    }

    #[test]
    fn one_organization_s_small_share_is_hidden_inside_a_large_sum() {
        // Others' sum 31 = 25 of one organization + 6 of another: the 6 would follow from
        // 31 once the 25 is known (that organization's own publication).
        let each = vec![vec![vec![25, 20], vec![15, 12]], vec![vec![6, 20], vec![15, 0]]];
        let others = vec![vec![31, 40], vec![30, 12]];
        let t = Table::linked(&[Split { own: vec![], others, each }]).remove(0);
        assert_eq!(t.cells[0][0], Cell::Suppressed);
        for l in lines(&t) {
            assert_ne!(l.iter().filter(|c| **c == Cell::Suppressed).count(), 1, "{l:?}");
        }
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
