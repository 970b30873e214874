//! The background worker: one loop per server that sends webhook deliveries from the
//! durable queue ([`crate::webhooks`]), raises alerts for newly flagged suspensions
//! ([`crate::episodes`]) and sweeps open cases for deadline reminders
//! ([`crate::cases::sweep_deadlines`]) and access-to-information requests
//! ([`crate::transparency::sweep`]).

use std::time::Duration;

use vigia_store::DynStore;

use crate::analysis::Mirror;
use crate::cases::sweep_deadlines;
use crate::episodes::scan_episodes;
use crate::webhooks::deliver_due;

/// How often the worker does each thing, and where webhooks may go.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How often it looks for due webhook deliveries.
    pub interval: Duration,
    /// How often it looks for newly flagged suspensions.
    pub scan_every: Duration,
    /// The first retry delay of a failed webhook delivery; it doubles with each failure.
    pub retry_base: Duration,
    /// How often it sweeps open cases for deadline reminders.
    pub sweep_every: Duration,
    /// Remind about deadlines due within this many working days.
    pub horizon: u32,
    /// Hosts webhooks may be sent to although they are not public addresses.
    pub allowed: Vec<String>,
    /// How long one webhook delivery may take, name lookup included.
    pub send_limit: Duration,
}

/// Runs the worker until the process ends: deliveries every `interval`, an episode
/// scan every `scan_every`, a deadline sweep every `deadline_sweep`.
///
/// `mirror` is the daily counts' copy in memory: the server's own when the worker runs
/// in its process (one copy, not two), a fresh one otherwise.
pub fn spawn(store: DynStore, config: WorkerConfig, mirror: std::sync::Arc<Mirror>) -> tokio::task::JoinHandle<()> {
    let WorkerConfig { interval, scan_every, retry_base, sweep_every, horizon, allowed, send_limit } = config;
    tokio::spawn(async move {
        let mut last_scan: Option<std::time::Instant> = None;
        // The access version and number of organizations at the last scan: nothing to
        // find again while neither changed.
        let mut scanned: Option<((i64, i64), usize)> = None;
        let mut last_sweep: Option<std::time::Instant> = None;
        loop {
            if last_sweep.is_none_or(|t| t.elapsed() >= sweep_every) {
                if let Err(e) = sweep_deadlines(&store, crate::today(), horizon).await {
                    tracing::error!(error = %e, "deadline sweep failed");
                }
                if let Err(e) = crate::transparency::sweep(&store, crate::today(), horizon).await {
                    tracing::error!(error = %e, "request sweep failed");
                }
                if let Err(e) = crate::retention::sweep(&store, crate::today()).await {
                    tracing::error!(error = %e, "retention sweep failed");
                }
                last_sweep = Some(std::time::Instant::now());
            }
            if last_scan.is_none_or(|t| t.elapsed() >= scan_every) {
                let now = match (store.access_state().await, store.list_orgs().await) {
                    (Ok(v), Ok(orgs)) => Some((v, orgs.len())),
                    _ => None,
                };
                if now.is_none() || now != scanned {
                    match scan_episodes(&store, &mirror).await {
                        Ok(_) => scanned = now,
                        Err(e) => tracing::error!(error = %e, "episode scan failed"),
                    }
                }
                last_scan = Some(std::time::Instant::now());
            }
            while deliver_due(&store, retry_base, &allowed, send_limit).await > 0 {}
            tokio::time::sleep(interval).await;
        }
    })
}
