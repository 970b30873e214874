//! Official migration statistics (issue #18 part 1): the tables of the monthly bulletin
//! of the Unidad de Política Migratoria (UPM, SEGOB), section 3 — events of foreigners
//! presented to the migration authority, channelled, and returned — read from a grid of
//! cells, compared version to version, and watched for spikes and breaks.
//!
//! **Events, not people.** The bulletin counts events: one person presented twice in a
//! year is two events (the bulletin's own note says so). Every figure Vigía shows from
//! these tables carries that label; nothing here turns an event count into a count of
//! persons.
//!
//! Everything here is pure: the application layer turns an XLS, XLSX or CSV file into
//! [`bulletin::Sheet`]s and stores what [`bulletin::read`] returns.

use serde::{Deserialize, Serialize};

pub mod bulletin;
pub mod countries;
pub mod signals;

choice!(
    /// What a table counts. The bulletin's section 3 reports events of foreigners
    /// *presented* to the migration authority (held in a migration station), from 2021
    /// also *channelled* (children and families sent to the DIF system), and *returned*
    /// (deportation and assisted return).
    Measure { Presented = "presented", Channelled = "channelled", Returned = "returned" }
);

choice!(
    /// What a table's rows break the events down by.
    Dimension { Nationality = "nationality", State = "state", Age = "age", Sex = "sex", Minors = "minors" }
);

choice!(
    /// What one row of a table is: the table's total, a region's subtotal (continent or
    /// subregion, as the bulletin groups nationalities), a country, or a category (a
    /// state, an age group, a sex, stateless persons…).
    RowKind { Total = "total", Region = "region", Country = "country", Category = "category" }
);

/// The label "events, not people" in both languages, for every place that shows a
/// figure from these tables without a translation catalogue at hand (CSV headers,
/// SVG charts).
pub const EVENTS_NOT_PEOPLE: &str = "Eventos, no personas / Events, not people";

/// The regions the bulletin groups nationalities in, with the stored key and the
/// Spanish and English names.
pub const REGIONS: [(&str, &str, &str); 10] = [
    ("region:america", "América", "Americas"),
    ("region:america-norte", "América del Norte", "North America"),
    ("region:america-central", "América Central", "Central America"),
    ("region:caribe", "Islas del Caribe", "Caribbean"),
    ("region:america-sur", "América del Sur", "South America"),
    ("region:asia", "Asia", "Asia"),
    ("region:europa", "Europa", "Europe"),
    ("region:africa", "África", "Africa"),
    ("region:oceania", "Oceanía", "Oceania"),
    ("region:otros", "Otros", "Other"),
];

/// The categories rows may stand for besides countries, states and regions.
pub const CATEGORIES: [(&str, &str, &str); 9] = [
    ("stateless", "Apátridas", "Stateless"),
    ("unspecified", "No especificado", "Not specified"),
    ("age:0-11", "0 a 11 años", "0 to 11 years"),
    ("age:12-17", "12 a 17 años", "12 to 17 years"),
    ("age:18+", "18 años y más", "18 years and over"),
    ("sex:men", "Hombres", "Men"),
    ("sex:women", "Mujeres", "Women"),
    ("minors:accompanied", "Acompañados", "Accompanied"),
    ("minors:unaccompanied", "No acompañados", "Unaccompanied"),
];

/// A row key's name in Spanish (`es`) or English: a country, a state, a region or a
/// category; the key itself when it is none of them.
pub fn key_name(key: &str, spanish: bool) -> String {
    if key == "total" {
        return "Total".into();
    }
    if let Some(code) = key.strip_prefix("state:") {
        if let Some(s) = crate::geo::state(code) {
            return s.name.to_string();
        }
    }
    if let Some(c) = countries::by_iso3(key) {
        return if spanish { c.es } else { c.en }.to_string();
    }
    if let Some((_, es, en)) = REGIONS.iter().chain(CATEGORIES.iter()).find(|(k, _, _)| *k == key) {
        return if spanish { es } else { en }.to_string();
    }
    key.to_string()
}

/// A month of a year, the unit of every series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct YearMonth {
    pub year: i16,
    pub month: u8,
}

impl YearMonth {
    pub fn new(year: i16, month: u8) -> Option<Self> {
        (1..=12).contains(&month).then_some(YearMonth { year, month })
    }

    /// Months since year 0: consecutive months differ by one.
    pub fn index(self) -> i32 {
        i32::from(self.year) * 12 + i32::from(self.month) - 1
    }

    pub fn from_index(i: i32) -> Self {
        YearMonth { year: i.div_euclid(12) as i16, month: (i.rem_euclid(12) + 1) as u8 }
    }

    /// `2020-03`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// Reads `2020-03`.
    pub fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.trim().split_once('-')?;
        YearMonth::new(y.parse().ok()?, m.parse().ok()?)
    }
}

/// Where an imported file comes from: the publisher, the address it was downloaded
/// from, when it was retrieved and — when known — when it was published. `illustrative`
/// marks the demo's invented values, shown as such wherever they appear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub publisher: String,
    pub source_url: Option<String>,
    pub retrieved_on: jiff::civil::Date,
    pub published_on: Option<jiff::civil::Date>,
    #[serde(default)]
    pub illustrative: bool,
}

/// The fields an import form or request sends besides the file.
pub const PROVENANCE_FIELDS: [&str; 4] = ["publisher", "source_url", "retrieved_on", "published_on"];

/// Reads and checks an import's provenance: a publisher is required, the address must
/// be http(s), the dates real and not after `today` (a file is not retrieved tomorrow).
pub fn provenance(
    raw: &crate::input::RawInput,
    today: jiff::civil::Date,
) -> Result<Provenance, crate::ValidationErrors> {
    use crate::FieldError;
    let mut errs = crate::ValidationErrors::new();
    let publisher = raw.required_line("publisher", 200, &mut errs);
    let source_url = raw.line("source_url", 2000, &mut errs);
    if let Some(u) = &source_url {
        let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
        if rest.is_none_or(str::is_empty) || u.contains(char::is_whitespace) {
            errs.push(FieldError::new("source_url", "invalid_url"));
        }
    }
    // A blank date is an absent one (forms send empty fields).
    let date = |field: &str, errs: &mut crate::ValidationErrors| match raw.text(field, 20, errs) {
        Some(_) => raw.date(field, errs),
        None => None,
    };
    let retrieved_on = date("retrieved_on", &mut errs);
    if raw.text("retrieved_on", 20, &mut crate::ValidationErrors::new()).is_none() {
        errs.push(FieldError::new("retrieved_on", "required"));
    }
    let published_on = date("published_on", &mut errs);
    for (field, d) in [("retrieved_on", retrieved_on), ("published_on", published_on)] {
        if d.is_some_and(|d| d > today) {
            errs.push(FieldError::new(field, "in_future"));
        }
    }
    if let (Some(p), Some(r)) = (published_on, retrieved_on) {
        if p > r {
            errs.push(FieldError::new("published_on", "after_retrieved"));
        }
    }
    match (publisher, retrieved_on) {
        (Some(publisher), Some(retrieved_on)) if errs.is_empty() => {
            Ok(Provenance { publisher, source_url, retrieved_on, published_on, illustrative: false })
        }
        _ => Err(errs),
    }
}

/// One figure of a stored version: a row's value for one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub key: String,
    pub month: u8,
    pub value: i64,
}

/// A figure that changed from one version of a table to the next (the bulletin is
/// overwritten every month with the year's cumulative figures, and earlier months are
/// sometimes corrected): `before` is `None` for a row new in a month the older file
/// already had, `after` is `None` when the newer file no longer has the figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revision {
    pub key: String,
    pub month: u8,
    pub before: Option<i64>,
    pub after: Option<i64>,
}

/// The figures that differ between two versions of one table, by row key and month. A
/// month the older version did not have yet is news, not a revision; a row that appears
/// in a month it had is one.
pub fn revisions(before: &[Figure], after: &[Figure]) -> Vec<Revision> {
    let newer: std::collections::HashMap<(&str, u8), i64> =
        after.iter().map(|f| ((f.key.as_str(), f.month), f.value)).collect();
    let older: std::collections::HashMap<(&str, u8), i64> =
        before.iter().map(|f| ((f.key.as_str(), f.month), f.value)).collect();
    let months: std::collections::BTreeSet<u8> = before.iter().map(|f| f.month).collect();
    let mut out: Vec<Revision> = before
        .iter()
        .filter_map(|f| {
            let now = newer.get(&(f.key.as_str(), f.month)).copied();
            (now != Some(f.value)).then(|| Revision {
                key: f.key.clone(),
                month: f.month,
                before: Some(f.value),
                after: now,
            })
        })
        .collect();
    out.extend(
        after
            .iter()
            .filter(|f| months.contains(&f.month) && !older.contains_key(&(f.key.as_str(), f.month)))
            .map(|f| Revision { key: f.key.clone(), month: f.month, before: None, after: Some(f.value) }),
    );
    out.sort_by(|a, b| (a.key.as_str(), a.month).cmp(&(b.key.as_str(), b.month)));
    out
}

/// The SHA-256 of a version's rows as stored — position, key, label as printed, kind,
/// and each month's value — in the file's order: what the audit chain records of them,
/// so a figure, a label or a row's kind changed behind the app's back fails verification.
pub fn rows_sha256<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str, RowKind, &'a [(u8, i64)])>) -> String {
    let mut text = String::new();
    for (i, (key, label, kind, values)) in rows.into_iter().enumerate() {
        for (m, v) in values {
            text.push_str(&format!("{i}\t{key}\t{label}\t{}\t{m}\t{v}\n", kind.as_str()));
        }
    }
    crate::audit::sha256_hex(text.as_bytes())
}

/// The SHA-256 of a version's figures in a canonical order: what the audit chain
/// records of them, so a figure changed behind the app's back fails verification.
pub fn figures_sha256(figures: &[Figure]) -> String {
    let mut sorted: Vec<&Figure> = figures.iter().collect();
    sorted.sort_by(|a, b| (a.key.as_str(), a.month).cmp(&(b.key.as_str(), b.month)));
    let text: String = sorted.iter().map(|f| format!("{}\t{}\t{}\n", f.key, f.month, f.value)).collect();
    crate::audit::sha256_hex(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fig(key: &str, month: u8, value: i64) -> Figure {
        Figure { key: key.into(), month, value }
    }

    #[test]
    fn a_corrected_month_is_a_revision_and_a_new_month_is_not() {
        let may = vec![fig("HND", 3, 1204), fig("HND", 4, 900), fig("GTM", 1, 10)];
        let june = vec![fig("HND", 3, 1236), fig("HND", 4, 900), fig("HND", 6, 1500), fig("SLV", 4, 15)];
        assert_eq!(
            revisions(&may, &june),
            vec![
                Revision { key: "GTM".into(), month: 1, before: Some(10), after: None },
                Revision { key: "HND".into(), month: 3, before: Some(1204), after: Some(1236) },
                Revision { key: "SLV".into(), month: 4, before: None, after: Some(15) },
            ]
        );
    }

    #[test]
    fn key_names_cover_countries_states_regions_and_categories() {
        assert_eq!(key_name("HND", true), "Honduras");
        assert_eq!(key_name("state:07", false), "Chiapas");
        assert_eq!(key_name("region:america-central", false), "Central America");
        assert_eq!(key_name("age:0-11", true), "0 a 11 años");
        assert_eq!(key_name("nothing", true), "nothing");
    }

    proptest! {
        #[test]
        fn a_version_has_no_revision_against_itself_and_the_hash_ignores_order(
            values in proptest::collection::vec((0u8..4, 1u8..=12, 0i64..100_000), 0..40)
        ) {
            let keys = ["HND", "GTM", "SLV", "state:07"];
            let mut seen = std::collections::HashSet::new();
            let figures: Vec<Figure> = values
                .into_iter()
                .filter(|(k, m, _)| seen.insert((*k, *m)))
                .map(|(k, m, v)| fig(keys[usize::from(k)], m, v))
                .collect();
            prop_assert!(revisions(&figures, &figures).is_empty());
            let mut reversed = figures.clone();
            reversed.reverse();
            prop_assert_eq!(figures_sha256(&figures), figures_sha256(&reversed));
        }

        #[test]
        fn year_months_count_consecutively(i in 20_000i32..30_000) {
            let ym = YearMonth::from_index(i);
            prop_assert_eq!(ym.index(), i);
            prop_assert_eq!(YearMonth::from_index(i + 1).index(), i + 1);
            prop_assert_eq!(YearMonth::parse(&ym.label()), Some(ym));
        }
    }
}
