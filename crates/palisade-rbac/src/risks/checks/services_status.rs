//! ## What it finds
//!
//! A rule that allows `update` or `patch` on `services/status`.
//!
//! ## Why it matters
//!
//! CVE-2020-8554 (unfixed by design): whoever sets
//! `status.loadBalancer.ingress[].ip` of a LoadBalancer Service makes
//! kube-proxy on every node route traffic for that IP to the Service — a
//! man-in-the-middle for any destination, inside or outside the cluster.
//!
//! ## How to fix it
//!
//! Only the load balancer controller (cloud controller manager, MetalLB…)
//! should write Service status. Block the rest with RBAC, and consider the
//! admission controls the CVE advisory describes.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [services]
//!   verbs: [get, list, watch]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/services-status",
        title: "A role lets its subjects change services/status (CVE-2020-8554)",
        severity: Severity::Medium,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://github.com/kubernetes/kubernetes/issues/97076",
        controls: &[Control::nsa("rbac"), Control::nsa("network-separation"), Control::mitre("T1557")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::Medium,
    consequence: "set status.loadBalancer.ingress of a LoadBalancer Service to any IP, so kube-proxy sends the cluster's traffic for that IP to the Service (CVE-2020-8554)",
    remediation: "Remove update and patch on services/status; only the cloud controller manager or load balancer controller needs them.",
};

const PROBES: &[Probe] = &[
    Probe::ns("update", "", "services/status"),
    Probe::ns("patch", "", "services/status"),
];
