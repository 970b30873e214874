use super::*;
use crate::input::RawInput;

#[test]
fn agency_rules_need_a_known_calendar_ordered_dates_and_a_source() {
    let cals = Calendars::builtin();
    let ok = RawInput::from_pairs([
        ("calendar", "comar"),
        ("start_date", "2020-04-01"),
        ("end_date", "2020-04-30"),
        ("label_es", "Suspensión de plazos"),
        ("source", "Acuerdo DOF 2020-04-01"),
    ]);
    let r = validate_agency_rule(&ok, &cals).expect("valid");
    assert_eq!(r.label_en, "Suspensión de plazos", "English falls back to Spanish");
    let bad = RawInput::from_pairs([
        ("calendar", "marte"),
        ("start_date", "2020-04-30"),
        ("end_date", "2020-04-01"),
        ("label_es", "x"),
    ]);
    let errs = validate_agency_rule(&bad, &cals).expect_err("invalid");
    let got: Vec<_> = errs.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
    assert!(got.contains(&("calendar", "unknown_choice")));
    assert!(got.contains(&("end_date", "before_start")));
    assert!(got.contains(&("source", "required")));
}
