//! ## What it finds
//!
//! A rule that allows `create`, `update` or `patch` on `roles`,
//! `clusterroles`, `rolebindings` or `clusterrolebindings`. (Cluster-wide
//! kinds count only through a ClusterRoleBinding.)
//!
//! ## Why it matters
//!
//! RBAC's escalation prevention stops a subject from granting more than it
//! holds, but not from handing what it holds to anyone — a new user, an
//! attacker's ServiceAccount — or from adding subjects to an existing
//! binding (`patch rolebindings`). Combined with `bind` or `escalate` it is
//! a full escalation (`rbac-risk/bind`, `rbac-risk/escalate`).
//!
//! ## How to fix it
//!
//! Let the delivery pipeline manage roles and bindings. Controllers that
//! must create bindings should be limited to one namespace and, with
//! `bind` restricted by `resourceNames`, to the roles they hand out.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["rbac.authorization.k8s.io"]
//!   resources: [roles, rolebindings]
//!   verbs: [get, list, watch]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/manage-rbac",
        title: "A role lets its subjects create or change roles and bindings",
        severity: Severity::High,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.8"), Control::mitre("T1098")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::Medium,
    consequence: "grant the permissions they hold to any other subject (and more, with bind or escalate), and add users to existing bindings",
    remediation: "Manage RBAC from the delivery pipeline; give in-cluster subjects no write access to roles and bindings.",
};

const PROBES: &[Probe] = &[
    Probe::ns("create", "rbac.authorization.k8s.io", "rolebindings"),
    Probe::ns("update", "rbac.authorization.k8s.io", "rolebindings"),
    Probe::ns("patch", "rbac.authorization.k8s.io", "rolebindings"),
    Probe::cluster("create", "rbac.authorization.k8s.io", "clusterrolebindings"),
    Probe::cluster("update", "rbac.authorization.k8s.io", "clusterrolebindings"),
    Probe::cluster("patch", "rbac.authorization.k8s.io", "clusterrolebindings"),
    Probe::ns("create", "rbac.authorization.k8s.io", "roles"),
    Probe::ns("update", "rbac.authorization.k8s.io", "roles"),
    Probe::ns("patch", "rbac.authorization.k8s.io", "roles"),
    Probe::cluster("create", "rbac.authorization.k8s.io", "clusterroles"),
    Probe::cluster("update", "rbac.authorization.k8s.io", "clusterroles"),
    Probe::cluster("patch", "rbac.authorization.k8s.io", "clusterroles"),
];
