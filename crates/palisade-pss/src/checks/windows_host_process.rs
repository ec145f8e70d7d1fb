#![doc = include_str!("docs/windowsHostProcess.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/windowsHostProcess.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/windowsHostProcess",
    title: "Windows pods must not run as HostProcess containers",
    severity: Severity::Critical,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[
        palisade_model::Control::cis("5.2.11"),
        palisade_model::Control::nsa("pod-security"),
        palisade_model::Control::mitre("T1611"),
    ],
};

pub(crate) const CHECK: Check = Check {
    id: "windowsHostProcess",
    level: Level::Baseline,
    rule: &RULE,
    versions: &[version(0, windows_host_process_1_0)],
};

const REASON: &str = "hostProcess";
const REMEDIATION: &str = "Remove securityContext.windowsOptions.hostProcess or set it to false.";

fn host_process_flag(
    security_context: Option<&palisade_model::Node>,
) -> Option<&palisade_model::Node> {
    match boolean(object(security_context, "windowsOptions"), "hostProcess") {
        Some((node, true)) => Some(node),
        _ => None,
    }
}

fn windows_host_process_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut names = Vec::new();
    let mut violations = Vec::new();
    for container in pod.containers() {
        if let Some(node) = host_process_flag(container_context(&container)) {
            names.push(container.name());
            violations.push(Violation {
                node,
                field: container_field(
                    pod,
                    &container,
                    "securityContext.windowsOptions.hostProcess",
                ),
                message: reason_detail(REASON, &detail(false, &[container.name()])),
                remediation: REMEDIATION,
            });
        }
    }
    let pod_forbidden = match host_process_flag(pod_context(pod)) {
        Some(node) => {
            violations.insert(
                0,
                Violation {
                    node,
                    field: pod.field_path("securityContext.windowsOptions.hostProcess"),
                    message: reason_detail(REASON, &detail::<&str>(true, &[])),
                    remediation: REMEDIATION,
                },
            );
            true
        }
        None => false,
    };
    if !pod_forbidden && names.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(REASON, detail(pod_forbidden, &names), violations)
}

fn detail<S: AsRef<str>>(pod: bool, names: &[S]) -> String {
    format!(
        "{} must not set securityContext.windowsOptions.hostProcess=true",
        setters_phrase(pod, names)
    )
}
