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
    /// The framework controls this rule helps meet (NSA/CISA, CIS, MITRE ATT&CK).
    pub controls: &'static [Control],
}

/// A control of a compliance framework, e.g. CIS Kubernetes Benchmark 5.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Control {
    pub framework: Framework,
    /// The framework's own identifier (`5.2.2`, `T1611`, `pod-security`).
    pub id: &'static str,
}

impl Control {
    pub const fn nsa(id: &'static str) -> Self {
        Control {
            framework: Framework::Nsa,
            id,
        }
    }
    pub const fn cis(id: &'static str) -> Self {
        Control {
            framework: Framework::Cis,
            id,
        }
    }
    pub const fn mitre(id: &'static str) -> Self {
        Control {
            framework: Framework::Mitre,
            id,
        }
    }
}

/// Frameworks users report against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    /// NSA/CISA Kubernetes Hardening Guide (v1.2).
    Nsa,
    /// CIS Kubernetes Benchmark, section 5 (policies).
    Cis,
    /// MITRE ATT&CK for Containers.
    Mitre,
}

impl Framework {
    pub const ALL: [Framework; 3] = [Framework::Nsa, Framework::Cis, Framework::Mitre];

    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Nsa => "nsa",
            Framework::Cis => "cis",
            Framework::Mitre => "mitre",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Framework::Nsa => "NSA/CISA Kubernetes Hardening Guide",
            Framework::Cis => "CIS Kubernetes Benchmark (section 5, policies)",
            Framework::Mitre => "MITRE ATT&CK for Containers",
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Framework {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "nsa" | "nsa-cisa" => Ok(Framework::Nsa),
            "cis" => Ok(Framework::Cis),
            "mitre" | "attack" => Ok(Framework::Mitre),
            other => Err(format!(
                "unknown framework {other:?} (expected nsa, cis or mitre)"
            )),
        }
    }
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
    /// Structured data the rule attaches (a Gatekeeper violation's `details`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
    /// Set when an exemption covers this finding: it is still reported, marked as exempted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
    /// The file the finding is in, for showing its source line. Not serialized.
    #[serde(skip)]
    pub source: Option<Source>,
}

/// Why a finding is exempted, and who said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// `inSource` for an annotation on the object, `external` for the configuration file.
    pub kind: SuppressionKind,
    /// The reason given with the exemption.
    pub reason: String,
    /// Where the exemption is written: `annotation palisade.dev/ignore` or `.palisade.yaml:12`.
    pub origin: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SuppressionKind {
    InSource,
    External,
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
            details: None,
            suppression: None,
            source: Some(object.source.clone()),
        }
    }
}
