//! The document tree: every value remembers where it came from.
//!
//! Scalars are resolved as Kubernetes' own YAML decoder (go-yaml v2 behind
//! `sigs.k8s.io/yaml`) resolves them: plain `yes`/`on`/`y` are booleans,
//! `~` and empty are null, `0x1F` and `0755` are integers. A quoted scalar is
//! always a string, so `privileged: "true"` is a string where a boolean is
//! expected: a type error, exactly as the API server would say.

use std::fmt;

use compact_str::CompactString;

use crate::source::Span;

/// One value of a document, with its source span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// The resolved value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string. Short strings (most keys and values) are stored inline,
    /// without allocating.
    Str {
        text: CompactString,
    },
    /// Items, boxed rather than a `Vec`: the tree is built once and never grows,
    /// and the smaller node keeps a 10,000-object input well within memory.
    Seq(Box<[Node]>),
    /// Keys in source order. Duplicate keys are reported by the loader, which
    /// keeps only the last occurrence here.
    Map(Box<[(Node, Node)]>),
}

/// The shape of a value, for messages such as "expected boolean, found string".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Seq,
    Map,
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueKind::Null => "null",
            ValueKind::Bool => "boolean",
            ValueKind::Int => "integer",
            ValueKind::Float => "number",
            ValueKind::Str => "string",
            ValueKind::Seq => "list",
            ValueKind::Map => "object",
        })
    }
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node { value, span }
    }

    pub fn kind(&self) -> ValueKind {
        match &self.value {
            Value::Null => ValueKind::Null,
            Value::Bool(_) => ValueKind::Bool,
            Value::Int(_) => ValueKind::Int,
            Value::Float(_) => ValueKind::Float,
            Value::Str { .. } => ValueKind::Str,
            Value::Seq(_) => ValueKind::Seq,
            Value::Map(_) => ValueKind::Map,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The value of `key` in a mapping; `None` when absent or when `self` is no mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.is_key(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Follows a path of mapping keys. Absent or null intermediate values give `None`.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        let mut node = self;
        for key in keys {
            node = node.get(key)?;
        }
        Some(node)
    }

    /// The value of `key`, treating an explicit `null` as absent (as Go's JSON decoding does
    /// for pointer, slice and map fields).
    pub fn get_set(&self, key: &str) -> Option<&Node> {
        self.get(key).filter(|n| !n.is_null())
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            // JSON numbers such as `1000.0` decode into Go integers when integral.
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Items of a list value; empty when absent, null or not a list.
    pub fn items(&self) -> &[Node] {
        self.as_seq().unwrap_or(&[])
    }

    /// Entries of a mapping value; empty when not a mapping.
    pub fn entries(&self) -> &[(Node, Node)] {
        self.as_map().unwrap_or(&[])
    }

    /// The value rendered as Kubernetes would print it in a message (`true`, `42`, `foo`).
    pub fn display_value(&self) -> String {
        match &self.value {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str { text, .. } => text.to_string(),
            Value::Seq(_) => "[...]".to_string(),
            Value::Map(_) => "{...}".to_string(),
        }
    }

    /// Converts to JSON (for reports, policy engines and tests). Spans are dropped.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str { text, .. } => J::String(text.to_string()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    map.insert(k.key_text(), v.to_json());
                }
                J::Object(map)
            }
        }
    }

    /// Whether this node, as a mapping key, is `key` once converted to JSON.
    pub fn is_key(&self, key: &str) -> bool {
        match &self.value {
            Value::Str { text, .. } => text == key,
            Value::Bool(b) => key == if *b { "true" } else { "false" },
            Value::Null => key == "null",
            _ => self.display_value() == key,
        }
    }

    /// A mapping key as text (`true` for a boolean key, as JSON conversion does).
    pub fn key_text(&self) -> String {
        match &self.value {
            Value::Str { text, .. } => text.to_string(),
            _ => self.display_value(),
        }
    }
}

/// Resolves a plain scalar the way go-yaml v2 does (YAML 1.1 core types),
/// which is what `kubectl` and the API server's YAML path use.
pub fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Value::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Value::Int(i);
    }
    if looks_like_float(text) {
        if let Ok(f) = text.replace('_', "").parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str { text: text.into() }
}

fn parse_int(text: &str) -> Option<i64> {
    let first = text.as_bytes().first()?;
    if !(first.is_ascii_digit() || *first == b'-' || *first == b'+') {
        return None;
    }
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if body.is_empty() || body.starts_with('_') {
        return None;
    }
    let cleaned: String = body.chars().filter(|&c| c != '_').collect();
    let (digits, radix) = if let Some(hex) = cleaned.strip_prefix("0x") {
        (hex, 16)
    } else if let Some(bin) = cleaned.strip_prefix("0b") {
        (bin, 2)
    } else if let Some(oct) = cleaned.strip_prefix("0o") {
        (oct, 8)
    } else if cleaned.len() > 1 && cleaned.starts_with('0') {
        (&cleaned[1..], 8)
    } else {
        (cleaned.as_str(), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let value = if neg { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

fn looks_like_float(text: &str) -> bool {
    let body = text.trim_start_matches(['-', '+']);
    let mut digits = 0;
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' | 'e' | 'E' | '-' | '+' | '_' => {}
            _ => return false,
        }
    }
    digits > 0 && body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_stay_small() {
        // 1.7 million nodes for 10,000 objects: every byte here is 1.7 MB there.
        assert!(
            std::mem::size_of::<Node>() <= 40,
            "{}",
            std::mem::size_of::<Node>()
        );
    }

    #[test]
    fn yaml11_booleans_resolve_as_kubectl_does() {
        for t in ["yes", "Yes", "on", "ON", "y", "Y", "true", "True"] {
            assert_eq!(resolve_plain(t), Value::Bool(true), "{t}");
        }
        for t in ["no", "off", "n", "N", "false", "FALSE"] {
            assert_eq!(resolve_plain(t), Value::Bool(false), "{t}");
        }
        assert!(matches!(resolve_plain("yess"), Value::Str { .. }));
    }

    #[test]
    fn integers_and_floats() {
        assert_eq!(resolve_plain("0"), Value::Int(0));
        assert_eq!(resolve_plain("-12"), Value::Int(-12));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("0755"), Value::Int(0o755));
        assert_eq!(resolve_plain("1_000"), Value::Int(1000));
        assert_eq!(resolve_plain("1.5"), Value::Float(1.5));
        assert!(matches!(resolve_plain("1.2.3"), Value::Str { .. }));
        assert!(matches!(resolve_plain("500m"), Value::Str { .. }));
        assert_eq!(resolve_plain("08"), Value::Float(8.0)); // go-yaml v2 falls back to float
        assert_eq!(resolve_plain("99999999999999999999999"), Value::Float(1e23));
        assert_eq!(resolve_plain("~"), Value::Null);
    }
}
