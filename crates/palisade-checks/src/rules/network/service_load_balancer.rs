//! ## What it finds
//!
//! A Service of `type: LoadBalancer` without `spec.loadBalancerSourceRanges`,
//! which a cloud provider turns into a load balancer open to the whole
//! internet.
//!
//! Internal load balancers are not reported: those requested with the
//! annotations of AWS (`service.beta.kubernetes.io/aws-load-balancer-internal`,
//! `aws-load-balancer-scheme: internal`), GKE
//! (`networking.gke.io/load-balancer-type: Internal`,
//! `cloud.google.com/load-balancer-type: Internal`), Azure
//! (`service.beta.kubernetes.io/azure-load-balancer-internal: "true"`), OCI and
//! IBM Cloud (`...-load-balancer-internal`, `ibm-load-balancer-cloud-provider-ip-type: private`),
//! as well as a Service restricted by the
//! `service.beta.kubernetes.io/load-balancer-source-ranges` annotation.
//!
//! ## Why it matters
//!
//! Everything behind the Service becomes reachable from anywhere, including
//! admin endpoints and services never meant to leave the cluster.
//!
//! ## How to fix it
//!
//! List the client networks in `loadBalancerSourceRanges`, or ask for an
//! internal load balancer, or expose HTTP services through an Ingress or
//! Gateway.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: v1
//! kind: Service
//! metadata: {name: api, namespace: shop}
//! spec:
//!   type: LoadBalancer
//!   loadBalancerSourceRanges: [203.0.113.0/24]
//!   selector: {app: api}
//!   ports: [{port: 443, targetPort: https}]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/service-load-balancer-unrestricted",
        title: "LoadBalancer Services should restrict their source ranges",
        severity: Severity::Medium,
        category: "network",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#preserving-the-client-source-ip",
        controls: &[Control::nsa("network-separation")],
    },
    kinds: Kinds::Only(&["Service"]),
    optional: false,
    check,
};

/// Annotations (key, values meaning internal; empty: any value but "false").
const INTERNAL: &[(&str, &[&str])] = &[
    ("service.beta.kubernetes.io/aws-load-balancer-internal", &[]),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        &["internal"],
    ),
    (
        "networking.gke.io/load-balancer-type",
        &["Internal", "internal"],
    ),
    (
        "cloud.google.com/load-balancer-type",
        &["Internal", "internal"],
    ),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        &["true"],
    ),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        &["true"],
    ),
    (
        "service.beta.kubernetes.io/openstack-internal-load-balancer",
        &["true"],
    ),
    (
        "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type",
        &["private"],
    ),
    (
        "service.beta.kubernetes.io/load-balancer-source-ranges",
        &[],
    ),
];

fn is_internal(object: &Object) -> bool {
    object.annotations().any(|(k, v)| {
        INTERNAL.iter().any(|(key, values)| {
            *key == k
                && if values.is_empty() {
                    !v.is_empty() && !v.eq_ignore_ascii_case("false")
                } else {
                    values.contains(&v)
                }
        })
    })
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(node) = object.root.path(&["spec", "type"]) else {
        return;
    };
    if node.as_str() != Some("LoadBalancer") || is_internal(object) {
        return;
    }
    let ranges = object
        .root
        .path(&["spec", "loadBalancerSourceRanges"])
        .map(|n| n.items().len())
        .unwrap_or(0);
    if ranges == 0 {
        sink.report(
            node,
            "spec.type",
            format!("{} is a LoadBalancer without loadBalancerSourceRanges: it is reachable from any address", object.id),
            "Set spec.loadBalancerSourceRanges to the client networks, or request an internal load balancer.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_open_load_balancers() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  type: LoadBalancer\n",
        );
        assert_eq!(positions(&findings), [(5, 9)]);
    }

    #[test]
    fn passes_restricted_and_internal() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {type: LoadBalancer, loadBalancerSourceRanges: [10.0.0.0/8]}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  annotations: {networking.gke.io/load-balancer-type: Internal}\nspec: {type: LoadBalancer}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: c\n  annotations: {service.beta.kubernetes.io/aws-load-balancer-internal: 'true'}\nspec: {type: LoadBalancer}\n",
        );
        assert!(findings.is_empty());
    }
}
