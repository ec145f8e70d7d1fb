//! Extracts each check's `//!` doc comment into `$OUT_DIR/<module path>.md`,
//! so the doc comment is both the rustdoc and `palisade explain`'s text.

use std::fs;
use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rerun-if-changed=src/rules");
    walk(
        Path::new("src/rules"),
        "palisade_checks::rules",
        Path::new(&out),
    );
}

fn walk(dir: &Path, module: &str, out: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.is_dir() {
            walk(&path, &format!("{module}::{stem}"), out);
        } else if path.extension().is_some_and(|e| e == "rs") && stem != "mod" {
            println!("cargo:rerun-if-changed={}", path.display());
            let text = fs::read_to_string(&path).expect("read rule source");
            let docs: String = text
                .lines()
                .take_while(|l| l.starts_with("//!"))
                .map(|l| {
                    let l = l.trim_start_matches("//!");
                    format!("{}\n", l.strip_prefix(' ').unwrap_or(l))
                })
                .collect();
            fs::write(out.join(format!("{module}::{stem}.md")), docs).expect("write docs");
        }
    }
}
