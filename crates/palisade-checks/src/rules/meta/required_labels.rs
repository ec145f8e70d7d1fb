//! ## What it finds
//!
//! A workload without one of the labels the configuration requires
//! (`required-labels`, e.g. `app.kubernetes.io/name`, `owner`). The check is
//! silent when no labels are required.
//!
//! ## Why it matters
//!
//! Labels are how people and tools find an object's owner, cost centre or
//! application: alert routing, chargeback, policy exemptions and incident
//! response all depend on them being present.
//!
//! ## How to fix it
//!
//! Add the missing labels to the workload's `metadata.labels`.
//!
//! ## Example
//!
//! ```yaml
//! metadata:
//!   name: web
//!   labels:
//!     app.kubernetes.io/name: web
//!     owner: team-shop
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "meta/required-labels",
        title: "Workloads should carry the required labels",
        severity: Severity::Low,
        category: "meta",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let required = &cx.options.required_labels;
    if required.is_empty() {
        return;
    }
    let missing: Vec<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|k| object.root.path(&["metadata", "labels", k]).is_none())
        .collect();
    if missing.is_empty() {
        return;
    }
    let (node, field) = match object.root.path(&["metadata", "labels"]) {
        Some(l) => (l, "metadata.labels"),
        None => match object.metadata() {
            Some(m) => (m, "metadata"),
            None => (&object.root, ""),
        },
    };
    sink.report(
        node,
        field,
        format!(
            "{} lacks required labels: {}",
            object.kind(),
            missing.join(", ")
        ),
        format!("Add the labels {} to metadata.labels.", missing.join(", ")),
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run, run_with};
    use crate::CheckOptions;

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {owner: me}\nspec: {containers: [{name: a, image: x}]}\n";

    #[test]
    fn flags_missing_required_labels() {
        let options = CheckOptions {
            required_labels: vec!["owner".into(), "app.kubernetes.io/name".into()],
            ..CheckOptions::default()
        };
        let findings = run_with(&RULE, POD, &options);
        assert_eq!(positions(&findings), [(5, 11)]);
        assert!(findings[0].message.ends_with("app.kubernetes.io/name"));
    }

    #[test]
    fn silent_without_configuration() {
        assert!(run(&RULE, POD).is_empty());
    }
}
