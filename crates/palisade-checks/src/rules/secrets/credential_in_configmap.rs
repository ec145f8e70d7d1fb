//! ## What it finds
//!
//! A ConfigMap `data` entry holding a credential:
//!
//! - a key naming a credential (`DB_PASSWORD`, `api_token`, `client-secret`)
//!   with a literal single-line value;
//! - in embedded configuration files (properties, INI, YAML, `.env`, JSON),
//!   `key = value` / `key: value` lines whose key names a credential and
//!   whose value is a literal (`spring.datasource.password=...`);
//! - a credential of a known format anywhere in a value: AWS access key ids,
//!   GitHub, GitLab, Slack and Stripe tokens, Google API keys, PEM private
//!   keys, JSON Web Tokens, URLs with a password.
//!
//! Placeholders (`${DB_PASSWORD}`, `{{ x }}`, `<password>`), paths, secret
//! manager references (`ENC[...]`, `ref+vault://`) and keys that only mention
//! a credential (`password_file`, `token_url`) are not credentials. One
//! finding per ConfigMap key, naming what was found and where (line within the
//! value), with at most a fingerprint of each value.
//!
//! ## Why it matters
//!
//! ConfigMaps are not meant for secrets: they are readable by far more
//! subjects (RBAC `get configmaps` is granted widely), shown in dashboards and
//! logs, and stored unencrypted even where Secrets are encrypted at rest.
//!
//! ## How to fix it
//!
//! Move the credential into a Secret created outside the repository (External
//! Secrets, Sealed Secrets, SOPS) and mount it; in configuration files,
//! reference it (`${DB_PASSWORD}` expanded from a Secret-backed variable, or
//! a `*_file` setting). Rotate the exposed credential.
//!
//! ## Example
//!
//! ```yaml
//! kind: ConfigMap
//! data:
//!   application.properties: |
//!     spring.datasource.url=jdbc:postgresql://db:5432/shop
//!     spring.datasource.password=${DB_PASSWORD}
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{find_credentials, find_in_config_lines, fingerprint, literal_under_name};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/credential-in-configmap",
        title: "ConfigMaps should not hold credentials",
        severity: Severity::High,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/configuration/configmap/",
        controls: &[Control::nsa("secrets"), Control::mitre("T1552")],
    },
    kinds: Kinds::Only(&["ConfigMap"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(data) = object.root.get("data") else {
        return;
    };
    for (key_node, value_node) in data.entries() {
        let Some(value) = value_node.as_str() else {
            continue;
        };
        let key = key_node.key_text();
        let mut what: Vec<String> = find_credentials(value)
            .iter()
            .map(|f| f.describe())
            .collect();
        if value.trim().lines().count() <= 1 {
            if what.is_empty() {
                if let Some(reason) = literal_under_name(&key, value) {
                    what.push(format!("{reason} ({})", fingerprint(value.trim())));
                }
            }
        } else {
            for (line, description) in find_in_config_lines(value) {
                what.push(format!("{description} on line {line} of the value"));
            }
        }
        if what.is_empty() {
            continue;
        }
        sink.report(
            key_node,
            format!("data.{key}"),
            format!("{} key {key} holds a credential: {}", object.id, what.join("; ")),
            "Move the credential into a Secret managed outside the repository, reference it from the configuration, and rotate it.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_credential_keys_config_lines_and_formats() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata:\n  DB_PASSWORD: hunter2\n  LOG_LEVEL: debug\n  application.properties: |\n    spring.datasource.url=jdbc:postgresql://db:5432/shop\n    spring.datasource.password=s3cr3tpw\n  notes: 'slack xoxb-1234567890-abcdefghij'\n",
        );
        assert_eq!(positions(&findings), [(5, 3), (7, 3), (10, 3)]);
        assert!(findings[1]
            .message
            .contains("spring.datasource.password (8 chars) on line 2 of the value"));
        assert!(findings
            .iter()
            .all(|f| !f.message.contains("hunter2") && !f.message.contains("s3cr3tpw")));
    }

    #[test]
    fn passes_placeholders_and_plain_config() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata:\n  DB_PASSWORD: ${DB_PASSWORD}\n  password_file: /run/secrets/pw\n  TOKEN_URL: https://auth.example.com/token\n  app.yaml: |\n    db:\n      host: db\n      password: ${DB_PASSWORD}\n      passwordFile: /run/secrets/pw\n    secretName: shop-tls\n",
        );
        assert!(findings.is_empty(), "{findings:?}");
    }
}
