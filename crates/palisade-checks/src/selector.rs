//! Kubernetes label selectors, matched exactly as the API server matches them.

use palisade_model::{string_pairs, Node};

/// One `matchExpressions` requirement.
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

/// A parsed selector. An empty selector matches everything, except where the
/// caller says otherwise (a Service without a selector selects no pods).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub match_labels: Vec<(String, String)>,
    pub expressions: Vec<Requirement>,
}

impl Selector {
    /// A `metav1.LabelSelector` (`matchLabels` and `matchExpressions`).
    /// Returns `None` for an expression with an unknown operator, which the API
    /// server would reject: such a selector matches nothing.
    pub fn from_label_selector(node: &Node) -> Option<Selector> {
        let match_labels = string_pairs(node.get("matchLabels"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut expressions = Vec::new();
        for expr in node.get("matchExpressions").map(Node::items).unwrap_or(&[]) {
            let key = expr.get("key").and_then(Node::as_str)?.to_string();
            let operator = match expr.get("operator").and_then(Node::as_str)? {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                _ => return None,
            };
            let values = expr
                .get("values")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            expressions.push(Requirement {
                key,
                operator,
                values,
            });
        }
        Some(Selector {
            match_labels,
            expressions,
        })
    }

    /// A plain map selector (`Service.spec.selector`).
    pub fn from_map(node: &Node) -> Selector {
        Selector {
            match_labels: string_pairs(Some(node))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            expressions: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.expressions.is_empty()
    }

    /// Whether a set of labels, given as a lookup function, satisfies the selector.
    pub fn matches<'l>(&self, label: impl Fn(&str) -> Option<&'l str>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| label(k) == Some(v.as_str()))
            && self.expressions.iter().all(|r| {
                let value = label(&r.key);
                match r.operator {
                    Operator::In => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
                    Operator::NotIn => value.is_none_or(|v| r.values.iter().all(|x| x != v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{load_text, LoadOptions};

    fn node(yaml: &str) -> Node {
        let loaded = load_text(
            "s.yaml",
            format!("apiVersion: v1\nkind: X\nmetadata: {{name: s}}\nsel: {yaml}\n"),
            &LoadOptions::default(),
        );
        loaded.objects[0].root.get("sel").cloned().expect("sel")
    }

    #[test]
    fn label_selector_semantics() {
        let s = Selector::from_label_selector(&node(
            "{matchLabels: {app: web}, matchExpressions: [{key: tier, operator: NotIn, values: [db]}, {key: env, operator: Exists}]}",
        ))
        .expect("valid");
        let labels = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
        };
        assert!(s.matches(labels(&[("app", "web"), ("env", "prod")])));
        assert!(!s.matches(labels(&[("app", "web"), ("env", "prod"), ("tier", "db")])));
        assert!(!s.matches(labels(&[("app", "web")])));
        assert!(Selector::from_label_selector(&node("{}"))
            .expect("valid")
            .matches(labels(&[])));
        assert!(Selector::from_label_selector(&node(
            "{matchExpressions: [{key: a, operator: Bogus}]}"
        ))
        .is_none());
    }
}
