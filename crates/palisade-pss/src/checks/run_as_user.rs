#![doc = include_str!("docs/runAsUser.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/runAsUser.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/runAsUser",
    title: "Containers must not set runAsUser: 0",
    severity: Severity::Medium,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[
        palisade_model::Control::cis("5.2.7"),
        palisade_model::Control::nsa("non-root-containers"),
    ],
};

pub(crate) const CHECK: Check = Check {
    id: "runAsUser",
    level: Level::Restricted,
    rule: &RULE,
    versions: &[version(23, run_as_user_1_23), version(35, run_as_user_1_35)],
};

const REASON: &str = "runAsUser=0";
const REMEDIATION: &str =
    "Set runAsUser to a non-zero UID, or remove it and run an image with a non-root USER.";

fn run_as_user_1_23<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut violations = Vec::new();
    let pod_bad = match integer(pod_context(pod), "runAsUser") {
        Some((node, 0)) => {
            violations.push(Violation {
                node,
                field: pod.field_path("securityContext.runAsUser"),
                message: reason_detail(REASON, &detail::<&str>(true, &[])),
                remediation: REMEDIATION,
            });
            true
        }
        _ => false,
    };
    let mut names = Vec::new();
    for container in pod.containers() {
        if let Some((node, 0)) = integer(container_context(&container), "runAsUser") {
            names.push(container.name());
            violations.push(Violation {
                node,
                field: container_field(pod, &container, "securityContext.runAsUser"),
                message: reason_detail(REASON, &detail(false, &[container.name()])),
                remediation: REMEDIATION,
            });
        }
    }
    if !pod_bad && names.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(REASON, detail(pod_bad, &names), violations)
}

/// From 1.35 pods in a user namespace (`hostUsers: false`) are exempt.
fn run_as_user_1_35<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    if in_user_namespace(pod) {
        return Outcome::allowed();
    }
    run_as_user_1_23(pod)
}

fn detail<S: AsRef<str>>(pod: bool, names: &[S]) -> String {
    format!("{} must not set runAsUser=0", setters_phrase(pod, names))
}
