//! ## What it finds
//!
//! A NetworkPolicy `ingress[].from[]` or `egress[].to[]` peer with a
//! `podSelector` and no `namespaceSelector` (so: pods of the policy's own
//! namespace) that matches no workload of that namespace.
//!
//! Optional: enable it to catch stale peer selectors. It runs only when the
//! input has workloads in the namespace; peers with a `namespaceSelector`
//! point at other namespaces and are not judged. An empty `podSelector`
//! selects every pod of the namespace and is never reported.
//!
//! ## Why it matters
//!
//! A peer that matches nothing allows nothing: the traffic the rule was
//! written for is dropped, and the usual "fix" under pressure is to widen the
//! policy far more than needed.
//!
//! ## How to fix it
//!
//! Make the peer's `podSelector` match the labels of the pods that should be
//! allowed, or remove the peer.
//!
//! ## Example
//!
//! ```yaml
//! ingress:
//! - from:
//!   - podSelector:
//!       matchLabels: {app: frontend}   # a pod template in this namespace has app: frontend
//! ```

use palisade_model::selector::LabelSelector;
use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use super::util::{has_workloads, is_k8s_network_policy};
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/policy-peer-selects-no-pod",
        title: "NetworkPolicy peer pod selectors should match a workload",
        severity: Severity::Low,
        category: "network",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
        controls: &[Control::nsa("network-separation")],
    },
    kinds: Kinds::Only(&["NetworkPolicy"]),
    optional: true,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if !is_k8s_network_policy(object) {
        return;
    }
    let ns = namespace_of(object);
    let Some(spec) = object.root.get("spec") else {
        return;
    };
    if !has_workloads(cx, ns) {
        return;
    }
    for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in spec
            .get(direction)
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            for (j, peer) in rule
                .get(peers)
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                if peer.get("namespaceSelector").is_some() {
                    continue;
                }
                let Some(node) = peer.get_set("podSelector") else {
                    continue;
                };
                let Ok(selector) = LabelSelector::from_node(node) else {
                    continue;
                };
                if selector.is_empty()
                    || cx.index.workloads_matching(ns, &selector).next().is_some()
                {
                    continue;
                }
                sink.report(
                    node,
                    format!("spec.{direction}[{i}].{peers}[{j}].podSelector"),
                    format!(
                        "{direction} peer {peers}[{j}] of {} selects no workload of its namespace",
                        object.id
                    ),
                    "Make the peer podSelector match the labels of the pods to allow, or remove the peer.",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_dangling_same_namespace_peers_only() {
        let yaml = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {app: frontend}}\n    - podSelector: {matchLabels: {app: web}}\n    - namespaceSelector: {}\n      podSelector: {matchLabels: {app: elsewhere}}\n    - podSelector: {}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {app: web}}\nspec: {containers: [{name: a, image: x}]}\n";
        let findings = run(&RULE, yaml);
        assert_eq!(positions(&findings), [(8, 20)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.ingress[0].from[0].podSelector")
        );
    }
}
