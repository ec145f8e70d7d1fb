//! ## What it finds
//!
//! A rule that allows `update`, `patch` or `delete` on the ConfigMap
//! `kube-system/coredns` — on all ConfigMaps or naming `coredns` in
//! `resourceNames` — through a ClusterRoleBinding or a RoleBinding in
//! `kube-system`.
//!
//! ## Why it matters
//!
//! CoreDNS reads its whole configuration (the `Corefile`) from that
//! ConfigMap and reloads it. Whoever edits it answers the cluster's DNS:
//! Services and external names resolve where they want (DNS poisoning).
//!
//! ## How to fix it
//!
//! Do not grant write access to ConfigMaps in `kube-system`; a controller
//! that needs one ConfigMap there gets it by `resourceNames`.
//!
//! ## Example
//!
//! ```yaml
//! kind: Role
//! metadata: {name: leader-election, namespace: kube-system}
//! rules:
//! - apiGroups: [""]
//!   resources: [configmaps]
//!   resourceNames: [my-controller-leader]
//!   verbs: [get, update]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/coredns-config",
        title: "A role lets its subjects change the CoreDNS configuration",
        severity: Severity::High,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/administer-cluster/dns-custom-nameservers/",
        controls: &[Control::nsa("rbac"), Control::mitre("T1557")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "rewrite the Corefile CoreDNS reloads, answering any cluster DNS query and sending any service's traffic where they want",
    remediation: "Remove write access to ConfigMaps in kube-system, or restrict it with resourceNames to ConfigMaps other than coredns.",
};

const PROBES: &[Probe] = &[
    Probe::ns("update", "", "configmaps")
        .named("coredns")
        .only_in("kube-system"),
    Probe::ns("patch", "", "configmaps")
        .named("coredns")
        .only_in("kube-system"),
    Probe::ns("delete", "", "configmaps")
        .named("coredns")
        .only_in("kube-system"),
];
