//! ## What it finds
//!
//! A Pod without `metadata.ownerReferences`: a pod that no controller
//! (Deployment, StatefulSet, DaemonSet, Job...) manages.
//!
//! Not reported: Helm test and hook pods (annotation `helm.sh/hook`), which
//! are meant to run once, and static pod manifests of cluster components
//! (`priorityClassName: system-node-critical` or `system-cluster-critical`),
//! which the kubelet manages.
//!
//! ## Why it matters
//!
//! Nothing recreates a bare pod when its node fails, is drained or is
//! upgraded, and it cannot be rolled out or scaled: the service it provides
//! simply disappears.
//!
//! ## How to fix it
//!
//! Run the pod through a controller: a Deployment for a service, a Job for a
//! one-off task, a DaemonSet for a per-node agent.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web}
//! spec:
//!   replicas: 2
//!   selector: {matchLabels: {app: web}}
//!   template:
//!     metadata: {labels: {app: web}}
//!     spec:
//!       containers:
//!       - {name: app, image: registry.example.com/web:1.4.2}
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "probes/naked-pod",
        title: "Pods should be managed by a controller",
        severity: Severity::Low,
        category: "probes",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/configuration/overview/#naked-pods-vs-replicasets-deployments-and-jobs",
        controls: &[Control::mitre("T1610")],
    },
    kinds: Kinds::Only(&["Pod"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let metadata = object.metadata();
    if metadata
        .and_then(|m| m.get_set("ownerReferences"))
        .is_some_and(|o| !o.items().is_empty())
        || object.annotations().any(|(k, _)| k == "helm.sh/hook")
    {
        return;
    }
    let priority = object
        .root
        .path(&["spec", "priorityClassName"])
        .and_then(Node::as_str)
        .unwrap_or("");
    if priority == "system-node-critical" || priority == "system-cluster-critical" {
        return;
    }
    let (node, field) = match metadata {
        Some(m) => (m, "metadata"),
        None => (&object.root, ""),
    };
    sink.report(
        node,
        field,
        "Pod is not managed by a controller; nothing recreates it if its node fails",
        "Run it through a Deployment, StatefulSet, DaemonSet or Job.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_bare_pod() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec: {containers: [{name: a, image: x}]}\n",
        );
        assert_eq!(positions(&findings), [(4, 3)]);
    }

    #[test]
    fn skips_owned_hook_and_static_pods() {
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  ownerReferences: [{kind: ReplicaSet, name: r, apiVersion: apps/v1, uid: u}]\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations: {helm.sh/hook: test}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver, namespace: kube-system}\nspec: {priorityClassName: system-node-critical}\n";
        assert!(run(&RULE, yaml).is_empty());
    }
}
