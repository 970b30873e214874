//! The PDF form of a [`Doc`]: A4 pages laid out here, written by krilla with DejaVu
//! Sans embedded (subset) so the text layer reads back exactly.
//!
//! Layout is done in two passes: the blocks are first placed on pages as drawing
//! operations, then each page is written with its foot ("page 2 of 5", when and from
//! which data version it was made, the content's hash), which needs the page count.
//! Nothing is ever cut: a line too long is broken at spaces, a word too long for its
//! column is broken between characters, a table row that does not fit goes to the next
//! page under a repeated header.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::text::{Font, TextDirection};
use krilla::{Data, Document};

use crate::{Block, Doc, ReportError};

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 50.0;
const TOP: f32 = 54.0;
/// Where the body stops: below is the foot.
const BODY_END: f32 = PAGE_H - 72.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;

const BODY: f32 = 9.5;
const SMALL: f32 = 8.0;
const CELL: f32 = 8.0;

type Colour = (u8, u8, u8);
const INK: Colour = (20, 24, 31);
const GREY: Colour = (85, 92, 104);
const RULE: Colour = (190, 196, 204);
const SHADE: Colour = (236, 239, 243);
const BAR: Colour = (31, 94, 140);
const QUOTE_BAR: Colour = (150, 160, 172);

/// Widths of text in the shipped fonts.
struct Metrics {
    regular: ttf_parser::Face<'static>,
    bold: ttf_parser::Face<'static>,
}

impl Metrics {
    fn load() -> Result<Metrics, ReportError> {
        Ok(Metrics {
            regular: ttf_parser::Face::parse(REGULAR, 0).map_err(|_| ReportError::Font)?,
            bold: ttf_parser::Face::parse(BOLD, 0).map_err(|_| ReportError::Font)?,
        })
    }

    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let face = if bold { &self.bold } else { &self.regular };
        let upem = f32::from(face.units_per_em());
        let units: f32 = text
            .chars()
            .map(|c| {
                let advance = face.glyph_index(c).and_then(|g| face.glyph_hor_advance(g));
                advance.map_or(upem * 0.6, f32::from)
            })
            .sum();
        units * size / upem
    }

    /// `text` broken into lines no wider than `width`: at spaces, and inside a word
    /// only when the word alone is wider. Line breaks in the text are kept.
    fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
                if self.width(&candidate, size, bold) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // The word alone: break it between characters while it is too wide.
                let mut rest = word.to_string();
                while self.width(&rest, size, bold) > width && rest.chars().count() > 1 {
                    let mut cut = String::new();
                    for c in rest.chars() {
                        let mut next = cut.clone();
                        next.push(c);
                        if self.width(&next, size, bold) > width && !cut.is_empty() {
                            break;
                        }
                        cut = next;
                    }
                    rest = rest[cut.len()..].to_string();
                    lines.push(cut);
                }
                line = rest;
            }
            lines.push(line);
        }
        lines
    }
}

#[derive(Debug, Clone)]
enum Op {
    Text { x: f32, y: f32, size: f32, bold: bool, colour: Colour, text: String },
    Rect { x: f32, y: f32, w: f32, h: f32, colour: Colour },
}

/// Blocks placed on pages.
struct Layout<'m> {
    m: &'m Metrics,
    pages: Vec<Vec<Op>>,
    y: f32,
}

fn line_height(size: f32) -> f32 {
    size * 1.38
}

impl<'m> Layout<'m> {
    fn new(m: &'m Metrics) -> Self {
        Layout { m, pages: vec![Vec::new()], y: TOP }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Goes to a new page unless `h` more points fit on this one.
    fn need(&mut self, h: f32) {
        if self.y + h > BODY_END && self.y > TOP {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, baseline: f32, size: f32, bold: bool, colour: Colour, text: &str) {
        if !text.is_empty() {
            self.ops().push(Op::Text { x, y: baseline, size, bold, colour, text: text.to_string() });
        }
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: Colour) {
        if w > 0.0 && h > 0.0 {
            self.ops().push(Op::Rect { x, y, w, h, colour });
        }
    }

    /// Wrapped text from `x`, `width` wide, line by line (each line may start a page).
    fn lines(&mut self, text: &str, x: f32, width: f32, size: f32, bold: bool, colour: Colour) {
        let lh = line_height(size);
        for line in self.m.wrap(text, size, bold, width) {
            self.need(lh);
            let baseline = self.y + size;
            self.text(x, baseline, size, bold, colour, &line);
            self.y += lh;
        }
    }

    fn title(&mut self, doc: &Doc) {
        self.lines(&doc.title, MARGIN, CONTENT_W, 17.0, true, INK);
        self.y += 2.0;
        for l in &doc.lines {
            self.lines(l, MARGIN, CONTENT_W, BODY, false, GREY);
        }
        self.y += 4.0;
        self.rect(MARGIN, self.y, CONTENT_W, 0.8, RULE);
        self.y += 12.0;
    }

    fn block(&mut self, b: &Block) {
        match b {
            Block::Heading { text } => {
                // Kept with what follows: a heading never ends a page.
                self.need(line_height(13.0) + 60.0);
                self.y += 6.0;
                self.lines(text, MARGIN, CONTENT_W, 13.0, true, INK);
                self.rect(MARGIN, self.y, CONTENT_W, 0.6, RULE);
                self.y += 8.0;
            }
            Block::Subheading { text } => {
                self.need(line_height(10.5) + 40.0);
                self.y += 3.0;
                self.lines(text, MARGIN, CONTENT_W, 10.5, true, INK);
                self.y += 3.0;
            }
            Block::Paragraph { text } => {
                self.lines(text, MARGIN, CONTENT_W, BODY, false, INK);
                self.y += 6.0;
            }
            Block::Note { text } => {
                self.lines(text, MARGIN, CONTENT_W, SMALL, false, GREY);
                self.y += 6.0;
            }
            Block::Quote { text, source } => {
                let start_page = self.pages.len();
                let start = self.y;
                self.lines(&format!("“{text}”"), MARGIN + 12.0, CONTENT_W - 12.0, BODY, false, INK);
                self.lines(&format!("— {source}"), MARGIN + 12.0, CONTENT_W - 12.0, SMALL, false, GREY);
                let top = if self.pages.len() == start_page { start } else { TOP };
                self.rect(MARGIN + 2.0, top, 2.2, self.y - top, QUOTE_BAR);
                self.y += 7.0;
            }
            Block::Figures { items } => self.figures(items),
            Block::Table(t) => self.table(t),
            Block::Bars(b) => self.bars(b),
            Block::Items { items } => {
                for item in items {
                    self.need(line_height(BODY));
                    self.text(MARGIN + 2.0, self.y + BODY, BODY, false, GREY, "•");
                    self.lines(item, MARGIN + 12.0, CONTENT_W - 12.0, BODY, false, INK);
                    self.y += 1.5;
                }
                self.y += 5.0;
            }
        }
    }

    fn figures(&mut self, items: &[crate::Figure]) {
        const PER_ROW: usize = 3;
        let gap = 8.0;
        let w = (CONTENT_W - gap * (PER_ROW as f32 - 1.0)) / PER_ROW as f32;
        for row in items.chunks(PER_ROW) {
            let labels: Vec<Vec<String>> = row.iter().map(|f| self.m.wrap(&f.label, SMALL, false, w - 12.0)).collect();
            let label_lines = labels.iter().map(Vec::len).max().unwrap_or(1);
            let h = 10.0 + line_height(16.0) + label_lines as f32 * line_height(SMALL) + 6.0;
            self.need(h);
            for (i, (f, label)) in row.iter().zip(&labels).enumerate() {
                let x = MARGIN + i as f32 * (w + gap);
                self.rect(x, self.y, w, h, SHADE);
                let value = self.m.wrap(&f.value, 16.0, true, w - 12.0).into_iter().next().unwrap_or_default();
                self.text(x + 6.0, self.y + 8.0 + 16.0, 16.0, true, INK, &value);
                for (j, l) in label.iter().enumerate() {
                    let baseline = self.y + 10.0 + line_height(16.0) + j as f32 * line_height(SMALL) + SMALL;
                    self.text(x + 6.0, baseline, SMALL, false, GREY, l);
                }
            }
            self.y += h + gap;
        }
        self.y += 2.0;
    }

    /// Column widths, as browsers lay out tables: each column at least its longest
    /// word and at most its longest line; what the page has beyond the minimums goes to
    /// each column in proportion to what it would still take.
    fn widths(&self, t: &crate::Table) -> Vec<f32> {
        let pad: f32 = 8.0;
        let cols = t.head.len().max(t.rows.iter().map(Vec::len).max().unwrap_or(0)).max(1);
        let mut least = vec![pad; cols];
        let mut most = vec![pad; cols];
        let cells = t
            .head
            .iter()
            .map(|h| (h, true))
            .enumerate()
            .chain(t.rows.iter().flat_map(|r| r.iter().map(|c| (c, false)).enumerate()));
        for (i, (text, bold)) in cells.filter(|(i, _)| *i < cols) {
            let word = text.split([' ', '\n']).map(|w| self.m.width(w, CELL, bold)).fold(0.0, f32::max);
            let line = text.split('\n').map(|l| self.m.width(l, CELL, bold)).fold(0.0, f32::max);
            least[i] = least[i].max(word + pad);
            most[i] = most[i].max(line + pad);
        }
        let (sum_least, sum_most): (f32, f32) = (least.iter().sum(), most.iter().sum());
        if sum_most <= CONTENT_W {
            // Everything fits on one line: the rest of the page goes to the first column.
            let mut w = most;
            w[0] += CONTENT_W - sum_most;
            return w;
        }
        if sum_least >= CONTENT_W {
            // Even the longest words do not fit: shrink them all alike (words then break).
            return least.iter().map(|x| x * CONTENT_W / sum_least).collect();
        }
        let spare = CONTENT_W - sum_least;
        let wanted = sum_most - sum_least;
        least.iter().zip(&most).map(|(l, m)| l + (m - l) * spare / wanted).collect()
    }

    fn table_row(&mut self, cells: &[String], widths: &[f32], numeric: &[bool], bold: bool, shade: Option<Colour>) {
        let pad = 4.0;
        let lh = line_height(CELL);
        let wrapped: Vec<Vec<String>> = widths
            .iter()
            .enumerate()
            .map(|(i, w)| self.m.wrap(cells.get(i).map_or("", String::as_str), CELL, bold, w - 2.0 * pad))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let h = lines as f32 * lh + 2.0 * pad - 2.0;
        if let Some(colour) = shade {
            self.rect(MARGIN, self.y, CONTENT_W, h, colour);
        }
        let mut x = MARGIN;
        for (i, (w, cell)) in widths.iter().zip(&wrapped).enumerate() {
            for (j, l) in cell.iter().enumerate() {
                let baseline = self.y + pad + j as f32 * lh + CELL;
                let right = numeric.get(i).copied().unwrap_or(false) && i > 0;
                let lx = if right { x + w - pad - self.m.width(l, CELL, bold) } else { x + pad };
                self.text(lx, baseline, CELL, bold, INK, l);
            }
            x += w;
        }
        self.y += h;
        self.rect(MARGIN, self.y, CONTENT_W, 0.4, RULE);
    }

    fn row_height(&self, cells: &[String], widths: &[f32], bold: bool) -> f32 {
        let lines = widths
            .iter()
            .enumerate()
            .map(|(i, w)| self.m.wrap(cells.get(i).map_or("", String::as_str), CELL, bold, w - 8.0).len())
            .max()
            .unwrap_or(1)
            .max(1);
        lines as f32 * line_height(CELL) + 6.0
    }

    fn table(&mut self, t: &crate::Table) {
        let widths = self.widths(t);
        let head_h = self.row_height(&t.head, &widths, true);
        let first_row = t.rows.first().map_or(0.0, |r| self.row_height(r, &widths, false));
        self.need(line_height(SMALL) + head_h + first_row + 4.0);
        self.lines(&t.caption, MARGIN, CONTENT_W, SMALL, true, GREY);
        self.y += 2.0;
        self.table_row(&t.head, &widths, &t.numeric, true, Some(SHADE));
        let last = t.rows.len().saturating_sub(1);
        for (i, row) in t.rows.iter().enumerate() {
            let bold = t.total_row && i == last;
            let h = self.row_height(row, &widths, bold);
            if self.y + h > BODY_END {
                self.new_page();
                self.table_row(&t.head, &widths, &t.numeric, true, Some(SHADE));
            }
            self.table_row(row, &widths, &t.numeric, bold, None);
        }
        self.y += 10.0;
    }

    fn bars(&mut self, b: &crate::Bars) {
        let row_h = 14.0;
        let label_w = CONTENT_W * 0.34;
        let value_w = 52.0;
        let bar_w = CONTENT_W - label_w - value_w - 8.0;
        let max = b.bars.iter().map(|x| x.value).fold(0.0f64, f64::max);
        self.need(line_height(SMALL) + row_h * (b.bars.len().min(3) as f32) + 4.0);
        self.lines(&b.caption, MARGIN, CONTENT_W, SMALL, true, GREY);
        self.y += 2.0;
        for bar in &b.bars {
            self.need(row_h);
            let label = self.m.wrap(&bar.label, CELL, false, label_w - 6.0);
            let shown_label = match label.len() {
                0 | 1 => label.into_iter().next().unwrap_or_default(),
                // Kept on one line: the rest of the name is in the tables.
                _ => format!("{}…", label.into_iter().next().unwrap_or_default()),
            };
            self.text(MARGIN, self.y + CELL + 2.0, CELL, false, INK, &shown_label);
            let w = if max > 0.0 && bar.value.is_finite() { (bar.value.max(0.0) / max) as f32 * bar_w } else { 0.0 };
            self.rect(MARGIN + label_w, self.y + 2.5, w.max(0.0), row_h - 5.0, BAR);
            self.text(MARGIN + label_w + w + 4.0, self.y + CELL + 2.0, CELL, false, GREY, &bar.shown);
            self.y += row_h;
        }
        self.y += 8.0;
    }

    /// Every page's foot: when and from which data (wrapped if long), then the
    /// content's hash with the page number at the right.
    fn foot(&mut self, doc: &Doc) {
        let pages = self.pages.len();
        let made = self.m.wrap(&doc.footer.made, 6.8, false, CONTENT_W);
        for (i, page) in self.pages.iter_mut().enumerate() {
            let label = doc.footer.page_label(i + 1, pages);
            let lw = self.m.width(&label, 7.0, false);
            page.push(Op::Rect { x: MARGIN, y: PAGE_H - 62.0, w: CONTENT_W, h: 0.5, colour: RULE });
            for (j, line) in made.iter().take(2).enumerate() {
                let y = PAGE_H - 51.0 + j as f32 * 9.0;
                page.push(Op::Text { x: MARGIN, y, size: 6.8, bold: false, colour: GREY, text: line.clone() });
            }
            let y = PAGE_H - 31.0;
            page.push(Op::Text { x: MARGIN, y, size: 6.2, bold: false, colour: GREY, text: doc.footer.hash.clone() });
            page.push(Op::Text { x: PAGE_W - MARGIN - lw, y, size: 7.0, bold: true, colour: GREY, text: label });
        }
    }
}

/// The pages as drawing operations, before writing: what the tests look at.
fn lay_out(doc: &Doc, m: &Metrics) -> Vec<Vec<Op>> {
    let mut l = Layout::new(m);
    l.title(doc);
    for b in &doc.blocks {
        l.block(b);
    }
    l.foot(doc);
    l.pages
}

fn fill(c: Colour) -> Fill {
    Fill { paint: rgb::Color::new(c.0, c.1, c.2).into(), opacity: NormalizedF32::ONE, rule: FillRule::NonZero }
}

/// The document as PDF bytes.
pub fn render(doc: &Doc) -> Result<Vec<u8>, ReportError> {
    let m = Metrics::load()?;
    let pages = lay_out(doc, &m);
    let regular = Font::new(Data::from(REGULAR.to_vec()), 0).ok_or(ReportError::Font)?;
    let bold = Font::new(Data::from(BOLD.to_vec()), 0).ok_or(ReportError::Font)?;
    let mut document = Document::new();
    document.set_metadata(
        krilla::metadata::Metadata::new()
            .title(doc.title.clone())
            .language(doc.lang.clone())
            .creator("Vigía".to_string()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| ReportError::Pdf("page size".into()))?;
    for ops in &pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, size, bold: b, colour, text } => {
                    surface.set_fill(Some(fill(*colour)));
                    let font = if *b { bold.clone() } else { regular.clone() };
                    surface.draw_text(Point::from_xy(*x, *y), font, *size, text, false, TextDirection::Auto);
                }
                Op::Rect { x, y, w, h, colour } => {
                    let mut pb = PathBuilder::new();
                    if let Some(r) = Rect::from_xywh(*x, *y, *w, *h) {
                        pb.push_rect(r);
                    }
                    if let Some(path) = pb.finish() {
                        surface.set_fill(Some(fill(*colour)));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| ReportError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bar, Bars, Figure, Footer, Table};
    use proptest::prelude::*;

    fn doc(blocks: Vec<Block>) -> Doc {
        Doc {
            lang: "es".into(),
            title: "Informe del periodo".into(),
            lines: vec!["Defensoría · 2020-01-01 a 2020-12-31".into()],
            blocks,
            footer: Footer {
                made: "Hecho el 2026-12-06 · datos: auditoría n.º 42".into(),
                hash: "SHA-256 del contenido: 00ff".into(),
                page: "Página {page} de {pages}".into(),
            },
        }
    }

    fn drawn(pages: &[Vec<Op>]) -> String {
        let mut s = String::new();
        for p in pages {
            for op in p {
                if let Op::Text { text, .. } = op {
                    s.push_str(text);
                    s.push(' ');
                }
            }
        }
        s
    }

    #[test]
    fn every_page_has_its_foot_with_the_page_count() {
        let many: Vec<Block> =
            (0..120).map(|i| Block::Paragraph { text: format!("Párrafo número {i} del informe.") }).collect();
        let m = Metrics::load().expect("font");
        let pages = lay_out(&doc(many), &m);
        assert!(pages.len() >= 2, "120 paragraphs fill more than a page");
        for (i, p) in pages.iter().enumerate() {
            let texts: Vec<&str> = p
                .iter()
                .filter_map(|o| if let Op::Text { text, .. } = o { Some(text.as_str()) } else { None })
                .collect();
            assert!(texts.contains(&format!("Página {} de {}", i + 1, pages.len()).as_str()));
            assert!(texts.contains(&"SHA-256 del contenido: 00ff"));
            // Nothing of the body is drawn over the foot.
            for o in p {
                if let Op::Text { y, text, .. } = o {
                    if !text.starts_with("Página") && !text.starts_with("SHA") && !text.starts_with("Hecho") {
                        assert!(*y <= BODY_END, "{text} at {y}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_long_table_repeats_its_header_on_the_next_page() {
        let rows: Vec<Vec<String>> =
            (0..90).map(|i| vec![format!("Estación {i}"), i.to_string(), "5".into()]).collect();
        let t = Table {
            caption: "Por estación".into(),
            head: vec!["Estación".into(), "Intentos".into(), "Negados".into()],
            rows,
            numeric: vec![false, true, true],
            total_row: false,
        };
        let m = Metrics::load().expect("font");
        let pages = lay_out(&doc(vec![Block::Table(t)]), &m);
        assert!(pages.len() >= 2);
        for p in &pages {
            assert!(p.iter().any(|o| matches!(o, Op::Text { text, bold: true, .. } if text == "Intentos")));
        }
    }

    #[test]
    fn renders_a_pdf_with_every_kind_of_block() {
        let d = doc(vec![
            Block::Heading { text: "Acceso".into() },
            Block::Figures { items: vec![Figure { value: "1 234".into(), label: "intentos de acceso".into() }] },
            Block::Bars(Bars {
                caption: "Negativas".into(),
                bars: vec![Bar { label: "Siglo XXI".into(), value: 0.5, shown: "50 %".into() }],
            }),
            Block::Quote { text: "No se ha suspendido el acceso.".into(), source: "INM, 2020-01-21".into() },
            Block::Items { items: vec!["Niñas y niños detenidos".into()] },
            Block::Note { text: "Cifras de la organización.".into() },
        ]);
        let pdf = render(&d).expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() > 1000);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Nothing given is lost: every word of any text, however long, is drawn
        /// (possibly broken across lines), and no line is wider than the page's body.
        #[test]
        fn wrapping_keeps_every_character_and_fits_the_width(words in proptest::collection::vec("[a-zA-Záéíóúñ0-9.,]{1,40}", 0..60), width in 20.0f32..500.0) {
            let m = Metrics::load().expect("font");
            let text = words.join(" ");
            let lines = m.wrap(&text, BODY, false, width);
            let joined: String = lines.concat().chars().filter(|c| *c != ' ').collect();
            let expected: String = text.chars().filter(|c| *c != ' ').collect();
            prop_assert_eq!(joined, expected);
            for l in &lines {
                prop_assert!(m.width(l, BODY, false) <= width || l.chars().count() == 1, "{} too wide", l);
            }
        }

        #[test]
        fn any_text_lays_out_without_panicking(text in "\\PC{0,200}", rows in 0usize..30) {
            let m = Metrics::load().expect("font");
            let t = Table { caption: text.clone(), head: vec![text.clone(), "n".into()], rows: (0..rows).map(|i| vec![text.clone(), i.to_string()]).collect(), numeric: vec![false, true], total_row: true };
            let pages = lay_out(&doc(vec![Block::Paragraph { text: text.clone() }, Block::Table(t)]), &m);
            prop_assert!(!pages.is_empty());
            let all = drawn(&pages);
            for w in text.split([' ', '\n']).filter(|w| !w.is_empty()).take(3) {
                let first: String = w.chars().take(1).collect();
                prop_assert!(all.contains(&first));
            }
        }
    }
}
