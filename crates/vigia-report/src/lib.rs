//! Vigía's documents (issue #17): one model of a report — headings, paragraphs, quotes,
//! key figures, tables and bar charts, already in the reader's language — drawn two
//! ways from the same blocks: an HTML fragment for the print-friendly page
//! ([`html`]) and a PDF made on the server without a browser ([`pdf`]).
//!
//! This crate knows nothing of Vigía's records: the web crate turns a report's figures
//! and the Fluent messages into a [`Doc`], and the CLI asks it for the same one, so the
//! page, the PDF and `vigia report` show the same words and numbers.

pub mod html;
pub mod pdf;
pub mod site;

use serde::Serialize;

/// A document in one language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Doc {
    /// BCP 47 tag of the text (`es`, `en`): the PDF's and the page's language.
    pub lang: String,
    pub title: String,
    /// Under the title: who it is for, the period, what it covers.
    pub lines: Vec<String>,
    pub blocks: Vec<Block>,
    pub footer: Footer,
}

/// What every page's foot says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Footer {
    /// When it was made and from which version of the data.
    pub made: String,
    /// The content's hash, spelled out.
    pub hash: String,
    /// The page number's wording, with `{page}` and `{pages}` to fill in.
    pub page: String,
}

impl Footer {
    pub fn page_label(&self, page: usize, pages: usize) -> String {
        self.page.replace("{page}", &page.to_string()).replace("{pages}", &pages.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    Heading {
        text: String,
    },
    Subheading {
        text: String,
    },
    Paragraph {
        text: String,
    },
    /// Smaller, grey: how a figure was counted, what was left out.
    Note {
        text: String,
    },
    /// Words as someone said them, and who said them where.
    Quote {
        text: String,
        source: String,
    },
    Figures {
        items: Vec<Figure>,
    },
    Table(Table),
    Bars(Bars),
    Items {
        items: Vec<String>,
    },
}

/// A key figure: "1 234" over "access attempts".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub caption: String,
    pub head: Vec<String>,
    /// Each row as many cells as `head`; the first cell names the row.
    pub rows: Vec<Vec<String>>,
    /// Per column: numbers, aligned right.
    pub numeric: Vec<bool>,
    /// The last row is a total (drawn bold).
    pub total_row: bool,
}

/// A horizontal bar chart, drawn as vector graphics in both forms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bars {
    pub caption: String,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// The value as written beside the bar ("42 %", "17").
    pub shown: String,
}

impl Doc {
    /// Every piece of text the document shows, in order: what a reader of either form
    /// must find (the tests compare it with what `pdftotext` reads back).
    pub fn texts(&self) -> Vec<&str> {
        let mut out: Vec<&str> = vec![&self.title];
        out.extend(self.lines.iter().map(String::as_str));
        for b in &self.blocks {
            match b {
                Block::Heading { text }
                | Block::Subheading { text }
                | Block::Paragraph { text }
                | Block::Note { text } => out.push(text),
                Block::Quote { text, source } => out.extend([text.as_str(), source.as_str()]),
                Block::Figures { items } => {
                    for f in items {
                        out.extend([f.value.as_str(), f.label.as_str()]);
                    }
                }
                Block::Table(t) => {
                    out.push(&t.caption);
                    out.extend(t.head.iter().map(String::as_str));
                    out.extend(t.rows.iter().flatten().map(String::as_str));
                }
                Block::Bars(b) => {
                    out.push(&b.caption);
                    for bar in &b.bars {
                        out.extend([bar.label.as_str(), bar.shown.as_str()]);
                    }
                }
                Block::Items { items } => out.extend(items.iter().map(String::as_str)),
            }
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
    #[error("the shipped font could not be read")]
    Font,
}
