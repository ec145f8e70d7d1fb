//! A small YAML writer for the objects Palisade generates, in the style of
//! go-yaml v2 (what `kubectl` and audit2rbac print): mapping keys sorted,
//! sequence items at their key's indentation, strings quoted only when a
//! plain scalar would read as something else.

use palisade_model::{resolve_plain, Value as YamlValue};
use serde_json::Value;

/// Appends `value` as a block at `indent`.
pub(crate) fn write(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for key in keys {
                let v = &map[key.as_str()];
                pad(out, indent);
                out.push_str(&scalar(key));
                out.push(':');
                nested(out, v, indent, true);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                pad(out, indent);
                out.push('-');
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // The first key on the dash's line, the rest below it.
                        let mut block = String::new();
                        write(&mut block, item, indent + 2);
                        out.push(' ');
                        out.push_str(block.trim_start());
                    }
                    _ => nested(out, item, indent, false),
                }
            }
        }
        other => {
            pad(out, indent);
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// The value after `key:` or `-`.
fn nested(out: &mut String, value: &Value, indent: usize, in_map: bool) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write(out, value, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            // go-yaml puts a mapping's sequence at the mapping's indentation.
            write(out, value, if in_map { indent } else { indent + 2 });
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar(s),
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
    }
}

/// A string as go-yaml v2 writes it: plain when it reads back as the same
/// string, double-quoted when it would read as another type, single-quoted
/// when it merely cannot be plain.
pub(crate) fn scalar(s: &str) -> String {
    if !matches!(resolve_plain(s), YamlValue::Str { .. }) {
        return serde_json::to_string(s).unwrap_or_default();
    }
    if s.chars().any(|c| c.is_control()) {
        return serde_json::to_string(s).unwrap_or_default();
    }
    let first = s.chars().next().unwrap_or(' ');
    let needs_quotes = "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || first.is_whitespace()
        || s.ends_with(char::is_whitespace)
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':');
    if needs_quotes {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_go_yaml() {
        let v = serde_json::json!({"b": ["", "x", "*"], "a": {"true": "true", "n": "1"}, "c": [{"k": "v", "j": ["q"]}]});
        let mut out = String::new();
        write(&mut out, &v, 0);
        assert_eq!(
            out,
            "a:\n  \"n\": \"1\"\n  \"true\": \"true\"\nb:\n- \"\"\n- x\n- '*'\nc:\n- j:\n  - q\n  k: v\n"
        );
    }
}
