//! The legal clock: working days added or counted on the law's calendars.

pub mod api;
pub mod calendars;
pub mod legal;

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Extension;
use vigia_domain::input::RawInput;
use vigia_domain::ValidationErrors;

use crate::auth::Ctx;
use crate::i18n::{tr, tr_args};
use crate::routes::Routes;
use crate::state::AppState;

use crate::kit::*;

pub fn routes() -> Routes {
    Routes::default().get("/clock", clock_page)
}

#[derive(Template)]
#[template(path = "clock/templates/clock.html")]
struct ClockPage {
    c: Chrome,
    form: FormView,
    result: Option<String>,
    calendar_note: Option<String>,
    days: Vec<(String, bool, String)>,
}

/// Anyone can check a legal date by hand: a GET form, no sign-in needed.
async fn clock_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    use vigia_domain::clock::{answer, validate_query, ClockAsk};
    let l = ctx.locale;
    let calendars = vigia_store::calendars(&*st.store).await?;
    let mut values: HashMap<String, String> = q.clone();
    values.entry("calendar".into()).or_insert_with(|| vigia_domain::clock::DEFAULT_CALENDAR.into());
    let asked = q.contains_key("from");
    let raw = RawInput::from_pairs(q.iter().filter(|(k, _)| *k != "explain").map(|(k, v)| (k.clone(), v.clone())));
    let (errors, result, note, days) = if asked {
        match validate_query(&raw, &calendars, false) {
            Ok(query) => match answer(&query, &calendars, true, l) {
                Ok(a) => {
                    let cal = calendars.get(&a.calendar)?;
                    let n = match query.what {
                        ClockAsk::Add { working_days } => working_days,
                        ClockAsk::Count { .. } => 0,
                    };
                    let result = tr_args(
                        l,
                        "clock-result",
                        &[("n", n.to_string()), ("from", a.from.to_string()), ("date", a.to.to_string())],
                    );
                    let mut counted = 0;
                    let days = a
                        .days
                        .iter()
                        .map(|(d, reasons)| {
                            if reasons.is_empty() {
                                counted += 1;
                                let mut why = tr_args(l, "clock-counts", &[("n", counted.to_string())]);
                                for (_, open) in a.open.iter().filter(|(o, _)| o == d) {
                                    for r in open {
                                        why.push_str(" — ");
                                        why.push_str(&tr(l, "clock-open"));
                                        why.push_str(": ");
                                        why.push_str(&r.describe());
                                    }
                                }
                                (d.to_string(), true, why)
                            } else {
                                (
                                    d.to_string(),
                                    false,
                                    reasons.iter().map(|r| r.describe()).collect::<Vec<_>>().join("; "),
                                )
                            }
                        })
                        .collect();
                    let mut note = match cal.version(l) {
                        Some(v) => format!("{} — {} ({v})", cal.title(l), cal.spec.source),
                        None => format!("{} — {}", cal.title(l), cal.spec.source),
                    };
                    for n in cal.notes(l) {
                        note.push_str(". ");
                        note.push_str(n);
                    }
                    let note = Some(note);
                    (ValidationErrors::new(), Some(result), note, days)
                }
                // Only a date near the end of the supported range gets here.
                Err(_) => (ValidationErrors::single("from", "out_of_range"), None, None, Vec::new()),
            },
            Err(errs) => (errs, None, None, Vec::new()),
        }
    } else {
        (ValidationErrors::new(), None, None, Vec::new())
    };
    let field = |name: &'static str, label: &str, input: &'static str| {
        FieldView::new(l, name, label, input, values.get(name).cloned().unwrap_or_default(), true, &errors)
    };
    let mut cal_field = field("calendar", "clock-calendar", "select");
    cal_field.options = calendars
        .names()
        .filter_map(|n| calendars.get(n).ok())
        .map(|c| OptionView {
            value: c.name().into(),
            label: c.title(l).into(),
            selected: values.get("calendar").map(String::as_str) == Some(c.name()),
        })
        .collect();
    let form = FormView {
        title: tr(l, "clock-title"),
        action: "/clock".into(),
        submit: tr(l, "clock-submit"),
        version: None,
        summary: (!errors.is_empty()).then(|| tr_args(l, "form-errors", &[("count", errors.0.len().to_string())])),
        fields: vec![
            field("from", "clock-from", "date"),
            field("working_days", "clock-working-days", "number"),
            cal_field,
        ],
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, &ClockPage { c: Chrome::new(&ctx, "/clock"), form, result, calendar_note: note, days })
}
