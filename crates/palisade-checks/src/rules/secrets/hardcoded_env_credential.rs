//! ## What it finds
//!
//! A container environment variable with a literal credential as its `value`:
//!
//! - a variable whose name ends with a credential word (`*_PASSWORD`,
//!   `*_PASS`, `*_PWD`, `*_SECRET`, `*_TOKEN`, `*_API_KEY`, `*_ACCESS_KEY`,
//!   `*_PRIVATE_KEY`, `*_CREDENTIALS`...) and a literal value; other `*_KEY`
//!   names only with a long random-looking value (16+ characters, 3.5+ bits
//!   of entropy per character);
//! - any variable whose value contains a credential of a known format: AWS
//!   access key ids, GitHub, GitLab, Slack and Stripe tokens, Google API
//!   keys, PEM private keys, JSON Web Tokens, URLs with a password
//!   (`postgres://user:pass@db`).
//!
//! Names that only mention a credential (`PASSWORD_FILE`, `TOKEN_URL`,
//! `SECRET_NAME`, `AWS_ACCESS_KEY_ID`) are not judged by name, and neither are
//! values that are not credentials: empty, `$(VAR)` references, template
//! placeholders (`${X}`, `{{ x }}`, `<password>`, `xxxx`), paths, secret
//! manager references (`ENC[...]`, `ref+vault://`, `arn:aws:...`), switches
//! (`true`, `disabled`), and under `*_SECRET`/`*_TOKEN` names, Kubernetes
//! object names such as `db-credentials`. Weak real passwords (`changeme`,
//! `admin`) are reported: deployed as is, they are the credential.
//!
//! The message names the variable and shows at most a fingerprint (first 4
//! characters and length, for values of 16 characters or more).
//!
//! ## Why it matters
//!
//! The credential is in the repository, in every rendered manifest, in the
//! API server's storage unencrypted and readable by anyone who can read the
//! workload (many more people than can read Secrets).
//!
//! ## How to fix it
//!
//! Move the value into a Secret (created outside the repository) and mount it,
//! or at least reference it with `valueFrom.secretKeyRef`; rotate the exposed
//! credential.
//!
//! ## Example
//!
//! ```yaml
//! env:
//! - name: DB_PASSWORD_FILE
//!   value: /run/secrets/db/password     # mounted from the Secret "db"
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{env_entries, find_credentials, fingerprint, literal_under_name};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/hardcoded-env-credential",
        title: "Environment variables should not hold literal credentials",
        severity: Severity::High,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables",
        controls: &[Control::nsa("secrets"), Control::mitre("T1552")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        for (i, env, name) in env_entries(c) {
            let Some(node) = env.get("value") else {
                continue;
            };
            let Some(value) = node.as_str() else { continue };
            let mut what: Vec<String> = find_credentials(value)
                .iter()
                .map(|f| f.describe())
                .collect();
            if what.is_empty() {
                if let Some(reason) = literal_under_name(name, value) {
                    what.push(format!("{reason} ({})", fingerprint(value.trim())));
                }
            }
            if what.is_empty() {
                continue;
            }
            sink.report(
                node,
                c.field(&format!("env[{i}].value")),
                format!(
                    "{} sets the environment variable {name} to a literal credential: {}",
                    c.describe(),
                    what.join("; ")
                ),
                "Put the value in a Secret created outside the repository, mount it (or use valueFrom.secretKeyRef), and rotate it.",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    fn pod(env: &str) -> String {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: a\n    image: x\n    env:\n{env}")
    }

    #[test]
    fn flags_literals_under_credential_names_and_known_formats() {
        let findings = run(
            &RULE,
            &pod("    - {name: DB_PASSWORD, value: hunter2}\n    - {name: DATABASE_URL, value: 'postgres://app:s3cr3tpw@db:5432/shop'}\n    - {name: GH, value: ghp_0123456789abcdefghijABCDEFGHIJ012345}\n"),
        );
        assert_eq!(positions(&findings), [(9, 34), (10, 35), (11, 25)]);
        let all: String = findings.iter().map(|f| f.message.clone()).collect();
        assert!(
            !all.contains("hunter2") && !all.contains("s3cr3tpw") && !all.contains("ABCDEFGHIJ")
        );
        assert!(findings[0].message.contains("7 chars"));
        assert!(findings[2]
            .message
            .contains("GitHub personal access token (ghp_…, 40 chars)"));
    }

    #[test]
    fn passes_references_placeholders_and_non_credentials() {
        let findings = run(
            &RULE,
            &pod("    - {name: DB_PASSWORD, value: $(FROM_SECRET)}\n    - {name: DB_PASSWORD_FILE, value: /run/secrets/pw}\n    - {name: TOKEN_URL, value: 'https://auth.example.com/token'}\n    - {name: TLS_SECRET, value: shop-tls}\n    - {name: AWS_REGION, value: eu-west-1}\n    - {name: API_KEY, value: ''}\n    - {name: SORT_KEY, value: createdAt}\n    - name: PW\n      valueFrom: {secretKeyRef: {name: db, key: pw}}\n"),
        );
        assert!(findings.is_empty(), "{findings:?}");
    }
}
