//! Access attempts: every time an organization tries to enter a detention center, what
//! it asked for, what the authority answered and what restrictions it met. Access
//! denial is not personal data: attempts are shared with the organization's coalitions
//! unless the organization keeps one private.

use serde::{Deserialize, Serialize};

use crate::input::RawInput;
use crate::{FieldError, Micros, ValidationErrors};

choice!(
    /// Why the organization went.
    Purpose {
        LegalAssistance = "legal_assistance",
        Monitoring = "monitoring",
        Religious = "religious",
        Humanitarian = "humanitarian",
        Medical = "medical",
        Other = "other",
    }
);

choice!(
    /// What happened at the door.
    Outcome {
        Granted = "granted",
        PartiallyGranted = "partially_granted",
        Denied = "denied",
        Delayed = "delayed",
        NoResponse = "no_response",
        CancelledByAuthority = "cancelled_by_authority",
    }
);

choice!(
    /// The reason the authority gave, as a category.
    ReasonCategory {
        OrdersFromAbove = "orders_from_above",
        NoAuthorizationOnFile = "no_authorization_on_file",
        Capacity = "capacity",
        HealthMeasures = "health_measures",
        NoneGiven = "none_given",
        Other = "other",
    }
);

choice!(
    /// Restrictions met inside or at the door.
    Restriction {
        NoPhones = "no_phones",
        TimeLimit = "time_limit",
        AreasClosed = "areas_closed",
        NoPrivateInterview = "no_private_interview",
        Searched = "searched",
        Other = "other",
    }
);

choice!(
    /// Who may see an attempt besides its organization.
    Visibility {
        Private = "private",
        Coalition = "coalition",
    }
);

impl Outcome {
    /// Outcomes that count as a refusal of access in denial rates: the organization did
    /// not get in as asked.
    pub fn is_refusal(self) -> bool {
        matches!(self, Outcome::Denied | Outcome::NoResponse | Outcome::CancelledByAuthority)
    }
}

/// What a user sets on an access attempt, validated. Instants are UTC microseconds,
/// read from civil times in the facility's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptDraft {
    pub facility_id: i64,
    pub requested_at: Option<Micros>,
    pub attempted_at: Micros,
    pub purpose: Purpose,
    pub team_size: i64,
    pub people_to_see: Option<i64>,
    pub outcome: Outcome,
    pub reason_category: Option<ReasonCategory>,
    pub reason_text: Option<String>,
    pub official: Option<String>,
    pub restrictions: Vec<Restriction>,
    pub notes: Option<String>,
    pub visibility: Visibility,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub id: i64,
    pub org_id: i64,
    pub version: i64,
    #[serde(flatten)]
    pub draft: AttemptDraft,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// An attempt's audited content: its id, owner and version, then the draft's fields.
/// Written out field by field rather than with `#[serde(flatten)]`, which goes
/// through serde's map machinery (an import serializes a million of these); the text
/// is the same byte for byte (tested), so hashes in existing chains still match.
#[derive(Serialize)]
struct Content<'a> {
    id: i64,
    org_id: i64,
    version: i64,
    facility_id: i64,
    requested_at: Option<Micros>,
    attempted_at: Micros,
    purpose: Purpose,
    team_size: i64,
    people_to_see: Option<i64>,
    outcome: Outcome,
    reason_category: Option<ReasonCategory>,
    reason_text: &'a Option<String>,
    official: &'a Option<String>,
    restrictions: &'a [Restriction],
    notes: &'a Option<String>,
    visibility: Visibility,
}

impl Attempt {
    /// What goes into the audit chain.
    pub fn content_json(&self) -> String {
        let d = &self.draft;
        let content = Content {
            id: self.id,
            org_id: self.org_id,
            version: self.version,
            facility_id: d.facility_id,
            requested_at: d.requested_at,
            attempted_at: d.attempted_at,
            purpose: d.purpose,
            team_size: d.team_size,
            people_to_see: d.people_to_see,
            outcome: d.outcome,
            reason_category: d.reason_category,
            reason_text: &d.reason_text,
            official: &d.official,
            restrictions: &d.restrictions,
            notes: &d.notes,
            visibility: d.visibility,
        };
        serde_json::to_string(&content).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

/// Whether another organization may read one recorded version of an attempt (its
/// audited content): only versions that were themselves shared with the coalition. An
/// attempt recorded private, with names in its notes, and shared later keeps its private
/// versions to its own organization; others learn only that earlier versions exist.
/// Content that cannot be read as an attempt is withheld (closed by default).
pub fn version_is_shared(content_json: &str) -> bool {
    #[derive(Deserialize)]
    struct Shared {
        visibility: Visibility,
    }
    serde_json::from_str::<Shared>(content_json).is_ok_and(|s| s.visibility == Visibility::Coalition)
}

/// One imported file of attempts: the rows it wrote (ids `first_id..=last_id`, all of
/// `org_id`) and their digest. Its one audit entry stands for every row it wrote; a
/// row's own entries begin with its first correction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptImport {
    pub id: i64,
    pub org_id: i64,
    pub first_id: i64,
    pub last_id: i64,
    pub row_count: i64,
    /// [`crate::audit::RowsDigest::all`] over the rows as they were written.
    pub rows_sha256: String,
    /// [`crate::audit::RowsDigest::chunks`]: which thousand rows changed, if any did.
    pub chunk_sha256: Vec<String>,
    /// The uploaded file's SHA-256 and size, when the rows came from one.
    pub file_sha256: Option<String>,
    pub file_bytes: Option<i64>,
    pub created_at: Micros,
}

impl AttemptImport {
    /// What goes into the audit chain.
    pub fn content_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The ids of the `chunk`th run of [`crate::audit::DIGEST_CHUNK`] rows.
    pub fn chunk_ids(&self, chunk: usize) -> (i64, i64) {
        let size = crate::audit::DIGEST_CHUNK as i64;
        let first = self.first_id + chunk as i64 * size;
        (first, (first + size - 1).min(self.last_id))
    }
}

pub const FIELDS: [&str; 13] = [
    "facility_id",
    "requested_at",
    "attempted_at",
    "purpose",
    "team_size",
    "people_to_see",
    "outcome",
    "reason_category",
    "reason_text",
    "official",
    "restrictions",
    "notes",
    "visibility",
];

/// How far ahead of the server's clock an attempt may be dated (time zones and clock
/// drift on a monitor's phone), in microseconds: one day.
pub const FUTURE_SLACK: Micros = 24 * 3600 * 1_000_000;

/// The earliest plausible attempt: the Ley de Migración took effect in 2011, and
/// organizations document back to the 2000s.
pub const EARLIEST: &str = "2000-01-01";

/// Reads a civil date-time (`2020-01-20T10:30`, seconds optional, or a full RFC 3339
/// instant with offset) in `zone` as UTC microseconds.
pub fn parse_local_instant(text: &str, zone: &str) -> Option<Micros> {
    let t = text.trim();
    // Only a text naming its offset (`Z`, `+hh:mm`, `-hh:mm` after the date) can be an
    // absolute instant; a local date and time skips that attempt (an import reads a
    // million of them).
    let names_offset = t.contains(['Z', 'z', '+', '[', '\u{2212}']) || t.bytes().skip(10).any(|b| b == b'-');
    if names_offset {
        if let Ok(ts) = t.parse::<jiff::Timestamp>() {
            return Some(ts.as_microsecond());
        }
    }
    let dt = if t.contains(' ') { t.replace(' ', "T").parse() } else { t.parse::<jiff::civil::DateTime>() }.ok()?;
    dt.in_tz(zone).ok().map(|z| z.timestamp().as_microsecond())
}

/// [`EARLIEST`] at midnight UTC; midnight in any time zone is within 14 hours of it.
fn earliest_utc() -> Micros {
    static AT: std::sync::OnceLock<Micros> = std::sync::OnceLock::new();
    *AT.get_or_init(|| parse_local_instant(&format!("{EARLIEST}T00:00"), "UTC").unwrap_or(i64::MIN))
}

fn instant(raw: &RawInput, field: &str, zone: &str, now: Micros, errs: &mut ValidationErrors) -> Option<Micros> {
    const DAY_HALF_AND_MORE: Micros = 14 * 3600 * 1_000_000;
    let text = raw.text(field, 40, errs)?;
    let parsed = parse_local_instant(&text, zone);
    // The zone's own midnight, worked out only for an instant near enough to matter.
    let earliest = match parsed {
        Some(t) if t < earliest_utc().saturating_add(DAY_HALF_AND_MORE) => {
            parse_local_instant(&format!("{EARLIEST}T00:00"), zone).unwrap_or(i64::MIN)
        }
        _ => i64::MIN,
    };
    match parsed {
        None => {
            errs.push(FieldError::new(field, "expected_datetime"));
            None
        }
        Some(t) if t > now + FUTURE_SLACK => {
            errs.push(FieldError::new(field, "in_future"));
            None
        }
        Some(t) if t < earliest => {
            errs.push(FieldError::new(field, "too_early").with("min", EARLIEST));
            None
        }
        Some(t) => Some(t),
    }
}

fn one_of<T: Copy>(
    raw: &RawInput,
    field: &str,
    parse: fn(&str) -> Option<T>,
    errs: &mut ValidationErrors,
) -> Option<T> {
    let text = raw.text(field, 40, errs)?;
    let v = parse(&text);
    if v.is_none() {
        errs.push(FieldError::new(field, "unknown_choice"));
    }
    v
}

/// Validates an attempt. `zone` is the facility's time zone (civil times are read
/// there); `now` bounds how far in the future an attempt may be dated. The facility id
/// must be resolved by the caller beforehand (an unknown facility is `unknown_facility`).
pub fn validate(raw: &RawInput, zone: &str, now: Micros) -> Result<AttemptDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&FIELDS, &mut errs);
    let facility_id = raw.integer("facility_id", 1, i64::MAX, &mut errs);
    if facility_id.is_none() && errs.for_field("facility_id").is_none() {
        errs.push(FieldError::new("facility_id", "required"));
    }
    let requested_at = instant(raw, "requested_at", zone, now, &mut errs);
    let attempted_at = instant(raw, "attempted_at", zone, now, &mut errs);
    if attempted_at.is_none() && errs.for_field("attempted_at").is_none() {
        errs.push(FieldError::new("attempted_at", "required"));
    }
    if let (Some(r), Some(a)) = (requested_at, attempted_at) {
        if r > a {
            errs.push(FieldError::new("requested_at", "after_attempt"));
        }
    }
    let purpose = one_of(raw, "purpose", Purpose::parse, &mut errs);
    if purpose.is_none() && errs.for_field("purpose").is_none() {
        errs.push(FieldError::new("purpose", "required"));
    }
    let team_size = raw.integer("team_size", 1, 200, &mut errs).unwrap_or(1);
    let people_to_see = raw.integer("people_to_see", 0, 100_000, &mut errs);
    let outcome = one_of(raw, "outcome", Outcome::parse, &mut errs);
    if outcome.is_none() && errs.for_field("outcome").is_none() {
        errs.push(FieldError::new("outcome", "required"));
    }
    let mut reason_category = one_of(raw, "reason_category", ReasonCategory::parse, &mut errs);
    if reason_category.is_none() && outcome.is_some_and(|o| o != Outcome::Granted) && !raw.has("reason_category") {
        // A refusal with no stated category is recorded as what it was: none given.
        reason_category = Some(ReasonCategory::NoneGiven);
    }
    let reason_text = raw.text("reason_text", 2000, &mut errs);
    let official = raw.text("official", 200, &mut errs);
    let mut restrictions = Vec::new();
    if let Some(list) = raw.list_text("restrictions", 400, &mut errs) {
        for item in list.split([',', ';']).map(str::trim).filter(|s| !s.is_empty()) {
            match Restriction::parse(item) {
                Some(r) if !restrictions.contains(&r) => restrictions.push(r),
                Some(_) => {}
                None => errs.push(FieldError::new("restrictions", "unknown_choice").with("value", item)),
            }
        }
    }
    restrictions.sort();
    let notes = raw.text("notes", 4000, &mut errs);
    let visibility = one_of(raw, "visibility", Visibility::parse, &mut errs).unwrap_or(Visibility::Coalition);
    match (facility_id, attempted_at, purpose, outcome) {
        (Some(facility_id), Some(attempted_at), Some(purpose), Some(outcome)) if errs.is_empty() => Ok(AttemptDraft {
            facility_id,
            requested_at,
            attempted_at,
            purpose,
            team_size,
            people_to_see,
            outcome,
            reason_category,
            reason_text,
            official,
            restrictions,
            notes,
            visibility,
        }),
        _ => Err(errs),
    }
}

/// Filters for listing attempts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptFilter {
    pub facility_id: Option<i64>,
    pub org_id: Option<i64>,
    pub outcome: Option<Outcome>,
    pub from: Option<Micros>,
    pub until: Option<Micros>,
    pub limit: i64,
    /// Only attempts after this one in the list (newest first): the next page.
    pub after: Option<crate::paging::Cursor>,
}

/// The outcomes that count as refusals, as stored: what SQL aggregates compare with.
/// Derived from [`Outcome::is_refusal`], so the rule is written once.
pub fn refusals() -> impl Iterator<Item = &'static str> {
    Outcome::ALL.iter().filter(|o| o.is_refusal()).map(|o| o.as_str())
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian): how daily counts are
/// keyed in storage. Integer arithmetic only, so a million conversions cost nothing.
pub fn day_number(d: jiff::civil::Date) -> i32 {
    let (y, m, day) = (i32::from(d.year()), i32::from(d.month()), i32::from(d.day()));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `n` days after 1970-01-01; the inverse of [`day_number`] (clamped to
/// the dates `jiff` represents).
pub fn date_of_day(n: i32) -> jiff::civil::Date {
    let z = n + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    let clamp = |v: i32, lo: i32, hi: i32| v.clamp(lo, hi);
    jiff::civil::Date::new(clamp(y, -9999, 9999) as i16, m as i8, d as i8).unwrap_or(if y < 0 {
        jiff::civil::Date::MIN
    } else {
        jiff::civil::Date::MAX
    })
}

/// `year * 100 + month` of a civil date: how monthly counts are keyed.
pub fn month_key(d: jiff::civil::Date) -> i32 {
    i32::from(d.year()) * 100 + i32::from(d.month())
}

/// The civil date of an instant in a time zone.
pub fn local_date(at: Micros, tz: &jiff::tz::TimeZone) -> Option<jiff::civil::Date> {
    Some(tz.to_datetime(jiff::Timestamp::from_microsecond(at).ok()?).date())
}

/// Which attempts an analysis counts. Days are facility-local dates as
/// [`day_number`]s; `until_day` is exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TallyFilter {
    pub facility_id: Option<i64>,
    pub state_code: Option<String>,
    pub org_id: Option<i64>,
    pub purpose: Option<Purpose>,
    pub from_day: Option<i32>,
    pub until_day: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_versions_recorded_as_shared_are_shown_to_other_organizations() {
        let mut a = Attempt {
            id: 4,
            org_id: 2,
            version: 1,
            draft: AttemptDraft {
                facility_id: 1,
                requested_at: None,
                attempted_at: 1_579_500_000_000_000,
                purpose: Purpose::LegalAssistance,
                team_size: 2,
                people_to_see: None,
                outcome: Outcome::Denied,
                reason_category: None,
                reason_text: None,
                official: None,
                restrictions: vec![],
                notes: Some("Juana Pérez, celda 3".into()),
                visibility: Visibility::Private,
            },
            created_at: 0,
            updated_at: 0,
        };
        assert!(!version_is_shared(&a.content_json()));
        a.draft.visibility = Visibility::Coalition;
        assert!(version_is_shared(&a.content_json()));
        // Anything that is not an attempt's content is withheld.
        for odd in ["", "{}", "null", "{\"visibility\":\"public\"}", "{\"visibility\":1}"] {
            assert!(!version_is_shared(odd), "{odd}");
        }
    }

    #[test]
    fn audited_content_is_what_the_flattened_form_wrote() {
        #[derive(Serialize)]
        struct Flattened<'a> {
            id: i64,
            org_id: i64,
            version: i64,
            #[serde(flatten)]
            draft: &'a AttemptDraft,
        }
        let full = AttemptDraft {
            facility_id: 7,
            requested_at: Some(1_579_000_000_000_000),
            attempted_at: 1_579_500_000_000_000,
            purpose: Purpose::Medical,
            team_size: 3,
            people_to_see: Some(12),
            outcome: Outcome::CancelledByAuthority,
            reason_category: Some(ReasonCategory::HealthMeasures),
            reason_text: Some("\"Órdenes\" de arriba\n\tsin oficio".into()),
            official: Some("Subdirector".into()),
            restrictions: vec![Restriction::NoPhones, Restriction::Searched],
            notes: Some("ñ \\ \u{1F600}".into()),
            visibility: Visibility::Private,
        };
        let bare = AttemptDraft {
            requested_at: None,
            people_to_see: None,
            reason_category: None,
            reason_text: None,
            official: None,
            restrictions: vec![],
            notes: None,
            visibility: Visibility::Coalition,
            ..full.clone()
        };
        for draft in [full, bare] {
            let a = Attempt { id: 41, org_id: 2, version: 3, draft, created_at: 5, updated_at: 6 };
            let old =
                serde_json::to_string(&Flattened { id: 41, org_id: 2, version: 3, draft: &a.draft }).expect("json");
            assert_eq!(a.content_json(), old);
        }
    }

    #[test]
    fn day_numbers_round_trip_and_match_the_calendar() {
        use jiff::civil::date;
        assert_eq!(day_number(date(1970, 1, 1)), 0);
        assert_eq!(day_number(date(2000, 3, 1)), 11_017);
        assert_eq!(day_number(date(1969, 12, 31)), -1);
        let mut d = date(1899, 12, 25);
        let mut n = day_number(d);
        while d < date(2101, 1, 10) {
            assert_eq!(date_of_day(n), d, "{n}");
            assert_eq!(day_number(d), n);
            d = d.tomorrow().expect("tomorrow");
            n += 1;
        }
        assert_eq!(month_key(date(2020, 1, 21)), 202_001);
    }

    #[test]
    fn local_dates_follow_the_facility_zone() {
        let tz = jiff::tz::TimeZone::get("America/Tijuana").expect("zone");
        let at = parse_local_instant("2020-01-20T23:30", "America/Tijuana").expect("instant");
        assert_eq!(local_date(at, &tz), Some(jiff::civil::date(2020, 1, 20)));
        let mx = jiff::tz::TimeZone::get(crate::geo::LEGAL_TIME_ZONE).expect("zone");
        assert_eq!(local_date(at, &mx), Some(jiff::civil::date(2020, 1, 21)));
    }

    const MX: &str = crate::geo::LEGAL_TIME_ZONE;

    fn now() -> Micros {
        parse_local_instant("2020-02-01T00:00", MX).expect("now")
    }

    fn check(v: serde_json::Value) -> Result<AttemptDraft, ValidationErrors> {
        validate(&RawInput::from_json(v).expect("object"), MX, now())
    }

    #[test]
    fn a_denial_validates_in_the_facility_time_zone() {
        let d = check(json!({
            "facility_id": 3, "attempted_at": "2020-01-20T10:30", "requested_at": "2020-01-10T09:00",
            "purpose": "legal_assistance", "team_size": 2, "people_to_see": 5, "outcome": "denied",
            "reason_text": "órdenes de arriba", "restrictions": "no_phones, searched"
        }))
        .expect("valid");
        // 10:30 in Mexico City (UTC-6 in January) is 16:30 UTC.
        assert_eq!(crate::format_instant(d.attempted_at), "2020-01-20T16:30:00Z");
        assert_eq!(d.reason_category, Some(ReasonCategory::NoneGiven));
        assert_eq!(d.restrictions, vec![Restriction::NoPhones, Restriction::Searched]);
        assert_eq!(d.visibility, Visibility::Coalition, "shared by default");
        assert_eq!(d.team_size, 2);
    }

    #[test]
    fn bad_input_is_named_field_by_field() {
        let errs = check(json!({
            "facility_id": "x", "attempted_at": "2021-01-01T10:00", "requested_at": "ayer",
            "purpose": "tourism", "team_size": 0, "outcome": "maybe", "restrictions": "no_phones,blindfold",
            "visibility": "public", "organization_id": 2
        }))
        .expect_err("invalid");
        let got: Vec<_> = errs.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        for want in [
            ("organization_id", "unknown_field"),
            ("facility_id", "expected_integer"),
            ("requested_at", "expected_datetime"),
            ("attempted_at", "in_future"),
            ("purpose", "unknown_choice"),
            ("team_size", "out_of_range"),
            ("outcome", "unknown_choice"),
            ("restrictions", "unknown_choice"),
            ("visibility", "unknown_choice"),
        ] {
            assert!(got.contains(&want), "{want:?} missing in {got:?}");
        }
    }

    #[test]
    fn a_request_cannot_follow_the_attempt() {
        let errs = check(json!({"facility_id": 1, "attempted_at": "2020-01-20T10:00", "requested_at": "2020-01-21T10:00", "purpose": "monitoring", "outcome": "granted"}))
            .expect_err("invalid");
        assert_eq!(errs.0[0].code, "after_attempt");
    }

    #[test]
    fn skipping_the_instant_attempt_for_local_times_changes_no_answer() {
        let before = |text: &str, zone: &str| {
            let t = text.trim();
            if let Ok(ts) = t.parse::<jiff::Timestamp>() {
                return Some(ts.as_microsecond());
            }
            let dt = t.replace(' ', "T").parse::<jiff::civil::DateTime>().ok()?;
            dt.in_tz(zone).ok().map(|z| z.timestamp().as_microsecond())
        };
        for text in [
            "2020-01-20T10:00",
            " 2020-01-20 10:00 ",
            "2020-01-20T10:00:00Z",
            "2020-01-20t10:00:00z",
            "2020-01-20T10:00-06:00",
            "2020-01-20T10:00:00+01:00",
            "2020-01-20T10:00\u{2212}06:00",
            "2020-01-20T10:00-06:00[America/Mexico_City]",
            "2020-01-20T10:00[America/Mexico_City]",
            "20200120T1000-0600",
            "2020-01-20",
            "2020-13-40T10:00",
            "ayer",
            "",
        ] {
            assert_eq!(parse_local_instant(text, MX), before(text, MX), "{text:?}");
        }
    }

    #[test]
    fn rfc3339_instants_are_accepted_too() {
        let d = check(json!({"facility_id": 1, "attempted_at": "2020-01-20T16:30:00Z", "purpose": "monitoring", "outcome": "granted"}))
            .expect("valid");
        assert_eq!(crate::format_instant(d.attempted_at), "2020-01-20T16:30:00Z");
        assert_eq!(d.reason_category, None);
    }

    #[test]
    fn refusals_are_what_keeps_people_out() {
        assert!(Outcome::Denied.is_refusal() && Outcome::NoResponse.is_refusal());
        assert!(!Outcome::Granted.is_refusal() && !Outcome::Delayed.is_refusal());
    }
}
