//! ## What it finds
//!
//! An Ingress backend (`spec.defaultBackend` or a
//! `rules[].http.paths[].backend`, also the old `serviceName`/`servicePort`
//! form) naming a Service that is not in the input, or a port the Service does
//! not have.
//!
//! The check runs only when the input has Services in the Ingress's
//! namespace, so an Ingress scanned without its application says nothing.
//! `resource` backends are not judged.
//!
//! ## Why it matters
//!
//! The controller answers requests for that path with 503: the route is
//! broken, usually by a renamed Service or port.
//!
//! ## How to fix it
//!
//! Point the backend at an existing Service and one of its ports (by number
//! or by name).
//!
//! ## Example
//!
//! ```yaml
//! kind: Ingress
//! spec:
//!   rules:
//!   - host: shop.example.com
//!     http:
//!       paths:
//!       - path: /
//!         pathType: Prefix
//!         backend:
//!           service: {name: web, port: {name: http}}   # Service web has a port named http
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use super::util::has_in_namespace;
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/ingress-backend-missing",
        title: "Ingress backends should be existing Services and ports",
        severity: Severity::Low,
        category: "network",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/services-networking/ingress/#the-ingress-resource",
        controls: &[],
    },
    kinds: Kinds::Only(&["Ingress"]),
    optional: false,
    check,
};

/// A port reference: by number or by name.
pub(crate) enum PortRef<'a> {
    Number(i64),
    Name(&'a str),
}

/// Whether a Service exposes `port` (`spec.ports[].port` or `.name`).
pub(crate) fn service_has_port(service: &Object, port: &PortRef<'_>) -> bool {
    service
        .root
        .path(&["spec", "ports"])
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .any(|p| match port {
            PortRef::Number(n) => p.get("port").and_then(Node::as_i64) == Some(*n),
            PortRef::Name(name) => p.get("name").and_then(Node::as_str) == Some(*name),
        })
}

fn port_ref(node: Option<&Node>) -> Option<PortRef<'_>> {
    let node = node?;
    if let Some(n) = node.as_i64() {
        return Some(PortRef::Number(n));
    }
    node.as_str().map(PortRef::Name)
}

/// (name node, field path of the backend, service name, port) of every backend.
fn backends<'a>(spec: &'a Node) -> Vec<(&'a Node, String, Option<PortRef<'a>>)> {
    let mut out = Vec::new();
    let mut add = |backend: &'a Node, field: String| {
        if let Some(service) = backend.get("service") {
            if let Some(name) = service.get("name") {
                let port = service
                    .get("port")
                    .and_then(|p| port_ref(p.get("number")).or_else(|| port_ref(p.get("name"))));
                out.push((name, format!("{field}.service.name"), port));
            }
        } else if let Some(name) = backend.get("serviceName") {
            out.push((
                name,
                format!("{field}.serviceName"),
                port_ref(backend.get("servicePort")),
            ));
        }
    };
    for key in ["defaultBackend", "backend"] {
        if let Some(b) = spec.get(key) {
            add(b, format!("spec.{key}"));
        }
    }
    for (i, rule) in spec
        .get("rules")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let paths = rule
            .path(&["http", "paths"])
            .map(Node::items)
            .unwrap_or(&[]);
        for (j, path) in paths.iter().enumerate() {
            if let Some(b) = path.get("backend") {
                add(b, format!("spec.rules[{i}].http.paths[{j}].backend"));
            }
        }
    }
    out
}

/// AWS Load Balancer Controller actions: a backend named after an
/// `alb.ingress.kubernetes.io/actions.<name>` annotation, with port
/// `use-annotation`, is a redirect or fixed response, not a Service.
fn is_alb_action(object: &Object, name: &str, port: Option<&PortRef<'_>>) -> bool {
    matches!(port, Some(PortRef::Name("use-annotation")))
        || object
            .annotations()
            .any(|(k, _)| k.strip_prefix("alb.ingress.kubernetes.io/actions.") == Some(name))
}

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let ns = namespace_of(object);
    if !has_in_namespace(cx, ns, "Service") {
        return;
    }
    let Some(spec) = object.root.get("spec") else {
        return;
    };
    for (node, field, port) in backends(spec) {
        let Some(name) = node.as_str() else { continue };
        if is_alb_action(object, name, port.as_ref()) {
            continue;
        }
        match cx.index.get("Service", ns, name) {
            None => sink.report(
                node,
                field,
                format!(
                    "{} routes to Service {name:?}, which is not in the input",
                    object.id
                ),
                "Point the backend at an existing Service of the Ingress's namespace.",
            ),
            Some(service) => {
                let Some(port) = port else { continue };
                if !service_has_port(service, &port) {
                    let shown = match port {
                        PortRef::Number(n) => n.to_string(),
                        PortRef::Name(n) => format!("{n:?}"),
                    };
                    sink.report(
                        node,
                        field,
                        format!(
                            "{} routes to port {shown} of Service {name:?}, which has no such port",
                            object.id
                        ),
                        "Use one of the Service's spec.ports (number or name).",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const SERVICE: &str = "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{name: http, port: 80}]}\n";

    #[test]
    fn flags_missing_services_and_ports() {
        let yaml = format!("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: i, namespace: shop}}\nspec:\n  defaultBackend: {{service: {{name: web, port: {{number: 8080}}}}}}\n  rules:\n  - http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend: {{service: {{name: api, port: {{name: http}}}}}}\n      - path: /w\n        pathType: Prefix\n        backend: {{service: {{name: web, port: {{name: http}}}}}}\n{SERVICE}");
        let findings = run(&RULE, &yaml);
        assert_eq!(positions(&findings), [(5, 36), (11, 35)]);
        assert!(findings[0].message.contains("port 8080"));
        assert_eq!(
            findings[1].location.field.as_deref(),
            Some("spec.rules[0].http.paths[0].backend.service.name")
        );
    }

    #[test]
    fn old_form_and_quiet_without_services() {
        let yaml = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i, namespace: shop}\nspec:\n  backend: {serviceName: web, servicePort: 80}\n";
        assert!(run(&RULE, yaml).is_empty());
        assert!(run(&RULE, &format!("{yaml}{SERVICE}")).is_empty());
        let bad = yaml.replace("serviceName: web", "serviceName: old");
        assert_eq!(run(&RULE, &format!("{bad}{SERVICE}")).len(), 1);
        let alb = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  namespace: shop\n  annotations: {alb.ingress.kubernetes.io/actions.ssl-redirect: '{}'}\nspec:\n  rules:\n  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: ssl-redirect, port: {name: use-annotation}}}}\n";
        assert!(run(&RULE, &format!("{alb}{SERVICE}")).is_empty());
    }
}
