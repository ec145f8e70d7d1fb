//! ## What it finds
//!
//! A rule that lets its subjects `update` or `patch` the CoreDNS ConfigMap
//! (`kube-system/coredns`), directly or through a wildcard:
//!
//! - a Role in `kube-system` granting it on all ConfigMaps or on `coredns`;
//! - a ClusterRole granting it on the ConfigMap named `coredns`; or on all
//!   ConfigMaps when the input binds that ClusterRole with a
//!   ClusterRoleBinding or with a RoleBinding in `kube-system`.
//!
//! A ClusterRole that may write ConfigMaps but that the input binds only in
//! other namespaces (or not at all) is not reported here; see the optional
//! `rbac/manage-configmaps`.
//!
//! ## Why it matters
//!
//! CoreDNS reads its whole configuration (the `Corefile`) from that
//! ConfigMap and reloads it. Whoever can edit it can answer any cluster DNS
//! query, and send every pod's traffic for a service or an external name to a
//! host of their choice.
//!
//! ## How to fix it
//!
//! Remove write access to ConfigMaps in `kube-system`, or limit it with
//! `resourceNames` to ConfigMaps other than `coredns`.
//!
//! ## Example
//!
//! ```yaml
//! kind: Role
//! metadata: {name: leader-election, namespace: kube-system}
//! rules:
//! - apiGroups: [""]
//!   resources: [configmaps]
//!   resourceNames: [my-controller-leader]
//!   verbs: [get, update, patch]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{
    bound_to, describe_pairs, describe_role, is_bootstrap, policy_rules, role_ref,
    MODIFY_CONFIGMAPS, ROLE_KINDS,
};
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/coredns-configmap",
        title: "Roles should not allow changing the CoreDNS configuration",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/administer-cluster/dns-custom-nameservers/",
        controls: &[Control::nsa("rbac"), Control::mitre("T1557")],
    },
    kinds: Kinds::Only(ROLE_KINDS),
    optional: false,
    check,
};

const NAMESPACE: &str = "kube-system";
const NAME: &str = "coredns";

/// Whether the input binds the ClusterRole `name` where kube-system is in scope.
fn bound_over_kube_system(cx: &Cx<'_>, name: &str) -> bool {
    cx.index
        .of_kind("ClusterRoleBinding")
        .chain(cx.index.in_namespace(NAMESPACE, "RoleBinding"))
        .any(|b| role_ref(b) == Some(("ClusterRole", name)))
}

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if is_bootstrap(object) {
        return;
    }
    let is_role = object.kind() == "Role";
    if is_role && namespace_of(object) != NAMESPACE {
        return;
    }
    let mut bound: Option<bool> = None;
    for rule in policy_rules(object) {
        if rule.is_full_access() {
            continue;
        }
        let granted = rule.grants(MODIFY_CONFIGMAPS);
        if granted.pairs.is_empty() {
            continue;
        }
        let names = rule.resource_names();
        let named = names.contains(&NAME);
        if !names.is_empty() && !named {
            continue;
        }
        if !is_role && !named {
            let in_scope =
                *bound.get_or_insert_with(|| bound_over_kube_system(cx, &object.id.name));
            if !in_scope {
                continue;
            }
        }
        sink.report(
            rule.node,
            rule.field(),
            format!(
                "{} of {} grants {} over {NAMESPACE}: its subjects can rewrite the CoreDNS configuration ({NAMESPACE}/{NAME}){}",
                rule.field(),
                describe_role(object),
                describe_pairs(&granted.pairs),
                bound_to(cx, object)
            ),
            "Remove write access to ConfigMaps in kube-system, or limit it with resourceNames to ConfigMaps other than coredns.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    const WRITE: &str = "- {apiGroups: [''], resources: [configmaps], verbs: [get, update]}\n";

    #[test]
    fn flags_kube_system_roles_and_named_cluster_roles() {
        let yaml = role("Role", WRITE).replace("namespace: shop", "namespace: kube-system");
        assert_eq!(positions(&run(&RULE, &yaml)), [(5, 3)]);
        let named = "- {apiGroups: [''], resources: [configmaps], verbs: [patch], resourceNames: [coredns]}\n";
        assert_eq!(
            positions(&run(&RULE, &role("ClusterRole", named))),
            [(5, 3)]
        );
        let bound = format!("{}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: b}}\nroleRef: {{kind: ClusterRole, name: r, apiGroup: rbac.authorization.k8s.io}}\nsubjects: [{{kind: Group, name: ops}}]\n", role("ClusterRole", WRITE));
        let findings = run(&RULE, &bound);
        assert_eq!(positions(&findings), [(5, 3)]);
        assert!(findings[0].message.contains("bound to Group ops"));
    }

    #[test]
    fn passes_other_namespaces_and_names() {
        assert!(run(&RULE, &role("Role", WRITE)).is_empty());
        assert!(run(&RULE, &role("ClusterRole", WRITE)).is_empty());
        let other = "- {apiGroups: [''], resources: [configmaps], verbs: [update], resourceNames: [leader]}\n";
        let yaml = role("Role", other).replace("namespace: shop", "namespace: kube-system");
        assert!(run(&RULE, &yaml).is_empty());
    }
}
