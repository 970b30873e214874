//! The HTML form of a [`Doc`]: a fragment the web page puts inside its frame, and a
//! whole page with its own print style for `vigia report --format html`. Every text is
//! escaped here; charts are inline SVG (vector, no script).

use std::fmt::Write;

use crate::{Block, Doc};

/// The report's style, screen and print: shared by the web page and the standalone file.
pub const CSS: &str = include_str!("report.css");

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text with its line breaks kept.
fn lines(s: &str) -> String {
    s.split('\n').map(escape).collect::<Vec<_>>().join("<br>")
}

/// The report as an `<article>`, headings from `<h2>` down (the page has its `<h1>`
/// in the frame when `with_title` is false).
pub fn fragment(doc: &Doc, with_title: bool) -> String {
    let mut h = String::new();
    let _ = write!(h, r#"<article class="doc" lang="{}">"#, escape(&doc.lang));
    let _ = write!(h, r#"<header class="doc-head">"#);
    if with_title {
        let _ = write!(h, "<h1>{}</h1>", escape(&doc.title));
    }
    for l in &doc.lines {
        let _ = write!(h, r#"<p class="doc-line">{}</p>"#, escape(l));
    }
    h.push_str("</header>");
    for b in &doc.blocks {
        block(&mut h, b);
    }
    let _ = write!(
        h,
        r#"<footer class="doc-foot"><p>{}</p><p class="doc-hash">{}</p></footer></article>"#,
        escape(&doc.footer.made),
        escape(&doc.footer.hash)
    );
    h
}

fn block(h: &mut String, b: &Block) {
    match b {
        Block::Heading { text } => {
            let _ = write!(h, "<h2>{}</h2>", escape(text));
        }
        Block::Subheading { text } => {
            let _ = write!(h, "<h3>{}</h3>", escape(text));
        }
        Block::Paragraph { text } => {
            let _ = write!(h, "<p>{}</p>", lines(text));
        }
        Block::Note { text } => {
            let _ = write!(h, r#"<p class="doc-note">{}</p>"#, lines(text));
        }
        Block::Quote { text, source } => {
            let _ = write!(h, "<blockquote><p>“{}”</p><footer>— {}</footer></blockquote>", lines(text), escape(source));
        }
        Block::Figures { items } => {
            h.push_str(r#"<dl class="doc-figures">"#);
            for f in items {
                let _ = write!(h, "<div><dt>{}</dt><dd>{}</dd></div>", escape(&f.label), escape(&f.value));
            }
            h.push_str("</dl>");
        }
        Block::Table(t) => {
            // A wide table scrolls sideways on a phone: a region that keys can scroll too.
            let _ = write!(
                h,
                r#"<div class="doc-table" tabindex="0" role="region" aria-label="{0}"><table><caption>{0}</caption><thead><tr>"#,
                escape(&t.caption)
            );
            for (i, c) in t.head.iter().enumerate() {
                let num = if t.numeric.get(i).copied().unwrap_or(false) { r#" class="num""# } else { "" };
                let _ = write!(h, r#"<th scope="col"{num}>{}</th>"#, escape(c));
            }
            h.push_str("</tr></thead><tbody>");
            let last = t.rows.len().saturating_sub(1);
            for (r, row) in t.rows.iter().enumerate() {
                let total = if t.total_row && r == last { r#" class="total""# } else { "" };
                let _ = write!(h, "<tr{total}>");
                for (i, c) in row.iter().enumerate() {
                    if i == 0 {
                        let _ = write!(h, r#"<th scope="row">{}</th>"#, escape(c));
                    } else {
                        let num = if t.numeric.get(i).copied().unwrap_or(false) { r#" class="num""# } else { "" };
                        let _ = write!(h, "<td{num}>{}</td>", escape(c));
                    }
                }
                h.push_str("</tr>");
            }
            h.push_str("</tbody></table></div>");
        }
        Block::Bars(b) => bars(h, b),
        Block::Items { items } => {
            h.push_str("<ul>");
            for i in items {
                let _ = write!(h, "<li>{}</li>", lines(i));
            }
            h.push_str("</ul>");
        }
    }
}

/// A horizontal bar chart as SVG, with the figures as text in it and a caption. Each
/// bar has its name above it, so the drawing stays narrow: on a phone its text is drawn
/// at about its own size, never shrunk below legibility.
fn bars(h: &mut String, b: &crate::Bars) {
    let row = 36.0;
    let (bar_w, width) = (290.0, 360.0);
    let height = row * b.bars.len() as f64 + 4.0;
    let max = b.bars.iter().map(|x| x.value).fold(0.0f64, f64::max);
    let _ = write!(
        h,
        r#"<figure class="doc-bars"><svg viewBox="0 0 {width} {height}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(&b.caption)
    );
    for (i, bar) in b.bars.iter().enumerate() {
        let y = i as f64 * row + 2.0;
        let w = if max > 0.0 && bar.value.is_finite() { bar.value.max(0.0) / max * bar_w } else { 0.0 };
        let _ = write!(
            h,
            r##"<text x="0" y="{ly}" font-size="13" fill="#14181f">{label}</text><rect x="0" y="{ry}" width="{w:.1}" height="12" fill="#1f5e8c"></rect><text x="{vx:.1}" y="{vy}" font-size="13" fill="#444c58">{shown}</text>"##,
            ly = y + 13.0,
            ry = y + 18.0,
            vx = w + 5.0,
            vy = y + 29.0,
            label = escape(&bar.label),
            shown = escape(&bar.shown),
        );
    }
    let _ = write!(h, "</svg><figcaption>{}</figcaption></figure>", escape(&b.caption));
}

/// A whole page: the fragment with its title and its style, readable opened from a
/// folder and printable as it is.
pub fn standalone(doc: &Doc) -> String {
    format!(
        r#"<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title><style>{css}</style></head><body>{body}</body></html>"#,
        lang = escape(&doc.lang),
        title = escape(&doc.title),
        css = CSS,
        body = fragment(doc, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Footer, Table};

    #[test]
    fn text_is_escaped_everywhere() {
        let evil = r#"<script>alert("x")</script> & 'q'"#;
        let d = Doc {
            lang: "en".into(),
            title: evil.into(),
            lines: vec![evil.into()],
            blocks: vec![
                Block::Quote { text: evil.into(), source: evil.into() },
                Block::Table(Table {
                    caption: evil.into(),
                    head: vec![evil.into(), "n".into()],
                    rows: vec![vec![evil.into(), evil.into()]],
                    numeric: vec![false, true],
                    total_row: false,
                }),
            ],
            footer: Footer { made: evil.into(), hash: evil.into(), page: "{page}".into() },
        };
        let page = standalone(&d);
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"));
    }
}
