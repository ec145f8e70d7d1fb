//! ## What it finds
//!
//! A ConstraintTemplate whose Rego assigns a variable straight from a field
//! of the reviewed object (`provided := input.review.object.metadata.labels`)
//! and later tests it with `not provided[...]`.
//!
//! ## Why it matters
//!
//! When the object has no such field, the assignment is undefined, so the
//! whole rule body is undefined and the template reports **no** violation:
//! it fails open exactly for the objects that lack what it requires. A
//! Deployment without any `metadata.labels` passes a required-labels policy.
//! Gatekeeper behaves this way, and so does Palisade's Gatekeeper engine.
//!
//! ## How to fix it
//!
//! Build the value so that it is always defined: a comprehension, or
//! `object.get` with a default.
//!
//! ## Example
//!
//! ```rego
//! violation[{"msg": msg}] {
//!   provided := {label | input.review.object.metadata.labels[label]}
//!   required := {label | label := input.parameters.labels[_]}
//!   missing := required - provided
//!   count(missing) > 0
//!   msg := sprintf("missing labels: %v", [missing])
//! }
//! ```

use palisade_model::{Node, Object, Pos, RuleMeta, Severity, Span};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "policy/rego-fails-open",
        title: "Rego must not leave a rule undefined when the reviewed field is missing",
        severity: Severity::Medium,
        category: "policy",
        docs: rule_docs!(),
        help_uri: "https://open-policy-agent.github.io/gatekeeper/website/docs/howto",
        controls: &[],
    },
    kinds: Kinds::Only(&["ConstraintTemplate"]),
    optional: false,
    check,
};

/// The Rego sources of a template: `targets[].rego`, `targets[].libs[]` and
/// `targets[].code[].source.rego`, with their nodes (for positions).
fn rego_sources(object: &Object) -> Vec<&Node> {
    let mut out = Vec::new();
    for target in object
        .root
        .path(&["spec", "targets"])
        .map(Node::items)
        .unwrap_or(&[])
    {
        out.extend(target.get("rego"));
        for code in target.get("code").map(Node::items).unwrap_or(&[]) {
            out.extend(code.path(&["source", "rego"]));
        }
    }
    out
}

/// `(variable, reference)` when `line` is `name := input.review.object.<path>`.
fn direct_assignment(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(":=")?;
    let name = name.trim();
    let value = value.trim();
    let plain_name =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let plain_ref = value.starts_with("input.review.object.")
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    (plain_name && plain_ref).then_some((name, value))
}

/// The span of line `index` (0-based) of a block scalar's content (the
/// scalar's span starts at its first content line).
fn line_span(source: &Node, index: usize, line: &str) -> Span {
    let first = source.span.start.line;
    let number = first.saturating_add(u32::try_from(index).unwrap_or(u32::MAX));
    let indent = line.chars().take_while(|c| c.is_whitespace()).count();
    let column = source
        .span
        .start
        .column
        .saturating_add(u32::try_from(indent).unwrap_or(0));
    Span::point(Pos::new(number, column.max(1)))
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    for source in rego_sources(object) {
        let Some(text) = source.as_str() else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some((name, reference)) = direct_assignment(line) else {
                continue;
            };
            // The same rule body: until the closing brace at the start of a line.
            let body_rest = lines[i + 1..]
                .iter()
                .take_while(|l| !l.trim_start().starts_with('}'));
            let negated = format!("not {name}[");
            if body_rest.clone().any(|l| l.contains(&negated)) {
                sink.report_at(
                    line_span(source, i, line),
                    "spec.targets[].rego",
                    format!(
                        "ConstraintTemplate {}: `{name} := {reference}` is undefined when the object has no such field, so `not {name}[...]` never runs and the template reports nothing for it (line {} of the Rego)",
                        object.id.name,
                        i + 1
                    ),
                    format!("Build {name} so it is always defined, e.g. `{name} := {{k | {reference}[k]}}`."),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::run;

    const TEMPLATE: &str = "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8srequiredlabels}\nspec:\n  crd: {spec: {names: {kind: K8sRequiredLabels}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n      package k8srequiredlabels\n      violation[{\"msg\": msg}] {\n        required := input.parameters.labels\n        PROVIDED\n        missing := required[_]\n        not provided[missing]\n        msg := sprintf(\"Missing required label: %v\", [missing])\n      }\n";

    #[test]
    fn flags_a_direct_assignment_tested_with_not() {
        let findings = run(
            &RULE,
            &TEMPLATE.replace(
                "PROVIDED",
                "provided := input.review.object.metadata.labels",
            ),
        );
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.contains("line 4 of the Rego"),
            "{}",
            findings[0].message
        );
        // The `provided := ...` line of the manifest.
        let start = findings[0].location.span.start;
        assert_eq!((start.line, start.column), (12, 9));
    }

    #[test]
    fn passes_a_comprehension() {
        let findings = run(
            &RULE,
            &TEMPLATE.replace(
                "PROVIDED",
                "provided := {l | input.review.object.metadata.labels[l]}",
            ),
        );
        assert!(findings.is_empty());
    }
}
