//! ## What it finds
//!
//! A Namespace object in the input with no ResourceQuota in that namespace in
//! the input. The check looks only at Namespaces the input defines, so
//! scanning the manifests of one application (which does not own its
//! namespace) reports nothing; `kube-*` system namespaces are skipped.
//!
//! ## Why it matters
//!
//! A ResourceQuota caps what a namespace can consume in total (CPU, memory,
//! pods, Services, storage). Without one, a runaway or compromised workload
//! in the namespace can exhaust the cluster's capacity for everyone.
//!
//! ## How to fix it
//!
//! Ship a ResourceQuota with each Namespace you define.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: v1
//! kind: ResourceQuota
//! metadata: {name: compute, namespace: shop}
//! spec:
//!   hard:
//!     requests.cpu: "10"
//!     requests.memory: 20Gi
//!     limits.memory: 40Gi
//!     pods: "50"
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "resources/namespace-without-resource-quota",
        title: "Namespaces should have a ResourceQuota",
        severity: Severity::Low,
        category: "resources",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/policy/resource-quotas/",
        controls: &[Control::nsa("resource-policies"), Control::mitre("T1499")],
    },
    kinds: Kinds::Only(&["Namespace"]),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    super::util::report_namespace_without(
        cx,
        object,
        sink,
        "ResourceQuota",
        "Add a ResourceQuota to the namespace to cap its total consumption.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_namespace_without_quota() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: ok}\nspec: {hard: {pods: '10'}}\n",
        );
        assert_eq!(positions(&findings), [(3, 18)]);
        assert!(findings[0].message.contains("namespace shop"));
    }
}
