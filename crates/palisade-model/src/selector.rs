//! Kubernetes label selectors (`metav1.LabelSelector`), parsed and matched
//! exactly as apimachinery's `LabelSelectorAsSelector` and `labels.Selector` do.
//!
//! Every analyzer selects objects by labels (NetworkPolicy peers, Services,
//! PodDisruptionBudgets, Gatekeeper and VAP match criteria, RBAC aggregation),
//! so the semantics live here, once:
//!
//! - `matchLabels` and every `matchExpressions` requirement are ANDed;
//! - `In` holds when the label is present with one of the values, `NotIn` when
//!   it is absent or has none of them, `Exists` when it is present,
//!   `DoesNotExist` when it is absent;
//! - `In`/`NotIn` need at least one value, `Exists`/`DoesNotExist` take none,
//!   any other operator is an error;
//! - an empty selector (`{}`) selects everything.
//!
//! What a *missing* or `null` selector means differs by field (a NetworkPolicy
//! peer's absent `namespaceSelector` is "own namespace", an absent VAP
//! `objectSelector` is "everything"...), so that stays with each caller.
//!
//! Parsing checks structure, operators and value counts. The syntax of keys and
//! values (qualified names, label values) is checked separately by
//! [`LabelSelector::validate_syntax`], for the callers that reproduce a
//! component which validates it.
//!
//! ```
//! use palisade_model::selector::LabelSelector;
//! use serde_json::json;
//!
//! let selector = LabelSelector::from_json(&json!({
//!     "matchLabels": {"app": "web"},
//!     "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
//! }))
//! .unwrap();
//! assert!(selector.matches(&json!({"app": "web"})));
//! assert!(!selector.matches(&json!({"app": "web", "tier": "db"})));
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::Value as Json;

use crate::names::is_dns1123_subdomain;
use crate::node::{Node, ValueKind};
use crate::source::Span;

/// A `matchExpressions` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Operator {
    /// The operator spelled as in a manifest (`In`, `NotIn`, `Exists`,
    /// `DoesNotExist`); `None` for anything else, which the API server rejects.
    pub fn parse(text: &str) -> Option<Operator> {
        match text {
            "In" => Some(Operator::In),
            "NotIn" => Some(Operator::NotIn),
            "Exists" => Some(Operator::Exists),
            "DoesNotExist" => Some(Operator::DoesNotExist),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "In",
            Operator::NotIn => "NotIn",
            Operator::Exists => "Exists",
            Operator::DoesNotExist => "DoesNotExist",
        }
    }

    /// Whether `values` is an acceptable value list for this operator; the
    /// error is apimachinery's `NewRequirement` message.
    pub fn check_values(self, count: usize) -> Result<(), &'static str> {
        match self {
            Operator::In | Operator::NotIn if count == 0 => {
                Err("for 'in', 'notin' operators, values set can't be empty")
            }
            Operator::Exists | Operator::DoesNotExist if count != 0 => {
                Err("values set must be empty for exists and does not exist")
            }
            _ => Ok(()),
        }
    }

    /// Whether a label's value (`None` when the label is absent) satisfies
    /// `operator values`. Generic over the value type so callers that keep
    /// their own requirement form share these semantics without copying.
    pub fn matches<V: AsRef<str>>(self, values: &[V], label: Option<&str>) -> bool {
        let listed = |v: &str| values.iter().any(|x| x.as_ref() == v);
        match self {
            Operator::In => label.is_some_and(listed),
            Operator::NotIn => label.is_none_or(|v| !listed(v)),
            Operator::Exists => label.is_some(),
            Operator::DoesNotExist => label.is_none(),
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `matchExpressions` requirement, with a value count valid for its operator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    /// In source order.
    pub values: Vec<String>,
}

impl Requirement {
    /// A requirement; errors (with apimachinery's message) when the value
    /// count does not fit the operator.
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Requirement, &'static str> {
        operator.check_values(values.len())?;
        Ok(Requirement {
            key: key.into(),
            operator,
            values,
        })
    }

    /// Whether a label's value (`None` when absent) satisfies the requirement.
    pub fn matches(&self, label: Option<&str>) -> bool {
        self.operator.matches(&self.values, label)
    }
}

/// A parsed `metav1.LabelSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    /// `matchLabels`, in source order (keys are unique: the loader and JSON
    /// keep the last of duplicate keys, as Go's decoder does).
    pub match_labels: Vec<(String, String)>,
    pub match_expressions: Vec<Requirement>,
}

/// Labels a selector can be matched against, read in place.
pub trait LabelLookup {
    /// The value of label `key`, `None` when the object has no such label.
    fn label(&self, key: &str) -> Option<&str>;
}

impl LabelLookup for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl<S: std::hash::BuildHasher> LabelLookup for HashMap<String, String, S> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl LabelLookup for [(String, String)] {
    fn label(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

impl LabelLookup for Vec<(String, String)> {
    fn label(&self, key: &str) -> Option<&str> {
        self.as_slice().label(key)
    }
}

/// A JSON object of labels; a non-string value counts as absent.
impl LabelLookup for Json {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Json::as_str)
    }
}

/// A mapping node of labels (`metadata.labels`); a non-string value counts as absent.
impl LabelLookup for Node {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }
}

/// Why a selector is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectorErrorKind {
    /// A field has the wrong type (the API server cannot decode it).
    Type,
    /// A requirement without a key.
    MissingKey,
    /// An operator other than `In`, `NotIn`, `Exists`, `DoesNotExist`.
    UnknownOperator,
    /// `In`/`NotIn` without values, or `Exists`/`DoesNotExist` with values.
    Values,
}

/// An invalid selector: what is wrong and, when parsed from a [`Node`], where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError {
    pub kind: SelectorErrorKind,
    pub message: String,
    /// The offending node (the requirement for a value-count error); `None`
    /// when parsed from JSON, which has no positions.
    pub span: Option<Span>,
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SelectorError {}

impl SelectorError {
    fn new(kind: SelectorErrorKind, message: String, span: Option<Span>) -> Self {
        SelectorError {
            kind,
            message,
            span,
        }
    }
}

/// A view of a document value the parser needs, implemented for [`Node`] and
/// JSON so that both are read by the same code.
trait Doc: Sized {
    fn span(&self) -> Option<Span>;
    fn kind_name(&self) -> ValueKind;
    fn is_null(&self) -> bool;
    fn is_map(&self) -> bool;
    fn field(&self, key: &str) -> Option<&Self>;
    fn text(&self) -> Option<&str>;
    fn list(&self) -> Option<&[Self]>;
    /// Calls `f` with each entry of a mapping; `false` when this is no mapping.
    fn for_each_entry(
        &self,
        f: impl FnMut(String, &Self) -> Result<(), SelectorError>,
    ) -> Result<bool, SelectorError>;
}

impl Doc for Node {
    fn span(&self) -> Option<Span> {
        Some(self.span)
    }
    fn kind_name(&self) -> ValueKind {
        self.kind()
    }
    fn is_null(&self) -> bool {
        Node::is_null(self)
    }
    fn is_map(&self) -> bool {
        self.as_map().is_some()
    }
    fn field(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }
    fn text(&self) -> Option<&str> {
        self.as_str()
    }
    fn list(&self) -> Option<&[Self]> {
        self.as_seq()
    }
    fn for_each_entry(
        &self,
        mut f: impl FnMut(String, &Self) -> Result<(), SelectorError>,
    ) -> Result<bool, SelectorError> {
        let Some(entries) = self.as_map() else {
            return Ok(false);
        };
        for (k, v) in entries {
            f(k.key_text(), v)?;
        }
        Ok(true)
    }
}

impl Doc for Json {
    fn span(&self) -> Option<Span> {
        None
    }
    fn kind_name(&self) -> ValueKind {
        match self {
            Json::Null => ValueKind::Null,
            Json::Bool(_) => ValueKind::Bool,
            Json::Number(n) if n.is_f64() => ValueKind::Float,
            Json::Number(_) => ValueKind::Int,
            Json::String(_) => ValueKind::Str,
            Json::Array(_) => ValueKind::Seq,
            Json::Object(_) => ValueKind::Map,
        }
    }
    fn is_null(&self) -> bool {
        Json::is_null(self)
    }
    fn is_map(&self) -> bool {
        self.is_object()
    }
    fn field(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }
    fn text(&self) -> Option<&str> {
        self.as_str()
    }
    fn list(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }
    fn for_each_entry(
        &self,
        mut f: impl FnMut(String, &Self) -> Result<(), SelectorError>,
    ) -> Result<bool, SelectorError> {
        let Some(entries) = self.as_object() else {
            return Ok(false);
        };
        for (k, v) in entries {
            f(k.clone(), v)?;
        }
        Ok(true)
    }
}

fn type_error<D: Doc>(what: &str, expected: &str, found: &D) -> SelectorError {
    let hint = match found.kind_name() {
        ValueKind::Bool | ValueKind::Int | ValueKind::Float if expected == "a string" => {
            " (quote it)"
        }
        _ => "",
    };
    SelectorError::new(
        SelectorErrorKind::Type,
        format!(
            "{what} must be {expected}, found {}{hint}",
            found.kind_name()
        ),
        found.span(),
    )
}

/// A string field as Go decodes it: `null` is the empty string.
fn string_of<D: Doc>(node: &D, what: &str) -> Result<String, SelectorError> {
    if node.is_null() {
        return Ok(String::new());
    }
    node.text()
        .map(str::to_string)
        .ok_or_else(|| type_error(what, "a string", node))
}

/// A field that may be absent or `null` (Go's nil).
fn set_field<'d, D: Doc>(node: &'d D, key: &str) -> Option<&'d D> {
    node.field(key).filter(|n| !n.is_null())
}

fn parse<D: Doc>(node: &D) -> Result<LabelSelector, SelectorError> {
    let mut selector = LabelSelector::default();
    if !node.is_map() {
        return Err(type_error("a label selector", "an object", node));
    }
    if let Some(labels) = set_field(node, "matchLabels") {
        let is_map = labels.for_each_entry(|key, value| {
            let value = string_of(value, &format!("matchLabels[{key}]"))?;
            selector.match_labels.push((key, value));
            Ok(())
        })?;
        if !is_map {
            return Err(type_error("matchLabels", "an object", labels));
        }
    }
    if let Some(expressions) = set_field(node, "matchExpressions") {
        let items = expressions
            .list()
            .ok_or_else(|| type_error("matchExpressions", "a list", expressions))?;
        for (i, expression) in items.iter().enumerate() {
            selector
                .match_expressions
                .push(parse_requirement(expression, i)?);
        }
    }
    Ok(selector)
}

fn parse_requirement<D: Doc>(expression: &D, index: usize) -> Result<Requirement, SelectorError> {
    let what = format!("matchExpressions[{index}]");
    if !expression.is_map() {
        return Err(type_error(&what, "an object", expression));
    }
    let key = match expression.field("key") {
        Some(k) => string_of(k, &format!("{what}.key"))?,
        None => String::new(),
    };
    if key.is_empty() {
        return Err(SelectorError::new(
            SelectorErrorKind::MissingKey,
            format!("{what} has no key"),
            expression.span(),
        ));
    }
    let operator_node = expression.field("operator");
    let operator_text = match operator_node {
        Some(op) => string_of(op, &format!("{what}.operator"))?,
        None => String::new(),
    };
    let Some(operator) = Operator::parse(&operator_text) else {
        return Err(SelectorError::new(
            SelectorErrorKind::UnknownOperator,
            format!("{operator_text:?} is not a valid label selector operator"),
            operator_node.map_or(expression.span(), Doc::span),
        ));
    };
    let mut values = Vec::new();
    if let Some(list) = set_field(expression, "values") {
        let items = list
            .list()
            .ok_or_else(|| type_error(&format!("{what}.values"), "a list", list))?;
        for (j, v) in items.iter().enumerate() {
            values.push(string_of(v, &format!("{what}.values[{j}]"))?);
        }
    }
    Requirement::new(key, operator, values).map_err(|message| {
        SelectorError::new(
            SelectorErrorKind::Values,
            format!("{what}: {message}"),
            expression.span(),
        )
    })
}

impl LabelSelector {
    /// No `matchLabels` and no `matchExpressions`: selects everything.
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// A selector of `matchLabels` only (a Service's or ReplicationController's
    /// plain `selector` map).
    pub fn from_match_labels(match_labels: Vec<(String, String)>) -> LabelSelector {
        LabelSelector {
            match_labels,
            match_expressions: Vec::new(),
        }
    }

    /// Parses a selector mapping. The caller decides what an absent or `null`
    /// selector means; here `null` is an error like any non-object. A `null`
    /// `matchLabels` value or list item is the empty string, as Go decodes it.
    pub fn from_node(node: &Node) -> Result<LabelSelector, SelectorError> {
        parse(node)
    }

    /// Parses a selector from JSON, with the same rules as [`Self::from_node`]
    /// (errors carry no position).
    pub fn from_json(value: &Json) -> Result<LabelSelector, SelectorError> {
        parse(value)
    }

    /// Whether labels satisfy the selector. Does not allocate.
    pub fn matches<L: LabelLookup + ?Sized>(&self, labels: &L) -> bool {
        self.matches_with(|key| labels.label(key))
    }

    /// Whether the labels given by a lookup function satisfy the selector.
    pub fn matches_with<'l>(&self, label: impl Fn(&str) -> Option<&'l str>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| label(k) == Some(v.as_str()))
            && self
                .match_expressions
                .iter()
                .all(|r| r.matches(label(&r.key)))
    }

    /// Checks every key is a qualified name and every value a valid label
    /// value, as apimachinery's `NewRequirement` does (keys and values in
    /// source order, `matchLabels` first).
    pub fn validate_syntax(&self) -> Result<(), String> {
        for (k, v) in &self.match_labels {
            validate_label_key(k)?;
            validate_label_value(k, v)?;
        }
        for r in &self.match_expressions {
            validate_label_key(&r.key)?;
            for v in &r.values {
                validate_label_value(&r.key, v)?;
            }
        }
        Ok(())
    }
}

const NAME_MAX_LENGTH: usize = 63;

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters: the
/// name part of a qualified name, and a non-empty label value.
fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= NAME_MAX_LENGTH
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Checks a label key is a qualified name: `[prefix/]name`, the prefix an
/// RFC 1123 subdomain (`IsQualifiedName`).
pub fn validate_label_key(key: &str) -> Result<(), String> {
    let ok = match key.split_once('/') {
        Some((prefix, name)) => {
            !name.contains('/') && is_dns1123_subdomain(prefix) && is_qualified_name_part(name)
        }
        None => is_qualified_name_part(key),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "key: Invalid value: {key:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

/// Checks a label value: empty, or at most 63 characters of alphanumerics,
/// `-`, `_`, `.`, starting and ending alphanumeric (`IsValidLabelValue`).
pub fn validate_label_value(key: &str, value: &str) -> Result<(), String> {
    if value.is_empty() || is_qualified_name_part(value) {
        Ok(())
    } else {
        Err(format!(
            "values[0][{key}]: Invalid value: {value:?}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_text, LoadOptions, Pos};
    use serde_json::json;

    /// The node of `sel:` in a one-object document; the selector text starts
    /// on line 4, column 6.
    fn node(yaml: &str) -> Node {
        let loaded = load_text(
            "s.yaml",
            format!("apiVersion: v1\nkind: X\nmetadata: {{name: s}}\nsel: {yaml}\n"),
            &LoadOptions::default(),
        );
        loaded.objects[0].root.get("sel").cloned().expect("sel")
    }

    fn parse_yaml(yaml: &str) -> Result<LabelSelector, SelectorError> {
        LabelSelector::from_node(&node(yaml))
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expression(op: &str, values: &str) -> LabelSelector {
        parse_yaml(&format!(
            "{{matchExpressions: [{{key: k, operator: {op}, values: {values}}}]}}"
        ))
        .expect("valid")
    }

    #[test]
    fn in_needs_the_label_with_a_listed_value() {
        let s = expression("In", "[a, b]");
        assert!(s.matches(&labels(&[("k", "a")])));
        assert!(s.matches(&labels(&[("k", "b")])));
        assert!(!s.matches(&labels(&[("k", "c")])));
        assert!(!s.matches(&labels(&[("k", "")])));
        assert!(!s.matches(&labels(&[])));
        assert!(!s.matches(&labels(&[("other", "a")])));
    }

    #[test]
    fn not_in_holds_when_absent_or_unlisted() {
        let s = expression("NotIn", "[a, b]");
        assert!(!s.matches(&labels(&[("k", "a")])));
        assert!(!s.matches(&labels(&[("k", "b")])));
        assert!(s.matches(&labels(&[("k", "c")])));
        assert!(s.matches(&labels(&[])));
    }

    #[test]
    fn exists_and_does_not_exist_look_at_presence_only() {
        let exists = expression("Exists", "[]");
        let absent = expression("DoesNotExist", "null");
        for present in [labels(&[("k", "")]), labels(&[("k", "x")])] {
            assert!(exists.matches(&present));
            assert!(!absent.matches(&present));
        }
        assert!(!exists.matches(&labels(&[("j", "x")])));
        assert!(absent.matches(&labels(&[("j", "x")])));
    }

    #[test]
    fn match_labels_need_equal_values_and_empty_values_are_values() {
        let s = parse_yaml("{matchLabels: {app: web, empty: ''}}").expect("valid");
        assert_eq!(
            s.match_labels,
            vec![("app".into(), "web".into()), ("empty".into(), "".into())]
        );
        assert!(s.matches(&labels(&[("app", "web"), ("empty", "")])));
        assert!(!s.matches(&labels(&[("app", "web")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("empty", "x")])));
        assert!(!s.matches(&labels(&[("app", "api"), ("empty", "")])));
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let s = parse_yaml(
            "{matchLabels: {app: web}, matchExpressions: [{key: tier, operator: NotIn, values: [db]}, {key: env, operator: Exists}, {key: tier, operator: In, values: [fe, db]}]}",
        )
        .expect("valid");
        assert!(s.matches(&labels(&[("app", "web"), ("env", "p"), ("tier", "fe")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("env", "p"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("env", "p")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "fe")])));
        assert!(!s.matches(&labels(&[("env", "p"), ("tier", "fe")])));
    }

    #[test]
    fn empty_selectors_select_everything() {
        for yaml in [
            "{}",
            "{matchLabels: {}}",
            "{matchExpressions: []}",
            "{matchLabels: null, matchExpressions: null}",
        ] {
            let s = parse_yaml(yaml).expect("valid");
            assert!(s.is_empty(), "{yaml}");
            assert!(s.matches(&labels(&[])), "{yaml}");
            assert!(s.matches(&labels(&[("a", "b")])), "{yaml}");
        }
        assert!(LabelSelector::default().matches(&labels(&[])));
    }

    #[test]
    fn null_strings_decode_as_empty_strings() {
        let s = parse_yaml("{matchLabels: {a: null}}").expect("valid");
        assert_eq!(s.match_labels, vec![("a".into(), String::new())]);
        let s = parse_yaml("{matchExpressions: [{key: a, operator: In, values: [null]}]}")
            .expect("valid");
        assert_eq!(s.match_expressions[0].values, vec![String::new()]);
    }

    #[test]
    fn invalid_operators_and_value_counts_are_errors() {
        let cases = [
            (
                "{matchExpressions: [{key: a, operator: Bogus}]}",
                SelectorErrorKind::UnknownOperator,
            ),
            (
                "{matchExpressions: [{key: a, operator: in, values: [x]}]}",
                SelectorErrorKind::UnknownOperator,
            ),
            (
                "{matchExpressions: [{key: a}]}",
                SelectorErrorKind::UnknownOperator,
            ),
            (
                "{matchExpressions: [{key: a, operator: In}]}",
                SelectorErrorKind::Values,
            ),
            (
                "{matchExpressions: [{key: a, operator: NotIn, values: []}]}",
                SelectorErrorKind::Values,
            ),
            (
                "{matchExpressions: [{key: a, operator: Exists, values: [x]}]}",
                SelectorErrorKind::Values,
            ),
            (
                "{matchExpressions: [{key: a, operator: DoesNotExist, values: [x]}]}",
                SelectorErrorKind::Values,
            ),
            (
                "{matchExpressions: [{operator: Exists}]}",
                SelectorErrorKind::MissingKey,
            ),
            (
                "{matchExpressions: [{key: '', operator: Exists}]}",
                SelectorErrorKind::MissingKey,
            ),
            ("{matchLabels: {a: true}}", SelectorErrorKind::Type),
            ("{matchLabels: {a: 1}}", SelectorErrorKind::Type),
            ("{matchLabels: [a]}", SelectorErrorKind::Type),
            ("{matchExpressions: {key: a}}", SelectorErrorKind::Type),
            ("{matchExpressions: [a]}", SelectorErrorKind::Type),
            (
                "{matchExpressions: [{key: a, operator: In, values: [1]}]}",
                SelectorErrorKind::Type,
            ),
            (
                "{matchExpressions: [{key: a, operator: In, values: x}]}",
                SelectorErrorKind::Type,
            ),
            ("[a]", SelectorErrorKind::Type),
            ("null", SelectorErrorKind::Type),
        ];
        for (yaml, kind) in cases {
            let err = parse_yaml(yaml).expect_err(yaml);
            assert_eq!(err.kind, kind, "{yaml}: {err}");
            assert!(err.span.is_some(), "{yaml}");
        }
        assert_eq!(
            parse_yaml("{matchExpressions: [{key: a, operator: Gt, values: ['1']}]}")
                .expect_err("Gt")
                .message,
            "\"Gt\" is not a valid label selector operator"
        );
        assert_eq!(
            parse_yaml("{matchExpressions: [{key: a, operator: In}]}")
                .expect_err("In")
                .message,
            "matchExpressions[0]: for 'in', 'notin' operators, values set can't be empty"
        );
        assert_eq!(
            parse_yaml("{matchLabels: {a: true}}")
                .expect_err("bool")
                .message,
            "matchLabels[a] must be a string, found boolean (quote it)"
        );
    }

    #[test]
    fn errors_point_at_the_offending_node() {
        let pos = |line, column| Some(Pos::new(line, column));
        let at = |yaml: &str| parse_yaml(yaml).expect_err(yaml).span.map(|s| s.start);
        // The selector starts at line 4, column 6.
        assert_eq!(at("[a]"), pos(4, 6));
        assert_eq!(at("{matchLabels: {a: true}}"), pos(4, 24));
        // An unknown operator: the operator itself.
        assert_eq!(
            at("{matchExpressions: [{key: a, operator: Bogus}]}"),
            pos(4, 45)
        );
        // A value count: the requirement.
        assert_eq!(
            at("{matchExpressions: [{key: b, operator: In}]}"),
            pos(4, 26)
        );
        let multiline = LabelSelector::from_node(&node(
            "\n  matchExpressions:\n  - key: a\n    operator: Exists\n  - key: b\n    operator: In\n",
        ))
        .expect_err("multi-line");
        assert_eq!(multiline.span.map(|s| s.start), pos(8, 5));
    }

    #[test]
    fn json_parses_like_yaml_without_positions() {
        let s = LabelSelector::from_json(&json!({
            "matchLabels": {"a": "1"},
            "matchExpressions": [{"key": "b", "operator": "DoesNotExist"}],
        }))
        .expect("valid");
        assert_eq!(
            s,
            parse_yaml(
                "{matchLabels: {a: '1'}, matchExpressions: [{key: b, operator: DoesNotExist}]}"
            )
            .expect("valid")
        );
        assert!(s.matches(&json!({"a": "1"})));
        assert!(!s.matches(&json!({"a": "1", "b": "x"})));
        // A non-string label value counts as absent.
        assert!(!s.matches(&json!({"a": 1})));
        assert!(LabelSelector::from_json(&json!({}))
            .expect("empty")
            .is_empty());
        let err = LabelSelector::from_json(
            &json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
        )
        .expect_err("values");
        assert_eq!(err.kind, SelectorErrorKind::Values);
        assert_eq!(err.span, None);
        assert!(LabelSelector::from_json(&json!({"matchLabels": {"a": 1}})).is_err());
        assert!(LabelSelector::from_json(&json!("x")).is_err());
    }

    #[test]
    fn any_label_storage_can_be_matched() {
        let s = parse_yaml("{matchLabels: {app: web}}").expect("valid");
        let pairs = vec![("app".to_string(), "web".to_string())];
        assert!(s.matches(&pairs));
        assert!(s.matches(pairs.as_slice()));
        let hashed: HashMap<String, String> = pairs.iter().cloned().collect();
        assert!(s.matches(&hashed));
        assert!(s.matches(&node("{app: web, other: 1}")));
        assert!(!s.matches(&node("{app: 1}")));
        assert!(s.matches_with(|k| (k == "app").then_some("web")));
        assert!(!s.matches_with(|_| None));
    }

    #[test]
    fn operators_match_on_any_value_type() {
        assert!(Operator::In.matches(&["a"], Some("a")));
        assert!(Operator::In.matches(&[String::from("a")], Some("a")));
        assert!(!Operator::In.matches::<&str>(&[], Some("a")));
        assert!(Operator::NotIn.matches(&["a"], None));
        for op in ["In", "NotIn", "Exists", "DoesNotExist"] {
            assert_eq!(Operator::parse(op).map(Operator::as_str), Some(op));
        }
        assert_eq!(Operator::parse("exists"), None);
        assert!(Requirement::new("k", Operator::In, vec![]).is_err());
        assert!(Requirement::new("k", Operator::Exists, vec![]).is_ok());
    }

    #[test]
    fn syntax_validation_follows_qualified_names_and_label_values() {
        for key in [
            "app",
            "app.kubernetes.io/name",
            "a",
            "A_b.c-D",
            "example.com/x",
            &"a".repeat(63),
            &format!("{}/x", "a".repeat(70)),
        ] {
            assert!(validate_label_key(key).is_ok(), "{key}");
        }
        for key in [
            "",
            "-bad",
            "bad-",
            "a b",
            "/x",
            "x/",
            "a/b/c",
            "Upper.com/x",
            "exa_mple.com/x",
            &"a".repeat(64),
            &format!("{}/x", "a".repeat(254)),
        ] {
            assert!(validate_label_key(key).is_err(), "{key}");
        }
        assert!(validate_label_value("k", "").is_ok());
        assert!(validate_label_value("k", "v1.2_3-x").is_ok());
        assert!(validate_label_value("k", "with space").is_err());
        assert!(validate_label_value("k", "-x").is_err());
        assert!(validate_label_value("k", &"v".repeat(64)).is_err());
        assert!(parse_yaml("{matchLabels: {'bad key!': x}}")
            .expect("parses")
            .validate_syntax()
            .is_err());
        assert!(
            parse_yaml("{matchExpressions: [{key: a, operator: In, values: ['no way']}]}")
                .expect("parses")
                .validate_syntax()
                .is_err()
        );
        assert!(parse_yaml(
            "{matchLabels: {app.kubernetes.io/name: web}, matchExpressions: [{key: a, operator: In, values: ['', x]}]}"
        )
        .expect("parses")
        .validate_syntax()
        .is_ok());
    }
}
