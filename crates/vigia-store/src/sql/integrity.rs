// Row MACs of the security tables (issue #22 finding 4): reading, writing, checking
// and re-keying them. What each covers is in `crate::rowmac`. Included beside
// `common.rs` by each backend.

type Conn = <Db as sqlx::Database>::Connection;

// The columns a user's MAC covers beyond the user's row (`u`): whether a second factor
// is on, and the last audit entry that changed anything the MAC covers. Macros, so the
// queries below are each one constant string.
macro_rules! user_sec_columns {
    () => {
        "u.id, u.email, m.org_id, m.role, u.password_hash, u.disabled, \
         (SELECT COUNT(*) FROM user_totp z WHERE z.user_id = u.id AND z.enabled_at IS NOT NULL) AS totp_on, \
         (SELECT MAX(a.seq) FROM audit_log a WHERE a.record_id = u.id AND \
           ((a.record_type = 'user' AND a.action IN ('create', 'disable', 'enable')) OR \
            (a.record_type = 'user_security' AND a.action IN ('change_password', 'reset_password', 'enable_2fa', 'disable_2fa')))) \
         AS security_seq"
    };
}

// A token's last audit entry (`t`).
macro_rules! token_seq_column {
    () => {
        "(SELECT MAX(a.seq) FROM audit_log a WHERE a.record_type = 'api_token' AND a.record_id = t.id) AS token_seq"
    };
}

/// A user with what their MAC covers: membership, password hash, disabled, whether a
/// second factor is on, and the last audit entry that changed any of it.
const USER_SEC: &str = concat!("SELECT u.mac, ", user_sec_columns!(), " FROM users u JOIN memberships m ON m.user_id = u.id");

/// A session and its user with what both MACs cover (`$1`: the token hash).
const SESSION_USER_SEC: &str = concat!(
    "SELECT s.token_hash, s.user_id, s.csrf, s.created_at, s.last_seen_at, s.reauth_at, s.mac, u.mac AS user_mac, ",
    user_sec_columns!(),
    " FROM sessions s JOIN users u ON u.id = s.user_id JOIN memberships m ON m.user_id = u.id WHERE s.token_hash = $1"
);

/// A live token's user, with what the token's and the user's MACs cover (`$1`: the
/// token hash, `$2`: now).
const TOKEN_USER_SEC: &str = concat!(
    "SELECT u.display_name, u.locale, u.created_at, u.mac AS user_mac, ",
    user_sec_columns!(),
    ", t.id AS token_id, t.expires_at, t.mac AS token_mac, ",
    token_seq_column!(),
    " FROM users u JOIN memberships m ON m.user_id = u.id JOIN api_tokens t ON t.user_id = u.id \
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)"
);

/// Every token with what its MAC covers.
const TOKENS_SEC: &str =
    concat!("SELECT t.id, t.user_id, t.token_hash, t.expires_at, t.revoked_at, t.mac, ", token_seq_column!(), " FROM api_tokens t");

/// Every recovery code with what its MAC covers.
const RECOVERY_SEC: &str = "SELECT r.id, r.user_id, r.code_hash, r.used_at, r.mac, \
     (SELECT MAX(a.seq) FROM audit_log a WHERE a.record_type = 'user_security' \
      AND a.record_id = r.user_id AND a.action IN ('enable_2fa', 'use_recovery_code')) AS recovery_seq \
     FROM recovery_codes r";

/// Every row of a MAC'd table, with what its MAC covers and the MAC itself (`mac`).
fn mac_select(table: &str) -> Result<&'static str> {
    Ok(match table {
        "users" => USER_SEC,
        "sessions" => "SELECT token_hash, user_id, created_at, reauth_at, mac FROM sessions",
        "api_tokens" => TOKENS_SEC,
        "login_challenges" => "SELECT token_hash, user_id, next, created_at, mac FROM login_challenges",
        "password_resets" => "SELECT token_hash, user_id, expires_at, used_at, mac FROM password_resets",
        "recovery_codes" => RECOVERY_SEC,
        "user_totp" => "SELECT user_id, org_id, secret_sealed, enabled_at, last_step, mac FROM user_totp",
        _ => return Err(StoreError::Unsupported("not a MAC'd table")),
    })
}

/// What a user's MAC covers, from a row of [`USER_SEC`] (or a query with its columns).
fn user_mac_fields(r: &DbRow) -> Result<Vec<crate::rowmac::F>> {
    let role: String = r.try_get("role")?;
    let hash: String = r.try_get("password_hash")?;
    let totp_on: i64 = r.try_get("totp_on")?;
    let disabled: bool = r.try_get("disabled")?;
    let seq: Option<i64> = r.try_get("security_seq")?;
    let email: String = r.try_get("email")?;
    Ok(crate::rowmac::user(r.try_get("id")?, &email, r.try_get("org_id")?, &role, &hash, disabled, totp_on > 0, seq))
}

/// What a token's MAC covers, from a row of [`TOKENS_SEC`] (or a query with its columns).
fn token_mac_fields(r: &DbRow) -> Result<Vec<crate::rowmac::F>> {
    let hash: String = r.try_get("token_hash")?;
    let (id, user_id): (i64, i64) = (r.try_get("id")?, r.try_get("user_id")?);
    let (expires, revoked): (Option<i64>, Option<i64>) = (r.try_get("expires_at")?, r.try_get("revoked_at")?);
    Ok(crate::rowmac::api_token(id, user_id, &hash, expires, revoked, r.try_get("token_seq")?))
}

fn mac_fields(table: &str, r: &DbRow) -> Result<Vec<crate::rowmac::F>> {
    use crate::rowmac;
    Ok(match table {
        "users" => user_mac_fields(r)?,
        "sessions" => {
            let hash: String = r.try_get("token_hash")?;
            rowmac::session(&hash, r.try_get("user_id")?, r.try_get("created_at")?, r.try_get("reauth_at")?)
        }
        "api_tokens" => token_mac_fields(r)?,
        "login_challenges" => {
            let (hash, next): (String, String) = (r.try_get("token_hash")?, r.try_get("next")?);
            rowmac::challenge(&hash, r.try_get("user_id")?, &next, r.try_get("created_at")?)
        }
        "password_resets" => {
            let hash: String = r.try_get("token_hash")?;
            rowmac::reset(&hash, r.try_get("user_id")?, r.try_get("expires_at")?, r.try_get("used_at")?)
        }
        "recovery_codes" => {
            let hash: String = r.try_get("code_hash")?;
            rowmac::recovery(r.try_get("user_id")?, &hash, r.try_get("used_at")?, r.try_get("recovery_seq")?)
        }
        "user_totp" => {
            let sealed: Vec<u8> = r.try_get("secret_sealed")?;
            rowmac::totp(r.try_get("user_id")?, r.try_get("org_id")?, &sealed, r.try_get("enabled_at")?, r.try_get("last_step")?)
        }
        _ => return Err(StoreError::Unsupported("not a MAC'd table")),
    })
}

/// Whether a row read with [`mac_select`]'s columns matches its MAC.
fn row_mac_ok(key: &MasterKey, table: &str, r: &DbRow, mac_column: &str) -> Result<bool> {
    let stored: Option<String> = r.try_get(mac_column)?;
    Ok(crate::rowmac::matches(key, table, &mac_fields(table, r)?, stored.as_deref()))
}

/// Writes the MAC of a token's row as it is now, after its audit entry (see
/// [`write_user_mac`] for when).
async fn write_token_mac(conn: &mut Conn, key: &MasterKey, id: i64) -> Result<()> {
    let sql = format!("{TOKENS_SEC} WHERE t.id = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&mut *conn).await?;
    let mac = crate::rowmac::mac(key, "api_tokens", &token_mac_fields(&r)?);
    sqlx::query("UPDATE api_tokens SET mac = $1 WHERE id = $2").bind(mac).bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// A user's recovery codes whose rows match their MACs now, by id.
async fn intact_recovery_codes(conn: &mut Conn, key: &MasterKey, user_id: i64) -> Result<Vec<i64>> {
    let sql = format!("{RECOVERY_SEC} WHERE r.user_id = $1");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(&mut *conn).await?;
    let mut ids = Vec::new();
    for r in &rows {
        if row_mac_ok(key, "recovery_codes", r, "mac")? {
            ids.push(r.try_get("id")?);
        }
    }
    Ok(ids)
}

/// Writes the MACs of the recovery codes `ids` as they are now, after the audit entry
/// that issued or used one.
async fn write_recovery_macs(conn: &mut Conn, key: &MasterKey, user_id: i64, ids: &[i64]) -> Result<()> {
    let sql = format!("{RECOVERY_SEC} WHERE r.user_id = $1");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(&mut *conn).await?;
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        if ids.contains(&id) {
            let mac = crate::rowmac::mac(key, "recovery_codes", &mac_fields("recovery_codes", r)?);
            sqlx::query("UPDATE recovery_codes SET mac = $1 WHERE id = $2").bind(mac).bind(id).execute(&mut *conn).await?;
        }
    }
    Ok(())
}

/// Whether a user's row matches its MAC now (false for no such user).
async fn user_mac_ok(conn: &mut Conn, key: &MasterKey, user_id: i64) -> Result<bool> {
    let sql = format!("{USER_SEC} WHERE u.id = $1");
    match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_optional(&mut *conn).await? {
        Some(r) => row_mac_ok(key, "users", &r, "mac"),
        None => Ok(false),
    }
}

/// Writes the MAC of a user's row as it is now. Call it only after a change the store
/// itself made to a row that matched before (see [`user_mac_ok`]): a row someone else
/// changed must keep failing.
async fn write_user_mac(conn: &mut Conn, key: &MasterKey, user_id: i64) -> Result<()> {
    let sql = format!("{USER_SEC} WHERE u.id = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_one(&mut *conn).await?;
    let mac = crate::rowmac::mac(key, "users", &user_mac_fields(&r)?);
    sqlx::query("UPDATE users SET mac = $1 WHERE id = $2").bind(mac).bind(user_id).execute(&mut *conn).await?;
    Ok(())
}

/// Gives every row of the MAC'd tables a MAC under `new`. With `old`, only rows that
/// match under `old` get one (a rotation: rows written without the key keep failing);
/// without, every row does (the upgrade that added MACs, which trusts what is there).
/// Returns how many rows fail.
async fn remac(conn: &mut Conn, new: &MasterKey, old: Option<&MasterKey>) -> Result<usize> {
    let mut failing = 0;
    for (table, pk) in crate::rowmac::TABLES {
        let rows = sqlx::query(mac_select(table)?).fetch_all(&mut *conn).await?;
        let update = format!("UPDATE {table} SET mac = $1 WHERE {pk} = $2");
        for r in &rows {
            let fields = mac_fields(table, r)?;
            let stored: Option<String> = r.try_get("mac")?;
            let valid = old.is_none_or(|k| crate::rowmac::matches(k, table, &fields, stored.as_deref()));
            if !valid {
                failing += 1;
            }
            let mac = valid.then(|| crate::rowmac::mac(new, table, &fields));
            let q = sqlx::query(sqlx::AssertSqlSafe(update.clone())).bind(mac);
            let q = if pk == "token_hash" { q.bind(r.try_get::<String, _>(pk)?) } else { q.bind(r.try_get::<i64, _>(pk)?) };
            q.execute(&mut *conn).await?;
        }
    }
    Ok(failing)
}

/// A sentence for each MAC'd table with rows that fail their MAC, naming the rows by id
/// where they have one (never by token hash).
async fn integrity_problems(conn: &mut Conn, key: &MasterKey) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for (table, pk) in crate::rowmac::TABLES {
        let rows = sqlx::query(mac_select(table)?).fetch_all(&mut *conn).await?;
        let mut bad = Vec::new();
        for r in &rows {
            if !row_mac_ok(key, table, r, "mac")? {
                bad.push(if pk == "token_hash" { None } else { Some(r.try_get::<i64, _>(pk)?) });
            }
        }
        if !bad.is_empty() {
            let ids: Vec<String> = bad.iter().flatten().take(10).map(i64::to_string).collect();
            let named = if ids.is_empty() { String::new() } else { format!(" ({pk} {})", ids.join(", ")) };
            problems.push(format!(
                "{} {table} row(s) fail their integrity check: written or changed without the master key{named}",
                bad.len()
            ));
        }
    }
    Ok(problems)
}
