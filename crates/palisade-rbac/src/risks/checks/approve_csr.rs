//! ## What it finds
//!
//! A rule that allows `update`/`patch` on
//! `certificatesigningrequests/approval` or `approve` on `signers`
//! (`certificates.k8s.io`), through a ClusterRoleBinding. Approving needs
//! both, plus `create` on `certificatesigningrequests` to ask.
//!
//! ## Why it matters
//!
//! With the three, a subject requests and approves a client certificate
//! from the `kubernetes.io/kube-apiserver-client` signer for any name and
//! organization — a system component, or the group `system:masters` — and
//! authenticates as it.
//!
//! ## How to fix it
//!
//! Leave approval to the controllers that need it; restrict `approve` on
//! `signers` with `resourceNames` to their signer names.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["certificates.k8s.io"]
//!   resources: [signers]
//!   resourceNames: [example.com/serving]
//!   verbs: [approve]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/approve-csr",
        title: "A role lets its subjects approve certificate signing requests",
        severity: Severity::High,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#csrs-and-certificate-issuing",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.11"), Control::mitre("T1649")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "approve certificate requests (with create on certificatesigningrequests and approve on the kubernetes.io/kube-apiserver-client signer: client certificates for any user or group, system:masters included)",
    remediation: "Keep CSR approval to the controllers that need it, and restrict approve on signers with resourceNames to the signers they handle.",
};

const PROBES: &[Probe] = &[
    Probe::cluster(
        "update",
        "certificates.k8s.io",
        "certificatesigningrequests/approval",
    ),
    Probe::cluster(
        "patch",
        "certificates.k8s.io",
        "certificatesigningrequests/approval",
    ),
    Probe::cluster("approve", "certificates.k8s.io", "signers"),
];
