//! A case's summary for the lawyer (issue #17): its details, deadlines with their legal
//! basis, violations and events, as a page and a PDF, in Spanish or English. The person's
//! data are in it only when asked for (`person=1`), by a role that may read them, after
//! signing in again within the re-authentication window; that read is recorded in the
//! audit history like any other. Without them it names the case by its pseudonym only.

use super::*;
use vigia_report::{Block, Doc, Table};

use crate::kit::document::{pairs, pdf, pdf_link, DocLink, Made};

/// What a summary is asked for.
struct Ask {
    person: bool,
    lang: Locale,
    pdf: bool,
}

fn ask(q: &HashMap<String, String>, default_lang: Locale) -> Result<Ask, WebError> {
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["person", "lang", "format"], &mut errs);
    let person = match raw.text("person", 2, &mut errs).as_deref() {
        None | Some("0") => false,
        Some("1") => true,
        Some(_) => {
            errs.push(vigia_domain::FieldError::new("person", "unknown_choice"));
            false
        }
    };
    let (lang, pdf) = crate::kit::document::lang_and_format(&raw, default_lang, &mut errs);
    Ok(errs.into_result(Ask { person, lang, pdf })?)
}

/// The summary's blocks, from what the case page shows.
fn blocks(l: Locale, v: &CaseView) -> Vec<Block> {
    let t = |k: &str| tr(l, k);
    let mut out = vec![pairs(t("sum-case"), [t("sum-field"), t("sum-value")], &v.details)];
    if let Some(p) = &v.person {
        out.push(Block::Heading { text: t("case-person") });
        out.push(Block::Note { text: t("sum-person-recorded") });
        out.push(pairs(t("case-person"), [t("sum-field"), t("sum-value")], p));
    }
    out.push(Block::Heading { text: t("case-violations") });
    if v.violations.is_empty() {
        out.push(Block::Paragraph { text: t("sum-no-violations") });
    } else {
        out.push(Block::Items {
            items: v
                .violations
                .iter()
                .map(|x| {
                    let mut s = format!("{} — {}. {}: {}", x.kind, x.when, t("sum-basis"), x.basis);
                    for d in &x.detail {
                        s.push_str(&format!("\n{d}"));
                    }
                    s
                })
                .collect(),
        });
    }
    out.push(Block::Heading { text: t("case-deadlines") });
    if v.deadlines.is_empty() {
        out.push(Block::Paragraph { text: t("case-deadlines-empty") });
    } else {
        out.push(Block::Table(Table {
            caption: t("case-deadlines"),
            head: vec![t("sum-rule"), t("sum-start"), t("sum-due"), t("sum-status"), t("sum-basis")],
            rows: v
                .deadlines
                .iter()
                .map(|d| {
                    let status =
                        if d.left.is_empty() { d.status.clone() } else { format!("{} ({})", d.status, d.left) };
                    vec![d.rule.clone(), d.start.clone(), d.due.clone(), status, d.basis.clone()]
                })
                .collect(),
            numeric: vec![false; 5],
            total_row: false,
        }));
    }
    out.push(Block::Heading { text: t("case-events") });
    if v.events.is_empty() {
        out.push(Block::Paragraph { text: t("case-events-empty") });
    } else {
        let with_notes = v.person.is_some();
        let mut head = vec![t("sum-when"), t("sum-event"), t("sum-detail")];
        if with_notes {
            head.push(t("sum-note"));
        }
        let rows = v
            .events
            .iter()
            .map(|e| {
                let mut detail = e.detail.clone();
                if let Some(r) = &e.voided {
                    detail = format!("{} {}: {r}", detail, t("sum-voided")).trim().to_string();
                }
                let mut row = vec![e.when.clone(), e.kind.clone(), detail];
                if with_notes {
                    row.push(e.note.clone().unwrap_or_default());
                }
                row
            })
            .collect();
        let n = head.len();
        out.push(Block::Table(Table {
            caption: t("case-events"),
            head,
            rows,
            numeric: vec![false; n],
            total_row: false,
        }));
    }
    out
}

pub(super) async fn summary_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::ReadCases).await?;
    let a = ask(&q, ctx.locale)?;
    let mut query: Vec<String> = vec![format!("lang={}", a.lang.as_str())];
    let sealed = if a.person {
        ctx.require(Permission::ReadCaseSealed)?;
        query.push("person=1".into());
        let back = format!("/cases/{}/summary?{}", c.id, query.join("&"));
        if let Some(r) = crate::auth::recent_auth(&st, &ctx, &back) {
            return Ok(r);
        }
        // Opening the person's data is a read, and is recorded.
        Some(vigia_app::consents::read_for_view(&st.store, &ctx.actor(), c.org_id, c.id).await?.0)
    } else {
        None
    };
    // The summary's words in the language asked for; the frame in the reader's.
    let mut in_lang = ctx.clone();
    in_lang.locale = a.lang;
    let view = case_view(&st, &in_lang, &c, sealed.as_ref()).await?;
    let l = a.lang;
    let body = blocks(l, &view);
    let hash = crate::kit::document::content_hash(&view.title, &body);
    let made = Made::now(&st.store).await?;
    let org = ctx.org.as_ref().map(|o| o.name.clone()).unwrap_or_default();
    let mut lines = vec![tr_args(l, "rep-line-org", &[("org", org)])];
    lines.push(tr(l, if sealed.is_some() { "sum-with-person" } else { "sum-without-person" }));
    let doc = Doc {
        lang: l.as_str().to_string(),
        title: tr_args(l, "sum-title", &[("case", view.title.clone())]),
        lines,
        blocks: body,
        footer: made.footer(l, &hash),
    };
    if a.pdf {
        let who = if sealed.is_some() { "-person" } else { "" };
        return Ok(pdf(doc, &format!("vigia-case-{}{who}-{}.pdf", c.id, l.as_str())).await?);
    }
    let mut links = vec![pdf_link(ctx.locale, format!("/cases/{}/summary?{}&format=pdf", c.id, query.join("&")))];
    if sealed.is_none() && ctx.can(Permission::ReadCaseSealed) {
        links.push(DocLink {
            href: format!("/cases/{}/summary?lang={}&person=1", c.id, l.as_str()),
            label: tr(ctx.locale, "sum-with-person-link"),
            id: "summary-person-link",
        });
    }
    links.push(DocLink { href: format!("/cases/{}", c.id), label: tr(ctx.locale, "sum-back"), id: "summary-back" });
    crate::kit::document::page(Chrome::new(&ctx, &format!("/cases/{}/summary", c.id)), &doc, links)
}
