//! ## What it finds
//!
//! A rule that allows creating, changing or deleting
//! `mutatingwebhookconfigurations`, `validatingwebhookconfigurations`,
//! `validatingadmissionpolicies`, `mutatingadmissionpolicies` or their
//! bindings (`admissionregistration.k8s.io`, cluster-scoped: only through a
//! ClusterRoleBinding).
//!
//! ## Why it matters
//!
//! A webhook receives every object it registers for — Secrets included —
//! and a mutating one changes them: it can add a container to every Pod a
//! privileged controller creates. Deleting a validating webhook or policy
//! switches off the controls it enforces.
//!
//! ## How to fix it
//!
//! Keep admission configuration to the platform pipeline; an operator that
//! manages its own webhook needs `resourceNames` limited to it.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["admissionregistration.k8s.io"]
//!   resources: [validatingwebhookconfigurations]
//!   resourceNames: [my-operator-webhook]
//!   verbs: [get, update, patch]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/admission-webhooks",
        title: "A role lets its subjects change admission webhooks or policies",
        severity: Severity::High,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#control-admission-webhooks",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.12"), Control::mitre("T1562")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "send every admitted object to a server of their choice, change objects as they are admitted, or remove the policies that enforce security",
    remediation: "Let only the cluster's platform pipeline manage admission configuration; operators that register their own webhook should be limited with resourceNames to it.",
};

const PROBES: &[Probe] = &[
    Probe::cluster(
        "create",
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    Probe::cluster(
        "update",
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    Probe::cluster(
        "patch",
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    Probe::cluster(
        "delete",
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    Probe::cluster(
        "create",
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    Probe::cluster(
        "update",
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    Probe::cluster(
        "patch",
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    Probe::cluster(
        "delete",
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    Probe::cluster(
        "create",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    Probe::cluster(
        "update",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    Probe::cluster(
        "patch",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    Probe::cluster(
        "delete",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    Probe::cluster(
        "create",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    Probe::cluster(
        "update",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    Probe::cluster(
        "delete",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    Probe::cluster(
        "create",
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicies",
    ),
    Probe::cluster(
        "update",
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicies",
    ),
    Probe::cluster(
        "create",
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicybindings",
    ),
];
