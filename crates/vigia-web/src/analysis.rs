//! Access analysis: denial rates by facility, organization and month, and the
//! suspected general suspensions the domain's rule finds — over the attempts the
//! viewer may see, never more.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use vigia_domain::access::{Attempt, AttemptFilter};
use vigia_domain::account::Locale;
use vigia_domain::input::RawInput;
use vigia_domain::suspension::{detect, tally_by, Episode, Observation, Settings, Tally};
use vigia_domain::ValidationErrors;

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::i18n::{tr, tr_args};
use crate::routes::Routes;
use crate::ui::{render, Chrome, PageResult};
use crate::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .get("/access/analysis", page)
        .get("/access/analysis.csv", csv_download)
        .get("/access/map.svg", map_svg)
        .get("/api/v1/access-analysis", api)
}

/// The latest outcomes at each facility: the current state of access.
pub struct StatusRow {
    pub facility: String,
    pub state: String,
    pub last: String,
    pub outcome: String,
    pub outcome_code: &'static str,
    pub org: String,
    pub recent: Vec<(&'static str, String)>,
}

fn status(a: &Analysis, l: Locale) -> Vec<StatusRow> {
    let mut by_facility: HashMap<i64, Vec<&Attempt>> = HashMap::new();
    for at in &a.attempts {
        by_facility.entry(at.draft.facility_id).or_default().push(at);
    }
    let mut facilities: Vec<&vigia_domain::facility::Facility> = a.facilities.values().collect();
    facilities.sort_by(|x, y| x.draft.name.cmp(&y.draft.name));
    facilities
        .into_iter()
        .map(|f| {
            let mut list = by_facility.remove(&f.id).unwrap_or_default();
            list.sort_by_key(|x| std::cmp::Reverse((x.draft.attempted_at, x.id)));
            let last = list.first();
            StatusRow {
                facility: f.draft.name.clone(),
                state: f.state().map(|s| s.name.to_string()).unwrap_or_default(),
                last: last.map(|x| vigia_domain::format_local(x.draft.attempted_at, f.time_zone())).unwrap_or_default(),
                outcome: last
                    .map(|x| crate::access::label(l, "outcome", x.draft.outcome.as_str()))
                    .unwrap_or_else(|| tr(l, "facility-unknown")),
                outcome_code: last.map(|x| x.draft.outcome.as_str()).unwrap_or(""),
                org: last.and_then(|x| a.orgs.get(&x.org_id).cloned()).unwrap_or_default(),
                recent: list
                    .iter()
                    .take(5)
                    .map(|x| (x.draft.outcome.as_str(), crate::access::label(l, "outcome", x.draft.outcome.as_str())))
                    .collect(),
            }
        })
        .collect()
}

/// The rule's settings from a query, with defaults.
fn settings(q: &HashMap<String, String>) -> Result<(Settings, HashMap<String, String>), WebError> {
    let known = ["min_orgs", "min_facilities", "window_days", "alpha"];
    let raw = RawInput::from_pairs(
        q.iter().filter(|(k, _)| known.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())),
    );
    let mut errs = ValidationErrors::new();
    let d = Settings::default();
    let s = Settings {
        min_orgs: raw.integer("min_orgs", 1, 100, &mut errs).map(|v| v as usize).unwrap_or(d.min_orgs),
        min_facilities: raw
            .integer("min_facilities", 1, 100, &mut errs)
            .map(|v| v as usize)
            .unwrap_or(d.min_facilities),
        window_days: raw.integer("window_days", 1, 90, &mut errs).unwrap_or(d.window_days),
        alpha: raw.float("alpha", 1e-12, 0.5, &mut errs).unwrap_or(d.alpha),
        ..d
    };
    let rest = q.iter().filter(|(k, _)| !known.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    errs.into_result((s, rest)).map_err(Into::into)
}

struct Analysis {
    attempts: Vec<Attempt>,
    observations: Vec<Observation>,
    episodes: Vec<Episode>,
    settings: Settings,
    facilities: HashMap<i64, vigia_domain::facility::Facility>,
    orgs: HashMap<i64, String>,
}

async fn analyse(st: &AppState, ctx: &Ctx, q: &HashMap<String, String>) -> Result<Analysis, WebError> {
    let user = ctx.require_user()?.clone();
    let (settings, rest) = settings(q)?;
    let mut filter: AttemptFilter = crate::access::filter(&rest)?;
    filter.limit = 100_000;
    let attempts = st.store.list_attempts(user.org_id, &filter).await?;
    let (facilities, orgs) = crate::access::names(st).await?;
    let observations: Vec<Observation> = attempts
        .iter()
        .filter_map(|a| {
            let zone = facilities.get(&a.draft.facility_id).map(|f| f.time_zone()).unwrap_or("America/Mexico_City");
            let day = jiff::Timestamp::from_microsecond(a.draft.attempted_at).ok()?.in_tz(zone).ok()?.date();
            Some(Observation {
                attempt_id: a.id,
                org_id: a.org_id,
                facility_id: a.draft.facility_id,
                day,
                refused: a.draft.outcome.is_refusal(),
            })
        })
        .collect();
    let episodes = detect(&observations, &settings);
    Ok(Analysis { attempts, observations, episodes, settings, facilities, orgs })
}

fn pct(t: &Tally) -> String {
    t.rate().map(|r| format!("{:.1} %", r * 100.0)).unwrap_or_else(|| "—".into())
}

fn names(ids: &[i64], map: impl Fn(&i64) -> Option<String>) -> Vec<String> {
    ids.iter().map(|i| map(i).unwrap_or_else(|| i.to_string())).collect()
}

async fn api(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if ctx.via == crate::auth::Via::BadBearer {
        return Err(WebError::Unauthorized.into());
    }
    let a = analyse(&st, &ctx, &q).await?;
    let fac_name = |id: &i64| a.facilities.get(id).map(|f| f.draft.name.clone());
    let org_name = |id: &i64| a.orgs.get(id).cloned();
    let row = |t: &Tally| serde_json::json!({"attempts": t.attempts, "refusals": t.refusals, "rate": t.rate()});
    let by_facility: Vec<_> = tally_by(&a.observations, |o| o.facility_id)
        .iter()
        .map(|(id, t)| {
            let mut v = row(t);
            v["facility_id"] = serde_json::json!(id);
            v["facility"] = serde_json::json!(fac_name(id));
            v
        })
        .collect();
    let by_org: Vec<_> = tally_by(&a.observations, |o| o.org_id)
        .iter()
        .map(|(id, t)| {
            let mut v = row(t);
            v["organization_id"] = serde_json::json!(id);
            v["organization"] = serde_json::json!(org_name(id));
            v
        })
        .collect();
    let by_month: Vec<_> = tally_by(&a.observations, |o| (o.day.year(), o.day.month()))
        .iter()
        .map(|((y, m), t)| {
            let mut v = row(t);
            v["month"] = serde_json::json!(format!("{y}-{m:02}"));
            v
        })
        .collect();
    let episodes: Vec<_> = a
        .episodes
        .iter()
        .map(|e| {
            serde_json::json!({
                "start": e.start.to_string(), "end": e.end.to_string(),
                "organizations": names(&e.orgs, org_name), "facilities": names(&e.facilities, fac_name),
                "attempts": e.attempts, "refusals": e.refusals, "expected_refusals": e.expected,
                "p_value": e.p_value, "attempt_ids": e.attempt_ids,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "attempts": a.attempts.len(),
        "refusal_outcomes": ["denied", "no_response", "cancelled_by_authority"],
        "settings": a.settings,
        "method": "Poisson-binomial exact test of each window's refusals against each facility's own 180-day baseline (Jeffreys prior); see docs/suspension-rule.md",
        "by_facility": by_facility, "by_organization": by_org, "by_month": by_month, "episodes": episodes,
    })))
}

pub struct EpisodeView {
    pub span: String,
    pub orgs: String,
    pub facilities: String,
    pub counts: String,
    pub p_value: String,
    pub link: String,
}

#[derive(Template)]
#[template(path = "analysis.html")]
struct AnalysisPage {
    c: Chrome,
    summary: String,
    method: String,
    episodes: Vec<EpisodeView>,
    tables: Vec<(String, &'static str, Vec<TallyRow>)>,
    status: Vec<StatusRow>,
    query: String,
    map: String,
}

/// A group's label, attempts, refusals and refusal rate.
type TallyRow = (String, usize, usize, String);

fn table<K>(rows: std::collections::BTreeMap<K, Tally>, label: impl Fn(&K) -> String) -> Vec<TallyRow> {
    rows.iter().map(|(k, t)| (label(k), t.attempts, t.refusals, pct(t))).collect()
}

async fn page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let l: Locale = ctx.locale;
    let a = analyse(&st, &ctx, &q).await?;
    let fac_name = |id: &i64| a.facilities.get(id).map(|f| f.draft.name.clone());
    let org_name = |id: &i64| a.orgs.get(id).cloned();
    let episodes = a
        .episodes
        .iter()
        .map(|e| EpisodeView {
            span: format!("{} → {}", e.start, e.end),
            orgs: names(&e.orgs, org_name).join(", "),
            facilities: names(&e.facilities, fac_name).join(", "),
            counts: tr_args(
                l,
                "analysis-episode-counts",
                &[
                    ("refusals", e.refusals.to_string()),
                    ("attempts", e.attempts.to_string()),
                    ("expected", format!("{:.1}", e.expected)),
                ],
            ),
            p_value: format!("{:.1e}", e.p_value),
            link: format!("/access?from={}&until={}", e.start, e.end),
        })
        .collect();
    let query =
        serde_urlencoded::to_string(q.iter().filter(|(k, _)| *k != "table").collect::<Vec<_>>()).unwrap_or_default();
    let page = AnalysisPage {
        map: access_map(&a, l),
        status: status(&a, l),
        query,
        c: Chrome::new(&ctx, "/access/analysis"),
        summary: tr_args(l, "analysis-summary", &[("count", a.attempts.len().to_string())]),
        method: tr_args(
            l,
            "analysis-method",
            &[
                ("orgs", a.settings.min_orgs.to_string()),
                ("facilities", a.settings.min_facilities.to_string()),
                ("days", a.settings.window_days.to_string()),
                ("alpha", a.settings.alpha.to_string()),
            ],
        ),
        episodes,
        tables: vec![
            (
                tr(l, "analysis-by-facility"),
                "by-facility",
                table(tally_by(&a.observations, |o| o.facility_id), |id| fac_name(id).unwrap_or_default()),
            ),
            (
                tr(l, "analysis-by-org"),
                "by-org",
                table(tally_by(&a.observations, |o| o.org_id), |id| org_name(id).unwrap_or_default()),
            ),
            (
                tr(l, "analysis-by-month"),
                "by-month",
                table(tally_by(&a.observations, |o| (o.day.year(), o.day.month())), |(y, m)| format!("{y}-{m:02}")),
            ),
        ],
    };
    render(StatusCode::OK, &page)
}

/// One of the page's tables as CSV: `table` is status, episodes, by-facility, by-org or
/// by-month; the other parameters filter as on the page.
async fn csv_download(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(mut q): Query<HashMap<String, String>>,
) -> Result<axum::response::Response, crate::error::PageError> {
    use axum::response::IntoResponse;
    let l = ctx.locale;
    let which = q.remove("table").unwrap_or_else(|| "by-facility".into());
    let a = analyse(&st, &ctx, &q).await?;
    let fac_name = |id: &i64| a.facilities.get(id).map(|f| f.draft.name.clone());
    let org_name = |id: &i64| a.orgs.get(id).cloned();
    let tally_csv = |label: &str, rows: Vec<TallyRow>| {
        vigia_domain::export::csv(
            &[label, &tr(l, "analysis-attempts"), &tr(l, "analysis-refused"), &tr(l, "analysis-rate")],
            rows.into_iter().map(|(n, at, r, rate)| vec![n, at.to_string(), r.to_string(), rate]),
        )
    };
    let body = match which.as_str() {
        "status" => vigia_domain::export::csv(
            &[
                &tr(l, "field-facility_id"),
                &tr(l, "field-state_code"),
                &tr(l, "analysis-last"),
                &tr(l, "field-outcome"),
                &tr(l, "access-org"),
            ],
            status(&a, l).into_iter().map(|r| vec![r.facility, r.state, r.last, r.outcome, r.org]),
        ),
        "episodes" => vigia_domain::export::csv(
            &["start", "end", "organizations", "facilities", "attempts", "refusals", "expected", "p_value"],
            a.episodes.iter().map(|e| {
                vec![
                    e.start.to_string(),
                    e.end.to_string(),
                    names(&e.orgs, org_name).join("; "),
                    names(&e.facilities, fac_name).join("; "),
                    e.attempts.to_string(),
                    e.refusals.to_string(),
                    format!("{:.2}", e.expected),
                    format!("{:e}", e.p_value),
                ]
            }),
        ),
        "by-facility" => tally_csv(
            &tr(l, "field-facility_id"),
            table(tally_by(&a.observations, |o| o.facility_id), |id| fac_name(id).unwrap_or_default()),
        ),
        "by-org" => tally_csv(
            &tr(l, "access-org"),
            table(tally_by(&a.observations, |o| o.org_id), |id| org_name(id).unwrap_or_default()),
        ),
        "by-month" => tally_csv(
            "month",
            table(tally_by(&a.observations, |o| (o.day.year(), o.day.month())), |(y, m)| format!("{y}-{m:02}")),
        ),
        _ => return Err(WebError::NotFound.into()),
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"vigia-{which}.csv\"")),
        ],
        body,
    )
        .into_response())
}

/// The map of the current state of access: a dot per facility with coordinates,
/// colored by its latest visible outcome.
fn access_map(a: &Analysis, l: Locale) -> String {
    let mut latest: HashMap<i64, &Attempt> = HashMap::new();
    for at in &a.attempts {
        let e = latest.entry(at.draft.facility_id).or_insert(at);
        if (at.draft.attempted_at, at.id) > (e.draft.attempted_at, e.id) {
            *e = at;
        }
    }
    let dots: Vec<crate::map::Dot> = a
        .facilities
        .values()
        .filter_map(|f| {
            let (lat, lon) = (f.draft.latitude?, f.draft.longitude?);
            let last = latest.get(&f.id);
            let outcome = last
                .map(|x| crate::access::label(l, "outcome", x.draft.outcome.as_str()))
                .unwrap_or_else(|| tr(l, "facility-unknown"));
            let when =
                last.map(|x| vigia_domain::format_local(x.draft.attempted_at, f.time_zone())).unwrap_or_default();
            Some(crate::map::Dot {
                lat,
                lon,
                class: crate::map::class_of(last.map(|x| x.draft.outcome)),
                label: format!("{}: {outcome} {when}", f.draft.name),
            })
        })
        .collect();
    crate::map::render(&tr(l, "analysis-map"), &dots)
}

/// The same map as a standalone SVG file.
async fn map_svg(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::response::Response, crate::error::PageError> {
    use axum::response::IntoResponse;
    let a = analyse(&st, &ctx, &q).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"vigia-access-map.svg\""),
        ],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", access_map(&a, ctx.locale)),
    )
        .into_response())
}
