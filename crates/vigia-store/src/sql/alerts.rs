use super::*;

fn alert_from_row(r: &DbRow) -> Result<Alert> {
    Ok(Alert {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        kind: r.try_get("kind")?,
        attempt_id: r.try_get("attempt_id")?,
        payload: r.try_get("payload")?,
        created_at: r.try_get("created_at")?,
        read_at: r.try_get("read_at")?,
    })
}

fn email_pref_from_row(r: &DbRow) -> Result<EmailPref> {
    let mode: String = r.try_get("mode")?;
    Ok(EmailPref {
        user_id: r.try_get("user_id")?,
        kind: r.try_get("kind")?,
        mode: EmailMode::parse(&mode).ok_or_else(|| StoreError::Corrupt(format!("e-mail mode {mode:?}")))?,
        last_alert_id: r.try_get("last_alert_id")?,
    })
}

pub(super) fn webhook_from_row(r: &DbRow) -> Result<Webhook> {
    Ok(Webhook {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        url: r.try_get("url")?,
        active: r.try_get("active")?,
        deleted: r.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
        created_at: r.try_get("created_at")?,
    })
}

fn delivery_from_row(r: &DbRow) -> Result<Delivery> {
    Ok(Delivery {
        id: r.try_get("id")?,
        webhook_id: r.try_get("webhook_id")?,
        alert_id: r.try_get("alert_id")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        delivered_at: r.try_get("delivered_at")?,
    })
}

/// Inserts an alert (unless its key exists for the organization) and a pending
/// delivery for each active webhook, inside the caller's transaction.
async fn raise_in_tx(
    w: &mut WriteTx,
    org_id: i64,
    kind: &str,
    dedup_key: &str,
    attempt_id: Option<i64>,
    payload: &str,
) -> Result<Option<Alert>> {
    let row = sqlx::query(
        "INSERT INTO alerts (org_id, kind, dedup_key, attempt_id, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (org_id, dedup_key) DO NOTHING RETURNING id",
    )
    .bind(org_id)
    .bind(kind)
    .bind(dedup_key)
    .bind(attempt_id)
    .bind(payload)
    .bind(w.now)
    .fetch_optional(&mut *w.tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let id: i64 = row.try_get("id")?;
    sqlx::query(
        "INSERT INTO deliveries (webhook_id, alert_id, status, attempts, next_attempt_at, created_at) \
         SELECT id, $1, 'pending', 0, $2, $2 FROM webhooks WHERE org_id = $3 AND active = $4",
    )
    .bind(id)
    .bind(w.now)
    .bind(org_id)
    .bind(true)
    .execute(&mut *w.tx)
    .await?;
    Ok(Some(Alert {
        id,
        org_id,
        kind: kind.to_string(),
        attempt_id,
        payload: payload.to_string(),
        created_at: w.now,
        read_at: None,
    }))
}

/// Alerts every organization that can see a refusal: its own, and its coalition
/// partners when the attempt is shared.
pub(super) async fn alert_refusal(w: &mut WriteTx, a: &Attempt) -> Result<()> {
    // Who is told is the domain's rule (`tenancy::readers`); only the coalitions the
    // owner belongs to are read here.
    let shared = a.draft.visibility == Visibility::Coalition;
    let mut coalitions: std::collections::BTreeMap<i64, Vec<i64>> = std::collections::BTreeMap::new();
    if shared {
        let rows = sqlx::query(
            "SELECT m1.coalition_id, m2.org_id FROM coalition_members m1 JOIN coalition_members m2 \
             ON m1.coalition_id = m2.coalition_id WHERE m1.org_id = $1",
        )
        .bind(a.org_id)
        .fetch_all(&mut *w.tx)
        .await?;
        for r in &rows {
            coalitions.entry(r.try_get("coalition_id")?).or_default().push(r.try_get("org_id")?);
        }
    }
    let partners = vigia_domain::tenancy::Partners::from_coalitions(coalitions.values().map(Vec::as_slice));
    let recipients = vigia_domain::tenancy::readers(a.org_id, shared, &partners);
    let facility: Option<String> = sqlx::query("SELECT name FROM facilities WHERE id = $1")
        .bind(a.draft.facility_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .map(|r| r.try_get("name"))
        .transpose()?;
    let org: Option<String> = sqlx::query("SELECT name FROM organizations WHERE id = $1")
        .bind(a.org_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .map(|r| r.try_get("name"))
        .transpose()?;
    let payload = serde_json::json!({
        "type": "access.refused",
        "attempt_id": a.id, "organization_id": a.org_id, "organization": org,
        "facility_id": a.draft.facility_id, "facility": facility,
        "attempted_at": vigia_domain::format_instant(a.draft.attempted_at),
        "outcome": a.draft.outcome, "reason_category": a.draft.reason_category,
    })
    .to_string();
    for org_id in recipients {
        raise_in_tx(w, org_id, "denial", &format!("attempt:{}", a.id), Some(a.id), &payload).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl crate::Alerts for SqlStore {
    async fn create_webhook(&self, actor: &Actor, org_id: i64, url: &str, secret: &str) -> Result<Webhook> {
        let sealer = self.vault.sealer(org_id, self.current_key_version(org_id).await?)?;
        let mut w = self.begin().await?;
        let id = w.next_id("webhooks").await?;
        let sealed = sealer.seal(WEBHOOK_FIELD, id, secret.as_bytes())?;
        sqlx::query(
            "INSERT INTO webhooks (id, org_id, url, secret_sealed, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(org_id)
        .bind(url)
        .bind(&sealed)
        .bind(true)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await?;
        let hook = Webhook { id, org_id, url: url.to_string(), active: true, deleted: false, created_at: w.now };
        w.audit(actor, Some(org_id), "create", RecordType::Webhook, id, &hook.content_json()).await?;
        w.commit().await?;
        Ok(hook)
    }

    async fn webhooks(&self, org_id: i64) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(
            "SELECT id, org_id, url, active, deleted_at, created_at FROM webhooks \
             WHERE org_id = $1 AND deleted_at IS NULL ORDER BY id",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    async fn set_webhook_state(&self, actor: &Actor, org_id: i64, id: i64, state: WebhookState) -> Result<Webhook> {
        let mut w = self.begin().await?;
        let active = state == WebhookState::Active;
        let deleted_at = (state == WebhookState::Deleted).then_some(w.now);
        let row = sqlx::query(
            "UPDATE webhooks SET active = $1, deleted_at = $2 WHERE id = $3 AND org_id = $4 AND deleted_at IS NULL \
             RETURNING id, org_id, url, active, deleted_at, created_at",
        )
        .bind(active)
        .bind(deleted_at)
        .bind(id)
        .bind(org_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let hook = webhook_from_row(&row)?;
        if !active {
            sqlx::query(
                "UPDATE deliveries SET status = 'failed', last_error = $1 WHERE webhook_id = $2 AND status = 'pending'",
            )
            .bind(if deleted_at.is_some() { "webhook deleted" } else { "webhook disabled" })
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        }
        let action = match state {
            WebhookState::Active => "enable",
            WebhookState::Disabled => "disable",
            WebhookState::Deleted => "delete",
        };
        w.audit(actor, Some(org_id), action, RecordType::Webhook, id, &hook.content_json()).await?;
        w.commit().await?;
        Ok(hook)
    }

    async fn alerts(&self, org_id: i64, limit: i64) -> Result<Vec<Alert>> {
        let rows = sqlx::query(
            "SELECT id, org_id, kind, attempt_id, payload, created_at, read_at FROM alerts WHERE org_id = $1 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(org_id)
        .bind(limit.clamp(1, crate::MAX_ALERTS))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    async fn mark_alert_read(&self, org_id: i64, id: i64, at: Micros) -> Result<()> {
        let done = sqlx::query("UPDATE alerts SET read_at = $1 WHERE id = $2 AND org_id = $3 AND read_at IS NULL")
            .bind(at)
            .bind(id)
            .bind(org_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT id FROM alerts WHERE id = $1 AND org_id = $2")
                .bind(id)
                .bind(org_id)
                .fetch_optional(&self.pool)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        Ok(())
    }

    async fn raise_alert(
        &self,
        org_id: i64,
        kind: &str,
        dedup_key: &str,
        attempt_id: Option<i64>,
        payload: &str,
    ) -> Result<Option<Alert>> {
        let mut w = self.begin().await?;
        let a = raise_in_tx(&mut w, org_id, kind, dedup_key, attempt_id, payload).await?;
        w.commit().await?;
        Ok(a)
    }

    async fn count_unread_alerts(&self, org_id: i64, with_cases: bool) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM alerts x WHERE x.org_id = $1 AND x.read_at IS NULL \
             AND ($2 OR x.kind NOT IN ('deadline', 'violation')) \
             AND (x.attempt_id IS NULL OR EXISTS (SELECT 1 FROM access_attempts a WHERE a.id = x.attempt_id AND {VISIBLE_TO}))"
        );
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .bind(with_cases)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok(n)
    }

    async fn newest_alert(&self, org_id: Option<i64>) -> Result<i64> {
        let row = match org_id {
            Some(org) => {
                sqlx::query("SELECT MAX(id) AS m FROM alerts WHERE org_id = $1").bind(org).fetch_one(&self.pool).await?
            }
            None => sqlx::query("SELECT MAX(id) AS m FROM alerts").fetch_one(&self.pool).await?,
        };
        let n: Option<i64> = row.try_get("m")?;
        Ok(n.unwrap_or(0))
    }

    async fn alerts_after(&self, org_id: i64, kind: &str, after_id: i64, limit: i64) -> Result<Vec<Alert>> {
        let rows = sqlx::query(
            "SELECT id, org_id, kind, attempt_id, payload, created_at, read_at FROM alerts WHERE org_id = $1 AND id > $2 \
             AND kind = $4 ORDER BY id LIMIT $3",
        )
        .bind(org_id)
        .bind(after_id)
        .bind(limit.clamp(1, crate::MAX_ALERTS))
        .bind(kind)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    async fn email_prefs(&self, user_id: i64) -> Result<Vec<EmailPref>> {
        let rows =
            sqlx::query("SELECT user_id, kind, mode, last_alert_id FROM email_prefs WHERE user_id = $1 ORDER BY kind")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(email_pref_from_row).collect()
    }

    async fn all_email_prefs(&self) -> Result<Vec<EmailPref>> {
        let rows = sqlx::query(
            "SELECT p.user_id, p.kind, p.mode, p.last_alert_id FROM email_prefs p ORDER BY p.user_id, p.kind",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(email_pref_from_row).collect()
    }

    async fn set_email_prefs(
        &self,
        actor: &Actor,
        user_id: i64,
        prefs: &[(String, EmailMode)],
    ) -> Result<Vec<EmailPref>> {
        for (kind, _) in prefs {
            if !crate::ALERT_KINDS.contains(&kind.as_str()) {
                return Err(StoreError::Invalid(ValidationErrors::single("kind", "unknown_choice")));
            }
        }
        let mut w = self.begin().await?;
        let org_id: i64 = sqlx::query("SELECT org_id FROM memberships WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get("org_id")?;
        let newest: Option<i64> = sqlx::query("SELECT MAX(id) AS m FROM alerts WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("m")?;
        let before: HashMap<String, (String, i64)> =
            sqlx::query("SELECT kind, mode, last_alert_id FROM email_prefs WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&mut *w.tx)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("kind")?, (r.try_get("mode")?, r.try_get("last_alert_id")?))))
                .collect::<Result<_>>()?;
        sqlx::query("DELETE FROM email_prefs WHERE user_id = $1").bind(user_id).execute(&mut *w.tx).await?;
        let now = now_micros();
        let mut kept = Vec::new();
        for (kind, mode) in prefs {
            // A kind already received keeps its watermark: changing how often is not
            // a reason to skip or repeat alerts.
            let mark = before.get(kind).map(|b| b.1).unwrap_or(newest.unwrap_or(0));
            sqlx::query(
                "INSERT INTO email_prefs (user_id, kind, mode, last_alert_id, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (user_id, kind) DO UPDATE SET mode = $3, updated_at = $5",
            )
            .bind(user_id)
            .bind(kind)
            .bind(mode.as_str())
            .bind(mark)
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
            kept.push(EmailPref { user_id, kind: kind.clone(), mode: *mode, last_alert_id: mark });
        }
        kept.sort_by(|a, b| a.kind.cmp(&b.kind));
        let content = serde_json::json!({
            "user_id": user_id,
            "email": kept.iter().map(|p| (p.kind.clone(), p.mode.as_str())).collect::<std::collections::BTreeMap<_, _>>(),
        })
        .to_string();
        w.audit(actor, Some(org_id), "set_email_prefs", RecordType::EmailPrefs, user_id, &content).await?;
        w.commit().await?;
        Ok(kept)
    }

    async fn queue_email(
        &self,
        user_id: i64,
        message: Option<(&str, &str, &str)>,
        seen: &[(String, i64)],
        now: Micros,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let mut new = false;
        if let Some((key, subject, body)) = message {
            let inserted = sqlx::query(
                "INSERT INTO outbox (user_id, dedup_key, subject, body, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) ON CONFLICT (dedup_key) DO NOTHING",
            )
            .bind(user_id)
            .bind(key)
            .bind(subject)
            .bind(body)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            new = inserted.rows_affected() > 0;
            if !new {
                // Already queued (by this worker before a restart, or another one):
                // the watermarks moved with it then.
                tx.rollback().await?;
                return Ok(false);
            }
        }
        for (kind, last) in seen {
            sqlx::query(
                "UPDATE email_prefs SET last_alert_id = $1 WHERE user_id = $2 AND kind = $3 AND last_alert_id < $1",
            )
            .bind(*last)
            .bind(user_id)
            .bind(kind)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    async fn claim_emails(&self, now: Micros, lease: Micros, limit: i64) -> Result<Vec<DueEmail>> {
        let rows = sqlx::query(
            "UPDATE outbox SET locked_until = $2 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' \
             AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until < $1) ORDER BY id LIMIT $3) \
             AND status = 'pending' AND (locked_until IS NULL OR locked_until < $1) \
             RETURNING id, user_id, dedup_key, subject, body, attempts",
        )
        .bind(now)
        .bind(now + lease)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let user_id: i64 = r.try_get("user_id")?;
            let to = match crate::Accounts::user(self, user_id).await? {
                Some(u) if !u.disabled => u.email,
                _ => {
                    sqlx::query(
                        "UPDATE outbox SET status = 'failed', last_error = $1, locked_until = NULL WHERE id = $2",
                    )
                    .bind("the account is disabled")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                    continue;
                }
            };
            out.push(DueEmail {
                id,
                lease_until: now + lease,
                user_id,
                to,
                dedup_key: r.try_get("dedup_key")?,
                subject: r.try_get("subject")?,
                body: r.try_get("body")?,
                attempts: r.try_get("attempts")?,
            });
        }
        Ok(out)
    }

    async fn finish_email(&self, id: i64, lease_until: Micros, outcome: EmailOutcome, now: Micros) -> Result<bool> {
        let q = match &outcome {
            EmailOutcome::Sent => sqlx::query(
                "UPDATE outbox SET status = 'sent', attempts = attempts + 1, last_error = NULL, sent_at = $1, \
                 locked_until = NULL WHERE id = $2 AND locked_until = $3",
            )
            .bind(now)
            .bind(id),
            EmailOutcome::Retry { error, next_at } => sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, locked_until = NULL \
                 WHERE id = $3 AND locked_until = $4",
            )
            .bind(error.clone())
            .bind(*next_at)
            .bind(id),
            EmailOutcome::Failed { error } => sqlx::query(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $1, locked_until = NULL \
                 WHERE id = $2 AND locked_until = $3",
            )
            .bind(error.clone())
            .bind(id),
        };
        Ok(q.bind(lease_until).execute(&self.pool).await?.rows_affected() == 1)
    }

    async fn outbox(&self, user_id: i64, limit: i64) -> Result<Vec<OutboxEntry>> {
        let rows = sqlx::query(
            "SELECT id, subject, status, attempts, created_at, sent_at, last_error FROM outbox WHERE user_id = $1 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxEntry {
                    id: r.try_get("id")?,
                    subject: r.try_get("subject")?,
                    status: r.try_get("status")?,
                    attempts: r.try_get("attempts")?,
                    created_at: r.try_get("created_at")?,
                    sent_at: r.try_get("sent_at")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }

    async fn deliveries(&self, org_id: i64, limit: i64) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT d.id, d.webhook_id, d.alert_id, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error, \
             d.created_at, d.delivered_at FROM deliveries d JOIN webhooks h ON h.id = d.webhook_id \
             WHERE h.org_id = $1 ORDER BY d.id DESC LIMIT $2",
        )
        .bind(org_id)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn claim_deliveries(&self, now: Micros, lease: Micros, limit: i64) -> Result<Vec<DueDelivery>> {
        // The outer conditions repeat the inner ones so that, when two servers race for
        // a row, the second one's re-check fails and it skips the row.
        let rows = sqlx::query(
            "UPDATE deliveries SET locked_until = $2 WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' \
             AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until < $1) ORDER BY id LIMIT $3) \
             AND status = 'pending' AND (locked_until IS NULL OR locked_until < $1) RETURNING id, webhook_id, alert_id, attempts",
        )
        .bind(now)
        .bind(now + lease)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let webhook_id: i64 = r.try_get("webhook_id")?;
            let alert_id: i64 = r.try_get("alert_id")?;
            let hook = sqlx::query("SELECT org_id, url, secret_sealed FROM webhooks WHERE id = $1")
                .bind(webhook_id)
                .fetch_one(&self.pool)
                .await?;
            let org_id: i64 = hook.try_get("org_id")?;
            // An alert about an attempt that is no longer visible to the webhook's
            // organization (made private since) is not sent.
            let attempt_id: Option<i64> = sqlx::query("SELECT attempt_id FROM alerts WHERE id = $1")
                .bind(alert_id)
                .fetch_one(&self.pool)
                .await?
                .try_get("attempt_id")?;
            if let Some(attempt) = attempt_id {
                if crate::Access::attempt(self, org_id, attempt).await?.is_none() {
                    let id: i64 = r.try_get("id")?;
                    sqlx::query(
                        "UPDATE deliveries SET status = 'failed', last_error = $1, locked_until = NULL WHERE id = $2",
                    )
                    .bind("the record is no longer shared")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                    continue;
                }
            }
            let sealed: Vec<u8> = hook.try_get("secret_sealed")?;
            let secret =
                String::from_utf8_lossy(&self.vault.open(org_id, WEBHOOK_FIELD, webhook_id, &sealed)?).into_owned();
            let payload: String = sqlx::query("SELECT payload FROM alerts WHERE id = $1")
                .bind(alert_id)
                .fetch_one(&self.pool)
                .await?
                .try_get("payload")?;
            out.push(DueDelivery {
                id: r.try_get("id")?,
                lease_until: now + lease,
                attempts: r.try_get("attempts")?,
                url: hook.try_get("url")?,
                secret,
                payload,
            });
        }
        Ok(out)
    }

    async fn finish_delivery(
        &self,
        id: i64,
        lease_until: Micros,
        outcome: DeliveryOutcome,
        now: Micros,
    ) -> Result<bool> {
        let q = match &outcome {
            DeliveryOutcome::Delivered { status } => sqlx::query(
                "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, last_status = $1, last_error = NULL, \
                 delivered_at = $2, locked_until = NULL WHERE id = $3 AND locked_until = $4",
            )
            .bind(Some(*status))
            .bind(now)
            .bind(id),
            DeliveryOutcome::Retry { status, error, next_at } => sqlx::query(
                "UPDATE deliveries SET attempts = attempts + 1, last_status = $1, last_error = $2, next_attempt_at = $3, \
                 locked_until = NULL WHERE id = $4 AND locked_until = $5",
            )
            .bind(*status)
            .bind(error.clone())
            .bind(*next_at)
            .bind(id),
            DeliveryOutcome::Failed { status, error } => sqlx::query(
                "UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_status = $1, last_error = $2, \
                 locked_until = NULL WHERE id = $3 AND locked_until = $4",
            )
            .bind(*status)
            .bind(error.clone())
            .bind(id),
        };
        Ok(q.bind(lease_until).execute(&self.pool).await?.rows_affected() == 1)
    }
}
