//! Adding a user, from the admin page and from `vigia user add` alike.

use vigia_domain::account::{validate_new_user, Locale, User};
use vigia_store::{secrets, Actor, DynStore, NewUser};

use crate::AppError;

/// What a new account is made from, as typed.
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub password: &'a str,
    pub org_id: i64,
    pub locale: Locale,
}

/// Validates and adds a user, hashing the password off the async executor. A taken
/// e-mail address is the store's `Conflict`.
pub async fn create_user(store: &DynStore, actor: &Actor, new: NewAccount<'_>) -> Result<User, AppError> {
    let (email, display_name, role) = validate_new_user(new.email, new.display_name, new.role, new.password)?;
    let pw = new.password.to_string();
    let password_hash = tokio::task::spawn_blocking(move || secrets::hash_password(&pw))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let user = store
        .create_user(
            actor,
            NewUser { email, display_name, org_id: new.org_id, role, locale: new.locale, password_hash },
        )
        .await?;
    Ok(user)
}
