//! Alerts, webhooks and e-mail: what is raised, and its durable outboxes.

use crate::*;

/// The most alerts one read returns.
pub const MAX_ALERTS: i64 = 100_000;

/// An entry in an organization's alerts inbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Alert {
    pub id: i64,
    pub org_id: i64,
    pub kind: String,
    pub attempt_id: Option<i64>,
    /// The JSON document webhooks receive.
    pub payload: String,
    pub created_at: Micros,
    pub read_at: Option<Micros>,
}

/// A registered webhook (its secret stays sealed in the store).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Webhook {
    pub id: i64,
    pub org_id: i64,
    pub url: String,
    pub active: bool,
    /// Deleted by an admin: it sends nothing and leaves the lists; the row stays.
    pub deleted: bool,
    pub created_at: Micros,
}

impl Webhook {
    pub fn content_json(&self) -> String {
        let mut v = serde_json::json!({"id": self.id, "org_id": self.org_id, "url": self.url, "active": self.active});
        // Written only once deleted, so webhooks audited before deletion existed keep
        // the same content, byte for byte.
        if self.deleted {
            v["deleted"] = true.into();
        }
        v.to_string()
    }
}

/// What an admin can make of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookState {
    Active,
    Disabled,
    /// Final: a deleted webhook cannot be turned on again.
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub alert_id: i64,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Micros,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Micros,
    pub delivered_at: Option<Micros>,
}

/// A delivery claimed for sending, with what it needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    /// The end of this claim's lease: its outcome is recorded only while the row is still
    /// leased until then (see [`Alerts::finish_delivery`]).
    pub lease_until: Micros,
    pub attempts: i64,
    pub url: String,
    pub secret: String,
    pub payload: String,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered { status: i64 },
    Retry { status: Option<i64>, error: String, next_at: Micros },
    Failed { status: Option<i64>, error: String },
}

/// How often a kind of alert reaches a person by e-mail (not at all when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailMode {
    Immediate,
    Daily,
}

impl EmailMode {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailMode::Immediate => "immediate",
            EmailMode::Daily => "daily",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "immediate" => Some(EmailMode::Immediate),
            "daily" => Some(EmailMode::Daily),
            _ => None,
        }
    }
}

/// The kinds of alert a person can choose to receive by e-mail.
pub const ALERT_KINDS: [&str; 7] = ["deadline", "violation", "episode", "denial", "statistics", "request", "retention"];

/// One person's choice for one kind of alert, with the last alert already considered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmailPref {
    pub user_id: i64,
    pub kind: String,
    pub mode: EmailMode,
    pub last_alert_id: i64,
}

/// A message claimed for sending, with its recipient as the account has it now.
#[derive(Debug, Clone)]
pub struct DueEmail {
    pub id: i64,
    /// The end of this claim's lease (see [`Alerts::finish_email`]).
    pub lease_until: Micros,
    pub user_id: i64,
    pub to: String,
    pub dedup_key: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// A message in the outbox, as the person's account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub attempts: i64,
    pub created_at: Micros,
    pub sent_at: Option<Micros>,
    pub last_error: Option<String>,
}

/// How a sending attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailOutcome {
    Sent,
    Retry { error: String, next_at: Micros },
    Failed { error: String },
}

/// Alerts, webhooks and e-mail: what is raised, and its durable outboxes.
#[async_trait::async_trait]
pub trait Alerts: Send + Sync {
    /// Registers a webhook for an organization; the secret is sealed.
    async fn create_webhook(&self, actor: &Actor, org_id: i64, url: &str, secret: &str) -> Result<Webhook>;
    /// The organization's webhooks, deleted ones left out.
    async fn webhooks(&self, org_id: i64) -> Result<Vec<Webhook>>;
    /// Turns a webhook on or off, or deletes it, with an audit entry; deliveries not yet
    /// sent are given up. Not found for another organization's or a deleted webhook.
    async fn set_webhook_state(&self, actor: &Actor, org_id: i64, id: i64, state: WebhookState) -> Result<Webhook>;
    /// The organization's alerts, newest first.
    async fn alerts(&self, org_id: i64, limit: i64) -> Result<Vec<Alert>>;
    async fn mark_alert_read(&self, org_id: i64, id: i64, at: Micros) -> Result<()>;
    /// Raises an alert unless one with the same key exists for the organization, with
    /// a delivery for each of its active webhooks, in one transaction.
    async fn raise_alert(
        &self,
        org_id: i64,
        kind: &str,
        dedup_key: &str,
        attempt_id: Option<i64>,
        payload: &str,
    ) -> Result<Option<Alert>>;
    /// How many of the organization's alerts are unread, as the inbox counts them: case
    /// alerts only when `with_cases`, an alert about an attempt only while the
    /// organization can still see it.
    async fn count_unread_alerts(&self, org_id: i64, with_cases: bool) -> Result<i64>;
    /// The organization's alerts of one kind after `after_id`, oldest first.
    async fn alerts_after(&self, org_id: i64, kind: &str, after_id: i64, limit: i64) -> Result<Vec<Alert>>;
    /// The newest alert id of the organization, or of all when `None` (0 when none).
    async fn newest_alert(&self, org_id: Option<i64>) -> Result<i64>;
    /// A person's e-mail choices, one per kind they receive.
    async fn email_prefs(&self, user_id: i64) -> Result<Vec<EmailPref>>;
    /// Every person's e-mail choices (disabled people's too: their watermarks move on
    /// while they are disabled, so turning them back on does not send the backlog).
    async fn all_email_prefs(&self) -> Result<Vec<EmailPref>>;
    /// Replaces a person's e-mail choices, with an audit entry. A kind newly chosen
    /// starts after the organization's newest alert: the past is not sent.
    async fn set_email_prefs(
        &self,
        actor: &Actor,
        user_id: i64,
        prefs: &[(String, EmailMode)],
    ) -> Result<Vec<EmailPref>>;
    /// Puts a message in the outbox unless one with the same key exists, and moves the
    /// person's watermarks to `seen` (kind, last alert id) in the same transaction.
    /// Returns whether the message is new. With no message, only moves the watermarks.
    async fn queue_email(
        &self,
        user_id: i64,
        message: Option<(&str, &str, &str)>,
        seen: &[(String, i64)],
        now: Micros,
    ) -> Result<bool>;
    /// Leases due messages until `now + lease` (see [`Alerts::claim_deliveries`]); a
    /// message to a disabled person is given up.
    async fn claim_emails(&self, now: Micros, lease: Micros, limit: i64) -> Result<Vec<DueEmail>>;
    /// Records how sending a claimed message ended, only while the row is still leased
    /// under this claim (`locked_until = lease_until`); returns whether it did. A sender
    /// whose lease another claim has replaced records nothing.
    async fn finish_email(&self, id: i64, lease_until: Micros, outcome: EmailOutcome, now: Micros) -> Result<bool>;
    /// A person's messages, newest first.
    async fn outbox(&self, user_id: i64, limit: i64) -> Result<Vec<OutboxEntry>>;
    /// The organization's webhook deliveries, newest first.
    async fn deliveries(&self, org_id: i64, limit: i64) -> Result<Vec<Delivery>>;
    /// Leases due deliveries until `now + lease`, so several servers never send the same
    /// one at once; a crashed sender's lease simply expires.
    async fn claim_deliveries(&self, now: Micros, lease: Micros, limit: i64) -> Result<Vec<DueDelivery>>;
    /// Records how a claimed delivery's try ended, only while the row is still leased
    /// under this claim (`locked_until = lease_until`); returns whether it did. A late
    /// sender (paused past its lease by a slow database or a stopped process) then cannot
    /// overwrite the outcome, try count or lease of a server that claimed the delivery
    /// after it; with no later claim, its outcome is recorded late.
    async fn finish_delivery(
        &self,
        id: i64,
        lease_until: Micros,
        outcome: DeliveryOutcome,
        now: Micros,
    ) -> Result<bool>;
}
