//! Which alerts a person may read, and how urgent each is: the one rule the inbox, the
//! menu's count, the overview and e-mail all ask.

use vigia_domain::account::{Permission, Role};
use vigia_store::{Alert, DynStore, Result};

/// How urgent an alert is, most urgent first: a detention past its limit or an
/// ongoing violation (0), a deadline coming or a suspected suspension (1), a refusal
/// recorded (2). A request's deadline is one to act on (1). The inbox and digests list the urgent first.
pub fn severity(a: &Alert) -> u8 {
    let p: serde_json::Value = serde_json::from_str(&a.payload).unwrap_or_default();
    match a.kind.as_str() {
        "violation" => 0,
        "deadline" if p["state"] == "overdue" => 0,
        "deadline" | "episode" | "request" | "retention" => 1,
        _ => 2,
    }
}

/// Whether a role may read alerts of this kind: case reminders (deadlines, violations)
/// only for roles that see cases; request reminders for the roles that track requests. The inbox, the menu's count and e-mail all ask here.
pub fn kind_readable(role: Role, kind: &str) -> bool {
    match kind {
        "deadline" | "violation" => vigia_domain::account::allows(role, Permission::ReadCases),
        "request" => vigia_domain::account::allows(role, Permission::TrackRequests),
        // Which cases are due for erasure: for those who may erase.
        "retention" => vigia_domain::account::allows(role, Permission::EraseCaseData),
        _ => true,
    }
}

/// The most alerts the inbox reads (the store's own ceiling): far more than an
/// organization gathers, so the inbox's count is every alert it may read.
const ALL_ALERTS: i64 = vigia_store::MAX_ALERTS;

/// The organization's alerts the viewer may read now: case reminders for roles that
/// see cases, and an alert about an attempt only while that attempt is still visible to
/// the organization — one made private after the alert was raised takes its alert with
/// it (the payload was a copy of it).
pub async fn readable(store: &DynStore, role: Role, org_id: i64) -> Result<Vec<Alert>> {
    let alerts: Vec<Alert> =
        store.alerts(org_id, ALL_ALERTS).await?.into_iter().filter(|a| kind_readable(role, &a.kind)).collect();
    let cited: Vec<i64> = alerts.iter().filter_map(|a| a.attempt_id).collect();
    let visible: std::collections::HashSet<i64> =
        store.attempts_by_ids(org_id, &cited).await?.into_iter().map(|a| a.id).collect();
    Ok(alerts.into_iter().filter(|a| a.attempt_id.is_none_or(|id| visible.contains(&id))).collect())
}
