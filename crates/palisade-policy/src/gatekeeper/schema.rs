//! A structural check of Constraint parameters against the template's
//! `openAPIV3Schema`, as the API server validates a Constraint on creation:
//! `type`, `properties`, `items`, `additionalProperties`, `enum`, `required`.
//! Formats, patterns and numeric bounds are not checked.

use serde_json::Value as Json;

/// Problems of `value` against `schema`, each with a dotted path (`parameters.labels[0]`).
pub fn check(schema: &Json, value: &Json, path: &str, out: &mut Vec<String>) {
    check_depth(schema, value, path, out, 0);
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

fn check_depth(schema: &Json, value: &Json, path: &str, out: &mut Vec<String>, depth: usize) {
    // Schemas and parameters are user input: stay well clear of the stack's end.
    if depth > 64 || out.len() > 50 {
        return;
    }
    let Some(schema) = schema.as_object() else {
        return;
    };
    if schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Json::as_bool)
        == Some(true)
        && schema.get("type").is_none()
    {
        return;
    }
    if value.is_null() {
        // null is accepted for nullable fields and treated as absent otherwise.
        return;
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
        return;
    }
    if let Some(expected) = schema.get("type").and_then(Json::as_str) {
        let found = type_name(value);
        let ok = match expected {
            "number" => matches!(found, "integer" | "number"),
            other => other == found,
        };
        if !ok {
            out.push(format!("{path}: expected {expected}, found {found}"));
            return;
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
    match value {
        Json::Object(map) => {
            let properties = schema.get("properties").and_then(Json::as_object);
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
            for (key, v) in map {
                let sub = properties
                    .and_then(|p| p.get(key))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(sub) = sub {
                    check_depth(sub, v, &format!("{path}.{key}"), out, depth + 1);
                }
            }
        }
        Json::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    check_depth(sub, v, &format!("{path}[{i}]"), out, depth + 1);
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
}
