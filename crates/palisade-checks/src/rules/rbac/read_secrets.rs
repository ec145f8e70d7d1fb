//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants `get`, `list` or `watch` on
//! `secrets` (core API group), directly or through a `*` in its verbs, resources
//! or API groups. `list` and `watch` return the Secrets' contents, not just their
//! names. Rules limited to named Secrets with `resourceNames` are not reported:
//! that is the least-privilege way to give access to one Secret.
//!
//! ## Why it matters
//!
//! Secrets hold passwords, keys and the tokens of every service account in
//! the namespace. Whoever can read them can act as those service accounts and
//! reach whatever the credentials open, inside and outside the cluster.
//!
//! ## How to fix it
//!
//! Name the Secrets the subject needs with `resourceNames` (a `get` on a
//! named Secret cannot be widened to `list`), or mount the Secret into the pod
//! that needs it so no API access is required at all.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [secrets]
//!   resourceNames: [web-tls]   # this Secret only
//!   verbs: [get]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, READ_SECRETS, ROLE_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/read-secrets",
        title: "Roles should not grant read access to Secrets",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#listing-secrets",
        controls: &[
            Control::nsa("rbac"),
            Control::nsa("secrets"),
            Control::cis("5.1.2"),
            Control::mitre("T1552"),
        ],
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
        READ_SECRETS,
        "read every Secret in scope, service account tokens included",
        "Grant get on the Secrets the subject needs by name (resourceNames), or mount the Secret into the pod instead of reading it through the API.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [''], resources: [secrets], verbs: [list]}\n- {apiGroups: [''], resources: [configmaps], verbs: [get]}\n- {apiGroups: [''], resources: [secrets], verbs: [get], resourceNames: [tls]}\n- {apiGroups: ['*'], resources: ['*'], verbs: [watch]}\n"));
        assert_eq!(positions(&findings), [(5, 3), (8, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]", "rules[3]"]);
        assert!(
            findings[0].message.contains("grants list on secrets"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: [''], resources: [configmaps], verbs: [get, list]}\n- {apiGroups: [''], resources: [secrets], verbs: [get], resourceNames: [tls]}\n- {apiGroups: [''], resources: [secrets], verbs: [create, delete]}\n")).is_empty());
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [''], resources: [secrets], verbs: [list]}\n- {apiGroups: [''], resources: [configmaps], verbs: [get]}\n- {apiGroups: [''], resources: [secrets], verbs: [get], resourceNames: [tls]}\n- {apiGroups: ['*'], resources: ['*'], verbs: [watch]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
