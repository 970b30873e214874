//! Reading the UHRI export (OHCHR Universal Human Rights Index, "Export to Excel").
//!
//! One sheet, one row of headers, one recommendation per row. The columns Vigía reads:
//! `Text`, `Reccomending Body` (spelled so in the file; `Recommending Body` is accepted
//! too), `Document Symbol`, `Themes`, `Affected Persons`, `Sdgs`, `Countries Concerned`,
//! `Document Publication Date` (an Excel serial number), `Type`, `UPR Reccomending
//! States`, `UPR Position`, `UPR Session` and `OHCHR Annotation Id`; others are ignored.
//! Multi-value cells hold one value per line with a leading "- ". There is no paragraph
//! column: the paragraph is read from the start of `Text` ([`super::paragraph`]).
//! Anything missing or unreadable is a [`Problem`] by sheet, row and column; one problem
//! refuses the file.

use super::RecommendationDraft;
use crate::grid::{column_letter, Cell, Problem, Sheet};

/// The columns without which a row cannot be kept.
pub const REQUIRED: [&str; 4] = ["Text", "Document Symbol", "OHCHR Annotation Id", "Reccomending Body"];

/// The most recommendations one file may hold.
pub const MAX_ROWS: usize = 50_000;

fn header_name(text: &str) -> String {
    let t = text.trim();
    // The export misspells "Recommending"; accept either spelling under the export's.
    t.replace("Recommending", "Reccomending")
}

/// Splits a multi-value cell: one value per line, each with a leading "- ".
pub fn values(cell: &str) -> Vec<String> {
    cell.lines()
        .map(|l| l.trim().trim_start_matches("- ").trim_start_matches('-').trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// An Excel serial day number (1900 date system, as the export writes dates) or an
/// ISO date as text.
fn date_of(cell: &Cell) -> Result<Option<jiff::civil::Date>, ()> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Number(n) if n.is_finite() && *n >= 1.0 && *n < 2_958_466.0 => {
            let epoch = jiff::civil::date(1899, 12, 30);
            epoch.checked_add(jiff::Span::new().days(n.floor() as i64)).map(Some).map_err(|_| ())
        }
        Cell::Number(_) => Err(()),
        Cell::Text(t) if t.trim().is_empty() => Ok(None),
        Cell::Text(t) => {
            let t = t.trim();
            if let Ok(d) = t.get(..10).unwrap_or(t).parse::<jiff::civil::Date>() {
                return Ok(Some(d));
            }
            match t.parse::<f64>() {
                Ok(n) => date_of(&Cell::Number(n)),
                Err(_) => Err(()),
            }
        }
    }
}

fn text_of(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(t) => t.trim().to_string(),
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
        Cell::Number(n) => n.to_string(),
    }
}

/// Reads the first non-empty sheet of an export: every recommendation, or every problem.
pub fn read(sheets: &[Sheet], language: &str) -> Result<Vec<RecommendationDraft>, Vec<Problem>> {
    let Some(sheet) = sheets.iter().find(|s| s.rows.iter().any(|r| r.iter().any(|c| !c.is_empty()))) else {
        return Err(vec![Problem {
            sheet: String::new(),
            row: 1,
            column: "A".into(),
            code: "uhri_empty",
            params: vec![],
        }]);
    };
    let problem = |row: usize, col: usize, code: &'static str, params: Vec<(&'static str, String)>| Problem {
        sheet: sheet.name.clone(),
        row: u32::try_from(row + 1).unwrap_or(u32::MAX),
        column: column_letter(col),
        code,
        params,
    };
    let mut problems = Vec::new();
    let header: Vec<String> = sheet.rows[0].iter().map(|c| header_name(&text_of(c))).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    for name in REQUIRED {
        if col(name).is_none() {
            problems.push(problem(0, header.len(), "uhri_missing_column", vec![("column", name.to_string())]));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let cell = |r: &Vec<Cell>, name: &str| col(name).and_then(|c| r.get(c)).cloned().unwrap_or(Cell::Empty);
    let mut out: Vec<RecommendationDraft> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, r) in sheet.rows.iter().enumerate().skip(1) {
        if r.iter().all(Cell::is_empty) {
            continue;
        }
        if out.len() >= MAX_ROWS {
            problems.push(problem(i, 0, "uhri_too_many_rows", vec![("max", MAX_ROWS.to_string())]));
            break;
        }
        let get = |name: &str| text_of(&cell(r, name));
        let mut ok = true;
        for name in REQUIRED {
            if get(name).is_empty() {
                problems.push(problem(
                    i,
                    col(name).unwrap_or(0),
                    "uhri_missing_value",
                    vec![("column", name.to_string())],
                ));
                ok = false;
            }
        }
        let id = get("OHCHR Annotation Id");
        for name in ["OHCHR Annotation Id", "Document Symbol", "Reccomending Body"] {
            if get(name).chars().count() > 200 {
                problems.push(problem(i, col(name).unwrap_or(0), "uhri_too_long", vec![]));
                ok = false;
            }
        }
        if let Some(first) = seen.insert(id.clone(), i) {
            if !id.is_empty() {
                problems.push(problem(
                    i,
                    col("OHCHR Annotation Id").unwrap_or(0),
                    "uhri_duplicate_id",
                    vec![("first", (first + 1).to_string())],
                ));
                ok = false;
            }
        }
        let published_on = match date_of(&cell(r, "Document Publication Date")) {
            Ok(d) => d,
            Err(()) => {
                problems.push(problem(
                    i,
                    col("Document Publication Date").unwrap_or(0),
                    "uhri_not_a_date",
                    vec![("text", get("Document Publication Date").chars().take(40).collect())],
                ));
                ok = false;
                None
            }
        };
        let text = get("Text");
        if text.chars().count() > 20_000 {
            problems.push(problem(i, col("Text").unwrap_or(0), "uhri_too_long", vec![]));
            ok = false;
        }
        if !ok {
            continue;
        }
        let optional = |name: &str| Some(get(name)).filter(|v| !v.is_empty());
        out.push(RecommendationDraft {
            annotation_id: id,
            body: get("Reccomending Body"),
            symbol: get("Document Symbol"),
            paragraph: super::paragraph(&text),
            published_on,
            text,
            language: language.to_string(),
            summary: false,
            kind: get("Type"),
            themes: values(&get("Themes")),
            affected_persons: values(&get("Affected Persons")),
            sdgs: values(&get("Sdgs")),
            countries: values(&get("Countries Concerned")),
            upr_states: values(&get("UPR Reccomending States")),
            upr_position: optional("UPR Position"),
            upr_session: optional("UPR Session"),
        });
    }
    if out.is_empty() && problems.is_empty() {
        problems.push(problem(1, 0, "uhri_empty", vec![]));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        problems.truncate(crate::statistics::bulletin::LISTED_PROBLEMS);
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    fn export(rows: Vec<Vec<Cell>>) -> Vec<Sheet> {
        let header = [
            "Text",
            "Countries Concerned",
            "Reccomending Body",
            "Document Symbol",
            "Themes",
            "Document Publication Date",
            "OHCHR Annotation Id",
            "UPR Position",
        ];
        let mut grid = vec![header.iter().map(|h| t(h)).collect::<Vec<_>>()];
        grid.extend(rows);
        vec![Sheet { name: "Recommendations".into(), rows: grid }]
    }

    #[test]
    fn a_row_becomes_a_recommendation_with_its_paragraph_themes_and_date() {
        let sheets = export(vec![vec![
            t("38. (a) End the detention of children"),
            t("- Mexico"),
            t("Committee on Migrant Workers"),
            t("CMW/C/MEX/CO/3"),
            t("- Children's rights\n- Migrants"),
            Cell::Number(43005.0),
            t("abc-1"),
            Cell::Empty,
        ]]);
        let r = &read(&sheets, "en").expect("read")[0];
        assert_eq!(r.paragraph, "38(a)");
        assert_eq!(r.themes, vec!["Children's rights", "Migrants"]);
        assert_eq!(r.published_on, Some(jiff::civil::date(2017, 9, 27)));
        assert_eq!(r.countries, vec!["Mexico"]);
        assert_eq!(r.upr_position, None);
    }

    #[test]
    fn a_missing_column_a_missing_id_and_a_bad_date_are_named_by_cell() {
        let sheets = vec![Sheet { name: "S".into(), rows: vec![vec![t("Text"), t("Document Symbol")]] }];
        let p = read(&sheets, "en").expect_err("refused");
        assert!(p.iter().any(|x| x.code == "uhri_missing_column" && x.params[0].1 == "OHCHR Annotation Id"), "{p:?}");
        let sheets =
            export(vec![vec![t("1. x"), Cell::Empty, t("CMW"), t("S/1"), Cell::Empty, t("mañana"), Cell::Empty]]);
        let p = read(&sheets, "en").expect_err("refused");
        let at: Vec<(u32, &str, &str)> = p.iter().map(|x| (x.row, x.column.as_str(), x.code)).collect();
        assert!(at.contains(&(2, "G", "uhri_missing_value")), "{at:?}");
        assert!(at.contains(&(2, "F", "uhri_not_a_date")), "{at:?}");
    }
}
