//! ## What it finds
//!
//! A StatefulSet whose `spec.serviceName` names a Service that is not in the
//! input, or a Service that is not headless (`clusterIP: None`), in the same
//! namespace.
//!
//! The check runs only when the input contains Services in the StatefulSet's
//! namespace, so scanning a StatefulSet whose Service is managed elsewhere
//! reports nothing. A StatefulSet without `serviceName` is not reported: the
//! field is optional since Kubernetes 1.30 and only needed for per-pod DNS.
//!
//! ## Why it matters
//!
//! The governing headless Service gives each pod of the set its stable DNS
//! name (`db-0.db.shop.svc`). Without it, or with a Service that has a cluster
//! IP, those names do not resolve and peers (database replicas, cluster
//! members) cannot find each other.
//!
//! ## How to fix it
//!
//! Create a headless Service with that name selecting the set's pods, or fix
//! `serviceName`.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: v1
//! kind: Service
//! metadata: {name: db, namespace: shop}
//! spec:
//!   clusterIP: None
//!   selector: {app: db}
//!   ports: [{port: 5432}]
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/statefulset-service",
        title: "A StatefulSet's serviceName should be an existing headless Service",
        severity: Severity::Medium,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#stable-network-id",
        controls: &[],
    },
    kinds: Kinds::Only(&["StatefulSet"]),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(node) = object.root.path(&["spec", "serviceName"]) else {
        return;
    };
    let Some(name) = node.as_str().filter(|n| !n.is_empty()) else {
        return;
    };
    let ns = namespace_of(object);
    if cx.index.in_namespace(ns, "Service").next().is_none() {
        return;
    }
    match cx.index.get("Service", ns, name) {
        None => sink.report(
            node,
            "spec.serviceName",
            format!("serviceName {name:?} names no Service in this namespace of the input"),
            "Create a headless Service (clusterIP: None) with this name, or fix serviceName.",
        ),
        Some(service) => {
            let cluster_ip = service
                .root
                .path(&["spec", "clusterIP"])
                .and_then(Node::as_str);
            if cluster_ip != Some("None") {
                sink.report(
                    node,
                    "spec.serviceName",
                    format!("Service {name} is not headless (clusterIP: None), so the pods get no stable DNS names"),
                    "Set clusterIP: None on the governing Service.",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const STS: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\nspec:\n  serviceName: db\n";

    #[test]
    fn flags_missing_and_non_headless_service() {
        let other = format!(
            "{STS}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop}}\n"
        );
        assert_eq!(positions(&run(&RULE, &other)), [(5, 16)]);
        let clustered = format!("{STS}---\napiVersion: v1\nkind: Service\nmetadata: {{name: db, namespace: shop}}\nspec: {{selector: {{app: db}}}}\n");
        let findings = run(&RULE, &clustered);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("not headless"));
    }

    #[test]
    fn passes_headless_or_no_services_in_namespace() {
        assert!(run(&RULE, STS).is_empty());
        let headless = format!("{STS}---\napiVersion: v1\nkind: Service\nmetadata: {{name: db, namespace: shop}}\nspec: {{clusterIP: None}}\n");
        assert!(run(&RULE, &headless).is_empty());
    }
}
