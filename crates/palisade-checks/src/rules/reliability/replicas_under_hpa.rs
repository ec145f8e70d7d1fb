//! ## What it finds
//!
//! A Deployment, StatefulSet or ReplicaSet that sets `spec.replicas` while a
//! HorizontalPodAutoscaler in the input scales it.
//!
//! ## Why it matters
//!
//! The autoscaler owns the replica count. Every `kubectl apply` (or GitOps
//! sync) of a manifest with `replicas` resets the count to that value: a
//! workload scaled out under load drops back to the manifest's number in the
//! middle of the peak, until the autoscaler reacts again.
//!
//! ## How to fix it
//!
//! Remove `spec.replicas` from the manifest and let the autoscaler's
//! `minReplicas` set the floor.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web}
//! spec:
//!   # no replicas: the HorizontalPodAutoscaler "web" scales this Deployment
//!   selector:
//!     matchLabels: {app: web}
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::hpa_for;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/replicas-under-hpa",
        title: "Workloads scaled by an autoscaler should not set replicas",
        severity: Severity::Low,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling",
        controls: &[],
    },
    kinds: Kinds::Only(&["Deployment", "StatefulSet", "ReplicaSet"]),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(node) = object
        .root
        .path(&["spec", "replicas"])
        .filter(|n| !n.is_null())
    else {
        return;
    };
    let Some(hpa) = hpa_for(cx, object) else {
        return;
    };
    sink.report(
        node,
        "spec.replicas",
        format!(
            "replicas is set although HorizontalPodAutoscaler {} scales this {}; each apply resets the count",
            hpa.id.name,
            object.kind()
        ),
        "Remove spec.replicas and let the autoscaler's minReplicas set the floor.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 3\n";

    #[test]
    fn flags_replicas_on_autoscaled_workload() {
        let yaml = format!("{HPA}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: 2\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api}}\nspec:\n  replicas: 2\n");
        assert_eq!(positions(&run(&RULE, &yaml)), [(12, 13)]);
    }

    #[test]
    fn passes_without_replicas() {
        let yaml = format!("{HPA}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec: {{}}\n");
        assert!(run(&RULE, &yaml).is_empty());
    }
}
