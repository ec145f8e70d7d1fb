//! Extracts each risk check's `//!` doc comment into
//! `$OUT_DIR/<module path>.md`, so the comment is both the rustdoc and the
//! text `palisade explain` prints.

use std::fs;
use std::path::Path;

fn main() {
    let Ok(out) = std::env::var("OUT_DIR") else {
        return;
    };
    let dir = Path::new("src/risks/checks");
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if stem == "mod" || path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let docs: String = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| {
                let l = l.trim_start_matches("//!");
                format!("{}\n", l.strip_prefix(' ').unwrap_or(l))
            })
            .collect();
        let target = Path::new(&out).join(format!("palisade_rbac::risks::checks::{stem}.md"));
        if let Err(e) = fs::write(&target, docs) {
            println!("cargo:warning=cannot write {}: {e}", target.display());
        }
    }
}
