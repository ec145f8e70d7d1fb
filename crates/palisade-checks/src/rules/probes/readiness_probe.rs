//! ## What it finds
//!
//! A long-running workload whose pods a Service in the input selects, and
//! none of whose containers has a `readinessProbe`.
//!
//! Choices made for precision:
//!
//! - Only pods behind a Service need a readiness probe: readiness decides
//!   whether a pod receives Service traffic. A queue worker that no Service
//!   selects does not need one. The check therefore looks for a Service in the
//!   same namespace of the input whose selector matches the pod template's
//!   labels; when the input has no such Service it stays quiet.
//! - A pod is ready when all of its containers are; a container without a
//!   readiness probe counts as ready once started. One probe on the container
//!   that serves the traffic is enough, so a logging sidecar without a probe
//!   is not reported. The finding is one per workload.
//! - Jobs, CronJobs and run-to-completion Pods are not checked.
//!
//! ## Why it matters
//!
//! Without a readiness probe a pod receives traffic as soon as its containers
//! start, before the application listens, and keeps receiving it while it is
//! overloaded or shutting down: clients see errors on every rollout.
//!
//! ## How to fix it
//!
//! Add a `readinessProbe` to the container that serves the Service's port.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   ports: [{name: http, containerPort: 8080}]
//!   readinessProbe:
//!     httpGet: {path: /ready, port: http}
//!     periodSeconds: 5
//! ```

use palisade_model::{pod_template, ContainerKind, Object, RuleMeta, Severity};

use super::util::long_running;
use crate::index::{namespace_of, pod_labels};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "probes/readiness-probe",
        title: "Pods behind a Service should have a readiness probe",
        severity: Severity::Medium,
        category: "probes",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/#define-readiness-probes",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if !long_running(object) || !cx.index.has_kind("Service") {
        return;
    }
    let Some(pod) = pod_template(object) else {
        return;
    };
    let containers: Vec<_> = pod
        .containers()
        .filter(|c| c.kind == ContainerKind::Container)
        .collect();
    if containers.is_empty()
        || containers
            .iter()
            .any(|c| c.node.get_set("readinessProbe").is_some())
    {
        return;
    }
    // A map selector, matched without allocating: every pair must be among
    // the pod labels; an empty selector selects nothing. The Service named
    // like the workload (the usual convention) is tried first.
    let labels = pod_labels(object);
    let ns = namespace_of(object);
    let Some(service) = cx.index.selecting(ns, "Service", labels).next() else {
        return;
    };
    let (node, field) = match pod.spec.get("containers") {
        Some(n) => (n, pod.field_path("containers")),
        None => (pod.spec, pod.field_path("")),
    };
    sink.report(
        node,
        field,
        format!(
            "Service {} sends traffic to these pods, but no container has a readinessProbe",
            service.id.name
        ),
        "Add a readinessProbe to the container that serves the Service's port.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - {name: a, image: x}\n      - {name: b, image: x}\n";

    #[test]
    fn flags_pods_behind_a_service() {
        let yaml = format!("{DEPLOY}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop}}\nspec: {{selector: {{app: web}}, ports: [{{port: 80}}]}}\n");
        let findings = run(&RULE, &yaml);
        assert_eq!(positions(&findings), [(10, 9)]);
        assert!(findings[0].message.contains("Service web"));
    }

    #[test]
    fn quiet_without_a_selecting_service_or_with_one_probe() {
        assert!(run(&RULE, DEPLOY).is_empty());
        let other = format!("{DEPLOY}---\napiVersion: v1\nkind: Service\nmetadata: {{name: db, namespace: shop}}\nspec: {{selector: {{app: db}}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: other}}\nspec: {{selector: {{app: web}}}}\n");
        assert!(run(&RULE, &other).is_empty());
        let probed = format!("{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop}}\nspec: {{selector: {{app: web}}}}\n", DEPLOY.replace("{name: b, image: x}", "{name: b, image: x, readinessProbe: {tcpSocket: {port: 80}}}"));
        assert!(run(&RULE, &probed).is_empty());
    }
}
