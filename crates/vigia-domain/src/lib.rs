//! Vigía's domain core.
//!
//! Everything here is pure: plain data in, plain data out, no I/O and no framework
//! types, so rules can be unit- and property-tested in isolation. The store persists
//! what this crate validates; the web layer translates requests into these types.

/// A closed set of choices stored and exchanged as snake_case codes.
macro_rules! choice {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s.trim())
            }
        }
    };
}

pub mod access;
pub mod account;
pub mod audit;
pub mod case;
pub mod clock;
pub mod consent;
pub mod deadline;
pub mod disclosure;
pub mod error;
pub mod evidence;
pub mod export;
pub mod facility;
/// Only for the fuzz targets (`fuzz/`, feature `fuzzing`) and this crate's tests: not in
/// production builds.
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod geo;
pub mod grid;
pub mod import;
pub mod input;
pub mod names;
pub mod note;
pub mod paging;
pub mod publication;
pub mod recommendation;
pub mod retention;
pub mod statement;
pub mod statistics;
pub mod suspension;
pub mod tenancy;
pub mod totp;
pub mod transparency;
pub mod visit;
pub mod webhook;

pub use error::{FieldError, ValidationErrors};

/// The kinds of record that carry an audit history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordType {
    Organization,
    User,
    Facility,
    FacilityNote,
    ApiToken,
    OrgKey,
    AccessAttempt,
    Coalition,
    Attachment,
    Webhook,
    CalendarRule,
    Case,
    CaseEvent,
    /// A read of a case's sealed fields: who read whose data, when.
    CaseRead,
    /// A sealed document attached to a case.
    CaseDocument,
    /// A user's two-factor settings (enabled, disabled, a recovery code used).
    UserSecurity,
    /// An organization's security settings (two-factor required).
    OrgSettings,
    Statement,
    Claim,
    DetectionReview,
    Visit,
    /// A read of a visit's sealed interview notes.
    VisitRead,
    /// An imported file of access attempts: one audit entry for all its rows.
    AttemptImport,
    /// A person's choice of which alerts reach them by e-mail, and how often.
    EmailPrefs,
    /// A set of public aggregates proposed, approved or rejected (issue #17).
    Publication,
    /// One imported table of official statistics: a dataset version (issue #18).
    StatVersion,
    /// A UN recommendation to Mexico, as imported from the UHRI (issue #18).
    Recommendation,
    /// A piece of an organization's evidence linked to a recommendation.
    RecommendationLink,
    /// An organization's assessment of a recommendation's implementation.
    Assessment,
    /// An access-to-information request (issue #20).
    TransparencyRequest,
    /// Something that happened to a request: an extension, the answer, an appeal…
    TransparencyEvent,
    /// A request's link to a record it concerns.
    TransparencyLink,
    /// A state regime an administrator added (its deadlines and articles).
    TransparencyRegime,
    /// A person's consent for one purpose, given or withdrawn (issue #20 part 2).
    Consent,
    /// A case shared with a partner organization, or the share ended.
    CaseShare,
    /// A case's own data key: created, or destroyed when the case's personal data is
    /// erased (issue #20 part 3). The history records its hash, never the key.
    CaseKey,
    /// An organization's retention rule for personal data.
    RetentionRule,
}

impl RecordType {
    pub const ALL: [RecordType; 37] = [
        RecordType::Organization,
        RecordType::User,
        RecordType::Facility,
        RecordType::FacilityNote,
        RecordType::ApiToken,
        RecordType::OrgKey,
        RecordType::AccessAttempt,
        RecordType::Coalition,
        RecordType::Attachment,
        RecordType::Webhook,
        RecordType::CalendarRule,
        RecordType::Case,
        RecordType::CaseEvent,
        RecordType::CaseRead,
        RecordType::CaseDocument,
        RecordType::UserSecurity,
        RecordType::OrgSettings,
        RecordType::Statement,
        RecordType::Claim,
        RecordType::DetectionReview,
        RecordType::Visit,
        RecordType::VisitRead,
        RecordType::AttemptImport,
        RecordType::EmailPrefs,
        RecordType::Publication,
        RecordType::StatVersion,
        RecordType::Recommendation,
        RecordType::RecommendationLink,
        RecordType::Assessment,
        RecordType::TransparencyRequest,
        RecordType::TransparencyEvent,
        RecordType::TransparencyLink,
        RecordType::TransparencyRegime,
        RecordType::Consent,
        RecordType::CaseShare,
        RecordType::CaseKey,
        RecordType::RetentionRule,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Organization => "organization",
            RecordType::User => "user",
            RecordType::Facility => "facility",
            RecordType::FacilityNote => "facility_note",
            RecordType::ApiToken => "api_token",
            RecordType::OrgKey => "org_key",
            RecordType::AccessAttempt => "access_attempt",
            RecordType::Coalition => "coalition",
            RecordType::Attachment => "attachment",
            RecordType::Webhook => "webhook",
            RecordType::CalendarRule => "calendar_rule",
            RecordType::Case => "case",
            RecordType::CaseEvent => "case_event",
            RecordType::CaseRead => "case_read",
            RecordType::CaseDocument => "case_document",
            RecordType::UserSecurity => "user_security",
            RecordType::OrgSettings => "org_settings",
            RecordType::Statement => "statement",
            RecordType::Claim => "claim",
            RecordType::DetectionReview => "detection_review",
            RecordType::Visit => "visit",
            RecordType::VisitRead => "visit_read",
            RecordType::AttemptImport => "attempt_import",
            RecordType::EmailPrefs => "email_prefs",
            RecordType::Publication => "publication",
            RecordType::StatVersion => "stat_version",
            RecordType::Recommendation => "recommendation",
            RecordType::RecommendationLink => "recommendation_link",
            RecordType::Assessment => "assessment",
            RecordType::TransparencyRequest => "transparency_request",
            RecordType::TransparencyEvent => "transparency_event",
            RecordType::TransparencyLink => "transparency_link",
            RecordType::TransparencyRegime => "transparency_regime",
            RecordType::Consent => "consent",
            RecordType::CaseShare => "case_share",
            RecordType::CaseKey => "case_key",
            RecordType::RetentionRule => "retention_rule",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether an audit entry of this type stands for a stored record that keeps
    /// existing: nothing in Vigía deletes one, so `audit verify` reports every such
    /// record the log knows and the database lacks. Reads, two-factor events and key
    /// wraps are events, not records; an imported attempt is vouched for by its import.
    /// E-mail choices are a setting whose every change is logged, not a record.
    pub fn is_kept_record(self) -> bool {
        !matches!(
            self,
            RecordType::CaseRead
                | RecordType::VisitRead
                | RecordType::UserSecurity
                | RecordType::OrgKey
                | RecordType::EmailPrefs
        )
    }
}

/// Microseconds since the Unix epoch, UTC. Instants are stored and hashed at this
/// precision on both backends (PostgreSQL keeps no finer).
pub type Micros = i64;

/// Formats an instant as RFC 3339 in UTC, e.g. `2020-01-28T17:05:00Z`.
pub fn format_instant(at: Micros) -> String {
    match jiff::Timestamp::from_microsecond(at) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => at.to_string(),
    }
}

/// Formats an instant in a civil time zone for people, e.g. `2020-01-28 11:05 CST`.
pub fn format_local(at: Micros, zone: &str) -> String {
    match jiff::tz::TimeZone::get(zone) {
        Ok(tz) => format_local_in(at, &tz),
        Err(_) => format_instant(at),
    }
}

/// As [`format_local`], in a zone already looked up: what a download of a million rows
/// calls twice a row (the zone looked up once per facility, the text written directly
/// rather than through a `strftime` pattern read again each time).
pub fn format_local_in(at: Micros, tz: &jiff::tz::TimeZone) -> String {
    use std::fmt::Write;
    let Ok(ts) = jiff::Timestamp::from_microsecond(at) else {
        return at.to_string();
    };
    let info = tz.to_offset_info(ts);
    let t = info.offset().to_datetime(ts);
    if !(0..=9999).contains(&t.year()) {
        return ts.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string();
    }
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02} {:02}:{:02} {}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        info.abbreviation()
    );
    out
}

#[cfg(test)]
mod format_tests {
    use proptest::prelude::*;

    proptest! {
        /// The direct writer says exactly what the `strftime` pattern says, in every
        /// zone the facilities use and UTC, summer and winter time alike.
        #[test]
        fn local_times_read_as_strftime_writes_them(at in -2_208_988_800_000_000i64..7_258_118_400_000_000, z in 0usize..5) {
            let zone = ["America/Mexico_City", "America/Tijuana", "America/Cancun", "America/Hermosillo", "UTC"][z];
            let tz = jiff::tz::TimeZone::get(zone).expect("zone");
            let ts = jiff::Timestamp::from_microsecond(at).expect("instant");
            let expected = ts.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string();
            prop_assert_eq!(super::format_local_in(at, &tz), expected.clone());
            prop_assert_eq!(super::format_local(at, zone), expected);
        }
    }
}
