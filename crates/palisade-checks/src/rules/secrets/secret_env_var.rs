//! ## What it finds
//!
//! A container that receives a Secret as environment variables:
//! `env[].valueFrom.secretKeyRef` or `envFrom[].secretRef`.
//!
//! ## Why it matters
//!
//! Environment variables leak: they are inherited by every child process,
//! printed by crash handlers, debug pages and `env` in a support session,
//! visible in `/proc/<pid>/environ` to anything sharing the PID namespace, and
//! never updated when the Secret rotates. A mounted Secret file avoids all of
//! this and is refreshed by the kubelet.
//!
//! ## How to fix it
//!
//! Mount the Secret as a volume and have the application read the file (many
//! images support `*_FILE` variables for this).
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   env:
//!   - {name: DB_PASSWORD_FILE, value: /run/secrets/db/password}
//!   volumeMounts:
//!   - {name: db, mountPath: /run/secrets/db, readOnly: true}
//! volumes:
//! - name: db
//!   secret: {secretName: db}
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/secret-env-var",
        title: "Secrets should be mounted as files, not passed as environment variables",
        severity: Severity::Low,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/secrets-good-practices/",
        controls: &[
            Control::nsa("secrets"),
            Control::cis("5.4.1"),
            Control::mitre("T1552"),
        ],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

const FIX: &str = "Mount the Secret as a volume and read it from a file.";

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        for (i, env) in c
            .node()
            .get("env")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let Some(reference) = env.path(&["valueFrom", "secretKeyRef"]) else {
                continue;
            };
            let var = env.get("name").and_then(Node::as_str).unwrap_or("?");
            let secret = reference.get("name").and_then(Node::as_str).unwrap_or("?");
            sink.report(
                reference,
                c.field(&format!("env[{i}].valueFrom.secretKeyRef")),
                format!(
                    "{} gets Secret {secret:?} in the environment variable {var}",
                    c.describe()
                ),
                FIX,
            );
        }
        for (i, from) in c
            .node()
            .get("envFrom")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let Some(reference) = from.get("secretRef") else {
                continue;
            };
            let secret = reference.get("name").and_then(Node::as_str).unwrap_or("?");
            sink.report(
                reference,
                c.field(&format!("envFrom[{i}].secretRef")),
                format!(
                    "{} gets every key of Secret {secret:?} as environment variables",
                    c.describe()
                ),
                FIX,
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_secret_refs_in_env() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    env:\n    - {name: A, value: b}\n    - name: PW\n      valueFrom: {secretKeyRef: {name: db, key: password}}\n    - name: C\n      valueFrom: {configMapKeyRef: {name: cm, key: c}}\n    envFrom:\n    - secretRef: {name: api}\n    - configMapRef: {name: cm}\n",
        );
        assert_eq!(positions(&findings), [(11, 33), (15, 18)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.containers[0].env[1].valueFrom.secretKeyRef")
        );
    }

    #[test]
    fn passes_mounted_secrets() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x, volumeMounts: [{name: s, mountPath: /s}]}]\n  volumes: [{name: s, secret: {secretName: db}}]\n",
        );
        assert!(findings.is_empty());
    }
}
