//! ## What it finds
//!
//! A Deployment, StatefulSet, DaemonSet, ReplicaSet or ReplicationController
//! whose `spec.selector` does not select its own pod template's labels, and,
//! for `apps/v1` kinds, a selector that is missing, empty, or invalid (an
//! expression with an unknown operator, `In`/`NotIn` without values,
//! `Exists`/`DoesNotExist` with values). Selectors are evaluated exactly
//! (`matchLabels` and `matchExpressions` with In, NotIn, Exists,
//! DoesNotExist). A ReplicationController without a selector takes its
//! template's labels and is fine.
//!
//! ## Why it matters
//!
//! The API server rejects such an object (`selector does not match template
//! labels`, `spec.selector: Required value`, `empty selector is invalid for
//! deployment`): the workload is never created. With a hand-copied manifest
//! it is one of the most common reasons a deploy fails.
//!
//! ## How to fix it
//!
//! Make `spec.selector.matchLabels` a subset of
//! `spec.template.metadata.labels`. Remember the selector of an `apps/v1`
//! workload cannot be changed after creation.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   selector:
//!     matchLabels: {app: web}
//!   template:
//!     metadata:
//!       labels: {app: web, tier: frontend}
//! ```

use palisade_model::selector::{LabelSelector, SelectorErrorKind};
use palisade_model::{Node, Object, RuleMeta, Severity};

use crate::index::map_selector;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/selector-mismatch",
        title: "Workload selectors must match their pod template labels",
        severity: Severity::High,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#selector",
        controls: &[],
    },
    kinds: Kinds::Only(&[
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
    ]),
    optional: false,
    check,
};

const REMEDIATION: &str =
    "Make spec.selector.matchLabels a subset of spec.template.metadata.labels.";

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(spec) = object.root.get_set("spec") else {
        return;
    };
    let is_rc = object.kind() == "ReplicationController";
    let apps_v1 = object.id.api_version == "apps/v1";
    let selector_node = spec.get_set("selector");
    let selector = match selector_node {
        None if apps_v1 => {
            sink.report(
                spec,
                "spec",
                format!(
                    "{} has no spec.selector, which apps/v1 requires",
                    object.kind()
                ),
                REMEDIATION,
            );
            return;
        }
        None => return,
        Some(node) if is_rc => map_selector(node),
        Some(node) => match LabelSelector::from_node(node) {
            Ok(s) => s,
            Err(e) if e.kind == SelectorErrorKind::UnknownOperator => {
                sink.report(
                    node,
                    "spec.selector",
                    "spec.selector has an expression with an unknown operator; the API server rejects it",
                    "Use In, NotIn, Exists or DoesNotExist.",
                );
                return;
            }
            Err(e) => {
                sink.report(
                    node,
                    "spec.selector",
                    format!("spec.selector is invalid ({e}); the API server rejects it"),
                    "Give In and NotIn at least one value, Exists and DoesNotExist none, and quote label values.",
                );
                return;
            }
        },
    };
    let Some(node) = selector_node else { return };
    if selector.is_empty() {
        if apps_v1 {
            sink.report(
                node,
                "spec.selector",
                format!(
                    "{} has an empty selector, which the API server rejects",
                    object.kind()
                ),
                REMEDIATION,
            );
        }
        return;
    }
    // The template's own labels, whether or not its spec is complete.
    let labels = spec.path(&["template", "metadata", "labels"]);
    if !selector.matches_with(|k| labels.and_then(|l| l.get(k)).and_then(Node::as_str)) {
        sink.report(
            node,
            "spec.selector",
            format!(
                "spec.selector does not match the pod template's labels; the API server rejects this {}",
                object.kind()
            ),
            REMEDIATION,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_mismatch_missing_and_empty() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  selector: {matchLabels: {app: web}}\n  template: {metadata: {labels: {app: api}}}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: b}\nspec:\n  template: {metadata: {labels: {app: b}}}\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: c}\nspec:\n  selector: {}\n  template: {metadata: {labels: {app: c}}}\n---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: d}\nspec:\n  selector: {matchExpressions: [{key: app, operator: In, values: [x]}]}\n  template: {metadata: {labels: {app: d}}}\n";
        assert_eq!(
            positions(&run(&RULE, yaml)),
            [(5, 13), (12, 3), (18, 13), (25, 13)]
        );
    }

    #[test]
    fn flags_invalid_selectors() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  selector: {matchExpressions: [{key: app, operator: Bogus}]}\n  template: {metadata: {labels: {app: a}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec:\n  selector: {matchExpressions: [{key: app, operator: NotIn}]}\n  template: {metadata: {labels: {app: b}}}\n";
        let findings = run(&RULE, yaml);
        assert_eq!(positions(&findings), [(5, 13), (12, 13)]);
        assert!(findings[0].message.contains("unknown operator"));
        assert!(findings[1].message.contains("values set can't be empty"));
    }

    #[test]
    fn passes_matching_selectors() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  selector:\n    matchLabels: {app: web}\n    matchExpressions: [{key: tier, operator: NotIn, values: [db]}]\n  template: {metadata: {labels: {app: web, tier: fe}}}\n---\napiVersion: v1\nkind: ReplicationController\nmetadata: {name: r}\nspec:\n  template: {metadata: {labels: {app: r}}}\n---\napiVersion: v1\nkind: ReplicationController\nmetadata: {name: s}\nspec:\n  selector: {app: s}\n  template: {metadata: {labels: {app: s, v: '1'}}}\n";
        assert!(run(&RULE, yaml).is_empty());
    }
}
