#![doc = include_str!("docs/capabilities_baseline.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/capabilities_baseline.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/capabilities_baseline",
    title: "Containers must not add capabilities beyond the runtime's default set",
    severity: Severity::High,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[
        palisade_model::Control::cis("5.2.8"),
        palisade_model::Control::cis("5.2.9"),
        palisade_model::Control::nsa("pod-security"),
        palisade_model::Control::mitre("T1611"),
    ],
};

pub(crate) const ID: &str = "capabilities_baseline";

pub(crate) const CHECK: Check = Check {
    id: ID,
    level: Level::Baseline,
    rule: &RULE,
    versions: &[version(0, capabilities_baseline_1_0)],
};

/// The capabilities container runtimes grant by default (NET_RAW excluded).
const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

const REASON: &str = "non-default capabilities";

fn capabilities_baseline_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut names = Vec::new();
    let mut added = Vec::new();
    let mut violations = Vec::new();
    for container in pod.containers() {
        let Some(capabilities) = object(container_context(&container), "capabilities") else {
            continue;
        };
        let mut valid = true;
        for (index, item) in list(Some(capabilities), "add").iter().enumerate() {
            let Some(capability) = item.as_str() else {
                continue;
            };
            if DEFAULT_CAPABILITIES.contains(&capability) {
                continue;
            }
            valid = false;
            added.push(capability);
            violations.push(Violation {
                node: item,
                field: container_field(
                    pod,
                    &container,
                    &format!("securityContext.capabilities.add[{index}]"),
                ),
                message: reason_detail(REASON, &detail(&[container.name()], &[capability.to_string()])),
                remediation: "Remove the capability from securityContext.capabilities.add; only the runtime's default capabilities may be added.",
            });
        }
        if !valid {
            names.push(container.name());
        }
    }
    if names.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(REASON, detail(&names, &sorted_set(added)), violations)
}

fn detail(names: &[&str], capabilities: &[String]) -> String {
    format!(
        "{} must not include {} in securityContext.capabilities.add",
        containers_phrase(names),
        join_quote(capabilities)
    )
}
