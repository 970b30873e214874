//! Reading a table of the UPM bulletin from a grid of cells.
//!
//! What the files look like (the bulletin's section 3, one file per table and year): a
//! header block of four or five rows (the unit, the bulletin's name, "Cuadro 3.2.1
//! Eventos de extranjeros devueltos …, enero-mayo de 2020"), a row of column headers —
//! the rows' dimension ("Continente y país de nacionalidad", "Entidad federativa"…),
//! one column per month and a total ("Subtotal" from 2021) —, then rows that mix the
//! table's total, region subtotals and countries (or states, age groups…), and footer
//! notes ("Nota: …", "Fuente: …"). A zero is often written "-"; months not published
//! yet are empty. The file is overwritten every month with the year's cumulative
//! figures.
//!
//! [`read`] places every cell it uses: the table (its number and title), the year, the
//! measure (presented, channelled, returned), the dimension, each month column and each
//! row's key (an ISO 3166-1 alpha-3 code for a country, `state:07` for an INEGI state
//! code, `region:…` for a region). Anything it cannot place is a [`Problem`] with the
//! sheet, row and column where it is; a file with any problem is refused whole.

use super::{countries, Dimension, Measure, RowKind, REGIONS};

pub use crate::grid::{column_letter, Cell, Problem, Sheet};

/// A row of a table as read: its key, its label as printed, what it is, and its value
/// for each month the file has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    pub key: String,
    pub label: String,
    pub kind: RowKind,
    pub values: Vec<(u8, i64)>,
}

/// A table as read from one sheet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Table {
    pub sheet: String,
    /// The bulletin's table number, e.g. `3.2.1`.
    pub code: String,
    /// The title as printed.
    pub title: String,
    pub year: i16,
    pub measure: Measure,
    pub dimension: Dimension,
    /// The months the file has figures for, in order (a cumulative file of May: 1–5).
    pub months: Vec<u8>,
    pub rows: Vec<Row>,
}

impl Table {
    /// Every figure of the table, row by row.
    pub fn figures(&self) -> Vec<super::Figure> {
        self.rows
            .iter()
            .flat_map(|r| r.values.iter().map(|(m, v)| super::Figure { key: r.key.clone(), month: *m, value: *v }))
            .collect()
    }
}

/// The most rows a table may have (200 nationalities and their regions fit many times).
pub const MAX_ROWS: usize = 5_000;
/// The most problems listed back (all are counted in the refusal).
pub const LISTED_PROBLEMS: usize = 200;

/// The month headers as the bulletin prints them (what the demo and the benchmark write).
pub const MONTH_HEADERS: [&str; 12] = [
    "Enero",
    "Febrero",
    "Marzo",
    "Abril",
    "Mayo",
    "Junio",
    "Julio",
    "Agosto",
    "Septiembre",
    "Octubre",
    "Noviembre",
    "Diciembre",
];

const MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// A month header: the Spanish name or its first three letters ("Ene", "Sept").
fn month_of(text: &str) -> Option<u8> {
    let f = countries::fold(text);
    let f = f.trim_end_matches(['.', ' ']);
    if f.len() < 3 {
        return None;
    }
    let f = if f == "setiembre" { "septiembre" } else { f };
    MONTHS.iter().position(|m| *m == f || (f.len() <= 4 && m.starts_with(f))).map(|i| i as u8 + 1)
}

fn is_total_header(text: &str) -> bool {
    matches!(countries::fold(text).as_str(), "total" | "subtotal" | "total general")
}

/// The table number in a title: the first `3.2.1`-like token after "Cuadro", or the
/// whole text when it is only a number (a sheet named "3.2.1").
fn table_code(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let tokens: Vec<&str> = lower.split(|c: char| c.is_whitespace() || c == ':').filter(|t| !t.is_empty()).collect();
    let code = |t: &str| {
        let parts: Vec<&str> = t.trim_end_matches('.').split('.').collect();
        (parts.len() >= 2
            && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit())))
        .then(|| parts.join("."))
    };
    match tokens.iter().position(|t| *t == "cuadro") {
        Some(i) => tokens.get(i + 1).and_then(|t| code(t)),
        None => (tokens.len() == 1).then(|| code(tokens[0])).flatten(),
    }
}

/// What a title says the table counts. Returned events first ("devueltos"); a table of
/// presented *and* channelled events together is not one series and is refused.
fn measure_of(title: &str) -> Option<Measure> {
    let f = countries::fold(title);
    if f.contains("devuelt") || f.contains("deportad") || f.contains("retorno asistido") {
        return Some(Measure::Returned);
    }
    let presented = f.contains("presentad") || f.contains("alojad");
    let channelled = f.contains("canalizad");
    match (presented, channelled) {
        (true, false) => Some(Measure::Presented),
        (false, true) => Some(Measure::Channelled),
        _ => None,
    }
}

/// The last plausible year (1990–2100) written in a text.
fn year_in(text: &str) -> Option<i16> {
    countries::fold(text).split(' ').filter_map(|t| t.parse::<i16>().ok()).rfind(|y| (1990..=2100).contains(y))
}

fn dimension_of(header: &str) -> Option<Dimension> {
    let f = countries::fold(header);
    if f.contains("nacionalidad") || f.contains("pais") || f.contains("continente") {
        Some(Dimension::Nationality)
    } else if f.contains("entidad") || f.contains("estado") {
        Some(Dimension::State)
    } else if f.contains("edad") {
        Some(Dimension::Age)
    } else if f.contains("sexo") {
        Some(Dimension::Sex)
    } else if f.contains("acompa") {
        Some(Dimension::Minors)
    } else {
        None
    }
}

/// Notes under a table: "Nota:", "Fuente:", "1/ …", "* …".
fn is_footer(label: &str) -> bool {
    let t = label.trim_start();
    let f = countries::fold(t);
    ["nota", "notas", "fuente", "cifras", "informacion", "elaborado", "elaboracion"]
        .iter()
        .any(|w| f == *w || f.starts_with(&format!("{w} ")))
        || t.starts_with('*')
        || t.split_once('/')
            .is_some_and(|(n, _)| !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A row label's key and kind, in the table's dimension.
fn place(dimension: Dimension, label: &str) -> Option<(String, RowKind)> {
    let f = countries::fold(label);
    if matches!(f.as_str(), "total" | "total general" | "subtotal") {
        return Some(("total".into(), RowKind::Total));
    }
    let category = |key: &str| Some((key.to_string(), RowKind::Category));
    match dimension {
        Dimension::Nationality => {
            let region = match f.as_str() {
                "america" | "americas" => Some("region:america"),
                "america del norte" | "norteamerica" => Some("region:america-norte"),
                "america central" | "centroamerica" => Some("region:america-central"),
                "islas del caribe" | "caribe" | "el caribe" => Some("region:caribe"),
                "america del sur" | "sudamerica" | "sur america" => Some("region:america-sur"),
                "asia" => Some("region:asia"),
                "europa" => Some("region:europa"),
                "africa" => Some("region:africa"),
                "oceania" => Some("region:oceania"),
                "otros" | "otros paises" | "resto del mundo" => Some("region:otros"),
                _ => None,
            };
            if let Some(r) = region {
                debug_assert!(REGIONS.iter().any(|(k, _, _)| *k == r));
                return Some((r.to_string(), RowKind::Region));
            }
            match f.as_str() {
                "apatridas" | "apatrida" | "sin nacionalidad" => return category("stateless"),
                "no especificado"
                | "no especificada"
                | "no identificado"
                | "no identificada"
                | "nacionalidad no especificada" => return category("unspecified"),
                _ => {}
            }
            countries::country(label).map(|c| (c.iso3.to_string(), RowKind::Country))
        }
        Dimension::State => {
            let alias = match f.as_str() {
                "distrito federal" | "cdmx" => Some("09"),
                "estado de mexico" => Some("15"),
                "coahuila" => Some("05"),
                "michoacan" => Some("16"),
                "veracruz" => Some("30"),
                _ => None,
            };
            let code =
                alias.or_else(|| crate::geo::STATES.iter().find(|s| countries::fold(s.name) == f).map(|s| s.code))?;
            Some((format!("state:{code}"), RowKind::Category))
        }
        Dimension::Age => {
            let numbers: Vec<u32> = f.split(' ').filter_map(|t| t.parse().ok()).collect();
            match numbers.as_slice() {
                [0, 11] => category("age:0-11"),
                [12, 17] => category("age:12-17"),
                [18] if f.contains("mas") || f.contains("mayores") => category("age:18+"),
                _ => None,
            }
        }
        Dimension::Sex => match f.as_str() {
            "hombres" | "hombre" | "masculino" => category("sex:men"),
            "mujeres" | "mujer" | "femenino" => category("sex:women"),
            _ => None,
        },
        Dimension::Minors => match f.as_str() {
            "acompanados" | "acompanadas" | "acompanado" => category("minors:accompanied"),
            "no acompanados" | "no acompanadas" | "no acompanado" => category("minors:unaccompanied"),
            _ => None,
        },
    }
}

/// A count in a cell: a whole, non-negative number, "-" for zero (the bulletin's way),
/// `Ok(None)` when empty; `Err` for anything else.
fn count(cell: &Cell) -> Result<Option<i64>, ()> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Number(n) => {
            if n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n < 1e12 {
                Ok(Some(*n as i64))
            } else {
                Err(())
            }
        }
        Cell::Text(t) => {
            let t = t.trim();
            if t.is_empty() {
                return Ok(None);
            }
            if matches!(t, "-" | "–" | "—" | "0") {
                return Ok(Some(0));
            }
            // "1,204" and "1 204" as printed; never a decimal point.
            let digits: String = t.chars().filter(|c| !matches!(c, ',' | ' ' | '\u{a0}')).collect();
            if !digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()) {
                digits.parse().map(Some).map_err(|_| ())
            } else {
                Err(())
            }
        }
    }
}

struct Problems {
    sheet: String,
    list: Vec<Problem>,
    count: usize,
}

impl Problems {
    fn push(&mut self, row: usize, col: usize, code: &'static str, params: Vec<(&'static str, String)>) {
        self.count += 1;
        if self.list.len() < LISTED_PROBLEMS {
            self.list.push(Problem {
                sheet: self.sheet.clone(),
                row: u32::try_from(row + 1).unwrap_or(u32::MAX),
                column: column_letter(col),
                code,
                params,
            });
        }
    }
}

/// Reads every non-empty sheet as one bulletin table: all of them, or every problem.
pub fn read(sheets: &[Sheet]) -> Result<Vec<Table>, Vec<Problem>> {
    let mut tables = Vec::new();
    let mut problems = Vec::new();
    for sheet in sheets {
        if sheet.rows.iter().all(|r| r.iter().all(Cell::is_empty)) {
            continue;
        }
        match read_sheet(sheet) {
            Ok(t) => tables.push(t),
            Err(p) => problems.extend(p),
        }
    }
    if tables.is_empty() && problems.is_empty() {
        problems.push(Problem {
            sheet: String::new(),
            row: 1,
            column: "A".into(),
            code: "stats_empty",
            params: vec![],
        });
    }
    if problems.is_empty() {
        Ok(tables)
    } else {
        problems.truncate(LISTED_PROBLEMS);
        Err(problems)
    }
}

/// How many rows from the top the header row is looked for in.
const HEADER_SEARCH: usize = 15;

fn read_sheet(sheet: &Sheet) -> Result<Table, Vec<Problem>> {
    let mut p = Problems { sheet: sheet.name.clone(), list: Vec::new(), count: 0 };
    let cell = |r: usize, c: usize| sheet.rows.get(r).and_then(|row| row.get(c)).unwrap_or(&Cell::Empty);
    // The header row: the first with a month name in it.
    let header = (0..sheet.rows.len().min(HEADER_SEARCH))
        .find(|r| sheet.rows[*r].iter().filter_map(Cell::text).any(|t| month_of(t).is_some()));
    let Some(header) = header else {
        p.push(0, 0, "stats_no_header", vec![]);
        return Err(p.list);
    };
    // The title: the first text above the header naming a table ("Cuadro 3.2.1 …"),
    // or the sheet's name when it is a table number.
    let mut title = None;
    for r in 0..header {
        for (c, t) in sheet.rows[r].iter().enumerate().filter_map(|(c, x)| x.text().map(|t| (c, t))) {
            if title.is_none() {
                if let Some(code) = table_code(t) {
                    title = Some((r, c, code, t.to_string()));
                }
            }
        }
    }
    let (title_row, title_col, code, title) = match title {
        Some(t) => t,
        None => match table_code(&sheet.name) {
            // The title is then the longest text above the header.
            Some(code) => {
                let longest = (0..header)
                    .flat_map(|r| {
                        sheet.rows[r].iter().enumerate().filter_map(move |(c, x)| x.text().map(|t| (r, c, t)))
                    })
                    .max_by_key(|(_, _, t)| t.len());
                match longest {
                    Some((r, c, t)) => (r, c, code, t.to_string()),
                    None => (0, 0, code, String::new()),
                }
            }
            None => {
                p.push(0, 0, "stats_no_title", vec![]);
                return Err(p.list);
            }
        },
    };
    let measure = measure_of(&title);
    if measure.is_none() {
        p.push(title_row, title_col, "stats_unknown_table", vec![("table", code.clone())]);
    }
    let year = year_in(&title)
        .or_else(|| (0..header).rev().flat_map(|r| sheet.rows[r].iter().filter_map(Cell::text)).find_map(year_in));
    let year = year.or_else(|| year_in(&sheet.name));
    if year.is_none() {
        p.push(title_row, title_col, "stats_no_year", vec![]);
    }
    // The header row's cells: the label column (the first text before the months),
    // each month, the total; anything else is a cell we cannot place.
    let mut label_col = None;
    let mut month_cols: Vec<(usize, u8)> = Vec::new();
    let mut total_col = None;
    for (c, x) in sheet.rows[header].iter().enumerate() {
        let Some(t) = x.text() else {
            if let Cell::Number(n) = x {
                p.push(header, c, "stats_unknown_column", vec![("text", n.to_string())]);
            }
            continue;
        };
        if let Some(m) = month_of(t) {
            if month_cols.iter().any(|(_, k)| *k == m) {
                p.push(header, c, "stats_duplicate_month", vec![("text", t.to_string())]);
            }
            month_cols.push((c, m));
        } else if is_total_header(t) && !month_cols.is_empty() {
            total_col = Some(c);
        } else if label_col.is_none() && month_cols.is_empty() {
            label_col = Some((c, t.to_string()));
        } else {
            p.push(header, c, "stats_unknown_column", vec![("text", t.to_string())]);
        }
    }
    let (label_col, dimension) = match label_col {
        Some((c, t)) => match dimension_of(&t) {
            Some(d) => (c, Some(d)),
            None => {
                p.push(header, c, "stats_unknown_dimension", vec![("text", t)]);
                (c, None)
            }
        },
        None => {
            p.push(header, 0, "stats_no_label_column", vec![]);
            (0, None)
        }
    };
    // The rows, until the end of the sheet; footer notes and empty rows are skipped.
    let mut rows: Vec<(usize, Row, Option<i64>)> = Vec::new();
    for r in header + 1..sheet.rows.len() {
        let numbers_in_row = month_cols.iter().any(|(c, _)| !cell(r, *c).is_empty())
            || total_col.is_some_and(|c| !cell(r, c).is_empty());
        let label = match cell(r, label_col) {
            Cell::Text(t) => t.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Empty => String::new(),
        };
        if label.trim().is_empty() {
            if numbers_in_row {
                p.push(r, label_col, "stats_unlabelled_row", vec![]);
            }
            continue;
        }
        if !numbers_in_row && is_footer(&label) {
            continue;
        }
        if rows.len() >= MAX_ROWS {
            p.push(r, label_col, "stats_too_many_rows", vec![("max", MAX_ROWS.to_string())]);
            break;
        }
        let placed = dimension.and_then(|d| place(d, &label));
        let Some((key, kind)) = placed else {
            if dimension.is_some() {
                p.push(r, label_col, "stats_unknown_row", vec![("text", label.trim().to_string())]);
            }
            continue;
        };
        if let Some((first, _, _)) = rows.iter().find(|(_, x, _)| x.key == key) {
            p.push(
                r,
                label_col,
                "stats_duplicate_row",
                vec![("text", label.trim().to_string()), ("first", (first + 1).to_string())],
            );
            continue;
        }
        let mut values = Vec::new();
        for (c, m) in &month_cols {
            match count(cell(r, *c)) {
                Ok(Some(v)) => values.push((*m, v)),
                Ok(None) => {}
                Err(()) => p.push(r, *c, "stats_not_a_count", vec![("text", cell_text(cell(r, *c)))]),
            }
        }
        let total = match total_col.map(|c| (c, count(cell(r, c)))) {
            Some((_, Ok(t))) => t,
            Some((c, Err(()))) => {
                p.push(r, c, "stats_not_a_count", vec![("text", cell_text(cell(r, c)))]);
                None
            }
            None => None,
        };
        rows.push((r, Row { key, label: label.trim().to_string(), kind, values }, total));
    }
    // The months the file has: those with a figure in any row. In such a month an
    // empty cell is a zero (the bulletin leaves some zeros blank); a month with no
    // figure anywhere is not published yet.
    let mut months: Vec<u8> = month_cols
        .iter()
        .map(|(_, m)| *m)
        .filter(|m| rows.iter().any(|(_, r, _)| r.values.iter().any(|(k, _)| k == m)))
        .collect();
    months.sort_unstable();
    for (r, row, total) in &mut rows {
        for m in &months {
            if !row.values.iter().any(|(k, _)| k == m) {
                row.values.push((*m, 0));
            }
        }
        row.values.sort_unstable();
        let sum: i64 = row.values.iter().map(|(_, v)| v).sum();
        if let (Some(t), Some(c)) = (total, total_col) {
            if *t != sum {
                p.push(*r, c, "stats_total_mismatch", vec![("total", t.to_string()), ("sum", sum.to_string())]);
            }
        }
    }
    if rows.is_empty() && p.count == 0 {
        p.push(header, label_col, "stats_no_rows", vec![]);
    }
    if p.count > 0 {
        return Err(p.list);
    }
    let (Some(year), Some(measure), Some(dimension)) = (year, measure, dimension) else {
        p.push(title_row, title_col, "stats_unknown_table", vec![("table", code)]);
        return Err(p.list);
    };
    Ok(Table {
        sheet: sheet.name.clone(),
        code,
        title,
        year,
        measure,
        dimension,
        months,
        rows: rows.into_iter().map(|(_, r, _)| r).collect(),
    })
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Text(t) => t.trim().chars().take(40).collect(),
        Cell::Number(n) => n.to_string(),
    }
}

#[cfg(test)]
mod tests;
