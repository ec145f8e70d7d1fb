//! ## What it finds
//!
//! A NetworkPolicy whose `podSelector` matches no workload of its namespace.
//!
//! The check runs only when the input has workloads in that namespace, so
//! scanning the policies of an application without its Deployments says
//! nothing. An empty `podSelector` (`{}`) selects every pod and is never
//! reported. Policies of other engines (Calico, Antrea) sharing the kind name
//! are ignored. Pods created by operators from custom resources are not
//! visible in manifests: a policy written for them is reported too, which is
//! why this check is low severity.
//!
//! ## Why it matters
//!
//! A policy that selects nothing protects nothing: usually a label was renamed
//! in the workload but not in the policy, and the pods it was written for are
//! now open to all traffic.
//!
//! ## How to fix it
//!
//! Make the policy's `podSelector` match the labels of the pod template it is
//! meant for, or delete the policy.
//!
//! ## Example
//!
//! ```yaml
//! kind: NetworkPolicy
//! spec:
//!   podSelector:
//!     matchLabels: {app: web}   # the Deployment's spec.template.metadata.labels has app: web
//! ```

use palisade_model::selector::LabelSelector;
use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{has_workloads, is_k8s_network_policy};
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/policy-selects-no-pod",
        title: "NetworkPolicies should select at least one workload",
        severity: Severity::Low,
        category: "network",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
        controls: &[Control::nsa("network-separation"), Control::cis("5.3.2")],
    },
    kinds: Kinds::Only(&["NetworkPolicy"]),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if !is_k8s_network_policy(object) {
        return;
    }
    let ns = namespace_of(object);
    let Some(node) = object.root.path(&["spec", "podSelector"]) else {
        return;
    };
    // An invalid selector is the API server's to reject.
    let Ok(selector) = LabelSelector::from_node(node) else {
        return;
    };
    if selector.is_empty() || !has_workloads(cx, ns) {
        return;
    }
    if cx.index.workloads_matching(ns, &selector).next().is_none() {
        let shown = object.id.namespace.as_deref().unwrap_or("(no namespace)");
        sink.report(
            node,
            "spec.podSelector",
            format!("the podSelector of {} matches no workload in namespace {shown}", object.id),
            "Make spec.podSelector match the pod template labels of the workload it protects, or delete the policy.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const DEPLOY: &str = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: a, image: x}]}\n";

    fn policy(selector: &str) -> String {
        format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np, namespace: shop}}\nspec:\n  podSelector: {selector}\n")
    }

    #[test]
    fn flags_a_selector_matching_nothing() {
        let findings = run(
            &RULE,
            &format!("{}{DEPLOY}", policy("{matchLabels: {app: wbe}}")),
        );
        assert_eq!(positions(&findings), [(5, 16)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.podSelector")
        );
    }

    #[test]
    fn passes_matching_empty_or_without_workloads() {
        assert!(run(
            &RULE,
            &format!("{}{DEPLOY}", policy("{matchLabels: {app: web}}"))
        )
        .is_empty());
        assert!(run(&RULE, &format!("{}{DEPLOY}", policy("{}"))).is_empty());
        assert!(run(
            &RULE,
            &format!(
                "{}{DEPLOY}",
                policy("{matchExpressions: [{key: app, operator: In, values: [web, api]}]}")
            )
        )
        .is_empty());
        // No workload of namespace shop in the input.
        assert!(run(&RULE, &policy("{matchLabels: {app: wbe}}")).is_empty());
    }
}
