//! Charts of official series as SVG, drawn on the server: bars per month, the label
//! "events, not people" on every chart, months that stand out marked, and a second
//! panel on the same time axis for the organization's own records.

use crate::i18n::tr;
use vigia_domain::account::Locale;

/// One panel: a title and a value per month (`None`: not published).
pub struct Panel {
    pub title: String,
    pub values: Vec<Option<i64>>,
    /// Months to mark (spikes and breaks; suspected suspensions).
    pub marked: Vec<bool>,
    pub class: &'static str,
}

fn esc(s: &str) -> String {
    vigia_report::html::escape(s)
}

/// Panels stacked on one month axis. `months` are the axis labels (`2020-01`).
pub fn svg(l: Locale, title: &str, months: &[String], panels: &[Panel]) -> String {
    let (left, right, top, panel_h, gap, bottom) = (64.0, 12.0, 34.0, 150.0, 36.0, 44.0);
    let n = months.len().max(1) as f64;
    let width = 760.0f64;
    let plot_w = width - left - right;
    let height = top + panels.len() as f64 * (panel_h + gap) + bottom - gap;
    let step = plot_w / n;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"chart-title\" class=\"stats-chart\" font-family=\"sans-serif\" font-size=\"11\">\
         <title id=\"chart-title\">{}</title>\
         <text x=\"{left}\" y=\"14\" font-size=\"13\" font-weight=\"bold\" fill=\"#1a1a1a\">{}</text>\
         <text x=\"{left}\" y=\"28\" fill=\"#5a5a5a\">{}</text>",
        esc(&format!("{title} — {}", tr(l, "stats-events-not-people"))),
        esc(title),
        esc(&tr(l, "stats-events-not-people")),
    );
    for (p, panel) in panels.iter().enumerate() {
        let y0 = top + p as f64 * (panel_h + gap) + 14.0;
        let max = panel.values.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
        out.push_str(&format!(
            "<text x=\"{left}\" y=\"{:.1}\" fill=\"#1a1a1a\" font-weight=\"bold\">{}</text>\
             <line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#767676\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#1a1a1a\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#1a1a1a\">0</text>",
            y0 - 2.0,
            esc(&panel.title),
            y0 + panel_h,
            left + plot_w,
            y0 + panel_h,
            left - 6.0,
            y0 + 14.0,
            max as i64,
            left - 6.0,
            y0 + panel_h,
        ));
        for (i, v) in panel.values.iter().enumerate() {
            let x = left + i as f64 * step;
            if panel.marked.get(i).copied().unwrap_or(false) {
                out.push_str(&format!(
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{step:.1}\" height=\"{:.1}\" fill=\"#fde2c4\"/>",
                    y0 + 4.0,
                    panel_h - 4.0
                ));
            }
            let Some(v) = v else { continue };
            let h = (*v as f64 / max) * (panel_h - 18.0);
            out.push_str(&format!(
                "<rect class=\"{}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{}: {v}</title></rect>",
                panel.class,
                x + step * 0.15,
                y0 + panel_h - h,
                step * 0.7,
                if panel.class == "own" { "#7a3b00" } else { "#1f4e79" },
                esc(&months[i.min(months.len().saturating_sub(1))]),
            ));
        }
    }
    // Month labels under the last panel: every one when few, else every third.
    let every = if months.len() <= 14 { 1 } else { 3 };
    let base = top + panels.len() as f64 * (panel_h + gap) - gap + 30.0;
    for (i, m) in months.iter().enumerate().filter(|(i, _)| i % every == 0) {
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{base:.1}\" text-anchor=\"middle\" fill=\"#1a1a1a\">{}</text>",
            left + (i as f64 + 0.5) * step,
            esc(m)
        ));
    }
    out.push_str("</svg>");
    out
}
