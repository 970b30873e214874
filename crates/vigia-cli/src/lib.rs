//! The pieces of the `vigia` command that benchmarks and tests reuse.

use anyhow::anyhow;
use vigia_domain::account::{self, Locale};
use vigia_store::{secrets, Actor, DynStore, NewUser};

pub mod archive;
pub mod demo;
pub mod keys;

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
    let (email, name, role) = account::validate_new_user(email, name, role, password).map_err(|e| anyhow!("{e}"))?;
    let pw = password.to_string();
    let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&pw)).await??;
    let user = store
        .create_user(&Actor::SYSTEM, NewUser { email, display_name: name, org_id, role, locale, password_hash: hash })
        .await?;
    Ok(user)
}
