//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants any verb on `nodes/proxy`,
//! directly or through a wildcard. The kubelet authorizes its whole API with this
//! subresource, and a websocket `exec` needs only `get`.
//!
//! ## Why it matters
//!
//! `nodes/proxy` reaches the kubelet, which runs and inspects every
//! container of its node. Through it a subject can execute commands in any pod on
//! the node, including privileged system pods, without the API server's admission
//! or audit seeing the command.
//!
//! ## How to fix it
//!
//! Monitoring agents need `nodes/stats` and `nodes/metrics`, not
//! `nodes/proxy`. Remove `nodes/proxy` and grant those instead.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [nodes/stats, nodes/metrics]
//!   verbs: [get]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, NODES_PROXY, ROLE_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/nodes-proxy",
        title: "Roles should not grant nodes/proxy",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/",
        controls: &[
            Control::nsa("rbac"),
            Control::mitre("T1609"),
            Control::mitre("T1611"),
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
        NODES_PROXY,
        "call the kubelet API of any node and run commands in any pod on it, bypassing admission and audit",
        "Grant nodes/stats or nodes/metrics for monitoring instead of nodes/proxy.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [''], resources: [nodes/proxy], verbs: [get]}\n- {apiGroups: [''], resources: [nodes, nodes/stats], verbs: [get]}\n"));
        assert_eq!(positions(&findings), [(5, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]"]);
        assert!(
            findings[0].message.contains("grants get on nodes/proxy"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: [''], resources: [nodes, nodes/stats, nodes/metrics], verbs: [get, list]}\n")).is_empty());
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [''], resources: [nodes/proxy], verbs: [get]}\n- {apiGroups: [''], resources: [nodes, nodes/stats], verbs: [get]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
