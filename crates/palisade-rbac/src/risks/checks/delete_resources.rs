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

macro_rules! deletes {
    ($group:literal, $resource:literal) => {
        [
            Probe::ns("delete", $group, $resource),
            Probe::ns("deletecollection", $group, $resource),
        ]
    };
}

const RESOURCES: [[Probe; 2]; 10] = [
    deletes!("", "pods"),
    deletes!("apps", "deployments"),
    deletes!("apps", "replicasets"),
    deletes!("apps", "statefulsets"),
    deletes!("apps", "daemonsets"),
    deletes!("batch", "jobs"),
    deletes!("batch", "cronjobs"),
    deletes!("", "services"),
    deletes!("", "secrets"),
    deletes!("", "persistentvolumeclaims"),
];

const PROBES: &[Probe] = &flatten();

const fn flatten() -> [Probe; 20] {
    let mut out = [Probe::ns("", "", ""); 20];
    let mut i = 0;
    while i < 20 {
        out[i] = RESOURCES[i / 2][i % 2];
        i += 1;
    }
    out
}
