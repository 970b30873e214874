//! The web crate's shape, checked (issue #15): one folder per feature under `src/`, a
//! shared `kit/`, and the frame (`auth`, `error`, `i18n`, `routes`, `server`, `site`,
//! `openapi`) beside them. A feature may use the kit, the frame and the layers below
//! (`vigia_app`, `vigia_store`, `vigia_domain`), never another feature: what two
//! features need goes into the kit (how it looks) or the application layer (what it
//! does). The router is assembled in `lib.rs` alone.

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn folders() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(src())
        .expect("src")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether `code` names module `m` of this crate (`crate::m::…`, `use crate::m;`,
/// `use crate::{m…`).
fn names_module(code: &str, m: &str) -> bool {
    [format!("crate::{m}::"), format!("crate::{m};"), format!("crate::{{{m}")].iter().any(|p| code.contains(p.as_str()))
}

#[test]
fn no_feature_imports_another() {
    let features: Vec<String> = folders().into_iter().filter(|f| f != "kit").collect();
    assert!(features.len() >= 10, "the feature folders are found: {features:?}");
    let mut found = Vec::new();
    for own in &features {
        let mut files = Vec::new();
        rust_files(&src().join(own), &mut files);
        for file in files {
            let code = std::fs::read_to_string(&file).expect("read");
            if code.contains("super::super::") {
                found.push(format!("{} reaches out with super::super::", file.display()));
            }
            for other in features.iter().filter(|f| *f != own) {
                if names_module(&code, other) {
                    found.push(format!("{} (feature {own}) uses the feature {other}", file.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "features import each other:\n{}", found.join("\n"));
}

#[test]
fn the_frame_and_the_kit_import_no_feature() {
    let features: Vec<String> = folders().into_iter().filter(|f| f != "kit").collect();
    let mut files: Vec<PathBuf> = std::fs::read_dir(src())
        .expect("src")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "lib.rs"))
        .collect();
    rust_files(&src().join("kit"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let code = std::fs::read_to_string(&file).expect("read");
        for f in &features {
            if names_module(&code, f) {
                found.push(format!("{} uses the feature {f}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "the frame or the kit depends on a feature:\n{}", found.join("\n"));
}

#[test]
fn each_feature_keeps_its_templates_beside_it() {
    for f in folders() {
        let dir = src().join(&f).join("templates");
        if !dir.exists() {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&src().join(&f), &mut files);
        let code: String = files.iter().map(|p| std::fs::read_to_string(p).expect("read")).collect();
        for t in std::fs::read_dir(&dir).expect("templates") {
            let name = t.expect("entry").file_name().to_string_lossy().into_owned();
            assert!(
                code.contains(&format!("\"{f}/templates/{name}\"")),
                "{f}/templates/{name} is not used by the {f} feature"
            );
        }
    }
}
