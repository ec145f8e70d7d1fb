//! ## What it finds
//!
//! A pod spec that sets the deprecated `serviceAccount` field. When
//! `serviceAccountName` is set too, the API server uses
//! `serviceAccountName` and ignores `serviceAccount`; the message says when
//! the two disagree.
//!
//! ## Why it matters
//!
//! `serviceAccount` is a deprecated alias kept for old clients. Tools that
//! read only `serviceAccountName` (policy engines, reviewers, this scanner's
//! peers) see the pod as running as `default`, and two fields that disagree
//! hide which identity the pod really has.
//!
//! ## How to fix it
//!
//! Rename the field to `serviceAccountName`, or delete it when
//! `serviceAccountName` is already set.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   serviceAccountName: web   # not serviceAccount: web
//! ```

use palisade_model::{pod_template, Node, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "sa/deprecated-service-account-field",
        title: "Use serviceAccountName, not the deprecated serviceAccount field",
        severity: Severity::Low,
        category: "sa",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#security",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    let Some(node) = pod.spec.get_set("serviceAccount") else {
        return;
    };
    let old = node.display_value();
    let current = pod
        .spec
        .get("serviceAccountName")
        .and_then(Node::as_str)
        .filter(|s| !s.is_empty());
    let message = match current {
        Some(name) if name == old => {
            format!("serviceAccount: {old} repeats serviceAccountName with a deprecated field")
        }
        Some(name) => {
            format!("serviceAccount: {old} is ignored: the pod runs as serviceAccountName {name:?}")
        }
        None => format!("serviceAccount: {old} uses the deprecated field; use serviceAccountName"),
    };
    sink.report(
        node,
        pod.field_path("serviceAccount"),
        message,
        "Use serviceAccountName and remove serviceAccount.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    fn pod(spec: &str) -> String {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n{spec}  containers: [{{name: a, image: x}}]\n")
    }

    #[test]
    fn flags_deprecated_field() {
        let findings = run(&RULE, &pod("  serviceAccount: web\n"));
        assert_eq!(positions(&findings), [(5, 19)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.serviceAccount")
        );
        let findings = run(
            &RULE,
            &pod("  serviceAccountName: api\n  serviceAccount: web\n"),
        );
        assert!(
            findings[0].message.contains("is ignored"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_service_account_name() {
        assert!(run(&RULE, &pod("  serviceAccountName: web\n")).is_empty());
    }
}
