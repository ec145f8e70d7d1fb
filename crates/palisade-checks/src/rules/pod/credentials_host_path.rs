//! ## What it finds
//!
//! A hostPath volume, mounted by a container, that exposes cluster or cloud
//! credentials stored on the node:
//!
//! - Kubernetes credentials: `/etc/kubernetes` (kubeconfigs such as
//!   `admin.conf`, the cluster PKI, and the cloud provider configuration
//!   `azure.json` / `cloud-config` holding a service principal secret),
//!   `/var/lib/kubelet/pki`, `/var/lib/kubelet/kubeconfig`,
//!   `/var/lib/kubelet/config.json` (registry pull credentials),
//!   `/etc/srv/kubernetes` and `/etc/gce.conf` (GKE), `/etc/eks`,
//!   `/etc/rancher/k3s`, `/etc/rancher/rke2` and the k3s/RKE2 server state,
//!   `/var/lib/waagent` (Azure agent certificates);
//! - user credential directories anywhere: `.aws`, `.azure`, `.config/gcloud`,
//!   `.kube`, `.docker`, `.ssh`.
//!
//! A mount with `subPath` is judged by the path it exposes; volumes no
//! container mounts are not reported.
//!
//! ## Why it matters
//!
//! A container that can read these files can act as the node, as a cluster
//! administrator, or as the cloud identity of the cluster (often allowed to
//! manage disks, load balancers and networks in the whole account). This is
//! how a compromised pod becomes a compromised cloud account.
//!
//! ## How to fix it
//!
//! Remove the volume. Give the workload its own narrowly scoped identity
//! instead: a Kubernetes ServiceAccount with RBAC, and workload identity for
//! cloud APIs (IRSA / EKS Pod Identity, GKE Workload Identity, Azure Workload
//! Identity).
//!
//! ## Example
//!
//! ```yaml
//! # instead of mounting /etc/kubernetes/azure.json
//! metadata:
//!   labels:
//!     azure.workload.identity/use: "true"
//! spec:
//!   serviceAccountName: disk-manager   # annotated with azure.workload.identity/client-id
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{classify, exposures, HostClass};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/credentials-host-path",
        title: "Containers must not mount cluster or cloud credential files from the node",
        severity: Severity::High,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/storage/volumes/#hostpath",
        controls: &[
            Control::cis("5.2.12"),
            Control::nsa("pod-security"),
            Control::mitre("T1552"),
        ],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    for exposure in exposures(object) {
        let Some(HostClass::Credentials(location)) = classify(&exposure.host_path) else {
            continue;
        };
        sink.report(
            exposure.node,
            exposure.field.clone(),
            format!(
                "{} exposes the credential location {location}",
                exposure.describe()
            ),
            "Remove the hostPath volume; use a ServiceAccount with narrow RBAC and cloud workload identity instead of node credentials.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_cloud_and_cluster_credentials() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    volumeMounts:\n    - {name: azure, mountPath: /etc/kubernetes/azure.json, readOnly: true}\n    - {name: aws, mountPath: /root/.aws}\n    - {name: home, mountPath: /h, subPath: ci/.config/gcloud}\n  volumes:\n  - {name: azure, hostPath: {path: /etc/kubernetes/azure.json, type: File}}\n  - {name: aws, hostPath: {path: /root/.aws}}\n  - {name: home, hostPath: {path: /home}}\n",
        );
        assert_eq!(positions(&findings), [(13, 36), (14, 34), (11, 44)]);
        assert!(findings[0].message.contains("/etc/kubernetes"));
        assert!(findings[1].message.contains("/root/.aws"));
        assert!(findings[2].message.contains("/home/ci/.config/gcloud"));
    }

    #[test]
    fn passes_other_paths() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    volumeMounts: [{name: v, mountPath: /v}]\n  volumes: [{name: v, hostPath: {path: /etc/ssl/certs}}]\n",
        );
        assert!(findings.is_empty());
    }
}
