//! The tamper-evident history as people read it, and its CSV.

use crate::kit::listing::Format;
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Extension;
use vigia_domain::account::{Locale, Permission};
use vigia_domain::ValidationErrors;

use crate::auth::Ctx;
use crate::error::WebError;
use crate::i18n::{tr, tr_args};
use crate::routes::Routes;
use crate::state::AppState;

use crate::kit::*;

pub fn routes() -> Routes {
    Routes::default().get("/audit", audit).get("/audit.csv", audit_csv).get("/audit.jsonl", audit_csv)
}

#[derive(Template)]
#[template(path = "audit/templates/audit.html")]
struct AuditPage {
    c: Chrome,
    entries: Vec<AuditRow>,
    paging: crate::kit::listing::Paging,
    cursor_error: Option<String>,
}

/// An audit entry in words: who (name and role, or the system), what, on which record.
pub struct AuditRow {
    pub seq: i64,
    pub when: String,
    pub who: String,
    pub action: String,
    pub record: String,
    pub hash: String,
}

/// The people of the organization by id, as "Name (role)".
async fn who_is_who(st: &AppState, l: Locale, org_id: i64) -> Result<HashMap<i64, String>, WebError> {
    Ok(st
        .store
        .list_users(Some(org_id))
        .await?
        .into_iter()
        .map(|u| (u.id, format!("{} ({})", u.display_name, tr(l, &format!("role-{}", u.role.as_str())))))
        .collect())
}

fn audit_row(l: Locale, people: &HashMap<i64, String>, e: &vigia_domain::audit::AuditEntry) -> AuditRow {
    AuditRow {
        seq: e.seq,
        when: crate::kit::when(e.at),
        who: match e.actor_user_id {
            Some(id) => {
                people.get(&id).cloned().unwrap_or_else(|| tr_args(l, "audit-someone", &[("id", id.to_string())]))
            }
            None => tr(l, "audit-system"),
        },
        action: tr(l, &format!("action-{}", e.action)),
        record: format!("{} #{}", crate::kit::label(l, "record", &e.record_type), e.record_id),
        hash: e.entry_hash.chars().take(16).collect(),
    }
}

async fn audit(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require(Permission::ReadAudit)?.clone();
    let l = ctx.locale;
    let mut errs = ValidationErrors::new();
    let after = crate::kit::listing::after(&q, &mut errs);
    let before = after.map(|c| c.id);
    let page_rows = vigia_domain::paging::PAGE_ROWS;
    let mut list = st.store.audit_entries(Some(user.org_id), before, page_rows + 1).await?;
    let more = list.len() as i64 > page_rows;
    list.truncate(page_rows as usize);
    let remaining = st.store.count_audit_entries(Some(user.org_id), before).await?;
    let total = if before.is_some() { st.store.count_audit_entries(Some(user.org_id), None).await? } else { remaining };
    let next = list.last().filter(|_| more).map(|e| vigia_domain::paging::Cursor::after(e.seq, e.seq));
    let paging = crate::kit::listing::Paging::new(
        l,
        "/audit",
        "/audit.csv",
        &q,
        "audit-count",
        total,
        remaining,
        list.len(),
        next,
    );
    let people = who_is_who(&st, l, user.org_id).await?;
    let entries = list.iter().map(|e| audit_row(l, &people, e)).collect();
    let cursor_error = errs.for_field("after").map(|e| crate::i18n::field_error(l, e));
    render(
        if cursor_error.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &AuditPage { c: Chrome::new(&ctx, "/audit"), entries, paging, cursor_error },
    )
}

/// The organization's whole audit history as CSV, newest first, with the full hashes
/// that link each entry to the one before (so the file can be checked against the chain).
async fn audit_csv(State(st): State<AppState>, Extension(ctx): Extension<Ctx>, uri: axum::http::Uri) -> PageResult {
    let user = ctx.require(Permission::ReadAudit)?.clone();
    let l = ctx.locale;
    let people = who_is_who(&st, l, user.org_id).await?;
    let head = crate::kit::listing::columns(
        l,
        &[
            "audit-seq",
            "history-when",
            "audit-who",
            "history-action",
            "audit-record",
            "history-hash",
            "audit-prev-hash",
        ],
    );
    let org = user.org_id;
    Ok(crate::kit::listing::download(Format::of(&uri), "vigia-audit", head, move |after| {
        let (st, people) = (st.clone(), people.clone());
        async move {
            let batch = 1000;
            let list = st.store.audit_entries(Some(org), after.map(|c| c.id), batch).await?;
            let next = list
                .last()
                .filter(|_| list.len() as i64 == batch)
                .map(|e| vigia_domain::paging::Cursor::after(e.seq, e.seq));
            let rows = list
                .iter()
                .map(|e| {
                    let r = audit_row(l, &people, e);
                    vec![
                        r.seq.to_string(),
                        r.when,
                        r.who,
                        r.action,
                        r.record,
                        e.entry_hash.clone(),
                        e.prev_hash.clone(),
                    ]
                })
                .collect();
            Ok((rows, next))
        }
    }))
}
