//! ## What it finds
//!
//! A label whose key or value, or an annotation whose key, breaks the syntax
//! the API server enforces, on the object or on its pod template:
//!
//! - a key is an optional prefix and a name, `prefix/name`; the prefix is a
//!   lowercase DNS subdomain of at most 253 characters, the name is 1-63
//!   characters, alphanumeric at both ends, with `-`, `_` and `.` inside;
//! - a label value is empty or follows the same rule as a name (at most 63
//!   characters, so no slashes, spaces or colons).
//!
//! Label values that are not strings (`version: 1.0`) are reported by the
//! loader as type errors.
//!
//! ## Why it matters
//!
//! The API server rejects the object (`metadata.labels: Invalid value`), and
//! for a workload's pod template the whole Deployment is refused. A common
//! slip is a version or URL copied into a label value.
//!
//! ## How to fix it
//!
//! Shorten or simplify the value; put free text in an annotation (annotation
//! values have no such limits).
//!
//! ## Example
//!
//! ```yaml
//! metadata:
//!   labels:
//!     app.kubernetes.io/version: "1.4.2"      # not "v1.4.2+build/42"
//!   annotations:
//!     example.com/source: https://git.example.com/shop/web
//! ```

use palisade_model::{pod_template, Node, Object, RuleMeta, Severity};

use super::util::{key_problem, value_problem, COMMON_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "meta/invalid-label",
        title: "Label keys and values must be valid",
        severity: Severity::High,
        category: "meta",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set",
        controls: &[],
    },
    kinds: Kinds::Only(COMMON_KINDS),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    check_metadata(sink, object.metadata(), "metadata");
    if let Some(pod) = pod_template(object).filter(|p| p.is_template) {
        let holder = pod.spec_path.strip_suffix(".spec").unwrap_or(pod.spec_path);
        check_metadata(sink, pod.metadata, &format!("{holder}.metadata"));
    }
}

fn check_metadata(sink: &mut Sink<'_>, metadata: Option<&Node>, base: &str) {
    let Some(metadata) = metadata else { return };
    for (section, what) in [("labels", "label"), ("annotations", "annotation")] {
        let Some(map) = metadata.get_set(section) else {
            continue;
        };
        for (key, value) in map.entries() {
            let name = key.key_text();
            if let Some(problem) = key_problem(&name) {
                sink.report(
                    key,
                    format!("{base}.{section}"),
                    format!("{what} key {name:?} is invalid: {problem}"),
                    "Use a key of the form prefix/name, e.g. app.kubernetes.io/name.",
                );
            }
            if section == "labels" {
                if let Some(text) = value.as_str() {
                    if let Some(problem) = value_problem(text) {
                        let shown: String = text.chars().take(80).collect();
                        sink.report(
                            value,
                            format!("{base}.labels.{name}"),
                            format!("label {name:?} has an invalid value {shown:?}: {problem}"),
                            "Shorten or simplify the value, or move free text to an annotation.",
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_invalid_keys_and_values_on_object_and_template() {
        let findings = run(
            &RULE,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels:\n    version: v1.2+build/3\n    Example.com/x: a\n  annotations:\n    -bad: x\nspec:\n  template:\n    metadata:\n      labels: {app: 'my app'}\n    spec: {containers: [{name: a, image: x}]}\n",
        );
        assert_eq!(positions(&findings), [(6, 14), (7, 5), (9, 5), (13, 21)]);
        assert_eq!(
            findings[3].location.field.as_deref(),
            Some("spec.template.metadata.labels.app")
        );
    }

    #[test]
    fn passes_valid_labels() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels: {app.kubernetes.io/name: web, empty: ''}\n  annotations: {example.com/url: 'https://x/y z'}\n",
        );
        assert!(findings.is_empty());
    }
}
