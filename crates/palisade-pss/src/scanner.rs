//! The findings layer: offending fields of objects as [`Finding`]s, with the
//! policy each object's namespace would apply.

use std::collections::HashMap;

use palisade_model::{pod_template, Finding, Node, Object, PodTemplate, RuleMeta, Severity};

use crate::check::Violation;
use crate::evaluate::violations;
use crate::namespace::{Mode, NamespacePolicy};
use crate::policy::Policy;

const NAMESPACE_LABELS_DOCS: &str = "\
Invalid Pod Security namespace label (`pss/namespace-labels`).

## What it finds

A `pod-security.kubernetes.io/enforce`, `audit` or `warn`
label whose value is not `privileged`, `baseline` or `restricted`, or an
`enforce-version`, `audit-version` or `warn-version` label that is not
`latest` or `v1.<minor>` (such as `v1.30`; `1.30` is not accepted).

## Why it matters

Pod Security Admission does not reject the namespace; it
falls back silently: an invalid enforce level becomes `restricted` (pods may
be rejected unexpectedly), an invalid audit or warn level becomes
`privileged` (violations go unreported), an invalid version becomes `latest`.

## How to fix it

Use one of the accepted values, lowercase.

## Example

```yaml
metadata:
  labels:
    pod-security.kubernetes.io/enforce: restricted        # was: Restricted
    pod-security.kubernetes.io/enforce-version: v1.30     # was: 1.30
```
";

pub(crate) const NAMESPACE_LABELS_RULE: RuleMeta = RuleMeta {
    id: "pss/namespace-labels",
    title: "Pod Security namespace labels must have valid values",
    severity: Severity::Medium,
    category: "pod-security",
    docs: NAMESPACE_LABELS_DOCS,
    help_uri: "https://kubernetes.io/docs/concepts/security/pod-security-admission/",
    controls: &[],
};

/// One finding per offending field of `object` for `policy` (no mode tag).
/// Objects without a pod template give none.
pub fn findings(policy: Policy, object: &Object) -> Vec<Finding> {
    let Some(pod) = pod_template(object) else {
        return Vec::new();
    };
    violations(policy, &pod)
        .into_iter()
        .map(|(rule, violation)| to_finding(rule, object, violation, None))
        .collect()
}

fn to_finding(
    rule: &RuleMeta,
    object: &Object,
    violation: Violation<'_>,
    tag: Option<&str>,
) -> Finding {
    let message = match tag {
        Some(tag) => format!("{} [{tag}]", violation.message),
        None => violation.message,
    };
    Finding::new(
        rule,
        object,
        violation.node.span,
        Some(violation.field),
        message,
        violation.remediation.to_string(),
    )
}

/// Scans objects the way a cluster would judge them: each namespaced object
/// against the Pod Security labels of its Namespace when the input holds that
/// Namespace with such labels, otherwise against a default policy.
///
/// `Scanner` is `Sync`; [`Scanner::scan`] may run on many threads at once.
#[derive(Debug, Clone)]
pub struct Scanner {
    default_policy: Policy,
    /// Namespaces of the input that carry Pod Security labels, by name.
    namespaces: HashMap<String, NamespacePolicy>,
}

impl Scanner {
    /// Indexes the Namespace objects of `objects` that carry Pod Security labels.
    /// `default_policy` applies to objects in any other namespace.
    pub fn new(objects: &[Object], default_policy: Policy) -> Self {
        let mut namespaces = HashMap::new();
        for object in objects.iter().filter(|o| is_namespace(o)) {
            if !NamespacePolicy::has_policy_labels(object.labels()) {
                continue;
            }
            // Modes without a label get the admission plugin's built-in default, privileged.
            let (policy, _) =
                NamespacePolicy::from_labels(object.labels(), NamespacePolicy::PRIVILEGED);
            // The first definition of a namespace wins, as `kubectl apply` would create it first.
            namespaces.entry(object.id.name.clone()).or_insert(policy);
        }
        Scanner {
            default_policy,
            namespaces,
        }
    }

    pub fn default_policy(&self) -> Policy {
        self.default_policy
    }

    /// The namespace policy taken from the input for `namespace`, if any.
    pub fn namespace_policy(&self, namespace: &str) -> Option<&NamespacePolicy> {
        self.namespaces.get(namespace)
    }

    /// The findings for one object: Pod Security violations of its pod
    /// template, and invalid labels when it is a Namespace.
    ///
    /// In a labelled namespace each mode (enforce, audit, warn) is evaluated
    /// and each finding names the modes that report it, e.g.
    /// `[enforce restricted:v1.30, warn restricted:v1.30]`; a field reported
    /// by several modes gives one finding. Enforce is evaluated for workload
    /// templates too: the API server admits a Deployment with only a warning,
    /// but rejects the pods it creates.
    pub fn scan(&self, object: &Object) -> Vec<Finding> {
        let mut out = Vec::new();
        if is_namespace(object) {
            out.extend(label_findings(object));
        }
        let Some(pod) = pod_template(object) else {
            return out;
        };
        let namespace_policy = object
            .id
            .namespace
            .as_deref()
            .and_then(|ns| self.namespaces.get(ns));
        match namespace_policy {
            None => out.extend(
                violations(self.default_policy, &pod)
                    .into_iter()
                    .map(|(rule, v)| to_finding(rule, object, v, None)),
            ),
            Some(policy) => out.extend(mode_findings(object, &pod, policy)),
        }
        out
    }
}

fn is_namespace(object: &Object) -> bool {
    object.kind() == "Namespace" && object.id.api_version == "v1"
}

/// Findings for every mode of `policy`, one per distinct field and message.
fn mode_findings(object: &Object, pod: &PodTemplate<'_>, policy: &NamespacePolicy) -> Vec<Finding> {
    struct Merged<'a> {
        rule: &'static RuleMeta,
        violation: Violation<'a>,
        /// (mode, policy) pairs that report this violation.
        reported_by: Vec<(Mode, Policy)>,
    }
    let mut merged: Vec<Merged<'_>> = Vec::new();
    let mut evaluated: HashMap<Policy, Vec<(&'static RuleMeta, Violation<'_>)>> = HashMap::new();
    for mode in Mode::ALL {
        let mode_policy = policy.get(mode);
        let found = evaluated
            .entry(mode_policy)
            .or_insert_with(|| violations(mode_policy, pod));
        for (rule, violation) in found.iter() {
            let label = (mode, mode_policy);
            let existing = merged.iter_mut().find(|m| {
                m.rule.id == rule.id
                    && m.violation.field == violation.field
                    && m.violation.message == violation.message
            });
            match existing {
                Some(m) => m.reported_by.push(label),
                None => merged.push(Merged {
                    rule,
                    violation: violation.clone(),
                    reported_by: vec![label],
                }),
            }
        }
    }
    merged
        .into_iter()
        .map(|m| to_finding(m.rule, object, m.violation, Some(&mode_tag(&m.reported_by))))
        .collect()
}

/// `enforce+warn restricted:latest, audit baseline:v1.30`: modes that share a
/// policy are named together, so the common case stays short.
fn mode_tag(reported_by: &[(Mode, Policy)]) -> String {
    let mut groups: Vec<(Policy, Vec<String>)> = Vec::new();
    for (mode, policy) in reported_by {
        match groups.iter_mut().find(|(p, _)| p == policy) {
            Some((_, modes)) => modes.push(mode.to_string()),
            None => groups.push((*policy, vec![mode.to_string()])),
        }
    }
    groups
        .iter()
        .map(|(policy, modes)| format!("{} {policy}", modes.join("+")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One finding per Pod Security label of a Namespace whose value the plugin rejects.
fn label_findings(namespace: &Object) -> Vec<Finding> {
    let (_, errors) = NamespacePolicy::from_labels(namespace.labels(), NamespacePolicy::PRIVILEGED);
    let labels = namespace.root.path(&["metadata", "labels"]);
    errors
        .into_iter()
        .map(|error| {
            let node: &Node = labels
                .and_then(|l| l.get(error.label))
                .or(labels)
                .unwrap_or(&namespace.root);
            let remediation = if error.label.ends_with("-version") {
                "Use latest or v1.<minor>, such as v1.30."
            } else {
                "Use privileged, baseline or restricted (lowercase)."
            };
            Finding::new(
                &NAMESPACE_LABELS_RULE,
                namespace,
                node.span,
                Some(format!("metadata.labels[\"{}\"]", error.label)),
                error.to_string(),
                remediation.to_string(),
            )
        })
        .collect()
}
