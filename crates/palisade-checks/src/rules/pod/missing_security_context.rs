//! ## What it finds
//!
//! *Optional check.* A container with no `securityContext` (or an empty one)
//! in a pod that has none either: nothing about its user, capabilities or
//! filesystem was decided, so every runtime default applies.
//!
//! Each missing setting is reported by its own check (`pss/runAsNonRoot`,
//! `pss/allowPrivilegeEscalation`, `pss/capabilities_restricted`,
//! `pss/seccompProfile_restricted`, `pod/read-only-root-filesystem`); this
//! one exists for policies that demand an explicit security context, as CIS
//! 5.7.3 does.
//!
//! ## Why it matters
//!
//! Runtime defaults run the image's user (often root), keep the default
//! capabilities, allow privilege escalation through setuid binaries and leave
//! the root filesystem writable.
//!
//! ## How to fix it
//!
//! Give the pod and each container a security context with the restricted
//! settings.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   securityContext:
//!     runAsNonRoot: true
//!     seccompProfile: {type: RuntimeDefault}
//!   containers:
//!   - name: app
//!     securityContext:
//!       allowPrivilegeEscalation: false
//!       readOnlyRootFilesystem: true
//!       capabilities: {drop: ["ALL"]}
//! ```

use palisade_model::{pod_template, Control, Node, Object, RuleMeta, Severity};

use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/missing-security-context",
        title: "Pods and containers should define a securityContext",
        severity: Severity::Low,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
        controls: &[Control::cis("5.7.3"), Control::nsa("pod-security")],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

fn is_empty(context: Option<&Node>) -> bool {
    context.is_none_or(|n| n.entries().is_empty())
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    if !is_empty(pod.security_context()) {
        return;
    }
    each_container(object, |c| {
        if is_empty(c.container.security_context()) {
            let (node, field) = c.anchor();
            sink.report(
                node,
                field,
                format!("{} has no securityContext, and neither has its pod", c.describe()),
                "Set securityContext on the pod and the container (runAsNonRoot, allowPrivilegeEscalation: false, capabilities drop ALL, seccomp RuntimeDefault).",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_containers_without_any_context() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {}\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: x\n    securityContext: {runAsNonRoot: true}\n",
        );
        assert_eq!(positions(&findings), [(7, 5)]);
    }

    #[test]
    fn passes_when_the_pod_has_one() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers:\n  - name: a\n    image: x\n",
        );
        assert!(findings.is_empty());
    }
}
