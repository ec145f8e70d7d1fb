//! ## What it finds
//!
//! A value in a container's `resources.requests` or `resources.limits` that is
//! not a Kubernetes quantity (`1GB`, `512mb`, `1 Gi`, `half`), or that is
//! negative. Valid quantities are a number with an optional suffix: `m`, `k`,
//! `M`, `G`, `T`, `P`, `E`, `Ki` ... `Ei`, or an exponent (`1e3`).
//!
//! ## Why it matters
//!
//! The API server rejects the object (`quantities must match the regular
//! expression ...`, `must be greater than or equal to 0`). A common slip is
//! `1GB` or `512mb`, which read naturally but are not valid units.
//!
//! ## How to fix it
//!
//! Write memory in binary units (`Mi`, `Gi`) or decimal ones (`M`, `G`) and CPU
//! in cores (`1`, `0.5`) or millicores (`500m`).
//!
//! ## Example
//!
//! ```yaml
//! resources:
//!   requests: {cpu: 250m, memory: 512Mi}   # not 512mb
//!   limits: {memory: 1Gi}                  # not 1GB
//! ```

use palisade_model::{ContainerKind, Object, RuleMeta, Severity};

use super::util::{quantity, Section};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "resources/invalid-quantity",
        title: "Resource requests and limits must be valid quantities",
        severity: Severity::High,
        category: "resources",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = palisade_model::pod_template(object) else {
        return;
    };
    if let Some(resources) = pod.spec.get_set("resources") {
        for section in [Section::Requests, Section::Limits] {
            report_invalid(
                sink,
                resources,
                section,
                &pod.field_path("resources"),
                "pod",
            );
        }
    }
    each_container(object, |c| {
        if c.container.kind == ContainerKind::EphemeralContainer {
            return;
        }
        let Some(resources) = c.node().get_set("resources") else {
            return;
        };
        for section in [Section::Requests, Section::Limits] {
            report_invalid(
                sink,
                resources,
                section,
                &c.field("resources"),
                &c.describe(),
            );
        }
    });
}

fn report_invalid(
    sink: &mut Sink<'_>,
    resources: &palisade_model::Node,
    section: Section,
    base: &str,
    who: &str,
) {
    for (key, value) in resources
        .get_set(section.key())
        .map(|n| n.entries())
        .unwrap_or(&[])
    {
        if value.is_null() {
            continue;
        }
        let name = key.key_text();
        let problem = match quantity(value) {
            None => "is not a valid quantity",
            Some(v) if v < 0.0 => "is negative",
            Some(_) => continue,
        };
        sink.report(
            value,
            format!("{base}.{}.{name}", section.key()),
            format!(
                "{who}: {name} {} {:?} {problem}; the API server rejects it",
                section.key(),
                value.display_value()
            ),
            "Use a Kubernetes quantity: 500m or 0.5 for CPU, 512Mi or 1Gi for memory.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_bad_units_and_negatives() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources:\n      requests: {memory: 512mb, cpu: -1}\n      limits: {memory: 1GB, cpu: 2}\n",
        );
        assert_eq!(positions(&findings), [(9, 26), (9, 38), (10, 24)]);
        assert!(findings[0].message.contains("\"512mb\""));
        assert!(findings[1].message.contains("negative"));
    }

    #[test]
    fn passes_valid_quantities() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources:\n      requests: {memory: 1e9, cpu: 0.5, ephemeral-storage: 2Gi}\n      limits: {memory: 1G, cpu: '1'}\n",
        );
        assert!(findings.is_empty());
    }
}
