//! Consent per purpose and case shares (issue #20 part 2): a case's consent records with
//! the decision standing for each purpose and a form to record one; sharing the case's
//! sealed data with a partner organization, refused without the person's consent to
//! share with that partner; and, for the partner, the cases shared with it — closed the
//! moment the consent is withdrawn. Reading needs [`Permission::ReadCases`], recording
//! and sharing [`Permission::EditCases`], a partner's read [`Permission::ReadCaseSealed`].

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Extension;
use vigia_domain::account::Permission;
use vigia_domain::case::Case;
use vigia_domain::consent::{How, Purpose};
use vigia_domain::input::RawInput;

use crate::auth::Ctx;
use crate::error::WebError;
use crate::i18n::tr;
use crate::kit::records::owned;
use crate::kit::{label, render, today, Chrome, FormBody, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub mod api;

pub fn routes() -> Routes {
    Routes::default()
        .get("/cases/{id}/consents", consents_page)
        .post("/cases/{id}/consents", record_page)
        .post("/cases/{id}/shares", share_page)
        .post("/case-shares/{id}/end", end_page)
        .get("/cases/{id}/arco-export", arco_page)
        .get("/shared-cases", shared_list_page)
        .get("/shared-cases/{id}", shared_page)
        .merge(api::routes())
}

pub struct StandingRow {
    pub purpose: String,
    pub decision: String,
    pub class: &'static str,
    pub since: String,
}

#[derive(Template)]
#[template(path = "consents/templates/consents.html")]
struct ConsentsPage {
    c: Chrome,
    id: i64,
    reference: String,
    standing: Vec<StandingRow>,
    history: Vec<(String, String, String, String, String)>,
    shares: Vec<(i64, String, String, bool)>,
    can_edit: bool,
    can_export: bool,
    purposes: Vec<(&'static str, String)>,
    hows: Vec<(&'static str, String)>,
    partners: Vec<(i64, String)>,
    today: String,
    error: Option<String>,
}

async fn org_names(st: &AppState) -> Result<HashMap<i64, String>, WebError> {
    Ok(st.store.list_orgs().await?.into_iter().map(|o| (o.id, o.name)).collect())
}

async fn consents_view(st: &AppState, ctx: &Ctx, c: Case, status: StatusCode, error: Option<String>) -> PageResult {
    let l = ctx.locale;
    let user = ctx.require_user()?.clone();
    let records = st.store.consents(c.org_id, Some(c.id)).await?;
    let orgs = org_names(st).await?;
    let org = |id: Option<i64>| id.and_then(|i| orgs.get(&i).cloned()).unwrap_or_default();
    let purpose_name = |p: Purpose, partner: Option<i64>| {
        let name = tr(l, &format!("consent-purpose-{}", p.as_str()));
        if partner.is_some() {
            format!("{name}: {}", org(partner))
        } else {
            name
        }
    };
    let standing = vigia_app::consents::standing(&records)
        .into_iter()
        .map(|(p, partner, decision, r)| StandingRow {
            purpose: purpose_name(p, partner),
            decision: tr(l, vigia_app::consents::decision_key(decision)),
            class: match decision {
                Some(vigia_domain::consent::Decision::Given) => "ok",
                Some(vigia_domain::consent::Decision::Withdrawn) => "bad",
                None => "muted",
            },
            since: r
                .map(|r| format!("{} · {}", r.draft.on, tr(l, &format!("consent-how-{}", r.draft.how.as_str()))))
                .unwrap_or_default(),
        })
        .collect();
    let who: HashMap<i64, String> =
        st.store.list_users(Some(user.org_id)).await?.into_iter().map(|u| (u.id, u.display_name)).collect();
    let history = records
        .iter()
        .rev()
        .map(|r| {
            (
                r.draft.on.to_string(),
                purpose_name(r.draft.purpose, r.draft.partner_org_id),
                tr(l, vigia_app::consents::decision_key(Some(r.draft.decision))),
                format!(
                    "{}{}",
                    tr(l, &format!("consent-how-{}", r.draft.how.as_str())),
                    r.draft.evidence_document_id.map(|d| format!(" · #{d}")).unwrap_or_default()
                ),
                format!(
                    "{} · {}",
                    r.recorded_by.and_then(|u| who.get(&u).cloned()).unwrap_or_default(),
                    crate::kit::when(r.created_at)
                ),
            )
        })
        .collect();
    let shares = st
        .store
        .case_shares(c.org_id, c.id)
        .await?
        .into_iter()
        .map(|s| {
            let state = match s.ended_at {
                Some(at) => format!("{} {}", tr(l, "consent-share-ended"), crate::kit::when(at)),
                None => format!("{} {}", tr(l, "consent-share-open"), crate::kit::when(s.created_at)),
            };
            (s.id, org(Some(s.partner_org_id)), state, s.ended_at.is_none())
        })
        .collect();
    render(
        status,
        &ConsentsPage {
            c: Chrome::new(ctx, &format!("/cases/{}/consents", c.id)),
            id: c.id,
            // The file number may hold initials: only those who read the person see it.
            reference: {
                let pseudonym = st.store.case_pseudonym(c.org_id, c.id)?;
                if ctx.can(Permission::ReadCaseSealed) {
                    format!("{pseudonym} · {}", c.fields.reference)
                } else {
                    pseudonym
                }
            },
            standing,
            history,
            shares,
            can_edit: ctx.can(Permission::EditCases),
            can_export: ctx.can(Permission::ReadCaseSealed),
            purposes: Purpose::ALL
                .iter()
                .map(|p| (p.as_str(), tr(l, &format!("consent-purpose-{}", p.as_str()))))
                .collect(),
            hows: How::ALL.iter().map(|h| (h.as_str(), tr(l, &format!("consent-how-{}", h.as_str())))).collect(),
            partners: st
                .store
                .list_orgs()
                .await?
                .into_iter()
                .filter(|o| o.id != c.org_id)
                .map(|o| (o.id, o.name))
                .collect(),
            today: today().to_string(),
            error,
        },
    )
}

async fn consents_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::ReadCases).await?;
    consents_view(&st, &ctx, c, StatusCode::OK, None).await
}

async fn after_form(st: &AppState, ctx: &Ctx, c: Case, r: Result<(), WebError>) -> PageResult {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{}/consents", c.id)).into_response()),
        Err(WebError::Invalid(errs)) => {
            let msg = crate::kit::form_problems(ctx.locale, &errs);
            consents_view(st, ctx, c, StatusCode::UNPROCESSABLE_ENTITY, Some(msg)).await
        }
        Err(WebError::Conflict(_)) => {
            let msg = tr(ctx.locale, "consent-share-exists");
            consents_view(st, ctx, c, StatusCode::CONFLICT, Some(msg)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn record_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    // The partner belongs only to the sharing purpose: the form always offers it.
    let mut pairs = form.joined("");
    let sharing = pairs.iter().any(|(k, v)| k == "purpose" && v == "share_partner");
    pairs.retain(|(k, _)| sharing || k != "partner_org_id");
    let raw = RawInput::from_pairs(pairs);
    let r = vigia_app::consents::record(&st.store, &ctx.actor(), c.org_id, c.id, &raw, today()).await;
    after_form(&st, &ctx, c, r.map(|_| ()).map_err(WebError::from)).await
}

async fn share_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let raw = RawInput::from_pairs(form.joined(""));
    let r = vigia_app::consents::share(&st.store, &ctx.actor(), c.org_id, c.id, &raw).await;
    after_form(&st, &ctx, c, r.map(|_| ()).map_err(WebError::from)).await
}

/// Ends one of the organization's open shares; another's answers 404.
pub(crate) async fn end_share(st: &AppState, ctx: &Ctx, id: &str) -> Result<vigia_store::CaseShare, WebError> {
    let user = ctx.require(Permission::EditCases)?.clone();
    let id = crate::kit::parse_id(id)?;
    Ok(st.store.end_share(&ctx.actor(), user.org_id, id).await?)
}

async fn end_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require(Permission::EditCases)?;
    FormBody::checked(&headers, &body, &ctx)?;
    let s = end_share(&st, &ctx, &id).await?;
    Ok(Redirect::to(&format!("/cases/{}/consents", s.case_id)).into_response())
}

/// The person's ARCO file as a download: their data, for them.
pub(crate) fn arco_download(c: &Case, bytes: Vec<u8>, pseudonym: &str) -> axum::response::Response {
    let mut resp = axum::response::Response::new(axum::body::Body::from(bytes));
    let h = resp.headers_mut();
    h.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    let name: String = pseudonym.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    if let Ok(v) =
        axum::http::HeaderValue::from_str(&format!("attachment; filename=\"vigia-arco-{}-{name}.json\"", c.id))
    {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    resp
}

async fn arco_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::ReadCaseSealed).await?;
    // Everything about a person leaves only on a deliberate, recent request.
    ctx.require_deliberate_read(&headers)?;
    if let Some(r) = crate::auth::recent_auth(&st, &ctx, &format!("/cases/{}/consents", c.id)) {
        return Ok(r);
    }
    let bytes = vigia_app::consents::arco_export(&st.store, &ctx.actor(), c.org_id, c.id).await?;
    let pseudonym = st.store.case_pseudonym(c.org_id, c.id)?;
    Ok(arco_download(&c, bytes, &pseudonym))
}

#[derive(Template)]
#[template(path = "consents/templates/shared_list.html")]
struct SharedListPage {
    c: Chrome,
    rows: Vec<(i64, String, String)>,
}

async fn shared_list_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let user = ctx.require(Permission::ReadCaseSealed)?.clone();
    let orgs = org_names(&st).await?;
    let rows = vigia_app::consents::shared_with(&st.store, user.org_id)
        .await?
        .into_iter()
        .map(|s| (s.id, orgs.get(&s.org_id).cloned().unwrap_or_default(), crate::kit::when(s.created_at)))
        .collect();
    render(StatusCode::OK, &SharedListPage { c: Chrome::new(&ctx, "/shared-cases"), rows })
}

#[derive(Template)]
#[template(path = "consents/templates/shared.html")]
struct SharedPage {
    c: Chrome,
    owner: String,
    facts: Vec<(String, String)>,
    person: Vec<(String, String)>,
}

async fn shared_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> PageResult {
    let user = ctx.require(Permission::ReadCaseSealed)?.clone();
    let share_id = crate::kit::parse_id(&id)?;
    // A link from another site opens nothing: the read must be the reader's choice.
    ctx.require_deliberate_read(&headers)?;
    if let Some(r) = crate::auth::recent_auth(&st, &ctx, &format!("/shared-cases/{share_id}")) {
        return Ok(r);
    }
    let l = ctx.locale;
    let s = vigia_app::consents::open_shared(&st.store, &ctx.actor(), user.org_id, share_id)
        .await?
        .ok_or(WebError::NotFound)?;
    let orgs = org_names(&st).await?;
    let f = &s.case.fields;
    let facts = vec![
        (tr(l, "field-nationality"), f.nationality.clone().unwrap_or_default()),
        (tr(l, "field-sex"), label(l, "sex", f.sex.as_str())),
        (tr(l, "field-age_group"), label(l, "age", f.age_group.as_str())),
        (tr(l, "field-status"), label(l, "case-status", f.status.as_str())),
    ];
    let p = &s.person;
    let mut person = vec![(tr(l, "field-full_name"), p.full_name.clone())];
    for (k, v) in [
        ("field-birth_date", &p.birth_date),
        ("field-identity_documents", &p.identity_documents),
        ("field-contact", &p.contact),
        ("field-family_links", &p.family_links),
    ] {
        if let Some(v) = v {
            person.push((tr(l, k), v.clone()));
        }
    }
    render(
        StatusCode::OK,
        &SharedPage {
            c: Chrome::new(&ctx, &format!("/shared-cases/{share_id}")),
            owner: orgs.get(&s.share.org_id).cloned().unwrap_or_default(),
            facts,
            person,
        },
    )
}
