//! ## What it finds
//!
//! A container or init container without a memory request
//! (`resources.requests.memory`).
//!
//! It stays quiet where Kubernetes fills the request in: when the container
//! sets a memory limit (the request then defaults to the limit), when the pod
//! sets a pod-level `spec.resources.requests.memory`, and when a LimitRange of
//! the object's namespace in the input gives containers a default
//! (`defaultRequest`, `default`, `max` or `min` for `memory`). Ephemeral
//! containers cannot set resources and are skipped.
//!
//! ## Why it matters
//!
//! Without a memory request the scheduler does not reserve memory for the
//! container: nodes get overcommitted, and under memory pressure the kubelet
//! evicts pods without requests first.
//!
//! ## How to fix it
//!
//! Set `resources.requests.memory` to the container's normal working set, or
//! give the namespace a LimitRange with a `defaultRequest`.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   resources:
//!     requests:
//!       memory: 256Mi
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_missing, Section};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "resources/memory-requests",
        title: "Containers should request memory",
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
        "memory",
        "memory",
        "Set resources.requests.memory to the container's normal working set.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_missing_memory_request() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources: {requests: {cpu: 1}}\n  - name: b\n    image: x\n    resources: {limits: {memory: 1Gi}}\n",
        );
        assert_eq!(positions(&findings), [(8, 27)]);
        assert!(findings[0].message.contains("no memory request"));
    }

    #[test]
    fn limit_range_default_satisfies_it() {
        let yaml = "apiVersion: v1\nkind: LimitRange\nmetadata: {name: lr, namespace: shop}\nspec:\n  limits:\n  - type: Container\n    defaultRequest: {memory: 128Mi}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - {name: a, image: x}\n";
        assert!(run(&RULE, yaml).is_empty());
        // A Pod-type LimitRange item sets no container defaults.
        let pod_type = yaml.replace("type: Container", "type: Pod");
        assert_eq!(run(&RULE, &pod_type).len(), 1);
    }
}
