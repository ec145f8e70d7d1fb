//! ## What it finds
//!
//! (Optional check.) A workload that runs as its namespace's `default`
//! ServiceAccount (`serviceAccountName` unset or `default`) and gets its token
//! mounted. Pods that do not mount the token
//! (`automountServiceAccountToken: false` on the pod, or on the `default`
//! ServiceAccount of the input) are not reported: for them the account is
//! only a name.
//!
//! The stronger problem, a role bound to a `default` ServiceAccount, is
//! reported by `sa/default-service-account-bound`, and a token mounted for no
//! reason by `sa/automount-token`; this check is for teams that want every
//! API-using workload to have its own identity.
//!
//! ## Why it matters
//!
//! Every pod that names no ServiceAccount shares the `default` one. Any
//! permission granted to it for one workload is granted to all of them, and
//! audit logs cannot tell the workloads apart.
//!
//! ## How to fix it
//!
//! Create a ServiceAccount per workload and name it in `serviceAccountName`,
//! or stop mounting the token when the workload does not call the API.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: v1
//! kind: ServiceAccount
//! metadata: {name: web, namespace: shop}
//! ---
//! # in the pod spec
//! serviceAccountName: web
//! ```

use palisade_model::{pod_template, Control, Object, RuleMeta, Severity};

use super::util::{account, holds_token};
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "sa/default-service-account",
        title: "Workloads should run as their own ServiceAccount, not the default one",
        severity: Severity::Low,
        category: "sa",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/service-accounts/",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.5")],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    let sa = account(&pod);
    if sa.name != "default" || !holds_token(cx, &pod, namespace_of(object), sa.name) {
        return;
    }
    sink.report(
        sa.node.unwrap_or(pod.spec),
        sa.field,
        format!(
            "pods of {} run as the namespace's default ServiceAccount with its token mounted",
            object.id
        ),
        "Give the workload its own ServiceAccount (serviceAccountName), or set automountServiceAccountToken: false.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_default_account_with_token() {
        let findings = run(
            &RULE,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      serviceAccountName: default\n      containers: [{name: a, image: x}]\n",
        );
        assert_eq!(positions(&findings), [(7, 27)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.template.spec.serviceAccountName")
        );
    }

    #[test]
    fn passes_own_account_or_no_token() {
        for spec in [
            "  serviceAccountName: web\n",
            "  automountServiceAccountToken: false\n",
        ] {
            let yaml = format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n{spec}  containers: [{{name: a, image: x}}]\n");
            assert!(run(&RULE, &yaml).is_empty(), "{spec}");
        }
        let sa_off = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default}\nautomountServiceAccountToken: false\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n";
        assert!(run(&RULE, sa_off).is_empty());
    }
}
