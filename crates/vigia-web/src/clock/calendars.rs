//! Agency calendars: admins enter days an agency declared non-working and suspension
//! periods, each with its source; the clock then counts with them everywhere.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Extension;
use vigia_domain::account::Permission;
use vigia_domain::clock::validate_agency_rule;
use vigia_domain::input::RawInput;
use vigia_domain::ValidationErrors;
use vigia_store::CalendarRule;

use crate::auth::Ctx;
use crate::i18n::{tr, tr_args};
use crate::kit::{render, Chrome, FieldView, FormBody, FormView, OptionView, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default().get("/admin/calendars", page).post("/admin/calendars", create)
}

#[derive(Template)]
#[template(path = "clock/templates/calendars.html")]
struct CalendarsPage {
    c: Chrome,
    rules: Vec<CalendarRule>,
    form: FormView,
}

async fn view(
    st: &AppState,
    ctx: &Ctx,
    values: &[(String, String)],
    errs: &ValidationErrors,
    status: StatusCode,
    flash: Option<String>,
) -> PageResult {
    ctx.require(Permission::ManageUsers)?;
    let l = ctx.locale;
    let cals = vigia_store::calendars(&*st.store).await?;
    let value = |k: &str| values.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let field = |name: &'static str, input: &'static str, required: bool| {
        FieldView::new(l, name, &format!("calendars-{name}"), input, value(name), required, errs)
    };
    let mut calendar = field("calendar", "select", true);
    calendar.options = cals
        .names()
        .filter_map(|n| cals.get(n).ok())
        .map(|c| OptionView {
            value: c.name().into(),
            label: c.title(l).into(),
            selected: value("calendar") == c.name(),
        })
        .collect();
    let form = FormView {
        title: tr(l, "calendars-add"),
        action: "/admin/calendars".into(),
        submit: tr(l, "calendars-add"),
        version: None,
        summary: (!errs.is_empty()).then(|| tr_args(l, "form-errors", &[("count", errs.0.len().to_string())])),
        fields: vec![
            calendar,
            field("start_date", "date", true),
            field("end_date", "date", false),
            field("label_es", "text", true),
            field("label_en", "text", false),
            field("source", "text", true),
        ],
    };
    let rules = st.store.calendar_rules().await?;
    render(status, &CalendarsPage { c: Chrome::new(ctx, "/admin/calendars").flash(flash), rules, form })
}

async fn page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    view(&st, &ctx, &[], &ValidationErrors::new(), StatusCode::OK, None).await
}

async fn create(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require(Permission::ManageUsers)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let cals = vigia_store::calendars(&*st.store).await?;
    match validate_agency_rule(&RawInput::from_pairs(form.pairs.iter().cloned()), &cals) {
        Ok(r) => {
            let rule = CalendarRule {
                id: 0,
                calendar: r.calendar,
                start_date: r.start.to_string(),
                end_date: r.end.to_string(),
                label_es: r.label_es,
                label_en: r.label_en,
                source: r.source,
            };
            st.store.add_calendar_rule(&ctx.actor(), rule).await?;
            Ok(Redirect::to("/admin/calendars").into_response())
        }
        Err(errs) => view(&st, &ctx, &form.pairs, &errs, StatusCode::UNPROCESSABLE_ENTITY, None).await,
    }
}
