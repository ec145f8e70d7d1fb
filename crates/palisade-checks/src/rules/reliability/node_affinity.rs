//! ## What it finds
//!
//! A long-running workload (Deployment, StatefulSet, DaemonSet, ReplicaSet)
//! whose pod template has neither `nodeSelector` nor
//! `affinity.nodeAffinity`. Optional: off unless enabled.
//!
//! ## Why it matters
//!
//! In clusters with several node pools (GPU, spot, system, tenant pools),
//! pods without a node constraint can land on nodes meant for something else:
//! sensitive workloads next to untrusted ones, or critical ones on spot nodes.
//! Many clusters have a single pool, hence optional.
//!
//! ## How to fix it
//!
//! Add a `nodeSelector` or a node affinity for the pool the workload belongs on.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   nodeSelector:
//!     node.kubernetes.io/pool: apps
//! ```

use palisade_model::{pod_template, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/node-affinity",
        title: "Workloads should say which nodes they run on",
        severity: Severity::Info,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/",
        controls: &[],
    },
    kinds: Kinds::Only(&["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]),
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    let has_selector = pod
        .spec
        .get_set("nodeSelector")
        .is_some_and(|n| !n.entries().is_empty());
    let has_affinity = pod
        .spec
        .path(&["affinity", "nodeAffinity"])
        .is_some_and(|n| !n.is_null());
    if !has_selector && !has_affinity {
        sink.report(
            pod.spec,
            pod.field_path(""),
            "pod template has no nodeSelector or nodeAffinity",
            "Add a nodeSelector or a node affinity for the node pool the workload belongs on.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::run;

    #[test]
    fn flags_unconstrained_pods() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template: {spec: {containers: [{name: a, image: x}]}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec:\n  template: {spec: {nodeSelector: {pool: apps}, containers: [{name: a, image: x}]}}\n";
        let names: Vec<String> = run(&RULE, yaml)
            .iter()
            .map(|f| f.object.name.clone())
            .collect();
        assert_eq!(names, ["a"]);
    }
}
