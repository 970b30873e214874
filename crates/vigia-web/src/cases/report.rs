//! The cases report: aggregates with disclosure control, as a page, CSV and JSON.

use super::*;

/// The violations a report counts, in the order of the first `MEASURES`; the rest are
/// events counted by kind.
pub(super) const VIOLATION_MEASURES: [deadline::ViolationKind; 3] = [
    deadline::ViolationKind::HeldPastLimit,
    deadline::ViolationKind::ChildDetained,
    deadline::ViolationKind::PossibleRefoulement,
];

/// The measures a report counts.
pub(super) const MEASURES: [&str; 8] = [
    "held_past_limit",
    "children_detained",
    "possible_refoulement",
    "pressure_to_abandon",
    "ill_treatment",
    "denied_lawyer",
    "denied_consul",
    "forced_return",
];

pub struct Report {
    pub coalition: bool,
    pub from: Date,
    pub until: Date,
    /// Row labels and the table by facility; then by month.
    pub facilities: Vec<String>,
    pub by_facility: Table,
    pub months: Vec<String>,
    pub by_month: Table,
}

/// What a report asks for. Coalition counts cover one whole calendar year, never a
/// chosen range: two overlapping ranges could be subtracted to give a period no
/// protection was applied to (docs/disclosure.md).
pub(super) struct ReportQuery {
    coalition: bool,
    from: Date,
    until: Date,
    csv: bool,
}

/// Reads a report's query. The API (`strict`) refuses `from`/`until` with the
/// coalition scope; the page, whose form always sends them, takes the year of `until`.
pub(super) fn report_query(q: &HashMap<String, String>, strict: bool) -> Result<ReportQuery, WebError> {
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["scope", "from", "until", "year", "format"], &mut errs);
    let coalition = match raw.text("scope", 12, &mut errs).as_deref() {
        None | Some("org") => false,
        Some("coalition") => true,
        Some(_) => {
            errs.push(vigia_domain::FieldError::new("scope", "unknown_choice"));
            false
        }
    };
    let t = today();
    let until = raw.date("until", &mut errs).unwrap_or(t);
    let mut from =
        raw.date("from", &mut errs).unwrap_or_else(|| until.checked_sub(jiff::Span::new().years(1)).unwrap_or(until));
    let mut until = until;
    if coalition {
        if strict {
            for field in ["from", "until"] {
                if raw.has(field) {
                    errs.push(vigia_domain::FieldError::new(field, "coalition_whole_year"));
                }
            }
        }
        let year = raw.integer("year", 2000, i64::from(t.year()), &mut errs).map_or(until.year(), |y| y as i16);
        from = jiff::civil::date(year, 1, 1);
        until = jiff::civil::date(year, 12, 31);
    } else if raw.has("year") {
        errs.push(vigia_domain::FieldError::new("year", "coalition_only"));
    }
    if from > until {
        errs.push(vigia_domain::FieldError::new("from", "after_until"));
    }
    let csv = match raw.text("format", 10, &mut errs).as_deref() {
        None | Some("html") | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            errs.push(vigia_domain::FieldError::new("format", "unknown_choice"));
            false
        }
    };
    Ok(errs.into_result(ReportQuery { coalition, from, until, csv })?)
}

/// Counts people (cases) per measure, by facility and by month, for the viewer's
/// organization or for every organization it shares a coalition with. Outside the
/// organization, other organizations' small counts are suppressed, deciding on their
/// share of each cell alone, in both tables together (`disclosure::Table::linked`).
pub(super) async fn compute_report(st: &AppState, user: &User, q: &ReportQuery) -> Result<Report, WebError> {
    let (coalition, from, until) = (q.coalition, q.from, q.until);
    let mut orgs = vec![user.org_id];
    if coalition {
        for c in st.store.list_coalitions().await? {
            if c.members.contains(&user.org_id) {
                orgs.extend(c.members.iter().copied());
            }
        }
        orgs.sort_unstable();
        orgs.dedup();
    }
    let cals = calendars(st).await?;
    let today = today();
    let facilities: HashMap<i64, Facility> = st.store.list_facilities().await?.into_iter().map(|f| (f.id, f)).collect();
    // Per row: the viewer's organization's counts, then everyone else's.
    type Counts = ([u64; 8], [u64; 8]);
    let mut by_fac: BTreeMap<String, Counts> = BTreeMap::new();
    let mut by_month: BTreeMap<String, Counts> = BTreeMap::new();
    let unknown = "—".to_string();
    for cf in st.store.cases_with_facts(Some(&orgs), false).await? {
        let a = assess(&cf, &cals, today)?;
        let fac = cf
            .case
            .fields
            .facility_id
            .and_then(|id| facilities.get(&id))
            .map(|f| f.draft.name.clone())
            .unwrap_or_else(|| unknown.clone());
        let mut hits: Vec<(usize, Date)> = Vec::new();
        for (m, &kind) in VIOLATION_MEASURES.iter().enumerate() {
            // A person counts once per measure: at the first time it happened in the period.
            if let Some(v) = a
                .violations
                .iter()
                .filter(|v| v.kind == kind && v.since >= from && v.since <= until)
                .min_by_key(|v| v.since)
            {
                hits.push((m, v.since));
            }
        }
        for (m, name) in MEASURES.iter().enumerate().skip(VIOLATION_MEASURES.len()) {
            let kind = EventKind::parse(name);
            if let Some(f) =
                cf.facts.iter().filter(|f| Some(f.kind) == kind && f.on >= from && f.on <= until).min_by_key(|f| f.on)
            {
                hits.push((m, f.on));
            }
        }
        let own = cf.case.org_id == user.org_id;
        for (m, on) in hits {
            for row in
                [by_fac.entry(fac.clone()).or_default(), by_month.entry(on.strftime("%Y-%m").to_string()).or_default()]
            {
                if own {
                    row.0[m] += 1;
                } else {
                    row.1[m] += 1;
                }
            }
        }
    }
    let split = |rows: &BTreeMap<String, Counts>| Split {
        own: rows.values().map(|r| r.0.to_vec()).collect(),
        others: rows.values().map(|r| r.1.to_vec()).collect(),
    };
    let (by_facility, by_month_table) = if coalition {
        let mut t = Table::linked(&[split(&by_fac), split(&by_month)]).into_iter();
        let fac = t.next().unwrap_or_else(|| Table::open(&[]));
        (fac, t.next().unwrap_or_else(|| Table::open(&[])))
    } else {
        let open =
            |rows: &BTreeMap<String, Counts>| Table::open(&rows.values().map(|r| r.0.to_vec()).collect::<Vec<_>>());
        (open(&by_fac), open(&by_month))
    };
    Ok(Report {
        coalition,
        from,
        until,
        facilities: by_fac.keys().cloned().collect(),
        by_facility,
        months: by_month.keys().cloned().collect(),
        by_month: by_month_table,
    })
}

pub(super) fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Shown(n) => n.to_string(),
        Cell::Suppressed => "*".into(),
    }
}

pub(super) fn report_csv(l: Locale, r: &Report) -> Response {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head = vec![tr(l, "report-group"), tr(l, "report-row")];
    head.extend(MEASURES.iter().map(|m| label(l, "measure", m)));
    head.push(tr(l, "report-total"));
    for (group, names, t) in [("facility", &r.facilities, &r.by_facility), ("month", &r.months, &r.by_month)] {
        for (i, name) in names.iter().enumerate() {
            let mut row = vec![group.to_string(), name.clone()];
            row.extend(t.cells[i].iter().map(cell_text));
            row.push(cell_text(&t.row_totals[i]));
            rows.push(row);
        }
        let mut total = vec![group.to_string(), tr(l, "report-total")];
        total.extend(t.col_totals.iter().map(cell_text));
        total.push(cell_text(&t.total));
        rows.push(total);
    }
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let body = vigia_domain::export::csv(&head, rows);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"vigia-cases-{}-{}.csv\"", r.from, r.until)),
        ],
        body,
    )
        .into_response()
}

pub(super) fn table_json(names: &[String], t: &Table) -> serde_json::Value {
    serde_json::json!({
        "rows": names.iter().enumerate().map(|(i, n)| serde_json::json!({
            "label": n,
            "counts": MEASURES.iter().zip(&t.cells[i]).map(|(m, c)| (m.to_string(), serde_json::to_value(c).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
            "total": t.row_totals[i],
        })).collect::<Vec<_>>(),
        "totals": MEASURES.iter().zip(&t.col_totals).map(|(m, c)| (m.to_string(), serde_json::to_value(c).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
        "total": t.total,
    })
}

pub(super) async fn api_report(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in().and_then(|_| ctx.require(Permission::ReadCases))?.clone();
    let q = report_query(&q, true)?;
    let r = compute_report(&st, &user, &q).await?;
    if q.csv {
        return Ok(report_csv(ctx.locale, &r));
    }
    let coalition = q.coalition;
    Ok(Json(serde_json::json!({
        "scope": if coalition { "coalition" } else { "org" }, "from": q.from.to_string(), "until": q.until.to_string(),
        "year": coalition.then(|| q.from.year()),
        "suppressed_below": if coalition { Some(vigia_domain::disclosure::MIN_SHOWN) } else { None },
        "measures": MEASURES, "by_facility": table_json(&r.facilities, &r.by_facility),
        "by_month": table_json(&r.months, &r.by_month),
    }))
    .into_response())
}

pub struct TableView {
    pub title: String,
    pub head: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

pub(super) fn table_view(l: Locale, title: &str, names: &[String], t: &Table) -> TableView {
    let mut head: Vec<String> = MEASURES.iter().map(|m| label(l, "measure", m)).collect();
    head.push(tr(l, "report-total"));
    let mut rows: Vec<(String, Vec<String>)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut cells: Vec<String> = t.cells[i].iter().map(cell_text).collect();
            cells.push(cell_text(&t.row_totals[i]));
            (n.clone(), cells)
        })
        .collect();
    let mut totals: Vec<String> = t.col_totals.iter().map(cell_text).collect();
    totals.push(cell_text(&t.total));
    rows.push((tr(l, "report-total"), totals));
    TableView { title: tr(l, title), head, rows }
}

#[derive(Template)]
#[template(path = "cases/templates/case_report.html")]
pub(super) struct ReportPage {
    c: Chrome,
    coalition: bool,
    /// Says which calendar year the coalition counts cover.
    year_note: String,
    from: String,
    until: String,
    tables: Vec<TableView>,
    csv: String,
}

pub(super) async fn report_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require(Permission::ReadCases)?.clone();
    let q = report_query(&q, false)?;
    let r = compute_report(&st, &user, &q).await?;
    let l = ctx.locale;
    if q.csv {
        return Ok(report_csv(l, &r));
    }
    let (coalition, from, until) = (q.coalition, q.from, q.until);
    let scope = if coalition { "coalition" } else { "org" };
    render(
        StatusCode::OK,
        &ReportPage {
            c: Chrome::new(&ctx, "/cases/report"),
            coalition,
            year_note: tr_args(l, "report-coalition-year", &[("year", from.year().to_string())]),
            from: from.to_string(),
            until: until.to_string(),
            tables: vec![
                table_view(l, "report-by-facility", &r.facilities, &r.by_facility),
                table_view(l, "report-by-month", &r.months, &r.by_month),
            ],
            csv: if coalition {
                format!("/cases/report?scope=coalition&year={}&format=csv", from.year())
            } else {
                format!("/cases/report?scope={scope}&from={from}&until={until}&format=csv")
            },
        },
    )
}
