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
//!
//! The log is written as it is serialized, from the structs below, which
//! borrow from the [`Report`]. Their fields are declared in sorted order, the
//! order in which a `serde_json::Value` (and so [`crate::sarif_value`]) keeps
//! keys: the output does not depend on how it is produced.

use std::collections::HashMap;
use std::fmt;

use palisade_model::{Finding, InputError, ObjectId, RuleMeta, Severity, Span};
use serde::{Serialize, Serializer};

use crate::util::{each, file_uri, fingerprint, suppression_kind, upper_camel, Fingerprint};
use crate::Report;

pub(crate) const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

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

/// The log of one run. Rule indices and file URIs are worked out up front,
/// once per rule and per file.
pub(crate) struct Log<'r, 'a> {
    report: &'r Report<'a>,
    /// The report's rules, then any the findings name that it lacks.
    rules: Vec<Rule<'a>>,
    /// Rule id → index in `rules` (the first rule of an id).
    rule_index: HashMap<&'a str, usize>,
    /// File name → its URI, and whether that is relative (to `%SRCROOT%`).
    uris: HashMap<&'r str, (String, bool)>,
    exit_code: u8,
}

pub(crate) fn log<'r, 'a>(report: &'r Report<'a>) -> Log<'r, 'a> {
    let mut rules: Vec<Rule> = report.rules.iter().map(|r| rule(r)).collect();
    let mut rule_index: HashMap<&str, usize> = HashMap::with_capacity(rules.len());
    for (i, rule) in report.rules.iter().enumerate() {
        rule_index.entry(rule.id).or_insert(i);
    }
    for finding in &report.findings {
        if !rule_index.contains_key(finding.rule) {
            rule_index.insert(finding.rule, rules.len());
            rules.push(bare_rule(finding.rule));
        }
    }
    let mut uris: HashMap<&str, (String, bool)> = HashMap::new();
    let files = report
        .findings
        .iter()
        .map(|f| f.location.file.as_str())
        .chain(report.errors.iter().map(|e| e.file.as_str()));
    for file in files {
        uris.entry(file).or_insert_with(|| file_uri(file));
    }
    Log {
        report,
        rules,
        rule_index,
        uris,
        exit_code: report.exit_code(),
    }
}

impl Serialize for Log<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = self.report;
        let tool = &report.tool;
        let run = Run {
            column_kind: "unicodeCodePoints",
            invocations: [Invocation {
                execution_successful: report.errors.is_empty(),
                exit_code: self.exit_code,
                tool_execution_notifications: each(&report.errors, |e| self.notification(e)),
            }],
            results: each(&report.findings, |f| self.result(f)),
            tool: ToolView {
                driver: Driver {
                    information_uri: &tool.information_uri,
                    name: &tool.name,
                    rules: &self.rules,
                    semantic_version: &tool.version,
                    version: &tool.version,
                },
            },
        };
        TopLevel {
            schema: SCHEMA_URI,
            runs: [run],
            version: "2.1.0",
        }
        .serialize(serializer)
    }
}

// Every struct below lists its fields in sorted order (see the module documentation).

#[derive(Serialize)]
struct TopLevel<R> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [R; 1],
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'r, N, R> {
    column_kind: &'static str,
    invocations: [Invocation<N>; 1],
    results: R,
    tool: ToolView<'r>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<N> {
    execution_successful: bool,
    exit_code: u8,
    tool_execution_notifications: N,
}

#[derive(Serialize)]
struct ToolView<'r> {
    driver: Driver<'r>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'r> {
    information_uri: &'r str,
    name: &'r str,
    rules: &'r [Rule<'r>],
    semantic_version: &'r str,
    version: &'r str,
}

#[derive(Serialize)]
struct Text<T> {
    text: T,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    default_configuration: Option<Level>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_description: Option<Text<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<Help<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    id: &'a str,
    name: String,
    properties: RuleProperties,
    short_description: Text<&'a str>,
}

#[derive(Serialize)]
struct Level {
    level: &'static str,
}

#[derive(Serialize)]
struct Help<'a> {
    markdown: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
struct RuleProperties {
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<&'static str>,
    tags: Vec<String>,
}

fn rule(rule: &RuleMeta) -> Rule<'static> {
    Rule {
        default_configuration: Some(Level {
            level: level(rule.severity),
        }),
        full_description: Some(Text {
            text: first_paragraph(rule.docs).unwrap_or(rule.title),
        }),
        help: (!rule.docs.is_empty()).then_some(Help {
            markdown: rule.docs,
            text: rule.docs,
        }),
        help_uri: Some(rule.help_uri).filter(|u| !u.is_empty()),
        id: rule.id,
        name: upper_camel(rule.id),
        properties: RuleProperties {
            security_severity: Some(security_severity(rule.severity)),
            severity: Some(rule.severity.as_str()),
            tags: tags(rule),
        },
        short_description: Text { text: rule.title },
    }
}

/// A rule a finding names that the report has no documentation for.
fn bare_rule(id: &str) -> Rule<'_> {
    Rule {
        default_configuration: None,
        full_description: None,
        help: None,
        help_uri: None,
        id,
        name: upper_camel(id),
        properties: RuleProperties {
            security_severity: None,
            severity: None,
            tags: vec!["security".to_string(), "kubernetes".to_string()],
        },
        short_description: Text { text: id },
    }
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

/// A physical location; without `region` for a position-less span (line 0).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation<'r> {
    artifact_location: ArtifactLocation<'r>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation<'r> {
    uri: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<u32>,
    start_column: u32,
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultView<'r> {
    level: &'static str,
    locations: [ResultLocation<'r>; 1],
    message: Text<MessageText<'r>>,
    partial_fingerprints: PartialFingerprints,
    properties: ResultProperties<'r>,
    rule_id: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<[SuppressionView<'r>; 1]>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultLocation<'r> {
    logical_locations: [LogicalLocation<'r>; 1],
    physical_location: PhysicalLocation<'r>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'r> {
    fully_qualified_name: Qualified<'r>,
    kind: &'static str,
    name: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<Field<'r>>,
}

/// An object's `Kind ns/name`, written without an intermediate string.
struct Qualified<'r>(&'r ObjectId);

impl Serialize for Qualified<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

#[derive(Serialize)]
struct Field<'r> {
    field: &'r str,
}

/// The message, then `Help: <remediation>` on a line of its own.
struct MessageText<'r>(&'r Finding);

impl fmt::Display for MessageText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        if !self.0.remediation.is_empty() {
            f.write_str("\nHelp: ")?;
            f.write_str(&self.0.remediation)?;
        }
        Ok(())
    }
}

impl Serialize for MessageText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `partialFingerprints`: our one entry, which does not change when lines move.
#[derive(Serialize)]
struct PartialFingerprints {
    #[serde(rename = "palisadeFinding/v1")]
    finding: Fingerprint,
}

#[derive(Serialize)]
struct ResultProperties<'r> {
    document: usize,
    object: ObjectView<'r>,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectView<'r> {
    api_version: &'r str,
    kind: &'r str,
    name: &'r str,
    namespace: Option<&'r str>,
}

#[derive(Serialize)]
struct SuppressionView<'r> {
    justification: &'r str,
    kind: &'static str,
    properties: Origin<'r>,
    status: &'static str,
}

#[derive(Serialize)]
struct Origin<'r> {
    origin: &'r str,
}

#[derive(Serialize)]
struct Notification<'r> {
    descriptor: Descriptor,
    level: &'static str,
    locations: [NotificationLocation<'r>; 1],
    message: Text<&'r str>,
}

#[derive(Serialize)]
struct Descriptor {
    id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationLocation<'r> {
    physical_location: PhysicalLocation<'r>,
}

impl<'r> Log<'r, '_> {
    fn physical_location(&self, file: &'r str, span: Span) -> PhysicalLocation<'_> {
        let (uri, relative) = match self.uris.get(file) {
            Some((uri, relative)) => (uri.as_str(), *relative),
            // Every file of the report is in `uris`.
            None => (file, false),
        };
        let region = (span.start.line > 0).then(|| {
            let end = span.end > span.start;
            Region {
                end_column: end.then(|| span.end.column.max(1)),
                end_line: end.then_some(span.end.line),
                start_column: span.start.column.max(1),
                start_line: span.start.line,
            }
        });
        PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri,
                uri_base_id: relative.then_some("%SRCROOT%"),
            },
            region,
        }
    }

    fn result<'f>(&'f self, finding: &'f Finding) -> ResultView<'f> {
        let object = &finding.object;
        ResultView {
            level: level(finding.severity),
            locations: [ResultLocation {
                logical_locations: [LogicalLocation {
                    fully_qualified_name: Qualified(object),
                    kind: "object",
                    name: &object.name,
                    properties: finding
                        .location
                        .field
                        .as_deref()
                        .map(|field| Field { field }),
                }],
                physical_location: self
                    .physical_location(&finding.location.file, finding.location.span),
            }],
            message: Text {
                text: MessageText(finding),
            },
            partial_fingerprints: PartialFingerprints {
                finding: fingerprint(finding),
            },
            properties: ResultProperties {
                document: finding.location.document,
                object: ObjectView {
                    api_version: &object.api_version,
                    kind: &object.kind,
                    name: &object.name,
                    namespace: object.namespace.as_deref(),
                },
                security_severity: security_severity(finding.severity),
                severity: finding.severity.as_str(),
            },
            rule_id: finding.rule,
            rule_index: self.rule_index.get(finding.rule).copied(),
            suppressions: finding.suppression.as_ref().map(|suppression| {
                [SuppressionView {
                    justification: &suppression.reason,
                    kind: suppression_kind(suppression.kind),
                    properties: Origin {
                        origin: &suppression.origin,
                    },
                    status: "accepted",
                }]
            }),
        }
    }

    fn notification<'f>(&'f self, error: &'f InputError) -> Notification<'f> {
        Notification {
            descriptor: Descriptor {
                id: error.kind.code(),
            },
            level: "error",
            locations: [NotificationLocation {
                physical_location: self.physical_location(&error.file, error.span),
            }],
            message: Text {
                text: &error.message,
            },
        }
    }
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
