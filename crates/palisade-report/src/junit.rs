//! JUnit XML: a `<testsuite>` per file, a `<testcase>` per scanned object
//! (`classname` the file, `name` `Kind ns/name`) with a `<failure>` per
//! finding, and a `<testcase>` with an `<error>` per input error.
//!
//! `failures` and `errors` count test cases, as JUnit does: an object with
//! three findings is one failed test case with three `<failure>` elements.
//!
//! Exempted findings are not failures: they are listed in the test case's
//! `<system-out>`, one per line, with their reason and origin, so a test case
//! whose only findings are exempted passes.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use palisade_model::{Finding, InputError, ObjectId};

use crate::Report;

struct Case<'r> {
    name: String,
    document: usize,
    id: Option<&'r ObjectId>,
    failures: Vec<&'r Finding>,
    exempted: Vec<&'r Finding>,
    errors: Vec<&'r InputError>,
}

impl<'r> Case<'r> {
    fn push(&mut self, finding: &'r Finding) {
        if finding.suppression.is_some() {
            self.exempted.push(finding);
        } else {
            self.failures.push(finding);
        }
    }
}

pub(crate) fn render(report: &Report) -> String {
    let files: BTreeSet<&str> = report
        .files
        .iter()
        .map(String::as_str)
        .chain(report.objects.iter().map(|o| o.file.as_str()))
        .chain(report.findings.iter().map(|f| f.location.file.as_str()))
        .chain(report.errors.iter().map(|e| e.file.as_str()))
        .collect();

    let mut suites = String::new();
    let (mut tests, mut failures, mut errors) = (0usize, 0usize, 0usize);
    for file in files {
        let mut cases: Vec<Case> = report
            .objects
            .iter()
            .filter(|o| o.file == file)
            .map(|o| Case {
                name: o.id.to_string(),
                document: o.document,
                id: Some(&o.id),
                failures: Vec::new(),
                exempted: Vec::new(),
                errors: Vec::new(),
            })
            .collect();
        for finding in report.findings.iter().filter(|f| f.location.file == file) {
            let document = finding.location.document;
            let existing = cases
                .iter_mut()
                .find(|c| c.id == Some(&finding.object) && c.document == document);
            match existing {
                Some(case) => case.push(finding),
                None => {
                    let mut case = Case {
                        name: finding.object.to_string(),
                        document,
                        id: Some(&finding.object),
                        failures: Vec::new(),
                        exempted: Vec::new(),
                        errors: Vec::new(),
                    };
                    case.push(finding);
                    cases.push(case);
                }
            }
        }
        for error in report.errors.iter().filter(|e| e.file == file) {
            let name = if error.span.start.line == 0 {
                error.kind.code().to_string()
            } else {
                format!("{} at {}", error.kind.code(), error.span.start)
            };
            cases.push(Case {
                name,
                document: 0,
                id: None,
                failures: Vec::new(),
                exempted: Vec::new(),
                errors: vec![error],
            });
        }

        let suite_failures = cases.iter().filter(|c| !c.failures.is_empty()).count();
        let suite_errors = cases.iter().filter(|c| !c.errors.is_empty()).count();
        tests += cases.len();
        failures += suite_failures;
        errors += suite_errors;

        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{suite_failures}\" errors=\"{suite_errors}\" skipped=\"0\">",
            attr(file),
            cases.len()
        );
        for case in &cases {
            write_case(&mut suites, file, case);
        }
        suites.push_str("  </testsuite>\n");
    }

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">",
        attr(&report.tool.name)
    );
    out.push_str(&suites);
    out.push_str("</testsuites>\n");
    out
}

fn write_case(out: &mut String, file: &str, case: &Case) {
    let open = format!(
        "    <testcase classname=\"{}\" name=\"{}\"",
        attr(file),
        attr(&case.name)
    );
    if case.failures.is_empty() && case.errors.is_empty() && case.exempted.is_empty() {
        let _ = writeln!(out, "{open}/>");
        return;
    }
    let _ = writeln!(out, "{open}>");
    for finding in &case.failures {
        let mut body = format!(
            "{} {} at {}:{}\n{}",
            finding.severity,
            finding.rule,
            finding.location.file,
            finding.location.span.start,
            finding.message
        );
        if let Some(field) = &finding.location.field {
            let _ = write!(body, "\nfield: {field}");
        }
        if !finding.remediation.is_empty() {
            let _ = write!(body, "\nhelp: {}", finding.remediation);
        }
        let _ = writeln!(
            out,
            "      <failure type=\"{}\" message=\"{}\">{}</failure>",
            attr(finding.rule),
            attr(&format!("[{}] {}", finding.severity, finding.message)),
            text(&body)
        );
    }
    for error in &case.errors {
        let _ = writeln!(
            out,
            "      <error type=\"{}\" message=\"{}\">{}</error>",
            attr(error.kind.code()),
            attr(&error.message),
            text(&error.to_string())
        );
    }
    if !case.exempted.is_empty() {
        let mut body = String::new();
        for finding in &case.exempted {
            if let Some(suppression) = &finding.suppression {
                let _ = writeln!(
                    body,
                    "exempted: {} {} at {}:{}: {} (reason: {}; {})",
                    finding.severity,
                    finding.rule,
                    finding.location.file,
                    finding.location.span.start,
                    finding.message,
                    suppression.reason,
                    suppression.origin
                );
            }
        }
        let _ = writeln!(out, "      <system-out>{}</system-out>", text(&body));
    }
    out.push_str("    </testcase>\n");
}

/// Escapes text content; characters XML 1.0 forbids become U+FFFD.
fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value (line breaks and tabs kept as references).
fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' if attribute => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if allowed_in_xml(c) => out.push(c),
            _ => out.push('\u{fffd}'),
        }
    }
    out
}

/// XML 1.0 `Char`.
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(attr("a<b>&\"c'\nd"), "a&lt;b&gt;&amp;&quot;c&apos;&#10;d");
        assert_eq!(text("x < y\n\u{1}"), "x &lt; y\n\u{fffd}");
    }
}
