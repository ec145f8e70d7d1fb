//! ## What it finds
//!
//! A Prometheus Operator `ServiceMonitor` (`monitoring.coreos.com`) whose
//! `selector` matches no Service of the namespaces it looks in: its own
//! namespace by default, or those of `namespaceSelector.matchNames`.
//!
//! The check runs only when the input has Services in every namespace the
//! monitor looks in; monitors with `namespaceSelector.any: true` are not
//! judged, as the Service may live in any namespace.
//!
//! ## Why it matters
//!
//! A monitor that selects nothing scrapes nothing, silently: alerts based on
//! those metrics never fire, which is the kind of gap found during an
//! incident.
//!
//! ## How to fix it
//!
//! Make `spec.selector` match the labels of the Service (not of the pods), and
//! `namespaceSelector` name its namespace.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: monitoring.coreos.com/v1
//! kind: ServiceMonitor
//! metadata: {name: web, namespace: shop}
//! spec:
//!   selector:
//!     matchLabels: {app: web}   # the Service's metadata.labels has app: web
//!   endpoints: [{port: metrics}]
//! ```

use palisade_model::selector::LabelSelector;
use palisade_model::{Node, Object, RuleMeta, Severity};

use super::util::has_in_namespace;
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/service-monitor-selects-no-service",
        title: "ServiceMonitors should select at least one Service",
        severity: Severity::Low,
        category: "network",
        docs: rule_docs!(),
        help_uri: "https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.ServiceMonitorSpec",
        controls: &[],
    },
    kinds: Kinds::Only(&["ServiceMonitor"]),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if object.id.group() != "monitoring.coreos.com" {
        return;
    }
    let Some(spec) = object.root.get("spec") else {
        return;
    };
    let namespace_selector = spec.get_set("namespaceSelector");
    if namespace_selector
        .and_then(|n| n.get("any"))
        .and_then(Node::as_bool)
        == Some(true)
    {
        return;
    }
    let names: Vec<&str> = namespace_selector
        .and_then(|n| n.get("matchNames"))
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .collect();
    let namespaces = if names.is_empty() {
        vec![namespace_of(object)]
    } else {
        names
    };
    if !namespaces
        .iter()
        .all(|ns| has_in_namespace(cx, ns, "Service"))
    {
        return;
    }
    let (node, field) = match spec.get("selector") {
        Some(n) => (n, "spec.selector"),
        None => (spec, "spec"),
    };
    let Some(selector) = spec
        .get_set("selector")
        .map_or(Some(LabelSelector::default()), |n| {
            LabelSelector::from_node(n).ok()
        })
    else {
        return;
    };
    let found = namespaces.iter().any(|ns| {
        cx.index
            .labelled_matching(ns, "Service", &selector)
            .next()
            .is_some()
    });
    if !found {
        sink.report(
            node,
            field,
            format!(
                "{} selects no Service in namespace {}",
                object.id,
                namespaces.join(", ")
            ),
            "Make spec.selector match the Service's own labels, and namespaceSelector its namespace.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const SERVICE: &str = "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop, labels: {app: web}}\nspec: {ports: [{name: metrics, port: 9090}]}\n";

    fn monitor(spec: &str) -> String {
        format!("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {{name: m, namespace: shop}}\nspec:\n{spec}")
    }

    #[test]
    fn flags_unmatched_selector() {
        let findings = run(
            &RULE,
            &format!(
                "{}{SERVICE}",
                monitor("  selector: {matchLabels: {app: api}}\n")
            ),
        );
        assert_eq!(positions(&findings), [(5, 13)]);
    }

    #[test]
    fn passes_matching_any_or_unknown_namespaces() {
        for spec in [
            "  selector: {matchLabels: {app: web}}\n",
            "  selector: {matchLabels: {app: api}}\n  namespaceSelector: {any: true}\n",
            "  selector: {matchLabels: {app: api}}\n  namespaceSelector: {matchNames: [shop, elsewhere]}\n",
        ] {
            assert!(run(&RULE, &format!("{}{SERVICE}", monitor(spec))).is_empty(), "{spec}");
        }
        assert!(run(&RULE, &monitor("  selector: {matchLabels: {app: api}}\n")).is_empty());
    }
}
