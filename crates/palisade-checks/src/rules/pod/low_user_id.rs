//! ## What it finds
//!
//! *Optional check.* A container whose effective `runAsUser` or `runAsGroup`
//! (container value, else the pod's) is below 10000, or is not set at all
//! (the image then decides, and images use low IDs such as 1000 or 101).
//!
//! `runAsUser: 0` is reported by `pss/runAsUser` and `runAsGroup: 0` by
//! `pod/run-as-root-group`, so ID 0 is left to them. Pods with
//! `hostUsers: false` are not reported: their IDs are mapped to an unprivileged
//! range on the node anyway. Windows pods are not reported.
//!
//! ## Why it matters
//!
//! Without user namespaces a container's UID is the same UID on the node.
//! Low IDs are shared with real node accounts and system services; after an
//! escape, or through a hostPath or shared volume, the process acts as that
//! account. IDs of 10000 and above are outside the ranges distributions
//! allocate.
//!
//! ## How to fix it
//!
//! Set `runAsUser` and `runAsGroup` to 10000 or more (in the pod's
//! `securityContext` to cover every container), or enable user namespaces
//! with `hostUsers: false`.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   securityContext:
//!     runAsNonRoot: true
//!     runAsUser: 10001
//!     runAsGroup: 10001
//! ```

use palisade_model::{pod_template, Control, Node, Object, RuleMeta, Severity};

use super::util::is_windows;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Level, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/low-user-id",
        title: "Containers should run with a UID and GID of 10000 or more",
        severity: Severity::Low,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
        controls: &[Control::nsa("non-root-containers")],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

/// The lowest ID not reported.
const MIN_ID: i64 = 10000;

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    if is_windows(&pod) || pod.spec.get("hostUsers").and_then(Node::as_bool) == Some(false) {
        return;
    }
    for field in ["runAsUser", "runAsGroup"] {
        let mut pod_value: Option<(&Node, i64)> = None;
        let mut inheriting = Vec::new();
        each_container(object, |c| match c.security().get(field) {
            Some((node, level)) => {
                let Some(id) = node.as_i64().filter(|id| (1..MIN_ID).contains(id)) else {
                    return;
                };
                if level == Level::Pod {
                    pod_value = Some((node, id));
                    inheriting.push(c.describe());
                } else {
                    sink.report(
                        node,
                        c.field(&format!("securityContext.{field}")),
                        format!("{} sets {field}: {id}, below {MIN_ID}", c.describe()),
                        format!("Set securityContext.{field} to {MIN_ID} or more."),
                    );
                }
            }
            None => {
                let (node, path) = c.anchor();
                sink.report(
                    node,
                    path,
                    format!(
                        "{} does not set {field}: the image's ID applies, usually below {MIN_ID}",
                        c.describe()
                    ),
                    format!("Set securityContext.{field} to {MIN_ID} or more."),
                );
            }
        });
        if let Some((node, id)) = pod_value {
            sink.report(
                node,
                pod.field_path(&format!("securityContext.{field}")),
                format!(
                    "the pod sets {field}: {id}, below {MIN_ID}, for {}",
                    inheriting.join(", ")
                ),
                format!("Set securityContext.{field} to {MIN_ID} or more."),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_low_and_unset_ids() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsUser: 1000}\n  containers:\n  - name: a\n    image: x\n    securityContext: {runAsGroup: 20000}\n  - name: b\n    image: x\n    securityContext: {runAsUser: 0, runAsGroup: 101}\n",
        );
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(positions(&findings), [(5, 32), (12, 49)], "{messages:?}");
        assert!(
            messages[0].contains("the pod sets runAsUser: 1000, below 10000, for container \"a\"")
        );
        assert!(messages[1].contains("runAsGroup: 101"));
        let unset = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n",
        );
        assert_eq!(unset.len(), 2);
        assert!(unset[0].message.contains("does not set runAsUser"));
    }

    #[test]
    fn passes_high_ids_and_user_namespaces() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsUser: 10001, runAsGroup: 10001}\n  containers:\n  - name: a\n    image: x\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  hostUsers: false\n  containers:\n  - name: a\n    image: x\n",
        );
        assert!(findings.is_empty(), "{findings:?}");
    }
}
