//! Signing in and staying signed in: failed logins, sessions, second factors, password resets, API tokens.

use crate::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user_id: i64,
    pub csrf: String,
    pub created_at: Micros,
    pub last_seen_at: Micros,
    /// When the user last confirmed their password in this session.
    pub reauth_at: Option<Micros>,
    /// Whom the session is for.
    pub caller: Caller,
}

/// A session as its user sees it in their list: `id` is a prefix of the token's hash,
/// enough to name it, useless to sign in with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: Micros,
    pub last_seen_at: Micros,
}

/// Who a request speaks for, found with its live session ([`SessionRow::caller`]) or
/// API token ([`SignIn::api_caller`]) in the same query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: User,
    pub org: Option<Organization>,
    /// The organization requires two-step sign-in and the user has not turned it on.
    pub two_factor_missing: bool,
    /// [`crate::Access::data_version`], read in the same query: every request that uses
    /// kept answers needs it, and on PostgreSQL each question is a round trip.
    pub data_version: (i64, i64, i64),
}

/// A user's TOTP secret, opened, and whether it is confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpState {
    pub secret: Vec<u8>,
    pub enabled: bool,
    pub last_step: Option<i64>,
}

/// A sign-in that passed the password and waits for its second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginChallenge {
    pub user_id: i64,
    pub next: String,
    pub attempts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: Micros,
    pub revoked_at: Option<Micros>,
    /// After this it signs nothing in ([`API_TOKEN_LIFETIME`] after creation).
    pub expires_at: Option<Micros>,
    /// Recorded at most once a minute.
    pub last_used_at: Option<Micros>,
}

/// How long an API token works: 90 days (ASVS 3.5; a script's owner makes a new one).
pub const API_TOKEN_LIFETIME: Micros = 90 * 86_400 * 1_000_000;

/// Signing in and staying signed in: failed logins, sessions, second factors, password resets, API tokens.
#[async_trait::async_trait]
pub trait SignIn: Send + Sync {
    async fn record_login_failure(&self, email: &str, at: Micros) -> Result<()>;
    async fn login_failures_since(&self, email: &str, since: Micros) -> Result<i64>;
    async fn clear_login_failures(&self, email: &str) -> Result<()>;

    async fn create_session(&self, token_hash: &str, user_id: i64, csrf: &str, now: Micros) -> Result<()>;
    /// The live session with this token, touched; `None` when absent or expired.
    async fn session(
        &self,
        token_hash: &str,
        now: Micros,
        idle_timeout: Micros,
        absolute_timeout: Micros,
    ) -> Result<Option<SessionRow>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// The user's live sessions, most recent first.
    async fn user_sessions(&self, user_id: i64) -> Result<Vec<SessionInfo>>;
    /// Ends one of the user's sessions by its listed id; false when there is none.
    async fn end_user_session(&self, user_id: i64, id: &str) -> Result<bool>;
    /// Records that the session's user just confirmed their password.
    async fn mark_reauth(&self, token_hash: &str, now: Micros) -> Result<()>;

    /// Stores a new, not yet confirmed TOTP secret (sealed), replacing any pending one.
    async fn totp_setup(&self, user_id: i64, org_id: i64, secret: &[u8], now: Micros) -> Result<()>;
    async fn totp(&self, user_id: i64, org_id: i64) -> Result<Option<TotpState>>;
    /// Confirms the secret (the first code's step is remembered) and replaces the
    /// recovery codes with these hashes, audited.
    async fn totp_enable(&self, actor: &Actor, user_id: i64, step: i64, recovery_hashes: &[String]) -> Result<()>;
    async fn totp_disable(&self, actor: &Actor, user_id: i64) -> Result<()>;
    /// Accepts a code's step only if it is later than the last one used (a code is
    /// good once, even between two servers).
    async fn totp_use_step(&self, user_id: i64, step: i64) -> Result<bool>;
    /// Uses up a recovery code; false if it is unknown or used.
    async fn use_recovery_code(&self, actor: &Actor, user_id: i64, code_hash: &str) -> Result<bool>;
    async fn recovery_codes_left(&self, user_id: i64) -> Result<i64>;
    /// Replaces a user's password hash, ends every other session (all but the one whose
    /// token hash is `keep`), and records the change.
    async fn set_password(&self, actor: &Actor, user_id: i64, password_hash: &str, keep: Option<&str>) -> Result<()>;
    /// Stores a one-time password reset (its token's hash) for a user, valid until
    /// `expires_at`, with an audit entry.
    async fn create_password_reset(
        &self,
        actor: &Actor,
        user_id: i64,
        token_hash: &str,
        expires_at: Micros,
    ) -> Result<()>;
    /// The user a reset is for, if it is unused and unexpired.
    async fn password_reset_user(&self, token_hash: &str, now: Micros) -> Result<Option<i64>>;
    /// Uses a reset: sets the password, ends every session, marks the reset used, in
    /// one transaction; `None` if it was not (any longer) valid.
    async fn use_password_reset(&self, token_hash: &str, now: Micros, password_hash: &str) -> Result<Option<i64>>;
    /// Records in the audit history that a user's second factor was locked after
    /// `failures` wrong codes (until `until`), so the organization can see it.
    async fn second_factor_locked(&self, user_id: i64, failures: i64, until: Micros) -> Result<()>;
    async fn create_login_challenge(&self, token_hash: &str, user_id: i64, next: &str, now: Micros) -> Result<()>;
    /// The challenge if it is younger than `max_age`; expired ones are removed.
    async fn login_challenge(&self, token_hash: &str, now: Micros, max_age: Micros) -> Result<Option<LoginChallenge>>;
    async fn bump_login_challenge(&self, token_hash: &str) -> Result<()>;
    async fn delete_login_challenge(&self, token_hash: &str) -> Result<()>;
    async fn org_requires_2fa(&self, org_id: i64) -> Result<bool>;
    /// Whether the user's organization requires two-step sign-in and the user has not
    /// turned it on: one query, on every request, with nothing unsealed.
    async fn two_factor_missing(&self, user_id: i64, org_id: i64) -> Result<bool>;
    async fn set_org_requires_2fa(&self, actor: &Actor, org_id: i64, on: bool) -> Result<()>;

    async fn create_api_token(&self, actor: &Actor, user_id: i64, name: &str, token_hash: &str) -> Result<ApiToken>;
    /// The user a live token belongs to: not revoked, not expired. Notes its use.
    async fn user_by_api_token(&self, token_hash: &str) -> Result<Option<User>> {
        Ok(self.api_caller(token_hash).await?.map(|c| c.user))
    }
    /// [`SignIn::user_by_api_token`] with what every request through the token needs:
    /// the organization, and whether it requires a second factor the user has not
    /// turned on ([`SignIn::two_factor_missing`]). One query.
    async fn api_caller(&self, token_hash: &str) -> Result<Option<Caller>>;
    /// A user's tokens, newest first, revoked and expired ones included.
    async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>>;
    /// Revokes one of a user's tokens (NotFound if it is not theirs or already revoked).
    async fn revoke_api_token(&self, actor: &Actor, user_id: i64, id: i64) -> Result<()>;
}
