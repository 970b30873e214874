//! Publications (issue #17 part 2): the public aggregates of one organization for one
//! whole year, frozen when proposed. What goes public, and why it is safe:
//! - **access**: the organization's own attempts and refusals per place and per month —
//!   its own actions, not people;
//! - **conditions**: per place, how many of its visits there were, the highest occupancy
//!   seen and how many visits raised each flag — counts of visits, not of people;
//! - **cases**: people per measure per place and per month, every count from 1 to 10
//!   hidden with its complements, the two tables linked (`disclosure::Table::linked`);
//! - **statements**: conflicts and reversals between official statements, which are
//!   public already (words-against-practice findings also read partners' refusals and
//!   stay inside).
//!
//! With `Detail::State` places are states: no centre is named in any figure.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use vigia_domain::access::{day_number, TallyFilter};
use vigia_domain::disclosure::{Cell, Split, Table};
use vigia_domain::publication::{Detail, PublicationDraft, Section};
use vigia_domain::statement::Rule;
use vigia_domain::suspension::Settings;
use vigia_store::{Actor, DynStore, Publication};

use crate::analysis::Mirror;
use crate::findings::FoundCache;
use crate::AppError;

/// What the public site is written from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicContent {
    pub organization: String,
    pub year: i16,
    pub detail: Detail,
    pub sections: Vec<Section>,
    /// Counts from 1 up to this are never shown.
    pub suppressed_below: u64,
    pub places: Vec<Place>,
    pub access: Option<PublicAccess>,
    pub conditions: Option<Vec<PlaceConditions>>,
    pub cases: Option<PublicCases>,
    pub statements: Option<Vec<PublicContradiction>>,
}

/// A centre, or a state when the detail is by state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// `f12` for a facility, `s07` for a state: the page's and the CSV's key.
    pub key: String,
    pub name: String,
    pub state_code: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicAccess {
    /// Per place, in the order of `places`: (attempts, refusals).
    pub by_place: Vec<(i64, i64)>,
    /// `YYYY-MM`, attempts, refusals.
    pub by_month: Vec<(String, i64, i64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceConditions {
    pub visits: usize,
    /// The highest occupancy seen, as a band only: an exact percentage times a published
    /// capacity would give the number of people held that day.
    pub highest_occupancy: Option<OccupancyBand>,
    /// Flag code → how many visits raised it.
    pub visits_flagged: BTreeMap<String, usize>,
}

/// How full a place was seen: at most its capacity, above it, or more than half again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OccupancyBand {
    WithinCapacity,
    OverCapacity,
    FarOverCapacity,
}

impl OccupancyBand {
    pub fn of(occupancy: f64) -> OccupancyBand {
        if occupancy > 1.5 {
            OccupancyBand::FarOverCapacity
        } else if occupancy > 1.0 {
            OccupancyBand::OverCapacity
        } else {
            OccupancyBand::WithinCapacity
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OccupancyBand::WithinCapacity => "within_capacity",
            OccupancyBand::OverCapacity => "over_capacity",
            OccupancyBand::FarOverCapacity => "far_over_capacity",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicCases {
    pub measures: Vec<String>,
    /// Per place (in the order of `places`), per measure; `null` is hidden.
    pub by_place: Vec<Vec<Cell>>,
    pub place_totals: Vec<Cell>,
    pub measure_totals: Vec<Cell>,
    pub total: Cell,
    pub months: Vec<String>,
    pub by_month: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicContradiction {
    pub rule: String,
    pub gap: Option<String>,
    pub quotes: Vec<PublicQuote>,
}

/// An official statement as published: who, when, the words, where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicQuote {
    pub authority: String,
    pub speaker: Option<String>,
    pub published: String,
    pub text: String,
    pub source: Option<String>,
}

fn place_of(f: &vigia_domain::facility::Facility, detail: Detail) -> Place {
    match detail {
        Detail::Facility => Place {
            key: format!("f{}", f.id),
            name: f.draft.name.clone(),
            state_code: f.draft.state_code.clone(),
            lat: f.draft.latitude,
            lon: f.draft.longitude,
        },
        Detail::State => Place {
            key: format!("s{}", f.draft.state_code),
            name: vigia_domain::geo::state(&f.draft.state_code)
                .map_or_else(|| f.draft.state_code.clone(), |s| s.name.to_string()),
            state_code: f.draft.state_code.clone(),
            lat: None,
            lon: None,
        },
    }
}

/// Freezes the organization's public aggregates for the draft's year.
pub async fn content(
    store: &DynStore,
    mirror: &Mirror,
    found: &FoundCache,
    org_id: i64,
    draft: &PublicationDraft,
) -> Result<PublicContent, AppError> {
    let org = store.list_orgs().await?.into_iter().find(|o| o.id == org_id).map(|o| o.name).unwrap_or_default();
    let from = jiff::civil::date(draft.year, 1, 1);
    let until = jiff::civil::date(draft.year, 12, 31);
    let facilities = store.list_facilities().await?;
    // Every place of the registry, in a fixed order: a place with nothing to show shows
    // zeros, so whether a row exists tells nothing.
    let mut places: Vec<Place> = Vec::new();
    let mut place_of_facility: HashMap<i64, usize> = HashMap::new();
    for f in &facilities {
        let p = place_of(f, draft.detail);
        let i = match places.iter().position(|x| x.key == p.key) {
            Some(i) => i,
            None => {
                places.push(p);
                places.len() - 1
            }
        };
        place_of_facility.insert(f.id, i);
    }
    let mut order: Vec<usize> = (0..places.len()).collect();
    order.sort_by(|a, b| places[*a].name.cmp(&places[*b].name).then(places[*a].key.cmp(&places[*b].key)));
    let rank: HashMap<usize, usize> = order.iter().enumerate().map(|(new, old)| (*old, new)).collect();
    let places: Vec<Place> = order.iter().map(|i| places[*i].clone()).collect();
    let place_of_facility: HashMap<i64, usize> = place_of_facility.into_iter().map(|(f, i)| (f, rank[&i])).collect();
    let has = |s: Section| draft.sections.contains(&s);
    let access = if has(Section::Access) {
        Some(access(store, mirror, org_id, from, until, &place_of_facility, places.len()).await?)
    } else {
        None
    };
    let conditions = if has(Section::Conditions) {
        Some(conditions(store, org_id, from, until, &facilities, &place_of_facility, places.len()).await?)
    } else {
        None
    };
    let cases = if has(Section::Cases) {
        Some(cases(store, org_id, from, until, &facilities, &place_of_facility, places.len()).await?)
    } else {
        None
    };
    let statements = if has(Section::Statements) {
        Some(statements(store, mirror, found, org_id, from, until).await?)
    } else {
        None
    };
    Ok(PublicContent {
        organization: org,
        year: draft.year,
        detail: draft.detail,
        sections: draft.sections.clone(),
        suppressed_below: vigia_domain::disclosure::MIN_SHOWN,
        places,
        access,
        conditions,
        cases,
        statements,
    })
}

async fn access(
    store: &DynStore,
    mirror: &Mirror,
    org_id: i64,
    from: Date,
    until: Date,
    place_of: &HashMap<i64, usize>,
    n: usize,
) -> Result<PublicAccess, AppError> {
    let filter = TallyFilter {
        org_id: Some(org_id),
        from_day: Some(day_number(from)),
        until_day: Some(day_number(until) + 1),
        ..Default::default()
    };
    let (cells, _) = mirror.answer(store, org_id, &Settings::default(), &[filter], None).await?;
    let mut by_place = vec![(0i64, 0i64); n];
    let mut by_month: BTreeMap<i32, (i64, i64)> =
        (1..=12).map(|m| (i32::from(from.year()) * 100 + m, (0, 0))).collect();
    for c in cells.iter().flat_map(|t| t.cells.iter()) {
        if let Some(i) = place_of.get(&c.facility_id) {
            by_place[*i].0 += c.attempts;
            by_place[*i].1 += c.refusals;
        }
        let m = by_month.entry(c.month).or_default();
        m.0 += c.attempts;
        m.1 += c.refusals;
    }
    Ok(PublicAccess {
        by_place,
        by_month: by_month.into_iter().map(|(m, (a, r))| (format!("{:04}-{:02}", m / 100, m % 100), a, r)).collect(),
    })
}

async fn conditions(
    store: &DynStore,
    org_id: i64,
    from: Date,
    until: Date,
    facilities: &[vigia_domain::facility::Facility],
    place_of: &HashMap<i64, usize>,
    n: usize,
) -> Result<Vec<PlaceConditions>, AppError> {
    let all = store.visits(org_id, None).await?;
    let corrected: BTreeSet<i64> = all.iter().filter_map(|v| v.draft.corrects).collect();
    let mut out = vec![PlaceConditions { visits: 0, highest_occupancy: None, visits_flagged: BTreeMap::new() }; n];
    for v in all.iter().filter(|v| !corrected.contains(&v.id) && v.draft.on >= from && v.draft.on <= until) {
        let Some(i) = place_of.get(&v.draft.facility_id) else { continue };
        let capacity = facilities.iter().find(|f| f.id == v.draft.facility_id).and_then(|f| f.draft.capacity);
        let (ind, flags) = vigia_domain::visit::assess(&v.draft, capacity);
        let p = &mut out[*i];
        p.visits += 1;
        if let Some(o) = ind.occupancy {
            let band = OccupancyBand::of(o);
            p.highest_occupancy = Some(p.highest_occupancy.map_or(band, |x| x.max(band)));
        }
        let raised: BTreeSet<&str> = flags.iter().map(|f| f.flag.as_str()).collect();
        for flag in raised {
            *p.visits_flagged.entry(flag.to_string()).or_default() += 1;
        }
    }
    Ok(out)
}

async fn cases(
    store: &DynStore,
    org_id: i64,
    from: Date,
    until: Date,
    facilities: &[vigia_domain::facility::Facility],
    place_of: &HashMap<i64, usize>,
    n: usize,
) -> Result<PublicCases, AppError> {
    let m = crate::cases::published_measures(store, org_id, from, until).await?;
    let measures = crate::cases::MEASURES.len();
    let value = |c: &Cell| c.shown().unwrap_or(0);
    // People per place: the organization's rows, added up by place; cases with no
    // facility recorded count in the totals only through their months.
    let mut by_place = vec![vec![0u64; measures]; n];
    let known: BTreeSet<i64> = facilities.iter().map(|f| f.id).collect();
    let mut unplaced = vec![0u64; measures];
    for (row, id) in m.by_facility.cells.iter().zip(&m.facility_ids) {
        match id.filter(|id| known.contains(id)).and_then(|id| place_of.get(&id)) {
            Some(i) => {
                for (k, c) in row.iter().enumerate() {
                    by_place[*i][k] += value(c);
                }
            }
            None => {
                for (k, c) in row.iter().enumerate() {
                    unplaced[k] += value(c);
                }
            }
        }
    }
    // Cases with no centre recorded: a row of their own, always there (so that it exists
    // tells nothing), and so the two tables' totals agree.
    by_place.push(unplaced);
    // Every month of the year, with or without people: a row that exists only when
    // someone was counted would say when.
    let months: Vec<String> = (1..=12).map(|k| format!("{:04}-{k:02}", from.year())).collect();
    let by_month: Vec<Vec<u64>> = months
        .iter()
        .map(|label| match m.months.iter().position(|x| x == label) {
            Some(i) => {
                m.by_month.cells.get(i).map(|r| r.iter().map(value).collect()).unwrap_or_else(|| vec![0; measures])
            }
            None => vec![0; measures],
        })
        .collect();
    // The public is "everyone else": every count is others', none is the viewer's.
    let mut tables = Table::linked(&[
        Split { own: Vec::new(), others: by_place.clone(), each: Vec::new() },
        Split { own: Vec::new(), others: by_month, each: Vec::new() },
    ])
    .into_iter();
    let places = tables.next().unwrap_or_else(|| Table::protected(&by_place));
    let months_t = tables.next().unwrap_or_else(|| Table::protected(&[]));
    Ok(PublicCases {
        measures: crate::cases::MEASURES.iter().map(|s| s.to_string()).collect(),
        by_place: places.cells.clone(),
        place_totals: places.row_totals.clone(),
        measure_totals: places.col_totals.clone(),
        total: places.total,
        months,
        by_month: months_t.cells,
    })
}

async fn statements(
    store: &DynStore,
    mirror: &Mirror,
    found: &FoundCache,
    org_id: i64,
    from: Date,
    until: Date,
) -> Result<Vec<PublicContradiction>, AppError> {
    let q = crate::reports::PeriodQuery { coalition: false, from, until, facility_id: None };
    let part = crate::reports::statements_part(store, mirror, found, org_id, &q).await?;
    Ok(part
        .contradictions
        .into_iter()
        .filter(|c| c.rule != Rule::WordsAgainstPractice.as_str())
        .map(|c| PublicContradiction {
            rule: c.rule.to_string(),
            gap: c.gap,
            quotes: c
                .quotes
                .into_iter()
                .map(|q| PublicQuote {
                    authority: q.authority,
                    speaker: q.speaker,
                    published: q.published,
                    text: q.text,
                    source: q.source_url,
                })
                .collect(),
        })
        .collect())
}

/// Freezes the aggregates and records the proposal.
pub async fn propose(
    store: &DynStore,
    mirror: &Mirror,
    found: &FoundCache,
    actor: &Actor,
    org_id: i64,
    draft: PublicationDraft,
) -> Result<Publication, AppError> {
    let c = content(store, mirror, found, org_id, &draft).await?;
    let json = serde_json::to_string(&c).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(store.propose_publication(actor, org_id, draft, json).await?)
}

/// The frozen content of a publication.
pub fn read(p: &Publication) -> Result<PublicContent, AppError> {
    serde_json::from_str(&p.content).map_err(|e| AppError::Internal(format!("publication {}: {e}", p.id)))
}
