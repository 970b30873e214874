//! Passwords and bearer secrets: argon2id hashes for passwords, SHA-256 for random
//! tokens (sessions, API tokens, CSRF), which are long enough not to need stretching.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;

/// argon2id with m = 19 MiB, t = 2, p = 1 (OWASP's and ASVS's floor).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the system's random number generator failed")]
    Random,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Hashes a password. Slow by design: call it off the async executor.
pub fn hash_password(password: &str) -> Result<String, SecretError> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|_| SecretError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| SecretError::Hash(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| SecretError::Hash(e.to_string()))
}

/// Checks a password against a stored hash. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A real hash of a random password, verified against when the account does not exist
/// so that a login takes as long for unknown and known e-mails.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let pw = new_token("").unwrap_or_else(|_| "vigia-dummy-password".to_string());
        hash_password(&pw).unwrap_or_default()
    })
}

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, SecretError> {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b).map_err(|_| SecretError::Random)?;
    Ok(b)
}

/// A fresh random token: 32 bytes, URL-safe base64, with a prefix naming its kind.
pub fn new_token(prefix: &str) -> Result<String, SecretError> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|_| SecretError::Random)?;
    Ok(format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)))
}

/// What is stored for a token: its SHA-256, so a copy of the database cannot be used
/// to sign in.
pub fn token_hash(token: &str) -> String {
    vigia_domain::audit::sha256_hex(token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_hashes_are_salted() {
        let a = hash_password("una frase larga y rara").expect("hash");
        let b = hash_password("una frase larga y rara").expect("hash");
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("una frase larga y rara", &a));
        assert!(!verify_password("una frase larga y raro", &a));
        assert!(!verify_password("x", "not a hash"));
        assert!(!verify_password("x", dummy_hash()));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = new_token("vga_").expect("token");
        assert!(a.starts_with("vga_") && a.len() > 40);
        assert_ne!(a, new_token("vga_").expect("token"));
        assert_eq!(token_hash(&a).len(), 64);
    }
}
