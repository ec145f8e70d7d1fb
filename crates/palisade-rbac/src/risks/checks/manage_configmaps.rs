//! ## What it finds
//!
//! A rule that allows `create`, `update`, `patch`, `delete` or
//! `deletecollection` on ConfigMaps, held where a binding grants it. (The
//! CoreDNS ConfigMap of `kube-system` has its own, more severe check:
//! `rbac-risk/coredns-config`.)
//!
//! ## Why it matters
//!
//! Workloads read their configuration, scripts and feature switches from
//! ConfigMaps: whoever changes them changes what the workload does at its
//! next start (an init script, a proxy's upstream, a log level that prints
//! credentials), without touching the workload itself. Deployment pipelines
//! need this; people and most controllers do not.
//!
//! ## How to fix it
//!
//! Give write access to ConfigMaps to the deployment pipeline only, and
//! read access to the rest; limit a controller that owns one ConfigMap with
//! `resourceNames`.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [configmaps]
//!   verbs: [get, list, watch]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/manage-configmaps",
        title: "A role lets its subjects create or change ConfigMaps",
        severity: Severity::Low,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/configuration/configmap/",
        controls: &[Control::nsa("rbac")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::Low,
    consequence: "change the configuration workloads read from ConfigMaps, and so what they do at their next start",
    remediation: "Keep ConfigMap writes to the deployment pipeline; give other subjects read access, or limit them with resourceNames.",
};

const PROBES: &[Probe] = &[
    Probe::ns("create", "", "configmaps"),
    Probe::ns("update", "", "configmaps"),
    Probe::ns("patch", "", "configmaps"),
    Probe::ns("delete", "", "configmaps"),
    Probe::ns("deletecollection", "", "configmaps"),
];
