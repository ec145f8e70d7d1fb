//! ## What it finds
//!
//! A liveness, readiness or startup probe (`httpGet` or `tcpSocket`) whose
//! `port` is a name that the container does not declare in its `ports`, or a
//! number outside 1-65535.
//!
//! The kubelet resolves a named probe port against the ports of the same
//! container only, so a name declared by another container of the pod does
//! not count. A numeric port needs no `containerPort` entry (container ports
//! are informational) and is not reported; a numeric string such as `"8080"`
//! works too, as the kubelet falls back to reading it as a number.
//!
//! ## Why it matters
//!
//! The API server accepts the manifest, but the kubelet cannot find the port
//! and the probe fails every time: a liveness probe restarts the container in
//! a loop, a readiness probe keeps the pod out of its Service forever, a
//! startup probe never lets it start.
//!
//! ## How to fix it
//!
//! Declare the port with that name on the container, or fix the name.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   ports:
//!   - {name: http, containerPort: 8080}
//!   livenessProbe:
//!     httpGet: {path: /healthz, port: http}
//! ```

use palisade_model::{ContainerKind, Node, Object, RuleMeta, Severity};

use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "probes/probe-port",
        title: "Probe ports must name a port of the container",
        severity: Severity::High,
        category: "probes",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/#use-a-named-port",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        if c.container.kind == ContainerKind::EphemeralContainer {
            return;
        }
        let ports = c.node().get("ports").map(Node::items).unwrap_or(&[]);
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            for handler in ["httpGet", "tcpSocket"] {
                let Some(port) = c.node().path(&[probe, handler, "port"]) else {
                    continue;
                };
                let field = c.field(&format!("{probe}.{handler}.port"));
                if let Some(number) = port.as_i64() {
                    if !(1..=65535).contains(&number) {
                        sink.report(
                            port,
                            field,
                            format!(
                                "{} {probe} port {number} is not a valid port number",
                                c.describe()
                            ),
                            "Use a port between 1 and 65535.",
                        );
                    }
                    continue;
                }
                let Some(name) = port.as_str() else { continue };
                if name.parse::<u16>().is_ok() {
                    continue;
                }
                let declared = ports
                    .iter()
                    .any(|p| p.get("name").and_then(Node::as_str) == Some(name));
                if !declared {
                    sink.report(
                        port,
                        field,
                        format!(
                            "{} {probe} uses port {name:?}, which the container does not declare; the probe will always fail",
                            c.describe()
                        ),
                        "Declare a port with this name in the container's ports, or fix the name.",
                    );
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_undeclared_named_port() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    ports: [{name: http, containerPort: 80}]\n    livenessProbe: {httpGet: {path: /, port: htp}}\n    readinessProbe: {tcpSocket: {port: http}}\n  - name: b\n    image: x\n    ports: [{name: metrics, containerPort: 90}]\n    startupProbe: {tcpSocket: {port: http}}\n",
        );
        assert_eq!(positions(&findings), [(9, 46), (14, 38)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.containers[0].livenessProbe.httpGet.port")
        );
    }

    #[test]
    fn numeric_ports_need_no_declaration() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    livenessProbe: {httpGet: {path: /, port: 8080}}\n    readinessProbe: {tcpSocket: {port: '8080'}}\n",
        );
        assert!(findings.is_empty());
    }
}
