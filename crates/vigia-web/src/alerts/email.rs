//! E-mail notifications (issue #16 part 5): each person chooses, per kind of alert,
//! to be told at once, in a daily digest, or not at all.
//!
//! **Durable and told once.** The worker turns alerts into messages in the store's
//! outbox ([`queue_emails`]) and sends what the outbox holds ([`send_due`]). A message
//! is written in the same transaction that moves the person's watermark past the
//! alerts it tells, under a key unique to it (`alert:{alert}:{person}`, or
//! `digest:{person}:{day}`): however often the worker runs, and across restarts, an
//! alert becomes one message. Sending leases the message (two servers never send the
//! same one at once), retries after a failure with a growing delay, and gives up after
//! [`MAX_ATTEMPTS`]. The one window left is a crash after the SMTP server accepted a
//! message and before the outbox recorded it: that message is sent again, with the same
//! `Message-ID`, so mail programs show it once.
//!
//! **What a message says.** The alert's title and detail in the person's language,
//! when it was raised, and a link: case alerts name the case by its pseudonym, never by
//! the person's data, as the inbox does. A person is only told what the inbox would
//! show them (case alerts only to roles that see cases; an alert about an attempt only
//! while the organization can still see it), and only alerts raised after they chose
//! the kind: turning a kind on does not send the past.

use std::collections::HashMap;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use vigia_domain::account::{Locale, User};
use vigia_store::{now_micros, Alert, DynStore, EmailMode, EmailOutcome, EmailPref};

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Extension;

use crate::auth::Ctx;
use crate::i18n::{tr, tr_args};
use crate::kit::{render, Chrome, FormBody, PageResult};
use crate::routes::Routes;
use crate::state::AppState;
pub use crate::state::MailConfig;

/// Attempts before a message is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long one message may take to send (connection, every SMTP command, the data).
const SEND_LIMIT: Duration = Duration::from_secs(30);
/// Messages claimed at a time; they are sent one after another under one lease.
const SEND_BATCH: i64 = 2;
/// How long claimed messages are held: twice the longest a batch can take, so a slow
/// server never sees its lease run out mid-batch (it claimed twenty under two minutes,
/// each allowed thirty seconds, and another server could send the rest again).
const LEASE: i64 = 2 * SEND_BATCH * SEND_LIMIT.as_micros() as i64;
/// Alerts read for one person in one pass (more wait for the next pass).
const BATCH: i64 = 500;

/// The civil time zone digests are dated in (the Valley of Mexico's).
const DIGEST_ZONE: &str = vigia_domain::geo::LEGAL_TIME_ZONE;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the SMTP settings are not valid: {0}")]
    Settings(String),
    #[error("the store failed: {0}")]
    Store(#[from] vigia_store::StoreError),
}

/// An SMTP connection pool built from [`MailConfig`].
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
            .map_err(|e| MailError::Settings(format!("smtp url: {e}")))?
            .timeout(Some(SEND_LIMIT))
            .build();
        let from = config.from.parse().map_err(|e| MailError::Settings(format!("from: {e}")))?;
        Ok(Self { transport, from })
    }
}

/// The day in the digests' zone, and whether that day's digest is due.
fn digest_clock(now: jiff::Timestamp, hour: i8) -> (jiff::civil::Date, bool) {
    let local = now.to_zoned_datetime(jiff::tz::TimeZone::get(DIGEST_ZONE).unwrap_or(jiff::tz::TimeZone::UTC));
    (local.date(), local.hour() >= hour)
}

/// A subject as one plain line: control characters become spaces, and `=?` (which mail
/// programs would read as the start of an encoded word a name could use to disguise
/// itself) is broken apart.
fn subject_line(s: &str) -> String {
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    flat.replace("=?", "= ?")
}

fn link_of(config: &MailConfig, path: &str) -> String {
    format!("{}{}", config.public_url.trim_end_matches('/'), path)
}

/// One alert as lines of a message: title, detail, when, link.
fn alert_lines(l: Locale, config: &MailConfig, a: &Alert) -> (String, String) {
    let v = crate::kit::alerts::view(l, a);
    let mut body = format!("{}\n{}\n{}", v.title, v.detail, v.when);
    if let Some(link) = &v.link {
        body.push('\n');
        body.push_str(&link_of(config, link));
    }
    (v.title, body)
}

fn footer(l: Locale, config: &MailConfig) -> String {
    format!("\n\n-- \n{}\n{}\n", tr(l, "email-footer"), link_of(config, "/account/email"))
}

/// Turns the alerts raised since each person's watermark into outbox messages: one
/// per alert for kinds chosen "immediately", one digest a day (after `digest_hour`,
/// Mexico City time) for kinds chosen "daily". Returns how many messages were queued.
pub async fn queue_emails(store: &DynStore, config: &MailConfig, now: jiff::Timestamp) -> Result<usize, MailError> {
    let mut by_user: HashMap<i64, Vec<EmailPref>> = HashMap::new();
    for p in store.all_email_prefs().await? {
        by_user.entry(p.user_id).or_default().push(p);
    }
    let (today, digest_due) = digest_clock(now, config.digest_hour);
    let mut queued = 0;
    let mut users: Vec<_> = by_user.into_iter().collect();
    users.sort_by_key(|(id, _)| *id);
    for (user_id, prefs) in users {
        let Some(user) = store.user(user_id).await? else { continue };
        if user.disabled {
            // Nothing is written to a disabled account, and what happens meanwhile is
            // not kept for later: turning it back on does not send a backlog.
            let newest = store.newest_alert(Some(user.org_id)).await?;
            let seen: Vec<(String, i64)> = prefs.iter().map(|p| (p.kind.clone(), newest)).collect();
            store.queue_email(user_id, None, &seen, now_micros()).await?;
            continue;
        }
        let l = user.locale;
        // Each kind is read from its own watermark, so a quiet kind never holds back a busy one.
        let mut immediate: Vec<Alert> = Vec::new();
        let mut daily: Vec<Alert> = Vec::new();
        for p in &prefs {
            let batch = store.alerts_after(user.org_id, &p.kind, p.last_alert_id, BATCH).await?;
            match p.mode {
                EmailMode::Immediate => immediate.extend(batch),
                EmailMode::Daily => daily.extend(batch),
            }
        }
        immediate.sort_by_key(|a| a.id);
        let cited: Vec<i64> = immediate.iter().chain(&daily).filter_map(|a| a.attempt_id).collect();
        let visible: std::collections::HashSet<i64> =
            store.attempts_by_ids(user.org_id, &cited).await?.into_iter().map(|a| a.id).collect();
        let readable = |a: &Alert| {
            vigia_app::alerts::kind_readable(user.role, &a.kind) && a.attempt_id.is_none_or(|id| visible.contains(&id))
        };
        // Immediately: one message per alert, each moving its kind's watermark.
        for a in &immediate {
            let seen = vec![(a.kind.clone(), a.id)];
            if !readable(a) {
                store.queue_email(user_id, None, &seen, now_micros()).await?;
                continue;
            }
            let (title, body) = alert_lines(l, config, a);
            let subject = subject_line(&tr_args(l, "email-subject", &[("title", title)]));
            let body = format!("{}\n\n{body}{}", tr(l, "email-intro"), footer(l, config));
            let key = format!("alert:{}:{user_id}", a.id);
            if store.queue_email(user_id, Some((&key, &subject, &body)), &seen, now_micros()).await? {
                queued += 1;
            }
        }
        // Daily: once the hour has come, everything since the last digest in one message.
        if digest_due && !daily.is_empty() {
            let mut seen: Vec<(String, i64)> = Vec::new();
            for a in &daily {
                match seen.iter_mut().find(|(k, _)| *k == a.kind) {
                    Some(s) => s.1 = s.1.max(a.id),
                    None => seen.push((a.kind.clone(), a.id)),
                }
            }
            let mut told: Vec<&Alert> = daily.iter().filter(|a| readable(a)).collect();
            if told.is_empty() {
                store.queue_email(user_id, None, &seen, now_micros()).await?;
                continue;
            }
            told.sort_by_key(|a| (vigia_app::alerts::severity(a), std::cmp::Reverse(a.id)));
            let day = today.to_string();
            let subject = subject_line(&tr_args(
                l,
                "email-digest-subject",
                &[("day", day.clone()), ("count", told.len().to_string())],
            ));
            let mut body = tr_args(l, "email-digest-intro", &[("day", day.clone())]);
            for a in &told {
                let (_, lines) = alert_lines(l, config, a);
                let mark = if vigia_app::alerts::severity(a) == 0 {
                    format!("[{}] ", tr(l, "alerts-urgent"))
                } else {
                    String::new()
                };
                body.push_str(&format!("\n\n{mark}{lines}"));
            }
            body.push_str(&footer(l, config));
            let key = format!("digest:{user_id}:{day}");
            if store.queue_email(user_id, Some((&key, &subject, &body)), &seen, now_micros()).await? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// Sends the outbox's due messages; returns how many were tried.
pub async fn send_due(store: &DynStore, mailer: &Mailer, retry_base: Duration) -> usize {
    let claimed = std::time::Instant::now();
    let due = match store.claim_emails(now_micros(), LEASE, SEND_BATCH).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the e-mail outbox");
            return 0;
        }
    };
    for m in &due {
        // A message is sent only while the lease will outlast the try (see
        // `vigia_app::webhooks::deliver_due`).
        if (claimed.elapsed() + SEND_LIMIT).as_micros() as i64 >= LEASE {
            break;
        }
        let sent = tokio::time::timeout(SEND_LIMIT, send_one(mailer, m))
            .await
            .unwrap_or_else(|_| Err((format!("no answer within {} s", SEND_LIMIT.as_secs()), false)));
        let outcome = match sent {
            Ok(()) => EmailOutcome::Sent,
            Err((error, permanent)) if permanent || m.attempts + 1 >= MAX_ATTEMPTS => EmailOutcome::Failed { error },
            Err((error, _)) => {
                let wait = vigia_app::webhooks::backoff(retry_base, m.attempts);
                EmailOutcome::Retry { error, next_at: now_micros() + wait.as_micros() as i64 }
            }
        };
        match store.finish_email(m.id, m.lease_until, outcome, now_micros()).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(id = m.id, "an e-mail's lease ran out before its sending was recorded"),
            Err(e) => tracing::error!(error = %e, id = m.id, "cannot record an e-mail's sending"),
        }
    }
    due.len()
}

/// The stable `Message-ID` of an outbox message: a resend after a crash carries the same.
fn message_id(m: &vigia_store::DueEmail) -> String {
    use sha2::Digest;
    let h = hex::encode(sha2::Sha256::digest(m.dedup_key.as_bytes()));
    format!("<{}.{}@vigia.invalid>", m.id, &h[..16])
}

async fn send_one(mailer: &Mailer, m: &vigia_store::DueEmail) -> Result<(), (String, bool)> {
    let to = m.to.parse().map_err(|e| (format!("recipient: {e}"), true))?;
    let msg = Message::builder()
        .from(mailer.from.clone())
        .to(to)
        .subject(m.subject.clone())
        .message_id(Some(message_id(m)))
        .header(ContentType::TEXT_PLAIN)
        .body(m.body.clone())
        .map_err(|e| (format!("message: {e}"), true))?;
    match mailer.transport.send(msg).await {
        Ok(_) => Ok(()),
        Err(e) => Err((e.to_string(), e.is_permanent())),
    }
}

/// Queues and sends, every `interval`, until the process ends.
pub fn spawn(store: DynStore, config: MailConfig, interval: Duration, retry_base: Duration) -> Result<(), MailError> {
    let mailer = Mailer::new(&config)?;
    tokio::spawn(async move {
        // People's watermarks only move when an alert is raised or a digest falls due:
        // while neither happened since the last pass, there is nothing to queue (one
        // query instead of one per person and kind every few seconds).
        let mut done: Option<(i64, Option<jiff::civil::Date>)> = None;
        loop {
            let now = jiff::Timestamp::now();
            let (today, due) = digest_clock(now, config.digest_hour);
            let due_day = due.then_some(today);
            match store.newest_alert(None).await {
                Ok(newest) if done == Some((newest, due_day)) => {}
                Ok(newest) => match queue_emails(&store, &config, now).await {
                    Ok(_) => done = Some((newest, due_day)),
                    Err(e) => tracing::error!(error = %e, "cannot queue e-mails"),
                },
                Err(e) => tracing::error!(error = %e, "cannot read the newest alert"),
            }
            while send_due(&store, &mailer, retry_base).await > 0 {}
            tokio::time::sleep(interval).await;
        }
    });
    Ok(())
}

// ---------------------------------------------------------------------------
// The person's page: which alerts reach them by e-mail, and what was sent.

pub fn routes() -> Routes {
    Routes::default().get("/account/email", prefs_page).post("/account/email", prefs_save)
}

/// The kinds a person with this role may choose (case alerts only for roles that see cases).
fn kinds_for(user: &User) -> Vec<&'static str> {
    vigia_store::ALERT_KINDS.into_iter().filter(|k| vigia_app::alerts::kind_readable(user.role, k)).collect()
}

pub struct KindRow {
    pub kind: &'static str,
    pub label: String,
    pub hint: String,
    pub mode: &'static str,
}

#[derive(Template)]
#[template(path = "alerts/templates/email_prefs.html")]
struct PrefsPage {
    c: Chrome,
    configured: bool,
    error: Option<String>,
    kinds: Vec<KindRow>,
    modes: Vec<(&'static str, String)>,
    digest_hint: String,
    outbox: Vec<(String, String, String)>,
}

async fn prefs_view(
    st: &AppState,
    ctx: &Ctx,
    chosen: &HashMap<String, &'static str>,
    error: Option<String>,
    flash: Option<String>,
    status: StatusCode,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let l = ctx.locale;
    let kinds = kinds_for(&user)
        .into_iter()
        .map(|k| KindRow {
            kind: k,
            label: tr(l, &format!("email-kind-{k}")),
            hint: tr(l, &format!("email-kind-{k}-hint")),
            mode: chosen.get(k).copied().unwrap_or("off"),
        })
        .collect();
    let modes = ["immediate", "daily", "off"].into_iter().map(|m| (m, tr(l, &format!("email-mode-{m}")))).collect();
    let hour = st.config.mail.as_ref().map(|m| m.digest_hour).unwrap_or(7);
    let outbox = st
        .store
        .outbox(user.id, 20)
        .await?
        .into_iter()
        .map(|o| {
            (
                o.subject,
                tr(l, &format!("email-status-{}", o.status)),
                crate::kit::when(o.sent_at.unwrap_or(o.created_at)),
            )
        })
        .collect();
    let page = PrefsPage {
        c: Chrome::new(ctx, "/account/email").flash(flash),
        configured: st.config.mail.is_some(),
        error,
        kinds,
        modes,
        digest_hint: tr_args(l, "email-digest-hint", &[("hour", format!("{hour:02}:00"))]),
        outbox,
    };
    render(status, &page)
}

async fn prefs_page(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let chosen = st.store.email_prefs(user.id).await?.into_iter().filter_map(|p| {
        vigia_store::ALERT_KINDS.into_iter().find(|k| *k == p.kind).map(|k| (k.to_string(), p.mode.as_str()))
    });
    let chosen: HashMap<String, &'static str> = chosen.collect();
    let flash = q.contains_key("saved").then(|| tr(ctx.locale, "email-saved"));
    prefs_view(&st, &ctx, &chosen, None, flash, StatusCode::OK).await
}

async fn prefs_save(
    State(st): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let user = ctx.require_user()?.clone();
    let form = FormBody::checked(&headers, &body, &ctx)?;
    let allowed = kinds_for(&user);
    let mut chosen: HashMap<String, &'static str> = HashMap::new();
    let mut prefs = Vec::new();
    let mut bad = None;
    for (k, v) in &form.pairs {
        let Some(kind) = allowed.iter().find(|a| **a == k.as_str()) else {
            bad = Some(k.clone());
            continue;
        };
        match v.as_str() {
            "off" => {
                chosen.insert(kind.to_string(), "off");
            }
            m => match EmailMode::parse(m) {
                Some(mode) => {
                    chosen.insert(kind.to_string(), mode.as_str());
                    prefs.retain(|(pk, _): &(String, EmailMode)| pk != kind);
                    prefs.push((kind.to_string(), mode));
                }
                None => bad = Some(kind.to_string()),
            },
        }
    }
    if let Some(field) = bad {
        let label =
            if allowed.contains(&field.as_str()) { tr(ctx.locale, &format!("email-kind-{field}")) } else { field };
        let msg = tr_args(ctx.locale, "email-bad-choice", &[("kind", label)]);
        return prefs_view(&st, &ctx, &chosen, Some(msg), None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    st.store.set_email_prefs(&ctx.actor(), user.id, &prefs).await?;
    Ok(Redirect::to("/account/email?saved=1").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: &str, payload: serde_json::Value) -> Alert {
        Alert {
            id: 1,
            org_id: 1,
            kind: kind.into(),
            attempt_id: None,
            payload: payload.to_string(),
            created_at: 0,
            read_at: None,
        }
    }

    use vigia_app::alerts::severity;

    #[test]
    fn a_subject_is_one_line_that_cannot_smuggle_an_encoded_word() {
        assert_eq!(subject_line("Vigía: Evil\r\nBcc: x@y"), "Vigía: Evil  Bcc: x@y");
        assert_eq!(subject_line("Centro =?utf-8?q?hi?="), "Centro = ?utf-8?q?hi?=");
    }

    #[test]
    fn an_overdue_detention_comes_before_a_refusal() {
        let overdue = alert("deadline", serde_json::json!({"state": "overdue"}));
        let soon = alert("deadline", serde_json::json!({"state": "due_soon"}));
        let violation = alert("violation", serde_json::json!({"state": "ongoing"}));
        let refusal = alert("denial", serde_json::json!({}));
        assert_eq!(severity(&overdue), 0);
        assert_eq!(severity(&violation), 0);
        assert_eq!(severity(&soon), 1);
        assert_eq!(severity(&alert("episode", serde_json::json!({}))), 1);
        assert_eq!(severity(&refusal), 2);
    }

    #[tokio::test]
    async fn settings_that_do_not_parse_are_refused() {
        let c = MailConfig {
            smtp_url: "smtp://127.0.0.1:2525".into(),
            from: "not an address".into(),
            public_url: "http://127.0.0.1".into(),
            digest_hour: 7,
        };
        assert!(matches!(Mailer::new(&c), Err(MailError::Settings(_))));
        let c = MailConfig { smtp_url: "ftp://x".into(), from: "Vigía <a@b.example>".into(), ..c };
        assert!(matches!(Mailer::new(&c), Err(MailError::Settings(_))));
        // STARTTLS (required or opportunistic) and TLS from the start are all understood.
        for url in [
            "smtp://user:secret@mail.example.org:587?tls=required",
            "smtp://mail.example.org:587?tls=opportunistic",
            "smtps://user:secret@mail.example.org:465",
        ] {
            assert!(Mailer::new(&MailConfig { smtp_url: url.into(), ..c.clone() }).is_ok(), "{url}");
        }
    }
}
