//! Fuzzes the YAML/JSON stream parser (saphyr-parser events → composer → Node trees)
//! on its own, without the Kubernetes object layer.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use palisade_model::yaml::parse_stream;
use palisade_model::{Node, SourceFile};

fn walk(source: &SourceFile, node: &Node, depth: usize) {
    let _ = source.line(node.span.start.line);
    let _ = node.display_value();
    let _ = node.key_text();
    // Bounded recursion in the harness itself, so a deep tree is reported by
    // the code under test, not by this walk.
    if depth > 64 {
        return;
    }
    for item in node.items() {
        walk(source, item, depth + 1);
    }
    for (key, value) in node.entries() {
        walk(source, key, depth + 1);
        walk(source, value, depth + 1);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Arc::new(SourceFile::new("fuzz.yaml", text));
    let (documents, errors) = parse_stream(&source);
    let mut last_index = None;
    for document in &documents {
        // Document indexes strictly increase through the stream.
        if let Some(last) = last_index {
            assert!(document.index > last, "document indexes not increasing");
        }
        last_index = Some(document.index);
        walk(&source, &document.root, 0);
        let _ = document.root.to_json();
    }
    for error in &errors {
        let _ = error.to_string();
        let _ = source.line(error.span.start.line);
        if let Some(related) = error.related {
            let _ = source.line(related.start.line);
        }
    }
});
