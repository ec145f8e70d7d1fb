//! The JSON document's shape, and the YAML document read back.

mod common;

use std::sync::Arc;

use palisade_model::{Framework, Severity, SourceFile};
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
            "exempted": 0,
            "inputErrors": 1,
            "failOn": "high",
            "failingFindings": 2,
            "result": "error",
            "exitCode": 2,
            // Deployment prod/web 49, Pod debug-2 100, Pod tools 98 (ConfigMap not scored).
            "score": 82,
        })
    );
    assert_eq!(value["compliance"], Value::Null);
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
        "\"compliance\"",
        "\"findings\": [",
        "\"errors\"",
        "\"objects\": [",
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
        "exempted",
        "suppression",
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
    assert_eq!(first["exempted"], false);
    assert_eq!(first["suppression"], Value::Null);
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

fn exempted_report_json(framework: Option<Framework>) -> Value {
    let loaded = common::loaded();
    let findings = common::exempted_findings(&loaded);
    let rules = common::rules();
    let mut report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    report.framework = framework;
    let value = json_value(&report);
    let yaml = render_to_string(&report, Format::Yaml, &RenderOptions::default());
    assert_eq!(read_yaml(&yaml), value);
    value
}

#[test]
fn exempted_findings() {
    let value = exempted_report_json(None);
    let summary = &value["summary"];
    assert_eq!(summary["findings"], 2);
    assert_eq!(summary["exempted"], 2);
    assert_eq!(
        summary["findingsBySeverity"],
        json!({"critical": 1, "high": 0, "medium": 1, "low": 0, "info": 0})
    );
    assert_eq!(summary["failingFindings"], 1);
    assert_eq!(summary["score"], 88);

    // Still listed, in the same order, marked.
    let findings = value["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 4);
    let marks: Vec<(&str, bool)> = findings
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["exempted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        marks,
        [
            ("pss/host-namespaces", false),
            ("pss/privileged", true),
            ("pss/capabilities", false),
            ("pss/run-as-non-root", true),
        ]
    );
    assert_eq!(
        findings[1]["suppression"],
        json!({"kind": "external", "reason": common::EXTERNAL_REASON, "origin": ".palisade.yaml:7"})
    );
    assert_eq!(
        findings[3]["suppression"],
        json!({"kind": "inSource", "reason": common::IN_SOURCE_REASON, "origin": "annotation palisade.dev/ignore"})
    );
    assert_eq!(findings[0]["suppression"], Value::Null);
}

#[test]
fn objects_with_scores() {
    let value = exempted_report_json(None);
    assert_eq!(
        value["objects"],
        json!([
            {"file": "deploy/web.yaml", "document": 0, "apiVersion": "apps/v1", "kind": "Deployment",
             "namespace": "prod", "name": "web", "score": 64, "scored": true, "findings": 2, "exempted": 1},
            {"file": "deploy/web.yaml", "document": 1, "apiVersion": "v1", "kind": "ConfigMap",
             "namespace": "prod", "name": "settings", "score": 100, "scored": false, "findings": 0, "exempted": 0},
            {"file": "pods/debug.yaml", "document": 0, "apiVersion": "v1", "kind": "Pod",
             "namespace": null, "name": "debug-2", "score": 100, "scored": true, "findings": 0, "exempted": 0},
            {"file": "pods/debug.yaml", "document": 1, "apiVersion": "v1", "kind": "Pod",
             "namespace": null, "name": "tools", "score": 100, "scored": true, "findings": 0, "exempted": 1},
        ])
    );
}

#[test]
fn compliance_section() {
    let value = exempted_report_json(Some(Framework::Mitre));
    assert_eq!(
        value["compliance"],
        json!({
            "framework": "mitre",
            "title": "MITRE ATT&CK for Containers",
            "controls": [{
                "id": "T1611",
                "status": "fail",
                "rules": ["pss/host-namespaces", "pss/privileged"],
                "findings": 1,
                "objects": 1,
                "exempted": 1,
            }],
            "total": 1,
            "passed": 0,
            "failed": 1,
            "percent": 0,
        })
    );
    let cis = exempted_report_json(Some(Framework::Cis));
    let ids: Vec<&str> = cis["compliance"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["5.2.2", "5.2.5", "5.2.7", "5.2.9", "5.2.10"]);
    assert_eq!(
        (
            &cis["compliance"]["passed"],
            &cis["compliance"]["failed"],
            &cis["compliance"]["percent"]
        ),
        (&json!(2), &json!(3), &json!(40))
    );
}

#[test]
fn configuration_errors() {
    let loaded = common::loaded();
    let source: palisade_model::Source =
        Arc::new(SourceFile::new(".palisade.yaml", "fail-on: hgih\n"));
    let config = palisade_model::InputError::new(
        palisade_model::InputErrorKind::Config,
        &source,
        common::span_of("fail-on: hgih\n", 1, "hgih"),
        "unknown severity \"hgih\"".into(),
    );
    let mut report = Report::new("0.1.0", &loaded, &[], &[], Severity::High);
    report.errors.push(&config);
    report.sort();
    let value = json_value(&report);
    assert_eq!(value["summary"]["inputErrors"], 2);
    assert_eq!(
        value["errors"][0],
        json!({
            "code": "input/config",
            "message": "unknown severity \"hgih\"",
            "location": {"file": ".palisade.yaml", "line": 1, "column": 10, "endLine": 1, "endColumn": 14},
            "related": null,
        })
    );
    assert_eq!(value["errors"][1]["code"], "input/duplicate-key");
}
