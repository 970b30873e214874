//! A published site's integrity (issue #17 part 2): a manifest lists every file with its
//! SHA-256 and is signed with the organization's Ed25519 publication key; anyone can
//! check a copy offline (`vigia publish verify DIR`): the signature over the manifest,
//! each file's hash, and that no file was added or removed.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub publisher: String,
    pub year: i16,
    /// Which publication, and where it stood when written: only an approved one is
    /// signed (a draft's manifest has no signature beside it).
    pub publication_id: i64,
    pub status: String,
    /// The Ed25519 public key that signed this manifest, hex.
    pub public_key: String,
    /// Path (relative, `/`-separated) → SHA-256, hex.
    pub files: BTreeMap<String, String>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    d.as_ref().iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Manifest {
    pub fn of(
        publisher: &str,
        year: i16,
        publication_id: i64,
        status: &str,
        public_key: &str,
        files: &BTreeMap<String, Vec<u8>>,
    ) -> Manifest {
        Manifest {
            publisher: publisher.to_string(),
            year,
            publication_id,
            status: status.to_string(),
            public_key: public_key.to_string(),
            files: files.iter().map(|(p, b)| (p.clone(), sha256_hex(b))).collect(),
        }
    }

    /// The bytes that are signed and written as `manifest.json`.
    pub fn bytes(&self) -> Vec<u8> {
        let mut b = serde_json::to_vec_pretty(self).unwrap_or_default();
        b.push(b'\n');
        b
    }
}

/// A path a manifest may name: relative, no `..`, no empty or hidden parts.
fn safe(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && Path::new(path).components().all(|c| matches!(c, Component::Normal(_)))
        && !path.split('/').any(|p| p.is_empty() || p.starts_with('.'))
}

/// What a successful check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub publisher: String,
    pub year: i16,
    pub public_key: String,
    pub files: usize,
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Checks a site in `dir`. `expected_key` pins the publisher's key (as published
/// elsewhere); without it the key in the manifest is trusted and reported. Returns every
/// problem found, not only the first.
pub fn verify_dir(dir: &Path, expected_key: Option<&str>) -> Result<Verified, Vec<String>> {
    let mut problems = Vec::new();
    let manifest_bytes = std::fs::read(dir.join(MANIFEST)).map_err(|e| vec![format!("{MANIFEST}: {e}")])?;
    let signature = std::fs::read_to_string(dir.join(SIGNATURE)).map_err(|e| vec![format!("{SIGNATURE}: {e}")])?;
    let m: Manifest =
        serde_json::from_slice(&manifest_bytes).map_err(|e| vec![format!("{MANIFEST} is not a manifest: {e}")])?;
    if m.status != "approved" {
        problems.push(format!("a draft ({}), not an approved publication", m.status));
    }
    if let Some(k) = expected_key {
        if !k.trim().eq_ignore_ascii_case(&m.public_key) {
            problems.push(format!("signed with key {} instead of the expected {}", m.public_key, k.trim()));
        }
    }
    match (hex_decode(&m.public_key), hex_decode(signature.trim())) {
        (Some(key), Some(sig)) => {
            let pk = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key);
            if pk.verify(&manifest_bytes, &sig).is_err() {
                problems.push(format!("the signature in {SIGNATURE} does not match {MANIFEST}"));
            }
        }
        _ => problems.push("the public key or the signature is not hex".to_string()),
    }
    for (path, hash) in &m.files {
        if !safe(path) {
            problems.push(format!("{path}: not a plain relative path"));
            continue;
        }
        let full = dir.join(path);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if !meta.file_type().is_file() => {
                problems.push(format!("{path}: not a plain file (a link or a special file)"));
                continue;
            }
            Err(e) => {
                problems.push(format!("{path}: {e}"));
                continue;
            }
            Ok(_) => {}
        }
        match std::fs::read(&full) {
            Ok(bytes) if sha256_hex(&bytes) == *hash => {}
            Ok(_) => problems.push(format!("{path}: changed (its SHA-256 is not the one signed)")),
            Err(e) => problems.push(format!("{path}: {e}")),
        }
    }
    // Nothing added beside what was signed.
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let p = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                stack.push(p);
                continue;
            }
            if !kind.is_file() {
                let rel = p.strip_prefix(dir).unwrap_or(&p).to_string_lossy().replace('\\', "/");
                problems.push(format!("{rel}: not a plain file (a link or a special file)"));
                continue;
            }
            let rel = p.strip_prefix(dir).unwrap_or(&p).to_string_lossy().replace('\\', "/");
            if rel != MANIFEST && rel != SIGNATURE && !m.files.contains_key(&rel) {
                problems.push(format!("{rel}: not in the signed manifest"));
            }
        }
    }
    if problems.is_empty() {
        Ok(Verified { publisher: m.publisher, year: m.year, public_key: m.public_key, files: m.files.len() })
    } else {
        problems.sort();
        Err(problems)
    }
}

/// Writes `files` under `dir` (created; an existing file is replaced).
pub fn write_dir(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
    for (path, bytes) in files {
        if !safe(path) {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("unsafe path {path}")));
        }
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair;

    fn signed(dir: &Path) -> String {
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&[7u8; 32]).expect("key");
        let key: String = pair.public_key().as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let mut files = BTreeMap::new();
        files.insert("index.html".to_string(), b"<h1>Hola</h1>".to_vec());
        files.insert("data/cases.csv".to_string(), b"a,b\n1,2\n".to_vec());
        let m = Manifest::of("Defensoria", 2020, 1, "approved", &key, &files);
        files.insert(MANIFEST.to_string(), m.bytes());
        let sig: String = pair.sign(&m.bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect();
        files.insert(SIGNATURE.to_string(), sig.into_bytes());
        write_dir(dir, &files).expect("write");
        key
    }

    fn tmp(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("vigia-site-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_signed_site_verifies_and_any_change_fails() {
        let d = tmp("ok");
        let key = signed(&d);
        let v = verify_dir(&d, Some(&key)).expect("verifies");
        assert_eq!((v.files, v.year), (2, 2020));
        // One byte changed.
        std::fs::write(d.join("data/cases.csv"), b"a,b\n1,3\n").expect("write");
        let p = verify_dir(&d, None).expect_err("refused");
        assert!(p.iter().any(|x| x.contains("data/cases.csv: changed")), "{p:?}");
        // A file added, another key expected.
        let d2 = tmp("added");
        signed(&d2);
        std::fs::write(d2.join("extra.html"), b"x").expect("write");
        let p = verify_dir(&d2, Some("00")).expect_err("refused");
        assert!(p.iter().any(|x| x.contains("extra.html: not in the signed manifest")), "{p:?}");
        assert!(p.iter().any(|x| x.contains("instead of the expected")), "{p:?}");
        // The manifest rewritten to match a change: the signature no longer does.
        let d3 = tmp("resigned");
        signed(&d3);
        let mut m: Manifest = serde_json::from_slice(&std::fs::read(d3.join(MANIFEST)).expect("m")).expect("json");
        std::fs::write(d3.join("index.html"), b"<h1>Adios</h1>").expect("write");
        m.files.insert("index.html".into(), sha256_hex(b"<h1>Adios</h1>"));
        std::fs::write(d3.join(MANIFEST), m.bytes()).expect("write");
        let p = verify_dir(&d3, None).expect_err("refused");
        assert!(p.iter().any(|x| x.contains("signature")), "{p:?}");
        for d in [d, d2, d3] {
            let _ = std::fs::remove_dir_all(d);
        }
    }

    #[test]
    fn paths_outside_the_site_are_refused() {
        for p in ["../x", "/etc/passwd", "a/../../b", ".hidden", "a//b", ""] {
            assert!(!safe(p), "{p}");
        }
        assert!(safe("en/place/f12.html"));
    }
}
