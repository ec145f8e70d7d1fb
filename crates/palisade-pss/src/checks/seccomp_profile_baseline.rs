#![doc = include_str!("docs/seccompProfile_baseline.md")]

use palisade_model::{Node, PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/seccompProfile_baseline.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/seccompProfile_baseline",
    title: "Seccomp must not be disabled",
    severity: Severity::High,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[
        palisade_model::Control::cis("5.7.2"),
        palisade_model::Control::nsa("pod-security"),
    ],
};

pub(crate) const ID: &str = "seccompProfile_baseline";

pub(crate) const CHECK: Check = Check {
    id: ID,
    level: Level::Baseline,
    rule: &RULE,
    versions: &[
        version(0, seccomp_profile_baseline_1_0),
        version(19, seccomp_profile_baseline_1_19),
    ],
};

pub(crate) const REASON: &str = "seccompProfile";
const POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";
pub(crate) const FIELD_REMEDIATION: &str =
    "Set seccompProfile.type to RuntimeDefault or Localhost.";

pub(crate) fn allowed_type(profile_type: &str) -> bool {
    matches!(profile_type, "RuntimeDefault" | "Localhost")
}

fn allowed_annotation(value: &str) -> bool {
    value == "runtime/default" || value == "docker/default" || value.starts_with("localhost/")
}

/// Before 1.19 seccomp was configured with annotations only.
fn seccomp_profile_baseline_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let annotations: Vec<(&str, &Node)> = annotations(pod).collect();
    let lookup = |key: &str| {
        annotations
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    };
    let mut keys = vec![POD_ANNOTATION.to_string()];
    keys.extend(
        pod.containers()
            .map(|c| format!("{CONTAINER_ANNOTATION_PREFIX}{}", c.name())),
    );

    let mut forbidden = Vec::new();
    let mut violations: Vec<Violation<'a>> = Vec::new();
    for key in keys {
        let Some(node) = lookup(&key) else { continue };
        let value = node.as_str().unwrap_or_default();
        if allowed_annotation(value) {
            continue;
        }
        let entry = format!("{key}={}", go_quote(value));
        let field = annotation_field(pod, &key);
        // Two containers with the same name read the same annotation: report it once.
        if !violations.iter().any(|v| v.field == field) {
            violations.push(Violation {
                node,
                field,
                message: reason_detail(REASON, &annotations_detail(std::slice::from_ref(&entry))),
                remediation: "Set the annotation to runtime/default or localhost/<profile>, or use securityContext.seccompProfile instead.",
            });
        }
        forbidden.push(entry);
    }
    if forbidden.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(
        REASON,
        annotations_detail(&sorted_set(forbidden)),
        violations,
    )
}

fn annotations_detail(entries: &[String]) -> String {
    format!(
        "forbidden {} {}",
        pluralize("annotation", "annotations", entries.len()),
        entries.join(", ")
    )
}

/// The node of a security context's seccomp type and the type, when a profile is set.
pub(crate) fn profile_type(security_context: Option<&Node>) -> Option<(&Node, &str)> {
    let profile = object(security_context, "seccompProfile")?;
    Some(string(Some(profile), "type").unwrap_or((profile, "")))
}

fn seccomp_profile_baseline_1_19<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut bad_types = Vec::new();
    let mut violations = Vec::new();
    let mut pod_bad = false;
    if let Some((node, profile_type)) = profile_type(pod_context(pod)) {
        if !allowed_type(profile_type) {
            pod_bad = true;
            bad_types.push(profile_type);
            violations.push(Violation {
                node,
                field: pod.field_path("securityContext.seccompProfile.type"),
                message: reason_detail(REASON, &type_detail("pod", &[profile_type.to_string()])),
                remediation: FIELD_REMEDIATION,
            });
        }
    }
    let mut names = Vec::new();
    for container in pod.containers() {
        if let Some((node, profile_type)) = profile_type(container_context(&container)) {
            if !allowed_type(profile_type) {
                names.push(container.name());
                bad_types.push(profile_type);
                violations.push(Violation {
                    node,
                    field: container_field(pod, &container, "securityContext.seccompProfile.type"),
                    message: reason_detail(
                        REASON,
                        &type_detail(
                            &containers_phrase(&[container.name()]),
                            &[profile_type.to_string()],
                        ),
                    ),
                    remediation: FIELD_REMEDIATION,
                });
            }
        }
    }
    if !pod_bad && names.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(
        REASON,
        type_detail(&setters_phrase(pod_bad, &names), &sorted_set(bad_types)),
        violations,
    )
}

pub(crate) fn type_detail(setters: &str, types: &[String]) -> String {
    format!(
        "{setters} must not set securityContext.seccompProfile.type to {}",
        join_quote(types)
    )
}
