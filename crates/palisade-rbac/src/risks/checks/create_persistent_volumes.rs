//! ## What it finds
//!
//! A rule that allows `create` on `persistentvolumes` (cluster-scoped:
//! through a ClusterRoleBinding).
//!
//! ## Why it matters
//!
//! A PersistentVolume can be a `hostPath`: a Pod that claims it reads and
//! writes the node's file system — the kubelet's credentials, other
//! containers' data — whatever Pod Security admission says about
//! `hostPath` volumes in the Pod itself.
//!
//! ## How to fix it
//!
//! Leave PersistentVolume creation to provisioners (CSI drivers) and
//! cluster operators; workloads use PersistentVolumeClaims.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [persistentvolumeclaims]
//!   verbs: [get, list, create]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/create-persistent-volumes",
        title: "A role lets its subjects create PersistentVolumes",
        severity: Severity::High,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#persistent-volume-creation",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.9"), Control::mitre("T1611")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "create hostPath PersistentVolumes and so mount any directory of the node's file system into a Pod",
    remediation: "Let only storage provisioners and cluster operators create PersistentVolumes; others use PersistentVolumeClaims.",
};

const PROBES: &[Probe] = &[Probe::cluster("create", "", "persistentvolumes")];
