//! Which ServiceAccount a pod runs as, and whether its token reaches the pod.

use palisade_model::{Node, Object, PodTemplate};

use crate::rule::Cx;

/// The ServiceAccount a pod spec names.
pub(crate) struct AccountRef<'a> {
    /// `default` when the spec names none.
    pub name: &'a str,
    /// The node that names it (`serviceAccountName`, else the deprecated `serviceAccount`).
    pub node: Option<&'a Node>,
    /// The dotted path of that node, or of `serviceAccountName` when absent.
    pub field: String,
}

fn non_empty<'a>(spec: &'a Node, key: &str) -> Option<(&'a Node, &'a str)> {
    let node = spec.get(key)?;
    node.as_str().filter(|s| !s.is_empty()).map(|s| (node, s))
}

/// `serviceAccountName`, falling back to `serviceAccount` as the API server's
/// v1 conversion does, then to `default`.
pub(crate) fn account<'a>(pod: &PodTemplate<'a>) -> AccountRef<'a> {
    for key in ["serviceAccountName", "serviceAccount"] {
        if let Some((node, name)) = non_empty(pod.spec, key) {
            return AccountRef {
                name,
                node: Some(node),
                field: pod.field_path(key),
            };
        }
    }
    AccountRef {
        name: "default",
        node: None,
        field: pod.field_path("serviceAccountName"),
    }
}

/// The ServiceAccount object of the input named `name` in `ns`, or without a
/// namespace (applied with the workload's).
pub(crate) fn lookup<'a>(cx: &Cx<'a>, ns: &str, name: &str) -> Option<&'a Object> {
    cx.index
        .get("ServiceAccount", ns, name)
        .or_else(|| cx.index.get("ServiceAccount", "", name))
}

/// Whether the API token of the pod's ServiceAccount is mounted automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Automount {
    /// `automountServiceAccountToken: false` on the pod, or on the ServiceAccount
    /// when the pod does not set it.
    Off,
    /// Set to `true` on the pod, or on the ServiceAccount when the pod does not set it.
    Declared,
    /// Nobody set it: Kubernetes mounts the token by default.
    Defaulted,
}

/// The pod's `automountServiceAccountToken` wins; else the ServiceAccount's
/// (when the input has it); else the token is mounted.
pub(crate) fn automount(cx: &Cx<'_>, pod: &PodTemplate<'_>, ns: &str, name: &str) -> Automount {
    let setting = pod
        .spec
        .get("automountServiceAccountToken")
        .and_then(Node::as_bool)
        .or_else(|| {
            lookup(cx, ns, name)?
                .root
                .get("automountServiceAccountToken")
                .and_then(Node::as_bool)
        });
    match setting {
        Some(false) => Automount::Off,
        Some(true) => Automount::Declared,
        None => Automount::Defaulted,
    }
}

/// Whether a projected volume brings a ServiceAccount token into the pod anyway.
pub(crate) fn projects_token(pod: &PodTemplate<'_>) -> bool {
    pod.spec
        .get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| v.path(&["projected", "sources"]))
        .flat_map(Node::items)
        .any(|s| s.get_set("serviceAccountToken").is_some())
}

/// Whether the pod holds a token of its ServiceAccount.
pub(crate) fn holds_token(cx: &Cx<'_>, pod: &PodTemplate<'_>, ns: &str, name: &str) -> bool {
    automount(cx, pod, ns, name) != Automount::Off || projects_token(pod)
}
