//! ## What it finds
//!
//! A container or init container without an ephemeral-storage limit
//! (`resources.limits.ephemeral-storage`). Optional: off unless enabled.
//!
//! It stays quiet when the pod sets a pod-level limit, and when a LimitRange of
//! the object's namespace in the input gives containers a default (`default`
//! or `max`). The request defaults to the limit, so only the limit is checked.
//! Ephemeral containers cannot set resources and are skipped.
//!
//! ## Why it matters
//!
//! Container logs, the writable layer and `emptyDir` volumes live on the node's
//! disk. A container without a limit can fill it, and the kubelet then evicts
//! every pod on the node under disk pressure.
//!
//! ## How to fix it
//!
//! Set `resources.limits.ephemeral-storage` (and a request for scheduling).
//!
//! ## Example
//!
//! ```yaml
//! resources:
//!   requests: {ephemeral-storage: 1Gi}
//!   limits: {ephemeral-storage: 2Gi}
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_missing, Section};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "resources/ephemeral-storage",
        title: "Containers should have an ephemeral-storage limit",
        severity: Severity::Low,
        category: "resources",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#local-ephemeral-storage",
        controls: &[Control::nsa("resource-policies"), Control::mitre("T1499")],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    report_missing(
        cx,
        object,
        sink,
        Section::Limits,
        "ephemeral-storage",
        "ephemeral-storage",
        "Set resources.limits.ephemeral-storage.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::run;

    #[test]
    fn flags_missing_and_passes_present() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: x\n    resources: {limits: {ephemeral-storage: 1Gi}}\n",
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0]
            .message
            .contains("container \"a\" has no ephemeral-storage limit"));
    }
}
