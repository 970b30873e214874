use super::*;
use crate::account::Locale;
use jiff::civil::{date, Date};
use proptest::prelude::*;

fn cal(name: &str) -> Calendar {
    Calendars::builtin().get(name).expect("calendar").clone()
}

#[test]
fn the_shipped_data_parses_and_every_calendar_resolves() {
    let all = Calendars::from_json(DEFAULT_CALENDARS).expect("valid data");
    let names: Vec<_> = all.names().collect();
    assert_eq!(names, ["amparo", "comar", "inm", "lfpa", "lft", "transparencia", "transparencia-td18"]);
    assert_eq!(all.get("inm").expect("inm").rules.len(), all.get("lfpa").expect("lfpa").rules.len());
}

#[test]
fn fifteen_working_days_from_18_february_2019() {
    // Monday 18 Feb 2019: counting starts Tuesday 19; no holiday until 18 March.
    for name in ["lfpa", "lft", "inm", "amparo"] {
        assert_eq!(cal(name).add_working_days(date(2019, 2, 18), 15), Ok(date(2019, 3, 11)), "{name}");
    }
}

#[test]
fn holidays_differ_by_regime() {
    let (lfpa, lft, amparo) = (cal("lfpa"), cal("lft"), cal("amparo"));
    // 5 May: LFPA and amparo, not LFT.
    assert!(!lfpa.is_working_day(date(2021, 5, 5)));
    assert!(lft.is_working_day(date(2021, 5, 5)));
    assert!(!amparo.is_working_day(date(2021, 5, 5)));
    // 12 Oct: only amparo.
    assert!(!amparo.is_working_day(date(2021, 10, 12)));
    assert!(lfpa.is_working_day(date(2021, 10, 12)));
    // Third Monday of March vs fixed 21 March.
    assert!(!lft.is_working_day(date(2021, 3, 15)));
    assert!(lft.is_working_day(date(2023, 3, 21)));
    assert!(!amparo.is_working_day(date(2023, 3, 21)));
}

/// LFPA art. 28 as published: fixed dates (5 Feb, 21 Mar, 20 Nov, not the LFT's
/// Mondays), 1 September a rest day, 1 December every six years while it was the
/// transfer of power; for 2024 and 2030 the article names neither date, so neither
/// is counted (the calendar's notes say so and an agency may declare the day).
#[test]
fn the_lfpa_calendar_is_article_28_as_published() {
    let lfpa = cal("lfpa");
    for d in [date(2019, 2, 5), date(2019, 3, 21), date(2019, 11, 20), date(2021, 9, 1), date(2000, 12, 1)] {
        assert!(!lfpa.is_working_day(d), "{d}");
    }
    for d in [
        date(2019, 2, 4),
        date(2019, 3, 18),
        date(2019, 11, 18),
        date(2024, 10, 1),
        date(2030, 10, 1),
        date(2030, 12, 2),
    ] {
        assert!(lfpa.is_working_day(d), "{d}");
    }
    for c in ["lfpa", "inm", "comar"] {
        let notes = cal(c).notes(Locale::En).join(" ");
        assert!(notes.contains("for 2024 and 2030 neither"), "{c}: {notes}");
        assert!(cal(c).notes(Locale::Es).join(" ").contains("para 2024 y 2030"), "{c}");
    }
    for c in ["lfpa", "lft", "amparo", "inm", "comar"] {
        for r in &cal(c).spec.rules {
            assert!(!r.source.is_empty(), "every rule names its source");
        }
    }
}

#[test]
fn inauguration_days_follow_the_2024_change() {
    let lft = cal("lft");
    // 1 Dec 2012 and 2018 were Saturdays: check the rule itself, not just the weekend.
    let reasons = lft.reasons(date(2018, 12, 1), Locale::En);
    assert!(reasons.iter().any(|r| r.describe().contains("1 December")), "{reasons:?}");
    assert!(lft.reasons(date(2024, 12, 1), Locale::En).iter().all(|r| !r.describe().contains("executive")));
    assert!(!lft.is_working_day(date(2024, 10, 1)), "Tuesday 1 Oct 2024");
    assert!(!lft.is_working_day(date(2030, 10, 1)), "Tuesday 1 Oct 2030");
    assert!(lft.is_working_day(date(2030, 12, 2)));
    assert!(lft.is_working_day(date(2025, 10, 1)));
}

#[test]
fn suspensions_and_declared_days_apply_to_descendants() {
    let extra = vec![Rule {
        when: When::Range { start: "2020-04-01".into(), end: "2020-04-30".into() },
        label_es: "Suspensión de plazos".into(),
        label_en: "Time limits suspended".into(),
        source: "Acuerdo DOF (ejemplo de prueba)".into(),
        from: None,
        until: None,
    }];
    let all = Calendars::builtin().with_extra_rules("comar", &extra).expect("extra");
    let comar = all.get("comar").expect("comar");
    assert!(!comar.is_working_day(date(2020, 4, 15)));
    assert!(all.get("lfpa").expect("lfpa").is_working_day(date(2020, 4, 15)), "only COMAR is suspended");
    assert_eq!(comar.add_working_days(date(2020, 3, 31), 1), Ok(date(2020, 5, 4)));
    let why = comar.explain(date(2020, 3, 31), date(2020, 5, 4), Locale::Es).expect("explain");
    assert!(why[0].1[0].describe().contains("Suspensión de plazos"));
    let bad =
        vec![Rule { when: When::Range { start: "2020-05-01".into(), end: "2020-04-01".into() }, ..extra[0].clone() }];
    assert!(Calendars::builtin().with_extra_rules("comar", &bad).is_err());
}

#[test]
fn counting_is_signed_and_zero_for_the_same_day() {
    let c = cal("lfpa");
    assert_eq!(c.count_working_days(date(2019, 2, 18), date(2019, 3, 11)), Ok(15));
    assert_eq!(c.count_working_days(date(2019, 3, 11), date(2019, 2, 18)), Ok(-15));
    assert_eq!(c.count_working_days(date(2019, 2, 18), date(2019, 2, 18)), Ok(0));
    assert_eq!(c.add_working_days(date(2019, 2, 16), 0), Ok(date(2019, 2, 16)));
}

fn any_date() -> impl Strategy<Value = Date> {
    (2011i16..=2030, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d))
}

fn any_calendar() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("lfpa"), Just("lft"), Just("amparo"), Just("inm"), Just("comar")]
}

proptest! {
    #[test]
    fn adding_then_counting_round_trips(from in any_date(), n in 0u32..120, name in any_calendar()) {
        let c = cal(name);
        let end = c.add_working_days(from, n).expect("add");
        prop_assert_eq!(c.count_working_days(from, end).expect("count"), i64::from(n));
        if n > 0 {
            prop_assert!(c.is_working_day(end));
        }
    }

    #[test]
    fn adding_is_strictly_monotonic(from in any_date(), n in 0u32..120, name in any_calendar()) {
        let c = cal(name);
        prop_assert!(c.add_working_days(from, n + 1).expect("add") > c.add_working_days(from, n).expect("add"));
    }

    #[test]
    fn the_index_agrees_with_walking(from in any_date(), n in 0u32..200, span in 0i64..400, name in any_calendar()) {
        let c = cal(name);
        prop_assert_eq!(c.add_working_days(from, n).expect("add"), c.add_working_days_walking(from, n).expect("walk"));
        let to = from.checked_add(jiff::Span::new().days(span)).expect("date");
        prop_assert_eq!(c.count_working_days(from, to).expect("count"), c.count_working_days_walking(from, to).expect("walk"));
    }

    #[test]
    fn explanations_account_for_every_day(from in any_date(), n in 1u32..40, name in any_calendar()) {
        let c = cal(name);
        let end = c.add_working_days(from, n).expect("add");
        let days = c.explain(from, end, Locale::Es).expect("explain");
        prop_assert_eq!(days.iter().filter(|(_, r)| r.is_empty()).count() as u32, n);
        prop_assert_eq!(days.last().map(|(d, _)| *d), Some(end));
    }
}
