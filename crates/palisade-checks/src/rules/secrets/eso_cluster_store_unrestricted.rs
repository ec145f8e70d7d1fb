//! ## What it finds
//!
//! An External Secrets Operator `ClusterSecretStore` without `spec.conditions`
//! restricting the namespaces that may use it, or with a condition whose
//! `namespaceSelector` is empty (it matches every namespace).
//!
//! ## Why it matters
//!
//! Without conditions, an `ExternalSecret` in any namespace can use the store
//! and read every secret its provider credentials reach: anyone who can create
//! an ExternalSecret in some team namespace can copy the production database
//! password into it. `conditions` limit the store to the namespaces that own
//! those secrets.
//!
//! ## How to fix it
//!
//! Add `spec.conditions` with `namespaces`, `namespaceRegexes` or a non-empty
//! `namespaceSelector`, or use a namespaced `SecretStore` instead.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: external-secrets.io/v1
//! kind: ClusterSecretStore
//! metadata: {name: vault-prod}
//! spec:
//!   conditions:
//!   - namespaceSelector:
//!       matchLabels: {env: production}
//!   provider:
//!     vault: {server: https://vault.example.com, path: secret}
//! ```

use palisade_model::selector::LabelSelector;
use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use super::eso::is_eso;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/eso-cluster-store-unrestricted",
        title: "ClusterSecretStores should be limited to the namespaces that need them",
        severity: Severity::Medium,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://external-secrets.io/latest/api/clustersecretstore/",
        controls: &[
            Control::nsa("secrets"),
            Control::cis("5.1.2"),
            Control::mitre("T1552"),
        ],
    },
    kinds: Kinds::Only(&["ClusterSecretStore"]),
    optional: false,
    check,
};

const FIX: &str =
    "Add spec.conditions with namespaces, namespaceRegexes or a non-empty namespaceSelector.";

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if !is_eso(object) {
        return;
    }
    let Some(spec) = object.root.get("spec") else {
        return;
    };
    let conditions = spec.get("conditions").map(Node::items).unwrap_or(&[]);
    if conditions.is_empty() {
        sink.report(
            spec.entry("provider").map_or(spec, |(k, _)| k),
            "spec.conditions",
            format!(
                "{} has no spec.conditions: ExternalSecrets of every namespace can use it",
                object.id
            ),
            FIX,
        );
        return;
    }
    for (i, condition) in conditions.iter().enumerate() {
        let Some(selector) = condition.get_set("namespaceSelector") else {
            continue;
        };
        if LabelSelector::from_node(selector).is_ok_and(|s| s.is_empty()) {
            sink.report(
                selector,
                format!("spec.conditions[{i}].namespaceSelector"),
                format!("condition {i} of {} has an empty namespaceSelector, which matches every namespace", object.id),
                FIX,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    fn store(spec: &str) -> String {
        format!("apiVersion: external-secrets.io/v1beta1\nkind: ClusterSecretStore\nmetadata: {{name: s}}\nspec:\n{spec}  provider:\n    vault: {{server: 'https://v', path: secret}}\n")
    }

    #[test]
    fn flags_missing_and_empty_conditions() {
        assert_eq!(positions(&run(&RULE, &store(""))), [(5, 3)]);
        assert_eq!(
            positions(&run(
                &RULE,
                &store("  conditions:\n  - namespaceSelector: {}\n")
            )),
            [(6, 24)]
        );
    }

    #[test]
    fn passes_restricted_stores() {
        for spec in [
            "  conditions: [{namespaces: [shop]}]\n",
            "  conditions: [{namespaceSelector: {matchLabels: {team: shop}}}]\n",
            "  conditions: [{namespaceRegexes: ['^shop-']}]\n",
        ] {
            assert!(run(&RULE, &store(spec)).is_empty(), "{spec}");
        }
    }
}
