//! ## What it finds
//!
//! Helm v2's server component, Tiller: a workload running a Tiller image
//! (`*/kubernetes-helm/tiller`, `ghcr.io/helm/tiller`, `rancher/tiller` or
//! another `tiller` image under a `helm` path, whatever the registry), a
//! workload whose pods carry Tiller's labels `app: helm` and `name: tiller`,
//! and a Service that selects those labels.
//!
//! ## Why it matters
//!
//! Helm v2 reached end of life in November 2020 and receives no security
//! fixes. Tiller listens on a gRPC port (44134) without authentication unless
//! TLS was configured by hand, and usually runs with cluster-admin: any pod
//! that can reach it can install anything, privileged pods included. A
//! Service in front of it makes it reachable by name.
//!
//! ## How to fix it
//!
//! Migrate the releases to Helm 3 (the `helm-2to3` plugin), which has no
//! server component, then delete Tiller's Deployment, Service and
//! ServiceAccount binding.
//!
//! ## Example
//!
//! ```yaml
//! # Helm 3 needs nothing in the cluster: delete these
//! # kubectl -n kube-system delete deployment/tiller-deploy service/tiller-deploy
//! ```

use palisade_model::{pod_template, Node, Object, RuleMeta, Severity};

use super::util::{image, path_segments};
use crate::index::pod_labels;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "components/tiller",
        title: "Helm v2 Tiller should not be deployed",
        severity: Severity::High,
        category: "components",
        docs: rule_docs!(),
        help_uri: "https://helm.sh/blog/helm-v2-deprecation-timeline/",
        controls: &[],
    },
    kinds: Kinds::Only(&[
        "Pod",
        "PodTemplate",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
        "Service",
    ]),
    optional: false,
    check,
};

pub(crate) fn is_tiller_image(image: &str) -> bool {
    let segments = path_segments(image);
    match segments.split_last() {
        Some((&"tiller", parents)) => {
            parents.iter().any(|p| p.contains("helm")) || parents == ["rancher"]
        }
        _ => false,
    }
}

fn tiller_labels(labels: Option<&Node>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::as_str);
    get("app") == Some("helm") && get("name") == Some("tiller")
}

const FIX: &str = "Migrate the releases to Helm 3 and delete Tiller.";

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if object.kind() == "Service" {
        if let Some(selector) = object.root.path(&["spec", "selector"]) {
            if tiller_labels(Some(selector)) {
                sink.report(
                    selector,
                    "spec.selector",
                    format!(
                        "{} exposes Helm v2's Tiller (app: helm, name: tiller)",
                        object.id
                    ),
                    FIX,
                );
            }
        }
        return;
    }
    let mut found = false;
    each_container(object, |c| {
        if let Some((node, text)) = image(c) {
            if !found && is_tiller_image(text) {
                found = true;
                sink.report(
                    node,
                    c.field("image"),
                    format!("{} runs Helm v2's Tiller ({text})", c.describe()),
                    FIX,
                );
            }
        }
    });
    if found {
        return;
    }
    let labels = pod_labels(object);
    if tiller_labels(labels) {
        if let (Some(node), Some(pod)) = (labels, pod_template(object)) {
            let field = match pod.spec_path.strip_suffix(".spec") {
                Some(template) => format!("{template}.metadata.labels"),
                None => "metadata.labels".to_string(),
            };
            sink.report(
                node,
                field,
                format!(
                    "{} carries Helm v2 Tiller's labels (app: helm, name: tiller)",
                    object.id
                ),
                FIX,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_tiller_image, RULE};
    use crate::testing::{positions, run};

    #[test]
    fn recognises_tiller_images() {
        assert!(is_tiller_image("gcr.io/kubernetes-helm/tiller:v2.16.12"));
        assert!(is_tiller_image("ghcr.io/helm/tiller:v2.17.0"));
        assert!(is_tiller_image("rancher/tiller:v2.16.1"));
        assert!(!is_tiller_image("example.com/tiller:1"));
        assert!(!is_tiller_image("alpine/helm:3.14.0"));
    }

    #[test]
    fn flags_tiller_workloads_and_services() {
        let findings = run(
            &RULE,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tiller-deploy, namespace: kube-system}\nspec:\n  template:\n    metadata: {labels: {app: helm, name: tiller}}\n    spec:\n      containers: [{name: tiller, image: 'gcr.io/kubernetes-helm/tiller:v2.16.1'}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: tiller-deploy, namespace: kube-system}\nspec:\n  selector: {app: helm, name: tiller}\n  ports: [{port: 44134}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: mirror}\nspec:\n  template:\n    metadata: {labels: {app: helm, name: tiller}}\n    spec:\n      containers: [{name: t, image: 'internal/t:1'}]\n",
        );
        assert_eq!(positions(&findings), [(8, 42), (14, 13), (22, 24)]);
        assert_eq!(
            findings[2].location.field.as_deref(),
            Some("spec.template.metadata.labels")
        );
    }

    #[test]
    fn passes_helm3_tools() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: helm}}\nspec:\n  containers: [{name: helm, image: 'alpine/helm:3.14.0'}]\n",
        );
        assert!(findings.is_empty());
    }
}
