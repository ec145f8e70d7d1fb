//! The ignore annotations of other scanners, mapped to Palisade's rules, so a
//! team can switch without re-annotating (`peerAnnotations: true`).
//!
//! | scanner | annotation |
//! |---|---|
//! | kube-score | `kube-score/ignore: check-a,check-b` |
//! | kube-linter | `ignore-check.kube-linter.io/<check>: reason`, `kube-linter.io/ignore-all: reason` |
//! | Checkov | `checkov.io/skip<N>: CKV_K8S_20=reason` |
//! | Polaris | `polaris.fairwinds.com/<check>-exempt: "true"`, `polaris.fairwinds.com/exempt: "true"` |
//!
//! The table maps each peer check to the Palisade rules that cover the same
//! topic (docs/check-topics.md); a peer check with no counterpart exempts nothing.

use palisade_model::{string_pairs, Node};

/// (scanner, its check id, the Palisade rules covering the same topic).
const PEER_RULES: &[(&str, &str, &[&str])] = &[
    ("checkov", "CKV2_K8S_1", &["rbac/bind-escalate"]),
    (
        "checkov",
        "CKV2_K8S_2",
        &["rbac/pod-exec-attach", "rbac/nodes-proxy"],
    ),
    ("checkov", "CKV2_K8S_3", &["rbac/impersonate"]),
    ("checkov", "CKV2_K8S_4", &["rbac/modify-service-status"]),
    ("checkov", "CKV2_K8S_5", &["rbac/read-secrets"]),
    ("checkov", "CKV2_K8S_6", &["network/pod-not-isolated"]),
    ("checkov", "CKV_K8S_1", &["pss/hostNamespaces"]),
    ("checkov", "CKV_K8S_10", &["resources/cpu-requests"]),
    ("checkov", "CKV_K8S_11", &["resources/cpu-limits"]),
    ("checkov", "CKV_K8S_12", &["resources/memory-requests"]),
    ("checkov", "CKV_K8S_13", &["resources/memory-limits"]),
    ("checkov", "CKV_K8S_14", &["image/latest-tag"]),
    ("checkov", "CKV_K8S_15", &["image/pull-policy-not-always"]),
    ("checkov", "CKV_K8S_152", &["network/ingress-nginx-snippet"]),
    ("checkov", "CKV_K8S_153", &["network/ingress-nginx-snippet"]),
    ("checkov", "CKV_K8S_154", &["network/ingress-nginx-snippet"]),
    ("checkov", "CKV_K8S_155", &["rbac/admission-control"]),
    ("checkov", "CKV_K8S_156", &["rbac/approve-csr"]),
    ("checkov", "CKV_K8S_157", &["rbac/bind-escalate"]),
    ("checkov", "CKV_K8S_158", &["rbac/bind-escalate"]),
    ("checkov", "CKV_K8S_159", &["components/git-sync-injection"]),
    ("checkov", "CKV_K8S_16", &["pss/privileged"]),
    ("checkov", "CKV_K8S_17", &["pss/hostNamespaces"]),
    ("checkov", "CKV_K8S_18", &["pss/hostNamespaces"]),
    ("checkov", "CKV_K8S_19", &["pss/hostNamespaces"]),
    ("checkov", "CKV_K8S_2", &["pss/privileged"]),
    (
        "checkov",
        "CKV_K8S_20",
        &[
            "pss/allowPrivilegeEscalation",
            "pod/privilege-escalation-conflict",
        ],
    ),
    (
        "checkov",
        "CKV_K8S_21",
        &["meta/default-namespace", "meta/namespace-missing"],
    ),
    ("checkov", "CKV_K8S_22", &["pod/read-only-root-filesystem"]),
    ("checkov", "CKV_K8S_23", &["pss/runAsNonRoot"]),
    (
        "checkov",
        "CKV_K8S_24",
        &["pss/capabilities_baseline", "pss/capabilities_restricted"],
    ),
    (
        "checkov",
        "CKV_K8S_25",
        &["pss/capabilities_baseline", "pss/capabilities_restricted"],
    ),
    ("checkov", "CKV_K8S_26", &["pss/hostPorts"]),
    ("checkov", "CKV_K8S_27", &["pod/container-runtime-socket"]),
    (
        "checkov",
        "CKV_K8S_28",
        &["pod/net-raw-not-dropped", "pss/capabilities_baseline"],
    ),
    ("checkov", "CKV_K8S_29", &["pod/missing-security-context"]),
    ("checkov", "CKV_K8S_3", &["pss/hostNamespaces"]),
    ("checkov", "CKV_K8S_30", &["pod/missing-security-context"]),
    ("checkov", "CKV_K8S_31", &["pss/seccompProfile_restricted"]),
    ("checkov", "CKV_K8S_32", &["pss/seccompProfile_restricted"]),
    (
        "checkov",
        "CKV_K8S_33",
        &[
            "components/dashboard-insecure",
            "components/kubernetes-dashboard",
        ],
    ),
    ("checkov", "CKV_K8S_34", &["components/tiller"]),
    ("checkov", "CKV_K8S_35", &["secrets/secret-env-var"]),
    ("checkov", "CKV_K8S_36", &["pss/capabilities_restricted"]),
    ("checkov", "CKV_K8S_37", &["pss/capabilities_restricted"]),
    ("checkov", "CKV_K8S_38", &["sa/automount-token"]),
    ("checkov", "CKV_K8S_39", &["pod/sys-admin-capability"]),
    ("checkov", "CKV_K8S_4", &["pss/hostNamespaces"]),
    ("checkov", "CKV_K8S_40", &["pod/low-user-id"]),
    (
        "checkov",
        "CKV_K8S_41",
        &[
            "sa/default-service-account",
            "sa/default-service-account-bound",
        ],
    ),
    (
        "checkov",
        "CKV_K8S_42",
        &[
            "sa/default-service-account",
            "sa/default-service-account-bound",
        ],
    ),
    ("checkov", "CKV_K8S_43", &["image/digest-not-pinned"]),
    ("checkov", "CKV_K8S_44", &["components/tiller"]),
    ("checkov", "CKV_K8S_45", &["components/tiller"]),
    (
        "checkov",
        "CKV_K8S_49",
        &["rbac/wildcard-in-rules", "rbac/full-access-rule"],
    ),
    (
        "checkov",
        "CKV_K8S_5",
        &[
            "pss/allowPrivilegeEscalation",
            "pod/privilege-escalation-conflict",
        ],
    ),
    ("checkov", "CKV_K8S_6", &["pss/runAsNonRoot"]),
    (
        "checkov",
        "CKV_K8S_7",
        &["pod/net-raw-not-dropped", "pss/capabilities_baseline"],
    ),
    ("checkov", "CKV_K8S_8", &["probes/liveness-probe"]),
    ("checkov", "CKV_K8S_9", &["probes/readiness-probe"]),
    (
        "kube-linter",
        "access-to-create-pods",
        &["rbac/create-pods"],
    ),
    ("kube-linter", "access-to-secrets", &["rbac/read-secrets"]),
    (
        "kube-linter",
        "cluster-admin-role-binding",
        &["rbac/cluster-admin-binding"],
    ),
    (
        "kube-linter",
        "dangling-horizontalpodautoscaler",
        &["reliability/hpa-target-missing"],
    ),
    (
        "kube-linter",
        "dangling-ingress",
        &["network/ingress-backend-missing"],
    ),
    (
        "kube-linter",
        "dangling-networkpolicy",
        &[
            "network/policy-selects-no-pod",
            "network/policy-peer-selects-no-pod",
        ],
    ),
    (
        "kube-linter",
        "dangling-networkpolicypeer-podselector",
        &[
            "network/policy-selects-no-pod",
            "network/policy-peer-selects-no-pod",
        ],
    ),
    (
        "kube-linter",
        "dangling-service",
        &["network/service-selects-no-pod"],
    ),
    (
        "kube-linter",
        "dangling-servicemonitor",
        &["network/service-monitor-selects-no-service"],
    ),
    (
        "kube-linter",
        "default-service-account",
        &[
            "sa/default-service-account",
            "sa/default-service-account-bound",
        ],
    ),
    (
        "kube-linter",
        "deprecated-service-account-field",
        &["sa/deprecated-service-account-field"],
    ),
    ("kube-linter", "dnsconfig-options", &["network/dns-config"]),
    (
        "kube-linter",
        "docker-sock",
        &["pod/container-runtime-socket"],
    ),
    (
        "kube-linter",
        "drop-net-raw-capability",
        &["pod/net-raw-not-dropped", "pss/capabilities_baseline"],
    ),
    (
        "kube-linter",
        "duplicate-env-var",
        &["secrets/duplicate-env-var"],
    ),
    (
        "kube-linter",
        "env-value-from",
        &["secrets/missing-env-reference"],
    ),
    (
        "kube-linter",
        "env-var-secret",
        &[
            "secrets/hardcoded-env-credential",
            "secrets/credential-in-command",
        ],
    ),
    (
        "kube-linter",
        "exposed-services",
        &[
            "network/service-node-port",
            "network/service-load-balancer-unrestricted",
        ],
    ),
    ("kube-linter", "host-ipc", &["pss/hostNamespaces"]),
    ("kube-linter", "host-network", &["pss/hostNamespaces"]),
    ("kube-linter", "host-pid", &["pss/hostNamespaces"]),
    (
        "kube-linter",
        "hpa-minimum-three-replicas",
        &[
            "reliability/hpa-min-replicas",
            "reliability/hpa-max-below-min",
        ],
    ),
    (
        "kube-linter",
        "invalid-target-ports",
        &["network/service-target-port"],
    ),
    (
        "kube-linter",
        "job-ttl-seconds-after-finished",
        &["probes/job-ttl"],
    ),
    ("kube-linter", "latest-tag", &["image/latest-tag"]),
    ("kube-linter", "liveness-port", &["probes/probe-port"]),
    (
        "kube-linter",
        "minimum-three-replicas",
        &["reliability/single-replica"],
    ),
    (
        "kube-linter",
        "mismatching-selector",
        &["reliability/selector-mismatch"],
    ),
    (
        "kube-linter",
        "no-anti-affinity",
        &["reliability/replicas-not-spread"],
    ),
    (
        "kube-linter",
        "no-extensions-v1beta",
        &["meta/removed-api-version"],
    ),
    (
        "kube-linter",
        "no-liveness-probe",
        &["probes/liveness-probe"],
    ),
    (
        "kube-linter",
        "no-node-affinity",
        &["reliability/node-affinity"],
    ),
    (
        "kube-linter",
        "no-read-only-root-fs",
        &["pod/read-only-root-filesystem"],
    ),
    (
        "kube-linter",
        "no-readiness-probe",
        &["probes/readiness-probe"],
    ),
    (
        "kube-linter",
        "no-rolling-update-strategy",
        &[
            "reliability/rolling-update-unavailable",
            "reliability/recreate-strategy",
        ],
    ),
    (
        "kube-linter",
        "non-existent-service-account",
        &["sa/missing-service-account"],
    ),
    (
        "kube-linter",
        "non-isolated-pod",
        &["network/pod-not-isolated"],
    ),
    (
        "kube-linter",
        "pdb-max-unavailable",
        &[
            "reliability/pdb-blocks-eviction",
            "reliability/pdb-unhealthy-pod-eviction-policy",
        ],
    ),
    (
        "kube-linter",
        "pdb-min-available",
        &[
            "reliability/pdb-blocks-eviction",
            "reliability/pdb-unhealthy-pod-eviction-policy",
        ],
    ),
    (
        "kube-linter",
        "pdb-unhealthy-pod-eviction-policy",
        &[
            "reliability/pdb-blocks-eviction",
            "reliability/pdb-unhealthy-pod-eviction-policy",
        ],
    ),
    (
        "kube-linter",
        "priority-class-name",
        &["reliability/priority-class"],
    ),
    (
        "kube-linter",
        "privilege-escalation-container",
        &[
            "pss/allowPrivilegeEscalation",
            "pod/privilege-escalation-conflict",
        ],
    ),
    ("kube-linter", "privileged-container", &["pss/privileged"]),
    ("kube-linter", "privileged-ports", &["pod/privileged-port"]),
    (
        "kube-linter",
        "read-secret-from-env-var",
        &["secrets/secret-env-var"],
    ),
    ("kube-linter", "readiness-port", &["probes/probe-port"]),
    (
        "kube-linter",
        "required-annotation-email",
        &["meta/invalid-label", "meta/required-labels"],
    ),
    (
        "kube-linter",
        "required-label-owner",
        &["meta/invalid-label", "meta/required-labels"],
    ),
    (
        "kube-linter",
        "restart-policy",
        &[
            "probes/job-restart-policy",
            "probes/cronjob-starting-deadline",
        ],
    ),
    (
        "kube-linter",
        "run-as-non-root",
        &["pss/runAsNonRoot", "pss/runAsUser"],
    ),
    (
        "kube-linter",
        "scc-deny-privileged-container",
        &["rbac/scc-privileged-container"],
    ),
    ("kube-linter", "schema-validation", &["input/type"]),
    (
        "kube-linter",
        "sensitive-host-mounts",
        &["pod/sensitive-host-path"],
    ),
    ("kube-linter", "ssh-port", &["pod/ssh-port"]),
    ("kube-linter", "startup-port", &["probes/probe-port"]),
    (
        "kube-linter",
        "unsafe-proc-mount",
        &["pss/procMount", "pss/procMount_restricted"],
    ),
    ("kube-linter", "unsafe-sysctls", &["pss/sysctls"]),
    (
        "kube-linter",
        "unset-cpu-requirements",
        &["resources/cpu-requests", "resources/cpu-limits"],
    ),
    (
        "kube-linter",
        "unset-memory-requirements",
        &["resources/memory-requests", "resources/memory-limits"],
    ),
    (
        "kube-linter",
        "use-namespace",
        &["meta/default-namespace", "meta/namespace-missing"],
    ),
    (
        "kube-linter",
        "wildcard-in-rules",
        &["rbac/wildcard-in-rules", "rbac/full-access-rule"],
    ),
    (
        "kube-linter",
        "writable-host-mount",
        &["pod/writable-host-path"],
    ),
    (
        "kube-score",
        "container-cpu-requests-equal-limits",
        &["resources/requests-equal-limits"],
    ),
    (
        "kube-score",
        "container-ephemeral-storage-request-and-limit",
        &["resources/ephemeral-storage"],
    ),
    (
        "kube-score",
        "container-ephemeral-storage-request-equals-limit",
        &["resources/ephemeral-storage"],
    ),
    (
        "kube-score",
        "container-image-pull-policy",
        &["image/pull-policy-not-always"],
    ),
    ("kube-score", "container-image-tag", &["image/latest-tag"]),
    (
        "kube-score",
        "container-memory-requests-equal-limits",
        &["resources/requests-equal-limits"],
    ),
    (
        "kube-score",
        "container-ports-check",
        &["network/container-ports"],
    ),
    (
        "kube-score",
        "container-resource-requests-equal-limits",
        &["resources/requests-equal-limits"],
    ),
    (
        "kube-score",
        "container-resources",
        &[
            "resources/cpu-requests",
            "resources/cpu-limits",
            "resources/memory-requests",
            "resources/memory-limits",
        ],
    ),
    (
        "kube-score",
        "container-seccomp-profile",
        &["pss/seccompProfile_restricted"],
    ),
    (
        "kube-score",
        "container-security-context-privileged",
        &["pss/privileged"],
    ),
    (
        "kube-score",
        "container-security-context-readonlyrootfilesystem",
        &["pod/read-only-root-filesystem"],
    ),
    (
        "kube-score",
        "container-security-context-user-group-id",
        &[
            "pss/runAsNonRoot",
            "pod/low-user-id",
            "pod/run-as-root-group",
        ],
    ),
    (
        "kube-score",
        "cronjob-has-deadline",
        &[
            "probes/job-restart-policy",
            "probes/cronjob-starting-deadline",
        ],
    ),
    (
        "kube-score",
        "cronjob-restartpolicy",
        &[
            "probes/job-restart-policy",
            "probes/cronjob-starting-deadline",
        ],
    ),
    (
        "kube-score",
        "deployment-has-host-podantiaffinity",
        &["reliability/replicas-not-spread"],
    ),
    (
        "kube-score",
        "deployment-has-poddisruptionbudget",
        &["reliability/pod-disruption-budget"],
    ),
    (
        "kube-score",
        "deployment-pod-selector-labels-match-template-metadata-labels",
        &["reliability/selector-mismatch"],
    ),
    (
        "kube-score",
        "deployment-replicas",
        &["reliability/single-replica"],
    ),
    (
        "kube-score",
        "deployment-strategy",
        &[
            "reliability/rolling-update-unavailable",
            "reliability/recreate-strategy",
        ],
    ),
    (
        "kube-score",
        "deployment-targeted-by-hpa-does-not-have-replicas-configured",
        &["reliability/replicas-under-hpa"],
    ),
    (
        "kube-score",
        "environment-variable-key-duplication",
        &["secrets/duplicate-env-var"],
    ),
    (
        "kube-score",
        "horizontalpodautoscaler-has-target",
        &["reliability/hpa-target-missing"],
    ),
    (
        "kube-score",
        "horizontalpodautoscaler-replicas",
        &[
            "reliability/hpa-min-replicas",
            "reliability/hpa-max-below-min",
        ],
    ),
    (
        "kube-score",
        "ingress-targets-service",
        &["network/ingress-backend-missing"],
    ),
    (
        "kube-score",
        "label-values",
        &["meta/invalid-label", "meta/required-labels"],
    ),
    (
        "kube-score",
        "networkpolicy-targets-pod",
        &[
            "network/policy-selects-no-pod",
            "network/policy-peer-selects-no-pod",
        ],
    ),
    (
        "kube-score",
        "pod-networkpolicy",
        &["network/pod-not-isolated"],
    ),
    (
        "kube-score",
        "pod-probes",
        &["probes/liveness-probe", "probes/readiness-probe"],
    ),
    (
        "kube-score",
        "pod-probes-identical",
        &["probes/identical-probes"],
    ),
    (
        "kube-score",
        "pod-topology-spread-constraints",
        &["reliability/replicas-not-spread"],
    ),
    (
        "kube-score",
        "poddisruptionbudget-has-policy",
        &[
            "reliability/pdb-blocks-eviction",
            "reliability/pdb-unhealthy-pod-eviction-policy",
        ],
    ),
    (
        "kube-score",
        "service-targets-pod",
        &["network/service-selects-no-pod"],
    ),
    (
        "kube-score",
        "service-type",
        &[
            "network/service-node-port",
            "network/service-load-balancer-unrestricted",
        ],
    ),
    (
        "kube-score",
        "stable-version",
        &["meta/removed-api-version"],
    ),
    (
        "kube-score",
        "statefulset-has-host-podantiaffinity",
        &["reliability/replicas-not-spread"],
    ),
    (
        "kube-score",
        "statefulset-has-poddisruptionbudget",
        &["reliability/pod-disruption-budget"],
    ),
    (
        "kube-score",
        "statefulset-has-servicename",
        &["reliability/statefulset-service"],
    ),
    (
        "kube-score",
        "statefulset-pod-selector-labels-match-template-metadata-labels",
        &["reliability/selector-mismatch"],
    ),
    (
        "polaris",
        "automountServiceAccountToken",
        &["sa/automount-token"],
    ),
    (
        "polaris",
        "clusterrolePodExecAttach",
        &["rbac/pod-exec-attach"],
    ),
    (
        "polaris",
        "clusterrolebindingClusterAdmin",
        &["rbac/cluster-admin-binding"],
    ),
    (
        "polaris",
        "clusterrolebindingPodExecAttach",
        &["rbac/pod-exec-attach"],
    ),
    ("polaris", "cpuLimitsMissing", &["resources/cpu-limits"]),
    ("polaris", "cpuRequestsMissing", &["resources/cpu-requests"]),
    (
        "polaris",
        "dangerousCapabilities",
        &[
            "pss/capabilities_baseline",
            "pss/capabilities_restricted",
            "pod/sys-admin-capability",
            "pod/dangerous-capabilities",
        ],
    ),
    (
        "polaris",
        "deploymentMissingReplicas",
        &["reliability/single-replica"],
    ),
    ("polaris", "hostIPCSet", &["pss/hostNamespaces"]),
    ("polaris", "hostNetworkSet", &["pss/hostNamespaces"]),
    ("polaris", "hostPIDSet", &["pss/hostNamespaces"]),
    ("polaris", "hostPathSet", &["pss/hostPathVolumes"]),
    ("polaris", "hostPortSet", &["pss/hostPorts"]),
    ("polaris", "hostProcess", &["pss/windowsHostProcess"]),
    (
        "polaris",
        "hpaMaxAvailability",
        &[
            "reliability/hpa-min-replicas",
            "reliability/hpa-max-below-min",
        ],
    ),
    (
        "polaris",
        "hpaMinAvailability",
        &[
            "reliability/hpa-min-replicas",
            "reliability/hpa-max-below-min",
        ],
    ),
    (
        "polaris",
        "insecureCapabilities",
        &[
            "pss/capabilities_restricted",
            "pod/net-raw-not-dropped",
            "pss/capabilities_baseline",
        ],
    ),
    (
        "polaris",
        "linuxHardening",
        &[
            "pss/seccompProfile_restricted",
            "pss/seccompProfile_baseline",
            "pss/appArmorProfile",
            "pss/seLinuxOptions",
        ],
    ),
    (
        "polaris",
        "livenessProbeMissing",
        &["probes/liveness-probe"],
    ),
    (
        "polaris",
        "memoryLimitsMissing",
        &["resources/memory-limits"],
    ),
    (
        "polaris",
        "memoryRequestsMissing",
        &["resources/memory-requests"],
    ),
    (
        "polaris",
        "metadataAndInstanceMismatched",
        &["meta/invalid-label", "meta/required-labels"],
    ),
    (
        "polaris",
        "missingNetworkPolicy",
        &["network/pod-not-isolated"],
    ),
    (
        "polaris",
        "missingPodDisruptionBudget",
        &["reliability/pod-disruption-budget"],
    ),
    (
        "polaris",
        "notReadOnlyRootFilesystem",
        &["pod/read-only-root-filesystem"],
    ),
    (
        "polaris",
        "pdbDisruptionsIsZero",
        &[
            "reliability/pdb-blocks-eviction",
            "reliability/pdb-unhealthy-pod-eviction-policy",
        ],
    ),
    (
        "polaris",
        "pdbMinAvailableGreaterThanHPAMinReplicas",
        &[
            "reliability/pdb-blocks-eviction",
            "reliability/pdb-unhealthy-pod-eviction-policy",
        ],
    ),
    (
        "polaris",
        "priorityClassNotSet",
        &["reliability/priority-class"],
    ),
    (
        "polaris",
        "privilegeEscalationAllowed",
        &[
            "pss/allowPrivilegeEscalation",
            "pod/privilege-escalation-conflict",
        ],
    ),
    (
        "polaris",
        "procMount",
        &["pss/procMount", "pss/procMount_restricted"],
    ),
    (
        "polaris",
        "pullPolicyNotAlways",
        &["image/pull-policy-not-always"],
    ),
    (
        "polaris",
        "readinessProbeMissing",
        &["probes/readiness-probe"],
    ),
    ("polaris", "rolePodExecAttach", &["rbac/pod-exec-attach"]),
    (
        "polaris",
        "rolebindingClusterAdminClusterRole",
        &["rbac/cluster-admin-binding"],
    ),
    (
        "polaris",
        "rolebindingClusterAdminRole",
        &["rbac/cluster-admin-binding"],
    ),
    (
        "polaris",
        "rolebindingClusterRolePodExecAttach",
        &["rbac/pod-exec-attach"],
    ),
    (
        "polaris",
        "rolebindingRolePodExecAttach",
        &["rbac/pod-exec-attach"],
    ),
    ("polaris", "runAsPrivileged", &["pss/privileged"]),
    ("polaris", "runAsRootAllowed", &["pss/runAsNonRoot"]),
    (
        "polaris",
        "sensitiveConfigmapContent",
        &["secrets/credential-in-configmap"],
    ),
    (
        "polaris",
        "sensitiveContainerEnvVar",
        &[
            "secrets/hardcoded-env-credential",
            "secrets/credential-in-command",
        ],
    ),
    ("polaris", "tagNotSpecified", &["image/latest-tag"]),
    (
        "polaris",
        "tlsSettingsMissing",
        &["network/ingress-without-tls"],
    ),
    (
        "polaris",
        "topologySpreadConstraint",
        &["reliability/replicas-not-spread"],
    ),
];

/// One exemption read from a peer's annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeerExemption {
    /// Palisade rule ids; `["*"]` for "ignore everything".
    pub rules: Vec<&'static str>,
    pub reason: String,
    /// `annotation kube-score/ignore`, for the report.
    pub origin: String,
}

fn mapped(tool: &str, id: &str) -> Vec<&'static str> {
    PEER_RULES
        .iter()
        .filter(|(t, i, _)| *t == tool && i.eq_ignore_ascii_case(id))
        .flat_map(|(_, _, rules)| rules.iter().copied())
        .collect()
}

/// The peer exemptions declared in a metadata node's annotations.
pub(crate) fn read(metadata: &Node) -> Vec<PeerExemption> {
    let mut found = Vec::new();
    for (key, value) in string_pairs(metadata.get("annotations")) {
        let origin = format!("annotation {key}");
        let mut push = |rules: Vec<&'static str>, reason: String| {
            if !rules.is_empty() {
                found.push(PeerExemption {
                    rules,
                    reason,
                    origin: origin.clone(),
                });
            }
        };
        if key == "kube-score/ignore" {
            let rules = value
                .split(',')
                .flat_map(|id| mapped("kube-score", id.trim()))
                .collect();
            push(rules, "ignored for kube-score".to_string());
        } else if let Some(check) = key.strip_prefix("ignore-check.kube-linter.io/") {
            push(
                mapped("kube-linter", check),
                reason_or(value, "ignored for kube-linter"),
            );
        } else if key == "kube-linter.io/ignore-all" {
            push(vec!["*"], reason_or(value, "ignored for kube-linter"));
        } else if key.starts_with("checkov.io/skip") {
            let (id, reason) = value.split_once('=').unwrap_or((value, ""));
            push(
                mapped("checkov", id.trim()),
                reason_or(reason, "skipped for Checkov"),
            );
        } else if let Some(rest) = key.strip_prefix("polaris.fairwinds.com/") {
            if value.trim() != "true" {
                continue;
            }
            match rest.strip_suffix("-exempt") {
                Some(check) => push(mapped("polaris", check), "exempt for Polaris".to_string()),
                None if rest == "exempt" => push(vec!["*"], "exempt for Polaris".to_string()),
                None => {}
            }
        }
    }
    found
}

fn reason_or(reason: &str, default: &str) -> String {
    let reason = reason.trim();
    if reason.is_empty() {
        default.to_string()
    } else {
        reason.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{load_text, LoadOptions};

    #[test]
    fn peer_annotations_map_to_palisade_rules() {
        let loaded = load_text(
            "t.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    kube-score/ignore: container-image-tag, pod-probes\n    ignore-check.kube-linter.io/no-read-only-root-fs: app writes to /\n    checkov.io/skip1: CKV_K8S_14=pinned elsewhere\n    polaris.fairwinds.com/hostNetworkSet-exempt: \"true\"\n    unrelated: x\n",
            &LoadOptions::default(),
        );
        let metadata = loaded.objects[0].root.get("metadata").expect("metadata");
        let found = read(metadata);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].rules.contains(&"image/latest-tag"));
        assert!(found[0].rules.contains(&"probes/liveness-probe"));
        assert_eq!(found[1].rules, ["pod/read-only-root-filesystem"]);
        assert_eq!(found[1].reason, "app writes to /");
        assert_eq!(found[2].rules, ["image/latest-tag"]);
        assert_eq!(found[2].reason, "pinned elsewhere");
        assert_eq!(found[3].rules, ["pss/hostNamespaces"]);
    }
}
