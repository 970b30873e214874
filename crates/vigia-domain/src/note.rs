//! Private notes an organization keeps about a facility (contacts inside, names of
//! officials, what a detained person said). Their text is personal data: it is stored
//! sealed and only the owning organization's members who may read sealed data see it.

use serde::{Deserialize, Serialize};

use crate::input::RawInput;
use crate::{Micros, ValidationErrors};

pub const BODY_MAX: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityNote {
    pub id: i64,
    pub org_id: i64,
    pub facility_id: i64,
    pub author_user_id: Option<i64>,
    pub body: String,
    pub created_at: Micros,
}

pub fn validate(raw: &RawInput) -> Result<String, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["body"], &mut errs);
    let body = raw.required_text("body", BODY_MAX, &mut errs);
    match body {
        Some(b) if errs.is_empty() => Ok(b),
        _ => Err(errs),
    }
}
