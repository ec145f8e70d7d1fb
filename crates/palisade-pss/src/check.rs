//! What a check is, what it returns, and the helpers every check shares.
//!
//! Checks read the YAML tree the way the API server's Go decoding would see
//! it: a struct pointer (`securityContext`, `seccompProfile`...) is set when
//! the key is present, not null and a mapping; a scalar field of the wrong
//! type counts as unset (the loader already reported it as an input error).

use palisade_model::{Container, Node, PodTemplate, RuleMeta};

use crate::policy::Level;

/// One check's verdict on a pod, in upstream's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// The upstream check id (`privileged`, `capabilities_restricted`...).
    pub check: &'static str,
    pub allowed: bool,
    /// Short reason such as `privileged`; empty when allowed.
    pub forbidden_reason: String,
    /// Which containers or fields, such as `container "x" must not set securityContext.privileged=true`.
    pub forbidden_detail: String,
}

/// One offending field, for the findings layer.
#[derive(Debug, Clone)]
pub(crate) struct Violation<'a> {
    /// The most precise node: the offending value, or the nearest existing
    /// enclosing node when the problem is a missing field.
    pub node: &'a Node,
    /// Dotted path of the offending (or missing) field in the object.
    pub field: String,
    /// `reason (detail)` for this one field, in upstream's wording.
    pub message: String,
    pub remediation: &'static str,
}

/// What a check function returns: the upstream verdict and the fields behind it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome<'a> {
    /// `None` when the pod is allowed; otherwise upstream's reason and detail.
    pub forbidden: Option<(String, String)>,
    pub violations: Vec<Violation<'a>>,
}

impl<'a> Outcome<'a> {
    pub fn allowed() -> Self {
        Outcome::default()
    }

    pub fn forbidden(
        reason: impl Into<String>,
        detail: String,
        violations: Vec<Violation<'a>>,
    ) -> Self {
        Outcome {
            forbidden: Some((reason.into(), detail)),
            violations,
        }
    }
}

pub(crate) type CheckFn = for<'a> fn(&PodTemplate<'a>) -> Outcome<'a>;

/// One version of a check's behaviour, in force from `since` until the next one.
#[derive(Clone, Copy)]
pub(crate) struct Versioned {
    /// The first 1.x minor version this behaviour applies to.
    pub since: u32,
    pub run: CheckFn,
    /// Baseline checks this restricted check replaces while it is in force.
    pub overrides: &'static [&'static str],
}

/// A registered check: its id, level, rule documentation and versions (ascending).
pub(crate) struct Check {
    pub id: &'static str,
    pub level: Level,
    pub rule: &'static RuleMeta,
    pub versions: &'static [Versioned],
}

impl Check {
    /// The behaviour in force at `minor`, if the check exists yet.
    pub fn at(&self, minor: u32) -> Option<&Versioned> {
        self.versions.iter().rev().find(|v| v.since <= minor)
    }
}

pub(crate) const fn version(since: u32, run: CheckFn) -> Versioned {
    Versioned {
        since,
        run,
        overrides: &[],
    }
}

pub(crate) const fn overriding(
    since: u32,
    run: CheckFn,
    overrides: &'static [&'static str],
) -> Versioned {
    Versioned {
        since,
        run,
        overrides,
    }
}

/// Documentation link shared by all Pod Security rules.
pub(crate) const HELP_URI: &str =
    "https://kubernetes.io/docs/concepts/security/pod-security-standards/";

// ---------------------------------------------------------------------------
// Reading fields with Go decoding semantics.

/// A struct-pointer field: present, not null and a mapping.
pub(crate) fn object<'a>(parent: Option<&'a Node>, key: &str) -> Option<&'a Node> {
    parent?.get_set(key).filter(|n| n.as_map().is_some())
}

/// A `*bool` field that is set to a boolean.
pub(crate) fn boolean<'a>(parent: Option<&'a Node>, key: &str) -> Option<(&'a Node, bool)> {
    let node = parent?.get(key)?;
    node.as_bool().map(|b| (node, b))
}

/// A string field; `None` when absent or not a string (Go would see `""`).
pub(crate) fn string<'a>(parent: Option<&'a Node>, key: &str) -> Option<(&'a Node, &'a str)> {
    let node = parent?.get(key)?;
    node.as_str().map(|s| (node, s))
}

/// The text of a string field, `""` when unset, as a Go string field reads.
pub(crate) fn text<'a>(parent: Option<&'a Node>, key: &str) -> &'a str {
    string(parent, key).map_or("", |(_, s)| s)
}

/// An integer field that is set.
pub(crate) fn integer<'a>(parent: Option<&'a Node>, key: &str) -> Option<(&'a Node, i64)> {
    let node = parent?.get(key)?;
    node.as_i64().map(|i| (node, i))
}

/// The items of a list field; empty when absent or not a list.
pub(crate) fn list<'a>(parent: Option<&'a Node>, key: &str) -> &'a [Node] {
    parent.and_then(|p| p.get(key)).map_or(&[], Node::items)
}

/// A container's `securityContext`, when set.
pub(crate) fn container_context<'a>(container: &Container<'a>) -> Option<&'a Node> {
    object(Some(container.node), "securityContext")
}

/// The pod's `spec.securityContext`, when set.
pub(crate) fn pod_context<'a>(pod: &PodTemplate<'a>) -> Option<&'a Node> {
    object(Some(pod.spec), "securityContext")
}

/// Whether the pod declares `spec.os.name: windows`; from 1.25 several
/// restricted checks do not apply to Windows pods.
pub(crate) fn is_windows(pod: &PodTemplate<'_>) -> bool {
    text(object(Some(pod.spec), "os"), "name") == "windows"
}

/// Whether the pod runs in a user namespace (`hostUsers: false`); from 1.35
/// some checks are relaxed for such pods since root in the pod is not root on the node.
pub(crate) fn in_user_namespace(pod: &PodTemplate<'_>) -> bool {
    matches!(boolean(Some(pod.spec), "hostUsers"), Some((_, false)))
}

/// The innermost of a chain of optional enclosing nodes, falling back to `outer`.
pub(crate) fn nearest<'a>(outer: &'a Node, inner: &[Option<&'a Node>]) -> &'a Node {
    inner
        .iter()
        .rev()
        .flatten()
        .next()
        .copied()
        .unwrap_or(outer)
}

/// Dotted path of a container field, relative to the object.
pub(crate) fn container_field(
    pod: &PodTemplate<'_>,
    container: &Container<'_>,
    rest: &str,
) -> String {
    pod.field_path(&format!("{}.{rest}", container.path()))
}

/// Dotted path of the pod metadata (`metadata`, `spec.template.metadata`...).
pub(crate) fn metadata_path(pod: &PodTemplate<'_>) -> String {
    match pod.spec_path.strip_suffix("spec") {
        Some(prefix) => format!("{prefix}metadata"),
        None => "metadata".to_string(),
    }
}

/// The pod's annotations with string values, with their value nodes.
pub(crate) fn annotations<'a>(pod: &PodTemplate<'a>) -> impl Iterator<Item = (&'a str, &'a Node)> {
    object(pod.metadata, "annotations")
        .map_or(&[][..], Node::entries)
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v)).filter(|_| v.as_str().is_some()))
}

/// Path of one annotation: `metadata.annotations["key"]`.
pub(crate) fn annotation_field(pod: &PodTemplate<'_>, key: &str) -> String {
    format!("{}.annotations[{}]", metadata_path(pod), go_quote(key))
}

// ---------------------------------------------------------------------------
// Message formatting, matching upstream's wording.

pub(crate) fn pluralize<'s>(singular: &'s str, plural: &'s str, count: usize) -> &'s str {
    if count == 1 {
        singular
    } else {
        plural
    }
}

/// `"a", "b"`; empty for no items. Items are not escaped, as upstream does not.
pub(crate) fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let inner: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("\"{}\"", inner.join("\", \""))
}

/// `container "a"` or `containers "a", "b"`.
pub(crate) fn containers_phrase<S: AsRef<str>>(names: &[S]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// `pod`, `containers "a", "b"` or `pod and container "a"`: who set a forbidden value.
pub(crate) fn setters_phrase<S: AsRef<str>>(pod: bool, containers: &[S]) -> String {
    let mut setters = Vec::new();
    if pod {
        setters.push("pod".to_string());
    }
    if !containers.is_empty() {
        setters.push(containers_phrase(containers));
    }
    setters.join(" and ")
}

/// `reason (detail)`, as the admission message shows one check.
pub(crate) fn reason_detail(reason: &str, detail: &str) -> String {
    if detail.is_empty() {
        reason.to_string()
    } else {
        format!("{reason} ({detail})")
    }
}

/// Sorted and deduplicated, as Go's `sets.List` returns.
pub(crate) fn sorted_set<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut list: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
    list.sort();
    list.dedup();
    list
}

/// A string quoted as Go's `%q` prints it.
pub(crate) fn go_quote(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_match_upstream() {
        assert_eq!(join_quote::<&str>(&[]), "");
        assert_eq!(join_quote(&["a", "b"]), r#""a", "b""#);
        assert_eq!(containers_phrase(&["a"]), r#"container "a""#);
        assert_eq!(
            setters_phrase(true, &["a", "b"]),
            r#"pod and containers "a", "b""#
        );
        assert_eq!(setters_phrase::<&str>(true, &[]), "pod");
        assert_eq!(go_quote("a\"b\n\u{1}"), r#""a\"b\n\x01""#);
        assert_eq!(sorted_set(["b", "a", "b"]), vec!["a", "b"]);
    }
}
