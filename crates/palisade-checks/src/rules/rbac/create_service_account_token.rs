//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants `create` on
//! `serviceaccounts/token` (the TokenRequest API), directly or through a
//! wildcard. Rules limited with `resourceNames` to chosen service accounts are not
//! reported.
//!
//! ## Why it matters
//!
//! A TokenRequest returns a fresh, valid token for the service account
//! named in the request. Unlimited, the permission turns every service account in
//! scope, including the most privileged controllers', into one the subject can
//! become.
//!
//! ## How to fix it
//!
//! Drop the permission, or list the service accounts with
//! `resourceNames`.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [serviceaccounts/token]
//!   resourceNames: [build-runner]
//!   verbs: [create]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, ROLE_KINDS, SA_TOKENS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/create-service-account-token",
        title: "Roles should not grant creating service account tokens",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/",
        controls: &[Control::nsa("rbac"), Control::nsa("service-account-tokens"), Control::mitre("T1078")],
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
        SA_TOKENS,
        "mint tokens for service accounts and act with their permissions",
        "Remove create on serviceaccounts/token, or limit it with resourceNames to the service accounts the subject must mint tokens for.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [''], resources: [serviceaccounts/token], verbs: [create]}\n- {apiGroups: [''], resources: [serviceaccounts], verbs: [create]}\n"));
        assert_eq!(positions(&findings), [(5, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]"]);
        assert!(
            findings[0]
                .message
                .contains("grants create on serviceaccounts/token"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: [''], resources: [serviceaccounts], verbs: [create, get]}\n- {apiGroups: [''], resources: [serviceaccounts/token], verbs: [create], resourceNames: [runner]}\n")).is_empty());
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [''], resources: [serviceaccounts/token], verbs: [create]}\n- {apiGroups: [''], resources: [serviceaccounts], verbs: [create]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
