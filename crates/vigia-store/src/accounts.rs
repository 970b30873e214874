//! Organizations, their people and the coalitions they form.

use crate::*;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub org_id: i64,
    pub role: Role,
    pub locale: Locale,
    pub password_hash: String,
}

/// A coalition: organizations that share access attempts with each other.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Coalition {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub members: Vec<i64>,
}

impl Coalition {
    pub fn content_json(&self) -> String {
        serde_json::json!({"id": self.id, "slug": self.slug, "name": self.name, "members": self.members}).to_string()
    }
}

/// Organizations, their people and the coalitions they form.
#[async_trait::async_trait]
pub trait Accounts: Send + Sync {
    async fn create_org(&self, actor: &Actor, slug: &str, name: &str) -> Result<Organization>;
    async fn list_orgs(&self) -> Result<Vec<Organization>>;
    async fn org(&self, id: i64) -> Result<Option<Organization>>;
    async fn org_by_slug(&self, slug: &str) -> Result<Option<Organization>>;

    async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User>;
    /// The user and their password hash.
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>>;
    async fn user(&self, id: i64) -> Result<Option<User>>;
    async fn list_users(&self, org_id: Option<i64>) -> Result<Vec<User>>;
    async fn set_user_disabled(&self, actor: &Actor, user_id: i64, disabled: bool) -> Result<User>;
    async fn set_user_locale(&self, actor: &Actor, user_id: i64, locale: Locale) -> Result<User>;

    async fn create_coalition(&self, actor: &Actor, slug: &str, name: &str) -> Result<Coalition>;
    async fn add_coalition_member(&self, actor: &Actor, coalition_id: i64, org_id: i64) -> Result<Coalition>;
    async fn list_coalitions(&self) -> Result<Vec<Coalition>>;
}
