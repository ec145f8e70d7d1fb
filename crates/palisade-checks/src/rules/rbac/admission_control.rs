//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants `create`, `update`,
//! `patch`, `delete` or `deletecollection` on `mutatingwebhookconfigurations`,
//! `validatingwebhookconfigurations`, `validatingadmissionpolicies`,
//! `mutatingadmissionpolicies` or their bindings (group
//! `admissionregistration.k8s.io`), directly or through a wildcard. Rules limited
//! with `resourceNames`, as a controller managing its own webhook uses, are not
//! reported.
//!
//! ## Why it matters
//!
//! A mutating webhook receives every object it registers for (Secrets
//! included) and can rewrite it, for example to inject a container into every new
//! pod. Deleting a validating webhook or policy switches off the guard rails it
//! enforces.
//!
//! ## How to fix it
//!
//! Give write access to admission configuration only to cluster
//! administrators. A controller that manages its own webhook (cert rotation) needs
//! `update`/`patch` limited with `resourceNames` to that webhook.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [admissionregistration.k8s.io]
//!   resources: [validatingwebhookconfigurations]
//!   resourceNames: [my-operator-webhook]
//!   verbs: [get, update, patch]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, ROLE_KINDS, WEBHOOKS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/admission-control",
        title: "Roles should not grant control of admission webhooks and policies",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/",
        controls: &[Control::nsa("rbac")],
    },
    kinds: Kinds::Only(ROLE_KINDS),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    report_grants(
        cx,
        object,
        sink,
        WEBHOOKS,
        "register or change admission webhooks and policies, which see, rewrite or block every object sent to the API server",
        "Keep write access to admission configuration to cluster administrators and the controller that owns it (limit it with resourceNames).",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [create, update]}\n- {apiGroups: [admissionregistration.k8s.io], resources: ['*'], verbs: [get, list, watch]}\n"));
        assert_eq!(positions(&findings), [(5, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]"]);
        assert!(
            findings[0]
                .message
                .contains("grants create, update on mutatingwebhookconfigurations"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: [admissionregistration.k8s.io], resources: [validatingwebhookconfigurations], resourceNames: [mine], verbs: [get, update, patch]}\n- {apiGroups: [admissionregistration.k8s.io], resources: ['*'], verbs: [get, list, watch]}\n")).is_empty());
    }

    #[test]
    fn leaves_full_access_and_bootstrap_roles_to_other_checks() {
        assert!(run(
            &RULE,
            &role(
                "ClusterRole",
                "- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n"
            )
        )
        .is_empty());
        let bootstrap = role("ClusterRole", "- {apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [create, update]}\n- {apiGroups: [admissionregistration.k8s.io], resources: ['*'], verbs: [get, list, watch]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
