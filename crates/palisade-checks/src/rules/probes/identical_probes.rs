//! ## What it finds
//!
//! A container whose `livenessProbe` and `readinessProbe` are identical: same
//! handler, same port and path, same timing and thresholds. A liveness probe
//! that uses the same endpoint with a higher `failureThreshold` or a longer
//! period is a sound pattern and is not reported.
//!
//! ## Why it matters
//!
//! Readiness takes an overloaded pod out of the load balancer so it can
//! recover; liveness restarts a pod that cannot recover. When both are the same
//! probe they fail at the same moment: under load every pod is restarted
//! instead of being given time, and a slow dependency turns into a restart
//! loop across the whole workload.
//!
//! ## How to fix it
//!
//! Make the liveness probe more tolerant (higher `failureThreshold`, longer
//! `periodSeconds`) or point it at a cheaper endpoint that checks only the
//! process itself.
//!
//! ## Example
//!
//! ```yaml
//! readinessProbe:
//!   httpGet: {path: /ready, port: http}
//!   periodSeconds: 5
//! livenessProbe:
//!   httpGet: {path: /healthz, port: http}
//!   periodSeconds: 10
//!   failureThreshold: 6
//! ```

use palisade_model::{ContainerKind, Object, RuleMeta, Severity};

use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "probes/identical-probes",
        title: "Liveness and readiness probes should not be identical",
        severity: Severity::Low,
        category: "probes",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        if c.container.kind == ContainerKind::EphemeralContainer {
            return;
        }
        let (Some(liveness), Some(readiness)) = (
            c.node().get_set("livenessProbe"),
            c.node().get_set("readinessProbe"),
        ) else {
            return;
        };
        if liveness.as_map().is_some() && liveness.to_json() == readiness.to_json() {
            sink.report(
                liveness,
                c.field("livenessProbe"),
                format!("{} has identical liveness and readiness probes", c.describe()),
                "Give the liveness probe a higher failureThreshold or a cheaper endpoint than the readiness probe.",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_identical_probes_in_any_key_order() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    livenessProbe: {httpGet: {path: /h, port: 80}, periodSeconds: 5}\n    readinessProbe: {periodSeconds: 5, httpGet: {port: 80, path: /h}}\n",
        );
        assert_eq!(positions(&findings), [(8, 20)]);
    }

    #[test]
    fn passes_when_thresholds_differ() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    livenessProbe: {httpGet: {path: /h, port: 80}, failureThreshold: 6}\n    readinessProbe: {httpGet: {path: /h, port: 80}}\n",
        );
        assert!(findings.is_empty());
    }
}
