#![doc = include_str!("docs/allowPrivilegeEscalation.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/allowPrivilegeEscalation.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/allowPrivilegeEscalation",
    title: "Containers must set allowPrivilegeEscalation: false",
    severity: Severity::Medium,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[
        palisade_model::Control::cis("5.2.6"),
        palisade_model::Control::nsa("pod-security"),
        palisade_model::Control::mitre("T1068"),
    ],
};

pub(crate) const CHECK: Check = Check {
    id: "allowPrivilegeEscalation",
    level: Level::Restricted,
    rule: &RULE,
    versions: &[
        version(8, allow_privilege_escalation_1_8),
        version(25, allow_privilege_escalation_1_25),
    ],
};

const REASON: &str = "allowPrivilegeEscalation != false";

fn allow_privilege_escalation_1_8<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut names = Vec::new();
    let mut violations = Vec::new();
    for container in pod.containers() {
        let context = container_context(&container);
        let node = match boolean(context, "allowPrivilegeEscalation") {
            Some((_, false)) => continue,
            Some((node, true)) => node,
            // Unset: point at the securityContext (or container) that should say it.
            None => nearest(container.node, &[context]),
        };
        names.push(container.name());
        violations.push(Violation {
            node,
            field: container_field(pod, &container, "securityContext.allowPrivilegeEscalation"),
            message: reason_detail(REASON, &detail(&[container.name()])),
            remediation: "Set securityContext.allowPrivilegeEscalation to false.",
        });
    }
    if names.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(REASON, detail(&names), violations)
}

/// From 1.25 Windows pods are exempt: the setting has no meaning there.
fn allow_privilege_escalation_1_25<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    if is_windows(pod) {
        return Outcome::allowed();
    }
    allow_privilege_escalation_1_8(pod)
}

fn detail(names: &[&str]) -> String {
    format!(
        "{} must set securityContext.allowPrivilegeEscalation=false",
        containers_phrase(names)
    )
}
