//! ## What it finds
//!
//! A Deployment with `strategy.type: Recreate`. Optional: off unless enabled.
//!
//! ## Why it matters
//!
//! `Recreate` stops every old pod before starting new ones: each rollout is an
//! outage. It is the right choice for applications that cannot run two
//! versions at once (a single writer to a ReadWriteOnce volume), hence
//! optional.
//!
//! ## How to fix it
//!
//! Use the default `RollingUpdate` strategy where the application allows it.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   strategy:
//!     type: RollingUpdate
//!     rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/recreate-strategy",
        title: "Deployments should roll out without downtime",
        severity: Severity::Low,
        category: "reliability",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#strategy",
        controls: &[],
    },
    kinds: Kinds::Only(&["Deployment"]),
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(node) = object.root.path(&["spec", "strategy", "type"]) else {
        return;
    };
    if node.as_str() == Some("Recreate") {
        sink.report(
            node,
            "spec.strategy.type",
            "Recreate strategy stops all pods before starting new ones; every rollout is an outage",
            "Use the RollingUpdate strategy where the application allows two versions at once.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_recreate_only() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  strategy: {type: Recreate}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec:\n  strategy: {type: RollingUpdate}\n";
        assert_eq!(positions(&run(&RULE, yaml)), [(5, 20)]);
    }
}
