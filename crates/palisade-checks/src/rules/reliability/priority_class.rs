//! ## What it finds
//!
//! A long-running workload (Deployment, StatefulSet, DaemonSet, ReplicaSet)
//! whose pod template sets no `priorityClassName`. Optional: off unless
//! enabled.
//!
//! ## Why it matters
//!
//! When a cluster runs out of capacity, the scheduler preempts lower-priority
//! pods to place higher-priority ones. Without a priority class every pod has
//! priority 0 (or the cluster's global default), so a batch job can keep a
//! critical service from being scheduled. Clusters that do not use priorities
//! do not need this, hence optional.
//!
//! ## How to fix it
//!
//! Set `priorityClassName` to one of the cluster's PriorityClasses.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   template:
//!     spec:
//!       priorityClassName: business-critical
//! ```

use palisade_model::{pod_template, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/priority-class",
        title: "Workloads should set a priorityClassName",
        severity: Severity::Info,
        category: "reliability",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/",
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
    if pod.spec.get_set("priorityClassName").is_none() {
        sink.report(
            pod.spec,
            pod.field_path(""),
            "pod template sets no priorityClassName",
            "Set priorityClassName to one of the cluster's PriorityClasses.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::run;

    #[test]
    fn flags_missing_priority_class() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template: {spec: {containers: [{name: a, image: x}]}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec:\n  template: {spec: {priorityClassName: high, containers: [{name: a, image: x}]}}\n";
        let names: Vec<String> = run(&RULE, yaml)
            .iter()
            .map(|f| f.object.name.clone())
            .collect();
        assert_eq!(names, ["a"]);
    }
}
