//! Kind lists and Kubernetes name syntax for the metadata checks.

use palisade_model::names::is_dns1123_subdomain;

/// Kinds the metadata checks look at. The framework offers no "every kind"
/// selector, so this lists the built-in namespaced and cluster-scoped kinds
/// people write manifests for; custom resources are not covered.
pub(crate) const COMMON_KINDS: &[&str] = &[
    "Pod",
    "PodTemplate",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Service",
    "Endpoints",
    "EndpointSlice",
    "Ingress",
    "NetworkPolicy",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "PersistentVolumeClaim",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "LimitRange",
    "ResourceQuota",
    "Lease",
    "Event",
    "ControllerRevision",
    "CSIStorageCapacity",
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "CustomResourceDefinition",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The shape of a label name and a label value: at most 63 characters,
/// alphanumeric at both ends, `-`, `_` and `.` inside. `allow_empty` for values.
pub(crate) fn is_label_text(text: &str, allow_empty: bool) -> bool {
    if text.is_empty() {
        return allow_empty;
    }
    let bytes = text.as_bytes();
    text.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Why `key` is not a valid label or annotation key (a qualified name), if it is not.
pub(crate) fn key_problem(key: &str) -> Option<&'static str> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if !is_dns1123_subdomain(prefix) {
            return Some("its prefix must be a lowercase DNS subdomain of at most 253 characters");
        }
    }
    if name.is_empty() || name.contains('/') || !is_label_text(name, false) {
        return Some("its name must be 1-63 characters, alphanumeric at both ends, with only '-', '_' and '.' inside");
    }
    None
}

/// Why `value` is not a valid label value, if it is not.
pub(crate) fn value_problem(value: &str) -> Option<&'static str> {
    (!is_label_text(value, true)).then_some(
        "label values must be at most 63 characters, alphanumeric at both ends, with only '-', '_' and '.' inside",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_syntax() {
        for ok in ["app", "app.kubernetes.io/name", "a_b.c-d", "x/y", "A1"] {
            assert_eq!(key_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "/a",
            "a/",
            "-a",
            "a-",
            "Example.com/a",
            "a/b/c",
            "a b",
            &"k".repeat(64),
        ] {
            assert!(key_problem(bad).is_some(), "{bad}");
        }
        for ok in ["", "v1.2.3", "a", &"v".repeat(63)] {
            assert_eq!(value_problem(ok), None, "{ok}");
        }
        for bad in ["-x", "x.", "a/b", "has space", &"v".repeat(64)] {
            assert!(value_problem(bad).is_some(), "{bad}");
        }
    }
}
