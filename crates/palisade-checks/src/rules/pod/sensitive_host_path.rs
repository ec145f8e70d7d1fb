//! ## What it finds
//!
//! A hostPath volume, mounted by a container, that is a sensitive host
//! directory, lies inside one, or contains one: `/` itself, `/etc`, `/proc`,
//! `/sys`, `/boot`, `/dev`, `/root`, `/home`, `/var/lib/kubelet`,
//! `/var/lib/docker`, `/var/lib/containerd`, `/var/lib/containers`,
//! `/var/lib/etcd` (so `/var/lib` is reported too).
//!
//! Runtime sockets and credential files have their own, more specific checks
//! (`pod/container-runtime-socket`, `pod/credentials-host-path`) and are not
//! reported twice. Harmless paths inside these directories are not reported:
//! the public CA bundles (`/etc/ssl/certs`, `/etc/pki/ca-trust`,
//! `/etc/pki/tls/certs`, `/etc/ca-certificates`), `/etc/localtime`,
//! `/etc/timezone`, `/etc/machine-id`, `/etc/os-release`, and the device nodes
//! `/dev/null`, `/dev/zero`, `/dev/random`, `/dev/urandom`, `/dev/fuse`,
//! `/dev/net/tun`. A mount with `subPath` is judged by the path it exposes.
//! Volumes no container mounts are not reported (`pss/hostPathVolumes` still
//! reports every hostPath volume).
//!
//! ## Why it matters
//!
//! These directories hold the node's identity and secrets (`/etc/shadow`,
//! kubelet credentials, every pod's Secret volumes under `/var/lib/kubelet`),
//! the kernel's control files (`/proc/sys`, `/sys`), raw disks (`/dev`) and
//! every container's filesystem (`/var/lib/containerd`). Reading them leaks
//! cluster credentials; writing them is root on the node. Even read-only,
//! `/proc` and `/sys` expose host processes and kernel details useful for an
//! escape.
//!
//! ## How to fix it
//!
//! Mount only the narrowest path the application needs, read-only, or
//! replace the hostPath with a ConfigMap, Secret, emptyDir or
//! PersistentVolumeClaim. Node agents that genuinely need these paths
//! (monitoring, log collection, CSI drivers) belong in a dedicated namespace
//! with the finding suppressed there explicitly.
//!
//! ## Example
//!
//! ```yaml
//! # mount the one file the app reads, not /etc
//! containers:
//! - name: app
//!   volumeMounts:
//!   - {name: ca, mountPath: /etc/ssl/certs, readOnly: true}
//! volumes:
//! - name: ca
//!   hostPath: {path: /etc/ssl/certs, type: Directory}
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{classify, exposures, HostClass};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/sensitive-host-path",
        title: "Containers should not mount sensitive host directories",
        severity: Severity::High,
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

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    for exposure in exposures(object) {
        let Some(HostClass::Sensitive(dir)) = classify(&exposure.host_path) else {
            continue;
        };
        let what = if dir == "/" {
            "the host's root filesystem".to_string()
        } else if dir == exposure.host_path {
            format!("the sensitive host directory {dir}")
        } else if super::util::is_under(&exposure.host_path, &dir) {
            format!("a path inside the sensitive host directory {dir}")
        } else {
            format!("a directory containing the sensitive host directory {dir}")
        };
        sink.report(
            exposure.node,
            exposure.field.clone(),
            format!("{} exposes {what}", exposure.describe()),
            "Mount the narrowest path the application needs, read-only, or use a ConfigMap, Secret, emptyDir or PersistentVolumeClaim instead.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_sensitive_paths_their_parents_and_children() {
        let findings = run(
            &RULE,
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: x\n        volumeMounts:\n        - {name: root, mountPath: /host, readOnly: true}\n        - {name: etc, mountPath: /host-etc}\n        - {name: varlib, mountPath: /host-var-lib}\n        - {name: ca, mountPath: /etc/ssl/certs, readOnly: true}\n        - {name: data, mountPath: /data}\n        - {name: sysfs, mountPath: /cg, subPath: cgroup}\n      volumes:\n      - {name: root, hostPath: {path: /}}\n      - {name: etc, hostPath: {path: /etc/}}\n      - {name: varlib, hostPath: {path: /var/lib}}\n      - {name: ca, hostPath: {path: /etc/ssl/certs}}\n      - {name: data, hostPath: {path: /srv/data}}\n      - {name: sysfs, hostPath: {path: /sys/fs}}\n",
        );
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(findings.len(), 4, "{messages:?}");
        assert_eq!(positions(&findings)[0], (18, 39));
        assert!(messages[0].contains("the host's root filesystem"));
        assert!(messages[1].contains("the sensitive host directory /etc"));
        assert!(messages[2].contains("containing the sensitive host directory /var/lib/docker"));
        assert!(messages[3].contains("host path /sys/fs/cgroup"));
        assert!(messages[3].contains("inside the sensitive host directory /sys"));
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.template.spec.volumes[0].hostPath.path")
        );
    }

    #[test]
    fn leaves_sockets_credentials_and_unmounted_volumes_to_others() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    volumeMounts:\n    - {name: sock, mountPath: /s}\n    - {name: kube, mountPath: /k}\n  volumes:\n  - {name: sock, hostPath: {path: /var/run/docker.sock}}\n  - {name: kube, hostPath: {path: /etc/kubernetes/admin.conf}}\n  - {name: unused, hostPath: {path: /etc}}\n",
        );
        assert!(findings.is_empty(), "{findings:?}");
    }
}
