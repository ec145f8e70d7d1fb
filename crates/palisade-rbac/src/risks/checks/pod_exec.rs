//! ## What it finds
//!
//! A rule that allows `create` on `pods/exec` or `pods/attach`, or `get`
//! on them. `get` is enough on clusters before Kubernetes 1.35: `kubectl
//! exec` over WebSockets starts with a `GET` upgrade request, which the API
//! server authorized with `get` until the
//! `AuthorizePodWebsocketUpgradeCreatePermission` feature gate (beta and on
//! by default in 1.35) added a `create` check.
//! `palisade rbac risks --kubernetes-version 1.35` (or later) leaves the
//! `get`-only grants out; without a version they are reported, as the
//! oldest supported clusters honour them.
//!
//! ## Why it matters
//!
//! A shell in a container hands over its files, its mounted Secrets and its
//! ServiceAccount token, and skips every admission control that applies to
//! creating Pods. Through a ClusterRoleBinding that includes the control
//! plane pods of `kube-system`.
//!
//! ## How to fix it
//!
//! Remove these subresources from everyday roles, including `get` (a
//! read-only role does not need them). Grant interactive access through a
//! separate role bound only while it is needed.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [pods, pods/log]   # no pods/exec, pods/attach
//!   verbs: [get, list]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/pod-exec",
        title: "A role lets its subjects exec or attach into running containers",
        severity: Severity::Critical,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation",
        controls: &[Control::nsa("rbac"), Control::mitre("T1609")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::High,
    consequence: "run commands in running containers and use their files, mounted Secrets and ServiceAccount tokens",
    remediation: "Remove pods/exec and pods/attach (both create and get) from everyday roles; grant them through a break-glass role bound only during an incident.",
};

const PROBES: &[Probe] = &[
    Probe::ns("create", "", "pods/exec"),
    Probe::ns("get", "", "pods/exec").websocket(),
    Probe::ns("create", "", "pods/attach"),
    Probe::ns("get", "", "pods/attach").websocket(),
];
