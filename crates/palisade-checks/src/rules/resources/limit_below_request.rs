//! ## What it finds
//!
//! A container whose request for a resource is larger than its limit
//! (`requests.memory: 2Gi` with `limits.memory: 1Gi`), and, for resources that
//! cannot be overcommitted (hugepages and extended resources such as
//! `nvidia.com/gpu`), a request different from the limit or a request without
//! a limit. Quantities are compared by value, so `1Gi` equals `1073741824`
//! and `500m` equals `0.5`.
//!
//! ## Why it matters
//!
//! The API server rejects such a pod (`must be less than or equal to ... limit`,
//! `must be equal to ... limit`): the manifest cannot be applied, or a
//! controller keeps failing to create its pods.
//!
//! ## How to fix it
//!
//! Raise the limit or lower the request so that the request is at most the
//! limit; for GPUs and other extended resources set both to the same value
//! (or set only the limit, the request then defaults to it).
//!
//! ## Example
//!
//! ```yaml
//! resources:
//!   requests: {memory: 512Mi, nvidia.com/gpu: 1}
//!   limits: {memory: 1Gi, nvidia.com/gpu: 1}
//! ```

use palisade_model::{ContainerKind, Object, RuleMeta, Severity};

use super::util::{quantity, Section};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "resources/limit-below-request",
        title: "A resource limit must not be below its request",
        severity: Severity::High,
        category: "resources",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#requests-and-limits",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

/// Whether Kubernetes lets the request of `resource` be below its limit:
/// native resources (no domain, or a `kubernetes.io` domain) except hugepages.
fn overcommit_allowed(resource: &str) -> bool {
    if resource.starts_with("hugepages-") {
        return false;
    }
    match resource.split_once('/') {
        None => true,
        Some((domain, _)) => domain == "kubernetes.io" || domain.ends_with(".kubernetes.io"),
    }
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        if c.container.kind == ContainerKind::EphemeralContainer {
            return;
        }
        let Some(resources) = c.node().get_set("resources") else {
            return;
        };
        let limits = resources.get_set(Section::Limits.key());
        for (key, request) in resources
            .get_set(Section::Requests.key())
            .map(|n| n.entries())
            .unwrap_or(&[])
        {
            let Some(name) = key.as_str() else { continue };
            let Some(want) = quantity(request) else {
                continue;
            };
            let limit = limits.and_then(|l| l.get_set(name));
            let strict = !overcommit_allowed(name);
            match limit {
                Some(limit_node) => {
                    let Some(cap) = quantity(limit_node) else {
                        continue;
                    };
                    let bad = if strict { want != cap } else { want > cap };
                    if bad {
                        let relation = if strict { "differs from" } else { "is above" };
                        sink.report(
                            request,
                            c.field(&format!("resources.requests.{name}")),
                            format!(
                                "{}: {name} request {} {relation} its limit {}; the API server rejects this",
                                c.describe(),
                                request.display_value(),
                                limit_node.display_value()
                            ),
                            if strict {
                                "Set the request equal to the limit (or set only the limit)."
                            } else {
                                "Lower the request or raise the limit so the request is at most the limit."
                            },
                        );
                    }
                }
                None if strict => sink.report(
                    request,
                    c.field(&format!("resources.requests.{name}")),
                    format!(
                        "{}: {name} cannot be overcommitted, so a request needs an equal limit; the API server rejects this",
                        c.describe()
                    ),
                    "Set the limit to the same value (or set only the limit).",
                ),
                None => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_request_above_limit_by_value() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources:\n      requests: {memory: 2Gi, cpu: '1'}\n      limits: {memory: 1024Mi, cpu: 1000m}\n",
        );
        assert_eq!(positions(&findings), [(9, 26)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.containers[0].resources.requests.memory")
        );
    }

    #[test]
    fn extended_resources_need_equal_limits() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources:\n      requests: {nvidia.com/gpu: 1, example.com/foo: 2, memory: 1Gi}\n      limits: {nvidia.com/gpu: 2}\n",
        );
        assert_eq!(findings.len(), 2);
        assert!(findings[0].message.contains("differs from"));
        assert!(findings[1].message.contains("example.com/foo"));
    }

    #[test]
    fn passes_when_request_at_most_limit() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources:\n      requests: {memory: 1Gi, cpu: 500m, nvidia.com/gpu: 1}\n      limits: {memory: 1Gi, cpu: 1, nvidia.com/gpu: '1'}\n",
        );
        assert!(findings.is_empty());
    }
}
