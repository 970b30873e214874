//! What every request handler is given: the application's state (the store, the
//! settings, the read models) and the server's settings and body limits. Below every
//! feature, so that features and the router can share it without importing the
//! crate root that assembles them.

use std::sync::Arc;
use std::time::Duration;

use vigia_store::DynStore;

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Served over TLS (directly or behind a proxy): cookies get `Secure` and `__Host-`.
    pub secure_cookies: bool,
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    /// Failed logins for one account within `lockout_window` before it is locked.
    pub max_failed_logins: i64,
    /// Failed logins from one address within `lockout_window` before every sign-in
    /// from it waits `address_penalty` (a right password still signs in).
    pub max_failed_logins_per_address: i64,
    pub address_penalty: Duration,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Wrong second-factor codes for one account within `lockout_window` before its
    /// second factor is locked. Counted across sign-in attempts: giving the right
    /// password again does not reset it.
    pub max_failed_second_factor: i64,
    /// How recently a user must have given their password for sensitive actions.
    pub reauth_window: Duration,
    pub lockout_window: Duration,
    /// How often the worker looks for due webhook deliveries.
    pub worker_interval: Duration,
    /// How often the worker looks for newly flagged suspensions.
    pub episode_scan: Duration,
    /// The first retry delay of a failed webhook delivery; it doubles with each failure.
    pub retry_base: Duration,
    /// How often the worker sweeps open cases for deadline reminders.
    pub deadline_sweep: Duration,
    /// Remind about deadlines due within this many working days.
    pub reminder_horizon: u32,
    /// Connections served at once; further clients wait to be accepted.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// How long a request without a signed-in user may take, body included.
    pub anonymous_timeout: Duration,
    /// A signed-in request's body must average at least this many bytes a second once
    /// this long has passed (a slow phone sends thousands; a byte a second is an attack).
    pub body_min_rate: (Duration, u64),
    /// Hosts webhooks may be sent to although they are not public addresses (a
    /// receiver on the organization's own network); by name, as written in the URL.
    pub webhook_allow_hosts: Vec<String>,
    /// How long one webhook delivery may take before it counts as failed (and is
    /// retried); deliveries are leased for a multiple of it.
    pub webhook_timeout: Duration,
    /// Where e-mail alerts are sent from; without it none are written or sent.
    pub mail: Option<MailConfig>,
    /// Serve the approved publications read-only at `/public` (issue #17).
    pub public_site: bool,
}

impl Config {
    /// What the background worker needs of these settings.
    pub fn worker(&self) -> vigia_app::worker::WorkerConfig {
        vigia_app::worker::WorkerConfig {
            interval: self.worker_interval,
            scan_every: self.episode_scan,
            retry_base: self.retry_base,
            sweep_every: self.deadline_sweep,
            horizon: self.reminder_horizon,
            allowed: self.webhook_allow_hosts.clone(),
            send_limit: self.webhook_timeout,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 3600),
            max_failed_logins: 10,
            max_failed_logins_per_address: 50,
            address_penalty: Duration::from_secs(2),
            trusted_proxies: Vec::new(),
            max_failed_second_factor: 5,
            reauth_window: Duration::from_secs(5 * 60),
            lockout_window: Duration::from_secs(15 * 60),
            worker_interval: Duration::from_secs(2),
            episode_scan: Duration::from_secs(60),
            retry_base: Duration::from_secs(10),
            deadline_sweep: Duration::from_secs(15 * 60),
            reminder_horizon: 3,
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            anonymous_timeout: Duration::from_secs(30),
            body_min_rate: (Duration::from_secs(30), 256),
            webhook_allow_hosts: Vec::new(),
            webhook_timeout: Duration::from_secs(10),
            mail: None,
            public_site: false,
        }
    }
}

/// The largest body accepted from a request without a signed-in user (sign-in and
/// language forms are a few hundred bytes).
pub const ANONYMOUS_LIMIT: usize = 64 * 1024;
/// The largest JSON body or form accepted.
pub const FORM_LIMIT: usize = 1024 * 1024;
/// The largest CSV import accepted (about 300,000 attempt rows).
pub const CSV_LIMIT: usize = 20 * 1024 * 1024;
/// Room for a multipart form's boundaries and other fields around a file.
pub const MULTIPART_SLACK: usize = 64 * 1024;
/// What an import route reads at most (a CSV, as a body or in a form).
pub const CSV_ROUTE_LIMIT: usize = CSV_LIMIT + MULTIPART_SLACK;
/// Routes that read their body as it arrives, with no size limit of their own
/// ([`crate::routes::Routes::streamed`]): imports of access attempts, bounded by rows.
pub const STREAMED_PATHS: [&str; 2] = ["/access/import", "/api/v1/access-attempts/import"];
/// What an evidence upload route reads at most.
pub const FILE_ROUTE_LIMIT: usize = vigia_domain::evidence::MAX_BYTES + MULTIPART_SLACK;

#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub config: Arc<Config>,
    /// The daily access counts in memory, for the analysis.
    pub analyses: Arc<vigia_app::analysis::Mirror>,
    /// Contradictions found, per viewer, until the data change.
    pub detections: Arc<vigia_app::findings::FoundCache>,
    /// Attempts counted per viewer and filter, until the data change.
    pub counts: Arc<vigia_app::counts::AttemptCounts>,
    /// Each organization's open cases assessed today, until the data or the day change.
    pub open_cases: Arc<vigia_app::cases::OpenCases>,
    /// The statistics timeline per viewer and period, until the data change.
    pub timelines: Arc<vigia_app::statistics::Timelines>,
    /// Parts of answers (a JSON body, a map, a page's calendar) per feature and key,
    /// until the data change.
    pub parts: Arc<vigia_app::kept::Kept<(&'static str, String), crate::kit::kept::Part>>,
    /// Pages of API lists kept as written (`kit::json::kept_page`), apart from the parts
    /// so that pages asked from every cursor cannot push the analyses out; `None` marks a
    /// page too large to keep.
    pub pages: Arc<vigia_app::kept::Kept<(&'static str, String), Option<axum::body::Bytes>>>,
    /// The statements each search (words and facets) finds, until the data change.
    pub statement_searches: Arc<vigia_app::kept::Kept<String, crate::kit::listing::Matched>>,
    /// Imports under way, for their pages to show how far they have come.
    pub imports: Arc<vigia_app::imports::Watched>,
}

/// Where and how to send, from the server's settings.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://user:password@host:587?tls=required` (STARTTLS, the default to use),
    /// `smtps://…:465` (TLS from the start) or `smtp://host:25` (no TLS: only to a
    /// relay on the same machine).
    pub smtp_url: String,
    /// The sender, e.g. `Vigía <avisos@example.org>`.
    pub from: String,
    /// The address people open Vigía at, for the links in messages.
    pub public_url: String,
    /// The hour (Mexico City time) after which the day's digest is written.
    pub digest_hour: i8,
}
