#![doc = include_str!("docs/hostNamespaces.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/hostNamespaces.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/hostNamespaces",
    title: "Pods must not share the host's network, PID or IPC namespace",
    severity: Severity::High,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[
        palisade_model::Control::cis("5.2.3"),
        palisade_model::Control::cis("5.2.4"),
        palisade_model::Control::cis("5.2.5"),
        palisade_model::Control::nsa("pod-security"),
        palisade_model::Control::mitre("T1611"),
    ],
};

pub(crate) const CHECK: Check = Check {
    id: "hostNamespaces",
    level: Level::Baseline,
    rule: &RULE,
    versions: &[version(0, host_namespaces_1_0)],
};

const REASON: &str = "host namespaces";

fn host_namespaces_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut shared = Vec::new();
    let mut violations = Vec::new();
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if let Some((node, true)) = boolean(Some(pod.spec), field) {
            let detail = format!("{field}=true");
            violations.push(Violation {
                node,
                field: pod.field_path(field),
                message: reason_detail(REASON, &detail),
                remediation: "Remove hostNetwork, hostPID and hostIPC or set them to false.",
            });
            shared.push(detail);
        }
    }
    if shared.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(REASON, shared.join(", "), violations)
}
