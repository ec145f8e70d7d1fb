//! SARIF 2.1.0, as GitHub code scanning reads it.
//!
//! - `tool.driver.rules` carries every rule of the report (plus a bare entry
//!   for any rule a finding names that the report has no documentation for),
//!   with `properties.security-severity`, which GitHub uses to rank alerts.
//! - Each result names its rule by `ruleId` and `ruleIndex`, points at a
//!   repository-relative URI under `%SRCROOT%`, names the Kubernetes object
//!   as a logical location and carries a `partialFingerprints` entry that does
//!   not change when lines move.
//! - Input errors are `invocations[0].toolExecutionNotifications`, and make
//!   `executionSuccessful` false.
//! - Exempted findings are results with one `suppressions` entry (`kind`
//!   `inSource` for an annotation, `external` for `.palisade.yaml`; `status`
//!   `accepted`; the reason as `justification`): GitHub code scanning shows
//!   them as dismissed alerts.
//! - Rules carry their framework controls as `properties.tags` (`cis:5.2.2`,
//!   `nsa:pod-security`, `mitre:T1611`), next to `security` and `kubernetes`.

use palisade_model::{Finding, InputError, RuleMeta, Severity, Span};
use serde_json::{json, Map, Value};

use crate::util::{file_uri, fingerprint, suppression_kind, upper_camel};
use crate::Report;

pub(crate) const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of our entry in `partialFingerprints`.
pub(crate) const FINGERPRINT_KEY: &str = "palisadeFinding/v1";

/// SARIF `level` of a severity.
pub(crate) fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` score of a severity (critical ≥ 9, high ≥ 7, medium ≥ 4).
pub(crate) fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.0",
        Severity::High => "7.5",
        Severity::Medium => "5.0",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

pub(crate) fn log(report: &Report) -> Value {
    // Rules: the report's, then any the findings name that it lacks.
    let mut rules: Vec<Value> = report.rules.iter().map(|r| rule(r)).collect();
    let mut rule_ids: Vec<&str> = report.rules.iter().map(|r| r.id).collect();
    for finding in &report.findings {
        if !rule_ids.contains(&finding.rule) {
            rule_ids.push(finding.rule);
            rules.push(json!({
                "id": finding.rule,
                "name": upper_camel(finding.rule),
                "shortDescription": { "text": finding.rule },
                "properties": { "tags": ["security", "kubernetes"] },
            }));
        }
    }

    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = rule_ids.iter().position(|id| *id == f.rule);
            result(f, index)
        })
        .collect();

    let notifications: Vec<Value> = report.errors.iter().map(|e| notification(e)).collect();
    let exit_code = report.exit_code();

    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": report.tool.name,
                    "version": report.tool.version,
                    "semanticVersion": report.tool.version,
                    "informationUri": report.tool.information_uri,
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "exitCode": exit_code,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn rule(rule: &RuleMeta) -> Value {
    let mut value = json!({
        "id": rule.id,
        "name": upper_camel(rule.id),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": first_paragraph(rule.docs).unwrap_or(rule.title) },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": {
            "tags": tags(rule),
            "severity": rule.severity.as_str(),
            "security-severity": security_severity(rule.severity),
        },
    });
    if let Some(object) = value.as_object_mut() {
        if !rule.docs.is_empty() {
            object.insert(
                "help".into(),
                json!({ "text": rule.docs, "markdown": rule.docs }),
            );
        }
        if !rule.help_uri.is_empty() {
            object.insert("helpUri".into(), json!(rule.help_uri));
        }
    }
    value
}

/// `security`, `kubernetes`, the category, then `framework:control` for every
/// control; distinct (SARIF tags are a set), empty ones left out.
fn tags(rule: &RuleMeta) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let all = ["security".to_string(), "kubernetes".to_string()]
        .into_iter()
        .chain(std::iter::once(rule.category.to_string()))
        .chain(
            rule.controls
                .iter()
                .map(|c| format!("{}:{}", c.framework.as_str(), c.id)),
        );
    for tag in all {
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

/// The first paragraph of a rule's markdown that is not a heading (the start
/// of "What it finds").
fn first_paragraph(docs: &str) -> Option<&str> {
    docs.split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#') && !p.starts_with("```"))
        .or_else(|| {
            // "## What it finds\nText..." without a blank line after the heading.
            docs.lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("```"))
        })
}

/// A physical location; `None` for a position-less span (line 0).
fn physical_location(file: &str, span: Span) -> Value {
    let (uri, relative) = file_uri(file);
    let mut artifact = Map::new();
    artifact.insert("uri".into(), json!(uri));
    if relative {
        artifact.insert("uriBaseId".into(), json!("%SRCROOT%"));
    }
    let mut location = Map::new();
    location.insert("artifactLocation".into(), Value::Object(artifact));
    if span.start.line > 0 {
        let mut region = Map::new();
        region.insert("startLine".into(), json!(span.start.line));
        region.insert("startColumn".into(), json!(span.start.column.max(1)));
        if span.end > span.start {
            region.insert("endLine".into(), json!(span.end.line));
            region.insert("endColumn".into(), json!(span.end.column.max(1)));
        }
        location.insert("region".into(), Value::Object(region));
    }
    Value::Object(location)
}

fn result(finding: &Finding, rule_index: Option<usize>) -> Value {
    let object = &finding.object;
    let mut logical = json!({
        "name": object.name,
        "fullyQualifiedName": object.to_string(),
        "kind": "object",
    });
    if let (Some(logical), Some(field)) = (logical.as_object_mut(), &finding.location.field) {
        logical.insert("properties".into(), json!({ "field": field }));
    }
    let mut message = finding.message.clone();
    if !finding.remediation.is_empty() {
        message.push_str("\nHelp: ");
        message.push_str(&finding.remediation);
    }
    let mut result = json!({
        "ruleId": finding.rule,
        "level": level(finding.severity),
        "message": { "text": message },
        "locations": [{
            "physicalLocation": physical_location(&finding.location.file, finding.location.span),
            "logicalLocations": [logical],
        }],
        "partialFingerprints": { FINGERPRINT_KEY: fingerprint(finding) },
        "properties": {
            "severity": finding.severity.as_str(),
            "security-severity": security_severity(finding.severity),
            "object": {
                "apiVersion": object.api_version,
                "kind": object.kind,
                "namespace": object.namespace,
                "name": object.name,
            },
            "document": finding.location.document,
        },
    });
    if let Some(object) = result.as_object_mut() {
        if let Some(index) = rule_index {
            object.insert("ruleIndex".into(), json!(index));
        }
        if let Some(suppression) = &finding.suppression {
            object.insert(
                "suppressions".into(),
                json!([{
                    "kind": suppression_kind(suppression.kind),
                    "status": "accepted",
                    "justification": suppression.reason,
                    "properties": { "origin": suppression.origin },
                }]),
            );
        }
    }
    result
}

fn notification(error: &InputError) -> Value {
    json!({
        "level": "error",
        "message": { "text": error.message },
        "descriptor": { "id": error.kind.code() },
        "locations": [{ "physicalLocation": physical_location(&error.file, error.span) }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_description_from_docs() {
        assert_eq!(
            first_paragraph("## What it finds\n\nPrivileged containers.\n\n## Why"),
            Some("Privileged containers.")
        );
        assert_eq!(
            first_paragraph("## What it finds\nA file that could not be read.\n\n## Why"),
            Some("A file that could not be read.")
        );
        assert_eq!(first_paragraph(""), None);
    }
}
