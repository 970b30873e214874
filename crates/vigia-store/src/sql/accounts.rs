use super::*;

/// A user with their membership; callers add the WHERE clause.
const USER_SELECT: &str =
    "SELECT u.id, u.email, u.display_name, u.locale, u.disabled, u.created_at, m.org_id, m.role, \
     u.password_hash FROM users u JOIN memberships m ON m.user_id = u.id";

fn user_query(filter: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("{USER_SELECT} {filter}"))
}

fn user_from_row(row: &DbRow) -> Result<User> {
    user_from_row_at(row, "created_at")
}

/// A user from a row whose user's creation time is in column `created` (a row that
/// joins another record has two).
pub(super) fn user_from_row_at(row: &DbRow, created: &str) -> Result<User> {
    let role: String = row.try_get("role")?;
    let locale: String = row.try_get("locale")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        org_id: row.try_get("org_id")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        locale: Locale::parse(&locale).unwrap_or_default(),
        disabled: row.try_get("disabled")?,
        created_at: row.try_get(created)?,
    })
}

fn org_from_row(row: &DbRow) -> Result<Organization> {
    Ok(Organization {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

async fn load_coalition(conn: &mut <Db as sqlx::Database>::Connection, id: i64) -> Result<Coalition> {
    let row = sqlx::query("SELECT id, slug, name FROM coalitions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let members = sqlx::query("SELECT org_id FROM coalition_members WHERE coalition_id = $1 ORDER BY org_id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("org_id"))
        .collect::<std::result::Result<Vec<i64>, _>>()?;
    Ok(Coalition { id, slug: row.try_get("slug")?, name: row.try_get("name")?, members })
}

#[async_trait::async_trait]
impl crate::Accounts for SqlStore {
    async fn create_org(&self, actor: &Actor, slug: &str, name: &str) -> Result<Organization> {
        let mut w = self.begin().await?;
        let id: i64 =
            sqlx::query("INSERT INTO organizations (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(slug)
                .bind(name)
                .bind(w.now)
                .fetch_one(&mut *w.tx)
                .await
                .map_err(unique_to_conflict("slug"))?
                .try_get("id")?;
        let org = Organization { id, slug: slug.to_string(), name: name.to_string(), created_at: w.now };
        let wrapped = vault::new_wrapped_key(&self.vault.master(), id, 1)?;
        sqlx::query("INSERT INTO org_keys (org_id, version, wrapped, created_at) VALUES ($1, 1, $2, $3)")
            .bind(id)
            .bind(&wrapped)
            .bind(w.now)
            .execute(&mut *w.tx)
            .await?;
        w.audit(actor, Some(id), "create", RecordType::Organization, id, &org.content_json()).await?;
        w.audit(actor, Some(id), "create", RecordType::OrgKey, id, &org_key_content(id, 1)).await?;
        w.commit().await?;
        self.vault.load_key(id, 1, &wrapped)?;
        Ok(org)
    }

    async fn list_orgs(&self) -> Result<Vec<Organization>> {
        let rows = sqlx::query("SELECT id, slug, name, created_at FROM organizations ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(org_from_row).collect()
    }

    async fn org(&self, id: i64) -> Result<Option<Organization>> {
        let row = sqlx::query("SELECT id, slug, name, created_at FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    async fn org_by_slug(&self, slug: &str) -> Result<Option<Organization>> {
        let row = sqlx::query("SELECT id, slug, name, created_at FROM organizations WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User> {
        let mut w = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO users (email, display_name, password_hash, locale, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&new.email)
        .bind(&new.display_name)
        .bind(&new.password_hash)
        .bind(new.locale.as_str())
        .bind(false)
        .bind(w.now)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(unique_to_conflict("email"))?
        .try_get("id")?;
        sqlx::query("INSERT INTO memberships (user_id, org_id, role) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(new.org_id)
            .bind(new.role.as_str())
            .execute(&mut *w.tx)
            .await
            .map_err(unique_to_conflict("membership"))?;
        let user = User {
            id,
            email: new.email,
            display_name: new.display_name,
            org_id: new.org_id,
            role: new.role,
            locale: new.locale,
            disabled: false,
            created_at: w.now,
        };
        w.audit(actor, Some(user.org_id), "create", RecordType::User, id, &user.content_json()).await?;
        // Its MAC covers this entry: written after it.
        write_user_mac(&mut w.tx, &w.key, id).await?;
        w.commit().await?;
        Ok(user)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(user_query("WHERE u.email = $1")).bind(email).fetch_optional(&self.pool).await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let user = user_from_row(&r)?;
                // A password hash copied in, a role raised or a second factor removed
                // without the master key: the account does not sign in (finding 4).
                if !user_mac_ok(&mut *self.pool.acquire().await?, &self.vault.master(), user.id).await? {
                    self.unless_rotated().await?;
                    tracing::error!(user_id = user.id, "an account fails its integrity check: sign-in refused");
                    return Ok(None);
                }
                Ok(Some((user, r.try_get("password_hash")?)))
            }
        }
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        let row = sqlx::query(user_query("WHERE u.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self, org_id: Option<i64>) -> Result<Vec<User>> {
        let rows = sqlx::query(user_query("WHERE ($1 IS NULL OR m.org_id = $1) ORDER BY m.org_id, u.email"))
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn set_user_disabled(&self, actor: &Actor, user_id: i64, disabled: bool) -> Result<User> {
        let key = self.vault.master();
        let mut w = self.begin().await?;
        let intact = user_mac_ok(&mut w.tx, &key, user_id).await?;
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(disabled)
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *w.tx).await?;
            // Revoked, not only stopped: enabling the user again does not bring them back.
            revoke_tokens(&mut w, actor, user_id, None).await?;
        }
        let row = sqlx::query(user_query("WHERE u.id = $1")).bind(user_id).fetch_one(&mut *w.tx).await?;
        let user = user_from_row(&row)?;
        let action = if disabled { "disable" } else { "enable" };
        w.audit(actor, Some(user.org_id), action, RecordType::User, user.id, &user.content_json()).await?;
        if intact {
            write_user_mac(&mut w.tx, &key, user_id).await?;
        }
        w.commit().await?;
        Ok(user)
    }

    async fn set_user_locale(&self, actor: &Actor, user_id: i64, locale: Locale) -> Result<User> {
        let mut w = self.begin().await?;
        let done = sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
            .bind(locale.as_str())
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(user_query("WHERE u.id = $1")).bind(user_id).fetch_one(&mut *w.tx).await?;
        let user = user_from_row(&row)?;
        w.audit(actor, Some(user.org_id), "set_locale", RecordType::User, user.id, &user.content_json()).await?;
        w.commit().await?;
        Ok(user)
    }

    async fn create_coalition(&self, actor: &Actor, slug: &str, name: &str) -> Result<Coalition> {
        let mut w = self.begin().await?;
        let id: i64 = sqlx::query("INSERT INTO coalitions (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(slug)
            .bind(name)
            .bind(w.now)
            .fetch_one(&mut *w.tx)
            .await
            .map_err(unique_to_conflict("slug"))?
            .try_get("id")?;
        let c = Coalition { id, slug: slug.to_string(), name: name.to_string(), members: Vec::new() };
        w.audit(actor, actor.org_id, "create", RecordType::Coalition, id, &c.content_json()).await?;
        w.commit().await?;
        Ok(c)
    }

    async fn add_coalition_member(&self, actor: &Actor, coalition_id: i64, org_id: i64) -> Result<Coalition> {
        let mut w = self.begin().await?;
        sqlx::query("INSERT INTO coalition_members (coalition_id, org_id) VALUES ($1, $2)")
            .bind(coalition_id)
            .bind(org_id)
            .execute(&mut *w.tx)
            .await
            .map_err(unique_to_conflict("member"))?;
        let c = load_coalition(&mut w.tx, coalition_id).await?;
        // Who sees which counts changed.
        sqlx::query("UPDATE access_state SET version = version + 1 WHERE id = 1").execute(&mut *w.tx).await?;
        w.audit(actor, actor.org_id, "add_member", RecordType::Coalition, c.id, &c.content_json()).await?;
        w.commit().await?;
        Ok(c)
    }

    async fn list_coalitions(&self) -> Result<Vec<Coalition>> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<i64> = sqlx::query("SELECT id FROM coalitions ORDER BY id")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(load_coalition(&mut conn, id).await?);
        }
        Ok(out)
    }
}
