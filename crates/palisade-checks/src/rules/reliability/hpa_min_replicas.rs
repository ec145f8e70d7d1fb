//! ## What it finds
//!
//! A HorizontalPodAutoscaler whose `minReplicas` is below 2, or unset (it
//! defaults to 1).
//!
//! ## Why it matters
//!
//! At low load the autoscaler scales the workload down to `minReplicas`. With
//! one replica left, every rollout, node drain or crash is an outage, exactly
//! at the quiet hours when nobody watches.
//!
//! ## How to fix it
//!
//! Set `minReplicas: 2` or more.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: autoscaling/v2
//! kind: HorizontalPodAutoscaler
//! spec:
//!   minReplicas: 2
//!   maxReplicas: 10
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::hpa_min;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/hpa-min-replicas",
        title: "HorizontalPodAutoscalers should keep at least two replicas",
        severity: Severity::Low,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/",
        controls: &[],
    },
    kinds: Kinds::Only(&["HorizontalPodAutoscaler"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(spec) = object.root.get_set("spec") else {
        return;
    };
    let min = hpa_min(object);
    if min >= 2 {
        return;
    }
    let (node, field) = match spec.get_set("minReplicas") {
        Some(n) => (n, "spec.minReplicas"),
        None => (spec, "spec"),
    };
    sink.report(
        node,
        field,
        format!("the autoscaler may scale down to {min} replica(s)"),
        "Set minReplicas: 2 or more.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_low_or_unset_min() {
        let yaml = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec:\n  maxReplicas: 5\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: b}\nspec:\n  minReplicas: 1\n  maxReplicas: 5\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: c}\nspec:\n  minReplicas: 2\n  maxReplicas: 5\n";
        assert_eq!(positions(&run(&RULE, yaml)), [(5, 3), (11, 16)]);
    }
}
