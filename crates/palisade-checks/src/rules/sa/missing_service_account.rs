//! ## What it finds
//!
//! A workload whose ServiceAccount (`serviceAccountName`, or the deprecated
//! `serviceAccount`) is not in the input, when the input does define
//! ServiceAccounts for that namespace. The `default` ServiceAccount is never
//! reported: every namespace has one. A ServiceAccount without a namespace in
//! the input counts as being in the workload's namespace.
//!
//! The check stays quiet when the input has no ServiceAccount in the
//! workload's namespace: scanning a Deployment without the rest of its
//! application should not produce "missing" noise.
//!
//! ## Why it matters
//!
//! The API server rejects a pod whose ServiceAccount does not exist, so a
//! controller keeps failing to create its pods. Usually the name is a typo, or
//! the ServiceAccount was renamed in one place only.
//!
//! ## How to fix it
//!
//! Add the ServiceAccount to the manifests, or fix the name.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: v1
//! kind: ServiceAccount
//! metadata: {name: web, namespace: shop}
//! ---
//! # in the pod spec of a workload in namespace shop
//! serviceAccountName: web
//! ```

use palisade_model::{pod_template, Object, RuleMeta, Severity};

use super::util::{account, lookup};
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "sa/missing-service-account",
        title: "The ServiceAccount a workload names should exist",
        severity: Severity::Medium,
        category: "sa",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    let sa = account(&pod);
    let Some(node) = sa.node else { return };
    if sa.name == "default" {
        return;
    }
    let ns = namespace_of(object);
    if cx.index.in_namespace(ns, "ServiceAccount").next().is_none() {
        return;
    }
    if lookup(cx, ns, sa.name).is_some() {
        return;
    }
    let where_ = object.id.namespace.as_deref().unwrap_or("(no namespace)");
    sink.report(
        node,
        sa.field,
        format!(
            "ServiceAccount {:?} is not defined in namespace {where_}, which the input defines other ServiceAccounts for",
            sa.name
        ),
        "Add the ServiceAccount to the manifests or correct serviceAccountName.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const SA: &str =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\n---\n";

    fn pod(ns: &str, sa: &str) -> String {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: {ns}}}\nspec:\n  serviceAccountName: {sa}\n  containers: [{{name: a, image: x}}]\n")
    }

    #[test]
    fn flags_unknown_account_in_known_namespace() {
        let findings = run(&RULE, &format!("{SA}{}", pod("shop", "wbe")));
        assert_eq!(positions(&findings), [(9, 23)]);
        assert!(findings[0].message.contains("\"wbe\""));
    }

    #[test]
    fn quiet_for_existing_default_or_unknown_namespaces() {
        assert!(run(&RULE, &format!("{SA}{}", pod("shop", "web"))).is_empty());
        assert!(run(&RULE, &format!("{SA}{}", pod("shop", "default"))).is_empty());
        assert!(run(&RULE, &format!("{SA}{}", pod("other", "api"))).is_empty());
        assert!(run(&RULE, &pod("shop", "api")).is_empty());
    }
}
