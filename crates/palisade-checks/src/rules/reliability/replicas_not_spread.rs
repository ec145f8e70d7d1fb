//! ## What it finds
//!
//! A Deployment or StatefulSet with more than one replica whose pod template
//! has neither a pod anti-affinity (`affinity.podAntiAffinity`) nor
//! `topologySpreadConstraints`. Optional: off unless enabled. Either setting
//! satisfies the check.
//!
//! ## Why it matters
//!
//! The scheduler spreads replicas only on a best-effort basis. Without a
//! constraint, several (or all) replicas can land on one node or in one zone,
//! and the failure of that node or zone takes the whole service down.
//!
//! ## How to fix it
//!
//! Add `topologySpreadConstraints` over `kubernetes.io/hostname` (and
//! `topology.kubernetes.io/zone`), or a preferred pod anti-affinity on the
//! workload's own labels.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   topologySpreadConstraints:
//!   - maxSkew: 1
//!     topologyKey: kubernetes.io/hostname
//!     whenUnsatisfiable: ScheduleAnyway
//!     labelSelector:
//!       matchLabels: {app: web}
//! ```

use palisade_model::{pod_template, Object, RuleMeta, Severity};

use super::util::{hpa_for, hpa_min, replicas};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "reliability/replicas-not-spread",
        title: "Replicas should be spread across nodes",
        severity: Severity::Low,
        category: "reliability",
        docs: rule_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/",
        controls: &[],
    },
    kinds: Kinds::Only(&["Deployment", "StatefulSet"]),
    optional: true,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let count = match hpa_for(cx, object) {
        Some(hpa) => hpa_min(hpa),
        None => replicas(object).map_or(0, |(_, n)| n),
    };
    let Some(pod) = pod_template(object) else {
        return;
    };
    if count <= 1
        || pod
            .spec
            .path(&["affinity", "podAntiAffinity"])
            .is_some_and(|n| !n.is_null())
        || pod
            .spec
            .get_set("topologySpreadConstraints")
            .is_some_and(|n| !n.items().is_empty())
    {
        return;
    }
    sink.report(
        pod.spec,
        pod.field_path(""),
        format!("{count} replicas with no podAntiAffinity or topologySpreadConstraints may share a node"),
        "Add topologySpreadConstraints over kubernetes.io/hostname, or a pod anti-affinity.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::run;

    #[test]
    fn flags_unspread_replicas_only() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  replicas: 3\n  template: {spec: {containers: [{name: a, image: x}]}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec:\n  replicas: 3\n  template: {spec: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}], containers: [{name: a, image: x}]}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c}\nspec:\n  replicas: 1\n  template: {spec: {containers: [{name: a, image: x}]}}\n";
        let names: Vec<String> = run(&RULE, yaml)
            .iter()
            .map(|f| f.object.name.clone())
            .collect();
        assert_eq!(names, ["a"]);
    }
}
