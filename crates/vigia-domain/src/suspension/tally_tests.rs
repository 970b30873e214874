use super::*;
use jiff::civil::date;

#[test]
fn tallies_count_refusals_by_key() {
    let o = |id, org, refused, m| Observation {
        attempt_id: id,
        org_id: org,
        facility_id: 1,
        day: date(2020, m, 1),
        refused,
    };
    let obs = [o(1, 1, true, 1), o(2, 1, false, 1), o(3, 2, true, 2)];
    let by_org = tally_by(&obs, |o| o.org_id);
    assert_eq!(by_org[&1], Tally { attempts: 2, refusals: 1 });
    assert_eq!(by_org[&1].rate(), Some(0.5));
    let by_month = tally_by(&obs, |o| (o.day.year(), o.day.month()));
    assert_eq!(by_month[&(2020, 2)].refusals, 1);
    assert_eq!(Tally::default().rate(), None);
}
