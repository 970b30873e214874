//! The pieces of the `vigia` command that benchmarks and tests reuse.

use anyhow::anyhow;
use vigia_app::accounts::{create_user, NewAccount};
use vigia_app::AppError;
use vigia_domain::account::Locale;
use vigia_store::{Actor, DynStore};

pub mod archive;
pub mod demo;
pub mod imports;
pub mod keys;
pub mod synth;

/// Validates and adds a user, hashing the password off the async executor.
pub async fn add_user(
    store: &DynStore,
    email: &str,
    name: &str,
    role: &str,
    org_id: i64,
    locale: Locale,
    password: &str,
) -> anyhow::Result<vigia_domain::account::User> {
    let new = NewAccount { email, display_name: name, role, password, org_id, locale };
    match create_user(store, &Actor::SYSTEM, new).await {
        Ok(user) => Ok(user),
        Err(AppError::Invalid(e)) => Err(anyhow!("{e}")),
        Err(AppError::Store(e)) => Err(e.into()),
        Err(AppError::Internal(e)) => Err(anyhow!(e)),
    }
}
