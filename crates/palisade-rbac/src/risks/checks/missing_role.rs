//! ## What it finds
//!
//! A binding whose `roleRef` names a Role or ClusterRole that is not in the
//! input (for default ClusterRoles such as `view`, load them with
//! `--bootstrap-policy`).
//!
//! ## Why it matters
//!
//! The binding grants nothing today, but whoever later creates a role of
//! that name — perhaps with far more than intended — grants it at once to
//! the binding's subjects. It is often the remains of a removed component.
//!
//! ## How to fix it
//!
//! Delete the binding, or add the role it was meant to bind.
//!
//! ## Example
//!
//! ```yaml
//! roleRef:
//!   kind: ClusterRole
//!   name: view          # a role that exists
//!   apiGroup: rbac.authorization.k8s.io
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::model::{Binding, Rbac};
use crate::risks::{BindingHit, Check, Eval};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/missing-role",
        title: "A binding refers to a role that does not exist",
        severity: Severity::Low,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#rolebinding-and-clusterrolebinding",
        controls: &[Control::nsa("rbac")],
    },
    eval: Eval::Binding(flag),
    in_namespace: Severity::Low,
    consequence: "",
    remediation: "Delete the binding, or create the role it refers to.",
};

fn flag(_: &Rbac, binding: &Binding) -> Vec<BindingHit> {
    if binding.role.is_some() {
        return Vec::new();
    }
    vec![BindingHit {
        subject: None,
        message: format!(
            "{} refers to {} {:?}, which is not in the input: whoever creates a role of that name grants it to {}",
            binding.describe(),
            binding.role_ref.kind,
            binding.role_ref.name,
            if binding.subjects.is_empty() {
                "nobody (the binding has no subjects)".to_string()
            } else {
                binding
                    .subjects
                    .iter()
                    .map(|s| binding.describe_subject(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        severity: None,
    }]
}
