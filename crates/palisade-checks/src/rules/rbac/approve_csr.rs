//! ## What it finds
//!
//! A Role or ClusterRole that lets its subjects approve certificate signing
//! requests for API client certificates: one rule grants `update` or `patch`
//! on `certificatesigningrequests/approval` and the role also grants
//! `approve` on `signers` for `kubernetes.io/kube-apiserver-client` or
//! `kubernetes.io/kube-apiserver-client-kubelet` (unrestricted, by name, or
//! through `kubernetes.io/*`). Both are needed to approve, so a role holding
//! only one of them is not reported, nor is a role limited to other signers
//! (such as `kubernetes.io/kubelet-serving`, which kubelet serving-certificate
//! approvers use). The finding points at the approval rule.
//!
//! ## Why it matters
//!
//! A certificate from the `kube-apiserver-client` signer authenticates as
//! whatever user and groups its request names, `system:masters` included,
//! and cannot be revoked before it expires. Approving one's own request is a
//! path to permanent cluster-admin.
//!
//! ## How to fix it
//!
//! Leave approval of client certificates to cluster administrators. An
//! automated approver should be limited with `resourceNames` on `signers` to
//! the signer it handles.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [certificates.k8s.io]
//!   resources: [certificatesigningrequests/approval]
//!   verbs: [update]
//! - apiGroups: [certificates.k8s.io]
//!   resources: [signers]
//!   resourceNames: [kubernetes.io/kubelet-serving]
//!   verbs: [approve]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{
    bound_to, describe_role, is_bootstrap, policy_rules, PolicyRule, CSR_APPROVAL, ROLE_KINDS,
    SIGNER_APPROVE,
};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/approve-csr",
        title: "Roles should not grant approving API client certificates",
        severity: Severity::High,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/#authorization",
        controls: &[Control::nsa("rbac"), Control::mitre("T1078")],
    },
    kinds: Kinds::Only(ROLE_KINDS),
    optional: false,
    check,
};

/// Signers whose certificates authenticate to the API server.
const CLIENT_SIGNERS: &[&str] = &[
    "kubernetes.io/kube-apiserver-client",
    "kubernetes.io/kube-apiserver-client-kubelet",
];

/// The client signers a rule lets its subjects approve for (the API server
/// checks both the signer's name and `<domain>/*`).
fn approvable(rule: &PolicyRule<'_>) -> Vec<&'static str> {
    if rule.grants(SIGNER_APPROVE).pairs.is_empty() {
        return Vec::new();
    }
    CLIENT_SIGNERS
        .iter()
        .copied()
        .filter(|signer| {
            let names = rule.resource_names();
            names.is_empty()
                || names.contains(signer)
                || signer
                    .split_once('/')
                    .is_some_and(|(domain, _)| names.contains(&format!("{domain}/*").as_str()))
        })
        .collect()
}

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if is_bootstrap(object) {
        return;
    }
    let rules: Vec<PolicyRule<'_>> = policy_rules(object).collect();
    let mut signers: Vec<&str> = rules.iter().flat_map(approvable).collect();
    signers.sort_unstable();
    signers.dedup();
    if signers.is_empty() {
        return;
    }
    for rule in &rules {
        if rule.is_full_access() || rule.restricted() || rule.grants(CSR_APPROVAL).pairs.is_empty()
        {
            continue;
        }
        sink.report(
            rule.node,
            rule.field(),
            format!(
                "{} of {} grants approval of certificate signing requests, and the role may approve for {}: its subjects can issue client certificates for any identity{}",
                rule.field(),
                describe_role(object),
                signers.join(", "),
                bound_to(cx, object)
            ),
            "Remove the approval permission, or limit approve on signers (resourceNames) to signers that do not issue API client certificates.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    const APPROVAL: &str = "- {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}\n";

    #[test]
    fn flags_approval_with_client_signer() {
        for signer in [
            "- {apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve]}\n",
            "- {apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve], resourceNames: ['kubernetes.io/*']}\n",
            "- {apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve], resourceNames: [kubernetes.io/kube-apiserver-client]}\n",
        ] {
            let findings = run(&RULE, &role("ClusterRole", &format!("{signer}{APPROVAL}")));
            assert_eq!(positions(&findings), [(6, 3)], "{signer}");
            assert!(findings[0].message.contains("kube-apiserver-client"));
        }
    }

    #[test]
    fn passes_other_signers_or_half_permissions() {
        let kubelet = "- {apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve], resourceNames: [kubernetes.io/kubelet-serving]}\n";
        assert!(run(&RULE, &role("ClusterRole", &format!("{kubelet}{APPROVAL}"))).is_empty());
        assert!(run(&RULE, &role("ClusterRole", APPROVAL)).is_empty());
    }
}
