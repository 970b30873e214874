//! An organization's people: adding, disabling and enabling accounts.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
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
    Routes::default()
        .get("/admin/users", users_page)
        .post("/admin/users", user_create)
        .post("/admin/users/{id}/disable", user_disable)
        .post("/admin/users/{id}/enable", user_enable)
}

pub struct MemberRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "account/templates/users.html")]
struct UsersPage {
    c: Chrome,
    members: Vec<MemberRow>,
    form: FormView,
}

fn user_form(l: Locale, values: &HashMap<String, String>, errors: &ValidationErrors) -> Vec<FieldView> {
    let field = |name: &'static str, label: &str, input: &'static str| {
        let value = if input == "password" { String::new() } else { values.get(name).cloned().unwrap_or_default() };
        FieldView::new(l, name, label, input, value, true, errors)
    };
    let mut role = field("role", "users-role", "select");
    role.options = vigia_domain::account::Role::ALL
        .iter()
        .map(|r| OptionView {
            value: r.as_str().into(),
            label: tr(l, &format!("role-{}", r.as_str())),
            selected: values.get("role").map(String::as_str) == Some(r.as_str()),
        })
        .collect();
    let mut password = field("password", "users-password", "password");
    password.hint =
        Some(tr_args(l, "users-password-hint", &[("min", vigia_domain::account::PASSWORD_MIN.to_string())]));
    vec![field("email", "login-email", "email"), field("display_name", "users-name", "text"), role, password]
}

async fn users_view(
    st: &AppState,
    ctx: &Ctx,
    values: &HashMap<String, String>,
    errors: &ValidationErrors,
    flash: Option<String>,
) -> Result<UsersPage, WebError> {
    let me = ctx.require(Permission::ManageUsers)?;
    let l = ctx.locale;
    let members = st
        .store
        .list_users(Some(me.org_id))
        .await?
        .into_iter()
        .map(|u| MemberRow {
            id: u.id,
            is_me: u.id == me.id,
            email: u.email,
            name: u.display_name,
            role: tr(l, &format!("role-{}", u.role.as_str())),
            disabled: u.disabled,
        })
        .collect();
    let summary = (!errors.is_empty()).then(|| tr_args(l, "form-errors", &[("count", errors.0.len().to_string())]));
    Ok(UsersPage {
        c: Chrome::new(ctx, "/admin/users").flash(flash),
        members,
        form: FormView {
            title: tr(l, "users-add"),
            action: "/admin/users".into(),
            submit: tr(l, "users-add"),
            version: None,
            summary,
            fields: user_form(l, values, errors),
        },
    })
}

async fn users_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let l = ctx.locale;
    let flash = q
        .get("added")
        .map(|e| tr_args(l, "users-added", &[("email", e.clone())]))
        .or_else(|| q.contains_key("changed").then(|| tr(l, "users-changed")));
    let page = users_view(&st, &ctx, &HashMap::new(), &ValidationErrors::new(), flash).await?;
    render(StatusCode::OK, &page)
}

async fn user_create(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let me = ctx.require(Permission::ManageUsers)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    // Giving someone a role is sensitive: the password must be recent.
    if let Some(r) = crate::auth::recent_auth(&st, &ctx, "/admin/users") {
        return Ok(r);
    }
    let values: HashMap<String, String> = form.pairs.iter().cloned().collect();
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let new = vigia_app::accounts::NewAccount {
        email: get("email"),
        display_name: get("display_name"),
        role: get("role"),
        password: get("password"),
        org_id: me.org_id,
        locale: ctx.locale,
    };
    let errors = match vigia_app::accounts::create_user(&st.store, &ctx.actor(), new).await {
        Ok(user) => {
            let q = serde_urlencoded::to_string([("added", user.email.as_str())]).unwrap_or_default();
            return Ok(Redirect::to(&format!("/admin/users?{q}")).into_response());
        }
        Err(vigia_app::AppError::Store(vigia_store::StoreError::Conflict(_))) => {
            ValidationErrors::single("email", "email_taken")
        }
        Err(vigia_app::AppError::Invalid(errs)) => errs,
        Err(e) => return Err(e.into()),
    };
    let page = users_view(&st, &ctx, &values, &errors, None).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

async fn set_disabled(
    st: &AppState,
    ctx: &Ctx,
    id: &str,
    headers: &HeaderMap,
    body: &Bytes,
    disabled: bool,
) -> PageResult {
    let me = ctx.require(Permission::ManageUsers)?;
    FormBody::checked(headers, body, ctx)?;
    if let Some(r) = crate::auth::recent_auth(st, ctx, "/admin/users") {
        return Ok(r);
    }
    let id = parse_id(id)?;
    // Another organization's user is not found, so ids cannot be probed.
    let target = st.store.user(id).await?.filter(|u| u.org_id == me.org_id).ok_or(WebError::NotFound)?;
    if target.id == me.id {
        return Err(WebError::BadRequest(tr(ctx.locale, "users-not-self")).into());
    }
    st.store.set_user_disabled(&ctx.actor(), target.id, disabled).await?;
    Ok(Redirect::to("/admin/users?changed=1").into_response())
}

async fn user_disable(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    set_disabled(&st, &ctx, &id, &headers, &body, true).await
}

async fn user_enable(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    set_disabled(&st, &ctx, &id, &headers, &body, false).await
}
