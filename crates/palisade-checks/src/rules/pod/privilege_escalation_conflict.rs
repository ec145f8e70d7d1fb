//! ## What it finds
//!
//! A container that sets `allowPrivilegeEscalation: false` together with
//! `privileged: true`, or with `CAP_SYS_ADMIN` in `capabilities.add`. The
//! Kubernetes API server rejects both combinations, so the manifest cannot
//! be applied as written.
//!
//! (`SYS_ADMIN` written without the `CAP_` prefix is accepted by the API
//! server; `pod/sys-admin-capability` reports it.)
//!
//! ## Why it matters
//!
//! A privileged container, or one with `CAP_SYS_ADMIN`, already has every
//! power that privilege escalation would give, so
//! `allowPrivilegeEscalation: false` cannot hold and the API server refuses
//! the pair rather than pretend. The apply fails (for a Deployment, when the
//! object is created; for a template-generating controller, possibly much
//! later), and the setting shows the author expected a confinement that the
//! container does not have.
//!
//! ## How to fix it
//!
//! Decide which one is meant. Almost always: remove `privileged: true` or
//! `CAP_SYS_ADMIN` and keep `allowPrivilegeEscalation: false`.
//!
//! ## Example
//!
//! ```yaml
//! securityContext:
//!   allowPrivilegeEscalation: false
//!   capabilities:
//!     drop: ["ALL"]
//!     add: ["NET_ADMIN"]   # the narrow capability, not CAP_SYS_ADMIN or privileged
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/privilege-escalation-conflict",
        title:
            "allowPrivilegeEscalation: false cannot be combined with privileged or CAP_SYS_ADMIN",
        severity: Severity::Medium,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
        controls: &[Control::cis("5.2.6")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        let Some(sc) = c.container.security_context() else {
            return;
        };
        let Some(ape) = sc
            .get("allowPrivilegeEscalation")
            .filter(|n| n.as_bool() == Some(false))
        else {
            return;
        };
        let field = c.field("securityContext.allowPrivilegeEscalation");
        if sc.get("privileged").and_then(Node::as_bool) == Some(true) {
            sink.report(
                ape,
                field.clone(),
                format!(
                    "{} sets allowPrivilegeEscalation: false and privileged: true, which the API server rejects",
                    c.describe()
                ),
                "Remove privileged: true (or, if the container must be privileged, remove allowPrivilegeEscalation: false).",
            );
        }
        let adds_sys_admin = sc
            .path(&["capabilities", "add"])
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .any(|n| n.as_str() == Some("CAP_SYS_ADMIN"));
        if adds_sys_admin {
            sink.report(
                ape,
                field,
                format!(
                    "{} sets allowPrivilegeEscalation: false and adds CAP_SYS_ADMIN, which the API server rejects",
                    c.describe()
                ),
                "Remove CAP_SYS_ADMIN from capabilities.add and add only the narrow capability needed.",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rejected_combinations() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: {allowPrivilegeEscalation: false, privileged: true}\n  - name: b\n    image: x\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {add: [CAP_SYS_ADMIN]}}\n",
        );
        assert_eq!(positions(&findings), [(8, 49), (11, 49)]);
        assert!(findings[1].message.contains("adds CAP_SYS_ADMIN"));
    }

    #[test]
    fn passes_accepted_combinations() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {add: [SYS_ADMIN]}}\n  - name: b\n    image: x\n    securityContext: {privileged: true}\n",
        );
        assert!(findings.is_empty());
    }
}
