//! ## What it finds
//!
//! A Deployment or StatefulSet that runs a single replica and that no
//! HorizontalPodAutoscaler in the input scales.
//!
//! `replicas: 1` written in the manifest is reported. A manifest without
//! `replicas` (which defaults to 1) is reported only when the input contains
//! HorizontalPodAutoscalers and none of them scales the workload: a
//! workload without `replicas` is often managed by an autoscaler defined
//! elsewhere, and guessing would be noise. `replicas: 0` is a deliberate
//! scale-down and is not reported.
//!
//! ## Why it matters
//!
//! With one replica, every rollout, node drain, eviction or crash is an
//! outage of the service.
//!
//! ## How to fix it
//!
//! Run at least two replicas (three for quorum-based systems), or scale the
//! workload with a HorizontalPodAutoscaler whose `minReplicas` is at least 2.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! spec:
//!   replicas: 2
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::{hpa_for, replicas, replicas_anchor};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/single-replica",
        title: "Deployments and StatefulSets should run more than one replica",
        severity: Severity::Low,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#replicas",
        controls: &[],
    },
    kinds: Kinds::Only(&["Deployment", "StatefulSet"]),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let single = match replicas(object) {
        Some((_, n)) => n == 1,
        None => {
            object.root.path(&["spec", "replicas"]).is_none()
                && cx.index.has_kind("HorizontalPodAutoscaler")
        }
    };
    if !single || hpa_for(cx, object).is_some() {
        return;
    }
    let (node, field) = replicas_anchor(object);
    sink.report(
        node,
        field,
        format!(
            "{} runs a single replica; any restart or drain is an outage",
            object.kind()
        ),
        "Run at least 2 replicas, or scale it with a HorizontalPodAutoscaler (minReplicas >= 2).",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const ONE: &str =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n";
    const UNSET: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec: {}\n";

    #[test]
    fn flags_explicit_single_replica() {
        assert_eq!(positions(&run(&RULE, ONE)), [(5, 13)]);
        assert!(run(&RULE, UNSET).is_empty());
    }

    #[test]
    fn unset_replicas_only_when_hpas_exist_and_none_targets_it() {
        let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 5\n";
        let yaml = format!("{ONE}---\n{UNSET}---\n{hpa}");
        let findings = run(&RULE, &yaml);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].object.name, "api");
    }
}
