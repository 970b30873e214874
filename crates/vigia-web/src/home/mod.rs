//! Where each role lands after signing in (issue #16 part 4): a lawyer on "Hoy" (the
//! day's deadlines), a coordinator on an overview of what changed and what needs
//! review, a monitor on what to record; analysts and admins on the centers.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::Extension;
use vigia_domain::access::AttemptFilter;

use crate::auth::Ctx;
use crate::i18n::tr_args;
use crate::kit::alerts::{view, AlertView};
use crate::kit::{render, Chrome, PageResult};
use crate::routes::Routes;
use crate::state::AppState;
use vigia_app::alerts::severity;

pub fn routes() -> Routes {
    Routes::default().get("/", home).get("/overview", overview_page).get("/start", start_page)
}

async fn home(Extension(ctx): Extension<Ctx>) -> Redirect {
    match &ctx.user {
        Some(u) => Redirect::to(crate::kit::landing(u)),
        None => Redirect::to("/login"),
    }
}

#[derive(Template)]
#[template(path = "home/templates/overview.html")]
struct OverviewPage {
    c: Chrome,
    unreviewed: usize,
    urgent: usize,
    unread: usize,
    week: String,
    week_link: String,
    latest: Vec<AlertView>,
}

/// What changed in the last seven days and what waits for a decision.
async fn overview_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    let alerts = vigia_app::alerts::readable(&st.store, user.role, user.org_id).await?;
    let unread: Vec<_> = alerts.iter().filter(|a| a.read_at.is_none()).collect();
    let urgent = unread.iter().filter(|a| severity(a) == 0).count();
    let today = crate::kit::today();
    let since = today.checked_sub(jiff::Span::new().days(7)).unwrap_or(today);
    let from = since
        .to_datetime(jiff::civil::Time::midnight())
        .in_tz(vigia_domain::geo::LEGAL_TIME_ZONE)
        .map(|z| z.timestamp().as_microsecond())
        .ok();
    let filter = AttemptFilter { from, limit: 100_000, ..Default::default() };
    let recent = st.store.list_attempts(user.org_id, &filter).await?;
    let refused = recent.iter().filter(|a| a.draft.outcome.is_refusal()).count();
    let week = tr_args(
        l,
        "overview-week",
        &[("attempts", recent.len().to_string()), ("refusals", refused.to_string()), ("since", since.to_string())],
    );
    let page = OverviewPage {
        c: Chrome::new(&ctx, "/overview"),
        unreviewed: vigia_app::findings::unreviewed(&st.store, &st.analyses, &st.detections, user.org_id).await?,
        urgent,
        unread: unread.len(),
        week,
        week_link: format!("/access?from={since}"),
        latest: unread.iter().take(5).map(|a| view(l, a)).collect(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "home/templates/start.html")]
struct StartPage {
    c: Chrome,
}

/// What a monitor records: an attempt to enter, or a visit.
async fn start_page(Extension(ctx): Extension<Ctx>) -> PageResult {
    ctx.require_user()?;
    render(StatusCode::OK, &StartPage { c: Chrome::new(&ctx, "/start") })
}
