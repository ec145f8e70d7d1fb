//! ## What it finds
//!
//! A container or init container whose CPU or memory request differs from its
//! limit, so the pod is not in the `Guaranteed` QoS class. Optional: off unless
//! enabled. A request that is not set defaults to the limit and is fine; a
//! resource without a limit is the concern of the `resources/*-limits` checks.
//! Quantities are compared by value (`1Gi` equals `1024Mi`).
//!
//! ## Why it matters
//!
//! Pods whose requests equal their limits get the `Guaranteed` QoS class: they
//! are the last evicted under node pressure and can get exclusive CPUs with the
//! static CPU manager. Burstable pods can be throttled or evicted when their
//! neighbours are busy. Many workloads are fine as Burstable, hence optional.
//!
//! ## How to fix it
//!
//! Set each request equal to its limit, or set only limits.
//!
//! ## Example
//!
//! ```yaml
//! resources:
//!   requests: {cpu: "1", memory: 1Gi}
//!   limits: {cpu: "1", memory: 1Gi}
//! ```

use palisade_model::{ContainerKind, Object, RuleMeta, Severity};

use super::util::{container_value, quantity, Section};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "resources/requests-equal-limits",
        title: "CPU and memory requests should equal limits (Guaranteed QoS)",
        severity: Severity::Info,
        category: "resources",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/#guaranteed",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        if c.container.kind == ContainerKind::EphemeralContainer {
            return;
        }
        for resource in ["cpu", "memory"] {
            let (Some(request), Some(limit)) = (
                container_value(c, Section::Requests, resource),
                container_value(c, Section::Limits, resource),
            ) else {
                continue;
            };
            let (Some(r), Some(l)) = (quantity(request), quantity(limit)) else {
                continue;
            };
            if r != l {
                sink.report(
                    request,
                    c.field(&format!("resources.requests.{resource}")),
                    format!(
                        "{}: {resource} request {} differs from its limit {}",
                        c.describe(),
                        request.display_value(),
                        limit.display_value()
                    ),
                    "Set the request equal to the limit for Guaranteed QoS.",
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_differing_request() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources:\n      requests: {cpu: 500m, memory: 1Gi}\n      limits: {cpu: 1, memory: 1024Mi}\n",
        );
        assert_eq!(positions(&findings), [(9, 23)]);
        assert!(findings[0].message.contains("cpu request 500m"));
    }

    #[test]
    fn passes_when_equal_or_limits_only() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources:\n      requests: {cpu: 1000m}\n      limits: {cpu: 1, memory: 1Gi}\n",
        );
        assert!(findings.is_empty());
    }
}
