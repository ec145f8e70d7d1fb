//! The JSON (and YAML) report document, schema version 1.
//!
//! Every field is described in `docs/json-report.md`; change both together,
//! and bump [`crate::JSON_SCHEMA_VERSION`] when a change is not additive.

use palisade_model::{Finding, InputError, ObjectId, Severity, Span, Suppression};

use crate::doc::{doc_map, Doc};
use crate::util::{fingerprint, suppression_kind};
use crate::Report;

pub(crate) fn document(report: &Report) -> Doc {
    doc_map! {
        "schemaVersion" => crate::JSON_SCHEMA_VERSION,
        "tool" => doc_map! {
            "name" => report.tool.name.as_str(),
            "version" => report.tool.version.as_str(),
            "informationUri" => report.tool.information_uri.as_str(),
        },
        "summary" => summary(report),
        "compliance" => compliance(report),
        "findings" => Doc::Seq(report.findings.iter().map(|f| finding(report, f)).collect()),
        "errors" => Doc::Seq(report.errors.iter().map(|e| error(e)).collect()),
        "objects" => objects(report),
    }
}

fn compliance(report: &Report) -> Doc {
    let Some(compliance) = report.compliance() else {
        return Doc::Null;
    };
    let controls = compliance
        .controls
        .iter()
        .map(|c| {
            doc_map! {
                "id" => c.id,
                "status" => c.status.as_str(),
                "rules" => Doc::Seq(c.rules.iter().map(|r| Doc::from(*r)).collect()),
                "findings" => c.findings,
                "objects" => c.objects,
                "exempted" => c.exempted,
            }
        })
        .collect();
    doc_map! {
        "framework" => compliance.framework.as_str(),
        "title" => compliance.framework.title(),
        "controls" => Doc::Seq(controls),
        "total" => compliance.controls.len(),
        "passed" => compliance.passed,
        "failed" => compliance.failed,
        "percent" => compliance.percent,
    }
}

fn objects(report: &Report) -> Doc {
    let objects = report
        .object_scores()
        .iter()
        .map(|s| {
            let id = &s.object.id;
            doc_map! {
                "file" => s.object.file.as_str(),
                "document" => s.object.document,
                "apiVersion" => id.api_version.as_str(),
                "kind" => id.kind.as_str(),
                "namespace" => id.namespace.as_deref(),
                "name" => id.name.as_str(),
                "score" => s.score,
                "scored" => s.scored,
                "findings" => s.findings,
                "exempted" => s.exempted,
            }
        })
        .collect();
    Doc::Seq(objects)
}

fn suppression(suppression: &Suppression) -> Doc {
    doc_map! {
        "kind" => suppression_kind(suppression.kind),
        "reason" => suppression.reason.as_str(),
        "origin" => suppression.origin.as_str(),
    }
}

fn summary(report: &Report) -> Doc {
    let summary = report.summary();
    let by_kind = summary
        .objects_by_kind
        .iter()
        .map(|k| (k.kind.clone(), Doc::from(k.count)))
        .collect();
    let unchecked = summary
        .objects_by_kind
        .iter()
        .filter(|k| !k.checked)
        .map(|k| Doc::from(k.kind.as_str()))
        .collect();
    let by_severity = Severity::ALL
        .iter()
        .rev()
        .map(|&s| (s.as_str().to_string(), Doc::from(summary.count(s))))
        .collect();
    doc_map! {
        "files" => summary.files,
        "documents" => summary.documents,
        "objects" => summary.objects,
        "objectsByKind" => Doc::Map(by_kind),
        "kindsWithoutChecks" => Doc::Seq(unchecked),
        "findings" => summary.findings,
        "findingsBySeverity" => Doc::Map(by_severity),
        "exempted" => summary.exempted,
        "inputErrors" => summary.input_errors,
        "failOn" => summary.fail_on.as_str(),
        "failingFindings" => summary.failing,
        "result" => summary.outcome.as_str(),
        "exitCode" => u32::from(summary.outcome.exit_code()),
        "score" => summary.score,
    }
}

pub(crate) fn object(id: &ObjectId) -> Doc {
    doc_map! {
        "apiVersion" => id.api_version.as_str(),
        "kind" => id.kind.as_str(),
        "namespace" => id.namespace.as_deref(),
        "name" => id.name.as_str(),
    }
}

/// `line`, `column`, `endLine`, `endColumn`; all null when the position is unknown (line 0).
fn position(entries: &mut Vec<(String, Doc)>, span: Span) {
    let known = span.start.line > 0;
    let value = |n: u32| if known { Doc::from(n) } else { Doc::Null };
    entries.push(("line".into(), value(span.start.line)));
    entries.push(("column".into(), value(span.start.column)));
    entries.push(("endLine".into(), value(span.end.line)));
    entries.push(("endColumn".into(), value(span.end.column)));
}

fn finding(report: &Report, finding: &Finding) -> Doc {
    let rule = report.rule(finding.rule);
    let mut location = vec![
        (
            "file".to_string(),
            Doc::from(finding.location.file.as_str()),
        ),
        ("document".to_string(), Doc::from(finding.location.document)),
        (
            "field".to_string(),
            Doc::from(finding.location.field.as_deref()),
        ),
    ];
    position(&mut location, finding.location.span);
    doc_map! {
        "rule" => finding.rule,
        "severity" => finding.severity.as_str(),
        "category" => rule.map(|r| r.category),
        "message" => finding.message.as_str(),
        "object" => object(&finding.object),
        "location" => Doc::Map(location),
        "remediation" => finding.remediation.as_str(),
        "helpUri" => rule.map(|r| r.help_uri).filter(|u| !u.is_empty()),
        "fingerprint" => fingerprint(finding),
        "exempted" => finding.suppression.is_some(),
        "suppression" => finding.suppression.as_ref().map(suppression),
    }
}

fn error(error: &InputError) -> Doc {
    let mut location = vec![("file".to_string(), Doc::from(error.file.as_str()))];
    position(&mut location, error.span);
    let related = error.related.map(|span| {
        let mut related = vec![("file".to_string(), Doc::from(error.file.as_str()))];
        position(&mut related, span);
        Doc::Map(related)
    });
    doc_map! {
        "code" => error.kind.code(),
        "message" => error.message.as_str(),
        "location" => Doc::Map(location),
        "related" => related,
    }
}
