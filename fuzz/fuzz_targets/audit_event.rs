//! Fuzzes the audit event path: any bytes through the decoder that reads
//! log lines and webhook bodies (`decode_audit_batch_lossy`, as
//! `input::read_audit_events` does), then every decoded event through the
//! full upstream k8saudit rules, with and without the value index (which
//! must not change which rules fire). Valid JSON must also be read as
//! serde_json reads it (the JSON reader is hand-written). Nothing may panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_detect::json::{Doc, Kind};
use palisade_detect::{decode_audit_batch_lossy, AuditEvent, Engine, RuleMatching};
use serde_json::Value;

/// The upstream k8saudit rules, read at start-up (no rules when absent).
fn rules() -> Option<&'static str> {
    static RULES: OnceLock<Option<String>> = OnceLock::new();
    RULES
        .get_or_init(|| {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/conformance/falco-rules/k8saudit-plugin/k8s_audit_rules.yaml"
            );
            match std::fs::read_to_string(path) {
                Ok(t) => Some(t),
                Err(e) => {
                    eprintln!("{path}: {e}; fuzzing the decoder without rules");
                    None
                }
            }
        })
        .as_deref()
}

fn engine(value_index: bool) -> Engine {
    let mut b = Engine::builder()
        .hostname("fuzz")
        .rule_matching(RuleMatching::All)
        .value_index(value_index);
    if let Some(text) = rules() {
        b = b.rules_text("k8s_audit_rules.yaml", text);
    }
    let e = b.build();
    assert!(!e.has_errors(), "{:?}", e.diagnostics());
    e
}

fn engines() -> &'static (Engine, Engine) {
    static E: OnceLock<(Engine, Engine)> = OnceLock::new();
    E.get_or_init(|| (engine(true), engine(false)))
}

/// The document as serde_json would read it (duplicate keys: the last wins).
fn to_value(doc: &Doc, id: u32) -> Value {
    match doc.kind(id) {
        Kind::Null => Value::Null,
        Kind::Bool => Value::Bool(doc.raw(id) == "true"),
        Kind::Number => serde_json::from_str(doc.raw(id)).unwrap_or(Value::Null),
        Kind::String => Value::String(doc.as_str(id).unwrap_or_default().into_owned()),
        Kind::Array => Value::Array(doc.items(id).map(|i| to_value(doc, i)).collect()),
        Kind::Object => {
            let mut map = serde_json::Map::new();
            for (k, v) in doc.members(id) {
                map.insert(k.into_owned(), to_value(doc, v));
            }
            Value::Object(map)
        }
    }
}

fn check_event(event: &AuditEvent) {
    let (indexed, plain) = engines();
    let a = indexed.evaluate(event);
    let b = plain.evaluate(event);
    let names = |v: &[palisade_detect::Alert]| v.iter().map(|x| x.rule.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "the value index changed the result");
    for alert in &a {
        let _ = alert.to_json();
        let _ = alert.to_text();
    }
    let _ = event.get_str(&["objectRef", "resource"]);
}

fuzz_target!(|data: &[u8]| {
    // The JSON reader accepts everything serde_json accepts, with the same values.
    if let Ok(expected) = serde_json::from_slice::<Value>(data) {
        let text = std::str::from_utf8(data).expect("serde_json accepted it");
        let doc = Doc::parse(text).expect("valid JSON must parse");
        assert_eq!(to_value(&doc, doc.root()), expected);
        let compact: Value = serde_json::from_str(&doc.compact(doc.root())).expect("compact");
        assert_eq!(compact, expected);
        let indented: Value = serde_json::from_str(&doc.indented(doc.root())).expect("indented");
        assert_eq!(indented, expected);
    }
    match decode_audit_batch_lossy(data) {
        Ok((events, errors)) => {
            for e in &events {
                check_event(e);
            }
            for e in &errors {
                let _ = e.to_string();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    // A single event as the benchmarks and the webhook's one-event path read it.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(event) = AuditEvent::from_json(text) {
            check_event(&event.with_number(1));
        }
    }
});
