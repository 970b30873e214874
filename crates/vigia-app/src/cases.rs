//! Case deadlines: assessed on read from the recorded facts and the law's calendars, and
//! swept for reminders. One place for both, so the case page, the lawyer's "today" list
//! and the reminders can never disagree. Also the case counts (people per measure, with
//! disclosure control) that the cases report and the period report both show.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;
use vigia_domain::case::EventKind;
use vigia_domain::clock::Calendars;
use vigia_domain::deadline::{self, Assessment};
use vigia_domain::disclosure::{Split, Table};
use vigia_store::{CaseFacts, DynStore};

use crate::AppError;

/// A case's deadlines, violations and claim state today.
pub fn assess(cf: &CaseFacts, cals: &Calendars, today: Date) -> Result<Assessment, AppError> {
    deadline::assess(cf.case.fields.minor, &cf.facts, cals, today).map_err(|e| AppError::Internal(e.to_string()))
}

/// An open case as the lawyer's day reads it: its deadlines and violations today, and
/// each deadline's working days left (in the order of the assessment's deadlines).
pub struct OpenCase {
    pub case: vigia_domain::case::Case,
    pub assessment: Assessment,
    pub left: Vec<Option<i64>>,
}

/// Each organization's open cases assessed on a day, kept until the data change or the
/// day does (issue #19): assessing an organization's open cases took tens of
/// milliseconds of CPU, on every request of the "today" list.
pub struct OpenCases {
    kept: crate::kept::Kept<(i64, Date), Vec<OpenCase>>,
}

impl Default for OpenCases {
    fn default() -> Self {
        OpenCases { kept: crate::kept::Kept::new(256) }
    }
}

/// The organization's open cases assessed `today`, by number.
pub async fn open_cases(
    store: &DynStore,
    cache: &OpenCases,
    org_id: i64,
    today: Date,
) -> Result<std::sync::Arc<Vec<OpenCase>>, AppError> {
    cache
        .kept
        .get(store, (org_id, today), || async move {
            let cals = vigia_store::calendars(&**store).await?;
            let mut out = Vec::new();
            for cf in store.cases_with_facts(Some(&[org_id]), true).await? {
                let assessment = assess(&cf, &cals, today)?;
                let left = assessment
                    .deadlines
                    .iter()
                    .map(|d| deadline::working_days_left(d, &cals, today))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                out.push(OpenCase { case: cf.case, assessment, left });
            }
            Ok(out)
        })
        .await
}

/// open case's deadline due within `horizon` working days or overdue, and for every
/// ongoing violation; each is told once. Payloads name the case by id and pseudonym,
/// never by the person's data. Returns how many new alerts were raised.
pub async fn sweep_deadlines(store: &DynStore, today: jiff::civil::Date, horizon: u32) -> vigia_store::Result<usize> {
    let cals = vigia_store::calendars(&**store).await?;
    let mut raised = 0;
    for cf in store.cases_with_facts(None, true).await? {
        let a = match assess(&cf, &cals, today) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(case = cf.case.id, error = %e, "cannot assess a case's deadlines");
                continue;
            }
        };
        for r in vigia_domain::deadline::reminders(cf.case.id, &a, &cals, today, horizon) {
            let payload = serde_json::json!({
                "type": format!("case.{}", r.kind), "case_id": cf.case.id,
                "case": store.case_pseudonym(cf.case.org_id, cf.case.id)?,
                "what": r.what, "state": r.state, "due": r.due.map(|d| d.to_string()),
                "working_days_left": r.working_days_left, "lawyer_user_id": cf.case.fields.lawyer_user_id,
                "today": today.to_string(),
            })
            .to_string();
            if store.raise_alert(cf.case.org_id, r.kind, &r.key, None, &payload).await?.is_some() {
                raised += 1;
            }
        }
    }
    Ok(raised)
}

/// The organizations whose case counts of `year` are public: an approved publication of
/// that year with its cases section.
pub async fn published_cases(store: &DynStore, year: i16) -> vigia_store::Result<BTreeSet<i64>> {
    Ok(store
        .approved_publications()
        .await?
        .into_iter()
        .filter(|p| p.draft.year == year && p.draft.sections.contains(&vigia_domain::publication::Section::Cases))
        .map(|p| p.org_id)
        .collect())
}

/// The violations the case counts report, in the order of the first measures of
/// [`MEASURES`]; the rest are events counted by kind.
pub const VIOLATION_MEASURES: [deadline::ViolationKind; 3] = [
    deadline::ViolationKind::HeldPastLimit,
    deadline::ViolationKind::ChildDetained,
    deadline::ViolationKind::PossibleRefoulement,
];

/// What the case counts count: people (cases), once per measure.
pub const MEASURES: [&str; 8] = [
    "held_past_limit",
    "children_detained",
    "possible_refoulement",
    "pressure_to_abandon",
    "ill_treatment",
    "denied_lawyer",
    "denied_consul",
    "forced_return",
];

/// People (cases) per measure, by facility and by month, never a name.
pub struct Measures {
    pub coalition: bool,
    pub from: Date,
    pub until: Date,
    /// Row labels and the table by facility; then by month.
    pub facilities: Vec<String>,
    /// Each facility row's facility (`None`: the cases with no facility recorded).
    pub facility_ids: Vec<Option<i64>>,
    pub by_facility: Table,
    pub months: Vec<String>,
    pub by_month: Table,
}

/// Counts people (cases) per measure, by facility and by month, for the viewer's
/// organization or for every organization it shares a coalition with. Outside the
/// organization, other organizations' small counts are suppressed, deciding on their
/// share of each cell alone, in both tables together (`disclosure::Table::linked`).
/// The caller keeps coalition periods to whole calendar years (docs/disclosure.md).
pub async fn measures(
    store: &DynStore,
    viewer_org: i64,
    coalition: bool,
    from: Date,
    until: Date,
) -> Result<Measures, AppError> {
    let mut orgs = vec![viewer_org];
    if coalition {
        for c in store.list_coalitions().await? {
            if c.members.contains(&viewer_org) {
                orgs.extend(c.members.iter().copied());
            }
        }
        orgs.sort_unstable();
        orgs.dedup();
        // A partner whose case counts of this year are public (its approved publication)
        // is left out: knowing one member's counts exactly, a viewer could subtract them
        // from the coalition's and read a third member's small counts (review of issue
        // #17). Its figures are on its public site.
        let published: BTreeSet<i64> = published_cases(store, from.year()).await?;
        orgs.retain(|o| *o == viewer_org || !published.contains(o));
    }
    measures_of(store, viewer_org, coalition, &orgs, None, from, until).await
}

/// The organization's case counts for a publication: only people whose consent to the
/// anonymized publication of their story stands are counted (issue #20: nothing is
/// included in a publication without the matching consent).
pub async fn published_measures(store: &DynStore, org_id: i64, from: Date, until: Date) -> Result<Measures, AppError> {
    let records = store.consents(org_id, None).await?;
    let mut by_case: BTreeMap<i64, Vec<&vigia_store::ConsentRecord>> = BTreeMap::new();
    for r in &records {
        by_case.entry(r.case_id).or_default().push(r);
    }
    let consented: BTreeSet<i64> = by_case
        .into_iter()
        .filter(|(_, rs)| {
            vigia_domain::consent::allows(
                rs.iter().map(|r| (r.draft.on, r.id, &r.draft)),
                vigia_domain::consent::Purpose::AnonymizedPublication,
                None,
            )
        })
        .map(|(case, _)| case)
        .collect();
    measures_of(store, org_id, false, &[org_id], Some(&consented), from, until).await
}

async fn measures_of(
    store: &DynStore,
    viewer_org: i64,
    coalition: bool,
    orgs: &[i64],
    only: Option<&BTreeSet<i64>>,
    from: Date,
    until: Date,
) -> Result<Measures, AppError> {
    let cals = vigia_store::calendars(&**store).await?;
    let today = crate::today();
    let facilities: HashMap<i64, String> =
        store.list_facilities().await?.into_iter().map(|f| (f.id, f.draft.name)).collect();
    // Per row: the viewer's organization's counts, then everyone else's. Rows are keyed by
    // the facility's id, never its name: anyone may rename a shared facility, and two
    // rows merged under one name would let a partner subtract a hidden count.
    // The others' counts are kept per organization: a cell is hidden when any one of
    // them has 1 to 10 there, not only their sum (a member's own publication gives its
    // share away, and the rest would follow from the sum).
    type Counts = ([u64; 8], BTreeMap<i64, [u64; 8]>);
    let mut by_fac: BTreeMap<(String, Option<i64>), Counts> = BTreeMap::new();
    let mut by_month: BTreeMap<String, Counts> = BTreeMap::new();
    for cf in store.cases_with_facts(Some(orgs), false).await? {
        if only.is_some_and(|ids| !ids.contains(&cf.case.id)) {
            continue;
        }
        let a = assess(&cf, &cals, today)?;
        let id = cf.case.fields.facility_id.filter(|id| facilities.contains_key(id));
        let fac = (id.and_then(|id| facilities.get(&id)).cloned().unwrap_or_else(|| "—".to_string()), id);
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
        let owner = cf.case.org_id;
        for (m, on) in hits {
            for row in
                [by_fac.entry(fac.clone()).or_default(), by_month.entry(on.strftime("%Y-%m").to_string()).or_default()]
            {
                if owner == viewer_org {
                    row.0[m] += 1;
                } else {
                    row.1.entry(owner).or_default()[m] += 1;
                }
            }
        }
    }
    let split = |rows: Vec<&Counts>| {
        let orgs: BTreeSet<i64> = rows.iter().flat_map(|r| r.1.keys().copied()).collect();
        let share = |org: i64, r: &Counts| r.1.get(&org).map_or(vec![0; 8], |c| c.to_vec());
        Split {
            own: rows.iter().map(|r| r.0.to_vec()).collect(),
            others: rows.iter().map(|r| (0..8).map(|m| r.1.values().map(|c| c[m]).sum()).collect()).collect(),
            each: orgs.iter().map(|o| rows.iter().map(|r| share(*o, r)).collect()).collect(),
        }
    };
    let (fac_rows, month_rows): (Vec<&Counts>, Vec<&Counts>) = (by_fac.values().collect(), by_month.values().collect());
    let (by_facility, by_month_table) = if coalition {
        let mut t = Table::linked(&[split(fac_rows), split(month_rows)]).into_iter();
        let fac = t.next().unwrap_or_else(|| Table::open(&[]));
        (fac, t.next().unwrap_or_else(|| Table::open(&[])))
    } else {
        let open = |rows: Vec<&Counts>| Table::open(&rows.iter().map(|r| r.0.to_vec()).collect::<Vec<_>>());
        (open(fac_rows), open(month_rows))
    };
    // Two facilities with one name are told apart by their ids.
    let mut named: HashMap<&str, usize> = HashMap::new();
    for (name, _) in by_fac.keys() {
        *named.entry(name.as_str()).or_default() += 1;
    }
    let labels = by_fac
        .keys()
        .map(|(name, id)| match id {
            Some(id) if named.get(name.as_str()).copied().unwrap_or(0) > 1 => format!("{name} (#{id})"),
            _ => name.clone(),
        })
        .collect();
    Ok(Measures {
        coalition,
        from,
        until,
        facility_ids: by_fac.keys().map(|(_, id)| *id).collect(),
        facilities: labels,
        by_facility,
        months: by_month.keys().cloned().collect(),
        by_month: by_month_table,
    })
}
