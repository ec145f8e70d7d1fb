//! ## What it finds
//!
//! A Deployment or StatefulSet with more than one replica (`replicas`, or the
//! `minReplicas` of the HorizontalPodAutoscaler that scales it) whose pods no
//! PodDisruptionBudget in the same namespace selects.
//!
//! The check runs only when the input contains PodDisruptionBudgets: a
//! manifest set without any is judged as one whose budgets live elsewhere.
//! Single-replica workloads are not reported: a budget cannot keep a single
//! pod available through a drain without blocking the drain.
//!
//! ## Why it matters
//!
//! Node drains (upgrades, autoscaler scale-down) evict pods without regard to
//! the service. Without a budget, all replicas of a workload can be evicted at
//! the same time.
//!
//! ## How to fix it
//!
//! Add a PodDisruptionBudget selecting the workload's pods, with
//! `maxUnavailable: 1` (or a `minAvailable` below the replica count).
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: policy/v1
//! kind: PodDisruptionBudget
//! metadata: {name: web, namespace: shop}
//! spec:
//!   maxUnavailable: 1
//!   selector:
//!     matchLabels: {app: web}
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::{covered_by_pdb, hpa_for, hpa_min, replicas, replicas_anchor};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/pod-disruption-budget",
        title: "Replicated workloads should be covered by a PodDisruptionBudget",
        severity: Severity::Low,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/run-application/configure-pdb/",
        controls: &[],
    },
    kinds: Kinds::Only(&["Deployment", "StatefulSet"]),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if !cx.index.has_kind("PodDisruptionBudget") {
        return;
    }
    let count = match hpa_for(cx, object) {
        Some(hpa) => hpa_min(hpa),
        None => replicas(object).map_or(0, |(_, n)| n),
    };
    if count <= 1 {
        return;
    }
    if !covered_by_pdb(cx, object) {
        let (node, field) = replicas_anchor(object);
        sink.report(
            node,
            field,
            format!(
                "{} runs {count} replicas but no PodDisruptionBudget selects its pods",
                object.kind()
            ),
            "Add a PodDisruptionBudget with maxUnavailable: 1 selecting the workload's pods.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const PDB: &str = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: shop}\nspec:\n  maxUnavailable: 1\n  selector: {matchLabels: {app: web}}\n";

    fn deploy(name: &str, replicas: u32) -> String {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  replicas: {replicas}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: a, image: x}}]}}\n")
    }

    #[test]
    fn flags_uncovered_replicated_workload() {
        let yaml = format!(
            "{PDB}---\n{}---\n{}---\n{}",
            deploy("web", 3),
            deploy("api", 3),
            deploy("cron", 1)
        );
        let findings = run(&RULE, &yaml);
        assert_eq!(positions(&findings), [(21, 13)]);
        assert_eq!(findings[0].object.name, "api");
    }

    #[test]
    fn silent_without_any_pdb() {
        assert!(run(&RULE, &deploy("api", 3)).is_empty());
    }
}
