//! JSON values written as block YAML, for snapshots and dry-run plans.
//!
//! Deliberately small: block mappings and sequences indented by two spaces;
//! strings plain only when no YAML 1.1 or 1.2 reader could take them for
//! anything else, multi-line strings as literal blocks when that is exact,
//! everything else double-quoted with JSON's escapes (valid YAML).

use serde_json::Value as Json;

/// One YAML document (no `---`), ending with a newline.
pub fn to_string(value: &Json) -> String {
    let mut out = String::new();
    match value {
        Json::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Json::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            out.push_str(&inline(scalar, 0));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push(' ');
    }
}

/// Keys written first, in this order, as kubectl writes them; the rest sorted.
const FIRST_KEYS: [&str; 6] = [
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "spec",
];

fn ordered(map: &serde_json::Map<String, Json>) -> Vec<(&String, &Json)> {
    let mut entries: Vec<(&String, &Json)> = map.iter().collect();
    entries.sort_by_key(|(k, _)| {
        (
            FIRST_KEYS
                .iter()
                .position(|f| f == k)
                .unwrap_or(FIRST_KEYS.len()),
            k.as_str(),
        )
    });
    entries
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Json>, indent: usize) {
    let mut first = true;
    for (key, value) in ordered(map) {
        if !first {
            pad(out, indent);
        }
        first = false;
        out.push_str(&scalar_string(key));
        out.push(':');
        write_value(out, value, indent, true);
    }
}

fn write_seq(out: &mut String, items: &[Json], indent: usize) {
    let mut first = true;
    for item in items {
        if !first {
            pad(out, indent);
        }
        first = false;
        out.push('-');
        write_value(out, item, indent, false);
    }
}

/// After `key:` or `-`: a nested collection on the next lines (or, for a
/// sequence item that is a mapping, on the same line), or ` scalar`.
fn write_value(out: &mut String, value: &Json, indent: usize, in_map: bool) {
    match value {
        Json::Object(map) if !map.is_empty() => {
            if in_map {
                out.push('\n');
                pad(out, indent + 2);
            } else {
                out.push(' ');
            }
            write_map(out, map, indent + 2);
        }
        Json::Array(items) if !items.is_empty() => {
            if in_map {
                // Sequences under a key at the key's indentation, as kubectl writes them.
                out.push('\n');
                pad(out, indent);
                write_seq(out, items, indent);
            } else {
                out.push(' ');
                write_seq(out, items, indent + 2);
            }
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar, indent + 2));
            out.push('\n');
        }
    }
}

fn inline(value: &Json, indent: usize) -> String {
    match value {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => literal_block(s, indent).unwrap_or_else(|| scalar_string(s)),
        Json::Object(_) => "{}".into(),
        Json::Array(_) => "[]".into(),
    }
}

/// A multi-line string as `|` / `|-`, when that reproduces it exactly.
fn literal_block(s: &str, indent: usize) -> Option<String> {
    if !s.contains('\n') {
        return None;
    }
    let body = s.strip_suffix('\n');
    let (indicator, content) = match body {
        Some(b) if !b.ends_with('\n') => ("|", b),
        Some(_) => return None,
        None => ("|-", s),
    };
    let printable = content
        .chars()
        .all(|c| c == '\n' || (!c.is_control() && c != '\u{feff}'));
    // A first line starting with a space would need an indentation indicator;
    // trailing spaces before a line break, and lines of spaces only, are kept
    // by literal blocks but easily mangled: quote those instead.
    let awkward = content.starts_with([' ', '\t'])
        || content
            .split('\n')
            .any(|line| line.ends_with([' ', '\t']) || line.starts_with('\t'));
    if !printable || awkward || content.is_empty() {
        return None;
    }
    let mut out = String::from(indicator);
    for line in content.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(&mut out, indent);
            out.push_str(line);
        }
    }
    Some(out)
}

/// A string scalar: plain when unambiguous, else double-quoted.
pub fn scalar_string(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
    }
}

fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
    {
        return false;
    }
    const RESERVED: &[&str] = &[
        "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf",
    ];
    !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_block_yaml_with_safe_scalars() {
        let value = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "labels": {"on": "yes", "n": "1"}, "annotations": {}},
            "spec": {"containers": [{"name": "app", "args": ["-v", "a: b", ""], "ports": [{"containerPort": 80}]}]},
            "data": {"script": "line 1\nline 2\n", "raw": "no newline\nat end", "odd": "  lead\n"},
            "n": 1.5, "t": true, "z": null, "e": []
        });
        let text = to_string(&value);
        assert!(
            text.starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n"),
            "{text}"
        );
        assert!(text.contains("\"on\": \"yes\""), "{text}");
        assert!(text.contains("containers:\n  - name: app\n"), "{text}");
        assert!(
            text.contains("script: |\n    line 1\n    line 2\n"),
            "{text}"
        );
        assert!(
            text.contains("raw: |-\n    no newline\n    at end\n"),
            "{text}"
        );
        assert!(text.contains("odd: \"  lead\\n\""), "{text}");
        assert!(text.contains("- \"a: b\""), "{text}");
        assert!(text.contains("e: []"), "{text}");
        assert!(text.contains("annotations: {}"), "{text}");
    }
}
