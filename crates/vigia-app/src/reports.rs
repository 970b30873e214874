//! Reports (issue #17): the figures of a period report — for the viewer's organization
//! or its coalition — or of one facility's dossier, gathered once from what the viewer
//! may see, in no language. The web page, its PDF, the JSON API and `vigia report` all
//! draw from one [`PeriodReport`], so they cannot disagree; its SHA-256 (over the JSON
//! below) is printed on every page as the content's fingerprint.
//!
//! What each part holds and where it comes from:
//! - **access**: attempts and refusals by facility and month, from the analysis copy
//!   (`analysis::Mirror`), with the suspected general suspensions that overlap the
//!   period (the rule in `vigia_domain::suspension`).
//! - **statements**: statements published in the period, and the contradictions the
//!   rules find (`findings`), each with the words quoted as recorded.
//! - **visits**: the organization's own visits in the period (visits are never shared),
//!   with the indicators and flags of `vigia_domain::visit::assess` and their legal basis.
//! - **cases**: people per measure (`cases::measures`), never a name; in a coalition
//!   other organizations' counts 1–10 are hidden, and a coalition covers whole calendar
//!   years only. A coalition dossier shows its facility's row of the whole coalition
//!   table, not a table of its own, so no hidden cell follows from subtracting one
//!   dossier from the report.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;
use serde::Serialize;
use sha2::{Digest, Sha256};
use vigia_domain::access::{day_number, TallyFilter};
use vigia_domain::disclosure::{Cell, Table};
use vigia_domain::statement::{Rule, Scope};
use vigia_domain::suspension::{Certainty, Settings};
use vigia_store::DynStore;

use crate::analysis::Mirror;
use crate::findings::FoundCache;
use crate::AppError;

/// What a report is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodQuery {
    pub coalition: bool,
    pub from: Date,
    pub until: Date,
    /// A facility dossier when set.
    pub facility_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodReport {
    /// `organization` or `coalition`.
    pub scope: &'static str,
    pub organization: String,
    /// The coalition's other members, by name (coalition scope).
    pub partners: Vec<String>,
    pub from: Date,
    pub until: Date,
    pub facility: Option<FacilityRef>,
    pub access: AccessPart,
    pub statements: StatementsPart,
    pub visits: VisitsPart,
    pub cases: CasesPart,
    /// The government's own figures for the period, when any are imported (issue #18).
    pub official: OfficialPart,
    /// The organization's assessments of UN recommendations as of the period's end,
    /// when it has any (issue #18).
    pub recommendations: Vec<RecLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FacilityRef {
    pub id: i64,
    pub name: String,
    pub state_code: String,
    pub capacity: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AccessPart {
    pub attempts: i64,
    pub refusals: i64,
    pub by_facility: Vec<AccessRow>,
    pub by_month: Vec<AccessRow>,
    pub suspensions: Vec<Suspension>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccessRow {
    /// The facility's name, or the month as `YYYY-MM`.
    pub label: String,
    pub attempts: i64,
    pub refusals: i64,
}

/// A suspected general suspension of access overlapping the period.
#[derive(Debug, Clone, Serialize)]
pub struct Suspension {
    pub start: Date,
    pub end: Date,
    pub facilities: Vec<String>,
    pub organizations: usize,
    pub attempts: usize,
    pub refusals: usize,
    pub certainty: Certainty,
    /// "If nothing had changed, a pattern like this would appear once in `one_in` periods."
    pub one_in: u64,
    pub scale_days: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StatementsPart {
    /// Statements published in the period (about the facility, for a dossier).
    pub published: usize,
    pub contradictions: Vec<Contradiction>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contradiction {
    /// `conflict`, `reversal` or `words_against_practice`.
    pub rule: &'static str,
    pub quotes: Vec<Quote>,
    /// Words against practice: refused attempts in the claim's scope and period, and
    /// how many organizations were refused.
    pub refusals: usize,
    pub organizations: usize,
    pub first_day: Option<Date>,
    pub last_day: Option<Date>,
    /// Between the two statements, in words ("3 h 40 min").
    pub gap: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quote {
    pub statement_id: i64,
    pub authority: String,
    pub speaker: Option<String>,
    /// Local date and time of publication (Mexico City).
    pub published: String,
    pub text: String,
    pub source_url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VisitsPart {
    pub visits: Vec<VisitLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VisitLine {
    pub id: i64,
    pub on: Date,
    pub facility: String,
    pub people: Option<i64>,
    pub capacity: Option<i64>,
    /// People held per place, in per cent (180 = 1.8 people per place).
    pub occupancy_pct: Option<u32>,
    pub children: i64,
    pub held_beyond_limit: i64,
    /// Findings of the gravest severity (4).
    pub grave_findings: usize,
    pub flags: Vec<Flagged>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Flagged {
    pub flag: &'static str,
    pub detail: String,
    pub basis_es: &'static str,
    pub basis_en: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct CasesPart {
    pub measures: Vec<&'static str>,
    /// Facility name, counts per measure, and the row's total; `null` is hidden.
    pub by_facility: Vec<CaseRow>,
    pub totals: Vec<Cell>,
    pub total: Cell,
    /// Counts from 1 up to this are hidden (coalition scope).
    pub suppressed_below: Option<u64>,
    /// Partners left out of a coalition's counts because theirs for the year are public.
    pub published_partners: Vec<String>,
}

/// The official totals of the period, month by month: events, not people.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OfficialPart {
    /// Always "events": one person can be several events.
    pub unit: &'static str,
    /// The tables read ("3.2.1", "3.1.1"), with the publisher of their latest version.
    pub sources: Vec<String>,
    pub months: Vec<OfficialMonth>,
    /// Some figure is one of the demo's invented values.
    pub illustrative: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OfficialMonth {
    pub month: String,
    pub presented: Option<i64>,
    pub returned: Option<i64>,
}

/// A recommendation the organization assessed, as of the period's end.
#[derive(Debug, Clone, Serialize)]
pub struct RecLine {
    pub symbol: String,
    pub paragraph: String,
    pub body: String,
    pub summary: bool,
    pub status: &'static str,
    pub assessed_on: Date,
    pub evidence: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    pub label: String,
    pub counts: Vec<Cell>,
    pub total: Cell,
}

impl PeriodReport {
    /// SHA-256 of the report's JSON: the same figures give the same hash in either
    /// language, on the page and in the PDF.
    pub fn content_hash(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&json))
    }
}

/// Gathers a report for `viewer_org`.
pub async fn period(
    store: &DynStore,
    mirror: &Mirror,
    found: &FoundCache,
    viewer_org: i64,
    q: &PeriodQuery,
) -> Result<PeriodReport, AppError> {
    let orgs: HashMap<i64, String> = store.list_orgs().await?.into_iter().map(|o| (o.id, o.name)).collect();
    let facilities = store.list_facilities().await?;
    let names: HashMap<i64, String> = facilities.iter().map(|f| (f.id, f.draft.name.clone())).collect();
    let facility = match q.facility_id {
        None => None,
        Some(id) => {
            let f = facilities.iter().find(|f| f.id == id).ok_or_else(|| {
                let mut e = vigia_domain::ValidationErrors::new();
                e.push(vigia_domain::FieldError::new("facility_id", "unknown_facility"));
                AppError::Invalid(e)
            })?;
            Some(FacilityRef {
                id,
                name: f.draft.name.clone(),
                state_code: f.draft.state_code.clone(),
                capacity: f.draft.capacity,
            })
        }
    };
    let mut partners: BTreeSet<String> = BTreeSet::new();
    if q.coalition {
        for c in store.list_coalitions().await? {
            if c.members.contains(&viewer_org) {
                partners.extend(c.members.iter().filter(|m| **m != viewer_org).filter_map(|m| orgs.get(m).cloned()));
            }
        }
    }
    let states: BTreeMap<i64, String> = facilities.iter().map(|f| (f.id, f.draft.state_code.clone())).collect();
    Ok(PeriodReport {
        scope: if q.coalition { "coalition" } else { "organization" },
        organization: orgs.get(&viewer_org).cloned().unwrap_or_default(),
        partners: partners.into_iter().collect(),
        from: q.from,
        until: q.until,
        access: access(store, mirror, viewer_org, q, &names).await?,
        statements: statements(store, mirror, found, viewer_org, q, &states).await?,
        visits: visits(store, viewer_org, q, &facilities).await?,
        cases: cases(store, viewer_org, q, facility.as_ref()).await?,
        official: official(store, q).await?,
        recommendations: recommendations(store, viewer_org, q).await?,
        facility,
    })
}

/// The national totals of returned and presented events for the months of the period
/// (a facility's dossier gets them too: the bulletin has no figures per centre).
async fn official(store: &DynStore, q: &PeriodQuery) -> Result<OfficialPart, AppError> {
    use vigia_domain::statistics::{Dimension, Measure, YearMonth};
    let mut part = OfficialPart { unit: "events", ..Default::default() };
    let (Some(from), Some(until)) =
        (YearMonth::new(q.from.year(), q.from.month() as u8), YearMonth::new(q.until.year(), q.until.month() as u8))
    else {
        return Ok(part);
    };
    let mut series = Vec::new();
    for measure in [Measure::Presented, Measure::Returned] {
        let s = crate::statistics::series(store, None, measure, Dimension::Nationality, "total").await?;
        part.illustrative |= s.illustrative;
        if let (Some(t), Some(v)) = (&s.table, s.versions.last()) {
            part.sources.push(format!("{t} · {}", v.provenance.publisher));
        }
        series.push(s.months());
    }
    let value = |i: usize, ym: YearMonth| series[i].iter().find(|(m, _)| *m == ym).and_then(|(_, v)| *v);
    for i in from.index()..=until.index() {
        let ym = YearMonth::from_index(i);
        let (presented, returned) = (value(0, ym), value(1, ym));
        if presented.is_some() || returned.is_some() {
            part.months.push(OfficialMonth { month: ym.label(), presented, returned });
        }
    }
    Ok(part)
}

/// The organization's current assessment of each recommendation as of the period's end.
async fn recommendations(store: &DynStore, viewer_org: i64, q: &PeriodQuery) -> Result<Vec<RecLine>, AppError> {
    let assessments: Vec<vigia_store::Assessment> =
        store.assessments(viewer_org, None).await?.into_iter().filter(|a| a.draft.assessed_on <= q.until).collect();
    if assessments.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for r in store.recommendations().await? {
        if let Some(a) = crate::recommendations::current(&assessments, r.id) {
            out.push(RecLine {
                symbol: r.draft.symbol.clone(),
                paragraph: r.draft.paragraph.clone(),
                body: r.draft.body.clone(),
                summary: r.draft.summary,
                status: a.draft.status.as_str(),
                assessed_on: a.draft.assessed_on,
                evidence: a.draft.evidence.len(),
            });
        }
    }
    Ok(out)
}

/// The access part of a report alone (the side-by-side view of official statistics
/// needs only it, for any run of months).
pub async fn access_part(
    store: &DynStore,
    mirror: &Mirror,
    viewer_org: i64,
    q: &PeriodQuery,
) -> Result<AccessPart, AppError> {
    let names: HashMap<i64, String> =
        store.list_facilities().await?.into_iter().map(|f| (f.id, f.draft.name)).collect();
    access(store, mirror, viewer_org, q, &names).await
}

async fn access(
    store: &DynStore,
    mirror: &Mirror,
    viewer_org: i64,
    q: &PeriodQuery,
    names: &HashMap<i64, String>,
) -> Result<AccessPart, AppError> {
    let filter = TallyFilter {
        facility_id: q.facility_id,
        org_id: (!q.coalition).then_some(viewer_org),
        from_day: Some(day_number(q.from)),
        until_day: Some(day_number(q.until) + 1),
        ..Default::default()
    };
    let (cells, episodes) = mirror.answer(store, viewer_org, &Settings::default(), &[filter], None).await?;
    let mut part = AccessPart::default();
    // Keyed by id (two facilities may share a name), labelled by name.
    let mut by_fac: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
    let mut by_month: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
    for c in cells.iter().flat_map(|t| t.cells.iter()) {
        part.attempts += c.attempts;
        part.refusals += c.refusals;
        let name = names.get(&c.facility_id).cloned().unwrap_or_else(|| format!("#{}", c.facility_id));
        let f = by_fac.entry((name, c.facility_id)).or_default();
        f.0 += c.attempts;
        f.1 += c.refusals;
        let m = by_month.entry(c.month).or_default();
        m.0 += c.attempts;
        m.1 += c.refusals;
    }
    let mut named: HashMap<String, usize> = HashMap::new();
    for (name, _) in by_fac.keys() {
        *named.entry(name.clone()).or_default() += 1;
    }
    part.by_facility = by_fac
        .into_iter()
        .map(|((name, id), (attempts, refusals))| AccessRow {
            label: if named.get(&name).copied().unwrap_or(0) > 1 { format!("{name} (#{id})") } else { name },
            attempts,
            refusals,
        })
        .collect();
    part.by_month = by_month
        .into_iter()
        .map(|(m, (attempts, refusals))| AccessRow {
            label: format!("{:04}-{:02}", m / 100, m % 100),
            attempts,
            refusals,
        })
        .collect();
    part.suspensions = episodes
        .iter()
        .filter(|e| e.start <= q.until && e.end >= q.from)
        .filter(|e| q.facility_id.is_none_or(|f| e.facilities.contains(&f)))
        .map(|e| Suspension {
            start: e.start,
            end: e.end,
            facilities: e.facilities.iter().map(|f| names.get(f).cloned().unwrap_or_else(|| format!("#{f}"))).collect(),
            organizations: e.orgs.len(),
            attempts: e.attempts,
            refusals: e.refusals,
            certainty: e.certainty(),
            one_in: e.one_in(),
            scale_days: e.scale_days,
        })
        .collect();
    Ok(part)
}

/// The statements part of a report for `viewer_org` (also what a publication quotes).
pub async fn statements_part(
    store: &DynStore,
    mirror: &Mirror,
    found: &FoundCache,
    viewer_org: i64,
    q: &PeriodQuery,
) -> Result<StatementsPart, AppError> {
    let states: BTreeMap<i64, String> =
        store.list_facilities().await?.into_iter().map(|f| (f.id, f.draft.state_code)).collect();
    statements(store, mirror, found, viewer_org, q, &states).await
}

/// Whether a claim's scope covers the facility.
fn covers(scope: &Scope, facility_id: i64, states: &BTreeMap<i64, String>) -> bool {
    match scope {
        Scope::All => true,
        Scope::Facilities { ids } => ids.contains(&facility_id),
        Scope::State { code } => states.get(&facility_id) == Some(code),
    }
}

async fn statements(
    store: &DynStore,
    mirror: &Mirror,
    found: &FoundCache,
    viewer_org: i64,
    q: &PeriodQuery,
    states: &BTreeMap<i64, String>,
) -> Result<StatementsPart, AppError> {
    let d = crate::findings::detections(store, mirror, found, viewer_org).await?;
    let zone = vigia_domain::geo::LEGAL_TIME_ZONE;
    let tz = jiff::tz::TimeZone::get(zone).map_err(|e| AppError::Internal(e.to_string()))?;
    let by_id: HashMap<i64, &vigia_domain::statement::Statement> = d.statements.iter().map(|s| (s.id, s)).collect();
    let day_of = |s: &vigia_domain::statement::Statement| vigia_domain::access::local_date(s.draft.published_at, &tz);
    let in_period = |day: Option<Date>| day.is_some_and(|d| d >= q.from && d <= q.until);
    let about_facility = |s: &vigia_domain::statement::Statement| {
        q.facility_id.is_none_or(|f| s.claims.iter().any(|c| covers(&c.draft.scope, f, states)))
    };
    let published = d.statements.iter().filter(|s| in_period(day_of(s)) && about_facility(s)).count();
    let mut contradictions = Vec::new();
    for f in &d.found {
        let quoted: Vec<&vigia_domain::statement::Statement> =
            f.d.statements.iter().filter_map(|id| by_id.get(id).copied()).collect();
        let relevant = match f.d.rule {
            Rule::WordsAgainstPractice => f.d.days.any_between(q.from, q.until, q.facility_id),
            Rule::Conflict | Rule::Reversal => {
                // Its own claims: about the facility, in a statement of the period.
                quoted.iter().any(|s| {
                    in_period(day_of(s))
                        && s.claims
                            .iter()
                            .filter(|c| f.d.claims.contains(&c.id))
                            .any(|c| q.facility_id.is_none_or(|fac| covers(&c.draft.scope, fac, states)))
                })
            }
        };
        if !relevant {
            continue;
        }
        // A words-against-practice finding counts the refusals of its claim's scope and
        // period, all of them (the words beside it say so).
        contradictions.push(Contradiction {
            rule: f.d.rule.as_str(),
            quotes: quoted
                .iter()
                .map(|s| Quote {
                    statement_id: s.id,
                    authority: s.draft.authority.clone(),
                    speaker: s.draft.speaker.clone(),
                    published: vigia_domain::format_local(s.draft.published_at, zone),
                    text: s.draft.text.clone(),
                    source_url: s.draft.source_url.clone(),
                })
                .collect(),
            refusals: f.d.refusals,
            organizations: f.d.organizations,
            first_day: f.d.days.first_day(),
            last_day: f.d.days.last_day(),
            gap: f.d.gap.map(vigia_domain::statement::describe_gap),
        });
    }
    Ok(StatementsPart { published, contradictions })
}

async fn visits(
    store: &DynStore,
    viewer_org: i64,
    q: &PeriodQuery,
    facilities: &[vigia_domain::facility::Facility],
) -> Result<VisitsPart, AppError> {
    // A corrected visit is replaced by its correction, which may name another facility:
    // corrections are found among all the organization's visits before filtering.
    let all = store.visits(viewer_org, None).await?;
    let corrected: BTreeSet<i64> = all.iter().filter_map(|v| v.draft.corrects).collect();
    let mut out: Vec<VisitLine> = all
        .iter()
        .filter(|v| q.facility_id.is_none_or(|f| v.draft.facility_id == f))
        .filter(|v| !corrected.contains(&v.id) && v.draft.on >= q.from && v.draft.on <= q.until)
        .map(|v| {
            let f = facilities.iter().find(|f| f.id == v.draft.facility_id);
            let capacity = f.and_then(|f| f.draft.capacity);
            let (ind, flags) = vigia_domain::visit::assess(&v.draft, capacity);
            VisitLine {
                id: v.id,
                on: v.draft.on,
                facility: f.map(|f| f.draft.name.clone()).unwrap_or_default(),
                people: v.draft.population.total,
                capacity: capacity.or(v.draft.population.capacity_posted),
                occupancy_pct: ind.occupancy.map(|o| (o * 100.0).round().clamp(0.0, f64::from(u32::MAX)) as u32),
                children: ind.children,
                held_beyond_limit: ind.held_beyond_limit,
                grave_findings: ind.findings_by_severity[3],
                flags: flags
                    .into_iter()
                    .map(|f| Flagged {
                        flag: f.flag.as_str(),
                        detail: f.detail,
                        basis_es: f.basis_es,
                        basis_en: f.basis_en,
                    })
                    .collect(),
            }
        })
        .collect();
    out.sort_by_key(|v| (v.on, v.id));
    Ok(VisitsPart { visits: out })
}

async fn cases(
    store: &DynStore,
    viewer_org: i64,
    q: &PeriodQuery,
    facility: Option<&FacilityRef>,
) -> Result<CasesPart, AppError> {
    let m = crate::cases::measures(store, viewer_org, q.coalition, q.from, q.until).await?;
    let rows = |names: &[String], t: &Table| -> Vec<CaseRow> {
        names
            .iter()
            .enumerate()
            .map(|(i, label)| CaseRow {
                label: label.clone(),
                counts: t.cells.get(i).cloned().unwrap_or_default(),
                total: t.row_totals.get(i).copied().unwrap_or(Cell::Shown(0)),
            })
            .collect()
    };
    let mut by_facility = rows(&m.facilities, &m.by_facility);
    let ids = m.facility_ids.clone();
    let zeros = vec![Cell::Shown(0); crate::cases::MEASURES.len()];
    let (mut totals, mut total) = match m.by_facility.col_totals.len() {
        0 => (zeros.clone(), Cell::Shown(0)),
        _ => (m.by_facility.col_totals.clone(), m.by_facility.total),
    };
    if let Some(f) = facility {
        // The facility's own row of the table, the same cells the whole report shows.
        // Chosen by id: the row of the whole table, however the facility is named.
        let mut i = 0;
        by_facility.retain(|_| {
            i += 1;
            ids.get(i - 1).copied().flatten() == Some(f.id)
        });
        match by_facility.first() {
            Some(r) => (totals, total) = (r.counts.clone(), r.total),
            None => (totals, total) = (zeros, Cell::Shown(0)),
        }
    }
    Ok(CasesPart {
        measures: crate::cases::MEASURES.to_vec(),
        by_facility,
        totals,
        total,
        suppressed_below: q.coalition.then_some(vigia_domain::disclosure::MIN_SHOWN),
        published_partners: published_partners(store, viewer_org, q).await?,
    })
}

/// The partners whose case counts of the year are public, by name (coalition scope).
async fn published_partners(store: &DynStore, viewer_org: i64, q: &PeriodQuery) -> Result<Vec<String>, AppError> {
    if !q.coalition {
        return Ok(Vec::new());
    }
    let published = crate::cases::published_cases(store, q.from.year()).await?;
    let partners: BTreeSet<i64> = store
        .list_coalitions()
        .await?
        .into_iter()
        .filter(|c| c.members.contains(&viewer_org))
        .flat_map(|c| c.members)
        .filter(|o| *o != viewer_org && published.contains(o))
        .collect();
    let names: HashMap<i64, String> = store.list_orgs().await?.into_iter().map(|o| (o.id, o.name)).collect();
    Ok(partners.iter().filter_map(|o| names.get(o).cloned()).collect())
}
