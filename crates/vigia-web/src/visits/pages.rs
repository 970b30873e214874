//! Visits' pages: the form that works offline, the list, a report as filed.

use super::*;

pub struct QuestionView {
    pub name: String,
    pub label: String,
}

pub struct SectionView {
    pub code: &'static str,
    pub label: String,
    pub questions: Vec<QuestionView>,
    /// How many of its questions the form already answers (the progress shown on it).
    pub answered: usize,
}

/// The visit form. Without JavaScript it posts and comes back with what was typed and
/// the errors beside it; with it, the script keeps the draft on the device and sends it
/// only when the person asks.
#[derive(Template)]
#[template(path = "visits/templates/visit_form.html")]
pub(super) struct FormPage {
    c: Chrome,
    key: String,
    facilities: Vec<(i64, String)>,
    sections: Vec<SectionView>,
    answers: Vec<(&'static str, String)>,
    severities: Vec<(&'static str, String)>,
    section_codes: Vec<(&'static str, String)>,
    population: Vec<(&'static str, String)>,
    /// (index, number shown) of each finding slot: at least one, and one per finding typed.
    finding_slots: Vec<(String, String)>,
    /// (anchor of the field, the error in words).
    errors: Vec<(String, String)>,
    values: HashMap<String, String>,
    /// "%A of %T questions answered", for the script to fill in.
    progress_text: String,
    /// Whose drafts this browser may list and send: the signed-in person's id.
    user_key: String,
}

impl FormPage {
    fn v(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    fn is(&self, name: &str, value: &str) -> bool {
        !value.is_empty() && self.v(name) == value
    }
}

pub(super) const POPULATION: [&str; 9] = [
    "total",
    "women",
    "men",
    "children_unaccompanied",
    "children_accompanied",
    "asylum_seekers",
    "held_beyond_limit",
    "capacity_posted",
    "area_m2",
];

/// A field of the visit report named in words, as the form labels it: errors never show
/// `facility_id` or `sections.legal_safeguards.interpreter` to a monitor.
pub fn field_words(l: Locale, field: &str) -> String {
    let parts: Vec<&str> = field.split('.').collect();
    let section = |s: &str| match Section::parse(s) {
        Some(s) => tr(l, &format!("section-{}", s.as_str())),
        None => tr(l, "visit-section-unknown"),
    };
    match parts.as_slice() {
        ["facility_id"] => tr(l, "field-facility_id"),
        ["on"] => tr(l, "field-event-on"),
        [f @ ("time_in" | "time_out" | "team_size" | "areas_seen" | "areas_refused")] => {
            tr(l, &format!("visit-field-{f}"))
        }
        ["interview_notes"] => tr(l, "visit-interview-notes"),
        ["corrects" | "corrects_key"] => tr(l, "visit-corrects-field"),
        ["idempotency_key" | "draft_key"] => tr(l, "visit-draft-key-field"),
        ["population", f] if POPULATION.contains(f) => tr(l, &format!("visit-pop-{f}")),
        ["population", ..] => tr(l, "visit-population"),
        ["sections", s, "observations"] => format!("{} — {}", section(s), tr(l, "visit-observations")),
        ["sections", s, q] => match Section::parse(s).filter(|sec| sec.questions().contains(q)) {
            Some(_) => format!("{} — {}", section(s), tr(l, &format!("question-{q}"))),
            None => format!("{} — {}", section(s), tr(l, "visit-question-unknown")),
        },
        ["sections", s] => section(s),
        ["findings", i, rest @ ..] => {
            let n = i.parse::<usize>().map(|i| (i + 1).to_string()).unwrap_or_default();
            let what = match rest {
                ["section"] => tr(l, "visit-finding-section"),
                ["severity"] => tr(l, "visit-finding-severity"),
                ["description"] => tr(l, "visit-finding-description"),
                _ => String::new(),
            };
            let head = format!("{} {n}", tr(l, "visit-finding"));
            if what.is_empty() {
                head
            } else {
                format!("{head} — {what}")
            }
        }
        ["findings"] => tr(l, "visit-findings"),
        _ => tr(l, "visit-field-unknown"),
    }
}

/// Each error as (the anchor of its field on the form, "Field in words: why").
pub(super) fn error_lines(l: Locale, errs: &ValidationErrors) -> Vec<(String, String)> {
    errs.0
        .iter()
        .map(|e| (format!("f-{}", e.field), format!("{}: {}", field_words(l, &e.field), field_error(l, e))))
        .collect()
}

pub(super) fn form_page(
    st_facilities: Vec<(i64, String)>,
    ctx: &Ctx,
    key: String,
    errors: Vec<(String, String)>,
    values: HashMap<String, String>,
) -> FormPage {
    let l = ctx.locale;
    let findings = values
        .keys()
        .filter_map(|k| k.strip_prefix("findings.")?.split('.').next()?.parse::<usize>().ok())
        .filter(|i| *i < 50)
        .max()
        .map_or(1, |m| m + 1);
    FormPage {
        c: Chrome::new(ctx, "/visits/new"),
        key,
        facilities: st_facilities,
        sections: Section::ALL
            .iter()
            .map(|s| {
                let questions: Vec<QuestionView> = s
                    .questions()
                    .iter()
                    .map(|q| QuestionView {
                        name: format!("sections.{}.{q}", s.as_str()),
                        label: tr(l, &format!("question-{q}")),
                    })
                    .collect();
                SectionView {
                    code: s.as_str(),
                    label: tr(l, &format!("section-{}", s.as_str())),
                    answered: questions.iter().filter(|q| values.get(&q.name).is_some_and(|v| !v.is_empty())).count(),
                    questions,
                }
            })
            .collect(),
        answers: Answer::ALL.iter().map(|a| (a.as_str(), tr(l, &format!("answer-{}", a.as_str())))).collect(),
        severities: ["1", "2", "3", "4"].iter().map(|n| (*n, tr(l, &format!("visit-severity-{n}")))).collect(),
        section_codes: Section::ALL.iter().map(|s| (s.as_str(), tr(l, &format!("section-{}", s.as_str())))).collect(),
        population: POPULATION.iter().map(|f| (*f, tr(l, &format!("visit-pop-{f}")))).collect(),
        finding_slots: (0..findings).map(|i| (i.to_string(), (i + 1).to_string())).collect(),
        errors,
        values,
        progress_text: tr_args(l, "draft-progress", &[("answered", "%A".to_string()), ("total", "%T".to_string())]),
        user_key: ctx.user.as_ref().map(|u| u.id.to_string()).unwrap_or_default(),
    }
}

pub(super) async fn facility_options(st: &AppState) -> Result<Vec<(i64, String)>, WebError> {
    Ok(st.store.list_facilities().await?.into_iter().map(|f| (f.id, f.draft.name)).collect())
}

pub(super) async fn new_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    ctx.require(Permission::RecordVisits)?;
    let key =
        vigia_store::secrets::new_token("v").map_err(|e| WebError::Internal(e.to_string()))?.replace(['-', '_'], "x");
    let values = HashMap::from([("on".to_string(), today().to_string()), ("team_size".to_string(), "2".to_string())]);
    render(StatusCode::OK, &form_page(facility_options(&st).await?, &ctx, key, Vec::new(), values))
}

/// The form posts here, by itself (no JavaScript) or from the offline script, which
/// asks for JSON (`Accept: application/json`) to learn whether the draft was sent. A
/// `corrects_key` names a report this person already sent under that draft key: the
/// new report is recorded as its correction, and the first stays as it was.
pub(super) async fn create_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require(Permission::RecordVisits)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let wants_json =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"));
    let key = form.get("draft_key").unwrap_or("").to_string();
    let corrects_key = form.get("corrects_key").unwrap_or("").trim().to_string();
    let pairs: Vec<(String, String)> =
        // The form names what it corrects only by the draft's key, which the server turns
        // into the id of this person's visit; a `corrects` id typed into the form is refused.
        form.pairs.iter().filter(|(k, _)| k != "corrects_key" && k != "csrf").cloned().collect();
    let mut value = pairs_to_json(&pairs);
    let l = ctx.locale;
    let outcome = if value.get("corrects").is_some() {
        Err(ValidationErrors::single("corrects", "unknown_field").into())
    } else if corrects_key.is_empty() {
        record(&st, &ctx, &key, &value).await
    } else {
        match st.store.visit_sent_under(user.org_id, user.id, &corrects_key).await? {
            Some(first) => {
                value["corrects"] = first.into();
                record(&st, &ctx, &key, &value).await
            }
            None => Err(ValidationErrors::single("corrects_key", "unknown_visit").into()),
        }
    };
    match outcome {
        Ok((v, new)) => {
            if wants_json {
                let status = if new { StatusCode::CREATED } else { StatusCode::OK };
                return Ok((
                    status,
                    Json(serde_json::json!({"id": v.id, "url": format!("/visits/{}", v.id), "new": new})),
                )
                    .into_response());
            }
            Ok(Redirect::to(&format!("/visits/{}?sent=1", v.id)).into_response())
        }
        Err(WebError::Invalid(errs)) => {
            let lines = error_lines(l, &errors_on_slots(errs, &finding_slots(&pairs)));
            if wants_json {
                let fields: Vec<serde_json::Value> = lines
                    .iter()
                    .map(|(anchor, message)| serde_json::json!({"anchor": anchor, "message": message}))
                    .collect();
                let messages: Vec<&String> = lines.iter().map(|(_, m)| m).collect();
                return Ok((
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(serde_json::json!({"errors": messages, "fields": fields})),
                )
                    .into_response());
            }
            let mut values: HashMap<String, String> = pairs.into_iter().collect();
            values.insert("corrects_key".into(), corrects_key);
            render(StatusCode::UNPROCESSABLE_ENTITY, &form_page(facility_options(&st).await?, &ctx, key, lines, values))
        }
        Err(WebError::Conflict(_)) if wants_json => {
            Ok((StatusCode::CONFLICT, Json(serde_json::json!({"errors": [tr(l, "visit-conflict")]}))).into_response())
        }
        // Without the script: the report comes back as typed, under a new draft key and
        // marked as a correction of what was sent under the old one; sending it again is
        // the person's choice, and nothing was overwritten.
        Err(WebError::Conflict(_)) if corrects_key.is_empty() => {
            let mut values: HashMap<String, String> = pairs.into_iter().collect();
            values.insert("corrects_key".into(), key);
            let new_key = vigia_store::secrets::new_token("v")
                .map_err(|e| WebError::Internal(e.to_string()))?
                .replace(['-', '_'], "x");
            let lines = vec![("f-facility_id".to_string(), tr(l, "visit-conflict-correct"))];
            let mut resp =
                render(StatusCode::OK, &form_page(facility_options(&st).await?, &ctx, new_key, lines, values))?;
            *resp.status_mut() = StatusCode::CONFLICT;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "visits/templates/visits.html")]
pub(super) struct ListPage {
    c: Chrome,
    can_record: bool,
    rows: Vec<VisitRow>,
    paging: crate::kit::listing::Paging,
    cursor_error: Option<String>,
}

/// Visits as the list shows them, each with its sort key and its CSV row, in the order
/// given.
pub(super) fn visit_rows(
    facilities: &HashMap<i64, vigia_domain::facility::Facility>,
    visits: &[Visit],
    l: Locale,
) -> Vec<((i64, i64), VisitRow, Vec<String>)> {
    visits
        .iter()
        .map(|v| {
            let f = facilities.get(&v.draft.facility_id);
            let (ind, flags) = visit::assess(&v.draft, f.and_then(|f| f.draft.capacity));
            let flags: Vec<String> = flags.iter().map(|x| tr(l, &format!("flag-{}", x.flag.as_str()))).collect();
            let row = VisitRow {
                id: v.id,
                on: v.draft.on.to_string(),
                facility: f.map(|f| f.draft.name.clone()).unwrap_or_default(),
                occupancy: ind.occupancy.map(|o| format!("{:.0} %", o * 100.0)).unwrap_or_default(),
                flags: flags.clone(),
            };
            let p = &v.draft.population;
            let n = |x: Option<i64>| x.map(|x| x.to_string()).unwrap_or_default();
            let t = |x: Option<jiff::civil::Time>| x.map(|t| t.strftime("%H:%M").to_string()).unwrap_or_default();
            let csv = vec![
                v.id.to_string(),
                row.on.clone(),
                row.facility.clone(),
                t(v.draft.time_in),
                t(v.draft.time_out),
                v.draft.team_size.to_string(),
                n(p.total),
                n(p.women),
                n(p.men),
                n(p.children_unaccompanied),
                n(p.children_accompanied),
                n(p.asylum_seekers),
                n(p.held_beyond_limit),
                row.occupancy.clone(),
                flags.join("; "),
                v.draft.findings.len().to_string(),
                v.draft.corrects.map(|c| c.to_string()).unwrap_or_default(),
                crate::kit::when(v.created_at),
            ];
            ((crate::kit::listing::date_key(v.draft.on), v.id), row, csv)
        })
        .collect()
}

pub(super) async fn facilities_by_id(
    st: &AppState,
) -> Result<HashMap<i64, vigia_domain::facility::Facility>, WebError> {
    Ok(st.store.list_facilities().await?.into_iter().map(|f| (f.id, f)).collect())
}

pub(super) async fn list_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    // One page read from the store, newest first; a broken page link shows the first.
    let (after, cursor_error) = crate::kit::listing::page_link(l, &q);
    let size = vigia_domain::paging::PAGE_ROWS;
    let mut visits = st.store.visits_page(user.org_id, None, after, size + 1).await?;
    let more = visits.len() as i64 > size;
    visits.truncate(size as usize);
    let total = crate::kit::kept::kept(&st, "count-visits", format!("{}|None", user.org_id), || async {
        Ok(st.store.count_visits(user.org_id, None, None).await?)
    })
    .await?;
    let remaining = if after.is_some() { st.store.count_visits(user.org_id, None, after).await? } else { total };
    let rows = visit_rows(&facilities_by_id(&st).await?, &visits, l);
    let next = rows.last().filter(|_| more).map(|(k, _, _)| vigia_domain::paging::Cursor::after(k.0, k.1));
    let paging = crate::kit::listing::Paging::new(
        l,
        "/visits",
        "/visits.csv",
        &q,
        "visits-count",
        total,
        remaining,
        rows.len(),
        next,
    );
    let page = ListPage {
        c: Chrome::new(&ctx, "/visits"),
        can_record: ctx.can(Permission::RecordVisits),
        rows: rows.into_iter().map(|(_, r, _)| r).collect(),
        paging,
        cursor_error: cursor_error.clone(),
    };
    render(crate::kit::listing::status_of(&cursor_error), &page)
}

/// Every visit of the organization as CSV: the list's columns and the figures behind them.
pub(super) async fn csv_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    uri: axum::http::Uri,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    let facilities = std::sync::Arc::new(facilities_by_id(&st).await?);
    let head = crate::kit::listing::columns(
        l,
        &[
            "field-id",
            "field-event-on",
            "field-facility_id",
            "visit-field-time_in",
            "visit-field-time_out",
            "visit-field-team_size",
            "visit-pop-total",
            "visit-pop-women",
            "visit-pop-men",
            "visit-pop-children_unaccompanied",
            "visit-pop-children_accompanied",
            "visit-pop-asylum_seekers",
            "visit-pop-held_beyond_limit",
            "visit-occupancy",
            "case-flags",
            "visit-findings",
            "visit-corrects-field",
            "visit-sent-at",
        ],
    );
    // Written a thousand visits at a time, read page by page from the store.
    let org_id = user.org_id;
    Ok(crate::kit::listing::download(crate::kit::listing::Format::of(&uri), "vigia-visits", head, move |after| {
        let (st, facilities) = (st.clone(), facilities.clone());
        async move {
            let visits = st.store.visits_page(org_id, None, after, 1000).await?;
            let rows = visit_rows(&facilities, &visits, l);
            let next = rows
                .last()
                .filter(|_| rows.len() == 1000)
                .map(|(k, _, _)| vigia_domain::paging::Cursor::after(k.0, k.1));
            Ok((rows.into_iter().map(|(_, _, c)| c).collect(), next))
        }
    }))
}

/// A section as the report shows it: its name, the answers, the observations.
pub(super) type SectionReport = (String, Vec<(String, String)>, Option<String>);

#[derive(Template)]
#[template(path = "visits/templates/visit_show.html")]
pub(super) struct ShowPage {
    c: Chrome,
    id: i64,
    title: String,
    details: Vec<(String, String)>,
    indicators: Vec<(String, String)>,
    flags: Vec<(String, String, String)>,
    sections: Vec<SectionReport>,
    findings: Vec<(String, u8, String)>,
    notes: Option<String>,
    can_reveal: bool,
    files: Vec<crate::kit::FileRow>,
    can_attach: bool,
    file_error: Option<String>,
    /// The report this one corrects, and the reports that correct this one: (id, date sent).
    corrects: Option<(i64, String)>,
    corrected_by: Vec<(i64, String)>,
}

/// A visit as its page and its printable report show it, in `l`: everything as filed
/// except the sealed interview notes.
pub(super) struct VisitView {
    pub title: String,
    pub details: Vec<(String, String)>,
    pub indicators: Vec<(String, String)>,
    /// (flag code, flag in words, legal basis).
    pub flags: Vec<(String, String, String)>,
    pub sections: Vec<SectionReport>,
    /// (section, severity 1–4, description).
    pub findings: Vec<(String, u8, String)>,
    pub files: Vec<crate::kit::FileRow>,
    /// The report this one corrects, and the reports that correct this one: (id, date sent).
    pub corrects: Option<(i64, String)>,
    pub corrected_by: Vec<(i64, String)>,
}

pub(super) async fn visit_view(store: &vigia_store::DynStore, l: Locale, v: &Visit) -> Result<VisitView, WebError> {
    let f = store.facility(v.draft.facility_id).await?;
    let cap = f.as_ref().and_then(|f| f.draft.capacity);
    let (ind, flags) = visit::assess(&v.draft, cap);
    let d = &v.draft;
    let p = &d.population;
    let none = tr(l, "facility-unknown");
    let n = |x: Option<i64>| x.map(|x| x.to_string()).unwrap_or_else(|| none.clone());
    let sent = |x: &Visit| (x.id, crate::kit::when(x.created_at));
    let corrects = match v.draft.corrects {
        Some(first) => store.visit(v.org_id, first).await?.as_ref().map(sent),
        None => None,
    };
    let corrected_by = store
        .visits(v.org_id, Some(v.draft.facility_id))
        .await?
        .iter()
        .filter(|x| x.draft.corrects == Some(v.id))
        .map(sent)
        .collect();
    Ok(VisitView {
        files: crate::kit::file_rows(store.attachments(vigia_domain::RecordType::Visit, v.id).await?),
        corrects,
        corrected_by,
        title: tr_args(
            l,
            "visit-title",
            &[("facility", f.as_ref().map(|f| f.draft.name.clone()).unwrap_or_default()), ("date", d.on.to_string())],
        ),
        details: vec![
            (
                tr(l, "visit-field-time"),
                format!(
                    "{} – {}",
                    d.time_in.map(|t| t.strftime("%H:%M").to_string()).unwrap_or_default(),
                    d.time_out.map(|t| t.strftime("%H:%M").to_string()).unwrap_or_default()
                ),
            ),
            (tr(l, "visit-field-team_size"), d.team_size.to_string()),
            (tr(l, "visit-field-areas_seen"), d.areas_seen.clone().unwrap_or_else(|| none.clone())),
            (tr(l, "visit-field-areas_refused"), d.areas_refused.clone().unwrap_or_else(|| none.clone())),
            (tr(l, "visit-pop-total"), n(p.total)),
            (tr(l, "visit-pop-women"), n(p.women)),
            (tr(l, "visit-pop-men"), n(p.men)),
            (tr(l, "visit-pop-children_unaccompanied"), n(p.children_unaccompanied)),
            (tr(l, "visit-pop-children_accompanied"), n(p.children_accompanied)),
            (tr(l, "visit-pop-asylum_seekers"), n(p.asylum_seekers)),
            (tr(l, "visit-pop-held_beyond_limit"), n(p.held_beyond_limit)),
        ],
        indicators: vec![
            (
                tr(l, "visit-occupancy"),
                ind.occupancy.map(|o| format!("{:.0} %", o * 100.0)).unwrap_or_else(|| none.clone()),
            ),
            (tr(l, "visit-space"), ind.space_per_person.map(|s| format!("{s:.1} m²")).unwrap_or_else(|| none.clone())),
        ],
        flags: flags
            .iter()
            .map(|x| {
                (
                    x.flag.as_str().to_string(),
                    tr(l, &format!("flag-{}", x.flag.as_str())),
                    match l {
                        Locale::Es => x.basis_es,
                        Locale::En => x.basis_en,
                    }
                    .to_string(),
                )
            })
            .collect(),
        sections: d
            .sections
            .iter()
            .map(|(s, notes)| {
                (
                    tr(l, &format!("section-{}", s.as_str())),
                    notes
                        .answers
                        .iter()
                        .map(|(q, a)| (tr(l, &format!("question-{q}")), tr(l, &format!("answer-{}", a.as_str()))))
                        .collect(),
                    notes.observations.clone(),
                )
            })
            .collect(),
        findings: d
            .findings
            .iter()
            .map(|f| (tr(l, &format!("section-{}", f.section.as_str())), f.severity, f.description.clone()))
            .collect(),
    })
}

pub(super) async fn show_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> PageResult {
    let v = owned(&st, &ctx, &id).await?;
    let l = ctx.locale;
    let reveal = q.get("reveal").is_some_and(|r| r == "1")
        && ctx.can(Permission::ReadVisitNotes)
        && v.has_notes
        && ctx.deliberate_read(&headers);
    let notes = if reveal { st.store.read_visit_notes(&ctx.actor(), v.org_id, v.id).await? } else { None };
    let view = visit_view(&st.store, l, &v).await?;
    let page = ShowPage {
        c: Chrome::new(&ctx, &format!("/visits/{}", v.id)).flash(if q.contains_key("attached") {
            Some(tr(l, "access-file-attached"))
        } else {
            q.contains_key("sent").then(|| tr(l, "visit-sent"))
        }),
        files: view.files,
        can_attach: ctx.can(Permission::RecordVisits),
        file_error: crate::kit::file_error(l, &q),
        corrects: view.corrects,
        corrected_by: view.corrected_by,
        id: v.id,
        title: view.title,
        details: view.details,
        indicators: view.indicators,
        flags: view.flags,
        sections: view.sections,
        findings: view.findings,
        notes,
        can_reveal: ctx.can(Permission::ReadVisitNotes) && v.has_notes && !reveal,
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_pairs_become_the_nested_report() {
        let pairs: Vec<(String, String)> = [
            ("facility_id", "3"),
            ("on", "2020-03-10"),
            ("population.total", "120"),
            ("sections.legal_safeguards.interpreter", "no"),
            ("sections.legal_safeguards.observations", "Sin intérpretes"),
            ("findings.0.section", "health_care"),
            ("findings.0.severity", "3"),
            ("findings.0.description", "Sin médico"),
            ("areas_seen", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let v = super::pairs_to_json(&pairs);
        assert_eq!(v["facility_id"], 3);
        assert_eq!(v["population"]["total"], 120);
        assert_eq!(v["sections"]["legal_safeguards"]["interpreter"], "no");
        assert_eq!(v["findings"][0]["severity"], 3);
        assert!(v.get("areas_seen").is_none());
        assert!(vigia_domain::visit::validate_visit(&v, jiff::civil::date(2026, 1, 1), None).is_ok());
    }

    #[test]
    fn an_error_on_a_finding_points_at_the_slot_it_was_typed_in() {
        let pairs: Vec<(String, String)> = [
            ("facility_id", "3"),
            ("on", "2020-03-10"),
            ("findings.0.section", ""),
            ("findings.0.description", " "),
            ("findings.2.description", "Sin agua"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let v = super::pairs_to_json(&pairs);
        let errs =
            vigia_domain::visit::validate_visit(&v, jiff::civil::date(2026, 1, 1), None).expect_err("no section");
        let moved = super::errors_on_slots(errs, &super::finding_slots(&pairs));
        let fields: Vec<&str> = moved.0.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"findings.2.section") && fields.contains(&"findings.2.severity"), "{fields:?}");
        assert!(!fields.iter().any(|f| f.starts_with("findings.0")), "{fields:?}");
    }

    #[test]
    fn every_field_the_validator_names_has_words_in_both_languages() {
        use vigia_domain::account::Locale;
        let mut fields: Vec<String> = [
            "facility_id",
            "on",
            "time_in",
            "time_out",
            "team_size",
            "areas_seen",
            "areas_refused",
            "interview_notes",
            "corrects",
            "corrects_key",
            "idempotency_key",
            "population",
            "sections",
            "findings",
            "findings.0",
            "findings.3.section",
            "findings.0.severity",
            "findings.1.description",
            "sections.kitchen",
            "sections.treatment.tortured",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for p in super::POPULATION {
            fields.push(format!("population.{p}"));
        }
        for s in vigia_domain::visit::Section::ALL {
            fields.push(format!("sections.{}", s.as_str()));
            fields.push(format!("sections.{}.observations", s.as_str()));
            for q in s.questions() {
                fields.push(format!("sections.{}.{q}", s.as_str()));
            }
        }
        for l in [Locale::Es, Locale::En] {
            for f in &fields {
                let w = super::field_words(l, f);
                assert!(!w.is_empty() && !w.contains('_') && !w.contains("sections.") && !w.contains('{'), "{f} → {w}");
            }
        }
        assert_eq!(super::field_words(Locale::Es, "findings.1.description"), "Hallazgo 2 — Descripción");
        assert_eq!(super::field_words(Locale::En, "population.total"), "People held");
    }
}
