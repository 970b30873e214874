//! Bar charts drawn on the server as SVG: readable at a glance on the page, printable,
//! and downloadable as a file. Colors come from attributes, not inline styles (the CSP
//! forbids those).

use std::fmt::Write;

use crate::kit::esc;

/// One bar: its label under the axis, its height on the chart's scale, the figure
/// written above it (when the bars are few enough to label), the text shown on hover,
/// and whether it passes the reference line (drawn in the alarm color).
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub shown: String,
    pub tip: String,
    pub alarm: bool,
    /// Inside a period flagged as a possible general suspension: its column is shaded.
    pub shaded: bool,
}

/// A bar chart `id` titled `title`, scaled to `max` (at least the tallest bar), with an
/// optional dashed reference line at `(value, label)`.
pub fn bars(id: &str, title: &str, bars: &[Bar], max: f64, reference: Option<(f64, &str)>) -> String {
    shaded_bars(id, title, bars, max, reference, "")
}

/// [`bars`], with the columns of shaded bars drawn behind them and titled `shade_title`.
pub fn shaded_bars(
    id: &str,
    title: &str,
    bars: &[Bar],
    max: f64,
    reference: Option<(f64, &str)>,
    shade_title: &str,
) -> String {
    let (w, h, left) = (600.0, 180.0, 40.0);
    let max = bars.iter().map(|b| b.value).fold(max, f64::max).max(f64::MIN_POSITIVE) * 1.1;
    let bw = ((w - left) / bars.len().max(1) as f64).min(60.0);
    let y = |v: f64| h - 20.0 - (h - 40.0) * (v / max);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{}\" id=\"{}\">",
        esc(title),
        esc(id)
    );
    if let Some((v, label)) = reference {
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{w}\" y1=\"{0:.1}\" y2=\"{0:.1}\" stroke=\"#b3261e\" stroke-dasharray=\"4 3\"/>\
             <text x=\"2\" y=\"{1:.1}\" font-size=\"11\" fill=\"#b3261e\">{2}</text>",
            y(v),
            y(v) + 4.0,
            esc(label)
        );
    }
    for (i, b) in bars.iter().enumerate().filter(|(_, b)| b.shaded) {
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"4\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"#f4d7d7\" class=\"flagged\"><title>{}</title></rect>",
            left + i as f64 * bw,
            h - 24.0,
            esc(&format!("{}: {shade_title}", b.label))
        );
    }
    let labels = short_labels(bars);
    // Label every bar when they fit, else every n-th.
    let every = (bars.len() as f64 * 48.0 / (w - left)).ceil().max(1.0) as usize;
    for (i, b) in bars.iter().enumerate() {
        let x = left + i as f64 * bw + (bw * 0.1).min(4.0);
        let width = (bw - (bw * 0.2).min(8.0)).max(1.0);
        let color = if b.alarm { "#b3261e" } else { "#2e7d32" };
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{color}\" class=\"bar\"><title>{}</title></rect>",
            y(b.value),
            (h - 20.0) - y(b.value),
            esc(&b.tip)
        );
        if i % every == 0 {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#444\">{}</text>",
                x + width / 2.0,
                h - 6.0,
                esc(&labels[i])
            );
        }
        // The figure itself above each bar, read without hovering, when every bar has room.
        if every == 1 && !b.shown.is_empty() {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#222\" class=\"figure\">{}</text>",
                x + width / 2.0,
                (y(b.value) - 3.0).max(10.0),
                esc(&b.shown)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// The chart's figures as a table under it, folded: every value read without hovering
/// or zooming (on a phone the bars are too narrow to label), and by screen readers.
pub fn figures(summary: &str, head: (&str, &str), bars: &[Bar]) -> String {
    let mut s = format!(
        "<details class=\"figures\"><summary>{}</summary><table><thead><tr><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th></tr></thead><tbody>",
        esc(summary),
        esc(head.0),
        esc(head.1)
    );
    for b in bars {
        let _ = write!(s, "<tr><th scope=\"row\">{}</th><td>{}</td></tr>", esc(&b.label), esc(&b.tip));
    }
    s.push_str("</tbody></table></details>");
    s
}

/// Labels as drawn, at most 10 characters: without the words every label starts with,
/// when there are two or more ("Estación Migratoria Acayucan", "Estación Migratoria
/// Tapachula" are told apart by what follows).
fn short_labels(bars: &[Bar]) -> Vec<String> {
    let words: Vec<Vec<&str>> = bars.iter().map(|b| b.label.split(' ').collect()).collect();
    let shared = match words.split_first() {
        Some((first, rest)) if !rest.is_empty() => (0..first.len())
            .take_while(|&i| rest.iter().all(|w| w.len() > i + 1 && w.get(i) == first.get(i)) && first.len() > i + 1)
            .count(),
        _ => 0,
    };
    words.iter().map(|w| w[shared..].join(" ").chars().take(10).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_label_and_escape() {
        let b = |label: &str, value: f64| Bar {
            shaded: false,
            label: label.into(),
            value,
            shown: format!("{:.0} %", value * 100.0),
            tip: format!("<{label}>"),
            alarm: value > 1.0,
        };
        let svg = bars("c", "Ocupación & más", &[b("2020-01", 0.5), b("2020-02", 2.0)], 1.0, Some((1.0, "100 %")));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("Ocupación &amp; más") && svg.contains("&lt;2020-02&gt;"));
        assert_eq!(svg.matches("#b3261e\" class=\"bar\"").count(), 1, "only the bar past the line alarms");
        assert!(!svg.contains("style="));
        assert!(svg.contains("class=\"figure\">50 %</text>") && svg.contains(">200 %</text>"), "{svg}");
        // Names that all begin alike are told apart by what follows.
        let named = bars(
            "f",
            "t",
            &[b("Estación Migratoria Acayucan", 0.2), b("Estación Migratoria Siglo XXI", 0.4)],
            1.0,
            None,
        );
        assert!(named.contains(">Acayucan</text>") && named.contains(">Siglo XXI</text>"), "{named}");
        // Ninety bars: labels thinned so they do not overlap.
        let many: Vec<Bar> = (0..90).map(|i| b(&i.to_string(), 0.3)).collect();
        assert!(bars("m", "t", &many, 1.0, None).matches("<text").count() < 20);
    }
}
