//! ## What it finds
//!
//! A Service whose `selector` matches the pod template of no workload in its
//! namespace.
//!
//! The check runs only when the input has workloads in that namespace. A
//! Service without a selector (endpoints managed by hand or by a controller)
//! and an `ExternalName` Service select no pods on purpose and are skipped.
//!
//! ## Why it matters
//!
//! A Service that selects nothing has no endpoints: clients get connection
//! refused or time out. It is usually a typo or a label renamed on one side
//! only.
//!
//! ## How to fix it
//!
//! Make the Service's `selector` a subset of the labels of the pod template it
//! fronts.
//!
//! ## Example
//!
//! ```yaml
//! kind: Service
//! spec:
//!   selector: {app: web}   # the Deployment's spec.template.metadata.labels has app: web
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::{has_workloads, service_selector, service_type};
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/service-selects-no-pod",
        title: "Services should select at least one workload",
        severity: Severity::Low,
        category: "network",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service",
        controls: &[],
    },
    kinds: Kinds::Only(&["Service"]),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if service_type(object) == "ExternalName" {
        return;
    }
    let Some((node, selector)) = service_selector(object) else {
        return;
    };
    let ns = namespace_of(object);
    if !has_workloads(cx, ns) || cx.index.workloads_matching(ns, &selector).next().is_some() {
        return;
    }
    let wanted: Vec<String> = selector
        .match_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    sink.report(
        node,
        "spec.selector",
        format!(
            "the selector {} of {} matches no workload of its namespace",
            wanted.join(","),
            object.id
        ),
        "Make spec.selector match the pod template labels of the workload this Service fronts.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const DEPLOY: &str = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: web, tier: front}}\n    spec: {containers: [{name: a, image: x}]}\n";

    fn service(spec: &str) -> String {
        format!("apiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: shop}}\nspec:\n  {spec}\n")
    }

    #[test]
    fn flags_dangling_selector() {
        let findings = run(
            &RULE,
            &format!("{}{DEPLOY}", service("selector: {app: api}")),
        );
        assert_eq!(positions(&findings), [(5, 13)]);
        assert!(findings[0].message.contains("app=api"));
    }

    #[test]
    fn passes_matching_selectorless_external_or_alone() {
        for spec in [
            "selector: {app: web}",
            "ports: [{port: 80}]",
            "type: ExternalName\n  externalName: x.example.com\n  selector: {app: nope}",
        ] {
            assert!(
                run(&RULE, &format!("{}{DEPLOY}", service(spec))).is_empty(),
                "{spec}"
            );
        }
        assert!(run(&RULE, &service("selector: {app: api}")).is_empty());
    }
}
