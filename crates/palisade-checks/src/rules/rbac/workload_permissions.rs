//! ## What it finds
//!
//! A workload whose pods hold the token of a ServiceAccount that the input's
//! RBAC lets do something dangerous: read Secrets, create pods or workload
//! controllers, exec into pods, reach the kubelet through `nodes/proxy`,
//! impersonate, bind or escalate roles, change admission webhooks, mint
//! tokens, create PersistentVolumes, or everything (`*` on `*`). The check
//! follows the ServiceAccount (`serviceAccountName`, `default` when unset)
//! through the RoleBindings of the workload's namespace and every
//! ClusterRoleBinding, matching it by name, by its username
//! `system:serviceaccount:<ns>:<name>`, and by the groups
//! `system:serviceaccounts` and `system:serviceaccounts:<ns>`; then reads the
//! bound Role or ClusterRole from the input (the built-in `cluster-admin`,
//! `admin` and `edit` ClusterRoles are known without it).
//!
//! It stays quiet when the input has no bindings, and for pods that hold no
//! token (`automountServiceAccountToken: false` on the pod or its
//! ServiceAccount, and no projected token volume).
//!
//! ## Why it matters
//!
//! Any code running in these pods (the application, a compromised
//! dependency, an intruder) can read the token from the filesystem and use
//! those permissions. The role's rule is where the permission is defined;
//! this finding shows which workloads actually carry it.
//!
//! ## How to fix it
//!
//! Narrow the role, or move the permission to a dedicated ServiceAccount
//! used only by the component that needs it. If the workload does not call
//! the API at all, set `automountServiceAccountToken: false`.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   template:
//!     spec:
//!       serviceAccountName: web            # bound to a read-only Role
//!       automountServiceAccountToken: false  # or: no token at all
//! ```

use palisade_model::{pod_template, Control, Object, RuleMeta, Severity};

use super::util::{bindings_of_service_account, bound_role, policy_rules, BoundRole};
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};
use crate::rules::sa::util::{account, holds_token};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/workload-permissions",
        title: "Workloads should not carry a token with dangerous permissions",
        severity: Severity::Medium,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
        controls: &[
            Control::nsa("rbac"),
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
    if !cx.index.has_kind("RoleBinding") && !cx.index.has_kind("ClusterRoleBinding") {
        return;
    }
    let Some(pod) = pod_template(object) else {
        return;
    };
    let ns = namespace_of(object);
    let sa = account(&pod);
    if !holds_token(cx, &pod, ns, sa.name) {
        return;
    }
    let mut dangers: Vec<&str> = Vec::new();
    let mut via: Vec<String> = Vec::new();
    for binding in bindings_of_service_account(cx, ns, sa.name, true) {
        let (role, found): (String, Vec<&str>) = match bound_role(cx, binding) {
            BoundRole::Object(role) => {
                let mut found = Vec::new();
                for rule in policy_rules(role) {
                    if rule.is_full_access() && rule.all_groups() && !rule.restricted() {
                        found.push("do anything (full access)");
                    } else {
                        found.extend(rule.dangers());
                    }
                }
                (format!("{} {}", role.kind(), role.id.name), found)
            }
            BoundRole::BuiltIn(name, grants) => (format!("ClusterRole {name}"), grants.to_vec()),
            BoundRole::Unknown => continue,
        };
        if found.is_empty() {
            continue;
        }
        for d in found {
            if !dangers.contains(&d) {
                dangers.push(d);
            }
        }
        via.push(format!("{} {} -> {role}", binding.kind(), binding.id.name));
    }
    if dangers.is_empty() {
        return;
    }
    let shown = via.len().min(3);
    let more = if via.len() > shown {
        format!(" and {} more", via.len() - shown)
    } else {
        String::new()
    };
    let who = match object.id.namespace.as_deref() {
        Some(ns) => format!("{ns}/{}", sa.name),
        None => sa.name.to_string(),
    };
    sink.report(
        sa.node.unwrap_or(pod.spec),
        sa.field,
        format!(
            "pods of {} hold the token of ServiceAccount {who}, which can {} (via {}{more})",
            object.id,
            dangers.join(", "),
            via[..shown].join("; ")
        ),
        "Narrow the bound roles, move the permission to a dedicated ServiceAccount, or set automountServiceAccountToken: false if the pods do not call the API.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const RBAC: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader, namespace: shop}\nrules:\n- {apiGroups: [''], resources: [secrets], verbs: [list]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: web-reader, namespace: shop}\nroleRef: {kind: Role, name: reader, apiGroup: rbac.authorization.k8s.io}\nsubjects: [{kind: ServiceAccount, name: web}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: all-edit}\nroleRef: {kind: ClusterRole, name: edit, apiGroup: rbac.authorization.k8s.io}\nsubjects: [{kind: Group, name: 'system:serviceaccounts:ops'}]\n---\n";

    fn pod(ns: &str, spec: &str) -> String {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: {ns}}}\nspec:\n{spec}  containers: [{{name: a, image: x}}]\n")
    }

    #[test]
    fn flags_workloads_reaching_dangerous_roles() {
        let findings = run(
            &RULE,
            &format!("{RBAC}{}", pod("shop", "  serviceAccountName: web\n")),
        );
        assert_eq!(positions(&findings), [(23, 23)]);
        assert!(
            findings[0].message.contains("read secrets"),
            "{}",
            findings[0].message
        );
        assert!(findings[0]
            .message
            .contains("RoleBinding web-reader -> Role reader"));
        let findings = run(&RULE, &format!("{RBAC}{}", pod("ops", "")));
        assert!(
            findings[0].message.contains("ClusterRole edit"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_without_token_or_dangerous_binding() {
        let no_token = pod(
            "shop",
            "  serviceAccountName: web\n  automountServiceAccountToken: false\n",
        );
        assert!(run(&RULE, &format!("{RBAC}{no_token}")).is_empty());
        assert!(run(
            &RULE,
            &format!("{RBAC}{}", pod("shop", "  serviceAccountName: api\n"))
        )
        .is_empty());
        assert!(run(&RULE, &pod("shop", "  serviceAccountName: web\n")).is_empty());
    }
}
