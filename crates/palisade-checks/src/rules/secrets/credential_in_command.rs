//! ## What it finds
//!
//! A container `command` or `args` item with a literal credential:
//!
//! - a flag naming a credential with a literal value, as `--password=hunter2`,
//!   `--db-password hunter2` (the value being the next item) or
//!   `-token=...`; flags that point at a file (`--password-file`) or only
//!   mention a credential (`--token-url`) are not judged;
//! - a credential of a known format anywhere in the item (shell scripts
//!   included): AWS access key ids, GitHub, GitLab, Slack and Stripe tokens,
//!   Google API keys, PEM private keys, JSON Web Tokens, URLs with a password.
//!
//! `$(VAR)` references and template placeholders are not credentials. The
//! message shows at most a fingerprint of the value.
//!
//! ## Why it matters
//!
//! Command lines are in the repository, in the API server, and on the node in
//! `ps` output and `/proc/<pid>/cmdline`, readable by every process of the
//! host's PID namespace.
//!
//! ## How to fix it
//!
//! Pass the credential through a mounted Secret file (`--password-file`), or
//! reference a Secret-backed variable with `$(VAR)`; rotate the exposed value.
//!
//! ## Example
//!
//! ```yaml
//! args: ["--db-password-file=/run/secrets/db/password"]
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use super::util::{find_credentials, fingerprint, literal_under_name};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/credential-in-command",
        title: "Container commands and arguments should not hold literal credentials",
        severity: Severity::High,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/configuration/secret/",
        controls: &[Control::nsa("secrets"), Control::mitre("T1552")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

/// A flag with its inline value: `--db-password=x` → (`db-password`, Some(x)).
fn flag(item: &str) -> Option<(&str, Option<&str>)> {
    let body = item.strip_prefix("--").or_else(|| item.strip_prefix('-'))?;
    if body.is_empty() || !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    Some(match body.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (body, None),
    })
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        for list in ["command", "args"] {
            let items = c.node().get(list).map(Node::items).unwrap_or(&[]);
            for (i, node) in items.iter().enumerate() {
                let Some(item) = node.as_str() else { continue };
                let mut what: Vec<String> = find_credentials(item)
                    .iter()
                    .map(|f| f.describe())
                    .collect();
                if what.is_empty() {
                    if let Some((name, value)) = flag(item) {
                        // `--password x`: the value is the next item, unless it is a flag.
                        let value = value.or_else(|| {
                            items
                                .get(i + 1)
                                .and_then(Node::as_str)
                                .filter(|v| !v.starts_with('-'))
                        });
                        if let Some(value) = value {
                            if literal_under_name(name, value).is_some() {
                                what.push(format!(
                                    "the value of --{name} ({})",
                                    fingerprint(value)
                                ));
                            }
                        }
                    }
                }
                if what.is_empty() {
                    continue;
                }
                sink.report(
                    node,
                    c.field(&format!("{list}[{i}]")),
                    format!("{} passes a literal credential in {list}[{i}]: {}", c.describe(), what.join("; ")),
                    "Read the credential from a mounted Secret file or a Secret-backed $(VAR), and rotate it.",
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    fn pod(spec: &str) -> String {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: a\n    image: x\n{spec}")
    }

    #[test]
    fn flags_credential_flags_and_formats() {
        let findings = run(
            &RULE,
            &pod("    command: [sh, -c, 'curl -H \"Authorization: token ghp_0123456789abcdefghijABCDEFGHIJ012345\" https://api.github.com']\n    args: ['--db-password=hunter2', --api-token, S3cr3tValue1, --verbose]\n"),
        );
        assert_eq!(positions(&findings), [(8, 23), (9, 12), (9, 37)]);
        assert!(findings
            .iter()
            .all(|f| !f.message.contains("hunter2") && !f.message.contains("S3cr3t")));
    }

    #[test]
    fn passes_files_references_and_plain_flags() {
        let findings = run(
            &RULE,
            &pod("    args: ['--password-file=/run/secrets/pw', '--token=$(API_TOKEN)', --token-url, 'https://auth/x', --secret, --verbose, '--port=8080']\n"),
        );
        assert!(findings.is_empty(), "{findings:?}");
    }
}
