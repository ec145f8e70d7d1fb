//! ## What it finds
//!
//! A Namespace object in the input with no LimitRange in that namespace in the
//! input. The check looks only at Namespaces the input defines, so scanning
//! the manifests of one application (which does not own its namespace)
//! reports nothing; `kube-*` system namespaces are skipped.
//!
//! ## Why it matters
//!
//! A LimitRange gives containers that set no requests or limits sensible
//! defaults, and bounds what one container may ask for. Without it, a
//! container that forgets its limits can use a whole node, and a ResourceQuota
//! on CPU or memory makes such pods fail to create at all.
//!
//! ## How to fix it
//!
//! Ship a LimitRange with each Namespace you define.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: v1
//! kind: LimitRange
//! metadata: {name: defaults, namespace: shop}
//! spec:
//!   limits:
//!   - type: Container
//!     defaultRequest: {cpu: 100m, memory: 128Mi}
//!     default: {memory: 512Mi}
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "resources/namespace-without-limit-range",
        title: "Namespaces should have a LimitRange",
        severity: Severity::Low,
        category: "resources",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/policy/limit-range/",
        controls: &[Control::nsa("resource-policies")],
    },
    kinds: Kinds::Only(&["Namespace"]),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    super::util::report_namespace_without(
        cx,
        object,
        sink,
        "LimitRange",
        "Add a LimitRange to the namespace with default requests and limits for containers.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::run;

    #[test]
    fn flags_namespace_without_limit_range() {
        let yaml = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: LimitRange\nmetadata: {name: l, namespace: ok}\nspec: {limits: []}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n";
        let findings = run(&RULE, yaml);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].object.to_string(), "Namespace shop");
    }
}
