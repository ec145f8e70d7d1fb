//! ## What it finds
//!
//! A binding whose subjects include a namespace's `default` ServiceAccount
//! (as `kind: ServiceAccount` or as the user
//! `system:serviceaccount:NS:default`), or the group of all ServiceAccounts
//! of a namespace (`system:serviceaccounts:NS`), which includes it.
//!
//! ## Why it matters
//!
//! Every Pod that names no ServiceAccount runs as `default`, and its token is
//! mounted unless `automountServiceAccountToken: false`. Permissions given to
//! `default` go to every such Pod of the namespace — including ones deployed
//! later by people who never asked for them.
//!
//! ## How to fix it
//!
//! Create a ServiceAccount for the workload that needs the permissions, bind
//! the role to it, and set `serviceAccountName` in that workload only.
//!
//! ## Example
//!
//! ```yaml
//! subjects:
//! - kind: ServiceAccount
//!   name: billing-api
//!   namespace: shop
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::{check_docs, DISCOVERY_ROLES};
use crate::identity::{split_service_account, SERVICE_ACCOUNTS};
use crate::model::{Binding, Rbac, SubjectKind};
use crate::risks::{BindingHit, Check, Eval};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/default-service-account",
        title: "A namespace's default ServiceAccount is given permissions",
        severity: Severity::Medium,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/service-accounts/#default-service-accounts",
        controls: &[Control::nsa("rbac"), Control::nsa("service-account-tokens"), Control::cis("5.1.5")],
    },
    eval: Eval::Binding(flag),
    in_namespace: Severity::Medium,
    consequence: "",
    remediation: "Bind the role to a dedicated ServiceAccount and set serviceAccountName in the workloads that need it.",
};

fn flag(rbac: &Rbac, binding: &Binding) -> Vec<BindingHit> {
    if DISCOVERY_ROLES.contains(&binding.role_ref.name.as_str()) {
        return Vec::new();
    }
    // A role that grants nothing gives the default ServiceAccount nothing.
    if binding
        .role
        .and_then(|r| rbac.roles.get(r))
        .is_some_and(|r| r.rules.is_empty())
    {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for (i, subject) in binding.subjects.iter().enumerate() {
        let namespace = match subject.kind {
            SubjectKind::ServiceAccount if subject.name == "default" => {
                binding.subject_namespace(subject).map(str::to_string)
            }
            SubjectKind::User => match split_service_account(&subject.name) {
                Some((ns, "default")) => Some(ns.to_string()),
                _ => None,
            },
            SubjectKind::Group => subject
                .name
                .strip_prefix(SERVICE_ACCOUNTS)
                .and_then(|rest| rest.strip_prefix(':'))
                .filter(|ns| !ns.is_empty())
                .map(str::to_string),
            _ => None,
        };
        let Some(namespace) = namespace else {
            continue;
        };
        let via_group = subject.kind == SubjectKind::Group;
        hits.push(BindingHit {
            subject: Some(i),
            message: format!(
                "{} gives {} {:?} to {}{}: every Pod of namespace {namespace} that names no ServiceAccount runs with it",
                binding.describe(),
                binding.role_ref.kind,
                binding.role_ref.name,
                binding.describe_subject(subject),
                if via_group {
                    ", which includes the default ServiceAccount"
                } else {
                    ""
                }
            ),
            severity: None,
        });
    }
    hits
}
