//! `metav1.LabelSelector` as an aggregation rule's `clusterRoleSelectors` use it.
//!
//! Semantics of `LabelSelectorAsSelector`: `matchLabels` and `matchExpressions`
//! are ANDed; an empty selector (`{}`) selects everything; `In`/`NotIn` need
//! values, `Exists`/`DoesNotExist` must have none, any other operator is an
//! error. An invalid selector makes the aggregation controller fail the sync,
//! which leaves the aggregated role's rules as they were.

use palisade_model::Node;

/// One parsed label selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// Parses a selector node; the error says what the API machinery would reject.
    pub fn parse(node: &Node) -> Result<LabelSelector, String> {
        if node.is_null() {
            return Ok(LabelSelector::default());
        }
        if node.as_map().is_none() {
            return Err(format!(
                "a label selector must be an object, found {}",
                node.kind()
            ));
        }
        let mut requirements = Vec::new();
        if let Some(labels) = node.get_set("matchLabels") {
            if labels.as_map().is_none() {
                return Err("matchLabels must be an object".into());
            }
            for (k, v) in labels.entries() {
                let key = k.key_text();
                let Some(value) = v.as_str() else {
                    return Err(format!(
                        "matchLabels[{key}] must be a string, found {} (quote it)",
                        v.kind()
                    ));
                };
                validate_key(&key)?;
                validate_value(value)?;
                requirements.push(Requirement {
                    key,
                    operator: Operator::In,
                    values: vec![value.to_string()],
                });
            }
        }
        if let Some(expressions) = node.get_set("matchExpressions") {
            let Some(items) = expressions.as_seq() else {
                return Err("matchExpressions must be a list".into());
            };
            for expr in items {
                let key = expr
                    .get("key")
                    .and_then(Node::as_str)
                    .ok_or("a matchExpression needs a string `key`")?
                    .to_string();
                validate_key(&key)?;
                let op = expr.get("operator").and_then(Node::as_str).unwrap_or("");
                let mut values = Vec::new();
                for v in expr.get_set("values").map(Node::items).unwrap_or(&[]) {
                    let value = v.as_str().ok_or_else(|| {
                        format!("values of `{key}` must be strings, found {}", v.kind())
                    })?;
                    validate_value(value)?;
                    values.push(value.to_string());
                }
                let operator = match op {
                    "In" => Operator::In,
                    "NotIn" => Operator::NotIn,
                    "Exists" => Operator::Exists,
                    "DoesNotExist" => Operator::DoesNotExist,
                    other => {
                        return Err(format!("{other:?} is not a valid label selector operator"))
                    }
                };
                match operator {
                    Operator::In | Operator::NotIn if values.is_empty() => {
                        return Err(format!("operator {op} of `{key}` needs values"))
                    }
                    Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                        return Err(format!("operator {op} of `{key}` takes no values"))
                    }
                    _ => {}
                }
                requirements.push(Requirement {
                    key,
                    operator,
                    values,
                });
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// Whether an object with these labels is selected.
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |key: &str| labels.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        self.requirements.iter().all(|r| match r.operator {
            Operator::In => get(&r.key).is_some_and(|v| r.values.contains(v)),
            Operator::NotIn => get(&r.key).is_none_or(|v| !r.values.contains(v)),
            Operator::Exists => get(&r.key).is_some(),
            Operator::DoesNotExist => get(&r.key).is_none(),
        })
    }
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of at
/// most 63 characters of alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric.
fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty() && name.len() <= 63 && is_label_name(name);
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
    });
    if name_ok && prefix_ok {
        Ok(())
    } else {
        Err(format!("{key:?} is not a valid label key"))
    }
}

/// A label value: empty, or a label name of at most 63 characters.
fn validate_value(value: &str) -> Result<(), String> {
    if value.is_empty() || (value.len() <= 63 && is_label_name(value)) {
        Ok(())
    } else {
        Err(format!("{value:?} is not a valid label value"))
    }
}

fn is_label_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: &u8| b.is_ascii_alphanumeric();
    bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{load_text, LoadOptions};

    fn selector(yaml: &str) -> Result<LabelSelector, String> {
        let text = format!("apiVersion: v1\nkind: X\nmetadata: {{name: x}}\nsel: {yaml}\n");
        let loaded = load_text("t.yaml", text, &LoadOptions::default());
        let obj = &loaded.objects[0];
        LabelSelector::parse(obj.root.get("sel").expect("sel"))
    }

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let s = selector(
            "{matchLabels: {a: \"1\"}, matchExpressions: [{key: b, operator: NotIn, values: [x]}, {key: c, operator: Exists}]}",
        )
        .expect("valid");
        assert!(s.matches(&labels(&[("a", "1"), ("c", "")])));
        assert!(!s.matches(&labels(&[("a", "1"), ("b", "x"), ("c", "")])));
        assert!(s.matches(&labels(&[("a", "1"), ("b", "y"), ("c", "")])));
        assert!(!s.matches(&labels(&[("a", "1")])));
        assert!(!s.matches(&labels(&[("a", "2"), ("c", "")])));
    }

    #[test]
    fn empty_selector_selects_everything() {
        let s = selector("{}").expect("valid");
        assert!(s.matches(&[]));
    }

    #[test]
    fn invalid_selectors_are_errors() {
        assert!(selector("{matchLabels: {a: true}}").is_err());
        assert!(selector("{matchExpressions: [{key: a, operator: In}]}").is_err());
        assert!(selector("{matchExpressions: [{key: a, operator: Exists, values: [x]}]}").is_err());
        assert!(selector("{matchExpressions: [{key: a, operator: Gt, values: [\"1\"]}]}").is_err());
        assert!(selector("{matchLabels: {\"bad key!\": x}}").is_err());
        assert!(selector("[a]").is_err());
    }
}
