//! The human format: findings grouped by file and object, each with its
//! source line and a caret under the column, then a summary and a verdict.
//!
//! ```text
//! deploy/web.yaml
//!   Deployment prod/web
//!     12:9  high  pss/privileged  container "app" must not set securityContext.privileged=true
//!        |
//!     12 |         privileged: true
//!        |         ^^^^^^^^^^^^^^^^
//!        = help: remove securityContext.privileged or set it to false
//! ```
//!
//! Exempted findings follow the active ones of their object, dimmed, without
//! a source line, and with `= exempted: <reason> (<origin>)` instead of `help:`.
//! With a framework set, a compliance section precedes the summary.
//!
//! Source lines of Secret documents are shown with their values redacted.

use std::io::{self, Write};

use anstyle::{AnsiColor, Effects, Style};
use palisade_model::{Finding, InputError, ObjectId, Severity, SourceFile, Span};
use unicode_width::UnicodeWidthChar;

use crate::util::plural;
use crate::{ControlStatus, Outcome, RenderOptions, Report};

/// Most display cells of a source line shown; longer lines are trimmed
/// around the column, with `…` where text was cut.
const MAX_SOURCE_WIDTH: usize = 100;
/// Cells a tab is shown as.
const TAB_WIDTH: usize = 4;
/// What replaces a redacted value.
const REDACTED: &str = "<redacted>";

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
}

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Critical => Style::new()
            .fg_color(Some(AnsiColor::BrightRed.into()))
            .effects(Effects::BOLD),
        Severity::High => Style::new().fg_color(Some(AnsiColor::Red.into())),
        Severity::Medium => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Severity::Low => Style::new().fg_color(Some(AnsiColor::Blue.into())),
        Severity::Info => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
    }
}

fn error_style() -> Style {
    Style::new()
        .fg_color(Some(AnsiColor::Red.into()))
        .effects(Effects::BOLD)
}

fn gutter_style() -> Style {
    Style::new()
        .fg_color(Some(AnsiColor::Blue.into()))
        .effects(Effects::BOLD)
}

const BOLD: Style = Style::new().effects(Effects::BOLD);
const DIM: Style = Style::new().effects(Effects::DIMMED);

fn pass_style() -> Style {
    Style::new()
        .fg_color(Some(AnsiColor::Green.into()))
        .effects(Effects::BOLD)
}

fn exempted_style() -> Style {
    Style::new()
        .fg_color(Some(AnsiColor::Green.into()))
        .effects(Effects::DIMMED)
}

fn help_style() -> Style {
    Style::new()
        .fg_color(Some(AnsiColor::Cyan.into()))
        .effects(Effects::BOLD)
}

/// One entry of a file's listing: a finding or an input error.
struct Entry<'r> {
    span: Span,
    label: String,
    label_style: Style,
    code: &'r str,
    message: &'r str,
    source: Option<&'r SourceFile>,
    /// Redact the source line even if the text does not look like a Secret.
    secret: bool,
    related: Option<Span>,
    help: Option<&'r str>,
    /// `<reason> (<origin>)` for an exempted finding.
    exempted: Option<String>,
}

impl<'r> Entry<'r> {
    fn finding(finding: &'r Finding) -> Self {
        Entry {
            span: finding.location.span,
            label: finding.severity.as_str().to_string(),
            label_style: severity_style(finding.severity),
            code: finding.rule,
            message: &finding.message,
            source: finding.source.as_deref(),
            secret: finding.object.kind == "Secret",
            related: None,
            help: Some(finding.remediation.as_str()).filter(|h| !h.is_empty()),
            exempted: finding
                .suppression
                .as_ref()
                .map(|s| format!("{} ({})", s.reason, s.origin)),
        }
    }

    fn error(error: &'r InputError) -> Self {
        Entry {
            span: error.span,
            label: "error".to_string(),
            label_style: error_style(),
            code: error.kind.code(),
            message: &error.message,
            source: error.source.as_deref(),
            secret: false,
            related: error.related,
            help: None,
            exempted: None,
        }
    }

    fn position(&self) -> String {
        if self.span.start.line == 0 {
            "-".to_string()
        } else {
            self.span.start.to_string()
        }
    }
}

/// Column widths shared by the entries of one file.
struct Widths {
    position: usize,
    label: usize,
    code: usize,
    gutter: usize,
}

pub(crate) fn render(
    report: &Report,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let p = Painter {
        color: options.color,
    };

    // Files in name order: the findings and errors are sorted that way already.
    let mut files: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.location.file.as_str())
        .chain(report.errors.iter().map(|e| e.file.as_str()))
        .collect();
    files.sort_unstable();
    files.dedup();

    for file in files {
        let errors: Vec<Entry> = report
            .errors
            .iter()
            .filter(|e| e.file == file)
            .map(|e| Entry::error(e))
            .collect();
        // Findings grouped by object, objects in order of their first finding.
        let mut groups: Vec<(&ObjectId, usize, Vec<Entry>)> = Vec::new();
        for finding in report.findings.iter().filter(|f| f.location.file == file) {
            let key = (&finding.object, finding.location.document);
            match groups.iter_mut().find(|(id, doc, _)| (*id, *doc) == key) {
                Some((_, _, entries)) => entries.push(Entry::finding(finding)),
                None => groups.push((key.0, key.1, vec![Entry::finding(finding)])),
            }
        }

        // Within an object, the active findings first, then the exempted ones.
        for (_, _, entries) in &mut groups {
            entries.sort_by_key(|e| e.exempted.is_some());
        }

        let all = errors.iter().chain(groups.iter().flat_map(|(_, _, e)| e));
        let mut widths = Widths {
            position: 0,
            // "critical", so severities line up across files.
            label: Severity::Critical.as_str().len(),
            code: 0,
            gutter: 0,
        };
        for entry in all {
            widths.position = widths.position.max(entry.position().len());
            widths.label = widths.label.max(entry.label.len());
            widths.code = widths.code.max(entry.code.len());
            let last_line = entry
                .related
                .map_or(0, |r| r.start.line)
                .max(entry.span.start.line);
            widths.gutter = widths.gutter.max(last_line.to_string().len());
        }

        writeln!(out, "{}", p.paint(BOLD | Effects::UNDERLINE, file))?;
        if !errors.is_empty() {
            writeln!(out, "  {}", p.paint(error_style(), "input errors"))?;
            for entry in &errors {
                write_entry(out, &p, entry, &widths)?;
            }
        }
        for (id, _, entries) in &groups {
            writeln!(out, "  {}", p.paint(BOLD, &id.to_string()))?;
            for entry in entries {
                write_entry(out, &p, entry, &widths)?;
            }
        }
    }

    if let Some(compliance) = report.compliance() {
        write_compliance(out, &p, &compliance)?;
    }
    write_summary(out, &p, report)
}

/// At most this many rule ids are named per control; the rest are counted.
const MAX_RULES_SHOWN: usize = 3;

fn write_compliance(
    out: &mut dyn Write,
    p: &Painter,
    compliance: &crate::Compliance,
) -> io::Result<()> {
    writeln!(
        out,
        "{}",
        p.paint(
            BOLD,
            &format!("Compliance: {}", compliance.framework.title())
        )
    )?;
    let id_width = compliance
        .controls
        .iter()
        .map(|c| c.id.chars().count())
        .max()
        .unwrap_or(0);
    let counts: Vec<String> = compliance
        .controls
        .iter()
        .map(|c| {
            let mut text = plural(c.findings, "finding", "findings");
            if c.findings > 0 {
                text.push_str(&format!(" in {}", plural(c.objects, "object", "objects")));
            }
            if c.exempted > 0 {
                text.push_str(&format!(", {} exempted", c.exempted));
            }
            text
        })
        .collect();
    let count_width = counts.iter().map(|c| c.chars().count()).max().unwrap_or(0);
    for (control, count) in compliance.controls.iter().zip(&counts) {
        let (status, style) = match control.status {
            ControlStatus::Pass => ("pass", pass_style()),
            ControlStatus::Fail => ("fail", error_style()),
        };
        let rules = if control.rules.len() > MAX_RULES_SHOWN {
            format!(
                "{}, and {} more",
                control.rules[..MAX_RULES_SHOWN - 1].join(", "),
                control.rules.len() - (MAX_RULES_SHOWN - 1)
            )
        } else {
            control.rules.join(", ")
        };
        let id_pad = " ".repeat(id_width.saturating_sub(control.id.chars().count()));
        let count_pad = " ".repeat(count_width.saturating_sub(count.chars().count()));
        writeln!(
            out,
            "  {}  {}{id_pad}  {count}{count_pad}  {}",
            p.paint(style, status),
            p.paint(BOLD, control.id),
            p.paint(DIM, &rules)
        )?;
    }
    let total = compliance.controls.len();
    if total == 0 {
        writeln!(
            out,
            "  no rule of this run maps to a control of the framework"
        )?;
    } else {
        writeln!(
            out,
            "  {} of {} passed ({}%)",
            compliance.passed,
            plural(total, "control", "controls"),
            compliance.percent
        )?;
    }
    writeln!(out)
}

fn write_entry(out: &mut dyn Write, p: &Painter, entry: &Entry, w: &Widths) -> io::Result<()> {
    let position = entry.position();
    let pad = |text: &str, width: usize| " ".repeat(width.saturating_sub(text.chars().count()));
    let indent = " ".repeat(4 + w.gutter);
    if let Some(exempted) = &entry.exempted {
        // One dimmed line and the reason: no source, no help.
        writeln!(
            out,
            "    {}{}  {}{}  {}{}  {}",
            p.paint(DIM, &position),
            pad(&position, w.position),
            p.paint(DIM, &entry.label),
            pad(&entry.label, w.label),
            p.paint(DIM, entry.code),
            pad(entry.code, w.code),
            p.paint(DIM, entry.message)
        )?;
        writeln!(
            out,
            "{indent} {} {}: {}",
            p.paint(gutter_style(), "="),
            p.paint(exempted_style(), "exempted"),
            p.paint(DIM, exempted)
        )?;
        return writeln!(out);
    }
    writeln!(
        out,
        "    {}{}  {}{}  {}{}  {}",
        p.paint(DIM, &position),
        pad(&position, w.position),
        p.paint(entry.label_style, &entry.label),
        pad(&entry.label, w.label),
        p.paint(BOLD, entry.code),
        pad(entry.code, w.code),
        entry.message
    )?;

    let bar = p.paint(gutter_style(), "|");
    if let Some(source) = entry.source {
        if let Some(snippet) = Snippet::new(source, entry.span, entry.secret) {
            writeln!(out, "{indent} {bar}")?;
            write_snippet(out, p, &snippet, '^', entry.label_style, None, w.gutter)?;
        }
        if let Some(related) = entry.related {
            let note = "first defined here";
            match Snippet::new(source, related, entry.secret) {
                Some(snippet) => {
                    write_snippet(out, p, &snippet, '-', gutter_style(), Some(note), w.gutter)?
                }
                None => writeln!(
                    out,
                    "{indent} {} note: {note} at {}",
                    p.paint(gutter_style(), "="),
                    related.start
                )?,
            }
        }
    }
    if let Some(help) = entry.help {
        writeln!(
            out,
            "{indent} {} {}: {help}",
            p.paint(gutter_style(), "="),
            p.paint(help_style(), "help")
        )?;
    }
    writeln!(out)
}

fn write_snippet(
    out: &mut dyn Write,
    p: &Painter,
    snippet: &Snippet,
    marker: char,
    style: Style,
    label: Option<&str>,
    gutter: usize,
) -> io::Result<()> {
    let number = format!("{:>gutter$}", snippet.line);
    writeln!(
        out,
        "    {} {} {}",
        p.paint(gutter_style(), &number),
        p.paint(gutter_style(), "|"),
        snippet.text.trim_end()
    )?;
    let marks: String = std::iter::repeat_n(marker, snippet.caret_len.max(1)).collect();
    let label = label.map(|l| format!(" {l}")).unwrap_or_default();
    writeln!(
        out,
        "    {} {} {}{}",
        " ".repeat(gutter),
        p.paint(gutter_style(), "|"),
        " ".repeat(snippet.caret_start),
        p.paint(style | Effects::BOLD, &format!("{marks}{label}")),
    )
}

/// A source line prepared for a terminal, with where its caret goes (in cells).
#[derive(Debug, PartialEq, Eq)]
struct Snippet {
    line: u32,
    text: String,
    caret_start: usize,
    caret_len: usize,
}

impl Snippet {
    fn new(source: &SourceFile, span: Span, secret: bool) -> Option<Snippet> {
        let line = span.start.line;
        let raw = source.line(line)?;
        let secret = secret || in_secret_document(source, line);
        let start_col = usize::try_from(span.start.column.max(1)).ok()? - 1;
        let end_col = if span.end.line == span.start.line && span.end.column > span.start.column {
            usize::try_from(span.end.column).ok()? - 1
        } else if span.end.line > span.start.line {
            raw.chars().count().max(start_col + 1)
        } else {
            start_col + 1
        };

        // The characters shown, each with its cell text.
        let mut cells: Vec<String> = raw.chars().map(cell_text).collect();
        let (mut start_col, mut end_col) = (start_col, end_col);
        if secret {
            if let Some(kept) = redacted_prefix(raw) {
                cells.truncate(kept);
                if cells.last().is_some_and(|c| !c.trim().is_empty()) {
                    cells.push(" ".to_string());
                }
                let marker = cells.len();
                cells.push(REDACTED.to_string());
                if start_col >= kept {
                    // The caret pointed into the value: point at the marker.
                    start_col = marker;
                    end_col = marker + 1;
                } else {
                    end_col = end_col.min(kept);
                }
            }
        }
        // Columns past the end of the line (a span at the line break) point just after it.
        let cells_len = cells.len();
        if start_col > cells_len {
            start_col = cells_len;
        }
        let end_col = end_col.clamp(start_col + 1, cells_len.max(start_col + 1));

        let widths: Vec<usize> = cells.iter().map(|c| text_width(c)).collect();
        let offset = |col: usize| -> usize { widths.iter().take(col).sum() };
        let total = offset(cells_len);
        let caret_start = offset(start_col);
        let caret_end = offset(end_col).max(caret_start + 1);

        if total <= MAX_SOURCE_WIDTH {
            return Some(Snippet {
                line,
                text: cells.concat(),
                caret_start,
                caret_len: caret_end - caret_start,
            });
        }

        // Trim around the caret: a third of the window before it.
        let window_start = caret_start
            .saturating_sub(MAX_SOURCE_WIDTH / 3)
            .min(total.saturating_sub(MAX_SOURCE_WIDTH));
        let window_end = window_start + MAX_SOURCE_WIDTH;
        let mut text = String::new();
        let mut shown_from = None;
        let mut cell = 0usize;
        for (c, width) in cells.iter().zip(&widths) {
            if cell >= window_start && cell + width <= window_end {
                if shown_from.is_none() {
                    shown_from = Some(cell);
                }
                text.push_str(c);
            }
            cell += width;
        }
        let shown_from = shown_from.unwrap_or(window_start);
        let prefix = if shown_from > 0 { "…" } else { "" };
        let suffix = if window_end < total { "…" } else { "" };
        let caret_start_shown = caret_start.saturating_sub(shown_from) + prefix.chars().count();
        let caret_len = caret_end
            .min(window_end)
            .saturating_sub(caret_start.max(shown_from))
            .max(1);
        Some(Snippet {
            line,
            text: format!("{prefix}{text}{suffix}"),
            caret_start: caret_start_shown,
            caret_len,
        })
    }
}

/// How a character is shown: tabs as spaces, control characters as `�`.
fn cell_text(c: char) -> String {
    match c {
        '\t' => " ".repeat(TAB_WIDTH),
        c if c.is_control() => "\u{fffd}".to_string(),
        c => c.to_string(),
    }
}

fn text_width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// How many characters of a line to keep when its value is hidden: up to and
/// including the `:` of `key:`, or the `- ` of a list item; `None` when the
/// line has no value to hide (a bare `key:` or a blank line).
fn redacted_prefix(line: &str) -> Option<usize> {
    let chars: Vec<char> = line.chars().collect();
    let indent = chars.iter().take_while(|c| c.is_whitespace()).count();
    let mut key_start = indent;
    while chars.get(key_start) == Some(&'-')
        && chars.get(key_start + 1).is_none_or(|c| c.is_whitespace())
    {
        key_start += 1;
        while chars.get(key_start).is_some_and(|c| c.is_whitespace()) {
            key_start += 1;
        }
    }
    let colon = (key_start..chars.len())
        .find(|&i| chars[i] == ':' && chars.get(i + 1).is_none_or(|c| c.is_whitespace()));
    let kept = colon.map_or(key_start, |i| i + 1);
    let rest: String = chars[kept..].iter().collect();
    let rest = rest.trim();
    let block_indicator = rest.starts_with(['|', '>'])
        && rest[1..]
            .split('#')
            .next()
            .is_some_and(|i| i.trim().chars().all(|c| matches!(c, '-' | '+' | '0'..='9')));
    if rest.is_empty() || rest.starts_with('#') || block_indicator {
        // A key without a value on its line (the lines of a block scalar
        // below it have no key and are hidden whole).
        return None;
    }
    Some(kept)
}

/// Whether line `line` belongs to a document (between `---` markers) that
/// declares `kind: Secret`, in YAML or JSON, at any depth (a `List` of Secrets too).
fn in_secret_document(source: &SourceFile, line: u32) -> bool {
    let is_marker = |text: &str| text.starts_with("---") || text.starts_with("...");
    let mut first = line;
    while first > 1 {
        match source.line(first) {
            Some(text) if is_marker(text) && first != line => break,
            _ => first -= 1,
        }
    }
    let mut n = first;
    while let Some(text) = source.line(n) {
        if n > line && is_marker(text) {
            break;
        }
        if declares_secret(text) {
            return true;
        }
        n += 1;
    }
    false
}

fn declares_secret(text: &str) -> bool {
    let squashed: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
        .collect();
    // `kind: Secret` (block, flow or JSON), possibly after `- ` or `{`.
    squashed.split([',', '{', '-']).any(|part| {
        part.trim_end_matches(['}', ','])
            .split('#')
            .next()
            .is_some_and(|p| p == "kind:Secret")
    })
}

fn write_summary(out: &mut dyn Write, p: &Painter, report: &Report) -> io::Result<()> {
    let summary = report.summary();

    let severities: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter(|&&s| summary.count(s) > 0)
        .map(|&s| p.paint(severity_style(s), &format!("{} {s}", summary.count(s))))
        .collect();
    let mut findings_line = if severities.is_empty() {
        "none".to_string()
    } else {
        format!("{} ({})", summary.findings, severities.join(", "))
    };
    if summary.exempted > 0 {
        findings_line.push_str(&format!(
            "; {}",
            p.paint(DIM, &format!("{} exempted", summary.exempted))
        ));
    }
    let mut score_line = format!("{}/100", summary.score);
    if let Some(lowest) = report.lowest_score() {
        score_line.push_str(&format!(" (lowest: {} {})", lowest.score, lowest.object.id));
    }

    let kinds: Vec<String> = summary
        .objects_by_kind
        .iter()
        .map(|k| {
            if k.checked {
                format!("{}: {}", k.kind, k.count)
            } else {
                format!("{}: {} {}", k.kind, k.count, p.paint(DIM, "(no checks)"))
            }
        })
        .collect();
    let mut scanned = format!(
        "{} in {}, {}",
        summary.objects,
        plural(summary.files, "file", "files"),
        plural(summary.documents, "document", "documents"),
    );
    if !kinds.is_empty() {
        scanned.push_str(": ");
        scanned.push_str(&kinds.join(", "));
    }

    writeln!(out, "{}", p.paint(BOLD, "Summary"))?;
    writeln!(out, "  {}      {findings_line}", p.paint(BOLD, "findings"))?;
    writeln!(out, "  {}         {score_line}", p.paint(BOLD, "score"))?;
    writeln!(out, "  {}       {scanned}", p.paint(BOLD, "objects"))?;
    let errors = if summary.input_errors == 0 {
        "none".to_string()
    } else {
        p.paint(error_style(), &summary.input_errors.to_string())
    };
    writeln!(out, "  {}  {errors}", p.paint(BOLD, "input errors"))?;
    writeln!(out)?;

    let threshold = format!("--fail-on {}", summary.fail_on);
    let at_or_above = format!(
        "{} at or above {}",
        plural(summary.failing, "finding", "findings"),
        summary.fail_on
    );
    let (word, style, text) = match summary.outcome {
        Outcome::Error => (
            "error",
            error_style(),
            format!(
                "{} made the scan incomplete; {at_or_above} ({threshold}); exit status 2",
                plural(summary.input_errors, "input error", "input errors")
            ),
        ),
        Outcome::Fail => (
            "failed",
            error_style(),
            format!("{at_or_above} ({threshold}); exit status 1"),
        ),
        Outcome::Pass if summary.findings == 0 && summary.exempted > 0 => (
            "passed",
            pass_style(),
            format!(
                "no findings in {}, {} exempted ({threshold})",
                plural(summary.objects, "object", "objects"),
                summary.exempted,
            ),
        ),
        Outcome::Pass if summary.findings == 0 => (
            "passed",
            pass_style(),
            format!(
                "no findings in {} ({threshold})",
                plural(summary.objects, "object", "objects")
            ),
        ),
        Outcome::Pass => (
            "passed",
            pass_style(),
            format!(
                "{}, none at or above {} ({threshold})",
                plural(summary.findings, "finding", "findings"),
                summary.fail_on
            ),
        ),
    };
    writeln!(out, "{}: {text}", p.paint(style, word))
}

#[cfg(test)]
mod tests {
    use palisade_model::Pos;

    use super::*;

    fn span(line: u32, start: u32, end: u32) -> Span {
        Span::new(Pos::new(line, start), Pos::new(line, end))
    }

    #[test]
    fn caret_under_span() {
        let file = SourceFile::new("x", "a:\n  privileged: true\n");
        let s = Snippet::new(&file, span(2, 3, 13), false).unwrap();
        assert_eq!(s.text, "  privileged: true");
        assert_eq!((s.caret_start, s.caret_len), (2, 10));
    }

    #[test]
    fn tabs_and_wide_characters() {
        let file = SourceFile::new("x", "\tname: 名前 x\n");
        let s = Snippet::new(&file, span(1, 11, 12), false).unwrap();
        assert_eq!(s.text, "    name: 名前 x");
        // tab (4) + "name: " (6) + two wide characters (4) + space (1)
        assert_eq!((s.caret_start, s.caret_len), (15, 1));
    }

    #[test]
    fn long_lines_are_trimmed_around_the_column() {
        let line = format!("{}TARGET{}", "a".repeat(300), "b".repeat(300));
        let file = SourceFile::new("x", line);
        let s = Snippet::new(&file, span(1, 301, 307), false).unwrap();
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        assert_eq!(text_width(&s.text), MAX_SOURCE_WIDTH + 2);
        let shown: String = s
            .text
            .chars()
            .skip(s.caret_start)
            .take(s.caret_len)
            .collect();
        assert_eq!(shown, "TARGET");
    }

    #[test]
    fn point_at_end_of_line() {
        let file = SourceFile::new("x", "key: [1, 2\n");
        let s = Snippet::new(&file, span(1, 11, 11), false).unwrap();
        assert_eq!((s.caret_start, s.caret_len), (10, 1));
    }

    #[test]
    fn secret_values_are_redacted() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: hunter2\n---\nkind: Pod\nx: visible\n";
        let file = SourceFile::new("x", text);
        let s = Snippet::new(&file, span(5, 13, 20), false).unwrap();
        assert_eq!(s.text, "  password: <redacted>");
        assert!(!s.text.contains("hunter2"));
        assert_eq!((s.caret_start, s.caret_len), (12, REDACTED.len()));
        let s = Snippet::new(&file, span(5, 3, 11), false).unwrap();
        assert_eq!((s.caret_start, s.caret_len), (2, 8));
        let s = Snippet::new(&file, span(8, 4, 11), false).unwrap();
        assert_eq!(s.text, "x: visible");
        assert!(declares_secret(r#"{"kind": "Secret", "data": {}}"#));
        assert!(declares_secret("- kind: Secret # yes"));
        assert!(!declares_secret("kind: SecretStore"));
        assert_eq!(redacted_prefix("  - c2VjcmV0"), Some(4));
        assert_eq!(redacted_prefix("c2VjcmV0"), Some(0));
        assert_eq!(redacted_prefix("  data:"), None);
        assert_eq!(redacted_prefix("  tls.key: |-"), None);
        let s = Snippet::new(&file, span(5, 3, 11), true).unwrap();
        assert_eq!(s.text, "  password: <redacted>");
    }
}
