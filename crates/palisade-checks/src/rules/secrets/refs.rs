//! Resolving references from pods to ConfigMaps and Secrets.

use palisade_model::Node;

use super::util::{has_in_namespace, object_keys, secret_produced};
use crate::rule::Cx;

/// What is wrong with a reference to a ConfigMap or Secret, if anything.
/// `None` when it resolves, when it is optional, or when the input has no
/// object of that kind in the namespace (the objects live elsewhere).
pub(crate) fn problem(
    cx: &Cx<'_>,
    namespace: &str,
    kind: &str,
    name: &str,
    keys: &[&str],
    optional: bool,
) -> Option<String> {
    if optional || name.is_empty() || !has_in_namespace(cx, namespace, kind) {
        return None;
    }
    let shown = if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    };
    let Some(object) = cx.index.get(kind, namespace, name) else {
        if kind == "Secret" && secret_produced(cx, namespace, name) {
            return None;
        }
        return Some(format!("{kind} {shown} is not in the input"));
    };
    // Service-account token Secrets are filled by the token controller.
    if object.root.get("type").and_then(Node::as_str) == Some("kubernetes.io/service-account-token")
    {
        return None;
    }
    let present = object_keys(object)?;
    let missing: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| !present.contains(k))
        .collect();
    (!missing.is_empty()).then(|| format!("{kind} {shown} has no key {}", missing.join(", ")))
}
