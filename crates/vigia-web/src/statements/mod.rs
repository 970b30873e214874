//! Official statements, their claims, and the contradictions the domain finds among
//! them and against monitors' refused access: pages and API. Statements are a public
//! record every signed-in person reads; words against practice only cite the access
//! attempts the viewer may see.

pub mod timeline;

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use vigia_domain::account::{Locale, Permission};
use vigia_domain::input::RawInput;
use vigia_domain::statement::{self, describe_gap, Channel, Position, Review, ReviewStatus, Scope, Statement};
use vigia_domain::{format_instant, format_local, ValidationErrors};
use vigia_store::now_micros;

use crate::auth::Ctx;
use crate::error::{ApiError, WebError};
use crate::i18n::{tr, tr_args};
use crate::kit::label;
use crate::kit::options;
use crate::kit::{render, Chrome, FieldView, FormBody, OptionView, PageResult};
use crate::routes::Routes;
use crate::state::AppState;
use vigia_app::findings::{Found, Reviews};

pub mod api;

use api::*;

pub mod pages;

use pages::*;

pub fn routes() -> Routes {
    Routes::default()
        .get("/statements", list_page)
        .get("/statements.csv", csv_page)
        .get("/statements.jsonl", csv_page)
        .post("/statements", create_page)
        .get("/statements/new", new_page)
        .get("/statements/{id}", show_page)
        .post("/statements/{id}/claims", claim_page)
        .post("/statements/{id}/confirm", confirm_page)
        .get("/contradictions", contradictions_page)
        .get("/contradictions.csv", contradictions_csv)
        .get("/contradictions.jsonl", contradictions_csv)
        .post("/contradictions/review", review_page)
        .get("/api/v1/statements", api_list)
        .post("/api/v1/statements", api_create)
        .upload("/api/v1/statements/import", api_import, crate::state::CSV_ROUTE_LIMIT)
        .get("/api/v1/statements/{id}", api_get)
        .put("/api/v1/statements/{id}", api_update)
        .post("/api/v1/statements/{id}/claims", api_claim)
        .get("/api/v1/contradictions", api_contradictions)
        .post("/api/v1/contradictions/review", api_review)
}

const ZONE: &str = vigia_domain::geo::LEGAL_TIME_ZONE;

use crate::kit::parse_id;

fn scope_json(s: &Scope) -> serde_json::Value {
    serde_json::to_value(s).unwrap_or_default()
}

fn statement_json(s: &Statement) -> serde_json::Value {
    let d = &s.draft;
    serde_json::json!({
        "id": s.id, "version": s.version, "authority": d.authority, "speaker": d.speaker, "speaker_position": d.speaker_position,
        "published_at": format_instant(d.published_at), "published_local": format_local(d.published_at, ZONE),
        "channel": d.channel, "source_url": d.source_url, "language": d.language, "text": d.text,
        "translation": d.translation, "recorded_by_organization": s.org_id,
        "claims": s.claims.iter().map(|c| serde_json::json!({
            "id": c.id, "topic": c.draft.topic, "scope": scope_json(&c.draft.scope), "position": c.draft.position,
            "from": c.draft.from.to_string(), "until": c.draft.until.map(|u| u.to_string()), "confirmed": c.confirmed,
        })).collect::<Vec<_>>(),
    })
}

/// What a statement is searched by: its words and translation, who said it, and, in
/// both languages, the authority, the channel and each claim's topic and position, so
/// "acceso" finds the statements about access whatever words they used.
fn searchable(s: &Statement) -> String {
    let mut hay = format!(
        "{} {} {} {} {}",
        s.draft.text,
        s.draft.translation.as_deref().unwrap_or(""),
        s.draft.speaker.as_deref().unwrap_or(""),
        s.draft.speaker_position.as_deref().unwrap_or(""),
        s.draft.authority
    );
    for l in [Locale::Es, Locale::En] {
        for part in std::iter::once(label(l, "authority", &s.draft.authority))
            .chain(std::iter::once(label(l, "channel", s.draft.channel.as_str())))
            .chain(
                s.claims
                    .iter()
                    .flat_map(|c| [label(l, "topic", &c.draft.topic), label(l, "position", c.draft.position.as_str())]),
            )
        {
            hay.push(' ');
            hay.push_str(&part);
        }
    }
    hay
}

/// Statements read from the store a batch at a time when a search walks them all.
const SEARCH_BATCH: i64 = 1000;

/// What a search finds: the statements matching every word of `q` (by stem, ignoring
/// accents and case; all of them without words), counted by facet, then narrowed to the
/// `chosen` facet values. Stems in both languages' words cannot be indexed by the
/// database, so the search walks every statement a batch at a time; what it finds is
/// kept until the data change, and each page reads only its own statements.
async fn matched(
    st: &AppState,
    q: &str,
    chosen: &[(&'static str, String)],
) -> Result<std::sync::Arc<crate::kit::listing::Matched>, WebError> {
    let q = q.trim();
    let key = serde_json::json!([q, chosen]).to_string();
    st.statement_searches
        .get(&st.store, key, || async move {
            let mut m = crate::kit::listing::Matched::none(FACETS.len());
            let mut cursor = None;
            loop {
                let batch = st.store.statements_page(cursor, SEARCH_BATCH).await?;
                let full = batch.len() as i64 == SEARCH_BATCH;
                cursor = batch.last().map(|s| vigia_domain::paging::Cursor::after(s.draft.published_at, s.id));
                for s in batch.iter().filter(|s| q.is_empty() || statement::matches(q, &searchable(s))) {
                    for (i, facet) in FACETS.iter().enumerate() {
                        for v in facet_values(s, facet) {
                            *m.facets[i].entry(v).or_default() += 1;
                        }
                    }
                    if chosen.iter().all(|(f, v)| in_facet(s, f, v)) {
                        m.keys.push((s.draft.published_at, s.id));
                    }
                }
                if !full {
                    return Ok::<_, WebError>(m);
                }
            }
        })
        .await
}

/// These statements, read from the store, in the order of `keys`.
async fn statements_in_order(st: &AppState, keys: &[(i64, i64)]) -> Result<Vec<Statement>, WebError> {
    let ids: Vec<i64> = keys.iter().map(|(_, id)| *id).collect();
    let mut by_id: HashMap<i64, Statement> =
        st.store.statements_by_ids(&ids).await?.into_iter().map(|s| (s.id, s)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// One page of the statements a search matches (every statement without one), newest
/// first: up to `asked.limit + 1` rows after `asked.after` (the extra row says another
/// page follows), and how many match in all. Without a search the page is read from
/// the store's index; a search pages through what [`matched`] found.
async fn search_page(
    st: &AppState,
    q: Option<&str>,
    asked: crate::kit::json::PageAsked,
) -> Result<(Vec<Statement>, i64), WebError> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else {
        let rows = st.store.statements_page(asked.after, asked.limit + 1).await?;
        let total = crate::kit::kept::kept(st, "count-statements", String::new(), || async {
            Ok(st.store.count_statements().await?)
        })
        .await?;
        return Ok((rows, total));
    };
    let m = matched(st, q, &[]).await?;
    let start = m.start_after(asked.after);
    let end = (start + asked.limit as usize + 1).min(m.keys.len());
    Ok((statements_in_order(st, &m.keys[start..end]).await?, m.keys.len() as i64))
}

/// Whether a word is one the query finds (by the same stems as the search).
fn is_hit(word: &str, wanted: &std::collections::BTreeSet<String>) -> bool {
    statement::search_terms(word).first().is_some_and(|w| wanted.contains(w))
}

/// `text` as HTML, escaped, with the words the query finds in `<mark>`.
pub fn highlight(text: &str, query: &str) -> String {
    let wanted: std::collections::BTreeSet<String> = statement::search_terms(query).into_iter().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        if is_hit(word, &wanted) {
            out.push_str("<mark>");
            out.push_str(&crate::kit::esc(word));
            out.push_str("</mark>");
        } else {
            out.push_str(&crate::kit::esc(word));
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push_str(&crate::kit::esc(c.encode_utf8(&mut [0; 4])));
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Up to `n` characters of `text`: its start, or, when the first word the query finds
/// lies further in, a window around that word.
fn excerpt(text: &str, query: &str, n: usize) -> String {
    let wanted: std::collections::BTreeSet<String> = statement::search_terms(query).into_iter().collect();
    let chars: Vec<char> = text.chars().collect();
    let mut start = 0;
    let mut i = 0;
    while !wanted.is_empty() && i < chars.len() {
        if !chars[i].is_alphanumeric() {
            i += 1;
            continue;
        }
        let j = (i..chars.len()).find(|k| !chars[*k].is_alphanumeric()).unwrap_or(chars.len());
        if is_hit(&chars[i..j].iter().collect::<String>(), &wanted) {
            if j > n {
                start = i.saturating_sub(n / 3);
            }
            break;
        }
        i = j;
    }
    let end = (start + n).min(chars.len());
    let mut out: String = chars[start..end].iter().collect();
    if start > 0 {
        out.insert(0, '…');
    }
    if end < chars.len() {
        out.push('…');
    }
    out
}

/// Reads a list of contradictions' `after`: the key of the last one on the page before
/// (contradictions are listed by key, which stays the same from one reading to the next).
fn detection_after(q: &HashMap<String, String>, errs: &mut ValidationErrors) -> Option<String> {
    let raw = q.get("after").map(|s| s.trim()).filter(|s| !s.is_empty())?;
    let ok =
        raw.len() <= 100 && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b':');
    if !ok {
        errs.push(vigia_domain::FieldError::new("after", "invalid_cursor"));
    }
    ok.then(|| raw.to_string())
}

/// The contradictions after the one keyed `after`, up to `limit`: the page, how many
/// follow from its start, and the key to start the next page after (when more follow).
fn detections_after<'a>(found: &'a [Found], after: Option<&str>, limit: usize) -> (&'a [Found], usize, Option<String>) {
    // The domain lists them sorted by key.
    let start = after.map_or(0, |a| found.partition_point(|f| f.d.key.as_str() <= a));
    let rest = &found[start..];
    let page = &rest[..rest.len().min(limit)];
    let next = (rest.len() > page.len()).then(|| page.last().map(|f| f.d.key.clone())).flatten();
    (page, rest.len(), next)
}

fn detection_json(f: &Found, reviews: &Reviews) -> serde_json::Value {
    let d = &f.d;
    let r = reviews.own(&d.key);
    let others: Vec<_> = reviews
        .others(&d.key)
        .map(|(name, r)| {
            serde_json::json!({"organization": name, "status": r.status, "at": format_instant(r.reviewed_at)})
        })
        .collect();
    serde_json::json!({
        "key": d.key, "rule": d.rule, "claims": d.claims, "statements": d.statements, "attempts": f.cited,
        "refusals": d.refusals, "refusal_days": d.days.len(), "organizations": d.organizations, "gap_seconds": d.gap.map(|g| g / 1_000_000), "gap": d.gap.map(describe_gap),
        "review": r.map(|r| serde_json::json!({"status": r.status, "reason": r.reason, "at": format_instant(r.reviewed_at)})),
        "other_reviews": others,
    })
}
