//! Kubernetes quantities, container requests and limits, and LimitRange defaults.

use palisade_model::{ContainerKind, Node, Object, Value};

use crate::index::namespace_of;
use crate::rule::{each_container, ContainerCx, Cx, Sink};

/// Parses a Kubernetes quantity (`500m`, `1Gi`, `1e3`, `0.5`, `+2k`) as the API
/// server's `resource.ParseQuantity` does, into a number of base units.
/// Returns `None` for text the API server would reject.
pub(crate) fn parse_quantity(text: &str) -> Option<f64> {
    let (sign, body) = match text.as_bytes().first()? {
        b'-' => (-1.0, &text[1..]),
        b'+' => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    // The number: digits with at most one decimal point, at least one digit.
    let number_len = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(number_len);
    if number.is_empty()
        || number == "."
        || number.matches('.').count() > 1
        || !number.chars().any(|c| c.is_ascii_digit())
    {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let multiplier = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exp => {
            let digits = exp.strip_prefix(['e', 'E'])?;
            let unsigned = digits.strip_prefix(['+', '-']).unwrap_or(digits);
            if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let e: i32 = digits.parse().ok()?;
            10f64.powi(e)
        }
    };
    Some(sign * value * multiplier)
}

/// The value of a quantity node: a string, or a YAML number (`cpu: 2`, `cpu: 0.5`).
pub(crate) fn quantity(node: &Node) -> Option<f64> {
    match &node.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        Value::Str { text, .. } => parse_quantity(text),
        _ => None,
    }
}

/// `requests` or `limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Requests,
    Limits,
}

impl Section {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Section::Requests => "requests",
            Section::Limits => "limits",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Section::Requests => "request",
            Section::Limits => "limit",
        }
    }
}

/// A container's `resources.<section>.<resource>`, when set.
pub(crate) fn container_value<'a>(
    c: &ContainerCx<'a>,
    section: Section,
    resource: &str,
) -> Option<&'a Node> {
    c.node()
        .get_set("resources")?
        .get_set(section.key())?
        .get_set(resource)
}

/// Whether a LimitRange of `namespace` in the input gives containers a default
/// for `resource` in `section`. Kubernetes fills an omitted `default` from
/// `max`, and an omitted `defaultRequest` from `default`, else from `min`.
pub(crate) fn limit_range_default<'a>(
    cx: &Cx<'a>,
    namespace: &str,
    section: Section,
    resource: &str,
) -> Option<&'a Object> {
    let sources: &[&str] = match section {
        Section::Limits => &["default", "max"],
        Section::Requests => &["defaultRequest", "default", "max", "min"],
    };
    cx.index.in_namespace(namespace, "LimitRange").find(|lr| {
        lr.root
            .path(&["spec", "limits"])
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter(|item| item.get("type").and_then(Node::as_str) == Some("Container"))
            .any(|item| {
                sources
                    .iter()
                    .any(|s| item.get_set(s).and_then(|m| m.get_set(resource)).is_some())
            })
    })
}

/// Reports the regular and init containers of a workload that have no
/// `resource` in `section`, taking into account what Kubernetes fills in:
/// a request defaults to the container's limit, a pod-level
/// `spec.resources` covers every container, and a LimitRange of the
/// namespace in the input supplies defaults. Ephemeral containers cannot set
/// resources and are skipped.
pub(crate) fn report_missing(
    cx: &Cx<'_>,
    object: &Object,
    sink: &mut Sink<'_>,
    section: Section,
    resource: &str,
    what: &str,
    remediation: &str,
) {
    let Some(pod) = palisade_model::pod_template(object) else {
        return;
    };
    let pod_level = pod
        .spec
        .get_set("resources")
        .and_then(|r| r.get_set(section.key()))
        .and_then(|m| m.get_set(resource))
        .is_some();
    if pod_level {
        return;
    }
    let mut defaulted: Option<bool> = None;
    each_container(object, |c| {
        if c.container.kind == ContainerKind::EphemeralContainer {
            return;
        }
        if container_value(c, section, resource).is_some() {
            return;
        }
        if section == Section::Requests && container_value(c, Section::Limits, resource).is_some() {
            return;
        }
        let has_default = *defaulted.get_or_insert_with(|| {
            limit_range_default(cx, namespace_of(object), section, resource).is_some()
        });
        if has_default {
            return;
        }
        let resources = c.node().get_set("resources");
        let (node, field) = match resources {
            Some(r) => match r.get_set(section.key()) {
                Some(s) => (s, c.field(&format!("resources.{}", section.key()))),
                None => (r, c.field("resources")),
            },
            None => (c.node(), c.field("")),
        };
        sink.report(
            node,
            field,
            format!("{} has no {what} {}", c.describe(), section.noun()),
            remediation,
        );
    });
}

/// Reports a Namespace object of the input that has no object of `kind` in
/// it in the input. `kube-*` system namespaces are skipped.
pub(crate) fn report_namespace_without(
    cx: &Cx<'_>,
    object: &Object,
    sink: &mut Sink<'_>,
    kind: &str,
    remediation: &str,
) {
    let name = object.id.name.as_str();
    if name.is_empty() || name.starts_with("kube-") {
        return;
    }
    if cx.index.in_namespace(name, kind).next().is_some() {
        return;
    }
    let (node, field) = match object.root.path(&["metadata", "name"]) {
        Some(n) => (n, "metadata.name"),
        None => (&object.root, ""),
    };
    sink.report(
        node,
        field,
        format!("namespace {name} has no {kind} in the input"),
        remediation,
    );
}

#[cfg(test)]
mod tests {
    use super::parse_quantity;

    #[test]
    fn quantities() {
        let cases = [
            ("500m", 0.5),
            ("1", 1.0),
            ("0.5", 0.5),
            ("1Gi", 1073741824.0),
            ("1G", 1e9),
            ("128Mi", 134217728.0),
            ("1e3", 1000.0),
            ("1E3", 1000.0),
            ("2e-3", 0.002),
            ("+2k", 2000.0),
            ("100Ki", 102400.0),
            (".5", 0.5),
            ("1.", 1.0),
            ("250u", 0.00025),
        ];
        for (text, want) in cases {
            let got = parse_quantity(text).unwrap_or(f64::NAN);
            assert!((got - want).abs() < 1e-9 * want.max(1.0), "{text}: {got}");
        }
        for bad in [
            "", "abc", "1.2.3", "1gi", "Gi", "1 Gi", "1e", "1e+", ".", "1KiB", "--1",
        ] {
            assert_eq!(parse_quantity(bad), None, "{bad}");
        }
    }
}
