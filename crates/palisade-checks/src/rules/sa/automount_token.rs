//! ## What it finds
//!
//! A workload whose pods get their ServiceAccount's API token mounted
//! although nothing in the input says they use the Kubernetes API. The token
//! is mounted when neither the pod spec nor its ServiceAccount sets
//! `automountServiceAccountToken` (the pod's setting wins over the
//! ServiceAccount's, as in Kubernetes; the ServiceAccount is looked up in the
//! input). The check then reports:
//!
//! - pods running as the namespace's `default` ServiceAccount that no
//!   RoleBinding or ClusterRoleBinding of the input binds, and
//! - pods running as their own ServiceAccount when the input has RBAC bindings
//!   but none of them binds that ServiceAccount.
//!
//! A pod whose ServiceAccount is bound to a role in the input evidently uses
//! the API and is not reported. When the input has no bindings at all, a pod
//! with its own ServiceAccount gets the benefit of the doubt (its bindings may
//! live elsewhere).
//!
//! To declare that a workload needs the API, set
//! `automountServiceAccountToken: true` on its pod spec or on its
//! ServiceAccount: an explicit `true` is never reported.
//!
//! ## Why it matters
//!
//! The token is a credential for the API server, readable by any process in
//! the pod. If the application is compromised, the token lets the intruder
//! query the API (discover services, namespaces, sometimes more), and it
//! carries whatever permission is ever bound to that ServiceAccount later.
//!
//! ## How to fix it
//!
//! Set `automountServiceAccountToken: false` on the pod spec (or on the
//! ServiceAccount, for every pod using it). If the workload does call the API,
//! bind it a role, or set the field to `true` to say so.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web, namespace: shop}
//! spec:
//!   template:
//!     spec:
//!       automountServiceAccountToken: false
//!       containers:
//!       - {name: web, image: registry.example.com/web:1.4.2}
//! ```

use palisade_model::{pod_template, Control, Object, RuleMeta, Severity};

use super::util::{account, automount, Automount};
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};
use crate::rules::rbac::util::bindings_of_service_account;

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "sa/automount-token",
        title: "Pods that do not use the Kubernetes API should not mount a service account token",
        severity: Severity::Medium,
        category: "sa",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting",
        controls: &[
            Control::nsa("service-account-tokens"),
            Control::cis("5.1.6"),
            Control::mitre("T1552"),
        ],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    let ns = namespace_of(object);
    let sa = account(&pod);
    if automount(cx, &pod, ns, sa.name) != Automount::Defaulted {
        return;
    }
    let has_bindings = cx.index.has_kind("RoleBinding") || cx.index.has_kind("ClusterRoleBinding");
    if sa.name != "default" && !has_bindings {
        return;
    }
    if bindings_of_service_account(cx, ns, sa.name, false)
        .next()
        .is_some()
    {
        return;
    }
    let whose = if sa.name == "default" {
        "the namespace's default ServiceAccount".to_string()
    } else {
        format!(
            "ServiceAccount {:?}, which no binding of the input gives a role,",
            sa.name
        )
    };
    sink.report(
        sa.node.unwrap_or(pod.spec),
        pod.field_path("automountServiceAccountToken"),
        format!(
            "pods of {} get the API token of {whose} mounted: automountServiceAccountToken is not set on the pod or its ServiceAccount",
            object.id
        ),
        "Set automountServiceAccountToken: false on the pod spec or the ServiceAccount; set it to true if the workload does call the API.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n";

    fn pod(spec: &str) -> String {
        format!("{POD}{spec}  containers: [{{name: a, image: x}}]\n")
    }

    #[test]
    fn flags_default_service_account_token() {
        let findings = run(&RULE, &pod(""));
        assert_eq!(positions(&findings), [(5, 3)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.automountServiceAccountToken")
        );
        assert!(findings[0].message.contains("default ServiceAccount"));
    }

    #[test]
    fn pod_setting_wins_over_service_account() {
        let sa = |value: &str| {
            format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: web, namespace: shop}}\nautomountServiceAccountToken: {value}\n---\n")
        };
        // The pod's explicit value wins either way.
        let yaml = format!(
            "{}{}",
            sa("false"),
            pod("  serviceAccountName: web\n  automountServiceAccountToken: true\n")
        );
        assert!(run(&RULE, &yaml).is_empty());
        let yaml = format!(
            "{}{}",
            sa("true"),
            pod("  serviceAccountName: web\n  automountServiceAccountToken: false\n")
        );
        assert!(run(&RULE, &yaml).is_empty());
        // The ServiceAccount's applies when the pod says nothing.
        let yaml = format!("{}{}", sa("false"), pod("  serviceAccountName: web\n"));
        assert!(run(&RULE, &yaml).is_empty());
        let yaml = format!("{}{}", sa("true"), pod("  serviceAccountName: web\n"));
        assert!(run(&RULE, &yaml).is_empty());
    }

    #[test]
    fn own_service_account_judged_by_bindings() {
        let own = pod("  serviceAccountName: web\n");
        // No bindings in the input: benefit of the doubt.
        assert!(run(&RULE, &own).is_empty());
        let binding = |sa: &str| {
            format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: b, namespace: shop}}\nroleRef: {{kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}}\nsubjects: [{{kind: ServiceAccount, name: {sa}}}]\n---\n")
        };
        assert!(run(&RULE, &format!("{}{own}", binding("web"))).is_empty());
        let findings = run(&RULE, &format!("{}{own}", binding("other")));
        assert_eq!(positions(&findings), [(11, 23)]);
        assert!(findings[0].message.contains("ServiceAccount \"web\""));
    }
}
