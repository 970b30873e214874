//! The vault: sealed (encrypted) fields.
//!
//! Each organization has random 256-bit data keys; each is stored wrapped
//! (XChaCha20-Poly1305) under a key-encryption key derived with HKDF-SHA256 from the
//! master key, which lives outside the database (a 0600 key file in the data dir, or
//! `VIGIA_MASTER_KEY`). A sealed value is `0x03 ‖ key_version (u32 BE) ‖ nonce (24) ‖
//! ciphertext+tag`, with associated data binding it to its organization, its field and
//! its record, so a ciphertext copied into another organization's row, another column
//! or another record of the same kind does not open (review of keys, finding 5).
//! Values sealed before that (`0x01`) named organization and field only: the store
//! re-seals every one left in a row once, and such values then open only where the
//! history keeps them ([`Vault::open_recorded`]).
//! Rotating the master key adds data keys; sealed values stay as they are.

use std::collections::HashMap;
use std::sync::RwLock;

use base64::Engine;
use chacha20poly1305::aead::generic_array::GenericArray;
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the master key is malformed: expected 64 hexadecimal characters")]
    MalformedKey,
    #[error("a data key does not open with this master key (wrong key file?)")]
    WrongMasterKey,
    #[error("a sealed value is damaged or belongs elsewhere")]
    Damaged,
    #[error("no data key for organization {0}")]
    NoKey(i64),
    #[error("the system's random number generator failed")]
    Random,
    #[error("the master key was rotated by another process: restart to use the new key")]
    Rotated,
}

/// 32 secret bytes. Prints as `[REDACTED]`; wiped from memory when dropped.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

impl MasterKey {
    pub fn generate() -> Result<Self, VaultError> {
        let mut k = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(k.as_mut()).map_err(|_| VaultError::Random)?;
        Ok(Self(k))
    }

    /// Parses 64 hex characters (surrounding white space ignored).
    pub fn from_hex(s: &str) -> Result<Self, VaultError> {
        let mut bytes = hex::decode(s.trim()).map_err(|_| VaultError::MalformedKey)?;
        if bytes.len() != 32 {
            bytes.zeroize();
            return Err(VaultError::MalformedKey);
        }
        let mut k = Zeroizing::new([0u8; 32]);
        k.copy_from_slice(&bytes);
        bytes.zeroize();
        Ok(Self(k))
    }

    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }

    /// An HMAC-SHA256 of `message` under a key derived from this one for `purpose`
    /// (HKDF, info `vigia/mac/<purpose>/v1`), hex: what only a holder of the master key
    /// can produce, e.g. the signature of a backup's manifest.
    pub fn mac(&self, purpose: &str, message: &[u8]) -> String {
        hex::encode(self.mac_state(purpose, message).finalize().into_bytes())
    }

    /// Whether `tag` (hex) is this key's [`MasterKey::mac`] of `message`, compared in
    /// constant time.
    pub fn verify_mac(&self, purpose: &str, message: &[u8], tag: &str) -> bool {
        hex::decode(tag).is_ok_and(|t| self.mac_state(purpose, message).verify_slice(&t).is_ok())
    }

    /// What the database records to say which master key its data is under: a MAC of a
    /// fixed text, from which the key cannot be learned.
    pub fn key_check(&self) -> String {
        self.mac("key-check", b"vigia master key")
    }

    /// Whether two keys are the same, compared in constant time.
    pub fn same_as(&self, other: &MasterKey) -> bool {
        self.0.iter().zip(other.0.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// [`MasterKey::mac`] of a message given piece by piece, e.g. a whole export file.
    pub fn mac_stream(&self, purpose: &str) -> MacStream {
        MacStream(self.mac_state(purpose, b""))
    }

    fn mac_state(&self, purpose: &str, message: &[u8]) -> Hmac<Sha256> {
        let hk = Hkdf::<Sha256>::new(Some(b"vigia"), self.0.as_ref());
        let mut okm = Zeroizing::new([0u8; 32]);
        // 32 bytes is always a valid HKDF-SHA256 output length.
        let _ = hk.expand(format!("vigia/mac/{purpose}/v1").as_bytes(), okm.as_mut());
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(okm.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        m.update(message);
        m
    }

    fn kek(&self) -> XChaCha20Poly1305 {
        let hk = Hkdf::<Sha256>::new(Some(b"vigia"), self.0.as_ref());
        let mut okm = Zeroizing::new([0u8; 32]);
        // 32 bytes is always a valid HKDF-SHA256 output length.
        let _ = hk.expand(b"vigia/kek/v1", okm.as_mut());
        XChaCha20Poly1305::new(okm.as_ref().into())
    }
}

/// An HMAC being computed over a long message ([`MasterKey::mac_stream`]).
#[derive(Clone)]
pub struct MacStream(Hmac<Sha256>);

impl std::fmt::Debug for MacStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacStream")
    }
}

impl MacStream {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The tag, hex: equal to [`MasterKey::mac`] of everything given.
    pub fn finish(self) -> String {
        hex::encode(self.0.finalize().into_bytes())
    }

    /// Whether `tag` (hex) is the tag of everything given, compared in constant time.
    pub fn verify(self, tag: &str) -> bool {
        hex::decode(tag).is_ok_and(|t| self.0.verify_slice(&t).is_ok())
    }
}

fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|_| VaultError::Random)?;
    Ok(b)
}

fn org_key_aad(org_id: i64, version: i64) -> Vec<u8> {
    format!("vigia/org-key/{org_id}/{version}").into_bytes()
}

/// Wraps a fresh data key for an organization; returns the wrapped bytes to store.
pub fn new_wrapped_key(master: &MasterKey, org_id: i64, version: i64) -> Result<Vec<u8>, VaultError> {
    let key = Zeroizing::new(random::<32>()?);
    wrap(master, org_id, version, key.as_ref())
}

fn wrap(master: &MasterKey, org_id: i64, version: i64, key: &[u8]) -> Result<Vec<u8>, VaultError> {
    let nonce = random::<24>()?;
    let aad = org_key_aad(org_id, version);
    let ct = master
        .kek()
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: key, aad: &aad })
        .map_err(|_| VaultError::Damaged)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

fn unwrap_key(
    master: &MasterKey,
    org_id: i64,
    version: i64,
    wrapped: &[u8],
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    if wrapped.len() < 24 {
        return Err(VaultError::WrongMasterKey);
    }
    let (nonce, ct) = wrapped.split_at(24);
    let aad = org_key_aad(org_id, version);
    let pt = Zeroizing::new(
        master
            .kek()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map_err(|_| VaultError::WrongMasterKey)?,
    );
    if pt.len() != 32 {
        return Err(VaultError::WrongMasterKey);
    }
    let mut k = Zeroizing::new([0u8; 32]);
    k.copy_from_slice(&pt);
    Ok(k)
}

/// Re-wraps a stored data key under a new master key.
pub fn rewrap(
    old: &MasterKey,
    new: &MasterKey,
    org_id: i64,
    version: i64,
    wrapped: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let key = unwrap_key(old, org_id, version, wrapped)?;
    wrap(new, org_id, version, key.as_ref())
}

/// Unwrapped data keys by (organization, key version).
type DataKeys = HashMap<(i64, i64), Zeroizing<[u8; 32]>>;

/// The in-memory vault: the master key and the data keys unwrapped so far.
pub struct Vault {
    master: RwLock<MasterKey>,
    keys: RwLock<DataKeys>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault([REDACTED])")
    }
}

/// Format of values sealed for one organization and field, before finding 5.
const UNBOUND: u8 = 1;
/// Format of values sealed for one organization, field and record.
const BOUND: u8 = 3;

fn field_aad(org_id: i64, field: &str) -> Vec<u8> {
    format!("vigia/field/{org_id}/{field}").into_bytes()
}

fn record_aad(org_id: i64, field: &str, record: i64) -> Vec<u8> {
    format!("vigia/record/{org_id}/{field}/{record}").into_bytes()
}

/// Whether a row may hold a value sealed before values named their record.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accept {
    /// A row of today: only values bound to their record, only sealed text.
    Bound,
    /// The history, which keeps what was written when it was: also values bound to
    /// organization and field only, and text written before text was sealed.
    Recorded,
}

impl Vault {
    pub fn new(master: MasterKey) -> Self {
        Self { master: RwLock::new(master), keys: RwLock::new(HashMap::new()) }
    }

    pub fn master(&self) -> MasterKey {
        self.master.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_master(&self, m: MasterKey) {
        *self.master.write().unwrap_or_else(|p| p.into_inner()) = m;
    }

    /// Unwraps and caches a data key read from the store.
    pub fn load_key(&self, org_id: i64, version: i64, wrapped: &[u8]) -> Result<(), VaultError> {
        let key = unwrap_key(&self.master(), org_id, version, wrapped)?;
        self.keys.write().unwrap_or_else(|p| p.into_inner()).insert((org_id, version), key);
        Ok(())
    }

    pub fn has_key(&self, org_id: i64, version: i64) -> bool {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).contains_key(&(org_id, version))
    }

    /// Seals `plaintext` under the organization's data key `version`, for `field` of
    /// the record `record`.
    pub fn seal(
        &self,
        org_id: i64,
        version: i64,
        field: &str,
        record: i64,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, VaultError> {
        self.sealer(org_id, version)?.seal(field, record, plaintext)
    }

    /// A sealer for one organization's data key `version`, owned, for work done away
    /// from the vault (an import's preparing thread).
    pub fn sealer(&self, org_id: i64, version: i64) -> Result<Sealer, VaultError> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let key = keys.get(&(org_id, version)).ok_or(VaultError::NoKey(org_id))?;
        Ok(Sealer { org_id, version, key: key.clone() })
    }

    /// Opens a row's text sealed by [`Sealer::seal_text`] for `field` of `record`.
    /// Text without the mark, or sealed before values named their record, is refused:
    /// every such value was re-sealed, so one found in a row was put there from outside.
    pub fn open_text(&self, org_id: i64, field: &str, record: i64, stored: &str) -> Result<String, VaultError> {
        self.open_text_as(org_id, field, record, stored, Accept::Bound)
    }

    /// Opens text as the history keeps it: also text written before it was sealed (it
    /// comes back as it is) and text sealed before values named their record.
    pub fn open_recorded_text(
        &self,
        org_id: i64,
        field: &str,
        record: i64,
        stored: &str,
    ) -> Result<String, VaultError> {
        self.open_text_as(org_id, field, record, stored, Accept::Recorded)
    }

    fn open_text_as(
        &self,
        org_id: i64,
        field: &str,
        record: i64,
        stored: &str,
        accept: Accept,
    ) -> Result<String, VaultError> {
        let Some(encoded) = stored.strip_prefix(TEXT_MARK) else {
            return match accept {
                Accept::Recorded => Ok(stored.to_string()),
                Accept::Bound => Err(VaultError::Damaged),
            };
        };
        let sealed = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| VaultError::Damaged)?;
        let plain = self.open_as(org_id, field, record, &sealed, accept)?;
        String::from_utf8(plain.to_vec()).map_err(|_| VaultError::Damaged)
    }

    /// Whether a row's stored text must be re-sealed to name its record: written before
    /// text was sealed, or sealed before values named their record.
    pub fn text_needs_reseal(stored: &str) -> bool {
        match stored.strip_prefix(TEXT_MARK) {
            None => true,
            Some(encoded) => {
                base64::engine::general_purpose::STANDARD.decode(encoded).is_ok_and(|b| b.first() == Some(&UNBOUND))
            }
        }
    }

    /// Whether sealed bytes were sealed before values named their record.
    pub fn needs_reseal(sealed: &[u8]) -> bool {
        sealed.first() == Some(&UNBOUND)
    }

    /// The data-key version a sealed value was made with.
    pub fn key_version(sealed: &[u8]) -> Result<i64, VaultError> {
        if sealed.len() < 1 + 4 + 24 + 16 || !matches!(sealed[0], UNBOUND | BOUND) {
            return Err(VaultError::Damaged);
        }
        let mut v = [0u8; 4];
        v.copy_from_slice(&sealed[1..5]);
        Ok(i64::from(u32::from_be_bytes(v)))
    }

    /// Opens a row's value sealed for `field` of `record`; the data key must have been
    /// loaded. A value sealed before values named their record is refused.
    pub fn open(&self, org_id: i64, field: &str, record: i64, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.open_as(org_id, field, record, sealed, Accept::Bound)
    }

    /// Opens a value as the history keeps it: also one sealed before values named
    /// their record (for organization and field only).
    pub fn open_recorded(
        &self,
        org_id: i64,
        field: &str,
        record: i64,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.open_as(org_id, field, record, sealed, Accept::Recorded)
    }

    fn open_as(
        &self,
        org_id: i64,
        field: &str,
        record: i64,
        sealed: &[u8],
        accept: Accept,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let version = Self::key_version(sealed)?;
        let aad = match sealed[0] {
            BOUND => record_aad(org_id, field, record),
            _ if accept == Accept::Recorded => field_aad(org_id, field),
            _ => return Err(VaultError::Damaged),
        };
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let key = keys.get(&(org_id, version)).ok_or(VaultError::NoKey(org_id))?;
        let pt = XChaCha20Poly1305::new(key.as_ref().into())
            .decrypt(XNonce::from_slice(&sealed[5..29]), Payload { msg: &sealed[29..], aad: &aad })
            .map_err(|_| VaultError::Damaged)?;
        Ok(Zeroizing::new(pt))
    }
}

/// What begins a sealed value kept in a text column: a control character, which no
/// free text accepted by the domain contains, then the text envelope's version (the
/// sealed bytes after it carry their own format).
pub const TEXT_MARK: &str = "\u{1}v1:";

/// Whether a text column's value is sealed.
pub fn is_sealed_text(stored: &str) -> bool {
    stored.starts_with(TEXT_MARK)
}

/// One organization's data key, owned: seals values the vault opens.
#[derive(Clone)]
pub struct Sealer {
    org_id: i64,
    version: i64,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer(org {}, key {}, [REDACTED])", self.org_id, self.version)
    }
}

impl Sealer {
    pub fn org_id(&self) -> i64 {
        self.org_id
    }

    /// Seals `plaintext` as [`Vault::seal`] does.
    pub fn seal(&self, field: &str, record: i64, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        encrypt(&self.key, self.version, BOUND, &record_aad(self.org_id, field, record), plaintext)
    }

    /// Seals a text for a text column: [`TEXT_MARK`] then the sealed bytes in base64.
    pub fn seal_text(&self, field: &str, record: i64, plaintext: &str) -> Result<String, VaultError> {
        Ok(text_of(&self.seal(field, record, plaintext.as_bytes())?))
    }

    /// Seals as Vigía did before values named their record (organization and field
    /// only). Only tests call it: they build the rows an older version left behind.
    #[doc(hidden)]
    pub fn seal_unbound_as_before(&self, field: &str, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        encrypt(&self.key, self.version, UNBOUND, &field_aad(self.org_id, field), plaintext)
    }
}

/// Sealed bytes as a text column keeps them: [`TEXT_MARK`] then base64.
pub fn text_of(sealed: &[u8]) -> String {
    format!("{TEXT_MARK}{}", b64(sealed))
}

/// `format ‖ key_version (u32 BE) ‖ nonce (24) ‖ ciphertext+tag`.
fn encrypt(key: &[u8; 32], version: i64, format: u8, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    let nonce = random::<24>()?;
    let ct = XChaCha20Poly1305::new(key.into())
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .map_err(|_| VaultError::Damaged)?;
    let ver = u32::try_from(version).map_err(|_| VaultError::Damaged)?;
    let mut out = Vec::with_capacity(1 + 4 + 24 + ct.len());
    out.push(format);
    out.extend_from_slice(&ver.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Format of values sealed with one case's own data key (issue #20 part 3).
const CASE: u8 = 4;

fn case_aad(org_id: i64, case_id: i64, field: &str, record: i64) -> Vec<u8> {
    format!("vigia/case/{org_id}/{case_id}/{field}/{record}").into_bytes()
}

/// Whether sealed bytes were sealed with a case's own key ([`CaseKey`]).
pub fn is_case_sealed(sealed: &[u8]) -> bool {
    sealed.first() == Some(&CASE)
}

/// Whether a text column's value was sealed with a case's own key.
pub fn is_case_sealed_text(stored: &str) -> bool {
    stored
        .strip_prefix(TEXT_MARK)
        .and_then(|e| base64::engine::general_purpose::STANDARD.decode(e).ok())
        .is_some_and(|b| is_case_sealed(&b))
}

/// One case's own data key (crypto-shredding, issue #20 part 3): the person, the
/// event notes and reasons and the documents of one case are sealed with it, and it is
/// stored only wrapped by the organization's data key, in one row that the history
/// never copies. Erasing the case destroys that row, so every copy of those values —
/// in the history, the write-ahead log, a backup made after — no longer opens with any
/// key Vigía holds. A value is `0x04 ‖ 0 (u32) ‖ nonce (24) ‖ ciphertext+tag`, its
/// associated data naming the organization, the case, the field and the record.
#[derive(Clone)]
pub struct CaseKey {
    org_id: i64,
    case_id: i64,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for CaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CaseKey(org {}, case {}, [REDACTED])", self.org_id, self.case_id)
    }
}

/// The field a case key is sealed under, by the organization's data key.
pub const CASE_KEY_FIELD: &str = "case.key";

impl CaseKey {
    /// A fresh key for a case, and the key wrapped by `wrapper` (the organization's
    /// current data key) as the store keeps it.
    pub fn generate(wrapper: &Sealer, case_id: i64) -> Result<(Self, Vec<u8>), VaultError> {
        let key = Zeroizing::new(random::<32>()?);
        let wrapped = wrapper.seal(CASE_KEY_FIELD, case_id, key.as_ref())?;
        Ok((Self { org_id: wrapper.org_id, case_id, key }, wrapped))
    }

    /// Unwraps a stored case key with the organization's data keys.
    pub fn unwrap(vault: &Vault, org_id: i64, case_id: i64, wrapped: &[u8]) -> Result<Self, VaultError> {
        let plain = vault.open(org_id, CASE_KEY_FIELD, case_id, wrapped)?;
        if plain.len() != 32 {
            return Err(VaultError::Damaged);
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&plain);
        Ok(Self { org_id, case_id, key })
    }

    pub fn case_id(&self) -> i64 {
        self.case_id
    }

    pub fn seal(&self, field: &str, record: i64, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        encrypt(&self.key, 0, CASE, &case_aad(self.org_id, self.case_id, field, record), plaintext)
    }

    pub fn seal_text(&self, field: &str, record: i64, plaintext: &str) -> Result<String, VaultError> {
        Ok(text_of(&self.seal(field, record, plaintext.as_bytes())?))
    }

    pub fn open(&self, field: &str, record: i64, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if sealed.len() < 1 + 4 + 24 + 16 || sealed[0] != CASE {
            return Err(VaultError::Damaged);
        }
        let aad = case_aad(self.org_id, self.case_id, field, record);
        let pt = XChaCha20Poly1305::new(self.key.as_ref().into())
            .decrypt(XNonce::from_slice(&sealed[5..29]), Payload { msg: &sealed[29..], aad: &aad })
            .map_err(|_| VaultError::Damaged)?;
        Ok(Zeroizing::new(pt))
    }

    pub fn open_text(&self, field: &str, record: i64, stored: &str) -> Result<String, VaultError> {
        let encoded = stored.strip_prefix(TEXT_MARK).ok_or(VaultError::Damaged)?;
        let sealed = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| VaultError::Damaged)?;
        String::from_utf8(self.open(field, record, &sealed)?.to_vec()).map_err(|_| VaultError::Damaged)
    }
}

/// Evidence files are sealed in chunks so that no reader ever trusts bytes it has not
/// verified, and so a file can be read piece by piece: the STREAM construction (Hoang,
/// Reyhanitabar, Rogaway, Vizár 2015) over XChaCha20-Poly1305, 64 KiB of plaintext per
/// chunk, the last chunk flagged so that a truncated file does not open. A sealed file
/// is `0x02 ‖ key_version (u32 BE) ‖ nonce prefix (19) ‖ chunks`; every chunk's
/// associated data names the organization and the file (its plaintext SHA-256), so a
/// file moved under another name or organization does not open.
pub const FILE_CHUNK: usize = 64 * 1024;
const FILE_FORMAT: u8 = 2;
const FILE_PREFIX: usize = 19;
const FILE_HEADER: usize = 1 + 4 + FILE_PREFIX;
const TAG: usize = 16;

fn file_aad(org_id: i64, name: &str) -> Vec<u8> {
    format!("vigia/file/{org_id}/{name}").into_bytes()
}

impl Vault {
    fn data_key(&self, org_id: i64, version: i64) -> Result<XChaCha20Poly1305, VaultError> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let key = keys.get(&(org_id, version)).ok_or(VaultError::NoKey(org_id))?;
        Ok(XChaCha20Poly1305::new(key.as_ref().into()))
    }

    /// Seals a file's bytes under the organization's data key `version`; `name`
    /// (the plaintext's SHA-256) is bound to every chunk.
    pub fn seal_file(&self, org_id: i64, version: i64, name: &str, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let prefix = random::<FILE_PREFIX>()?;
        let ver = u32::try_from(version).map_err(|_| VaultError::Damaged)?;
        let aad = file_aad(org_id, name);
        let mut enc = EncryptorBE32::from_aead(self.data_key(org_id, version)?, GenericArray::from_slice(&prefix));
        let chunks = plaintext.len() / FILE_CHUNK + 1;
        let mut out = Vec::with_capacity(FILE_HEADER + plaintext.len() + chunks * TAG);
        out.push(FILE_FORMAT);
        out.extend_from_slice(&ver.to_be_bytes());
        out.extend_from_slice(&prefix);
        let mut pieces = plaintext.chunks(FILE_CHUNK).peekable();
        loop {
            // An empty file is one empty last chunk.
            let piece = pieces.next().unwrap_or_default();
            let payload = Payload { msg: piece, aad: &aad };
            if pieces.peek().is_none() {
                out.extend_from_slice(&enc.encrypt_last(payload).map_err(|_| VaultError::Damaged)?);
                return Ok(out);
            }
            out.extend_from_slice(&enc.encrypt_next(payload).map_err(|_| VaultError::Damaged)?);
        }
    }

    /// Opens a sealed file, verifying every chunk and that none is missing at the end.
    pub fn open_file(&self, org_id: i64, name: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if sealed.len() < FILE_HEADER + TAG || sealed[0] != FILE_FORMAT {
            return Err(VaultError::Damaged);
        }
        let mut v = [0u8; 4];
        v.copy_from_slice(&sealed[1..5]);
        let version = i64::from(u32::from_be_bytes(v));
        let aad = file_aad(org_id, name);
        let prefix = GenericArray::from_slice(&sealed[5..FILE_HEADER]);
        let mut dec = DecryptorBE32::from_aead(self.data_key(org_id, version)?, prefix);
        let mut body = &sealed[FILE_HEADER..];
        let mut out = Zeroizing::new(Vec::with_capacity(body.len()));
        loop {
            if body.len() > FILE_CHUNK + TAG {
                let (chunk, rest) = body.split_at(FILE_CHUNK + TAG);
                let pt = dec.decrypt_next(Payload { msg: chunk, aad: &aad }).map_err(|_| VaultError::Damaged)?;
                out.extend_from_slice(&pt);
                body = rest;
            } else {
                let pt = dec.decrypt_last(Payload { msg: body, aad: &aad }).map_err(|_| VaultError::Damaged)?;
                out.extend_from_slice(&pt);
                return Ok(out);
            }
        }
    }

    /// Whether stored bytes are a sealed file (rather than a file kept before sealing).
    pub fn is_sealed_file(bytes: &[u8]) -> bool {
        bytes.len() >= FILE_HEADER + TAG && bytes[0] == FILE_FORMAT
    }
}

impl Vault {
    /// Fills `out` with a key derived (HKDF-SHA256, `salt`, `info`) from the
    /// organization's first data key, which stays the same when data keys are added.
    fn derive_from_first_key(&self, org_id: i64, salt: &[u8], info: &[u8], out: &mut [u8]) -> Result<(), VaultError> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let key = keys
            .iter()
            .filter(|((o, _), _)| *o == org_id)
            .min_by_key(|((_, v), _)| *v)
            .map(|(_, k)| k)
            .ok_or(VaultError::NoKey(org_id))?;
        Hkdf::<Sha256>::new(Some(salt), key.as_ref()).expand(info, out).map_err(|_| VaultError::Damaged)
    }

    /// A keyed hash of `text` for `purpose` in an organization (HMAC-SHA256 under a key
    /// derived from its first data key, hex): equal texts give equal hashes, so a sealed
    /// value can still be unique, and without the key the hash says nothing.
    pub fn blind_index(&self, org_id: i64, purpose: &str, text: &str) -> Result<String, VaultError> {
        let mut okm = Zeroizing::new([0u8; 32]);
        self.derive_from_first_key(org_id, b"vigia/blind-index", purpose.as_bytes(), okm.as_mut())?;
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(okm.as_ref()).map_err(|_| VaultError::Damaged)?;
        m.update(text.as_bytes());
        Ok(hex::encode(m.finalize().into_bytes()))
    }

    /// A short stable pseudonym for `(label, id)` in an organization, keyed by its first
    /// data key: without the key it cannot be linked back to the record.
    pub fn pseudonym(&self, org_id: i64, label: &str, id: i64) -> Result<String, VaultError> {
        let mut out = [0u8; 5];
        self.derive_from_first_key(org_id, b"vigia/pseudonym", format!("{label}/{id}").as_bytes(), &mut out)?;
        Ok(hex::encode_upper(out))
    }
}

/// Base64 of stored bytes, as written into audit content.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault_with_key(org: i64) -> (Vault, Vec<u8>) {
        let master = MasterKey::generate().expect("rng");
        let wrapped = new_wrapped_key(&master, org, 1).expect("wrap");
        let v = Vault::new(master);
        v.load_key(org, 1, &wrapped).expect("unwrap");
        (v, wrapped)
    }

    #[test]
    fn macs_need_the_same_key_purpose_and_message() {
        let k = MasterKey::generate().expect("rng");
        let other = MasterKey::generate().expect("rng");
        let tag = k.mac("backup-manifest", b"head 42");
        assert_eq!(tag.len(), 64);
        assert!(k.verify_mac("backup-manifest", b"head 42", &tag));
        assert!(!k.verify_mac("backup-manifest", b"head 43", &tag));
        assert!(!k.verify_mac("audit-head", b"head 42", &tag));
        assert!(!other.verify_mac("backup-manifest", b"head 42", &tag));
        assert!(!k.verify_mac("backup-manifest", b"head 42", "not hex"));
        assert!(!k.verify_mac("backup-manifest", b"head 42", ""));
    }

    #[test]
    fn key_checks_name_one_key() {
        let k = MasterKey::generate().expect("rng");
        let other = MasterKey::generate().expect("rng");
        assert_eq!(k.key_check(), k.clone().key_check());
        assert_ne!(k.key_check(), other.key_check());
        assert!(k.same_as(&k.clone()) && !k.same_as(&other));
        assert!(!k.key_check().contains(k.to_hex().as_str()));
    }

    #[test]
    fn a_streamed_mac_is_the_mac_of_the_whole() {
        let k = MasterKey::generate().expect("rng");
        let mut m = k.mac_stream("export");
        m.update(b"line 1\n");
        m.update(b"line 2\n");
        let tag = m.clone().finish();
        assert_eq!(tag, k.mac("export", b"line 1\nline 2\n"));
        assert!(m.verify(&tag));
        let mut other = k.mac_stream("export");
        other.update(b"line 1\nline 3\n");
        assert!(!other.verify(&tag));
    }

    /// Crypto-shredding: a case's values open with its own key only; the organization's
    /// keys, another case's key or the right key for another record do not open them.
    #[test]
    fn case_sealed_values_open_with_their_case_key_only() {
        let (v, _) = vault_with_key(7);
        let sealer = v.sealer(7, 1).expect("sealer");
        let (key, wrapped) = CaseKey::generate(&sealer, 40).expect("key");
        let s = key.seal("case.person", 40, b"Ana").expect("seal");
        assert!(is_case_sealed(&s) && !Vault::needs_reseal(&s));
        assert_eq!(key.open("case.person", 40, &s).expect("open").as_slice(), b"Ana");
        let again = CaseKey::unwrap(&v, 7, 40, &wrapped).expect("unwrap");
        assert_eq!(again.open("case.person", 40, &s).expect("open").as_slice(), b"Ana");
        assert!(v.open(7, "case.person", 40, &s).is_err(), "the organization's key does not open it");
        assert!(v.open_recorded(7, "case.person", 40, &s).is_err());
        assert!(key.open("case.person", 41, &s).is_err() && key.open("case.note", 40, &s).is_err());
        let (other, _) = CaseKey::generate(&sealer, 40).expect("key");
        assert!(other.open("case.person", 40, &s).is_err(), "another key for the same case does not open it");
        assert!(CaseKey::unwrap(&v, 7, 41, &wrapped).is_err(), "a wrapped key names its case");
        let text = key.seal_text("case.note", 3, "nota").expect("seal");
        assert!(is_case_sealed_text(&text) && !is_case_sealed_text(&sealer.seal_text("x", 1, "y").expect("seal")));
        assert_eq!(key.open_text("case.note", 3, &text).expect("open"), "nota");
    }

    #[test]
    fn seal_and_open_round_trip() {
        let (v, _) = vault_with_key(7);
        let s = v.seal(7, 1, "note.body", 12, "Nombre: Ana".as_bytes()).expect("seal");
        assert!(!s.windows(3).any(|w| w == b"Ana"));
        assert_eq!(v.open(7, "note.body", 12, &s).expect("open").as_slice(), "Nombre: Ana".as_bytes());
        assert!(!Vault::needs_reseal(&s));
    }

    /// Finding 5: a value opens only for its organization, field and record.
    #[test]
    fn a_sealed_value_does_not_open_in_another_field_organization_or_record() {
        let (v, _) = vault_with_key(7);
        let s = v.seal(7, 1, "note.body", 12, b"secret").expect("seal");
        assert!(v.open(7, "case.name", 12, &s).is_err());
        assert!(v.open(8, "note.body", 12, &s).is_err());
        assert!(v.open(7, "note.body", 13, &s).is_err());
        assert!(v.open_recorded(7, "note.body", 13, &s).is_err(), "the history binds records too");
        let mut tampered = s.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(v.open(7, "note.body", 12, &tampered).is_err());
        let mut other_format = s.clone();
        other_format[0] = 1;
        assert!(v.open_recorded(7, "note.body", 12, &other_format).is_err(), "a format byte changed does not open");
    }

    /// Finding 5: a value sealed before values named their record opens only where the
    /// history keeps it; a row refuses it, as it refuses text that was never sealed.
    #[test]
    fn values_sealed_before_records_open_only_from_the_history() {
        let (v, _) = vault_with_key(7);
        let old = v.sealer(7, 1).expect("sealer").seal_unbound_as_before("case.person", b"Ana").expect("seal");
        assert!(Vault::needs_reseal(&old));
        assert!(v.open(7, "case.person", 12, &old).is_err());
        assert_eq!(v.open_recorded(7, "case.person", 12, &old).expect("history").as_slice(), b"Ana");
        assert_eq!(v.open_recorded(7, "case.person", 99, &old).expect("any record").as_slice(), b"Ana");
        assert!(v.open_recorded(7, "case.notes", 12, &old).is_err());
        let text = text_of(&old);
        assert!(Vault::text_needs_reseal(&text) && Vault::text_needs_reseal("escrito antes"));
        assert!(v.open_text(7, "case.person", 12, &text).is_err());
        assert!(v.open_text(7, "case.person", 12, "escrito antes").is_err());
        assert_eq!(v.open_recorded_text(7, "case.person", 12, &text).expect("history"), "Ana");
        assert_eq!(v.open_recorded_text(7, "case.person", 12, "escrito antes").expect("plain"), "escrito antes");
    }

    /// Finding 10: files round-trip at every size around the chunk boundary, and a
    /// flipped bit, a dropped or repeated or swapped chunk, another name or another
    /// organization each refuse to open.
    #[test]
    fn sealed_files_round_trip_and_refuse_every_tampering() {
        let (v, _) = vault_with_key(7);
        let c = FILE_CHUNK;
        for len in [0, 1, c - 1, c, c + 1, 2 * c, 2 * c + 17, 3 * c] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let s = v.seal_file(7, 1, "abc", &plain).expect("seal");
            assert!(Vault::is_sealed_file(&s));
            assert_eq!(v.open_file(7, "abc", &s).expect("open").as_slice(), plain.as_slice(), "{len}");
            assert!(v.open_file(7, "abd", &s).is_err(), "another name");
            assert!(v.open_file(8, "abc", &s).is_err(), "another organization");
            for at in [5, FILE_HEADER, s.len() / 2, s.len() - 1] {
                let mut t = s.clone();
                t[at] ^= 0x40;
                assert!(v.open_file(7, "abc", &t).is_err(), "bit flipped at {at} of {len}");
            }
            let whole = FILE_CHUNK + TAG;
            if s.len() > FILE_HEADER + whole {
                // Drop the last chunk: what is left ends in a chunk not flagged last.
                let cut = FILE_HEADER + (s.len() - FILE_HEADER - 1) / whole * whole;
                assert!(v.open_file(7, "abc", &s[..cut]).is_err(), "truncated {len}");
                // Repeat the first chunk in place of the second.
                let mut t = s.clone();
                let first = s[FILE_HEADER..FILE_HEADER + whole].to_vec();
                let end = (FILE_HEADER + 2 * whole).min(t.len());
                t.splice(FILE_HEADER + whole..end, first);
                assert!(v.open_file(7, "abc", &t).is_err(), "reordered {len}");
            }
        }
        let (w, _) = vault_with_key(7);
        let s = v.seal_file(7, 1, "abc", b"foto").expect("seal");
        assert!(w.open_file(7, "abc", &s).is_err(), "another key");
        assert!(!Vault::is_sealed_file(b"\xFF\xD8\xFF foto"));
    }

    /// Findings 11 and 5: free text sealed into a text column opens only for its
    /// organization, field and record.
    #[test]
    fn sealed_text_opens_for_its_field_organization_and_record_only() {
        let (v, _) = vault_with_key(7);
        let s = v.sealer(7, 1).expect("sealer").seal_text("attempt.notes", 4, "Vimos a Ana López").expect("seal");
        assert!(is_sealed_text(&s) && !s.contains("Ana") && !Vault::text_needs_reseal(&s));
        assert_eq!(v.open_text(7, "attempt.notes", 4, &s).expect("open"), "Vimos a Ana López");
        assert!(v.open_text(7, "attempt.official", 4, &s).is_err());
        assert!(v.open_text(8, "attempt.notes", 4, &s).is_err());
        assert!(v.open_text(7, "attempt.notes", 5, &s).is_err());
        assert!(v.open_text(7, "attempt.notes", 4, &format!("{TEXT_MARK}no es base64")).is_err());
        assert!(v.sealer(8, 1).is_err(), "no key, no sealer");
    }

    #[test]
    fn rewrapped_keys_open_with_the_new_master_only() {
        let old = MasterKey::generate().expect("rng");
        let new = MasterKey::generate().expect("rng");
        let wrapped = new_wrapped_key(&old, 3, 1).expect("wrap");
        let rewrapped = rewrap(&old, &new, 3, 1, &wrapped).expect("rewrap");
        assert!(Vault::new(new.clone()).load_key(3, 1, &rewrapped).is_ok());
        assert!(Vault::new(old.clone()).load_key(3, 1, &rewrapped).is_err());
        assert!(Vault::new(new).load_key(3, 1, &wrapped).is_err());
    }

    #[test]
    fn keys_parse_from_hex_and_never_print() {
        let k = MasterKey::generate().expect("rng");
        let again = MasterKey::from_hex(&k.to_hex()).expect("parse");
        assert_eq!(again.to_hex().as_str(), k.to_hex().as_str());
        assert_eq!(format!("{k:?}"), "MasterKey([REDACTED])");
        assert!(MasterKey::from_hex("abcd").is_err());
    }
}
