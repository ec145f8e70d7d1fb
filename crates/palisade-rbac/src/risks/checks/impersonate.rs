//! ## What it finds
//!
//! A rule that allows `impersonate` on `users`, `groups`, `serviceaccounts`
//! (core group), or `uids` / `userextras/*` (`authentication.k8s.io`), on
//! any name. Users, groups and uids are cluster-scoped (only a
//! ClusterRoleBinding grants them); ServiceAccounts are namespaced, so a
//! RoleBinding grants impersonating the ServiceAccounts of its namespace.
//!
//! ## Why it matters
//!
//! `kubectl --as` / `--as-group` with this permission makes every request
//! as that identity. Impersonating the group `system:masters` bypasses RBAC
//! altogether; impersonating a ServiceAccount gives its permissions.
//!
//! ## How to fix it
//!
//! Remove `impersonate`, or restrict it with `resourceNames` to the users
//! or ServiceAccounts a support tool needs — never groups.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [serviceaccounts]
//!   resourceNames: [readonly-debugger]
//!   verbs: [impersonate]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/impersonate",
        title: "A role grants impersonate: acting as other users, groups or ServiceAccounts",
        severity: Severity::Critical,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#impersonate-verb",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.8"), Control::mitre("T1078")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "act as other identities: any user or group (system:masters is cluster-admin) cluster-wide, any ServiceAccount of the namespaces the binding reaches",
    remediation: "Remove impersonate, or restrict it with resourceNames to the identities the subject needs to act as (never groups such as system:masters).",
};

const PROBES: &[Probe] = &[
    Probe::cluster("impersonate", "", "users"),
    Probe::cluster("impersonate", "", "groups"),
    Probe::ns("impersonate", "", "serviceaccounts"),
    Probe::cluster("impersonate", "authentication.k8s.io", "uids"),
    Probe::cluster("impersonate", "authentication.k8s.io", "userextras/scopes"),
];
