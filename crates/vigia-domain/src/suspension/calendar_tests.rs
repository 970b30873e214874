use super::*;
use jiff::civil::date;

#[test]
fn the_worst_outcome_of_the_day_colors_it() {
    let days = [
        (date(2020, 1, 20), "granted"),
        (date(2020, 1, 20), "refused"),
        (date(2020, 1, 21), "partial"),
        (date(2019, 5, 1), "granted"),
    ];
    let months = calendar_months(2020, &days);
    assert_eq!(months.len(), 1, "only months with attempts");
    let (m, weeks) = &months[0];
    assert_eq!(*m, 1);
    // January 2020 began on a Wednesday: two blanks before the 1st.
    assert!(weeks[0][0].is_none() && weeks[0][1].is_none());
    assert_eq!(weeks[0][2].as_ref().map(|c| c.day), Some(1));
    let cells: Vec<&DayCell> = weeks.iter().flatten().flatten().collect();
    assert_eq!(cells.len(), 31);
    let d20 = cells.iter().find(|c| c.day == 20).expect("20th");
    assert_eq!((d20.class, d20.attempts, d20.refusals), ("refused", 2, 1));
    assert_eq!(cells.iter().find(|c| c.day == 21).map(|c| c.class), Some("partial"));
    assert_eq!(cells.iter().find(|c| c.day == 22).map(|c| c.class), Some("none"));
}
