//! ## What it finds
//!
//! A RoleBinding or ClusterRoleBinding whose subjects include a namespace's
//! `default` ServiceAccount (as a `ServiceAccount` subject, or as the user
//! `system:serviceaccount:<namespace>:default`). Bindings the API server
//! creates itself (`kubernetes.io/bootstrapping: rbac-defaults`) are not
//! reported.
//!
//! ## Why it matters
//!
//! Every pod that does not name a ServiceAccount runs as `default`. A role
//! bound to it is therefore granted to every such pod of the namespace (or of
//! every namespace, for a ClusterRoleBinding naming several), including pods
//! deployed later by people who never asked for it.
//!
//! ## How to fix it
//!
//! Create a dedicated ServiceAccount for the workload that needs the role,
//! bind the role to it, and set `serviceAccountName` in that workload.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: RoleBinding
//! metadata: {name: reporter, namespace: shop}
//! roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reporter}
//! subjects:
//! - {kind: ServiceAccount, name: reporter, namespace: shop}   # not "default"
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};
use crate::rules::rbac::util::{
    describe_subject, is_bootstrap, role_ref, subject_kind, subject_name, subject_namespace,
    subjects, BINDING_KINDS,
};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "sa/default-service-account-bound",
        title: "Roles should not be bound to a namespace's default ServiceAccount",
        severity: Severity::Medium,
        category: "sa",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.5")],
    },
    kinds: Kinds::Only(BINDING_KINDS),
    optional: false,
    check,
};

fn is_default(subject: &palisade_model::Node, binding: &Object) -> bool {
    match subject_kind(subject) {
        "ServiceAccount" => {
            subject_name(subject) == "default" && subject_namespace(subject, binding).is_some()
        }
        "User" => subject_name(subject)
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(_, name)| name == "default"),
        _ => false,
    }
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if is_bootstrap(object) {
        return;
    }
    let role = role_ref(object).map_or_else(|| "a role".to_string(), |(k, n)| format!("{k} {n:?}"));
    for (i, subject) in subjects(object).iter().enumerate() {
        if is_default(subject, object) {
            sink.report(
                subject,
                format!("subjects[{i}]"),
                format!(
                    "{} binds {role} to {}, which every pod without its own ServiceAccount runs as",
                    object.id,
                    describe_subject(subject, object)
                ),
                "Bind the role to a dedicated ServiceAccount and set serviceAccountName in the workload that needs it.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const HEAD: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: shop}\nroleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}\nsubjects:\n";

    #[test]
    fn flags_default_subjects() {
        let findings = run(
            &RULE,
            &format!("{HEAD}- {{kind: ServiceAccount, name: web}}\n- {{kind: ServiceAccount, name: default}}\n- {{kind: User, name: 'system:serviceaccount:ops:default'}}\n"),
        );
        assert_eq!(positions(&findings), [(7, 3), (8, 3)]);
        assert!(findings[0].message.contains("ServiceAccount shop/default"));
    }

    #[test]
    fn passes_dedicated_accounts_and_bootstrap() {
        assert!(run(
            &RULE,
            &format!("{HEAD}- {{kind: ServiceAccount, name: web}}\n")
        )
        .is_empty());
        let boot = format!("{HEAD}- {{kind: ServiceAccount, name: default}}\n").replace(
            "namespace: shop}",
            "namespace: shop, labels: {kubernetes.io/bootstrapping: rbac-defaults}}",
        );
        assert!(run(&RULE, &boot).is_empty());
    }
}
