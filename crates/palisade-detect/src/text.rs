//! Condition text that remembers where each of its bytes came from.
//!
//! A rule's condition is assembled from several YAML scalars (appends,
//! overrides, exceptions, list expansion), and YAML folds multi-line
//! scalars, so a byte offset in the final condition does not map to a file
//! position by arithmetic. Each piece keeps its origin, and each scalar keeps
//! anchors from words of its value to their file positions, so an error at
//! any offset points at the right `file:line:column`.

use std::sync::Arc;

use palisade_model::{Node, Pos, SourceFile};

/// Maps offsets in one scalar's value to positions in its file.
#[derive(Debug)]
pub struct ScalarMap {
    /// The file the scalar is in.
    pub file: Arc<str>,
    /// Where the scalar starts.
    pub start: Pos,
    /// `(value byte offset, file position)` of each word of the value, ascending.
    anchors: Vec<(usize, Pos)>,
}

impl ScalarMap {
    /// Builds the map of `value`, the resolved text of `node` in `source`.
    pub fn build(source: &SourceFile, node: &Node, value: &str) -> ScalarMap {
        let file: Arc<str> = Arc::from(source.name.as_str());
        let start = node.span.start;
        let mut anchors = Vec::new();
        // The source text of the node: from its start to its end line.
        let (Some(from), Some(end_line_start)) = (
            byte_of(source, start),
            source.line_offset(node.span.end.line.max(start.line)),
        ) else {
            return ScalarMap {
                file,
                start,
                anchors,
            };
        };
        let to = source.text[end_line_start..]
            .find('\n')
            .map_or(source.text.len(), |i| end_line_start + i);
        let raw = source.text.get(from..to.max(from)).unwrap_or("");
        let mut cursor = 0usize; // in `raw`
        let mut offset = 0usize; // in `value`
        for word in value.split_inclusive(|c: char| c.is_whitespace()) {
            let trimmed = word.trim_end();
            if !trimmed.is_empty() {
                if let Some(found) = raw[cursor..].find(trimmed) {
                    let at = cursor + found;
                    anchors.push((offset, pos_after(start, &raw[..at])));
                    cursor = at + trimmed.len();
                }
            }
            offset += word.len();
        }
        ScalarMap {
            file,
            start,
            anchors,
        }
    }

    /// A map without anchors: every offset maps to `start`.
    pub fn at(file: Arc<str>, start: Pos) -> ScalarMap {
        ScalarMap {
            file,
            start,
            anchors: Vec::new(),
        }
    }

    /// The file position of byte `offset` of the value.
    pub fn pos(&self, offset: usize) -> Pos {
        let i = self.anchors.partition_point(|(o, _)| *o <= offset);
        match i.checked_sub(1).and_then(|i| self.anchors.get(i)) {
            Some(&(o, p)) => Pos::new(p.line, p.column + (offset - o) as u32),
            None => self.start,
        }
    }
}

/// Byte offset of a (1-based line, character column) position.
pub fn byte_of(source: &SourceFile, pos: Pos) -> Option<usize> {
    let line_start = source.line_offset(pos.line)?;
    let line = source.line(pos.line)?;
    let col = (pos.column as usize).saturating_sub(1);
    let within = line.char_indices().nth(col).map_or(line.len(), |(i, _)| i);
    Some(line_start + within)
}

fn pos_after(start: Pos, text: &str) -> Pos {
    let mut pos = start;
    for c in text.chars() {
        if c == '\n' {
            pos.line += 1;
            pos.column = 1;
        } else {
            pos.column += 1;
        }
    }
    pos
}

#[derive(Debug, Clone)]
struct Segment {
    /// First byte of the segment in the text.
    start: usize,
    origin: Option<Arc<ScalarMap>>,
    /// Offset in the origin scalar of the segment's first byte.
    offset: usize,
    /// Whether later bytes of the segment advance in the origin (false for
    /// expanded lists, which all point at the list's name).
    linear: bool,
}

/// A string with the origin of its bytes.
#[derive(Debug, Clone, Default)]
pub struct Text {
    /// The text.
    pub text: String,
    segments: Vec<Segment>,
}

impl Text {
    /// The value of a scalar, mapped through `map`.
    pub fn scalar(value: &str, map: Arc<ScalarMap>) -> Text {
        Text {
            text: value.to_string(),
            segments: vec![Segment {
                start: 0,
                origin: Some(map),
                offset: 0,
                linear: true,
            }],
        }
    }

    /// Generated text that points at `map`'s start (exception clauses).
    pub fn generated(value: &str, map: Option<Arc<ScalarMap>>) -> Text {
        Text {
            text: value.to_string(),
            segments: vec![Segment {
                start: 0,
                origin: map,
                offset: 0,
                linear: false,
            }],
        }
    }

    /// Appends another text, keeping its origins.
    pub fn push_text(&mut self, other: &Text) {
        let base = self.text.len();
        self.text.push_str(&other.text);
        for s in &other.segments {
            self.segments.push(Segment {
                start: base + s.start,
                ..s.clone()
            });
        }
    }

    /// Appends generated text (a separator or parenthesis) with no origin of
    /// its own: it points at whatever precedes it.
    pub fn push_str(&mut self, s: &str) {
        let base = self.text.len();
        self.text.push_str(s);
        let origin = self.segments.last().and_then(|seg| seg.origin.clone());
        let offset = self.segments.last().map_or(0, |seg| {
            seg.offset + if seg.linear { base - seg.start } else { 0 }
        });
        self.segments.push(Segment {
            start: base,
            origin,
            offset,
            linear: false,
        });
    }

    /// Wraps the text as `(text)`.
    pub fn parenthesized(&self) -> Text {
        let mut t = Text::generated("(", self.segments.first().and_then(|s| s.origin.clone()));
        t.push_text(self);
        t.push_str(")");
        t
    }

    /// Where byte `offset` came from: file and position.
    pub fn locate(&self, offset: usize) -> Option<(Arc<str>, Pos)> {
        let i = self.segments.partition_point(|s| s.start <= offset);
        let seg = self.segments.get(i.checked_sub(1)?)?;
        let map = seg.origin.as_ref()?;
        let delta = if seg.linear { offset - seg.start } else { 0 };
        Some((map.file.clone(), map.pos(seg.offset + delta)))
    }

    /// Replaces `range` with `replacement`, whose bytes all point at the
    /// origin of `range.start`.
    pub fn replace_range(&self, range: std::ops::Range<usize>, replacement: &str) -> Text {
        let (origin, offset) = self.origin_of(range.start);
        let mut out = Text::default();
        out.text.reserve(self.text.len() + replacement.len());
        // Segments before the range.
        for s in &self.segments {
            if s.start < range.start {
                out.segments.push(s.clone());
            }
        }
        out.text.push_str(&self.text[..range.start]);
        out.segments.push(Segment {
            start: range.start,
            origin,
            offset,
            linear: false,
        });
        out.text.push_str(replacement);
        // The rest: re-base the segment covering `range.end` and those after.
        let shift_to = out.text.len();
        let (origin, offset, linear) = self.origin_full(range.end);
        out.segments.push(Segment {
            start: shift_to,
            origin,
            offset,
            linear,
        });
        for s in &self.segments {
            if s.start > range.end {
                out.segments.push(Segment {
                    start: s.start - range.end + shift_to,
                    ..s.clone()
                });
            }
        }
        out.text.push_str(&self.text[range.end..]);
        out
    }

    fn origin_of(&self, offset: usize) -> (Option<Arc<ScalarMap>>, usize) {
        let (o, off, _) = self.origin_full(offset);
        (o, off)
    }

    fn origin_full(&self, offset: usize) -> (Option<Arc<ScalarMap>>, usize, bool) {
        let i = self.segments.partition_point(|s| s.start <= offset);
        match i.checked_sub(1).and_then(|i| self.segments.get(i)) {
            Some(s) => (
                s.origin.clone(),
                s.offset + if s.linear { offset - s.start } else { 0 },
                s.linear,
            ),
            None => (None, 0, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::Span;

    #[test]
    fn folded_scalar_offsets_map_to_lines() {
        let src = "- rule: x\n  condition: >\n    open_read and\n    container\n";
        let file = SourceFile::new("r.yaml", src);
        let node = Node::new(
            palisade_model::Value::Null,
            Span::new(Pos::new(2, 14), Pos::new(5, 1)),
        );
        let value = "open_read and container\n";
        let map = Arc::new(ScalarMap::build(&file, &node, value));
        assert_eq!(map.pos(0), Pos::new(3, 5));
        assert_eq!(map.pos(14), Pos::new(4, 5)); // "container"
        assert_eq!(map.pos(16), Pos::new(4, 7));
        let text = Text::scalar(value, map);
        let replaced = text.replace_range(0..9, "a, b, c");
        assert_eq!(replaced.text, "a, b, c and container\n");
        assert_eq!(replaced.locate(3).unwrap().1, Pos::new(3, 5));
        assert_eq!(replaced.locate(12).unwrap().1, Pos::new(4, 5));
    }
}
