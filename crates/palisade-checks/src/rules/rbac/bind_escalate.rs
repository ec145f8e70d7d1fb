//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants `bind` or `escalate` on
//! `roles` or `clusterroles` (group `rbac.authorization.k8s.io`), directly or
//! through a wildcard. Rules limited with `resourceNames` to chosen roles, the
//! documented way to delegate role binding, are not reported. Creating
//! RoleBindings alone is not reported: without `bind`, the API server only lets a
//! subject bind roles whose permissions it already holds.
//!
//! ## Why it matters
//!
//! RBAC prevents privilege escalation by refusing to let anyone create or
//! edit a role with more permissions than they hold, or bind a role they could not
//! create. `escalate` and `bind` switch that protection off: a subject with them
//! can give itself cluster-admin.
//!
//! ## How to fix it
//!
//! Remove the verbs. To let a team hand out a few roles, grant `bind` with
//! `resourceNames` listing exactly those roles.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [rbac.authorization.k8s.io]
//!   resources: [clusterroles]
//!   resourceNames: [view]   # may bind "view" only
//!   verbs: [bind]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, ESCALATE_BIND, ROLE_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/bind-escalate",
        title: "Roles should not grant bind or escalate on roles",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.8"), Control::mitre("T1068")],
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
        ESCALATE_BIND,
        "grant permissions they do not hold themselves (escalate widens roles, bind binds any role)",
        "Remove bind and escalate, or limit bind with resourceNames to the roles the subject may hand out.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate]}\n- {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [bind], resourceNames: [viewer]}\n- {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}\n"));
        assert_eq!(positions(&findings), [(5, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]"]);
        assert!(
            findings[0]
                .message
                .contains("grants escalate on clusterroles"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [bind], resourceNames: [viewer]}\n- {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}\n")).is_empty());
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate]}\n- {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [bind], resourceNames: [viewer]}\n- {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
