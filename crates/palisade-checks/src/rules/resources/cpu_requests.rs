//! ## What it finds
//!
//! A container or init container without a CPU request
//! (`resources.requests.cpu`).
//!
//! It stays quiet where Kubernetes fills the request in: when the container
//! sets a CPU limit (the request then defaults to the limit), when the pod sets
//! a pod-level `spec.resources.requests.cpu`, and when a LimitRange of the
//! object's namespace in the input gives containers a default
//! (`defaultRequest`, `default`, `max` or `min` for `cpu`, as the API server
//! derives it). Ephemeral containers cannot set resources and are skipped.
//!
//! ## Why it matters
//!
//! The scheduler places pods by their requests. A container without a CPU
//! request is scheduled as if it needed none, so nodes get overcommitted and
//! the container is the first to be starved when CPU runs short.
//!
//! ## How to fix it
//!
//! Set `resources.requests.cpu` to what the container needs under normal load,
//! or give the namespace a LimitRange with a `defaultRequest`.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   resources:
//!     requests:
//!       cpu: 250m
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_missing, Section};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "resources/cpu-requests",
        title: "Containers should request CPU",
        severity: Severity::Low,
        category: "resources",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
        controls: &[Control::nsa("resource-policies")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    report_missing(
        cx,
        object,
        sink,
        Section::Requests,
        "cpu",
        "CPU",
        "Set resources.requests.cpu to what the container needs under normal load.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_containers_and_init_containers_without_cpu_request() {
        let findings = run(
            &RULE,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: init\n        image: x\n      containers:\n      - name: a\n        image: x\n        resources:\n          requests: {memory: 1Gi}\n      - name: b\n        image: x\n        resources: {requests: {cpu: 100m}}\n      ephemeralContainers:\n      - name: debug\n        image: x\n",
        );
        assert_eq!(positions(&findings), [(8, 9), (14, 21)]);
        assert_eq!(
            findings[1].location.field.as_deref(),
            Some("spec.template.spec.containers[0].resources.requests")
        );
        assert!(findings[0].message.contains("init container \"init\""));
    }

    #[test]
    fn limit_pod_level_and_limit_range_satisfy_it() {
        let with_limit = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources: {limits: {cpu: 1}}\n";
        assert!(run(&RULE, with_limit).is_empty());
        let pod_level = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  resources: {requests: {cpu: 1}}\n  containers:\n  - {name: a, image: x}\n";
        assert!(run(&RULE, pod_level).is_empty());
        let limit_range = "apiVersion: v1\nkind: LimitRange\nmetadata: {name: lr, namespace: shop}\nspec:\n  limits:\n  - type: Container\n    max: {cpu: 2}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - {name: a, image: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: other}\nspec:\n  containers:\n  - {name: a, image: x}\n";
        let findings = run(&RULE, limit_range);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].object.to_string(), "Pod other/p");
    }
}
