//! ## What it finds
//!
//! A rule of a Role or ClusterRole with a wildcard in its `verbs` (`*`) or
//! `resources` (`*` or `*/<subresource>`). The finding points at the
//! wildcard. Rules that grant every verb on every resource of a sensitive API
//! group are reported by `rbac/full-access-rule` instead. A `*` in
//! `apiGroups` next to named resources and verbs is not reported (it only
//! matters if another group defines a resource of the same name), nor is a
//! `*` in `nonResourceURLs`. Roles the API server bootstraps itself are not
//! reported.
//!
//! ## Why it matters
//!
//! A wildcard grants more than anyone reviewed: every resource an API group
//! has today and every one it gains later (a new subresource, a new CRD
//! version), and every verb, `delete`, `escalate` and `impersonate` included.
//!
//! ## How to fix it
//!
//! Replace the wildcard with the list of resources and verbs the subject
//! uses. `kubectl auth can-i --list --as=system:serviceaccount:<ns>:<name>`
//! shows what a ServiceAccount holds.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [example.com]
//!   resources: [widgets, widgets/status]
//!   verbs: [get, list, watch, update, patch]
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use super::util::{describe_role, is_bootstrap, policy_rules, ROLE_KINDS};
use crate::rule::{rule_docs, strings, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/wildcard-in-rules",
        title: "Roles should not use wildcards in verbs or resources",
        severity: Severity::Medium,
        category: "rbac",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.3")],
    },
    kinds: Kinds::Only(ROLE_KINDS),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if is_bootstrap(object) {
        return;
    }
    for rule in policy_rules(object) {
        if rule.is_full_access() && !rule.dangers().is_empty() {
            continue; // rbac/full-access-rule
        }
        let mut wildcards: Vec<(&Node, String, &str)> = Vec::new();
        for key in ["resources", "verbs"] {
            for (i, (node, value)) in strings(rule.node.get(key)).enumerate() {
                if value == "*" || value.starts_with("*/") {
                    wildcards.push((node, format!("{}.{key}[{i}]", rule.field()), key));
                }
            }
        }
        let Some((node, field, _)) = wildcards.first() else {
            continue;
        };
        let mut lists: Vec<&str> = wildcards.iter().map(|(_, _, k)| *k).collect();
        lists.dedup();
        sink.report(
            node,
            field.clone(),
            format!(
                "{} of {} uses a wildcard in its {}",
                rule.field(),
                describe_role(object),
                lists.join(" and ")
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
    fn flags_wildcard_verbs_and_resources() {
        let findings = run(
            &RULE,
            &role(
                "ClusterRole",
                "- apiGroups: [example.com]\n  resources: ['*']\n  verbs: ['*']\n- apiGroups: ['']\n  resources: [pods, '*/status']\n  verbs: [get]\n- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n",
            ),
        );
        assert_eq!(positions(&findings), [(6, 15), (9, 21)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("rules[0].resources[0]")
        );
        assert!(findings[0].message.contains("resources and verbs"));
    }

    #[test]
    fn passes_named_resources() {
        let findings = run(
            &RULE,
            &role("Role", "- {apiGroups: ['*'], resources: [deployments], verbs: [get, list]}\n- {nonResourceURLs: ['*'], verbs: [get]}\n"),
        );
        assert!(findings.is_empty());
    }
}
