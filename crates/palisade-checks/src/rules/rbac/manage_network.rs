//! ## What it finds
//!
//! (Optional check.) A rule of a Role or ClusterRole that grants
//! `create`, `update`, `patch`, `delete` or `deletecollection` on `services`,
//! `endpoints`, `endpointslices`, `ingresses` or `networkpolicies`, directly or
//! through a wildcard. Rules limited with `resourceNames` are not reported.
//!
//! ## Why it matters
//!
//! Changing a Service's selector or Endpoints redirects its traffic;
//! deleting a NetworkPolicy opens what it closed; an Ingress exposes a Service to
//! the internet. Deployment tools and ingress controllers need some of these
//! permissions, which is why this check is off by default.
//!
//! ## How to fix it
//!
//! Give these permissions to the deployment pipeline only.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [networking.k8s.io]
//!   resources: [networkpolicies, ingresses]
//!   verbs: [get, list, watch]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, ROLE_KINDS, WRITE_NETWORK};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/manage-network",
        title: "Roles should not grant changing Services, Ingresses or NetworkPolicies",
        severity: Severity::Low,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/services-networking/",
        controls: &[Control::nsa("rbac"), Control::nsa("network-separation")],
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
        WRITE_NETWORK,
        "change Services, Endpoints, Ingresses or NetworkPolicies, and with them where traffic goes and what is allowed",
        "Keep networking changes to the deployment pipeline; give other subjects read access.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [delete]}\n- {apiGroups: [''], resources: [services], verbs: [get]}\n"));
        assert_eq!(positions(&findings), [(5, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]"]);
        assert!(
            findings[0]
                .message
                .contains("grants delete on networkpolicies"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: [networking.k8s.io, ''], resources: [networkpolicies, services], verbs: [get, list, watch]}\n")).is_empty());
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
        let bootstrap = role("ClusterRole", "- {apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [delete]}\n- {apiGroups: [''], resources: [services], verbs: [get]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
