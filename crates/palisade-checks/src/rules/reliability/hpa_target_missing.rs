//! ## What it finds
//!
//! A HorizontalPodAutoscaler whose `scaleTargetRef` names a Deployment,
//! StatefulSet or other object that is not in the input, in the same
//! namespace.
//!
//! The check runs only when the input contains objects of the target's kind:
//! scanning the autoscalers of an application without its workloads reports
//! nothing.
//!
//! ## Why it matters
//!
//! An autoscaler whose target does not exist does nothing: the workload it
//! was meant for (often renamed) is not scaled, and nobody is warned beyond a
//! condition on the autoscaler's status.
//!
//! ## How to fix it
//!
//! Fix `scaleTargetRef.name` (and `kind`) to match the workload, or delete the
//! autoscaler.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   scaleTargetRef:
//!     apiVersion: apps/v1
//!     kind: Deployment
//!     name: web
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/hpa-target-missing",
        title: "HorizontalPodAutoscalers should target an existing workload",
        severity: Severity::Medium,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/",
        controls: &[],
    },
    kinds: Kinds::Only(&["HorizontalPodAutoscaler"]),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(target) = object.root.path(&["spec", "scaleTargetRef"]) else {
        return;
    };
    let (Some(kind), Some(name_node)) = (
        target.get("kind").and_then(Node::as_str),
        target.get("name").filter(|n| n.as_str().is_some()),
    ) else {
        return;
    };
    let name = name_node.as_str().unwrap_or_default();
    if !cx.index.has_kind(kind) || cx.index.get(kind, namespace_of(object), name).is_some() {
        return;
    }
    sink.report(
        name_node,
        "spec.scaleTargetRef.name",
        format!("scale target {kind} {name} is not in the input in this namespace"),
        "Fix scaleTargetRef to name the workload, or delete the autoscaler.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, namespace: shop}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 3\n";

    #[test]
    fn flags_dangling_target() {
        let yaml = format!("{HPA}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: other}}\n");
        assert_eq!(positions(&run(&RULE, &yaml)), [(5, 65)]);
    }

    #[test]
    fn passes_existing_target_or_kind_absent() {
        assert!(run(&RULE, HPA).is_empty());
        let yaml = format!("{HPA}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\n");
        assert!(run(&RULE, &yaml).is_empty());
    }
}
