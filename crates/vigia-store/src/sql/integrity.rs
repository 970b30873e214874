// Row MACs of the security tables (issue #22 finding 4): reading, writing, checking
// and re-keying them. What each covers is in `crate::rowmac`. Mounted beside
// the other SQL modules by each backend (see `mod.rs`).

use super::*;

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
const USER_SEC: &str =
    concat!("SELECT u.mac, ", user_sec_columns!(), " FROM users u JOIN memberships m ON m.user_id = u.id");

// What every request needs besides the user (`m` is the user's membership): the
// organization, and its settings as its history last recorded them (whether it requires
// a second factor). Asked with the session or token, not in queries of their own: the
// server answered most requests in less time than it took to ask five.
macro_rules! caller_columns {
    () => {
        "u.display_name, u.locale, u.created_at AS user_created_at, \
         o.slug AS org_slug, o.name AS org_name, o.created_at AS org_created_at, \
         (SELECT h.content FROM audit_log h WHERE h.record_type = 'org_settings' AND h.record_id = m.org_id \
          ORDER BY h.seq DESC LIMIT 1) AS org_settings, \
         ds.changes AS data_changes, ds.version AS data_access_version, ds.generation AS data_generation"
    };
}

/// A session and its user with what both MACs cover (`$1`: the token hash), and the
/// rest of what the request needs to know of its caller.
pub(super) const SESSION_USER_SEC: &str = concat!(
    "SELECT s.token_hash, s.user_id, s.csrf, s.created_at, s.last_seen_at, s.reauth_at, s.mac, u.mac AS user_mac, ",
    user_sec_columns!(),
    ", ",
    caller_columns!(),
    " FROM sessions s JOIN users u ON u.id = s.user_id JOIN memberships m ON m.user_id = u.id \
     LEFT JOIN organizations o ON o.id = m.org_id JOIN access_state ds ON ds.id = 1 WHERE s.token_hash = $1"
);

/// A live token's user, with what the token's and the user's MACs cover (`$1`: the
/// token hash, `$2`: now), when the token was last used, and the rest of what the
/// request needs to know of its caller.
pub(super) const TOKEN_USER_SEC: &str = concat!(
    "SELECT u.mac AS user_mac, ",
    user_sec_columns!(),
    ", t.id AS token_id, t.expires_at, t.mac AS token_mac, t.last_used_at, ",
    token_seq_column!(),
    ", ",
    caller_columns!(),
    " FROM users u JOIN memberships m ON m.user_id = u.id JOIN api_tokens t ON t.user_id = u.id \
     LEFT JOIN organizations o ON o.id = m.org_id JOIN access_state ds ON ds.id = 1 \
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)"
);

/// Every token with what its MAC covers.
pub(super) const TOKENS_SEC: &str = concat!(
    "SELECT t.id, t.user_id, t.token_hash, t.expires_at, t.revoked_at, t.mac, ",
    token_seq_column!(),
    " FROM api_tokens t"
);

/// Every recovery code with what its MAC covers.
pub(super) const RECOVERY_SEC: &str = "SELECT r.id, r.user_id, r.code_hash, r.used_at, r.mac, \
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
pub(super) fn user_mac_fields(r: &DbRow) -> Result<Vec<crate::rowmac::F>> {
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
            rowmac::totp(
                r.try_get("user_id")?,
                r.try_get("org_id")?,
                &sealed,
                r.try_get("enabled_at")?,
                r.try_get("last_step")?,
            )
        }
        _ => return Err(StoreError::Unsupported("not a MAC'd table")),
    })
}

/// Whether a row read with [`mac_select`]'s columns matches its MAC.
pub(super) fn row_mac_ok(key: &MasterKey, table: &str, r: &DbRow, mac_column: &str) -> Result<bool> {
    let stored: Option<String> = r.try_get(mac_column)?;
    Ok(crate::rowmac::matches(key, table, &mac_fields(table, r)?, stored.as_deref()))
}

/// Writes the MAC of a token's row as it is now, after its audit entry (see
/// [`write_user_mac`] for when).
pub(super) async fn write_token_mac(conn: &mut Conn, key: &MasterKey, id: i64) -> Result<()> {
    let sql = format!("{TOKENS_SEC} WHERE t.id = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&mut *conn).await?;
    let mac = crate::rowmac::mac(key, "api_tokens", &token_mac_fields(&r)?);
    sqlx::query("UPDATE api_tokens SET mac = $1 WHERE id = $2").bind(mac).bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// A user's recovery codes whose rows match their MACs now, by id.
pub(super) async fn intact_recovery_codes(conn: &mut Conn, key: &MasterKey, user_id: i64) -> Result<Vec<i64>> {
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
pub(super) async fn write_recovery_macs(conn: &mut Conn, key: &MasterKey, user_id: i64, ids: &[i64]) -> Result<()> {
    let sql = format!("{RECOVERY_SEC} WHERE r.user_id = $1");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(&mut *conn).await?;
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        if ids.contains(&id) {
            let mac = crate::rowmac::mac(key, "recovery_codes", &mac_fields("recovery_codes", r)?);
            sqlx::query("UPDATE recovery_codes SET mac = $1 WHERE id = $2")
                .bind(mac)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Whether a user's row matches its MAC now (false for no such user).
pub(super) async fn user_mac_ok(conn: &mut Conn, key: &MasterKey, user_id: i64) -> Result<bool> {
    let sql = format!("{USER_SEC} WHERE u.id = $1");
    match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_optional(&mut *conn).await? {
        Some(r) => row_mac_ok(key, "users", &r, "mac"),
        None => Ok(false),
    }
}

/// Writes the MAC of a user's row as it is now. Call it only after a change the store
/// itself made to a row that matched before (see [`user_mac_ok`]): a row someone else
/// changed must keep failing.
pub(super) async fn write_user_mac(conn: &mut Conn, key: &MasterKey, user_id: i64) -> Result<()> {
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
pub(super) async fn remac(conn: &mut Conn, new: &MasterKey, old: Option<&MasterKey>) -> Result<usize> {
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
            let q =
                if pk == "token_hash" { q.bind(r.try_get::<String, _>(pk)?) } else { q.bind(r.try_get::<i64, _>(pk)?) };
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

struct Current<'a> {
    latest: &'a Latest,
    seen: HashSet<(&'static str, i64)>,
}

impl<'a> Current<'a> {
    fn new(latest: &'a Latest) -> Self {
        Current { latest, seen: HashSet::new() }
    }

    fn check(&mut self, problems: &mut Vec<String>, record_type: RecordType, id: i64, content: &str) {
        self.seen.insert((record_type.as_str(), id));
        match self.latest.get(&(record_type.as_str().to_string(), id)) {
            None => problems
                .push(format!("{} {id} has no audit entry: it was added behind the app's back", record_type.as_str())),
            Some((seq, hash)) if *hash != sha256_hex(content.as_bytes()) => problems.push(format!(
                "{} {id} differs from its last audited version (entry {seq}): it was changed behind the app's back",
                record_type.as_str()
            )),
            Some(_) => {}
        }
    }

    /// Every kept record the log knows and no check met.
    fn missing(&self, problems: &mut Vec<String>) {
        let mut gone: Vec<(&str, i64, i64)> = self
            .latest
            .iter()
            .filter_map(|((t, id), (seq, _))| {
                let kind = RecordType::parse(t).filter(|k| k.is_kept_record())?;
                (!self.seen.contains(&(kind.as_str(), *id))).then_some((kind.as_str(), *id, *seq))
            })
            .collect();
        gone.sort_unstable();
        for (t, id, seq) in gone {
            problems.push(format!(
                "{t} {id} is missing: its last audited version is entry {seq}, and it was deleted behind the app's back"
            ));
        }
    }
}

/// Checks imported attempts against their imports' digests, fed every attempt in id
/// order: each one's version as imported is its `original` entry's if it was corrected
/// since, else its content now.
struct ImportedCheck<'a> {
    imports: &'a [AttemptImport],
    originals: &'a HashMap<i64, String>,
    /// The import `digest` is being computed for.
    at: usize,
    digest: ImportDigest,
}

impl<'a> ImportedCheck<'a> {
    fn new(imports: &'a [AttemptImport], originals: &'a HashMap<i64, String>) -> Self {
        Self { imports, originals, at: 0, digest: ImportDigest::default() }
    }

    /// Digests an attempt if an import wrote it (answers whether one did).
    fn push(&mut self, problems: &mut Vec<String>, a: &Attempt, content: &str) -> bool {
        while self.imports.get(self.at).is_some_and(|i| i.last_id < a.id) {
            self.close(problems);
        }
        let Some(imp) = self.imports.get(self.at).filter(|i| i.first_id <= a.id) else {
            return false;
        };
        if a.org_id != imp.org_id {
            problems.push(format!(
                "access_attempt {} belongs to another organization than import {} that wrote it: it was changed behind the app's back",
                a.id, imp.id
            ));
        }
        let original = self.originals.get(&a.id).and_then(|h| <[u8; 32]>::try_from(hex::decode(h).ok()?).ok());
        self.digest.push(&original.unwrap_or_else(|| row_hash(content.as_bytes())));
        true
    }

    /// Compares the digest of the current import's attempts with its record.
    fn close(&mut self, problems: &mut Vec<String>) {
        let Some(imp) = self.imports.get(self.at) else { return };
        let got = std::mem::take(&mut self.digest).finish();
        self.at += 1;
        if got.rows != imp.row_count {
            problems.push(format!(
                "import {} wrote {} attempts (ids {}–{}) but {} are there: attempts were removed behind the app's back",
                imp.id, imp.row_count, imp.first_id, imp.last_id, got.rows
            ));
        } else if got.all != imp.rows_sha256 {
            let changed: Vec<String> = (0..imp.chunk_sha256.len())
                .filter(|&c| got.chunks.get(c) != imp.chunk_sha256.get(c))
                .map(|c| {
                    let (first, last) = imp.chunk_ids(c);
                    format!("{first}–{last}")
                })
                .collect();
            problems.push(format!(
                "access attempts imported by import {} differ from what it wrote (among ids {}): they were changed behind the app's back",
                imp.id,
                changed.join(", ")
            ));
        }
    }

    fn finish(mut self, problems: &mut Vec<String>) {
        while self.at < self.imports.len() {
            self.close(problems);
        }
    }
}

impl SqlStore {
    /// One pass of [`crate::Audit::verify_audit`].
    pub(super) async fn verify_once(&self) -> Result<VerifyReport> {
        let (mut report, latest, originals) = self.latest_hashes().await?;
        if !report.ok() {
            return Ok(report);
        }
        let problems = &mut report.problems;
        let mut cur = Current::new(&latest);
        for f in self.list_facilities().await? {
            cur.check(problems, RecordType::Facility, f.id, &f.content_json());
        }
        for o in self.list_orgs().await? {
            cur.check(problems, RecordType::Organization, o.id, &o.content_json());
        }
        for u in self.list_users(None).await? {
            cur.check(problems, RecordType::User, u.id, &u.content_json());
        }
        let sql = format!("SELECT {IMPORT_COLUMNS} FROM attempt_imports ORDER BY first_id");
        let imports = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(import_from_row)
            .collect::<Result<Vec<_>>>()?;
        for imp in &imports {
            cur.check(problems, RecordType::AttemptImport, imp.id, &imp.content_json());
        }
        let mut imported = ImportedCheck::new(&imports, &originals);
        // Attempts with entries of their own (created alone, or corrected since import).
        let audited: HashSet<i64> =
            latest.keys().filter(|(t, _)| t == RecordType::AccessAttempt.as_str()).map(|(_, id)| *id).collect();
        {
            let mut conn = self.pool.acquire().await?;
            // One walk over the attempts checks each against the chain and recounts the
            // daily counts, as `recount_daily` would.
            let zones = facility_zones(&mut conn).await?;
            let mut expected = DailyDelta::new();
            each_attempt(&mut conn, None, |a| {
                let content = a.content_json();
                if !imported.push(problems, &a, &content) || audited.contains(&a.id) {
                    cur.check(problems, RecordType::AccessAttempt, a.id, &content);
                }
                count_daily(&mut expected, &zones, a.org_id, &a.draft, 1)
            })
            .await?;
            imported.finish(problems);
            expected.retain(|_, v| v.0 != 0);
            let stored = stored_daily(&mut conn).await?;
            let mut wrong = 0usize;
            for ((f, d, o, p, sh), v) in &expected {
                if stored.get(&(*f, *d, *o, p.to_string(), *sh)) != Some(v) {
                    wrong += 1;
                }
            }
            wrong += stored.len().saturating_sub(expected.len());
            if wrong > 0 {
                problems.push(format!(
                    "the daily access counts disagree with the attempts in {wrong} cells (run `vigia audit recount`)"
                ));
            }
        }
        for c in self.list_coalitions().await? {
            cur.check(problems, RecordType::Coalition, c.id, &c.content_json());
        }
        for r in &sqlx::query("SELECT id, org_id, url, active, deleted_at, created_at FROM webhooks ORDER BY id")
            .fetch_all(&self.pool)
            .await?
        {
            let hook = webhook_from_row(r)?;
            cur.check(problems, RecordType::Webhook, hook.id, &hook.content_json());
        }
        for r in crate::Calendars::calendar_rules(self).await? {
            cur.check(problems, RecordType::CalendarRule, r.id, &r.content_json());
        }
        let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments ORDER BY id");
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let a = attachment_from_row(r)?;
            cur.check(problems, RecordType::Attachment, a.id, &a.content_json());
        }
        let shas: Vec<String> = sqlx::query("SELECT sha256 FROM blobs ORDER BY sha256")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("sha256"))
            .collect::<std::result::Result<_, _>>()?;
        for sha in shas {
            match crate::Evidence::blob(self, &sha).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => problems.push(format!("evidence file {sha} is missing")),
                Err(_) => problems.push(format!("evidence file {sha} was altered: its bytes no longer match its hash")),
            }
        }
        let sql = format!("SELECT {DOCUMENT_COLUMNS}, data_sealed FROM case_documents ORDER BY id");
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let a = document_from_row(r)?;
            let sealed_sha: String = r.try_get("sealed_sha256")?;
            let sealed: Vec<u8> = r.try_get("data_sealed")?;
            cur.check(problems, RecordType::CaseDocument, a.id, &document_content(&a, &sealed_sha));
            // Whether the bytes are whole; whether they may sit in this row is the
            // check above (and reads refuse a value that does not name its record).
            if sealed.is_empty() && a.filename.is_empty() && a.sha256.is_empty() {
                // Erased with its case's personal data (the check above holds it to
                // the erasure's entry).
                continue;
            }
            let key = match self.case_key_or_none(a.org_id, a.record_id).await {
                Ok(k) => k,
                Err(e) => {
                    problems.push(format!("case {}'s key does not open: {e}", a.record_id));
                    None
                }
            };
            let intact = sha256_hex(&sealed) == sealed_sha
                && match key.as_ref().filter(|_| vault::is_case_sealed(&sealed)) {
                    Some(k) => {
                        let plain_sha = k.open_text(DOCUMENT_SHA, a.id, &a.sha256).unwrap_or_default();
                        k.open(DOCUMENT_FIELD, a.id, &sealed).is_ok_and(|b| sha256_hex(&b) == plain_sha)
                    }
                    None => {
                        let plain_sha =
                            self.vault.open_recorded_text(a.org_id, DOCUMENT_SHA, a.id, &a.sha256).unwrap_or_default();
                        self.vault
                            .open_recorded(a.org_id, DOCUMENT_FIELD, a.id, &sealed)
                            .is_ok_and(|b| sha256_hex(&b) == plain_sha)
                    }
                };
            if !intact {
                problems
                    .push(format!("case document {} was altered: its sealed bytes no longer match its hashes", a.id));
            }
        }
        for r in
            &sqlx::query("SELECT org_id, require_2fa FROM org_settings ORDER BY org_id").fetch_all(&self.pool).await?
        {
            let org_id: i64 = r.try_get("org_id")?;
            let on: bool = r.try_get("require_2fa")?;
            cur.check(problems, RecordType::OrgSettings, org_id, &org_settings_content(org_id, on));
        }
        for st in crate::Statements::statements(self).await? {
            cur.check(problems, RecordType::Statement, st.id, &statement_content(&st));
            for c in &st.claims {
                cur.check(problems, RecordType::Claim, c.id, &claim_content(c));
            }
        }
        let sql = "SELECT key, org_id, status, reason, reviewed_by, reviewed_at, by_org FROM detection_reviews ORDER BY key, org_id";
        for row in &sqlx::query(sql).fetch_all(&self.pool).await? {
            let r = review_from_row(row)?;
            let by_org: bool = row.try_get("by_org")?;
            cur.check(
                problems,
                RecordType::DetectionReview,
                review_record_id(&r.key, r.org_id, by_org),
                &review_content(&r),
            );
        }
        let sql = format!("SELECT {VISIT_COLUMNS} FROM visits ORDER BY id");
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let v = visit_from_row(r)?;
            let sealed: Option<Vec<u8>> = r.try_get("notes_sealed")?;
            cur.check(problems, RecordType::Visit, v.id, &visit_content(&v, sealed.as_deref()));
        }
        let sql = format!("SELECT {} FROM publications ORDER BY id", publications::PUBLICATION_COLUMNS);
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let p = publications::publication_from_row(r)?;
            cur.check(problems, RecordType::Publication, p.id, &p.content_json());
        }
        let sql = format!(
            "SELECT {} FROM stat_versions v JOIN stat_files f ON f.sha256 = v.file_sha256 ORDER BY v.id",
            statistics::VERSION_COLUMNS
        );
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let mut v = statistics::version_from_row(r)?;
            // The figures' hash is recomputed from the figures themselves: the column is
            // only a copy, and a figure changed or deleted must show.
            v.figures_sha256 = statistics::stored_figures_sha256(self, v.id).await?;
            cur.check(problems, RecordType::StatVersion, v.id, &v.content_json());
        }
        for r in &sqlx::query("SELECT sha256, data FROM stat_files ORDER BY sha256").fetch_all(&self.pool).await? {
            let sha: String = r.try_get("sha256")?;
            let data: Vec<u8> = r.try_get("data")?;
            if sha256_hex(&data) != sha {
                problems.push(format!("statistics file {sha} was altered: its bytes no longer match its hash"));
            }
        }
        let sql = format!("SELECT {} FROM recommendations ORDER BY id", recommendations::REC_COLUMNS);
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let rec = recommendations::rec_from_row(r)?;
            cur.check(problems, RecordType::Recommendation, rec.id, &rec.content_json());
        }
        let sql = format!("SELECT {} FROM recommendation_links ORDER BY id", recommendations::LINK_COLUMNS);
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let l = recommendations::link_from_row(r)?;
            cur.check(problems, RecordType::RecommendationLink, l.id, &l.content_json());
        }
        let sql = format!("SELECT {} FROM assessments ORDER BY id", recommendations::ASSESSMENT_COLUMNS);
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let a = recommendations::assessment_from_row(r)?;
            cur.check(problems, RecordType::Assessment, a.id, &a.content_json());
        }
        let sql = format!("SELECT {} FROM transparency_requests ORDER BY id", transparency::REQUEST_COLUMNS);
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let x = transparency::request_from_row(r)?;
            cur.check(problems, RecordType::TransparencyRequest, x.id, &x.content_json());
        }
        let sql = format!("SELECT {} FROM transparency_events ORDER BY id", transparency::EVENT_COLUMNS);
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let x = transparency::event_from_row(r)?;
            cur.check(problems, RecordType::TransparencyEvent, x.id, &x.content_json());
        }
        let sql = format!("SELECT {} FROM transparency_links ORDER BY id", transparency::LINK_COLUMNS);
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let x = transparency::link_from_row(r)?;
            cur.check(problems, RecordType::TransparencyLink, x.id, &x.content_json());
        }
        let sql = format!("SELECT {} FROM transparency_regimes ORDER BY id", transparency::REGIME_COLUMNS);
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let x = transparency::regime_from_row(r)?;
            cur.check(problems, RecordType::TransparencyRegime, x.id, &x.content_json());
        }
        let sql = format!("SELECT {} FROM consents ORDER BY id", consents::CONSENT_COLUMNS);
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let x = consents::consent_from_row(r)?;
            cur.check(problems, RecordType::Consent, x.id, &x.content_json());
        }
        let sql = format!("SELECT {} FROM case_shares ORDER BY id", consents::SHARE_COLUMNS);
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let x = consents::share_from_row(r)?;
            cur.check(problems, RecordType::CaseShare, x.id, &x.content_json());
        }
        let sql = format!("SELECT {} FROM case_keys ORDER BY case_id", retention::KEY_COLUMNS);
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let case_id: i64 = r.try_get("case_id")?;
            cur.check(problems, RecordType::CaseKey, case_id, &retention::key_content(r)?);
        }
        let sql =
            "SELECT org_id, months_after_close, hold_while_litigating, updated_by, updated_at FROM retention_rules \
                   ORDER BY org_id";
        for r in &sqlx::query(sql).fetch_all(&self.pool).await? {
            let rule = retention::rule_from_row(r)?;
            cur.check(problems, RecordType::RetentionRule, rule.org_id, &retention::rule_content(&rule));
        }
        let sql = format!("SELECT {CASE_COLUMNS}, person_sealed FROM cases ORDER BY id");
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let c = case_from_row(r)?;
            let sealed: Vec<u8> = r.try_get("person_sealed")?;
            cur.check(problems, RecordType::Case, c.id, &case_content(&c, &sealed));
        }
        let sql = format!("SELECT {EVENT_COLUMNS} FROM case_events ORDER BY id");
        for r in &sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await? {
            let e = event_from_row(r)?;
            let sealed: Option<Vec<u8>> = r.try_get("note_sealed")?;
            let org_id: i64 = r.try_get("org_id")?;
            cur.check(problems, RecordType::CaseEvent, e.id, &event_content(&e, org_id, sealed.as_deref()));
        }
        let notes =
            sqlx::query("SELECT id, org_id, facility_id, author_user_id, body_sealed FROM facility_notes ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        for r in &notes {
            let id: i64 = r.try_get("id")?;
            let sealed: Vec<u8> = r.try_get("body_sealed")?;
            let content = note_content(
                id,
                r.try_get("org_id")?,
                r.try_get("facility_id")?,
                r.try_get("author_user_id")?,
                &sealed,
            );
            cur.check(problems, RecordType::FacilityNote, id, &content);
        }
        let tokens = sqlx::query("SELECT id, user_id, name, revoked_at FROM api_tokens ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        for r in &tokens {
            let id: i64 = r.try_get("id")?;
            let (user_id, name): (i64, String) = (r.try_get("user_id")?, r.try_get("name")?);
            let revoked = r.try_get::<Option<i64>, _>("revoked_at")?.is_some();
            cur.check(problems, RecordType::ApiToken, id, &token_content(id, user_id, &name, revoked));
        }
        cur.missing(problems);
        {
            let mut conn = self.pool.acquire().await?;
            let rows = sqlx::query("SELECT org_id, MAX(version) AS v FROM org_keys GROUP BY org_id ORDER BY org_id")
                .fetch_all(&mut *conn)
                .await?;
            let mut with_keys = HashSet::new();
            for r in &rows {
                let (org, v): (i64, i64) = (r.try_get("org_id")?, r.try_get("v")?);
                with_keys.insert(org);
                if audited_key_version(&mut conn, org).await? != Some(v) {
                    problems.push(format!(
                        "organization {org}'s data keys differ from the history: a key was added or removed behind the app's back"
                    ));
                }
            }
            for o in self.list_orgs().await? {
                if !with_keys.contains(&o.id) {
                    problems
                        .push(format!("organization {} has no data key: it was removed behind the app's back", o.id));
                }
            }
        }
        problems.extend(integrity_problems(&mut *self.pool.acquire().await?, &self.vault.master()).await?);
        Ok(report)
    }

    /// The chain's last entry: it moves with every recorded write.
    pub(super) async fn head_seq(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT seq FROM chain_head WHERE id = 1").fetch_one(&self.pool).await?.try_get("seq")?)
    }

    /// Walks the chain: the report so far, each record's last audited `(seq, content
    /// hash)`, and the `original` entries' content hashes by attempt id.
    pub(super) async fn latest_hashes(&self) -> Result<(VerifyReport, Latest, HashMap<i64, String>)> {
        let head = sqlx::query("SELECT keyed_from FROM chain_head WHERE id = 1").fetch_one(&self.pool).await?;
        let keyed_from: Option<i64> = head.try_get("keyed_from")?;
        let mut verifier = Verifier::default().times_from(keyed_from.unwrap_or(i64::MAX));
        let mut latest: Latest = HashMap::new();
        let mut originals = HashMap::new();
        let mut problems = Vec::new();
        let mut after = 0i64;
        let mut entries = 0i64;
        'pages: loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor_user_id, org_id, action, record_type, record_id, content, \
                 content_hash, prev_hash, entry_hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let e = audit_from_row(row)?;
                let content: String = row.try_get("content")?;
                if let Err(b) = verifier.push(&e) {
                    problems.push(b.to_string());
                    break 'pages;
                }
                if sha256_hex(content.as_bytes()) != e.content_hash {
                    problems.push(format!("entry {} was altered: its stored content does not match its hash", e.seq));
                    break 'pages;
                }
                entries += 1;
                after = e.seq;
                if e.action == ORIGINAL && e.record_type == RecordType::AccessAttempt.as_str() {
                    originals.insert(e.record_id, e.content_hash.clone());
                }
                latest.insert((e.record_type.clone(), e.record_id), (e.seq, e.content_hash));
            }
        }
        let row =
            sqlx::query("SELECT seq, hash, touched_at, keyed_from, records_bound, mac FROM chain_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        let head = Head::from_row(&row)?;
        let (head_seq, head_hash) = (head.seq, head.hash.clone());
        let mac: Option<String> = row.try_get("mac")?;
        if !head.signed_by(&self.vault.master(), mac.as_deref()) {
            problems.push(format!(
                "the recorded head (entry {head_seq}) is not signed by the master key: the history was extended or rewritten without it"
            ));
        }
        if problems.is_empty() {
            let (vseq, vhash) = verifier.head();
            if vseq != head_seq || vhash != head_hash {
                problems.push(format!(
                    "the chain ends at entry {vseq} but the recorded head is entry {head_seq}: entries were removed or added"
                ));
            }
        }
        Ok((VerifyReport { entries, head_seq, head_hash, problems }, latest, originals))
    }
}
