//! ## What it finds
//!
//! A rule that allows `get`, `list` or `watch` on `secrets` (core group) for
//! any object: directly or through a wildcard. A rule with `resourceNames`
//! (only named Secrets) is not reported.
//!
//! ## Why it matters
//!
//! `get` reads a Secret; `list` and `watch` return the contents of every
//! Secret in the response (`kubectl get secrets -o yaml`), so they are no
//! weaker. Secrets hold ServiceAccount tokens, registry credentials and TLS
//! keys: reading them is taking the identities they stand for. Through a
//! ClusterRoleBinding this covers `kube-system`, whose tokens belong to
//! controllers that can do almost anything.
//!
//! ## How to fix it
//!
//! Mount the Secrets a workload needs instead of letting it read them
//! through the API. Where API access is needed, restrict `get` to named
//! Secrets with `resourceNames`.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [secrets]
//!   resourceNames: [app-config]
//!   verbs: [get]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/read-secrets",
        title: "A role lets its subjects read Secrets",
        severity: Severity::Critical,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#listing-secrets",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.2"), Control::mitre("T1552")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "read every Secret where the binding holds, including ServiceAccount tokens and credentials",
    remediation: "Remove secrets from the rule, or restrict get to the named Secrets the subject needs with resourceNames (list and watch cannot be restricted that way).",
};

const PROBES: &[Probe] = &[
    Probe::ns("get", "", "secrets"),
    Probe::ns("list", "", "secrets"),
    Probe::ns("watch", "", "secrets"),
];
