//! ## What it finds
//!
//! A rule that allows `create` on `pods/portforward`, or `get` (enough for
//! the WebSocket upgrade on clusters before Kubernetes 1.35, as for
//! `pods/exec`).
//!
//! ## Why it matters
//!
//! Port forwarding tunnels through the API server and the kubelet into a
//! Pod: NetworkPolicies, Services and ingress authentication do not apply.
//! Admin ports, databases and debug endpoints that listen only inside the
//! Pod become reachable from the subject's machine.
//!
//! ## How to fix it
//!
//! Keep port-forwarding for the people who debug the namespace, through a
//! role bound only while it is needed.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [pods, services]
//!   verbs: [get, list]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/port-forward",
        title: "A role lets its subjects port-forward into Pods",
        severity: Severity::Medium,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/access-application-cluster/port-forward-access-application-cluster/",
        controls: &[Control::nsa("rbac"), Control::nsa("network-separation"), Control::mitre("T1090")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::Medium,
    consequence: "open connections to any port of any Pod, bypassing Services, ingress controls and NetworkPolicies",
    remediation: "Remove pods/portforward from everyday roles; bind it only to the people who debug, in the namespaces they own.",
};

const PROBES: &[Probe] = &[
    Probe::ns("create", "", "pods/portforward"),
    Probe::ns("get", "", "pods/portforward").websocket(),
];
