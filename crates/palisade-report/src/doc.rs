//! An ordered document tree, written as JSON (through serde) or as YAML.
//!
//! `serde_json::Value` sorts keys; reports read better in a fixed, meaningful
//! order (`schemaVersion` first), so the JSON and YAML reports are built as a
//! [`Doc`] and serialized from it.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// A JSON-like value whose maps keep their insertion order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Doc {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Seq(Vec<Doc>),
    Map(Vec<(String, Doc)>),
}

impl From<&str> for Doc {
    fn from(value: &str) -> Self {
        Doc::Str(value.to_string())
    }
}

impl From<String> for Doc {
    fn from(value: String) -> Self {
        Doc::Str(value)
    }
}

impl From<bool> for Doc {
    fn from(value: bool) -> Self {
        Doc::Bool(value)
    }
}

impl From<usize> for Doc {
    fn from(value: usize) -> Self {
        Doc::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Doc {
    fn from(value: u32) -> Self {
        Doc::Int(i64::from(value))
    }
}

impl<T: Into<Doc>> From<Option<T>> for Doc {
    fn from(value: Option<T>) -> Self {
        value.map_or(Doc::Null, Into::into)
    }
}

/// Builds a [`Doc::Map`] from `key => value` pairs, in order.
macro_rules! doc_map {
    ($($key:expr => $value:expr),* $(,)?) => {
        $crate::doc::Doc::Map(vec![$(($key.to_string(), $crate::doc::Doc::from($value))),*])
    };
}
pub(crate) use doc_map;

impl Serialize for Doc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Doc::Null => serializer.serialize_unit(),
            Doc::Bool(b) => serializer.serialize_bool(*b),
            Doc::Int(i) => serializer.serialize_i64(*i),
            Doc::Str(s) => serializer.serialize_str(s),
            Doc::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Doc::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl Doc {
    /// The document as a YAML stream of one document, starting with `---`.
    pub(crate) fn to_yaml(&self) -> String {
        let mut out = String::from("---\n");
        match self {
            Doc::Map(entries) if !entries.is_empty() => write_map(&mut out, entries, 0, false),
            Doc::Seq(items) if !items.is_empty() => write_seq(&mut out, items, 0, false),
            scalar => {
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
        out
    }
}

/// A scalar or an empty collection on one line.
fn inline(doc: &Doc) -> String {
    match doc {
        Doc::Null => "null".to_string(),
        Doc::Bool(b) => b.to_string(),
        Doc::Int(i) => i.to_string(),
        Doc::Str(s) => yaml_string(s),
        Doc::Seq(_) => "[]".to_string(),
        Doc::Map(_) => "{}".to_string(),
    }
}

fn is_block(doc: &Doc) -> bool {
    match doc {
        Doc::Seq(items) => !items.is_empty(),
        Doc::Map(entries) => !entries.is_empty(),
        _ => false,
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Entries of a block mapping, each line at `indent`; with `after_dash` the
/// first entry continues the line of a sequence item's `- `.
fn write_map(out: &mut String, entries: &[(String, Doc)], indent: usize, after_dash: bool) {
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 || !after_dash {
            pad(out, indent);
        }
        out.push_str(&yaml_string(key));
        out.push(':');
        write_value(out, value, indent);
    }
}

/// Items of a block sequence, each `- ` at `indent` (see [`write_map`] for `after_dash`).
fn write_seq(out: &mut String, items: &[Doc], indent: usize, after_dash: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !after_dash {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Doc::Map(entries) if !entries.is_empty() => write_map(out, entries, indent + 2, true),
            Doc::Seq(inner) if !inner.is_empty() => write_seq(out, inner, indent + 2, true),
            scalar => {
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
    }
}

/// The value after `key:`.
fn write_value(out: &mut String, value: &Doc, indent: usize) {
    if is_block(value) {
        out.push('\n');
        match value {
            Doc::Map(entries) => write_map(out, entries, indent + 2, false),
            Doc::Seq(items) => write_seq(out, items, indent + 2, false),
            _ => {}
        }
    } else {
        out.push(' ');
        out.push_str(&inline(value));
        out.push('\n');
    }
}

/// Words that some YAML parser (1.1 or 1.2) reads as something other than a string.
const RESERVED: &[&str] = &[
    "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n",
];

/// A string as a YAML scalar: plain when no YAML 1.1 or 1.2 parser can read it
/// as anything but this string, single-quoted when that is enough, double-quoted
/// (with JSON escapes, which YAML shares) otherwise.
pub(crate) fn yaml_string(s: &str) -> String {
    if is_plain_safe(s) {
        return s.to_string();
    }
    let printable = s
        .chars()
        .all(|c| !c.is_control() && c != '\u{feff}' && !is_line_separator(c));
    if printable && !s.starts_with(' ') && !s.ends_with(' ') {
        // Single quotes keep everything literally; a quote is doubled.
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{feff}' || is_line_separator(c) => {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Plain scalars are kept to a conservative alphabet: a letter, `_` or `/`
/// first (so never a number, date, indicator or `.inf`), then letters,
/// digits, `.`, `_`, `/`, `-` and inner single spaces; never a boolean or null word.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    if s.ends_with(' ') || s.contains("  ") {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-' | ' '))
    {
        return false;
    }
    !RESERVED.iter().any(|word| s.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(yaml_string("web"), "web");
        assert_eq!(yaml_string("pss/privileged"), "pss/privileged");
        assert_eq!(yaml_string("Deployment prod/web"), "Deployment prod/web");
        assert_eq!(yaml_string("yes"), "'yes'");
        assert_eq!(yaml_string("No"), "'No'");
        assert_eq!(yaml_string("1.0"), "'1.0'");
        assert_eq!(yaml_string("0755"), "'0755'");
        assert_eq!(yaml_string(""), "''");
        assert_eq!(yaml_string("a: b"), "'a: b'");
        assert_eq!(yaml_string("it's"), "'it''s'");
        assert_eq!(yaml_string("-x"), "'-x'");
        assert_eq!(yaml_string("two\nlines"), "\"two\\nlines\"");
        assert_eq!(yaml_string(" lead"), "\" lead\"");
        assert_eq!(yaml_string("bell\u{7}"), "\"bell\\u0007\"");
    }

    #[test]
    fn blocks() {
        let doc = doc_map! {
            "a" => 1u32,
            "empty" => Doc::Seq(vec![]),
            "list" => Doc::Seq(vec![
                doc_map! { "x" => "1", "z" => Doc::Seq(vec![Doc::from("p"), Doc::Seq(vec![Doc::from(true)])]) },
                Doc::Null,
            ]),
            "m" => doc_map! { "k" => Doc::Map(vec![]) },
        };
        assert_eq!(
            doc.to_yaml(),
            "---\na: 1\nempty: []\nlist:\n  - x: '1'\n    z:\n      - p\n      - - true\n  - null\nm:\n  k: {}\n"
        );
    }
}
