//! ## What it finds
//!
//! A ClusterRoleBinding or RoleBinding that binds the built-in `cluster-admin`
//! ClusterRole to any subject, and a ClusterRoleBinding that binds the
//! built-in `admin` ClusterRole (which is namespace-admin in every namespace
//! when bound cluster-wide). A RoleBinding of `admin` in one namespace, the
//! usual way to delegate a namespace to its team, is not reported. Bindings
//! without subjects grant nothing and are not reported, nor are the bindings
//! the API server bootstraps itself (`kubernetes.io/bootstrapping:
//! rbac-defaults`, such as `cluster-admin` for `system:masters`).
//!
//! ## Why it matters
//!
//! `cluster-admin` allows every action on every resource. A ServiceAccount
//! bound to it turns any compromise of its pods into a compromise of the whole
//! cluster; a user or group bound to it bypasses every other RBAC decision.
//! Even through a RoleBinding, it gives full control of the namespace,
//! including its Secrets and RBAC.
//!
//! ## How to fix it
//!
//! Bind a role that lists the permissions the subject needs. Give humans
//! `cluster-admin` only through a break-glass procedure.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: RoleBinding
//! metadata: {name: deployer, namespace: shop}
//! roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
//! subjects:
//! - {kind: ServiceAccount, name: deployer, namespace: shop}
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{describe_subject, is_bootstrap, subjects, BINDING_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/cluster-admin-binding",
        title: "The cluster-admin role should not be bound to subjects",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles",
        controls: &[
            Control::nsa("rbac"),
            Control::cis("5.1.1"),
            Control::mitre("T1078"),
        ],
    },
    kinds: Kinds::Only(BINDING_KINDS),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if is_bootstrap(object) {
        return;
    }
    let Some(role_ref) = object.root.get("roleRef") else {
        return;
    };
    let (Some(kind), Some(name_node)) = (role_ref.get("kind"), role_ref.get("name")) else {
        return;
    };
    if kind.as_str() != Some("ClusterRole") {
        return;
    }
    let cluster_wide = object.kind() == "ClusterRoleBinding";
    let what = match name_node.as_str() {
        Some("cluster-admin") if cluster_wide => "cluster-admin across the cluster",
        Some("cluster-admin") => "cluster-admin over the namespace",
        Some("admin") if cluster_wide => "admin in every namespace",
        _ => return,
    };
    let bound: Vec<String> = subjects(object)
        .iter()
        .map(|s| describe_subject(s, object))
        .collect();
    if bound.is_empty() {
        return;
    }
    sink.report(
        name_node,
        "roleRef.name",
        format!("{} gives {what} to {}", object.id, bound.join(", ")),
        "Bind a role that lists only the permissions the subjects need.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    fn binding(kind: &str, role: &str) -> String {
        format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: b, namespace: shop}}\nroleRef:\n  kind: ClusterRole\n  name: {role}\n  apiGroup: rbac.authorization.k8s.io\nsubjects: [{{kind: ServiceAccount, name: ci, namespace: tools}}]\n")
    }

    #[test]
    fn flags_cluster_admin_and_cluster_wide_admin() {
        let findings = run(&RULE, &binding("ClusterRoleBinding", "cluster-admin"));
        assert_eq!(positions(&findings), [(6, 9)]);
        assert!(findings[0].message.contains("ServiceAccount tools/ci"));
        assert_eq!(
            run(&RULE, &binding("RoleBinding", "cluster-admin")).len(),
            1
        );
        assert_eq!(run(&RULE, &binding("ClusterRoleBinding", "admin")).len(), 1);
    }

    #[test]
    fn passes_namespace_admin_and_bootstrap() {
        assert!(run(&RULE, &binding("RoleBinding", "admin")).is_empty());
        assert!(run(&RULE, &binding("ClusterRoleBinding", "view")).is_empty());
        let boot = binding("ClusterRoleBinding", "cluster-admin").replace(
            "{name: b, namespace: shop}",
            "{name: b, labels: {kubernetes.io/bootstrapping: rbac-defaults}}",
        );
        assert!(run(&RULE, &boot).is_empty());
    }
}
