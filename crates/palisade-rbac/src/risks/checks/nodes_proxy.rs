//! ## What it finds
//!
//! A rule that allows any verb on `nodes/proxy`, through a
//! ClusterRoleBinding (nodes are cluster-scoped: a RoleBinding never grants
//! it).
//!
//! ## Why it matters
//!
//! `nodes/proxy` is the kubelet API: `exec`, `attach`, `run` and
//! `portForward` into every container of the node. Those calls bypass the
//! API server's audit log and admission control. The kubelet maps a
//! WebSocket `GET` to the `get` verb, so `get nodes/proxy` — often granted to
//! monitoring — already allows command execution.
//!
//! ## How to fix it
//!
//! Grant monitoring `nodes/metrics` and `nodes/stats` (and `nodes/pods`
//! where fine-grained kubelet authorization is on) instead of `nodes/proxy`.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [nodes/metrics, nodes/stats]
//!   verbs: [get]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/nodes-proxy",
        title: "A role grants nodes/proxy: the kubelet API on every node",
        severity: Severity::Critical,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#access-to-proxy-subresource-of-nodes",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.10"), Control::mitre("T1609")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::Critical,
    consequence: "call the kubelet API of the nodes, which runs commands in every container there without audit logging or admission control (a WebSocket GET suffices, so get is not read-only)",
    remediation: "Remove nodes/proxy; monitoring needs nodes/metrics and nodes/stats (and, with fine-grained kubelet authorization, nodes/pods), not the proxy.",
};

const PROBES: &[Probe] = &[
    Probe::cluster("get", "", "nodes/proxy"),
    Probe::cluster("create", "", "nodes/proxy"),
    Probe::cluster("update", "", "nodes/proxy"),
    Probe::cluster("patch", "", "nodes/proxy"),
    Probe::cluster("delete", "", "nodes/proxy"),
];
