//! ## What it finds
//!
//! A workload placed in the `kube-system` namespace that does not present
//! itself as a cluster component.
//!
//! Cluster add-ons (DNS, CNI, kube-proxy, metrics-server, cloud controllers)
//! legitimately run there; the check skips workloads that declare themselves
//! as such: `priorityClassName: system-cluster-critical` or
//! `system-node-critical`, or one of the add-on labels `k8s-app`,
//! `addonmanager.kubernetes.io/mode`, `kubernetes.io/cluster-service`, or
//! `tier: control-plane` (on the object or its pod template).
//!
//! ## Why it matters
//!
//! `kube-system` holds the cluster's most privileged service accounts and
//! secrets, and is usually exempt from Pod Security admission and from
//! policies. An application deployed there inherits that exemption, and a
//! compromise of it sits next to the control plane's credentials.
//!
//! ## How to fix it
//!
//! Deploy applications to their own namespace.
//!
//! ## Example
//!
//! ```yaml
//! metadata:
//!   name: web
//!   namespace: shop   # not kube-system
//! ```

use palisade_model::{pod_template, string_pairs, Control, Node, Object, RuleMeta, Severity};

use crate::index::pod_labels;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "meta/kube-system-workload",
        title: "Applications should not run in kube-system",
        severity: Severity::Low,
        category: "meta",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces",
        controls: &[Control::cis("5.7.1")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn is_addon_label(key: &str, value: &str) -> bool {
    matches!(
        key,
        "k8s-app" | "addonmanager.kubernetes.io/mode" | "kubernetes.io/cluster-service"
    ) || (key == "tier" && value == "control-plane")
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if object.id.namespace.as_deref() != Some("kube-system") {
        return;
    }
    let priority = pod_template(object)
        .and_then(|p| p.spec.get("priorityClassName"))
        .and_then(Node::as_str)
        .unwrap_or("");
    if matches!(priority, "system-cluster-critical" | "system-node-critical")
        || object
            .labels()
            .chain(string_pairs(pod_labels(object)))
            .any(|(k, v)| is_addon_label(k, v))
    {
        return;
    }
    let (node, field) = match object.root.path(&["metadata", "namespace"]) {
        Some(n) => (n, "metadata.namespace"),
        None => (&object.root, ""),
    };
    sink.report(
        node,
        field,
        format!(
            "{} runs in kube-system but is not marked as a cluster component",
            object.kind()
        ),
        "Deploy the application to its own namespace.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_app_in_kube_system() {
        let findings = run(
            &RULE,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: kube-system}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: a, image: x}]}\n",
        );
        assert_eq!(positions(&findings), [(3, 34)]);
    }

    #[test]
    fn skips_addons_and_other_namespaces() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}\nspec:\n  template:\n    spec: {containers: [{name: a, image: x}]}\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: cni, namespace: kube-system}\nspec:\n  template:\n    spec: {priorityClassName: system-node-critical, containers: [{name: a, image: x}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: a, image: x}]}\n";
        assert!(run(&RULE, yaml).is_empty());
    }
}
