//! ## What it finds
//!
//! A container whose `command` or `args` run `sudo`: as the program itself
//! (`command: [sudo, ...]`, `/usr/bin/sudo`) or as a word of a shell script
//! (`sh -c "sudo chown ..."`). Words that merely contain the letters
//! (`--no-sudo`, `sudoers`) are not reported.
//!
//! ## Why it matters
//!
//! `sudo` in an entrypoint means the image ships a setuid-root binary and the
//! process expects to become root at run time. Any code running in the
//! container can do the same, so the non-root user protects nothing. With
//! `allowPrivilegeEscalation: false` (which sets `no_new_privs`) the `sudo`
//! call fails instead, so either the container is escalating or it is broken.
//!
//! ## How to fix it
//!
//! Do the privileged step at image build time (file ownership, packages), or
//! in an init container with exactly the permission it needs, and run the
//! main process as its final non-root user.
//!
//! ## Example
//!
//! ```yaml
//! initContainers:
//! - name: fix-permissions
//!   image: busybox:1.36
//!   command: ["chown", "-R", "10001:10001", "/data"]
//!   securityContext:
//!     runAsUser: 0
//!     capabilities: {drop: ["ALL"], add: ["CHOWN"]}
//! containers:
//! - name: app
//!   command: ["/app/server"]   # not: sudo /app/server
//!   securityContext: {runAsUser: 10001, allowPrivilegeEscalation: false}
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/sudo-in-command",
        title: "Container entrypoints should not use sudo",
        severity: Severity::Medium,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
        controls: &[Control::nsa("non-root-containers"), Control::mitre("T1068")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

/// Whether a command-line string runs sudo: one of its shell words is `sudo` or a path to it.
fn runs_sudo(text: &str) -> bool {
    text.split(|ch: char| ch.is_whitespace() || ";&|()`'\"{}<>$!".contains(ch))
        .any(|word| word == "sudo" || word.ends_with("/sudo"))
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        for field in ["command", "args"] {
            for (i, node) in c
                .node()
                .get(field)
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                if node.as_str().is_some_and(runs_sudo) {
                    sink.report(
                        node,
                        c.field(&format!("{field}[{i}]")),
                        format!("{} runs sudo in its {field}", c.describe()),
                        "Do the privileged step at build time or in a narrowly privileged init container; run the main process as its final non-root user.",
                    );
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{runs_sudo, RULE};
    use crate::testing::{positions, run};

    #[test]
    fn words_not_substrings() {
        assert!(runs_sudo("sudo"));
        assert!(runs_sudo("/usr/bin/sudo"));
        assert!(runs_sudo("set -e; sudo -u app ./run"));
        assert!(runs_sudo("x && $(sudo id)"));
        assert!(!runs_sudo("--no-sudo"));
        assert!(!runs_sudo("cat /etc/sudoers"));
        assert!(!runs_sudo("pseudo"));
    }

    #[test]
    fn flags_sudo_in_command_and_args() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    command: [sudo, /app]\n  - name: b\n    image: x\n    command: [sh, -c]\n    args: ['chown app /data && sudo -u app /app']\n  - name: c\n    image: x\n    args: [--no-sudo]\n",
        );
        assert_eq!(positions(&findings), [(8, 15), (12, 12)]);
        assert_eq!(
            findings[1].location.field.as_deref(),
            Some("spec.containers[1].args[0]")
        );
    }
}
