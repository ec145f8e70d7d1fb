#![doc = include_str!("docs/appArmorProfile.md")]

use palisade_model::{Node, PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/appArmorProfile.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/appArmorProfile",
    title: "AppArmor must not be disabled or overridden with an unconfined profile",
    severity: Severity::High,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[palisade_model::Control::nsa("pod-security")],
};

pub(crate) const CHECK: Check = Check {
    id: "appArmorProfile",
    level: Level::Baseline,
    rule: &RULE,
    versions: &[version(0, app_armor_profile_1_0)],
};

const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
const FIELD_REMEDIATION: &str =
    "Set appArmorProfile.type to RuntimeDefault or Localhost, or remove appArmorProfile.";
const ANNOTATION_REMEDIATION: &str =
    "Set the annotation to runtime/default or localhost/<profile>, or use securityContext.appArmorProfile instead.";

fn allowed_type(profile_type: &str) -> bool {
    matches!(profile_type, "RuntimeDefault" | "Localhost")
}

fn allowed_annotation(value: &str) -> bool {
    value.is_empty() || value == "runtime/default" || value.starts_with("localhost/")
}

/// The `appArmorProfile` of a security context and the node of its type, when the type is forbidden.
fn forbidden_profile(security_context: Option<&Node>) -> Option<(&Node, &str)> {
    let profile = object(security_context, "appArmorProfile")?;
    let (node, profile_type) = match string(Some(profile), "type") {
        Some((node, t)) => (node, t),
        None => (profile, ""),
    };
    (!allowed_type(profile_type)).then_some((node, profile_type))
}

fn app_armor_profile_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut setters = Vec::new();
    let mut bad_types = Vec::new();
    let mut violations = Vec::new();

    if let Some((node, profile_type)) = forbidden_profile(pod_context(pod)) {
        setters.push("pod".to_string());
        bad_types.push(profile_type);
        violations.push(Violation {
            node,
            field: pod.field_path("securityContext.appArmorProfile.type"),
            message: single("pod", profile_type),
            remediation: FIELD_REMEDIATION,
        });
    }

    let mut names = Vec::new();
    for container in pod.containers() {
        if let Some((node, profile_type)) = forbidden_profile(container_context(&container)) {
            names.push(container.name());
            bad_types.push(profile_type);
            violations.push(Violation {
                node,
                field: container_field(pod, &container, "securityContext.appArmorProfile.type"),
                message: single(&containers_phrase(&[container.name()]), profile_type),
                remediation: FIELD_REMEDIATION,
            });
        }
    }
    if !names.is_empty() {
        setters.push(containers_phrase(&names));
    }

    let mut bad_annotations = Vec::new();
    for (key, node) in annotations(pod) {
        let value = node.as_str().unwrap_or_default();
        if key.starts_with(ANNOTATION_PREFIX) && !allowed_annotation(value) {
            let entry = format!("{key}={}", go_quote(value));
            violations.push(Violation {
                node,
                field: annotation_field(pod, key),
                message: single("annotation", &entry),
                remediation: ANNOTATION_REMEDIATION,
            });
            bad_annotations.push(entry);
        }
    }

    let mut bad_values = sorted_set(bad_types);
    if !bad_annotations.is_empty() {
        bad_annotations.sort();
        setters.push(pluralize("annotation", "annotations", bad_annotations.len()).to_string());
        bad_values.extend(bad_annotations);
    }
    if setters.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(
        reason(bad_values.len()),
        detail(&setters.join(" and "), &bad_values),
        violations,
    )
}

fn reason(count: usize) -> &'static str {
    pluralize(
        "forbidden AppArmor profile",
        "forbidden AppArmor profiles",
        count,
    )
}

fn detail(setters: &str, values: &[String]) -> String {
    format!(
        "{setters} must not set AppArmor profile type to {}",
        join_quote(values)
    )
}

fn single(setter: &str, value: &str) -> String {
    reason_detail(reason(1), &detail(setter, &[value.to_string()]))
}
