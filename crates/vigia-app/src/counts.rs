//! How many attempts a viewer's list matches, kept until the data change (issue #19).
//!
//! Counting one facility's attempts in a million costs PostgreSQL a few milliseconds of
//! CPU even from a covering index (35,000 index entries and the viewer's visibility),
//! and every page of the list asks for it: at 50 clients on two cores that count was
//! most of each request's time. The answer depends only on the data, the viewer and the
//! filter, so it is kept with the data's version ([`vigia_store::Access::data_version`],
//! which moves with every recorded change — attempts, visibility, coalition members)
//! and worked out again only after a change.

use std::collections::HashMap;
use std::sync::Mutex;

use vigia_domain::access::AttemptFilter;
use vigia_store::{DynStore, Result};

use crate::kept::DataVersion as Version;

/// Counts by viewer and filter, each with the data version it was counted at.
#[derive(Default)]
pub struct AttemptCounts {
    kept: Mutex<HashMap<(i64, String), (Version, i64)>>,
}

/// The most counts kept: past it the cache starts again (a few kilobytes).
const MAX_KEPT: usize = 4096;

impl AttemptCounts {
    /// How many attempts the viewer may read match `filter` (its limit aside), counted
    /// at most once per data version.
    pub async fn count(&self, store: &DynStore, viewer_org: i64, filter: &AttemptFilter) -> Result<i64> {
        let version = crate::kept::version(store).await?;
        let key = (viewer_org, format!("{:?}", AttemptFilter { limit: 0, ..filter.clone() }));
        if let Some((v, n)) = self.kept.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if *v == version {
                return Ok(*n);
            }
        }
        let n = store.count_attempts(viewer_org, filter).await?;
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert(key, (version, n));
        Ok(n)
    }
}
