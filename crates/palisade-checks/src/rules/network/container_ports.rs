//! ## What it finds
//!
//! Container `ports` that are wrong or ambiguous:
//!
//! - a `containerPort` outside 1–65535 (rejected by the API server);
//! - a port `name` that is not an IANA_SVC_NAME (at most 15 lowercase
//!   letters, digits and `-`, with a letter; rejected by the API server);
//! - two ports of one container with the same name (rejected);
//! - two ports of one container with the same `containerPort` and `protocol`
//!   (accepted with a warning, and only one of them is kept by server-side
//!   apply and by tools that merge ports by key).
//!
//! Host ports are judged by `pss/hostPorts`.
//!
//! ## Why it matters
//!
//! An invalid port fails the rollout at apply time; a duplicate makes
//! `kubectl apply` merges and Service `targetPort` names resolve in ways the
//! author did not intend.
//!
//! ## How to fix it
//!
//! Give each port a unique, valid name and list each port and protocol once.
//!
//! ## Example
//!
//! ```yaml
//! ports:
//! - {name: http, containerPort: 8080, protocol: TCP}
//! - {name: metrics, containerPort: 9090, protocol: TCP}
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use super::util::is_iana_svc_name;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/container-ports",
        title: "Container ports should be valid and unique",
        severity: Severity::Low,
        category: "network",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#ports",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        let ports = c.node().get("ports").map(Node::items).unwrap_or(&[]);
        let mut seen_ports: Vec<(i64, &str)> = Vec::new();
        let mut seen_names: Vec<&str> = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            if let Some(p) = port.get("containerPort") {
                if let Some(n) = p.as_i64() {
                    let protocol = port.get("protocol").and_then(Node::as_str).unwrap_or("TCP");
                    if !(1..=65535).contains(&n) {
                        sink.report(
                            p,
                            c.field(&format!("ports[{i}].containerPort")),
                            format!(
                                "{} declares containerPort {n}, outside 1-65535",
                                c.describe()
                            ),
                            "Use a port number between 1 and 65535.",
                        );
                    } else if seen_ports.contains(&(n, protocol)) {
                        sink.report(
                            p,
                            c.field(&format!("ports[{i}].containerPort")),
                            format!(
                                "{} declares containerPort {n}/{protocol} twice",
                                c.describe()
                            ),
                            "List each containerPort and protocol once.",
                        );
                    } else {
                        seen_ports.push((n, protocol));
                    }
                }
            }
            let Some(node) = port.get("name") else {
                continue;
            };
            let Some(name) = node.as_str() else { continue };
            let field = c.field(&format!("ports[{i}].name"));
            if !is_iana_svc_name(name) {
                sink.report(
                    node,
                    field,
                    format!("{} has a port named {name:?}, which is not a valid port name (IANA_SVC_NAME)", c.describe()),
                    "Use at most 15 lowercase letters, digits and '-', with at least one letter.",
                );
            } else if seen_names.contains(&name) {
                sink.report(
                    node,
                    field,
                    format!("{} has two ports named {name:?}", c.describe()),
                    "Give each port of a container a unique name.",
                );
            } else {
                seen_names.push(name);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_invalid_and_duplicate_ports() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    ports:\n    - {name: http, containerPort: 80}\n    - {name: http, containerPort: 80, protocol: TCP}\n    - {name: dns, containerPort: 53, protocol: UDP}\n    - {name: dns-tcp, containerPort: 53}\n    - {name: Metrics_Port, containerPort: 70000}\n",
        );
        assert_eq!(
            positions(&findings),
            [(10, 35), (10, 14), (13, 43), (13, 14)]
        );
    }

    #[test]
    fn passes_valid_ports() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: x, ports: [{name: http, containerPort: 80}, {containerPort: 443}]}\n  - {name: b, image: x, ports: [{name: http, containerPort: 81}]}\n",
        );
        assert!(findings.is_empty());
    }
}
