//! ## What it finds
//!
//! A `Secret` object whose `data` or `stringData` holds values: one finding
//! per Secret, listing its keys and the line of each. Values are never shown.
//!
//! Not reported: Secrets without values (empty `data`, a
//! `kubernetes.io/service-account-token` Secret for the controller to fill),
//! and keys whose values are empty or template placeholders (`${VAR}`,
//! `{{ .Values.x }}`, `<password>`): those are filled at deploy time.
//!
//! ## Why it matters
//!
//! `data` is base64, which is an encoding, not encryption: anyone who can read
//! the repository, the CI logs or the rendered chart has the credentials, for
//! as long as the history exists. Rotating them means rewriting history.
//!
//! ## How to fix it
//!
//! Keep the values out of the manifests: use External Secrets Operator (an
//! `ExternalSecret` fetching from Vault or a cloud secret manager), Sealed
//! Secrets (encrypted for the cluster), or SOPS-encrypted files decrypted at
//! deploy time, and rotate the credentials that were committed.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: external-secrets.io/v1
//! kind: ExternalSecret
//! metadata: {name: db, namespace: shop}
//! spec:
//!   secretStoreRef: {name: vault, kind: SecretStore}
//!   target: {name: db}
//!   data:
//!   - secretKey: password
//!     remoteRef: {key: shop/db, property: password}
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use super::util::is_placeholder;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/secret-in-manifest",
        title: "Secret values should not be committed in manifests",
        severity: Severity::Medium,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/secrets-good-practices/",
        controls: &[Control::nsa("secrets"), Control::mitre("T1552")],
    },
    kinds: Kinds::Only(&["Secret"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if object.id.group() != "" {
        return;
    }
    let mut keys = Vec::new();
    let mut anchor: Option<(&Node, &str)> = None;
    for field in ["data", "stringData"] {
        let Some(map) = object.root.get(field) else {
            continue;
        };
        for (k, v) in map.entries() {
            let filled = match v.as_str() {
                Some(text) => !is_placeholder(text),
                None => !v.is_null(),
            };
            if filled {
                keys.push(format!(
                    "{field}.{} (line {})",
                    k.key_text(),
                    k.span.start.line
                ));
                anchor.get_or_insert((map, field));
            }
        }
    }
    let Some((node, field)) = anchor else { return };
    let kind = object
        .root
        .get("type")
        .and_then(Node::as_str)
        .map(|t| format!(" of type {t}"))
        .unwrap_or_default();
    sink.report(
        node,
        field,
        format!(
            "{}{kind} holds {} value(s) in the manifest: {}",
            object.id,
            keys.len(),
            keys.join(", ")
        ),
        "Keep secret values out of manifests (External Secrets, Sealed Secrets, SOPS) and rotate the committed ones.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn lists_keys_without_values() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\ntype: Opaque\ndata:\n  password: aHVudGVyMg==\n  empty: ''\nstringData:\n  user: admin\n  token: ${TOKEN}\n",
        );
        assert_eq!(positions(&findings), [(6, 3)]);
        let message = &findings[0].message;
        assert!(message.contains("data.password (line 6)"), "{message}");
        assert!(message.contains("stringData.user (line 9)"), "{message}");
        assert!(!message.contains("empty") && !message.contains("token"));
        assert!(!message.contains("aHVudGVy") && !message.contains("admin"));
    }

    #[test]
    fn skips_empty_and_token_secrets() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sa\n  annotations: {kubernetes.io/service-account.name: app}\ntype: kubernetes.io/service-account-token\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: e}\ndata: {}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: t}\nstringData: {password: '{{ .Values.password }}'}\n",
        );
        assert!(findings.is_empty());
    }
}
