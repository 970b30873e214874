//! Retention and erasure (issue #20 part 3): an organization's rule, the list of cases
//! whose personal data is due for erasure, and the erasure a coordinator confirms —
//! decided on the facts read inside the erasure's own write, so a case reopened or an
//! appeal recorded meanwhile stops it.

use jiff::civil::Date;
use vigia_domain::input::RawInput;
use vigia_domain::retention::{self, CaseRetention, Standing};
use vigia_domain::{FieldError, ValidationErrors};
use vigia_store::{Actor, DynStore, Erasure, RetentionFacts, RuleRecord, StoreError};

use crate::AppError;

/// The organization's rule, if it set one.
pub async fn rule(store: &DynStore, org_id: i64) -> Result<Option<RuleRecord>, AppError> {
    Ok(store.retention_rule(org_id).await?)
}

/// Sets the organization's rule, read from a form, a JSON body or the CLI.
pub async fn set_rule(store: &DynStore, actor: &Actor, org_id: i64, raw: &RawInput) -> Result<RuleRecord, AppError> {
    let rule = retention::validate_rule(raw)?;
    Ok(store.set_retention_rule(actor, org_id, rule).await?)
}

fn local_day(at: vigia_domain::Micros) -> Option<Date> {
    let tz = jiff::tz::TimeZone::get(vigia_domain::geo::LEGAL_TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC);
    vigia_domain::access::local_date(at, &tz)
}

fn case_retention(f: &RetentionFacts) -> CaseRetention {
    CaseRetention { closed_on: f.closed_at.and_then(local_day), litigating: f.litigating, erased: f.erasure.is_some() }
}

/// One case as the retention list shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    pub case_id: i64,
    pub closed_on: Option<Date>,
    pub litigating: bool,
    pub standing: Standing,
    pub erasure: Option<Erasure>,
}

/// Every case of the organization (or one) with where it stands today under its rule.
async fn listed(
    store: &DynStore,
    org_id: i64,
    case_id: Option<i64>,
    today: Date,
) -> Result<(Option<RuleRecord>, Vec<Listed>), AppError> {
    let rule = store.retention_rule(org_id).await?;
    let facts = store.retention_facts(org_id, case_id).await?;
    let listed = facts
        .into_iter()
        .map(|f| {
            let c = case_retention(&f);
            Listed {
                case_id: f.case_id,
                closed_on: c.closed_on,
                litigating: f.litigating,
                standing: retention::standing(rule.as_ref().map(|r| &r.rule), &c, today),
                erasure: f.erasure,
            }
        })
        .collect();
    Ok((rule, listed))
}

/// The organization's rule and every case with where it stands today.
pub async fn list(store: &DynStore, org_id: i64, today: Date) -> Result<(Option<RuleRecord>, Vec<Listed>), AppError> {
    listed(store, org_id, None, today).await
}

/// The cases due for erasure today: what the sweep lists for a coordinator to confirm.
pub async fn due(store: &DynStore, org_id: i64, today: Date) -> Result<Vec<Listed>, AppError> {
    let (_, all) = listed(store, org_id, None, today).await?;
    Ok(all.into_iter().filter(|l| matches!(l.standing, Standing::Due { .. })).collect())
}

/// Where one case stands, and its erasure if erased.
pub async fn of_case(store: &DynStore, org_id: i64, case_id: i64, today: Date) -> Result<Option<Listed>, AppError> {
    Ok(listed(store, org_id, Some(case_id), today).await?.1.pop())
}

/// The field a refusal is shown beside.
fn refusal_field(code: &str) -> &'static str {
    match code {
        "litigation_open" => "litigation_ended",
        "not_due" | "no_rule" => "reason",
        _ => "case_id",
    }
}

/// Erases a case's personal data, as confirmed by a coordinator: refused (with the
/// field and why) unless the rule or the person's request allows it on the facts read
/// inside the write.
pub async fn erase(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    case_id: i64,
    raw: &RawInput,
    today: Date,
) -> Result<Erasure, AppError> {
    let req = retention::validate_erasure(raw)?;
    let check = move |f: &RetentionFacts,
                      rule: Option<&vigia_domain::retention::RetentionRule>|
          -> Result<(), StoreError> {
        match retention::refusal(rule, &case_retention(f), &req, today) {
            Some(code) => Err(StoreError::Invalid(ValidationErrors(vec![FieldError::new(refusal_field(code), code)]))),
            None => Ok(()),
        }
    };
    match store.erase_case_data(actor, org_id, case_id, req.reason, req.litigation_ended, &check).await {
        Err(StoreError::Erased) => {
            Err(AppError::Invalid(ValidationErrors(vec![FieldError::new("case_id", "already_erased")])))
        }
        Err(StoreError::Invalid(why)) => Err(AppError::Invalid(why)),
        other => Ok(other?),
    }
}

/// Tells each organization with a rule, once per case and due day, that a case's
/// personal data is due for erasure: a coordinator confirms on `/retention`; nothing
/// is erased here. Returns how many alerts were raised.
pub async fn sweep(store: &DynStore, today: Date) -> Result<usize, AppError> {
    let mut raised = 0;
    for org in store.list_orgs().await? {
        let due = match due(store, org.id, today).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(org = org.id, error = %e, "cannot sweep an organization's retention");
                continue;
            }
        };
        for d in due {
            let Standing::Due { due_on } = d.standing else { continue };
            let key = format!("retention:{}:{due_on}", d.case_id);
            let payload = serde_json::json!({"type": "retention.due", "case_id": d.case_id,
                "due_on": due_on.to_string(), "today": today.to_string()})
            .to_string();
            match store.raise_alert(org.id, "retention", &key, None, &payload).await {
                Ok(Some(_)) => raised += 1,
                Ok(None) => {}
                Err(e) => tracing::error!(org = org.id, error = %e, "cannot raise a retention alert"),
            }
        }
    }
    Ok(raised)
}
