//! ## What it finds
//!
//! A Service of `type: NodePort`.
//!
//! ## Why it matters
//!
//! A NodePort Service opens the same port on every node of the cluster, on
//! every node address, usually beyond the reach of NetworkPolicies applied at
//! the pods' ingress and of the load balancer's access controls. Nodes are
//! rarely meant to be an entry point; a NodePort is often left over from a
//! test.
//!
//! ## How to fix it
//!
//! Use a `ClusterIP` Service behind an Ingress or Gateway, or a `LoadBalancer`
//! restricted with `loadBalancerSourceRanges`. If a NodePort is really needed
//! (bare-metal ingress controller), restrict access to the node ports with
//! firewall rules and suppress this finding for that Service.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: v1
//! kind: Service
//! metadata: {name: web, namespace: shop}
//! spec:
//!   type: ClusterIP        # exposed through an Ingress instead of a NodePort
//!   selector: {app: web}
//!   ports: [{port: 80, targetPort: http}]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/service-node-port",
        title: "Services should not be exposed on every node with type NodePort",
        severity: Severity::Low,
        category: "network",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport",
        controls: &[Control::nsa("network-separation")],
    },
    kinds: Kinds::Only(&["Service"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(node) = object.root.path(&["spec", "type"]) else {
        return;
    };
    if node.as_str() == Some("NodePort") {
        sink.report(
            node,
            "spec.type",
            format!("{} is of type NodePort: it listens on every node of the cluster", object.id),
            "Use a ClusterIP Service behind an Ingress or Gateway, or a LoadBalancer with loadBalancerSourceRanges.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_node_port_only() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  type: NodePort\n  ports: [{port: 80}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {ports: [{port: 80}]}\n",
        );
        assert_eq!(positions(&findings), [(5, 9)]);
    }
}
