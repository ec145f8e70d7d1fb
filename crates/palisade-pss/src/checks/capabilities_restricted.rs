#![doc = include_str!("docs/capabilities_restricted.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use super::capabilities_baseline;
use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/capabilities_restricted.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/capabilities_restricted",
    title: "Containers must drop ALL capabilities and add at most NET_BIND_SERVICE",
    severity: Severity::Medium,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[
        palisade_model::Control::cis("5.2.8"),
        palisade_model::Control::cis("5.2.9"),
        palisade_model::Control::cis("5.2.10"),
        palisade_model::Control::nsa("pod-security"),
    ],
};

pub(crate) const CHECK: Check = Check {
    id: "capabilities_restricted",
    level: Level::Restricted,
    rule: &RULE,
    versions: &[
        overriding(
            22,
            capabilities_restricted_1_22,
            &[capabilities_baseline::ID],
        ),
        overriding(
            25,
            capabilities_restricted_1_25,
            &[capabilities_baseline::ID],
        ),
    ],
};

const REASON: &str = "unrestricted capabilities";
const DROP_REMEDIATION: &str = "Set securityContext.capabilities.drop to [\"ALL\"].";

fn capabilities_restricted_1_22<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut missing_drop_all = Vec::new();
    let mut adding_forbidden = Vec::new();
    let mut forbidden = Vec::new();
    let mut violations = Vec::new();
    for container in pod.containers() {
        let context = container_context(&container);
        let capabilities = object(context, "capabilities");
        let drop = capabilities.and_then(|c| c.get("drop"));
        let drops_all = list(capabilities, "drop")
            .iter()
            .any(|item| item.as_str() == Some("ALL"));
        if !drops_all {
            missing_drop_all.push(container.name());
            violations.push(Violation {
                node: nearest(container.node, &[context, capabilities, drop]),
                field: container_field(pod, &container, "securityContext.capabilities.drop"),
                message: reason_detail(REASON, &drop_detail(&[container.name()])),
                remediation: DROP_REMEDIATION,
            });
        }
        let mut adds_forbidden = false;
        for (index, item) in list(capabilities, "add").iter().enumerate() {
            let Some(capability) = item.as_str() else {
                continue;
            };
            if capability == "NET_BIND_SERVICE" {
                continue;
            }
            adds_forbidden = true;
            forbidden.push(capability);
            violations.push(Violation {
                node: item,
                field: container_field(
                    pod,
                    &container,
                    &format!("securityContext.capabilities.add[{index}]"),
                ),
                message: reason_detail(REASON, &add_detail(&[container.name()], &[capability.to_string()])),
                remediation: "Remove the capability from securityContext.capabilities.add; only NET_BIND_SERVICE may be added.",
            });
        }
        if adds_forbidden {
            adding_forbidden.push(container.name());
        }
    }
    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(drop_detail(&missing_drop_all));
    }
    if !adding_forbidden.is_empty() {
        details.push(add_detail(&adding_forbidden, &sorted_set(forbidden)));
    }
    if details.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(REASON, details.join("; "), violations)
}

/// From 1.25 Windows pods are exempt: Linux capabilities do not apply to them.
fn capabilities_restricted_1_25<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    if is_windows(pod) {
        return Outcome::allowed();
    }
    capabilities_restricted_1_22(pod)
}

fn drop_detail(names: &[&str]) -> String {
    format!(
        "{} must set securityContext.capabilities.drop=[\"ALL\"]",
        containers_phrase(names)
    )
}

fn add_detail(names: &[&str], capabilities: &[String]) -> String {
    format!(
        "{} must not include {} in securityContext.capabilities.add",
        containers_phrase(names),
        join_quote(capabilities)
    )
}
