//! The access analysis read model: a copy of the daily access counts in memory, kept up
//! to date from the store's version, from which every tally, the suspension rule and the
//! refusals by day are computed for a viewer (only what [`vigia_domain::tenancy::may_read`]
//! lets them see). Shared by the analysis pages, the statements' words-against-practice
//! rule and the worker's episode scan.

use std::collections::{BTreeMap, HashMap};

use vigia_domain::access::{date_of_day, day_number, Purpose, TallyFilter};
use vigia_domain::suspension::{DayChange, Episode, FacilityDay, Refusers, Scan, Settings, Tally};
use vigia_store::{DynStore, TallyCell};

/// The suspected general suspensions among everything `viewer_org` may see — never
/// only the filtered part, since each facility's baseline needs its history — with
/// the refused attempts behind each when `with_ids`.
pub async fn find_episodes(
    store: &DynStore,
    mirror: &Mirror,
    viewer_org: i64,
    s: &Settings,
    with_ids: bool,
) -> vigia_store::Result<Vec<Episode>> {
    let mut episodes = mirror.episodes(store, viewer_org, s).await?.as_ref().clone();
    if with_ids {
        mirror.attach_attempt_ids(store, viewer_org, &mut episodes).await?;
    }
    Ok(episodes)
}

/// A copy of the daily access counts in memory, brought up to date on each use by
/// fetching only the cells written since its version (`Store::access_state`), and
/// fetched whole when the table was rebuilt. Every tally, the suspension rule and the
/// refusing organizations are then computed from it, so no request scans the database
/// and the first view after a write costs what the write changed. Each app server keeps
/// one, shared with the worker in its process; about 50 bytes per cell.
#[derive(Default)]
pub struct Mirror {
    state: tokio::sync::RwLock<MirrorState>,
}

/// The answer to one question: cells by facility, organization and month, and the
/// totals by week (the Monday's day number).
#[derive(Default)]
pub struct Tallies {
    pub cells: Vec<TallyCell>,
    pub weeks: BTreeMap<i32, Tally>,
}

/// Tallies as computed for one question.
pub type Cells = std::sync::Arc<Tallies>;

#[derive(Default)]
struct MirrorState {
    loaded: bool,
    version: i64,
    generation: i64,
    /// Every cell once, sorted by [`Cell::key`] (found by binary search: a hash index
    /// beside them cost more memory than the cells themselves, issue #19).
    cells: Vec<Cell>,
    /// For each organization, the organizations sharing a coalition with it.
    partners: vigia_domain::tenancy::Partners,
    /// Episodes found at this version, by (viewer, settings).
    episodes: HashMap<(i64, String), std::sync::Arc<Vec<Episode>>>,
    /// The rule's state per (viewer, settings), kept across versions and updated with
    /// what changed: a new attempt re-tests only the windows it can touch.
    scans: HashMap<(i64, String), Scan>,
    /// Tallies answered at this version, by (viewer, question).
    tallies: HashMap<(i64, String), Cells>,
    /// The refused attempts behind an episode at this version, by (viewer, first day,
    /// last day): every count they depend on (outcome, visibility, day, facility's
    /// zone, coalitions) moves the version.
    attempt_ids: HashMap<(i64, i32, i32), std::sync::Arc<Vec<i64>>>,
    /// Refusals by day, facility and organization as each viewer sees them (what the
    /// words-against-practice rule reads), kept across versions and updated with what
    /// changed.
    refusals: HashMap<i64, RefusalDays>,
}

/// One viewer's refusals by (day, facility, organization), and the same as the rule's
/// input, earliest first.
struct RefusalDays {
    counts: BTreeMap<(i32, i64, i64), u32>,
    list: std::sync::Arc<Vec<vigia_domain::statement::Refusal>>,
}

impl RefusalDays {
    fn listed(counts: BTreeMap<(i32, i64, i64), u32>) -> Self {
        let list = counts
            .iter()
            .map(|(&(day, facility_id, org_id), &count)| vigia_domain::statement::Refusal {
                org_id,
                facility_id,
                day: date_of_day(day),
                count,
            })
            .collect();
        RefusalDays { counts, list: std::sync::Arc::new(list) }
    }
}

/// One day's counts at one facility for one organization, purpose and visibility:
/// 32 bytes (a million attempts over ten years make some 435,000 of them).
#[derive(Clone, Copy)]
struct Cell {
    facility_id: i64,
    org_id: i64,
    day: i32,
    attempts: u32,
    refusals: u32,
    purpose: Purpose,
    shared: bool,
}

/// What names a cell: its place in [`MirrorState::cells`]' order.
type CellKey = (i64, i32, i64, Purpose, bool);

impl Cell {
    fn key(&self) -> CellKey {
        (self.facility_id, self.day, self.org_id, self.purpose, self.shared)
    }

    /// The month the day falls in (`YYYYMM`, as [`vigia_domain::access::month_key`]).
    fn month(&self) -> i32 {
        vigia_domain::access::month_key(date_of_day(self.day))
    }

    fn of(d: &vigia_store::DailyCell) -> Cell {
        // A day's count at one facility for one organization past four billion would
        // be a corrupt row; it is held at the largest count rather than wrapped.
        let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        Cell {
            facility_id: d.facility_id,
            org_id: d.org_id,
            day: d.day,
            attempts: count(d.attempts),
            refusals: count(d.refusals),
            purpose: d.purpose,
            shared: d.shared,
        }
    }
}

/// A changed cell with the attempts and refusals it had before.
type Changed = (Cell, i64, i64);

impl MirrorState {
    /// Feeds what changed to each kept scan, as its viewer sees it.
    fn update_scans(&mut self, changed: &[Changed]) {
        let mut scans = std::mem::take(&mut self.scans);
        for ((viewer, _), scan) in scans.iter_mut() {
            let mut by_day: BTreeMap<(i64, i32), (i64, i64)> = BTreeMap::new();
            for (cell, old_attempts, old_refusals) in changed.iter().filter(|(c, _, _)| self.visible(*viewer, c)) {
                let e = by_day.entry((cell.facility_id, cell.day)).or_default();
                e.0 += i64::from(cell.attempts) - old_attempts;
                e.1 += i64::from(cell.refusals) - old_refusals;
            }
            let changes: Vec<DayChange> = by_day
                .into_iter()
                .filter(|(_, d)| *d != (0, 0))
                .map(|((facility_id, day), (attempts, refusals))| DayChange {
                    facility_id,
                    day: date_of_day(day),
                    attempts,
                    refusals,
                })
                .collect();
            scan.update(&changes);
        }
        self.scans = scans;
    }

    /// Feeds what changed to each viewer's refusals by day.
    fn update_refusals(&mut self, changed: &[Changed]) {
        let mut all = std::mem::take(&mut self.refusals);
        for (viewer, days) in all.iter_mut() {
            let mut moved = false;
            for (cell, _, old) in
                changed.iter().filter(|(c, _, old)| i64::from(c.refusals) != *old && self.visible(*viewer, c))
            {
                let key = (cell.day, cell.facility_id, cell.org_id);
                let n = i64::from(days.counts.get(&key).copied().unwrap_or(0)) + i64::from(cell.refusals) - old;
                match u32::try_from(n) {
                    Ok(n) if n > 0 => days.counts.insert(key, n),
                    _ => days.counts.remove(&key),
                };
                moved = true;
            }
            if moved {
                *days = RefusalDays::listed(std::mem::take(&mut days.counts));
            }
        }
        self.refusals = all;
    }

    /// A viewer's refusals by day, computed from the cells the first time.
    fn refusal_days(&mut self, viewer: i64) -> std::sync::Arc<Vec<vigia_domain::statement::Refusal>> {
        if let Some(r) = self.refusals.get(&viewer) {
            return r.list.clone();
        }
        let mut counts: BTreeMap<(i32, i64, i64), u32> = BTreeMap::new();
        for c in self.cells.iter().filter(|c| c.refusals > 0 && self.visible(viewer, c)) {
            let n = counts.entry((c.day, c.facility_id, c.org_id)).or_default();
            *n = n.saturating_add(c.refusals);
        }
        let days = RefusalDays::listed(counts);
        let list = days.list.clone();
        self.refusals.insert(viewer, days);
        list
    }

    fn visible(&self, viewer: i64, c: &Cell) -> bool {
        vigia_domain::tenancy::may_read(viewer, c.org_id, c.shared, &self.partners)
    }

    /// Applies changed cells; returns each with the counts it had before (when
    /// `report`: the first load needs none).
    fn apply(&mut self, mut cells: Vec<vigia_store::DailyCell>, report: bool) -> Vec<Changed> {
        let mut changed = Vec::with_capacity(if report { cells.len() } else { 0 });
        // In key order (a cell written twice, in its versions' order), so cells not yet
        // held come out sorted and are merged in once.
        cells.sort_by_key(|d| ((d.facility_id, d.day, d.org_id, d.purpose, d.shared), d.version));
        let mut new: Vec<Cell> = Vec::new();
        for d in cells {
            self.version = self.version.max(d.version);
            let cell = Cell::of(&d);
            let held = match self.cells.binary_search_by_key(&cell.key(), Cell::key) {
                Ok(i) => Some(&mut self.cells[i]),
                Err(_) => new.last_mut().filter(|c| c.key() == cell.key()),
            };
            let (old_attempts, old_refusals) = match held {
                Some(old) => {
                    let was = std::mem::replace(old, cell);
                    (i64::from(was.attempts), i64::from(was.refusals))
                }
                None => {
                    new.push(cell);
                    (0, 0)
                }
            };
            if report {
                changed.push((cell, old_attempts, old_refusals));
            }
        }
        if !new.is_empty() {
            // Two sorted runs: the standard stable sort finds them and merges them in one
            // pass; the room is reserved exactly, not doubled.
            self.cells.reserve_exact(new.len());
            self.cells.extend(new);
            self.cells.sort_by_key(Cell::key);
        }
        changed
    }

    /// Tallies for a question, remembered until the counts change.
    fn tallies_cached(
        &mut self,
        viewer: i64,
        f: &TallyFilter,
        facilities_in_state: Option<&std::collections::HashSet<i64>>,
    ) -> Cells {
        let key = (viewer, format!("{f:?}"));
        if let Some(found) = self.tallies.get(&key) {
            return found.clone();
        }
        let found = std::sync::Arc::new(self.tallies(viewer, f, facilities_in_state));
        if self.tallies.len() >= 256 {
            self.tallies.clear();
        }
        self.tallies.insert(key, found.clone());
        found
    }

    /// Attempts and refusals the viewer may see, by facility, organization and month.
    /// `facilities_in_state` is the state filter's facilities, when there is one.
    fn tallies(
        &self,
        viewer: i64,
        f: &TallyFilter,
        facilities_in_state: Option<&std::collections::HashSet<i64>>,
    ) -> Tallies {
        let mut out: BTreeMap<(i64, i64, i32), (i64, i64)> = BTreeMap::new();
        let mut weeks: BTreeMap<i32, Tally> = BTreeMap::new();
        for c in &self.cells {
            let keep = c.attempts != 0
                && f.facility_id.is_none_or(|id| id == c.facility_id)
                && facilities_in_state.is_none_or(|set| set.contains(&c.facility_id))
                && f.org_id.is_none_or(|id| id == c.org_id)
                && f.purpose.is_none_or(|p| p == c.purpose)
                && f.from_day.is_none_or(|d| c.day >= d)
                && f.until_day.is_none_or(|d| c.day < d)
                && self.visible(viewer, c);
            if keep {
                let e = out.entry((c.facility_id, c.org_id, c.month())).or_default();
                e.0 += i64::from(c.attempts);
                e.1 += i64::from(c.refusals);
                // 1970-01-01 was a Thursday: step back to the week's Monday.
                let w = weeks.entry(c.day - (c.day + 3).rem_euclid(7)).or_default();
                w.attempts += c.attempts as usize;
                w.refusals += c.refusals as usize;
            }
        }
        let cells = out
            .into_iter()
            .map(|((facility_id, org_id, month), (attempts, refusals))| TallyCell {
                facility_id,
                org_id,
                month,
                attempts,
                refusals,
            })
            .collect();
        Tallies { cells, weeks }
    }

    /// Everything the viewer may see by facility and day: what the rule reads.
    fn facility_days(&self, viewer: i64) -> Vec<FacilityDay> {
        let mut out: HashMap<(i64, i32), (u32, u32)> = HashMap::new();
        for c in self.cells.iter().filter(|c| c.attempts != 0 && self.visible(viewer, c)) {
            let e = out.entry((c.facility_id, c.day)).or_default();
            e.0 = e.0.saturating_add(c.attempts);
            e.1 = e.1.saturating_add(c.refusals);
        }
        out.into_iter()
            .map(|((facility_id, day), (attempts, refusals))| FacilityDay {
                facility_id,
                day: date_of_day(day),
                attempts,
                refusals,
            })
            .collect()
    }

    /// The organizations refused at each facility on the days in `ranges`.
    fn refusers(&self, viewer: i64, ranges: &[(i32, i32)]) -> Refusers {
        let mut out: Refusers = HashMap::new();
        let inside = |d: i32| ranges.iter().any(|(a, b)| (*a..*b).contains(&d));
        for c in self.cells.iter().filter(|c| c.refusals > 0 && inside(c.day) && self.visible(viewer, c)) {
            let list = out.entry((c.facility_id, date_of_day(c.day))).or_default();
            if !list.contains(&c.org_id) {
                list.push(c.org_id);
            }
        }
        out
    }

    /// The suspected general suspensions among everything the viewer may see, without
    /// their attempt ids; remembered until the counts change.
    fn episodes(&mut self, viewer: i64, s: &Settings) -> std::sync::Arc<Vec<Episode>> {
        let key = (viewer, format!("{s:?}"));
        if let Some(found) = self.episodes.get(&key) {
            return found.clone();
        }
        if !self.scans.contains_key(&key) {
            if self.scans.len() >= 64 {
                self.scans.clear();
            }
            let scan = Scan::new(&self.facility_days(viewer), s);
            self.scans.insert(key.clone(), scan);
        }
        let Some(scan) = self.scans.get(&key) else { return std::sync::Arc::default() };
        let ranges: Vec<(i32, i32)> = scan.needs().into_iter().map(|(a, b)| (day_number(a), day_number(b))).collect();
        let found = std::sync::Arc::new(scan.episodes(&self.refusers(viewer, &ranges)));
        if self.episodes.len() >= 256 {
            self.episodes.clear();
        }
        self.episodes.insert(key, found.clone());
        found
    }
}

impl Mirror {
    /// The copy, brought up to date with the database.
    async fn fresh(&self, store: &DynStore) -> vigia_store::Result<tokio::sync::RwLockReadGuard<'_, MirrorState>> {
        let (version, generation) = store.access_state().await?;
        {
            let state = self.state.read().await;
            if state.loaded && state.version >= version && state.generation == generation {
                return Ok(state);
            }
        }
        let mut state = self.state.write().await;
        if !(state.loaded && state.version >= version && state.generation == generation) {
            let changed = if !state.loaded || state.generation != generation {
                *state = MirrorState { generation, ..Default::default() };
                state.apply(store.access_daily_since(-1).await?, false);
                None
            } else {
                let after = state.version;
                Some(state.apply(store.access_daily_since(after).await?, true))
            };
            // Coalition changes bump the version without touching cells.
            state.version = state.version.max(version);
            let coalitions = store.list_coalitions().await?;
            let partners =
                vigia_domain::tenancy::Partners::from_coalitions(coalitions.iter().map(|c| c.members.as_slice()));
            match changed {
                Some(changed) if partners == state.partners => {
                    state.update_scans(&changed);
                    state.update_refusals(&changed);
                }
                _ => {
                    state.scans.clear();
                    state.refusals.clear();
                }
            }
            state.partners = partners;
            state.episodes.clear();
            state.tallies.clear();
            state.attempt_ids.clear();
            state.loaded = true;
        }
        Ok(state.downgrade())
    }

    /// Refusals the viewer may see, by organization, facility and facility-local day,
    /// earliest first: what the words-against-practice rule reads (`statements.rs`).
    pub async fn refusal_days(
        &self,
        store: &DynStore,
        viewer: i64,
    ) -> vigia_store::Result<std::sync::Arc<Vec<vigia_domain::statement::Refusal>>> {
        {
            let state = self.fresh(store).await?;
            if let Some(r) = state.refusals.get(&viewer) {
                return Ok(r.list.clone());
            }
        }
        Ok(self.state.write().await.refusal_days(viewer))
    }

    /// Episodes for the viewer at the current version (computed once per version).
    async fn episodes(
        &self,
        store: &DynStore,
        viewer: i64,
        s: &Settings,
    ) -> vigia_store::Result<std::sync::Arc<Vec<Episode>>> {
        drop(self.fresh(store).await?);
        let mut state = self.state.write().await;
        Ok(state.episodes(viewer, s))
    }

    /// Tallies for each of `filters` and the viewer's episodes, from one look at the
    /// database's version: what the analysis page and its API show.
    /// `facilities_in_state` is the state filter's facilities, when there is one.
    pub async fn answer(
        &self,
        store: &DynStore,
        viewer: i64,
        s: &Settings,
        filters: &[TallyFilter],
        facilities_in_state: Option<&std::collections::HashSet<i64>>,
    ) -> vigia_store::Result<(Vec<Cells>, Vec<Episode>)> {
        {
            // Answered before at this version: under the shared lock, so that concurrent
            // views of the dashboard do not queue one behind the other.
            let state = self.fresh(store).await?;
            let episodes = state.episodes.get(&(viewer, format!("{s:?}"))).cloned();
            let cells: Option<Vec<Cells>> =
                filters.iter().map(|f| state.tallies.get(&(viewer, format!("{f:?}"))).cloned()).collect();
            if let (Some(episodes), Some(cells)) = (episodes, cells) {
                return Ok((cells, episodes.as_ref().clone()));
            }
        }
        let mut state = self.state.write().await;
        let episodes = state.episodes(viewer, s).as_ref().clone();
        let cells = filters.iter().map(|f| state.tallies_cached(viewer, f, facilities_in_state)).collect();
        Ok((cells, episodes))
    }

    /// Fills in the refused attempts `viewer` may see behind each episode, oldest
    /// first: read from the store once per version and episode, then remembered.
    pub async fn attach_attempt_ids(
        &self,
        store: &DynStore,
        viewer: i64,
        episodes: &mut [Episode],
    ) -> vigia_store::Result<()> {
        let (version, generation) = {
            let state = self.fresh(store).await?;
            (state.version, state.generation)
        };
        for e in episodes {
            let key = (viewer, day_number(e.start), day_number(e.end));
            if let Some(ids) = self.state.read().await.attempt_ids.get(&key) {
                e.attempt_ids = ids.as_ref().clone();
                continue;
            }
            let refused = store.refused_attempts(viewer, key.1, key.2 + 1).await?;
            e.attempt_ids = refused.into_iter().map(|(id, _, _)| id).collect();
            let mut state = self.state.write().await;
            // Kept only if nothing was written meanwhile (else the next view reads again).
            if state.version == version && state.generation == generation {
                // Bounded by the ids kept (8 MB at most), not only by entries.
                let kept: usize = state.attempt_ids.values().map(|ids| ids.len()).sum();
                if state.attempt_ids.len() >= 4_096 || kept + e.attempt_ids.len() > 1_000_000 {
                    state.attempt_ids.clear();
                }
                state.attempt_ids.insert(key, std::sync::Arc::new(e.attempt_ids.clone()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cell(
        v: i64,
        (facility_id, day, org_id, shared, refusals): (i64, i32, i64, bool, i64),
    ) -> vigia_store::DailyCell {
        vigia_store::DailyCell {
            facility_id,
            day,
            org_id,
            purpose: Purpose::Monitoring,
            shared,
            attempts: refusals + 1,
            refusals,
            version: v,
        }
    }

    proptest! {
        /// Cells are held once each, in key order, with the counts last written for
        /// them; what each batch reports as changed adds up to the counts held (so the
        /// scans and refusals kept up to date from it stay right), even when a batch
        /// writes the same cell twice.
        #[test]
        fn cells_stay_sorted_unique_and_changes_add_up(
            batches in proptest::collection::vec(proptest::collection::vec(((1i64..4, 0i32..6, 1i64..4, any::<bool>(), 0i64..4), 0usize..2, 0i64..3), 0..20), 0..6),
        ) {
            let mut state = MirrorState::default();
            let mut last: BTreeMap<CellKey, (i64, i64)> = BTreeMap::new();
            let mut summed: BTreeMap<CellKey, (i64, i64)> = BTreeMap::new();
            for (i, batch) in batches.into_iter().enumerate() {
                // Cells of two purposes; a cell written twice in one batch carries its
                // versions, and the later version is what the database holds.
                let cells: Vec<_> = batch
                    .iter()
                    .map(|(c, purpose, v)| vigia_store::DailyCell {
                        purpose: [Purpose::Monitoring, Purpose::LegalAssistance][*purpose],
                        ..cell(i as i64 * 10 + v, *c)
                    })
                    .collect();
                let mut newest: BTreeMap<CellKey, (i64, (i64, i64))> = BTreeMap::new();
                for c in &cells {
                    let key = (c.facility_id, c.day, c.org_id, c.purpose, c.shared);
                    let e = newest.entry(key).or_insert((c.version, (c.attempts, c.refusals)));
                    if c.version >= e.0 {
                        *e = (c.version, (c.attempts, c.refusals));
                    }
                }
                last.extend(newest.into_iter().map(|(k, (_, counts))| (k, counts)));
                for (c, old_attempts, old_refusals) in state.apply(cells, true) {
                    let e = summed.entry(c.key()).or_default();
                    e.0 += i64::from(c.attempts) - old_attempts;
                    e.1 += i64::from(c.refusals) - old_refusals;
                }
            }
            prop_assert!(state.cells.windows(2).all(|w| w[0].key() < w[1].key()), "sorted, each key once");
            let held: BTreeMap<_, _> =
                state.cells.iter().map(|c| (c.key(), (i64::from(c.attempts), i64::from(c.refusals)))).collect();
            prop_assert_eq!(&held, &last);
            prop_assert_eq!(&summed, &last);
        }

        /// Finding 19: the refusals by day a viewer's words-against-practice rule reads,
        /// kept up to date write after write, are what a recount from the cells says —
        /// and only what the viewer may see (own, or shared by a coalition partner).
        #[test]
        fn refusals_kept_up_to_date_equal_a_recount(
            first in proptest::collection::vec((1i64..4, 0i32..6, 1i64..4, any::<bool>(), 0i64..4), 0..30),
            later in proptest::collection::vec(proptest::collection::vec((1i64..4, 0i32..6, 1i64..4, any::<bool>(), 0i64..4), 0..6), 0..6),
        ) {
            // Organizations 1 and 2 share a coalition; 3 is alone.
            let mut state = MirrorState {
                partners: vigia_domain::tenancy::Partners::from_coalitions([&[1, 2][..]]),
                ..Default::default()
            };
            state.apply(first.into_iter().map(|c| cell(1, c)).collect(), true);
            for viewer in 1..4 {
                state.refusal_days(viewer);
            }
            for (i, batch) in later.into_iter().enumerate() {
                let changed = state.apply(batch.into_iter().map(|c| cell(i as i64 + 2, c)).collect(), true);
                state.update_refusals(&changed);
            }
            for viewer in 1..4 {
                let kept = state.refusal_days(viewer);
                let mut recount = MirrorState { cells: state.cells.clone(), partners: state.partners.clone(), ..Default::default() };
                let fresh = recount.refusal_days(viewer);
                prop_assert_eq!(kept.as_ref(), fresh.as_ref());
                for r in kept.iter() {
                    prop_assert!(r.count > 0);
                    prop_assert!(r.org_id == viewer || (viewer != 3 && r.org_id != 3));
                }
            }
        }
    }
}
