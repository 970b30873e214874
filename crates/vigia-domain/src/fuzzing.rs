//! Entry points for fuzzing every parser and importer with arbitrary bytes: the
//! cargo-fuzz targets in `fuzz/` call these, and a stable-Rust test drives them with
//! random and mutated inputs so CI catches a panic without a nightly toolchain. Each
//! must return normally for any input; the checks inside are invariants, not outputs.

use crate::input::RawInput;

/// A fixed instant (2026-01-01) so runs are reproducible.
const NOW: crate::Micros = 1_767_225_600_000_000;

fn resolver(id: Option<i64>, name: Option<&str>) -> Option<crate::import::FacilityRef<'static>> {
    let known = [(1, "Siglo XXI", crate::geo::LEGAL_TIME_ZONE), (2, "Tijuana", "America/Tijuana")];
    known
        .iter()
        .find(|(i, n, _)| id == Some(*i) || name.is_some_and(|x| x.eq_ignore_ascii_case(n)))
        .map(|(i, _, z)| (*i, *z))
}

/// The attempts and facilities CSV importers.
pub fn csv_import(data: &[u8]) {
    if let Ok(drafts) = crate::import::attempts_csv(data, resolver, NOW) {
        for d in drafts {
            assert!(d.facility_id == 1 || d.facility_id == 2);
            assert!(d.attempted_at <= NOW + crate::access::FUTURE_SLACK);
        }
    }
    for json in [false, true] {
        if let Ok(items) = crate::import::statements(data, json, NOW) {
            assert!(items.iter().all(|(s, _)| !s.text.trim().is_empty()));
        }
    }
    if let Ok(drafts) = crate::import::facilities_csv(data) {
        assert!(drafts.iter().all(|d| !d.name.trim().is_empty()));
    }
}

/// The official statistics' table reader, given the bytes as a grid (lines of
/// comma-separated cells, numbers where they parse): every problem points inside the
/// grid, and every table read has only whole, non-negative figures.
pub fn bulletin(data: &[u8]) {
    use crate::statistics::bulletin::{read, Cell, Sheet};
    let text = String::from_utf8_lossy(data);
    let rows: Vec<Vec<Cell>> = text
        .lines()
        .map(|l| {
            l.split(',')
                .map(|c| match c.trim().parse::<f64>() {
                    Ok(n) => Cell::Number(n),
                    Err(_) if c.trim().is_empty() => Cell::Empty,
                    Err(_) => Cell::Text(c.to_string()),
                })
                .collect()
        })
        .collect();
    let height = rows.len().max(1);
    match read(&[Sheet { name: "fuzz".into(), rows }]) {
        Ok(tables) => {
            for t in tables {
                assert!(t.rows.iter().all(|r| r.values.iter().all(|(m, v)| (1..=12).contains(m) && *v >= 0)));
                let _ = crate::statistics::figures_sha256(&t.figures());
            }
        }
        Err(problems) => assert!(problems.iter().all(|p| p.row >= 1 && p.row as usize <= height)),
    }
}

/// Every validator that reads a JSON body.
pub fn json_body(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let today = jiff::civil::date(2026, 1, 1);
    if let Ok(v) = crate::visit::validate_visit(&value, today, Some(100)) {
        let (ind, _) = crate::visit::assess(&v, Some(100));
        assert!(ind.occupancy.is_none_or(|o| o <= crate::visit::IMPLAUSIBLE_FACTOR as f64));
    }
    let Ok(raw) = RawInput::from_json(value) else { return };
    let _ = crate::facility::validate(&raw);
    let _ = crate::note::validate(&raw);
    let _ = crate::access::validate(&raw, crate::geo::LEGAL_TIME_ZONE, NOW);
    if let Ok(c) = crate::case::validate_case(&raw, today) {
        assert!(!c.fields.reference.is_empty() && !c.person.full_name.is_empty());
        assert!(!c.fields.age_group.is_minor() || c.fields.minor, "a child is always a minor");
    }
    if let Ok(e) = crate::case::validate_event(&raw, today) {
        assert!(e.on <= today.tomorrow().unwrap_or(today));
    }
    let cals = crate::clock::Calendars::builtin();
    for counting in [false, true] {
        if let Ok(q) = crate::clock::validate_query(&raw, &cals, counting) {
            let _ = crate::clock::answer(&q, &cals, true, crate::account::Locale::Es);
        }
    }
    let _ = crate::clock::validate_agency_rule(&raw, &cals);
}

/// The evidence file sniffer, the file name cleaner and base32 keys.
pub fn bytes_and_names(data: &[u8]) {
    if let Ok(kind) = crate::evidence::check(data) {
        assert!(crate::evidence::sniff(data) == Some(kind));
    }
    let text = String::from_utf8_lossy(data);
    let name = crate::evidence::clean_name(&text);
    assert!(!name.contains('/') && !name.contains('\\') && !name.contains('"'));
    assert!(!name.chars().any(crate::input::is_bidi_control));
    for kind in crate::evidence::CONTENT_TYPES {
        let stored = crate::evidence::stored_name(&text, kind);
        assert!(
            stored.chars().count() <= 120
                && !stored.contains('/')
                && !stored.chars().any(crate::input::is_bidi_control)
        );
        assert_eq!(crate::evidence::stored_name(&stored, kind), stored, "a stored name is stored as it is");
    }
    if let Some(bytes) = crate::totp::base32_decode(&text) {
        let again = crate::totp::base32_decode(&crate::totp::base32_encode(&bytes));
        assert_eq!(again.as_deref(), Some(bytes.as_slice()));
    }
    let _ = crate::totp::verify(data, &text, 1_700_000_000, None);
}

#[cfg(test)]
mod tests {
    //! The stable driver: random bytes and mutations of valid seeds through every entry
    //! point. `VIGIA_FUZZ_CASES` raises the number of cases (docs/security.md reports a
    //! long run).
    use proptest::prelude::*;

    const SEEDS: &[&str] = &[
        "facility_id,attempted_at,purpose,outcome\n1,2020-01-20T10:30,monitoring,denied\n",
        "facility,attempted_at,purpose,outcome,restrictions\nSiglo XXI,2020-01-20 10:30,legal_assistance,granted,\"no_phones,searched\"\n",
        "name,kind,state_code,latitude,longitude\nEstación,estacion_migratoria,07,14.9,-92.2\n",
        r#"{"reference":"FM-1","full_name":"Ana","age_group":"child_0_11","languages":["es"],"vulnerabilities":["lgbti"]}"#,
        r#"{"kind":"detention_extended","on":"2020-01-10","ground":"ii","time":"10:30"}"#,
        r#"{"from":"2019-02-18","working_days":"15","calendar":"inm","to":"2019-03-11"}"#,
        r#"{"facility_id":1,"attempted_at":"2020-01-20T10:30","purpose":"monitoring","outcome":"denied","restrictions":["no_phones"]}"#,
        r#"{"calendar":"comar","start_date":"2020-04-01","end_date":"2020-04-30","label_es":"x","source":"DOF"}"#,
        "Cuadro 3.2.1 Eventos devueltos, 2020\nPaís de nacionalidad,Enero,Febrero,Total\nTotal,3,-,3\n  Honduras,3,,3\nNota: eventos\n",
    ];

    fn cases() -> u32 {
        std::env::var("VIGIA_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
    }

    fn mutated() -> impl Strategy<Value = Vec<u8>> {
        (proptest::sample::select(SEEDS), proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 0..8))
            .prop_map(|(seed, edits)| {
                let mut b = seed.as_bytes().to_vec();
                for (at, byte, op) in edits {
                    let i = if b.is_empty() { 0 } else { at % b.len() };
                    match op {
                        0 if !b.is_empty() => b[i] = byte,
                        1 => b.insert(i, byte),
                        _ if !b.is_empty() => {
                            b.remove(i);
                        }
                        _ => b.push(byte),
                    }
                }
                b
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

        #[test]
        fn mutated_inputs_never_panic(data in mutated()) {
            super::csv_import(&data);
            super::json_body(&data);
            super::bytes_and_names(&data);
            super::bulletin(&data);
        }

        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            super::csv_import(&data);
            super::json_body(&data);
            super::bytes_and_names(&data);
            super::bulletin(&data);
        }
    }
}
