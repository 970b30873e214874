//! A visit's report as filed (issue #17): details and population, indicators, flags with
//! their legal basis, the checklist's answers and observations, findings, and the
//! evidence files with their SHA-256, as a page and a PDF in either language. The sealed
//! interview notes are never in it.

use super::*;
use vigia_domain::input::RawInput;
use vigia_report::{Block, Doc, Figure, Table};

use crate::kit::document::{content_hash, lang_and_format, pairs, pdf, pdf_link, DocLink, Made};

fn blocks(l: Locale, v: &VisitView, has_notes: bool) -> Vec<Block> {
    let t = |k: &str| tr(l, k);
    let head = || [t("sum-field"), t("sum-value")];
    let mut out = vec![pairs(t("vrep-details"), head(), &v.details)];
    out.push(Block::Figures {
        items: v
            .indicators
            .iter()
            .map(|(label, value)| Figure { value: value.clone(), label: label.clone() })
            .collect(),
    });
    out.push(Block::Heading { text: t("rep-flags") });
    if v.flags.is_empty() {
        out.push(Block::Paragraph { text: t("vrep-no-flags") });
    } else {
        out.push(Block::Items {
            items: v.flags.iter().map(|(_, flag, basis)| format!("{flag}. {}: {basis}", t("sum-basis"))).collect(),
        });
    }
    out.push(Block::Heading { text: t("vrep-sections") });
    for (name, answers, observations) in &v.sections {
        out.push(Block::Subheading { text: name.clone() });
        if !answers.is_empty() {
            out.push(pairs(name.clone(), [t("vrep-question"), t("vrep-answer")], answers));
        }
        if let Some(o) = observations {
            out.push(Block::Quote { text: o.clone(), source: t("vrep-observations") });
        }
    }
    out.push(Block::Heading { text: t("vrep-findings") });
    if v.findings.is_empty() {
        out.push(Block::Paragraph { text: t("vrep-no-findings") });
    } else {
        out.push(Block::Table(Table {
            caption: t("vrep-findings"),
            head: vec![t("vrep-section"), t("vrep-severity"), t("vrep-description")],
            rows: v.findings.iter().map(|(s, sev, d)| vec![s.clone(), sev.to_string(), d.clone()]).collect(),
            numeric: vec![false, true, false],
            total_row: false,
        }));
    }
    out.push(Block::Heading { text: t("vrep-evidence") });
    if v.files.is_empty() {
        out.push(Block::Paragraph { text: t("vrep-no-evidence") });
    } else {
        out.push(Block::Table(Table {
            caption: t("vrep-evidence"),
            head: vec![t("vrep-file"), t("vrep-kind"), t("vrep-size"), "SHA-256".into()],
            rows: v
                .files
                .iter()
                .map(|f| vec![f.name.clone(), f.kind.clone(), f.size.clone(), f.sha256.clone()])
                .collect(),
            numeric: vec![false, false, true, false],
            total_row: false,
        }));
        out.push(Block::Note { text: t("vrep-evidence-note") });
    }
    if has_notes {
        out.push(Block::Note { text: t("vrep-notes-sealed") });
    }
    out
}

pub(super) async fn report_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let v = owned(&st, &ctx, &id).await?;
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["lang", "format"], &mut errs);
    let (l, as_pdf) = lang_and_format(&raw, ctx.locale, &mut errs);
    errs.into_result(())?;
    let org = ctx.org.as_ref().map(|o| o.name.clone()).unwrap_or_default();
    let doc = document(&st.store, l, &org, &v).await?;
    if as_pdf {
        return Ok(pdf(doc, &format!("vigia-visit-{}-{}.pdf", v.id, l.as_str())).await?);
    }
    let links = vec![
        pdf_link(ctx.locale, format!("/visits/{}/report?lang={}&format=pdf", v.id, l.as_str())),
        DocLink { href: format!("/visits/{}", v.id), label: tr(ctx.locale, "vrep-back"), id: "visit-back" },
    ];
    crate::kit::document::page(Chrome::new(&ctx, &format!("/visits/{}/report", v.id)), &doc, links)
}

/// A visit's report as filed, in `l`, for its organization `org`: what the page, its PDF
/// and `vigia report --visit` show.
pub async fn document(store: &vigia_store::DynStore, l: Locale, org: &str, v: &Visit) -> Result<Doc, WebError> {
    let view = visit_view(store, l, v).await?;
    let body = blocks(l, &view, v.has_notes);
    let mut lines = vec![
        tr_args(l, "rep-line-org", &[("org", org.to_string())]),
        tr_args(l, "vrep-sent", &[("when", crate::kit::when(v.created_at))]),
    ];
    if let Some((first, when)) = &view.corrects {
        lines.push(tr_args(l, "vrep-corrects", &[("id", first.to_string()), ("when", when.clone())]));
    }
    for (later, when) in &view.corrected_by {
        lines.push(tr_args(l, "vrep-corrected-by", &[("id", later.to_string()), ("when", when.clone())]));
    }
    let made = Made::now(store).await?;
    Ok(Doc {
        lang: l.as_str().to_string(),
        footer: made.footer(l, &content_hash(&view.title, &body)),
        title: view.title,
        lines,
        blocks: body,
    })
}
