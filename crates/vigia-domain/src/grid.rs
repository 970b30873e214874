//! A spreadsheet as a grid of cells, and a problem named by the cell it is in: what the
//! importers of official sources (the UPM bulletin's tables, the UHRI export) read, so
//! their rules are tested without files. The application layer turns XLS, XLSX and CSV
//! into [`Sheet`]s.

/// One cell as a spreadsheet or CSV gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
}

impl Cell {
    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(t) if !t.trim().is_empty() => Some(t.trim()),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            Cell::Number(_) => false,
        }
    }
}

/// A sheet: its name and its rows of cells, top to bottom.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<Vec<Cell>>,
}

/// Something [`read`] could not place: `row` is 1-based and `column` is the letter a
/// spreadsheet shows ("A", "F", "AB"), so a person can find the cell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub sheet: String,
    pub row: u32,
    pub column: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<(&'static str, String)>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sheet {:?}, row {}, column {}: {}", self.sheet, self.row, self.column, self.code)?;
        for (k, v) in &self.params {
            write!(f, " ({k} {v})")?;
        }
        Ok(())
    }
}

/// The spreadsheet letter of a 0-based column.
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}
