//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants `create` or `get` on
//! `pods/exec` or `pods/attach`, directly or through a wildcard (`*` or
//! `*/exec`). `get` is included because clusters before the
//! `AuthorizePodWebsocketUpgradeCreatePermission` feature (default since 1.31)
//! let a websocket `exec` through with `get` only.
//!
//! ## Why it matters
//!
//! A shell in a container gives its files, its mounted Secrets and its
//! service account token to whoever opened it, and bypasses every control that
//! applies to creating pods.
//!
//! ## How to fix it
//!
//! Remove these subresources from everyday roles. Give interactive access
//! with a separate role bound for the duration of an incident, and audit it.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [pods, pods/log]   # no pods/exec, pods/attach
//!   verbs: [get, list]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, EXEC_ATTACH, ROLE_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/pod-exec-attach",
        title: "Roles should not grant exec or attach into pods",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
        controls: &[Control::nsa("rbac"), Control::mitre("T1609")],
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
        EXEC_ATTACH,
        "run commands in running containers and use their credentials",
        "Remove pods/exec and pods/attach from the role; give interactive access through a break-glass role bound only when needed.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [''], resources: [pods/exec], verbs: [create]}\n- {apiGroups: [''], resources: [pods, pods/log], verbs: [get]}\n- {apiGroups: [''], resources: ['*/attach'], verbs: [get]}\n"));
        assert_eq!(positions(&findings), [(5, 3), (7, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]", "rules[2]"]);
        assert!(
            findings[0].message.contains("grants create on pods/exec"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(
            &RULE,
            &role(
                "Role",
                "- {apiGroups: [''], resources: [pods, pods/log], verbs: [get, list]}\n"
            )
        )
        .is_empty());
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [''], resources: [pods/exec], verbs: [create]}\n- {apiGroups: [''], resources: [pods, pods/log], verbs: [get]}\n- {apiGroups: [''], resources: ['*/attach'], verbs: [get]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
