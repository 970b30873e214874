//! Access-to-information requests (issue #20 part 1): recording them and what happened
//! to them, their deadlines today under the law in force on the filing date, the
//! organization's "today" list and reminders, the analysis by authority and year, and
//! the import of an existing log. Pages, API, CLI, worker and demo call these.

use std::collections::BTreeMap;

use jiff::civil::Date;
use vigia_domain::clock::Calendars;
use vigia_domain::import::RowError;
use vigia_domain::input::RawInput;
use vigia_domain::transparency::{
    self, deadlines::working_days_left, AnswerType, Deadline, DeadlineKind, DeadlineStatus, EventKind, LinkKind,
    Regime, Regimes, Stage,
};
use vigia_domain::{FieldError, ValidationErrors};
use vigia_store::{Actor, DynStore, Request, RequestEvent, RequestLink};

use crate::AppError;

/// The shipped regimes and those administrators added.
pub async fn regimes(store: &DynStore) -> Result<Regimes, AppError> {
    Ok(Regimes::builtin().with(store.regimes().await?.into_iter().map(|r| r.regime)))
}

/// A request with everything that happened to it and where it stands today.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RequestView {
    #[serde(flatten)]
    pub request: Request,
    pub events: Vec<RequestEvent>,
    pub links: Vec<RequestLink>,
    /// The regime it is counted under (`None` only if a stored regime was removed).
    pub regime_name: Option<String>,
    pub deadlines: Vec<Deadline>,
    pub stage: Stage,
}

impl RequestView {
    /// The answer, when one (other than "no answer") was recorded.
    pub fn answer(&self) -> Option<&RequestEvent> {
        self.events
            .iter()
            .find(|e| e.draft.kind == EventKind::Answer && e.draft.answer_type != Some(AnswerType::NoAnswer))
    }

    pub fn deadline(&self, k: DeadlineKind) -> Option<&Deadline> {
        self.deadlines.iter().find(|d| d.kind == k)
    }
}

fn judge(
    request: Request,
    events: Vec<RequestEvent>,
    links: Vec<RequestLink>,
    regimes: &Regimes,
    cals: &Calendars,
    today: Date,
) -> Result<RequestView, AppError> {
    let drafts: Vec<_> = events.iter().map(|e| e.draft.clone()).collect();
    let regime = regimes.for_request(request.draft.regime.as_deref(), request.draft.filed_on);
    let deadlines = match regime {
        Some(r) => transparency::deadlines(request.draft.filed_on, &drafts, r, cals, today)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        None => vec![],
    };
    let stage = transparency::stage(&drafts, &deadlines);
    Ok(RequestView { regime_name: regime.map(|r| r.name.clone()), request, events, links, deadlines, stage })
}

/// [`judge`], or, when a request cannot be judged (a stored regime whose calendar is
/// gone), the request without deadlines and the reason logged: one bad request does
/// not take the list, the "today" list or the reminders of the others with it.
fn judge_or_log(
    request: Request,
    events: Vec<RequestEvent>,
    links: Vec<RequestLink>,
    regimes: &Regimes,
    cals: &Calendars,
    today: Date,
) -> RequestView {
    let fallback = (request.clone(), events.clone(), links.clone());
    judge(request, events, links, regimes, cals, today).unwrap_or_else(|e| {
        tracing::error!(request = fallback.0.id, error = %e, "cannot judge a request's deadlines");
        let drafts: Vec<_> = fallback.1.iter().map(|e| e.draft.clone()).collect();
        RequestView {
            stage: transparency::stage(&drafts, &[]),
            request: fallback.0,
            events: fallback.1,
            links: fallback.2,
            regime_name: None,
            deadlines: vec![],
        }
    })
}

/// Every request of the organization, newest filing first, judged today.
pub async fn list(store: &DynStore, org_id: i64, today: Date) -> Result<Vec<RequestView>, AppError> {
    let regimes = regimes(store).await?;
    let cals = vigia_store::calendars(&**store).await?;
    list_judged(store, org_id, &regimes, &cals, today).await
}

/// [`list`] with the regimes and calendars already read (the sweep reads them once for
/// every organization).
async fn list_judged(
    store: &DynStore,
    org_id: i64,
    regimes: &Regimes,
    cals: &Calendars,
    today: Date,
) -> Result<Vec<RequestView>, AppError> {
    let mut events: BTreeMap<i64, Vec<RequestEvent>> = BTreeMap::new();
    for e in store.request_events(org_id, None).await? {
        events.entry(e.request_id).or_default().push(e);
    }
    let mut links: BTreeMap<i64, Vec<RequestLink>> = BTreeMap::new();
    for l in store.request_links(org_id, None).await? {
        links.entry(l.request_id).or_default().push(l);
    }
    Ok(store
        .requests(org_id)
        .await?
        .into_iter()
        .map(|r| {
            let (e, l) = (events.remove(&r.id).unwrap_or_default(), links.remove(&r.id).unwrap_or_default());
            judge_or_log(r, e, l, regimes, cals, today)
        })
        .collect())
}

/// One request of the organization, judged today; `None` if it is not the
/// organization's (the same answer as a missing id).
pub async fn view(store: &DynStore, org_id: i64, id: i64, today: Date) -> Result<Option<RequestView>, AppError> {
    let Some(r) = store.request(org_id, id).await? else { return Ok(None) };
    let regimes = regimes(store).await?;
    let cals = vigia_store::calendars(&**store).await?;
    let events = store.request_events(org_id, Some(id)).await?;
    let links = store.request_links(org_id, Some(id)).await?;
    judge(r, events, links, &regimes, &cals, today).map(Some)
}

/// Records a request from a form, a JSON body or the CLI.
pub async fn create(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    raw: &RawInput,
    today: Date,
) -> Result<Request, AppError> {
    let regimes = regimes(store).await?;
    let draft = transparency::validate_request(raw, &regimes, today, &[])?;
    let mut made = store.create_requests(actor, org_id, vec![(draft, vec![])]).await?;
    made.pop().ok_or_else(|| AppError::Internal("no request stored".into()))
}

/// Records what happened to a request, checked against what happened before.
pub async fn add_event(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    request_id: i64,
    raw: &RawInput,
    today: Date,
) -> Result<Option<RequestEvent>, AppError> {
    let Some(r) = store.request(org_id, request_id).await? else { return Ok(None) };
    let regimes = regimes(store).await?;
    let regime = regimes.for_request(r.draft.regime.as_deref(), r.draft.filed_on).cloned();
    let cals = vigia_store::calendars(&**store).await?;
    let (raw, filed_on) = (raw.clone(), r.draft.filed_on);
    // Checked against the events read inside the write, so two people recording at
    // once are each checked against the other's step.
    let check: vigia_store::EventCheck = Box::new(move |before| {
        let draft = transparency::validate_event(&raw, filed_on, before, today)?;
        if draft.kind == EventKind::AppealFiled {
            let early = regime
                .as_ref()
                .map(|reg| transparency::appeal_too_early(filed_on, before, draft.on, reg, &cals))
                .transpose()
                .unwrap_or(Some(false));
            if early == Some(true) {
                return Err(ValidationErrors(vec![FieldError::new("on", "before_answer_due")]));
            }
        }
        Ok(draft)
    });
    Ok(Some(store.add_request_event(actor, org_id, request_id, check).await?))
}

/// Links a record the organization can see: a published statement, a recommendation,
/// an attempt visible to it, or a suspension's period (a time, not a record: the
/// analysis finds suspensions anew from the attempts).
pub async fn link(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    request_id: i64,
    raw: &RawInput,
) -> Result<Option<RequestLink>, AppError> {
    if store.request(org_id, request_id).await?.is_none() {
        return Ok(None);
    }
    let draft = transparency::validate_link(raw)?;
    let id: i64 = draft.reference.parse().unwrap_or(0);
    let visible = match draft.kind {
        LinkKind::Suspension => true,
        LinkKind::Statement => store.statement(id).await?.is_some(),
        LinkKind::Recommendation => store.recommendation(id).await?.is_some(),
        LinkKind::AccessAttempt => !store.attempts_by_ids(org_id, &[id]).await?.is_empty(),
    };
    if !visible {
        return Err(AppError::unknown_record("reference"));
    }
    Ok(Some(store.link_request(actor, org_id, request_id, draft).await?))
}

/// Adds a state regime, checked against the calendars; a shipped regime's name is taken.
pub async fn add_regime(store: &DynStore, actor: &Actor, regime: Regime) -> Result<(), AppError> {
    let cals = vigia_store::calendars(&**store).await?;
    regime.check(&cals).map_err(|why| {
        tracing::info!(why, "regime refused");
        AppError::Invalid(ValidationErrors(vec![FieldError::new("regime", "invalid_regime")]))
    })?;
    if regime.federal {
        return Err(AppError::Invalid(ValidationErrors(vec![FieldError::new("federal", "federal_is_shipped")])));
    }
    if Regimes::builtin().get(&regime.name).is_some() {
        return Err(vigia_store::StoreError::Conflict("regime_exists".into()).into());
    }
    store.add_regime(actor, &regime).await?;
    Ok(())
}

/// Imports a requests log: every row or none, problems by line and column.
pub async fn import_csv(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    bytes: &[u8],
    today: Date,
) -> Result<Result<usize, Vec<RowError>>, AppError> {
    let regimes = regimes(store).await?;
    match vigia_domain::import::requests_csv(bytes, &regimes, today) {
        Err(problems) => Ok(Err(problems)),
        Ok(items) => {
            let n = items.len();
            store.create_requests(actor, org_id, items).await?;
            Ok(Ok(n))
        }
    }
}

/// A line of the organization's "today" list of requests.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TodayRequest {
    pub request_id: i64,
    pub authority: String,
    pub folio: String,
    pub kind: DeadlineKind,
    /// `overdue` (the authority has not answered or resolved), `appeal_open` (the
    /// window to appeal is running: act), `due_soon`.
    pub state: &'static str,
    pub due: Date,
    pub working_days_left: i64,
}

/// What to act on today: answers overdue (their appeal window open, with the days
/// left), appeal windows closing, and deadlines due within `horizon` working days.
pub fn today_list(views: &[RequestView], cals: &Calendars, today: Date, horizon: u32) -> Vec<TodayRequest> {
    let mut out = Vec::new();
    for v in views {
        for d in &v.deadlines {
            let Some(due) = d.due else { continue };
            let Ok(Some(left)) = working_days_left(d, cals, today) else { continue };
            let state = match (d.kind, d.status) {
                (DeadlineKind::Appeal, DeadlineStatus::Pending) => "appeal_open",
                (_, DeadlineStatus::Overdue) => "overdue",
                (_, DeadlineStatus::Pending) if left <= i64::from(horizon) => "due_soon",
                _ => continue,
            };
            out.push(TodayRequest {
                request_id: v.request.id,
                authority: v.request.draft.authority.clone(),
                folio: v.request.draft.folio.clone(),
                kind: d.kind,
                state,
                due,
                working_days_left: left,
            });
        }
    }
    out.sort_by_key(|t| (t.due, t.request_id));
    out
}

/// Tells each organization, once per request and deadline, that an answer is overdue
/// (the appeal window is open), that its appeal window closes within `horizon` working
/// days, or that a resolution is overdue. Returns how many alerts were raised.
pub async fn sweep(store: &DynStore, today: Date, horizon: u32) -> Result<usize, AppError> {
    let cals = vigia_store::calendars(&**store).await?;
    let regimes = regimes(store).await?;
    let mut raised = 0;
    for org in store.list_orgs().await? {
        let views = match list_judged(store, org.id, &regimes, &cals, today).await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(org = org.id, error = %e, "cannot sweep an organization's requests");
                continue;
            }
        };
        for t in today_list(&views, &cals, today, horizon) {
            // An open appeal window is told when it nears its end; an overdue answer or
            // resolution as soon as it is overdue.
            if t.state == "appeal_open" && t.working_days_left > i64::from(horizon) {
                continue;
            }
            let key = format!("request:{}:{}:{}:{}", t.request_id, t.kind.as_str(), t.state, t.due);
            let payload = serde_json::json!({
                "type": format!("request.{}", t.state), "request_id": t.request_id, "authority": t.authority,
                "folio": t.folio, "what": t.kind.as_str(), "state": t.state, "due": t.due.to_string(),
                "working_days_left": t.working_days_left, "today": today.to_string(),
            })
            .to_string();
            if store.raise_alert(org.id, "request", &key, None, &payload).await?.is_some() {
                raised += 1;
            }
        }
    }
    Ok(raised)
}

/// Response times and answer types of one authority in one year (by filing date).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AuthorityYear {
    pub authority: String,
    pub year: i16,
    pub requests: usize,
    pub answered: usize,
    /// Answered after the day, or not answered by it.
    pub late_or_missing: usize,
    /// Working days from filing to answer, over the answered: the middle value (the
    /// upper of the two for an even count).
    pub median_working_days: Option<i64>,
    pub by_type: BTreeMap<String, usize>,
    /// Shares of the answered that declared the information inexistent or classified.
    pub inexistent_share: Option<f64>,
    pub classified_share: Option<f64>,
    pub appealed: usize,
}

/// The analysis by authority and year.
pub fn analysis(views: &[RequestView], cals: &Calendars) -> Vec<AuthorityYear> {
    let mut groups: BTreeMap<(String, i16), (AuthorityYear, Vec<i64>)> = BTreeMap::new();
    for v in views {
        let key = (v.request.draft.authority.clone(), v.request.draft.filed_on.year());
        let (g, days) = groups
            .entry(key.clone())
            .or_insert_with(|| (AuthorityYear { authority: key.0.clone(), year: key.1, ..Default::default() }, vec![]));
        g.requests += 1;
        if let Some(a) = v.answer() {
            g.answered += 1;
            if let Some(t) = a.draft.answer_type {
                *g.by_type.entry(t.as_str().to_string()).or_default() += 1;
            }
            let cal = v.deadline(DeadlineKind::Answer).map(|d| d.calendar.as_str()).unwrap_or("transparencia");
            if let Ok(n) = cals.get(cal).and_then(|c| c.count_working_days(v.request.draft.filed_on, a.draft.on)) {
                days.push(n);
            }
        }
        if v.deadline(DeadlineKind::Answer)
            .is_some_and(|d| matches!(d.status, DeadlineStatus::Late | DeadlineStatus::Overdue))
        {
            g.late_or_missing += 1;
        }
        if v.events.iter().any(|e| e.draft.kind == EventKind::AppealFiled) {
            g.appealed += 1;
        }
    }
    groups
        .into_values()
        .map(|(mut g, mut days)| {
            days.sort_unstable();
            g.median_working_days = (!days.is_empty()).then(|| days[days.len() / 2]);
            let share = |n: usize| (g.answered > 0).then(|| n as f64 / g.answered as f64);
            g.inexistent_share = share(g.by_type.get("inexistent").copied().unwrap_or(0));
            g.classified_share = share(g.by_type.get("classified").copied().unwrap_or(0));
            g
        })
        .collect()
}
