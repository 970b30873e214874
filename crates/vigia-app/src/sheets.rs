//! Spreadsheets into grids: the bulletin's legacy XLS (BIFF8) and XLSX through
//! `calamine`, CSV as UTF-8 or else Windows-1252. What the official sources' importers
//! (statistics, UN recommendations) read before their pure rules place each cell.

use vigia_domain::grid::{Cell, Problem, Sheet};

/// The largest file an import reads (a year's table is tens of kilobytes, the UHRI's
/// export of Mexico's recommendations a few megabytes).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

fn file_problem(code: &'static str, detail: String) -> Problem {
    Problem { sheet: String::new(), row: 1, column: "A".into(), code, params: vec![("detail", detail)] }
}

/// What kind of file the bytes are, by their first bytes (never by the name alone).
fn media_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        "application/vnd.ms-excel"
    } else if bytes.starts_with(b"PK\x03\x04") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        "text/csv"
    }
}

/// The most cells, rows and columns one sheet may use: far above any table of the
/// bulletin or the UHRI's export, far below what would exhaust memory. calamine builds
/// a sheet's whole rectangle from its first to its last used cell, so an XLSX with two
/// cells at opposite corners would ask for billions: XLSX is read cell by cell instead,
/// and stops at these limits.
pub const MAX_ROWS: u32 = 60_000;
pub const MAX_COLUMNS: u32 = 256;
pub const MAX_CELLS: usize = 2_000_000;
/// The most an XLSX's parts may add up to once decompressed (a zip bomb stops here).
pub const MAX_UNZIPPED_BYTES: u64 = 200 * 1024 * 1024;

/// One import reads a spreadsheet at a time: the worst case in memory is one file's.
static READING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Text as kept: no control characters but line breaks and tabs (PostgreSQL refuses
/// NUL in text, and nothing a person reads needs the rest).
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| (!c.is_control() || matches!(c, '\n' | '\t')) && !vigia_domain::input::is_bidi_control(*c))
        .collect()
}

fn cell_of(d: &calamine::Data) -> Cell {
    match d {
        calamine::Data::Empty => Cell::Empty,
        calamine::Data::Int(i) => Cell::Number(*i as f64),
        calamine::Data::Float(f) => Cell::Number(*f),
        calamine::Data::String(s) => Cell::Text(clean(s)),
        other => Cell::Text(clean(&other.to_string())),
    }
}

fn too_large() -> Problem {
    file_problem("stats_sheet_too_large", format!("{MAX_ROWS} × {MAX_COLUMNS}"))
}

/// Reads an XLS, XLSX or CSV file into sheets of cells. A file that is none of them, or
/// one past the limits above, is one problem naming why.
pub fn read_sheets(bytes: &[u8]) -> Result<(Vec<Sheet>, &'static str), Problem> {
    let media = media_type(bytes);
    if bytes.len() > MAX_FILE_BYTES {
        return Err(file_problem("stats_file_too_large", MAX_FILE_BYTES.to_string()));
    }
    let _one_at_a_time = READING.lock().unwrap_or_else(|e| e.into_inner());
    match media {
        "text/csv" => Ok((vec![csv_sheet(bytes)?], media)),
        "application/vnd.ms-excel" => Ok((xls_sheets(bytes)?, media)),
        _ => Ok((xlsx_sheets(bytes)?, media)),
    }
}

/// A legacy XLS: its format caps a sheet at 65,536 × 256 cells, which calamine holds
/// whole; each sheet is checked against the limits before it is copied.
fn xls_sheets(bytes: &[u8]) -> Result<Vec<Sheet>, Problem> {
    use calamine::Reader;
    let unreadable = |e: calamine::XlsError| file_problem("stats_unreadable_file", e.to_string());
    let mut book = calamine::Xls::new(std::io::Cursor::new(bytes)).map_err(unreadable)?;
    let mut sheets = Vec::new();
    for sheet_name in book.sheet_names() {
        let range = book.worksheet_range(&sheet_name).map_err(unreadable)?;
        let (rows, cols) = range.get_size();
        let (top, left) = range.start().map(|(r, c)| (r as usize, c as usize)).unwrap_or((0, 0));
        if top + rows > MAX_ROWS as usize || left + cols > MAX_COLUMNS as usize || rows * cols > MAX_CELLS {
            return Err(too_large());
        }
        // A range starts at its first used cell: rows and columns before it are empty.
        let mut grid: Vec<Vec<Cell>> = (0..top).map(|_| Vec::new()).collect();
        for row in range.rows() {
            let mut cells: Vec<Cell> = (0..left).map(|_| Cell::Empty).collect();
            cells.extend(row.iter().map(cell_of));
            grid.push(cells);
        }
        sheets.push(Sheet { name: clean(&sheet_name), rows: grid });
    }
    Ok(sheets)
}

/// An XLSX, cell by cell: never more than the limits in memory, whatever the sheet says
/// its dimensions are, and never more than [`MAX_UNZIPPED_BYTES`] unzipped.
fn xlsx_sheets(bytes: &[u8]) -> Result<Vec<Sheet>, Problem> {
    use calamine::Reader;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| file_problem("stats_unreadable_file", e.to_string()))?;
    let mut unzipped = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index_raw(i).map_err(|e| file_problem("stats_unreadable_file", e.to_string()))?;
        unzipped = unzipped.saturating_add(part.size());
    }
    if unzipped > MAX_UNZIPPED_BYTES {
        return Err(file_problem("stats_file_too_large", MAX_UNZIPPED_BYTES.to_string()));
    }
    let unreadable = |e: calamine::XlsxError| file_problem("stats_unreadable_file", e.to_string());
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(unreadable)?;
    let mut sheets = Vec::new();
    for sheet_name in book.sheet_names() {
        let mut reader = book.worksheet_cells_reader(&sheet_name).map_err(unreadable)?;
        let mut grid: Vec<Vec<Cell>> = Vec::new();
        let mut count = 0usize;
        while let Some(cell) = reader.next_cell().map_err(unreadable)? {
            let (r, c) = cell.get_position();
            if r >= MAX_ROWS || c >= MAX_COLUMNS {
                return Err(too_large());
            }
            count += 1;
            if count > MAX_CELLS {
                return Err(too_large());
            }
            let value = match cell.get_value() {
                calamine::DataRef::Empty => continue,
                calamine::DataRef::Int(i) => Cell::Number(*i as f64),
                calamine::DataRef::Float(f) => Cell::Number(*f),
                calamine::DataRef::String(s) => Cell::Text(clean(s)),
                calamine::DataRef::SharedString(s) => Cell::Text(clean(s)),
                other => cell_of(&calamine::Data::from(other.clone())),
            };
            let (r, c) = (r as usize, c as usize);
            if grid.len() <= r {
                grid.resize_with(r + 1, Vec::new);
            }
            let row = &mut grid[r];
            if row.len() <= c {
                row.resize(c + 1, Cell::Empty);
            }
            row[c] = value;
        }
        sheets.push(Sheet { name: clean(&sheet_name), rows: grid });
    }
    Ok(sheets)
}

/// A CSV as one sheet: UTF-8 (with or without its BOM) or else Windows-1252, the
/// Latin-1 the bulletin's text is often in; comma, semicolon or tab separated.
fn csv_sheet(bytes: &[u8]) -> Result<Sheet, Problem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
    };
    if text.contains('\0') {
        return Err(file_problem("stats_unreadable_file", "binary".into()));
    }
    let head: String = text.lines().take(20).collect();
    let delimiter =
        [b',', b';', b'\t'].into_iter().max_by_key(|d| head.bytes().filter(|b| b == d).count()).unwrap_or(b',');
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| file_problem("stats_unreadable_file", e.to_string()))?;
        rows.push(
            record.iter().map(|c| if c.trim().is_empty() { Cell::Empty } else { Cell::Text(c.to_string()) }).collect(),
        );
    }
    // Not the file's name: the same bytes under another name are the same file.
    Ok(Sheet { name: "CSV".into(), rows })
}
