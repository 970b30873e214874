//! Suspected suspensions told to each organization that can see them.

use vigia_domain::suspension::Settings;
use vigia_store::DynStore;

use crate::analysis::{find_episodes, Mirror};

/// Raises an alert in each organization's inbox for every flagged episode it can see
/// and has not been told about.
pub async fn scan_episodes(store: &DynStore, mirror: &Mirror) -> vigia_store::Result<usize> {
    let mut raised = 0;
    let facilities = store.list_facilities().await?;
    let orgs = store.list_orgs().await?;
    for org in &orgs {
        // The periods already told about: an episode that overlaps one is the same
        // suspension seen again (a facility joined it, a late or back-dated record moved
        // its edges), not news to send the coalition again.
        let mut told: Vec<(String, String)> = store
            .alerts(org.id, vigia_store::MAX_ALERTS)
            .await?
            .iter()
            .filter(|a| a.kind == "episode")
            .filter_map(|a| {
                let p: serde_json::Value = serde_json::from_str(&a.payload).ok()?;
                Some((p["start"].as_str()?.to_string(), p["end"].as_str()?.to_string()))
            })
            .collect();
        for e in find_episodes(store, mirror, org.id, &Settings::default(), true).await? {
            let (start, end) = (e.start.to_string(), e.end.to_string());
            if told.iter().any(|(s, t)| *s <= end && start <= *t) {
                continue;
            }
            told.push((start, end));
            let names: Vec<String> = e
                .facilities
                .iter()
                .map(|id| {
                    facilities
                        .iter()
                        .find(|f| f.id == *id)
                        .map(|f| f.draft.name.clone())
                        .unwrap_or_else(|| id.to_string())
                })
                .collect();
            let key = format!(
                "episode:{}:{}",
                e.start,
                e.facilities.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(",")
            );
            let payload = serde_json::json!({
                "type": "access.suspected_suspension",
                "start": e.start.to_string(), "end": e.end.to_string(),
                "organizations": e.orgs.len(), "facilities": names,
                "refusals": e.refusals, "attempts": e.attempts, "expected_refusals": e.expected, "p_value": e.p_value,
                "scale_days": e.scale_days,
                "attempt_ids": e.attempt_ids,
            })
            .to_string();
            if store.raise_alert(org.id, "episode", &key, None, &payload).await?.is_some() {
                raised += 1;
            }
        }
    }
    Ok(raised)
}
