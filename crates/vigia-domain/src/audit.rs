//! The tamper-evident history: an append-only chain of entries, each holding the hash of
//! the record's new content and the hash of the entry before it.
//!
//! `entry_hash = SHA-256(prev_hash ‖ seq ‖ at ‖ actor ‖ org ‖ action ‖ record_type ‖
//! record_id ‖ content_hash)`, every field length-prefixed so no two different entries
//! encode to the same bytes. Content is hashed as stored (sealed fields as ciphertext),
//! so anyone holding a copy of the database can verify the chain without keys.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Micros;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Micros,
    pub actor_user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub action: String,
    pub record_type: String,
    pub record_id: i64,
    pub content_hash: String,
    pub prev_hash: String,
    pub entry_hash: String,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn put(h: &mut Sha256, field: &[u8]) {
    h.update((field.len() as u64).to_be_bytes());
    h.update(field);
}

/// Computes an entry's hash from its fields and its predecessor's hash.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: Micros,
    actor_user_id: Option<i64>,
    org_id: Option<i64>,
    action: &str,
    record_type: &str,
    record_id: i64,
    content_hash: &str,
) -> String {
    let mut h = Sha256::new();
    put(&mut h, prev_hash.as_bytes());
    put(&mut h, &seq.to_be_bytes());
    put(&mut h, &at.to_be_bytes());
    put(&mut h, actor_user_id.map(|a| a.to_string()).unwrap_or_default().as_bytes());
    put(&mut h, org_id.map(|a| a.to_string()).unwrap_or_default().as_bytes());
    put(&mut h, action.as_bytes());
    put(&mut h, record_type.as_bytes());
    put(&mut h, &record_id.to_be_bytes());
    put(&mut h, content_hash.as_bytes());
    hex::encode(h.finalize())
}

impl AuditEntry {
    pub fn expected_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.seq,
            self.at,
            self.actor_user_id,
            self.org_id,
            &self.action,
            &self.record_type,
            self.record_id,
            &self.content_hash,
        )
    }
}

/// Rows an import digests together, at most: verify names a changed row to within
/// this many.
pub const DIGEST_CHUNK: usize = 1_000;

/// The SHA-256 of one record's content as stored: what a per-record entry holds (as hex)
/// and what an import digests.
pub fn row_hash(content: &[u8]) -> [u8; 32] {
    Sha256::digest(content).into()
}

/// The digest of an import's rows, fed their [`row_hash`]es in id order: a SHA-256 over
/// each run of [`DIGEST_CHUNK`] row hashes (the chunks), and the file's digest, a
/// SHA-256 over the chunk digests. One chained audit entry holding these stands for
/// every row: change, add or remove one and its chunk's digest no longer matches.
#[derive(Debug, Clone, Default)]
pub struct ImportDigest {
    chunk: Sha256,
    in_chunk: usize,
    chunks: Vec<[u8; 32]>,
    rows: i64,
}

/// What an [`ImportDigest`] comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsDigest {
    pub rows: i64,
    /// SHA-256 over the chunk digests' bytes, hex.
    pub all: String,
    /// SHA-256 over each run of [`DIGEST_CHUNK`] row hashes, hex, in order.
    pub chunks: Vec<String>,
}

impl ImportDigest {
    pub fn push(&mut self, row_hash: &[u8; 32]) {
        self.chunk.update(row_hash);
        self.in_chunk += 1;
        self.rows += 1;
        if self.in_chunk == DIGEST_CHUNK {
            self.close_chunk();
        }
    }

    fn close_chunk(&mut self) {
        let done = std::mem::take(&mut self.chunk);
        self.chunks.push(done.finalize().into());
        self.in_chunk = 0;
    }

    pub fn finish(mut self) -> RowsDigest {
        if self.in_chunk > 0 {
            self.close_chunk();
        }
        let mut all = Sha256::new();
        self.chunks.iter().for_each(|c| all.update(c));
        RowsDigest {
            rows: self.rows,
            all: hex::encode(all.finalize()),
            chunks: self.chunks.iter().map(hex::encode).collect(),
        }
    }
}

/// Why the chain is broken at an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Break {
    /// Sequence numbers skip or repeat: an entry was removed or inserted.
    Gap { expected_seq: i64, found_seq: i64 },
    /// The entry does not point at the hash of the entry before it.
    PrevMismatch { seq: i64 },
    /// The entry's own fields no longer hash to its stored hash: it was edited.
    HashMismatch { seq: i64 },
    /// The entry is dated before the entry before it: appended later with an old date.
    Backdated { seq: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Gap { expected_seq, found_seq } => {
                write!(f, "entry {expected_seq} is missing (found {found_seq} in its place)")
            }
            Break::PrevMismatch { seq } => {
                write!(f, "entry {seq} does not follow the entry before it")
            }
            Break::HashMismatch { seq } => {
                write!(f, "entry {seq} was altered: its hash does not match")
            }
            Break::Backdated { seq } => {
                write!(f, "entry {seq} is dated before the entry before it: it was added later with an old date")
            }
        }
    }
}

/// Walks entries in sequence order, carrying the previous hash; call [`Verifier::push`]
/// for each entry and stop at the first break. Streaming, so a long chain needs no memory.
///
/// Times: every writer takes the chain before it reads the clock, and never dates an
/// entry before the last one, so from the entry [`Verifier::times_from`] names on an
/// entry dated earlier than the one before it was written some other way. (Entries
/// written before that rule may be out of order by the moments two writers waited.)
#[derive(Debug, Clone)]
pub struct Verifier {
    next_seq: i64,
    prev_hash: String,
    prev_at: Micros,
    times_from: i64,
}

impl Default for Verifier {
    fn default() -> Self {
        Self { next_seq: 1, prev_hash: GENESIS.to_string(), prev_at: i64::MIN, times_from: i64::MAX }
    }
}

impl Verifier {
    /// Checks that times never go backwards after entry `seq`.
    pub fn times_from(mut self, seq: i64) -> Self {
        self.times_from = seq;
        self
    }

    pub fn push(&mut self, e: &AuditEntry) -> Result<(), Break> {
        if e.seq != self.next_seq {
            return Err(Break::Gap { expected_seq: self.next_seq, found_seq: e.seq });
        }
        if e.prev_hash != self.prev_hash {
            return Err(Break::PrevMismatch { seq: e.seq });
        }
        if e.expected_hash() != e.entry_hash {
            return Err(Break::HashMismatch { seq: e.seq });
        }
        if e.seq > self.times_from && e.at < self.prev_at {
            return Err(Break::Backdated { seq: e.seq });
        }
        self.next_seq += 1;
        self.prev_hash = e.entry_hash.clone();
        self.prev_at = e.at;
        Ok(())
    }

    pub fn head(&self) -> (i64, &str) {
        (self.next_seq - 1, &self.prev_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n as i64)
            .map(|seq| {
                let content_hash = sha256_hex(format!("content {seq}").as_bytes());
                let entry_hash =
                    entry_hash(&prev, seq, seq * 1000, Some(1), Some(2), "create", "facility", seq, &content_hash);
                let e = AuditEntry {
                    seq,
                    at: seq * 1000,
                    actor_user_id: Some(1),
                    org_id: Some(2),
                    action: "create".into(),
                    record_type: "facility".into(),
                    record_id: seq,
                    content_hash,
                    prev_hash: prev.clone(),
                    entry_hash: entry_hash.clone(),
                };
                prev = entry_hash;
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry]) -> Result<(), Break> {
        let mut v = Verifier::default();
        entries.iter().try_for_each(|e| v.push(e))
    }

    fn digest_of(rows: &[&str]) -> RowsDigest {
        let mut d = ImportDigest::default();
        rows.iter().for_each(|r| d.push(&row_hash(r.as_bytes())));
        d.finish()
    }

    #[test]
    fn an_import_digest_chunks_rows_by_the_thousand() {
        let rows: Vec<String> = (0..2_500).map(|i| format!("row {i}")).collect();
        let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
        let d = digest_of(&refs);
        assert_eq!((d.rows, d.chunks.len()), (2_500, 3));
        // The last chunk is the hash of the last 500 row hashes, nothing else.
        let mut last = Sha256::new();
        refs[2_000..].iter().for_each(|r| last.update(row_hash(r.as_bytes())));
        assert_eq!(d.chunks[2], hex::encode(last.finalize()));
        // Changing one row changes its chunk alone, and the whole.
        let mut changed = refs.clone();
        changed[1_234] = "row 1234, edited";
        let e = digest_of(&changed);
        assert_eq!(
            (e.chunks[0] == d.chunks[0], e.chunks[1] == d.chunks[1], e.chunks[2] == d.chunks[2]),
            (true, false, true)
        );
        assert_ne!(e.all, d.all);
        // Removing a row changes the count and the whole.
        let fewer = digest_of(&refs[..2_499]);
        assert_ne!((fewer.rows, fewer.all), (d.rows, d.all.clone()));
        assert_eq!(digest_of(&[]).chunks.len(), 0);
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(20)), Ok(()));
    }

    #[test]
    fn length_prefixing_keeps_fields_apart() {
        let a = entry_hash(GENESIS, 1, 1, Some(12), Some(3), "x", "y", 1, "h");
        let b = entry_hash(GENESIS, 1, 1, Some(1), Some(23), "x", "y", 1, "h");
        assert_ne!(a, b);
    }

    proptest! {
        #[test]
        fn any_single_edit_is_caught_at_its_entry(n in 2usize..40, victim in 0usize..40, field in 0u8..6) {
            let mut entries = chain(n);
            let i = victim % n;
            let e = &mut entries[i];
            match field {
                0 => e.at += 1,
                1 => e.actor_user_id = Some(99),
                2 => e.action = "update".into(),
                3 => e.record_id += 1,
                4 => e.content_hash = sha256_hex(b"forged"),
                _ => e.org_id = None,
            }
            prop_assert_eq!(verify(&entries), Err(Break::HashMismatch { seq: i as i64 + 1 }));
        }

        #[test]
        fn removing_an_entry_is_caught(n in 2usize..40, victim in 0usize..40) {
            let mut entries = chain(n);
            let i = victim % n;
            entries.remove(i);
            let r = verify(&entries);
            if i == n - 1 {
                // Removing the newest entry leaves a valid shorter chain; the store
                // catches it by comparing with the recorded chain head.
                prop_assert_eq!(r, Ok(()));
            } else {
                prop_assert_eq!(r, Err(Break::Gap { expected_seq: i as i64 + 1, found_seq: i as i64 + 2 }));
            }
        }

        #[test]
        fn an_entry_appended_with_an_old_date_is_caught(n in 2usize..40, from in 0usize..40) {
            let mut entries = chain(n);
            let prev = entries.last().map(|e| e.entry_hash.clone()).unwrap_or_default();
            let seq = n as i64 + 1;
            let content_hash = sha256_hex(b"late");
            let at = 500;
            let entry_hash = entry_hash(&prev, seq, at, None, None, "create", "facility", seq, &content_hash);
            entries.push(AuditEntry {
                seq, at, actor_user_id: None, org_id: None, action: "create".into(), record_type: "facility".into(),
                record_id: seq, content_hash, prev_hash: prev, entry_hash,
            });
            let from = (from % (n + 2)) as i64;
            let mut v = Verifier::default().times_from(from);
            let r = entries.iter().try_for_each(|e| v.push(e));
            // Checked only after the entry the rule starts from.
            prop_assert_eq!(r, if seq > from { Err(Break::Backdated { seq }) } else { Ok(()) });
        }

        #[test]
        fn rehashing_an_edited_entry_breaks_the_next_link(n in 2usize..40, victim in 0usize..39) {
            let mut entries = chain(n);
            let i = victim % (n - 1);
            let e = &mut entries[i];
            e.content_hash = sha256_hex(b"forged");
            e.entry_hash = e.expected_hash();
            prop_assert_eq!(verify(&entries), Err(Break::PrevMismatch { seq: i as i64 + 2 }));
        }
    }
}
