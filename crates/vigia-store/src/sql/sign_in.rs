use super::*;

pub(super) fn org_settings_content(org_id: i64, require_2fa: bool) -> String {
    serde_json::json!({"org_id": org_id, "require_2fa": require_2fa}).to_string()
}

/// Compares current records with their last audited versions, in both directions:
/// each record checked must match its last entry (or it was changed or added behind
/// the app's back), and each record the log knows must have been checked (or it was
/// deleted behind the app's back: nothing in Vigía deletes a record).
/// What of an API token goes into the audit chain (never its hash). "revoked" is
/// written only once revoked, so tokens audited before revocation existed keep their
/// content byte for byte.
pub(super) fn token_content(id: i64, user_id: i64, name: &str, revoked: bool) -> String {
    let mut v = serde_json::json!({"id": id, "user_id": user_id, "name": name});
    if revoked {
        v["revoked"] = true.into();
    }
    v.to_string()
}

/// Revokes a user's live tokens (one, or all), each with an audit entry; whether any was.
pub(super) async fn revoke_tokens(w: &mut WriteTx, actor: &Actor, user_id: i64, only: Option<i64>) -> Result<bool> {
    let sql = format!("{TOKENS_SEC} WHERE t.user_id = $1 AND t.revoked_at IS NULL AND ($2 IS NULL OR t.id = $2)");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).bind(only).fetch_all(&mut *w.tx).await?;
    let org = w.org_of_user(user_id).await?;
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        // A revoked token keeps a valid MAC only if it had one: revoking never
        // vouches for a row written without the key.
        let intact = row_mac_ok(&w.key, "api_tokens", r, "mac")?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1, mac = NULL WHERE id = $2")
            .bind(w.now)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        let name: String = sqlx::query("SELECT name FROM api_tokens WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("name")?;
        w.audit(actor, org, "revoke", RecordType::ApiToken, id, &token_content(id, user_id, &name, true)).await?;
        if intact {
            write_token_mac(&mut w.tx, &w.key, id).await?;
        }
    }
    Ok(!rows.is_empty())
}

#[async_trait::async_trait]
impl crate::SignIn for SqlStore {
    async fn record_login_failure(&self, email: &str, at: Micros) -> Result<()> {
        sqlx::query("INSERT INTO login_failures (email, at) VALUES ($1, $2)")
            .bind(email)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn login_failures_since(&self, email: &str, since: Micros) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM login_failures WHERE email = $1 AND at >= $2")
            .bind(email)
            .bind(since)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    async fn clear_login_failures(&self, email: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE email = $1").bind(email).execute(&self.pool).await?;
        Ok(())
    }

    async fn create_session(&self, token_hash: &str, user_id: i64, csrf: &str, now: Micros) -> Result<()> {
        let mac = crate::rowmac::mac(
            &self.vault.master(),
            "sessions",
            &crate::rowmac::session(token_hash, user_id, now, None),
        );
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, mac) VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .bind(mac)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: Micros,
        idle_timeout: Micros,
        absolute_timeout: Micros,
    ) -> Result<Option<SessionRow>> {
        // The session and its user with what their MACs cover, in one query.
        let row = sqlx::query(SESSION_USER_SEC).bind(token_hash).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        // A session written or changed without the master key, or for a user whose
        // row was, lets no one in (finding 4).
        let key = self.vault.master();
        let user_id: i64 = row.try_get("user_id")?;
        let user_mac: Option<String> = row.try_get("user_mac")?;
        let user_ok = crate::rowmac::matches(&key, "users", &user_mac_fields(&row)?, user_mac.as_deref());
        if !row_mac_ok(&key, "sessions", &row, "mac")? || !user_ok {
            self.unless_rotated().await?;
            tracing::error!(user_id, "a session or its user fails the integrity check: refused");
            return Ok(None);
        }
        let s = SessionRow {
            user_id: row.try_get("user_id")?,
            csrf: row.try_get("csrf")?,
            created_at: row.try_get("created_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            reauth_at: row.try_get("reauth_at")?,
            caller: caller_from_row(&row)?,
        };
        if now - s.last_seen_at > idle_timeout || now - s.created_at > absolute_timeout {
            self.delete_session(token_hash).await?;
            return Ok(None);
        }
        // Touch at most once a minute: a page view should not always be a write.
        if now - s.last_seen_at > 60_000_000 {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(s))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn user_sessions(&self, user_id: i64) -> Result<Vec<SessionInfo>> {
        let rows = sqlx::query(
            "SELECT token_hash, created_at, last_seen_at FROM sessions WHERE user_id = $1 ORDER BY last_seen_at DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let hash: String = r.try_get("token_hash")?;
                Ok(SessionInfo {
                    id: hash.chars().take(SESSION_ID_LEN).collect(),
                    created_at: r.try_get("created_at")?,
                    last_seen_at: r.try_get("last_seen_at")?,
                })
            })
            .collect()
    }

    async fn end_user_session(&self, user_id: i64, id: &str) -> Result<bool> {
        if id.len() != SESSION_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash LIKE $2")
            .bind(user_id)
            .bind(format!("{id}%"))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn mark_reauth(&self, token_hash: &str, now: Micros) -> Result<()> {
        let key = self.vault.master();
        let row =
            sqlx::query("SELECT token_hash, user_id, created_at, reauth_at, mac FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(()) };
        if !row_mac_ok(&key, "sessions", &row, "mac")? {
            return Err(StoreError::Integrity("session".into()));
        }
        let fields = crate::rowmac::session(token_hash, row.try_get("user_id")?, row.try_get("created_at")?, Some(now));
        sqlx::query("UPDATE sessions SET reauth_at = $1, mac = $2 WHERE token_hash = $3")
            .bind(now)
            .bind(crate::rowmac::mac(&key, "sessions", &fields))
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn totp_setup(&self, user_id: i64, org_id: i64, secret: &[u8], now: Micros) -> Result<()> {
        let sealed = self.vault.seal(org_id, self.current_key_version(org_id).await?, TOTP_FIELD, user_id, secret)?;
        let mut tx = self.pool.begin().await?;
        let enabled = sqlx::query("SELECT enabled_at FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if enabled.is_some() {
            return Err(StoreError::Conflict("two-factor already enabled".into()));
        }
        sqlx::query("DELETE FROM user_totp WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        let mac = crate::rowmac::mac(
            &self.vault.master(),
            "user_totp",
            &crate::rowmac::totp(user_id, org_id, &sealed, None, None),
        );
        sqlx::query(
            "INSERT INTO user_totp (user_id, org_id, secret_sealed, enabled_at, last_step, created_at, mac) \
             VALUES ($1, $2, $3, NULL, NULL, $4, $5)",
        )
        .bind(user_id)
        .bind(org_id)
        .bind(&sealed)
        .bind(now)
        .bind(mac)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn totp(&self, user_id: i64, org_id: i64) -> Result<Option<TotpState>> {
        let row = sqlx::query(
            "SELECT user_id, org_id, secret_sealed, enabled_at, last_step, mac FROM user_totp WHERE user_id = $1 AND org_id = $2",
        )
        .bind(user_id)
        .bind(org_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        // A secret swapped in from another user, or a step rolled back, is refused.
        if !row_mac_ok(&self.vault.master(), "user_totp", &r, "mac")? {
            tracing::error!(user_id, "a two-factor secret fails its integrity check: refused");
            return Err(StoreError::Integrity("two-factor secret".into()));
        }
        let sealed: Vec<u8> = r.try_get("secret_sealed")?;
        let enabled: Option<i64> = r.try_get("enabled_at")?;
        Ok(Some(TotpState {
            secret: self.vault.open(org_id, TOTP_FIELD, user_id, &sealed)?.to_vec(),
            enabled: enabled.is_some(),
            last_step: r.try_get("last_step")?,
        }))
    }

    async fn totp_enable(&self, actor: &Actor, user_id: i64, step: i64, recovery_hashes: &[String]) -> Result<()> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let row = sqlx::query(
            "SELECT user_id, org_id, secret_sealed, enabled_at, last_step, mac FROM user_totp WHERE user_id = $1 AND enabled_at IS NULL",
        )
        .bind(user_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        if !row_mac_ok(&key, "user_totp", &row, "mac")? {
            return Err(StoreError::Integrity("two-factor secret".into()));
        }
        let org_id: i64 = row.try_get("org_id")?;
        let sealed: Vec<u8> = row.try_get("secret_sealed")?;
        let intact = user_mac_ok(&mut w.tx, &key, user_id).await?;
        let mac = crate::rowmac::mac(
            &key,
            "user_totp",
            &crate::rowmac::totp(user_id, org_id, &sealed, Some(w.now), Some(step)),
        );
        sqlx::query(
            "UPDATE user_totp SET enabled_at = $1, last_step = $2, mac = $3 WHERE user_id = $4 AND enabled_at IS NULL",
        )
        .bind(w.now)
        .bind(step)
        .bind(mac)
        .bind(user_id)
        .execute(&mut *w.tx)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *w.tx).await?;
        let mut codes = Vec::with_capacity(recovery_hashes.len());
        for h in recovery_hashes {
            let id: i64 = sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2) RETURNING id")
                .bind(user_id)
                .bind(h)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("id")?;
            codes.push(id);
        }
        let content =
            serde_json::json!({"user_id": user_id, "totp": "enabled", "recovery_codes": recovery_hashes.len()})
                .to_string();
        w.audit(actor, Some(org_id), "enable_2fa", RecordType::UserSecurity, user_id, &content).await?;
        // The MACs cover this entry: written after it.
        if intact {
            write_user_mac(&mut w.tx, &key, user_id).await?;
        }
        write_recovery_macs(&mut w.tx, &key, user_id, &codes).await?;
        w.commit().await
    }

    async fn totp_disable(&self, actor: &Actor, user_id: i64) -> Result<()> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let intact = user_mac_ok(&mut w.tx, &key, user_id).await?;
        let row = sqlx::query("DELETE FROM user_totp WHERE user_id = $1 RETURNING org_id")
            .bind(user_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let org_id: i64 = row.try_get("org_id")?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *w.tx).await?;
        let content = serde_json::json!({"user_id": user_id, "totp": "disabled"}).to_string();
        w.audit(actor, Some(org_id), "disable_2fa", RecordType::UserSecurity, user_id, &content).await?;
        if intact {
            write_user_mac(&mut w.tx, &key, user_id).await?;
        }
        w.commit().await
    }

    async fn totp_use_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let key = self.vault.master();
        let row = sqlx::query(
            "SELECT user_id, org_id, secret_sealed, enabled_at, last_step, mac FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(false) };
        if !row_mac_ok(&key, "user_totp", &row, "mac")? {
            return Ok(false);
        }
        let old: Option<String> = row.try_get("mac")?;
        let sealed: Vec<u8> = row.try_get("secret_sealed")?;
        let fields =
            crate::rowmac::totp(user_id, row.try_get("org_id")?, &sealed, row.try_get("enabled_at")?, Some(step));
        // The step moves only forward, and only from the row just checked.
        let done = sqlx::query(
            "UPDATE user_totp SET last_step = $1, mac = $2 WHERE user_id = $3 AND enabled_at IS NOT NULL \
             AND (last_step IS NULL OR last_step < $1) AND mac = $4",
        )
        .bind(step)
        .bind(crate::rowmac::mac(&key, "user_totp", &fields))
        .bind(user_id)
        .bind(old)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_recovery_code(&self, actor: &Actor, user_id: i64, code_hash: &str) -> Result<bool> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let sql = format!("{RECOVERY_SEC} WHERE r.user_id = $1 AND r.code_hash = $2 AND r.used_at IS NULL");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).bind(code_hash).fetch_all(&mut *w.tx).await?;
        let mut found = None;
        for r in &rows {
            if row_mac_ok(&key, "recovery_codes", r, "mac")? {
                found = Some(r.try_get::<i64, _>("id")?);
                break;
            }
        }
        let Some(id) = found else { return Ok(false) };
        // Every code's MAC covers the last issue or use: those that matched are written
        // again after this use's entry, so an older copy of any of them stops matching.
        let intact = intact_recovery_codes(&mut w.tx, &key, user_id).await?;
        sqlx::query("UPDATE recovery_codes SET used_at = $1, mac = NULL WHERE id = $2 AND used_at IS NULL")
            .bind(w.now)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        let org = w.org_of_user(user_id).await?;
        let content = serde_json::json!({"user_id": user_id, "recovery_code_used": id}).to_string();
        w.audit(actor, org, "use_recovery_code", RecordType::UserSecurity, user_id, &content).await?;
        write_recovery_macs(&mut w.tx, &key, user_id, &intact).await?;
        w.commit().await?;
        Ok(true)
    }

    async fn set_password(&self, actor: &Actor, user_id: i64, password_hash: &str, keep: Option<&str>) -> Result<()> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let intact = user_mac_ok(&mut w.tx, &key, user_id).await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR token_hash <> $2)")
            .bind(user_id)
            .bind(keep)
            .execute(&mut *w.tx)
            .await?;
        let org = w.org_of_user(user_id).await?;
        let content = serde_json::json!({"user_id": user_id, "password": "changed"}).to_string();
        w.audit(actor, org, "change_password", RecordType::UserSecurity, user_id, &content).await?;
        if intact {
            write_user_mac(&mut w.tx, &key, user_id).await?;
        }
        w.commit().await
    }

    async fn create_password_reset(
        &self,
        actor: &Actor,
        user_id: i64,
        token_hash: &str,
        expires_at: Micros,
    ) -> Result<()> {
        let mut w = self.begin().await?;
        let mac = crate::rowmac::mac(
            &self.vault.master(),
            "password_resets",
            &crate::rowmac::reset(token_hash, user_id, expires_at, None),
        );
        sqlx::query("INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, mac) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(user_id)
            .bind(w.now)
            .bind(expires_at)
            .bind(mac)
            .execute(&mut *w.tx)
            .await?;
        let org = w.org_of_user(user_id).await?;
        let content = serde_json::json!({"user_id": user_id, "password_reset_until": expires_at}).to_string();
        w.audit(actor, org, "issue_password_reset", RecordType::UserSecurity, user_id, &content).await?;
        w.commit().await
    }

    async fn password_reset_user(&self, token_hash: &str, now: Micros) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT r.token_hash, r.user_id, r.expires_at, r.used_at, r.mac FROM password_resets r JOIN users u ON u.id = r.user_id \
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND NOT u.disabled",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) if row_mac_ok(&self.vault.master(), "password_resets", &r, "mac")? => {
                Ok(Some(r.try_get("user_id")?))
            }
            _ => Ok(None),
        }
    }

    async fn use_password_reset(&self, token_hash: &str, now: Micros, password_hash: &str) -> Result<Option<i64>> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let row = sqlx::query(
            "SELECT token_hash, user_id, expires_at, used_at, mac FROM password_resets WHERE token_hash = $1 \
             AND used_at IS NULL AND expires_at > $2 AND user_id IN (SELECT id FROM users WHERE NOT disabled)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *w.tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if !row_mac_ok(&key, "password_resets", &row, "mac")? {
            tracing::error!("a password reset link fails its integrity check: refused");
            return Ok(None);
        }
        let user_id: i64 = row.try_get("user_id")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let used_mac = crate::rowmac::mac(
            &key,
            "password_resets",
            &crate::rowmac::reset(token_hash, user_id, expires_at, Some(now)),
        );
        sqlx::query("UPDATE password_resets SET used_at = $1, mac = $2 WHERE token_hash = $3 AND used_at IS NULL")
            .bind(now)
            .bind(used_mac)
            .bind(token_hash)
            .execute(&mut *w.tx)
            .await?;
        let intact = user_mac_ok(&mut w.tx, &key, user_id).await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *w.tx).await?;
        let org = w.org_of_user(user_id).await?;
        let content = serde_json::json!({"user_id": user_id, "password": "reset"}).to_string();
        w.audit(
            &Actor { user_id: Some(user_id), org_id: org },
            org,
            "reset_password",
            RecordType::UserSecurity,
            user_id,
            &content,
        )
        .await?;
        if intact {
            write_user_mac(&mut w.tx, &key, user_id).await?;
        }
        w.commit().await?;
        Ok(Some(user_id))
    }

    async fn second_factor_locked(&self, user_id: i64, failures: i64, until: Micros) -> Result<()> {
        let mut w = self.begin().await?;
        let org = w.org_of_user(user_id).await?;
        let content =
            serde_json::json!({"user_id": user_id, "wrong_codes": failures, "locked_until": until}).to_string();
        w.audit(&Actor::SYSTEM, org, "lock_2fa", RecordType::UserSecurity, user_id, &content).await?;
        w.commit().await
    }

    async fn recovery_codes_left(&self, user_id: i64) -> Result<i64> {
        let key = self.vault.master();
        let sql = format!("{RECOVERY_SEC} WHERE r.user_id = $1 AND r.used_at IS NULL");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(&self.pool).await?;
        let mut n = 0;
        for r in &rows {
            n += i64::from(row_mac_ok(&key, "recovery_codes", r, "mac")?);
        }
        Ok(n)
    }

    async fn create_login_challenge(&self, token_hash: &str, user_id: i64, next: &str, now: Micros) -> Result<()> {
        let mac = crate::rowmac::mac(
            &self.vault.master(),
            "login_challenges",
            &crate::rowmac::challenge(token_hash, user_id, next, now),
        );
        sqlx::query(
            "INSERT INTO login_challenges (token_hash, user_id, next, created_at, attempts, mac) VALUES ($1, $2, $3, $4, 0, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(next)
        .bind(now)
        .bind(mac)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn login_challenge(&self, token_hash: &str, now: Micros, max_age: Micros) -> Result<Option<LoginChallenge>> {
        sqlx::query("DELETE FROM login_challenges WHERE created_at < $1")
            .bind(now - max_age)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query(
            "SELECT token_hash, user_id, next, created_at, attempts, mac FROM login_challenges WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let key = self.vault.master();
        let row = match row {
            Some(r) if row_mac_ok(&key, "login_challenges", &r, "mac")? => Some(r),
            _ => None,
        };
        row.map(|r| {
            Ok(LoginChallenge {
                user_id: r.try_get("user_id")?,
                next: r.try_get("next")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .transpose()
    }

    async fn bump_login_challenge(&self, token_hash: &str) -> Result<()> {
        sqlx::query("UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_login_challenge(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn org_requires_2fa(&self, org_id: i64) -> Result<bool> {
        audited_requires_2fa(&mut *self.pool.acquire().await?, org_id).await
    }

    async fn two_factor_missing(&self, user_id: i64, org_id: i64) -> Result<bool> {
        let mut conn = self.pool.acquire().await?;
        if !audited_requires_2fa(&mut conn, org_id).await? {
            return Ok(false);
        }
        let on = sqlx::query("SELECT 1 AS on_ FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(on.is_none())
    }

    async fn set_org_requires_2fa(&self, actor: &Actor, org_id: i64, on: bool) -> Result<()> {
        let mut w = self.begin().await?;
        sqlx::query(
            "INSERT INTO org_settings (org_id, require_2fa, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET require_2fa = $2, updated_at = $3",
        )
        .bind(org_id)
        .bind(on)
        .bind(w.now)
        .execute(&mut *w.tx)
        .await
        .map_err(unique_to_conflict("organization"))?;
        w.audit(actor, Some(org_id), "update", RecordType::OrgSettings, org_id, &org_settings_content(org_id, on))
            .await?;
        w.commit().await
    }

    async fn create_api_token(&self, actor: &Actor, user_id: i64, name: &str, token_hash: &str) -> Result<ApiToken> {
        let user = self.user(user_id).await?.ok_or(StoreError::NotFound)?;
        let mut w = self.begin().await?;
        let expires_at = w.now + crate::API_TOKEN_LIFETIME;
        let id: i64 = sqlx::query(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(w.now)
        .bind(expires_at)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(unique_to_conflict("token"))?
        .try_get("id")?;
        let token = ApiToken {
            id,
            user_id,
            name: name.to_string(),
            created_at: w.now,
            revoked_at: None,
            expires_at: Some(expires_at),
            last_used_at: None,
        };
        w.audit(actor, Some(user.org_id), "create", RecordType::ApiToken, id, &token_content(id, user_id, name, false))
            .await?;
        // Its MAC covers its audit entry: written after it.
        write_token_mac(&mut w.tx, &w.key, id).await?;
        w.commit().await?;
        Ok(token)
    }

    async fn api_caller(&self, token_hash: &str) -> Result<Option<crate::Caller>> {
        let now = now_micros();
        let row = sqlx::query(TOKEN_USER_SEC).bind(token_hash).bind(now).fetch_optional(&self.pool).await?;
        // A token, or a user, written or changed without the master key lets no one in
        // (finding 4): one query, two MACs.
        let row = match row {
            Some(r) => {
                let key = self.vault.master();
                let user_id: i64 = r.try_get("id")?;
                let token = crate::rowmac::api_token(
                    r.try_get("token_id")?,
                    user_id,
                    token_hash,
                    r.try_get("expires_at")?,
                    None,
                    r.try_get("token_seq")?,
                );
                let token_mac: Option<String> = r.try_get("token_mac")?;
                let user_mac: Option<String> = r.try_get("user_mac")?;
                if crate::rowmac::matches(&key, "api_tokens", &token, token_mac.as_deref())
                    && crate::rowmac::matches(&key, "users", &user_mac_fields(&r)?, user_mac.as_deref())
                {
                    Some(r)
                } else {
                    self.unless_rotated().await?;
                    tracing::error!(user_id, "an API token or its user fails the integrity check: refused");
                    None
                }
            }
            None => None,
        };
        let Some(r) = row else { return Ok(None) };
        // At most one write a minute per token, not one per request (a write takes
        // SQLite's one write lock). Noting the use is not worth failing the request over.
        let last: Option<i64> = r.try_get("last_used_at")?;
        if last.is_none_or(|t| t < now - 60_000_000) {
            let noted = sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(&self.pool)
                .await;
            if let Err(e) = noted {
                tracing::warn!(error = %e, "could not note an API token's use");
            }
        }
        Ok(Some(caller_from_row(&r)?))
    }

    async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, created_at, revoked_at, expires_at, last_used_at FROM api_tokens \
             WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                    expires_at: r.try_get("expires_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    async fn revoke_api_token(&self, actor: &Actor, user_id: i64, id: i64) -> Result<()> {
        let mut w = self.begin().await?;
        revoke_tokens(&mut w, actor, user_id, Some(id)).await?.then_some(()).ok_or(StoreError::NotFound)?;
        w.commit().await
    }
}

/// The caller a session's or token's row names ([`crate::Caller`]), from the columns
/// `caller_columns!` adds to the user's.
fn caller_from_row(r: &DbRow) -> Result<crate::Caller> {
    let user = user_from_row_at(r, "user_created_at")?;
    let org = match r.try_get::<Option<String>, _>("org_slug")? {
        Some(slug) => Some(Organization {
            id: user.org_id,
            slug,
            name: r.try_get("org_name")?,
            created_at: r.try_get("org_created_at")?,
        }),
        None => None,
    };
    let settings: Option<String> = r.try_get("org_settings")?;
    let settings = settings
        .map(|c| serde_json::from_str::<serde_json::Value>(&c))
        .transpose()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let totp_on: i64 = r.try_get("totp_on")?;
    let two_factor_missing = super::requires_2fa_in(settings.as_ref()) && totp_on == 0;
    let data_version = (r.try_get("data_changes")?, r.try_get("data_access_version")?, r.try_get("data_generation")?);
    Ok(crate::Caller { user, org, two_factor_missing, data_version })
}
