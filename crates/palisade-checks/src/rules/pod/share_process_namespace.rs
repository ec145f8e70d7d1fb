//! ## What it finds
//!
//! A pod with `shareProcessNamespace: true`.
//!
//! ## Why it matters
//!
//! All containers of the pod then share one process namespace: each can see
//! the others' processes, read their environment (`/proc/PID/environ`) and
//! reach their filesystems through `/proc/PID/root`, and, with the right
//! capability, signal or trace them. A compromised sidecar thereby gets the
//! main container's secrets, and the reverse. The pause container also
//! becomes PID 1, which changes signal handling for the application.
//!
//! ## How to fix it
//!
//! Remove `shareProcessNamespace` unless a container truly needs to see the
//! others (a debugger, a process-reloading sidecar); for debugging, prefer
//! `kubectl debug --target`, which shares only with the chosen container
//! and only for the session.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   shareProcessNamespace: false   # the default; or remove the field
//! ```

use palisade_model::{pod_template, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/share-process-namespace",
        title: "Containers of a pod should not share a process namespace",
        severity: Severity::Low,
        category: "pod",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/tasks/configure-pod-container/share-process-namespace/",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    if let Some(node) = pod
        .spec
        .get("shareProcessNamespace")
        .filter(|n| n.as_bool() == Some(true))
    {
        sink.report(
            node,
            pod.field_path("shareProcessNamespace"),
            "the pod's containers share one process namespace: each can read the others' environment and files",
            "Remove shareProcessNamespace; use kubectl debug --target for debugging.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_only_true() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  shareProcessNamespace: true\n  containers: [{name: a, image: x}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  shareProcessNamespace: false\n  containers: [{name: a, image: x}]\n",
        );
        assert_eq!(positions(&findings), [(5, 26)]);
    }
}
