//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants `create` or `get` on
//! `pods/portforward`, directly or through a wildcard (`get` suffices for the
//! websocket protocol on older clusters).
//!
//! ## Why it matters
//!
//! A port-forward tunnels through the API server and the kubelet straight
//! to a pod's port. NetworkPolicies do not apply to it, so databases and admin
//! ports that no Service exposes become reachable from the subject's laptop.
//!
//! ## How to fix it
//!
//! Keep port-forwarding for debugging roles bound for a limited time.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [pods, services]   # no pods/portforward
//!   verbs: [get, list]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, PORT_FORWARD, ROLE_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/port-forward",
        title: "Roles should not grant port-forwarding to pods",
        severity: Severity::Medium,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/access-application-cluster/port-forward-access-application-cluster/",
        controls: &[Control::nsa("rbac"), Control::nsa("network-separation"), Control::mitre("T1021")],
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
        PORT_FORWARD,
        "open tunnels to any pod port from outside the cluster, past NetworkPolicies",
        "Remove pods/portforward from everyday roles; bind it only when debugging.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [''], resources: [pods/portforward], verbs: [create]}\n- {apiGroups: [''], resources: [pods], verbs: [get, list]}\n"));
        assert_eq!(positions(&findings), [(5, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]"]);
        assert!(
            findings[0]
                .message
                .contains("grants create on pods/portforward"),
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
                "- {apiGroups: [''], resources: [pods, services], verbs: [get, list]}\n"
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [''], resources: [pods/portforward], verbs: [create]}\n- {apiGroups: [''], resources: [pods], verbs: [get, list]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
