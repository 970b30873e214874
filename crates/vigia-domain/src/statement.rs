//! Official statements and the claims they make, and the rules that find where
//! authorities contradict each other, reverse themselves, or say one thing while
//! monitors at the door see another (issue: official statements).
//!
//! Pure: statements, claims and refused access attempts in, detections out. Each
//! detection names its rule, cites its evidence and says how long after the first
//! statement the second came.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::input::RawInput;
use crate::{FieldError, Micros, ValidationErrors};

choice!(
    /// Where a statement was made.
    Channel {
        PressRelease = "press_release",
        SocialMedia = "social_media",
        PressConference = "press_conference",
        OfficialLetter = "official_letter",
        DofPublication = "dof_publication",
        Interview = "interview",
    }
);

choice!(
    /// The stance a claim takes. Access claims use the first five; other topics affirm
    /// or deny.
    Position {
        Suspended = "suspended",
        Restricted = "restricted",
        Permitted = "permitted",
        Rescheduled = "rescheduled",
        DeniesSuspension = "denies_suspension",
        Affirms = "affirms",
        Denies = "denies",
    }
);

/// The authorities Vigía knows by default; organizations may name others (a lowercase
/// code such as `fiscalia_chiapas`).
pub const KNOWN_AUTHORITIES: [&str; 7] = ["inm", "segob", "sre", "comar", "presidencia", "guardia_nacional", "cndh"];
/// Topics known by default; others may be named the same way.
pub const KNOWN_TOPICS: [&str; 4] = ["ngo_access", "detention_of_children", "deportations", "asylum_processing"];
/// The topic whose claims are checked against access attempts.
pub const NGO_ACCESS: &str = "ngo_access";

impl Position {
    /// How much access a position says organizations have: none (suspended), some
    /// (restricted or moved to another date), or normal.
    fn access_level(self) -> Option<u8> {
        match self {
            Position::Suspended => Some(0),
            Position::Restricted | Position::Rescheduled => Some(1),
            Position::Permitted | Position::DeniesSuspension => Some(2),
            Position::Affirms | Position::Denies => None,
        }
    }

    /// Whether two positions on one topic cannot both be true: no access against normal
    /// access, or affirming against denying.
    pub fn incompatible(self, other: Position) -> bool {
        match (self.access_level(), other.access_level()) {
            (Some(a), Some(b)) => a.abs_diff(b) == 2,
            (None, None) => self != other,
            _ => false,
        }
    }

    /// Says organizations may go in.
    pub fn says_access_is_open(self) -> bool {
        matches!(self, Position::Permitted | Position::DeniesSuspension)
    }
}

/// What a claim is about: every facility, some, or those of a state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    All,
    Facilities { ids: BTreeSet<i64> },
    State { code: String },
}

impl Scope {
    /// The facilities a scope covers, given each facility's state; `None` is all.
    fn facilities(&self, states: &BTreeMap<i64, String>) -> Option<BTreeSet<i64>> {
        match self {
            Scope::All => None,
            Scope::Facilities { ids } => Some(ids.clone()),
            Scope::State { code } => Some(states.iter().filter(|(_, s)| *s == code).map(|(id, _)| *id).collect()),
        }
    }

    /// Whether two scopes share a facility (two states overlap only when equal).
    pub fn overlaps(&self, other: &Scope, states: &BTreeMap<i64, String>) -> bool {
        if let (Scope::State { code: a }, Scope::State { code: b }) = (self, other) {
            return a == b;
        }
        match (self.facilities(states), other.facilities(states)) {
            (None, _) | (_, None) => true,
            (Some(a), Some(b)) => !a.is_disjoint(&b),
        }
    }
}

/// One thing a statement claims, for a period (open-ended when `until` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimDraft {
    pub topic: String,
    pub scope: Scope,
    pub position: Position,
    pub from: Date,
    pub until: Option<Date>,
}

impl ClaimDraft {
    fn overlaps_period(&self, other: &ClaimDraft) -> bool {
        let end = |c: &ClaimDraft| c.until.unwrap_or(Date::MAX);
        self.from <= end(other) && other.from <= end(self)
    }

    fn covers_day(&self, d: Date) -> bool {
        self.from <= d && self.until.is_none_or(|u| d <= u)
    }
}

/// A statement as stored, with its claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementFacts {
    pub id: i64,
    pub authority: String,
    pub published_at: Micros,
    pub claims: Vec<(i64, ClaimDraft)>,
}

/// Refused access attempts of one organization at one facility on one day, as the
/// words-against-practice rule reads them: daily counts, so the rule's cost follows the
/// days in a claim's period, not the number of attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub org_id: i64,
    pub facility_id: i64,
    /// The civil day of the attempts in the facility's time zone.
    pub day: Date,
    pub count: u32,
}

choice!(
    /// The rule behind a detection.
    Rule {
        Conflict = "conflict",
        Reversal = "reversal",
        WordsAgainstPractice = "words_against_practice",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub rule: Rule,
    /// Stable across runs, so reviews (confirm, dismiss) attach to it.
    pub key: String,
    /// The claims involved: for conflicts and reversals, earlier first.
    pub claims: Vec<i64>,
    pub statements: Vec<i64>,
    /// For words against practice: how many attempts were refused in the claim's scope
    /// and period, and on which (facility, day).
    pub refusals: usize,
    pub days: FacilityDays,
    pub organizations: usize,
    /// From the first statement to the second (conflicts and reversals).
    pub gap: Option<Micros>,
}

/// The (facility, day) pairs a words-against-practice detection rests on, held as runs
/// of consecutive days at each facility. A claim of open access over years, across
/// every facility, is refused on most of its days: one run then stands for weeks, where
/// a pair per day made the contradictions of a 10-year record the largest thing in the
/// server's memory (issue 19: 85 MB of 16-byte pairs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacilityDays {
    /// Sorted by facility, then day; runs of one facility neither overlap nor touch.
    runs: Vec<DayRun>,
    len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DayRun {
    facility_id: i64,
    first: Date,
    last: Date,
}

impl FacilityDays {
    /// From pairs in any order, repeated or not.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (i64, Date)>) -> FacilityDays {
        let mut pairs: Vec<(i64, Date)> = pairs.into_iter().collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut runs: Vec<DayRun> = Vec::new();
        for &(facility_id, day) in &pairs {
            match runs.last_mut() {
                Some(r) if r.facility_id == facility_id && r.last.tomorrow().ok() == Some(day) => r.last = day,
                _ => runs.push(DayRun { facility_id, first: day, last: day }),
            }
        }
        runs.shrink_to_fit();
        FacilityDays { runs, len: pairs.len() }
    }

    /// How many (facility, day) pairs.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn first_day(&self) -> Option<Date> {
        self.runs.iter().map(|r| r.first).min()
    }

    pub fn last_day(&self) -> Option<Date> {
        self.runs.iter().map(|r| r.last).max()
    }

    /// Whether any pair falls between `from` and `until` (both included), at `facility`
    /// when one is given.
    pub fn any_between(&self, from: Date, until: Date, facility: Option<i64>) -> bool {
        let runs = match facility {
            Some(f) => {
                let start = self.runs.partition_point(|r| r.facility_id < f);
                let end = self.runs.partition_point(|r| r.facility_id <= f);
                &self.runs[start..end]
            }
            None => &self.runs[..],
        };
        runs.iter().any(|r| r.first <= until && r.last >= from)
    }

    /// The earliest `n` pairs, by day and then facility.
    pub fn earliest(&self, n: usize) -> Vec<(i64, Date)> {
        // Each facility's first `n` days are enough to hold the earliest `n` overall.
        let mut out: Vec<(Date, i64)> = Vec::new();
        let mut i = 0;
        while i < self.runs.len() {
            let facility = self.runs[i].facility_id;
            let mut taken = 0;
            while i < self.runs.len() && self.runs[i].facility_id == facility {
                let r = self.runs[i];
                let mut day = Some(r.first);
                while let Some(d) = day.filter(|d| *d <= r.last && taken < n) {
                    out.push((d, facility));
                    taken += 1;
                    day = d.tomorrow().ok();
                }
                i += 1;
            }
        }
        out.sort_unstable();
        out.into_iter().take(n).map(|(d, f)| (f, d)).collect()
    }

    /// Every pair, by day and then facility.
    pub fn to_vec(&self) -> Vec<(i64, Date)> {
        self.earliest(self.len)
    }
}

/// "3 h 40 min", "2 d 5 h", "15 min" — how long between two statements.
pub fn describe_gap(micros: Micros) -> String {
    let minutes = micros.unsigned_abs() / 60_000_000;
    let (d, h, m) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    match (d, h, m) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// Finds every contradiction among `statements`, and every access claim that monitors'
/// refusals contradict. `states` maps facility ids to INEGI state codes (for state
/// scopes). The result does not depend on the order of the input.
pub fn detect(statements: &[StatementFacts], refusals: &[Refusal], states: &BTreeMap<i64, String>) -> Vec<Detection> {
    let mut claims: Vec<(&StatementFacts, i64, &ClaimDraft)> =
        statements.iter().flat_map(|s| s.claims.iter().map(move |(id, c)| (s, *id, c))).collect();
    claims.sort_by_key(|(s, id, _)| (s.published_at, s.id, *id));
    let mut out = Vec::new();
    for (i, (sa, ida, a)) in claims.iter().enumerate() {
        for (sb, idb, b) in claims.iter().skip(i + 1) {
            if sa.id == sb.id
                || a.topic != b.topic
                || !a.position.incompatible(b.position)
                || !a.scope.overlaps(&b.scope, states)
                || !a.overlaps_period(b)
            {
                continue;
            }
            let rule = if sa.authority == sb.authority { Rule::Reversal } else { Rule::Conflict };
            out.push(Detection {
                rule,
                key: format!("{}:{ida}:{idb}", rule.as_str()),
                claims: vec![*ida, *idb],
                statements: vec![sa.id, sb.id],
                refusals: 0,
                days: FacilityDays::default(),
                organizations: 0,
                gap: Some(sb.published_at - sa.published_at),
            });
        }
    }
    // By day, so each claim reads only the days of its period.
    let mut by_day: Vec<&Refusal> = refusals.iter().filter(|r| r.count > 0).collect();
    by_day.sort_by_key(|r| (r.day, r.facility_id, r.org_id));
    for (s, id, c) in &claims {
        if c.topic != NGO_ACCESS || !c.position.says_access_is_open() {
            continue;
        }
        let covered = c.scope.facilities(states);
        let start = by_day.partition_point(|r| r.day < c.from);
        let mut orgs = BTreeSet::new();
        let mut days: Vec<(i64, Date)> = Vec::new();
        let mut refused = 0usize;
        for r in by_day[start..].iter().take_while(|r| c.covers_day(r.day)) {
            if covered.as_ref().is_some_and(|set| !set.contains(&r.facility_id)) {
                continue;
            }
            orgs.insert(r.org_id);
            refused += r.count as usize;
            if days.last() != Some(&(r.facility_id, r.day)) {
                days.push((r.facility_id, r.day));
            }
        }
        if refused == 0 {
            continue;
        }
        out.push(Detection {
            rule: Rule::WordsAgainstPractice,
            key: format!("words_against_practice:{id}"),
            claims: vec![*id],
            statements: vec![s.id],
            refusals: refused,
            days: FacilityDays::from_pairs(days),
            organizations: orgs.len(),
            gap: None,
        });
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// A claim as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub id: i64,
    pub statement_id: i64,
    #[serde(flatten)]
    pub draft: ClaimDraft,
    /// A reviewer found a second source for it.
    pub confirmed: bool,
}

/// A statement as stored, with its claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub id: i64,
    /// The organization that recorded it.
    pub org_id: i64,
    pub version: i64,
    #[serde(flatten)]
    pub draft: StatementDraft,
    pub claims: Vec<Claim>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

impl Statement {
    pub fn facts(&self) -> StatementFacts {
        StatementFacts {
            id: self.id,
            authority: self.draft.authority.clone(),
            published_at: self.draft.published_at,
            claims: self.claims.iter().map(|c| (c.id, c.draft.clone())).collect(),
        }
    }
}

choice!(
    /// An analyst's verdict on a detection.
    ReviewStatus {
        Confirmed = "confirmed",
        Dismissed = "dismissed",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub key: String,
    pub org_id: i64,
    pub status: ReviewStatus,
    pub reason: String,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Micros,
}

// ---- Validation -----------------------------------------------------------------

/// What a user sets on a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementDraft {
    pub authority: String,
    pub speaker: Option<String>,
    pub speaker_position: Option<String>,
    pub published_at: Micros,
    pub channel: Channel,
    pub source_url: Option<String>,
    pub language: String,
    pub text: String,
    pub translation: Option<String>,
}

pub const STATEMENT_FIELDS: [&str; 9] = [
    "authority",
    "speaker",
    "speaker_position",
    "published_at",
    "channel",
    "source_url",
    "language",
    "text",
    "translation",
];

/// Validates a statement. `published_at` is a civil time read in `zone` (Mexico City
/// unless the user says otherwise) or an RFC 3339 instant; not after `now`.
pub fn validate_statement(raw: &RawInput, zone: &str, now: Micros) -> Result<StatementDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&STATEMENT_FIELDS, &mut errs);
    let authority = raw.code("authority", &mut errs);
    let speaker = raw.text("speaker", 200, &mut errs);
    let speaker_position = raw.text("speaker_position", 200, &mut errs);
    let published_at = match raw.required_text("published_at", 40, &mut errs) {
        None => None,
        Some(t) => match crate::access::parse_local_instant(&t, zone) {
            Some(at) if at > now + crate::access::FUTURE_SLACK => {
                errs.push(FieldError::new("published_at", "in_future"));
                None
            }
            Some(at) => Some(at),
            None => {
                errs.push(FieldError::new("published_at", "expected_datetime"));
                None
            }
        },
    };
    let channel = match raw.required_text("channel", 40, &mut errs) {
        None => None,
        Some(c) => {
            let v = Channel::parse(&c);
            if v.is_none() {
                errs.push(FieldError::new("channel", "unknown_choice"));
            }
            v
        }
    };
    let source_url = raw.text("source_url", 2000, &mut errs);
    if let Some(u) = &source_url {
        if !(u.starts_with("https://") || u.starts_with("http://")) || u.contains(char::is_whitespace) {
            errs.push(FieldError::new("source_url", "invalid_url"));
        }
    }
    let language = raw.text("language", 10, &mut errs).map(|l| l.to_lowercase()).unwrap_or_else(|| "es".into());
    if !matches!(language.as_str(), "es" | "en") {
        errs.push(FieldError::new("language", "unknown_choice"));
    }
    let text = raw.required_text("text", 20_000, &mut errs);
    let translation = raw.text("translation", 20_000, &mut errs);
    match (authority, published_at, channel, text) {
        (Some(authority), Some(published_at), Some(channel), Some(text)) if errs.is_empty() => Ok(StatementDraft {
            authority,
            speaker,
            speaker_position,
            published_at,
            channel,
            source_url,
            language,
            text,
            translation,
        }),
        _ => Err(errs),
    }
}

pub const CLAIM_FIELDS: [&str; 7] = ["topic", "scope", "facility_ids", "state_code", "position", "from", "until"];

/// Validates a claim. The scope is `all`, `facilities` (with `facility_ids`, comma
/// separated or a list) or `state` (with `state_code`); facility ids must exist, which
/// the caller checks.
pub fn validate_claim(raw: &RawInput) -> Result<ClaimDraft, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&CLAIM_FIELDS, &mut errs);
    let topic = raw.code("topic", &mut errs);
    // Read whether or not the scope uses them, so a malformed value is reported.
    let ids_text = raw.list_text("facility_ids", 2000, &mut errs);
    let state_text = raw.text("state_code", 2, &mut errs);
    let scope = match raw.text("scope", 20, &mut errs).as_deref().unwrap_or("all") {
        "all" => Some(Scope::All),
        "facilities" => {
            let list = ids_text.unwrap_or_default();
            let ids: Option<BTreeSet<i64>> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<i64>().ok().filter(|i| *i > 0))
                .collect();
            match ids {
                Some(ids) if !ids.is_empty() => Some(Scope::Facilities { ids }),
                Some(_) => {
                    errs.push(FieldError::new("facility_ids", "required"));
                    None
                }
                None => {
                    errs.push(FieldError::new("facility_ids", "expected_integer"));
                    None
                }
            }
        }
        "state" => match state_text {
            Some(code) if crate::geo::STATES.iter().any(|s| s.code == code) => Some(Scope::State { code }),
            Some(_) => {
                errs.push(FieldError::new("state_code", "unknown_state"));
                None
            }
            None => {
                if errs.for_field("state_code").is_none() {
                    errs.push(FieldError::new("state_code", "required"));
                }
                None
            }
        },
        _ => {
            errs.push(FieldError::new("scope", "unknown_choice"));
            None
        }
    };
    let position = match raw.required_text("position", 40, &mut errs) {
        None => None,
        Some(p) => {
            let v = Position::parse(&p);
            if v.is_none() {
                errs.push(FieldError::new("position", "unknown_choice"));
            }
            v
        }
    };
    if let (Some(t), Some(p)) = (&topic, position) {
        if (t == NGO_ACCESS) != p.access_level().is_some() {
            errs.push(FieldError::new("position", "not_for_this_topic"));
        }
    }
    let from = raw.date("from", &mut errs);
    if from.is_none() && errs.for_field("from").is_none() {
        errs.push(FieldError::new("from", "required"));
    }
    let until = raw.date("until", &mut errs);
    if let (Some(f), Some(u)) = (from, until) {
        if u < f {
            errs.push(FieldError::new("until", "before_start"));
        }
    }
    match (topic, scope, position, from) {
        (Some(topic), Some(scope), Some(position), Some(from)) if errs.is_empty() => {
            Ok(ClaimDraft { topic, scope, position, from, until })
        }
        _ => Err(errs),
    }
}

// ---- Search ---------------------------------------------------------------------

/// Words folded for search: lowercase, without accents, cut to a five-letter stem so
/// "suspendió", "suspensión" and "suspender" (and "suspended") find each other.
pub fn search_terms(text: &str) -> Vec<String> {
    let folded: String = text
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' | 'Á' | 'À' | 'Ä' | 'Â' => 'a',
            'é' | 'è' | 'ë' | 'ê' | 'É' | 'È' | 'Ë' | 'Ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' | 'Í' | 'Ì' | 'Ï' | 'Î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' | 'Ó' | 'Ò' | 'Ö' | 'Ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' | 'Ú' | 'Ù' | 'Ü' | 'Û' => 'u',
            'ñ' | 'Ñ' => 'n',
            c => c.to_lowercase().next().unwrap_or(c),
        })
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(|w| w.chars().take(5).collect())
        .collect()
}

/// Whether a text matches a query: every query term's stem appears among the text's.
pub fn matches(query: &str, text: &str) -> bool {
    let q = search_terms(query);
    if q.is_empty() {
        return true;
    }
    let t: BTreeSet<String> = search_terms(text).into_iter().collect();
    q.iter().all(|w| t.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const H: Micros = 3_600_000_000;

    fn claim(topic: &str, scope: Scope, position: Position, from: Date, until: Option<Date>) -> ClaimDraft {
        ClaimDraft { topic: topic.into(), scope, position, from, until }
    }

    fn statement(id: i64, authority: &str, at: Micros, claims: Vec<(i64, ClaimDraft)>) -> StatementFacts {
        StatementFacts { id, authority: authority.into(), published_at: at, claims }
    }

    fn states() -> BTreeMap<i64, String> {
        [(1, "07".to_string()), (2, "07".to_string()), (3, "27".to_string()), (4, "09".to_string())]
            .into_iter()
            .collect()
    }

    /// The January 2020 episode, paraphrased: the INM suspends NGO access to every
    /// station; the Ministry says within hours there is no suspension.
    fn episode() -> Vec<StatementFacts> {
        let t0 = 1_579_532_400_000_000; // 2020-01-20 09:00 CST
        vec![
            statement(
                1,
                "inm",
                t0,
                vec![(11, claim(NGO_ACCESS, Scope::All, Position::Suspended, date(2020, 1, 20), None))],
            ),
            statement(
                2,
                "segob",
                t0 + 3 * H + 40 * 60_000_000,
                vec![(21, claim(NGO_ACCESS, Scope::All, Position::DeniesSuspension, date(2020, 1, 20), None))],
            ),
        ]
    }

    #[test]
    fn the_episode_is_a_conflict_stated_with_its_gap() {
        let d = detect(&episode(), &[], &states());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].rule, Rule::Conflict);
        assert_eq!(d[0].claims, vec![11, 21]);
        assert_eq!(describe_gap(d[0].gap.expect("gap")), "3 h 40 min");
    }

    #[test]
    fn the_same_authority_changing_position_is_a_reversal() {
        let mut s = episode();
        s[1].authority = "inm".into();
        let d = detect(&s, &[], &states());
        assert_eq!(d[0].rule, Rule::Reversal);
    }

    #[test]
    fn refusals_during_a_claim_of_open_access_are_words_against_practice() {
        let refusals = [
            Refusal { org_id: 2, facility_id: 3, day: date(2020, 1, 22), count: 1 },
            Refusal { org_id: 1, facility_id: 1, day: date(2020, 1, 21), count: 2 },
            Refusal { org_id: 2, facility_id: 3, day: date(2020, 1, 10), count: 1 },
            Refusal { org_id: 3, facility_id: 3, day: date(2020, 1, 22), count: 0 },
        ];
        let d = detect(&episode(), &refusals, &states());
        let w = d.iter().find(|d| d.rule == Rule::WordsAgainstPractice).expect("words against practice");
        assert_eq!(w.claims, vec![21]);
        assert_eq!(w.refusals, 3, "the refusal before the claim's period does not count");
        assert_eq!(w.days.to_vec(), vec![(1, date(2020, 1, 21)), (3, date(2020, 1, 22))], "earliest first");
        assert_eq!(w.organizations, 2, "a day without refusals names no organization");
        // A claim limited to Chiapas cites only Chiapas.
        let mut s = episode();
        s[1].claims[0].1.scope = Scope::State { code: "07".into() };
        let d = detect(&s, &refusals, &states());
        let w = d.iter().find(|d| d.rule == Rule::WordsAgainstPractice).expect("words");
        assert_eq!((w.refusals, w.days.to_vec()), (2, vec![(1, date(2020, 1, 21))]));
    }

    #[test]
    fn restricted_against_permitted_is_not_a_contradiction() {
        let s = vec![
            statement(
                1,
                "inm",
                0,
                vec![(1, claim(NGO_ACCESS, Scope::All, Position::Restricted, date(2020, 1, 1), None))],
            ),
            statement(
                2,
                "segob",
                H,
                vec![(2, claim(NGO_ACCESS, Scope::All, Position::Permitted, date(2020, 1, 1), None))],
            ),
        ];
        assert!(detect(&s, &[], &states()).is_empty());
    }

    #[test]
    fn scopes_overlap_by_facility_and_state() {
        let st = states();
        let f = |ids: &[i64]| Scope::Facilities { ids: ids.iter().copied().collect() };
        let chiapas = Scope::State { code: "07".into() };
        assert!(Scope::All.overlaps(&f(&[3]), &st));
        assert!(f(&[1, 4]).overlaps(&f(&[4]), &st));
        assert!(!f(&[1]).overlaps(&f(&[3]), &st));
        assert!(chiapas.overlaps(&f(&[2]), &st), "facility 2 is in Chiapas");
        assert!(!chiapas.overlaps(&f(&[3]), &st));
        assert!(!chiapas.overlaps(&Scope::State { code: "27".into() }, &st));
    }

    #[test]
    fn claims_validate_field_by_field() {
        let raw = |v: serde_json::Value| RawInput::from_json(v).expect("object");
        let c = validate_claim(&raw(
            serde_json::json!({"topic": "ngo_access", "scope": "facilities", "facility_ids": [1, 2],
            "position": "suspended", "from": "2020-01-20"}),
        ));
        assert!(c.is_err(), "ids as numbers in a list are not codes");
        let c = validate_claim(&raw(
            serde_json::json!({"topic": "ngo_access", "scope": "facilities", "facility_ids": "1, 2",
            "position": "suspended", "from": "2020-01-20", "until": "2020-01-31"}),
        ))
        .expect("valid");
        assert_eq!(c.scope, Scope::Facilities { ids: [1, 2].into_iter().collect() });
        let e = validate_claim(&raw(
            serde_json::json!({"topic": "deportations", "position": "suspended", "from": "2020-01-20",
            "until": "2020-01-01", "scope": "state", "state_code": "99"}),
        ))
        .expect_err("invalid");
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["state_code", "position", "until"]);
        let s = validate_statement(
            &raw(
                serde_json::json!({"authority": "INM", "published_at": "2020-01-20 09:00", "channel": "official_letter",
                "text": "Se suspenden las visitas", "source_url": "javascript:alert(1)"}),
            ),
            crate::geo::LEGAL_TIME_ZONE,
            crate::access::parse_local_instant("2026-01-01T00:00", crate::geo::LEGAL_TIME_ZONE).expect("now"),
        )
        .expect_err("bad url");
        assert_eq!(s.0[0].field, "source_url");
    }

    #[test]
    fn search_finds_stems_without_accents_in_both_languages() {
        let es = "El Instituto suspendió las visitas de organizaciones.";
        for q in ["suspensión", "SUSPENDER", "suspendio", "visita organizacion"] {
            assert!(matches(q, es), "{q}");
        }
        assert!(matches("suspended", "Access was suspended at every station"));
        assert!(matches("suspension", "the Ministry denies any suspension"));
        assert!(!matches("deportación", es));
        assert!(matches("", es), "an empty query matches everything");
    }

    fn any_claim() -> impl Strategy<Value = ClaimDraft> {
        (
            prop_oneof![Just(NGO_ACCESS), Just("deportations")],
            prop_oneof![
                Just(Scope::All),
                proptest::collection::btree_set(1i64..5, 1..3).prop_map(|ids| Scope::Facilities { ids }),
                prop_oneof![Just("07"), Just("27")].prop_map(|c| Scope::State { code: c.into() })
            ],
            proptest::sample::select(Position::ALL.to_vec()),
            0i64..60,
            proptest::option::of(0i64..30),
        )
            .prop_map(|(topic, scope, position, start, len)| {
                let from = date(2020, 1, 1).checked_add(jiff::Span::new().days(start)).expect("date");
                let until = len.map(|l| from.checked_add(jiff::Span::new().days(l)).expect("date"));
                ClaimDraft { topic: topic.into(), scope, position, from, until }
            })
    }

    proptest! {
        /// The rule on daily counts says what a count of every refused attempt, one by
        /// one, says: how many, on which days, by how many organizations.
        #[test]
        fn words_against_practice_counts_what_each_attempt_would(
            c in any_claim(),
            refusals in proptest::collection::vec((1i64..4, 1i64..5, 0i64..90, 0u32..3), 0..40),
        ) {
            let c = ClaimDraft { topic: NGO_ACCESS.into(), position: Position::Permitted, ..c };
            let refusals: Vec<Refusal> = refusals
                .into_iter()
                .map(|(org_id, facility_id, day, count)| Refusal {
                    org_id, facility_id, count,
                    day: date(2020, 1, 1).checked_add(jiff::Span::new().days(day)).expect("date"),
                })
                .collect();
            let d = detect(&[statement(1, "segob", 0, vec![(5, c.clone())])], &refusals, &states());
            // One by one: each attempt is a refusal of count 1.
            let covered = c.scope.facilities(&states());
            let each: Vec<&Refusal> = refusals
                .iter()
                .flat_map(|r| std::iter::repeat_n(r, r.count as usize))
                .filter(|r| c.covers_day(r.day) && covered.as_ref().is_none_or(|set| set.contains(&r.facility_id)))
                .collect();
            let mut days: Vec<(i64, Date)> = each.iter().map(|r| (r.facility_id, r.day)).collect();
            days.sort_by_key(|(f, d)| (*d, *f));
            days.dedup();
            let orgs: BTreeSet<i64> = each.iter().map(|r| r.org_id).collect();
            match d.first() {
                Some(w) => prop_assert_eq!((w.refusals, w.days.to_vec(), w.organizations), (each.len(), days, orgs.len())),
                None => prop_assert!(each.is_empty()),
            }
        }

        /// The runs answer what the pairs they stand for would: how many, which come
        /// first, which fall in a period at a facility, the first and last day.
        #[test]
        fn facility_days_answer_what_their_pairs_would(
            pairs in proptest::collection::vec((1i64..5, 0i64..40), 0..60),
            n in 0usize..30,
            from in 0i64..45,
            len in 0i64..10,
            facility in proptest::option::of(0i64..6),
        ) {
            let day = |k: i64| date(2020, 2, 25).checked_add(jiff::Span::new().days(k)).expect("date");
            let pairs: Vec<(i64, Date)> = pairs.into_iter().map(|(f, k)| (f, day(k))).collect();
            let held = FacilityDays::from_pairs(pairs.iter().copied());
            let mut all = pairs.clone();
            all.sort_by_key(|(f, d)| (*d, *f));
            all.dedup();
            prop_assert_eq!(held.len(), all.len());
            prop_assert_eq!(held.is_empty(), all.is_empty());
            prop_assert_eq!(held.to_vec(), all.clone());
            prop_assert_eq!(held.earliest(n), all.iter().copied().take(n).collect::<Vec<_>>());
            prop_assert_eq!(held.first_day(), all.first().map(|p| p.1));
            prop_assert_eq!(held.last_day(), all.iter().map(|p| p.1).max());
            let (from, until) = (day(from), day(from + len));
            let any = all.iter().any(|(f, d)| *d >= from && *d <= until && facility.is_none_or(|x| x == *f));
            prop_assert_eq!(held.any_between(from, until, facility), any);
        }

        #[test]
        fn detections_do_not_depend_on_input_order(
            claims in proptest::collection::vec((any_claim(), 0usize..3, 0i64..100), 0..8),
            reversed in any::<bool>(),
        ) {
            let authorities = ["inm", "segob", "sre"];
            let mut s: Vec<StatementFacts> = claims
                .into_iter()
                .enumerate()
                .map(|(i, (c, a, t))| statement(i as i64 + 1, authorities[a], t * H, vec![(i as i64 + 100, c)]))
                .collect();
            let refusals = [Refusal { org_id: 1, facility_id: 1, day: date(2020, 1, 15), count: 1 }];
            let d1 = detect(&s, &refusals, &states());
            let n = s.len().min(1);
            if reversed { s.reverse(); } else { s.rotate_left(n); }
            prop_assert_eq!(detect(&s, &refusals, &states()), d1.clone());
            for d in &d1 {
                if d.rule != Rule::WordsAgainstPractice {
                    let a = &s.iter().find(|x| x.id == d.statements[0]).expect("a").claims[0].1;
                    let b = &s.iter().find(|x| x.id == d.statements[1]).expect("b").claims[0].1;
                    // What fired really is a contradiction: same topic, opposite stances, shared scope and time.
                    prop_assert_eq!(&a.topic, &b.topic);
                    prop_assert!(a.position.incompatible(b.position));
                    prop_assert!(a.overlaps_period(b) && a.scope.overlaps(&b.scope, &states()));
                    prop_assert!(d.gap.expect("gap") >= 0);
                }
            }
        }

        #[test]
        fn separate_periods_or_topics_never_fire(a in any_claim(), b in any_claim()) {
            let mut b = b;
            if let Some(end) = a.until {
                // b starts the day after a ends.
                b.from = end.checked_add(jiff::Span::new().days(1)).expect("date");
                b.until = None;
                let s = vec![statement(1, "inm", 0, vec![(1, a.clone())]), statement(2, "segob", H, vec![(2, b.clone())])];
                prop_assert!(detect(&s, &[], &states()).iter().all(|d| d.rule == Rule::WordsAgainstPractice));
            }
            let mut c = b;
            c.from = a.from;
            c.topic = if a.topic == NGO_ACCESS { "deportations".into() } else { NGO_ACCESS.into() };
            let s = vec![statement(1, "inm", 0, vec![(1, a)]), statement(2, "segob", H, vec![(2, c)])];
            prop_assert!(detect(&s, &[], &states()).iter().all(|d| d.rule == Rule::WordsAgainstPractice));
        }

        #[test]
        fn incompatibility_is_symmetric(a in proptest::sample::select(Position::ALL.to_vec()), b in proptest::sample::select(Position::ALL.to_vec())) {
            prop_assert_eq!(a.incompatible(b), b.incompatible(a));
            prop_assert!(!a.incompatible(a));
        }
    }
}
