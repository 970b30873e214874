//! Evidence files: photos, PDFs of official letters, audio. Stored by their SHA-256
//! (content-addressed), so the hash shown to users and written in the audit history
//! names exactly these bytes. The type is decided by the bytes themselves, never by
//! the name or the browser's claim.

use crate::FieldError;

/// The largest evidence file accepted, in bytes.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The types [`sniff`] recognizes (and files are served as).
pub const CONTENT_TYPES: [&str; 8] =
    ["image/jpeg", "image/png", "image/webp", "audio/wav", "application/pdf", "audio/ogg", "audio/mpeg", "audio/mp4"];

/// Recognizes an accepted file type from its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        Some("audio/wav")
    } else if starts(b"%PDF-") {
        Some("application/pdf")
    } else if starts(b"OggS") {
        Some("audio/ogg")
    } else if starts(b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        Some("audio/mpeg")
    } else if bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && (&bytes[8..11] == b"M4A" || &bytes[8..12] == b"mp42" || &bytes[8..12] == b"isom")
    {
        Some("audio/mp4")
    } else {
        None
    }
}

/// The file name extensions each accepted type is known by, the usual one first.
fn extensions(content_type: &str) -> &'static [&'static str] {
    match content_type {
        "image/jpeg" => &["jpg", "jpeg"],
        "image/png" => &["png"],
        "image/webp" => &["webp"],
        "audio/wav" => &["wav"],
        "application/pdf" => &["pdf"],
        "audio/ogg" => &["ogg", "oga", "opus"],
        "audio/mpeg" => &["mp3"],
        "audio/mp4" => &["m4a", "mp4"],
        _ => &[],
    }
}

/// A file name safe to store and to send back, and true to the bytes: no path, no
/// control, quote or bidirectional-control characters, at most 120 characters (empty
/// becomes "evidence"), ending in an extension of the sniffed `content_type` (PNG
/// bytes sent as `x.html` are kept as `x.png`), so a download opens as what it is.
pub fn stored_name(name: &str, content_type: &str) -> String {
    let clean = clean_name(name);
    let Some(usual) = extensions(content_type).first() else { return clean };
    let (stem, ext) = match clean.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext)),
        _ => (clean.as_str(), None),
    };
    if ext.is_some_and(|e| extensions(content_type).contains(&e.to_ascii_lowercase().as_str())) {
        return clean;
    }
    let stem: String = stem.chars().take(120 - usual.len() - 1).collect();
    format!("{}.{usual}", stem.trim_end())
}

/// A file name safe to store and to send back: no path, no control, quote or
/// bidirectional-control characters, at most 120 characters; empty becomes "evidence".
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let kept: String = base
        .chars()
        .filter(|c| !c.is_control() && !crate::input::is_bidi_control(*c))
        .filter(|c| !matches!(c, '"' | '\'' | ';' | '<' | '>' | '`'))
        .collect();
    let start = kept.trim_start_matches(|c: char| c == '.' || c.is_whitespace());
    let cut: String = start.chars().take(120).collect();
    let cleaned = cut.trim_end().to_string();
    if cleaned.is_empty() {
        "evidence".to_string()
    } else {
        cleaned
    }
}

/// Checks an upload; returns its sniffed type.
pub fn check(bytes: &[u8]) -> Result<&'static str, FieldError> {
    if bytes.is_empty() {
        return Err(FieldError::new("file", "required"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(FieldError::new("file", "file_too_large").with("max", MAX_BYTES / (1024 * 1024)));
    }
    sniff(bytes).ok_or_else(|| FieldError::new("file", "file_type"))
}

/// Whether `s` is a SHA-256 as Vigía writes it: 64 lowercase hexadecimal characters.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The name an evidence file has on disk: its plaintext hash, then the organization
/// whose key sealed it (`<sha256>.<org>`), or the hash alone for a file kept before
/// files were sealed. Everything else is refused, so a name read from an archive or
/// a database row can never leave the evidence directory (no separators, no dots
/// beyond the one, no absolute paths).
pub fn file_name(sha256: &str, key_org: Option<i64>) -> Option<String> {
    if !is_sha256(sha256) {
        return None;
    }
    match key_org {
        Some(org) if org > 0 => Some(format!("{sha256}.{org}")),
        Some(_) => None,
        None => Some(sha256.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever an archive says, the name is one plain path component: the hash
        /// and at most an organization number.
        #[test]
        fn stored_file_names_never_leave_their_directory(sha in "\\PC{0,80}", org in proptest::option::of(any::<i64>())) {
            if let Some(name) = file_name(&sha, org) {
                prop_assert!(!name.contains('/') && !name.contains('\\') && !name.contains(".."));
                prop_assert!(std::path::Path::new(&name).components().count() == 1);
                prop_assert!(name.starts_with(&sha) && is_sha256(&sha));
            }
        }
    }

    #[test]
    fn stored_file_names_are_hashes_and_organizations() {
        let sha = "ab".repeat(32);
        assert_eq!(file_name(&sha, None), Some(sha.clone()));
        assert_eq!(file_name(&sha, Some(7)), Some(format!("{sha}.7")));
        assert_eq!(file_name(&sha, Some(0)), None);
        assert_eq!(file_name(&sha, Some(-1)), None);
        assert_eq!(file_name(&sha.to_uppercase(), None), None);
        assert_eq!(file_name(&format!("./../../{}", &sha[8..]), None), None);
        assert_eq!(file_name(&sha[1..], None), None);
        assert_eq!(file_name(&format!("{sha}/"), None), None);
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some("image/jpeg"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nxx"), Some("image/png"));
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"MZ\x90\x00"), None, "executables are refused");
        assert_eq!(check(b"").map_err(|e| e.code), Err("required"));
        assert_eq!(check(&vec![0xFFu8; MAX_BYTES + 1]).map_err(|e| e.code), Err("file_too_large"));
    }

    #[test]
    fn names_lose_paths_and_dangerous_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\x\\oficio.pdf"), "oficio.pdf");
        assert_eq!(clean_name("a\"b;c\n.pdf"), "abc.pdf");
        assert_eq!(clean_name(".."), "evidence");
        assert_eq!(clean_name(".htaccess"), "htaccess");
        assert_eq!(clean_name(&"x".repeat(300)).len(), 120);
        assert_eq!(clean_name("oficio\u{202E}fdp.exe"), "oficiofdp.exe");
        assert_eq!(clean_name("  . .foto .jpg  "), "foto .jpg");
    }

    #[test]
    fn stored_names_end_as_what_the_bytes_are() {
        assert_eq!(stored_name("x.html", "image/png"), "x.png");
        assert_eq!(stored_name("foto.JPEG", "image/jpeg"), "foto.JPEG");
        assert_eq!(stored_name("oficio", "application/pdf"), "oficio.pdf");
        assert_eq!(stored_name("oficio.pdf.exe", "application/pdf"), "oficio.pdf.pdf");
        assert_eq!(stored_name(".html", "image/png"), "html.png");
        assert_eq!(stored_name("", "audio/mpeg"), "evidence.mp3");
        assert_eq!(stored_name("oficio\u{202E}fdp.exe", "application/pdf"), "oficiofdp.pdf");
        let long = stored_name(&format!("{}.svg", "x".repeat(200)), "image/webp");
        assert!(long.ends_with(".webp") && long.chars().count() <= 120, "{long}");
        for t in CONTENT_TYPES {
            assert!(!extensions(t).is_empty(), "{t} has an extension");
        }
    }
}
