//! ## What it finds
//!
//! A rule that allows `create` on `nodes/checkpoint` through a
//! ClusterRoleBinding: the kubelet checkpoint API (`POST
//! /checkpoint/{namespace}/{pod}/{container}`, beta since Kubernetes 1.30).
//!
//! ## Why it matters
//!
//! A checkpoint is an archive of a running container: its memory and the
//! changes to its file system. Keys, tokens and passwords held in memory end
//! up in a file on the node, where whoever can read the node's disk — or
//! restore the checkpoint elsewhere — can take them.
//!
//! ## How to fix it
//!
//! Grant it only to forensics tooling, and keep the checkpoint directory on
//! the node protected.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [nodes/stats]
//!   verbs: [get]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/nodes-checkpoint",
        title: "A role grants nodes/checkpoint: snapshots of running containers",
        severity: Severity::Medium,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/node/kubelet-checkpoint-api/",
        controls: &[Control::nsa("rbac"), Control::mitre("T1005")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::Medium,
    consequence: "make the kubelet write a checkpoint of any container on the node: an archive of its memory and file system changes, with whatever secrets they hold",
    remediation: "Remove nodes/checkpoint from roles of people and workloads; keep it for the forensics tooling that needs it.",
};

const PROBES: &[Probe] = &[Probe::cluster("create", "", "nodes/checkpoint")];
