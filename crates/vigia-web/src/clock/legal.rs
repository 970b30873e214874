//! The rules page: every calendar, every deadline and violation rule Vigía applies, and
//! the laws information requests are counted under,
//! with the article, its published text (or a summary that says it is one), the version
//! of the law, what the software does with it and what the text leaves open. Built
//! from the same data the engine counts with (the calendar data, the agency days an
//! administrator entered, and the rules' own texts), so the page cannot drift from
//! what the clock does. Public, like the clock: the law is public.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use vigia_domain::account::Locale;
use vigia_domain::clock::{Calendar, Calendars, Rule, When};
use vigia_domain::deadline::{self, LegalText, RuleId, ViolationKind};
use vigia_store::CalendarRule;

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::i18n::{tr, tr_args};
use crate::kit::label;
use crate::kit::{render, Chrome, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default().get("/legal", page).get("/api/v1/legal", api)
}

/// One rule of a calendar: a day that does not count (or that the text leaves open).
#[derive(Debug, Clone, Serialize)]
pub struct DayRule {
    pub label: String,
    pub source: String,
    /// When the rule applies, in words ("every year", "2024-10-01 to 2024-10-01").
    pub when: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CalendarView {
    pub name: String,
    pub title: String,
    pub source: String,
    pub version: Option<String>,
    pub quote: Option<String>,
    pub summary: Option<String>,
    pub extends: Option<String>,
    pub weekends: Option<String>,
    pub rules: Vec<DayRule>,
    pub open_days: Vec<DayRule>,
    /// Days and periods an administrator entered from DOF agreements, with their source.
    pub declared: Vec<DayRule>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TextView {
    pub id: &'static str,
    pub name: String,
    pub article: &'static str,
    pub limit: String,
    pub calendar: Option<String>,
    pub quote: Option<&'static str>,
    pub summary: &'static str,
    pub version: &'static str,
    pub does: &'static str,
    pub open: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rules {
    pub calendars: Vec<CalendarView>,
    pub deadlines: Vec<TextView>,
    pub violations: Vec<TextView>,
    /// The laws access-to-information requests are counted under (issue #20).
    pub requests: Vec<RegimeView>,
}

/// A transparency regime as the rules page shows it: each deadline with its days,
/// article and quoted words, and what could not be verified and is not computed.
#[derive(Debug, Clone, Serialize)]
pub struct RegimeView {
    pub name: String,
    pub title: String,
    pub version: String,
    pub days: String,
    pub rules: Vec<(String, String, String, String)>,
    pub unverified: Vec<String>,
    pub notes: Option<String>,
}

fn regime_view(l: Locale, r: &vigia_domain::transparency::Regime, calendars: &Calendars) -> RegimeView {
    let what = |k: vigia_domain::transparency::DeadlineKind| tr(l, &format!("req-deadline-{}", k.as_str()));
    RegimeView {
        name: r.name.clone(),
        title: r.title(l).to_string(),
        version: r.version(l).to_string(),
        days: match &r.days_article {
            Some(a) => tr_args(l, "req-days-working", &[("article", a.clone())]),
            None => tr(l, "req-days-working-unverified"),
        },
        rules: r
            .rules
            .iter()
            .map(|x| {
                let cal = calendars.get(x.calendar(r)).map(|c| c.title(l).to_string()).unwrap_or_default();
                (
                    what(x.kind),
                    format!("{} · {cal}", tr_args(l, "req-working-days", &[("n", x.days.to_string())])),
                    x.article.clone(),
                    x.quote.clone(),
                )
            })
            .collect(),
        unverified: r.unverified.iter().map(|k| what(*k)).collect(),
        notes: r.notes(l).map(str::to_string),
    }
}

fn when(l: Locale, w: &When, r: &Rule) -> String {
    let base = match w {
        When::Fixed { .. } | When::NthWeekday { .. } => tr(l, "legal-every-year"),
        When::EverySixYears { base_year, .. } => {
            tr_args(l, "legal-every-six-years", &[("year", base_year.to_string())])
        }
        When::Date { date } => date.clone(),
        When::Range { start, end } => format!("{start} – {end}"),
    };
    // "every six years from 2024 (from 2024-01-01)" says the start twice.
    let from = match w {
        When::EverySixYears { base_year, .. } => r.from.clone().filter(|f| !f.starts_with(&base_year.to_string())),
        _ => r.from.clone(),
    };
    match (&from, &r.until) {
        (Some(f), Some(u)) => format!("{base} ({f} – {u})"),
        (Some(f), None) => format!("{base} ({})", tr_args(l, "legal-from", &[("date", f.clone())])),
        (None, Some(u)) => format!("{base} ({})", tr_args(l, "legal-until", &[("date", u.clone())])),
        (None, None) => base,
    }
}

fn day_rule(l: Locale, r: &Rule) -> DayRule {
    DayRule {
        label: match l {
            Locale::Es => r.label_es.clone(),
            Locale::En => r.label_en.clone(),
        },
        source: r.source.clone(),
        when: when(l, &r.when, r),
    }
}

fn calendar_view(l: Locale, c: &Calendar, all: &Calendars, declared: &[CalendarRule]) -> CalendarView {
    let s = &c.spec;
    let pick = |es: &Option<String>, en: &Option<String>| match l {
        Locale::Es => es.clone(),
        Locale::En => en.clone(),
    };
    CalendarView {
        name: s.name.clone(),
        title: c.title(l).to_string(),
        source: s.source.clone(),
        version: c.version(l).map(str::to_string),
        quote: s.quote.clone(),
        summary: pick(&s.summary_es, &s.summary_en),
        extends: s.extends.as_ref().and_then(|p| all.get(p).ok()).map(|p| p.title(l).to_string()),
        weekends: s.weekends.then(|| match &s.weekends_source {
            Some(src) => tr_args(l, "legal-weekends-source", &[("source", src.clone())]),
            None => tr(l, "legal-weekends"),
        }),
        rules: s.rules.iter().map(|r| day_rule(l, r)).collect(),
        open_days: s.open_days.iter().map(|r| day_rule(l, r)).collect(),
        declared: declared
            .iter()
            .filter(|d| d.calendar == s.name)
            .map(|d| DayRule {
                label: match l {
                    Locale::Es => d.label_es.clone(),
                    Locale::En => d.label_en.clone(),
                },
                source: d.source.clone(),
                when: if d.start_date == d.end_date {
                    d.start_date.clone()
                } else {
                    format!("{} – {}", d.start_date, d.end_date)
                },
            })
            .collect(),
        notes: c.notes(l).iter().map(|n| n.to_string()).collect(),
    }
}

fn text_view(
    l: Locale,
    id: &'static str,
    name: String,
    limit: String,
    calendar: Option<String>,
    t: LegalText,
) -> TextView {
    TextView {
        id,
        name,
        article: t.article,
        limit,
        calendar,
        quote: t.quote,
        summary: t.summary(l),
        version: t.version(l),
        does: t.does(l),
        open: t.open(l),
    }
}

/// The limit a rule sets, in words, from the same constants the engine counts with.
fn limit(l: Locale, r: RuleId) -> String {
    let n = |v: u32| v.to_string();
    match r {
        RuleId::Detention36h => tr_args(l, "legal-limit-hours", &[("hours", n(deadline::THRESHOLD_HOURS))]),
        RuleId::DetentionMax => tr_args(
            l,
            "legal-limit-detention",
            &[("days", n(deadline::DETENTION_DAYS)), ("extended", n(deadline::DETENTION_DAYS_EXTENDED))],
        ),
        RuleId::AsylumFiling => tr_args(l, "legal-limit-days", &[("days", n(deadline::ASYLUM_FILING_DAYS))]),
        RuleId::ComarDecision => tr_args(
            l,
            "legal-limit-comar",
            &[("days", n(deadline::COMAR_DECISION_DAYS)), ("extended", n(2 * deadline::COMAR_DECISION_DAYS))],
        ),
        RuleId::Appeal => tr_args(l, "legal-limit-days", &[("days", n(deadline::APPEAL_DAYS))]),
        RuleId::AmparoAnyTime => tr(l, "deadline-any-time"),
    }
}

/// The calendars the deadlines use first (LFPA and the agencies that build on it),
/// then amparo, then the labour law shipped for comparison, then any other.
fn ordered(calendars: &Calendars) -> impl Iterator<Item = &Calendar> {
    const FIRST: [&str; 5] = ["lfpa", "inm", "comar", "amparo", "lft"];
    let rest = calendars.names().filter(|n| !FIRST.contains(n));
    FIRST.into_iter().filter_map(|n| calendars.get(n).ok()).chain(rest.filter_map(|n| calendars.get(n).ok()))
}

/// Every rule, in the reader's language.
pub fn rules(
    l: Locale,
    calendars: &Calendars,
    declared: &[CalendarRule],
    regimes: &vigia_domain::transparency::Regimes,
) -> Rules {
    let cal_title = |name: &str| calendars.get(name).ok().map(|c| c.title(l).to_string());
    Rules {
        calendars: ordered(calendars).map(|c| calendar_view(l, c, calendars, declared)).collect(),
        deadlines: RuleId::ALL
            .iter()
            .map(|r| {
                let calendar = r.calendar().and_then(cal_title);
                text_view(l, r.as_str(), label(l, "rule", r.as_str()), limit(l, *r), calendar, r.text())
            })
            .collect(),
        violations: ViolationKind::ALL
            .iter()
            .map(|v| text_view(l, v.as_str(), label(l, "violation", v.as_str()), String::new(), None, v.text()))
            .collect(),
        requests: regimes.all().map(|r| regime_view(l, r, calendars)).collect(),
    }
}

async fn load(st: &AppState, l: Locale) -> Result<Rules, WebError> {
    let calendars = vigia_store::calendars(&*st.store).await?;
    let declared = st.store.calendar_rules().await?;
    let regimes = vigia_app::transparency::regimes(&st.store).await?;
    Ok(rules(l, &calendars, &declared, &regimes))
}

#[derive(Template)]
#[template(path = "clock/templates/legal.html")]
struct LegalPage {
    c: Chrome,
    r: Rules,
}

async fn page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let r = load(&st, ctx.locale).await?;
    render(StatusCode::OK, &LegalPage { c: Chrome::new(&ctx, "/legal"), r })
}

async fn api(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> Result<Response, ApiError> {
    let r = load(&st, ctx.locale).await?;
    Ok(Json(r).into_response())
}
