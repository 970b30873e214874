use jiff::civil::{date, Date};
use proptest::prelude::*;

use super::*;
use crate::clock::Calendars;
use crate::input::RawInput;

fn ev(kind: EventKind, on: Date) -> EventDraft {
    let answer_type = (kind == EventKind::Answer).then_some(AnswerType::Full);
    let outcome = (kind == EventKind::AppealResolved).then_some(Outcome::Revokes);
    EventDraft { kind, on, answer_type, outcome, note: None }
}

fn answer(on: Date, t: AnswerType) -> EventDraft {
    EventDraft { answer_type: Some(t), ..ev(EventKind::Answer, on) }
}

fn run(regime: &str, filed: Date, events: &[EventDraft], today: Date) -> Vec<Deadline> {
    let regimes = Regimes::builtin();
    deadlines(filed, events, regimes.get(regime).expect("ok"), &Calendars::builtin(), today).expect("ok")
}

fn find(ds: &[Deadline], k: DeadlineKind) -> &Deadline {
    ds.iter().find(|d| d.kind == k).unwrap_or_else(|| panic!("no {k:?} in {ds:?}"))
}

/// The number each rule counts is the number its quoted words say: the data cannot
/// drift from the text it cites.
#[test]
fn every_rule_says_its_days_in_its_quote() {
    let words = [(3, "tres"), (10, "diez"), (15, "quince"), (20, "veinte"), (40, "cuarenta")];
    let cals = Calendars::builtin();
    let regimes = Regimes::builtin();
    assert_eq!(regimes.all().count(), 3);
    for r in regimes.all() {
        r.check(&cals).expect("ok");
        for rule in &r.rules {
            let word = words.iter().find(|(n, _)| *n == rule.days).map(|w| w.1).expect("a day count in words");
            assert!(rule.quote.contains(word), "{} {}: {:?}", r.name, rule.kind.as_str(), rule.quote);
            assert!(rule.article.starts_with("art. "));
        }
        for k in &r.unverified {
            assert!(r.rule(*k).is_none(), "{}: {k:?} both shipped and unverified", r.name);
        }
    }
}

/// The 2025 law replaced the 2015 one on 21 March 2025 (DOF 20-03-2025): a request
/// is counted under the law in force on its filing date.
#[test]
fn the_regime_is_the_one_in_force_on_the_filing_date() {
    let r = Regimes::builtin();
    assert_eq!(r.federal_on(date(2020, 1, 20)).expect("ok").name, "lgtaip-2015");
    assert_eq!(r.federal_on(date(2025, 3, 20)).expect("ok").name, "lgtaip-2015");
    assert_eq!(r.federal_on(date(2025, 3, 21)).expect("ok").name, "lgtaip-2025");
    assert_eq!(r.federal_on(date(2026, 12, 6)).expect("ok").name, "lgtaip-2025");
    // A state-like regime is chosen by name only.
    assert_eq!(r.for_request(Some("lgtaip-2025-td18"), date(2025, 4, 1)).expect("ok").name, "lgtaip-2025-td18");
}

/// Filed Monday 20 January 2020: 20 working days from the 21st, skipping weekends and
/// 5 February (LFPA art. 28) → Tuesday 18 February 2020.
#[test]
fn the_answer_is_due_twenty_working_days_after_filing() {
    let ds = run("lgtaip-2015", date(2020, 1, 20), &[], date(2020, 2, 1));
    let a = find(&ds, DeadlineKind::Answer);
    assert_eq!(a.due, Some(date(2020, 2, 18)));
    assert_eq!(a.status, DeadlineStatus::Pending);
    assert_eq!(a.articles, ["art. 132"]);
    // No appeal window yet: nothing has opened it.
    assert!(ds.iter().all(|d| d.kind != DeadlineKind::Appeal));
}

/// An extension notified in time adds ten working days (to 3 March 2020); one notified
/// after the day has passed does not.
#[test]
fn an_extension_counts_only_when_notified_in_time() {
    let ds = run("lgtaip-2015", date(2020, 1, 20), &[ev(EventKind::Extension, date(2020, 2, 14))], date(2020, 2, 20));
    let a = find(&ds, DeadlineKind::Answer);
    assert!(a.extended);
    assert_eq!((a.days, a.due, a.status), (Some(30), Some(date(2020, 3, 3)), DeadlineStatus::Pending));
    let late = run("lgtaip-2015", date(2020, 1, 20), &[ev(EventKind::Extension, date(2020, 2, 19))], date(2020, 2, 20));
    let a = find(&late, DeadlineKind::Answer);
    assert!(!a.extended);
    assert_eq!(a.status, DeadlineStatus::Overdue);
}

/// No answer by the day: the answer is overdue and the appeal window runs from the
/// day after it (art. 142: "o del vencimiento del plazo para su notificación").
#[test]
fn a_missed_answer_opens_the_appeal_window() {
    let ds = run("lgtaip-2015", date(2020, 1, 20), &[], date(2020, 2, 25));
    assert_eq!(find(&ds, DeadlineKind::Answer).status, DeadlineStatus::Overdue);
    let w = find(&ds, DeadlineKind::Appeal);
    assert_eq!(w.from, Some(date(2020, 2, 18)));
    // 15 working days from 19 February 2020: 10 March.
    assert_eq!((w.due, w.status), (Some(date(2020, 3, 10)), DeadlineStatus::Pending));
    assert_eq!(stage(&[], &ds), Stage::AnswerOverdue);
    let closed = run("lgtaip-2015", date(2020, 1, 20), &[], date(2020, 3, 11));
    assert_eq!(find(&closed, DeadlineKind::Appeal).status, DeadlineStatus::Expired);
    // A recorded "no answer" is not an answer.
    let none = [answer(date(2020, 2, 19), AnswerType::NoAnswer)];
    let ds = run("lgtaip-2015", date(2020, 1, 20), &none, date(2020, 2, 25));
    assert_eq!(find(&ds, DeadlineKind::Answer).status, DeadlineStatus::Overdue);
    assert_eq!(stage(&none, &ds), Stage::AnswerOverdue);
}

/// Under the 2015 regime the resolution's deadline could not be verified: it is shown
/// as not computed, with the reason, never as a day.
#[test]
fn an_unverified_rule_is_not_computed() {
    let events = [
        answer(date(2020, 2, 10), AnswerType::Inexistent),
        ev(EventKind::AppealFiled, date(2020, 2, 20)),
        ev(EventKind::AppealAdmitted, date(2020, 2, 24)),
    ];
    let ds = run("lgtaip-2015", date(2020, 1, 20), &events, date(2020, 3, 1));
    let r = find(&ds, DeadlineKind::Resolution);
    assert_eq!((r.status, r.due, r.reason), (DeadlineStatus::NotComputed, None, Some("unverified")));
    assert_eq!(find(&ds, DeadlineKind::Appeal).status, DeadlineStatus::Met);
    assert_eq!(stage(&events, &ds), Stage::Appealed);
}

/// The same steps under the 2025 law: the resolution is due 40 working days after
/// admission (art. 148), 60 when an extension is notified by the 40th day; 1 and 16
/// September are rest days (LFPA art. 28).
#[test]
fn the_2025_law_counts_the_resolution_from_admission() {
    let mut events = vec![
        answer(date(2025, 8, 1), AnswerType::Inexistent),
        ev(EventKind::AppealFiled, date(2025, 8, 11)),
        ev(EventKind::AppealAdmitted, date(2025, 8, 13)),
    ];
    let ds = run("lgtaip-2025", date(2025, 7, 1), &events, date(2025, 9, 1));
    let r = find(&ds, DeadlineKind::Resolution);
    assert_eq!(
        (r.due, r.status, r.articles.as_slice()),
        (Some(date(2025, 10, 10)), DeadlineStatus::Pending, &["art. 148".to_string()][..])
    );
    let late = [events.clone(), vec![ev(EventKind::AppealExtension, date(2025, 10, 15))]].concat();
    let ds = run("lgtaip-2025", date(2025, 7, 1), &late, date(2025, 10, 20));
    let r = find(&ds, DeadlineKind::Resolution);
    assert_eq!((r.extended, r.status), (false, DeadlineStatus::Overdue), "an extension after the day does not count");
    events.push(ev(EventKind::AppealExtension, date(2025, 10, 1)));
    let ds = run("lgtaip-2025", date(2025, 7, 1), &events, date(2025, 10, 20));
    let r = find(&ds, DeadlineKind::Resolution);
    assert_eq!((r.days, r.due, r.status), (Some(60), Some(date(2025, 11, 7)), DeadlineStatus::Pending));
    let awaiting = run("lgtaip-2025", date(2025, 7, 1), &events[..2], date(2025, 9, 1));
    assert_eq!(find(&awaiting, DeadlineKind::Resolution).reason, Some("awaiting_admission"));
}

/// A suspension of appeals before the federal executive's guarantor was reported for
/// the 2025 transition but its dates could not be verified: an appeal or resolution
/// whose count crosses 21 March–18 June 2025 is not computed, under either law.
#[test]
fn an_appeal_counted_across_the_unverified_transition_is_not_computed() {
    let events = [answer(date(2025, 3, 10), AnswerType::Partial)];
    let ds = run("lgtaip-2015", date(2025, 2, 10), &events, date(2025, 3, 12));
    let w = find(&ds, DeadlineKind::Appeal);
    assert_eq!((w.due, w.status, w.reason), (None, DeadlineStatus::NotComputed, Some("unverified_suspension")));
    assert_eq!(find(&ds, DeadlineKind::Answer).status, DeadlineStatus::Met, "the answer is not affected");
    // Before the transition, the same window is computed.
    let early = [answer(date(2025, 1, 10), AnswerType::Partial)];
    let ds = run("lgtaip-2015", date(2024, 12, 10), &early, date(2025, 1, 12));
    assert_eq!(find(&ds, DeadlineKind::Appeal).due, Some(date(2025, 1, 31)));
}

/// Around 21 March 2025: filed the day before, the 2015 regime (no resolution day); filed
/// that day, the 2025 regime. 21 March is itself a rest day (LFPA art. 28), so both
/// answers fall due on the same day.
#[test]
fn requests_filed_either_side_of_21_march_2025() {
    let r = Regimes::builtin();
    let before = r.for_request(None, date(2025, 3, 20)).expect("ok");
    let after = r.for_request(None, date(2025, 3, 21)).expect("ok");
    let cals = Calendars::builtin();
    let a = deadlines(date(2025, 3, 20), &[], before, &cals, date(2025, 3, 25)).expect("ok");
    let b = deadlines(date(2025, 3, 21), &[], after, &cals, date(2025, 3, 25)).expect("ok");
    assert_eq!(find(&a, DeadlineKind::Answer).articles, ["art. 132"]);
    assert_eq!(find(&b, DeadlineKind::Answer).articles, ["art. 134"]);
    // 24 March (Mon) is day 1; 20 working days → 18 April 2025 (no LFPA rest day between).
    assert_eq!(find(&a, DeadlineKind::Answer).due, Some(date(2025, 4, 18)));
    assert_eq!(find(&b, DeadlineKind::Answer).due, Some(date(2025, 4, 18)));
    // A lack of competence: 3 working days under 2025 (art. 138); not verified for 2015.
    let nc = [answer(date(2025, 3, 27), AnswerType::NotCompetent)];
    let a = deadlines(date(2025, 3, 20), &nc, before, &cals, date(2025, 3, 28)).expect("ok");
    let b = deadlines(date(2025, 3, 21), &nc, after, &cals, date(2025, 3, 28)).expect("ok");
    assert_eq!(find(&a, DeadlineKind::Incompetence).reason, Some("unverified"));
    let i = find(&b, DeadlineKind::Incompetence);
    assert_eq!((i.due, i.status), (Some(date(2025, 3, 26)), DeadlineStatus::Late));
}

/// The Eighteenth Transitory suspended appeals before the bodies it names for ninety
/// calendar days from 21 March 2025, but not the answering of requests.
#[test]
fn the_transitory_suspension_stops_appeals_not_answers() {
    let events = [answer(date(2025, 4, 1), AnswerType::Partial)];
    let plain = run("lgtaip-2025", date(2025, 3, 24), &events, date(2025, 4, 2));
    let td18 = run("lgtaip-2025-td18", date(2025, 3, 24), &events, date(2025, 4, 2));
    assert_eq!(find(&plain, DeadlineKind::Answer).due, find(&td18, DeadlineKind::Answer).due);
    // Under the general 2025 regime the reported suspension is unverified: not computed.
    assert_eq!(find(&plain, DeadlineKind::Appeal).reason, Some("unverified_suspension"));
    let w = find(&td18, DeadlineKind::Appeal);
    // Counting resumes on 19 June 2025: the 15th working day is 9 July.
    assert_eq!((w.due, w.calendar.as_str()), (Some(date(2025, 7, 9)), "transparencia-td18"));
}

#[test]
fn events_follow_the_steps_they_answer() {
    let today = date(2026, 12, 6);
    let filed = date(2020, 1, 20);
    let raw = |pairs: &[(&str, &str)]| RawInput::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)));
    let e = validate_event(&raw(&[("kind", "appeal_admitted"), ("on", "2020-02-01")]), filed, &[], today)
        .expect_err("refused");
    assert_eq!(e.0[0].code, "no_appeal");
    let e = validate_event(&raw(&[("kind", "answer"), ("on", "2020-01-10")]), filed, &[], today).expect_err("refused");
    assert!(e.for_field("on").is_some_and(|f| f.code == "before_filing"));
    assert!(e.for_field("answer_type").is_some_and(|f| f.code == "required"));
    let answered = [answer(date(2020, 2, 10), AnswerType::Inexistent)];
    let e = validate_event(&raw(&[("kind", "appeal_filed"), ("on", "2020-02-05")]), filed, &answered, today)
        .expect_err("refused");
    assert_eq!(e.0[0].code, "before_previous_step");
    let e = validate_event(
        &raw(&[("kind", "answer"), ("on", "2020-02-11"), ("answer_type", "full")]),
        filed,
        &answered,
        today,
    )
    .expect_err("refused");
    assert_eq!(e.0[0].code, "already_recorded");
    let e = validate_event(&raw(&[("kind", "extension"), ("on", "2020-02-11")]), filed, &answered, today)
        .expect_err("refused");
    assert_eq!(e.0[0].code, "already_answered");
    let e = validate_event(
        &raw(&[("kind", "appeal_filed"), ("on", "2020-02-11"), ("outcome", "revokes")]),
        filed,
        &answered,
        today,
    )
    .expect_err("refused");
    assert_eq!(e.0[0].code, "not_for_kind");
    // A recorded "no answer" leaves room for the late answer, and only for it.
    let none = [answer(date(2020, 2, 19), AnswerType::NoAnswer)];
    let late = validate_event(
        &raw(&[("kind", "answer"), ("on", "2020-03-02"), ("answer_type", "partial")]),
        filed,
        &none,
        today,
    );
    assert_eq!(late.expect("a late answer").answer_type, Some(AnswerType::Partial));
    let e = validate_event(
        &raw(&[("kind", "answer"), ("on", "2020-03-02"), ("answer_type", "no_answer")]),
        filed,
        &none,
        today,
    )
    .expect_err("refused");
    assert_eq!(e.0[0].code, "already_recorded");
    // An answer cannot precede the extension notified of it.
    let extended = [ev(EventKind::Extension, date(2020, 2, 14))];
    let e = validate_event(
        &raw(&[("kind", "answer"), ("on", "2020-02-10"), ("answer_type", "full")]),
        filed,
        &extended,
        today,
    )
    .expect_err("refused");
    assert_eq!(e.0[0].code, "before_previous_step");
    // A resolution follows the admission.
    let appealed = [
        answer(date(2020, 2, 10), AnswerType::Inexistent),
        ev(EventKind::AppealFiled, date(2020, 2, 20)),
        ev(EventKind::AppealAdmitted, date(2020, 3, 2)),
    ];
    let e = validate_event(
        &raw(&[("kind", "appeal_resolved"), ("on", "2020-02-25"), ("outcome", "revokes")]),
        filed,
        &appealed,
        today,
    )
    .expect_err("refused");
    assert_eq!(e.0[0].code, "before_previous_step");
    // With no answer, an appeal comes only after the answer's deadline has passed.
    let regimes = Regimes::builtin();
    let r2015 = regimes.get("lgtaip-2015").expect("2015");
    let cals = Calendars::builtin();
    assert!(appeal_too_early(filed, &[], date(2020, 2, 18), r2015, &cals).expect("ok"));
    assert!(!appeal_too_early(filed, &[], date(2020, 2, 19), r2015, &cals).expect("ok"));
    assert!(!appeal_too_early(filed, &appealed[..1], date(2020, 2, 11), r2015, &cals).expect("ok"));
    let ok = validate_event(
        &raw(&[("kind", "appeal_filed"), ("on", "2020-02-20"), ("note", "RRA 1234/20")]),
        filed,
        &answered,
        today,
    )
    .expect("ok");
    assert_eq!((ok.kind, ok.note.as_deref()), (EventKind::AppealFiled, Some("RRA 1234/20")));
}

#[test]
fn a_request_is_read_with_its_regime() {
    let regimes = Regimes::builtin();
    let today = date(2026, 12, 6);
    let raw = |pairs: &[(&str, &str)]| RawInput::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)));
    let ok = validate_request(
        &raw(&[
            ("authority", "INM"),
            ("folio", "0411100012320"),
            ("filed_on", "2020-01-20"),
            ("question", "Copia del oficio"),
        ]),
        &regimes,
        today,
        &[],
    )
    .expect("ok");
    assert_eq!((ok.authority.as_str(), ok.channel, ok.regime), ("inm", Channel::Pnt, None));
    let e = validate_request(
        &raw(&[("authority", "I N M"), ("filed_on", "2030-01-01"), ("regime", "lgtaip-2025-td18"), ("channel", "fax")]),
        &regimes,
        today,
        &[],
    )
    .expect_err("refused");
    let codes: Vec<_> = e.0.iter().map(|f| (f.field.as_str(), f.code)).collect();
    for want in [
        ("authority", "expected_code"),
        ("folio", "required"),
        ("filed_on", "in_future"),
        ("question", "required"),
        ("channel", "unknown_choice"),
    ] {
        assert!(codes.contains(&want), "{want:?} in {codes:?}");
    }
    let e = validate_request(
        &raw(&[
            ("authority", "ine"),
            ("folio", "1"),
            ("filed_on", "2024-01-10"),
            ("question", "x"),
            ("regime", "lgtaip-2025-td18"),
        ]),
        &regimes,
        today,
        &[],
    )
    .expect_err("refused");
    assert_eq!(e.0[0].code, "not_in_force");
}

#[test]
fn links_name_a_record_or_a_period() {
    let raw = |pairs: &[(&str, &str)]| RawInput::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)));
    assert_eq!(validate_link(&raw(&[("kind", "statement"), ("reference", "0012")])).expect("ok").reference, "12");
    assert_eq!(
        validate_link(&raw(&[("kind", "statement"), ("reference", "x")])).expect_err("refused").0[0].code,
        "invalid_id"
    );
    let s = validate_link(&raw(&[("kind", "suspension"), ("reference", "2020-01-20/2020-01-31")])).expect("ok");
    assert_eq!(s.reference, "2020-01-20/2020-01-31");
    for bad in ["2020-01-31/2020-01-20", "2020-01-20", "yesterday/today"] {
        let e = validate_link(&raw(&[("kind", "suspension"), ("reference", bad)])).expect_err("refused");
        assert_eq!(e.0[0].code, "invalid_period", "{bad}");
    }
}

fn any_events() -> impl Strategy<Value = (Date, Vec<(u8, i32)>, i32)> {
    (0i32..3650, proptest::collection::vec((0u8..7, 0i32..120), 0..7), 0i32..400)
        .prop_map(|(f, evs, t)| (date(2016, 1, 4).checked_add(jiff::Span::new().days(f)).expect("ok"), evs, t))
}

proptest! {
    /// Any request with any events, on any regime, is judged without error, and every
    /// computed day comes after what it counts from; an answer on its due day is on time.
    #[test]
    fn any_request_is_judged((filed, evs, t) in any_events()) {
        let regimes = Regimes::builtin();
        let cals = Calendars::builtin();
        let events: Vec<EventDraft> = evs
            .iter()
            .map(|(k, d)| ev(EventKind::ALL[*k as usize], filed.checked_add(jiff::Span::new().days(*d)).expect("ok")))
            .collect();
        let today = filed.checked_add(jiff::Span::new().days(t)).expect("ok");
        for regime in regimes.all().filter(|r| r.in_force(filed)) {
            let ds = deadlines(filed, &events, regime, &cals, today).expect("ok");
            for d in &ds {
                if let (Some(from), Some(due)) = (d.from, d.due) {
                    prop_assert!(due > from);
                }
                prop_assert_eq!(d.due.is_none(), d.status == DeadlineStatus::NotComputed);
            }
            let plain = deadlines(filed, &[], regime, &cals, today).expect("ok");
            let due = find(&plain, DeadlineKind::Answer).due.expect("ok");
            let on_time = deadlines(filed, &[answer(due, AnswerType::Full)], regime, &cals, today).expect("ok");
            prop_assert_eq!(find(&on_time, DeadlineKind::Answer).status, DeadlineStatus::Met);
            let late = deadlines(filed, &[answer(due.tomorrow().expect("ok"), AnswerType::Full)], regime, &cals, today).expect("ok");
            prop_assert_eq!(find(&late, DeadlineKind::Answer).status, DeadlineStatus::Late);
        }
    }
}

#[test]
fn a_requests_log_is_read_whole_or_refused_by_line_and_column() {
    let regimes = Regimes::builtin();
    let today = date(2026, 12, 6);
    let ok = "authority,folio,filed_on,question,channel,answered_on,answer_type,appeal_filed_on\n\
              INM,0411100012320,2020-01-21,Copia del oficio de suspensión,pnt,2020-02-18,inexistent,2020-02-27\n\
              comar,0063300004520,2020-01-22,Solicitudes recibidas en enero,,,,\n";
    let items = crate::import::requests_csv(ok.as_bytes(), &regimes, today).expect("ok");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].1.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventKind::Answer, EventKind::AppealFiled]);
    assert_eq!(items[0].1[0].answer_type, Some(AnswerType::Inexistent));
    assert!(items[1].1.is_empty());
    let bad = "authority,folio,filed_on,question,answered_on,answer_type,appeal_filed_on,color\n\
               INM,1,2020-01-21,x,2020-02-18,,2020-02-10,red\n";
    let e = crate::import::requests_csv(bad.as_bytes(), &regimes, today).expect_err("refused");
    assert_eq!(e[0].column, "color");
    let bad = "authority,folio,filed_on,question,answered_on,answer_type,appeal_filed_on\n\
               INM,1,2020-01-21,x,2020-02-18,,2020-02-10\n\
               INM,1,2020-01-21,x,,,\n";
    let e = crate::import::requests_csv(bad.as_bytes(), &regimes, today).expect_err("refused");
    let got: Vec<_> = e.iter().map(|r| (r.line, r.column.as_str(), r.code)).collect();
    assert!(got.contains(&(2, "answer_type", "required")), "{got:?}");
    assert!(got.contains(&(3, "folio", "duplicate_row")), "{got:?}");
}
