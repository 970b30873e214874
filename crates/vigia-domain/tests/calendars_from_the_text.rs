//! Each shipped calendar against a second, deliberately simple reading of its article,
//! day by day from 2011 to 2030. The tables below are written from the wording of the
//! law (quoted beside each), not from the engine's data: if the data drifts from the
//! text, these fail. (The LFT table lives with the engine's own tests.)

use jiff::civil::{date, Date, Weekday};
use vigia_domain::account::Locale;
use vigia_domain::clock::{answer, Calendars, ClockAsk, ClockQuery};

fn weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn on(d: Date, days: &[(i8, i8)]) -> bool {
    days.contains(&(d.month(), d.day()))
}

/// LFPA art. 28: "No se considerarán días hábiles: los sábados, los domingos, el 1o. de
/// enero; 5 de febrero; 21 de marzo; 1o. de mayo; 5 de mayo; 1o. y 16 de septiembre; 20
/// de noviembre; 1o. de diciembre de cada seis años, cuando corresponda a la transmisión
/// del Poder Ejecutivo Federal, y el 25 de diciembre". The transfer was on 1 December
/// in 2000, 2006, 2012 and 2018; from 2024 it is on 1 October, a date the article does
/// not name, so no inauguration day counts as a rest day from 2024.
fn lfpa_rest_day(d: Date) -> bool {
    weekend(d)
        || on(d, &[(1, 1), (2, 5), (3, 21), (5, 1), (5, 5), (9, 1), (9, 16), (11, 20), (12, 25)])
        || (on(d, &[(12, 1)]) && [2000, 2006, 2012, 2018].contains(&d.year()))
}

/// Ley de Amparo art. 19 (reform DOF 19-01-2018): "todos los del año, con excepción de
/// los sábados y domingos, uno de enero, cinco de febrero, veintiuno de marzo, uno y
/// cinco de mayo, catorce y dieciséis de septiembre, doce de octubre, veinte de
/// noviembre y veinticinco de diciembre".
fn amparo_rest_day(d: Date) -> bool {
    weekend(d) || on(d, &[(1, 1), (2, 5), (3, 21), (5, 1), (5, 5), (9, 14), (9, 16), (10, 12), (11, 20), (12, 25)])
}

fn every_day() -> impl Iterator<Item = Date> {
    let (first, last) = (date(2011, 1, 1), date(2030, 12, 31));
    std::iter::successors(Some(first), move |d| d.tomorrow().ok().filter(|n| *n <= last))
}

fn agrees(name: &str, rest_day: fn(Date) -> bool) {
    let cals = Calendars::builtin();
    let cal = cals.get(name).expect("calendar");
    let mut wrong = Vec::new();
    let mut days = 0;
    for d in every_day() {
        days += 1;
        if cal.is_working_day(d) == rest_day(d) {
            wrong.push(format!("{d} ({:?}): engine says working = {}", d.weekday(), cal.is_working_day(d)));
        }
    }
    assert_eq!(days, 7305, "2011–2030 is 7,305 days");
    assert!(wrong.is_empty(), "{name}: {} days differ from the text:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn lfpa_follows_article_28_every_day_from_2011_to_2030() {
    agrees("lfpa", lfpa_rest_day);
}

#[test]
fn the_agency_calendars_inherit_article_28_every_day_from_2011_to_2030() {
    agrees("inm", lfpa_rest_day);
    agrees("comar", lfpa_rest_day);
}

#[test]
fn amparo_follows_article_19_every_day_from_2011_to_2030() {
    agrees("amparo", amparo_rest_day);
}

/// The outside check's examples: LFPA, 27 Aug 2020 + 5 working days is 4 Sep (1 Sep
/// is a rest day); Amparo, 10 Sep 2021 + 5 is 21 Sep (14 and 16 Sep are rest days).
#[test]
fn the_examples_the_outside_check_found_wrong() {
    let cals = Calendars::builtin();
    assert_eq!(cals.get("lfpa").expect("lfpa").add_working_days(date(2020, 8, 27), 5), Ok(date(2020, 9, 4)));
    assert_eq!(cals.get("amparo").expect("amparo").add_working_days(date(2021, 9, 10), 5), Ok(date(2021, 9, 21)));
}

/// 2024 and 2030: the article names 1 December "cuando corresponda a la transmisión",
/// which moved to 1 October. Neither day is a rest day, and a count crossing either
/// says why the date may be disputed.
#[test]
fn the_2024_ambiguity_is_counted_as_working_and_said_where_it_matters() {
    let cals = Calendars::builtin();
    for name in ["lfpa", "inm", "comar"] {
        let cal = cals.get(name).expect("calendar");
        for d in [date(2024, 10, 1), date(2030, 10, 1)] {
            assert!(cal.is_working_day(d), "{name} {d}");
            let q = cal.open_questions(d, Locale::Es);
            assert_eq!(q.len(), 1, "{name} {d}: {q:?}");
            assert!(q[0].describe().contains("1 de diciembre"), "{q:?}");
            assert!(cal.open_questions(d, Locale::En)[0].describe().contains("DOF"));
        }
        // Before 2024 the transfer day was a rest day and nothing is open.
        assert!(!cal.is_working_day(date(2018, 12, 3)) || cal.open_questions(date(2018, 12, 3), Locale::Es).is_empty());
        assert!(cal.open_questions(date(2018, 10, 1), Locale::Es).is_empty());
        assert!(cal.open_questions(date(2025, 10, 1), Locale::Es).is_empty());
        // 1 Dec 2030 is a Sunday: not working, so nothing to ask.
        assert!(cal.open_questions(date(2030, 12, 1), Locale::Es).is_empty());
        let q = ClockQuery { calendar: name.into(), from: date(2024, 9, 27), what: ClockAsk::Add { working_days: 5 } };
        let a = answer(&q, &cals, true, Locale::En).expect("answer");
        assert_eq!(a.to, date(2024, 10, 4), "{name}: 1 Oct 2024 counts");
        assert_eq!(a.open.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [date(2024, 10, 1)], "{name}");
        // Said without asking for the explanation too.
        let plain = answer(&q, &cals, false, Locale::En).expect("answer");
        assert!(plain.days.is_empty() && plain.open.len() == 1, "{name}");
    }
    // Amparo art. 19 names no inauguration day at all: nothing is open there.
    let amparo = cals.get("amparo").expect("amparo");
    assert!(amparo.open_questions(date(2024, 10, 1), Locale::Es).is_empty());
}

/// Once an agency records the DOF agreement that settles the day, it is a declared rest
/// day on that agency's calendar, with its source, and nothing is left open there.
#[test]
fn a_declared_day_settles_the_question_for_its_agency_only() {
    use vigia_domain::clock::{Rule, When};
    let rule = Rule {
        when: When::Date { date: "2024-10-01".into() },
        label_es: "Día inhábil declarado".into(),
        label_en: "Declared non-working day".into(),
        source: "Acuerdo publicado en el DOF (prueba)".into(),
        from: None,
        until: None,
    };
    let cals = Calendars::builtin().with_extra_rules("comar", &[rule]).expect("rule");
    let comar = cals.get("comar").expect("comar");
    assert!(!comar.is_working_day(date(2024, 10, 1)));
    assert!(comar.open_questions(date(2024, 10, 1), Locale::Es).is_empty());
    let why: Vec<String> = comar.reasons(date(2024, 10, 1), Locale::Es).iter().map(|r| r.describe()).collect();
    assert_eq!(why.len(), 1, "{why:?}");
    // The agreement, and the article it rests on with its version.
    assert!(why[0].starts_with("Día inhábil declarado (Acuerdo publicado en el DOF (prueba); LFPA art. 28"), "{why:?}");
    assert!(why[0].contains("acuerdos de la COMAR publicados en el DOF"), "{why:?}");
    assert!(cals.get("inm").expect("inm").is_working_day(date(2024, 10, 1)), "the INM has declared nothing");
}

/// Every excluded day names its article and the version of the text it follows.
#[test]
fn every_excluded_day_names_its_article_and_version() {
    let cals = Calendars::builtin();
    for name in ["lfpa", "inm", "comar", "amparo", "lft"] {
        let cal = cals.get(name).expect("calendar");
        assert!(cal.version(Locale::Es).is_some() && cal.version(Locale::En).is_some(), "{name}");
        assert!(
            cal.spec.quote.is_some() || cal.spec.summary_es.is_some() || cal.spec.extends.is_some(),
            "{name} shows its text"
        );
        for d in every_day() {
            for r in cal.reasons(d, Locale::Es) {
                let text = r.describe();
                // The LFT names no weekend: its Saturdays and Sundays are shown bare.
                if name != "lft" || !weekend(d) {
                    assert!(text.contains("art.") && text.contains("DOF"), "{name} {d}: {text}");
                }
            }
        }
    }
}
