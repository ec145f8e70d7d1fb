//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants `create` on `pods`, or
//! `create`, `update` or `patch` on the controllers that create pods
//! (Deployments, DaemonSets, StatefulSets, ReplicaSets, ReplicationControllers,
//! Jobs, CronJobs), directly or through a wildcard.
//!
//! ## Why it matters
//!
//! Whoever can create a pod in a namespace can mount every Secret and
//! ConfigMap of that namespace, run as any of its service accounts, and, unless
//! admission forbids it, start a privileged pod that owns the node. Changing a
//! controller's pod template is the same power.
//!
//! ## How to fix it
//!
//! Give this permission to the deployment pipeline (or GitOps controller)
//! only, and make sure Pod Security Admission or a policy engine restricts what
//! those pods may do. Other subjects need `get`, `list` and `watch`.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["apps"]
//!   resources: [deployments]
//!   verbs: [get, list, watch]   # no create/update/patch
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, CREATE_PODS, ROLE_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/create-pods",
        title: "Roles should not grant creating pods or workload controllers",
        severity: Severity::Medium,
        category: "rbac",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation",
        controls: &[
            Control::nsa("rbac"),
            Control::cis("5.1.4"),
            Control::mitre("T1610"),
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
        CREATE_PODS,
        "start pods, which may mount any Secret and run as any ServiceAccount of the namespace",
        "Keep pod and workload creation to the deployment pipeline and controllers that need it; give other subjects read access only.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [''], resources: [pods], verbs: [create]}\n- {apiGroups: [apps], resources: [deployments], verbs: [patch]}\n- {apiGroups: [''], resources: [pods], verbs: [get, list, delete]}\n"));
        assert_eq!(positions(&findings), [(5, 3), (6, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]", "rules[1]"]);
        assert!(
            findings[0].message.contains("grants create on pods"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: [''], resources: [pods], verbs: [get, list, delete]}\n- {apiGroups: [apps], resources: [deployments/scale], verbs: [patch]}\n")).is_empty());
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [''], resources: [pods], verbs: [create]}\n- {apiGroups: [apps], resources: [deployments], verbs: [patch]}\n- {apiGroups: [''], resources: [pods], verbs: [get, list, delete]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
