#![doc = include_str!("docs/privileged.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/privileged.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/privileged",
    title: "Containers must not run privileged",
    severity: Severity::Critical,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[
        palisade_model::Control::cis("5.2.2"),
        palisade_model::Control::nsa("pod-security"),
        palisade_model::Control::mitre("T1611"),
    ],
};

pub(crate) const CHECK: Check = Check {
    id: "privileged",
    level: Level::Baseline,
    rule: &RULE,
    versions: &[version(0, privileged_1_0)],
};

const REASON: &str = "privileged";
const REMEDIATION: &str = "Remove securityContext.privileged or set it to false.";

fn privileged_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut names = Vec::new();
    let mut violations = Vec::new();
    for container in pod.containers() {
        if let Some((node, true)) = boolean(container_context(&container), "privileged") {
            let name = container.name();
            names.push(name);
            violations.push(Violation {
                node,
                field: container_field(pod, &container, "securityContext.privileged"),
                message: reason_detail(REASON, &detail(&[name])),
                remediation: REMEDIATION,
            });
        }
    }
    if names.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(REASON, detail(&names), violations)
}

fn detail(names: &[&str]) -> String {
    format!(
        "{} must not set securityContext.privileged=true",
        containers_phrase(names)
    )
}
