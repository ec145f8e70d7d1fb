//! ## What it finds
//!
//! A rule that allows `delete` or `deletecollection` on `events` (core or
//! `events.k8s.io`).
//!
//! ## Why it matters
//!
//! Events record what happened in a namespace: images pulled, Pods killed,
//! probes failing. Deleting them covers tracks during an intrusion.
//!
//! ## How to fix it
//!
//! Remove the permission; Events expire on their own.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["", "events.k8s.io"]
//!   resources: [events]
//!   verbs: [get, list, watch]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/delete-events",
        title: "A role lets its subjects delete Events",
        severity: Severity::Low,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/",
        controls: &[Control::nsa("audit-logging"), Control::mitre("T1070")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::Low,
    consequence: "delete Events, removing the traces of what they did (failed pulls, scheduling, kills)",
    remediation: "Remove delete and deletecollection on events; nothing but the API server's garbage collection needs them.",
};

const PROBES: &[Probe] = &[
    Probe::ns("delete", "", "events"),
    Probe::ns("deletecollection", "", "events"),
    Probe::ns("delete", "events.k8s.io", "events"),
    Probe::ns("deletecollection", "events.k8s.io", "events"),
];
