//! ## What it finds
//!
//! *Optional check.* A pod that does not set `hostUsers: false`, so its
//! containers run in the node's user namespace.
//!
//! Pods that share a host namespace (`hostNetwork`, `hostPID`, `hostIPC`;
//! reported by `pss/hostNamespaces`) are not reported, because Kubernetes
//! forbids user namespaces with them; neither are Windows pods.
//!
//! Optional because user namespaces need Kubernetes 1.33 or later (or the
//! `UserNamespacesSupport` feature gate), a runtime that supports them
//! (containerd 2.0+, CRI-O 1.25+) and a node filesystem with idmapped mounts.
//!
//! ## Why it matters
//!
//! With `hostUsers: false` the container's root (and every other UID) is
//! mapped to an unprivileged range on the node. Most container escapes then
//! land as a nobody user with no capabilities on the host, and files written
//! to shared volumes do not belong to real node accounts.
//!
//! ## How to fix it
//!
//! Set `spec.hostUsers: false` on the pod template, on clusters that support
//! it.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   hostUsers: false
//!   containers:
//!   - name: app
//!     image: registry.example.com/app:1.2.3
//! ```

use palisade_model::{pod_template, Control, Node, Object, RuleMeta, Severity};

use super::util::is_windows;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/host-users",
        title: "Pods should run in their own user namespace (hostUsers: false)",
        severity: Severity::Low,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/workloads/pods/user-namespaces/",
        controls: &[Control::nsa("pod-security"), Control::mitre("T1611")],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    let spec = pod.spec;
    let host_namespace = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .any(|f| spec.get(f).and_then(Node::as_bool) == Some(true));
    if host_namespace || is_windows(&pod) {
        return;
    }
    let remediation =
        "Set spec.hostUsers: false (Kubernetes 1.33+, or with UserNamespacesSupport).";
    match spec.get("hostUsers") {
        Some(node) if node.as_bool() == Some(false) => {}
        Some(node) => sink.report(
            node,
            pod.field_path("hostUsers"),
            format!(
                "the pod sets hostUsers: {}: its users are the node's users",
                node.display_value()
            ),
            remediation,
        ),
        None => sink.report(
            spec,
            pod.field_path(""),
            "the pod does not set hostUsers: false: its users are the node's users",
            remediation,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_missing_and_true() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostUsers: true\n  containers: [{name: a, image: x}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: x}]\n",
        );
        assert_eq!(positions(&findings), [(5, 14), (14, 7)]);
        assert_eq!(
            findings[1].location.field.as_deref(),
            Some("spec.template.spec")
        );
    }

    #[test]
    fn passes_false_and_host_namespace_pods() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostUsers: false\n  containers: [{name: a, image: x}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: hn}\nspec:\n  hostNetwork: true\n  containers: [{name: a, image: x}]\n",
        );
        assert!(findings.is_empty());
    }
}
