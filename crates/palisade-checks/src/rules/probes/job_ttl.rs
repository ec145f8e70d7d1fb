//! ## What it finds
//!
//! A Job without `spec.ttlSecondsAfterFinished`.
//!
//! Not reported: Jobs a CronJob creates (its `successfulJobsHistoryLimit` and
//! `failedJobsHistoryLimit` clean them up; the check sees a CronJob's Jobs only
//! when the input comes from a cluster, with `ownerReferences`), and Helm or
//! Argo CD hook Jobs that carry a hook deletion policy
//! (`helm.sh/hook-delete-policy`, `argocd.argoproj.io/hook-delete-policy`),
//! which those tools delete themselves.
//!
//! ## Why it matters
//!
//! A finished Job and its pods stay in the cluster until someone deletes them:
//! they clutter `kubectl get pods`, keep their logs and volumes on nodes, and
//! with many runs slow down the API server and controllers.
//!
//! ## How to fix it
//!
//! Set `ttlSecondsAfterFinished` so the TTL controller deletes the Job (and its
//! pods) some time after it finishes.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: batch/v1
//! kind: Job
//! spec:
//!   ttlSecondsAfterFinished: 3600
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::owners;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "probes/job-ttl",
        title: "Jobs should set ttlSecondsAfterFinished",
        severity: Severity::Low,
        category: "probes",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/workloads/controllers/ttlafterfinished/",
        controls: &[],
    },
    kinds: Kinds::Only(&["Job"]),
    optional: false,
    check,
};

const HOOK_DELETE_POLICIES: &[&str] = &[
    "helm.sh/hook-delete-policy",
    "argocd.argoproj.io/hook-delete-policy",
];

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if owners(object).any(|kind| kind == "CronJob")
        || object
            .annotations()
            .any(|(k, _)| HOOK_DELETE_POLICIES.contains(&k))
    {
        return;
    }
    let Some(spec) = object.root.get_set("spec") else {
        return;
    };
    if spec.get_set("ttlSecondsAfterFinished").is_none() {
        sink.report(
            spec,
            "spec",
            "Job sets no ttlSecondsAfterFinished; it and its pods stay after it finishes",
            "Set spec.ttlSecondsAfterFinished so the Job is deleted after it finishes.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_job_without_ttl() {
        let findings = run(
            &RULE,
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template: {spec: {restartPolicy: Never, containers: [{name: a, image: x}]}}\n",
        );
        assert_eq!(positions(&findings), [(5, 3)]);
    }

    #[test]
    fn skips_ttl_hooks_and_cronjob_children() {
        let yaml = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: a}\nspec: {ttlSecondsAfterFinished: 100}\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: b\n  annotations: {helm.sh/hook: pre-install, helm.sh/hook-delete-policy: hook-succeeded}\nspec: {}\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: c\n  ownerReferences: [{kind: CronJob, name: x, apiVersion: batch/v1, uid: u}]\nspec: {}\n";
        assert!(run(&RULE, yaml).is_empty());
    }
}
