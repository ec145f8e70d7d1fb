//! Kubernetes label selectors: validation, matching and their printed forms.

use std::collections::BTreeMap;

/// Labels of a pod or namespace.
pub type Labels = BTreeMap<String, String>;

/// A `metav1.LabelSelector`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<Expression>,
}

/// One `matchExpressions` item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Expression {
    pub key: String,
    pub operator: String,
    /// In source order: the printed form keeps it.
    pub values: Vec<String>,
}

/// A validated selector requirement (`labels.Requirement`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Requirement {
    pub key: String,
    pub op: Op,
    /// Sorted and deduplicated, as the Kubernetes library keeps them.
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Equals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// No `matchLabels` and no `matchExpressions` (protobuf size 0): matches everything.
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// The validated requirements, sorted by key (as `LabelSelectorAsSelector`).
    pub fn requirements(&self) -> Result<Vec<Requirement>, String> {
        let mut reqs = Vec::with_capacity(self.match_labels.len() + self.match_expressions.len());
        for (k, v) in &self.match_labels {
            reqs.push(new_requirement(k, Op::Equals, std::slice::from_ref(v))?);
        }
        for e in &self.match_expressions {
            let op = match e.operator.as_str() {
                "In" => Op::In,
                "NotIn" => Op::NotIn,
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                other => return Err(format!("{other:?} is not a valid label selector operator")),
            };
            reqs.push(new_requirement(&e.key, op, &e.values)?);
        }
        // A stable sort by key, as the Kubernetes selector keeps its requirements.
        reqs.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(reqs)
    }

    /// Whether the selector matches `labels`. Errors on an invalid selector.
    /// Validates and matches in one pass, without allocating: this runs for
    /// every policy and workload class.
    pub fn matches(&self, labels: &Labels) -> Result<bool, String> {
        let mut all = true;
        for (k, v) in &self.match_labels {
            validate_label_key(k)?;
            validate_label_value(k, v)?;
            all = all && labels.get(k) == Some(v);
        }
        for e in &self.match_expressions {
            validate_label_key(&e.key)?;
            for v in &e.values {
                validate_label_value(&e.key, v)?;
            }
            let value = labels.get(&e.key);
            let m = match e.operator.as_str() {
                "In" | "NotIn" if e.values.is_empty() => {
                    return Err("for 'in', 'notin' operators, values set can't be empty".to_string())
                }
                "Exists" | "DoesNotExist" if !e.values.is_empty() => {
                    return Err("values set must be empty for exists and does not exist".to_string())
                }
                "In" => value.is_some_and(|v| e.values.iter().any(|x| x == v)),
                "NotIn" => value.is_none_or(|v| !e.values.iter().any(|x| x == v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                other => return Err(format!("{other:?} is not a valid label selector operator")),
            };
            all = all && m;
        }
        Ok(all)
    }

    /// `matchLabels` as `k=v,k2=v2` then each expression as Go prints the
    /// `LabelSelectorRequirement` struct, sorted (netpol-analyzer's exposure names).
    pub fn display(&self) -> String {
        let mut res = self
            .match_labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        if !self.match_expressions.is_empty() {
            let mut exprs: Vec<String> = self
                .match_expressions
                .iter()
                .map(Expression::go_struct_string)
                .collect();
            exprs.sort();
            if !res.is_empty() {
                res.push(',');
            }
            res.push_str(&exprs.join(","));
        }
        res
    }
}

impl Expression {
    /// `{Key:app,Operator:In,Values:[a b],}`: the protobuf `String()` without its type prefix.
    pub fn go_struct_string(&self) -> String {
        format!(
            "{{Key:{},Operator:{},Values:[{}],}}",
            self.key,
            self.operator,
            self.values.join(" ")
        )
    }
}

impl Requirement {
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.op {
            Op::Equals | Op::In => value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            Op::NotIn => value.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
        }
    }

    /// The requirement as `labels.Requirement.String()` prints it, with a
    /// single-valued `in` written as `=` (netpol-analyzer compares selectors that way).
    pub fn canonical_string(&self) -> String {
        match self.op {
            Op::Equals => format!("{}={}", self.key, self.values.join(",")),
            Op::In if self.values.len() == 1 => format!("{}={}", self.key, self.values[0]),
            Op::In => format!("{} in ({})", self.key, self.values.join(",")),
            Op::NotIn => format!("{} notin ({})", self.key, self.values.join(",")),
            Op::Exists => self.key.clone(),
            Op::DoesNotExist => format!("!{}", self.key),
        }
    }
}

fn new_requirement(key: &str, op: Op, values: &[String]) -> Result<Requirement, String> {
    validate_label_key(key)?;
    match op {
        Op::In | Op::NotIn if values.is_empty() => {
            return Err("for 'in', 'notin' operators, values set can't be empty".to_string())
        }
        Op::Equals if values.len() != 1 => {
            return Err("exact-match compatibility requires one single value".to_string())
        }
        Op::Exists | Op::DoesNotExist if !values.is_empty() => {
            return Err("values set must be empty for exists and does not exist".to_string())
        }
        _ => {}
    }
    for v in values {
        validate_label_value(key, v)?;
    }
    let mut sorted: Vec<String> = values.to_vec();
    sorted.sort();
    sorted.dedup();
    Ok(Requirement {
        key: key.to_string(),
        op,
        values: sorted,
    })
}

fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

/// A qualified name: `[prefix/]name`.
pub fn validate_label_key(key: &str) -> Result<(), String> {
    let ok = match key.split_once('/') {
        Some((prefix, name)) => {
            !name.contains('/') && is_dns_subdomain(prefix) && is_name_part(name)
        }
        None => is_name_part(key),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "key: Invalid value: {key:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

pub fn validate_label_value(key: &str, value: &str) -> Result<(), String> {
    if value.is_empty() || is_name_part(value) {
        Ok(())
    } else {
        Err(format!(
            "values[0][{key}]: Invalid value: {value:?}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

/// netpol-analyzer's `SelectorsFullMatch`: whether a rule selector selects
/// exactly the pods a representative peer's selector stands for. `None` is a
/// selector that was not given (it selects nothing).
pub fn selectors_full_match(
    rule: Option<&LabelSelector>,
    rep: Option<&LabelSelector>,
) -> Result<bool, String> {
    if rule == rep {
        return Ok(true);
    }
    let rule_reqs = match rule {
        None => Vec::new(),
        Some(sel) if sel.is_empty() => return Ok(true),
        Some(sel) => sel.requirements()?,
    };
    let rep_reqs = match rep {
        None => Vec::new(),
        Some(sel) => sel.requirements()?,
    };
    if rule_reqs.len() != rep_reqs.len() {
        return Ok(false);
    }
    Ok(rule_reqs
        .iter()
        .zip(rep_reqs.iter())
        .all(|(a, b)| a.canonical_string() == b.canonical_string()))
}

/// A key identifying what a selector selects (requirements in canonical form).
pub fn selector_key(sel: Option<&LabelSelector>) -> Result<String, String> {
    match sel {
        None => Ok(String::new()),
        Some(sel) => Ok(sel
            .requirements()?
            .iter()
            .map(Requirement::canonical_string)
            .collect::<String>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn matching() {
        let sel = LabelSelector {
            match_labels: [("app".to_string(), "web".to_string())].into(),
            match_expressions: vec![Expression {
                key: "tier".into(),
                operator: "NotIn".into(),
                values: vec!["db".into()],
            }],
        };
        assert!(sel.matches(&labels(&[("app", "web")])).unwrap());
        assert!(sel
            .matches(&labels(&[("app", "web"), ("tier", "fe")]))
            .unwrap());
        assert!(!sel
            .matches(&labels(&[("app", "web"), ("tier", "db")]))
            .unwrap());
        assert!(!sel.matches(&labels(&[("app", "api")])).unwrap());
        assert!(LabelSelector::default().matches(&labels(&[])).unwrap());
    }

    #[test]
    fn validation() {
        let bad_op = LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![Expression {
                key: "a".into(),
                operator: "Equals".into(),
                values: vec![],
            }],
        };
        assert!(bad_op.requirements().is_err());
        let empty_in = LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![Expression {
                key: "a".into(),
                operator: "In".into(),
                values: vec![],
            }],
        };
        assert!(empty_in.requirements().is_err());
        assert!(validate_label_key("app.kubernetes.io/name").is_ok());
        assert!(validate_label_key("-bad").is_err());
        assert!(validate_label_value("k", "with space").is_err());
    }

    #[test]
    fn display_forms() {
        let sel = LabelSelector {
            match_labels: [
                ("b".to_string(), "2".to_string()),
                ("a".to_string(), "1".to_string()),
            ]
            .into(),
            match_expressions: vec![Expression {
                key: "role".into(),
                operator: "In".into(),
                values: vec!["x".into(), "a".into()],
            }],
        };
        assert_eq!(
            sel.display(),
            "a=1,b=2,{Key:role,Operator:In,Values:[x a],}"
        );
    }

    #[test]
    fn full_match_treats_single_in_as_equals() {
        let a = LabelSelector {
            match_labels: [("app".to_string(), "x".to_string())].into(),
            match_expressions: vec![],
        };
        let b = LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![Expression {
                key: "app".into(),
                operator: "In".into(),
                values: vec!["x".into()],
            }],
        };
        assert!(selectors_full_match(Some(&a), Some(&b)).unwrap());
        assert!(selectors_full_match(Some(&LabelSelector::default()), None).unwrap());
        assert!(!selectors_full_match(Some(&a), None).unwrap());
    }
}
