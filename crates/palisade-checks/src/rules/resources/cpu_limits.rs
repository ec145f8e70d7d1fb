//! ## What it finds
//!
//! A container or init container without a CPU limit (`resources.limits.cpu`).
//! Optional: off unless enabled.
//!
//! It stays quiet when the pod sets a pod-level `spec.resources.limits.cpu`,
//! and when a LimitRange of the object's namespace in the input gives
//! containers a default limit (`default`, or `max`). Ephemeral containers
//! cannot set resources and are skipped.
//!
//! The check is off by default because a missing CPU limit is a reasonable
//! choice: CPU is compressible, a container over its request only uses idle
//! CPU, and limits cause throttling even on idle nodes. Enable it where
//! policy (multi-tenant clusters, CIS/NSA reporting) requires CPU limits.
//!
//! ## Why it matters
//!
//! Without a CPU limit a busy or compromised container can use all the spare
//! CPU of its node, which makes the latency of its neighbours unpredictable
//! (and, in shared clusters, is a denial-of-service vector).
//!
//! ## How to fix it
//!
//! Set `resources.limits.cpu`, or give the namespace a LimitRange with a
//! `default` limit.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   resources:
//!     requests:
//!       cpu: 250m
//!     limits:
//!       cpu: "1"
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_missing, Section};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "resources/cpu-limits",
        title: "Containers should have a CPU limit",
        severity: Severity::Low,
        category: "resources",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
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
        "cpu",
        "CPU",
        "Set resources.limits.cpu, or a LimitRange default for the namespace.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_missing_cpu_limit() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources:\n      limits: {memory: 1Gi}\n      requests: {cpu: 1}\n",
        );
        assert_eq!(positions(&findings), [(9, 15)]);
    }

    #[test]
    fn passes_with_cpu_limit() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources: {limits: {cpu: 500m}}\n",
        );
        assert!(findings.is_empty());
    }
}
