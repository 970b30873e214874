//! The lawyer's day: deadlines due and violations ongoing, as a page and as JSON.

use super::*;

/// One line of the "today" list.
pub struct TodayItem {
    pub case_id: i64,
    pub name: String,
    pub rule: RuleId,
    pub rule_label: String,
    pub due: String,
    pub status: Status,
    pub left: Option<i64>,
    pub when: String,
}

pub struct Today {
    pub overdue: Vec<TodayItem>,
    pub soon: Vec<TodayItem>,
    /// People held past the detention limit, and children held, today.
    pub past_limit: Vec<(i64, String, String)>,
    pub children: Vec<(i64, String, String)>,
}

pub(super) fn today_query(q: &HashMap<String, String>, user: &User) -> Result<(bool, u32), WebError> {
    let raw = RawInput::from_pairs(q.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut errs = ValidationErrors::new();
    raw.reject_unknown(&["scope", "days"], &mut errs);
    let mine = match raw.text("scope", 10, &mut errs).as_deref() {
        None => user.role == vigia_domain::account::Role::Lawyer,
        Some("mine") => true,
        Some("org") => false,
        Some(_) => {
            errs.push(vigia_domain::FieldError::new("scope", "unknown_choice"));
            false
        }
    };
    let days = raw.integer("days", 0, 60, &mut errs).unwrap_or(5) as u32;
    Ok(errs.into_result((mine, days))?)
}

/// The lawyer's day as the viewer reads it, kept until the data or the day change: for
/// the organization, or for the lawyer alone (`mine`), in the viewer's language and
/// with the names the viewer's role may read.
pub(super) async fn kept_today(
    st: &AppState,
    ctx: &Ctx,
    user: &User,
    mine: bool,
    days: u32,
    today: jiff::civil::Date,
) -> Result<std::sync::Arc<Today>, WebError> {
    // The day is read once, by the caller: the answer is the one of the day in its key.
    let key = format!("{}|{:?}", today_key(ctx, user, mine, days, today), ctx.locale);
    crate::kit::kept::kept(st, "today", key, || async {
        Ok(std::sync::Arc::new(compute_today(st, ctx, user, (mine, days), today).await?))
    })
    .await
}

/// What a view of the day depends on besides the data and the language: the
/// organization, whose cases (everyone's, or one lawyer's), how far ahead, whether the
/// viewer may read references, and the day.
fn today_key(ctx: &Ctx, user: &User, mine: bool, days: u32, today: jiff::civil::Date) -> String {
    format!("{}|{:?}|{days}|{}|{today}", user.org_id, mine.then_some(user.id), ctx.can(Permission::ReadCaseSealed))
}

async fn compute_today(
    st: &AppState,
    ctx: &Ctx,
    user: &User,
    (mine, days): (bool, u32),
    today: jiff::civil::Date,
) -> Result<Today, WebError> {
    let l = ctx.locale;
    let mut out = Today { overdue: vec![], soon: vec![], past_limit: vec![], children: vec![] };
    for oc in vigia_app::cases::open_cases(&st.store, &st.open_cases, user.org_id, today).await?.iter() {
        if mine && oc.case.fields.lawyer_user_id != Some(user.id) {
            continue;
        }
        let (c, a) = (&oc.case, &oc.assessment);
        let name = name_for(st, ctx, c)?;
        // The 36-hour threshold is shown on each case, not listed here: nearly every
        // detention passes it, and the list is for what a lawyer must act on.
        for (d, left) in a.deadlines.iter().zip(oc.left.iter().copied()).filter(|(d, _)| d.rule != RuleId::Detention36h)
        {
            let due = match (d.due, d.due_time) {
                (Some(x), Some(t)) => format!("{x} {}", t.strftime("%H:%M")),
                (Some(x), None) => x.to_string(),
                _ => String::new(),
            };
            let item = |when: String| TodayItem {
                case_id: c.id,
                name: name.clone(),
                rule: d.rule,
                rule_label: label(l, "rule", d.rule.as_str()),
                due: due.clone(),
                status: d.status,
                left,
                when,
            };
            match (d.status, left) {
                (Status::Overdue, Some(n)) => {
                    out.overdue.push(item(tr_args(l, "today-overdue-by", &[("days", (-n).to_string())])))
                }
                (Status::Pending, Some(n)) if n <= i64::from(days) => {
                    out.soon.push(item(tr_args(l, "today-left", &[("days", n.to_string())])))
                }
                _ => {}
            }
        }
        for v in a.violations.iter().filter(|v| v.ongoing) {
            let row = (c.id, name.clone(), v.since.to_string());
            match v.kind {
                deadline::ViolationKind::HeldPastLimit => out.past_limit.push(row),
                deadline::ViolationKind::ChildDetained => out.children.push(row),
                // Told once as an alert, and shown on the case: not a list of people to act for today.
                deadline::ViolationKind::HeldPast36Hours | deadline::ViolationKind::PossibleRefoulement => {}
            }
        }
    }
    out.overdue.sort_by(|a, b| a.due.cmp(&b.due));
    out.soon.sort_by(|a, b| a.due.cmp(&b.due));
    Ok(out)
}

pub(super) fn item_json(i: &TodayItem) -> serde_json::Value {
    serde_json::json!({"case_id": i.case_id, "case": i.name, "rule": i.rule.as_str(), "due": i.due,
                       "status": i.status.as_str(), "working_days_left": i.left})
}

pub(super) async fn api_today(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let user = ctx.signed_in().and_then(|_| ctx.require(Permission::ReadCases))?.clone();
    let (mine, days) = today_query(&q, &user)?;
    // The answer as written is kept beside the day's view it is written from, among
    // the written bodies (at most 256 KiB each): some 80 KB over a hundred thousand open
    // cases, which cost a millisecond of a core to write for every request (issue #19).
    // It holds no words in the reader's language, so one body serves both.
    let day = today();
    let key = today_key(&ctx, &user, mine, days, day);
    crate::kit::json::kept_body(&st, "today.json", key, || async {
        let t = kept_today(&st, &ctx, &user, mine, days, day).await?;
        let people = |v: &[(i64, String, String)]| {
            v.iter()
                .map(|(id, n, since)| serde_json::json!({"case_id": id, "case": n, "since": since}))
                .collect::<Vec<_>>()
        };
        Ok(serde_json::json!({
            "today": day.to_string(), "scope": if mine { "mine" } else { "org" }, "days": days,
            "overdue": t.overdue.iter().map(item_json).collect::<Vec<_>>(),
            "due_soon": t.soon.iter().map(item_json).collect::<Vec<_>>(),
            "held_past_limit": people(&t.past_limit), "children_detained": people(&t.children),
        }))
    })
    .await
    .map_err(Into::into)
}

#[derive(Template)]
#[template(path = "cases/templates/today.html")]
pub(super) struct TodayPage {
    c: Chrome,
    mine: bool,
    days: u32,
    today: String,
    t: std::sync::Arc<Today>,
}

pub(super) async fn today_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require(Permission::ReadCases)?.clone();
    let (mine, days) = today_query(&q, &user)?;
    let day = today();
    let t = kept_today(&st, &ctx, &user, mine, days, day).await?;
    render(StatusCode::OK, &TodayPage { c: Chrome::new(&ctx, "/today"), mine, days, today: day.to_string(), t })
}
