//! The JSON (and YAML) report document, schema version 1.
//!
//! Every field is described in `docs/json-report.md`; change both together,
//! and bump [`crate::JSON_SCHEMA_VERSION`] when a change is not additive.
//!
//! This module is the one definition of the document: the structs below
//! borrow from the [`Report`] and are serialized in field order, straight to
//! the output, by `serde_json` for `-o json` and by [`crate::yaml`] for
//! `-o yaml`. Nothing is copied and no tree of the whole document is built.

use std::collections::HashMap;

use palisade_model::{Finding, InputError, ObjectId, RuleMeta, Severity, Span, Suppression};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::compliance::{Compliance, ControlResult};
use crate::score::ObjectScore;
use crate::util::{each, fingerprint, suppression_kind, Fingerprint};
use crate::{Report, Summary};

/// The whole document. The numbers that need a pass over all findings
/// (summary, compliance, scores) are computed once, up front.
pub(crate) struct Document<'r, 'a> {
    report: &'r Report<'a>,
    summary: Summary,
    compliance: Option<Compliance>,
    scores: Vec<ObjectScore<'r>>,
    rules: HashMap<&'static str, &'a RuleMeta>,
}

pub(crate) fn document<'r, 'a>(report: &'r Report<'a>) -> Document<'r, 'a> {
    let mut rules = HashMap::with_capacity(report.rules.len());
    for rule in &report.rules {
        // The first of two rules with one id wins, as in `Report::rule`.
        rules.entry(rule.id).or_insert(*rule);
    }
    let scores = report.object_scores();
    Document {
        report,
        summary: report.summary_with(&scores),
        compliance: report.compliance(),
        scores,
        rules,
    }
}

impl Serialize for Document<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = self.report;
        let mut doc = serializer.serialize_struct("Report", 7)?;
        doc.serialize_field("schemaVersion", crate::JSON_SCHEMA_VERSION)?;
        doc.serialize_field(
            "tool",
            &Tool {
                name: &report.tool.name,
                version: &report.tool.version,
                information_uri: &report.tool.information_uri,
            },
        )?;
        doc.serialize_field("summary", &SummaryView(&self.summary))?;
        doc.serialize_field("compliance", &self.compliance.as_ref().map(ComplianceView))?;
        doc.serialize_field("findings", &each(&report.findings, |f| self.finding(f)))?;
        doc.serialize_field("errors", &each(&report.errors, |e| error(e)))?;
        doc.serialize_field("objects", &each(&self.scores, object_score))?;
        doc.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Tool<'r> {
    name: &'r str,
    version: &'r str,
    information_uri: &'r str,
}

struct SummaryView<'r>(&'r Summary);

impl Serialize for SummaryView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let summary = self.0;
        let mut s = serializer.serialize_struct("Summary", 14)?;
        s.serialize_field("files", &summary.files)?;
        s.serialize_field("documents", &summary.documents)?;
        s.serialize_field("objects", &summary.objects)?;
        s.serialize_field("objectsByKind", &ObjectsByKind(summary))?;
        s.serialize_field("kindsWithoutChecks", &KindsWithoutChecks(summary))?;
        s.serialize_field("findings", &summary.findings)?;
        s.serialize_field("findingsBySeverity", &FindingsBySeverity(summary))?;
        s.serialize_field("exempted", &summary.exempted)?;
        s.serialize_field("inputErrors", &summary.input_errors)?;
        s.serialize_field("failOn", summary.fail_on.as_str())?;
        s.serialize_field("failingFindings", &summary.failing)?;
        s.serialize_field("result", summary.outcome.as_str())?;
        s.serialize_field("exitCode", &summary.outcome.exit_code())?;
        s.serialize_field("score", &summary.score)?;
        s.end()
    }
}

/// `{ "Kind": count }`, most frequent first.
struct ObjectsByKind<'r>(&'r Summary);

impl Serialize for ObjectsByKind<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let kinds = &self.0.objects_by_kind;
        let mut map = serializer.serialize_map(Some(kinds.len()))?;
        for kind in kinds {
            map.serialize_entry(kind.kind.as_str(), &kind.count)?;
        }
        map.end()
    }
}

/// Kinds without checks, in the order of `objectsByKind`.
struct KindsWithoutChecks<'r>(&'r Summary);

impl Serialize for KindsWithoutChecks<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.0
                .objects_by_kind
                .iter()
                .filter(|k| !k.checked)
                .map(|k| k.kind.as_str()),
        )
    }
}

/// `{ "critical": n, …, "info": n }`, most severe first.
struct FindingsBySeverity<'r>(&'r Summary);

impl Serialize for FindingsBySeverity<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            Severity::ALL
                .iter()
                .rev()
                .map(|&s| (s.as_str(), self.0.count(s))),
        )
    }
}

struct ComplianceView<'r>(&'r Compliance);

impl Serialize for ComplianceView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let compliance = self.0;
        let mut s = serializer.serialize_struct("Compliance", 7)?;
        s.serialize_field("framework", compliance.framework.as_str())?;
        s.serialize_field("title", compliance.framework.title())?;
        s.serialize_field("controls", &each(&compliance.controls, control))?;
        s.serialize_field("total", &compliance.controls.len())?;
        s.serialize_field("passed", &compliance.passed)?;
        s.serialize_field("failed", &compliance.failed)?;
        s.serialize_field("percent", &compliance.percent)?;
        s.end()
    }
}

#[derive(Serialize)]
struct Control<'r> {
    id: &'static str,
    status: &'static str,
    rules: &'r [&'static str],
    findings: usize,
    objects: usize,
    exempted: usize,
}

fn control(c: &ControlResult) -> Control<'_> {
    Control {
        id: c.id,
        status: c.status.as_str(),
        rules: &c.rules,
        findings: c.findings,
        objects: c.objects,
        exempted: c.exempted,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<'r> {
    file: &'r str,
    document: usize,
    api_version: &'r str,
    kind: &'r str,
    namespace: Option<&'r str>,
    name: &'r str,
    score: u32,
    scored: bool,
    findings: usize,
    exempted: usize,
}

fn object_score<'r>(s: &ObjectScore<'r>) -> Object<'r> {
    let id = &s.object.id;
    Object {
        file: &s.object.file,
        document: s.object.document,
        api_version: &id.api_version,
        kind: &id.kind,
        namespace: id.namespace.as_deref(),
        name: &id.name,
        score: s.score,
        scored: s.scored,
        findings: s.findings,
        exempted: s.exempted,
    }
}

/// A finding's `object`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'r> {
    api_version: &'r str,
    kind: &'r str,
    namespace: Option<&'r str>,
    name: &'r str,
}

fn identity(id: &ObjectId) -> Identity<'_> {
    Identity {
        api_version: &id.api_version,
        kind: &id.kind,
        namespace: id.namespace.as_deref(),
        name: &id.name,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FindingView<'r> {
    rule: &'r str,
    severity: &'static str,
    category: Option<&'static str>,
    message: &'r str,
    object: Identity<'r>,
    location: FindingLocation<'r>,
    remediation: &'r str,
    help_uri: Option<&'static str>,
    fingerprint: Fingerprint,
    exempted: bool,
    suppression: Option<SuppressionView<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'r serde_json::Value>,
}

/// `line`, `column`, `endLine`, `endColumn`; all null when the position is unknown (line 0).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Position {
    line: Option<u32>,
    column: Option<u32>,
    end_line: Option<u32>,
    end_column: Option<u32>,
}

fn position(span: Span) -> Position {
    let known = span.start.line > 0;
    let value = |n: u32| known.then_some(n);
    Position {
        line: value(span.start.line),
        column: value(span.start.column),
        end_line: value(span.end.line),
        end_column: value(span.end.column),
    }
}

#[derive(Serialize)]
struct FindingLocation<'r> {
    file: &'r str,
    document: usize,
    field: Option<&'r str>,
    #[serde(flatten)]
    position: Position,
}

#[derive(Serialize)]
struct SuppressionView<'r> {
    kind: &'static str,
    reason: &'r str,
    origin: &'r str,
}

fn suppression(suppression: &Suppression) -> SuppressionView<'_> {
    SuppressionView {
        kind: suppression_kind(suppression.kind),
        reason: &suppression.reason,
        origin: &suppression.origin,
    }
}

impl Document<'_, '_> {
    fn finding<'f>(&self, finding: &'f Finding) -> FindingView<'f> {
        let rule = self.rules.get(finding.rule);
        FindingView {
            rule: finding.rule,
            severity: finding.severity.as_str(),
            category: rule.map(|r| r.category),
            message: &finding.message,
            object: identity(&finding.object),
            location: FindingLocation {
                file: &finding.location.file,
                document: finding.location.document,
                field: finding.location.field.as_deref(),
                position: position(finding.location.span),
            },
            remediation: &finding.remediation,
            help_uri: rule.map(|r| r.help_uri).filter(|u| !u.is_empty()),
            fingerprint: fingerprint(finding),
            exempted: finding.suppression.is_some(),
            suppression: finding.suppression.as_ref().map(suppression),
            details: finding.details.as_ref(),
        }
    }
}

#[derive(Serialize)]
struct ErrorView<'r> {
    code: &'static str,
    message: &'r str,
    location: ErrorLocation<'r>,
    related: Option<ErrorLocation<'r>>,
}

#[derive(Serialize)]
struct ErrorLocation<'r> {
    file: &'r str,
    #[serde(flatten)]
    position: Position,
}

fn error(error: &InputError) -> ErrorView<'_> {
    ErrorView {
        code: error.kind.code(),
        message: &error.message,
        location: ErrorLocation {
            file: &error.file,
            position: position(error.span),
        },
        related: error.related.map(|span| ErrorLocation {
            file: &error.file,
            position: position(span),
        }),
    }
}
