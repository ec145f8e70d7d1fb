//! ## What it finds
//!
//! A Job or CronJob whose pod template's `restartPolicy` is `Always`, or is not
//! set (the pod default is `Always`).
//!
//! ## Why it matters
//!
//! A Job's pods must be allowed to finish: the API server accepts only
//! `OnFailure` or `Never` in a Job template and rejects the object otherwise
//! (`spec.template.spec.restartPolicy: Unsupported value: "Always"`). For a
//! CronJob the error appears only when the first Job is created, so a broken
//! schedule can go unnoticed.
//!
//! ## How to fix it
//!
//! Set `restartPolicy: OnFailure` (retry in the same pod) or `Never` (a new
//! pod per retry, keeping failed pods for inspection).
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: batch/v1
//! kind: Job
//! spec:
//!   template:
//!     spec:
//!       restartPolicy: Never
//!       containers:
//!       - {name: migrate, image: registry.example.com/migrate:1.2}
//! ```

use palisade_model::{pod_template, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "probes/job-restart-policy",
        title: "Job pod templates must use restartPolicy OnFailure or Never",
        severity: Severity::High,
        category: "probes",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-template",
        controls: &[],
    },
    kinds: Kinds::Only(&["Job", "CronJob"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    let remediation = "Set restartPolicy: OnFailure or Never in the pod template.";
    match pod.spec.get_set("restartPolicy") {
        Some(node) => {
            if let Some(policy) = node.as_str() {
                if policy != "OnFailure" && policy != "Never" {
                    sink.report(
                        node,
                        pod.field_path("restartPolicy"),
                        format!("{} pod template has restartPolicy {policy}; the API server accepts only OnFailure or Never", object.kind()),
                        remediation,
                    );
                }
            }
        }
        None => sink.report(
            pod.spec,
            pod.field_path(""),
            format!(
                "{} pod template sets no restartPolicy, so it defaults to Always, which the API server rejects for Jobs",
                object.kind()
            ),
            remediation,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_missing_and_always() {
        let findings = run(
            &RULE,
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: x}]\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Always\n          containers: [{name: a, image: x}]\n",
        );
        assert_eq!(positions(&findings), [(7, 7), (18, 26)]);
        assert_eq!(
            findings[1].location.field.as_deref(),
            Some("spec.jobTemplate.spec.template.spec.restartPolicy")
        );
    }

    #[test]
    fn passes_on_failure_and_never() {
        let findings = run(
            &RULE,
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      restartPolicy: OnFailure\n      containers: [{name: a, image: x}]\n",
        );
        assert!(findings.is_empty());
    }
}
