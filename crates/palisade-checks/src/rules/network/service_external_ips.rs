//! ## What it finds
//!
//! A Service with `spec.externalIPs`.
//!
//! ## Why it matters
//!
//! Kubernetes routes traffic for a Service's external IPs to its pods from
//! every node, without checking who owns the address. Anyone allowed to create
//! or edit a Service can claim any IP, including an external one, and
//! intercept the cluster's traffic to it (CVE-2020-8554, a man-in-the-middle
//! that has no fix in Kubernetes itself). Legitimate uses are rare; clusters
//! should block the field with the `DenyServiceExternalIPs` admission plugin
//! or a policy, and manifests should not need it.
//!
//! ## How to fix it
//!
//! Remove `externalIPs` and use a `LoadBalancer` Service, an Ingress or a
//! Gateway. If the address is really needed, get it allowed explicitly by the
//! cluster's policy and suppress this finding for that Service.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: v1
//! kind: Service
//! metadata: {name: web, namespace: shop}
//! spec:
//!   type: LoadBalancer     # instead of externalIPs: [203.0.113.7]
//!   loadBalancerSourceRanges: [203.0.113.0/24]
//!   selector: {app: web}
//!   ports: [{port: 443}]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/service-external-ips",
        title: "Services should not set externalIPs (CVE-2020-8554)",
        severity: Severity::High,
        category: "network",
        docs: rule_docs!(),
        help_uri: "https://github.com/kubernetes/kubernetes/issues/97076",
        controls: &[Control::nsa("network-separation"), Control::mitre("T1557")],
    },
    kinds: Kinds::Only(&["Service"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(node) = object.root.path(&["spec", "externalIPs"]) else {
        return;
    };
    let ips: Vec<String> = node
        .items()
        .iter()
        .filter_map(|n| n.as_str())
        .map(str::to_string)
        .collect();
    if !ips.is_empty() {
        sink.report(
            node,
            "spec.externalIPs",
            format!(
                "{} sets externalIPs {}: traffic to these addresses is captured on every node (CVE-2020-8554)",
                object.id,
                ips.join(", ")
            ),
            "Remove spec.externalIPs; use a LoadBalancer Service, an Ingress or a Gateway.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_external_ips() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  externalIPs: [1.2.3.4]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {externalIPs: []}\n",
        );
        assert_eq!(positions(&findings), [(5, 16)]);
        assert!(findings[0].message.contains("1.2.3.4"));
    }
}
