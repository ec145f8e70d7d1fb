//! ## What it finds
//!
//! A hostPath volume that gives a container the node's container runtime
//! socket: `docker.sock`, `containerd.sock`, `crio.sock`, `podman.sock`,
//! `cri-dockerd.sock`, a runtime state directory (`/run/containerd`,
//! `/var/run/crio`, ...), or a directory that contains one (`/var/run`,
//! `/run`, `/var`).
//!
//! Only host paths a container actually mounts are reported. A mount with
//! `subPath` is judged by the path it really exposes, so mounting
//! `/run` with `subPath: xtables.lock` is not reported.
//! The host's root filesystem `/` contains the socket too; it is reported
//! by `pod/sensitive-host-path`.
//!
//! ## Why it matters
//!
//! Whoever can talk to the runtime socket can start a privileged container
//! with the host's root filesystem mounted, read every container's
//! environment and exec into any pod on the node: it is root on the node,
//! past every admission control. `readOnly: true` does not help: a read-only
//! mount still lets a process connect to a Unix socket.
//!
//! ## How to fix it
//!
//! Remove the volume. Build images with a rootless builder (BuildKit
//! rootless, kaniko, buildah) instead of the node's Docker; use the
//! Kubernetes API or the kubelet's metrics and logs instead of the runtime
//! socket. Agents that truly need it (node-level security or monitoring
//! DaemonSets) belong in a dedicated, locked-down namespace and should be
//! suppressed there explicitly.
//!
//! ## Example
//!
//! ```yaml
//! # instead of a docker.sock volume, build with rootless BuildKit
//! containers:
//! - name: build
//!   image: moby/buildkit:v0.13.2-rootless
//!   securityContext:
//!     seccompProfile: {type: Unconfined}
//!     appArmorProfile: {type: Unconfined}
//!     runAsUser: 1000
//!     runAsGroup: 1000
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{classify, exposures, HostClass};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/container-runtime-socket",
        title: "Containers must not mount the container runtime socket",
        severity: Severity::Critical,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/storage/volumes/#hostpath",
        controls: &[
            Control::cis("5.2.12"),
            Control::nsa("pod-security"),
            Control::mitre("T1611"),
            Control::mitre("T1610"),
        ],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    for exposure in exposures(object) {
        let Some(HostClass::RuntimeSocket(socket)) = classify(&exposure.host_path) else {
            continue;
        };
        let what = if socket == exposure.host_path && socket.ends_with(".sock") {
            format!("the container runtime socket {socket}")
        } else if socket == exposure.host_path {
            format!("the container runtime state directory {socket}")
        } else if super::util::is_under(&socket, &exposure.host_path) {
            format!("a directory holding the container runtime socket {socket}")
        } else {
            format!("part of the container runtime state directory {socket}")
        };
        sink.report(
            exposure.node,
            exposure.field.clone(),
            format!("{} exposes {what}", exposure.describe()),
            "Remove the hostPath volume; use a rootless image builder or the Kubernetes API instead of the runtime socket.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    volumeMounts:\n    - {name: sock, mountPath: /var/run/docker.sock, readOnly: true}\n    - {name: run, mountPath: /run/xtables.lock, subPath: xtables.lock}\n    - {name: run, mountPath: /host-run-cd, subPath: containerd}\n  - name: b\n    image: x\n    volumeMounts:\n    - {name: sock, mountPath: /sock}\n  volumes:\n  - name: sock\n    hostPath: {path: /var/run/docker.sock, type: Socket}\n  - name: run\n    hostPath: {path: /run}\n  - name: unused\n    hostPath: {path: /run/containerd/containerd.sock}\n";

    #[test]
    fn flags_sockets_even_read_only_once_per_volume() {
        let findings = run(&RULE, POD);
        assert_eq!(positions(&findings), [(18, 22), (11, 53)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.volumes[0].hostPath.path")
        );
        assert!(findings[0]
            .message
            .contains("container \"a\", container \"b\""));
        assert_eq!(
            findings[1].location.field.as_deref(),
            Some("spec.containers[0].volumeMounts[2].subPath")
        );
        assert!(findings[1].message.contains("/run/containerd"));
    }

    #[test]
    fn passes_unrelated_host_paths_and_narrow_sub_paths() {
        let findings = run(
            &RULE,
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: x\n        volumeMounts:\n        - {name: run, mountPath: /run/xtables.lock, subPath: xtables.lock}\n        - {name: logs, mountPath: /var/log}\n      volumes:\n      - {name: run, hostPath: {path: /run}}\n      - {name: logs, hostPath: {path: /var/log}}\n",
        );
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn flags_directories_holding_the_socket() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    volumeMounts: [{name: v, mountPath: /host/var}]\n  volumes: [{name: v, hostPath: {path: /var/}}]\n",
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0]
            .message
            .contains("a directory holding the container runtime socket /var/run/docker.sock"));
    }
}
