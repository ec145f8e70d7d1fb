//! ## What it finds
//!
//! A binding of the ClusterRole `cluster-admin` — or of a role whose rules
//! allow every verb on every resource — to a subject that is not a
//! `system:` identity of the control plane. Through a RoleBinding this is
//! full control of the namespace (reported as medium).
//!
//! ## Why it matters
//!
//! `cluster-admin` can do anything, including granting itself to others and
//! reading every Secret. Each subject holding it is a credential whose theft
//! is the cluster's.
//!
//! ## How to fix it
//!
//! Give people a narrower role for daily work (`view`, `edit` in their
//! namespaces) and a break-glass path (impersonation, a just-in-time
//! binding) for administration.
//!
//! ## Example
//!
//! ```yaml
//! kind: RoleBinding
//! metadata: {name: team-edit, namespace: shop}
//! roleRef: {kind: ClusterRole, name: edit, apiGroup: rbac.authorization.k8s.io}
//! subjects:
//! - {kind: Group, name: shop-team, apiGroup: rbac.authorization.k8s.io}
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::{check_docs, full_access};
use crate::model::{Binding, BindingKind, Rbac, SubjectKind};
use crate::risks::{BindingHit, Check, Eval};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/cluster-admin-binding",
        title: "cluster-admin (or an equivalent role) is bound to a non-system subject",
        severity: Severity::High,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles",
        controls: &[
            Control::nsa("rbac"),
            Control::cis("5.1.1"),
            Control::mitre("T1078"),
        ],
    },
    eval: Eval::Binding(flag),
    in_namespace: Severity::Medium,
    consequence: "",
    remediation:
        "Bind a narrower role for daily work, and keep cluster-admin for a break-glass path.",
};

/// Whether a binding grants cluster-admin or a role with the same rules.
pub(crate) fn grants_cluster_admin(rbac: &Rbac, binding: &Binding) -> bool {
    if binding.role_ref.kind == "ClusterRole" && binding.role_ref.name == "cluster-admin" {
        return true;
    }
    binding
        .role
        .and_then(|r| rbac.roles.get(r))
        .is_some_and(|role| role.rules.iter().any(|r| full_access(&r.rule)))
}

fn flag(rbac: &Rbac, binding: &Binding) -> Vec<BindingHit> {
    if !grants_cluster_admin(rbac, binding) {
        return Vec::new();
    }
    let what = if binding.role_ref.name == "cluster-admin" {
        "cluster-admin".to_string()
    } else {
        format!(
            "{} {:?}, which allows everything,",
            binding.role_ref.kind, binding.role_ref.name
        )
    };
    let scope = match binding.kind {
        BindingKind::ClusterRoleBinding => "cluster-wide".to_string(),
        BindingKind::RoleBinding => format!(
            "in namespace {}",
            binding.namespace.as_deref().unwrap_or("")
        ),
    };
    binding
        .subjects
        .iter()
        .enumerate()
        .filter(|(_, s)| !is_system_subject(&s.kind, &s.name))
        .map(|(i, s)| BindingHit {
            subject: Some(i),
            message: format!(
                "{} gives {what} to {} {scope}",
                binding.describe(),
                binding.describe_subject(s)
            ),
            severity: None,
        })
        .collect()
}

/// Users and groups of the control plane (`system:kube-controller-manager`,
/// `system:masters`): the ones Kubernetes itself names.
fn is_system_subject(kind: &SubjectKind, name: &str) -> bool {
    matches!(kind, SubjectKind::User | SubjectKind::Group) && name.starts_with("system:")
}
