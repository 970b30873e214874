//! Organizations, users and roles, and what each role may do.

use serde::{Deserialize, Serialize};

use crate::{FieldError, ValidationErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Coordinator,
    Monitor,
    Lawyer,
    Analyst,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Coordinator, Role::Monitor, Role::Lawyer, Role::Analyst];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Monitor => "monitor",
            Role::Lawyer => "lawyer",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

/// What a signed-in person may do. One place decides, so the UI, the API and the CLI
/// agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read the shared facility registry.
    ReadFacilities,
    /// Create and correct facilities in the shared registry.
    EditFacilities,
    /// Read the organization's sealed notes (personal data).
    ReadSealed,
    /// Write sealed notes.
    WriteSealed,
    /// Manage the organization's users.
    ManageUsers,
    /// Read the organization's audit history.
    ReadAudit,
    /// Record and correct the organization's access attempts.
    RecordAccess,
    /// See the organization's legal-aid cases: plain fields, deadlines and counts
    /// (analysts see them pseudonymized).
    ReadCases,
    /// Open a case's sealed fields (the person, event notes); each read is audited.
    ReadCaseSealed,
    /// Create and correct cases and record their events.
    EditCases,
    /// Record official statements and their claims.
    RecordStatements,
    /// Confirm or dismiss detected contradictions.
    ReviewDetections,
    /// Record monitoring visits.
    RecordVisits,
    /// Open the sealed interview notes of visits (coordinators and lawyers only).
    ReadVisitNotes,
    /// Make period reports and facility dossiers (HTML, PDF): aggregates that include
    /// the case counts, so the roles that read cases; never a person's data.
    MakeReports,
    /// Propose a publication of public aggregates, and approve or reject another
    /// person's proposal (four eyes: never one's own).
    Publish,
    /// Import official sources — the UPM bulletin's tables, the UHRI's recommendations —
    /// shared by every organization: the roles that work with figures. Reading them is
    /// open to every member.
    ImportStatistics,
    /// Link the organization's evidence to UN recommendations and record assessments of
    /// their implementation: the roles that build the organization's case.
    TrackRecommendations,
    /// File access-to-information requests, record what happened to them and read them
    /// (issue #20): the roles that ask the State in writing.
    TrackRequests,
    /// Set the organization's retention rule, see what is due and confirm the erasure
    /// of a case's personal data (issue #20 part 3): irreversible, so coordinators (and
    /// administrators) only.
    EraseCaseData,
}

pub fn allows(role: Role, p: Permission) -> bool {
    use Permission::*;
    use Role::*;
    match p {
        ReadFacilities => true,
        EditFacilities => matches!(role, Admin | Coordinator | Monitor),
        ReadSealed => matches!(role, Admin | Coordinator | Monitor | Lawyer),
        WriteSealed => matches!(role, Admin | Coordinator | Monitor | Lawyer),
        ManageUsers => matches!(role, Admin),
        ReadAudit => matches!(role, Admin | Coordinator),
        RecordAccess => matches!(role, Admin | Coordinator | Monitor),
        ReadCases => matches!(role, Admin | Coordinator | Lawyer | Analyst),
        ReadCaseSealed | EditCases => matches!(role, Admin | Coordinator | Lawyer),
        RecordStatements => matches!(role, Admin | Coordinator | Monitor | Analyst),
        ReviewDetections => matches!(role, Admin | Coordinator | Analyst),
        RecordVisits => matches!(role, Admin | Coordinator | Monitor),
        ReadVisitNotes => matches!(role, Coordinator | Lawyer),
        MakeReports => matches!(role, Admin | Coordinator | Lawyer | Analyst),
        Publish => matches!(role, Admin | Coordinator),
        ImportStatistics => matches!(role, Admin | Coordinator | Analyst),
        TrackRecommendations => matches!(role, Admin | Coordinator | Lawyer | Analyst),
        TrackRequests => matches!(role, Admin | Coordinator | Lawyer | Analyst),
        EraseCaseData => matches!(role, Admin | Coordinator),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    #[default]
    Es,
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Es => "es",
            Locale::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Locale> {
        match s.trim().to_ascii_lowercase().as_str() {
            "es" => Some(Locale::Es),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// Picks a locale from an `Accept-Language` header; Spanish when nothing matches.
    pub fn from_accept_language(header: &str) -> Locale {
        let mut best: Option<(f32, Locale)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(l) = Locale::parse(primary) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub org_id: i64,
    pub role: Role,
    pub locale: Locale,
    pub disabled: bool,
    pub created_at: i64,
}

impl User {
    /// What of a user goes into the audit chain (never the password hash).
    pub fn content_json(&self) -> String {
        serde_json::json!({
            "id": self.id, "email": self.email, "display_name": self.display_name,
            "org_id": self.org_id, "role": self.role, "locale": self.locale, "disabled": self.disabled,
        })
        .to_string()
    }
}

impl Organization {
    pub fn content_json(&self) -> String {
        serde_json::json!({"id": self.id, "slug": self.slug, "name": self.name}).to_string()
    }
}

/// Normalizes and checks an e-mail address: trimmed, lower-cased, one `@`, a dotted
/// domain, no spaces, at most 254 characters.
pub fn parse_email(field: &str, s: &str) -> Result<String, FieldError> {
    let e = s.trim().to_lowercase();
    let bad = || FieldError::new(field, "invalid_email");
    if e.is_empty() || e.len() > 254 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(e)
}

/// The smallest and largest accepted password lengths, in characters (ASVS 2.1.1, 2.1.2).
pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 128;

/// Common passwords refused outright. A short list kept in the repo; it is checked
/// case-insensitively.
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

pub fn check_password(field: &str, pw: &str) -> Result<(), FieldError> {
    let n = pw.chars().count();
    if n < PASSWORD_MIN {
        return Err(FieldError::new(field, "password_too_short").with("min", PASSWORD_MIN));
    }
    if n > PASSWORD_MAX {
        return Err(FieldError::new(field, "too_long").with("max", PASSWORD_MAX));
    }
    let lower = pw.to_lowercase();
    if COMMON_PASSWORDS.lines().any(|l| !l.is_empty() && l.trim() == lower) {
        return Err(FieldError::new(field, "password_common"));
    }
    Ok(())
}

/// Checks an organization slug: 2–40 of `a-z`, `0-9` and `-`.
pub fn parse_slug(field: &str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if (2..=40).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
    {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(field, "invalid_slug"))
    }
}

/// A new user's fields, validated.
pub fn validate_new_user(
    email: &str,
    display_name: &str,
    role: &str,
    password: &str,
) -> Result<(String, String, Role), ValidationErrors> {
    let mut errs = ValidationErrors::new();
    let email = parse_email("email", email).map_err(|e| errs.push(e)).ok();
    let name = crate::input::check_text("display_name", display_name, 120, &mut errs);
    if name.is_none() && errs.for_field("display_name").is_none() {
        errs.push(FieldError::new("display_name", "required"));
    }
    let role = Role::parse(role);
    if role.is_none() {
        errs.push(FieldError::new("role", "unknown_choice"));
    }
    if let Err(e) = check_password("password", password) {
        errs.push(e);
    }
    match (email, name, role) {
        (Some(e), Some(n), Some(r)) if errs.is_empty() => Ok((e, n, r)),
        _ => Err(errs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(parse_email("e", "  Ana@Example.ORG ").as_deref(), Ok("ana@example.org"));
        for bad in ["", "ana", "ana@", "@x.org", "ana@x", "a b@x.org", "a@b@x.org", "a@x.org."] {
            assert!(parse_email("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_follow_the_policy() {
        assert!(check_password("p", "short").is_err());
        assert!(check_password("p", "una frase larga y rara").is_ok());
        assert_eq!(check_password("p", "Password1234").map_err(|e| e.code), Err("password_common"));
        assert!(check_password("p", &"x".repeat(129)).is_err());
        assert!(check_password("p", &"ñ".repeat(12)).is_ok(), "counts characters, not bytes");
    }

    #[test]
    fn accept_language_picks_the_preferred_known_locale() {
        assert_eq!(Locale::from_accept_language("en-US,en;q=0.9,es;q=0.8"), Locale::En);
        assert_eq!(Locale::from_accept_language("fr, es-MX;q=0.5, en;q=0.4"), Locale::Es);
        assert_eq!(Locale::from_accept_language("de"), Locale::Es);
        assert_eq!(Locale::from_accept_language(""), Locale::Es);
    }

    #[test]
    fn only_admins_manage_users_and_analysts_never_read_sealed() {
        for r in Role::ALL {
            assert_eq!(allows(r, Permission::ManageUsers), r == Role::Admin);
            assert_eq!(allows(r, Permission::ReadSealed), r != Role::Analyst);
            assert!(allows(r, Permission::ReadFacilities));
        }
    }
}
