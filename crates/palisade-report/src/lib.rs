//! Renders the results of a Palisade scan for people and for machines.
//!
//! A [`Report`] gathers what one run produced: the findings, the input errors,
//! what was scanned, the documentation of the rules and the `--fail-on`
//! threshold. [`render`] writes it in one of five [`Format`]s:
//!
//! - [`Format::Table`]: for a terminal. Findings grouped by file and object,
//!   each with its source line, a caret under the column and a `help:` line,
//!   then the compliance section (with a framework), a summary with the
//!   score, and a one-line verdict.
//! - [`Format::Json`] and [`Format::Yaml`]: one versioned document
//!   (`schemaVersion: "1"`), described field by field in `docs/json-report.md`.
//! - [`Format::Sarif`]: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
//! - [`Format::Junit`]: JUnit XML, one test case per scanned object, for CI test reports.
//!
//! Every format lists findings in the same order: by file, line, column, then rule.
//!
//! # Exemptions
//!
//! A finding with a [`Finding::suppression`] is *exempted* (by a
//! `palisade.dev/ignore` annotation or by `.palisade.yaml`). Every format still
//! lists it, marked as exempted with its reason and origin, but it is not
//! *active*: it counts neither toward the [`Outcome`] and exit status, nor
//! toward [`Summary::findings`], [`Summary::by_severity`] and
//! [`Summary::failing`], nor toward scores and compliance. SARIF writes it as a
//! result with `suppressions` (which GitHub code scanning shows as dismissed),
//! JUnit as `<system-out>` of a passing test case.
//!
//! # Scores
//!
//! Each scanned object scores `max(0, 100 − Σ penalty)` over its **active**
//! findings, with the penalties of [`penalty`]: critical 30, high 15, medium 6,
//! low 2, info 0. The input's score ([`Summary::score`]) is the mean of the
//! scores of the *scored* objects, rounded to the nearest integer (halves up),
//! or 100 when no object is scored. An object is scored when its kind has checks
//! ([`Report::checked_kind`]) or when it has a finding, active or exempted (a
//! finding proves some check looks at it). See [`Report::object_scores`].
//!
//! # Compliance
//!
//! With [`Report::framework`] set, [`Report::compliance`] lists every control of
//! that framework that a rule of [`Report::rules`] maps to: a control passes
//! when no active finding of those rules exists.
//!
//! ```
//! use palisade_model::{load_text, Finding, LoadOptions, Pos, RuleMeta, Severity, Span};
//! use palisade_report::{render, Format, RenderOptions, Report};
//!
//! static PRIVILEGED: RuleMeta = RuleMeta {
//!     id: "pss/privileged",
//!     title: "Privileged containers",
//!     severity: Severity::High,
//!     category: "pod-security",
//!     docs: "Privileged containers can do almost anything the node can.",
//!     help_uri: "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
//!     controls: &[],
//! };
//!
//! let loaded = load_text(
//!     "pod.yaml",
//!     "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: app\n    securityContext: {privileged: true}\n",
//!     &LoadOptions::default(),
//! );
//! let finding = Finding::new(
//!     &PRIVILEGED,
//!     &loaded.objects[0],
//!     Span::new(Pos::new(7, 23), Pos::new(7, 33)),
//!     Some("spec.containers[0].securityContext.privileged".into()),
//!     "container \"app\" must not set securityContext.privileged=true".into(),
//!     "remove securityContext.privileged or set it to false".into(),
//! );
//! let findings = [finding];
//! let report = Report::new("0.1.0", &loaded, &findings, &[&PRIVILEGED], Severity::High);
//! assert_eq!(report.exit_code(), 1);
//!
//! let mut out = Vec::new();
//! render(&report, Format::Table, &RenderOptions { color: false }, &mut out)?;
//! let text = String::from_utf8_lossy(&out);
//! assert!(text.contains("7:23  high      pss/privileged"));
//! assert!(text.ends_with("failed: 1 finding at or above high (--fail-on high); exit status 1\n"));
//! # Ok::<(), std::io::Error>(())
//! ```

mod compliance;
pub mod html;
mod json;
mod junit;
mod sarif;
mod score;
mod table;
mod util;
mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use palisade_model::{Finding, Framework, InputError, Loaded, ObjectId, RuleMeta, Severity};

pub use compliance::{natural_cmp, Compliance, ControlResult, ControlStatus};
pub use score::{penalty, ObjectScore};

/// The tool's name in every report.
pub const TOOL_NAME: &str = "palisade";
/// Where to read about the tool (SARIF `informationUri`, JSON `tool.informationUri`).
pub const INFORMATION_URI: &str = "https://github.com/palisade-dev/palisade";
/// The version of the JSON/YAML report schema (`schemaVersion`).
pub const JSON_SCHEMA_VERSION: &str = "1";

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// For people: grouped, with source lines and a summary.
    Table,
    /// The versioned JSON document (`docs/json-report.md`).
    Json,
    /// The same document as [`Format::Json`], in YAML.
    Yaml,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML.
    Junit,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Table,
        Format::Json,
        Format::Yaml,
        Format::Sarif,
        Format::Junit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "table" | "human" | "text" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "yaml" | "yml" => Ok(Format::Yaml),
            "sarif" => Ok(Format::Sarif),
            "junit" | "junit-xml" => Ok(Format::Junit),
            other => Err(format!(
                "unknown output format {other:?} (expected table, json, yaml, sarif or junit)"
            )),
        }
    }
}

/// How to render.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Use ANSI colours (table only; the machine formats never contain escapes).
    pub color: bool,
}

/// One object that was scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedObject {
    pub file: String,
    /// 0-based document index in the file.
    pub document: usize,
    pub id: ObjectId,
}

/// How the run ends, and so the CLI's exit status. Input errors win over findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// No input errors, no finding at or above the threshold: exit 0.
    Pass,
    /// Findings at or above the threshold: exit 1.
    Fail,
    /// Some input could not be read: exit 2, whatever was found.
    Error,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Pass => 0,
            Outcome::Fail => 1,
            Outcome::Error => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The numbers of a run, computed by [`Report::summary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub documents: usize,
    pub objects: usize,
    /// Objects by kind, most frequent first, then by name.
    pub objects_by_kind: Vec<KindCount>,
    /// Active findings: not exempted.
    pub findings: usize,
    /// Active findings, indexed by [`Severity`] order: info, low, medium, high, critical.
    pub by_severity: [usize; 5],
    /// Exempted findings (reported, but not counted anywhere else).
    pub exempted: usize,
    pub input_errors: usize,
    pub fail_on: Severity,
    /// Active findings at or above `fail_on`.
    pub failing: usize,
    pub outcome: Outcome,
    /// The input's score, 0 to 100 (see the crate documentation).
    pub score: u32,
}

impl Summary {
    pub fn count(&self, severity: Severity) -> usize {
        self.by_severity[severity as usize]
    }
}

/// How many objects of one kind were scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindCount {
    pub kind: String,
    pub count: usize,
    /// False when no check applies to this kind (shown as "no checks").
    pub checked: bool,
}

/// Name and version of the tool that made the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    pub information_uri: String,
}

/// Everything one run produced, ready to render.
///
/// Findings and input errors are borrowed and kept sorted by file, line,
/// column, then rule; what was scanned is copied out of [`Loaded`].
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub tool: ToolInfo,
    /// Every finding, active and exempted; sorted by file, line, column,
    /// rule (see [`Report::new`]).
    pub findings: Vec<&'a Finding>,
    /// Sorted by file, line, column, code.
    pub errors: Vec<&'a InputError>,
    /// Every file read, including ones with errors, in input order.
    pub files: Vec<String>,
    pub documents: usize,
    /// Every object scanned, in input order.
    pub objects: Vec<ScannedObject>,
    /// Documentation of every rule that may appear (SARIF `rules`).
    pub rules: Vec<&'a RuleMeta>,
    /// Findings at or above this severity fail the run.
    pub fail_on: Severity,
    /// Whether any check looks at objects of this kind; kinds for which it
    /// returns false are marked "no checks" in the summary. Defaults to
    /// [`palisade_model::is_workload_kind`] (what the Pod Security Standards check).
    pub checked_kind: fn(&str) -> bool,
    /// The framework to report compliance with (`palisade scan --framework`);
    /// `None` (the default) for no compliance section.
    pub framework: Option<Framework>,
}

impl<'a> Report<'a> {
    /// A report of one run: `loaded` is what was read, `findings` what the
    /// analyzers found in it, `rules` the documentation of every rule.
    pub fn new(
        version: &str,
        loaded: &'a Loaded,
        findings: &'a [Finding],
        rules: &[&'a RuleMeta],
        fail_on: Severity,
    ) -> Self {
        let mut report = Report {
            tool: ToolInfo {
                name: TOOL_NAME.to_string(),
                version: version.to_string(),
                information_uri: INFORMATION_URI.to_string(),
            },
            findings: findings.iter().collect(),
            errors: loaded.errors.iter().collect(),
            files: loaded.sources.iter().map(|s| s.name.clone()).collect(),
            documents: loaded.documents,
            objects: loaded
                .objects
                .iter()
                .map(|o| ScannedObject {
                    file: o.source.name.clone(),
                    document: o.document,
                    id: o.id.clone(),
                })
                .collect(),
            rules: rules.to_vec(),
            fail_on,
            checked_kind: palisade_model::is_workload_kind,
            framework: None,
        };
        report.sort();
        report
    }

    /// Puts findings and errors in the canonical order. [`Report::new`] does
    /// it; call it again after changing the vectors by hand (for example after
    /// pushing configuration errors into [`Report::errors`]).
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| util::finding_order(a, b));
        self.errors.sort_by(|a, b| util::error_order(a, b));
    }

    /// Findings that are not exempted, in the canonical order.
    pub fn active_findings(&self) -> impl Iterator<Item = &'a Finding> + '_ {
        self.findings
            .iter()
            .copied()
            .filter(|f| f.suppression.is_none())
    }

    /// Exempted findings (with a [`Finding::suppression`]), in the canonical order.
    pub fn exempted_findings(&self) -> impl Iterator<Item = &'a Finding> + '_ {
        self.findings
            .iter()
            .copied()
            .filter(|f| f.suppression.is_some())
    }

    /// Pass, fail or error, from the active findings, the threshold and the
    /// input errors. Exempted findings never fail a run.
    pub fn outcome(&self) -> Outcome {
        if !self.errors.is_empty() {
            Outcome::Error
        } else if self.active_findings().any(|f| f.severity >= self.fail_on) {
            Outcome::Fail
        } else {
            Outcome::Pass
        }
    }

    /// The exit status for the CLI: 0 clean, 1 findings at or above `fail_on`, 2 input errors.
    pub fn exit_code(&self) -> u8 {
        self.outcome().exit_code()
    }

    /// The documentation of rule `id`, if the report has it.
    pub fn rule(&self, id: &str) -> Option<&'a RuleMeta> {
        self.rules.iter().copied().find(|r| r.id == id)
    }

    /// The numbers of the run.
    pub fn summary(&self) -> Summary {
        self.summary_with(&self.object_scores())
    }

    /// [`Report::summary`], given the [`Report::object_scores`].
    pub(crate) fn summary_with(&self, scores: &[ObjectScore]) -> Summary {
        let mut by_severity = [0usize; 5];
        for finding in self.active_findings() {
            by_severity[finding.severity as usize] += 1;
        }
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for object in &self.objects {
            *kinds.entry(object.id.kind.as_str()).or_default() += 1;
        }
        let mut objects_by_kind: Vec<KindCount> = kinds
            .into_iter()
            .map(|(kind, count)| KindCount {
                kind: kind.to_string(),
                count,
                checked: (self.checked_kind)(kind),
            })
            .collect();
        objects_by_kind.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.kind.cmp(&b.kind)));
        Summary {
            files: self.files.len(),
            documents: self.documents,
            objects: self.objects.len(),
            objects_by_kind,
            findings: self.active_findings().count(),
            by_severity,
            exempted: self.exempted_findings().count(),
            input_errors: self.errors.len(),
            fail_on: self.fail_on,
            failing: self
                .active_findings()
                .filter(|f| f.severity >= self.fail_on)
                .count(),
            outcome: self.outcome(),
            score: score::input_score(scores),
        }
    }
}

/// Writes `report` to `out` in `format`.
///
/// Every format is written as it is produced, without building the whole
/// output in memory first; `out` is buffered here, so it need not be.
pub fn render(
    report: &Report,
    format: Format,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    match format {
        Format::Table => table::render(report, options, &mut out)?,
        Format::Json => util::write_json(&mut out, &json::document(report))?,
        Format::Yaml => yaml::to_writer(&mut out, &json::document(report))?,
        Format::Sarif => util::write_json(&mut out, &sarif::log(report))?,
        Format::Junit => junit::render(report, &mut out)?,
    }
    out.flush()
}

/// Renders to a string (convenient in tests and for small reports).
pub fn render_to_string(report: &Report, format: Format, options: &RenderOptions) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = render(report, format, options, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The JSON report document as a [`serde_json::Value`] (what `-o json` prints).
pub fn json_value(report: &Report) -> serde_json::Value {
    serde_json::to_value(json::document(report)).unwrap_or(serde_json::Value::Null)
}

/// The SARIF log as a [`serde_json::Value`] (what `-o sarif` prints).
pub fn sarif_value(report: &Report) -> serde_json::Value {
    serde_json::to_value(sarif::log(report)).unwrap_or(serde_json::Value::Null)
}
