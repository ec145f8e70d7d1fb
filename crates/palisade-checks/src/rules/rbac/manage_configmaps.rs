//! ## What it finds
//!
//! (Optional check.) A rule of a Role or ClusterRole that grants
//! `create`, `update`, `patch` or `delete` on `configmaps`, directly or through a
//! wildcard. Rules limited with `resourceNames` are not reported.
//!
//! ## Why it matters
//!
//! Workloads read their configuration, sometimes scripts and endpoints,
//! from ConfigMaps. Whoever can rewrite them changes what those workloads do on
//! their next start. Many controllers legitimately write their own ConfigMaps,
//! which is why this check is off by default.
//!
//! ## How to fix it
//!
//! Limit `update`/`patch`/`delete` to named ConfigMaps; only `create`
//! cannot be limited by name.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [configmaps]
//!   resourceNames: [my-controller-state]
//!   verbs: [get, update, patch]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, ROLE_KINDS, WRITE_CONFIGMAPS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/manage-configmaps",
        title: "Roles should not grant changing ConfigMaps",
        severity: Severity::Low,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/configuration/configmap/",
        controls: &[Control::nsa("rbac")],
    },
    kinds: Kinds::Only(ROLE_KINDS),
    optional: true,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    report_grants(
        cx,
        object,
        sink,
        WRITE_CONFIGMAPS,
        "create, change or delete ConfigMaps, and with them the configuration of the workloads that read them",
        "Limit ConfigMap writes with resourceNames to the ConfigMaps the subject owns (leader election, its own state).",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [''], resources: [configmaps], verbs: [create, update]}\n- {apiGroups: [''], resources: [configmaps], verbs: [update], resourceNames: [leader]}\n"));
        assert_eq!(positions(&findings), [(5, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]"]);
        assert!(
            findings[0]
                .message
                .contains("grants create, update on configmaps"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: [''], resources: [configmaps], verbs: [update], resourceNames: [leader]}\n- {apiGroups: [''], resources: [configmaps], verbs: [get, list]}\n")).is_empty());
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [''], resources: [configmaps], verbs: [create, update]}\n- {apiGroups: [''], resources: [configmaps], verbs: [update], resourceNames: [leader]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
