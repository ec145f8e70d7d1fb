//! A small JSON reader for audit events: one pass over the bytes into a flat
//! node array (a "tape"), with no allocation per value.
//!
//! Audit events are read once and queried a few dozen times (`ka.verb`,
//! `objectRef.resource`, ...), so the tape keeps every value's byte range and
//! the index just past its subtree; a lookup walks siblings by skipping whole
//! subtrees. Strings are unescaped only when asked for, and only when they
//! contain an escape.

use std::borrow::Cow;
use std::fmt;

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 512;

/// The kind of a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    kind: Kind,
    /// Byte range; for strings, the content between the quotes.
    start: u32,
    end: u32,
    /// Index just past this node's subtree.
    next: u32,
    /// For strings: whether the content has a backslash.
    escaped: bool,
}

/// A parsed JSON document.
#[derive(Clone)]
pub struct Doc {
    text: Box<str>,
    nodes: Vec<Node>,
}

impl fmt::Debug for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Doc({} bytes, {} nodes)",
            self.text.len(),
            self.nodes.len()
        )
    }
}

/// A JSON syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong.
    pub message: String,
    /// Byte offset.
    pub offset: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for JsonError {}

/// A handle to a value in a [`Doc`].
pub type Id = u32;

impl Doc {
    /// Parses one JSON value (surrounding whitespace allowed).
    pub fn parse(text: impl Into<Box<str>>) -> Result<Doc, JsonError> {
        let text: Box<str> = text.into();
        if text.len() >= u32::MAX as usize {
            return Err(JsonError {
                message: "document too large".into(),
                offset: 0,
            });
        }
        let mut nodes = Vec::with_capacity(text.len() / 12 + 4);
        let mut p = Parser {
            b: text.as_bytes(),
            i: 0,
            nodes: &mut nodes,
        };
        p.ws();
        p.value()?;
        p.ws();
        if p.i != p.b.len() {
            return Err(p.err("trailing characters after the JSON value"));
        }
        Ok(Doc { text, nodes })
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The root value.
    pub fn root(&self) -> Id {
        0
    }

    /// The kind of a value.
    pub fn kind(&self, id: Id) -> Kind {
        self.nodes[id as usize].kind
    }

    /// The member `key` of object `id`.
    pub fn get(&self, id: Id, key: &str) -> Option<Id> {
        let n = self.nodes.get(id as usize)?;
        if n.kind != Kind::Object {
            return None;
        }
        let mut child = id + 1;
        while child < n.next {
            let k = &self.nodes[child as usize];
            let value = child + 1;
            if self.str_eq(k, key) {
                return Some(value);
            }
            child = self.nodes[value as usize].next;
        }
        None
    }

    /// Follows a path of object keys.
    pub fn path(&self, id: Id, keys: &[&str]) -> Option<Id> {
        keys.iter().try_fold(id, |at, k| self.get(at, k))
    }

    /// Members of an object, as (key, value) pairs.
    pub fn members(&self, id: Id) -> impl Iterator<Item = (Cow<'_, str>, Id)> + '_ {
        let n = self.nodes[id as usize];
        let mut child = id + 1;
        std::iter::from_fn(move || {
            if n.kind != Kind::Object || child >= n.next {
                return None;
            }
            let key = child;
            let value = child + 1;
            child = self.nodes[value as usize].next;
            Some((self.str_at(key), value))
        })
    }

    /// Items of an array.
    pub fn items(&self, id: Id) -> impl Iterator<Item = Id> + '_ {
        let n = self.nodes[id as usize];
        let mut child = id + 1;
        std::iter::from_fn(move || {
            if n.kind != Kind::Array || child >= n.next {
                return None;
            }
            let item = child;
            child = self.nodes[item as usize].next;
            Some(item)
        })
    }

    /// Item `index` of an array.
    pub fn item(&self, id: Id, index: usize) -> Option<Id> {
        self.items(id).nth(index)
    }

    fn str_eq(&self, n: &Node, s: &str) -> bool {
        let raw = &self.text[n.start as usize..n.end as usize];
        if n.escaped {
            unescape(raw) == s
        } else {
            raw == s
        }
    }

    fn str_at(&self, id: Id) -> Cow<'_, str> {
        let n = &self.nodes[id as usize];
        let raw = &self.text[n.start as usize..n.end as usize];
        if n.escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        }
    }

    /// The value of a string.
    pub fn as_str(&self, id: Id) -> Option<Cow<'_, str>> {
        (self.kind(id) == Kind::String).then(|| self.str_at(id))
    }

    /// The value as Go's fastjson renders it for the k8saudit plugin: a
    /// string's content, anything else as compact JSON.
    pub fn as_text(&self, id: Id) -> Cow<'_, str> {
        match self.kind(id) {
            Kind::String => self.str_at(id),
            Kind::Null | Kind::Bool | Kind::Number => Cow::Borrowed(self.raw(id)),
            Kind::Array | Kind::Object => Cow::Owned(self.compact(id)),
        }
    }

    /// The source text of a value (strings without their quotes).
    pub fn raw(&self, id: Id) -> &str {
        let n = &self.nodes[id as usize];
        &self.text[n.start as usize..n.end as usize]
    }

    /// The value as compact JSON.
    pub fn compact(&self, id: Id) -> String {
        let mut out = String::new();
        self.write(id, &mut out, None, 0);
        out
    }

    /// The value as JSON indented by two spaces (Go's `json.Indent`).
    pub fn indented(&self, id: Id) -> String {
        let mut out = String::new();
        self.write(id, &mut out, Some("  "), 0);
        out
    }

    fn write(&self, id: Id, out: &mut String, indent: Option<&str>, depth: usize) {
        let n = self.nodes[id as usize];
        let newline = |out: &mut String, depth: usize| {
            if let Some(ind) = indent {
                out.push('\n');
                for _ in 0..depth {
                    out.push_str(ind);
                }
            }
        };
        match n.kind {
            Kind::String => {
                out.push('"');
                out.push_str(self.raw(id));
                out.push('"');
            }
            Kind::Null | Kind::Bool | Kind::Number => out.push_str(self.raw(id)),
            Kind::Array => {
                out.push('[');
                let mut first = true;
                for item in self.items(id) {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    newline(out, depth + 1);
                    self.write(item, out, indent, depth + 1);
                }
                if !first {
                    newline(out, depth);
                }
                out.push(']');
            }
            Kind::Object => {
                out.push('{');
                let mut child = id + 1;
                let mut first = true;
                while child < n.next {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    newline(out, depth + 1);
                    out.push('"');
                    out.push_str(self.raw(child));
                    out.push_str(if indent.is_some() { "\": " } else { "\":" });
                    let value = child + 1;
                    self.write(value, out, indent, depth + 1);
                    child = self.nodes[value as usize].next;
                }
                if !first {
                    newline(out, depth);
                }
                out.push('}');
            }
        }
    }
}

/// Unescapes JSON string content (invalid escapes are kept as written).
pub fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\x08'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let mut code = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                if (0xD800..0xDC00).contains(&code) {
                    // A surrogate pair: the low half follows as `\uXXXX`.
                    let rest = chars.as_str();
                    if let Some(low) = rest
                        .strip_prefix("\\u")
                        .and_then(|r| r.get(..4))
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .filter(|l| (0xDC00..0xE000).contains(l))
                    {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        chars = rest[6..].chars();
                    }
                }
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    nodes: &'a mut Vec<Node>,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> JsonError {
        JsonError {
            message: message.to_string(),
            offset: self.i,
        }
    }

    #[inline]
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn push(&mut self, kind: Kind, start: usize, end: usize, escaped: bool) -> usize {
        let idx = self.nodes.len();
        self.nodes.push(Node {
            kind,
            start: start as u32,
            end: end as u32,
            next: idx as u32 + 1,
            escaped,
        });
        idx
    }

    /// Parses a value iteratively (no recursion, so deep input cannot
    /// exhaust the thread's stack). While a container is open, its node's
    /// `next` holds the index of the enclosing open container (or `NONE`),
    /// so the stack of open containers lives in the tape itself.
    fn value(&mut self) -> Result<(), JsonError> {
        const NONE: u32 = u32::MAX;
        // The innermost open container, and how many are open.
        let mut open = NONE;
        let mut depth = 0usize;
        let mut in_object = false;
        loop {
            self.ws();
            // In an object, a member starts with a key.
            if in_object {
                if self.b.get(self.i) != Some(&b'"') {
                    return Err(self.err("expected a string key"));
                }
                self.string()?;
                self.ws();
                if self.b.get(self.i) != Some(&b':') {
                    return Err(self.err("expected ':'"));
                }
                self.i += 1;
                self.ws();
            }
            let Some(&c) = self.b.get(self.i) else {
                return Err(self.err("unexpected end of input"));
            };
            match c {
                b'{' | b'[' => {
                    if depth >= MAX_DEPTH {
                        return Err(self.err("nesting too deep"));
                    }
                    let is_object = c == b'{';
                    let idx = self.push(
                        if is_object { Kind::Object } else { Kind::Array },
                        self.i,
                        self.i,
                        false,
                    );
                    self.i += 1;
                    self.ws();
                    let close = if is_object { b'}' } else { b']' };
                    if self.b.get(self.i) == Some(&close) {
                        self.i += 1;
                        self.close(idx);
                    } else {
                        self.nodes[idx].next = open;
                        open = idx as u32;
                        depth += 1;
                        in_object = is_object;
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b't' => self.literal(b"true", Kind::Bool)?,
                b'f' => self.literal(b"false", Kind::Bool)?,
                b'n' => self.literal(b"null", Kind::Null)?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return Err(self.err("unexpected character")),
            }
            // After a complete value: a comma, or close containers.
            loop {
                if open == NONE {
                    return Ok(());
                }
                self.ws();
                match self.b.get(self.i) {
                    Some(b',') => {
                        self.i += 1;
                        break;
                    }
                    Some(b'}') if in_object => {}
                    Some(b']') if !in_object => {}
                    _ => return Err(self.err("expected ',' or a closing bracket")),
                }
                self.i += 1;
                let idx = open as usize;
                open = self.nodes[idx].next;
                depth -= 1;
                self.close(idx);
                in_object = open != NONE && self.nodes[open as usize].kind == Kind::Object;
            }
        }
    }

    fn close(&mut self, idx: usize) {
        let next = self.nodes.len() as u32;
        let n = &mut self.nodes[idx];
        n.end = self.i as u32;
        n.next = next;
    }

    /// Scans a string from its opening quote in one pass: eight bytes at a
    /// time, stopping at a quote, a backslash or a control character.
    #[inline(always)]
    fn string(&mut self) -> Result<(), JsonError> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let b = self.b;
        let start = self.i + 1;
        let mut j = start;
        let mut escaped = false;
        let mut control = false;
        loop {
            // Skip ordinary bytes a word at a time. For each test the lowest
            // flagged byte is exact (borrows only run upwards), which is all
            // that is used.
            while let Some(chunk) = b.get(j..j + 8) {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                let x = u64::from_le_bytes(word);
                let quote = x ^ (ONES * u64::from(b'"'));
                let slash = x ^ (ONES * u64::from(b'\\'));
                let special = (quote.wrapping_sub(ONES) & !quote)
                    | (slash.wrapping_sub(ONES) & !slash)
                    | (x.wrapping_sub(ONES * 0x20) & !x);
                let special = special & HIGH;
                if special != 0 {
                    j += (special.trailing_zeros() / 8) as usize;
                    break;
                }
                j += 8;
            }
            let Some(&c) = b.get(j) else {
                self.i = b.len();
                return Err(self.err("unterminated string"));
            };
            match c {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    if b.get(j + 1).is_some_and(|&e| e < 0x20) {
                        control = true;
                    }
                    j += 2;
                    if j > b.len() {
                        self.i = b.len();
                        return Err(self.err("unterminated string"));
                    }
                }
                c => {
                    control |= c < 0x20;
                    j += 1;
                }
            }
        }
        if control {
            self.i = start;
            return Err(self.err("control character in string"));
        }
        self.push(Kind::String, start, j, escaped);
        self.i = j + 1;
        Ok(())
    }

    fn literal(&mut self, word: &[u8], kind: Kind) -> Result<(), JsonError> {
        if self.b[self.i..].starts_with(word) {
            self.push(kind, self.i, self.i + word.len(), false);
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let start = self.i;
        let len = self.b[start..]
            .iter()
            .take_while(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .count();
        let text = &self.b[start..start + len];
        let valid = !text.is_empty()
            && text.iter().any(u8::is_ascii_digit)
            && !text.ends_with(b"-")
            && !text.ends_with(b"+")
            && !text.ends_with(b".");
        if !valid {
            return Err(self.err("invalid number"));
        }
        self.push(Kind::Number, start, start + len, false);
        self.i = start + len;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_query() {
        let d =
            Doc::parse(r#" {"a": {"b": [1, "x\"y", true, null]}, "c": "d", "e": {}} "#).unwrap();
        let b = d.path(d.root(), &["a", "b"]).unwrap();
        assert_eq!(d.kind(b), Kind::Array);
        let items: Vec<_> = d.items(b).map(|i| d.as_text(i).into_owned()).collect();
        assert_eq!(items, vec!["1", "x\"y", "true", "null"]);
        assert_eq!(d.as_str(d.get(0, "c").unwrap()).unwrap(), "d");
        assert_eq!(
            d.compact(d.get(0, "a").unwrap()),
            r#"{"b":[1,"x\"y",true,null]}"#
        );
        assert_eq!(d.compact(d.get(0, "e").unwrap()), "{}");
        assert!(d.get(0, "zz").is_none());
        assert_eq!(
            d.indented(d.get(0, "a").unwrap()),
            "{\n  \"b\": [\n    1,\n    \"x\\\"y\",\n    true,\n    null\n  ]\n}"
        );
    }

    #[test]
    fn escaped_keys_and_unicode() {
        let d = Doc::parse(r#"{"k\u0065y": "\u00e9\ud83d\ude00"}"#).unwrap();
        let v = d.get(0, "key").unwrap();
        assert_eq!(d.as_str(v).unwrap(), "é😀");
    }

    /// The word-at-a-time string scanner against serde_json, with the
    /// special byte at every offset around the 8-byte boundaries.
    #[test]
    fn string_scanner_agrees_with_serde_json() {
        let specials: [&str; 8] = ["\\\"", "\\\\", "\\n", "\\u00e9", "\n", "\u{1}", "é", "😀"];
        for len in 0..20 {
            for at in 0..=len {
                for special in specials {
                    let mut content = "a".repeat(len);
                    content.insert_str(at, special);
                    let text = format!("[\"{content}\", \"x{content}\"]");
                    let ours = Doc::parse(text.as_str());
                    let theirs: Result<Vec<String>, _> = serde_json::from_str(&text);
                    match (ours, theirs) {
                        (Ok(d), Ok(v)) => {
                            let got: Vec<String> =
                                d.items(0).map(|i| d.as_text(i).into_owned()).collect();
                            assert_eq!(got, v, "{text:?}");
                        }
                        (Err(_), Err(_)) => {}
                        (o, t) => panic!("{text:?}: ours {o:?}, serde_json {t:?}"),
                    }
                }
            }
        }
        // A control character is reported at the start of its string.
        let e = Doc::parse("{\"k\": \"abcdefghij\u{1}\"}").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.offset),
            ("control character in string", 7)
        );
        // An unterminated string wins over a control character in it.
        let e = Doc::parse("\"abc\u{1}defghijk").unwrap_err();
        assert_eq!(e.message, "unterminated string");
    }

    #[test]
    fn nesting_and_siblings_after_closing() {
        let d = Doc::parse(r#"{"a":[{"b":[]},{}],"c":{"d":{"e":1}},"f":[[1],[2,[3]]]}"#).unwrap();
        assert_eq!(
            d.compact(0),
            r#"{"a":[{"b":[]},{}],"c":{"d":{"e":1}},"f":[[1],[2,[3]]]}"#
        );
        let f = d.get(0, "f").unwrap();
        assert_eq!(
            d.item(f, 1).map(|i| d.compact(i)).as_deref(),
            Some("[2,[3]]")
        );
        assert_eq!(d.path(0, &["c", "d", "e"]).map(|i| d.raw(i)), Some("1"));
        let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Doc::parse(ok).is_ok());
        let deep = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(Doc::parse(deep).is_err());
        for bad in [r#"{"a":[1}"#, r#"[{"a":1]"#, r#"{"a":{}]"#, "[[]"] {
            assert!(Doc::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_never_panic() {
        for bad in [
            "",
            "{",
            "[1,",
            "{\"a\" 1}",
            "[1 2]",
            "\"abc",
            "tru",
            "{\"a\":1}x",
            "-",
            "[\"\\",
            "{\"a\":[}",
        ] {
            assert!(Doc::parse(bad).is_err(), "{bad}");
        }
        let deep = "[".repeat(10_000);
        assert!(Doc::parse(deep).is_err());
    }
}
