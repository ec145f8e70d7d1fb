//! Kubernetes label selectors as netpol-analyzer handles them: kept as
//! written, validated and matched lazily (an invalid selector is an error of
//! the analysis, raised when a policy using it is evaluated), and printed in
//! netpol-analyzer's forms.
//!
//! The semantics (operators, value counts, key and value syntax) are
//! [`palisade_model::selector`]'s; this module only keeps the written form.

use std::collections::BTreeMap;

use palisade_model::selector::Operator;
pub use palisade_model::selector::{validate_label_key, validate_label_value};

/// Labels of a pod or namespace.
pub type Labels = BTreeMap<String, String>;

/// A `metav1.LabelSelector` as written: the operators are not checked until
/// the selector is used.
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

/// The operator of a [`Requirement`]: `=` for a `matchLabels` entry, or an
/// expression's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Equals,
    Expression(Operator),
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
            reqs.push(new_requirement(
                &e.key,
                Op::Expression(e.operator()?),
                &e.values,
            )?);
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
            let operator = e.operator()?;
            operator.check_values(e.values.len())?;
            all = all && operator.matches(&e.values, labels.get(&e.key).map(String::as_str));
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
    /// The operator; an error for one the API server does not know.
    pub fn operator(&self) -> Result<Operator, String> {
        Operator::parse(&self.operator)
            .ok_or_else(|| format!("{:?} is not a valid label selector operator", self.operator))
    }

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
    /// The requirement as `labels.Requirement.String()` prints it, with a
    /// single-valued `in` written as `=` (netpol-analyzer compares selectors that way).
    pub fn canonical_string(&self) -> String {
        match self.op {
            Op::Equals => format!("{}={}", self.key, self.values.join(",")),
            Op::Expression(Operator::In) if self.values.len() == 1 => {
                format!("{}={}", self.key, self.values[0])
            }
            Op::Expression(Operator::In) => format!("{} in ({})", self.key, self.values.join(",")),
            Op::Expression(Operator::NotIn) => {
                format!("{} notin ({})", self.key, self.values.join(","))
            }
            Op::Expression(Operator::Exists) => self.key.clone(),
            Op::Expression(Operator::DoesNotExist) => format!("!{}", self.key),
        }
    }
}

/// `labels.NewRequirement`: validates the key, the value count and the values.
fn new_requirement(key: &str, op: Op, values: &[String]) -> Result<Requirement, String> {
    validate_label_key(key)?;
    match op {
        Op::Equals if values.len() != 1 => {
            return Err("exact-match compatibility requires one single value".to_string())
        }
        Op::Equals => {}
        Op::Expression(operator) => operator.check_values(values.len())?,
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
