//! ## What it finds
//!
//! A RoleBinding or ClusterRoleBinding whose subjects include everyone:
//! the user `system:anonymous`, or the groups `system:unauthenticated`,
//! `system:authenticated` or `system:serviceaccounts` (every service account
//! of every namespace). Bindings of the harmless discovery roles
//! (`system:public-info-viewer`, `system:discovery`, `system:basic-user`), and
//! the bindings the API server bootstraps itself, are not reported.
//!
//! Bindings to `system:masters` are not reported: that group bypasses RBAC
//! altogether, so such a binding grants nothing new.
//!
//! ## Why it matters
//!
//! Anonymous requests reach the API server from wherever it is reachable.
//! `system:authenticated` includes every service account and, on some
//! managed clusters, anyone with an account at the cloud provider.
//! Whatever the bound role allows, all of them can do.
//!
//! ## How to fix it
//!
//! Bind the role to the specific users, groups or ServiceAccounts that need
//! it.
//!
//! ## Example
//!
//! ```yaml
//! subjects:
//! - {kind: Group, name: shop-developers, apiGroup: rbac.authorization.k8s.io}
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{is_bootstrap, role_ref, subject_kind, subject_name, subjects, BINDING_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/binding-to-everyone",
        title: "Roles should not be bound to anonymous, unauthenticated or all authenticated users",
        severity: Severity::Critical,
        category: "rbac",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects",
        controls: &[Control::nsa("rbac"), Control::mitre("T1078")],
    },
    kinds: Kinds::Only(BINDING_KINDS),
    optional: false,
    check,
};

/// The discovery roles every cluster binds to these groups by default.
const HARMLESS: &[&str] = &[
    "system:public-info-viewer",
    "system:discovery",
    "system:basic-user",
];

fn everyone(kind: &str, name: &str) -> Option<&'static str> {
    match (kind, name) {
        ("User", "system:anonymous") => Some("every anonymous request"),
        ("Group", "system:unauthenticated") => Some("every unauthenticated request"),
        ("Group", "system:authenticated") => Some("every authenticated user and service account"),
        ("Group", "system:serviceaccounts") => Some("every service account of every namespace"),
        _ => None,
    }
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if is_bootstrap(object) {
        return;
    }
    let Some((kind, name)) = role_ref(object) else {
        return;
    };
    if kind == "ClusterRole" && HARMLESS.contains(&name) {
        return;
    }
    for (i, subject) in subjects(object).iter().enumerate() {
        let subject_name = subject_name(subject);
        if let Some(who) = everyone(subject_kind(subject), subject_name) {
            sink.report(
                subject,
                format!("subjects[{i}]"),
                format!(
                    "{} grants {kind} {name:?} to {subject_name}: {who}",
                    object.id
                ),
                "Bind the role to the specific users, groups or ServiceAccounts that need it.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    fn binding(role: &str, subjects: &str) -> String {
        format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: b}}\nroleRef: {{kind: ClusterRole, name: {role}, apiGroup: rbac.authorization.k8s.io}}\nsubjects:\n{subjects}")
    }

    #[test]
    fn flags_everyone_subjects() {
        let findings = run(
            &RULE,
            &binding(
                "view",
                "- {kind: Group, name: ops}\n- {kind: User, name: 'system:anonymous'}\n- {kind: Group, name: 'system:authenticated'}\n",
            ),
        );
        assert_eq!(positions(&findings), [(7, 3), (8, 3)]);
        assert_eq!(findings[0].location.field.as_deref(), Some("subjects[1]"));
    }

    #[test]
    fn passes_discovery_roles_and_masters() {
        assert!(run(
            &RULE,
            &binding(
                "system:public-info-viewer",
                "- {kind: Group, name: 'system:unauthenticated'}\n"
            )
        )
        .is_empty());
        assert!(run(
            &RULE,
            &binding("view", "- {kind: Group, name: 'system:masters'}\n")
        )
        .is_empty());
    }
}
