#![doc = include_str!("docs/hostPorts.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/hostPorts.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/hostPorts",
    title: "Containers must not bind host ports",
    severity: Severity::High,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[
        palisade_model::Control::cis("5.2.13"),
        palisade_model::Control::nsa("pod-security"),
    ],
};

pub(crate) const CHECK: Check = Check {
    id: "hostPorts",
    level: Level::Baseline,
    rule: &RULE,
    versions: &[version(0, host_ports_1_0)],
};

const REASON: &str = "hostPort";

fn host_ports_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut names = Vec::new();
    let mut all_ports = Vec::new();
    let mut violations = Vec::new();
    for container in pod.containers() {
        let mut uses_host_port = false;
        for (index, port) in list(Some(container.node), "ports").iter().enumerate() {
            let Some((node, host_port)) = integer(Some(port), "hostPort") else {
                continue;
            };
            if host_port == 0 {
                continue;
            }
            uses_host_port = true;
            all_ports.push(host_port.to_string());
            violations.push(Violation {
                node,
                field: container_field(pod, &container, &format!("ports[{index}].hostPort")),
                message: reason_detail(
                    REASON,
                    &detail(&[container.name()], &[host_port.to_string()]),
                ),
                remediation: "Remove hostPort and expose the port through a Service.",
            });
        }
        if uses_host_port {
            names.push(container.name());
        }
    }
    if names.is_empty() {
        return Outcome::allowed();
    }
    // Upstream lists the distinct ports sorted as strings.
    Outcome::forbidden(REASON, detail(&names, &sorted_set(all_ports)), violations)
}

fn detail(names: &[&str], ports: &[String]) -> String {
    format!(
        "{} {} {} {}",
        containers_phrase(names),
        pluralize("uses", "use", names.len()),
        pluralize("hostPort", "hostPorts", ports.len()),
        ports.join(", ")
    )
}
