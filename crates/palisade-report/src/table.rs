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
//! Source lines of Secret documents, and of every `secrets/` finding (a
//! literal credential in an env value, args or a ConfigMap), are shown with
//! their values redacted.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{self, Write};

use anstyle::{AnsiColor, Effects, Style};
use palisade_model::{Finding, InputError, ObjectId, Severity, SourceFile, Span, Suppression};
use unicode_width::UnicodeWidthChar;

use crate::util::{by_file, plural};
use crate::{ControlStatus, Outcome, RenderOptions, Report};

/// Most display cells of a source line shown; longer lines are trimmed
/// around the column, with `…` where text was cut.
const MAX_SOURCE_WIDTH: usize = 100;
/// What a tab is shown as: four cells.
const TAB: &str = "    ";
/// What replaces a redacted value.
const REDACTED: &str = "<redacted>";

struct Painter {
    color: bool,
}

impl Painter {
    fn paint<'t>(&self, style: Style, text: &'t str) -> Painted<'t> {
        Painted {
            style,
            text,
            color: self.color,
        }
    }
}

/// Text in a style (when colour is on), written without an intermediate string.
struct Painted<'t> {
    style: Style,
    text: &'t str,
    color: bool,
}

impl fmt::Display for Painted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.color && !self.text.is_empty() {
            write!(
                f,
                "{}{}{}",
                self.style.render(),
                self.text,
                self.style.render_reset()
            )
        } else {
            f.write_str(self.text)
        }
    }
}

/// `n` spaces.
struct Spaces(usize);

impl fmt::Display for Spaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SPACES: &str = "                                                                ";
        let mut left = self.0;
        while left > 0 {
            let n = left.min(SPACES.len());
            f.write_str(&SPACES[..n])?;
            left -= n;
        }
        Ok(())
    }
}

/// The spaces that pad `text` to `width` characters.
fn pad(text: &str, width: usize) -> Spaces {
    Spaces(width.saturating_sub(text.chars().count()))
}

/// How many decimal digits `n` has.
fn digits(n: u32) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
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
    label: &'static str,
    label_style: Style,
    code: &'r str,
    message: &'r str,
    source: Option<&'r SourceFile>,
    /// Redact the source line even if the text does not look like a Secret.
    secret: bool,
    related: Option<Span>,
    help: Option<&'r str>,
    /// Why a finding is exempted (shown as `<reason> (<origin>)`).
    exempted: Option<&'r Suppression>,
}

impl<'r> Entry<'r> {
    fn finding(finding: &'r Finding) -> Self {
        Entry {
            span: finding.location.span,
            label: finding.severity.as_str(),
            label_style: severity_style(finding.severity),
            code: finding.rule,
            message: &finding.message,
            source: finding.source.as_deref(),
            // Findings about credentials sit on lines that hold them.
            secret: finding.object.kind == "Secret" || finding.rule.starts_with("secrets/"),
            related: None,
            help: Some(finding.remediation.as_str()).filter(|h| !h.is_empty()),
            exempted: finding.suppression.as_ref(),
        }
    }

    fn error(error: &'r InputError) -> Self {
        Entry {
            span: error.span,
            label: "error",
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

    /// The length of [`Entry::position`].
    fn position_len(&self) -> usize {
        let start = self.span.start;
        if start.line == 0 {
            1
        } else {
            digits(start.line) + 1 + digits(start.column)
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

pub(crate) fn render<W: Write + ?Sized>(
    report: &Report,
    options: &RenderOptions,
    out: &mut W,
) -> io::Result<()> {
    let p = Painter {
        color: options.color,
    };

    // Files in name order, each with its errors and findings in report order.
    let errors_by_file = by_file(report.errors.iter().copied(), |e| e.file.as_str());
    let mut findings_by_file = by_file(report.findings.iter().copied(), |f| {
        f.location.file.as_str()
    });
    let mut files: BTreeMap<&str, (Vec<&InputError>, Vec<&Finding>)> = errors_by_file
        .into_iter()
        .map(|(file, errors)| (file, (errors, Vec::new())))
        .collect();
    for (file, findings) in &mut findings_by_file {
        files.entry(file).or_default().1 = std::mem::take(findings);
    }
    let mut secrets = SecretCache::default();

    for (file, (file_errors, file_findings)) in files {
        let errors: Vec<Entry> = file_errors.into_iter().map(Entry::error).collect();
        // Findings grouped by object, objects in order of their first finding.
        let mut groups: Vec<(&ObjectId, Vec<Entry>)> = Vec::new();
        let mut group_of: HashMap<(&ObjectId, usize), usize> = HashMap::new();
        // The findings of an object mostly follow each other: look up only
        // when the object changes.
        let mut last: Option<((&ObjectId, usize), usize)> = None;
        for finding in file_findings {
            let key = (&finding.object, finding.location.document);
            let i = match last {
                Some((last_key, i)) if last_key == key => i,
                _ => {
                    let i = *group_of.entry(key).or_insert_with(|| {
                        groups.push((key.0, Vec::new()));
                        groups.len() - 1
                    });
                    last = Some((key, i));
                    i
                }
            };
            if let Some((_, entries)) = groups.get_mut(i) {
                entries.push(Entry::finding(finding));
            }
        }

        // Within an object, the active findings first, then the exempted ones.
        for (_, entries) in &mut groups {
            entries.sort_by_key(|e| e.exempted.is_some());
        }

        let all = errors.iter().chain(groups.iter().flat_map(|(_, e)| e));
        let mut widths = Widths {
            position: 0,
            // "critical", so severities line up across files.
            label: Severity::Critical.as_str().len(),
            code: 0,
            gutter: 0,
        };
        for entry in all {
            widths.position = widths.position.max(entry.position_len());
            widths.label = widths.label.max(entry.label.len());
            widths.code = widths.code.max(entry.code.len());
            let last_line = entry
                .related
                .map_or(0, |r| r.start.line)
                .max(entry.span.start.line);
            widths.gutter = widths.gutter.max(digits(last_line));
        }

        writeln!(out, "{}", p.paint(BOLD | Effects::UNDERLINE, file))?;
        if !errors.is_empty() {
            writeln!(out, "  {}", p.paint(error_style(), "input errors"))?;
            for entry in &errors {
                write_entry(out, &p, entry, &widths, &mut secrets)?;
            }
        }
        for (id, entries) in &groups {
            writeln!(out, "  {}", p.paint(BOLD, &id.to_string()))?;
            for entry in entries {
                write_entry(out, &p, entry, &widths, &mut secrets)?;
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

fn write_compliance<W: Write + ?Sized>(
    out: &mut W,
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

fn write_entry<W: Write + ?Sized>(
    out: &mut W,
    p: &Painter,
    entry: &Entry,
    w: &Widths,
    secrets: &mut SecretCache,
) -> io::Result<()> {
    let position = entry.position();
    let indent = Spaces(4 + w.gutter);
    if let Some(exempted) = entry.exempted {
        // One dimmed line and the reason: no source, no help.
        writeln!(
            out,
            "    {}{}  {}{}  {}{}  {}",
            p.paint(DIM, &position),
            pad(&position, w.position),
            p.paint(DIM, entry.label),
            pad(entry.label, w.label),
            p.paint(DIM, entry.code),
            pad(entry.code, w.code),
            p.paint(DIM, entry.message)
        )?;
        let reason = format!("{} ({})", exempted.reason, exempted.origin);
        writeln!(
            out,
            "{indent} {} {}: {}",
            p.paint(gutter_style(), "="),
            p.paint(exempted_style(), "exempted"),
            p.paint(DIM, &reason)
        )?;
        return writeln!(out);
    }
    writeln!(
        out,
        "    {}{}  {}{}  {}{}  {}",
        p.paint(DIM, &position),
        pad(&position, w.position),
        p.paint(entry.label_style, entry.label),
        pad(entry.label, w.label),
        p.paint(BOLD, entry.code),
        pad(entry.code, w.code),
        entry.message
    )?;

    let bar = p.paint(gutter_style(), "|");
    if let Some(source) = entry.source {
        let secret = |line: u32, secrets: &mut SecretCache| {
            entry.secret || secrets.in_secret_document(source, line)
        };
        let span = entry.span;
        if let Some(snippet) = Snippet::build(source, span, secret(span.start.line, secrets)) {
            writeln!(out, "{indent} {bar}")?;
            write_snippet(out, p, &snippet, '^', entry.label_style, None, w.gutter)?;
        }
        if let Some(related) = entry.related {
            let note = "first defined here";
            match Snippet::build(source, related, secret(related.start.line, secrets)) {
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

fn write_snippet<W: Write + ?Sized>(
    out: &mut W,
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
    let mut marks: String = std::iter::repeat_n(marker, snippet.caret_len.max(1)).collect();
    if let Some(label) = label {
        marks.push(' ');
        marks.push_str(label);
    }
    writeln!(
        out,
        "    {} {} {}{}",
        Spaces(gutter),
        p.paint(gutter_style(), "|"),
        Spaces(snippet.caret_start),
        p.paint(style | Effects::BOLD, &marks),
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

/// One character of a source line as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Char(char),
    Text(&'static str),
}

impl Cell {
    /// How a character is shown: tabs as spaces, control characters as `�`.
    fn of(c: char) -> Cell {
        match c {
            '\t' => Cell::Text(TAB),
            c if c.is_control() => Cell::Char('\u{fffd}'),
            c => Cell::Char(c),
        }
    }

    fn width(self) -> usize {
        match self {
            Cell::Char(c) => c.width().unwrap_or(0),
            Cell::Text(text) => text_width(text),
        }
    }

    fn is_blank(self) -> bool {
        match self {
            Cell::Char(c) => c.is_whitespace(),
            Cell::Text(text) => text.trim().is_empty(),
        }
    }

    fn push_to(self, out: &mut String) {
        match self {
            Cell::Char(c) => out.push(c),
            Cell::Text(text) => out.push_str(text),
        }
    }
}

impl Snippet {
    /// The snippet of `span` in `source`, redacted if its line is in a Secret
    /// document (or if `secret`).
    #[cfg(test)]
    fn new(source: &SourceFile, span: Span, secret: bool) -> Option<Snippet> {
        let secret = secret || SecretLines::new(source).contains(source, span.start.line);
        Snippet::build(source, span, secret)
    }

    /// The snippet of `span` in `source`, with the value redacted if `secret`.
    fn build(source: &SourceFile, span: Span, secret: bool) -> Option<Snippet> {
        let line = span.start.line;
        let raw = source.line(line)?;
        let start_col = usize::try_from(span.start.column.max(1)).ok()? - 1;
        let end_col = if span.end.line == span.start.line && span.end.column > span.start.column {
            usize::try_from(span.end.column).ok()? - 1
        } else if span.end.line > span.start.line {
            raw.chars().count().max(start_col + 1)
        } else {
            start_col + 1
        };

        // The characters shown.
        let mut cells: Vec<Cell> = Vec::with_capacity(raw.len() + 2);
        cells.extend(raw.chars().map(Cell::of));
        let (mut start_col, mut end_col) = (start_col, end_col);
        if secret {
            if let Some(kept) = redacted_prefix(raw) {
                cells.truncate(kept);
                if cells.last().is_some_and(|c| !c.is_blank()) {
                    cells.push(Cell::Char(' '));
                }
                let marker = cells.len();
                cells.push(Cell::Text(REDACTED));
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

        // offsets[i]: the cells before column i.
        let mut offsets = Vec::with_capacity(cells_len + 1);
        offsets.push(0usize);
        let mut total = 0usize;
        for cell in &cells {
            total += cell.width();
            offsets.push(total);
        }
        let offset = |col: usize| -> usize { offsets.get(col).copied().unwrap_or(total) };
        let caret_start = offset(start_col);
        let caret_end = offset(end_col).max(caret_start + 1);

        if total <= MAX_SOURCE_WIDTH {
            let mut text = String::with_capacity(raw.len() + REDACTED.len());
            for cell in &cells {
                cell.push_to(&mut text);
            }
            return Some(Snippet {
                line,
                text,
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
        for (c, cell) in cells.iter().zip(&offsets) {
            let width = c.width();
            if *cell >= window_start && cell + width <= window_end {
                if shown_from.is_none() {
                    shown_from = Some(*cell);
                }
                c.push_to(&mut text);
            }
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

/// A finding's source line as the table shows it, with the same redaction of
/// Secret documents and `secrets/` findings: other renderers that show source
/// (the HTML report) go through this so they cannot redact differently.
#[derive(Default)]
pub(crate) struct RedactedSnippets {
    secrets: SecretCache,
}

/// A source line ready to show: its number, its text (values redacted where
/// needed) and where the caret goes, in display cells.
pub(crate) struct ShownLine {
    pub line: u32,
    pub text: String,
    pub caret_start: usize,
    pub caret_len: usize,
}

impl RedactedSnippets {
    pub(crate) fn finding(&mut self, finding: &Finding) -> Option<ShownLine> {
        let entry = Entry::finding(finding);
        let source = entry.source?;
        let span = entry.span;
        let secret = entry.secret || self.secrets.in_secret_document(source, span.start.line);
        Snippet::build(source, span, secret).map(|s| ShownLine {
            line: s.line,
            text: s.text,
            caret_start: s.caret_start,
            caret_len: s.caret_len,
        })
    }
}

/// The [`SecretLines`] of every file shown, worked out once per file.
#[derive(Default)]
struct SecretCache {
    lines: Vec<SecretLines>,
    /// Source file (by address) → its entry in `lines`.
    index: HashMap<*const SourceFile, usize>,
    /// The file asked about last, and its entry (files are shown one at a time).
    last: Option<(*const SourceFile, usize)>,
}

impl SecretCache {
    /// Whether line `line` of `source` is in a Secret document (see [`SecretLines`]).
    fn in_secret_document(&mut self, source: &SourceFile, line: u32) -> bool {
        let key = std::ptr::from_ref(source);
        let i = match self.last {
            Some((last, i)) if last == key => i,
            _ => {
                let lines = &mut self.lines;
                let i = *self.index.entry(key).or_insert_with(|| {
                    lines.push(SecretLines::new(source));
                    lines.len() - 1
                });
                self.last = Some((key, i));
                i
            }
        };
        self.lines
            .get(i)
            .is_some_and(|lines| lines.contains(source, line))
    }
}

/// Which lines of a file belong to a document (between `---` or `...`
/// markers) that declares `kind: Secret`, in YAML or JSON, at any depth (a
/// `List` of Secrets too). A marker line belongs to the document it starts
/// and to the one before it.
struct SecretLines {
    /// The first line of every document: 1, then every later marker line.
    starts: Vec<u32>,
    /// Whether the document starting at `starts[i]` declares a Secret.
    secret: Vec<bool>,
}

fn is_marker(text: &str) -> bool {
    text.starts_with("---") || text.starts_with("...")
}

impl SecretLines {
    fn new(source: &SourceFile) -> Self {
        let mut lines = SecretLines {
            starts: vec![1],
            secret: vec![false],
        };
        let mut n = 1;
        while let Some(text) = source.line(n) {
            if n > 1 && is_marker(text) {
                lines.starts.push(n);
                lines.secret.push(false);
            }
            if let Some(secret) = lines.secret.last_mut() {
                if !*secret && declares_secret(text) {
                    *secret = true;
                }
            }
            n += 1;
        }
        lines
    }

    fn contains(&self, source: &SourceFile, line: u32) -> bool {
        let Some(document) = self.starts.partition_point(|&s| s <= line).checked_sub(1) else {
            return false;
        };
        let secret = |i: usize| self.secret.get(i).copied().unwrap_or(false);
        let marker = line > 1 && source.line(line).is_some_and(is_marker);
        secret(document) || (marker && document > 0 && secret(document - 1))
    }
}

fn declares_secret(text: &str) -> bool {
    if !may_declare_secret(text) {
        return false;
    }
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

/// Whether the line, squashed as [`declares_secret`] does, contains
/// `kind:Secret`: a quick test that rules out almost every line.
fn may_declare_secret(text: &str) -> bool {
    let kept = |c: &char| !c.is_whitespace() && *c != '"' && *c != '\'';
    text.match_indices('S').any(|(at, _)| {
        let after = text[at + 1..].chars().filter(kept).take(5);
        let before = text[..at].chars().rev().filter(kept).take(5);
        after.eq("ecret".chars()) && before.eq(":dnik".chars())
    })
}

fn write_summary<W: Write + ?Sized>(out: &mut W, p: &Painter, report: &Report) -> io::Result<()> {
    let scores = report.object_scores();
    let summary = report.summary_with(&scores);

    let severities: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter(|&&s| summary.count(s) > 0)
        .map(|&s| {
            let count = format!("{} {s}", summary.count(s));
            p.paint(severity_style(s), &count).to_string()
        })
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
    if let Some(lowest) = crate::score::lowest(scores) {
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
            .to_string()
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
        assert!(declares_secret("  k ind : \"Sec\u{a0}ret\""));
        assert!(!declares_secret("kind: Secre"));
        assert!(!declares_secret("Secret"));
        assert_eq!(redacted_prefix("  - c2VjcmV0"), Some(4));
        assert_eq!(redacted_prefix("c2VjcmV0"), Some(0));
        assert_eq!(redacted_prefix("  data:"), None);
        assert_eq!(redacted_prefix("  tls.key: |-"), None);
        let s = Snippet::new(&file, span(5, 3, 11), true).unwrap();
        assert_eq!(s.text, "  password: <redacted>");
    }
}
