//! The HTML posture report: one self-contained file (inline CSS and script, no
//! network access when it is opened) with the posture at a glance and every
//! finding, filterable and searchable.
//!
//! The page is a small static shell, a stylesheet, a script and the data as
//! one JSON document in a `<script type="application/json">` element. The
//! script builds the page from the data with DOM calls that set text
//! (`textContent`, never `innerHTML`), so manifest content cannot inject
//! markup; the JSON is escaped so that it cannot close its element either
//! (`<`, `>`, `&`, U+2028 and U+2029 are written as `\uXXXX`). The few values
//! written into the static shell go through [`escape`].
//!
//! Findings are listed a page at a time ("Show more"), so a report of 10,000
//! objects opens as fast as a small one; filtering runs over the data, not
//! over the DOM. Messages, fixes and object names are interned in the data:
//! the same remediation repeated on thousands of findings is written once.
//!
//! The filter state lives in the URL fragment (`#severity=high&ns=shop&q=web`),
//! so a filtered view can be linked to, and the browser test pre-applies a
//! filter through it.
//!
//! Source lines are redacted exactly as the table shows them (Secret documents
//! and `secrets/` findings): both go through the same code.

use std::collections::HashMap;
use std::io::{self, Write};

use palisade_model::{Framework, Severity};
use serde_json::{json, Value};

use crate::table::RedactedSnippets;
use crate::Report;

/// What the HTML report shows besides the findings: analyses of the whole
/// input that the CLI computes with the layer crates (this crate depends on
/// none of them).
#[derive(Debug, Clone, Default)]
pub struct HtmlExtras {
    /// The page title; "Palisade posture report" when empty.
    pub title: String,
    /// Pod Security labels per namespace of the input.
    pub namespaces: Vec<NamespacePosture>,
    /// NetworkPolicy coverage and connectivity, when computed.
    pub network: Option<NetworkSection>,
    /// RBAC risks and escalation paths, when computed.
    pub rbac: Option<RbacSection>,
}

/// A namespace's Pod Security admission labels (`None`: label not set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespacePosture {
    pub name: String,
    /// `level:version`, e.g. `restricted:latest`.
    pub enforce: Option<String>,
    pub audit: Option<String>,
    pub warn: Option<String>,
}

/// An edge of a graph drawn in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    pub label: String,
}

/// NetworkPolicy isolation of one workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadIsolation {
    pub workload: String,
    pub namespace: String,
    pub ingress: bool,
    pub egress: bool,
}

/// A namespace's default-deny policies (`None`: none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceIsolation {
    pub namespace: String,
    pub deny_ingress: Option<String>,
    pub deny_egress: Option<String>,
}

/// The NetworkPolicy section: coverage and the allowed connections.
#[derive(Debug, Clone, Default)]
pub struct NetworkSection {
    pub workloads: Vec<WorkloadIsolation>,
    pub namespaces: Vec<NamespaceIsolation>,
    /// Allowed connections (source, destination, ports).
    pub connections: Vec<GraphEdge>,
    /// Connections left out of `connections` to keep the file small.
    pub omitted_connections: usize,
    /// Why the connectivity could not be computed, if it could not.
    pub error: Option<String>,
}

/// One RBAC escalation path, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationView {
    pub start: String,
    /// Each step: `holds <capability> through <binding> → <identity>`.
    pub steps: Vec<String>,
    pub end: String,
    pub cluster_admin: bool,
    pub severity: Option<Severity>,
}

/// The RBAC section: escalation paths and the graph they draw.
#[derive(Debug, Clone, Default)]
pub struct RbacSection {
    pub paths: Vec<EscalationView>,
    /// Identity → identity, labelled with the capability.
    pub edges: Vec<GraphEdge>,
    /// Risky grants by check id and severity: (check, severity, count).
    pub risks: Vec<(String, Severity, usize)>,
}

/// Writes the HTML report.
pub fn render(report: &Report, extras: &HtmlExtras, out: &mut dyn Write) -> io::Result<()> {
    let data = data(report, extras);
    let json = serde_json::to_string(&data).map_err(io::Error::other)?;
    let summary = report.summary();
    let title = if extras.title.is_empty() {
        "Palisade posture report"
    } else {
        extras.title.as_str()
    };
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header><h1>{}</h1>\
         <p id=\"tool\">{} {}</p></header>\n",
        escape(title),
        escape(title),
        escape(&report.tool.name),
        escape(&report.tool.version),
    )?;
    // A summary without the script, for readers with scripts off (and a
    // check that the page says something before any script ran).
    writeln!(
        out,
        "<noscript><p>{} findings ({} critical, {} high, {} medium, {} low), score {}/100. \
         Enable JavaScript for the full report.</p></noscript>",
        summary.findings,
        summary.count(Severity::Critical),
        summary.count(Severity::High),
        summary.count(Severity::Medium),
        summary.count(Severity::Low),
        summary.score
    )?;
    out.write_all(
        b"<main id=\"app\"></main>\n<script type=\"application/json\" id=\"palisade-data\">",
    )?;
    write_script_safe_json(&mut out, &json)?;
    write!(out, "</script>\n<script>{JS}</script>\n</body>\n</html>\n")?;
    out.flush()
}

/// Renders to a string (tests, small reports).
pub fn render_to_string(report: &Report, extras: &HtmlExtras) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = render(report, extras, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes JSON inside a `<script>` element. `<`, `>` and `&` can only occur
/// inside JSON strings, where `\u003c` means the same, so replacing them keeps
/// the document and makes `</script>` and `<!--` impossible; U+2028/U+2029
/// are escaped for old script parsers.
fn write_script_safe_json<W: Write>(out: &mut W, json: &str) -> io::Result<()> {
    let mut last = 0;
    for (i, c) in json.char_indices() {
        let replacement = match c {
            '<' => "\\u003c",
            '>' => "\\u003e",
            '&' => "\\u0026",
            '\u{2028}' => "\\u2028",
            '\u{2029}' => "\\u2029",
            _ => continue,
        };
        out.write_all(&json.as_bytes()[last..i])?;
        out.write_all(replacement.as_bytes())?;
        last = i + c.len_utf8();
    }
    out.write_all(&json.as_bytes()[last..])
}

/// Strings written once and referred to by index.
#[derive(Default)]
struct Interner {
    strings: Vec<String>,
    index: HashMap<String, usize>,
}

impl Interner {
    fn id(&mut self, s: &str) -> usize {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        self.strings.push(s.to_string());
        self.index.insert(s.to_string(), self.strings.len() - 1);
        self.strings.len() - 1
    }
}

/// The layer of a rule: the part of its id before the first `/` (`pss`,
/// `hardening`, `secrets`, `rbac`, `netpol`...), which is how users name them
/// in `--disable` globs.
fn layer(rule: &str) -> &str {
    rule.split('/').next().unwrap_or(rule)
}

/// The data the script renders. Findings are arrays, not objects, to keep
/// the file small; the script's `F_*` constants name the positions.
fn data(report: &Report, extras: &HtmlExtras) -> Value {
    let summary = report.summary();
    let mut strings = Interner::default();
    let mut rule_index: HashMap<&str, usize> = HashMap::new();
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_id = |id: &'static str, rules: &mut Vec<Value>| -> usize {
        *rule_index.entry(id).or_insert_with(|| {
            let meta = report.rule(id);
            rules.push(json!([
                id,
                meta.map_or("", |m| m.title),
                meta.map_or(Severity::Info, |m| m.severity) as usize,
                layer(id),
                meta.map_or("", |m| m.help_uri),
            ]));
            rules.len() - 1
        })
    };
    let mut object_index: HashMap<(&str, Option<&str>, &str), usize> = HashMap::new();
    let mut objects: Vec<Value> = Vec::new();
    let mut file_index: HashMap<&str, usize> = HashMap::new();
    let mut files: Vec<&str> = Vec::new();
    let mut snippets = RedactedSnippets::default();
    let mut findings: Vec<Value> = Vec::with_capacity(report.findings.len());
    for finding in &report.findings {
        let rule = rule_id(finding.rule, &mut rules);
        let key = (
            finding.object.kind.as_str(),
            finding.object.namespace.as_deref(),
            finding.object.name.as_str(),
        );
        let object = *object_index.entry(key).or_insert_with(|| {
            objects.push(json!([key.0, key.1.unwrap_or(""), key.2]));
            objects.len() - 1
        });
        let file = *file_index
            .entry(finding.location.file.as_str())
            .or_insert_with(|| {
                files.push(finding.location.file.as_str());
                files.len() - 1
            });
        let shown = snippets.finding(finding);
        let span = finding.location.span;
        findings.push(json!([
            finding.severity as usize,
            rule,
            object,
            file,
            span.start.line,
            span.start.column,
            strings.id(&finding.message),
            strings.id(&finding.remediation),
            shown.as_ref().map_or(0, |s| s.line),
            shown
                .as_ref()
                .map_or(Value::Null, |s| Value::from(s.text.trim_end())),
            shown.as_ref().map_or(0, |s| s.caret_start),
            shown.as_ref().map_or(0, |s| s.caret_len),
            finding
                .suppression
                .as_ref()
                .map_or(Value::Null, |s| Value::from(format!(
                    "{} ({})",
                    s.reason, s.origin
                ))),
        ]));
    }
    let errors: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!([
                e.file,
                e.span.start.line,
                e.span.start.column,
                e.kind.code(),
                e.message
            ])
        })
        .collect();
    let compliance: Vec<Value> = Framework::ALL
        .iter()
        .filter_map(|&framework| {
            let mut with = report.clone();
            with.framework = Some(framework);
            let c = with.compliance()?;
            if c.controls.is_empty() {
                return None;
            }
            Some(json!({
                "framework": framework.as_str(),
                "title": framework.title(),
                "percent": c.percent,
                "passed": c.passed,
                "failed": c.failed,
                "controls": c.controls.iter().map(|r| json!([
                    r.id, r.status.as_str(), r.findings, r.objects, r.rules.join(", ")
                ])).collect::<Vec<_>>(),
            }))
        })
        .collect();
    let namespaces: Vec<Value> = extras
        .namespaces
        .iter()
        .map(|n| json!([n.name, n.enforce, n.audit, n.warn]))
        .collect();
    let network = extras.network.as_ref().map(|n| {
        json!({
            "workloads": n.workloads.iter()
                .map(|w| json!([w.workload, w.namespace, w.ingress, w.egress]))
                .collect::<Vec<_>>(),
            "namespaces": n.namespaces.iter()
                .map(|x| json!([x.namespace, x.deny_ingress, x.deny_egress]))
                .collect::<Vec<_>>(),
            "edges": n.connections.iter().map(|e| json!([e.from, e.to, e.label])).collect::<Vec<_>>(),
            "omitted": n.omitted_connections,
            "error": n.error,
        })
    });
    let rbac = extras.rbac.as_ref().map(|r| {
        json!({
            "paths": r.paths.iter().map(|p| json!([
                p.start, p.steps, p.end, p.cluster_admin,
                p.severity.map(|s| s as usize),
            ])).collect::<Vec<_>>(),
            "edges": r.edges.iter().map(|e| json!([e.from, e.to, e.label])).collect::<Vec<_>>(),
            "risks": r.risks.iter().map(|(c, s, n)| json!([c, *s as usize, n])).collect::<Vec<_>>(),
        })
    });
    json!({
        "tool": {"name": report.tool.name, "version": report.tool.version},
        "summary": {
            "files": summary.files,
            "documents": summary.documents,
            "objects": summary.objects,
            "findings": summary.findings,
            "bySeverity": summary.by_severity,
            "exempted": summary.exempted,
            "inputErrors": summary.input_errors,
            "score": summary.score,
            "failOn": summary.fail_on.as_str(),
            "failing": summary.failing,
            "outcome": summary.outcome.as_str(),
            "kinds": summary.objects_by_kind.iter().map(|k| json!([k.kind, k.count])).collect::<Vec<_>>(),
        },
        "rules": rules,
        "objects": objects,
        "files": files,
        "strings": strings.strings,
        "findings": findings,
        "errors": errors,
        "compliance": compliance,
        "namespaces": namespaces,
        "network": network,
        "rbac": rbac,
    })
}

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn script_json_cannot_close_its_element() {
        let json = serde_json::to_string(&json!(["</script><!-- & \u{2028}"])).unwrap_or_default();
        let mut out = Vec::new();
        write_script_safe_json(&mut out, &json).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        // Still the same JSON value.
        let back: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(back, json!(["</script><!-- & \u{2028}"]));
    }

    #[test]
    fn layer_is_the_rule_prefix() {
        assert_eq!(layer("pss/privileged"), "pss");
        assert_eq!(layer("input"), "input");
    }
}
