//! Monitoring visits: the organization's own, sent once from the field.

use crate::*;

/// Monitoring visits: the organization's own, sent once from the field.
#[async_trait::async_trait]
pub trait Visits: Send + Sync {
    /// Records a visit sent under `key`. The same key again returns the stored visit
    /// (`false`: nothing new) when the report is the same, and is a conflict when it
    /// differs: a draft sent twice is stored once, and never silently overwritten.
    async fn record_visit(&self, actor: &Actor, org_id: i64, key: &str, draft: VisitDraft) -> Result<(Visit, bool)>;
    /// The visit this person sent under `key`, if any: a correction names the report it
    /// corrects by the draft's key, which is all the device knows of it.
    async fn visit_sent_under(&self, org_id: i64, user_id: i64, key: &str) -> Result<Option<i64>>;
    async fn visit(&self, org_id: i64, id: i64) -> Result<Option<Visit>>;
    /// The organization's visits, newest first, optionally of one facility.
    async fn visits(&self, org_id: i64, facility_id: Option<i64>) -> Result<Vec<Visit>>;
    /// Up to `limit` of the organization's visits after `after` (the day visited as
    /// `YYYYMMDD` and the id), newest first, optionally of one facility: read page by
    /// page from an index, whatever the depth.
    async fn visits_page(
        &self,
        org_id: i64,
        facility_id: Option<i64>,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Vec<Visit>>;
    /// How many visits [`Visits::visits_page`] pages through (after `after`, when given:
    /// how many a page starting there and the ones after it hold).
    async fn count_visits(&self, org_id: i64, facility_id: Option<i64>, after: Option<Cursor>) -> Result<i64>;
    /// Opens a visit's sealed interview notes and records the read.
    async fn read_visit_notes(&self, actor: &Actor, org_id: i64, id: i64) -> Result<Option<String>>;
}
