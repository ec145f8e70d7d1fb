//! Constraint parameters against the template's `openAPIV3Schema`, as
//! Gatekeeper's constraint framework validates a Constraint (`ValidateCR`)
//! and then applies the schema's defaults (`ApplyDefaultParams`):
//!
//! - [`check`]: `type`, `nullable`, `properties`, `items`, `additionalProperties`,
//!   `enum`, `required`, numeric bounds, lengths and sizes. Formats and
//!   `pattern` are not checked.
//! - [`unknown_fields`]: fields the structural schema does not describe, which
//!   the framework rejects ("unknown fields") unless the template has
//!   `legacySchema: true`, where every object level preserves unknown fields.
//! - [`apply_defaults`]: `default` values, as the API server's structural defaulting.

use serde_json::Value as Json;

/// Problems of `value` against `schema`, each with a dotted path (`parameters.labels[0]`).
pub fn check(schema: &Json, value: &Json, path: &str, out: &mut Vec<String>) {
    walk(schema, value, path, out, 0, Walk::Problems);
}

fn type_name(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// What one walk of a value against its schema looks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Validation problems ([`check`]).
    Problems,
    /// Fields the schema does not describe ([`unknown_fields`]).
    UnknownFields,
}

fn walk(schema: &Json, value: &Json, path: &str, out: &mut Vec<String>, depth: usize, mode: Walk) {
    // Schemas and parameters are user input: stay well clear of the stack's end.
    if depth > 64 || out.len() > 50 {
        return;
    }
    let Some(schema) = schema.as_object() else {
        return;
    };
    if mode == Walk::Problems && !check_value(schema, value, path, out) {
        return;
    }
    match value {
        Json::Object(map) => {
            if mode == Walk::Problems {
                for required in schema
                    .get("required")
                    .and_then(Json::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    if let Some(key) = required.as_str() {
                        if !map.contains_key(key) {
                            out.push(format!("{path}.{key}: required"));
                        }
                    }
                }
            }
            let properties = schema.get("properties").and_then(Json::as_object);
            let additional = schema.get("additionalProperties");
            for (key, v) in map {
                let sub = properties
                    .and_then(|p| p.get(key))
                    .or_else(|| additional.filter(|a| a.is_object()));
                match sub {
                    Some(sub) => walk(sub, v, &format!("{path}.{key}"), out, depth + 1, mode),
                    None if mode == Walk::UnknownFields
                        && additional != Some(&Json::Bool(true))
                        && !preserves_unknown(schema) =>
                    {
                        out.push(format!("{path}.{key}"));
                    }
                    None => {}
                }
            }
        }
        Json::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    walk(sub, v, &format!("{path}[{i}]"), out, depth + 1, mode);
                }
            }
        }
        _ => {}
    }
}

/// The problems of `value` itself (type, enum, bounds); whether to go on to
/// its fields or items.
fn check_value(
    schema: &serde_json::Map<String, Json>,
    value: &Json,
    path: &str,
    out: &mut Vec<String>,
) -> bool {
    if preserves_unknown(schema) && schema.get("type").is_none() {
        return false;
    }
    if value.is_null() {
        // null is accepted for nullable fields and treated as absent otherwise.
        return false;
    }
    if schema
        .get("x-kubernetes-int-or-string")
        .and_then(Json::as_bool)
        == Some(true)
    {
        if !matches!(type_name(value), "integer" | "string") {
            out.push(format!(
                "{path}: expected integer or string, found {}",
                type_name(value)
            ));
        }
        return false;
    }
    if let Some(expected) = schema.get("type").and_then(Json::as_str) {
        let found = type_name(value);
        let ok = match expected {
            "number" => matches!(found, "integer" | "number"),
            other => other == found,
        };
        if !ok {
            out.push(format!("{path}: expected {expected}, found {found}"));
            return false;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Json::as_array) {
        if !options.contains(value) {
            out.push(format!(
                "{path}: {value} is not one of {}",
                Json::Array(options.clone())
            ));
        }
    }
    check_bounds(schema, value, path, out);
    true
}

/// `minimum`/`maximum` (with their `exclusive` flags), `minLength`/`maxLength`,
/// `minItems`/`maxItems` and `minProperties`/`maxProperties`.
fn check_bounds(
    schema: &serde_json::Map<String, Json>,
    value: &Json,
    path: &str,
    out: &mut Vec<String>,
) {
    let number = |key: &str| schema.get(key).and_then(Json::as_f64);
    let size = |key: &str| schema.get(key).and_then(Json::as_u64);
    let flag = |key: &str| schema.get(key).and_then(Json::as_bool) == Some(true);
    if let Some(n) = value.as_f64() {
        if let Some(min) = number("minimum") {
            if n < min || (flag("exclusiveMinimum") && n == min) {
                let op = if flag("exclusiveMinimum") { ">" } else { ">=" };
                out.push(format!("{path}: {value} must be {op} {min}"));
            }
        }
        if let Some(max) = number("maximum") {
            if n > max || (flag("exclusiveMaximum") && n == max) {
                let op = if flag("exclusiveMaximum") { "<" } else { "<=" };
                out.push(format!("{path}: {value} must be {op} {max}"));
            }
        }
    }
    let length = match value {
        // The API server counts characters, not bytes.
        Json::String(text) => Some(("minLength", "maxLength", "characters", text.chars().count())),
        Json::Array(items) => Some(("minItems", "maxItems", "items", items.len())),
        Json::Object(map) => Some(("minProperties", "maxProperties", "properties", map.len())),
        _ => None,
    };
    if let Some((min_key, max_key, unit, len)) = length {
        let len64 = u64::try_from(len).unwrap_or(u64::MAX);
        if let Some(min) = size(min_key).filter(|m| len64 < *m) {
            out.push(format!(
                "{path}: has {len} {unit}, fewer than {min_key} {min}"
            ));
        }
        if let Some(max) = size(max_key).filter(|m| len64 > *m) {
            out.push(format!(
                "{path}: has {len} {unit}, more than {max_key} {max}"
            ));
        }
    }
}

/// Whether a schema level keeps fields it does not describe.
fn preserves_unknown(schema: &serde_json::Map<String, Json>) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Json::as_bool)
        == Some(true)
}

/// The paths of fields in `value` that `schema` does not describe (structural
/// pruning would drop them; the constraint framework rejects them).
pub fn unknown_fields(schema: &Json, value: &Json, path: &str, out: &mut Vec<String>) {
    walk(schema, value, path, out, 0, Walk::UnknownFields);
}

/// Fills in `default` values where `value` lacks a field (or has `null` where
/// the schema is not `nullable`), then descends, as the API server's
/// structural defaulting does for a Constraint's parameters.
pub fn apply_defaults(schema: &Json, value: &mut Json) {
    defaults_depth(schema, value, 0);
}

fn defaults_depth(schema: &Json, value: &mut Json, depth: usize) {
    if depth > 64 {
        return;
    }
    let Some(schema) = schema.as_object() else {
        return;
    };
    match value {
        Json::Object(map) => {
            if let Some(properties) = schema.get("properties").and_then(Json::as_object) {
                for (key, sub) in properties {
                    let Some(default) = sub.get("default") else {
                        continue;
                    };
                    let nullable = sub.get("nullable").and_then(Json::as_bool) == Some(true);
                    match map.get(key) {
                        None => {
                            map.insert(key.clone(), default.clone());
                        }
                        Some(Json::Null) if !nullable => {
                            map.insert(key.clone(), default.clone());
                        }
                        Some(_) => {}
                    }
                }
                for (key, v) in map.iter_mut() {
                    if let Some(sub) = properties.get(key) {
                        defaults_depth(sub, v, depth + 1);
                    }
                }
            }
            if let Some(sub @ Json::Object(_)) = schema.get("additionalProperties") {
                let described = schema.get("properties").and_then(Json::as_object);
                for (key, v) in map.iter_mut() {
                    if described.is_none_or(|p| !p.contains_key(key)) {
                        defaults_depth(sub, v, depth + 1);
                    }
                }
            }
        }
        Json::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for v in items {
                    defaults_depth(sub, v, depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_items_and_enums() {
        let schema = json!({"type": "object", "properties": {
            "labels": {"type": "array", "items": {"type": "string"}},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "n": {"type": "number"}
        }});
        let mut out = Vec::new();
        check(
            &schema,
            &json!({"labels": ["x", 1], "mode": "c", "n": 3, "other": true}),
            "parameters",
            &mut out,
        );
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[0].contains("parameters.labels[1]: expected string, found integer"));
        assert!(out[1].contains("parameters.mode"));
    }

    #[test]
    fn bounds() {
        let schema = json!({"type": "object", "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 10, "exclusiveMaximum": true},
            "s": {"type": "string", "maxLength": 3},
            "l": {"type": "array", "minItems": 1}
        }});
        let mut out = Vec::new();
        check(
            &schema,
            &json!({"n": 10, "s": "abcd", "l": []}),
            "p",
            &mut out,
        );
        assert_eq!(
            out,
            [
                "p.l: has 0 items, fewer than minItems 1",
                "p.n: 10 must be < 10",
                "p.s: has 4 characters, more than maxLength 3"
            ]
        );
        out.clear();
        check(
            &schema,
            &json!({"n": 9, "s": "äöü", "l": [1]}),
            "p",
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn unknown_fields_are_listed_unless_preserved() {
        let schema = json!({"type": "object", "properties": {
            "labels": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"}}}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "map": {"type": "object", "additionalProperties": {"type": "string"}}
        }});
        let mut out = Vec::new();
        let value = json!({"labels": [{"key": "a", "allowedRegex": "x"}], "free": {"any": 1}, "map": {"k": "v"}, "typo": 1});
        unknown_fields(&schema, &value, "spec.parameters", &mut out);
        assert_eq!(
            out,
            [
                "spec.parameters.labels[0].allowedRegex",
                "spec.parameters.typo"
            ]
        );
    }

    #[test]
    fn the_two_walks_report_independently() {
        // A wrong type stops validation below it; the unknown-field walk still
        // looks inside, and validation does not report unknown fields.
        let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
        let value = json!({"n": {"x": 1}});
        let mut problems = Vec::new();
        check(&schema, &value, "p", &mut problems);
        assert_eq!(problems, ["p.n: expected integer, found object"]);
        let mut unknown = Vec::new();
        unknown_fields(&schema, &value, "p", &mut unknown);
        assert_eq!(unknown, ["p.n.x"]);
    }

    #[test]
    fn defaults_fill_absent_and_null_fields_then_descend() {
        let schema = json!({"type": "object", "properties": {
            "flag": {"type": "boolean", "default": true},
            "opt": {"type": "string", "nullable": true, "default": "x"},
            "items": {"type": "array", "items": {"type": "object", "properties": {"mode": {"type": "string", "default": "all"}}}},
            "nested": {"type": "object", "default": {}, "properties": {"n": {"type": "integer", "default": 3}}}
        }});
        let mut value = json!({"opt": null, "items": [{}, {"mode": "one"}]});
        apply_defaults(&schema, &mut value);
        assert_eq!(
            value,
            json!({"flag": true, "opt": null, "items": [{"mode": "all"}, {"mode": "one"}], "nested": {"n": 3}})
        );
        let mut value = json!({"flag": false});
        apply_defaults(&schema, &mut value);
        assert_eq!(value["flag"], false, "a given value is kept");
    }
}
