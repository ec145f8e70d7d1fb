//! ## What it finds
//!
//! A container that adds the `SYS_ADMIN` capability, or `ALL` (which
//! includes it), to `securityContext.capabilities.add`. Names are read as
//! runtimes read them: `sys_admin` and `CAP_SYS_ADMIN` count too.
//!
//! Privileged containers (already reported by `pss/privileged`) and Windows
//! pods (`spec.os.name: windows`, where Linux capabilities do not apply) are
//! not reported.
//!
//! ## Why it matters
//!
//! `CAP_SYS_ADMIN` is "the new root": it allows mounting filesystems,
//! manipulating namespaces, cgroups (the `release_agent` escape on cgroup
//! v1), BPF and many device operations. With it, escaping to the node is a
//! matter of a few well-known commands. `allowPrivilegeEscalation: false`
//! does not take the capability away (the API server even rejects that
//! combination when the capability is written `CAP_SYS_ADMIN`).
//!
//! ## How to fix it
//!
//! Remove `SYS_ADMIN` and `ALL` from `capabilities.add`. Find the narrow
//! capability the program actually needs (`NET_BIND_SERVICE` for low
//! ports, `CHOWN`, `SETUID`...), or move the operation (mounting, FUSE) to a
//! CSI driver or a device plugin.
//!
//! ## Example
//!
//! ```yaml
//! securityContext:
//!   allowPrivilegeEscalation: false
//!   capabilities:
//!     drop: ["ALL"]
//!     add: ["NET_BIND_SERVICE"]   # not SYS_ADMIN
//! ```

use palisade_model::{pod_template, Control, Object, RuleMeta, Severity};

use super::util::{capability_list, is_privileged, is_windows};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/sys-admin-capability",
        title: "Containers must not add the SYS_ADMIN capability",
        severity: Severity::Critical,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://man7.org/linux/man-pages/man7/capabilities.7.html",
        controls: &[
            Control::cis("5.2.9"),
            Control::nsa("pod-security"),
            Control::mitre("T1611"),
            Control::mitre("T1068"),
        ],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if pod_template(object).is_some_and(|pod| is_windows(&pod)) {
        return;
    }
    each_container(object, |c| {
        if is_privileged(c) {
            return;
        }
        for (index, node, name) in capability_list(c, "add") {
            let what = match name.as_str() {
                "SYS_ADMIN" => "adds the SYS_ADMIN capability",
                "ALL" => "adds ALL capabilities, SYS_ADMIN included",
                _ => continue,
            };
            sink.report(
                node,
                c.field(&format!("securityContext.capabilities.add[{index}]")),
                format!("{} {what}", c.describe()),
                "Remove it from securityContext.capabilities.add and add only the narrow capability the program needs.",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_sys_admin_in_any_spelling_and_all() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext:\n      capabilities:\n        add: [NET_BIND_SERVICE, cap_sys_admin]\n  - name: b\n    image: x\n    securityContext: {capabilities: {add: [ALL]}}\n",
        );
        assert_eq!(positions(&findings), [(10, 33), (13, 44)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.containers[0].securityContext.capabilities.add[1]")
        );
        assert!(findings[1].message.contains("ALL capabilities"));
    }

    #[test]
    fn quiet_for_privileged_windows_and_harmless_caps() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN]}}\n  - name: b\n    image: x\n    securityContext: {capabilities: {add: [CHOWN]}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec:\n  os: {name: windows}\n  containers:\n  - name: a\n    image: x\n    securityContext: {capabilities: {add: [SYS_ADMIN]}}\n",
        );
        assert!(findings.is_empty(), "{findings:?}");
    }
}
