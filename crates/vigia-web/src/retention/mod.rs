//! Retention and erasure (issue #20 part 3): the organization's rule, every case with
//! where it stands under it (kept until a day, due, held by litigation, erased), and
//! the erasure a coordinator confirms for one case — by the rule, or on the person's
//! request. Everything here needs [`Permission::EraseCaseData`]; erasing also needs a
//! recent sign-in, as it cannot be undone.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Extension;
use vigia_domain::account::{Locale, Permission};
use vigia_domain::case::Case;
use vigia_domain::input::RawInput;
use vigia_domain::retention::{ErasureReason, Standing};

use crate::auth::Ctx;
use crate::error::WebError;
use crate::i18n::{tr, tr_args};
use crate::kit::records::owned;
use crate::kit::{render, today, Chrome, FormBody, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub mod api;

pub fn routes() -> Routes {
    Routes::default()
        .get("/retention", retention_page)
        .post("/retention/rule", rule_page)
        .get("/cases/{id}/erase", erase_form_page)
        .post("/cases/{id}/erase", erase_page)
        .merge(api::routes())
}

/// Where a case stands, in words, with the class its badge takes.
pub(crate) fn standing_words(l: Locale, s: &Standing) -> (String, &'static str) {
    match s {
        Standing::Erased => (tr(l, "retention-erased"), "muted"),
        Standing::Open => (tr(l, "retention-open"), "muted"),
        Standing::NoRule => (tr(l, "retention-no-rule"), "muted"),
        Standing::Kept { due_on } => (tr_args(l, "retention-kept", &[("date", due_on.to_string())]), "ok"),
        Standing::Held { due_on } => (tr_args(l, "retention-held", &[("date", due_on.to_string())]), "warn"),
        Standing::Due { due_on } => (tr_args(l, "retention-due", &[("date", due_on.to_string())]), "bad"),
    }
}

pub struct Row {
    pub id: i64,
    pub name: String,
    pub state: String,
    pub class: &'static str,
    pub closed_on: String,
    pub erasable: bool,
}

#[derive(Template)]
#[template(path = "retention/templates/retention.html")]
struct RetentionPage {
    c: Chrome,
    months: String,
    hold: bool,
    rule_words: String,
    due: Vec<Row>,
    others: Vec<Row>,
    erased: Vec<(i64, String, String)>,
    error: Option<String>,
}

/// A case's name on these pages: its pseudonym and file number (coordinators read both).
async fn names(st: &AppState, org_id: i64) -> Result<HashMap<i64, String>, WebError> {
    let filter = vigia_domain::case::CaseFilter::default();
    let mut out = HashMap::new();
    for c in st.store.list_cases(org_id, &filter).await? {
        out.insert(c.id, format!("{} · {}", st.store.case_pseudonym(org_id, c.id)?, c.fields.reference));
    }
    Ok(out)
}

async fn retention_view(
    st: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    typed_months: Option<String>,
    error: Option<String>,
) -> PageResult {
    let user = ctx.require(Permission::EraseCaseData)?.clone();
    let l = ctx.locale;
    let (rule, listed) = vigia_app::retention::list(&st.store, user.org_id, today()).await?;
    let names = names(st, user.org_id).await?;
    let mut due = Vec::new();
    let mut others = Vec::new();
    let mut erased = Vec::new();
    for x in listed {
        let name = names.get(&x.case_id).cloned().unwrap_or_else(|| format!("#{}", x.case_id));
        if let Some(e) = &x.erasure {
            erased.push((x.case_id, name, crate::kit::erased_words(l, e)));
            continue;
        }
        let (state, class) = standing_words(l, &x.standing);
        let row = Row {
            id: x.case_id,
            name,
            state,
            class,
            closed_on: x.closed_on.map(|d| d.to_string()).unwrap_or_default(),
            erasable: x.closed_on.is_some(),
        };
        match x.standing {
            Standing::Due { .. } => due.push(row),
            Standing::Open => {}
            _ => others.push(row),
        }
    }
    render(
        status,
        &RetentionPage {
            c: Chrome::new(ctx, "/retention"),
            months: typed_months
                .or_else(|| rule.as_ref().map(|r| r.rule.months_after_close.to_string()))
                .unwrap_or_default(),
            hold: rule.as_ref().is_none_or(|r| r.rule.hold_while_litigating),
            rule_words: match &rule {
                Some(r) => tr_args(
                    l,
                    if r.rule.hold_while_litigating { "retention-rule-hold" } else { "retention-rule" },
                    &[("months", r.rule.months_after_close.to_string()), ("since", crate::kit::when(r.updated_at))],
                ),
                None => tr(l, "retention-rule-none"),
            },
            due,
            others,
            erased,
            error,
        },
    )
}

async fn retention_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    retention_view(&st, &ctx, StatusCode::OK, None, None).await
}

async fn rule_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require(Permission::EraseCaseData)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    // An unticked box sends nothing: the form says "false" itself.
    let mut pairs: Vec<(String, String)> = form.joined("").into_iter().filter(|(k, _)| k != "hold").collect();
    let hold = form.joined("").iter().any(|(k, v)| k == "hold" && v == "on");
    pairs.push(("hold_while_litigating".into(), hold.to_string()));
    let typed = pairs.iter().find(|(k, _)| k == "months_after_close").map(|(_, v)| v.clone());
    let raw = RawInput::from_pairs(pairs);
    match vigia_app::retention::set_rule(&st.store, &ctx.actor(), user.org_id, &raw).await {
        Ok(_) => Ok(Redirect::to("/retention").into_response()),
        Err(vigia_app::AppError::Invalid(errs)) => {
            let msg = crate::kit::form_problems(ctx.locale, &errs);
            retention_view(&st, &ctx, StatusCode::UNPROCESSABLE_ENTITY, typed, Some(msg)).await
        }
        Err(e) => Err(WebError::from(e).into()),
    }
}

#[derive(Template)]
#[template(path = "retention/templates/erase.html")]
struct ErasePage {
    c: Chrome,
    id: i64,
    name: String,
    state: String,
    class: &'static str,
    litigating: bool,
    due: bool,
    reasons: Vec<(&'static str, String)>,
    error: Option<String>,
}

async fn erase_view(st: &AppState, ctx: &Ctx, c: &Case, status: StatusCode, error: Option<String>) -> PageResult {
    let l = ctx.locale;
    let x = vigia_app::retention::of_case(&st.store, c.org_id, c.id, today()).await?.ok_or(WebError::NotFound)?;
    if x.erasure.is_some() {
        // Nothing is left to erase: the case page says when and by whom.
        return Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response());
    }
    let (state, class) = standing_words(l, &x.standing);
    render(
        status,
        &ErasePage {
            c: Chrome::new(ctx, &format!("/cases/{}/erase", c.id)),
            id: c.id,
            name: format!("{} · {}", st.store.case_pseudonym(c.org_id, c.id)?, c.fields.reference),
            state,
            class,
            litigating: x.litigating,
            due: matches!(x.standing, Standing::Due { .. }),
            reasons: reasons(l),
            error,
        },
    )
}

async fn erase_form_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::EraseCaseData).await?;
    if let Some(r) = crate::auth::recent_auth(&st, &ctx, &format!("/cases/{}/erase", c.id)) {
        return Ok(r);
    }
    erase_view(&st, &ctx, &c, StatusCode::OK, None).await
}

async fn erase_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::EraseCaseData).await?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    // It cannot be undone: only right after signing in again.
    if let Some(r) = crate::auth::recent_auth(&st, &ctx, &format!("/cases/{}/erase", c.id)) {
        return Ok(r);
    }
    let pairs = form.joined("");
    let ended = pairs.iter().any(|(k, v)| k == "litigation_ended" && v == "on");
    let mut pairs: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "litigation_ended").collect();
    pairs.push(("litigation_ended".into(), ended.to_string()));
    let raw = RawInput::from_pairs(pairs);
    match vigia_app::retention::erase(&st.store, &ctx.actor(), c.org_id, c.id, &raw, today()).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{}?erased=1", c.id)).into_response()),
        Err(vigia_app::AppError::Invalid(errs)) => {
            let msg = crate::kit::form_problems(ctx.locale, &errs);
            erase_view(&st, &ctx, &c, StatusCode::UNPROCESSABLE_ENTITY, Some(msg)).await
        }
        Err(e) => Err(WebError::from(e).into()),
    }
}

/// The reasons an erasure may give, for the form.
pub(crate) fn reasons(l: Locale) -> Vec<(&'static str, String)> {
    ErasureReason::ALL.iter().map(|r| (r.as_str(), tr(l, &format!("erase-reason-{}", r.as_str())))).collect()
}
