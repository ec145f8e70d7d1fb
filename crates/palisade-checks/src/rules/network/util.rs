//! Helpers shared by the network checks.

use palisade_model::selector::LabelSelector;
use palisade_model::{pod_template, Node, Object};

use crate::index::map_selector;
use crate::rule::Cx;

/// Whether the input has any workload (object with a pod template) in `namespace`.
/// Reference checks ("selects no pod") stay quiet otherwise: the workloads are
/// simply not part of this input.
pub(crate) fn has_workloads(cx: &Cx<'_>, namespace: &str) -> bool {
    let all = LabelSelector::default();
    let found = cx
        .index
        .workloads_matching(namespace, &all)
        .next()
        .is_some();
    found
}

/// Whether `namespace` has at least one object of `kind` in the input.
pub(crate) fn has_in_namespace(cx: &Cx<'_>, namespace: &str, kind: &str) -> bool {
    cx.index.in_namespace(namespace, kind).next().is_some()
}

/// Whether a NetworkPolicy object is the Kubernetes one (not Calico's or Antrea's
/// namesake kinds, whose selectors are a different language).
pub(crate) fn is_k8s_network_policy(object: &Object) -> bool {
    object.kind() == "NetworkPolicy"
        && matches!(object.id.group(), "networking.k8s.io" | "extensions")
}

/// Policy kinds of other engines (Calico, Cilium, Antrea, AdminNetworkPolicy)
/// that apply cluster-wide: with any of them in the input, pod isolation cannot
/// be judged from Kubernetes NetworkPolicies alone.
pub(crate) const CLUSTER_WIDE_POLICY_KINDS: &[&str] = &[
    "GlobalNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
];

/// A NetworkPolicy's pod selector. A missing `podSelector` decodes as the empty
/// selector, which selects every pod of the namespace.
pub(crate) fn policy_pod_selector(np: &Object) -> Option<LabelSelector> {
    match np
        .root
        .path(&["spec", "podSelector"])
        .filter(|n| !n.is_null())
    {
        Some(node) => LabelSelector::from_node(node).ok(),
        None => Some(LabelSelector::default()),
    }
}

/// Which directions a NetworkPolicy isolates: `(ingress, egress)`, as the API
/// server defaults `policyTypes` (Ingress always, Egress when `egress` is set).
pub(crate) fn policy_types(np: &Object) -> (bool, bool) {
    let spec = np.root.get("spec");
    match spec.and_then(|s| s.get_set("policyTypes")) {
        Some(types) => {
            let has = |t: &str| types.items().iter().any(|n| n.as_str() == Some(t));
            (has("Ingress"), has("Egress"))
        }
        None => (true, spec.and_then(|s| s.get_set("egress")).is_some()),
    }
}

/// A Service's selector, when it has a non-empty one (a Service without a
/// selector has manually managed endpoints and selects no pods on purpose).
pub(crate) fn service_selector(service: &Object) -> Option<(&Node, LabelSelector)> {
    let node = service.root.path(&["spec", "selector"])?;
    let selector = map_selector(node);
    (!selector.is_empty()).then_some((node, selector))
}

/// The `type` of a Service (`ClusterIP` when unset).
pub(crate) fn service_type(service: &Object) -> &str {
    service
        .root
        .path(&["spec", "type"])
        .and_then(Node::as_str)
        .unwrap_or("ClusterIP")
}

/// Whether `name` is a valid IANA_SVC_NAME (RFC 6335): at most 15 characters,
/// lowercase letters, digits and `-`, at least one letter, no leading,
/// trailing or double `-`. Kubernetes requires it of port names.
pub(crate) fn is_iana_svc_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// The named ports every container of a workload declares.
pub(crate) fn declares_port_name(workload: &Object, name: &str) -> bool {
    let Some(pod) = pod_template(workload) else {
        return false;
    };
    pod.containers().any(|c| {
        c.node
            .get("ports")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .any(|p| p.get("name").and_then(Node::as_str) == Some(name))
    })
}

/// The namespace a reference with an optional `namespace` field points into.
pub(crate) fn ref_namespace<'a>(reference: &'a Node, own: &'a str) -> &'a str {
    reference
        .get("namespace")
        .and_then(Node::as_str)
        .unwrap_or(own)
}

#[cfg(test)]
mod tests {
    use super::is_iana_svc_name;

    #[test]
    fn iana_service_names() {
        for ok in ["http", "https-8443", "a1", "metrics"] {
            assert!(is_iana_svc_name(ok), "{ok}");
        }
        for bad in [
            "",
            "HTTP",
            "8080",
            "-web",
            "web-",
            "a--b",
            "this-is-too-long1",
            "a_b",
        ] {
            assert!(!is_iana_svc_name(bad), "{bad}");
        }
    }
}
