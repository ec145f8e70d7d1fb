//! YAML (and JSON) streams into [`Node`] trees with positions.
//!
//! Documents are split by the parser's event stream, never by text, so a `---`
//! inside a block scalar or a PEM block stays where it is. Anchors, aliases and
//! merge keys (`<<`) are resolved as go-yaml does; duplicate keys are reported
//! with both positions. After a syntax error the parser resumes at the next
//! document separator, so one broken document does not hide the rest.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use crate::diagnostic::{InputError, InputErrorKind};
use crate::node::{resolve_plain, Node, Value};
use crate::source::{Pos, Source, SourceFile, Span};

/// Most values aliases may add to one file; beyond it the rest of the file is
/// refused ("billion laughs"). Values written out in the text need no limit:
/// each costs at least a byte of input.
const MAX_ALIAS_NODES_PER_FILE: usize = 1_000_000;

/// Deepest nesting accepted. Kubernetes objects stay far below it; the limit
/// keeps every recursive consumer of the tree (drop, clone, JSON conversion,
/// analyzers) within any thread's stack.
pub const MAX_DEPTH: usize = 512;

/// One document of a stream.
#[derive(Debug, Clone)]
pub struct YamlDocument {
    /// 0-based index of the document in its file, counting empty documents too.
    pub index: usize,
    pub root: Node,
}

/// Parses every document of `source`, returning the documents that could be
/// read and an error for each that could not.
pub fn parse_stream(source: &Source) -> (Vec<YamlDocument>, Vec<InputError>) {
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    let mut line_offset: u32 = 0;
    let mut byte_start = 0usize;
    let mut doc_index = 0usize;
    let mut alias_nodes = 0usize;
    // The text with under-indented quoted scalars re-indented (see `reindent_quoted_scalar`).
    let mut patched: Option<SourceFile> = None;
    let mut patches = 0;
    loop {
        let view: &SourceFile = patched.as_ref().unwrap_or(source);
        let rest = &view.text[byte_start..];
        let mut composer = Composer::new(source, line_offset, alias_nodes);
        let failure = composer.run(rest, &mut documents, &mut errors, &mut doc_index);
        alias_nodes = composer.alias_nodes;
        if alias_nodes > MAX_ALIAS_NODES_PER_FILE {
            break;
        }
        let Some(error_line) = failure else { break };
        // go-yaml (and so kubectl) is more lenient than saphyr in two places
        // where the indentation carries no meaning: continuation lines of a
        // quoted scalar, and lines inside a flow collection (`[`, `{`), which
        // may sit at the block's indentation or start with a tab. Re-indent
        // them (the value is the same) and read the document again.
        if let Some(leniency) = composer.leniency {
            let fixed = (patches < MAX_REINDENTS)
                .then(|| match leniency {
                    Leniency::QuotedScalar(at) => reindent_quoted_scalar(view, at),
                    Leniency::FlowLine(line) => {
                        reindent_flow_line(view, composer.document_start_line, line)
                    }
                })
                .flatten();
            if let Some(fixed) = fixed {
                let fixed = SourceFile::new(source.name.clone(), fixed);
                if let Some(offset) = fixed.line_offset(composer.document_start_line) {
                    errors.pop();
                    line_offset = composer.document_start_line.saturating_sub(1);
                    byte_start = offset;
                    patched = Some(fixed);
                    patches += 1;
                    continue;
                }
            }
        }
        // Resume at the first document separator after the error line.
        match next_separator_line(view, error_line) {
            Some((line, offset)) => {
                line_offset = line - 1;
                byte_start = offset;
                doc_index += 1;
            }
            None => break,
        }
    }
    (documents, errors)
}

/// Indentation saphyr refuses where go-yaml does not, and where it is.
#[derive(Debug, Clone, Copy)]
enum Leniency {
    /// A quoted scalar starting here has under-indented continuation lines.
    QuotedScalar(Pos),
    /// This line is refused for its indentation (maybe inside a flow collection).
    FlowLine(u32),
}

/// The text of `view` with line `line` indented one column past the line that
/// opened the flow collection it is in; `None` when the line is not inside a
/// flow collection (in block context indentation is structure, not to be guessed).
fn reindent_flow_line(view: &SourceFile, document_start: u32, line: u32) -> Option<String> {
    let opener = open_flow_collection_line(view, document_start, line)?;
    let opener_indent = view.line(opener)?.chars().take_while(|c| *c == ' ').count();
    let text = view.line(line)?;
    let content = text.trim_start_matches([' ', '\t']);
    let spaces = text.len() - content.len();
    let indent = (opener_indent + 1).max(text.chars().take_while(|c| *c == ' ').count());
    if indent == spaces && !text[..spaces].contains('\t') {
        return None;
    }
    let start = view.line_offset(line)?;
    let whole = &view.text;
    let mut out = String::with_capacity(whole.len() + indent);
    out.push_str(&whole[..start]);
    out.extend(std::iter::repeat_n(' ', indent));
    out.push_str(&whole[start + spaces..]);
    Some(out)
}

/// The line of the outermost flow collection (`[` or `{`) still open at the
/// start of `line`, scanning from `document_start` and skipping quoted text
/// and comments; `None` when no flow collection is open there.
fn open_flow_collection_line(view: &SourceFile, document_start: u32, line: u32) -> Option<u32> {
    let mut depth = 0usize;
    let mut outermost = None;
    for number in document_start..line {
        let text = view.line(number)?;
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some('"'), '\\') => {
                    chars.next();
                }
                (Some(q), c) if c == q => {
                    if q == '\'' && chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
                (Some(_), _) => {}
                (None, '#') if previous.is_whitespace() => break,
                (None, '"' | '\'') if depth > 0 || previous.is_whitespace() || previous == ':' => {
                    quote = Some(c);
                }
                (None, '[' | '{') => {
                    if depth == 0 {
                        outermost = Some(number);
                    }
                    depth += 1;
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            previous = c;
        }
        // Quoted scalars in flow context may span lines; the common case does not.
    }
    (depth > 0).then_some(outermost).flatten()
}

/// Most quoted scalars re-indented in one file, so a pathological file cannot loop.
const MAX_REINDENTS: usize = 64;

/// The text of `view` with the continuation lines of the quoted scalar that
/// starts at `at` indented past its opening quote. Leading white space of a
/// continuation line is folded away, so the scalar's value does not change.
fn reindent_quoted_scalar(view: &SourceFile, at: Pos) -> Option<String> {
    let line_start = view.line_offset(at.line)?;
    let line = view.line(at.line)?;
    let quote_byte = line
        .char_indices()
        .nth(usize::try_from(at.column).ok()?.checked_sub(1)?)
        .map(|(i, _)| i)?;
    let quote_col = at.column as usize;
    let text = &view.text;
    let start = line_start + quote_byte;
    let quote = *text.as_bytes().get(start)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 256);
    out.push_str(&text[..=start]);
    let mut chars = text[start + 1..].char_indices().peekable();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        out.push(c);
        match c {
            '\\' if quote == b'"' => {
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
            }
            '\'' if quote == b'\'' => {
                if chars.peek().map(|&(_, n)| n) == Some('\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    end = Some(start + 1 + i + 1);
                    break;
                }
            }
            '"' if quote == b'"' => {
                end = Some(start + 1 + i + 1);
                break;
            }
            '\n' => {
                let mut indent = 0;
                while let Some(&(_, ' ' | '\t')) = chars.peek() {
                    if let Some((_, w)) = chars.next() {
                        out.push(w);
                    }
                    indent += 1;
                }
                for _ in indent..=quote_col {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
    out.push_str(&text[end?..]);
    Some(out)
}

/// The first line after `after_line` that starts a new document (`---`), with its byte offset.
fn next_separator_line(source: &SourceFile, after_line: u32) -> Option<(u32, usize)> {
    let mut line = after_line + 1;
    while let Some(text) = source.line(line) {
        if text == "---" || text.starts_with("--- ") || text.starts_with("---\t") {
            return Some((line, source.line_offset(line)?));
        }
        line += 1;
    }
    None
}

enum Frame {
    Seq {
        start: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: Pos,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        /// Finds keys already set, for duplicate detection.
        seen: KeyIndex,
        pending_key: Option<Node>,
        /// The pending key is a plain `<<`: its value is merged, not stored.
        pending_is_merge: bool,
        /// Mappings named by `<<` keys, applied at the end so explicit keys win.
        merges: Vec<Node>,
    },
}

struct Composer<'s> {
    source: &'s Source,
    line_offset: u32,
    stack: Vec<Frame>,
    /// Emptied item and entry buffers of finished collections, reused for the
    /// next ones: each collection then costs one exact-size allocation, not a
    /// chain of reallocations (which fragments the heap on large inputs).
    spare_items: Vec<Vec<Node>>,
    spare_entries: Vec<Vec<(Node, Node)>>,
    /// Anchored values with their size (values) and depth (levels).
    anchors: HashMap<usize, Anchored>,
    root: Option<Node>,
    /// Values added by aliases so far in this file.
    alias_nodes: usize,
    /// Where the current document starts (1-based line), to read it again.
    document_start_line: u32,
    /// Set when the parser refused indentation that go-yaml accepts.
    leniency: Option<Leniency>,
}

#[derive(Clone)]
struct Anchored {
    node: Node,
    size: usize,
    depth: usize,
}

impl<'s> Composer<'s> {
    fn new(source: &'s Source, line_offset: u32, alias_nodes: usize) -> Self {
        Composer {
            source,
            line_offset,
            stack: Vec::new(),
            spare_items: Vec::new(),
            spare_entries: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            alias_nodes,
            document_start_line: line_offset + 1,
            leniency: None,
        }
    }

    fn pos(&self, m: &Marker) -> Pos {
        let line = u32::try_from(m.line()).unwrap_or(u32::MAX);
        let col = u32::try_from(m.col()).unwrap_or(u32::MAX);
        Pos::new(line.saturating_add(self.line_offset), col.saturating_add(1))
    }

    /// Runs the parser over `text`. Returns the (absolute) error line when the
    /// parser failed, after recording the error.
    fn run(
        &mut self,
        text: &str,
        documents: &mut Vec<YamlDocument>,
        errors: &mut Vec<InputError>,
        doc_index: &mut usize,
    ) -> Option<u32> {
        let mut parser = Parser::new_from_str(text);
        let mut in_document = false;
        loop {
            let (event, span) = match parser.next_event() {
                None => return None,
                Some(Ok(pair)) => pair,
                Some(Err(e)) => return Some(self.scan_error(&e, errors)),
            };
            let start = self.pos(&span.start);
            let end = self.pos(&span.end);
            match event {
                Event::StreamStart | Event::Nothing => {}
                Event::StreamEnd => return None,
                Event::DocumentStart(_) => {
                    in_document = true;
                    self.document_start_line = start.line;
                    self.stack.clear();
                    self.anchors.clear();
                    self.root = None;
                }
                Event::DocumentEnd => {
                    if in_document {
                        if let Some(root) = self.root.take() {
                            documents.push(YamlDocument {
                                index: *doc_index,
                                root,
                            });
                        }
                        *doc_index += 1;
                    }
                    in_document = false;
                }
                Event::Alias(id) => {
                    let Some(anchored) = self.anchors.get(&id) else {
                        errors.push(self.error(start, end, "alias to an unknown anchor".into()));
                        return Some(start.line);
                    };
                    let (size, depth) = (anchored.size, anchored.depth);
                    self.alias_nodes = self.alias_nodes.saturating_add(size);
                    if self.alias_nodes > MAX_ALIAS_NODES_PER_FILE {
                        errors.push(self.too_large(
                            start,
                            end,
                            format!("aliases expand this file past {MAX_ALIAS_NODES_PER_FILE} values; the rest of the file is not read"),
                        ));
                        return Some(start.line);
                    }
                    if self.stack.len() + depth > MAX_DEPTH {
                        errors.push(self.too_large(
                            start,
                            end,
                            format!("this alias nests values deeper than {MAX_DEPTH} levels"),
                        ));
                        return Some(start.line);
                    }
                    // An alias keeps the anchored value but points at the alias itself.
                    let mut node = anchored.node.clone();
                    node.span = Span::new(start, end);
                    if let Err(e) = self.complete(node, false, errors) {
                        return Some(e);
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let is_merge = style == ScalarStyle::Plain && text == "<<" && tag.is_none();
                    let value = scalar_value(&text, style, tag.as_deref());
                    let node = Node::new(value, Span::new(start, end));
                    if anchor > 0 {
                        self.anchors.insert(
                            anchor,
                            Anchored {
                                node: node.clone(),
                                size: 1,
                                depth: 1,
                            },
                        );
                    }
                    if let Err(e) = self.complete(node, is_merge, errors) {
                        return Some(e);
                    }
                }
                Event::SequenceStart(..) | Event::MappingStart(..)
                    if self.stack.len() >= MAX_DEPTH =>
                {
                    errors.push(self.too_large(
                        start,
                        end,
                        format!("values nest deeper than {MAX_DEPTH} levels"),
                    ));
                    return Some(start.line);
                }
                Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                    start,
                    anchor,
                    items: self.spare_items.pop().unwrap_or_default(),
                }),
                Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                    start,
                    anchor,
                    entries: self.spare_entries.pop().unwrap_or_default(),
                    seen: KeyIndex::default(),
                    pending_key: None,
                    pending_is_merge: false,
                    merges: Vec::new(),
                }),
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        continue;
                    };
                    let (node, anchor) = match frame {
                        Frame::Seq {
                            start: s,
                            anchor,
                            mut items,
                        } => {
                            let seq: Box<[Node]> = items.drain(..).collect();
                            self.spare_items.push(items);
                            (Node::new(Value::Seq(seq), Span::new(s, end)), anchor)
                        }
                        Frame::Map {
                            start: s,
                            anchor,
                            mut entries,
                            mut seen,
                            merges,
                            ..
                        } => {
                            apply_merges(&mut entries, &mut seen, merges);
                            let map: Box<[(Node, Node)]> = entries.drain(..).collect();
                            self.spare_entries.push(entries);
                            let map = Value::Map(map);
                            (Node::new(map, Span::new(s, end)), anchor)
                        }
                    };
                    if anchor > 0 {
                        let (size, depth) = measure(&node);
                        self.anchors.insert(
                            anchor,
                            Anchored {
                                node: node.clone(),
                                size,
                                depth,
                            },
                        );
                    }
                    if let Err(e) = self.complete(node, false, errors) {
                        return Some(e);
                    }
                }
            }
        }
    }

    fn error(&self, start: Pos, end: Pos, message: String) -> InputError {
        InputError::new(
            InputErrorKind::Syntax,
            self.source,
            Span::new(start, end),
            message,
        )
    }

    fn too_large(&self, start: Pos, end: Pos, message: String) -> InputError {
        InputError::new(
            InputErrorKind::TooLarge,
            self.source,
            Span::new(start, end),
            message,
        )
    }

    fn scan_error(&mut self, e: &ScanError, errors: &mut Vec<InputError>) -> u32 {
        let pos = self.pos(e.marker());
        self.leniency = match e.info() {
            "invalid indentation in quoted scalar" => Some(Leniency::QuotedScalar(pos)),
            "invalid indentation" | "tabs disallowed within this context (block indentation)" => {
                Some(Leniency::FlowLine(pos.line))
            }
            _ => None,
        };
        errors.push(self.error(pos, pos, format!("invalid YAML: {}", e.info())));
        pos.line
    }

    /// Attaches a finished node to its parent (or makes it the document root).
    fn complete(
        &mut self,
        node: Node,
        is_merge: bool,
        errors: &mut Vec<InputError>,
    ) -> Result<(), u32> {
        let source = self.source;
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                seen,
                pending_key,
                pending_is_merge,
                merges,
                ..
            }) => match pending_key.take() {
                None => {
                    if matches!(node.value, Value::Seq(_) | Value::Map(_)) {
                        errors.push(InputError::new(
                            InputErrorKind::Syntax,
                            source,
                            node.span,
                            "a mapping key must be a scalar".into(),
                        ));
                        return Err(node.span.start.line);
                    }
                    *pending_key = Some(node);
                    *pending_is_merge = is_merge;
                }
                Some(key) => {
                    if *pending_is_merge {
                        merges.push(node);
                        return Ok(());
                    }
                    if let Some(i) = seen.find(entries, &key) {
                        let first = entries[i].0.span;
                        let text = key.key_text();
                        let mut err = InputError::new(
                            InputErrorKind::DuplicateKey,
                            source,
                            key.span,
                            format!(
                                "duplicate key {text:?}: already set at line {}, column {}",
                                first.start.line, first.start.column
                            ),
                        );
                        err.related = Some(first);
                        errors.push(err);
                        // Decoding keeps the last value; the error makes sure the user knows.
                        entries[i] = (key, node);
                    } else {
                        seen.record(entries, &key);
                        entries.push((key, node));
                    }
                }
            },
        }
        Ok(())
    }
}

/// Finds a key among a mapping's entries: a linear scan while the mapping is
/// small (most are), a hash index once it grows, so parsing stays linear and
/// small mappings allocate nothing.
#[derive(Default)]
struct KeyIndex {
    by_text: Option<HashMap<String, usize>>,
}

impl KeyIndex {
    const HASH_FROM: usize = 16;

    fn find(&self, entries: &[(Node, Node)], key: &Node) -> Option<usize> {
        match &self.by_text {
            Some(map) => map.get(&key.key_text()).copied(),
            None => entries.iter().position(|(k, _)| same_key(k, key)),
        }
    }

    /// Records `key` as the next entry (at index `entries.len()`).
    fn record(&mut self, entries: &[(Node, Node)], key: &Node) {
        if self.by_text.is_none() && entries.len() >= Self::HASH_FROM {
            let map = entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.key_text(), i))
                .collect();
            self.by_text = Some(map);
        }
        if let Some(map) = &mut self.by_text {
            map.insert(key.key_text(), entries.len());
        }
    }
}

/// Whether two keys are the same once converted to JSON keys.
fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Str { text: x, .. }, Value::Str { text: y, .. }) => x == y,
        _ => a.key_text() == b.key_text(),
    }
}

/// Applies `<<` merges: keys already present win; earlier merged maps win over later ones.
fn apply_merges(entries: &mut Vec<(Node, Node)>, seen: &mut KeyIndex, merges: Vec<Node>) {
    for merged in merges {
        let sources: Vec<Node> = match merged.value {
            Value::Seq(items) => items.into_vec(),
            _ => vec![merged],
        };
        for source in sources {
            if let Value::Map(pairs) = source.value {
                for (k, v) in pairs.into_vec() {
                    if seen.find(entries, &k).is_none() {
                        seen.record(entries, &k);
                        entries.push((k, v));
                    }
                }
            }
        }
    }
}

/// (number of values, nesting depth) of a node. Recursion is bounded by [`MAX_DEPTH`].
fn measure(node: &Node) -> (usize, usize) {
    let children: Box<dyn Iterator<Item = &Node>> = match &node.value {
        Value::Seq(items) => Box::new(items.iter()),
        Value::Map(entries) => Box::new(entries.iter().flat_map(|(k, v)| [k, v])),
        _ => return (1, 1),
    };
    let (mut size, mut depth) = (1usize, 0usize);
    for child in children {
        let (s, d) = measure(child);
        size = size.saturating_add(s);
        depth = depth.max(d);
    }
    (size, depth + 1)
}

fn scalar_value(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag {
        if tag.is_yaml_core_schema() || tag.handle == "!!" {
            match tag.suffix.as_str() {
                "str" => return Value::Str { text: text.into() },
                "null" => return Value::Null,
                "bool" | "int" | "float" => {
                    let resolved = resolve_plain(text);
                    if !matches!(resolved, Value::Str { .. }) {
                        return resolved;
                    }
                }
                _ => {}
            }
        }
    }
    match style {
        ScalarStyle::Plain => resolve_plain(text),
        _ => Value::Str { text: text.into() },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn parse(text: &str) -> (Vec<YamlDocument>, Vec<InputError>) {
        parse_stream(&Arc::new(SourceFile::new("t.yaml", text)))
    }

    #[test]
    fn splits_by_events_not_text() {
        let (docs, errs) = parse("a: |\n  ---\n  x\n---\nb: 1\n");
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(docs.len(), 2);
        assert_eq!(
            docs[0].root.get("a").and_then(Node::as_str),
            Some("---\nx\n")
        );
        assert_eq!(docs[1].root.get("b").and_then(Node::as_i64), Some(1));
        assert_eq!(docs[1].index, 1);
        assert_eq!(docs[1].root.span.start.line, 5);
    }

    #[test]
    fn positions_are_one_based() {
        let (docs, _) = parse("a:\n  b: true\n");
        let b = docs[0].root.path(&["a", "b"]).unwrap();
        assert_eq!(b.span.start, Pos::new(2, 6));
        let (k, _) = docs[0].root.get("a").unwrap().entry("b").unwrap();
        assert_eq!(k.span.start, Pos::new(2, 3));
    }

    #[test]
    fn duplicate_keys_name_both_positions() {
        let (docs, errs) = parse("a: 1\nb: 2\na: 3\n");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].kind, InputErrorKind::DuplicateKey);
        assert_eq!(errs[0].span.start, Pos::new(3, 1));
        assert_eq!(errs[0].related.unwrap().start, Pos::new(1, 1));
        assert_eq!(docs[0].root.get("a").and_then(Node::as_i64), Some(3));
    }

    #[test]
    fn duplicate_keys_in_large_mappings() {
        let mut text: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k3: again\n");
        let (docs, errs) = parse(&text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].related.map(|s| s.start.line), Some(4));
        assert_eq!(docs[0].root.get("k3").and_then(Node::as_str), Some("again"));
        assert_eq!(docs[0].root.entries().len(), 40);
    }

    #[test]
    fn only_a_plain_double_angle_key_merges() {
        let (docs, errs) = parse("base: &b {a: 1}\nd:\n  '<<': *b\n");
        assert!(errs.is_empty(), "{errs:?}");
        let d = docs[0].root.get("d").unwrap();
        assert!(d.get("a").is_none());
        assert!(d.get("<<").is_some(), "a quoted << is an ordinary key");
    }

    #[test]
    fn anchors_and_merge_keys() {
        let (docs, errs) = parse("base: &b {a: 1, b: 2}\nd:\n  <<: *b\n  b: 3\n");
        assert!(errs.is_empty(), "{errs:?}");
        let d = docs[0].root.get("d").unwrap();
        assert_eq!(d.get("a").and_then(Node::as_i64), Some(1));
        assert_eq!(d.get("b").and_then(Node::as_i64), Some(3));
        // YAML 1.1: a plain `y` key is the boolean true, as kubectl reads it.
        let (docs, _) = parse("y: 1\n");
        assert_eq!(docs[0].root.get("true").and_then(Node::as_i64), Some(1));
        assert!(docs[0].root.get("y").is_none());
    }

    #[test]
    fn recovers_after_a_syntax_error() {
        let (docs, errs) = parse("a: 1\n---\nb: [1, 2\nc: d\n---\ne: 5\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].kind, InputErrorKind::Syntax);
        assert!(errs[0].span.start.line >= 3);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].root.get("e").and_then(Node::as_i64), Some(5));
        assert_eq!(docs[1].root.span.start.line, 6);
        assert_eq!(docs[1].index, 2);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in 'b'..='k' {
            text.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = name;
        }
        let (_, errs) = parse(&text);
        assert!(errs.iter().any(|e| e.kind == InputErrorKind::TooLarge));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let deep = "- ".repeat(100_000);
        let (docs, errs) = parse(&format!("a: 1\n---\n{deep}x\n---\nb: 2\n"));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].kind, InputErrorKind::TooLarge);
        assert_eq!(docs.len(), 2, "the documents around it still load");
        let nested = format!("a: &a\n{}x\nb: [[[[*a]]]]\n", "- ".repeat(MAX_DEPTH - 2));
        let (_, errs) = parse(&nested);
        assert!(
            errs.iter().any(|e| e.kind == InputErrorKind::TooLarge),
            "{errs:?}"
        );
    }

    #[test]
    fn alias_budget_is_per_file_not_per_document() {
        let mut doc = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in 'b'..='e' {
            doc.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = name;
        }
        // Each document expands to ~111k values: fine alone, refused when repeated.
        let (docs, errs) = parse(&doc);
        assert!(errs.is_empty() && docs.len() == 1);
        let many = format!("---\n{doc}").repeat(20);
        let (docs, errs) = parse(&many);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].kind, InputErrorKind::TooLarge);
        assert!(docs.len() < 20);
    }

    #[test]
    fn under_indented_quoted_continuation_lines_are_accepted_as_kubectl_does() {
        let text = "a: 1\n---\nprops:\n  description: \"When set the TLS {} is optional, defaults\n  to false.\"\n  other: 'x\n  y'\nlast: 2\n---\nb: 3\n";
        let (docs, errs) = parse(text);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(docs.len(), 3);
        let props = docs[1].root.get("props").unwrap();
        assert_eq!(
            props.get("description").and_then(Node::as_str),
            Some("When set the TLS {} is optional, defaults to false.")
        );
        assert_eq!(props.get("other").and_then(Node::as_str), Some("x y"));
        assert_eq!(docs[1].root.get("last").unwrap().span.start, Pos::new(8, 7));
        assert_eq!(docs[1].index, 1);
        assert_eq!(docs[2].root.span.start.line, 10);
    }

    #[test]
    fn flow_collections_at_block_indentation_or_with_tabs_are_accepted() {
        // Falco's rules files close lists at the key's indentation.
        let (docs, errs) = parse("- list: miners\n  items: [\n    \"a\",\n    \"b\"\n  ]\n\n- list: other\n  items: [c]\n");
        assert!(errs.is_empty(), "{errs:?}");
        let items = docs[0].root.items()[0].get("items").unwrap();
        assert_eq!(items.items().len(), 2);
        // A tab before a flow item (a netpol-analyzer test manifest).
        let (docs, errs) = parse(
            "args:\n  [\n    \"-jar\",\n\t    \"-Dlisten=8080\",\n    \"x.jar\"\n  ]\nnext: 1\n",
        );
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(docs[0].root.get("args").unwrap().items().len(), 3);
        assert_eq!(docs[0].root.get("next").unwrap().span.start.line, 7);
        // In block context a bad indentation stays an error.
        let (_, errs) = parse("a:\n  b: 1\n c: 2\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        let (docs, _) = parse("a: \"true\"\nb: 'on'\nc: on\nd: !!str yes\n");
        let r = &docs[0].root;
        assert_eq!(r.get("a").unwrap().as_str(), Some("true"));
        assert_eq!(r.get("b").unwrap().as_str(), Some("on"));
        assert_eq!(r.get("c").unwrap().as_bool(), Some(true));
        assert_eq!(r.get("d").unwrap().as_str(), Some("yes"));
    }
}
