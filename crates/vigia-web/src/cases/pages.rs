//! Cases' pages: the list, a case, its forms, events, documents.

use super::*;

pub(super) async fn case_form(
    st: &AppState,
    l: Locale,
    org_id: i64,
    values: &HashMap<String, String>,
    errors: &ValidationErrors,
) -> Result<Vec<FieldView>, WebError> {
    let field = |name: &'static str, input: &'static str, required: bool| {
        FieldView::typed(l, "field-", name, input, values, required, errors)
    };
    let sel = |name: &str| values.get(name).map(String::as_str);
    let mut facility = field("facility_id", "select", false);
    facility.options = st
        .store
        .list_facilities()
        .await?
        .into_iter()
        .map(|f| OptionView {
            selected: sel("facility_id") == Some(&f.id.to_string()),
            value: f.id.to_string(),
            label: f.draft.name,
        })
        .collect();
    let mut lawyer = field("lawyer_user_id", "select", false);
    lawyer.options = st
        .store
        .list_users(Some(org_id))
        .await?
        .into_iter()
        .filter(|u| !u.disabled && vigia_domain::account::allows(u.role, Permission::EditCases))
        .map(|u| OptionView {
            selected: sel("lawyer_user_id") == Some(&u.id.to_string()),
            value: u.id.to_string(),
            label: u.display_name,
        })
        .collect();
    let mut sex = field("sex", "select", false);
    sex.options = options(l, "sex", Sex::ALL, Sex::as_str, sel("sex"));
    let mut age = field("age_group", "select", false);
    age.options = options(l, "age", AgeGroup::ALL, AgeGroup::as_str, sel("age_group"));
    let mut minor = field("minor", "checkboxes", false);
    minor.options = vec![OptionView {
        value: "true".into(),
        label: tr(l, "field-minor-yes"),
        selected: sel("minor") == Some("true"),
    }];
    let chosen: Vec<&str> = sel("vulnerabilities").map(|r| r.split(',').map(str::trim).collect()).unwrap_or_default();
    let mut vulns = field("vulnerabilities", "checkboxes", false);
    vulns.options = crate::kit::checkboxes(l, "vuln", Vulnerability::ALL, Vulnerability::as_str, &chosen);
    let mut status = field("status", "select", false);
    status.options = options(l, "case-status", CaseStatus::ALL, CaseStatus::as_str, sel("status"));
    // Countries by name; a code the table does not know stays listed as it was.
    let mut nationality = field("nationality", "select", false);
    let current = sel("nationality").map(|n| n.trim().to_ascii_uppercase()).filter(|n| !n.is_empty());
    nationality.options = vigia_domain::names::countries(l)
        .into_iter()
        .map(|(code, name)| OptionView {
            value: code.into(),
            label: name.into(),
            selected: current.as_deref() == Some(code),
        })
        .collect();
    if let Some(code) = current.filter(|c| vigia_domain::names::country(c, l).is_none()) {
        nationality.options.insert(0, OptionView { value: code.clone(), label: code, selected: true });
    }
    Ok(vec![
        field("reference", "text", true),
        field("full_name", "text", true),
        field("birth_date", "date", false),
        field("identity_documents", "textarea", false),
        field("contact", "textarea", false),
        field("family_links", "textarea", false),
        nationality,
        sex,
        age,
        minor,
        field("languages", "text", false),
        vulns,
        facility,
        lawyer,
        status,
    ])
}

pub(super) fn values_of(c: &Case, s: &SealedCase) -> HashMap<String, String> {
    let f = &c.fields;
    let p = &s.person;
    let mut m = HashMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    put("reference", Some(f.reference.clone()));
    put("full_name", Some(p.full_name.clone()));
    put("birth_date", p.birth_date.clone());
    put("identity_documents", p.identity_documents.clone());
    put("contact", p.contact.clone());
    put("family_links", p.family_links.clone());
    put("nationality", f.nationality.clone());
    put("sex", Some(f.sex.as_str().into()));
    put("age_group", Some(f.age_group.as_str().into()));
    put("minor", f.minor.then(|| "true".into()));
    put("languages", Some(f.languages.join(", ")));
    put("vulnerabilities", Some(f.vulnerabilities.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(",")));
    put("facility_id", f.facility_id.map(|x| x.to_string()));
    put("lawyer_user_id", f.lawyer_user_id.map(|x| x.to_string()));
    put("status", Some(f.status.as_str().into()));
    m
}

pub(super) async fn form_page(
    st: &AppState,
    ctx: &Ctx,
    user: &User,
    (title, action, version): (String, String, Option<i64>),
    values: &HashMap<String, String>,
    errs: &ValidationErrors,
    status: StatusCode,
) -> PageResult {
    let l = ctx.locale;
    let summary = match status {
        StatusCode::CONFLICT => Some(tr(l, "form-conflict")),
        s if s.is_success() => None,
        _ => Some(tr_args(l, "form-errors", &[("count", errs.0.len().to_string())])),
    };
    let form = FormView {
        title,
        action: action.clone(),
        submit: tr(l, "facility-save"),
        version,
        summary,
        fields: case_form(st, l, user.org_id, values, errs).await?,
    };
    render(status, &FormPage { c: Chrome::new(ctx, &action), form })
}

pub(super) async fn new_page(State(st): State<AppState>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let user = ctx.require(Permission::EditCases)?.clone();
    let mut values = HashMap::new();
    values.insert("status".to_string(), "open".to_string());
    if user.role == vigia_domain::account::Role::Lawyer {
        values.insert("lawyer_user_id".to_string(), user.id.to_string());
    }
    let target = (tr(ctx.locale, "case-new-title"), "/cases".to_string(), None);
    form_page(&st, &ctx, &user, target, &values, &ValidationErrors::new(), StatusCode::OK).await
}

pub(super) async fn create_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require(Permission::EditCases)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let pairs = form.joined("vulnerabilities");
    let result = match draft(&RawInput::from_pairs(pairs.clone())) {
        Ok(d) => st.store.create_case(&ctx.actor(), user.org_id, d).await.map_err(WebError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/cases/{}?created=1", c.id)).into_response()),
        Err(WebError::Invalid(errs)) => {
            let target = (tr(ctx.locale, "case-new-title"), "/cases".to_string(), None);
            form_page(&st, &ctx, &user, target, &pairs.into_iter().collect(), &errs, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn edit_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> PageResult {
    let (user, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    if !ctx.deliberate_read(&headers) {
        // The form shows sealed data: from another site, go to the case page first.
        return Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response());
    }
    // The form shows the sealed fields: opening them is a read, and is recorded. Contact
    // details withheld after release are not shown, and kept if left empty.
    let (s, _) = vigia_app::consents::read_for_view(&st.store, &ctx.actor(), c.org_id, c.id).await?;
    let target = (
        tr_args(ctx.locale, "case-edit-title", &[("case", name_for(&st, &ctx, &c)?)]),
        format!("/cases/{}/edit", c.id),
        Some(c.version),
    );
    form_page(&st, &ctx, &user, target, &values_of(&c, &s), &ValidationErrors::new(), StatusCode::OK).await
}

pub(super) async fn update_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let (user, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let pairs = form.joined("vulnerabilities");
    let result = match draft(&RawInput::from_pairs(pairs.clone())) {
        Ok(mut d) => {
            match vigia_app::consents::keep_withheld_contact(&st.store, &ctx.actor(), c.org_id, c.id, &mut d.person)
                .await
            {
                Ok(()) => st.store.update_case(&ctx.actor(), c.org_id, c.id, version, d).await.map_err(WebError::from),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e),
    };
    let target = (
        tr_args(ctx.locale, "case-edit-title", &[("case", name_for(&st, &ctx, &c)?)]),
        format!("/cases/{}/edit", c.id),
        Some(c.version),
    );
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/cases/{}?saved=1", c.id)).into_response()),
        Err(WebError::Conflict(_)) => {
            form_page(
                &st,
                &ctx,
                &user,
                target,
                &pairs.into_iter().collect(),
                &ValidationErrors::new(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(WebError::Invalid(errs)) => {
            form_page(&st, &ctx, &user, target, &pairs.into_iter().collect(), &errs, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct EventRow {
    pub id: i64,
    pub when: String,
    pub kind: String,
    pub detail: String,
    pub note: Option<String>,
    pub sealed_note: bool,
    pub voided: Option<String>,
}

pub struct ViolationRow {
    pub kind: String,
    pub when: String,
    pub basis: String,
    /// For a possible refoulement: where the claim stood, and the pressure recorded.
    pub detail: Vec<String>,
}

pub struct DeadlineRow {
    /// "Why this date?": the clock page, counting the same days on the same calendar.
    pub why: Option<String>,
    /// Days the count crosses that the text leaves open, with why.
    pub open: Vec<String>,
    pub rule: String,
    pub basis: String,
    pub start: String,
    pub due: String,
    pub status_code: &'static str,
    pub status: String,
    pub left: String,
}

#[derive(Template)]
#[template(path = "cases/templates/case_show.html")]
pub(super) struct ShowPage {
    c: Chrome,
    id: i64,
    title: String,
    version_label: String,
    can_edit: bool,
    can_reveal: bool,
    person: Option<Vec<(String, String)>>,
    details: Vec<(String, String)>,
    deadlines: Vec<DeadlineRow>,
    violations: Vec<ViolationRow>,
    events: Vec<EventRow>,
    event_form: Vec<FieldView>,
    event_summary: Option<String>,
    today: String,
    documents: Option<Vec<crate::kit::FileRow>>,
    file_error: Option<String>,
    /// "Personal data erased on … by …" once erased.
    erased: Option<String>,
    can_erase: bool,
    /// The person's contact details are withheld: released, no consent to contact.
    contact_withheld: bool,
    /// The history stays readable after an erasure, which it records.
    can_history: bool,
}

/// What the case page shows besides the case: the event form's state, a message, an
/// upload error.
pub(super) struct ShowState<'a> {
    reveal: bool,
    event_values: &'a HashMap<String, String>,
    event_errors: &'a ValidationErrors,
    flash: Option<String>,
    file_error: Option<String>,
}

/// A case as its page and its summary show it: the details, the person (when `sealed`
/// was read), its deadlines with their basis, violations and events, in the viewer's
/// language.
pub(super) struct CaseView {
    pub title: String,
    pub details: Vec<(String, String)>,
    pub person: Option<Vec<(String, String)>>,
    pub deadlines: Vec<DeadlineRow>,
    pub violations: Vec<ViolationRow>,
    pub events: Vec<EventRow>,
}

pub(super) async fn case_view(
    st: &AppState,
    ctx: &Ctx,
    c: &Case,
    sealed: Option<&SealedCase>,
) -> Result<CaseView, WebError> {
    let l = ctx.locale;
    let cals = calendars(st).await?;
    let today = today();
    let events = st.store.case_events(c.org_id, c.id).await?;
    let cf = CaseFacts { case: c.clone(), facts: events.iter().filter(|e| !e.is_voided()).map(Into::into).collect() };
    let a = assess(&cf, &cals, today)?;
    let facilities: HashMap<i64, String> =
        st.store.list_facilities().await?.into_iter().map(|f| (f.id, f.draft.name)).collect();
    let none = tr(l, "facility-unknown");
    let f = &c.fields;
    let lawyer = match f.lawyer_user_id {
        Some(id) => st.store.user(id).await?.map(|u| u.display_name),
        None => None,
    };
    let details = vec![
        (
            tr(l, "field-nationality"),
            f.nationality
                .as_deref()
                .map(|n| vigia_domain::names::country_or_code(n, l))
                .unwrap_or_else(|| none.clone()),
        ),
        (tr(l, "field-sex"), label(l, "sex", f.sex.as_str())),
        (tr(l, "field-age_group"), label(l, "age", f.age_group.as_str())),
        (tr(l, "field-minor"), tr(l, if f.minor { "yes" } else { "no" })),
        (
            tr(l, "field-languages"),
            if f.languages.is_empty() {
                none.clone()
            } else {
                f.languages.iter().map(|c| vigia_domain::names::language_or_code(c, l)).collect::<Vec<_>>().join(", ")
            },
        ),
        (
            tr(l, "field-vulnerabilities"),
            if f.vulnerabilities.is_empty() {
                none.clone()
            } else {
                f.vulnerabilities.iter().map(|v| label(l, "vuln", v.as_str())).collect::<Vec<_>>().join(", ")
            },
        ),
        (
            tr(l, "field-facility_id"),
            f.facility_id.and_then(|id| facilities.get(&id).cloned()).unwrap_or_else(|| none.clone()),
        ),
        (tr(l, "field-lawyer_user_id"), lawyer.unwrap_or_else(|| none.clone())),
        (tr(l, "field-status"), label(l, "case-status", f.status.as_str())),
    ];
    let person = sealed.as_ref().map(|s| {
        let p = &s.person;
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| none.clone());
        vec![
            (tr(l, "field-full_name"), p.full_name.clone()),
            (tr(l, "field-birth_date"), opt(&p.birth_date)),
            (tr(l, "field-identity_documents"), opt(&p.identity_documents)),
            (tr(l, "field-contact"), opt(&p.contact)),
            (tr(l, "field-family_links"), opt(&p.family_links)),
        ]
    });
    let deadlines = a
        .deadlines
        .iter()
        .map(|d| {
            let left =
                if d.status.is_running() { deadline::working_days_left(d, &cals, today).ok().flatten() } else { None };
            let (why, open) = match (d.rule.calendar(), d.due) {
                (Some(name), Some(due)) => (
                    // A date, a number and a shipped calendar's name: nothing to escape but the `&`.
                    Some(format!("/clock?from={}&amp;working_days={}&amp;calendar={name}", d.start, d.allowed)),
                    cals.get(name)
                        .and_then(|c| c.open_between(d.start, due, l))
                        .unwrap_or_default()
                        .into_iter()
                        .flat_map(|(day, why)| why.into_iter().map(move |r| format!("{day}: {}", r.describe())))
                        .collect(),
                ),
                _ => (None, Vec::new()),
            };
            DeadlineRow {
                why,
                open,
                rule: label(l, "rule", d.rule.as_str()),
                basis: d.rule.basis(l).to_string(),
                start: d.start.to_string(),
                due: match (d.due, d.due_time) {
                    (Some(x), Some(t)) => format!("{x} {}", t.strftime("%H:%M")),
                    (Some(x), None) => x.to_string(),
                    _ if d.status == Status::AnyTime => tr(l, "deadline-any-time"),
                    _ => tr(l, "deadline-no-fixed-end"),
                },
                status_code: d.status.as_str(),
                status: label(l, "deadline", d.status.as_str()),
                left: left_words(l, left, d.rule.calendar().is_some()),
            }
        })
        .collect();
    let violations = a
        .violations
        .iter()
        .map(|v| {
            let state = tr(l, if v.ongoing { "violation-ongoing" } else { "violation-ended" });
            let mut detail = Vec::new();
            let mut when = format!("{} · {state}", tr_args(l, "violation-since", &[("date", v.since.to_string())]));
            if let Some(c) = v.claim {
                // A return happened on a day: it neither goes on nor ends.
                when = tr_args(l, "violation-on", &[("date", v.since.to_string())]);
                detail.push(format!("«{}»", v.kind.text().quote.unwrap_or_default()));
                detail.push(label(l, "claim", c.as_str()));
                let pressure: Vec<String> = pressure_events(&cf).iter().map(|f| f.on.to_string()).collect();
                detail.push(if pressure.is_empty() {
                    tr(l, "refoulement-no-pressure")
                } else {
                    tr_args(
                        l,
                        "refoulement-pressure",
                        &[("count", pressure.len().to_string()), ("dates", pressure.join(", "))],
                    )
                });
            }
            ViolationRow { kind: label(l, "violation", v.kind.as_str()), when, basis: v.basis(l).to_string(), detail }
        })
        .collect();
    let events = events
        .iter()
        .map(|e| {
            let d = &e.draft;
            let mut detail = Vec::new();
            if let Some(g) = d.ground {
                detail.push(label(l, "ground", g.as_str()));
            }
            if let Some(x) = d.decision {
                detail.push(label(l, "decision", x.as_str()));
            }
            if let Some(fid) = d.facility_id {
                detail.push(facilities.get(&fid).cloned().unwrap_or_default());
            }
            EventRow {
                id: e.id,
                when: match d.time {
                    Some(t) => format!("{} {}", d.on, t.strftime("%H:%M")),
                    None => d.on.to_string(),
                },
                kind: label(l, "event", d.kind.as_str()),
                detail: detail.join(" · "),
                note: sealed.as_ref().and_then(|s| s.notes.get(&e.id).cloned()),
                sealed_note: e.has_note,
                voided: e.void_reason.as_ref().map(|r| {
                    if ctx.can(Permission::ReadCaseSealed) {
                        r.clone()
                    } else {
                        tr(l, "case-void-reason-hidden")
                    }
                }),
            }
        })
        .collect();
    Ok(CaseView {
        title: tr_args(l, "case-title", &[("case", name_for(st, ctx, c)?)]),
        details,
        person,
        deadlines,
        violations,
        events,
    })
}

pub(super) async fn show(st: &AppState, ctx: &Ctx, c: Case, s: ShowState<'_>) -> PageResult {
    let ShowState { reveal, event_values, event_errors, flash, file_error } = s;
    let l = ctx.locale;
    let erasure = st.store.erasure(c.org_id, c.id).await?;
    let erased = erasure.as_ref().map(|e| crate::kit::erased_words(l, e));
    let documents = if ctx.can(Permission::ReadCaseSealed) && erased.is_none() {
        Some(crate::kit::file_rows(st.store.case_documents(c.org_id, c.id).await?))
    } else {
        None
    };
    let sealed = if reveal && ctx.can(Permission::ReadCaseSealed) && erased.is_none() {
        Some(vigia_app::consents::read_for_view(&st.store, &ctx.actor(), c.org_id, c.id).await?)
    } else {
        None
    };
    let withheld = sealed.as_ref().is_some_and(|(_, w)| *w);
    let sealed = sealed.map(|(s, _)| s);
    let view = case_view(st, ctx, &c, sealed.as_ref()).await?;
    let today = today();
    let summary =
        (!event_errors.is_empty()).then(|| tr_args(l, "form-errors", &[("count", event_errors.0.len().to_string())]));
    let page = ShowPage {
        c: Chrome::new(ctx, &format!("/cases/{}", c.id)).flash(flash),
        id: c.id,
        title: view.title,
        version_label: tr_args(l, "facility-version", &[("version", c.version.to_string())]),
        // An erased case stays as a closed record: nothing more is sealed into it.
        can_edit: ctx.can(Permission::EditCases) && erased.is_none(),
        can_reveal: ctx.can(Permission::ReadCaseSealed) && sealed.is_none() && erased.is_none(),
        // Only a closed case can be erased: the link is not offered on an open one.
        can_erase: ctx.can(Permission::EraseCaseData)
            && erased.is_none()
            && c.fields.status == vigia_domain::case::CaseStatus::Closed,
        person: view.person,
        details: view.details,
        deadlines: view.deadlines,
        violations: view.violations,
        events: view.events,
        event_form: event_form(st, l, event_values, event_errors).await?,
        event_summary: summary,
        today: today.to_string(),
        documents,
        file_error,
        erased,
        contact_withheld: withheld,
        can_history: ctx.can(Permission::ReadCaseSealed),
    };
    let status = if event_errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, &page)
}

pub(super) async fn event_form(
    st: &AppState,
    l: Locale,
    values: &HashMap<String, String>,
    errors: &ValidationErrors,
) -> Result<Vec<FieldView>, WebError> {
    let field = |name: &'static str, input: &'static str, required: bool| {
        FieldView::typed(l, "field-event-", name, input, values, required, errors)
    };
    let sel = |name: &str| values.get(name).map(String::as_str);
    let mut kind = field("kind", "select", true);
    kind.options = options(l, "event", EventKind::ALL, EventKind::as_str, sel("kind"));
    let mut ground = field("ground", "select", false);
    ground.options = options(l, "ground", ExtensionGround::ALL, ExtensionGround::as_str, sel("ground"));
    let mut decision = field("decision", "select", false);
    decision.options = options(l, "decision", DecisionOutcome::ALL, DecisionOutcome::as_str, sel("decision"));
    let mut facility = field("facility_id", "select", false);
    facility.options = st
        .store
        .list_facilities()
        .await?
        .into_iter()
        .map(|f| OptionView {
            selected: sel("facility_id") == Some(&f.id.to_string()),
            value: f.id.to_string(),
            label: f.draft.name,
        })
        .collect();
    Ok(vec![
        kind,
        field("on", "date", true),
        field("time", "time", false),
        facility,
        ground,
        decision,
        field("note", "textarea", false),
    ])
}

pub(super) async fn show_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::ReadCases).await?;
    let l = ctx.locale;
    let flash = if q.contains_key("created") {
        Some(tr(l, "case-created"))
    } else if q.contains_key("saved") {
        Some(tr_args(l, "case-saved", &[("version", c.version.to_string())]))
    } else if q.contains_key("event") {
        Some(tr(l, "case-event-recorded"))
    } else if q.contains_key("voided") {
        Some(tr(l, "case-event-voided"))
    } else if q.contains_key("attached") {
        Some(tr(l, "case-document-attached"))
    } else {
        None
    };
    let mut values = HashMap::new();
    values.insert("on".to_string(), today().to_string());
    let state = ShowState {
        // A link from another site opens nothing: the page shows its button instead.
        reveal: q.get("reveal").is_some_and(|v| v == "1") && ctx.deliberate_read(&headers),
        event_values: &values,
        event_errors: &ValidationErrors::new(),
        flash,
        file_error: crate::kit::file_error(l, &q),
    };
    show(&st, &ctx, c, state).await
}

pub(super) async fn event_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let pairs = form.joined("vulnerabilities");
    let result = match case::validate_event(&RawInput::from_pairs(pairs.clone()), today()) {
        Ok(d) => st.store.add_case_event(&ctx.actor(), c.org_id, c.id, d).await.map_err(WebError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{}?event=1", c.id)).into_response()),
        Err(WebError::Invalid(errs)) => {
            let values = pairs.into_iter().collect();
            let state =
                ShowState { reveal: false, event_values: &values, event_errors: &errs, flash: None, file_error: None };
            show(&st, &ctx, c, state).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn void_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let (_, c) = owned(&st, &ctx, &id, Permission::EditCases).await?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let (event, reason) = void_input(&RawInput::from_pairs(form.joined("vulnerabilities")))?;
    st.store.void_case_event(&ctx.actor(), c.org_id, c.id, event, &reason).await?;
    Ok(Redirect::to(&format!("/cases/{}?voided=1", c.id)).into_response())
}

pub(super) async fn history_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let (user, c) = owned(&st, &ctx, &id, Permission::ReadCaseSealed).await?;
    let mut entries = st.store.history(RecordType::Case, c.id, Some(user.org_id)).await?;
    entries.extend(st.store.history(RecordType::CaseRead, c.id, Some(user.org_id)).await?);
    for e in st.store.case_events(c.org_id, c.id).await? {
        entries.extend(st.store.history(RecordType::CaseEvent, e.id, Some(user.org_id)).await?);
    }
    entries.sort_by_key(|e| e.seq);
    let page = HistoryPage {
        c: Chrome::new(&ctx, &format!("/cases/{}/history", c.id)),
        title: tr_args(ctx.locale, "case-title", &[("case", name_for(&st, &ctx, &c)?)]),
        versions: crate::kit::version_views(&st, ctx.locale, &crate::kit::with_text_opened(&st, &entries).await?)
            .await?,
        withheld: None,
    };
    render(StatusCode::OK, &page)
}

pub struct CaseRow {
    pub id: i64,
    pub name: String,
    pub nationality: String,
    pub age: String,
    pub minor: bool,
    pub status: String,
    pub next: String,
    pub flags: Vec<String>,
}

#[derive(Template)]
#[template(path = "cases/templates/cases.html")]
pub(super) struct ListPage {
    c: Chrome,
    paging: crate::kit::listing::Paging,
    cursor_error: Option<String>,
    can_edit: bool,
    all: bool,
    rows: Vec<CaseRow>,
}

/// Cases as the list shows them, in the order given.
pub(super) fn case_rows(
    st: &AppState,
    ctx: &Ctx,
    cals: &Calendars,
    cases: &[CaseFacts],
) -> Result<Vec<CaseRow>, WebError> {
    let l = ctx.locale;
    let today = today();
    let mut rows = Vec::new();
    for cf in cases {
        let a = assess(cf, cals, today)?;
        // The next deadline still to come, as Hoy lists it; one already passed is a flag.
        let next = a
            .deadlines
            .iter()
            .filter(|d| d.status == Status::Pending && d.due.is_some())
            .min_by_key(|d| d.due)
            .map(|d| {
                let left = deadline::working_days_left(d, cals, today).ok().flatten();
                format!(
                    "{} · {} ({})",
                    label(l, "rule", d.rule.as_str()),
                    d.due.map(|x| x.to_string()).unwrap_or_default(),
                    left_words(l, left, d.rule.calendar().is_some())
                )
            })
            .unwrap_or_default();
        let mut flags: Vec<String> = a
            .deadlines
            .iter()
            .filter(|d| d.status == Status::Overdue)
            .map(|d| {
                let left = deadline::working_days_left(d, cals, today).ok().flatten();
                format!("{}: {}", label(l, "rule", d.rule.as_str()), left_words(l, left, d.rule.calendar().is_some()))
            })
            .collect();
        flags.extend(
            a.violations
                .iter()
                .filter(|v| v.ongoing && v.kind != deadline::ViolationKind::HeldPast36Hours)
                .map(|v| label(l, "violation", v.kind.as_str())),
        );
        flags.dedup();
        let f = &cf.case.fields;
        rows.push(CaseRow {
            id: cf.case.id,
            name: name_for(st, ctx, &cf.case)?,
            nationality: f
                .nationality
                .as_deref()
                .map(|n| vigia_domain::names::country_or_code(n, l))
                .unwrap_or_default(),
            age: label(l, "age", f.age_group.as_str()),
            minor: f.minor,
            status: label(l, "case-status", f.status.as_str()),
            next,
            flags,
        });
    }
    Ok(rows)
}

/// Days left on a running deadline in words: "quedan 3 días hábiles", "vence hoy",
/// "vencido hace 5 días hábiles" (never "quedan -5").
pub(super) fn left_words(l: Locale, left: Option<i64>, working: bool) -> String {
    let Some(n) = left else { return String::new() };
    let days = [("days", n.abs().to_string())];
    match (n.cmp(&0), working) {
        (std::cmp::Ordering::Less, true) => tr_args(l, "today-overdue-by", &days),
        (std::cmp::Ordering::Less, false) => tr_args(l, "deadline-overdue-by-days", &days),
        (std::cmp::Ordering::Equal, _) => tr(l, "deadline-due-today"),
        (std::cmp::Ordering::Greater, true) => tr_args(l, "deadline-working-days-left", &days),
        (std::cmp::Ordering::Greater, false) => tr_args(l, "deadline-days-left", &days),
    }
}

pub(super) async fn list_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require(Permission::ReadCases)?.clone();
    let l = ctx.locale;
    let all = q.get("status").is_some_and(|s| s == "all");
    let filter = listed_cases(all);
    // One page of cases read from the store, newest first, and only their events; a
    // broken page link shows the first page.
    let (after, cursor_error) = crate::kit::listing::page_link(l, &q);
    let before = after.map(|c| c.id);
    let size = vigia_domain::paging::PAGE_ROWS;
    let mut cases = st.store.cases_page(user.org_id, &filter, before, size + 1).await?;
    let more = cases.len() as i64 > size;
    cases.truncate(size as usize);
    let total = crate::kit::kept::kept(&st, "count-cases", format!("{}|{filter:?}", user.org_id), || async {
        Ok(st.store.count_cases(user.org_id, &filter, None).await?)
    })
    .await?;
    let remaining = if before.is_some() { st.store.count_cases(user.org_id, &filter, before).await? } else { total };
    let facts = st.store.facts_of(user.org_id, cases).await?;
    let rows = case_rows(&st, &ctx, &*calendars(&st).await?, &facts)?;
    let next = rows.last().filter(|_| more).map(|r| vigia_domain::paging::Cursor::after(r.id, r.id));
    let paging = crate::kit::listing::Paging::new(
        l,
        "/cases",
        "/cases.csv",
        &q,
        "cases-count",
        total,
        remaining,
        rows.len(),
        next,
    );
    let page = ListPage {
        c: Chrome::new(&ctx, "/cases"),
        paging,
        cursor_error: cursor_error.clone(),
        can_edit: ctx.can(Permission::EditCases),
        all,
        rows,
    };
    render(crate::kit::listing::status_of(&cursor_error), &page)
}

/// The list as CSV: the same columns, the same names (pseudonymous where the role may not
/// see the reference), never the sealed personal data.
pub(super) async fn csv_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
    uri: axum::http::Uri,
) -> PageResult {
    let user = ctx.require(Permission::ReadCases)?.clone();
    let l = ctx.locale;
    let filter = listed_cases(q.get("status").is_some_and(|s| s == "all"));
    let cals = calendars(&st).await?;
    let head = crate::kit::listing::columns(
        l,
        &[
            "field-id",
            "case-name",
            "field-nationality",
            "field-age_group",
            "case-minor",
            "field-status",
            "case-next-deadline",
            "case-flags",
        ],
    );
    let yes = tr(l, "answer-yes");
    // Written a thousand cases at a time, each batch read and assessed on its own.
    let org_id = user.org_id;
    Ok(crate::kit::listing::download(crate::kit::listing::Format::of(&uri), "vigia-cases", head, move |after| {
        let (st, ctx, cals, filter, yes) = (st.clone(), ctx.clone(), cals.clone(), filter.clone(), yes.clone());
        async move {
            let cases = st.store.cases_page(org_id, &filter, after.map(|c| c.id), 1000).await?;
            let full = cases.len() == 1000;
            let facts = st.store.facts_of(org_id, cases).await?;
            let rows = case_rows(&st, &ctx, &cals, &facts)?;
            let next = rows.last().filter(|_| full).map(|r| vigia_domain::paging::Cursor::after(r.id, r.id));
            let cells = rows
                .into_iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.name,
                        r.nationality,
                        r.age,
                        if r.minor { yes.clone() } else { String::new() },
                        r.status,
                        r.next,
                        r.flags.join("; "),
                    ]
                })
                .collect();
            Ok((cells, next))
        }
    }))
}

/// The cases the list shows: the open ones, or all.
fn listed_cases(all: bool) -> vigia_domain::case::CaseFilter {
    vigia_domain::case::CaseFilter {
        status: (!all).then_some(vigia_domain::case::CaseStatus::Open),
        ..Default::default()
    }
}
