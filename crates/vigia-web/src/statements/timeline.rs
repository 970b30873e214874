//! The statements timeline: one lane per authority, the access outcomes the viewer may
//! see underneath, and the detected contradictions drawn between them. Server-rendered
//! SVG (no script), zoomed by links from hours to years, printable, and downloadable as
//! SVG and CSV.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use vigia_domain::account::Locale;
use vigia_domain::input::RawInput;
use vigia_domain::statement::{describe_gap, Rule};
use vigia_domain::{format_instant, format_local, Micros, ValidationErrors};

use crate::auth::Ctx;
use crate::error::WebError;
use crate::i18n::{tr, tr_args};
use crate::kit::{render, Chrome, PageResult};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default().get("/statements/timeline", timeline_page)
}

const ZONE: &str = vigia_domain::geo::LEGAL_TIME_ZONE;
const HOUR: Micros = 3_600_000_000;
const DAY: Micros = 24 * HOUR;
const WIDTH: f64 = 1000.0;
const LEFT: f64 = 130.0;
const LANE: f64 = 46.0;

/// The window shown, and the format asked for.
struct Window {
    from: Micros,
    until: Micros,
    format: &'static str,
}

fn instant(raw: &RawInput, field: &str, errs: &mut ValidationErrors) -> Option<Micros> {
    let t = raw.text(field, 40, errs)?;
    let v = vigia_domain::access::parse_local_instant(&t, ZONE).or_else(|| {
        format!("{t}T00:00")
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|d| d.in_tz(ZONE).ok())
            .map(|z| z.timestamp().as_microsecond())
    });
    if v.is_none() {
        errs.push(vigia_domain::FieldError::new(field, "expected_datetime"));
    }
    v
}

fn window(q: &HashMap<String, String>, default: (Micros, Micros)) -> Result<Window, WebError> {
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["from", "until", "format"], &mut errs);
    let from = instant(&raw, "from", &mut errs).unwrap_or(default.0);
    let until = instant(&raw, "until", &mut errs).unwrap_or(default.1);
    if until <= from {
        errs.push(vigia_domain::FieldError::new("until", "before_start"));
    }
    if until - from > 30 * 366 * DAY {
        errs.push(vigia_domain::FieldError::new("until", "range_too_long"));
    }
    let format = match raw.text("format", 10, &mut errs).as_deref() {
        None | Some("html") => "html",
        Some("svg") => "svg",
        Some("csv") => "csv",
        Some(_) => {
            errs.push(vigia_domain::FieldError::new("format", "unknown_choice"));
            "html"
        }
    };
    Ok(errs.into_result(Window { from, until, format })?)
}

const MONTHS_ES: [&str; 12] = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"];
const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Tick marks for a span: hours, days, months or years, in Mexico City time, with month
/// names in the reader's language.
fn ticks(l: Locale, from: Micros, until: Micros) -> Vec<(Micros, String)> {
    let months = match l {
        Locale::Es => MONTHS_ES,
        Locale::En => MONTHS_EN,
    };
    let span = until - from;
    let tz = jiff::tz::TimeZone::get(ZONE).unwrap_or(jiff::tz::TimeZone::UTC);
    let Ok(start) = jiff::Timestamp::from_microsecond(from) else { return Vec::new() };
    let start = start.to_zoned_datetime(tz.clone());
    let (step, fmt, floor): (jiff::Span, &str, jiff::civil::DateTime) = if span <= 2 * DAY {
        (jiff::Span::new().hours(3), "%d %%b %H:%M", start.datetime().date().to_datetime(jiff::civil::Time::midnight()))
    } else if span <= 62 * DAY {
        let days = if span <= 14 * DAY { 1 } else { 7 };
        (jiff::Span::new().days(days), "%d %%b", start.datetime().date().to_datetime(jiff::civil::Time::midnight()))
    } else if span <= 3 * 366 * DAY {
        (
            jiff::Span::new().months(1),
            "%%b %Y",
            jiff::civil::date(start.year(), start.month(), 1).to_datetime(jiff::civil::Time::midnight()),
        )
    } else {
        (
            jiff::Span::new().years(1),
            "%Y",
            jiff::civil::date(start.year(), 1, 1).to_datetime(jiff::civil::Time::midnight()),
        )
    };
    let mut out = Vec::new();
    let mut t = floor;
    for _ in 0..200 {
        let Ok(z) = t.in_tz(ZONE) else { break };
        let at = z.timestamp().as_microsecond();
        if at > until {
            break;
        }
        if at >= from {
            let month = months[usize::from(z.month().unsigned_abs()).saturating_sub(1) % 12];
            out.push((at, z.strftime(fmt).to_string().replace("%b", month)));
        }
        match t.checked_add(step) {
            Ok(n) => t = n,
            Err(_) => break,
        }
    }
    out
}

fn x_of(at: Micros, w: &Window) -> f64 {
    LEFT + (WIDTH - LEFT - 20.0) * ((at - w.from) as f64 / (w.until - w.from).max(1) as f64)
}

/// What the timeline draws, gathered once for the page, the SVG and the CSV.
struct Data {
    lanes: Vec<String>,
    /// (statement id, authority, instant, text excerpt)
    statements: Vec<(i64, String, Micros, String)>,
    /// (instant, refused)
    attempts: Vec<(Micros, bool)>,
    /// (rule, statement ids, gap text)
    detections: Vec<(Rule, Vec<i64>, Option<String>)>,
}

async fn gather(st: &AppState, viewer_org: i64) -> Result<Data, WebError> {
    let vigia_app::findings::Evidence { statements, found } =
        vigia_app::findings::evidence(&st.store, &st.analyses, viewer_org).await?;
    let lanes: BTreeSet<String> = statements.iter().map(|s| s.draft.authority.clone()).collect();
    Ok(Data {
        lanes: lanes.into_iter().collect(),
        statements: statements
            .iter()
            .map(|s| (s.id, s.draft.authority.clone(), s.draft.published_at, s.draft.text.chars().take(120).collect()))
            .collect(),
        attempts: Vec::new(),
        detections: found.iter().map(|d| (d.rule, d.statements.clone(), d.gap.map(describe_gap))).collect(),
    })
}

/// The SVG: lanes, statements, access outcomes, contradictions, axis. Colors are
/// attributes (the CSP allows no inline styles).
fn svg(l: Locale, d: &Data, w: &Window) -> String {
    let esc = crate::kit::esc;
    let access_y = 40.0 + LANE * d.lanes.len() as f64 + 20.0;
    let height = access_y + 70.0;
    let lane_y: HashMap<&str, f64> =
        d.lanes.iter().enumerate().map(|(i, a)| (a.as_str(), 40.0 + LANE * i as f64 + LANE / 2.0)).collect();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" role=\"group\" aria-labelledby=\"tl-title\" id=\"timeline-svg\">\
         <title id=\"tl-title\">{}</title><rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>",
        esc(&tr_args(l, "timeline-svg-title", &[("from", format_local(w.from, ZONE)), ("until", format_local(w.until, ZONE))]))
    );
    for (at, label) in ticks(l, w.from, w.until) {
        let x = x_of(at, w);
        out.push_str(&format!(
            "<line x1=\"{x:.1}\" y1=\"30\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#e2e2e2\"/><text x=\"{x:.1}\" y=\"22\" font-size=\"11\" text-anchor=\"middle\" fill=\"#444\" class=\"tick\">{}</text>",
            access_y + 40.0,
            esc(&label)
        ));
    }
    for (a, y) in &lane_y {
        out.push_str(&format!(
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#bbbbbb\"/><text x=\"8\" y=\"{:.1}\" font-size=\"13\" fill=\"#222\">{}</text>",
            WIDTH - 20.0,
            y + 4.0,
            esc(&crate::kit::label(l, "authority", a))
        ));
    }
    out.push_str(&format!(
        "<text x=\"8\" y=\"{:.1}\" font-size=\"13\" fill=\"#222\">{}</text>",
        access_y + 20.0,
        esc(&tr(l, "timeline-access"))
    ));
    let pos: HashMap<i64, (f64, f64)> = d
        .statements
        .iter()
        .filter(|(_, _, at, _)| *at >= w.from && *at <= w.until)
        .map(|(id, a, at, _)| (*id, (x_of(*at, w), lane_y.get(a.as_str()).copied().unwrap_or(40.0))))
        .collect();
    for (rule, ids, gap) in &d.detections {
        let color = match rule {
            Rule::Conflict => "#b3261e",
            Rule::Reversal => "#7a4eb0",
            Rule::WordsAgainstPractice => "#c06000",
        };
        let rule_label = tr(l, &format!("rule-{}", rule.as_str()));
        match (ids.first().and_then(|i| pos.get(i)), ids.get(1).and_then(|i| pos.get(i))) {
            (Some((x1, y1)), Some((x2, y2))) => out.push_str(&format!(
                "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{color}\" stroke-width=\"2.5\" class=\"contradiction\"><title>{}</title></line>",
                esc(&format!("{rule_label} · {}", gap.clone().unwrap_or_default()))
            )),
            (Some((x1, y1)), None) if *rule == Rule::WordsAgainstPractice => out.push_str(&format!(
                "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x1:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"4 3\" class=\"contradiction\"><title>{}</title></line>",
                access_y + 30.0,
                esc(&rule_label)
            )),
            _ => {}
        }
    }
    for (id, _, at, text) in &d.statements {
        if let Some((x, y)) = pos.get(id) {
            out.push_str(&format!(
                "<a href=\"/statements/{id}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" fill=\"#1a5fb4\" stroke=\"#ffffff\" stroke-width=\"2\" class=\"statement\"><title>{}</title></circle></a>",
                esc(&format!("{} — {text}", format_local(*at, ZONE)))
            ));
        }
    }
    for (at, refused) in d.attempts.iter().filter(|(at, _)| *at >= w.from && *at <= w.until) {
        let x = x_of(*at, w);
        let (y, color) = if *refused { (access_y + 36.0, "#b3261e") } else { (access_y + 24.0, "#2e7d32") };
        out.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"2\" height=\"10\" fill=\"{color}\" class=\"attempt\"/>",
            x - 1.0
        ));
    }
    out.push_str("</svg>");
    out
}

#[derive(Template)]
#[template(path = "statements/templates/timeline.html")]
struct TimelinePage {
    c: Chrome,
    range: String,
    svg: String,
    zoom: Vec<(String, String)>,
    svg_link: String,
    csv_link: String,
    shown: usize,
    /// The same statements as a list, oldest first: what a screen reader or a small screen
    /// reads instead of the drawing. (id, when, authority, words, contradictions in words)
    items: Vec<(i64, String, String, String, String)>,
}

fn link(from: Micros, until: Micros, format: &str) -> String {
    let f = |t: Micros| format_instant(t).replace(':', "%3A");
    let mut s = format!("/statements/timeline?from={}&until={}", f(from), f(until));
    if format != "html" {
        s.push_str(&format!("&format={format}"));
    }
    s
}

async fn timeline_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    let mut data = gather(&st, user.org_id).await?;
    let default = match (data.statements.iter().map(|s| s.2).min(), data.statements.iter().map(|s| s.2).max()) {
        (Some(a), Some(b)) => (a - 2 * DAY, b + 2 * DAY),
        _ => (vigia_store::now_micros() - 30 * DAY, vigia_store::now_micros()),
    };
    let w = window(&q, default)?;
    // The access outcomes drawn: the window's attempts the viewer may see, time and
    // outcome only.
    data.attempts = st
        .store
        .attempt_outcomes(user.org_id, None, w.from, w.until + 1)
        .await?
        .into_iter()
        .map(|(at, outcome)| (at, outcome.is_refusal()))
        .collect();
    match w.format {
        "svg" => {
            let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", svg(l, &data, &w));
            return Ok((
                [
                    (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
                    (header::CONTENT_DISPOSITION, "attachment; filename=\"vigia-timeline.svg\""),
                ],
                body,
            )
                .into_response());
        }
        "csv" => {
            let rows = data.statements.iter().filter(|s| s.2 >= w.from && s.2 <= w.until).map(|(id, a, at, text)| {
                let detections: Vec<String> = data
                    .detections
                    .iter()
                    .filter(|(_, ids, _)| ids.contains(id))
                    .map(|(r, _, gap)| {
                        format!("{}{}", r.as_str(), gap.as_ref().map(|g| format!(" ({g})")).unwrap_or_default())
                    })
                    .collect();
                vec![
                    id.to_string(),
                    a.clone(),
                    format_instant(*at),
                    format_local(*at, ZONE),
                    text.clone(),
                    detections.join("; "),
                ]
            });
            let body = vigia_domain::export::csv(
                &["statement_id", "authority", "published_at", "published_local", "text", "contradictions"],
                rows,
            );
            return Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (header::CONTENT_DISPOSITION, "attachment; filename=\"vigia-timeline.csv\""),
                ],
                body,
            )
                .into_response());
        }
        _ => {}
    }
    let span = w.until - w.from;
    let mid = w.from + span / 2;
    let around = |half: Micros| (mid - half, mid + half);
    let mut zoom = vec![
        (tr(l, "timeline-zoom-in"), {
            let (a, b) = around(span / 4);
            link(a, b, "html")
        }),
        (tr(l, "timeline-zoom-out"), {
            let (a, b) = around(span);
            link(a, b, "html")
        }),
    ];
    for (key, half) in [
        ("timeline-hours", 6 * HOUR),
        ("timeline-days", 4 * DAY),
        ("timeline-months", 60 * DAY),
        ("timeline-years", 730 * DAY),
    ] {
        let (a, b) = around(half);
        zoom.push((tr(l, key), link(a, b, "html")));
    }
    let shown = data.statements.iter().filter(|s| s.2 >= w.from && s.2 <= w.until).count();
    let page = TimelinePage {
        c: Chrome::new(&ctx, "/statements/timeline"),
        range: tr_args(
            l,
            "timeline-range",
            &[("from", format_local(w.from, ZONE)), ("until", format_local(w.until, ZONE))],
        ),
        svg: svg(l, &data, &w),
        zoom,
        svg_link: link(w.from, w.until, "svg"),
        csv_link: link(w.from, w.until, "csv"),
        shown,
        items: {
            let mut inside: Vec<&(i64, String, Micros, String)> =
                data.statements.iter().filter(|s| s.2 >= w.from && s.2 <= w.until).collect();
            inside.sort_by_key(|s| (s.2, s.0));
            inside
                .into_iter()
                .map(|(id, authority, at, text)| {
                    let found: Vec<String> = data
                        .detections
                        .iter()
                        .filter(|(_, ids, _)| ids.contains(id))
                        .map(|(r, _, gap)| {
                            let rule = crate::kit::label(l, "rule", r.as_str());
                            match gap {
                                Some(g) => format!("{rule} ({g})"),
                                None => rule,
                            }
                        })
                        .collect();
                    (
                        *id,
                        format_local(*at, ZONE),
                        crate::kit::label(l, "authority", authority),
                        text.clone(),
                        found.join("; "),
                    )
                })
                .collect()
        },
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_follow_the_zoom_from_hours_to_years() {
        let t0 = vigia_domain::access::parse_local_instant("2020-01-27T00:00", ZONE).expect("t0");
        let hours = ticks(Locale::Es, t0, t0 + 12 * HOUR);
        assert!(hours.len() >= 4 && hours[1].1.contains(":00"), "{hours:?}");
        let days = ticks(Locale::Es, t0, t0 + 10 * DAY);
        assert!(days[0].1.ends_with("ene"), "{days:?}");
        assert!(days.len() >= 9 && !days[0].1.contains(':'), "{days:?}");
        let months = ticks(Locale::En, t0, t0 + 300 * DAY);
        assert!(months.iter().any(|(_, l)| l.contains("2020")));
        let years = ticks(Locale::Es, t0, t0 + 3000 * DAY);
        assert!(years.iter().all(|(_, l)| l.len() == 4));
    }
}
