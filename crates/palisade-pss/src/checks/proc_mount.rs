#![doc = include_str!("docs/procMount.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/procMount.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/procMount",
    title: "Containers must keep the default /proc masks",
    severity: Severity::High,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[palisade_model::Control::nsa("pod-security")],
};

pub(crate) const ID: &str = "procMount";

pub(crate) const CHECK: Check = Check {
    id: ID,
    level: Level::Baseline,
    rule: &RULE,
    versions: &[version(0, proc_mount_1_0), version(35, proc_mount_1_35)],
};

const REASON: &str = "procMount";

/// Any `procMount` other than `Default` is forbidden. Also the restricted
/// check's behaviour, which keeps this strictness for user-namespace pods.
pub(crate) fn proc_mount_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut names = Vec::new();
    let mut types = Vec::new();
    let mut violations = Vec::new();
    for container in pod.containers() {
        let Some((node, proc_mount)) = string(container_context(&container), "procMount") else {
            continue;
        };
        if proc_mount == "Default" {
            continue;
        }
        names.push(container.name());
        types.push(proc_mount);
        violations.push(Violation {
            node,
            field: container_field(pod, &container, "securityContext.procMount"),
            message: reason_detail(
                REASON,
                &detail(&[container.name()], &[proc_mount.to_string()]),
            ),
            remediation: "Remove securityContext.procMount or set it to Default.",
        });
    }
    if names.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(REASON, detail(&names, &sorted_set(types)), violations)
}

/// From 1.35 baseline allows any procMount in a user namespace (`hostUsers: false`).
fn proc_mount_1_35<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    if in_user_namespace(pod) {
        return Outcome::allowed();
    }
    proc_mount_1_0(pod)
}

fn detail(names: &[&str], types: &[String]) -> String {
    format!(
        "{} must not set securityContext.procMount to {}",
        containers_phrase(names),
        join_quote(types)
    )
}
