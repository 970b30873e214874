//! The public site of a publication (issue #17 part 2), written from its frozen content
//! only: HTML pages in Spanish (root) and English (`en/`), one per place, CSV and JSON
//! downloads, the map as SVG, a stylesheet; no JavaScript, relative links only, so it
//! works from any static host and opened from a folder. A manifest lists every file's
//! SHA-256 and is signed with the organization's publication key.

use std::collections::BTreeMap;
use std::fmt::Write;

use vigia_app::publications::{Place, PublicContent};
use vigia_domain::account::Locale;
use vigia_domain::disclosure::Cell;
use vigia_report::html::escape;
use vigia_report::site::{Manifest, MANIFEST, SIGNATURE};
use vigia_store::{DynStore, Publication};

use crate::error::WebError;
use crate::i18n::{tr, tr_args};
use crate::kit::grouped;

/// The site's files, path → bytes, signed.
pub type Files = BTreeMap<String, Vec<u8>>;

fn cell(c: &Cell) -> String {
    match c {
        Cell::Shown(v) => grouped(*v),
        Cell::Suppressed => "*".into(),
    }
}

fn csv_cell(c: &Cell) -> String {
    c.shown().map(|v| v.to_string()).unwrap_or_default()
}

fn rate(refusals: i64, attempts: i64) -> String {
    if attempts <= 0 {
        "—".into()
    } else {
        format!("{} %", (refusals as f64 * 100.0 / attempts as f64).round())
    }
}

/// Where a language's pages live, and the way back to the site's root from them.
fn root(l: Locale) -> (&'static str, &'static str) {
    match l {
        Locale::Es => ("", ""),
        Locale::En => ("en/", "../"),
    }
}

fn place_page(l: Locale, p: &Place) -> String {
    match l {
        Locale::Es => format!("lugar/{}.html", p.key),
        Locale::En => format!("place/{}.html", p.key),
    }
}

const STYLE: &str = "body{font:1rem/1.5 system-ui,sans-serif;color:#14181f;margin:0 auto;max-width:60rem;padding:0 1rem}\
header{border-bottom:2px solid #bec4cc;margin-bottom:1rem}nav a{margin-right:1rem}\
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #bec4cc;padding:.3rem .45rem;text-align:left;vertical-align:top}\
thead th{background:#eceff3}.num{text-align:right;font-variant-numeric:tabular-nums}.wrap{overflow-x:auto}\
.note{color:#444c58;font-size:.875rem}blockquote{border-left:3px solid #96a0ac;margin:.8rem 0;padding-left:.9rem}\
svg.map{width:100%;height:auto;max-width:48rem}code{overflow-wrap:anywhere}a{color:#0b5394}\
@media print{nav{display:none}}";

/// A page: the frame, the language switch, the body.
fn page(l: Locale, c: &PublicContent, title: &str, depth: &str, other_lang: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title><link rel="stylesheet" href="{depth}style.css"></head><body><header><p><strong>{org}</strong> · {year}</p><nav><a href="{depth}{home}">{home_label}</a><a href="{other_lang}" lang="{other_code}">{other_label}</a></nav></header><main><h1>{title}</h1>{body}</main><footer class="note"><p>{verify}</p></footer></body></html>"#,
        lang = l.as_str(),
        title = escape(title),
        org = escape(&c.organization),
        year = c.year,
        home = root(l).0.to_string() + "index.html",
        home_label = escape(&tr(l, "pub-home")),
        other_code = if l == Locale::Es { "en" } else { "es" },
        other_label = escape(&tr(l, "pub-other-language")),
        verify = escape(&tr(l, "pub-verify-short")),
    )
}

fn table(head: &[String], numeric: &[bool], rows: &[Vec<String>], caption: &str) -> String {
    let mut h = format!(
        r#"<div class="wrap" tabindex="0" role="region" aria-label="{0}"><table><caption>{0}</caption><thead><tr>"#,
        escape(caption)
    );
    for (i, x) in head.iter().enumerate() {
        let class = if numeric.get(i).copied().unwrap_or(false) { r#" class="num""# } else { "" };
        let _ = write!(h, r#"<th scope="col"{class}>{}</th>"#, escape(x));
    }
    h.push_str("</tr></thead><tbody>");
    for row in rows {
        h.push_str("<tr>");
        for (i, x) in row.iter().enumerate() {
            let class = if numeric.get(i).copied().unwrap_or(false) { r#" class="num""# } else { "" };
            if i == 0 {
                // Already HTML (a link) when it names a place.
                let _ = write!(h, r#"<th scope="row">{x}</th>"#);
            } else {
                let _ = write!(h, "<td{class}>{}</td>", escape(x));
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></div>");
    h
}

fn map(l: Locale, c: &PublicContent, depth: &str) -> String {
    let Some(a) = &c.access else { return String::new() };
    let dots: Vec<crate::kit::map::Dot> = c
        .places
        .iter()
        .zip(&a.by_place)
        .filter_map(|(p, (attempts, refusals))| {
            let (lat, lon) = (p.lat?, p.lon?);
            let class = match (*attempts, *refusals) {
                (0, _) => "none",
                (a, r) if r * 2 >= a => "refused",
                (_, r) if r > 0 => "partial",
                _ => "granted",
            };
            Some(crate::kit::map::Dot {
                lat,
                lon,
                class,
                label: format!("{}: {}", p.name, rate(*refusals, *attempts)),
                href: format!("{depth}{}{}", root(l).0, place_page(l, p)),
                flagged: false,
            })
        })
        .collect();
    if dots.is_empty() {
        return String::new();
    }
    crate::kit::map::render(&tr(l, "pub-map"), &dots)
}

fn index(l: Locale, c: &PublicContent) -> String {
    let (_, depth) = root(l);
    let t = |k: &str| tr(l, k);
    let mut b = format!(
        r#"<p>{}</p><p class="note">{}</p>"#,
        escape(&tr_args(l, "pub-intro", &[("org", c.organization.clone()), ("year", c.year.to_string())])),
        escape(&tr_args(l, "pub-suppressed", &[("max", c.suppressed_below.saturating_sub(1).to_string())]))
    );
    let drawn = map(l, c, depth);
    b.push_str(&drawn);
    let map_link =
        if drawn.is_empty() { String::new() } else { format!(r#"<li><a href="{depth}map.svg">map.svg</a></li>"#) };
    let link = |p: &Place| format!(r#"<a href="{}">{}</a>"#, escape(&place_page(l, p)), escape(&p.name));
    if let Some(a) = &c.access {
        let _ =
            write!(b, "<h2>{}</h2><p class=\"note\">{}</p>", escape(&t("rep-access")), escape(&t("pub-access-note")));
        let rows: Vec<Vec<String>> = c
            .places
            .iter()
            .zip(&a.by_place)
            .map(|(p, (at, r))| vec![link(p), grouped(*at as u64), grouped(*r as u64), rate(*r, *at)])
            .collect();
        b.push_str(&table(
            &[t("pub-place"), t("rep-attempts"), t("rep-refusals"), t("rep-refusal-rate")],
            &[false, true, true, true],
            &rows,
            &t("pub-by-place"),
        ));
        let rows: Vec<Vec<String>> = a
            .by_month
            .iter()
            .map(|(m, at, r)| vec![escape(m), grouped(*at as u64), grouped(*r as u64), rate(*r, *at)])
            .collect();
        b.push_str(&table(
            &[t("rep-month"), t("rep-attempts"), t("rep-refusals"), t("rep-refusal-rate")],
            &[false, true, true, true],
            &rows,
            &t("rep-by-month"),
        ));
    }
    if let Some(conds) = &c.conditions {
        let _ = write!(
            b,
            "<h2>{}</h2><p class=\"note\">{}</p>",
            escape(&t("rep-visits")),
            escape(&t("pub-conditions-note"))
        );
        let flags = ["children_detained", "overcrowded", "held_beyond_limit", "safeguard_missing", "grave_finding"];
        let mut head = vec![t("pub-place"), t("pub-visits"), t("pub-highest-occupancy")];
        head.extend(flags.iter().map(|f| tr(l, &format!("flag-{f}"))));
        let rows: Vec<Vec<String>> = c
            .places
            .iter()
            .zip(conds)
            .filter(|(_, x)| x.visits > 0)
            .map(|(p, x)| {
                let mut row = vec![
                    link(p),
                    x.visits.to_string(),
                    x.highest_occupancy.map_or_else(|| "—".into(), |o| tr(l, &format!("pub-band-{}", o.as_str()))),
                ];
                row.extend(flags.iter().map(|f| x.visits_flagged.get(*f).copied().unwrap_or(0).to_string()));
                row
            })
            .collect();
        if rows.is_empty() {
            let _ = write!(b, "<p>{}</p>", escape(&t("rep-visits-none")));
        } else {
            let mut numeric = vec![true; head.len()];
            numeric[0] = false;
            b.push_str(&table(&head, &numeric, &rows, &t("pub-conditions-caption")));
        }
    }
    if let Some(cases) = &c.cases {
        let _ = write!(b, "<h2>{}</h2><p class=\"note\">{}</p>", escape(&t("rep-cases")), escape(&t("pub-cases-note")));
        let mut head = vec![t("pub-place")];
        head.extend(cases.measures.iter().map(|m| tr(l, &format!("measure-{m}"))));
        head.push(t("report-total"));
        let mut rows: Vec<Vec<String>> = cases
            .by_place
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let name = c.places.get(i).map_or_else(|| escape(&t("pub-no-place")), link);
                let mut row = vec![name];
                row.extend(r.iter().map(cell));
                row.push(cases.place_totals.get(i).map(cell).unwrap_or_default());
                row
            })
            .collect();
        let mut total = vec![escape(&t("report-total"))];
        total.extend(cases.measure_totals.iter().map(cell));
        total.push(cell(&cases.total));
        rows.push(total);
        let mut numeric = vec![true; head.len()];
        numeric[0] = false;
        b.push_str(&table(&head, &numeric, &rows, &t("pub-by-place")));
        let mut head = vec![t("rep-month")];
        head.extend(cases.measures.iter().map(|m| tr(l, &format!("measure-{m}"))));
        let rows: Vec<Vec<String>> = cases
            .months
            .iter()
            .zip(&cases.by_month)
            .map(|(m, r)| {
                let mut row = vec![escape(m)];
                row.extend(r.iter().map(cell));
                row
            })
            .collect();
        let mut numeric = vec![true; head.len()];
        numeric[0] = false;
        b.push_str(&table(&head, &numeric, &rows, &t("pub-by-month")));
    }
    if let Some(st) = &c.statements {
        let _ = write!(b, "<h2>{}</h2>", escape(&t("rep-statements")));
        if st.is_empty() {
            let _ = write!(b, "<p>{}</p>", escape(&t("pub-no-contradictions")));
        }
        for x in st {
            let mut head = tr(l, &format!("rule-{}", x.rule));
            if let Some(g) = &x.gap {
                head = tr_args(l, "rep-contradiction-gap", &[("rule", head), ("gap", g.clone())]);
            }
            let _ = write!(b, "<h3>{}</h3>", escape(&head));
            for q in &x.quotes {
                let who = crate::kit::label(l, "authority", &q.authority);
                let who = q.speaker.as_ref().map_or(who.clone(), |s| format!("{s}, {who}"));
                let src = q.source.as_ref().map(|s| format!(" · {s}")).unwrap_or_default();
                let _ = write!(
                    b,
                    "<blockquote><p>“{}”</p><footer>— {} · {}{}</footer></blockquote>",
                    escape(&q.text),
                    escape(&who),
                    escape(&q.published),
                    escape(&src)
                );
            }
        }
    }
    let _ = write!(
        b,
        r#"<h2>{}</h2><ul><li><a href="{depth}data/publication.json">publication.json</a></li><li><a href="{depth}data/access.csv">access.csv</a></li><li><a href="{depth}data/cases.csv">cases.csv</a></li><li><a href="{depth}data/cases-by-month.csv">cases-by-month.csv</a></li><li><a href="{depth}data/conditions.csv">conditions.csv</a></li>{map_link}</ul><h2>{}</h2><p>{}</p><pre><code>vigia publish verify DIR</code></pre><p class="note">{}</p>"#,
        escape(&t("pub-downloads")),
        escape(&t("pub-verify-title")),
        escape(&t("pub-verify-how")),
        escape(&t("pub-verify-key")),
    );
    b
}

fn place(l: Locale, c: &PublicContent, i: usize) -> String {
    let t = |k: &str| tr(l, k);
    let p = &c.places[i];
    let mut rows: Vec<(String, String)> = Vec::new();
    if let Some(&(at, r)) = c.access.as_ref().and_then(|a| a.by_place.get(i)) {
        rows.push((t("rep-attempts"), grouped(at as u64)));
        rows.push((t("rep-refusals"), grouped(r as u64)));
        rows.push((t("rep-refusal-rate"), rate(r, at)));
    }
    if let Some(x) = c.conditions.as_ref().and_then(|v| v.get(i)) {
        rows.push((t("pub-visits"), x.visits.to_string()));
        rows.push((
            t("pub-highest-occupancy"),
            x.highest_occupancy.map_or_else(|| "—".into(), |o| tr(l, &format!("pub-band-{}", o.as_str()))),
        ));
        for (flag, n) in &x.visits_flagged {
            rows.push((tr_args(l, "pub-visits-flagged", &[("flag", tr(l, &format!("flag-{flag}")))]), n.to_string()));
        }
    }
    if let Some(cases) = &c.cases {
        for (m, v) in cases.measures.iter().zip(cases.by_place.get(i).into_iter().flatten()) {
            rows.push((tr(l, &format!("measure-{m}")), cell(v)));
        }
    }
    let body: Vec<Vec<String>> = rows.into_iter().map(|(k, v)| vec![escape(&k), v]).collect();
    let state = vigia_domain::geo::state(&p.state_code).map(|s| s.name.to_string()).unwrap_or_default();
    format!(
        r#"<p>{}</p><p class="note">{}</p>{}"#,
        escape(&state),
        escape(&tr_args(l, "pub-suppressed", &[("max", c.suppressed_below.saturating_sub(1).to_string())])),
        table(&[t("sum-field"), t("sum-value")], &[false, true], &body, &p.name)
    )
}

/// Every file of the site but the manifest and its signature.
pub fn files(c: &PublicContent) -> Result<Files, WebError> {
    let mut out = Files::new();
    out.insert("style.css".into(), STYLE.as_bytes().to_vec());
    for l in [Locale::Es, Locale::En] {
        let (dir, depth) = root(l);
        let other = match l {
            Locale::Es => "en/index.html".to_string(),
            Locale::En => "../index.html".to_string(),
        };
        let title = tr_args(l, "pub-title", &[("org", c.organization.clone()), ("year", c.year.to_string())]);
        out.insert(format!("{dir}index.html"), page(l, c, &title, depth, &other, &index(l, c)).into_bytes());
        for (i, p) in c.places.iter().enumerate() {
            let path = format!("{dir}{}", place_page(l, p));
            let other_lang = match l {
                Locale::Es => format!("../en/{}", place_page(Locale::En, p)),
                Locale::En => format!("../../{}", place_page(Locale::Es, p)),
            };
            let deep = format!("{depth}../");
            let title = p.name.clone();
            let body = place(l, c, i);
            let html = page(l, c, &title, &deep, &other_lang, &body);
            out.insert(path, html.into_bytes());
        }
    }
    if let Some(a) = &c.access {
        let head = ["place_key", "place", "attempts", "refusals"];
        let rows = c
            .places
            .iter()
            .zip(&a.by_place)
            .map(|(p, (at, r))| vec![p.key.clone(), p.name.clone(), at.to_string(), r.to_string()]);
        out.insert("data/access.csv".into(), vigia_domain::export::csv(&head, rows.collect::<Vec<_>>()).into_bytes());
    } else {
        out.insert("data/access.csv".into(), b"place_key,place,attempts,refusals\n".to_vec());
    }
    let mut head: Vec<String> = vec!["place_key".into(), "place".into()];
    if let Some(cases) = &c.cases {
        head.extend(cases.measures.iter().cloned());
        head.push("total".into());
        let rows: Vec<Vec<String>> = cases
            .by_place
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (key, name) = c
                    .places
                    .get(i)
                    .map_or(("none".to_string(), "—".to_string()), |p| (p.key.clone(), p.name.clone()));
                let mut row = vec![key, name];
                row.extend(r.iter().map(csv_cell));
                row.push(cases.place_totals.get(i).map(csv_cell).unwrap_or_default());
                row
            })
            .collect();
        let h: Vec<&str> = head.iter().map(String::as_str).collect();
        out.insert("data/cases.csv".into(), vigia_domain::export::csv(&h, rows).into_bytes());
        let mut head: Vec<&str> = vec!["month"];
        head.extend(cases.measures.iter().map(String::as_str));
        let rows: Vec<Vec<String>> = cases
            .months
            .iter()
            .zip(&cases.by_month)
            .map(|(m, r)| std::iter::once(m.clone()).chain(r.iter().map(csv_cell)).collect())
            .collect();
        out.insert("data/cases-by-month.csv".into(), vigia_domain::export::csv(&head, rows).into_bytes());
    } else {
        out.insert("data/cases.csv".into(), b"place_key,place\n".to_vec());
    }
    let flags = ["children_detained", "overcrowded", "held_beyond_limit", "safeguard_missing", "grave_finding"];
    let mut head: Vec<&str> = vec!["place_key", "place", "visits", "highest_occupancy"];
    head.extend(flags);
    let rows: Vec<Vec<String>> = match &c.conditions {
        Some(conds) => c
            .places
            .iter()
            .zip(conds)
            .map(|(p, x)| {
                let mut row = vec![
                    p.key.clone(),
                    p.name.clone(),
                    x.visits.to_string(),
                    x.highest_occupancy.map(|o| o.as_str().to_string()).unwrap_or_default(),
                ];
                row.extend(flags.iter().map(|f| x.visits_flagged.get(*f).copied().unwrap_or(0).to_string()));
                row
            })
            .collect(),
        None => Vec::new(),
    };
    out.insert("data/conditions.csv".into(), vigia_domain::export::csv(&head, rows).into_bytes());
    let json = serde_json::to_vec_pretty(c).map_err(|e| WebError::Internal(e.to_string()))?;
    out.insert("data/publication.json".into(), json);
    let map = map(Locale::Es, c, "");
    if !map.is_empty() {
        out.insert("map.svg".into(), map.into_bytes());
    }
    Ok(out)
}

/// The site with its manifest, signed when the publication is approved. A proposal's
/// preview gets a manifest naming its status and no signature: a draft that leaks never
/// passes for the organization's publication.
pub async fn signed(store: &DynStore, p: &Publication) -> Result<Files, WebError> {
    // Only what the audit chain holds is signed: a row set to "approved" or changed
    // behind the app's back is refused, not published under the organization's key.
    let history = store.history(vigia_domain::RecordType::Publication, p.id, Some(p.org_id)).await?;
    let audited = history.last().map(|h| h.content_hash.as_str());
    if audited != Some(vigia_domain::audit::sha256_hex(p.content_json().as_bytes()).as_str()) {
        return Err(WebError::Internal(format!("publication {} differs from its audited version", p.id)));
    }
    let c = vigia_app::publications::read(p)?;
    let mut out = files(&c)?;
    let (key, _) = store.sign_publication(p.org_id, b"").await?;
    let manifest = Manifest::of(&c.organization, c.year, p.id, p.status.as_str(), &key, &out);
    let bytes = manifest.bytes();
    if p.status == vigia_domain::publication::Status::Approved {
        let (_, signature) = store.sign_publication(p.org_id, &bytes).await?;
        out.insert(SIGNATURE.into(), format!("{signature}\n").into_bytes());
    }
    out.insert(MANIFEST.into(), bytes);
    Ok(out)
}

/// A file's content type, by its name.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "text/plain; charset=utf-8",
    }
}
