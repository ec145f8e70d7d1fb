//! Source files and positions in them.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// A position in a source file: 1-based line, 1-based column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub fn new(line: u32, column: u32) -> Self {
        Pos { line, column }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A range in a source file: `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn new(start: Pos, end: Pos) -> Self {
        Span { start, end }
    }

    pub fn point(pos: Pos) -> Self {
        Span {
            start: pos,
            end: pos,
        }
    }
}

/// A loaded input: a file on disk or standard input.
#[derive(Debug)]
pub struct SourceFile {
    /// The name shown to users: the path as given, or `<stdin>`.
    pub name: String,
    /// The text as read (a leading byte-order mark removed).
    pub text: String,
    /// Byte offset of the start of every line, for showing source lines.
    line_starts: Vec<usize>,
}

/// Shared handle to a source file; findings and objects point at it.
pub type Source = Arc<SourceFile>;

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let mut text = text.into();
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        // A line ends at LF, CRLF, or a lone CR, as the YAML parser counts them.
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(bytes.iter().enumerate().filter_map(|(i, &b)| {
            let ends_line = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            ends_line.then_some(i + 1)
        }));
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The text of 1-based line `line`, without its line break; `None` past the end.
    pub fn line(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(index)?;
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |&next| next);
        let text = self.text.get(start..end)?;
        Some(text.trim_end_matches(['\n', '\r']))
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset of the 1-based line `line`.
    pub fn line_offset(&self, line: u32) -> Option<usize> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.line_starts.get(index).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_carriage_returns_end_lines() {
        let f = SourceFile::new("x", "a\rb\r\nc\nd");
        assert_eq!(f.line(1), Some("a"));
        assert_eq!(f.line(2), Some("b"));
        assert_eq!(f.line(3), Some("c"));
        assert_eq!(f.line(4), Some("d"));
    }

    #[test]
    fn lines_without_breaks_and_bom() {
        let f = SourceFile::new("x", "\u{feff}a: 1\r\nb: 2\nc: 3");
        assert_eq!(f.line(1), Some("a: 1"));
        assert_eq!(f.line(2), Some("b: 2"));
        assert_eq!(f.line(3), Some("c: 3"));
        assert_eq!(f.line(4), None);
        assert_eq!(f.line(0), None);
    }
}
