//! Case deadlines: assessed on read from the recorded facts and the law's calendars, and
//! swept for reminders. One place for both, so the case page, the lawyer's "today" list
//! and the reminders can never disagree.

use jiff::civil::Date;
use vigia_domain::clock::Calendars;
use vigia_domain::deadline::{self, Assessment};
use vigia_store::{CaseFacts, DynStore};

use crate::AppError;

/// A case's deadlines, violations and claim state today.
pub fn assess(cf: &CaseFacts, cals: &Calendars, today: Date) -> Result<Assessment, AppError> {
    deadline::assess(cf.case.fields.minor, &cf.facts, cals, today).map_err(|e| AppError::Internal(e.to_string()))
}

/// open case's deadline due within `horizon` working days or overdue, and for every
/// ongoing violation; each is told once. Payloads name the case by id and pseudonym,
/// never by the person's data. Returns how many new alerts were raised.
pub async fn sweep_deadlines(store: &DynStore, today: jiff::civil::Date, horizon: u32) -> vigia_store::Result<usize> {
    let cals = vigia_store::calendars(&**store).await?;
    let mut raised = 0;
    for cf in store.cases_with_facts(None, true).await? {
        let a = match assess(&cf, &cals, today) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(case = cf.case.id, error = %e, "cannot assess a case's deadlines");
                continue;
            }
        };
        for r in vigia_domain::deadline::reminders(cf.case.id, &a, &cals, today, horizon) {
            let payload = serde_json::json!({
                "type": format!("case.{}", r.kind), "case_id": cf.case.id,
                "case": store.case_pseudonym(cf.case.org_id, cf.case.id)?,
                "what": r.what, "state": r.state, "due": r.due.map(|d| d.to_string()),
                "working_days_left": r.working_days_left, "lawyer_user_id": cf.case.fields.lawyer_user_id,
                "today": today.to_string(),
            })
            .to_string();
            if store.raise_alert(cf.case.org_id, r.kind, &r.key, None, &payload).await?.is_some() {
                raised += 1;
            }
        }
    }
    Ok(raised)
}
