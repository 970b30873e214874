//! Row MACs for the security tables (issue #22 finding 4).
//!
//! Someone with write access to the database but not the master key could insert an
//! API token or a session, re-point one to the administrator, copy a known password
//! hash onto another account, switch off a user's second factor by deleting their TOTP
//! row, or un-use a recovery code, and be let in. Each such row now carries an
//! HMAC-SHA256 (under a key derived from the master key for `row`) of the values that
//! decide who it lets in; lookups treat a row whose MAC does not match as absent, and
//! `vigia audit verify` names every such row. Rotating the master key recomputes the
//! MACs of the rows that still match, and leaves the rest failing.
//!
//! What a MAC covers, and why:
//! - `users`: id, e-mail (what sign-in and reset links go by), organization, role,
//!   password hash, disabled, and whether two-factor sign-in is on (deleting the TOTP
//!   row no longer switches it off);
//! - `sessions`: token hash, user, created, re-authenticated;
//! - `api_tokens`: id, user, token hash, expiry, revocation;
//! - `login_challenges`: token hash, user, where it leads, created;
//! - `password_resets`: token hash, user, expiry, use;
//! - `recovery_codes`: id, user, code hash, use;
//! - `user_totp`: user, organization, sealed secret, enabled, last step used.
//!
//! Values that change on every use and grant nothing (last seen, last used, attempt
//! counters) are left out, so reading does not mean writing a MAC.
//!
//! A MAC alone would let someone put back an *older* copy of a row with its older MAC
//! (a token before its revocation, a user before a password change or before two-factor
//! sign-in was turned on, a recovery code before it was used: found by our own attack
//! pass). So the users', tokens' and recovery codes' MACs also cover the sequence number
//! of the last audit entry that changed them; the store reads it from the history (an
//! indexed lookup, in the same query), and the history cannot be cut back or extended
//! without the master key (the signed head), so an older row no longer matches.

use crate::vault::MasterKey;

const PURPOSE: &str = "row";

/// One field of a MAC'd row, written unambiguously.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum F {
    S(String),
    I(i64),
    O(Option<i64>),
    B(bool),
    Bytes(Vec<u8>),
}

fn message(table: &str, fields: &[F]) -> Vec<u8> {
    let mut m = Vec::with_capacity(128);
    let mut put = |b: &[u8]| {
        m.extend_from_slice(&(b.len() as u64).to_be_bytes());
        m.extend_from_slice(b);
    };
    put(table.as_bytes());
    for f in fields {
        match f {
            F::S(s) => put(s.as_bytes()),
            F::I(n) => put(n.to_string().as_bytes()),
            F::O(Some(n)) => put(n.to_string().as_bytes()),
            F::O(None) => put(b"-"),
            F::B(b) => put(if *b { b"1" } else { b"0" }),
            F::Bytes(b) => put(b),
        }
    }
    m
}

/// The MAC of a row of `table` made of `fields`, hex.
pub(crate) fn mac(key: &MasterKey, table: &str, fields: &[F]) -> String {
    key.mac(PURPOSE, &message(table, fields))
}

/// Whether `stored` is the MAC of the row (constant-time). A missing MAC never matches.
pub(crate) fn matches(key: &MasterKey, table: &str, fields: &[F], stored: Option<&str>) -> bool {
    stored.is_some_and(|tag| key.verify_mac(PURPOSE, &message(table, fields), tag))
}

/// The tables whose rows carry a MAC, with the column that names a row.
pub(crate) const TABLES: [(&str, &str); 7] = [
    ("users", "id"),
    ("sessions", "token_hash"),
    ("api_tokens", "id"),
    ("login_challenges", "token_hash"),
    ("password_resets", "token_hash"),
    ("recovery_codes", "id"),
    ("user_totp", "user_id"),
];

/// `security_seq`: the user's last audit entry that changed what this MAC covers.
#[allow(clippy::too_many_arguments)]
pub(crate) fn user(
    id: i64,
    email: &str,
    org_id: i64,
    role: &str,
    password_hash: &str,
    disabled: bool,
    totp_on: bool,
    security_seq: Option<i64>,
) -> Vec<F> {
    vec![
        F::I(id),
        F::S(email.into()),
        F::I(org_id),
        F::S(role.into()),
        F::S(password_hash.into()),
        F::B(disabled),
        F::B(totp_on),
        F::O(security_seq),
    ]
}

pub(crate) fn session(token_hash: &str, user_id: i64, created_at: i64, reauth_at: Option<i64>) -> Vec<F> {
    vec![F::S(token_hash.into()), F::I(user_id), F::I(created_at), F::O(reauth_at)]
}

/// `seq`: the token's last audit entry (created, revoked).
pub(crate) fn api_token(
    id: i64,
    user_id: i64,
    token_hash: &str,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    seq: Option<i64>,
) -> Vec<F> {
    vec![F::I(id), F::I(user_id), F::S(token_hash.into()), F::O(expires_at), F::O(revoked_at), F::O(seq)]
}

pub(crate) fn challenge(token_hash: &str, user_id: i64, next: &str, created_at: i64) -> Vec<F> {
    vec![F::S(token_hash.into()), F::I(user_id), F::S(next.into()), F::I(created_at)]
}

pub(crate) fn reset(token_hash: &str, user_id: i64, expires_at: i64, used_at: Option<i64>) -> Vec<F> {
    vec![F::S(token_hash.into()), F::I(user_id), F::I(expires_at), F::O(used_at)]
}

/// `seq`: the user's last audit entry that issued or used a recovery code.
pub(crate) fn recovery(user_id: i64, code_hash: &str, used_at: Option<i64>, seq: Option<i64>) -> Vec<F> {
    vec![F::I(user_id), F::S(code_hash.into()), F::O(used_at), F::O(seq)]
}

pub(crate) fn totp(
    user_id: i64,
    org_id: i64,
    secret_sealed: &[u8],
    enabled_at: Option<i64>,
    last_step: Option<i64>,
) -> Vec<F> {
    vec![F::I(user_id), F::I(org_id), F::Bytes(secret_sealed.to_vec()), F::O(enabled_at), F::O(last_step)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_binds_its_table_and_every_field() {
        let k = MasterKey::generate().expect("rng");
        let fields = [F::I(7), F::S("abc".into()), F::O(None), F::B(true)];
        let tag = mac(&k, "api_tokens", &fields);
        assert!(matches(&k, "api_tokens", &fields, Some(&tag)));
        assert!(!matches(&k, "sessions", &fields, Some(&tag)), "another table");
        assert!(
            !matches(&k, "api_tokens", &[F::I(1), F::S("abc".into()), F::O(None), F::B(true)], Some(&tag)),
            "another user"
        );
        assert!(!matches(&k, "api_tokens", &[F::I(7), F::S("abc".into()), F::O(Some(1)), F::B(true)], Some(&tag)));
        assert!(!matches(&k, "api_tokens", &[F::I(7), F::S("abc".into()), F::O(None), F::B(false)], Some(&tag)));
        assert!(!matches(&k, "api_tokens", &fields, None), "a row written without a MAC");
        assert!(!matches(&MasterKey::generate().expect("rng"), "api_tokens", &fields, Some(&tag)), "another key");
        // Fields cannot be shifted into each other.
        let a = mac(&k, "t", &[F::S("ab".into()), F::S("c".into())]);
        assert_ne!(a, mac(&k, "t", &[F::S("a".into()), F::S("bc".into())]));
        // Each position has one type per table, so "-" for a missing number is unambiguous.
    }
}
