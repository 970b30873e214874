//! CSV import of facilities: every row is validated; the import is all or nothing, and
//! each bad row is reported with its line, its column and the reason.

use crate::facility::{self, FacilityDraft, FIELDS};
use crate::input::RawInput;
use crate::FieldError;

/// A problem in one row of an import. `line` is the 1-based line in the file (the
/// header is line 1); `column` is the header name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<(&'static str, String)>,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line,
            if self.column.is_empty() { "-" } else { &self.column },
            self.code
        )?;
        for (k, v) in &self.params {
            write!(f, " ({k} {v})")?;
        }
        Ok(())
    }
}

/// The most rows one import accepts.
pub const MAX_ROWS: usize = 100_000;

fn row_error(line: u64, e: FieldError) -> RowError {
    RowError { line, column: e.field, code: e.code, params: e.params }
}

/// Parses a facilities CSV (UTF-8, comma-separated, with a header naming columns from
/// [`facility::FIELDS`]). Returns every draft, or every problem found.
pub fn facilities_csv(bytes: &[u8]) -> Result<Vec<FacilityDraft>, Vec<RowError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_string()).collect::<Vec<_>>(),
        Err(_) => return Err(vec![RowError { line: 1, column: String::new(), code: "invalid_csv", params: vec![] }]),
    };
    let mut errors = Vec::new();
    for h in &headers {
        if !FIELDS.contains(&h.as_str()) {
            errors.push(RowError { line: 1, column: h.clone(), code: "unknown_column", params: vec![] });
        }
    }
    for required in ["name", "kind", "state_code"] {
        if !headers.iter().any(|h| h == required) {
            errors.push(RowError { line: 1, column: required.into(), code: "missing_column", params: vec![] });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut drafts = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let fallback_line = i as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(fallback_line);
                let code =
                    if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) { "invalid_utf8" } else { "wrong_column_count" };
                errors.push(RowError { line, column: String::new(), code, params: vec![] });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(fallback_line);
        if drafts.len() + errors.len() >= MAX_ROWS {
            errors.push(RowError {
                line,
                column: String::new(),
                code: "too_many_rows",
                params: vec![("max", MAX_ROWS.to_string())],
            });
            break;
        }
        let raw = RawInput::from_pairs(headers.iter().cloned().zip(record.iter().map(str::to_string)));
        match facility::validate(&raw) {
            Ok(d) => {
                let key = (
                    d.name.to_lowercase(),
                    d.state_code.clone(),
                    d.municipality.clone().unwrap_or_default().to_lowercase(),
                );
                if let Some(first) = seen.insert(key, line) {
                    errors.push(RowError {
                        line,
                        column: "name".into(),
                        code: "duplicate_row",
                        params: vec![("line", first.to_string())],
                    });
                }
                drafts.push(d);
            }
            Err(errs) => errors.extend(errs.0.into_iter().map(|e| row_error(line, e))),
        }
    }
    if errors.is_empty() {
        Ok(drafts)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_file_imports_every_row() {
        let csv = "name,kind,state_code,municipality,capacity\n\
                   Siglo XXI,estacion_migratoria,07,Tapachula,960\n\
                   \"Acayucan, Ver.\",estacion_migratoria,30,Acayucan,836\n";
        let d = facilities_csv(csv.as_bytes()).expect("valid");
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].name, "Acayucan, Ver.");
    }

    #[test]
    fn one_bad_row_fails_the_import_and_is_named() {
        let csv = "name,kind,state_code,capacity\nA,estacion_migratoria,07,10\nB,estacion_migratoria,07,muchos\nC,other,09,\n";
        let errs = facilities_csv(csv.as_bytes()).expect_err("invalid");
        assert_eq!(
            errs,
            vec![RowError { line: 3, column: "capacity".into(), code: "expected_integer", params: vec![] }]
        );
        assert_eq!(errs[0].to_string(), "line 3, column capacity: expected_integer");
    }

    #[test]
    fn headers_are_checked_before_rows() {
        let errs = facilities_csv(b"nombre,kind\nx,y\n").expect_err("invalid");
        let codes: Vec<_> = errs.iter().map(|e| (e.column.as_str(), e.code)).collect();
        assert!(codes.contains(&("nombre", "unknown_column")));
        assert!(codes.contains(&("name", "missing_column")));
        assert!(codes.contains(&("state_code", "missing_column")));
    }

    #[test]
    fn ragged_rows_duplicates_and_bad_bytes_are_reported() {
        let mut csv = b"name,kind,state_code\nA,other,07\nA,other,07\nB,other\n".to_vec();
        csv.extend_from_slice(b"C\xff,other,07\n");
        let errs = facilities_csv(&csv).expect_err("invalid");
        let got: Vec<_> = errs.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(got, vec![(3, "duplicate_row"), (4, "wrong_column_count"), (5, "invalid_utf8")]);
    }

    #[test]
    fn quoted_newlines_keep_line_numbers_right() {
        let csv = "name,kind,state_code,sources\nA,other,07,\"uno\ndos\"\nB,other,99,\n";
        let errs = facilities_csv(csv.as_bytes()).expect_err("invalid");
        assert_eq!((errs[0].line, errs[0].code), (4, "unknown_state"));
    }
}
