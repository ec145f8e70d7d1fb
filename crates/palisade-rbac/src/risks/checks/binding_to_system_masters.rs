//! ## What it finds
//!
//! A RoleBinding or ClusterRoleBinding with the group `system:masters` as a
//! subject.
//!
//! ## Why it matters
//!
//! Members of `system:masters` bypass RBAC (and authorization webhooks)
//! altogether: the API server allows them everything before any binding is
//! consulted. A binding to the group therefore grants nothing, and removing
//! it revokes nothing — but it shows that someone expects identities in that
//! group, which can only be taken away by rotating the credentials that carry
//! it (client certificates with `O=system:masters`).
//!
//! ## How to fix it
//!
//! Remove the binding. Issue no credentials in `system:masters` beyond the
//! break-glass one; give administrators a group bound to `cluster-admin`
//! instead, which can be revoked.
//!
//! ## Example
//!
//! ```yaml
//! kind: ClusterRoleBinding
//! metadata: {name: platform-admins}
//! roleRef: {kind: ClusterRole, name: cluster-admin, apiGroup: rbac.authorization.k8s.io}
//! subjects:
//! - {kind: Group, name: platform-admins, apiGroup: rbac.authorization.k8s.io}
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::model::{Binding, Rbac, SubjectKind};
use crate::risks::{BindingHit, Check, Eval};

pub(crate) const SYSTEM_MASTERS: &str = "system:masters";

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/binding-to-system-masters",
        title: "A binding names the group system:masters, which bypasses RBAC",
        severity: Severity::Medium,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.7"), Control::mitre("T1078")],
    },
    eval: Eval::Binding(flag),
    in_namespace: Severity::Medium,
    consequence: "",
    remediation: "Remove the binding; give administrators a revocable group bound to cluster-admin instead of system:masters credentials.",
};

fn flag(_: &Rbac, binding: &Binding) -> Vec<BindingHit> {
    binding
        .subjects
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == SubjectKind::Group && s.name == SYSTEM_MASTERS)
        .map(|(i, _)| BindingHit {
            subject: Some(i),
            message: format!(
                "{} names Group \"system:masters\": its members bypass RBAC, so the binding grants nothing and removing it revokes nothing; only rotating their credentials does",
                binding.describe()
            ),
            severity: None,
        })
        .collect()
}
