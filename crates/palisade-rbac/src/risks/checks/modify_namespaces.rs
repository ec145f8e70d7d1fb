//! ## What it finds
//!
//! A rule that allows `update` or `patch` on `namespaces`. A Namespace
//! request carries the namespace's own name as its namespace, so a
//! RoleBinding grants changing the namespace it is in, and a
//! ClusterRoleBinding every namespace.
//!
//! ## Why it matters
//!
//! Namespace labels decide the Pod Security admission level
//! (`pod-security.kubernetes.io/enforce`) and which NetworkPolicies select
//! the namespace. Relabelling turns `restricted` into `privileged`, or lets
//! traffic in that a policy meant to keep out.
//!
//! ## How to fix it
//!
//! Keep namespace changes to the platform team.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [namespaces]
//!   verbs: [get, list, watch]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/modify-namespaces",
        title: "A role lets its subjects change Namespace objects (labels)",
        severity: Severity::Medium,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#namespace-modification",
        controls: &[Control::nsa("rbac"), Control::mitre("T1562")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::Medium,
    consequence: "change the labels of their namespace (through a RoleBinding) or of any namespace: relax the Pod Security admission level, or match NetworkPolicy namespace selectors",
    remediation: "Remove update and patch on namespaces; namespace labels belong to the platform team.",
};

const PROBES: &[Probe] = &[
    Probe::ns("update", "", "namespaces"),
    Probe::ns("patch", "", "namespaces"),
];
