//! ## What it finds
//!
//! A PodDisruptionBudget without `spec.unhealthyPodEvictionPolicy:
//! AlwaysAllow`. Optional: off unless enabled.
//!
//! ## Why it matters
//!
//! With the default policy (`IfHealthyBudget`), pods that are running but not
//! ready count against the budget when the workload is already short of
//! healthy pods: a crash-looping or misconfigured workload then blocks node
//! drains, even though evicting its broken pods could only help.
//! `AlwaysAllow` lets such pods be evicted (stable since Kubernetes 1.31).
//!
//! ## How to fix it
//!
//! Set `unhealthyPodEvictionPolicy: AlwaysAllow`, unless the application
//! needs its not-ready pods kept (for example, data that a pod must finish
//! replicating).
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: policy/v1
//! kind: PodDisruptionBudget
//! spec:
//!   maxUnavailable: 1
//!   unhealthyPodEvictionPolicy: AlwaysAllow
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/pdb-unhealthy-pod-eviction-policy",
        title: "PodDisruptionBudgets should let unhealthy pods be evicted",
        severity: Severity::Low,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/run-application/configure-pdb/#unhealthy-pod-eviction-policy",
        controls: &[],
    },
    kinds: Kinds::Only(&["PodDisruptionBudget"]),
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(spec) = object.root.get_set("spec") else {
        return;
    };
    match spec.get_set("unhealthyPodEvictionPolicy") {
        Some(node) if node.as_str() == Some("AlwaysAllow") => {}
        Some(node) => sink.report(
            node,
            "spec.unhealthyPodEvictionPolicy",
            format!("unhealthyPodEvictionPolicy {} can let not-ready pods block drains", node.display_value()),
            "Set unhealthyPodEvictionPolicy: AlwaysAllow.",
        ),
        None => sink.report(
            spec,
            "spec",
            "PodDisruptionBudget sets no unhealthyPodEvictionPolicy; not-ready pods can block drains",
            "Set unhealthyPodEvictionPolicy: AlwaysAllow.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::run;

    #[test]
    fn flags_unless_always_allow() {
        let yaml = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: a}\nspec: {maxUnavailable: 1}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: b}\nspec: {maxUnavailable: 1, unhealthyPodEvictionPolicy: IfHealthyBudget}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: c}\nspec: {maxUnavailable: 1, unhealthyPodEvictionPolicy: AlwaysAllow}\n";
        let names: Vec<String> = run(&RULE, yaml)
            .iter()
            .map(|f| f.object.name.clone())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }
}
