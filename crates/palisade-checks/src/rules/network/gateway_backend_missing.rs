//! ## What it finds
//!
//! A Gateway API route (`HTTPRoute`, `GRPCRoute`, `TCPRoute`, `TLSRoute`,
//! `UDPRoute`) whose `backendRefs` (or `requestMirror` filter) name a Service
//! that is not in the input, or a port that Service does not have.
//!
//! Only references of kind `Service` in the core group (the default) are
//! judged, in the route's namespace or the one given by `namespace`, and only
//! when the input has Services in that namespace.
//!
//! ## Why it matters
//!
//! The gateway answers requests for the rule with an error (HTTP 500) and
//! marks the route `ResolvedRefs: False`: the route is broken, usually by a
//! renamed Service.
//!
//! ## How to fix it
//!
//! Point the `backendRefs` at an existing Service and one of its ports.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: gateway.networking.k8s.io/v1
//! kind: HTTPRoute
//! spec:
//!   rules:
//!   - backendRefs:
//!     - {name: web, port: 80}   # Service web exists and has port 80
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use super::ingress_backend_missing::{service_has_port, PortRef};
use super::util::{has_in_namespace, ref_namespace};
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/gateway-backend-missing",
        title: "Gateway API route backends should be existing Services and ports",
        severity: Severity::Low,
        category: "network",
        docs: rule_docs!(),
        help_uri: "https://gateway-api.sigs.k8s.io/reference/spec/#backendref",
        controls: &[],
    },
    kinds: Kinds::Only(&["HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"]),
    optional: false,
    check,
};

fn check_ref(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>, backend: &Node, field: String) {
    let group = backend.get("group").and_then(Node::as_str).unwrap_or("");
    let kind = backend
        .get("kind")
        .and_then(Node::as_str)
        .unwrap_or("Service");
    if !group.is_empty() || kind != "Service" {
        return;
    }
    let Some(node) = backend.get("name") else {
        return;
    };
    let Some(name) = node.as_str() else { return };
    let ns = ref_namespace(backend, namespace_of(object));
    if !has_in_namespace(cx, ns, "Service") {
        return;
    }
    match cx.index.get("Service", ns, name) {
        None => sink.report(
            node,
            format!("{field}.name"),
            format!(
                "{} sends traffic to Service {ns}/{name}, which is not in the input",
                object.id
            ),
            "Point the backendRef at an existing Service.",
        ),
        Some(service) => {
            let Some(port) = backend.get("port").and_then(Node::as_i64) else {
                return;
            };
            if !service_has_port(service, &PortRef::Number(port)) {
                sink.report(
                    node,
                    format!("{field}.name"),
                    format!("{} sends traffic to port {port} of Service {ns}/{name}, which has no such port", object.id),
                    "Use one of the Service's spec.ports[].port numbers.",
                );
            }
        }
    }
}

fn mirrors(filters: Option<&Node>) -> impl Iterator<Item = (usize, &Node)> {
    filters
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.path(&["requestMirror", "backendRef"]).map(|b| (i, b)))
}

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let rules = object
        .root
        .path(&["spec", "rules"])
        .map(Node::items)
        .unwrap_or(&[]);
    for (i, rule) in rules.iter().enumerate() {
        let refs = rule.get("backendRefs").map(Node::items).unwrap_or(&[]);
        for (j, backend) in refs.iter().enumerate() {
            let field = format!("spec.rules[{i}].backendRefs[{j}]");
            check_ref(cx, object, sink, backend, field.clone());
            for (k, mirror) in mirrors(backend.get("filters")) {
                check_ref(
                    cx,
                    object,
                    sink,
                    mirror,
                    format!("{field}.filters[{k}].requestMirror.backendRef"),
                );
            }
        }
        for (k, mirror) in mirrors(rule.get("filters")) {
            check_ref(
                cx,
                object,
                sink,
                mirror,
                format!("spec.rules[{i}].filters[{k}].requestMirror.backendRef"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const SERVICES: &str = "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: other}\nspec: {ports: [{port: 80}]}\n";

    #[test]
    fn flags_missing_services_and_ports() {
        let yaml = format!("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: shop}}\nspec:\n  rules:\n  - backendRefs:\n    - {{name: web, port: 80}}\n    - {{name: web, port: 8080}}\n    - {{name: gone, port: 80}}\n    - {{name: api, namespace: other, port: 80}}\n    - {{name: bucket, group: example.com, kind: Bucket}}\n    - {{name: x, namespace: nowhere, port: 1}}\n    filters:\n    - type: RequestMirror\n      requestMirror: {{backendRef: {{name: shadow, port: 80}}}}\n{SERVICES}");
        let findings = run(&RULE, &yaml);
        assert_eq!(positions(&findings), [(8, 14), (9, 14), (15, 42)]);
        assert_eq!(
            findings[2].location.field.as_deref(),
            Some("spec.rules[0].filters[0].requestMirror.backendRef.name")
        );
    }
}
