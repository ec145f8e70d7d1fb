//! ## What it finds
//!
//! A rule of a Role or ClusterRole that grants `update` or `patch` on
//! `services/status`, directly or through a wildcard.
//!
//! ## Why it matters
//!
//! CVE-2020-8554 is unfixed by design: kube-proxy routes traffic for a
//! Service's `status.loadBalancer.ingress` IP to that Service's pods. Whoever can
//! write that status can claim any IP, an external one included, and intercept the
//! traffic pods send to it.
//!
//! ## How to fix it
//!
//! Reserve the permission for the controller that provisions load
//! balancers. Other subjects need `get` at most.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [services, services/status]
//!   verbs: [get, list, watch]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, ROLE_KINDS, SERVICE_STATUS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/modify-service-status",
        title: "Roles should not grant changing services/status",
        severity: Severity::Medium,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://github.com/kubernetes/kubernetes/issues/97076",
        controls: &[Control::nsa("rbac"), Control::mitre("T1557")],
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
        SERVICE_STATUS,
        "set a Service's load-balancer IP and so capture the cluster's traffic for that IP (CVE-2020-8554)",
        "Only the cloud controller manager and load-balancer controllers need to write services/status; remove it from other roles.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [''], resources: [services/status], verbs: [patch]}\n- {apiGroups: [''], resources: [services], verbs: [update]}\n"));
        assert_eq!(positions(&findings), [(5, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]"]);
        assert!(
            findings[0]
                .message
                .contains("grants patch on services/status"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: [''], resources: [services, services/status], verbs: [get, list, watch]}\n")).is_empty());
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [''], resources: [services/status], verbs: [patch]}\n- {apiGroups: [''], resources: [services], verbs: [update]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
