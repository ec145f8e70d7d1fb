//! What analyzers report: findings, their severities, and rule documentation.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::object::{Object, ObjectId};
use crate::source::{Source, Span};

/// How much a finding matters. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity {other:?} (expected info, low, medium, high or critical)"
            )),
        }
    }
}

/// The documentation of a rule; `palisade explain ID` prints `docs`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleMeta {
    /// Stable identifier, e.g. `pss/privileged`.
    pub id: &'static str,
    /// One line: what the rule finds.
    pub title: &'static str,
    pub severity: Severity,
    /// The layer or family: `pod-security`, `hardening`, `input`...
    pub category: &'static str,
    /// Markdown with the sections "What it finds", "Why it matters", "How to fix it", "Example".
    pub docs: &'static str,
    /// Where to read more (upstream documentation).
    pub help_uri: &'static str,
}

/// Where a finding is: a file and a span in it.
#[derive(Debug, Clone, Serialize)]
pub struct Location {
    pub file: String,
    pub span: Span,
    /// 0-based document index in the file.
    pub document: usize,
    /// A dotted field path such as `spec.containers[1].securityContext.privileged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// One thing wrong with one object.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub object: ObjectId,
    pub location: Location,
    /// What to change.
    pub remediation: String,
    /// The file the finding is in, for showing its source line. Not serialized.
    #[serde(skip)]
    pub source: Option<Source>,
}

impl Finding {
    /// A finding on `object` at `span`, with the rule's own severity.
    pub fn new(
        rule: &RuleMeta,
        object: &Object,
        span: Span,
        field: Option<String>,
        message: String,
        remediation: String,
    ) -> Self {
        Finding {
            rule: rule.id,
            severity: rule.severity,
            message,
            object: object.id.clone(),
            location: Location {
                file: object.source.name.clone(),
                span,
                document: object.document,
                field,
            },
            remediation,
            source: Some(object.source.clone()),
        }
    }
}
