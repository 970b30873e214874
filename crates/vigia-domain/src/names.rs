//! Countries and languages by name, never by code (issue #16 part 3): a case says
//! "Honduras" and "español", not `HN` and `es`. The names are ISO 3166-1 and ISO 639-1
//! as Debian's iso-codes gives them in Spanish and English (`data/SOURCE.md`).

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::account::Locale;

type Names = HashMap<&'static str, (&'static str, &'static str)>;

fn parse(text: &'static str) -> Names {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split('\t');
            Some((parts.next()?, (parts.next()?, parts.next()?)))
        })
        .collect()
}

static COUNTRIES: LazyLock<Names> = LazyLock::new(|| parse(include_str!("../data/countries.tsv")));
static LANGUAGES: LazyLock<Names> = LazyLock::new(|| parse(include_str!("../data/languages.tsv")));

fn pick(names: &Names, code: &str, l: Locale) -> Option<&'static str> {
    names.get(code).map(|(es, en)| match l {
        Locale::Es => *es,
        Locale::En => *en,
    })
}

/// A country's name from its ISO 3166-1 alpha-2 code (any case).
pub fn country(code: &str, l: Locale) -> Option<&'static str> {
    pick(&COUNTRIES, &code.trim().to_ascii_uppercase(), l)
}

/// A language's name from its ISO 639-1 code (any case).
pub fn language(code: &str, l: Locale) -> Option<&'static str> {
    pick(&LANGUAGES, &code.trim().to_ascii_lowercase(), l)
}

/// The name if the code is known, else the code itself as given (a record is never
/// shown as less than it holds).
pub fn country_or_code(code: &str, l: Locale) -> String {
    country(code, l).map(str::to_string).unwrap_or_else(|| code.to_string())
}

/// See [`country_or_code`].
pub fn language_or_code(code: &str, l: Locale) -> String {
    language(code, l).map(str::to_string).unwrap_or_else(|| code.to_string())
}

/// Every country as (code, name), in the reader's alphabetical order (accents and case
/// do not move a name: "Ángola" would sort with the A's).
pub fn countries(l: Locale) -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<(&'static str, &'static str)> =
        COUNTRIES.keys().filter_map(|code| country(code, l).map(|n| (*code, n))).collect();
    all.sort_by_key(|(_, name)| sort_key(name));
    all
}

fn sort_key(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' | 'å' | 'ã' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_countries_people_come_from_have_names_in_both_languages() {
        for (code, es, en) in [
            ("HN", "Honduras", "Honduras"),
            ("ht", "Haití", "Haiti"),
            ("VE", "Venezuela", "Venezuela"),
            ("KP", "Corea del Norte", "North Korea"),
            ("KR", "Corea del Sur", "South Korea"),
        ] {
            assert_eq!(country(code, Locale::Es), Some(es));
            assert_eq!(country(code, Locale::En), Some(en));
        }
        assert_eq!(country("ZZ", Locale::Es), None);
        assert_eq!(country_or_code("ZZ", Locale::Es), "ZZ");
    }

    #[test]
    fn the_country_list_reads_in_alphabetical_order_whatever_the_accents() {
        let es = countries(Locale::Es);
        assert_eq!(es.len(), 249);
        let pos = |code: &str| es.iter().position(|(c, _)| *c == code).expect(code);
        // Haití sorts among the H's, Islandia after Irlanda, Perú before Polonia.
        assert!(pos("HT") < pos("HN") && pos("IE") < pos("IS") && pos("PE") < pos("PL"));
    }

    #[test]
    fn languages_have_names_and_every_table_is_complete() {
        assert_eq!(language("es", Locale::Es), Some("Español"));
        assert_eq!(language("HT", Locale::En), Some("Haitian"));
        assert_eq!(language_or_code("xx", Locale::En), "xx");
        assert_eq!(COUNTRIES.len(), 249, "every ISO 3166-1 country");
        assert!(LANGUAGES.len() >= 180, "every ISO 639-1 language");
        // No two countries share a name in either language.
        for l in [Locale::Es, Locale::En] {
            let mut names: Vec<&str> = countries(l).into_iter().map(|(_, n)| n).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(names.len(), before, "a name given to two countries");
        }
    }
}
