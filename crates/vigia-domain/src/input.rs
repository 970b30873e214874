//! Raw input as it arrives from a JSON body or an HTML form, read field by field into
//! typed values. Every problem is collected as a [`FieldError`] naming the field, so
//! the API and the forms report the same reasons.

use std::collections::BTreeMap;

use crate::{FieldError, ValidationErrors};

#[derive(Debug, Clone, PartialEq)]
enum RawValue {
    Null,
    Text(String),
    Number(serde_json::Number),
    Bool(bool),
    /// A JSON array of strings (lists of codes).
    List(Vec<String>),
    /// A JSON array of whole numbers (record ids): read only by [`RawInput::ids`]; to
    /// every other reader it is the composite value it was before.
    Ids(Vec<u64>),
    Composite,
}

/// An input document: field name to raw value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawInput {
    fields: BTreeMap<String, RawValue>,
}

impl RawInput {
    /// Reads a JSON value, which must be an object.
    pub fn from_json(value: serde_json::Value) -> Result<Self, ValidationErrors> {
        let serde_json::Value::Object(map) = value else {
            return Err(ValidationErrors::single("", "expected_object"));
        };
        let fields = map
            .into_iter()
            .map(|(k, v)| {
                let raw = match v {
                    serde_json::Value::Null => RawValue::Null,
                    serde_json::Value::String(s) => RawValue::Text(s),
                    serde_json::Value::Number(n) => RawValue::Number(n),
                    serde_json::Value::Bool(b) => RawValue::Bool(b),
                    serde_json::Value::Array(items) => {
                        let ids: Option<Vec<u64>> =
                            if items.is_empty() { None } else { items.iter().map(|i| i.as_u64()).collect() };
                        items
                            .into_iter()
                            .map(|i| match i {
                                serde_json::Value::String(s) => Some(s),
                                _ => None,
                            })
                            .collect::<Option<Vec<_>>>()
                            .map_or_else(|| ids.map_or(RawValue::Composite, RawValue::Ids), RawValue::List)
                    }
                    _ => RawValue::Composite,
                };
                (k, raw)
            })
            .collect();
        Ok(Self { fields })
    }

    /// Reads form pairs; an empty field counts as absent.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let fields = pairs
            .into_iter()
            .map(|(k, v)| {
                let v: String = v.into();
                let raw = if v.trim().is_empty() { RawValue::Null } else { RawValue::Text(v) };
                (k.into(), raw)
            })
            .collect();
        Self { fields }
    }

    /// Sets one field as [`RawInput::from_pairs`] would read it (blank is absent),
    /// reusing the field's buffer: an importer refills one input for every row.
    pub fn set_text(&mut self, field: &str, value: &str) {
        let blank = value.trim().is_empty();
        match self.fields.get_mut(field) {
            Some(RawValue::Text(s)) if !blank => {
                s.clear();
                s.push_str(value);
            }
            Some(slot) => *slot = if blank { RawValue::Null } else { RawValue::Text(value.to_string()) },
            None => {
                let raw = if blank { RawValue::Null } else { RawValue::Text(value.to_string()) };
                self.fields.insert(field.to_string(), raw);
            }
        }
    }

    /// Adds an error for every field not in `known`.
    pub fn reject_unknown(&self, known: &[&str], errs: &mut ValidationErrors) {
        for k in self.fields.keys() {
            if !known.contains(&k.as_str()) {
                errs.push(FieldError::new(k.clone(), "unknown_field"));
            }
        }
    }

    pub fn has(&self, field: &str) -> bool {
        !matches!(self.fields.get(field), None | Some(RawValue::Null))
    }

    /// A trimmed text of at most `max` characters, or `None` when absent or blank.
    /// Control characters other than newline and tab are refused.
    pub fn text(&self, field: &str, max: usize, errs: &mut ValidationErrors) -> Option<String> {
        match self.fields.get(field) {
            None | Some(RawValue::Null) => None,
            Some(RawValue::Text(s)) => check_text(field, s, max, errs),
            Some(_) => {
                errs.push(FieldError::new(field, "expected_text"));
                None
            }
        }
    }

    /// Text that is one line: a name, a title. As [`RawInput::text`], and a line break
    /// is refused (`line_break`): a name split over lines reads as two in lists and CSV.
    pub fn line(&self, field: &str, max: usize, errs: &mut ValidationErrors) -> Option<String> {
        let v = self.text(field, max, errs)?;
        if v.contains(['\n', '\r']) {
            errs.push(FieldError::new(field, "line_break"));
            return None;
        }
        Some(v)
    }

    /// A required [`RawInput::line`].
    pub fn required_line(&self, field: &str, max: usize, errs: &mut ValidationErrors) -> Option<String> {
        let before = errs.0.len();
        let v = self.line(field, max, errs);
        if v.is_none() && errs.0.len() == before {
            errs.push(FieldError::new(field, "required"));
        }
        v
    }

    /// A required code: lowercase letters, digits and `_`, 2 to 40 long (an authority
    /// such as `inm`, a topic); read case-insensitively (`expected_code` otherwise).
    pub fn code(&self, field: &str, errs: &mut ValidationErrors) -> Option<String> {
        let v = self.required_text(field, 40, errs)?.to_lowercase();
        if v.len() < 2 || !v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            errs.push(FieldError::new(field, "expected_code"));
            return None;
        }
        Some(v)
    }

    /// Record ids: a JSON array of whole numbers or of their texts, or comma-separated
    /// text (forms); each must be a positive number (`unknown_record` otherwise).
    pub fn ids(&self, field: &str, errs: &mut ValidationErrors) -> Vec<i64> {
        let texts: Vec<String> = match self.fields.get(field) {
            None | Some(RawValue::Null) => return Vec::new(),
            Some(RawValue::Ids(v)) => v.iter().map(|n| n.to_string()).collect(),
            Some(RawValue::List(v)) => v.clone(),
            Some(RawValue::Text(t)) => t.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
            Some(_) => {
                errs.push(FieldError::new(field, "expected_ids"));
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for t in texts {
            match t.trim().parse::<i64>() {
                Ok(n) if n > 0 => out.push(n),
                _ => {
                    errs.push(FieldError::new(field, "unknown_record"));
                    return Vec::new();
                }
            }
        }
        out
    }

    /// A list of codes, written as comma-separated text (forms, CSV) or as a JSON array
    /// of strings, returned comma-joined for the caller to split.
    pub fn list_text(&self, field: &str, max: usize, errs: &mut ValidationErrors) -> Option<String> {
        match self.fields.get(field) {
            Some(RawValue::List(items)) => {
                if items.iter().any(|i| i.contains(',') || i.trim().is_empty()) {
                    errs.push(FieldError::new(field, "expected_codes"));
                    return None;
                }
                check_text(field, &items.join(","), max, errs)
            }
            _ => self.text(field, max, errs),
        }
    }

    /// Like [`RawInput::text`] but the field must be present.
    pub fn required_text(&self, field: &str, max: usize, errs: &mut ValidationErrors) -> Option<String> {
        let before = errs.0.len();
        let v = self.text(field, max, errs);
        if v.is_none() && errs.0.len() == before {
            errs.push(FieldError::new(field, "required"));
        }
        v
    }

    /// A whole number in `min..=max`; text holding a whole number is accepted too
    /// (forms send only text).
    pub fn integer(&self, field: &str, min: i64, max: i64, errs: &mut ValidationErrors) -> Option<i64> {
        let n = match self.fields.get(field) {
            None | Some(RawValue::Null) => return None,
            // JSON has one number type: 3.0 is the integer 3.
            Some(RawValue::Number(n)) => {
                n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
            }
            Some(RawValue::Text(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        };
        match n {
            None => {
                errs.push(FieldError::new(field, "expected_integer"));
                None
            }
            Some(n) if n < min || n > max => {
                errs.push(FieldError::new(field, "out_of_range").with("min", min).with("max", max));
                None
            }
            Some(n) => Some(n),
        }
    }

    /// A finite decimal number in `min..=max`.
    pub fn float(&self, field: &str, min: f64, max: f64, errs: &mut ValidationErrors) -> Option<f64> {
        let n = match self.fields.get(field) {
            None | Some(RawValue::Null) => return None,
            Some(RawValue::Number(n)) => n.as_f64(),
            Some(RawValue::Text(s)) => s.trim().replace(',', ".").parse::<f64>().ok(),
            Some(_) => None,
        };
        match n {
            Some(n) if !n.is_finite() => {
                errs.push(FieldError::new(field, "expected_number"));
                None
            }
            None => {
                errs.push(FieldError::new(field, "expected_number"));
                None
            }
            Some(n) if n < min || n > max => {
                errs.push(FieldError::new(field, "out_of_range").with("min", min).with("max", max));
                None
            }
            Some(n) => Some(n),
        }
    }

    /// A civil date written `YYYY-MM-DD`.
    pub fn date(&self, field: &str, errs: &mut ValidationErrors) -> Option<jiff::civil::Date> {
        let text = match self.fields.get(field) {
            None | Some(RawValue::Null) => return None,
            Some(RawValue::Text(s)) => s.trim(),
            Some(_) => {
                errs.push(FieldError::new(field, "expected_date"));
                return None;
            }
        };
        let ok_shape = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
        match text.parse::<jiff::civil::Date>() {
            Ok(d) if ok_shape && (1900..=2100).contains(&d.year()) => Some(d),
            _ => {
                errs.push(FieldError::new(field, "expected_date"));
                None
            }
        }
    }

    /// A boolean; forms send `on`, `true` or `1`.
    pub fn boolean(&self, field: &str, errs: &mut ValidationErrors) -> Option<bool> {
        match self.fields.get(field) {
            None | Some(RawValue::Null) => None,
            Some(RawValue::Bool(b)) => Some(*b),
            Some(RawValue::Text(s)) => match s.trim() {
                "on" | "true" | "1" => Some(true),
                "off" | "false" | "0" => Some(false),
                _ => {
                    errs.push(FieldError::new(field, "expected_boolean"));
                    None
                }
            },
            Some(_) => {
                errs.push(FieldError::new(field, "expected_boolean"));
                None
            }
        }
    }
}

/// Bidirectional embedding, override and isolate controls (U+202A–U+202E,
/// U+2066–U+2069). Invisible, they make a text display in another order than the one it
/// holds (the "Trojan Source" trick, CVE-2021-42574): a file name `oficio` + U+202E + `fdp.exe`
/// shows as `oficioexe.pdf`. Refused in every text field and file name; the marks
/// U+200E and U+200F, which only nudge direction, stay allowed.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks a free text: trimmed, not blank, no control characters but newline and tab,
/// no bidirectional controls, at most `max` characters as given.
pub fn check_text(field: &str, s: &str, max: usize, errs: &mut ValidationErrors) -> Option<String> {
    if s.chars().any(is_bidi_control) {
        errs.push(FieldError::new(field, "bidi_controls"));
        return None;
    }
    // Control characters count even at the ends, where trimming (U+0085 is whitespace)
    // would otherwise drop them silently.
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        errs.push(FieldError::new(field, "control_characters"));
        return None;
    }
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        errs.push(FieldError::new(field, "control_characters"));
        return None;
    }
    // The text as given counts, spaces around it included: that is what the API's
    // document can promise (`maxLength`), and what a client measures (Schemathesis sent
    // a name of 200 characters after a no-break space, and it was taken).
    if s.chars().count() > max {
        errs.push(FieldError::new(field, "too_long").with("max", max));
        return None;
    }
    Some(t.replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_text_s_length_counts_as_given_spaces_around_it_included() {
        let mut errs = ValidationErrors::new();
        assert_eq!(check_text("name", " abc ", 5, &mut errs).as_deref(), Some("abc"));
        assert!(check_text("name", "\u{a0}abcde", 5, &mut errs).is_none());
        assert!(errs.for_field("name").is_some_and(|e| e.code == "too_long"), "{errs:?}");
    }

    #[test]
    fn refilling_one_input_reads_each_row_as_from_pairs_does() {
        let rows = [
            [("a", "uno"), ("b", ""), ("c", " tres ")],
            [("a", ""), ("b", "dos"), ("c", "x")],
            [("a", "1"), ("b", "  "), ("c", "")],
        ];
        let mut raw = RawInput::default();
        for row in rows {
            row.iter().for_each(|(k, v)| raw.set_text(k, v));
            assert_eq!(raw, RawInput::from_pairs(row), "{row:?}");
        }
    }

    #[test]
    fn json_types_are_named_per_field() {
        let raw = RawInput::from_json(json!({"a": 5, "b": "x", "c": [1], "d": "12"})).expect("object");
        let mut errs = ValidationErrors::new();
        assert_eq!(raw.integer("a", 0, 10, &mut errs), Some(5));
        assert_eq!(raw.integer("b", 0, 10, &mut errs), None);
        assert_eq!(raw.text("c", 10, &mut errs), None);
        assert_eq!(raw.integer("d", 0, 10, &mut errs), None);
        let fields: Vec<_> = errs.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(fields, vec![("b", "expected_integer"), ("c", "expected_text"), ("d", "out_of_range")]);
    }

    #[test]
    fn non_object_json_is_refused() {
        assert!(RawInput::from_json(json!([1, 2])).is_err());
    }

    #[test]
    fn forms_treat_blank_as_absent_and_refuse_unknown_fields() {
        let raw = RawInput::from_pairs([("name", "  "), ("zzz", "1")]);
        let mut errs = ValidationErrors::new();
        assert_eq!(raw.required_text("name", 10, &mut errs), None);
        raw.reject_unknown(&["name"], &mut errs);
        assert_eq!(errs.0[0].code, "required");
        assert_eq!(errs.0[1].field, "zzz");
    }

    #[test]
    fn dates_must_be_iso_and_plausible() {
        let raw =
            RawInput::from_pairs([("a", "2020-01-28"), ("b", "28/01/2020"), ("c", "2020-02-30"), ("d", "3020-01-01")]);
        let mut errs = ValidationErrors::new();
        assert!(raw.date("a", &mut errs).is_some());
        assert!(raw.date("b", &mut errs).is_none());
        assert!(raw.date("c", &mut errs).is_none());
        assert!(raw.date("d", &mut errs).is_none());
        assert_eq!(errs.0.len(), 3);
    }

    #[test]
    fn bidirectional_controls_are_refused_and_direction_marks_kept() {
        for c in
            ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}']
        {
            let mut errs = ValidationErrors::new();
            assert_eq!(check_text("official", &format!("Lic. Pérez{c}zepéR"), 200, &mut errs), None);
            assert_eq!(errs.0[0].code, "bidi_controls", "{c:?}");
        }
        let mut errs = ValidationErrors::new();
        let arabic = "\u{200F}مرحبا \u{200E}INM";
        assert_eq!(check_text("notes", arabic, 200, &mut errs).as_deref(), Some(arabic));
        assert!(errs.0.is_empty());
    }

    #[test]
    fn control_characters_are_refused_but_newlines_kept() {
        let mut errs = ValidationErrors::new();
        assert_eq!(check_text("f", "a\r\nb", 10, &mut errs).as_deref(), Some("a\nb"));
        assert_eq!(check_text("f", "a\u{0}b", 10, &mut errs), None);
        assert_eq!(errs.0[0].code, "control_characters");
    }
}
