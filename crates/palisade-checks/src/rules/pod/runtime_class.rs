//! ## What it finds
//!
//! *Optional check.* A pod without a `runtimeClassName`, so it runs in the
//! node's default runtime (plain runc containers sharing the host kernel).
//!
//! Optional because a sandboxed runtime must first be installed on the
//! nodes; the check cannot tell which RuntimeClass is a sandbox, so any
//! `runtimeClassName` satisfies it.
//!
//! ## Why it matters
//!
//! Containers share the node's kernel: one kernel bug is a container
//! escape. Sandboxed runtimes such as gVisor (`runsc`) or Kata Containers
//! put a user-space kernel or a lightweight VM between the workload and the
//! node, which is the strongest isolation available for untrusted or
//! multi-tenant code.
//!
//! ## How to fix it
//!
//! Install a sandboxed runtime with a RuntimeClass and set
//! `runtimeClassName` on pods that run untrusted code.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: node.k8s.io/v1
//! kind: RuntimeClass
//! metadata: {name: gvisor}
//! handler: runsc
//! ---
//! spec:
//!   runtimeClassName: gvisor
//! ```

use palisade_model::{pod_template, Control, Node, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/runtime-class",
        title: "Pods running untrusted code should use a sandboxed runtimeClass",
        severity: Severity::Info,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/containers/runtime-class/",
        controls: &[Control::nsa("pod-security"), Control::mitre("T1611")],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    if pod
        .spec
        .get("runtimeClassName")
        .and_then(Node::as_str)
        .is_some_and(|s| !s.is_empty())
    {
        return;
    }
    sink.report(
        pod.spec,
        pod.field_path("runtimeClassName"),
        "the pod sets no runtimeClassName: it shares the node's kernel with no sandbox",
        "Set runtimeClassName to a sandboxed RuntimeClass (gVisor, Kata Containers) for untrusted workloads.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_missing_runtime_class() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  runtimeClassName: gvisor\n  containers: [{name: a, image: x}]\n",
        );
        assert_eq!(positions(&findings), [(5, 3)]);
    }
}
