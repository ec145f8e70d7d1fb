//! ## What it finds
//!
//! A pod or container that runs with the root group: `runAsGroup: 0` (on the
//! container, or on the pod for the containers that do not override it),
//! `fsGroup: 0`, or `0` in `supplementalGroups`.
//!
//! Only explicit values are reported; when `runAsGroup` is unset the image
//! decides the group (see the optional `pod/low-user-id`). Windows pods are
//! not reported.
//!
//! ## Why it matters
//!
//! `runAsNonRoot` and `runAsUser` only constrain the user. A process in
//! group 0 can still read and write every file that is group-owned by root
//! with group permissions: much of the image, and files on any shared or
//! host volume. `fsGroup: 0` makes every file on the pod's volumes owned by
//! group root.
//!
//! ## How to fix it
//!
//! Set `runAsGroup` and `fsGroup` to a dedicated non-zero group (10000 or
//! more avoids clashing with host groups) and remove `0` from
//! `supplementalGroups`.
//!
//! ## Example
//!
//! ```yaml
//! securityContext:
//!   runAsUser: 10001
//!   runAsGroup: 10001
//!   fsGroup: 10001
//! ```

use palisade_model::{pod_template, Control, Node, Object, RuleMeta, Severity};

use super::util::is_windows;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Level, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/run-as-root-group",
        title: "Containers should not run with the root group (GID 0)",
        severity: Severity::Medium,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
        controls: &[Control::nsa("non-root-containers")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

const REMEDIATION: &str =
    "Use a dedicated non-zero group for runAsGroup and fsGroup, and remove 0 from supplementalGroups.";

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    if is_windows(&pod) {
        return;
    }
    let mut inheriting = Vec::new();
    let mut pod_group = None;
    each_container(object, |c| match c.security().get("runAsGroup") {
        Some((node, Level::Container)) if node.as_i64() == Some(0) => sink.report(
            node,
            c.field("securityContext.runAsGroup"),
            format!("{} sets runAsGroup: 0 (the root group)", c.describe()),
            REMEDIATION,
        ),
        Some((node, Level::Pod)) if node.as_i64() == Some(0) => {
            pod_group = Some(node);
            inheriting.push(c.describe());
        }
        _ => {}
    });
    if let Some(node) = pod_group {
        sink.report(
            node,
            pod.field_path("securityContext.runAsGroup"),
            format!(
                "the pod sets runAsGroup: 0 (the root group) for {}",
                inheriting.join(", ")
            ),
            REMEDIATION,
        );
    }
    let Some(sc) = pod.security_context() else {
        return;
    };
    if let Some(node) = sc.get("fsGroup").filter(|n| n.as_i64() == Some(0)) {
        sink.report(
            node,
            pod.field_path("securityContext.fsGroup"),
            "the pod sets fsGroup: 0: its volumes are owned by the root group",
            REMEDIATION,
        );
    }
    for (i, node) in sc
        .get("supplementalGroups")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        if node.as_i64() == Some(0) {
            sink.report(
                node,
                pod.field_path(&format!("securityContext.supplementalGroups[{i}]")),
                "the pod adds the root group (0) to supplementalGroups",
                REMEDIATION,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_root_groups_once_per_setting() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    runAsGroup: 0\n    fsGroup: 0\n    supplementalGroups: [1000, 0]\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: x\n  - name: c\n    image: x\n    securityContext: {runAsGroup: 3000}\n  - name: d\n    image: x\n    securityContext: {runAsGroup: 0}\n",
        );
        assert_eq!(positions(&findings), [(19, 35), (6, 17), (7, 14), (8, 32)]);
        assert!(findings[1]
            .message
            .contains("for container \"a\", container \"b\""));
        assert_eq!(
            findings[3].location.field.as_deref(),
            Some("spec.securityContext.supplementalGroups[1]")
        );
    }

    #[test]
    fn passes_non_root_groups_and_overridden_pod_group() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsGroup: 0, fsGroup: 2000}\n  containers:\n  - name: a\n    image: x\n    securityContext: {runAsGroup: 3000}\n",
        );
        assert!(findings.is_empty());
    }
}
