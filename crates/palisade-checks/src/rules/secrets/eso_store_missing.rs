//! ## What it finds
//!
//! An External Secrets Operator `ExternalSecret` whose `secretStoreRef` (or a
//! `sourceRef.storeRef` of its `data` / `dataFrom` entries) names a
//! `SecretStore` or `ClusterSecretStore` that is not in the input.
//!
//! The check runs only when the input has stores of the referenced kind: a
//! `SecretStore` in the ExternalSecret's namespace, or any
//! `ClusterSecretStore`. The kind defaults to `SecretStore`, as in the
//! operator. References to generators (`sourceRef.generatorRef`) are not
//! judged.
//!
//! ## Why it matters
//!
//! The ExternalSecret never syncs (`SecretSyncedError`): the Secret is not
//! created or not updated, and the pods that need it fail to start or keep a
//! stale credential.
//!
//! ## How to fix it
//!
//! Fix the store's name or kind (`SecretStore` is namespaced,
//! `ClusterSecretStore` is not), or add the store.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   secretStoreRef:
//!     name: vault-secret-store
//!     kind: SecretStore        # a SecretStore of this namespace
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use super::eso::is_eso;
use super::util::has_in_namespace;
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/eso-store-missing",
        title: "ExternalSecrets should reference a store that exists",
        severity: Severity::Medium,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://external-secrets.io/latest/api/externalsecret/",
        controls: &[],
    },
    kinds: Kinds::Only(&["ExternalSecret"]),
    optional: false,
    check,
};

fn check_ref(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>, reference: &Node, field: String) {
    let Some(node) = reference.get("name") else {
        return;
    };
    let Some(name) = node.as_str() else { return };
    let kind = reference
        .get("kind")
        .and_then(Node::as_str)
        .unwrap_or("SecretStore");
    let ns = namespace_of(object);
    let missing = match kind {
        "SecretStore" => {
            let stores = || {
                cx.index
                    .in_namespace(ns, "SecretStore")
                    .filter(|o| is_eso(o))
            };
            stores().next().is_some() && !stores().any(|o| o.id.name == name)
        }
        "ClusterSecretStore" => {
            let stores = || cx.index.of_kind("ClusterSecretStore").filter(|o| is_eso(o));
            stores().next().is_some() && !stores().any(|o| o.id.name == name)
        }
        _ => false,
    };
    if missing {
        let place = if kind == "SecretStore" && !ns.is_empty() {
            format!(" in namespace {ns}")
        } else {
            String::new()
        };
        sink.report(
            node,
            format!("{field}.name"),
            format!("{} uses the {kind} {name:?}, which is not in the input{place}", object.id),
            "Fix the store name or kind (SecretStore is namespaced, ClusterSecretStore is not), or add the store.",
        );
    }
}

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if !is_eso(object) {
        return;
    }
    let ns = namespace_of(object);
    if !has_in_namespace(cx, ns, "SecretStore") && !cx.index.has_kind("ClusterSecretStore") {
        return;
    }
    let Some(spec) = object.root.get("spec") else {
        return;
    };
    if let Some(reference) = spec.get("secretStoreRef") {
        check_ref(
            cx,
            object,
            sink,
            reference,
            "spec.secretStoreRef".to_string(),
        );
    }
    for list in ["data", "dataFrom"] {
        for (i, entry) in spec
            .get(list)
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            if let Some(reference) = entry.path(&["sourceRef", "storeRef"]) {
                check_ref(
                    cx,
                    object,
                    sink,
                    reference,
                    format!("spec.{list}[{i}].sourceRef.storeRef"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const STORES: &str = "---\napiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata: {name: vault, namespace: shop}\nspec: {provider: {vault: {server: 'https://v'}}}\n";

    fn es(refs: &str) -> String {
        format!("apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {{name: e, namespace: shop}}\nspec:\n{refs}")
    }

    #[test]
    fn flags_unknown_stores() {
        let yaml = format!(
            "{}{STORES}",
            es("  secretStoreRef: {name: valt, kind: SecretStore}\n  dataFrom:\n  - sourceRef: {storeRef: {name: vault}}\n  - sourceRef: {storeRef: {name: other}}\n  - sourceRef: {storeRef: {name: global, kind: ClusterSecretStore}}\n")
        );
        let findings = run(&RULE, &yaml);
        assert_eq!(positions(&findings), [(5, 26), (8, 34)]);
        assert!(findings[0].message.contains("SecretStore \"valt\""));
    }

    #[test]
    fn quiet_without_stores_of_that_kind() {
        assert!(run(&RULE, &es("  secretStoreRef: {name: valt}\n")).is_empty());
        assert!(run(
            &RULE,
            &format!("{}{STORES}", es("  secretStoreRef: {name: vault}\n"))
        )
        .is_empty());
    }
}
