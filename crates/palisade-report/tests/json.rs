//! The JSON document's shape, and the YAML document read back.

mod common;

use std::sync::Arc;

use palisade_model::{Severity, SourceFile};
use palisade_report::{json_value, render_to_string, Format, RenderOptions, Report};
use serde_json::{json, Value};

fn report_json() -> Value {
    let loaded = common::loaded();
    let findings = common::findings(&loaded);
    let rules = common::rules();
    let report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    let text = render_to_string(&report, Format::Json, &RenderOptions::default());
    let value: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(value, json_value(&report));
    value
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn top_level_and_summary() {
    let value = report_json();
    assert_eq!(value["schemaVersion"], "1");
    assert_eq!(
        value["tool"],
        json!({"name": "palisade", "version": "0.1.0", "informationUri": "https://github.com/palisade-dev/palisade"})
    );
    assert_eq!(
        value["summary"],
        json!({
            "files": 2,
            "documents": 4,
            "objects": 4,
            "objectsByKind": {"Pod": 2, "ConfigMap": 1, "Deployment": 1},
            "kindsWithoutChecks": ["ConfigMap"],
            "findings": 4,
            "findingsBySeverity": {"critical": 1, "high": 1, "medium": 1, "low": 1, "info": 0},
            "inputErrors": 1,
            "failOn": "high",
            "failingFindings": 2,
            "result": "error",
            "exitCode": 2,
        })
    );
}

#[test]
fn key_order_is_stable() {
    let loaded = common::loaded();
    let findings = common::findings(&loaded);
    let rules = common::rules();
    let report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    let text = render_to_string(&report, Format::Json, &RenderOptions::default());
    let order = [
        "\"schemaVersion\"",
        "\"tool\"",
        "\"summary\"",
        "\"findings\": [",
        "\"errors\"",
    ];
    let positions: Vec<usize> = order.iter().map(|k| text.find(k).expect(k)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
}

#[test]
fn finding_shape() {
    let value = report_json();
    let findings = value["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 4);
    let first = &findings[0];
    let mut expected = [
        "rule",
        "severity",
        "category",
        "message",
        "object",
        "location",
        "remediation",
        "helpUri",
        "fingerprint",
    ];
    expected.sort_unstable();
    assert_eq!(keys(first), expected); // serde_json's map sorts keys

    assert_eq!(first["rule"], "pss/host-namespaces");
    assert_eq!(first["severity"], "critical");
    assert_eq!(first["category"], "pod-security");
    assert_eq!(
        first["object"],
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "prod", "name": "web"})
    );
    assert_eq!(
        first["location"],
        json!({
            "file": "deploy/web.yaml", "document": 0, "field": "spec.template.spec.hostNetwork",
            "line": 9, "column": 7, "endLine": 9, "endColumn": 24
        })
    );
    let fingerprint = first["fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.len(), 16);
    assert!(fingerprint.chars().all(|c| c.is_ascii_hexdigit()));
    // A rule without documentation: the fields stay, as null.
    let last = &findings[3];
    assert_eq!(last["rule"], "pss/run-as-non-root");
    assert_eq!(last["helpUri"], Value::Null);
    assert_eq!(last["object"]["namespace"], Value::Null);
    let fingerprints: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fingerprints.len(), 4);
}

#[test]
fn error_shape() {
    let value = report_json();
    assert_eq!(
        value["errors"],
        json!([{
            "code": "input/duplicate-key",
            "message": "duplicate key \"name\": already set at line 4, column 3",
            "location": {"file": "pods/debug.yaml", "line": 5, "column": 3, "endLine": 5, "endColumn": 7},
            "related": {"file": "pods/debug.yaml", "line": 4, "column": 3, "endLine": 4, "endColumn": 7},
        }])
    );
}

/// Parses YAML with the model's own reader (go-yaml / YAML 1.1 scalar rules, as kubectl).
fn read_yaml(text: &str) -> Value {
    let source = Arc::new(SourceFile::new("report.yaml", text));
    let (documents, errors) = palisade_model::yaml::parse_stream(&source);
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    assert_eq!(documents.len(), 1);
    documents[0].root.to_json()
}

#[test]
fn yaml_is_the_same_document() {
    let loaded = common::loaded();
    let findings = common::findings(&loaded);
    let rules = common::rules();
    let report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    let yaml = render_to_string(&report, Format::Yaml, &RenderOptions::default());
    assert!(
        yaml.starts_with("---\nschemaVersion: '1'\ntool:\n  name: palisade\n"),
        "{yaml}"
    );
    assert_eq!(read_yaml(&yaml), json_value(&report));
}

#[test]
fn yaml_quotes_what_needs_quoting() {
    // Messages and names that a careless emitter would turn into booleans,
    // numbers, nulls, comments, anchors or broken lines.
    let tricky = [
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "~",
        "null",
        "true",
        "1.0",
        "0x1F",
        "0755",
        "1e3",
        ".inf",
        "-",
        "- item",
        "a: b",
        "a #b",
        "#c",
        "&anchor",
        "*alias",
        "!tag",
        "%x",
        "@x",
        "`x",
        "'single'",
        "\"double\"",
        "{a}",
        "[a]",
        "|",
        ">",
        "? q",
        "",
        " lead",
        "trail ",
        "two\nlines",
        "tab\there",
        "back\\slash",
        "bell\u{7}",
        "ünïcödé",
        "2024-01-01",
        "12:30",
        "<<",
        "=",
        "x: |",
        "crlf\r\nline",
        "\u{2028}sep",
        "end:",
    ];
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n";
    let loaded = palisade_model::load_text("p.yaml", text, &Default::default());
    let findings: Vec<_> = tricky
        .iter()
        .map(|m| {
            palisade_model::Finding::new(
                &common::PRIVILEGED,
                &loaded.objects[0],
                common::span_of(text, 2, "Pod"),
                Some((*m).to_string()),
                (*m).to_string(),
                format!("{m}{m}"),
            )
        })
        .collect();
    let report = Report::new("0.1.0", &loaded, &findings, &[], Severity::High);
    let yaml = render_to_string(&report, Format::Yaml, &RenderOptions::default());
    assert_eq!(read_yaml(&yaml), json_value(&report), "{yaml}");
}
