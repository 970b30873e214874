//! Contradictions found among statements and practice, as each organization may see
//! them: the statements everyone reads, the refusals the viewer may see (from the
//! analysis copy), what the domain's rules detect (`vigia_domain::statement::detect`),
//! the attempts each finding cites, and every organization's review of it. Kept per
//! viewer until the data change. Read by the statements pages, the timeline and the
//! coordinator's overview.

use std::collections::{BTreeMap, HashMap};

use vigia_domain::statement::{self, Detection, Review, Statement};
use vigia_store::{DynStore, Result};

use crate::analysis::Mirror;

/// What contradictions are found from: every statement, the refusals the viewer may
/// see (as daily counts, from the analysis copy: the cost follows days, not attempts,
/// security review finding 19), and what the domain detects among them.
pub struct Evidence {
    pub statements: std::sync::Arc<Vec<Statement>>,
    pub found: Vec<Detection>,
}

pub async fn evidence(store: &DynStore, mirror: &Mirror, viewer_org: i64) -> Result<Evidence> {
    evidence_among(store, mirror, viewer_org, std::sync::Arc::new(store.statements().await?)).await
}

/// [`evidence`] among statements already read.
async fn evidence_among(
    store: &DynStore,
    mirror: &Mirror,
    viewer_org: i64,
    statements: std::sync::Arc<Vec<Statement>>,
) -> Result<Evidence> {
    let facilities = store.list_facilities().await?;
    let states: BTreeMap<i64, String> = facilities.iter().map(|f| (f.id, f.draft.state_code.clone())).collect();
    let refusals = mirror.refusal_days(store, viewer_org).await?;
    let facts: Vec<_> = statements.iter().map(Statement::facts).collect();
    let found = statement::detect(&facts, &refusals, &states);
    Ok(Evidence { statements, found })
}

/// What organizations said of each detection (security review finding 12): every
/// organization keeps its own review. The viewer's organization reads its own with the
/// reason; another organization's review shows who, the verdict and when — its reason
/// is that organization's working note.
pub struct Reviews {
    viewer_org: i64,
    by_key: HashMap<String, Vec<Review>>,
    org_names: HashMap<i64, String>,
    /// Organizations sharing a coalition with the viewer's.
    partners: std::collections::HashSet<i64>,
}

impl Reviews {
    pub fn own(&self, key: &str) -> Option<&Review> {
        self.by_key.get(key)?.iter().find(|r| r.org_id == self.viewer_org)
    }

    /// Other organizations' reviews the viewer may know of. Conflicts and reversals
    /// come from statements alone, which everyone reads; words against practice also
    /// from refusals, so another organization's review of one would tell that it saw
    /// refusals there: only coalition partners' are shown.
    pub fn others(&self, key: &str) -> impl Iterator<Item = (&str, &Review)> {
        let from_refusals = key.starts_with(statement::Rule::WordsAgainstPractice.as_str());
        self.by_key
            .get(key)
            .into_iter()
            .flatten()
            .filter(move |r| r.org_id != self.viewer_org && (!from_refusals || self.partners.contains(&r.org_id)))
            .map(|r| {
                let name = self.org_names.get(&r.org_id).map(String::as_str).unwrap_or_default();
                (name, r)
            })
    }
}

/// How many refused attempts a words-against-practice detection cites by id.
const CITED: usize = 20;

/// The first refused attempts a words-against-practice detection cites (at most
/// [`CITED`], earliest first): those of its earliest facility-days, read in one indexed
/// range of days however many attempts the claim's whole period holds.
async fn cited_attempts(store: &DynStore, viewer_org: i64, d: &Detection) -> Result<Vec<i64>> {
    use vigia_domain::access::day_number;
    let first = d.days.earliest(CITED);
    let (Some((_, start)), Some((_, end))) = (first.first(), first.last()) else { return Ok(Vec::new()) };
    let wanted: std::collections::HashSet<(i64, i32)> = first.iter().map(|(f, day)| (*f, day_number(*day))).collect();
    let refused = store.refused_attempts(viewer_org, day_number(*start), day_number(*end) + 1).await?;
    Ok(refused
        .into_iter()
        .filter(|(_, f, day)| wanted.contains(&(*f, *day)))
        .map(|(id, _, _)| id)
        .take(CITED)
        .collect())
}

/// A detection with the refused attempts it cites by id.
pub struct Found {
    pub d: Detection,
    pub cited: Vec<i64>,
}

/// Contradictions found for each viewer, kept until the data change (security review
/// finding 19): the rule runs once after a write, not once per request.
pub struct FoundCache {
    by_viewer: crate::kept::Kept<i64, Detections>,
    statements: crate::kept::Kept<(), Vec<Statement>>,
}

impl Default for FoundCache {
    fn default() -> Self {
        FoundCache { by_viewer: crate::kept::Kept::new(256), statements: crate::kept::Kept::new(1) }
    }
}

/// Every detection with the attempts it cites, the statements, and the reviews.
pub struct Detections {
    pub found: Vec<Found>,
    /// Every statement: one copy shared by every viewer's detections of a version.
    pub statements: std::sync::Arc<Vec<Statement>>,
    pub reviews: Reviews,
}

/// The viewer's detections as of the data's current version. Each viewer's answer has
/// its own lock: clients of one organization arriving together after a write wait for
/// one computation, and other organizations do not wait for it.
pub async fn detections(
    store: &DynStore,
    mirror: &Mirror,
    cache: &FoundCache,
    viewer_org: i64,
) -> Result<std::sync::Arc<Detections>> {
    cache.by_viewer.get(store, viewer_org, || compute_detections(store, mirror, cache, viewer_org)).await
}

/// How many findings the viewer's organization has not reviewed yet (confirmed or
/// dismissed): what the coordinator's overview asks to look at.
pub async fn unreviewed(store: &DynStore, mirror: &Mirror, cache: &FoundCache, viewer_org: i64) -> Result<usize> {
    let d = detections(store, mirror, cache, viewer_org).await?;
    Ok(d.found.iter().filter(|f| d.reviews.own(&f.d.key).is_none()).count())
}

async fn compute_detections(
    store: &DynStore,
    mirror: &Mirror,
    cache: &FoundCache,
    viewer_org: i64,
) -> Result<Detections> {
    // Statements are a public record: every viewer's detections share one copy (a
    // hundred thousand statements held once per organization were most of the memory
    // a large dataset's server kept).
    let statements = cache.statements.get(store, (), || async { store.statements().await }).await?;
    let e = evidence_among(store, mirror, viewer_org, statements).await?;
    let mut found = Vec::with_capacity(e.found.len());
    for d in e.found {
        let cited = cited_attempts(store, viewer_org, &d).await?;
        found.push(Found { d, cited });
    }
    let mut by_key: HashMap<String, Vec<Review>> = HashMap::new();
    for r in store.detection_reviews().await? {
        by_key.entry(r.key.clone()).or_default().push(r);
    }
    let org_names = store.list_orgs().await?.into_iter().map(|o| (o.id, o.name)).collect();
    let partners = store
        .list_coalitions()
        .await?
        .into_iter()
        .filter(|c| c.members.contains(&viewer_org))
        .flat_map(|c| c.members)
        .collect();
    let reviews = Reviews { viewer_org, by_key, org_names, partners };
    Ok(Detections { found, statements: e.statements, reviews })
}
