//! Vigía's use cases: one function per thing a person or the system does, called alike by
//! the web handlers, the `vigia` command and the background worker. Handlers translate
//! HTTP into these calls and their results into pages or JSON; nothing here knows HTTP.
//!
//! - [`accounts`]: adding a user (validated, password hashed off the executor).
//! - [`alerts`]: which alerts a person may read, and how urgent each is.
//! - [`analysis`]: the access analysis read model (daily counts in memory, episodes).
//! - [`cases`]: assessing a case's deadlines today; the reminder sweep.
//! - [`consents`]: consent per purpose, and sharing a case only while it stands.
//! - [`episodes`]: telling each organization of the suspensions it can see.
//! - [`findings`]: contradictions among statements and practice, per viewer, cached.
//! - [`imports`]: importing an attempts CSV, all rows or none, read while it is written.
//! - [`kept`]: answers kept until the data change, one computation per version and key.
//! - [`publications`]: the public aggregates of a year, frozen when proposed.
//! - [`reports`]: the figures of a period report or a facility dossier, one model for
//!   the page, the PDF, the API and the command line.
//! - [`statistics`]: official statistics imported as dataset versions, their series,
//!   spikes and breaks, and the side-by-side view with own records.
//! - [`transparency`]: access-to-information requests, their deadlines under the law
//!   in force on the filing date, reminders, analysis and log import.
//! - [`webhooks`]: signing and delivering webhooks from the durable queue.
//! - [`worker`]: the loop that runs the sweeps and deliveries.

pub mod accounts;
pub mod alerts;
pub mod analysis;
pub mod cases;
pub mod consents;
pub mod counts;
pub mod episodes;
pub mod findings;
pub mod imports;
pub mod kept;
pub mod publications;
pub mod recommendations;
pub mod reports;
pub mod retention;
pub mod sheets;
pub mod statistics;
pub mod transparency;
pub mod webhooks;
pub mod worker;

use vigia_domain::ValidationErrors;
use vigia_store::StoreError;

/// What a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is not acceptable: which field, and why.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something that should not happen (a task that could not run, a stored value
    /// the rules cannot read).
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// A reference to a record that does not exist or that the organization cannot see:
    /// one answer for both, so a reference cannot probe what others hold.
    pub fn unknown_record(field: &str) -> AppError {
        AppError::Invalid(ValidationErrors(vec![vigia_domain::FieldError::new(field, "unknown_record")]))
    }
}

/// The civil date now in Mexico City, the zone legal deadlines are counted in
/// (`vigia_domain::geo::LEGAL_TIME_ZONE`).
pub fn today() -> jiff::civil::Date {
    let tz = jiff::tz::TimeZone::get(vigia_domain::geo::LEGAL_TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned_datetime(tz).date()
}
