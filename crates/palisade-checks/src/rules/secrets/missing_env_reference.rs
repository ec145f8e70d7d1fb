//! ## What it finds
//!
//! A container environment reference to a ConfigMap or Secret, or to a key of
//! one, that the input does not contain: `env[].valueFrom.configMapKeyRef`,
//! `env[].valueFrom.secretKeyRef`, `envFrom[].configMapRef`,
//! `envFrom[].secretRef`.
//!
//! The check runs only when the input has objects of that kind (ConfigMap or
//! Secret) in the workload's namespace, so scanning a Deployment without its
//! configuration says nothing. References marked `optional: true` are
//! skipped, and a Secret that another object of the input creates
//! (ExternalSecret, SealedSecret, cert-manager Certificate, Secrets Store CSI
//! SecretProviderClass, Vault Secrets Operator, 1Password item) counts as
//! present. Keys are checked only against objects that list keys.
//!
//! ## Why it matters
//!
//! The kubelet refuses to start the container (`CreateContainerConfigError`)
//! until the object and key exist: the rollout stalls.
//!
//! ## How to fix it
//!
//! Add the missing object or key, fix the name, or mark the reference
//! `optional: true` if the application copes without it.
//!
//! ## Example
//!
//! ```yaml
//! env:
//! - name: LOG_LEVEL
//!   valueFrom:
//!     configMapKeyRef: {name: app-config, key: log-level, optional: true}
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use super::refs::problem;
use super::util::is_optional;
use crate::index::namespace_of;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/missing-env-reference",
        title: "Environment references should point at ConfigMaps and Secrets that exist",
        severity: Severity::Medium,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/configure-pod-configmap/#define-container-environment-variables-using-configmap-data",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn name_of(reference: &Node) -> &str {
    reference.get("name").and_then(Node::as_str).unwrap_or("")
}

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let ns = namespace_of(object);
    each_container(object, |c| {
        for (i, env) in c
            .node()
            .get("env")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            for (field, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
                let Some(reference) = env.path(&["valueFrom", field]) else {
                    continue;
                };
                let key = reference.get("key").and_then(Node::as_str);
                let keys: Vec<&str> = key.into_iter().collect();
                if let Some(p) = problem(
                    cx,
                    ns,
                    kind,
                    name_of(reference),
                    &keys,
                    is_optional(reference),
                ) {
                    let var = env.get("name").and_then(Node::as_str).unwrap_or("?");
                    sink.report(
                        reference,
                        c.field(&format!("env[{i}].valueFrom.{field}")),
                        format!("{} takes the environment variable {var} from a missing reference: {p}", c.describe()),
                        "Add the missing object or key, fix the reference, or mark it optional: true.",
                    );
                }
            }
        }
        for (i, from) in c
            .node()
            .get("envFrom")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            for (field, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                let Some(reference) = from.get(field) else {
                    continue;
                };
                if let Some(p) = problem(
                    cx,
                    ns,
                    kind,
                    name_of(reference),
                    &[],
                    is_optional(reference),
                ) {
                    sink.report(
                        reference,
                        c.field(&format!("envFrom[{i}].{field}")),
                        format!(
                            "{} loads its environment from a missing reference: {p}",
                            c.describe()
                        ),
                        "Add the missing object, fix the reference, or mark it optional: true.",
                    );
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const OBJECTS: &str = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: shop}\ndata: {level: debug}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData: {password: x}\n---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: api, namespace: shop}\nspec: {secretStoreRef: {name: s}, target: {name: api-keys}}\n";

    fn pod(env: &str) -> String {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: shop}}\nspec:\n  containers:\n  - name: a\n    image: x\n{env}")
    }

    #[test]
    fn flags_missing_objects_and_keys() {
        let yaml = format!(
            "{}{OBJECTS}",
            pod("    env:\n    - name: A\n      valueFrom: {configMapKeyRef: {name: cm, key: nope}}\n    - name: B\n      valueFrom: {secretKeyRef: {name: gone, key: password}}\n    envFrom:\n    - configMapRef: {name: other}\n")
        );
        let findings = run(&RULE, &yaml);
        assert_eq!(positions(&findings), [(10, 36), (12, 33), (14, 21)]);
        assert!(findings[0]
            .message
            .contains("ConfigMap shop/cm has no key nope"));
        assert!(findings[1]
            .message
            .contains("Secret shop/gone is not in the input"));
    }

    #[test]
    fn passes_present_optional_produced_or_unknown() {
        let env = "    env:\n    - name: A\n      valueFrom: {configMapKeyRef: {name: cm, key: level}}\n    - name: B\n      valueFrom: {secretKeyRef: {name: gone, key: x, optional: true}}\n    - name: C\n      valueFrom: {secretKeyRef: {name: api-keys, key: token}}\n    envFrom:\n    - secretRef: {name: db}\n";
        assert!(run(&RULE, &format!("{}{OBJECTS}", pod(env))).is_empty());
        // No ConfigMap or Secret in the input: nothing to compare with.
        let env = "    envFrom:\n    - configMapRef: {name: other}\n";
        assert!(run(&RULE, &pod(env)).is_empty());
    }
}
