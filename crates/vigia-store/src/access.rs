//! Access attempts: owned by an organization, shared with its coalitions unless private; their daily counts and imports.

use crate::*;

/// Attempts and refusals of one facility, organization and local month (`year * 100 + month`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TallyCell {
    pub facility_id: i64,
    pub org_id: i64,
    pub month: i32,
    pub attempts: i64,
    pub refusals: i64,
}

/// What an import is fed while its file is still being read and validated.
#[derive(Debug)]
pub enum ImportFeed {
    /// Rows read and valid so far, in file order.
    Rows(Vec<AttemptDraft>),
    /// The whole file was valid: keep everything fed.
    Complete,
}

/// Where an import's rows come from. The store asks for more on one blocking thread
/// that also prepares them while the database writes the rows before (reading,
/// validating and preparing share that thread; the database's keeps the other core):
/// give up to a few thousand rows at a time, in file order.
pub trait ImportSource: Send {
    /// The next rows, then [`ImportFeed::Complete`] once the whole file was read and
    /// valid; `None` if reading stopped at a problem: nothing is kept.
    fn next_feed(&mut self) -> Option<ImportFeed>;
}

/// Rows already in memory, in the order given.
impl ImportSource for std::vec::IntoIter<ImportFeed> {
    fn next_feed(&mut self) -> Option<ImportFeed> {
        self.next()
    }
}

/// The fingerprint of a file rows were imported from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFile {
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub bytes: i64,
}

impl ImportedFile {
    pub fn of(bytes: &[u8]) -> Self {
        Self { sha256: vigia_domain::audit::sha256_hex(bytes), bytes: bytes.len() as i64 }
    }
}

/// One cell of the daily access counts, with the version of the write that last changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyCell {
    pub facility_id: i64,
    /// The facility-local day, a [`vigia_domain::access::day_number`].
    pub day: i32,
    pub org_id: i64,
    pub purpose: vigia_domain::access::Purpose,
    /// Shared with the owner's coalitions (not private).
    pub shared: bool,
    pub attempts: i64,
    pub refusals: i64,
    pub version: i64,
}

/// Access attempts: owned by an organization, shared with its coalitions unless private; their daily counts and imports.
#[async_trait::async_trait]
pub trait Access: Send + Sync {
    async fn create_attempt(&self, actor: &Actor, org_id: i64, draft: AttemptDraft) -> Result<Attempt>;
    /// A new version of an attempt the organization `org_id` owns; another
    /// organization's attempt is [`StoreError::NotFound`].
    async fn update_attempt(
        &self,
        actor: &Actor,
        org_id: i64,
        id: i64,
        expected_version: Option<i64>,
        draft: AttemptDraft,
    ) -> Result<Attempt>;
    /// The attempt if `viewer_org` may see it.
    async fn attempt(&self, viewer_org: i64, id: i64) -> Result<Option<Attempt>>;
    /// The attempts among `ids` the viewer may read, in one read per thousand ids (a
    /// list of alerts or of cited refusals asks for many at once).
    async fn attempts_by_ids(&self, viewer_org: i64, ids: &[i64]) -> Result<Vec<Attempt>>;
    /// The attempts `viewer_org` may see, newest first.
    async fn list_attempts(&self, viewer_org: i64, filter: &AttemptFilter) -> Result<Vec<Attempt>>;
    /// How many attempts the viewer may read match the filter (from `after` on, if set).
    async fn count_attempts(&self, viewer_org: i64, filter: &AttemptFilter) -> Result<i64>;
    /// Creates all attempts in one transaction: all or none.
    async fn import_attempts(&self, actor: &Actor, org_id: i64, drafts: Vec<AttemptDraft>) -> Result<AttemptImport>;
    /// Creates the attempts `source` gives in one transaction, writing each chunk
    /// while the next is read: commits when [`ImportFeed::Complete`] comes and answers
    /// the import's record (one audit entry for all its rows, see [`AttemptImport`]);
    /// if the source ends before that (the file turned out to have errors), nothing
    /// is kept and the answer is `None`. `file` is the uploaded file's fingerprint,
    /// when the rows came from one.
    async fn import_attempts_fed(
        &self,
        actor: &Actor,
        org_id: i64,
        file: Option<ImportedFile>,
        source: Box<dyn ImportSource>,
    ) -> Result<Option<AttemptImport>>;
    /// Attempts and refusals `viewer_org` may see, by facility, organization and local
    /// month, grouped by the database over the daily counts: the reference the app's
    /// in-memory copy is tested against.
    async fn access_tallies(&self, viewer_org: i64, filter: &TallyFilter) -> Result<Vec<TallyCell>>;
    /// Every cell of the daily counts changed after `after_version` (all of them for
    /// -1), for a copy kept in memory; see [`Access::access_state`].
    async fn access_daily_since(&self, after_version: i64) -> Result<Vec<DailyCell>>;
    /// `(id, facility, local day)` of the refused attempts `viewer_org` may see on a
    /// local day in `[from_day, until_day)`, oldest first.
    async fn refused_attempts(&self, viewer_org: i64, from_day: i32, until_day: i32) -> Result<Vec<(i64, i64, i32)>>;
    /// `(attempted_at, outcome)` of every attempt in `[from, until)` that `viewer_org`
    /// may see, at `facility` or at any: what a calendar or a timeline of outcomes
    /// draws, and no more.
    async fn attempt_outcomes(
        &self,
        viewer_org: i64,
        facility: Option<i64>,
        from: Micros,
        until: Micros,
    ) -> Result<Vec<(Micros, Outcome)>>;
    /// Each facility's latest `per_facility` attempts that `viewer_org` may see.
    async fn latest_attempts(&self, viewer_org: i64, per_facility: i64) -> Result<Vec<Attempt>>;
    /// `(version, generation)` of the daily counts: the version grows with every change
    /// to them or to who sees them; the generation when they are rebuilt (a copy must
    /// then be fetched whole).
    async fn access_state(&self) -> Result<(i64, i64)>;
    /// Moves with every recorded change: a count of the writes that changed records
    /// (every such write is audited; an audited read of sealed data is not a change)
    /// with [`Access::access_state`], for answers kept until the data change.
    async fn data_version(&self) -> Result<(i64, i64, i64)>;
    /// How many writes that moved [`Access::data_version`] this process has committed
    /// through this store: a version read before one of them no longer holds for what
    /// the reader wrote since (other processes' writes are not counted).
    fn local_changes(&self) -> u64;
    /// Opens a text value as the audit history keeps it, for `org_id`'s `field` (e.g.
    /// `attempt.notes`) of record `record`; text written before such fields were sealed
    /// comes back as it is, and text sealed before values named their record opens too.
    async fn open_recorded_text(&self, org_id: i64, field: &str, record: i64, stored: &str) -> Result<String>;
    /// Recounts the daily table from the attempts (after `audit verify` found it out of step).
    async fn recount_access(&self) -> Result<()>;
}
