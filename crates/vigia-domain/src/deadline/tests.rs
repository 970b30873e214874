use super::*;
use crate::account::Locale;
use crate::case::{chronological, DecisionOutcome, EventKind, ExtensionGround, Fact};
use crate::clock::Calendars;
use jiff::civil::{date, time, Date};
use proptest::prelude::*;

fn fact(id: i64, kind: EventKind, on: Date) -> Fact {
    Fact { id, kind, on, time: None, ground: None, decision: None }
}

fn cals() -> Calendars {
    Calendars::builtin()
}

fn find(a: &Assessment, rule: RuleId) -> &Deadline {
    a.deadlines.iter().find(|d| d.rule == rule).expect("deadline")
}

#[test]
fn detention_of_fifteen_working_days_skips_weekends_and_rest_days() {
    // Presented Monday 18 Feb 2019: 15 INM working days end Monday 11 March
    // (weekends excluded; no rest day falls in between after 4 Feb).
    let a = assess(false, &[fact(1, EventKind::Detained, date(2019, 2, 18))], &cals(), date(2019, 3, 1)).expect("ok");
    let d = find(&a, RuleId::DetentionMax);
    assert_eq!(d.due, Some(date(2019, 3, 11)));
    assert_eq!(d.status, Status::Pending);
    assert_eq!(a.detained_since, Some(date(2019, 2, 18)));
    // The 18 March 2019 rest day (third Monday of March) is skipped when it falls inside.
    let a = assess(false, &[fact(1, EventKind::Detained, date(2019, 3, 4))], &cals(), date(2019, 3, 5)).expect("ok");
    assert_eq!(find(&a, RuleId::DetentionMax).due, Some(date(2019, 3, 26)));
}

#[test]
fn overdue_detention_is_a_violation_until_release() {
    let detained = fact(1, EventKind::Detained, date(2019, 2, 18));
    let a = assess(false, &[detained], &cals(), date(2019, 3, 12)).expect("ok");
    assert_eq!(find(&a, RuleId::DetentionMax).status, Status::Overdue);
    assert!(a.held_past_limit());
    let released = fact(2, EventKind::Released, date(2019, 3, 14));
    let a = assess(false, &[detained, released], &cals(), date(2019, 3, 20)).expect("ok");
    let d = find(&a, RuleId::DetentionMax);
    assert_eq!((d.status, d.closed_by), (Status::Missed, Some(2)));
    assert!(!a.held_past_limit(), "no longer ongoing");
    assert!(a.violations.iter().any(|v| v.kind == ViolationKind::HeldPastLimit && !v.ongoing));
    assert_eq!(a.detained_since, None);
    // Released on the last day: met.
    let a = assess(false, &[detained, fact(2, EventKind::Released, date(2019, 3, 11))], &cals(), date(2019, 3, 20))
        .expect("ok");
    assert_eq!(find(&a, RuleId::DetentionMax).status, Status::Met);
}

#[test]
fn grounds_i_to_iv_allow_sixty_working_days_and_v_has_no_fixed_end() {
    let detained = fact(1, EventKind::Detained, date(2019, 2, 18));
    let mut ext = fact(2, EventKind::DetentionExtended, date(2019, 3, 1));
    ext.ground = Some(ExtensionGround::Ii);
    let a = assess(false, &[detained, ext], &cals(), date(2019, 3, 20)).expect("ok");
    let d = find(&a, RuleId::DetentionMax);
    assert_eq!(d.allowed, 60);
    assert_eq!(d.due, Some(cals().get("inm").expect("ok").add_working_days(date(2019, 2, 18), 60).expect("ok")));
    assert_eq!(d.status, Status::Pending);
    ext.ground = Some(ExtensionGround::V);
    let a = assess(false, &[detained, ext], &cals(), date(2019, 9, 20)).expect("ok");
    let d = find(&a, RuleId::DetentionMax);
    assert_eq!((d.due, d.status), (None, Status::Open));
    assert!(!a.held_past_limit());
}

#[test]
fn a_minor_detained_is_a_violation_at_once_with_the_basis_of_the_day() {
    let a = assess(true, &[fact(1, EventKind::Detained, date(2022, 5, 2))], &cals(), date(2022, 5, 2)).expect("ok");
    let v = a.violations.iter().find(|v| v.kind == ViolationKind::ChildDetained).expect("violation");
    assert_eq!(v.since, date(2022, 5, 2));
    assert!(v.ongoing);
    assert!(v.basis_es.contains("art. 99"));
    let a = assess(true, &[fact(1, EventKind::Detained, date(2019, 5, 2))], &cals(), date(2019, 5, 2)).expect("ok");
    let v = a.violations.iter().find(|v| v.kind == ViolationKind::ChildDetained).expect("violation");
    assert!(v.basis_es.contains("LGDNNA"));
    let a = assess(false, &[fact(1, EventKind::Detained, date(2022, 5, 2))], &cals(), date(2022, 5, 2)).expect("ok");
    assert!(a.violations.iter().all(|v| v.kind != ViolationKind::ChildDetained));
}

#[test]
fn thirty_six_hours_counts_from_the_recorded_time() {
    let mut d = fact(1, EventKind::Detained, date(2020, 1, 20));
    d.time = Some(time(18, 0, 0, 0));
    let a = assess(false, &[d], &cals(), date(2020, 1, 22)).expect("ok");
    let t = find(&a, RuleId::Detention36h);
    assert_eq!((t.due, t.due_time), (Some(date(2020, 1, 22)), Some(time(6, 0, 0, 0))));
    assert_eq!(t.status, Status::Pending, "today at midnight is before 06:00");
    let a = assess(false, &[d], &cals(), date(2020, 1, 23)).expect("ok");
    assert_eq!(find(&a, RuleId::Detention36h).status, Status::Overdue);
}

#[test]
fn asylum_decision_and_appeal_chain() {
    let mut dec = fact(4, EventKind::Decision, date(2019, 6, 3));
    dec.decision = Some(DecisionOutcome::Denied);
    let events = [
        fact(1, EventKind::EnteredMexico, date(2019, 1, 7)),
        fact(2, EventKind::AsylumRequested, date(2019, 1, 21)),
        fact(3, EventKind::ComarAdmission, date(2019, 1, 23)),
        dec,
    ];
    let a = assess(false, &events, &cals(), date(2019, 6, 10)).expect("ok");
    let filing = find(&a, RuleId::AsylumFiling);
    assert_eq!((filing.status, filing.closed_by), (Status::Met, Some(2)));
    let comar = find(&a, RuleId::ComarDecision);
    assert_eq!(comar.from_event, 2, "counted from the request, not the later admission (LRPCAP art. 24)");
    assert_eq!(comar.due, Some(cals().get("comar").expect("ok").add_working_days(date(2019, 1, 21), 45).expect("ok")));
    assert_eq!(comar.status, Status::Missed, "decided in June, long after 45 working days");
    let appeal = find(&a, RuleId::Appeal);
    assert_eq!(appeal.status, Status::Pending);
    assert_eq!(appeal.due, Some(cals().get("comar").expect("ok").add_working_days(date(2019, 6, 3), 15).expect("ok")));
    // Recognized: no appeal window.
    let mut ok = dec;
    ok.decision = Some(DecisionOutcome::Recognized);
    let a = assess(false, &[events[0], events[1], events[2], ok], &cals(), date(2019, 6, 10)).expect("ok");
    assert!(a.deadlines.iter().all(|d| d.rule != RuleId::Appeal));
}

#[test]
fn an_extension_doubles_the_comar_period() {
    let events =
        [fact(1, EventKind::AsylumRequested, date(2019, 1, 21)), fact(2, EventKind::ComarExtension, date(2019, 3, 1))];
    let a = assess(false, &events, &cals(), date(2019, 3, 2)).expect("ok");
    assert_eq!(find(&a, RuleId::ComarDecision).allowed, 90);
}

#[test]
fn a_second_detention_after_release_starts_a_new_period() {
    let events = [
        fact(1, EventKind::Detained, date(2019, 1, 7)),
        fact(2, EventKind::Transferred, date(2019, 1, 9)),
        fact(3, EventKind::Released, date(2019, 1, 15)),
        fact(4, EventKind::Detained, date(2019, 4, 1)),
    ];
    let a = assess(false, &events, &cals(), date(2019, 4, 2)).expect("ok");
    let max: Vec<_> = a.deadlines.iter().filter(|d| d.rule == RuleId::DetentionMax).collect();
    assert_eq!(max.len(), 2);
    assert_eq!((max[0].status, max[1].status), (Status::Met, Status::Pending));
    assert_eq!(a.detained_since, Some(date(2019, 4, 1)));
}

#[test]
fn the_agency_calendar_moves_the_limit() {
    let rule = crate::clock::Rule {
        when: crate::clock::When::Range { start: "2019-02-25".into(), end: "2019-03-01".into() },
        label_es: "suspensión".into(),
        label_en: "suspension".into(),
        source: "DOF".into(),
        from: None,
        until: None,
    };
    let with = Calendars::builtin().with_extra_rules("inm", &[rule]).expect("ok");
    let events = [fact(1, EventKind::Detained, date(2019, 2, 18))];
    let base = assess(false, &events, &cals(), date(2019, 2, 19)).expect("ok");
    let moved = assess(false, &events, &with, date(2019, 2, 19)).expect("ok");
    assert_eq!(find(&base, RuleId::DetentionMax).due, Some(date(2019, 3, 11)));
    // Five suspended days push it a week on. (18 March 2019, the third Monday, is a
    // working day under LFPA art. 28 as published: it names 21 March, a fixed date.)
    assert_eq!(find(&moved, RuleId::DetentionMax).due, Some(date(2019, 3, 18)));
}

#[test]
fn reminders_cover_due_soon_overdue_and_ongoing_violations_once_each() {
    let cals = cals();
    let events = [fact(7, EventKind::Detained, date(2019, 2, 18))];
    // Three working days before the limit (11 March): due soon within a 5-day horizon.
    let a = assess(true, &events, &cals, date(2019, 3, 6)).expect("assess");
    let r = reminders(42, &a, &cals, date(2019, 3, 6), 5);
    let keys: Vec<&str> = r.iter().map(|r| r.key.as_str()).collect();
    assert!(keys.contains(&"deadline:42:detention_max:7:2019-03-11:due_soon"), "{keys:?}");
    assert!(keys.contains(&"violation:42:child_detained:7"));
    assert!(r.iter().all(|r| r.what != "detention_36h"));
    assert!(reminders(42, &a, &cals, date(2019, 3, 6), 2).iter().all(|r| r.state != "due_soon"));
    // Past the limit: overdue, and held past the limit is ongoing.
    let a = assess(false, &events, &cals, date(2019, 3, 12)).expect("assess");
    let r = reminders(42, &a, &cals, date(2019, 3, 12), 5);
    let states: Vec<(&str, &str)> = r.iter().map(|r| (r.what, r.state)).collect();
    assert_eq!(states, vec![("detention_max", "overdue"), ("held_past_limit", "ongoing")]);
    // Released: nothing to tell.
    let done = [events[0], fact(8, EventKind::Released, date(2019, 3, 13))];
    let a = assess(false, &done, &cals, date(2019, 3, 14)).expect("assess");
    assert!(reminders(42, &a, &cals, date(2019, 3, 14), 5).is_empty());
}

/// LRPCAP art. 6: a return while the claim is pending, inside the appeal window,
/// with an appeal undecided, or after recognition is a possible refoulement; a
/// return with no claim, or after the claim was finally refused, is not.
#[test]
fn a_return_while_asylum_is_pending_is_a_possible_refoulement() {
    let cals = cals();
    let req = fact(1, EventKind::AsylumRequested, date(2020, 1, 20));
    let decision = |id, on, outcome| Fact { decision: Some(outcome), ..fact(id, EventKind::Decision, on) };
    let claim = |events: &[Fact]| {
        let a = assess(false, events, &cals, date(2020, 12, 31)).expect("assess");
        let v: Vec<_> = a.violations.iter().filter(|v| v.kind == ViolationKind::PossibleRefoulement).collect();
        assert!(v.iter().all(|v| !v.ongoing && v.basis_es == "LRPCAP art. 6"));
        v.first().and_then(|v| v.claim)
    };
    let deported = fact(9, EventKind::Deported, date(2020, 1, 28));
    assert_eq!(claim(&[req, deported]), Some(ClaimState::Pending));
    assert_eq!(claim(&[req, fact(9, EventKind::ForcedReturn, date(2020, 1, 28))]), Some(ClaimState::Pending));
    assert_eq!(claim(&[deported]), None, "no claim");
    assert_eq!(claim(&[fact(9, EventKind::Deported, date(2020, 1, 10)), req]), None, "claim after the return");
    // Denied on 3 Feb 2020: the appeal window (15 COMAR working days) ends 25 Feb.
    let denied = decision(2, date(2020, 2, 3), DecisionOutcome::Denied);
    let window_end = cals.get("comar").expect("comar").add_working_days(date(2020, 2, 3), 15).expect("add");
    assert_eq!(window_end, date(2020, 2, 25));
    let on = |d| fact(9, EventKind::Deported, d);
    assert_eq!(claim(&[req, denied, on(date(2020, 2, 25))]), Some(ClaimState::AppealWindow));
    assert_eq!(claim(&[req, denied, on(date(2020, 2, 26))]), None, "window closed, no appeal");
    let appeal = fact(3, EventKind::AppealFiled, date(2020, 2, 20));
    assert_eq!(claim(&[req, denied, appeal, on(date(2020, 6, 1))]), Some(ClaimState::AppealPending));
    let appeal_denied = decision(4, date(2020, 5, 1), DecisionOutcome::Denied);
    assert_eq!(claim(&[req, denied, appeal, appeal_denied, on(date(2020, 5, 4))]), None, "appeal decided");
    let recognized = decision(2, date(2020, 2, 3), DecisionOutcome::Recognized);
    assert_eq!(claim(&[req, recognized, on(date(2020, 9, 1))]), Some(ClaimState::Recognized));
    let protected = decision(2, date(2020, 2, 3), DecisionOutcome::ComplementaryProtection);
    assert_eq!(claim(&[req, protected, on(date(2020, 9, 1))]), Some(ClaimState::ComplementaryProtection));
    // An appeal recorded before any decision appeals nothing: the window still applies.
    let early_appeal = fact(3, EventKind::AppealFiled, date(2020, 2, 1));
    assert_eq!(claim(&[req, early_appeal, denied, on(date(2020, 2, 12))]), Some(ClaimState::AppealWindow));
    assert_eq!(claim(&[req, early_appeal, denied, on(date(2020, 3, 12))]), None);
    // Same day: the recorded times decide, whatever order the events were typed in.
    let at = |mut f: Fact, h: i8| {
        f.time = Some(time(h, 0, 0, 0));
        f
    };
    let same_day = date(2020, 1, 20);
    let deported_evening = at(fact(1, EventKind::Deported, same_day), 18);
    let request_morning = at(fact(2, EventKind::AsylumRequested, same_day), 8);
    assert_eq!(claim(&[deported_evening, request_morning]), Some(ClaimState::Pending));
    let request_night = at(fact(1, EventKind::AsylumRequested, same_day), 20);
    let deported_morning = at(fact(2, EventKind::Deported, same_day), 7);
    assert_eq!(claim(&[request_night, deported_morning]), None);
    // No times: the request is taken to come first, so the return is flagged.
    assert_eq!(
        claim(&[fact(1, EventKind::Deported, same_day), fact(2, EventKind::AsylumRequested, same_day)]),
        Some(ClaimState::Pending)
    );
    // The return always shows that an amparo against it has no time limit.
    let a = assess(false, &[deported], &cals, date(2020, 2, 1)).expect("assess");
    let amparo = find(&a, RuleId::AmparoAnyTime);
    assert_eq!((amparo.status, amparo.due, amparo.from_event), (Status::AnyTime, None, 9));
    assert!(RuleId::AmparoAnyTime.text().quote.expect("quote").contains("en cualquier tiempo"));
}

#[test]
fn a_possible_refoulement_is_told_once_as_happened() {
    let cals = cals();
    let events =
        [fact(1, EventKind::AsylumRequested, date(2020, 1, 20)), fact(2, EventKind::Deported, date(2020, 1, 28))];
    let a = assess(false, &events, &cals, date(2020, 2, 3)).expect("assess");
    let r = reminders(5, &a, &cals, date(2020, 2, 3), 5);
    let told: Vec<(&str, &str, &str)> = r.iter().map(|r| (r.kind, r.what, r.state)).collect();
    assert!(told.contains(&("violation", "possible_refoulement", "happened")), "{told:?}");
    assert!(r.iter().any(|r| r.key == "violation:5:possible_refoulement:2"));
    assert!(r.iter().all(|r| r.what != "amparo_any_time"), "no reminder for a time limit that does not exist");
    // A return found long after it happened (an upgrade, an import) is on the case, not news.
    let later = date(2020, 6, 1);
    let a = assess(false, &events, &cals, later).expect("assess");
    assert!(a.violations.iter().any(|v| v.kind == ViolationKind::PossibleRefoulement));
    assert!(reminders(5, &a, &cals, later, 5).iter().all(|r| r.what != "possible_refoulement"));
}

#[test]
fn every_rule_and_violation_shows_its_text_and_version_in_both_languages() {
    let texts = RuleId::ALL.iter().map(|r| r.text()).chain(ViolationKind::ALL.iter().map(|v| v.text()));
    for t in texts {
        assert!(!t.article.is_empty());
        for l in [Locale::Es, Locale::En] {
            assert!(!t.summary(l).is_empty() && !t.version(l).is_empty() && !t.does(l).is_empty(), "{t:?}");
            assert!(!t.summary(l).contains('['), "no bracketed placeholder: {t:?}");
        }
        assert_eq!(t.open_es.is_some(), t.open_en.is_some(), "{t:?}");
    }
}

fn any_kind() -> impl Strategy<Value = EventKind> {
    proptest::sample::select(EventKind::ALL.to_vec())
}

fn any_events() -> impl Strategy<Value = Vec<Fact>> {
    proptest::collection::vec((any_kind(), 0i64..400, proptest::option::of(0i8..24), 0usize..5), 0..12).prop_map(
        |items| {
            items
                .into_iter()
                .enumerate()
                .map(|(i, (kind, offset, hour, g))| Fact {
                    id: i as i64 + 1,
                    kind,
                    on: date(2019, 1, 1).checked_add(jiff::Span::new().days(offset)).expect("date"),
                    time: hour.map(|h| time(h, 0, 0, 0)),
                    ground: (kind == EventKind::DetentionExtended).then(|| ExtensionGround::ALL[g]),
                    decision: (kind == EventKind::Decision).then(|| DecisionOutcome::ALL[g % 3]),
                })
                .collect()
        },
    )
}

proptest! {
    #[test]
    fn the_order_events_arrive_in_does_not_matter(events in any_events(), seed in any::<u64>(), minor in any::<bool>()) {
        let cals = cals();
        let today = date(2020, 3, 1);
        let expected = assess(minor, &events, &cals, today).expect("assess");
        let mut shuffled = events.clone();
        // A deterministic shuffle driven by the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(assess(minor, &shuffled, &cals, today).expect("assess"), expected);
    }

    #[test]
    fn every_deadline_is_consistent(events in any_events(), minor in any::<bool>(), days in 0i64..600) {
        let cals = cals();
        let today = date(2019, 1, 1).checked_add(jiff::Span::new().days(days)).expect("date");
        let a = assess(minor, &events, &cals, today).expect("assess");
        for d in &a.deadlines {
            if let Some(due) = d.due { prop_assert!(due >= d.start); }
            match d.status {
                Status::Overdue => prop_assert!(d.closed_on.is_none() && d.due.is_some_and(|x| today > x)),
                Status::Pending => prop_assert!(d.closed_on.is_none()),
                Status::Met | Status::Missed => prop_assert!(d.closed_on.is_some()),
                Status::Open | Status::AnyTime => prop_assert!(d.due.is_none()),
            }
        }
        // A minor with any detention always has the violation; an adult never.
        let detained = events.iter().any(|e| e.kind == EventKind::Detained);
        let flagged = a.violations.iter().any(|v| v.kind == ViolationKind::ChildDetained);
        prop_assert_eq!(flagged, minor && detained);
        // Ongoing past-limit violations only while in detention.
        if a.held_past_limit() { prop_assert!(a.in_detention()); }
    }

    /// LRPCAP art. 6 on any order of events: a return is never flagged without a
    /// request before it, always flagged when nothing was decided between the last
    /// request and it, flagged once at most and never as ongoing; every return shows
    /// that an amparo against it has no time limit.
    #[test]
    fn returns_are_flagged_exactly_when_a_claim_protects_them(events in any_events()) {
        let cals = cals();
        let a = assess(false, &events, &cals, date(2020, 3, 1)).expect("assess");
        let mut sorted = events.clone();
        chronological(&mut sorted);
        for (i, ret) in sorted.iter().enumerate().filter(|(_, f)| matches!(f.kind, EventKind::Deported | EventKind::ForcedReturn)) {
            let flags: Vec<_> = a.violations.iter()
                .filter(|v| v.kind == ViolationKind::PossibleRefoulement && v.event == ret.id).collect();
            prop_assert!(flags.len() <= 1);
            prop_assert!(flags.iter().all(|v| !v.ongoing && v.since == ret.on && v.claim.is_some()));
            match sorted[..i].iter().rposition(|f| f.kind == EventKind::AsylumRequested) {
                None => prop_assert!(flags.is_empty(), "no claim, no flag"),
                Some(req) => {
                    let after = &sorted[req + 1..i];
                    if !after.iter().any(|f| f.kind == EventKind::Decision) {
                        prop_assert_eq!(flags.first().and_then(|v| v.claim), Some(ClaimState::Pending));
                    }
                    // The last decision granted protection: always flagged.
                    let last = after.iter().rfind(|f| f.kind == EventKind::Decision).and_then(|f| f.decision);
                    if matches!(last, Some(DecisionOutcome::Recognized | DecisionOutcome::ComplementaryProtection)) {
                        prop_assert_eq!(flags.len(), 1);
                    }
                }
            }
            prop_assert_eq!(a.deadlines.iter()
                .filter(|d| d.rule == RuleId::AmparoAnyTime && d.from_event == ret.id && d.status == Status::AnyTime).count(), 1);
        }
        let returns = events.iter().filter(|f| matches!(f.kind, EventKind::Deported | EventKind::ForcedReturn)).count();
        prop_assert!(a.violations.iter().filter(|v| v.kind == ViolationKind::PossibleRefoulement).count() <= returns);
    }

    #[test]
    fn a_later_release_never_turns_a_met_limit_into_a_violation_before_it(offset in 0i64..30) {
        let cals = cals();
        let start = date(2019, 2, 18);
        let end = start.checked_add(jiff::Span::new().days(offset)).expect("date");
        let events = [fact(1, EventKind::Detained, start), fact(2, EventKind::Released, end)];
        let a = assess(false, &events, &cals, date(2019, 6, 1)).expect("assess");
        let d = find(&a, RuleId::DetentionMax);
        prop_assert_eq!(d.status == Status::Met, end <= date(2019, 3, 11));
    }
}
