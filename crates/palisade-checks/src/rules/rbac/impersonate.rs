//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants `impersonate` on
//! `users`, `groups`, `serviceaccounts`, `uids` or `userextras`, directly or
//! through a wildcard. Rules limited with `resourceNames` to chosen identities are
//! not reported.
//!
//! ## Why it matters
//!
//! Impersonation lets a subject send requests as someone else. Unlimited,
//! it means acting as any user or group, `system:masters` included, which is
//! cluster-admin.
//!
//! ## How to fix it
//!
//! Drop the verb. Where a proxy or tool really needs it, list the
//! identities it may assume with `resourceNames`.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [serviceaccounts]
//!   resourceNames: [reporting]   # this identity only
//!   verbs: [impersonate]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, IMPERSONATE, ROLE_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/impersonate",
        title: "Roles should not grant impersonation",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.8"), Control::mitre("T1078")],
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
        IMPERSONATE,
        "act as other users, groups or service accounts with all their permissions",
        "Remove the impersonate verb, or limit it with resourceNames to the identities the subject must act as.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [''], resources: [users, groups], verbs: [impersonate]}\n- {apiGroups: [authentication.k8s.io], resources: [userextras/scopes], verbs: [impersonate]}\n- {apiGroups: [''], resources: [serviceaccounts], verbs: [get]}\n"));
        assert_eq!(positions(&findings), [(5, 3), (6, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]", "rules[1]"]);
        assert!(
            findings[0]
                .message
                .contains("grants impersonate on users; impersonate on groups"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: [''], resources: [serviceaccounts], verbs: [impersonate], resourceNames: [reporting]}\n")).is_empty());
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [''], resources: [users, groups], verbs: [impersonate]}\n- {apiGroups: [authentication.k8s.io], resources: [userextras/scopes], verbs: [impersonate]}\n- {apiGroups: [''], resources: [serviceaccounts], verbs: [get]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
