//! ## What it finds
//!
//! A Service port whose `targetPort` cannot work:
//!
//! - a number outside 1–65535, or a `port` outside that range;
//! - a name that is not a valid port name (IANA_SVC_NAME: at most 15
//!   lowercase letters, digits and `-`, with a letter);
//! - a name that no container of any workload the Service selects declares in
//!   its `ports` (judged only when the Service selects at least one workload
//!   of the input, so partial inputs stay quiet).
//!
//! ## Why it matters
//!
//! A named target port is resolved in each pod; where no container declares
//! the name, the pod is left out of that port's endpoints and the Service
//! sends traffic nowhere, with no error anywhere but empty endpoints.
//!
//! ## How to fix it
//!
//! Name the container port (`ports[].name`) exactly as the Service's
//! `targetPort`, or use the port number.
//!
//! ## Example
//!
//! ```yaml
//! kind: Service
//! spec:
//!   ports: [{port: 80, targetPort: http}]
//! ---
//! # in the pod template
//! containers:
//! - name: web
//!   ports: [{name: http, containerPort: 8080}]
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use super::util::{declares_port_name, is_iana_svc_name, service_selector, service_type};
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/service-target-port",
        title: "Service target ports should exist in the selected pods",
        severity: Severity::Low,
        category: "network",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/services-networking/service/#field-spec-ports",
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
    let ns = namespace_of(object);
    let selector = service_selector(object).map(|(_, s)| s);
    let ports = object
        .root
        .path(&["spec", "ports"])
        .map(Node::items)
        .unwrap_or(&[]);
    for (i, port) in ports.iter().enumerate() {
        if let Some(p) = port.get("port") {
            if let Some(n) = p.as_i64().filter(|n| !(1..=65535).contains(n)) {
                sink.report(
                    p,
                    format!("spec.ports[{i}].port"),
                    format!("port {n} of {} is outside 1-65535", object.id),
                    "Use a port number between 1 and 65535.",
                );
            }
        }
        let Some(target) = port.get_set("targetPort") else {
            continue;
        };
        let field = format!("spec.ports[{i}].targetPort");
        if let Some(n) = target.as_i64() {
            if !(1..=65535).contains(&n) {
                sink.report(
                    target,
                    field,
                    format!("targetPort {n} of {} is outside 1-65535", object.id),
                    "Use a container port number between 1 and 65535, or a port name.",
                );
            }
            continue;
        }
        let Some(name) = target.as_str() else {
            continue;
        };
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
            // A quoted number is an IntOrString of type string: a port name, invalid.
            sink.report(
                target,
                field,
                format!("targetPort {name:?} of {} is a quoted number, which Kubernetes reads as an (invalid) port name", object.id),
                "Remove the quotes so that the target port is a number.",
            );
            continue;
        }
        if !is_iana_svc_name(name) {
            sink.report(
                target,
                field,
                format!("targetPort {name:?} of {} is not a valid port name (IANA_SVC_NAME)", object.id),
                "Use a port name of at most 15 lowercase letters, digits and '-', or a port number.",
            );
            continue;
        }
        let Some(selector) = &selector else { continue };
        let mut selected = cx.index.workloads_matching(ns, selector).peekable();
        if selected.peek().is_none() {
            continue;
        }
        if !selected.any(|w| declares_port_name(w, name)) {
            sink.report(
                target,
                field,
                format!(
                    "targetPort {name:?} of {} is not declared by any container of the workloads it selects",
                    object.id
                ),
                "Name the container port (ports[].name) as the targetPort, or use the port number.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const DEPLOY: &str = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: a, image: x, ports: [{name: http, containerPort: 8080}]}]}\n";

    fn service(ports: &str) -> String {
        format!("apiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: shop}}\nspec:\n  selector: {{app: web}}\n  ports:\n  - {ports}\n")
    }

    #[test]
    fn flags_undeclared_invalid_and_out_of_range() {
        let findings = run(
            &RULE,
            &format!("{}{DEPLOY}", service("{port: 80, targetPort: metrics}")),
        );
        assert_eq!(positions(&findings), [(7, 28)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.ports[0].targetPort")
        );
        let findings = run(
            &RULE,
            &format!("{}{DEPLOY}", service("{port: 80, targetPort: Http_Port}")),
        );
        assert!(findings[0].message.contains("not a valid port name"));
        let findings = run(
            &RULE,
            &format!("{}{DEPLOY}", service("{port: 0, targetPort: 70000}")),
        );
        assert_eq!(findings.len(), 2);
    }

    #[test]
    fn passes_declared_numeric_or_unknown_workloads() {
        assert!(run(
            &RULE,
            &format!("{}{DEPLOY}", service("{port: 80, targetPort: http}"))
        )
        .is_empty());
        assert!(run(
            &RULE,
            &format!("{}{DEPLOY}", service("{port: 80, targetPort: 8080}"))
        )
        .is_empty());
        assert!(run(&RULE, &service("{port: 80, targetPort: metrics}")).is_empty());
        let findings = run(&RULE, &service("{port: 80, targetPort: '8080'}"));
        assert!(findings[0].message.contains("quoted number"));
    }
}
