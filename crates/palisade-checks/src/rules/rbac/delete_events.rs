//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants `delete` or
//! `deletecollection` on `events` (core or `events.k8s.io`), directly or through
//! a wildcard. Creating and patching Events, which every controller does, is not
//! reported. (Pod logs cannot be deleted through the API, so there is no such
//! permission to look for.)
//!
//! ## Why it matters
//!
//! Events record scheduling, image pulls, restarts and failures. Deleting
//! them erases the trail an investigation starts from.
//!
//! ## How to fix it
//!
//! Events expire on their own after the API server's `--event-ttl`
//! (one hour by default). No workload needs to delete them.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["", events.k8s.io]
//!   resources: [events]
//!   verbs: [create, patch]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, DELETE_EVENTS, ROLE_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/delete-events",
        title: "Roles should not grant deleting Events",
        severity: Severity::Low,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/",
        controls: &[Control::nsa("audit-logging"), Control::mitre("T1070")],
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
        DELETE_EVENTS,
        "delete Events and hide what happened in the cluster",
        "Let Events expire (the API server deletes them after --event-ttl); remove delete and deletecollection on events.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [events.k8s.io], resources: [events], verbs: [deletecollection]}\n- {apiGroups: [''], resources: [events], verbs: [create, patch]}\n"));
        assert_eq!(positions(&findings), [(5, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]"]);
        assert!(
            findings[0]
                .message
                .contains("grants deletecollection on events"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: ['', events.k8s.io], resources: [events], verbs: [create, patch, get, list]}\n")).is_empty());
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [events.k8s.io], resources: [events], verbs: [deletecollection]}\n- {apiGroups: [''], resources: [events], verbs: [create, patch]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
