//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants every verb (`*`) on every
//! resource (`*`) of API groups that hold sensitive resources: with
//! `apiGroups: ["*"]` it is cluster-admin; with `""` (core) it includes
//! Secrets, pods and exec. The message lists what the rule implies. The
//! permission-specific checks (`rbac/read-secrets`, `rbac/pod-exec-attach`...)
//! leave such rules to this one, so a full-access rule is one finding, not
//! fifteen.
//!
//! Full access to an API group of your own (`apiGroups: [example.com]`, a
//! CRD operator's usual rule) grants none of those permissions and is left to
//! `rbac/wildcard-in-rules`. Rules limited with `resourceNames` and roles the
//! API server bootstraps itself are not reported.
//!
//! ## Why it matters
//!
//! The subjects of such a role own everything the rule covers, now and in
//! future versions: read every Secret, run any pod, exec into any container,
//! and usually rewrite RBAC itself.
//!
//! ## How to fix it
//!
//! List the resources and verbs the subject needs. To give a human full
//! control, bind the built-in `admin` or `cluster-admin` role explicitly so
//! the grant is visible as what it is.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["apps"]
//!   resources: [deployments]
//!   verbs: [get, list, watch, update, patch]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{bound_to, describe_role, is_bootstrap, policy_rules, ROLE_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/full-access-rule",
        title: "Roles should not grant every verb on every resource",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
        controls: &[
            Control::nsa("rbac"),
            Control::cis("5.1.3"),
            Control::mitre("T1078"),
        ],
    },
    kinds: Kinds::Only(ROLE_KINDS),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if is_bootstrap(object) {
        return;
    }
    for rule in policy_rules(object) {
        if !rule.is_full_access() {
            continue;
        }
        let dangers = rule.dangers();
        if dangers.is_empty() {
            continue;
        }
        let scope = if rule.all_groups() {
            "every resource of every API group (the equivalent of cluster-admin)".to_string()
        } else {
            "every resource of the listed API groups".to_string()
        };
        sink.report(
            rule.node,
            rule.field(),
            format!(
                "{} of {} grants every verb on {scope}: its subjects can {}{}",
                rule.field(),
                describe_role(object),
                dangers.join(", "),
                bound_to(cx, object)
            ),
            "List the resources and verbs the subject needs instead of '*'.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_full_access_to_sensitive_groups() {
        let yaml = format!(
            "{}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: b}}\nroleRef: {{kind: ClusterRole, name: r, apiGroup: rbac.authorization.k8s.io}}\nsubjects: [{{kind: ServiceAccount, name: ci, namespace: tools}}]\n",
            role(
                "ClusterRole",
                "- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n- {apiGroups: [''], resources: ['*'], verbs: ['*']}\n- {apiGroups: [example.com], resources: ['*'], verbs: ['*']}\n",
            )
        );
        let findings = run(&RULE, &yaml);
        assert_eq!(positions(&findings), [(5, 3), (6, 3)]);
        assert!(findings[0].message.contains("cluster-admin"));
        assert!(findings[0].message.contains("read secrets"));
        assert!(findings[0]
            .message
            .contains("bound to ServiceAccount tools/ci"));
        assert!(!findings[1].message.contains("bind/escalate"));
    }

    #[test]
    fn passes_explicit_rules() {
        let yaml = role("Role", "- {apiGroups: [''], resources: [pods], verbs: ['*']}\n- {apiGroups: ['*'], resources: ['*'], verbs: [get]}\n");
        assert!(run(&RULE, &yaml).is_empty());
    }
}
