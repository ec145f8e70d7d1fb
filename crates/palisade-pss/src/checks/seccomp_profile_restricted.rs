#![doc = include_str!("docs/seccompProfile_restricted.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use super::seccomp_profile_baseline::{
    self as baseline, allowed_type, profile_type, type_detail, REASON,
};
use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/seccompProfile_restricted.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/seccompProfile_restricted",
    title: "A seccomp profile must be set (RuntimeDefault or Localhost)",
    severity: Severity::Medium,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[
        palisade_model::Control::cis("5.7.2"),
        palisade_model::Control::nsa("pod-security"),
    ],
};

pub(crate) const CHECK: Check = Check {
    id: "seccompProfile_restricted",
    level: Level::Restricted,
    rule: &RULE,
    versions: &[
        overriding(19, seccomp_profile_restricted_1_19, &[baseline::ID]),
        overriding(25, seccomp_profile_restricted_1_25, &[baseline::ID]),
    ],
};

const MISSING_REMEDIATION: &str =
    "Set spec.securityContext.seccompProfile.type (or the container's) to RuntimeDefault or Localhost.";

fn seccomp_profile_restricted_1_19<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut bad_types = Vec::new();
    let mut violations = Vec::new();
    let mut pod_bad = false;
    let mut pod_sets_valid_profile = false;
    if let Some((node, profile_type)) = profile_type(pod_context(pod)) {
        if allowed_type(profile_type) {
            pod_sets_valid_profile = true;
        } else {
            pod_bad = true;
            bad_types.push(profile_type);
            violations.push(Violation {
                node,
                field: pod.field_path("securityContext.seccompProfile.type"),
                message: reason_detail(REASON, &type_detail("pod", &[profile_type.to_string()])),
                remediation: baseline::FIELD_REMEDIATION,
            });
        }
    }
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    for container in pod.containers() {
        let context = container_context(&container);
        match profile_type(context) {
            // A container's own valid profile satisfies the check.
            Some((_, profile_type)) if allowed_type(profile_type) => {}
            Some((node, profile_type)) => {
                explicitly_bad.push(container.name());
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
                    remediation: baseline::FIELD_REMEDIATION,
                });
            }
            None if !pod_sets_valid_profile => {
                implicitly_bad.push(container.name());
                violations.push(Violation {
                    node: nearest(container.node, &[context]),
                    field: container_field(pod, &container, "securityContext.seccompProfile.type"),
                    message: reason_detail(REASON, &missing_detail(&[container.name()])),
                    remediation: MISSING_REMEDIATION,
                });
            }
            None => {}
        }
    }
    // Upstream reports explicit bad values first and mentions missing profiles
    // only once none is left; the findings list both at once.
    if pod_bad || !explicitly_bad.is_empty() {
        return Outcome::forbidden(
            REASON,
            type_detail(
                &setters_phrase(pod_bad, &explicitly_bad),
                &sorted_set(bad_types),
            ),
            violations,
        );
    }
    if !implicitly_bad.is_empty() {
        return Outcome::forbidden(REASON, missing_detail(&implicitly_bad), violations);
    }
    Outcome::allowed()
}

/// From 1.25 Windows pods are exempt: seccomp is a Linux feature.
fn seccomp_profile_restricted_1_25<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    if is_windows(pod) {
        return Outcome::allowed();
    }
    seccomp_profile_restricted_1_19(pod)
}

fn missing_detail(names: &[&str]) -> String {
    format!(
        "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
        containers_phrase(names)
    )
}
