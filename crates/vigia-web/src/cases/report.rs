//! The cases report: aggregates with disclosure control, as a page, CSV and JSON.

use super::*;

/// The measures a report counts (one place: `vigia_app::cases`).
pub(super) use vigia_app::cases::{Measures as Report, MEASURES};

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

/// The case counts for the viewer (`vigia_app::cases::measures`).
pub(super) async fn compute_report(st: &AppState, user: &User, q: &ReportQuery) -> Result<Report, WebError> {
    Ok(vigia_app::cases::measures(&st.store, user.org_id, q.coalition, q.from, q.until).await?)
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
