//! ## What it finds
//!
//! A rule that allows creating Pods, changing running Pods (`update`/`patch`
//! on `pods`, which can swap a container image, or on
//! `pods/ephemeralcontainers`, which adds a container to a running Pod), or
//! creating or changing the workloads that create Pods: Deployments,
//! ReplicaSets, StatefulSets, DaemonSets (`apps`), Jobs and CronJobs
//! (`batch`), ReplicationControllers. `podtemplates` create is listed
//! because templates feed controllers that run them.
//!
//! ## Why it matters
//!
//! A Pod runs as any ServiceAccount of its namespace it names and mounts any
//! Secret, ConfigMap or PersistentVolumeClaim there. So creating workloads
//! in a namespace implicitly grants reading every Secret and using every
//! ServiceAccount of that namespace. Where privileged Pods are admitted, it
//! also grants the node. `palisade rbac paths` shows which ServiceAccount
//! that leads to.
//!
//! ## How to fix it
//!
//! Create workloads from a deployment pipeline. Give people and workloads
//! that create Pods their own namespace with unprivileged ServiceAccounts,
//! and enforce Pod Security admission (Baseline or Restricted) there.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["apps"]
//!   resources: [deployments]
//!   verbs: [get, list, watch]   # read-only
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/create-workloads",
        title: "A role lets its subjects create Pods or workloads that run them",
        severity: Severity::Critical,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.4"), Control::mitre("T1610")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "run any image as any ServiceAccount of the namespace, mounting its Secrets, ConfigMaps and volumes (and reach the node if Pod Security admission allows privileged pods)",
    remediation: "Deploy through a pipeline identity rather than people or in-cluster workloads; keep workload-creating subjects to namespaces whose ServiceAccounts hold little, and enforce the Baseline or Restricted Pod Security Standard there.",
};

const PROBES: &[Probe] = &[
    Probe::ns("create", "", "pods"),
    Probe::ns("update", "", "pods"),
    Probe::ns("patch", "", "pods"),
    Probe::ns("update", "", "pods/ephemeralcontainers"),
    Probe::ns("patch", "", "pods/ephemeralcontainers"),
    Probe::ns("create", "", "replicationcontrollers"),
    Probe::ns("update", "", "replicationcontrollers"),
    Probe::ns("patch", "", "replicationcontrollers"),
    Probe::ns("create", "", "podtemplates"),
    Probe::ns("create", "apps", "deployments"),
    Probe::ns("update", "apps", "deployments"),
    Probe::ns("patch", "apps", "deployments"),
    Probe::ns("create", "apps", "daemonsets"),
    Probe::ns("update", "apps", "daemonsets"),
    Probe::ns("patch", "apps", "daemonsets"),
    Probe::ns("create", "apps", "statefulsets"),
    Probe::ns("update", "apps", "statefulsets"),
    Probe::ns("patch", "apps", "statefulsets"),
    Probe::ns("create", "apps", "replicasets"),
    Probe::ns("update", "apps", "replicasets"),
    Probe::ns("patch", "apps", "replicasets"),
    Probe::ns("create", "batch", "jobs"),
    Probe::ns("update", "batch", "jobs"),
    Probe::ns("patch", "batch", "jobs"),
    Probe::ns("create", "batch", "cronjobs"),
    Probe::ns("update", "batch", "cronjobs"),
    Probe::ns("patch", "batch", "cronjobs"),
];
