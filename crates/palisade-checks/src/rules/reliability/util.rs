//! Replica counts, HorizontalPodAutoscaler targets and spread settings.

use palisade_model::selector::LabelSelector;
use palisade_model::{Node, Object};

use crate::index::{namespace_of, pod_labels};
use crate::rule::Cx;

/// `spec.replicas` when set to an integer.
pub(crate) fn replicas(object: &Object) -> Option<(&Node, i64)> {
    let node = object.root.path(&["spec", "replicas"])?;
    Some((node, node.as_i64()?))
}

/// A HorizontalPodAutoscaler of the input that scales `object` (same
/// namespace, `scaleTargetRef` kind and name).
pub(crate) fn hpa_for<'a>(cx: &Cx<'a>, object: &Object) -> Option<&'a Object> {
    cx.index
        .in_namespace(namespace_of(object), "HorizontalPodAutoscaler")
        .find(|hpa| {
            let target = hpa.root.path(&["spec", "scaleTargetRef"]);
            let field = |k: &str| target.and_then(|t| t.get(k)).and_then(Node::as_str);
            field("kind") == Some(object.kind()) && field("name") == Some(object.id.name.as_str())
        })
}

/// An HPA's effective `minReplicas` (default 1).
pub(crate) fn hpa_min(hpa: &Object) -> i64 {
    hpa.root
        .path(&["spec", "minReplicas"])
        .and_then(Node::as_i64)
        .unwrap_or(1)
}

/// Whether a PodDisruptionBudget of the input selects the pods of `object`.
/// An empty selector (every pod of the namespace, in policy/v1) does not count
/// as covering a particular workload.
pub(crate) fn covered_by_pdb(cx: &Cx<'_>, object: &Object) -> bool {
    cx.index
        .selecting(
            namespace_of(object),
            "PodDisruptionBudget",
            pod_labels(object),
        )
        .any(|pdb| {
            pdb.root
                .path(&["spec", "selector"])
                .and_then(|n| LabelSelector::from_node(n).ok())
                .is_some_and(|s| !s.is_empty())
        })
}

/// The anchor for a finding about replica counts: `spec.replicas` when set,
/// else `spec`, else the object.
pub(crate) fn replicas_anchor(object: &Object) -> (&Node, &'static str) {
    if let Some(n) = object.root.path(&["spec", "replicas"]) {
        return (n, "spec.replicas");
    }
    match object.root.get("spec") {
        Some(spec) => (spec, "spec"),
        None => (&object.root, ""),
    }
}
