//! ## What it finds
//!
//! A container of a long-running workload without a `livenessProbe`.
//!
//! Long-running means Deployment, StatefulSet, DaemonSet, ReplicaSet,
//! ReplicationController, and a Pod that no Job owns and whose
//! `restartPolicy` is `Always`. Jobs and CronJobs run to completion and are
//! not checked; init containers (including sidecar init containers) and
//! ephemeral containers are not checked either.
//!
//! ## Why it matters
//!
//! Without a liveness probe the kubelet restarts a container only when its
//! process exits. A process that deadlocks or hangs keeps its pod "running"
//! and keeps failing requests until someone notices.
//!
//! ## How to fix it
//!
//! Add a cheap `livenessProbe` that fails only when the process cannot
//! recover by itself (not when a dependency is down), with a failure
//! threshold more tolerant than the readiness probe's.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   livenessProbe:
//!     httpGet: {path: /healthz, port: http}
//!     periodSeconds: 10
//!     failureThreshold: 6
//! ```

use palisade_model::{ContainerKind, Object, RuleMeta, Severity};

use super::util::long_running;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "probes/liveness-probe",
        title: "Long-running containers should have a liveness probe",
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
    if !long_running(object) {
        return;
    }
    each_container(object, |c| {
        if c.container.kind != ContainerKind::Container
            || c.node().get_set("livenessProbe").is_some()
        {
            return;
        }
        sink.report(
            c.node(),
            c.field(""),
            format!("{} has no livenessProbe", c.describe()),
            "Add a livenessProbe that fails only when the process cannot recover by itself.",
        );
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_deployment_container_without_liveness() {
        let findings = run(
            &RULE,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      initContainers:\n      - {name: init, image: x}\n      containers:\n      - name: a\n        image: x\n      - name: b\n        image: x\n        livenessProbe: {tcpSocket: {port: 80}}\n",
        );
        assert_eq!(positions(&findings), [(10, 9)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.template.spec.containers[0]")
        );
    }

    #[test]
    fn skips_jobs_and_run_to_completion_pods() {
        let yaml = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: a, image: x}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: once}\nspec:\n  restartPolicy: OnFailure\n  containers: [{name: a, image: x}]\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: owned\n  ownerReferences: [{kind: Job, name: j, apiVersion: batch/v1, uid: u}]\nspec:\n  containers: [{name: a, image: x}]\n";
        assert!(run(&RULE, yaml).is_empty());
    }
}
