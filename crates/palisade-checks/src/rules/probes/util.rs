//! What counts as a long-running workload, for probe checks.

use palisade_model::{pod_template, Node, Object};

/// Whether `object` runs pods meant to keep running: Deployments,
/// StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, and Pods
/// that no Job owns and whose `restartPolicy` is `Always` (the default).
/// Jobs, CronJobs and run-to-completion Pods are not.
pub(crate) fn long_running(object: &Object) -> bool {
    match object.kind() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" => true,
        "Pod" => {
            let owned_by_job = owners(object).any(|kind| kind == "Job");
            let restart = pod_template(object)
                .and_then(|p| p.spec.get("restartPolicy"))
                .and_then(Node::as_str)
                .unwrap_or("Always");
            !owned_by_job && restart == "Always"
        }
        _ => false,
    }
}

/// The kinds of an object's `metadata.ownerReferences`.
pub(crate) fn owners(object: &Object) -> impl Iterator<Item = &str> {
    object
        .root
        .path(&["metadata", "ownerReferences"])
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|o| o.get("kind").and_then(Node::as_str))
}
