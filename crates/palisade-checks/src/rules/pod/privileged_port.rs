//! ## What it finds
//!
//! *Optional check.* A Linux container that declares a `containerPort`
//! below 1024 (a privileged port) without a way to bind it unprivileged.
//!
//! Not reported: containers that add `NET_BIND_SERVICE` (the intended way to
//! bind a low port without root), privileged containers, pods whose
//! `net.ipv4.ip_unprivileged_port_start` sysctl allows the port, and Windows
//! pods. Optional because many images (nginx, httpd) listen on port 80 by
//! default and some runtimes (containerd 2.x) already lower
//! `ip_unprivileged_port_start` to 0.
//!
//! ## Why it matters
//!
//! Binding a port below 1024 needs root or `CAP_NET_BIND_SERVICE`. A
//! container that listens on 80 is therefore usually a container that runs
//! as root; moving it to 8080 is often the only change needed to run it as
//! a non-root user. The Service can still expose port 80.
//!
//! ## How to fix it
//!
//! Make the application listen on a port of 1024 or more and map it in the
//! Service (`port: 80`, `targetPort: 8080`); or keep the port, run as
//! non-root and add `NET_BIND_SERVICE`.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: nginxinc/nginx-unprivileged:1.27
//!   ports:
//!   - containerPort: 8080
//! ---
//! kind: Service
//! spec:
//!   ports:
//!   - {port: 80, targetPort: 8080}
//! ```

use palisade_model::{pod_template, Control, Node, Object, RuleMeta, Severity};

use super::util::{capability_list, is_privileged, is_windows, ports};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/privileged-port",
        title: "Containers should listen on ports of 1024 or more",
        severity: Severity::Low,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
        controls: &[Control::nsa("non-root-containers")],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    if is_windows(&pod) {
        return;
    }
    // The lowest unprivileged port, when the pod lowers it with a sysctl.
    let unprivileged_start = pod
        .security_context()
        .and_then(|sc| sc.get("sysctls"))
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .find(|s| {
            s.get("name").and_then(Node::as_str) == Some("net.ipv4.ip_unprivileged_port_start")
        })
        .and_then(|s| s.get("value"))
        .and_then(|v| {
            v.as_str()
                .and_then(|t| t.trim().parse::<i64>().ok())
                .or(v.as_i64())
        })
        .unwrap_or(1024);
    each_container(object, |c| {
        if is_privileged(c)
            || capability_list(c, "add")
                .iter()
                .any(|(_, _, cap)| cap == "NET_BIND_SERVICE" || cap == "ALL")
        {
            return;
        }
        for port in ports(c) {
            if port.number < 1 || port.number >= 1024 || port.number >= unprivileged_start {
                continue;
            }
            sink.report(
                port.node,
                c.field(&format!("ports[{}].containerPort", port.index)),
                format!(
                    "{} listens on privileged port {}, which needs root or NET_BIND_SERVICE",
                    c.describe(),
                    port.number
                ),
                "Listen on a port of 1024 or more and map it in the Service, or run as non-root with NET_BIND_SERVICE added.",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_low_ports() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    ports:\n    - {containerPort: 8080}\n    - {containerPort: 443}\n",
        );
        assert_eq!(positions(&findings), [(10, 23)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.containers[0].ports[1].containerPort")
        );
    }

    #[test]
    fn passes_net_bind_service_and_sysctl() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    ports: [{containerPort: 80}]\n    securityContext: {capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  securityContext:\n    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: '0'}]\n  containers:\n  - name: a\n    image: x\n    ports: [{containerPort: 80}]\n",
        );
        assert!(findings.is_empty());
    }
}
