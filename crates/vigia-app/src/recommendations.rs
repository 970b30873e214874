//! UN recommendations (issue #18 part 2): importing the UHRI export, linking an
//! organization's evidence (checked to be its own or visible to it), suggesting links
//! where the rule is clear, and the follow-up since a review. Pages, API, CLI and demo
//! call these.

use std::collections::BTreeMap;

use vigia_domain::access::{AttemptFilter, Outcome};
use vigia_domain::grid::Problem;
use vigia_domain::recommendation::suggest::{self, Shows};
use vigia_domain::recommendation::{uhri, AssessmentDraft, EvidenceKind, LinkDraft};

use vigia_store::{Actor, Assessment, DynStore, RecImport, RecLink, Recommendation};

use crate::AppError;

/// Reads a UHRI export and creates or updates every recommendation in it, or stores
/// nothing and answers every cell it could not read.
pub async fn import(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    bytes: Vec<u8>,
    language: &str,
) -> Result<Result<RecImport, Vec<Problem>>, AppError> {
    let language = language.to_string();
    let read = tokio::task::spawn_blocking(move || {
        let (sheets, _) = crate::sheets::read_sheets(&bytes).map_err(|p| vec![p])?;
        uhri::read(&sheets, &language)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    match read {
        Ok(drafts) => Ok(Ok(store.import_recommendations(actor, org_id, drafts).await?)),
        Err(problems) => Ok(Err(problems)),
    }
}

/// Links a piece of evidence the organization can see: its own visit, an attempt it
/// may see (its own or shared by its coalition), a published statement, or a count of
/// its own cases.
pub async fn link(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    recommendation_id: i64,
    draft: LinkDraft,
) -> Result<RecLink, AppError> {
    let id: Option<i64> = draft.reference.parse().ok();
    let visible = match (draft.kind, id) {
        (EvidenceKind::AccessAttempt, Some(id)) => !store.attempts_by_ids(org_id, &[id]).await?.is_empty(),
        (EvidenceKind::Visit, Some(id)) => store.visit(org_id, id).await?.is_some(),
        (EvidenceKind::Statement, Some(id)) => store.statement(id).await?.is_some(),
        (EvidenceKind::CaseCount, _) => true,
        _ => false,
    };
    if !visible {
        return Err(AppError::unknown_record("reference"));
    }
    Ok(store.link_evidence(actor, org_id, recommendation_id, draft).await?)
}

/// Records an assessment resting on the organization's own links to the recommendation.
pub async fn assess(
    store: &DynStore,
    actor: &Actor,
    org_id: i64,
    recommendation_id: i64,
    draft: AssessmentDraft,
) -> Result<Assessment, AppError> {
    Ok(store.assess(actor, org_id, recommendation_id, draft).await?)
}

/// A link offered, not made: what the evidence is and why it goes with the
/// recommendation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Suggestion {
    pub kind: EvidenceKind,
    pub reference: String,
    /// `children_detained`, `overcrowding`, `held_beyond_limit`, `access_refused`.
    pub shows: &'static str,
    /// The evidence's date, for the reader.
    pub on: String,
    pub facility: Option<String>,
}

fn shows_code(s: Shows) -> &'static str {
    match s {
        Shows::ChildrenDetained => "children_detained",
        Shows::Overcrowding => "overcrowding",
        Shows::HeldBeyondLimit => "held_beyond_limit",
        Shows::AccessRefused => "access_refused",
    }
}

/// How many refused attempts are offered at most (the most recent).
const SUGGESTED_REFUSALS: usize = 5;

/// The organization's evidence that goes with a recommendation by a clear rule, and is
/// not linked yet: visits whose flags match its themes, recent refusals for those about
/// access, its case counts (for the roles that see cases).
pub async fn suggestions(
    store: &DynStore,
    org_id: i64,
    with_cases: bool,
    rec: &Recommendation,
) -> Result<Vec<Suggestion>, AppError> {
    use vigia_domain::visit::Flag;
    let linked: Vec<(EvidenceKind, String)> =
        store.evidence_links(org_id, Some(rec.id)).await?.into_iter().map(|l| (l.kind, l.reference)).collect();
    // Name and capacity of every facility, read once (not once per visit).
    let facilities: BTreeMap<i64, (String, Option<i64>)> =
        store.list_facilities().await?.into_iter().map(|f| (f.id, (f.draft.name, f.draft.capacity))).collect();
    let mut out = Vec::new();
    let mut push = |s: Suggestion| {
        if !linked.iter().any(|(k, r)| *k == s.kind && *r == s.reference)
            && !out.iter().any(|x: &Suggestion| x.kind == s.kind && x.reference == s.reference)
        {
            out.push(s);
        }
    };
    let all_visits = store.visits(org_id, None).await?;
    let corrected: Vec<i64> = all_visits.iter().filter_map(|v| v.draft.corrects).collect();
    for v in all_visits.iter().filter(|v| !corrected.contains(&v.id)) {
        let capacity = facilities.get(&v.draft.facility_id).and_then(|(_, c)| *c);
        let (_, flags) = vigia_domain::visit::assess(&v.draft, capacity);
        for f in flags {
            let shows = match f.flag {
                Flag::ChildrenDetained => Shows::ChildrenDetained,
                Flag::Overcrowded => Shows::Overcrowding,
                Flag::HeldBeyondLimit => Shows::HeldBeyondLimit,
                _ => continue,
            };
            if suggest::matches(&rec.draft, shows) {
                push(Suggestion {
                    kind: EvidenceKind::Visit,
                    reference: v.id.to_string(),
                    shows: shows_code(shows),
                    on: v.draft.on.to_string(),
                    facility: facilities.get(&v.draft.facility_id).map(|(n, _)| n.clone()),
                });
            }
        }
    }
    if suggest::matches(&rec.draft, Shows::AccessRefused) {
        let filter = AttemptFilter { org_id: Some(org_id), limit: 200, ..Default::default() };
        let refused = store.list_attempts(org_id, &filter).await?;
        for a in refused
            .iter()
            .filter(|a| a.draft.outcome == Outcome::Denied || a.draft.outcome.is_refusal())
            .take(SUGGESTED_REFUSALS)
        {
            push(Suggestion {
                kind: EvidenceKind::AccessAttempt,
                reference: a.id.to_string(),
                shows: shows_code(Shows::AccessRefused),
                on: vigia_domain::format_local(a.draft.attempted_at, vigia_domain::geo::LEGAL_TIME_ZONE),
                facility: facilities.get(&a.draft.facility_id).map(|(n, _)| n.clone()),
            });
        }
    }
    if with_cases {
        for (measure, shows) in
            [("children_detained", Shows::ChildrenDetained), ("held_past_limit", Shows::HeldBeyondLimit)]
        {
            if suggest::matches(&rec.draft, shows) {
                push(Suggestion {
                    kind: EvidenceKind::CaseCount,
                    reference: measure.into(),
                    shows: shows_code(shows),
                    on: String::new(),
                    facility: None,
                });
            }
        }
    }
    Ok(out)
}

/// The organization's count of cases for one measure, over all time (its own cases
/// only: within the organization nothing is hidden).
pub async fn case_count(store: &DynStore, org_id: i64, measure: &str) -> Result<Option<u64>, AppError> {
    let Some(i) = crate::cases::MEASURES.iter().position(|m| *m == measure) else { return Ok(None) };
    let m = crate::cases::measures(store, org_id, false, jiff::civil::date(2000, 1, 1), crate::today()).await?;
    Ok(match m.by_facility.col_totals.get(i) {
        Some(vigia_domain::disclosure::Cell::Shown(n)) => Some(*n),
        _ => None,
    })
}

/// What changed since a date for one recommendation: the organization's assessments
/// and links made since.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FollowUp {
    pub recommendation: Recommendation,
    pub assessments: Vec<Assessment>,
    pub links: Vec<RecLink>,
    /// The latest assessment before the date, to compare with.
    pub before: Option<Assessment>,
}

/// The last review of Mexico by a treaty body (a committee): the newest publication
/// date, not after today, among the committees' recommendations concerning Mexico (a
/// starting point for the follow-up; a date in the future is nobody's review).
pub fn last_review(recs: &[Recommendation]) -> Option<jiff::civil::Date> {
    let today = crate::today();
    recs.iter()
        .filter(|r| r.draft.body.contains("Committee") || r.draft.body.contains("Comité"))
        .filter(|r| r.draft.countries.is_empty() || r.draft.countries.iter().any(|c| c == "Mexico" || c == "México"))
        .filter_map(|r| r.draft.published_on)
        .filter(|d| *d <= today)
        .max()
}

/// Every recommendation with an assessment or link of the organization since `since`.
pub async fn follow_up(store: &DynStore, org_id: i64, since: jiff::civil::Date) -> Result<Vec<FollowUp>, AppError> {
    let recs = store.recommendations().await?;
    let assessments = store.assessments(org_id, None).await?;
    let links = store.evidence_links(org_id, None).await?;
    let since_micros = since
        .to_datetime(jiff::civil::Time::midnight())
        .in_tz(vigia_domain::geo::LEGAL_TIME_ZONE)
        .map_err(|e| AppError::Internal(e.to_string()))?
        .timestamp()
        .as_microsecond();
    let mut out = Vec::new();
    for r in recs {
        let a_since: Vec<Assessment> = assessments
            .iter()
            .filter(|a| a.recommendation_id == r.id && a.draft.assessed_on >= since)
            .cloned()
            .collect();
        let l_since: Vec<RecLink> =
            links.iter().filter(|l| l.recommendation_id == r.id && l.created_at >= since_micros).cloned().collect();
        if a_since.is_empty() && l_since.is_empty() {
            continue;
        }
        let before = assessments
            .iter()
            .filter(|a| a.recommendation_id == r.id && a.draft.assessed_on < since)
            .max_by_key(|a| (a.draft.assessed_on, a.id))
            .cloned();
        out.push(FollowUp { recommendation: r, assessments: a_since, links: l_since, before });
    }
    Ok(out)
}

/// The organization's current assessment of a recommendation: the latest by date.
pub fn current(assessments: &[Assessment], recommendation_id: i64) -> Option<&Assessment> {
    assessments.iter().filter(|a| a.recommendation_id == recommendation_id).max_by_key(|a| (a.draft.assessed_on, a.id))
}
