//! ## What it finds
//!
//! A container whose `securityContext.readOnlyRootFilesystem` is not `true`.
//!
//! ## Why it matters
//!
//! A writable root filesystem lets an intruder drop tools, change binaries or
//! plant persistence inside the container. With a read-only root, the only
//! writable places are the volumes you mount on purpose.
//!
//! ## How to fix it
//!
//! Set `readOnlyRootFilesystem: true` and mount an `emptyDir` where the
//! application needs to write (`/tmp`, caches).
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   securityContext:
//!     readOnlyRootFilesystem: true
//!   volumeMounts:
//!   - {name: tmp, mountPath: /tmp}
//! volumes:
//! - {name: tmp, emptyDir: {}}
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/read-only-root-filesystem",
        title: "Containers should run with a read-only root filesystem",
        severity: Severity::Medium,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
        controls: &[
            Control::nsa("immutable-filesystems"),
            Control::mitre("T1059"),
        ],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        match c.security().get("readOnlyRootFilesystem") {
        Some((node, _)) if node.as_bool() == Some(true) => {}
        Some((node, _)) => sink.report(
            node,
            c.field("securityContext.readOnlyRootFilesystem"),
            format!("{} sets readOnlyRootFilesystem: {}", c.describe(), node.display_value()),
            "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the app writes.",
        ),
        None => {
            let (node, field) = c.anchor();
            sink.report(
                node,
                field,
                format!("{} does not set securityContext.readOnlyRootFilesystem: true", c.describe()),
                "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the app writes.",
            );
        }
    }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_missing_and_false() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: x\n    securityContext:\n      readOnlyRootFilesystem: false\n",
        );
        assert_eq!(positions(&findings), [(6, 5), (11, 31)]);
        assert!(findings[0].message.contains("container \"a\""));
    }

    #[test]
    fn passes_when_true() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: {readOnlyRootFilesystem: true}\n",
        );
        assert!(findings.is_empty());
    }
}
