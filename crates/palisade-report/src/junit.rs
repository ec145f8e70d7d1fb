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

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::io::{self, Write};

use palisade_model::{Finding, InputError, ObjectId};

use crate::util::by_file;
use crate::{Report, ScannedObject};

/// What a test case is named after.
enum CaseName<'r> {
    /// `Kind ns/name`.
    Object(&'r ObjectId),
    /// `input/syntax at 3:7`, or the bare code when the position is unknown.
    Error(&'r InputError),
}

impl fmt::Display for CaseName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaseName::Object(id) => id.fmt(f),
            CaseName::Error(error) if error.span.start.line == 0 => f.write_str(error.kind.code()),
            CaseName::Error(error) => write!(f, "{} at {}", error.kind.code(), error.span.start),
        }
    }
}

struct Case<'r> {
    name: CaseName<'r>,
    failures: Vec<&'r Finding>,
    exempted: Vec<&'r Finding>,
    errors: Vec<&'r InputError>,
}

impl<'r> Case<'r> {
    fn new(name: CaseName<'r>) -> Self {
        Case {
            name,
            failures: Vec::new(),
            exempted: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn push(&mut self, finding: &'r Finding) {
        if finding.suppression.is_some() {
            self.exempted.push(finding);
        } else {
            self.failures.push(finding);
        }
    }
}

/// Everything about one file, in report order.
#[derive(Default)]
struct FileItems<'r> {
    objects: Vec<&'r ScannedObject>,
    findings: Vec<&'r Finding>,
    errors: Vec<&'r InputError>,
}

/// The test cases of one file: its objects in input order, then objects
/// that only findings name, then one per input error.
fn cases<'r>(items: &FileItems<'r>) -> Vec<Case<'r>> {
    let mut cases: Vec<Case> = Vec::with_capacity(items.objects.len() + items.errors.len());
    // (object, document) → the first case of that object.
    let mut index: HashMap<(&ObjectId, usize), usize> = HashMap::with_capacity(items.objects.len());
    for object in &items.objects {
        index
            .entry((&object.id, object.document))
            .or_insert(cases.len());
        cases.push(Case::new(CaseName::Object(&object.id)));
    }
    for &finding in &items.findings {
        let key = (&finding.object, finding.location.document);
        let i = *index.entry(key).or_insert_with(|| {
            cases.push(Case::new(CaseName::Object(&finding.object)));
            cases.len() - 1
        });
        if let Some(case) = cases.get_mut(i) {
            case.push(finding);
        }
    }
    for &error in &items.errors {
        let mut case = Case::new(CaseName::Error(error));
        case.errors.push(error);
        cases.push(case);
    }
    cases
}

pub(crate) fn render<W: Write + ?Sized>(report: &Report, out: &mut W) -> io::Result<()> {
    // Every file, by name, with what belongs to it.
    let mut files: BTreeMap<&str, FileItems> = BTreeMap::new();
    for file in &report.files {
        files.entry(file.as_str()).or_default();
    }
    for (file, objects) in by_file(&report.objects, |o| o.file.as_str()) {
        files.entry(file).or_default().objects = objects;
    }
    let findings = by_file(report.findings.iter().copied(), |f| {
        f.location.file.as_str()
    });
    for (file, findings) in findings {
        files.entry(file).or_default().findings = findings;
    }
    for (file, errors) in by_file(report.errors.iter().copied(), |e| e.file.as_str()) {
        files.entry(file).or_default().errors = errors;
    }
    let suites: Vec<(&str, Vec<Case>)> = files
        .iter()
        .map(|(&file, items)| (file, cases(items)))
        .collect();

    let count = |cases: &[Case], what: fn(&Case) -> bool| cases.iter().filter(|c| what(c)).count();
    let failed = |c: &Case| !c.failures.is_empty();
    let errored = |c: &Case| !c.errors.is_empty();
    let tests: usize = suites.iter().map(|(_, cases)| cases.len()).sum();
    let failures: usize = suites.iter().map(|(_, c)| count(c, failed)).sum();
    let errors: usize = suites.iter().map(|(_, c)| count(c, errored)).sum();

    let mut scratch = String::new();
    out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
    writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">",
        Attr(&report.tool.name)
    )?;
    for (file, cases) in &suites {
        writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">",
            Attr(file),
            cases.len(),
            count(cases, failed),
            count(cases, errored),
        )?;
        for case in cases {
            write_case(out, &mut scratch, file, case)?;
        }
        out.write_all(b"  </testsuite>\n")?;
    }
    out.write_all(b"</testsuites>\n")
}

/// Writes one test case; `scratch` is a buffer reused for text that is escaped.
fn write_case<W: Write + ?Sized>(
    out: &mut W,
    scratch: &mut String,
    file: &str,
    case: &Case,
) -> io::Result<()> {
    scratch.clear();
    let _ = write!(scratch, "{}", case.name);
    write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        Attr(file),
        Attr(scratch)
    )?;
    if case.failures.is_empty() && case.errors.is_empty() && case.exempted.is_empty() {
        return out.write_all(b"/>\n");
    }
    out.write_all(b">\n")?;
    for finding in &case.failures {
        scratch.clear();
        let _ = write!(scratch, "[{}] {}", finding.severity, finding.message);
        write!(
            out,
            "      <failure type=\"{}\" message=\"{}\">",
            Attr(finding.rule),
            Attr(scratch)
        )?;
        scratch.clear();
        let _ = write!(
            scratch,
            "{} {} at {}:{}\n{}",
            finding.severity,
            finding.rule,
            finding.location.file,
            finding.location.span.start,
            finding.message
        );
        if let Some(field) = &finding.location.field {
            let _ = write!(scratch, "\nfield: {field}");
        }
        if !finding.remediation.is_empty() {
            let _ = write!(scratch, "\nhelp: {}", finding.remediation);
        }
        writeln!(out, "{}</failure>", Text(scratch))?;
    }
    for error in &case.errors {
        scratch.clear();
        let _ = write!(scratch, "{error}");
        writeln!(
            out,
            "      <error type=\"{}\" message=\"{}\">{}</error>",
            Attr(error.kind.code()),
            Attr(&error.message),
            Text(scratch)
        )?;
    }
    if !case.exempted.is_empty() {
        scratch.clear();
        for finding in &case.exempted {
            if let Some(suppression) = &finding.suppression {
                let _ = writeln!(
                    scratch,
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
        writeln!(out, "      <system-out>{}</system-out>", Text(scratch))?;
    }
    out.write_all(b"    </testcase>\n")
}

/// Text content, escaped; characters XML 1.0 forbids become U+FFFD.
struct Text<'s>(&'s str);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        escape(f, self.0, false)
    }
}

/// An attribute value, escaped (line breaks and tabs kept as references).
struct Attr<'s>(&'s str);

impl fmt::Display for Attr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        escape(f, self.0, true)
    }
}

/// Writes `s` escaped, copying runs of characters that need no escape at once.
fn escape(out: &mut fmt::Formatter<'_>, s: &str, attribute: bool) -> fmt::Result {
    let mut rest = s;
    loop {
        let found = rest.char_indices().find_map(|(at, c)| {
            let replacement = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' if attribute => "&quot;",
                '\'' if attribute => "&apos;",
                '\n' if attribute => "&#10;",
                '\r' if attribute => "&#13;",
                '\t' if attribute => "&#9;",
                '\t' | '\n' | '\r' => return None,
                c if allowed_in_xml(c) => return None,
                _ => "\u{fffd}",
            };
            Some((at, c, replacement))
        });
        let Some((at, c, replacement)) = found else {
            return out.write_str(rest);
        };
        out.write_str(&rest[..at])?;
        out.write_str(replacement)?;
        rest = &rest[at + c.len_utf8()..];
    }
}

/// XML 1.0 `Char`.
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(s: &str) -> String {
        Attr(s).to_string()
    }

    fn text(s: &str) -> String {
        Text(s).to_string()
    }

    #[test]
    fn escaping() {
        assert_eq!(attr("a<b>&\"c'\nd"), "a&lt;b&gt;&amp;&quot;c&apos;&#10;d");
        assert_eq!(text("x < y\n\u{1}"), "x &lt; y\n\u{fffd}");
    }
}
