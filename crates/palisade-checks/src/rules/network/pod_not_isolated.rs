//! ## What it finds
//!
//! A workload whose pods no NetworkPolicy in the input selects, in a namespace
//! where the input has at least one NetworkPolicy or where the workload is the
//! only thing deployed with policies elsewhere. Pods no policy selects accept
//! traffic from anywhere and may send traffic anywhere.
//!
//! The check runs only when the input contains NetworkPolicies at all: a
//! manifest set without any is judged as one whose policies live elsewhere.
//!
//! ## Why it matters
//!
//! Kubernetes allows all traffic to and from a pod until a NetworkPolicy
//! selects it. One unselected pod is a foothold from which an intruder can
//! reach every service in the cluster.
//!
//! ## How to fix it
//!
//! Add a default-deny policy for the namespace (`podSelector: {}`) and policies
//! that allow the traffic the workload needs.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: networking.k8s.io/v1
//! kind: NetworkPolicy
//! metadata: {name: default-deny, namespace: shop}
//! spec:
//!   podSelector: {}
//!   policyTypes: [Ingress, Egress]
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use crate::index::{namespace_of, pod_labels};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};
use crate::selector::Selector;

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/pod-not-isolated",
        title: "Pods should be selected by a NetworkPolicy",
        severity: Severity::Medium,
        category: "network",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
        controls: &[
            Control::nsa("network-separation"),
            Control::cis("5.3.2"),
            Control::mitre("T1021"),
        ],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if !cx.index.has_kind("NetworkPolicy") {
        return;
    }
    // Pods created by a controller carry the template's labels; a Job's or a
    // CronJob's pods too. Host-network pods are not subject to NetworkPolicy.
    let Some(template) = palisade_model::pod_template(object) else {
        return;
    };
    if template.spec.get("hostNetwork").and_then(Node::as_bool) == Some(true) {
        return;
    }
    let labels = pod_labels(object);
    let selected = cx
        .index
        .in_namespace(namespace_of(object), "NetworkPolicy")
        .filter_map(|np| np.root.path(&["spec", "podSelector"]))
        .filter_map(Selector::from_label_selector)
        .any(|s| s.matches(|k| labels.and_then(|l| l.get(k)).and_then(Node::as_str)));
    if !selected {
        let ns = object.id.namespace.as_deref().unwrap_or("(no namespace)");
        sink.report(
            template.metadata.unwrap_or(template.spec),
            template.field_path("").replace(".spec", ".metadata"),
            format!("no NetworkPolicy in namespace {ns} selects the pods of {}", object.id),
            "Add a default-deny NetworkPolicy to the namespace and allow only the traffic this workload needs.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::run;

    const POLICY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n";

    #[test]
    fn flags_unselected_pods_only() {
        let yaml = format!(
            "{POLICY}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: shop, labels: {{app: web}}}}\nspec: {{containers: [{{name: a, image: x}}]}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: db, namespace: shop, labels: {{app: db}}}}\nspec: {{containers: [{{name: a, image: x}}]}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: other, labels: {{app: web}}}}\nspec: {{containers: [{{name: a, image: x}}]}}\n"
        );
        let findings = run(&RULE, &yaml);
        let names: Vec<String> = findings.iter().map(|f| f.object.to_string()).collect();
        assert_eq!(names, ["Pod shop/db", "Pod other/web"]);
    }

    #[test]
    fn silent_without_any_network_policy() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: a, image: x}]}\n",
        );
        assert!(findings.is_empty());
    }
}
