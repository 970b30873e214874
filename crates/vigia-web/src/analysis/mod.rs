//! Access analysis: denial rates by facility, organization and month, and the
//! suspected general suspensions the domain's rule finds — over the attempts the
//! viewer may see, never more.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Extension;
use vigia_app::analysis::Cells;
use vigia_domain::access::{date_of_day, day_number, Attempt, Purpose, TallyFilter};
use vigia_domain::account::Locale;
use vigia_domain::facility::Facility;
use vigia_domain::input::RawInput;
use vigia_domain::suspension::{Episode, Settings, Tally};
use vigia_domain::ValidationErrors;
use vigia_store::TallyCell;

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::i18n::{tr, tr_args};
use crate::kit::{render, Chrome, FieldView, OptionView, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .get("/access/analysis", page)
        .get("/access/analysis.csv", csv_download)
        .get("/access/map.svg", map_svg)
        .get("/access/chart.svg", chart_svg)
        .get("/api/v1/access-analysis", api)
}

/// The latest outcomes at each facility: the current state of access.
#[derive(Clone)]
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
    for at in &a.latest {
        by_facility.entry(at.draft.facility_id).or_default().push(at);
    }
    let mut facilities: Vec<&Facility> = a.facilities.values().filter(|f| a.shows_facility(f)).collect();
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
                    .map(|x| crate::kit::label(l, "outcome", x.draft.outcome.as_str()))
                    .unwrap_or_else(|| tr(l, "facility-unknown")),
                outcome_code: last.map(|x| x.draft.outcome.as_str()).unwrap_or(""),
                org: last.and_then(|x| a.orgs.get(&x.org_id).cloned()).unwrap_or_default(),
                recent: list
                    .iter()
                    .take(5)
                    .map(|x| (x.draft.outcome.as_str(), crate::kit::label(l, "outcome", x.draft.outcome.as_str())))
                    .collect(),
            }
        })
        .collect()
}

/// The rule's settings from a query, with defaults.
fn settings(raw: &RawInput, errs: &mut ValidationErrors) -> Settings {
    let d = Settings::default();
    Settings {
        min_orgs: raw.integer("min_orgs", 1, 100, errs).map(|v| v as usize).unwrap_or(d.min_orgs),
        min_facilities: raw.integer("min_facilities", 1, 100, errs).map(|v| v as usize).unwrap_or(d.min_facilities),
        window_days: raw.integer("window_days", 1, 90, errs).unwrap_or(d.window_days),
        alpha: raw.float("alpha", 1e-12, 0.5, errs).unwrap_or(d.alpha),
        ..d
    }
}

/// What the page and the API are asked: which attempts to count, the rule's settings,
/// and the date to compare before and after.
#[derive(Debug)]
struct Question {
    filter: TallyFilter,
    settings: Settings,
    compare: Option<jiff::civil::Date>,
}

const PARAMS: [&str; 11] = [
    "facility_id",
    "org_id",
    "purpose",
    "state",
    "from",
    "until",
    "compare",
    "min_orgs",
    "min_facilities",
    "window_days",
    "alpha",
];

fn question(q: &HashMap<String, String>) -> Result<Question, ValidationErrors> {
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&PARAMS, &mut errs);
    let purpose = raw.text("purpose", 40, &mut errs).and_then(|p| {
        let v = Purpose::parse(&p);
        if v.is_none() {
            errs.push(vigia_domain::FieldError::new("purpose", "unknown_choice"));
        }
        v
    });
    let state_code = raw.text("state", 3, &mut errs).and_then(|code| {
        let s = vigia_domain::geo::state(&code);
        if s.is_none() {
            errs.push(vigia_domain::FieldError::new("state", "unknown_state"));
        }
        s.map(|s| s.code.to_string())
    });
    let filter = TallyFilter {
        facility_id: raw.integer("facility_id", 1, i64::MAX, &mut errs),
        org_id: raw.integer("org_id", 1, i64::MAX, &mut errs),
        purpose,
        state_code,
        from_day: raw.date("from", &mut errs).map(day_number),
        until_day: raw.date("until", &mut errs).map(|d| day_number(d) + 1),
    };
    let compare = raw.date("compare", &mut errs);
    let settings = settings(&raw, &mut errs);
    errs.into_result(Question { filter, settings, compare })
}

struct Analysis {
    filter: TallyFilter,
    settings: Settings,
    cells: Cells,
    /// The cells before and from the comparison date, when one is asked for.
    compared: Option<(jiff::civil::Date, Cells, Cells)>,
    episodes: Vec<Episode>,
    latest: Vec<Attempt>,
    facilities: HashMap<i64, Facility>,
    orgs: HashMap<i64, String>,
}

impl Analysis {
    fn attempts(&self) -> i64 {
        self.cells.cells.iter().map(|c| c.attempts).sum()
    }

    /// Whether the facility is inside the filter's facility and state.
    fn shows_facility(&self, f: &Facility) -> bool {
        self.filter.facility_id.is_none_or(|id| id == f.id)
            && self.filter.state_code.as_deref().is_none_or(|code| code == f.draft.state_code)
    }

    /// Whether an episode touches the filter's period, places and organization.
    fn shows_episode(&self, e: &Episode) -> bool {
        let (start, end) = (day_number(e.start), day_number(e.end));
        self.filter.from_day.is_none_or(|d| end >= d)
            && self.filter.until_day.is_none_or(|d| start < d)
            && self.filter.org_id.is_none_or(|o| e.orgs.contains(&o))
            && e.facilities.iter().any(|id| self.facilities.get(id).is_some_and(|f| self.shows_facility(f)))
    }
}

/// A question as a key for what is kept of its answer: as read (so `alpha=0.01` and
/// `alpha=1e-2` are one question), or as asked when it cannot be read (its error is
/// never kept).
fn question_key(q: &HashMap<String, String>) -> String {
    match question(q) {
        Ok(read) => format!("{read:?}"),
        Err(_) => crate::kit::kept::query_key(q),
    }
}

/// The analysis for a question; `latest` also reads each facility's latest attempts
/// (the page's status table and the map need them; the API, tables and charts do not).
async fn analyse(st: &AppState, ctx: &Ctx, q: &HashMap<String, String>, latest: bool) -> Result<Analysis, WebError> {
    let user = ctx.require_user()?.clone();
    let Question { filter, settings, compare } = question(q)?;
    let org = user.org_id;
    let (facilities, orgs) = crate::kit::records::names(st).await?;
    let in_state: Option<std::collections::HashSet<i64>> = filter
        .state_code
        .as_ref()
        .map(|code| facilities.values().filter(|f| f.draft.state_code == *code).map(|f| f.id).collect());
    // One look at the database's version per request, then everything from the copy.
    let mut filters = vec![filter.clone()];
    if let Some(date) = compare {
        let split = day_number(date);
        filters
            .push(TallyFilter { until_day: Some(filter.until_day.map_or(split, |u| u.min(split))), ..filter.clone() });
        filters.push(TallyFilter { from_day: Some(filter.from_day.map_or(split, |f| f.max(split))), ..filter.clone() });
    }
    let (found, episodes) = st.analyses.answer(&st.store, org, &settings, &filters, in_state.as_ref()).await?;
    let mut found = found.into_iter();
    let (Some(cells), before, after) = (found.next(), found.next(), found.next()) else {
        return Err(WebError::Internal("the analysis answered no question".into()));
    };
    let compared = compare.zip(before.zip(after)).map(|(date, (before, after))| (date, before, after));
    let latest = if latest { st.store.latest_attempts(org, 5).await? } else { Vec::new() };
    let mut a = Analysis { filter, settings, cells, compared, episodes, latest, facilities, orgs };
    let episodes = std::mem::take(&mut a.episodes);
    a.episodes = episodes.into_iter().filter(|e| a.shows_episode(e)).collect();
    Ok(a)
}

fn pct(t: &Tally) -> String {
    t.rate().map(|r| format!("{:.1} %", r * 100.0)).unwrap_or_else(|| "—".into())
}

fn names(ids: &[i64], map: impl Fn(&i64) -> Option<String>) -> Vec<String> {
    ids.iter().map(|i| map(i).unwrap_or_else(|| i.to_string())).collect()
}

/// Counts cells by a key.
fn tally_cells<K: Ord>(cells: &[TallyCell], key: impl Fn(&TallyCell) -> K) -> BTreeMap<K, Tally> {
    let mut out: BTreeMap<K, Tally> = BTreeMap::new();
    for c in cells {
        let t = out.entry(key(c)).or_default();
        t.attempts += c.attempts as usize;
        t.refusals += c.refusals as usize;
    }
    out
}

fn month_label(m: &i32) -> String {
    format!("{}-{:02}", m / 100, m % 100)
}

/// Before and after the comparison date, by facility: the label, both tallies and
/// the change in refusal rate (percentage points).
type CompareRow = (String, Tally, Tally, String);

fn compare_rows(a: &Analysis) -> Vec<CompareRow> {
    let Some((_, before, after)) = &a.compared else { return Vec::new() };
    let (before, after) = (tally_cells(&before.cells, |c| c.facility_id), tally_cells(&after.cells, |c| c.facility_id));
    let ids: std::collections::BTreeSet<i64> = before.keys().chain(after.keys()).copied().collect();
    let mut rows: Vec<CompareRow> = ids
        .into_iter()
        .map(|id| {
            let (b, af) = (before.get(&id).copied().unwrap_or_default(), after.get(&id).copied().unwrap_or_default());
            let change = match (b.rate(), af.rate()) {
                (Some(x), Some(y)) => format!("{:+.1}", (y - x) * 100.0),
                _ => "—".into(),
            };
            (a.facilities.get(&id).map(|f| f.draft.name.clone()).unwrap_or_else(|| id.to_string()), b, af, change)
        })
        .collect();
    rows.sort_by(|x, y| x.0.cmp(&y.0));
    rows
}

/// The refused attempts an episode lists by id unless `attempt_ids=all` is asked: a
/// ten-year dataset's sixty episodes listed every one (800 KB per dashboard view, most
/// of what each view cost to send); `attempt_ids_total` says how many there are.
const EPISODE_IDS: usize = 100;

/// The analysis as JSON: worked out once per data version for each organization and
/// question, then written from what was kept.
async fn api(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    if ctx.via == crate::auth::Via::BadBearer {
        return Err(WebError::Unauthorized.into());
    }
    let user = ctx.require_user()?.clone();
    let mut q = q;
    let all_ids = match q.remove("attempt_ids").as_deref() {
        None => false,
        Some("all") => true,
        Some(_) => {
            let e = vigia_domain::FieldError::new("attempt_ids", "unknown_choice");
            return Err(WebError::Invalid(ValidationErrors(vec![e])).into());
        }
    };
    let key = format!("{}|{all_ids}|{}", user.org_id, question_key(&q));
    let body = crate::kit::kept::kept(&st, "analysis-api", key, || async {
        Ok(axum::body::Bytes::from(api_json(&st, &ctx, &q, user.org_id, all_ids).await?.to_string()))
    })
    .await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn api_json(
    st: &AppState,
    ctx: &Ctx,
    q: &HashMap<String, String>,
    org_id: i64,
    all_ids: bool,
) -> Result<serde_json::Value, WebError> {
    let mut a = analyse(st, ctx, q, false).await?;
    st.analyses.attach_attempt_ids(&st.store, org_id, &mut a.episodes).await?;
    let fac_name = |id: &i64| a.facilities.get(id).map(|f| f.draft.name.clone());
    let org_name = |id: &i64| a.orgs.get(id).cloned();
    let row = |t: &Tally| serde_json::json!({"attempts": t.attempts, "refusals": t.refusals, "rate": t.rate()});
    let by_facility: Vec<_> = tally_cells(&a.cells.cells, |c| c.facility_id)
        .iter()
        .map(|(id, t)| {
            let mut v = row(t);
            v["facility_id"] = serde_json::json!(id);
            v["facility"] = serde_json::json!(fac_name(id));
            v
        })
        .collect();
    let by_org: Vec<_> = tally_cells(&a.cells.cells, |c| c.org_id)
        .iter()
        .map(|(id, t)| {
            let mut v = row(t);
            v["organization_id"] = serde_json::json!(id);
            v["organization"] = serde_json::json!(org_name(id));
            v
        })
        .collect();
    let by_month: Vec<_> = tally_cells(&a.cells.cells, |c| c.month)
        .iter()
        .map(|(m, t)| {
            let mut v = row(t);
            v["month"] = serde_json::json!(month_label(m));
            v
        })
        .collect();
    let by_week: Vec<_> = a
        .cells
        .weeks
        .iter()
        .map(|(monday, t)| {
            let mut v = row(t);
            v["week"] = serde_json::json!(date_of_day(*monday).to_string());
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
                "p_value": e.p_value, "scale_days": e.scale_days, "certainty": e.certainty(),
                "fewer_than_once_in": e.one_in(),
                "attempt_ids": if all_ids { &e.attempt_ids[..] } else { &e.attempt_ids[..e.attempt_ids.len().min(EPISODE_IDS)] },
                "attempt_ids_total": e.attempt_ids.len(),
            })
        })
        .collect();
    let compare = a.compared.as_ref().map(|(date, _, _)| {
        let rows: Vec<_> = compare_rows(&a)
            .iter()
            .map(|(name, b, af, _)| serde_json::json!({"facility": name, "before": row(b), "after": row(af)}))
            .collect();
        serde_json::json!({"date": date.to_string(), "by_facility": rows})
    });
    Ok(serde_json::json!({
        "attempts": a.attempts(),
        "refusal_outcomes": vigia_domain::access::refusals().collect::<Vec<_>>(),
        "settings": a.settings,
        "method": "Poisson-binomial exact test of each window's refusals against each facility's own 180-day baseline (Jeffreys prior), over everything you may see; see docs/suspension-rule.md",
        "by_facility": by_facility, "by_organization": by_org, "by_month": by_month, "by_week": by_week,
        "episodes": episodes,
        "compare": compare,
    }))
}

fn sureness(l: Locale, e: &vigia_domain::suspension::Episode) -> String {
    crate::kit::sureness(l, e.certainty(), e.one_in(), e.scale_days)
}

#[derive(Clone)]
pub struct EpisodeView {
    pub span: String,
    pub orgs: String,
    pub facilities: String,
    pub counts: String,
    /// How sure, in words: the certainty, the odds and the window length it shows at.
    pub sureness: String,
    pub p_value: String,
    pub link: String,
}

#[derive(Template)]
#[template(path = "analysis/templates/analysis.html")]
struct AnalysisPage {
    c: Chrome,
    /// [`AnalysisContent`] as rendered.
    content: std::sync::Arc<str>,
}

/// The page without its frame: rendered once and kept, since escaping its ~130 KB and
/// copying what it is made of was most of a view's time once the answer was kept.
#[derive(Template)]
#[template(path = "analysis/templates/analysis_content.html")]
struct AnalysisContent<'a> {
    c: crate::kit::Words,
    /// The filter form's fields (the shared form template reads `filters`).
    filters: &'a [FieldView],
    body: &'a AnalysisBody,
}

impl AnalysisContent<'_> {
    fn html(body: &AnalysisBody, locale: Locale) -> Result<std::sync::Arc<str>, WebError> {
        let c = crate::kit::Words { locale };
        let page = AnalysisContent { c, filters: &body.filters, body };
        Ok(page.render().map_err(|e| WebError::Internal(e.to_string()))?.into())
    }
}

/// What the analysis page shows of an answer: worked out once per data version for
/// each organization, language and question (the map, the charts and the tables by
/// week over years took ~5 ms of CPU per view).
struct AnalysisBody {
    summary: String,
    method: String,
    filters: Vec<FieldView>,
    episodes: Vec<EpisodeView>,
    tables: Vec<(String, &'static str, Vec<TallyRow>)>,
    compare: Option<(String, Vec<CompareView>)>,
    /// (title, id, drawing) of each chart.
    charts: Vec<(String, &'static str, String)>,
    status: Vec<StatusRow>,
    query: String,
    map: String,
}

/// A group's label, attempts, refusals and refusal rate.
type TallyRow = (String, usize, usize, String);
/// A facility before and after: label, attempts, refused, rate, then the same after, and the change.
type CompareView = (String, usize, usize, String, usize, usize, String, String);

fn table<K>(rows: BTreeMap<K, Tally>, label: impl Fn(&K) -> String) -> Vec<TallyRow> {
    rows.iter().map(|(k, t)| (label(k), t.attempts, t.refusals, pct(t))).collect()
}

fn tables(a: &Analysis, l: Locale) -> Vec<(String, &'static str, Vec<TallyRow>)> {
    let fac_name = |id: &i64| a.facilities.get(id).map(|f| f.draft.name.clone()).unwrap_or_default();
    let org_name = |id: &i64| a.orgs.get(id).cloned().unwrap_or_default();
    vec![
        (tr(l, "analysis-by-facility"), "by-facility", table(tally_cells(&a.cells.cells, |c| c.facility_id), fac_name)),
        (tr(l, "analysis-by-org"), "by-org", table(tally_cells(&a.cells.cells, |c| c.org_id), org_name)),
        (tr(l, "analysis-by-month"), "by-month", table(tally_cells(&a.cells.cells, |c| c.month), month_label)),
        (tr(l, "analysis-by-week"), "by-week", table(a.cells.weeks.clone(), |d| date_of_day(*d).to_string())),
    ]
}

/// The refusal rate as bars (`by-month` or `by-facility`), against the rate over the
/// whole selection: bars above it are drawn in the alarm color.
fn chart(a: &Analysis, l: Locale, which: &str) -> Option<(String, String, String)> {
    let (title, rows): (String, Vec<(String, Tally)>) = match which {
        "by-month" => (
            tr(l, "analysis-chart-month"),
            tally_cells(&a.cells.cells, |c| c.month).iter().map(|(m, t)| (month_label(m), *t)).collect(),
        ),
        "by-facility" => (
            tr(l, "analysis-chart-facility"),
            tally_cells(&a.cells.cells, |c| c.facility_id)
                .iter()
                .map(|(id, t)| (a.facilities.get(id).map(|f| f.draft.name.clone()).unwrap_or_default(), *t))
                .collect(),
        ),
        _ => return None,
    };
    let all = rows.iter().fold(Tally::default(), |acc, (_, t)| Tally {
        attempts: acc.attempts + t.attempts,
        refusals: acc.refusals + t.refusals,
    });
    let overall = all.rate().unwrap_or(0.0);
    // Months that overlap a flagged episode, as the chart labels them.
    let flagged_months: std::collections::HashSet<String> = a
        .episodes
        .iter()
        .flat_map(|e| {
            let (first, last) = (
                i32::from(e.start.year()) * 12 + i32::from(e.start.month()) - 1,
                i32::from(e.end.year()) * 12 + i32::from(e.end.month()) - 1,
            );
            (first..=last).map(|k| month_label(&((k / 12) * 100 + k % 12 + 1)))
        })
        .collect();
    let bars: Vec<crate::kit::chart::Bar> = rows
        .iter()
        .map(|(label, t)| crate::kit::chart::Bar {
            shaded: which == "by-month" && flagged_months.contains(label),
            label: label.clone(),
            value: t.rate().unwrap_or(0.0),
            shown: t.rate().map(|r| format!("{:.0} %", r * 100.0)).unwrap_or_default(),
            tip: if which == "by-month" && flagged_months.contains(label) {
                format!("{label}: {} ({} / {}). {}", pct(t), t.refusals, t.attempts, tr(l, "analysis-flagged"))
            } else {
                format!("{label}: {} ({} / {})", pct(t), t.refusals, t.attempts)
            },
            alarm: t.rate().unwrap_or(0.0) > overall,
        })
        .collect();
    let line = format!("{:.0} %", overall * 100.0);
    let svg = crate::kit::chart::shaded_bars(
        &format!("chart-{which}"),
        &title,
        &bars,
        0.0,
        Some((overall, &line)),
        &tr(l, "analysis-flagged"),
    );
    let head = if which == "by-month" { "chart-month" } else { "field-facility_id" };
    let table = crate::kit::chart::figures(&tr(l, "chart-figures"), (&tr(l, head), &tr(l, "analysis-rate")), &bars);
    Some((title, svg, table))
}

/// The filter form, with the reasons for bad values.
fn filter_fields(
    a: Option<&Analysis>,
    q: &HashMap<String, String>,
    errors: &ValidationErrors,
    l: Locale,
) -> Vec<FieldView> {
    let sel = |k: &str| q.get(k).map(String::as_str);
    let fv = |name: &'static str, label_key: &str, input: &'static str| {
        FieldView::new(l, name, label_key, input, q.get(name).cloned().unwrap_or_default(), false, errors)
    };
    let mut facility = fv("facility_id", "field-facility_id", "select");
    let mut state = fv("state", "field-state_code", "select");
    let mut org = fv("org_id", "access-org", "select");
    if let Some(a) = a {
        let mut sorted: Vec<&Facility> = a.facilities.values().collect();
        sorted.sort_by(|x, y| x.draft.name.cmp(&y.draft.name));
        let option = |value: String, label: String, key: &str| OptionView {
            selected: sel(key) == Some(value.as_str()),
            value,
            label,
        };
        facility.options =
            sorted.iter().map(|f| option(f.id.to_string(), f.draft.name.clone(), "facility_id")).collect();
        let states: std::collections::BTreeSet<(&str, &str)> =
            sorted.iter().filter_map(|f| f.state().map(|s| (s.name, s.code))).collect();
        state.options = states.into_iter().map(|(name, code)| option(code.into(), name.into(), "state")).collect();
        let mut orgs: Vec<(&i64, &String)> = a.orgs.iter().collect();
        orgs.sort_by(|x, y| x.1.cmp(y.1));
        org.options = orgs.into_iter().map(|(id, name)| option(id.to_string(), name.clone(), "org_id")).collect();
    }
    let mut purpose = fv("purpose", "field-purpose", "select");
    purpose.options = crate::kit::options(l, "purpose", Purpose::ALL, Purpose::as_str, sel("purpose"));
    vec![
        facility,
        state,
        org,
        purpose,
        fv("from", "field-from", "date"),
        fv("until", "field-until", "date"),
        fv("compare", "analysis-compare", "date"),
    ]
}

async fn page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let l: Locale = ctx.locale;
    let user = ctx.require_user()?.clone();
    let key = format!("{}|{l:?}|{}", user.org_id, question_key(&q));
    let content = || async { AnalysisContent::html(&body(&st, &ctx, &q).await?, l) };
    match crate::kit::kept::kept(&st, "analysis-page", key, content).await {
        Ok(content) => render(StatusCode::OK, &AnalysisPage { c: Chrome::new(&ctx, "/access/analysis"), content }),
        Err(WebError::Invalid(errors)) => {
            // The form again with its reasons, over nothing.
            let body = AnalysisBody {
                map: String::new(),
                status: Vec::new(),
                query: String::new(),
                filters: filter_fields(None, &q, &errors, l),
                summary: String::new(),
                method: String::new(),
                episodes: Vec::new(),
                tables: Vec::new(),
                compare: None,
                charts: Vec::new(),
            };
            let content = AnalysisContent::html(&body, l)?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &AnalysisPage { c: Chrome::new(&ctx, "/access/analysis"), content },
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// The page's content for a question (an invalid one is an error).
async fn body(st: &AppState, ctx: &Ctx, q: &HashMap<String, String>) -> Result<AnalysisBody, WebError> {
    let l: Locale = ctx.locale;
    let a = analyse(st, ctx, q, true).await?;
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
            sureness: sureness(l, e),
            p_value: format!("{:.1e}", e.p_value),
            link: format!("/access?from={}&until={}", e.start, e.end),
        })
        .collect();
    let query =
        serde_urlencoded::to_string(q.iter().filter(|(k, _)| *k != "table").collect::<Vec<_>>()).unwrap_or_default();
    let compare = a.compared.as_ref().map(|(date, _, _)| {
        let rows = compare_rows(&a)
            .into_iter()
            .map(|(name, b, af, change)| {
                (name, b.attempts, b.refusals, pct(&b), af.attempts, af.refusals, pct(&af), change)
            })
            .collect();
        (tr_args(l, "analysis-compare-title", &[("date", date.to_string())]), rows)
    });
    Ok(AnalysisBody {
        map: access_map(&a, l),
        status: status(&a, l),
        query,
        filters: filter_fields(Some(&a), q, &ValidationErrors::new(), l),
        summary: tr_args(l, "analysis-summary", &[("count", a.attempts().to_string())]),
        method: tr_args(
            l,
            "analysis-method",
            &[
                ("orgs", a.settings.min_orgs.to_string()),
                ("facilities", a.settings.min_facilities.to_string()),
                ("days", a.settings.window_lengths().iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
                ("alpha", a.settings.alpha.to_string()),
            ],
        ),
        episodes,
        tables: tables(&a, l),
        compare,
        charts: ["by-month", "by-facility"]
            .into_iter()
            .filter_map(|id| chart(&a, l, id).map(|(title, svg, table)| (title, id, svg + &table)))
            .filter(|_| a.attempts() > 0)
            .collect(),
    })
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
    let a = analyse(&st, &ctx, &q, true).await?;
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
            &[
                "start",
                "end",
                "organizations",
                "facilities",
                "attempts",
                "refusals",
                "expected",
                "p_value",
                "window_days",
                "how_sure",
            ],
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
                    e.scale_days.to_string(),
                    sureness(l, e),
                ]
            }),
        ),
        "by-facility" | "by-org" | "by-month" | "by-week" => {
            let Some((_, _, rows)) = tables(&a, l).into_iter().find(|(_, id, _)| *id == which) else {
                return Err(WebError::NotFound.into());
            };
            let label = match which.as_str() {
                "by-facility" => tr(l, "field-facility_id"),
                "by-org" => tr(l, "access-org"),
                "by-week" => tr(l, "analysis-week"),
                _ => "month".to_string(),
            };
            tally_csv(&label, rows)
        }
        "compare" => vigia_domain::export::csv(
            &[
                &tr(l, "field-facility_id"),
                &format!("{} ({})", tr(l, "analysis-attempts"), tr(l, "analysis-before")),
                &format!("{} ({})", tr(l, "analysis-refused"), tr(l, "analysis-before")),
                &format!("{} ({})", tr(l, "analysis-attempts"), tr(l, "analysis-after")),
                &format!("{} ({})", tr(l, "analysis-refused"), tr(l, "analysis-after")),
                &tr(l, "analysis-change"),
            ],
            compare_rows(&a).into_iter().map(|(name, b, af, change)| {
                vec![
                    name,
                    b.attempts.to_string(),
                    b.refusals.to_string(),
                    af.attempts.to_string(),
                    af.refusals.to_string(),
                    change,
                ]
            }),
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
    let flagged: std::collections::HashSet<i64> =
        a.episodes.iter().flat_map(|e| e.facilities.iter().copied()).collect();
    let mut latest: HashMap<i64, &Attempt> = HashMap::new();
    for at in &a.latest {
        let e = latest.entry(at.draft.facility_id).or_insert(at);
        if (at.draft.attempted_at, at.id) > (e.draft.attempted_at, e.id) {
            *e = at;
        }
    }
    // In the facilities' order, so the same data draws the same map (the points were
    // in a hash map's order, a new one on every request).
    let mut facilities: Vec<&Facility> = a.facilities.values().collect();
    facilities.sort_by_key(|f| f.id);
    let dots: Vec<crate::kit::map::Dot> = facilities
        .into_iter()
        .filter(|f| a.shows_facility(f))
        .filter_map(|f| {
            let (lat, lon) = (f.draft.latitude?, f.draft.longitude?);
            let last = latest.get(&f.id);
            let outcome = last
                .map(|x| crate::kit::label(l, "outcome", x.draft.outcome.as_str()))
                .unwrap_or_else(|| tr(l, "facility-unknown"));
            let when =
                last.map(|x| vigia_domain::format_local(x.draft.attempted_at, f.time_zone())).unwrap_or_default();
            Some(crate::kit::map::Dot {
                lat,
                lon,
                class: crate::kit::map::class_of(last.map(|x| x.draft.outcome)),
                label: if flagged.contains(&f.id) {
                    format!("{}: {outcome} {when}. {}", f.draft.name, tr(l, "analysis-flagged"))
                } else {
                    format!("{}: {outcome} {when}", f.draft.name)
                },
                href: format!("/facilities/{}", f.id),
                flagged: flagged.contains(&f.id),
            })
        })
        .collect();
    crate::kit::map::render(&tr(l, "analysis-map"), &dots)
}

/// A chart of the page (`chart` = by-month or by-facility) as a standalone SVG file.
async fn chart_svg(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(mut q): Query<HashMap<String, String>>,
) -> Result<axum::response::Response, crate::error::PageError> {
    use axum::response::IntoResponse;
    let which = q.remove("chart").unwrap_or_else(|| "by-month".into());
    let a = analyse(&st, &ctx, &q, false).await?;
    let (_, svg, _) = chart(&a, ctx.locale, &which).ok_or(WebError::NotFound)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml; charset=utf-8".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"vigia-{which}.svg\"")),
        ],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}"),
    )
        .into_response())
}

/// The same map as a standalone SVG file.
async fn map_svg(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::response::Response, crate::error::PageError> {
    use axum::response::IntoResponse;
    let user = ctx.require_user()?.clone();
    let key = format!("{}|{:?}|{}", user.org_id, ctx.locale, question_key(&q));
    let svg = crate::kit::kept::kept(&st, "analysis-map", key, || async {
        let a = analyse(&st, &ctx, &q, true).await?;
        Ok(axum::body::Bytes::from(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            access_map(&a, ctx.locale)
        )))
    })
    .await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"vigia-access-map.svg\""),
        ],
        svg,
    )
        .into_response())
}
