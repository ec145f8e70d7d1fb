//! ## What it finds
//!
//! A rule that allows `delete` or `deletecollection` on the objects a
//! namespace's service is made of: Pods, workloads (Deployments,
//! ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs), Services,
//! Secrets and PersistentVolumeClaims, held where a binding grants it.
//!
//! (Deleting `pods/log`, which some scanners flag, is not a Kubernetes
//! operation: the API serves only `get` on it, so RBAC granting it opens
//! nothing. Deleting Events is `rbac-risk/delete-events`.)
//!
//! ## Why it matters
//!
//! Deleting is destruction: an application taken down, a StatefulSet's
//! volumes released, a Secret gone that every replica needs at its next
//! start. `deletecollection` does it to a whole namespace in one request.
//! An attacker holding such a token can hold the service hostage.
//!
//! ## How to fix it
//!
//! Keep deletion to the deployment pipeline and the controllers that own
//! the objects; give people the verbs they use (get, list, watch, and
//! create or update where they deploy).
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["", apps]
//!   resources: [pods, deployments]
//!   verbs: [get, list, watch]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/delete-resources",
        title: "A role lets its subjects delete Pods, workloads, Services, Secrets or PersistentVolumeClaims",
        severity: Severity::Medium,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
        controls: &[Control::nsa("rbac"), Control::mitre("T1485")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::Low,
    consequence: "delete the Pods, workloads, Services, Secrets and volume claims an application is made of (deletecollection: all at once)",
    remediation: "Remove delete and deletecollection from everyday roles; keep them to the deployment pipeline and the owning controllers.",
};

const PROBES: &[Probe] = &[
    Probe::ns("delete", "", "pods"),
    Probe::ns("deletecollection", "", "pods"),
    Probe::ns("delete", "apps", "deployments"),
    Probe::ns("deletecollection", "apps", "deployments"),
    Probe::ns("delete", "apps", "replicasets"),
    Probe::ns("deletecollection", "apps", "replicasets"),
    Probe::ns("delete", "apps", "statefulsets"),
    Probe::ns("deletecollection", "apps", "statefulsets"),
    Probe::ns("delete", "apps", "daemonsets"),
    Probe::ns("deletecollection", "apps", "daemonsets"),
    Probe::ns("delete", "batch", "jobs"),
    Probe::ns("deletecollection", "batch", "jobs"),
    Probe::ns("delete", "batch", "cronjobs"),
    Probe::ns("deletecollection", "batch", "cronjobs"),
    Probe::ns("delete", "", "services"),
    Probe::ns("deletecollection", "", "services"),
    Probe::ns("delete", "", "secrets"),
    Probe::ns("deletecollection", "", "secrets"),
    Probe::ns("delete", "", "persistentvolumeclaims"),
    Probe::ns("deletecollection", "", "persistentvolumeclaims"),
];
