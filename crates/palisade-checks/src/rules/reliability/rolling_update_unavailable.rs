//! ## What it finds
//!
//! A rolling update that may take every pod down at once:
//! `rollingUpdate.maxUnavailable: 100%` on a Deployment, DaemonSet or
//! StatefulSet, or, on a Deployment with more than one replica, an integer
//! `maxUnavailable` at least equal to `replicas`.
//!
//! ## Why it matters
//!
//! A rolling update is meant to keep the service up while pods are replaced.
//! With all pods allowed to be unavailable, the rollout behaves like
//! `Recreate`: every pod may be stopped before the new ones are ready.
//!
//! ## How to fix it
//!
//! Lower `maxUnavailable` (the default is 25%) and use `maxSurge` to roll out
//! faster.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   strategy:
//!     type: RollingUpdate
//!     rollingUpdate: {maxUnavailable: 25%, maxSurge: 25%}
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::replicas;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/rolling-update-unavailable",
        title: "Rolling updates should keep some pods available",
        severity: Severity::Medium,
        category: "reliability",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#max-unavailable",
        controls: &[],
    },
    kinds: Kinds::Only(&["Deployment", "DaemonSet", "StatefulSet"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let strategy = if object.kind() == "Deployment" {
        "strategy"
    } else {
        "updateStrategy"
    };
    let Some(node) = object
        .root
        .path(&["spec", strategy, "rollingUpdate", "maxUnavailable"])
    else {
        return;
    };
    let all = match (node.as_str(), node.as_i64()) {
        (Some(text), _) => text
            .strip_suffix('%')
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|p| p >= 100),
        (None, Some(n)) => {
            object.kind() == "Deployment" && replicas(object).is_some_and(|(_, r)| r > 1 && n >= r)
        }
        _ => false,
    };
    if all {
        sink.report(
            node,
            format!("spec.{strategy}.rollingUpdate.maxUnavailable"),
            format!(
                "maxUnavailable {} lets a rollout take every pod down at once",
                node.display_value()
            ),
            "Lower maxUnavailable (default 25%) and use maxSurge to roll out faster.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_all_unavailable() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  replicas: 3\n  strategy: {rollingUpdate: {maxUnavailable: 3}}\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: b}\nspec:\n  updateStrategy: {rollingUpdate: {maxUnavailable: 100%}}\n";
        assert_eq!(positions(&run(&RULE, yaml)), [(6, 46), (12, 52)]);
    }

    #[test]
    fn passes_partial_unavailability() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  replicas: 1\n  strategy: {rollingUpdate: {maxUnavailable: 1}}\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: b}\nspec:\n  updateStrategy: {rollingUpdate: {maxUnavailable: 50%}}\n";
        assert!(run(&RULE, yaml).is_empty());
    }
}
