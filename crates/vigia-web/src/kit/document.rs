//! What every document (a report, a dossier, a case summary, a visit report) shares
//! around its blocks: the foot printed on every page (when it was made, from which
//! version of the data, the content's hash), the page that shows it, and its PDF.

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use vigia_domain::account::Locale;
use vigia_report::{Doc, Footer};
use vigia_store::DynStore;

use crate::error::WebError;
use crate::i18n::{tr, tr_args};
use crate::kit::{render, Chrome, PageResult};

/// When and from which data a document was made: printed on every page.
pub struct Made {
    /// Local date and time (Mexico City).
    pub at: String,
    /// The audit chain's head when it was made: the data version.
    pub seq: i64,
    pub chain_hash: String,
}

impl Made {
    /// Now, at the audit chain's current head.
    pub async fn now(store: &DynStore) -> Result<Made, WebError> {
        let head = store.audit_head().await?;
        let tz = jiff::tz::TimeZone::get(vigia_domain::geo::LEGAL_TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC);
        let at = jiff::Timestamp::now().to_zoned_datetime(tz).strftime("%Y-%m-%d %H:%M").to_string();
        Ok(Made { at, seq: head.seq, chain_hash: head.hash })
    }

    /// The foot of every page, with the content's SHA-256 spelled out.
    pub fn footer(&self, l: Locale, content_hash: &str) -> Footer {
        Footer {
            made: tr_args(
                l,
                "rep-footer-made",
                &[
                    ("at", self.at.clone()),
                    ("seq", self.seq.to_string()),
                    ("chain", self.chain_hash.chars().take(12).collect()),
                ],
            ),
            hash: tr_args(l, "rep-footer-hash", &[("hash", content_hash.to_string())]),
            page: tr_args(l, "rep-footer-page", &[("page", "{page}".into()), ("pages", "{pages}".into())]),
        }
    }
}

/// The PDF as a download named `file_name`, drawn off the async executor (CPU work).
pub async fn pdf(doc: Doc, file_name: &str) -> Result<Response, WebError> {
    let bytes = tokio::task::spawn_blocking(move || vigia_report::pdf::render(&doc))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
        ],
        bytes,
    )
        .into_response())
}

/// A link beside the document: where it goes, its words, its id.
pub struct DocLink {
    pub href: String,
    pub label: String,
    pub id: &'static str,
}

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage {
    c: Chrome,
    title: String,
    lang: String,
    body: String,
    links: Vec<DocLink>,
}

/// The document inside the site's frame: its title as the page's heading, the links
/// (the PDF first, drawn as a button), then the blocks.
pub fn page(c: Chrome, doc: &Doc, links: Vec<DocLink>) -> PageResult {
    render(
        StatusCode::OK,
        &DocumentPage {
            c,
            title: doc.title.clone(),
            lang: doc.lang.clone(),
            body: vigia_report::html::fragment(doc, false),
            links,
        },
    )
}

/// "Descargar PDF" / "Download PDF".
pub fn pdf_link(l: Locale, href: String) -> DocLink {
    DocLink { href, label: tr(l, "rep-download-pdf"), id: "report-pdf-link" }
}

/// A document's language (`lang`, else the reader's) and whether the PDF is asked for
/// (`format=pdf`; `html` or nothing is the page).
pub fn lang_and_format(
    raw: &vigia_domain::input::RawInput,
    default: Locale,
    errs: &mut vigia_domain::ValidationErrors,
) -> (Locale, bool) {
    let lang = match raw.text("lang", 5, errs) {
        None => default,
        Some(s) => Locale::parse(&s).unwrap_or_else(|| {
            errs.push(vigia_domain::FieldError::new("lang", "unknown_choice"));
            default
        }),
    };
    let pdf = match raw.text("format", 5, errs).as_deref() {
        None | Some("html") => false,
        Some("pdf") => true,
        Some(_) => {
            errs.push(vigia_domain::FieldError::new("format", "unknown_choice"));
            false
        }
    };
    (lang, pdf)
}

/// SHA-256 of what a document shows (its title and blocks), for its foot.
pub fn content_hash(title: &str, blocks: &[vigia_report::Block]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(serde_json::to_vec(&(title, blocks)).unwrap_or_default()))
}

/// A two-column table of (what, value) pairs: a record's details in a document.
pub fn pairs(caption: String, head: [String; 2], rows: &[(String, String)]) -> vigia_report::Block {
    vigia_report::Block::Table(vigia_report::Table {
        caption,
        head: head.to_vec(),
        rows: rows.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect(),
        numeric: vec![false, false],
        total_row: false,
    })
}
