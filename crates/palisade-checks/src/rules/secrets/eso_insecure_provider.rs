//! ## What it finds
//!
//! An External Secrets Operator `SecretStore` or `ClusterSecretStore`
//! (`external-secrets.io`, v1beta1 or v1) whose provider configuration points
//! at a plain `http://` URL: Vault's `server`, a webhook `url`, Akeyless,
//! Conjur, GitLab, or any other URL field under `spec.provider`.
//!
//! Loopback addresses (`localhost`, `127.0.0.1`, `[::1]`, for a sidecar agent)
//! are not reported.
//!
//! ## Why it matters
//!
//! The operator authenticates to the provider and receives every secret over
//! this connection: over plain HTTP, anyone on the network path can read the
//! secrets and steal the operator's token, which often reads far more than
//! this store needs. A service mesh with mutual TLS protects in-cluster
//! traffic, but then the URL should still say so.
//!
//! ## How to fix it
//!
//! Use `https://` and, for a private CA, give the store its `caBundle` or
//! `caProvider`.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: external-secrets.io/v1
//! kind: SecretStore
//! spec:
//!   provider:
//!     vault:
//!       server: https://vault.example.com:8200
//!       caProvider: {type: ConfigMap, name: vault-ca, key: ca.crt}
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use super::eso::is_eso;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/eso-insecure-provider",
        title: "External Secrets stores should reach their provider over TLS",
        severity: Severity::High,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://external-secrets.io/latest/api/secretstore/",
        controls: &[Control::nsa("secrets"), Control::mitre("T1552")],
    },
    kinds: Kinds::Only(&["SecretStore", "ClusterSecretStore"]),
    optional: false,
    check,
};

fn is_loopback(url: &str) -> bool {
    let host = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().map_or(host, |h| &h[1..])
    } else {
        host.split(':').next().unwrap_or(host)
    };
    host == "localhost" || host.starts_with("127.") || host == "::1"
}

fn walk<'a>(node: &'a Node, path: String, out: &mut Vec<(String, &'a str, &'a Node)>) {
    if let Some(text) = node.as_str() {
        let trimmed = text.trim();
        if trimmed.len() > 7
            && trimmed
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
            && !is_loopback(trimmed)
        {
            out.push((path, trimmed, node));
        }
        return;
    }
    for (k, v) in node.entries() {
        walk(v, format!("{path}.{}", k.key_text()), out);
    }
    for (i, v) in node.items().iter().enumerate() {
        walk(v, format!("{path}[{i}]"), out);
    }
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if !is_eso(object) {
        return;
    }
    let Some(provider) = object.root.path(&["spec", "provider"]) else {
        return;
    };
    let mut found = Vec::new();
    walk(provider, "spec.provider".to_string(), &mut found);
    for (field, url, node) in found {
        // Credentials in a URL are never shown: only scheme, host and path.
        let url = url.split(['?', '#']).next().unwrap_or(url);
        let shown = match url.split_once("://").map(|(_, r)| r.rsplit_once('@')) {
            Some(Some((_, host))) => format!("http://…@{host}"),
            _ => url.to_string(),
        };
        sink.report(
            node,
            field.clone(),
            format!(
                "{} reaches its secret provider over plain HTTP ({field}: {shown})",
                object.id
            ),
            "Use an https:// URL (with caBundle or caProvider for a private CA).",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_plain_http_provider_urls() {
        let findings = run(
            &RULE,
            "apiVersion: external-secrets.io/v1beta1\nkind: ClusterSecretStore\nmetadata: {name: vault}\nspec:\n  provider:\n    vault:\n      server: http://vault.vault.svc:8200\n      path: secret\n---\napiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata: {name: hook, namespace: shop}\nspec:\n  provider:\n    webhook: {url: 'http://localhost:8080/get'}\n",
        );
        assert_eq!(positions(&findings), [(7, 15)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.provider.vault.server")
        );
    }

    #[test]
    fn passes_https() {
        let findings = run(
            &RULE,
            "apiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata: {name: v, namespace: shop}\nspec:\n  provider:\n    vault: {server: 'https://vault.example.com', path: secret}\n",
        );
        assert!(findings.is_empty());
    }
}
