//! ## What it finds
//!
//! A StatefulSet `volumeClaimTemplates` entry without `spec.accessModes` or
//! without a storage request (`spec.resources.requests.storage`).
//!
//! ## Why it matters
//!
//! Every PersistentVolumeClaim needs at least one access mode and a storage
//! request; the API server rejects claims without them. The StatefulSet itself
//! may be accepted, but its controller cannot create the claims, so no pod of
//! the set ever starts.
//!
//! ## How to fix it
//!
//! Give each claim template an access mode (`ReadWriteOnce`, or
//! `ReadWriteOncePod`, for per-replica volumes) and a storage request.
//!
//! ## Example
//!
//! ```yaml
//! volumeClaimTemplates:
//! - metadata: {name: data}
//!   spec:
//!     accessModes: [ReadWriteOnce]
//!     resources:
//!       requests:
//!         storage: 10Gi
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "resources/volume-claim-template",
        title: "StatefulSet volume claim templates need access modes and a storage request",
        severity: Severity::High,
        category: "resources",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#volume-claim-templates",
        controls: &[],
    },
    kinds: Kinds::Only(&["StatefulSet"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let templates = object
        .root
        .path(&["spec", "volumeClaimTemplates"])
        .map(Node::items)
        .unwrap_or(&[]);
    for (i, template) in templates.iter().enumerate() {
        let name = template
            .path(&["metadata", "name"])
            .and_then(Node::as_str)
            .unwrap_or("");
        let base = format!("spec.volumeClaimTemplates[{i}]");
        let spec = template.get_set("spec");
        let (anchor, anchor_field) = match spec {
            Some(s) => (s, format!("{base}.spec")),
            None => (template, base.clone()),
        };
        if spec
            .and_then(|s| s.get_set("accessModes"))
            .is_none_or(|m| m.items().is_empty())
        {
            sink.report(
                anchor,
                anchor_field.clone(),
                format!("volume claim template {name:?} has no accessModes; its claims cannot be created"),
                "Set spec.accessModes, e.g. [ReadWriteOnce].",
            );
        }
        if spec
            .and_then(|s| s.path(&["resources", "requests", "storage"]))
            .is_none_or(Node::is_null)
        {
            sink.report(
                anchor,
                anchor_field,
                format!("volume claim template {name:?} requests no storage; its claims cannot be created"),
                "Set spec.resources.requests.storage, e.g. 10Gi.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_incomplete_templates() {
        let findings = run(
            &RULE,
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec:\n      resources: {requests: {storage: 1Gi}}\n  - metadata: {name: logs}\n    spec:\n      accessModes: [ReadWriteOnce]\n",
        );
        assert_eq!(positions(&findings), [(8, 7), (11, 7)]);
        assert!(findings[0].message.contains("\"data\" has no accessModes"));
        assert!(findings[1].message.contains("\"logs\" requests no storage"));
    }

    #[test]
    fn passes_complete_template() {
        let findings = run(
            &RULE,
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources: {requests: {storage: 1Gi}}\n",
        );
        assert!(findings.is_empty());
    }
}
