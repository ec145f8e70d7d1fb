//! ## What it finds
//!
//! A rule that allows the `bind` verb on `roles` or `clusterroles`
//! (`rbac.authorization.k8s.io`), directly or through `*`, on any role.
//! Through a RoleBinding, `bind` on `clusterroles` applies to RoleBindings
//! of that namespace (binding a ClusterRole there).
//!
//! ## Why it matters
//!
//! RBAC lets a subject create a binding only to a role whose permissions it
//! holds — unless it has `bind` on that role. With `bind` on every
//! ClusterRole and `create` on bindings, a subject binds `cluster-admin` (or
//! `admin` in a namespace) to itself.
//!
//! ## How to fix it
//!
//! Remove `bind`, or list with `resourceNames` the roles the subject may
//! hand out.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["rbac.authorization.k8s.io"]
//!   resources: [clusterroles]
//!   resourceNames: [view]
//!   verbs: [bind]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/bind",
        title: "A role grants bind on roles: binding roles with any permission",
        severity: Severity::Critical,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#bind-verb",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.8"), Control::mitre("T1068")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "bind roles with permissions they do not hold (with create on rolebindings or clusterrolebindings, e.g. cluster-admin to themselves), bypassing RBAC's escalation prevention",
    remediation: "Remove bind, or restrict it with resourceNames to the roles the subject may hand out.",
};

const PROBES: &[Probe] = &[
    Probe::ns("bind", "rbac.authorization.k8s.io", "roles"),
    Probe::ns("bind", "rbac.authorization.k8s.io", "clusterroles"),
];
