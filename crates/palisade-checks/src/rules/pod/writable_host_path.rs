//! ## What it finds
//!
//! A container that mounts a hostPath volume without `readOnly: true`.
//!
//! Not reported, because `readOnly` would not change anything there: runtime
//! sockets (a read-only mount can still be connected to; see
//! `pod/container-runtime-socket`), volumes of `type: Socket`, `CharDevice`
//! or `BlockDevice`, and paths under `/dev` (device nodes can be written
//! through a read-only mount).
//!
//! ## Why it matters
//!
//! A writable host mount lets the container change the node: plant binaries
//! or cron jobs, rewrite configuration, fill the node's disk, or leave files
//! that other pods and the kubelet later trust. A read-only mount still
//! shares data but not control.
//!
//! ## How to fix it
//!
//! Set `readOnly: true` on the volumeMount (and, from Kubernetes 1.30,
//! `recursiveReadOnly: Enabled` so sub-mounts are read-only too). If the
//! application must write, give it an emptyDir or a PersistentVolumeClaim
//! instead of the node's filesystem.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: log-shipper
//!   volumeMounts:
//!   - name: varlog
//!     mountPath: /var/log
//!     readOnly: true
//! volumes:
//! - name: varlog
//!   hostPath: {path: /var/log, type: Directory}
//! ```

use palisade_model::{pod_template, Control, Object, RuleMeta, Severity};

use super::util::{classify, host_mounts, host_volumes, is_under, normalize, HostClass};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/writable-host-path",
        title: "hostPath volumes should be mounted read-only",
        severity: Severity::Medium,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/storage/volumes/#hostpath",
        controls: &[
            Control::cis("5.2.12"),
            Control::nsa("pod-security"),
            Control::mitre("T1611"),
        ],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

/// hostPath types whose files stay writable through a read-only mount.
const UNPROTECTED_TYPES: &[&str] = &["Socket", "CharDevice", "BlockDevice"];

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    let volumes = host_volumes(&pod);
    if volumes.is_empty() {
        return;
    }
    each_container(object, |c| {
        for mount in host_mounts(c, &volumes) {
            if mount.read_only
                || mount
                    .volume
                    .kind
                    .is_some_and(|k| UNPROTECTED_TYPES.contains(&k))
            {
                continue;
            }
            let sub = mount.sub_path.and_then(|n| n.as_str()).unwrap_or("");
            let Some(path) = normalize(&format!("{}/{sub}", mount.volume.path)) else {
                continue;
            };
            if is_under(&path, "/dev")
                || matches!(classify(&path), Some(HostClass::RuntimeSocket(_)))
            {
                continue;
            }
            let (node, field) = match mount.node.get("readOnly") {
                Some(node) => (node, format!("volumeMounts[{}].readOnly", mount.index)),
                None => (mount.node, format!("volumeMounts[{}]", mount.index)),
            };
            sink.report(
                node,
                c.field(&field),
                format!(
                    "{} mounts hostPath volume {:?} (host path {path}) writable at {}",
                    c.describe(),
                    mount.volume.name,
                    mount.mount_path
                ),
                "Set readOnly: true on the volumeMount, or use an emptyDir or PersistentVolumeClaim where the application writes.",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_writable_host_mounts() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    volumeMounts:\n    - {name: logs, mountPath: /var/log}\n    - {name: logs, mountPath: /old, readOnly: false}\n    - {name: logs, mountPath: /ro, readOnly: true}\n    - {name: cfg, mountPath: /cfg}\n  volumes:\n  - {name: logs, hostPath: {path: /var/log}}\n  - {name: cfg, configMap: {name: c}}\n",
        );
        assert_eq!(positions(&findings), [(9, 7), (10, 47)]);
        assert_eq!(
            findings[1].location.field.as_deref(),
            Some("spec.containers[0].volumeMounts[1].readOnly")
        );
        assert!(findings[0].message.contains("host path /var/log"));
    }

    #[test]
    fn skips_sockets_and_devices() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    volumeMounts:\n    - {name: sock, mountPath: /s}\n    - {name: fuse, mountPath: /dev/fuse}\n    - {name: csi, mountPath: /csi}\n  volumes:\n  - {name: sock, hostPath: {path: /run/containerd/containerd.sock}}\n  - {name: fuse, hostPath: {path: /dev/fuse}}\n  - {name: csi, hostPath: {path: /var/lib/csi/x.sock, type: Socket}}\n",
        );
        assert!(findings.is_empty(), "{findings:?}");
    }
}
