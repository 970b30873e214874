//! A report's figures ([`PeriodReport`]) in words: the one [`Doc`] the page, the PDF
//! and `vigia report` draw, in the reader's language from the Fluent catalogues.

use vigia_app::reports::{PeriodReport, Suspension, VisitLine};
use vigia_domain::account::Locale;
use vigia_domain::disclosure::Cell;
use vigia_report::{Bar, Bars, Block, Doc, Figure, Table};

use crate::i18n::{tr, tr_args};
use crate::kit::grouped;

use crate::kit::document::Made;

/// At most this many contradictions are quoted; the rest are counted.
const QUOTED: usize = 40;

fn n(v: i64) -> String {
    grouped(v.unsigned_abs())
}

fn rate(refusals: i64, attempts: i64) -> String {
    if attempts <= 0 {
        return "—".into();
    }
    format!("{} %", (refusals as f64 * 100.0 / attempts as f64).round())
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Shown(v) => grouped(*v),
        Cell::Suppressed => "*".into(),
    }
}

/// The document for `r` in `l`.
pub fn document(l: Locale, r: &PeriodReport, made: &Made) -> Doc {
    let t = |k: &str| tr(l, k);
    let ta = |k: &str, args: &[(&str, String)]| tr_args(l, k, args);
    let title = match &r.facility {
        Some(f) => ta("rep-title-dossier", &[("facility", f.name.clone())]),
        None => t("rep-title-period"),
    };
    let mut lines = vec![if r.partners.is_empty() {
        ta("rep-line-org", &[("org", r.organization.clone())])
    } else {
        ta("rep-line-coalition", &[("org", r.organization.clone()), ("partners", r.partners.join(", "))])
    }];
    lines.push(ta("rep-line-period", &[("from", r.from.to_string()), ("until", r.until.to_string())]));
    if let Some(f) = &r.facility {
        let capacity = f.capacity.map_or_else(|| t("rep-unknown"), n);
        let state = vigia_domain::geo::state(&f.state_code)
            .map_or_else(|| f.state_code.clone(), |s| format!("{} · {}", f.state_code, s.name));
        lines.push(ta("rep-line-facility", &[("state", state), ("capacity", capacity)]));
    }
    let mut blocks = Vec::new();
    access(l, r, &mut blocks);
    statements(l, r, &mut blocks);
    visits(l, r, &mut blocks);
    cases(l, r, &mut blocks);
    official(l, r, &mut blocks);
    recommendations(l, r, &mut blocks);
    blocks.push(Block::Heading { text: t("rep-method") });
    blocks.push(Block::Items {
        items: vec![
            t("rep-method-access"),
            t("rep-method-suspension"),
            t("rep-method-statements"),
            t("rep-method-cases"),
        ],
    });
    Doc { lang: l.as_str().to_string(), title, lines, blocks, footer: made.footer(l, &r.content_hash()) }
}

fn suspension(l: Locale, s: &Suspension) -> String {
    let words = tr_args(
        l,
        "rep-suspension",
        &[
            ("start", s.start.to_string()),
            ("end", s.end.to_string()),
            ("facilities", s.facilities.join(", ")),
            ("orgs", s.organizations.to_string()),
            ("refusals", grouped(s.refusals as u64)),
            ("attempts", grouped(s.attempts as u64)),
        ],
    );
    format!("{words} {}", crate::kit::sureness(l, s.certainty, s.one_in, s.scale_days))
}

fn access(l: Locale, r: &PeriodReport, blocks: &mut Vec<Block>) {
    let t = |k: &str| tr(l, k);
    let a = &r.access;
    blocks.push(Block::Heading { text: t("rep-access") });
    blocks.push(Block::Figures {
        items: vec![
            Figure { value: n(a.attempts), label: t("rep-attempts") },
            Figure { value: n(a.refusals), label: t("rep-refusals") },
            Figure { value: rate(a.refusals, a.attempts), label: t("rep-refusal-rate") },
        ],
    });
    blocks.push(Block::Note { text: t(if r.partners.is_empty() { "rep-access-own" } else { "rep-access-coalition" }) });
    if a.attempts == 0 {
        blocks.push(Block::Paragraph { text: t("rep-access-none") });
        return;
    }
    if a.by_facility.len() > 1 {
        blocks.push(Block::Bars(Bars {
            caption: t("rep-rate-by-facility"),
            bars: a
                .by_facility
                .iter()
                .map(|row| Bar {
                    label: row.label.clone(),
                    value: if row.attempts > 0 { row.refusals as f64 / row.attempts as f64 } else { 0.0 },
                    shown: rate(row.refusals, row.attempts),
                })
                .collect(),
        }));
    }
    let table = |caption: &str, first: &str, rows: &[vigia_app::reports::AccessRow]| {
        let mut body: Vec<Vec<String>> = rows
            .iter()
            .map(|x| vec![x.label.clone(), n(x.attempts), n(x.refusals), rate(x.refusals, x.attempts)])
            .collect();
        body.push(vec![t("report-total"), n(a.attempts), n(a.refusals), rate(a.refusals, a.attempts)]);
        Block::Table(Table {
            caption: t(caption),
            head: vec![t(first), t("rep-attempts"), t("rep-refusals"), t("rep-refusal-rate")],
            rows: body,
            numeric: vec![false, true, true, true],
            total_row: true,
        })
    };
    blocks.push(table("rep-by-facility", "rep-facility", &a.by_facility));
    blocks.push(table("rep-by-month", "rep-month", &a.by_month));
    blocks.push(Block::Subheading { text: t("rep-suspensions") });
    blocks.push(Block::Note { text: t("rep-suspensions-note") });
    if a.suspensions.is_empty() {
        blocks.push(Block::Paragraph { text: t("rep-suspensions-none") });
    } else {
        blocks.push(Block::Items { items: a.suspensions.iter().map(|s| suspension(l, s)).collect() });
    }
}

fn statements(l: Locale, r: &PeriodReport, blocks: &mut Vec<Block>) {
    let t = |k: &str| tr(l, k);
    let s = &r.statements;
    blocks.push(Block::Heading { text: t("rep-statements") });
    blocks.push(Block::Paragraph {
        text: tr_args(
            l,
            "rep-statements-count",
            &[("count", s.published.to_string()), ("found", s.contradictions.len().to_string())],
        ),
    });
    for c in s.contradictions.iter().take(QUOTED) {
        let mut head = tr(l, &format!("rule-{}", c.rule));
        if let Some(gap) = &c.gap {
            head = tr_args(l, "rep-contradiction-gap", &[("rule", head), ("gap", gap.clone())]);
        }
        blocks.push(Block::Subheading { text: head });
        for q in &c.quotes {
            let authority = crate::kit::label(l, "authority", &q.authority);
            let who = match &q.speaker {
                Some(sp) => format!("{sp}, {authority}"),
                None => authority,
            };
            let source = match &q.source_url {
                Some(u) => format!("{who} · {} · {u}", q.published),
                None => format!("{who} · {}", q.published),
            };
            blocks.push(Block::Quote { text: q.text.clone(), source });
        }
        if c.rule == "words_against_practice" {
            blocks.push(Block::Paragraph {
                text: tr_args(
                    l,
                    "rep-against-practice",
                    &[
                        ("refusals", c.refusals.to_string()),
                        ("orgs", c.organizations.to_string()),
                        ("first", c.first_day.map(|d| d.to_string()).unwrap_or_default()),
                        ("last", c.last_day.map(|d| d.to_string()).unwrap_or_default()),
                    ],
                ),
            });
        }
    }
    if s.contradictions.len() > QUOTED {
        blocks.push(Block::Note {
            text: tr_args(l, "rep-more-contradictions", &[("count", (s.contradictions.len() - QUOTED).to_string())]),
        });
    }
}

fn visit_row(l: Locale, v: &VisitLine) -> Vec<String> {
    let opt = |x: Option<i64>| x.map_or_else(|| "—".to_string(), n);
    vec![
        v.on.to_string(),
        v.facility.clone(),
        opt(v.people),
        opt(v.capacity),
        v.occupancy_pct.map_or_else(|| "—".to_string(), |p| format!("{p} %")),
        n(v.children),
        n(v.held_beyond_limit),
        v.grave_findings.to_string(),
    ]
    .into_iter()
    .map(|s| if s.is_empty() { tr(l, "rep-unknown") } else { s })
    .collect()
}

/// A flag's detail in words: how many, how full, which safeguard, which section.
fn flag_detail(l: Locale, flag: &str, detail: &str) -> String {
    match flag {
        "children_detained" | "held_beyond_limit" => tr_args(l, "rep-flag-people", &[("count", detail.to_string())]),
        "overcrowded" => {
            let pct = detail.parse::<f64>().map_or_else(|_| detail.to_string(), |o| format!("{:.0} %", o * 100.0));
            tr_args(l, "rep-flag-occupancy", &[("pct", pct)])
        }
        "safeguard_missing" => tr(l, &format!("question-{detail}")),
        "grave_finding" => tr(l, &format!("section-{detail}")),
        _ => detail.to_string(),
    }
}

fn visits(l: Locale, r: &PeriodReport, blocks: &mut Vec<Block>) {
    let t = |k: &str| tr(l, k);
    blocks.push(Block::Heading { text: t("rep-visits") });
    blocks.push(Block::Note { text: tr_args(l, "rep-visits-own", &[("org", r.organization.clone())]) });
    let v = &r.visits.visits;
    if v.is_empty() {
        blocks.push(Block::Paragraph { text: t("rep-visits-none") });
        return;
    }
    blocks.push(Block::Table(Table {
        caption: t("rep-visits-table"),
        head: [
            "rep-date",
            "rep-facility",
            "rep-people",
            "rep-capacity",
            "rep-occupancy",
            "rep-children",
            "rep-past-limit",
            "rep-grave",
        ]
        .iter()
        .map(|k| t(k))
        .collect(),
        rows: v.iter().map(|x| visit_row(l, x)).collect(),
        numeric: vec![false, false, true, true, true, true, true, true],
        total_row: false,
    }));
    let flags: Vec<String> = v
        .iter()
        .flat_map(|x| {
            x.flags.iter().map(move |f| {
                let basis = if l == Locale::En { f.basis_en } else { f.basis_es };
                tr_args(
                    l,
                    "rep-flag",
                    &[
                        ("date", x.on.to_string()),
                        ("facility", x.facility.clone()),
                        ("flag", tr(l, &format!("flag-{}", f.flag))),
                        ("detail", flag_detail(l, f.flag, &f.detail)),
                        ("basis", basis.to_string()),
                    ],
                )
            })
        })
        .collect();
    if !flags.is_empty() {
        blocks.push(Block::Subheading { text: t("rep-flags") });
        blocks.push(Block::Items { items: flags });
    }
}

fn cases(l: Locale, r: &PeriodReport, blocks: &mut Vec<Block>) {
    let t = |k: &str| tr(l, k);
    let c = &r.cases;
    blocks.push(Block::Heading { text: t("rep-cases") });
    blocks.push(Block::Note { text: t("rep-cases-note") });
    if !c.published_partners.is_empty() {
        blocks.push(Block::Note {
            text: tr_args(l, "rep-cases-published-partners", &[("orgs", c.published_partners.join(", "))]),
        });
    }
    if c.suppressed_below.is_some() {
        blocks.push(Block::Note {
            text: format!(
                "{} {}",
                t("report-suppressed"),
                tr_args(l, "report-coalition-year", &[("year", r.from.year().to_string())])
            ),
        });
    }
    let mut rows: Vec<Vec<String>> =
        c.measures.iter().zip(&c.totals).map(|(m, v)| vec![tr(l, &format!("measure-{m}")), cell(v)]).collect();
    rows.push(vec![t("rep-total-counts"), cell(&c.total)]);
    blocks.push(Block::Table(Table {
        caption: t("rep-by-measure"),
        head: vec![t("rep-measure"), t("rep-people")],
        rows,
        numeric: vec![false, true],
        total_row: true,
    }));
    if r.facility.is_none() && !c.by_facility.is_empty() {
        let mut head = vec![t("rep-facility")];
        head.extend(c.measures.iter().map(|m| tr(l, &format!("measure-{m}"))));
        head.push(t("report-total"));
        let rows = c
            .by_facility
            .iter()
            .map(|row| {
                let mut cells = vec![row.label.clone()];
                cells.extend(row.counts.iter().map(cell));
                cells.push(cell(&row.total));
                cells
            })
            .collect();
        let mut numeric = vec![true; head.len()];
        numeric[0] = false;
        blocks.push(Block::Table(Table { caption: t("rep-cases-by-facility"), head, rows, numeric, total_row: false }));
    }
}

/// The government's figures for the period, when any are imported: events, not people.
fn official(l: Locale, r: &PeriodReport, blocks: &mut Vec<Block>) {
    let t = |k: &str| tr(l, k);
    if r.official.months.is_empty() {
        return;
    }
    blocks.push(Block::Heading { text: t("rep-official") });
    blocks.push(Block::Paragraph {
        text: tr_args(l, "rep-official-intro", &[("sources", r.official.sources.join("; "))]),
    });
    if r.official.illustrative {
        blocks.push(Block::Note { text: t("stats-illustrative-explained") });
    }
    let opt = |v: Option<i64>| v.map_or_else(|| "—".to_string(), n);
    blocks.push(Block::Table(Table {
        caption: t("stats-events-not-people"),
        head: vec![t("stats-month"), t("stats-col-presented"), t("stats-col-returned")],
        rows: r.official.months.iter().map(|m| vec![m.month.clone(), opt(m.presented), opt(m.returned)]).collect(),
        numeric: vec![false, true, true],
        total_row: false,
    }));
}

/// The organization's assessments of UN recommendations as of the period's end.
fn recommendations(l: Locale, r: &PeriodReport, blocks: &mut Vec<Block>) {
    let t = |k: &str| tr(l, k);
    if r.recommendations.is_empty() {
        return;
    }
    blocks.push(Block::Heading { text: t("rep-recommendations") });
    blocks.push(Block::Table(Table {
        caption: t("rep-recommendations-table"),
        head: vec![t("rec-symbol"), t("rec-body"), t("rec-status"), t("rec-date"), t("rec-evidence")],
        rows: r
            .recommendations
            .iter()
            .map(|x| {
                let para =
                    if x.paragraph.is_empty() { String::new() } else { format!(", {} {}", t("rec-para"), x.paragraph) };
                let summary = if x.summary { format!(" ({})", t("rec-summary")) } else { String::new() };
                vec![
                    format!("{}{para}{summary}", x.symbol),
                    x.body.clone(),
                    t(&format!("rec-status-{}", x.status)),
                    x.assessed_on.to_string(),
                    x.evidence.to_string(),
                ]
            })
            .collect(),
        numeric: vec![false, false, false, false, true],
        total_row: false,
    }));
}
