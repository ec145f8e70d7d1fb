//! ## What it finds
//!
//! A workload whose pods no Kubernetes NetworkPolicy of the input selects, or
//! whose pods are selected only by egress policies (`policyTypes: [Egress]`),
//! so that their incoming traffic is not restricted at all.
//!
//! The check runs only when the input contains NetworkPolicies at all: a
//! manifest set without any is judged as one whose policies live elsewhere.
//! When the input has policies in some namespaces but none in the workload's
//! namespace, the finding says so: that namespace has no isolation at all.
//! A workload without a namespace is compared with the policies of every
//! namespace, as it may be applied into any of them.
//!
//! Pods on the host network are skipped (NetworkPolicy does not apply to
//! them), and so are namespaces where another policy engine's objects
//! (Calico `projectcalico.org` NetworkPolicy or GlobalNetworkPolicy,
//! CiliumNetworkPolicy, Antrea, AdminNetworkPolicy) may isolate the pods.
//!
//! ## Why it matters
//!
//! Kubernetes allows all traffic to and from a pod until a NetworkPolicy
//! selects it. One unselected pod is a foothold from which an intruder can
//! reach every service in the cluster, and a pod any other pod can reach is
//! the first target of lateral movement.
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

use super::util::{
    has_in_namespace, is_k8s_network_policy, policy_pod_selector, policy_types,
    CLUSTER_WIDE_POLICY_KINDS,
};
use crate::index::{namespace_of, pod_labels};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

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
    let ns = namespace_of(object);
    if CLUSTER_WIDE_POLICY_KINDS
        .iter()
        .any(|k| cx.index.has_kind(k))
        || has_in_namespace(cx, ns, "CiliumNetworkPolicy")
    {
        return;
    }
    let labels = pod_labels(object);
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::as_str);
    // Another engine's namesake kind (Calico's NetworkPolicy) in the namespace
    // means this one cannot judge isolation.
    let foreign = if ns.is_empty() {
        false
    } else {
        cx.index
            .in_namespace(ns, "NetworkPolicy")
            .any(|np| !is_k8s_network_policy(np))
    };
    // The policies that select the pods, and whether one isolates ingress. The
    // index matches selectors it parsed once; objects without a namespace are
    // compared with the policies of every namespace.
    let mut selected = false;
    let mut ingress = false;
    let mut visit = |np: &Object| {
        selected = true;
        ingress |= policy_types(np).0;
    };
    if ns.is_empty() {
        cx.index
            .of_kind("NetworkPolicy")
            .filter(|np| is_k8s_network_policy(np))
            .filter(|np| policy_pod_selector(np).is_some_and(|s| s.matches_with(label)))
            .for_each(&mut visit);
    } else {
        cx.index
            .selecting(ns, "NetworkPolicy", labels)
            .for_each(&mut visit);
    }
    if foreign {
        return;
    }
    let shown_ns = object.id.namespace.as_deref().unwrap_or("(no namespace)");
    let message = if !selected {
        if !ns.is_empty() && !has_in_namespace(cx, ns, "NetworkPolicy") {
            format!(
                "no NetworkPolicy selects the pods of {}: the input has NetworkPolicies, but none in namespace {shown_ns}",
                object.id
            )
        } else {
            format!(
                "no NetworkPolicy in namespace {shown_ns} selects the pods of {}",
                object.id
            )
        }
    } else if !ingress {
        format!(
            "the pods of {} are selected only by egress NetworkPolicies: their incoming traffic is not restricted",
            object.id
        )
    } else {
        return;
    };
    sink.report(
        template.metadata.unwrap_or(template.spec),
        if template.metadata.is_some() {
            metadata_path(template.spec_path)
        } else {
            template.spec_path.to_string()
        },
        message,
        "Add a default-deny NetworkPolicy to the namespace and allow only the traffic this workload needs.",
    );
}

/// `spec.template.spec` → `spec.template.metadata`; a Pod's spec → `metadata`.
fn metadata_path(spec_path: &str) -> String {
    match spec_path.strip_suffix("spec") {
        Some(prefix) => format!("{prefix}metadata"),
        None => "metadata".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::run;

    const POLICY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n";

    fn pod(name: &str, ns: &str, app: &str) -> String {
        format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{app: {app}}}}}\nspec: {{containers: [{{name: a, image: x}}]}}\n")
    }

    #[test]
    fn flags_unselected_pods_only() {
        let yaml = format!(
            "{POLICY}{}{}{}",
            pod("web", "shop", "web"),
            pod("db", "shop", "db"),
            pod("web", "other", "web")
        );
        let findings = run(&RULE, &yaml);
        let names: Vec<String> = findings.iter().map(|f| f.object.to_string()).collect();
        assert_eq!(names, ["Pod shop/db", "Pod other/web"]);
        assert!(findings[1].message.contains("none in namespace other"));
        assert_eq!(findings[0].location.field.as_deref(), Some("metadata"));
        assert_eq!(findings[0].location.span.start.line, 14);
    }

    #[test]
    fn egress_only_policies_leave_ingress_open() {
        let yaml = format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np, namespace: shop}}\nspec:\n  podSelector: {{}}\n  policyTypes: [Egress]\n{}",
            pod("web", "shop", "web")
        );
        let findings = run(&RULE, &yaml);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("only by egress"));
        // A default-deny without policyTypes isolates ingress; a missing podSelector selects all.
        let yaml = format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np, namespace: shop}}\nspec: {{}}\n{}",
            pod("web", "shop", "web")
        );
        assert!(run(&RULE, &yaml).is_empty());
    }

    #[test]
    fn workload_template_path_and_host_network() {
        let yaml = format!(
            "{POLICY}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d, namespace: shop}}\nspec:\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec: {{containers: [{{name: a, image: x}}]}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: h, namespace: shop}}\nspec: {{hostNetwork: true, containers: [{{name: a, image: x}}]}}\n"
        );
        let findings = run(&RULE, &yaml);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.template.metadata")
        );
    }

    #[test]
    fn other_engines_and_namespaceless_workloads() {
        let calico = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: c, namespace: shop}\nspec: {selector: all()}\n---\n";
        let yaml = format!("{calico}{POLICY}{}", pod("db", "shop", "db"));
        assert!(run(&RULE, &yaml).is_empty());
        // No namespace: compared with the policies of every namespace.
        let yaml = format!(
            "{POLICY}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web, labels: {{app: web}}}}\nspec: {{containers: [{{name: a, image: x}}]}}\n"
        );
        assert!(run(&RULE, &yaml).is_empty());
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
