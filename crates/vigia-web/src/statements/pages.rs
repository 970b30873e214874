//! Statements' pages: the list with facets, a statement and its claims, contradictions and their review.

use super::*;

pub struct StatementRow {
    pub id: i64,
    pub when: String,
    pub authority: String,
    pub channel: String,
    /// The words, around the first hit, with the hits marked (HTML, escaped).
    pub excerpt_html: String,
    pub claims: String,
    pub claims_html: String,
}

#[derive(Template)]
#[template(path = "statements/templates/statements.html")]
pub(super) struct ListPage {
    c: Chrome,
    q: String,
    paging: crate::kit::listing::Paging,
    cursor_error: Option<String>,
    can_record: bool,
    rows: Vec<StatementRow>,
    facets: Vec<FacetView>,
    /// The facets chosen, kept when the words searched change.
    chosen: Vec<(&'static str, String)>,
    /// Why the search was refused, field by field (none when it was read).
    search_errors: Vec<String>,
}

/// Statements matching the search, as the list shows them, with their sort key.
/// The facets a search can be narrowed by: authority, claim topic, year.
pub(super) const FACETS: [&str; 3] = ["authority", "topic", "year"];

pub(super) fn year_of(s: &Statement) -> String {
    format_local(s.draft.published_at, ZONE).chars().take(4).collect()
}

pub(super) fn in_facet(s: &Statement, facet: &str, value: &str) -> bool {
    match facet {
        "authority" => s.draft.authority == value,
        "topic" => s.claims.iter().any(|c| c.draft.topic == value),
        _ => year_of(s) == value,
    }
}

/// A statement's values of a facet: its authority, its claims' topics, its year.
pub(super) fn facet_values(s: &Statement, facet: &str) -> Vec<String> {
    match facet {
        "authority" => vec![s.draft.authority.clone()],
        "topic" => {
            let mut t: Vec<String> = s.claims.iter().map(|c| c.draft.topic.clone()).collect();
            t.sort();
            t.dedup();
            t
        }
        _ => vec![year_of(s)],
    }
}

/// Each facet's values among what a search found (`counts`, by facet in the order of
/// [`FACETS`]), in words, with how many statements have them and the link that narrows
/// the list to them (or widens it again when chosen).
pub(super) fn facets(l: Locale, counts: &[BTreeMap<String, usize>], q: &HashMap<String, String>) -> Vec<FacetView> {
    FACETS
        .iter()
        .zip(counts)
        .map(|(facet, counts)| {
            let chosen = q.get(*facet).cloned().unwrap_or_default();
            let values = counts
                .iter()
                .map(|(v, n)| {
                    let (v, n) = (v.clone(), *n);
                    let on = v == chosen;
                    let mut pairs: Vec<(String, String)> = q
                        .iter()
                        .filter(|(k, _)| k.as_str() != *facet && k.as_str() != "after")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    if !on {
                        pairs.push((facet.to_string(), v.clone()));
                    }
                    pairs.sort();
                    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
                    let name = match *facet {
                        "authority" => label(l, "authority", &v),
                        "topic" => label(l, "topic", &v),
                        _ => v.clone(),
                    };
                    FacetValue {
                        name,
                        count: n,
                        on,
                        href: if query.is_empty() { "/statements".into() } else { format!("/statements?{query}") },
                    }
                })
                .collect();
            FacetView { label: tr(l, &format!("statements-facet-{facet}")), values }
        })
        .collect()
}

pub struct FacetView {
    pub label: String,
    pub values: Vec<FacetValue>,
}

pub struct FacetValue {
    pub name: String,
    pub count: usize,
    pub on: bool,
    pub href: String,
}

/// The search a page asks for: its words (at most 200 characters, as the API takes) and
/// the facet values chosen, each checked before anything is read (authority and topic
/// are codes, a year is a year). A link with a value no statement can have, or words of
/// any length, is refused (422, naming the field) instead of walking every statement.
pub(super) fn asked_search(q: &HashMap<String, String>) -> Result<(String, Chosen), ValidationErrors> {
    let given = |f: &str| q.get(f).is_some_and(|v| !v.trim().is_empty());
    let raw = RawInput::from_pairs(
        q.iter()
            .filter(|(k, _)| k.as_str() == "q" || FACETS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    let mut errs = ValidationErrors::new();
    let words = raw.text("q", SEARCH_MAX, &mut errs).unwrap_or_default();
    let mut chosen = Vec::new();
    for f in FACETS.into_iter().filter(|f| given(f)) {
        let value = match f {
            "year" => raw.integer(f, 1900, 2200, &mut errs).map(|y| y.to_string()),
            _ => raw.code(f, &mut errs),
        };
        chosen.extend(value.map(|v| (f, v)));
    }
    errs.into_result((words, chosen))
}

/// The facet values a search is narrowed by, as (facet, value).
pub(super) type Chosen = Vec<(&'static str, String)>;

/// The longest search the pages and the API take, in characters.
pub(super) const SEARCH_MAX: usize = 200;

/// A refused search in words: "field: why" for each field.
fn search_errors(l: Locale, errs: &ValidationErrors) -> Vec<String> {
    errs.0
        .iter()
        .map(|e| {
            let field = match e.field.as_str() {
                "q" => tr(l, "statements-search-field"),
                f => tr(l, &format!("statements-facet-{f}")),
            };
            format!("{field}: {}", crate::i18n::field_error(l, e))
        })
        .collect()
}

/// Statements as the list shows them, with the query's words marked.
pub(super) fn statement_row(l: Locale, query: &str, s: &Statement) -> StatementRow {
    let claims = s
        .claims
        .iter()
        .map(|c| format!("{} · {}", label(l, "topic", &c.draft.topic), label(l, "position", c.draft.position.as_str())))
        .collect::<Vec<_>>()
        .join("; ");
    StatementRow {
        id: s.id,
        when: format_local(s.draft.published_at, ZONE),
        authority: label(l, "authority", &s.draft.authority),
        channel: label(l, "channel", s.draft.channel.as_str()),
        excerpt_html: highlight(&excerpt(&s.draft.text, query, 180), query),
        claims_html: highlight(&claims, query),
        claims,
    }
}

pub(super) async fn list_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    ctx.require_user()?;
    let l = ctx.locale;
    let (query, chosen, search_errors) = match asked_search(&q) {
        Ok((query, chosen)) => (query, chosen, Vec::new()),
        // The words stay in the box as typed, to be shortened rather than typed again.
        Err(errs) => (q.get("q").cloned().unwrap_or_default(), Vec::new(), search_errors(l, &errs)),
    };
    // A refused search reads nothing: the page says why, with no statements.
    let m = if search_errors.is_empty() {
        matched(&st, &query, &chosen).await?
    } else {
        std::sync::Arc::new(crate::kit::listing::Matched::none(FACETS.len()))
    };
    // A broken page link shows the first page.
    let (after, cursor_error) = crate::kit::listing::page_link(l, &q);
    let start = m.start_after(after);
    let end = (start + vigia_domain::paging::PAGE_ROWS as usize).min(m.keys.len());
    let shown = statements_in_order(&st, &m.keys[start..end]).await?;
    let next = (end < m.keys.len()).then(|| m.keys[end - 1]).map(|(k, id)| vigia_domain::paging::Cursor::after(k, id));
    let paging = crate::kit::listing::Paging::new(
        l,
        "/statements",
        "/statements.csv",
        &q,
        "statements-count",
        m.keys.len() as i64,
        (m.keys.len() - start) as i64,
        shown.len(),
        next,
    );
    let page = ListPage {
        c: Chrome::new(&ctx, "/statements"),
        paging,
        cursor_error: cursor_error.clone(),
        can_record: ctx.can(Permission::RecordStatements),
        rows: shown.iter().map(|s| statement_row(l, &query, s)).collect(),
        // Facet links are made from the values as read (`INM` reads as `inm`), so the
        // chosen one shows as chosen.
        facets: facets(
            l,
            &m.facets,
            &q.iter()
                .filter(|(k, _)| !FACETS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .chain(chosen.iter().map(|(f, v)| (f.to_string(), v.clone())))
                .collect(),
        ),
        q: query,
        chosen,
        search_errors,
    };
    let status = if page.search_errors.is_empty() {
        crate::kit::listing::status_of(&cursor_error)
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(status, &page)
}

/// Every statement the search matches, as CSV: who said it, when, where, the words, the
/// translation and each claim in words.
pub(super) async fn csv_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
    uri: axum::http::Uri,
) -> PageResult {
    ctx.require_user()?;
    let l = ctx.locale;
    let (query, chosen) = asked_search(&q)?;
    let m = matched(&st, &query, &chosen).await?;
    let head = crate::kit::listing::columns(
        l,
        &[
            "field-id",
            "field-statement-published_at",
            "field-statement-authority",
            "field-statement-speaker",
            "field-statement-speaker_position",
            "field-statement-channel",
            "field-statement-source_url",
            "field-statement-language",
            "field-statement-text",
            "field-statement-translation",
            "statement-claims",
        ],
    );
    // Written a thousand statements at a time, each batch read from the store.
    Ok(crate::kit::listing::download(crate::kit::listing::Format::of(&uri), "vigia-statements", head, move |after| {
        let (st, m, query) = (st.clone(), m.clone(), query.clone());
        async move {
            // Here the cursor's id is the position reached in what the search found.
            let start = after.map_or(0, |c| c.id as usize).min(m.keys.len());
            let end = (start + 1000).min(m.keys.len());
            let next = (end < m.keys.len()).then(|| vigia_domain::paging::Cursor::after(0, end as i64));
            let rows = statements_in_order(&st, &m.keys[start..end])
                .await?
                .into_iter()
                .map(|s| {
                    let row = statement_row(l, &query, &s);
                    let d = &s.draft;
                    vec![
                        s.id.to_string(),
                        row.when,
                        row.authority,
                        d.speaker.clone().unwrap_or_default(),
                        d.speaker_position.clone().unwrap_or_default(),
                        row.channel,
                        d.source_url.clone().unwrap_or_default(),
                        label(l, "language", &d.language),
                        d.text.clone(),
                        d.translation.clone().unwrap_or_default(),
                        row.claims,
                    ]
                })
                .collect();
            Ok((rows, next))
        }
    }))
}

pub(super) fn statement_form(l: Locale, values: &HashMap<String, String>, errors: &ValidationErrors) -> Vec<FieldView> {
    let field = |name: &'static str, input: &'static str, required: bool| {
        FieldView::typed(l, "field-statement-", name, input, values, required, errors)
    };
    let sel = |name: &str| values.get(name).map(String::as_str);
    let mut authority = field("authority", "select", true);
    authority.options = options(l, "authority", &statement::KNOWN_AUTHORITIES, |c| c, sel("authority"));
    let mut channel = field("channel", "select", true);
    channel.options = options(l, "channel", Channel::ALL, Channel::as_str, sel("channel"));
    let mut language = field("language", "select", true);
    language.options = options(l, "language", &["es", "en"], |c| c, sel("language"));
    vec![
        authority,
        field("speaker", "text", false),
        field("speaker_position", "text", false),
        field("published_at", "datetime-local", true),
        channel,
        field("source_url", "url", false),
        language,
        field("text", "textarea", true),
        field("translation", "textarea", false),
    ]
}

pub(super) async fn new_page(Extension(ctx): Extension<Ctx>) -> PageResult {
    ctx.require(Permission::RecordStatements)?;
    let l = ctx.locale;
    let mut values = HashMap::new();
    values.insert("language".to_string(), "es".to_string());
    let form = crate::kit::FormView {
        title: tr(l, "statement-new-title"),
        action: "/statements".into(),
        submit: tr(l, "facility-save"),
        version: None,
        summary: None,
        fields: statement_form(l, &values, &ValidationErrors::new()),
    };
    render(StatusCode::OK, &crate::kit::FormPage { c: Chrome::new(&ctx, "/statements/new"), form })
}

pub(super) async fn create_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require(Permission::RecordStatements)?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let pairs = form.pairs.clone();
    match statement::validate_statement(&RawInput::from_pairs(pairs.clone()), ZONE, now_micros()) {
        Ok(d) => {
            let s = st.store.create_statement(&ctx.actor(), user.org_id, d).await?;
            Ok(Redirect::to(&format!("/statements/{}?created=1", s.id)).into_response())
        }
        Err(errs) => {
            let l = ctx.locale;
            let values: HashMap<String, String> = pairs.into_iter().collect();
            let form = crate::kit::FormView {
                title: tr(l, "statement-new-title"),
                action: "/statements".into(),
                submit: tr(l, "facility-save"),
                version: None,
                summary: Some(tr_args(l, "form-errors", &[("count", errs.0.len().to_string())])),
                fields: statement_form(l, &values, &errs),
            };
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &crate::kit::FormPage { c: Chrome::new(&ctx, "/statements"), form },
            )
        }
    }
}

pub struct ClaimRow {
    pub id: i64,
    pub topic: String,
    pub scope: String,
    pub position: String,
    pub period: String,
    pub confirmed: bool,
}

#[derive(Template)]
#[template(path = "statements/templates/statement_show.html")]
pub(super) struct ShowPage {
    c: Chrome,
    id: i64,
    title: String,
    details: Vec<(String, String)>,
    text: String,
    translation: Option<String>,
    claims: Vec<ClaimRow>,
    can_record: bool,
    claim_form: Vec<FieldView>,
    claim_summary: Option<String>,
    files: Vec<crate::kit::FileRow>,
    file_error: Option<String>,
}

pub(super) fn claim_form(
    st_facilities: &[vigia_domain::facility::Facility],
    l: Locale,
    values: &HashMap<String, String>,
    errors: &ValidationErrors,
) -> Vec<FieldView> {
    let field = |name: &'static str, input: &'static str, required: bool| {
        FieldView::typed(l, "field-claim-", name, input, values, required, errors)
    };
    let sel = |name: &str| values.get(name).map(String::as_str);
    let mut topic = field("topic", "select", true);
    topic.options = options(l, "topic", &statement::KNOWN_TOPICS, |c| c, sel("topic"));
    let mut scope = field("scope", "select", true);
    scope.options = options(l, "scope", &["all", "facilities", "state"], |c| c, sel("scope"));
    let chosen: Vec<&str> = sel("facility_ids").map(|v| v.split(',').collect()).unwrap_or_default();
    let mut facilities = field("facility_ids", "checkboxes", false);
    facilities.options = st_facilities
        .iter()
        .map(|f| OptionView {
            value: f.id.to_string(),
            label: f.draft.name.clone(),
            selected: chosen.contains(&f.id.to_string().as_str()),
        })
        .collect();
    let mut state = field("state_code", "select", false);
    state.options = vigia_domain::geo::STATES
        .iter()
        .map(|s| OptionView { value: s.code.into(), label: s.name.into(), selected: sel("state_code") == Some(s.code) })
        .collect();
    let mut position = field("position", "select", true);
    position.options = options(l, "position", Position::ALL, Position::as_str, sel("position"));
    vec![topic, position, scope, facilities, state, field("from", "date", true), field("until", "date", false)]
}

pub(super) async fn show(
    st: &AppState,
    ctx: &Ctx,
    id: i64,
    values: &HashMap<String, String>,
    errors: &ValidationErrors,
    (flash, file_error): (Option<String>, Option<String>),
) -> PageResult {
    let s = st.store.statement(id).await?.ok_or(WebError::NotFound)?;
    let l = ctx.locale;
    let facilities = st.store.list_facilities().await?;
    let names: HashMap<i64, String> = facilities.iter().map(|f| (f.id, f.draft.name.clone())).collect();
    let d = &s.draft;
    let none = tr(l, "facility-unknown");
    let details = vec![
        (tr(l, "field-statement-authority"), label(l, "authority", &d.authority)),
        (tr(l, "field-statement-speaker"), d.speaker.clone().unwrap_or_else(|| none.clone())),
        (tr(l, "field-statement-speaker_position"), d.speaker_position.clone().unwrap_or_else(|| none.clone())),
        (tr(l, "field-statement-published_at"), format_local(d.published_at, ZONE)),
        (tr(l, "field-statement-channel"), label(l, "channel", d.channel.as_str())),
        (tr(l, "field-statement-source_url"), d.source_url.clone().unwrap_or_else(|| none.clone())),
        (tr(l, "field-statement-language"), label(l, "language", &d.language)),
    ];
    let claims = s
        .claims
        .iter()
        .map(|c| ClaimRow {
            id: c.id,
            topic: label(l, "topic", &c.draft.topic),
            scope: match &c.draft.scope {
                Scope::All => tr(l, "scope-all"),
                Scope::Facilities { ids } => ids
                    .iter()
                    .map(|i| names.get(i).cloned().unwrap_or_else(|| i.to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
                Scope::State { code } => vigia_domain::geo::STATES
                    .iter()
                    .find(|s| s.code == code)
                    .map(|s| s.name.to_string())
                    .unwrap_or_else(|| code.clone()),
            },
            position: label(l, "position", c.draft.position.as_str()),
            period: match c.draft.until {
                Some(u) => format!("{} – {u}", c.draft.from),
                None => format!("{} –", c.draft.from),
            },
            confirmed: c.confirmed,
        })
        .collect();
    let page = ShowPage {
        c: Chrome::new(ctx, &format!("/statements/{id}")).flash(flash),
        id,
        title: tr_args(
            l,
            "statement-title",
            &[("authority", label(l, "authority", &d.authority)), ("when", format_local(d.published_at, ZONE))],
        ),
        details,
        text: d.text.clone(),
        translation: d.translation.clone(),
        claims,
        can_record: ctx.can(Permission::RecordStatements),
        claim_form: claim_form(&facilities, l, values, errors),
        claim_summary: (!errors.is_empty())
            .then(|| tr_args(l, "form-errors", &[("count", errors.0.len().to_string())])),
        files: crate::kit::file_rows(st.store.attachments(vigia_domain::RecordType::Statement, id).await?),
        file_error,
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, &page)
}

pub(super) async fn show_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    ctx.require_user()?;
    let l = ctx.locale;
    let flash = if q.contains_key("created") {
        Some(tr(l, "statement-created"))
    } else if q.contains_key("claim") {
        Some(tr(l, "statement-claim-added"))
    } else if q.contains_key("attached") {
        Some(tr(l, "access-file-attached"))
    } else {
        None
    };
    let file_error = crate::kit::file_error(l, &q);
    show(&st, &ctx, parse_id(&id)?, &HashMap::new(), &ValidationErrors::new(), (flash, file_error)).await
}

pub(super) async fn claim_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require_user()?;
    let id = parse_id(&id)?;
    st.store.statement(id).await?.ok_or(WebError::NotFound)?;
    ctx.require(Permission::RecordStatements)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let pairs = form.joined("facility_ids");
    let result = match statement::validate_claim(&RawInput::from_pairs(pairs.clone())) {
        Ok(d) => st.store.add_claim(&ctx.actor(), id, d).await.map_err(WebError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/statements/{id}?claim=1")).into_response()),
        Err(WebError::Invalid(errs)) => show(&st, &ctx, id, &pairs.into_iter().collect(), &errs, (None, None)).await,
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn confirm_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require_user()?;
    let id = parse_id(&id)?;
    let s = st.store.statement(id).await?.ok_or(WebError::NotFound)?;
    ctx.require(Permission::ReviewDetections)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let claim =
        form.get("claim_id").and_then(|c| c.parse::<i64>().ok()).filter(|c| s.claims.iter().any(|x| x.id == *c));
    if let Some(c) = claim {
        st.store.set_claim_confirmed(&ctx.actor(), c, form.get("confirmed") == Some("on")).await?;
    }
    Ok(Redirect::to(&format!("/statements/{id}")).into_response())
}

pub struct DetectionView {
    pub key: String,
    pub rule: String,
    pub rule_code: &'static str,
    pub summary: String,
    /// The statements side by side, earlier first.
    pub statements: Vec<StatementCard>,
    /// The refused attempts behind a words-against-practice finding: (id, when, center, outcome).
    pub attempts: Vec<(i64, String, String, String)>,
    pub review: Option<String>,
    pub other_reviews: Vec<String>,
}

/// One statement as a contradiction card quotes it: who, when, where, the words, and
/// each claim of this finding in plain language.
pub struct StatementCard {
    pub id: i64,
    pub who: String,
    pub when: String,
    pub channel: String,
    pub quote: String,
    pub claims: Vec<String>,
}

pub(super) fn card(l: Locale, s: &Statement, claims: &[i64]) -> StatementCard {
    let d = &s.draft;
    let mut who = label(l, "authority", &d.authority);
    for part in [&d.speaker, &d.speaker_position].into_iter().flatten() {
        who.push_str(", ");
        who.push_str(part);
    }
    let quote: String = d.text.chars().take(600).collect();
    StatementCard {
        id: s.id,
        who,
        when: format_local(d.published_at, ZONE),
        channel: label(l, "channel", d.channel.as_str()),
        quote: if d.text.chars().count() > 600 { format!("{quote}…") } else { quote },
        claims: s
            .claims
            .iter()
            .filter(|c| claims.contains(&c.id))
            .map(|c| {
                format!("{}: {}", label(l, "topic", &c.draft.topic), label(l, "claim-says", c.draft.position.as_str()))
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "statements/templates/contradictions.html")]
pub(super) struct ContradictionsPage {
    c: Chrome,
    items: Vec<DetectionView>,
    paging: crate::kit::listing::Paging,
    cursor_error: Option<String>,
    can_review: bool,
}

pub(super) async fn contradictions_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    let flash = q.contains_key("error").then(|| tr(l, "contradiction-review-error"));
    let mut errs = ValidationErrors::new();
    let after = detection_after(&q, &mut errs);
    let cursor_error = errs.for_field("after").map(|e| crate::i18n::field_error(l, e));
    let found = vigia_app::findings::detections(&st.store, &st.analyses, &st.detections, user.org_id).await?;
    let (page, remaining, next) =
        detections_after(&found.found, after.as_deref(), vigia_domain::paging::PAGE_ROWS as usize);
    let paging = crate::kit::listing::Paging::after_key(
        l,
        "/contradictions",
        "/contradictions.csv",
        &q,
        "contradictions-count",
        found.found.len() as i64,
        remaining as i64,
        page.len(),
        next,
    );
    let (statements, reviews) = (&found.statements, &found.reviews);
    let wanted: std::collections::HashSet<i64> = page.iter().flat_map(|f| f.d.statements.iter().copied()).collect();
    let by_id: HashMap<i64, &Statement> =
        statements.iter().filter(|s| wanted.contains(&s.id)).map(|s| (s.id, s)).collect();
    let facilities: HashMap<i64, vigia_domain::facility::Facility> =
        st.store.list_facilities().await?.into_iter().map(|f| (f.id, f)).collect();
    let cited: Vec<i64> = page.iter().flat_map(|f| f.cited.iter().copied()).collect();
    let attempts: HashMap<i64, (i64, String, String, String)> = st
        .store
        .attempts_by_ids(user.org_id, &cited)
        .await?
        .into_iter()
        .map(|a| {
            let f = facilities.get(&a.draft.facility_id);
            let zone = f.map(|f| f.time_zone()).unwrap_or(vigia_domain::geo::LEGAL_TIME_ZONE);
            let row = (
                a.id,
                format_local(a.draft.attempted_at, zone),
                f.map(|f| f.draft.name.clone()).unwrap_or_default(),
                label(l, "outcome", a.draft.outcome.as_str()),
            );
            (a.id, row)
        })
        .collect();
    let items = page
        .iter()
        .map(|Found { d, cited }| DetectionView {
            key: d.key.clone(),
            rule: label(l, "rule", d.rule.as_str()),
            rule_code: d.rule.as_str(),
            summary: match d.gap {
                Some(g) => tr_args(l, "contradiction-gap", &[("gap", describe_gap(g))]),
                None => tr_args(
                    l,
                    "contradiction-refusals",
                    &[("attempts", d.refusals.to_string()), ("orgs", d.organizations.to_string())],
                ),
            },
            statements: d.statements.iter().filter_map(|id| by_id.get(id)).map(|s| card(l, s, &d.claims)).collect(),
            attempts: cited.iter().filter_map(|id| attempts.get(id).cloned()).collect(),
            review: reviews.own(&d.key).map(|r| {
                tr_args(
                    l,
                    "contradiction-own-review",
                    &[("verdict", label(l, "review", r.status.as_str())), ("reason", r.reason.clone())],
                )
            }),
            other_reviews: reviews
                .others(&d.key)
                .map(|(org, r)| {
                    tr_args(
                        l,
                        "contradiction-other-review",
                        &[
                            ("org", org.to_string()),
                            ("verdict", label(l, "review", r.status.as_str())),
                            ("when", format_local(r.reviewed_at, ZONE)),
                        ],
                    )
                })
                .collect(),
        })
        .collect();
    render(
        crate::kit::listing::status_of(&cursor_error),
        &ContradictionsPage {
            c: Chrome::new(&ctx, "/contradictions").flash(flash),
            items,
            paging,
            cursor_error,
            can_review: ctx.can(Permission::ReviewDetections),
        },
    )
}

/// Every contradiction the viewer may see, as CSV or JSON Lines: what each one is, the
/// statements, claims and attempts it rests on by number, and the viewer's own verdict
/// (its reason stays the organization's note, on the page).
pub(super) async fn contradictions_csv(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    uri: axum::http::Uri,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    let found = vigia_app::findings::detections(&st.store, &st.analyses, &st.detections, user.org_id).await?;
    let head = crate::kit::listing::columns(
        l,
        &[
            "contradiction-key",
            "contradiction-rule",
            "contradiction-statements",
            "contradiction-claims",
            "contradiction-refused",
            "contradiction-refusal_days",
            "contradiction-organizations",
            "contradiction-interval",
            "contradiction-cited",
            "contradiction-own_verdict",
        ],
    );
    let ids = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(" ");
    let rows = found
        .found
        .iter()
        .map(|Found { d, cited }| {
            let from_refusals = d.rule == vigia_domain::statement::Rule::WordsAgainstPractice;
            let count = |n: usize| if from_refusals { n.to_string() } else { String::new() };
            vec![
                d.key.clone(),
                label(l, "rule", d.rule.as_str()),
                ids(&d.statements),
                ids(&d.claims),
                count(d.refusals),
                count(d.days.len()),
                count(d.organizations),
                d.gap.map(describe_gap).unwrap_or_default(),
                ids(cited),
                found.reviews.own(&d.key).map(|r| label(l, "review", r.status.as_str())).unwrap_or_default(),
            ]
        })
        .collect();
    Ok(crate::kit::listing::download_of(crate::kit::listing::Format::of(&uri), "vigia-contradictions", head, rows))
}

pub(super) async fn review_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    ctx.require(Permission::ReviewDetections)?;
    let form = FormBody::checked(&headers, &body, &ctx)?;
    match review(&st, &ctx, &RawInput::from_pairs(form.pairs)).await {
        Ok(_) => Ok(Redirect::to("/contradictions").into_response()),
        // The reason is required: say so on the page.
        Err(WebError::Invalid(_)) => Ok(Redirect::to("/contradictions?error=1").into_response()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hits_are_marked_by_stem_and_everything_else_is_escaped() {
        let html = super::highlight("Se suspendió el ACCESO <b>hoy</b> & mañana", "acceso suspensión");
        assert_eq!(html, "Se <mark>suspendió</mark> el <mark>ACCESO</mark> &lt;b&gt;hoy&lt;/b&gt; &amp; mañana");
        assert_eq!(super::highlight("<script>", ""), "&lt;script&gt;");
    }

    #[test]
    fn an_excerpt_shows_the_first_hit_even_far_in() {
        let text = format!("{} el acceso fue negado", "palabra ".repeat(60));
        let e = super::excerpt(&text, "acceso", 80);
        assert!(e.starts_with('…') && e.contains("acceso"), "{e}");
        assert_eq!(super::excerpt("corto", "acceso", 80), "corto");
    }
}
