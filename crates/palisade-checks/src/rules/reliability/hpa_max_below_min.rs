//! ## What it finds
//!
//! A HorizontalPodAutoscaler whose `maxReplicas` is below its `minReplicas`
//! (1 when unset) or below 1.
//!
//! ## Why it matters
//!
//! The API server rejects it (`maxReplicas: Invalid value: must be greater
//! than or equal to minReplicas`), so the workload is not autoscaled at all.
//!
//! ## How to fix it
//!
//! Set `maxReplicas` to at least `minReplicas`.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   minReplicas: 3
//!   maxReplicas: 10
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::hpa_min;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/hpa-max-below-min",
        title: "HorizontalPodAutoscaler maxReplicas must not be below minReplicas",
        severity: Severity::High,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/horizontal-pod-autoscaler-v2/",
        controls: &[],
    },
    kinds: Kinds::Only(&["HorizontalPodAutoscaler"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(max_node) = object.root.path(&["spec", "maxReplicas"]) else {
        return;
    };
    let Some(max) = max_node.as_i64() else { return };
    let min = hpa_min(object);
    if max < min.max(1) {
        sink.report(
            max_node,
            "spec.maxReplicas",
            format!(
                "maxReplicas {max} is below minReplicas {}; the API server rejects this",
                min.max(1)
            ),
            "Set maxReplicas to at least minReplicas.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_max_below_min() {
        let yaml = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec: {minReplicas: 3, maxReplicas: 2}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: b}\nspec: {maxReplicas: 0}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: c}\nspec: {minReplicas: 2, maxReplicas: 2}\n";
        assert_eq!(positions(&run(&RULE, yaml)), [(4, 37), (9, 21)]);
    }
}
