#![doc = include_str!("docs/hostProbesAndHostLifecycle.md")]

use palisade_model::{Container, Node, PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/hostProbesAndHostLifecycle.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/hostProbesAndHostLifecycle",
    title: "Probes and lifecycle handlers must not target another host",
    severity: Severity::Medium,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[],
};

pub(crate) const CHECK: Check = Check {
    id: "hostProbesAndHostLifecycle",
    level: Level::Baseline,
    rule: &RULE,
    versions: &[version(34, host_probes_and_host_lifecycle_1_34)],
};

const REASON: &str = "probe or lifecycle host";

/// Where a container can name a host, relative to the container.
const HANDLERS: &[&[&str]] = &[
    &["livenessProbe"],
    &["readinessProbe"],
    &["startupProbe"],
    &["lifecycle", "postStart"],
    &["lifecycle", "preStop"],
];

fn handler<'a>(container: &Container<'a>, path: &[&str]) -> Option<&'a Node> {
    path.iter()
        .try_fold(container.node, |node, key| object(Some(node), key))
}

fn host_probes_and_host_lifecycle_1_34<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut names = Vec::new();
    let mut hosts = Vec::new();
    let mut violations = Vec::new();
    for container in pod.containers() {
        for path in HANDLERS {
            let Some(handler_node) = handler(&container, path) else {
                continue;
            };
            for action in ["httpGet", "tcpSocket"] {
                let Some((node, host)) = string(object(Some(handler_node), action), "host") else {
                    continue;
                };
                if host.is_empty() {
                    continue;
                }
                names.push(container.name());
                hosts.push(host);
                violations.push(Violation {
                    node,
                    field: container_field(
                        pod,
                        &container,
                        &format!("{}.{action}.host", path.join(".")),
                    ),
                    message: reason_detail(
                        REASON,
                        &detail(&[container.name()], &[host.to_string()]),
                    ),
                    remediation:
                        "Remove the host field so the probe or handler targets the pod's own IP.",
                });
            }
        }
    }
    if names.is_empty() {
        return Outcome::allowed();
    }
    // Unlike most checks, upstream collects both containers and hosts as sorted sets.
    Outcome::forbidden(
        REASON,
        detail(&sorted_set(names), &sorted_set(hosts)),
        violations,
    )
}

fn detail<S: AsRef<str>>(names: &[S], hosts: &[String]) -> String {
    format!(
        "{} {} {} {}",
        containers_phrase(names),
        pluralize("uses", "use", names.len()),
        pluralize(
            "probe or lifecycle host",
            "probe or lifecycle hosts",
            hosts.len()
        ),
        join_quote(hosts)
    )
}
