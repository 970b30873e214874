//! Messages in Spanish (the default) and English, from the Fluent catalogues in
//! `locales/`, compiled into the binary.

use std::borrow::Cow;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use vigia_domain::account::Locale;
use vigia_domain::FieldError;

const ES: &str = include_str!("../../../locales/es/main.ftl");
const EN: &str = include_str!("../../../locales/en/main.ftl");

pub struct Catalogs {
    es: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

fn bundle(lang: &str, source: &str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    b.set_use_isolating(false);
    match FluentResource::try_new(source.to_string()) {
        Ok(res) => {
            if let Err(errs) = b.add_resource(res) {
                tracing::error!(?errs, lang, "duplicate messages in catalogue");
            }
        }
        Err((res, errs)) => {
            tracing::error!(?errs, lang, "catalogue has syntax errors");
            let _ = b.add_resource(res);
        }
    }
    b
}

static CATALOGS: LazyLock<Catalogs> = LazyLock::new(|| Catalogs { es: bundle("es-MX", ES), en: bundle("en", EN) });

/// Translates a message with arguments. A missing key shows itself, never panics.
pub fn tr_args(locale: Locale, key: &str, args: &[(&str, String)]) -> String {
    let b = match locale {
        Locale::Es => &CATALOGS.es,
        Locale::En => &CATALOGS.en,
    };
    let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
        return key.to_string();
    };
    let mut fargs = FluentArgs::new();
    for (k, v) in args {
        // Numbers select plural forms.
        // Only a number written the way it prints: a hash prefix ("1e10"), a name ("007")
        // or "NaN" stays the text it is.
        match v.parse::<f64>() {
            Ok(n) if n.is_finite() && n.to_string() == *v => fargs.set(*k, FluentValue::from(n)),
            _ => fargs.set(*k, FluentValue::from(v.clone())),
        }
    }
    let mut errors = Vec::new();
    let out: Cow<str> = b.format_pattern(pattern, Some(&fargs), &mut errors);
    out.into_owned()
}

pub fn tr(locale: Locale, key: &str) -> String {
    tr_args(locale, key, &[])
}

/// The reason for a field error, in the reader's language.
pub fn field_error(locale: Locale, e: &FieldError) -> String {
    tr_args(locale, &format!("err-{}", e.code), &e.params.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>())
}

/// A spreadsheet cell that could not be placed, in the reader's language: where it is
/// and why.
pub fn sheet_problem(locale: Locale, p: &vigia_domain::statistics::bulletin::Problem) -> String {
    let mut args: Vec<(&str, String)> = p.params.iter().map(|(k, v)| (*k, v.clone())).collect();
    let why = tr_args(locale, &format!("err-{}", p.code), &args);
    args = vec![("sheet", p.sheet.clone()), ("row", p.row.to_string()), ("column", p.column.clone()), ("why", why)];
    tr_args(locale, "stats-cell-problem", &args)
}

/// Spreadsheet problems as the pages' table shows them: sheet, row, column, why.
pub fn sheet_problem_rows(
    locale: Locale,
    problems: &[vigia_domain::grid::Problem],
) -> Vec<(String, String, String, String)> {
    problems
        .iter()
        .map(|p| {
            let why = field_error(locale, &FieldError { field: String::new(), code: p.code, params: p.params.clone() });
            (p.sheet.clone(), p.row.to_string(), p.column.clone(), why)
        })
        .collect()
}

/// Every message key in a catalogue, for completeness tests.
pub fn keys(locale: Locale) -> Vec<String> {
    let src = match locale {
        Locale::Es => ES,
        Locale::En => EN,
    };
    src.lines()
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k).or_else(|| l.strip_suffix(" =")))
        .filter(|k| k.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && !k.contains(' '))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message defined twice keeps only its first text (Fluent refuses the second):
    /// two features once gave one code two meanings, and the evidence upload's "at most
    /// 10 MiB" showed the import's "over 10 bytes". Every catalogue loads whole.
    #[test]
    fn no_message_is_defined_twice() {
        for (lang, src) in [("es", ES), ("en", EN)] {
            let res = FluentResource::try_new(src.to_string()).expect("the catalogue parses");
            let mut b = FluentBundle::<FluentResource>::new_concurrent(vec!["en".parse().expect("a language")]);
            assert!(b.add_resource(res).is_ok(), "{lang}: a message is defined twice");
            let mut seen = std::collections::BTreeSet::new();
            for k in keys(if lang == "es" { Locale::Es } else { Locale::En }) {
                assert!(seen.insert(k.clone()), "{lang}: {k} twice");
            }
        }
    }

    #[test]
    fn both_catalogues_have_the_same_keys_and_every_message_formats() {
        let es = keys(Locale::Es);
        assert_eq!(es, keys(Locale::En));
        assert!(es.len() > 100);
        for k in &es {
            for l in [Locale::Es, Locale::En] {
                assert_ne!(&tr(l, k), k, "{k} missing in {l:?}");
            }
        }
    }

    /// History and audit pages label every action the store can write.
    #[test]
    fn every_audit_action_has_a_label() {
        for action in vigia_store::AUDIT_ACTIONS {
            for l in [Locale::Es, Locale::En] {
                let key = format!("action-{action}");
                assert_ne!(tr(l, &key), key, "{l:?}: no label for {action}");
            }
        }
    }

    #[test]
    fn every_record_kind_has_a_name_in_both_languages() {
        for l in [Locale::Es, Locale::En] {
            for r in vigia_domain::RecordType::ALL {
                let key = format!("record-{}", r.as_str());
                assert_ne!(tr(l, &key), key, "{l:?} {key}");
            }
        }
    }

    #[test]
    fn plurals_and_arguments_follow_the_language() {
        assert_eq!(tr_args(Locale::Es, "facilities-count", &[("count", "1".into())]), "1 centro");
        assert_eq!(tr_args(Locale::En, "facilities-count", &[("count", "3".into())]), "3 centers");
        let e = FieldError::new("lat", "out_of_range").with("min", 14).with("max", 33);
        assert_eq!(field_error(Locale::Es, &e), "Debe estar entre 14 y 33.");
        assert_eq!(tr(Locale::En, "no-such-key"), "no-such-key");
    }

    #[test]
    fn every_domain_error_code_has_a_message() {
        for code in [
            "required",
            "unknown_field",
            "expected_text",
            "expected_integer",
            "expected_number",
            "expected_date",
            "expected_boolean",
            "expected_object",
            "out_of_range",
            "too_long",
            "control_characters",
            "bidi_controls",
            "coalition_whole_year",
            "coalition_only",
            "webhook_not_public",
            "webhook_not_https",
            "unknown_choice",
            "unknown_state",
            "coordinates_incomplete",
            "before_opened",
            "invalid_email",
            "password_too_short",
            "password_common",
            "invalid_slug",
            "unknown_column",
            "missing_column",
            "wrong_column_count",
            "invalid_utf8",
            "invalid_csv",
            "duplicate_row",
            "too_many_rows",
            "too_many_problems",
            "row_too_long",
            "upload_incomplete",
            "import_too_large",
            "invalid_progress_key",
            "file_too_large",
            "invalid_key",
        ] {
            let key = format!("err-{code}");
            assert_ne!(tr(Locale::Es, &key), key);
        }
    }
}
