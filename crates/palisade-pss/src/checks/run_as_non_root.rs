#![doc = include_str!("docs/runAsNonRoot.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/runAsNonRoot.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/runAsNonRoot",
    title: "Containers must run as a non-root user (runAsNonRoot: true)",
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
    id: "runAsNonRoot",
    level: Level::Restricted,
    rule: &RULE,
    versions: &[
        version(0, run_as_non_root_1_0),
        version(35, run_as_non_root_1_35),
    ],
};

const REASON: &str = "runAsNonRoot != true";
const REMEDIATION: &str =
    "Set spec.securityContext.runAsNonRoot to true and remove runAsNonRoot: false from containers.";

fn run_as_non_root_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut violations = Vec::new();
    let pod_context = pod_context(pod);
    let mut pod_bad = false;
    let mut pod_requires_non_root = false;
    match boolean(pod_context, "runAsNonRoot") {
        Some((_, true)) => pod_requires_non_root = true,
        Some((node, false)) => {
            pod_bad = true;
            violations.push(Violation {
                node,
                field: pod.field_path("securityContext.runAsNonRoot"),
                message: reason_detail(REASON, &explicit_detail::<&str>(true, &[])),
                remediation: REMEDIATION,
            });
        }
        None => {}
    }
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    for container in pod.containers() {
        let context = container_context(&container);
        let field = container_field(pod, &container, "securityContext.runAsNonRoot");
        match boolean(context, "runAsNonRoot") {
            Some((_, true)) => {}
            Some((node, false)) => {
                explicitly_bad.push(container.name());
                violations.push(Violation {
                    node,
                    field,
                    message: reason_detail(REASON, &explicit_detail(false, &[container.name()])),
                    remediation: REMEDIATION,
                });
            }
            None if !pod_requires_non_root => {
                implicitly_bad.push(container.name());
                violations.push(Violation {
                    node: nearest(container.node, &[context]),
                    field,
                    message: reason_detail(REASON, &implicit_detail(&[container.name()])),
                    remediation: REMEDIATION,
                });
            }
            None => {}
        }
    }
    // Upstream reports explicit `false` values first, missing ones only when
    // there is none; the findings list both.
    if pod_bad || !explicitly_bad.is_empty() {
        return Outcome::forbidden(
            REASON,
            explicit_detail(pod_bad, &explicitly_bad),
            violations,
        );
    }
    if !implicitly_bad.is_empty() {
        return Outcome::forbidden(REASON, implicit_detail(&implicitly_bad), violations);
    }
    Outcome::allowed()
}

/// From 1.35 pods in a user namespace (`hostUsers: false`) are exempt: their
/// root is an unprivileged user on the node.
fn run_as_non_root_1_35<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    if in_user_namespace(pod) {
        return Outcome::allowed();
    }
    run_as_non_root_1_0(pod)
}

fn explicit_detail<S: AsRef<str>>(pod: bool, names: &[S]) -> String {
    format!(
        "{} must not set securityContext.runAsNonRoot=false",
        setters_phrase(pod, names)
    )
}

fn implicit_detail(names: &[&str]) -> String {
    format!(
        "pod or {} must set securityContext.runAsNonRoot=true",
        containers_phrase(names)
    )
}
