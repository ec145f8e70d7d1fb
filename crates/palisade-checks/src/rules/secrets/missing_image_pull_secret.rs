//! ## What it finds
//!
//! A pod `imagePullSecrets` entry naming a Secret the input does not contain.
//!
//! The check runs only when the input has Secrets in the workload's
//! namespace; a Secret that another object of the input creates
//! (ExternalSecret, SealedSecret...) counts as present.
//!
//! ## Why it matters
//!
//! The kubelet pulls without the credentials: images from a private registry
//! fail with `ImagePullBackOff`, and the warning about the missing Secret is
//! easy to miss.
//!
//! ## How to fix it
//!
//! Create the registry Secret (`kubernetes.io/dockerconfigjson`) in the
//! namespace, from outside the repository, or fix the name.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   imagePullSecrets:
//!   - name: registry-credentials   # an ExternalSecret in this namespace creates it
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use super::refs::problem;
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/missing-image-pull-secret",
        title: "imagePullSecrets should name Secrets that exist",
        severity: Severity::Low,
        category: "secrets",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/tasks/configure-pod-container/pull-image-private-registry/",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = palisade_model::pod_template(object) else {
        return;
    };
    let ns = namespace_of(object);
    let entries = pod
        .spec
        .get("imagePullSecrets")
        .map(Node::items)
        .unwrap_or(&[]);
    for (i, entry) in entries.iter().enumerate() {
        let Some(node) = entry.get("name") else {
            continue;
        };
        let Some(name) = node.as_str() else { continue };
        if let Some(p) = problem(cx, ns, "Secret", name, &[], false) {
            sink.report(
                node,
                pod.field_path(&format!("imagePullSecrets[{i}].name")),
                format!("{} pulls images with a missing Secret: {p}", object.id),
                "Create the registry Secret in the namespace (outside the repository) or fix the name.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_missing_pull_secret_only_when_secrets_are_known() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  imagePullSecrets: [{name: regcred}, {name: other}]\n  containers: [{name: a, image: x}]\n";
        let secret = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: regcred, namespace: shop}\ntype: kubernetes.io/dockerconfigjson\ndata: {.dockerconfigjson: e30=}\n";
        let findings = run(&RULE, &format!("{pod}{secret}"));
        assert_eq!(positions(&findings), [(5, 46)]);
        assert!(run(&RULE, pod).is_empty());
    }
}
