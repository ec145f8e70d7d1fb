//! ## What it finds
//!
//! A PodDisruptionBudget that allows no voluntary disruption at all:
//! `maxUnavailable: 0` or `0%`, `minAvailable: 100%`, or an integer
//! `minAvailable` at least as large as the `replicas` of a Deployment,
//! StatefulSet or ReplicaSet in the input whose pods it selects (and that no
//! HorizontalPodAutoscaler in the input scales).
//!
//! ## Why it matters
//!
//! Such a budget makes every eviction of the workload's pods fail: `kubectl
//! drain`, node upgrades and the cluster autoscaler hang on that node until
//! someone deletes the budget by hand, which is usually what happens during an
//! incident.
//!
//! ## How to fix it
//!
//! Allow at least one pod to be disrupted: `maxUnavailable: 1`, or a
//! `minAvailable` below the replica count.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: policy/v1
//! kind: PodDisruptionBudget
//! spec:
//!   maxUnavailable: 1
//!   selector:
//!     matchLabels: {app: web}
//! ```

use palisade_model::selector::LabelSelector;
use palisade_model::{Object, RuleMeta, Severity};

use super::util::{hpa_for, replicas};
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/pdb-blocks-eviction",
        title: "PodDisruptionBudgets should allow at least one disruption",
        severity: Severity::Medium,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/run-application/configure-pdb/#think-about-how-your-application-reacts-to-disruptions",
        controls: &[],
    },
    kinds: Kinds::Only(&["PodDisruptionBudget"]),
    optional: false,
    check,
};

const REMEDIATION: &str =
    "Allow at least one disruption: maxUnavailable: 1, or a minAvailable below the replica count.";

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(spec) = object.root.get_set("spec") else {
        return;
    };
    if let Some(max) = spec.get_set("maxUnavailable") {
        if max.as_i64() == Some(0)
            || max
                .as_str()
                .is_some_and(|s| s.trim_end_matches('%') == "0" && s.ends_with('%'))
        {
            sink.report(
                max,
                "spec.maxUnavailable",
                format!(
                    "maxUnavailable {} allows no eviction; node drains will hang",
                    max.display_value()
                ),
                REMEDIATION,
            );
        }
        return;
    }
    let Some(min) = spec.get_set("minAvailable") else {
        return;
    };
    if min.as_str() == Some("100%") {
        sink.report(
            min,
            "spec.minAvailable",
            "minAvailable 100% allows no eviction; node drains will hang",
            REMEDIATION,
        );
        return;
    }
    let Some(min_count) = min.as_i64() else {
        return;
    };
    let Some(selector) = spec
        .get("selector")
        .and_then(|n| LabelSelector::from_node(n).ok())
        .filter(|s| !s.is_empty())
    else {
        return;
    };
    let blocked = cx
        .index
        .workloads_matching(namespace_of(object), &selector)
        .filter(|w| matches!(w.kind(), "Deployment" | "StatefulSet" | "ReplicaSet"))
        .find(|w| {
            replicas(w).is_some_and(|(_, n)| n > 0 && min_count >= n) && hpa_for(cx, w).is_none()
        });
    if let Some(workload) = blocked {
        let n = replicas(workload).map_or(0, |(_, n)| n);
        sink.report(
            min,
            "spec.minAvailable",
            format!(
                "minAvailable {min_count} is not below the {n} replicas of {} {}; no pod can be evicted",
                workload.kind(),
                workload.id.name
            ),
            REMEDIATION,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_zero_disruption_budgets() {
        let yaml = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: a}\nspec: {maxUnavailable: 0, selector: {matchLabels: {app: a}}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: b}\nspec: {minAvailable: 100%, selector: {matchLabels: {app: b}}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: c}\nspec: {minAvailable: 2, selector: {matchLabels: {app: c}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c}\nspec:\n  replicas: 2\n  template: {metadata: {labels: {app: c}}, spec: {containers: [{name: a, image: x}]}}\n";
        let findings = run(&RULE, yaml);
        assert_eq!(positions(&findings), [(4, 24), (9, 22), (14, 22)]);
        assert!(findings[2].message.contains("2 replicas of Deployment c"));
    }

    #[test]
    fn passes_budgets_that_allow_a_disruption() {
        let yaml = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: a}\nspec: {maxUnavailable: 1, selector: {matchLabels: {app: a}}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: c}\nspec: {minAvailable: 2, selector: {matchLabels: {app: c}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c}\nspec:\n  replicas: 3\n  template: {metadata: {labels: {app: c}}, spec: {containers: [{name: a, image: x}]}}\n";
        assert!(run(&RULE, yaml).is_empty());
    }
}
