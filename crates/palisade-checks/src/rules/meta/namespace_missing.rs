//! ## What it finds
//!
//! A namespaced object without `metadata.namespace`, when no namespace was
//! given on the command line (`palisade scan -n ...`). Optional: off unless
//! enabled.
//!
//! Such an object is created in whatever namespace it is applied to: the
//! `-n` of `kubectl apply`, the current context's namespace, or the namespace
//! Helm or Kustomize sets. That is often deliberate (one manifest deployed to
//! several namespaces), so this check is informational and off by default;
//! enable it where every manifest must say where it goes. Cluster-scoped
//! kinds are never reported.
//!
//! ## Why it matters
//!
//! With the context's namespace deciding, the same manifest lands in `default`
//! on one machine and in the right namespace on another.
//!
//! ## How to fix it
//!
//! Set `metadata.namespace`, or let your tooling set it (`kustomize`
//! `namespace:`, `helm --namespace`) and scan its output.
//!
//! ## Example
//!
//! ```yaml
//! metadata:
//!   name: web
//!   namespace: shop
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::COMMON_KINDS;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "meta/namespace-missing",
        title: "Namespaced objects should say which namespace they belong to",
        severity: Severity::Info,
        category: "meta",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/",
        controls: &[Control::cis("5.7.4")],
    },
    kinds: Kinds::Only(COMMON_KINDS),
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if object.id.namespace.is_some()
        || palisade_model::CLUSTER_SCOPED_KINDS.contains(&object.kind())
    {
        return;
    }
    let (node, field) = match object.metadata() {
        Some(m) => (m, "metadata"),
        None => (&object.root, ""),
    };
    sink.report(
        node,
        field,
        format!(
            "{} has no metadata.namespace; it goes to whatever namespace it is applied to",
            object.kind()
        ),
        "Set metadata.namespace, or have your deployment tool set it.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_namespaced_objects_without_namespace() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: x}\n",
        );
        assert_eq!(positions(&findings), [(4, 3)]);
    }
}
