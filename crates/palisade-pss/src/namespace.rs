//! Namespace labels, read as the admission plugin reads them.

use std::fmt;

use crate::policy::{Level, Policy, Version};

/// Prefix of every Pod Security label.
pub const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";
pub const AUDIT_LABEL: &str = "pod-security.kubernetes.io/audit";
pub const AUDIT_VERSION_LABEL: &str = "pod-security.kubernetes.io/audit-version";
pub const WARN_LABEL: &str = "pod-security.kubernetes.io/warn";
pub const WARN_VERSION_LABEL: &str = "pod-security.kubernetes.io/warn-version";

/// The six labels that configure Pod Security on a namespace.
pub const POLICY_LABELS: [&str; 6] = [
    ENFORCE_LABEL,
    ENFORCE_VERSION_LABEL,
    AUDIT_LABEL,
    AUDIT_VERSION_LABEL,
    WARN_LABEL,
    WARN_VERSION_LABEL,
];

/// How the admission plugin acts on a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// The pod is rejected.
    Enforce,
    /// The violation is recorded in the audit log.
    Audit,
    /// The client is shown a warning.
    Warn,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Enforce, Mode::Audit, Mode::Warn];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Audit => "audit",
            Mode::Warn => "warn",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The policy of each mode for one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespacePolicy {
    pub enforce: Policy,
    pub audit: Policy,
    pub warn: Policy,
}

/// A label whose value the plugin could not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    /// The full label key.
    pub label: &'static str,
    pub value: String,
    /// What the value must look like.
    pub expected: &'static str,
    /// What the plugin uses instead (`restricted`, `privileged`, `latest`).
    pub fallback: String,
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid value {:?} for label {}: {} (Pod Security Admission uses {} instead)",
            self.value, self.label, self.expected, self.fallback
        )
    }
}

const LEVEL_EXPECTED: &str = "must be one of privileged, baseline, restricted";
const VERSION_EXPECTED: &str = "must be \"latest\" or \"v1.x\"";

impl NamespacePolicy {
    /// The admission plugin's built-in default: every mode `privileged:latest`.
    pub const PRIVILEGED: NamespacePolicy = NamespacePolicy {
        enforce: Policy::latest(Level::Privileged),
        audit: Policy::latest(Level::Privileged),
        warn: Policy::latest(Level::Privileged),
    };

    pub fn get(&self, mode: Mode) -> Policy {
        match mode {
            Mode::Enforce => self.enforce,
            Mode::Audit => self.audit,
            Mode::Warn => self.warn,
        }
    }

    /// Whether `labels` (key, value pairs) contain any of the six policy labels.
    pub fn has_policy_labels<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        labels
            .into_iter()
            .any(|(key, _)| POLICY_LABELS.contains(&key))
    }

    /// The policy the plugin applies for these namespace labels, starting from
    /// `defaults` (the plugin's configured defaults) for modes without labels.
    ///
    /// As upstream: an invalid enforce level fails closed (`restricted`), an
    /// invalid audit or warn level fails open (`privileged`), an invalid
    /// version means `latest`; and when enforce is set to a level stricter than
    /// warn, warn is raised to it (with enforce's version, unless warn-version is set).
    /// A valid policy is always returned, with the errors found.
    pub fn from_labels<'a>(
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
        defaults: NamespacePolicy,
    ) -> (NamespacePolicy, Vec<LabelError>) {
        let labels: Vec<(&str, &str)> = labels.into_iter().collect();
        // Later duplicates win, as they would in a map.
        let label = |key: &str| {
            labels
                .iter()
                .rev()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
        };
        let mut policy = defaults;
        let mut errors = Vec::new();
        let mut level_error = |key: &'static str, value: &str, fallback: Level| {
            errors.push(LabelError {
                label: key,
                value: value.to_string(),
                expected: LEVEL_EXPECTED,
                fallback: fallback.to_string(),
            });
            fallback
        };

        let mut enforce_level_set = false;
        if let Some(value) = label(ENFORCE_LABEL) {
            policy.enforce.level = match Level::parse_label(value) {
                Some(level) => {
                    enforce_level_set = true;
                    level
                }
                None => level_error(ENFORCE_LABEL, value, Level::Restricted),
            };
        }
        if let Some(value) = label(AUDIT_LABEL) {
            policy.audit.level = Level::parse_label(value)
                .unwrap_or_else(|| level_error(AUDIT_LABEL, value, Level::Privileged));
        }
        let warn_level_set = label(WARN_LABEL).is_some();
        if let Some(value) = label(WARN_LABEL) {
            policy.warn.level = Level::parse_label(value)
                .unwrap_or_else(|| level_error(WARN_LABEL, value, Level::Privileged));
        }

        let mut version = |key: &'static str, target: &mut Version| {
            if let Some(value) = label(key) {
                *target = Version::parse_label(value).unwrap_or_else(|| {
                    errors.push(LabelError {
                        label: key,
                        value: value.to_string(),
                        expected: VERSION_EXPECTED,
                        fallback: Version::Latest.to_string(),
                    });
                    Version::Latest
                });
            }
        };
        version(ENFORCE_VERSION_LABEL, &mut policy.enforce.version);
        version(AUDIT_VERSION_LABEL, &mut policy.audit.version);
        version(WARN_VERSION_LABEL, &mut policy.warn.version);

        if !warn_level_set && enforce_level_set && policy.enforce.level > policy.warn.level {
            policy.warn.level = policy.enforce.level;
            if label(WARN_VERSION_LABEL).is_none() {
                policy.warn.version = policy.enforce.version;
            }
        }
        // Keep errors in label order (enforce, audit, warn) like upstream.
        errors.sort_by_key(|e| POLICY_LABELS.iter().position(|l| *l == e.label));
        (policy, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(labels: &[(&str, &str)]) -> (NamespacePolicy, Vec<LabelError>) {
        NamespacePolicy::from_labels(labels.iter().copied(), NamespacePolicy::PRIVILEGED)
    }

    #[test]
    fn enforce_raises_warn_with_its_version() {
        let (policy, errors) = parse(&[
            (ENFORCE_LABEL, "baseline"),
            (ENFORCE_VERSION_LABEL, "v1.30"),
        ]);
        assert!(errors.is_empty());
        assert_eq!(policy.enforce.to_string(), "baseline:v1.30");
        assert_eq!(policy.warn.to_string(), "baseline:v1.30");
        assert_eq!(policy.audit.to_string(), "privileged:latest");
    }

    #[test]
    fn explicit_warn_is_kept() {
        let (policy, _) = parse(&[(ENFORCE_LABEL, "restricted"), (WARN_LABEL, "baseline")]);
        assert_eq!(policy.warn.level, Level::Baseline);
        let (policy, _) = parse(&[
            (ENFORCE_LABEL, "restricted"),
            (ENFORCE_VERSION_LABEL, "v1.20"),
            (WARN_VERSION_LABEL, "v1.25"),
        ]);
        assert_eq!(policy.warn.to_string(), "restricted:v1.25");
    }

    #[test]
    fn invalid_values_fail_closed_for_enforce_and_open_for_audit_and_warn() {
        let (policy, errors) = parse(&[
            (ENFORCE_LABEL, "strict"),
            (AUDIT_LABEL, "Restricted"),
            (WARN_LABEL, "everything"),
            (ENFORCE_VERSION_LABEL, "1.30"),
        ]);
        assert_eq!(policy.enforce.to_string(), "restricted:latest");
        assert_eq!(policy.audit.level, Level::Privileged);
        assert_eq!(policy.warn.level, Level::Privileged);
        let labels: Vec<&str> = errors.iter().map(|e| e.label).collect();
        assert_eq!(
            labels,
            [
                ENFORCE_LABEL,
                ENFORCE_VERSION_LABEL,
                AUDIT_LABEL,
                WARN_LABEL
            ]
        );
        // An invalid enforce level does not raise warn.
        let (policy, _) = parse(&[(ENFORCE_LABEL, "bogus")]);
        assert_eq!(policy.warn.level, Level::Privileged);
    }
}
