//! ## What it finds
//!
//! A RoleBinding or ClusterRoleBinding whose subjects include the user
//! `system:anonymous`, or the groups `system:unauthenticated`,
//! `system:authenticated` or `system:serviceaccounts`. The discovery roles
//! every cluster binds so (`system:public-info-viewer`, `system:discovery`,
//! `system:basic-user`, and kubeadm's `kubeadm:bootstrap-signer-clusterinfo`)
//! are not reported, nor are the default bindings of the bootstrap policy.
//!
//! ## Why it matters
//!
//! Requests without credentials are `system:anonymous` in
//! `system:unauthenticated`: a binding to them grants its role to anyone who
//! can reach the API server. `system:authenticated` is every user and
//! ServiceAccount (on some managed clusters, anyone with an account at the
//! cloud provider); `system:serviceaccounts` every ServiceAccount of every
//! namespace, so every Pod.
//!
//! ## How to fix it
//!
//! Bind the role to the users, groups or ServiceAccounts that need it.
//!
//! ## Example
//!
//! ```yaml
//! subjects:
//! - kind: Group
//!   name: shop-developers
//!   apiGroup: rbac.authorization.k8s.io
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::{check_docs, DISCOVERY_ROLES};
use crate::identity::{ANONYMOUS, AUTHENTICATED, SERVICE_ACCOUNTS, UNAUTHENTICATED};
use crate::model::{Binding, Rbac, SubjectKind};
use crate::risks::{BindingHit, Check, Eval};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/binding-to-anonymous",
        title: "A role is bound to anonymous, unauthenticated or all authenticated users",
        severity: Severity::Critical,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#hardening",
        controls: &[Control::nsa("rbac"), Control::mitre("T1078")],
    },
    eval: Eval::Binding(flag),
    in_namespace: Severity::Critical,
    consequence: "",
    remediation: "Bind the role to the specific users, groups or ServiceAccounts that need it.",
};

fn flag(_: &Rbac, binding: &Binding) -> Vec<BindingHit> {
    if DISCOVERY_ROLES.contains(&binding.role_ref.name.as_str()) {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for (i, subject) in binding.subjects.iter().enumerate() {
        let who = match (&subject.kind, subject.name.as_str()) {
            (SubjectKind::User, ANONYMOUS) => "every request without credentials",
            (SubjectKind::Group, UNAUTHENTICATED) => "every request without credentials",
            (SubjectKind::Group, AUTHENTICATED) => "every authenticated user and ServiceAccount",
            (SubjectKind::Group, SERVICE_ACCOUNTS) => "every ServiceAccount of every namespace",
            _ => continue,
        };
        // Everyone signed in is serious; anyone at all is worse.
        let severity = match subject.name.as_str() {
            ANONYMOUS | UNAUTHENTICATED => Severity::Critical,
            _ => Severity::High,
        };
        hits.push(BindingHit {
            subject: Some(i),
            message: format!(
                "{} binds {} {:?} to {} ({}){}",
                binding.describe(),
                binding.role_ref.kind,
                binding.role_ref.name,
                binding.describe_subject(subject),
                who,
                match &binding.namespace {
                    Some(ns) => format!(" in namespace {ns}"),
                    None => " cluster-wide".to_string(),
                }
            ),
            severity: Some(severity),
        });
    }
    hits
}
