//! ## What it finds
//!
//! A rule that allows `create`, `update`, `patch`, `delete` or
//! `deletecollection` on `secrets` (core group) for any object.
//!
//! ## Why it matters
//!
//! Whoever can create a Secret of type `kubernetes.io/service-account-token`
//! annotated with a ServiceAccount name gets a long-lived token for that
//! ServiceAccount: the token controller fills it in. So creating Secrets in
//! a namespace is using every ServiceAccount of that namespace. Updating
//! Secrets also replaces the credentials and TLS keys workloads trust, and
//! deleting them breaks those workloads.
//!
//! ## How to fix it
//!
//! Let the delivery pipeline, not an in-cluster subject, write Secrets.
//! Where a controller must manage one Secret, restrict `update`/`patch`
//! to it with `resourceNames`.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [secrets]
//!   resourceNames: [tls-cert]
//!   verbs: [get, update]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/write-secrets",
        title: "A role lets its subjects create or change Secrets",
        severity: Severity::Critical,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#manually-create-an-api-token-for-a-serviceaccount",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.2"), Control::mitre("T1078")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "create a kubernetes.io/service-account-token Secret for any ServiceAccount of the namespace and so obtain its token, and replace the Secrets workloads use",
    remediation: "Remove write verbs on secrets; create Secrets through the delivery pipeline (or an external secrets operator) instead of a subject that runs in the cluster.",
};

const PROBES: &[Probe] = &[
    Probe::ns("create", "", "secrets"),
    Probe::ns("update", "", "secrets"),
    Probe::ns("patch", "", "secrets"),
    Probe::ns("delete", "", "secrets"),
    Probe::ns("deletecollection", "", "secrets"),
];
