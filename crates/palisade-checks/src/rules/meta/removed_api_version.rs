//! ## What it finds
//!
//! An object whose `apiVersion` is no longer served by Kubernetes, with the
//! release that removed it and the version to use instead. The table follows
//! the Kubernetes deprecated API migration guide:
//!
//! | Removed in | apiVersion | Kinds | Use |
//! |---|---|---|---|
//! | 1.16 | extensions/v1beta1 | Deployment, DaemonSet, ReplicaSet | apps/v1 |
//! | 1.16 | extensions/v1beta1 | NetworkPolicy | networking.k8s.io/v1 |
//! | 1.16 | extensions/v1beta1 | PodSecurityPolicy | none (Pod Security Admission) |
//! | 1.16 | apps/v1beta1, apps/v1beta2 | Deployment, StatefulSet, DaemonSet, ReplicaSet, ControllerRevision | apps/v1 |
//! | 1.22 | extensions/v1beta1, networking.k8s.io/v1beta1 | Ingress | networking.k8s.io/v1 |
//! | 1.22 | networking.k8s.io/v1beta1 | IngressClass | networking.k8s.io/v1 |
//! | 1.22 | rbac.authorization.k8s.io/v1beta1 | Role, ClusterRole, RoleBinding, ClusterRoleBinding | rbac.authorization.k8s.io/v1 |
//! | 1.22 | admissionregistration.k8s.io/v1beta1 | Mutating/ValidatingWebhookConfiguration | admissionregistration.k8s.io/v1 |
//! | 1.22 | apiextensions.k8s.io/v1beta1 | CustomResourceDefinition | apiextensions.k8s.io/v1 |
//! | 1.22 | apiregistration.k8s.io/v1beta1 | APIService | apiregistration.k8s.io/v1 |
//! | 1.22 | authentication.k8s.io/v1beta1, authorization.k8s.io/v1beta1 | TokenReview, *SubjectAccessReview | .../v1 |
//! | 1.22 | certificates.k8s.io/v1beta1 | CertificateSigningRequest | certificates.k8s.io/v1 |
//! | 1.22 | coordination.k8s.io/v1beta1 | Lease | coordination.k8s.io/v1 |
//! | 1.22 | scheduling.k8s.io/v1beta1 | PriorityClass | scheduling.k8s.io/v1 |
//! | 1.22 | storage.k8s.io/v1beta1 | CSIDriver, CSINode, StorageClass, VolumeAttachment | storage.k8s.io/v1 |
//! | 1.25 | batch/v1beta1 | CronJob | batch/v1 |
//! | 1.25 | discovery.k8s.io/v1beta1 | EndpointSlice | discovery.k8s.io/v1 |
//! | 1.25 | events.k8s.io/v1beta1 | Event | events.k8s.io/v1 |
//! | 1.25 | autoscaling/v2beta1 | HorizontalPodAutoscaler | autoscaling/v2 |
//! | 1.25 | policy/v1beta1 | PodDisruptionBudget | policy/v1 |
//! | 1.25 | policy/v1beta1 | PodSecurityPolicy | none (Pod Security Admission) |
//! | 1.25 | node.k8s.io/v1beta1 | RuntimeClass | node.k8s.io/v1 |
//! | 1.26 | autoscaling/v2beta2 | HorizontalPodAutoscaler | autoscaling/v2 |
//! | 1.26 | flowcontrol.apiserver.k8s.io/v1beta1 | FlowSchema, PriorityLevelConfiguration | flowcontrol.apiserver.k8s.io/v1 |
//! | 1.27 | storage.k8s.io/v1beta1 | CSIStorageCapacity | storage.k8s.io/v1 |
//! | 1.29 | flowcontrol.apiserver.k8s.io/v1beta2 | FlowSchema, PriorityLevelConfiguration | flowcontrol.apiserver.k8s.io/v1 |
//! | 1.32 | flowcontrol.apiserver.k8s.io/v1beta3 | FlowSchema, PriorityLevelConfiguration | flowcontrol.apiserver.k8s.io/v1 |
//!
//! Alpha API versions (off by default in every cluster) are not listed.
//! Schema validation of fields is left to the loader's type checks.
//!
//! ## Why it matters
//!
//! A cluster at or past the listed release rejects the manifest (`no matches
//! for kind "Ingress" in version "extensions/v1beta1"`): the deployment fails,
//! often only when the cluster is upgraded.
//!
//! ## How to fix it
//!
//! Change `apiVersion` to the replacement and apply the field changes the
//! migration guide lists (for Ingress, `backend.serviceName` became
//! `backend.service.name`; for apps/v1, `spec.selector` is required).
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: networking.k8s.io/v1   # was extensions/v1beta1
//! kind: Ingress
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "meta/removed-api-version",
        title: "Objects must not use API versions Kubernetes no longer serves",
        severity: Severity::High,
        category: "meta",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/using-api/deprecation-guide/",
        controls: &[],
    },
    kinds: Kinds::Only(KINDS),
    optional: false,
    check,
};

/// (apiVersion, kinds, removed in, replacement apiVersion; empty: none).
const REMOVED: &[(&str, &[&str], &str, &str)] = &[
    (
        "extensions/v1beta1",
        &["Deployment", "DaemonSet", "ReplicaSet"],
        "1.16",
        "apps/v1",
    ),
    (
        "extensions/v1beta1",
        &["NetworkPolicy"],
        "1.16",
        "networking.k8s.io/v1",
    ),
    ("extensions/v1beta1", &["PodSecurityPolicy"], "1.16", ""),
    (
        "extensions/v1beta1",
        &["Ingress"],
        "1.22",
        "networking.k8s.io/v1",
    ),
    (
        "apps/v1beta1",
        &[
            "Deployment",
            "StatefulSet",
            "ReplicaSet",
            "ControllerRevision",
        ],
        "1.16",
        "apps/v1",
    ),
    (
        "apps/v1beta2",
        &[
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "ReplicaSet",
            "ControllerRevision",
        ],
        "1.16",
        "apps/v1",
    ),
    (
        "networking.k8s.io/v1beta1",
        &["Ingress", "IngressClass"],
        "1.22",
        "networking.k8s.io/v1",
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        &["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"],
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        &[
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ],
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    (
        "apiextensions.k8s.io/v1beta1",
        &["CustomResourceDefinition"],
        "1.22",
        "apiextensions.k8s.io/v1",
    ),
    (
        "apiregistration.k8s.io/v1beta1",
        &["APIService"],
        "1.22",
        "apiregistration.k8s.io/v1",
    ),
    (
        "authentication.k8s.io/v1beta1",
        &["TokenReview"],
        "1.22",
        "authentication.k8s.io/v1",
    ),
    (
        "authorization.k8s.io/v1beta1",
        &[
            "SubjectAccessReview",
            "LocalSubjectAccessReview",
            "SelfSubjectAccessReview",
        ],
        "1.22",
        "authorization.k8s.io/v1",
    ),
    (
        "certificates.k8s.io/v1beta1",
        &["CertificateSigningRequest"],
        "1.22",
        "certificates.k8s.io/v1",
    ),
    (
        "coordination.k8s.io/v1beta1",
        &["Lease"],
        "1.22",
        "coordination.k8s.io/v1",
    ),
    (
        "scheduling.k8s.io/v1beta1",
        &["PriorityClass"],
        "1.22",
        "scheduling.k8s.io/v1",
    ),
    (
        "storage.k8s.io/v1beta1",
        &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"],
        "1.22",
        "storage.k8s.io/v1",
    ),
    ("batch/v1beta1", &["CronJob"], "1.25", "batch/v1"),
    (
        "discovery.k8s.io/v1beta1",
        &["EndpointSlice"],
        "1.25",
        "discovery.k8s.io/v1",
    ),
    (
        "events.k8s.io/v1beta1",
        &["Event"],
        "1.25",
        "events.k8s.io/v1",
    ),
    (
        "autoscaling/v2beta1",
        &["HorizontalPodAutoscaler"],
        "1.25",
        "autoscaling/v2",
    ),
    (
        "policy/v1beta1",
        &["PodDisruptionBudget"],
        "1.25",
        "policy/v1",
    ),
    ("policy/v1beta1", &["PodSecurityPolicy"], "1.25", ""),
    (
        "node.k8s.io/v1beta1",
        &["RuntimeClass"],
        "1.25",
        "node.k8s.io/v1",
    ),
    (
        "autoscaling/v2beta2",
        &["HorizontalPodAutoscaler"],
        "1.26",
        "autoscaling/v2",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        &["FlowSchema", "PriorityLevelConfiguration"],
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "storage.k8s.io/v1beta1",
        &["CSIStorageCapacity"],
        "1.27",
        "storage.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        &["FlowSchema", "PriorityLevelConfiguration"],
        "1.29",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        &["FlowSchema", "PriorityLevelConfiguration"],
        "1.32",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
];

/// Every kind of the table, so the checker calls the rule only for them.
const KINDS: &[&str] = &[
    "Deployment",
    "DaemonSet",
    "ReplicaSet",
    "StatefulSet",
    "ControllerRevision",
    "NetworkPolicy",
    "PodSecurityPolicy",
    "Ingress",
    "IngressClass",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "CustomResourceDefinition",
    "APIService",
    "TokenReview",
    "SubjectAccessReview",
    "LocalSubjectAccessReview",
    "SelfSubjectAccessReview",
    "CertificateSigningRequest",
    "Lease",
    "PriorityClass",
    "CSIDriver",
    "CSINode",
    "StorageClass",
    "VolumeAttachment",
    "CSIStorageCapacity",
    "CronJob",
    "EndpointSlice",
    "Event",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "RuntimeClass",
    "FlowSchema",
    "PriorityLevelConfiguration",
];

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let version = object.id.api_version.as_str();
    let kind = object.kind();
    let Some((_, _, removed, replacement)) = REMOVED
        .iter()
        .find(|(v, kinds, _, _)| *v == version && kinds.contains(&kind))
    else {
        return;
    };
    let (message, remediation) = if replacement.is_empty() {
        (
            format!("{kind} {version} was removed in Kubernetes {removed}, and {kind} no longer exists"),
            "Remove the PodSecurityPolicy and enforce Pod Security Standards with Pod Security Admission namespace labels.".to_string(),
        )
    } else {
        (
            format!("{kind} {version} was removed in Kubernetes {removed}; use {replacement}"),
            format!("Change apiVersion to {replacement} and apply the field changes of the migration guide."),
        )
    };
    let (node, field) = match object.root.get("apiVersion") {
        Some(n) => (n, "apiVersion"),
        None => (&object.root, ""),
    };
    sink.report(node, field, message, remediation);
}

#[cfg(test)]
mod tests {
    use super::{KINDS, REMOVED, RULE};
    use crate::testing::{positions, run};

    #[test]
    fn flags_removed_versions_with_their_release() {
        let findings = run(
            &RULE,
            "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\n---\napiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\n",
        );
        assert_eq!(positions(&findings), [(1, 13), (5, 13), (9, 13)]);
        assert!(findings[0]
            .message
            .contains("removed in Kubernetes 1.22; use networking.k8s.io/v1"));
        assert!(findings[1].message.contains("no longer exists"));
        assert!(findings[2].message.contains("1.25; use batch/v1"));
    }

    #[test]
    fn passes_current_versions() {
        let findings = run(
            &RULE,
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n",
        );
        assert!(findings.is_empty());
    }

    #[test]
    fn every_table_kind_is_dispatched() {
        for (_, kinds, _, _) in REMOVED {
            for kind in *kinds {
                assert!(KINDS.contains(kind), "{kind}");
            }
        }
    }
}
