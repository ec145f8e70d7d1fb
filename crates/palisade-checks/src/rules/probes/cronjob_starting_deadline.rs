//! ## What it finds
//!
//! A CronJob without `spec.startingDeadlineSeconds`. Optional: off unless
//! enabled.
//!
//! ## Why it matters
//!
//! Without a deadline, a CronJob that missed its schedule (controller down,
//! cluster upgrade, `suspend` lifted) starts a late run at any time, however
//! stale; and after more than 100 missed schedules the controller stops
//! scheduling it altogether. A deadline bounds how late a run may start.
//!
//! ## How to fix it
//!
//! Set `startingDeadlineSeconds` to how late a run is still useful (at least
//! 10 seconds: the controller checks every 10 seconds).
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: batch/v1
//! kind: CronJob
//! spec:
//!   schedule: "0 3 * * *"
//!   startingDeadlineSeconds: 600
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "probes/cronjob-starting-deadline",
        title: "CronJobs should set startingDeadlineSeconds",
        severity: Severity::Low,
        category: "probes",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#job-creation",
        controls: &[],
    },
    kinds: Kinds::Only(&["CronJob"]),
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(spec) = object.root.get_set("spec") else {
        return;
    };
    if spec.get_set("startingDeadlineSeconds").is_none() {
        sink.report(
            spec,
            "spec",
            "CronJob sets no startingDeadlineSeconds",
            "Set spec.startingDeadlineSeconds to how late a run is still useful.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_missing_deadline_only() {
        let findings = run(
            &RULE,
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '@daily'\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: d}\nspec:\n  schedule: '@daily'\n  startingDeadlineSeconds: 100\n",
        );
        assert_eq!(positions(&findings), [(5, 3)]);
    }
}
