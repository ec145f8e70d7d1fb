//! ## What it finds
//!
//! A rule that allows the `escalate` verb on `roles` or `clusterroles`
//! (`rbac.authorization.k8s.io`), directly or through `*`.
//!
//! ## Why it matters
//!
//! RBAC lets a subject create or update a role only with permissions it
//! already holds — unless it has `escalate`. With it, a subject that can
//! edit a role bound to itself gives itself anything: through a
//! ClusterRoleBinding, `cluster-admin`.
//!
//! ## How to fix it
//!
//! Remove `escalate`. A subject that manages roles should hold the
//! permissions it puts in them.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["rbac.authorization.k8s.io"]
//!   resources: [roles]
//!   verbs: [get, list, create, update]   # no escalate
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/escalate",
        title: "A role grants escalate on roles: writing roles with any permission",
        severity: Severity::Critical,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#escalate-verb",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.8"), Control::mitre("T1068")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "create or update roles with permissions they do not hold, bypassing RBAC's escalation prevention, and so grant themselves anything a role can hold where they can bind it",
    remediation: "Remove escalate; role authors should hold the permissions they write into roles.",
};

const PROBES: &[Probe] = &[
    Probe::ns("escalate", "rbac.authorization.k8s.io", "roles"),
    Probe::cluster("escalate", "rbac.authorization.k8s.io", "clusterroles"),
];
