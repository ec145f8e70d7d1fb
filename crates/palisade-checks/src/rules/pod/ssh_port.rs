//! ## What it finds
//!
//! A container that declares an SSH port: `containerPort: 22` over TCP, or a
//! port whose name contains `ssh` (`ssh`, `sshd`, `ssh-alt`).
//!
//! ## Why it matters
//!
//! An SSH server in a container is a second way in that bypasses the
//! Kubernetes API, its RBAC and its audit log, with credentials (keys,
//! passwords) that must be managed and rotated separately. It is also a
//! favourite target for brute force and a common lateral-movement path.
//! Git servers that serve SSH (Gitea, GitLab Shell) are the legitimate
//! exception; suppress the finding for them.
//!
//! ## How to fix it
//!
//! Remove the SSH server and the port. Use `kubectl exec` or
//! `kubectl debug` (authorised by RBAC and audited) for interactive access.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   ports:
//!   - {name: http, containerPort: 8080}   # no port 22
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::ports;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/ssh-port",
        title: "Containers should not expose an SSH server",
        severity: Severity::Medium,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/kubectl/generated/kubectl_exec/",
        controls: &[Control::mitre("T1021")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        for port in ports(c) {
            let by_number = port.number == 22 && port.protocol.eq_ignore_ascii_case("TCP");
            let by_name = port.name.to_ascii_lowercase().contains("ssh");
            if !by_number && !by_name {
                continue;
            }
            let named = if port.name.is_empty() {
                String::new()
            } else {
                format!(" ({:?})", port.name)
            };
            sink.report(
                port.node,
                c.field(&format!("ports[{}].containerPort", port.index)),
                format!("{} exposes SSH port {}{named}", c.describe(), port.number),
                "Remove the SSH server; use kubectl exec or kubectl debug for interactive access.",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_port_22_and_ssh_names() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    ports:\n    - {containerPort: 22}\n    - {name: sshd, containerPort: 2222}\n    - {containerPort: 22, protocol: UDP}\n    - {name: http, containerPort: 8080}\n",
        );
        assert_eq!(positions(&findings), [(9, 23), (10, 35)]);
        assert!(findings[1].message.contains("port 2222 (\"sshd\")"));
    }

    #[test]
    fn passes_other_ports() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: x, ports: [{containerPort: 8022}]}\n",
        );
        assert!(findings.is_empty());
    }
}
