//! Detention centers (shared reference data) and each organization's sealed notes on them.

use crate::*;

/// Detention centers (shared reference data) and each organization's sealed notes on them.
#[async_trait::async_trait]
pub trait Facilities: Send + Sync {
    async fn create_facility(&self, actor: &Actor, draft: FacilityDraft) -> Result<Facility>;
    /// Replaces a facility's fields as a new version. With `expected_version`, refuses
    /// with [`StoreError::Conflict`] when someone else saved in between.
    async fn update_facility(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        draft: FacilityDraft,
    ) -> Result<Facility>;
    async fn facility(&self, id: i64) -> Result<Option<Facility>>;
    async fn list_facilities(&self) -> Result<Vec<Facility>>;
    /// Creates all facilities in one transaction: all or none.
    async fn import_facilities(&self, actor: &Actor, drafts: Vec<FacilityDraft>) -> Result<Vec<i64>>;

    async fn add_facility_note(&self, actor: &Actor, org_id: i64, facility_id: i64, body: &str)
        -> Result<FacilityNote>;
    async fn facility_notes(&self, org_id: i64, facility_id: i64) -> Result<Vec<FacilityNote>>;
}
