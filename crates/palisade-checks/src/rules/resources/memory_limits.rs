//! ## What it finds
//!
//! A container or init container without a memory limit
//! (`resources.limits.memory`).
//!
//! It stays quiet when the pod sets a pod-level `spec.resources.limits.memory`
//! (which bounds every container together), and when a LimitRange of the
//! object's namespace in the input gives containers a default limit
//! (`default`, or `max`, from which Kubernetes derives the default). Ephemeral
//! containers cannot set resources and are skipped.
//!
//! ## Why it matters
//!
//! A container without a memory limit can take all the memory of its node: a
//! leak or an attacker's workload then triggers the kernel's OOM killer on
//! neighbouring pods and can make the node unusable (denial of service).
//!
//! ## How to fix it
//!
//! Set `resources.limits.memory` above the container's peak working set, or
//! give the namespace a LimitRange with a `default` limit.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   resources:
//!     requests:
//!       memory: 256Mi
//!     limits:
//!       memory: 512Mi
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_missing, Section};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "resources/memory-limits",
        title: "Containers should have a memory limit",
        severity: Severity::Medium,
        category: "resources",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
        controls: &[Control::nsa("resource-policies"), Control::mitre("T1499")],
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
        Section::Limits,
        "memory",
        "memory",
        "Set resources.limits.memory above the container's peak working set.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_missing_memory_limit_even_with_a_request() {
        let findings = run(
            &RULE,
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers:\n          - name: a\n            image: x\n            resources: {requests: {memory: 1Gi}}\n",
        );
        assert_eq!(positions(&findings), [(14, 24)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.jobTemplate.spec.template.spec.containers[0].resources")
        );
    }

    #[test]
    fn passes_with_limit_or_limit_range_default() {
        let set = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources: {limits: {memory: 1Gi}}\n";
        assert!(run(&RULE, set).is_empty());
        let lr = "apiVersion: v1\nkind: LimitRange\nmetadata: {name: lr}\nspec:\n  limits:\n  - type: Container\n    default: {memory: 512Mi}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: x}\n";
        assert!(run(&RULE, lr).is_empty());
        // defaultRequest does not set a limit.
        let request_only = lr.replace("default:", "defaultRequest:");
        assert_eq!(run(&RULE, &request_only).len(), 1);
    }
}
