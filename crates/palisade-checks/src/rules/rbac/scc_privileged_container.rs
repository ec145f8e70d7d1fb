//! ## What it finds
//!
//! An OpenShift SecurityContextConstraints object with
//! `allowPrivilegedContainer: true`. The SCCs OpenShift ships itself (marked
//! with `include.release.openshift.io/*` or `release.openshift.io/create-only`
//! annotations, such as `privileged`) are not reported.
//!
//! ## Why it matters
//!
//! Every pod admitted under this SCC may run privileged containers, which
//! have all capabilities and the host's devices: root on the node. Whoever can
//! `use` the SCC (through RBAC, or because it is granted to a group) can
//! take the node.
//!
//! ## How to fix it
//!
//! Set `allowPrivilegedContainer: false`, and grant the built-in
//! `privileged` SCC to the few ServiceAccounts that need it instead.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: security.openshift.io/v1
//! kind: SecurityContextConstraints
//! metadata: {name: app-restricted}
//! allowPrivilegedContainer: false
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/scc-privileged-container",
        title: "SecurityContextConstraints should not allow privileged containers",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://docs.openshift.com/container-platform/latest/authentication/managing-security-context-constraints.html",
        controls: &[
            Control::nsa("pod-security"),
            Control::cis("5.2.2"),
            Control::mitre("T1611"),
        ],
    },
    kinds: Kinds::Only(&["SecurityContextConstraints"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if object.annotations().any(|(k, _)| {
        k.starts_with("include.release.openshift.io/") || k == "release.openshift.io/create-only"
    }) {
        return;
    }
    let Some(node) = object.root.get("allowPrivilegedContainer") else {
        return;
    };
    if node.as_bool() == Some(true) {
        report(sink, node, object);
    }
}

fn report(sink: &mut Sink<'_>, node: &Node, object: &Object) {
    sink.report(
        node,
        "allowPrivilegedContainer",
        format!("{} allows privileged containers", object.id),
        "Set allowPrivilegedContainer: false; grant the built-in privileged SCC only to the ServiceAccounts that need it.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const SCC: &str = "apiVersion: security.openshift.io/v1\nkind: SecurityContextConstraints\nmetadata: {name: s}\n";

    #[test]
    fn flags_privileged_scc() {
        let findings = run(&RULE, &format!("{SCC}allowPrivilegedContainer: true\n"));
        assert_eq!(positions(&findings), [(4, 27)]);
    }

    #[test]
    fn passes_unprivileged_and_shipped_sccs() {
        assert!(run(&RULE, &format!("{SCC}allowPrivilegedContainer: false\n")).is_empty());
        let shipped = format!("{SCC}allowPrivilegedContainer: true\n").replace(
            "{name: s}",
            "{name: privileged, annotations: {include.release.openshift.io/self-managed-high-availability: 'true'}}",
        );
        assert!(run(&RULE, &shipped).is_empty());
    }
}
