//! ## What it finds
//!
//! A rule that allows `create` on `serviceaccounts/token` (the TokenRequest
//! API) for any ServiceAccount.
//!
//! ## Why it matters
//!
//! `kubectl create token NAME` returns a valid token for that
//! ServiceAccount: the subject can then act as any ServiceAccount of the
//! namespace — through a ClusterRoleBinding, of every namespace, including
//! the controllers of `kube-system`.
//!
//! ## How to fix it
//!
//! Remove it, or restrict it with `resourceNames` to the ServiceAccounts
//! the subject legitimately issues tokens for.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [serviceaccounts/token]
//!   resourceNames: [ci-deployer]
//!   verbs: [create]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/service-account-token",
        title: "A role lets its subjects create ServiceAccount tokens",
        severity: Severity::Critical,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#token-request",
        controls: &[Control::nsa("rbac"), Control::nsa("service-account-tokens"), Control::cis("5.1.13"), Control::mitre("T1528")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "issue tokens for any ServiceAccount of the namespaces the binding reaches (TokenRequest) and act as them",
    remediation: "Remove serviceaccounts/token create, or restrict it with resourceNames to the ServiceAccounts the subject must issue tokens for.",
};

const PROBES: &[Probe] = &[Probe::ns("create", "", "serviceaccounts/token")];
