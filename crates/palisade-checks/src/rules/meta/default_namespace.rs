//! ## What it finds
//!
//! A namespaced object whose manifest puts it explicitly in the `default`
//! namespace (`metadata.namespace: default`).
//!
//! Objects without a namespace are not reported here: they go wherever they
//! are applied (`kubectl apply -n`, the context's namespace, Helm's or
//! Kustomize's namespace), which is usually not `default`. The optional check
//! `meta/namespace-missing` reports those. When the namespace comes from the
//! command line (`palisade scan -n ...`), nothing is reported either.
//! Cluster-scoped kinds have no namespace and are never reported.
//!
//! ## Why it matters
//!
//! The `default` namespace is where everything lands that nobody placed: it
//! usually has no NetworkPolicies, quotas or Pod Security labels, and RBAC
//! granted there reaches unrelated workloads. Namespaces are the unit of
//! isolation in Kubernetes; each application should have its own.
//!
//! ## How to fix it
//!
//! Create a namespace for the application and set `metadata.namespace` to it.
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
        id: "meta/default-namespace",
        title: "Objects should not be placed in the default namespace",
        severity: Severity::Medium,
        category: "meta",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/",
        controls: &[Control::cis("5.7.4"), Control::cis("5.7.1")],
    },
    kinds: Kinds::Only(COMMON_KINDS),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if object.namespace_defaulted || palisade_model::CLUSTER_SCOPED_KINDS.contains(&object.kind()) {
        return;
    }
    let Some(node) = object.root.path(&["metadata", "namespace"]) else {
        return;
    };
    if node.as_str() == Some("default") {
        sink.report(
            node,
            "metadata.namespace",
            format!("{} is placed in the default namespace", object.kind()),
            "Create a namespace for the application and set metadata.namespace to it.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};
    use palisade_model::{load_text, LoadOptions};

    #[test]
    fn flags_explicit_default_only() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n",
        );
        assert_eq!(positions(&findings), [(5, 14)]);
    }

    #[test]
    fn namespace_from_the_command_line_is_not_reported() {
        let loaded = load_text(
            "t.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            &LoadOptions {
                default_namespace: Some("default".into()),
            },
        );
        let options = crate::CheckOptions::default();
        let checker = crate::Checker::new(&loaded.objects, &options);
        assert!(checker
            .check(&loaded.objects[0])
            .iter()
            .all(|f| f.rule != "meta/default-namespace"));
    }
}
