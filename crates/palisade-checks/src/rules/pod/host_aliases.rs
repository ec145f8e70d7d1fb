//! ## What it finds
//!
//! A pod that sets `spec.hostAliases`, adding entries to its `/etc/hosts`.
//!
//! ## Why it matters
//!
//! `hostAliases` pins names to fixed IP addresses inside the pod, bypassing
//! cluster DNS. The entries silently go stale when the target moves, and
//! they can redirect a trusted name (a package mirror, an internal API) to
//! another address, which is how a malicious change to a manifest can
//! intercept traffic without touching DNS. It is a low-risk setting, but it
//! deserves a review.
//!
//! ## How to fix it
//!
//! Publish the name in DNS instead: a Service (of type `ExternalName`, or a
//! selector-less Service with an EndpointSlice for fixed IPs), or a record in
//! your DNS zone.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: v1
//! kind: Service
//! metadata: {name: legacy-db}
//! spec:
//!   type: ExternalName
//!   externalName: db.internal.example.com
//! ```

use palisade_model::{pod_template, Node, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/host-aliases",
        title: "Pods should resolve names through DNS, not hostAliases",
        severity: Severity::Low,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/network/customize-hosts-file-for-pods/",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    let Some(aliases) = pod
        .spec
        .get("hostAliases")
        .filter(|n| !n.items().is_empty())
    else {
        return;
    };
    let names: Vec<&str> = aliases
        .items()
        .iter()
        .flat_map(|a| a.get("hostnames").map(Node::items).unwrap_or(&[]))
        .filter_map(Node::as_str)
        .collect();
    sink.report(
        aliases,
        pod.field_path("hostAliases"),
        format!(
            "the pod overrides /etc/hosts for {}",
            if names.is_empty() {
                "no hostname".to_string()
            } else {
                names.join(", ")
            }
        ),
        "Publish the names in DNS (an ExternalName or selector-less Service) instead of hostAliases.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_host_aliases() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostAliases:\n  - ip: 10.0.0.1\n    hostnames: [db.local, cache.local]\n  containers: [{name: a, image: x}]\n",
        );
        assert_eq!(positions(&findings), [(6, 5)]);
        assert!(findings[0].message.contains("db.local, cache.local"));
    }

    #[test]
    fn passes_without_or_empty() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostAliases: []\n  containers: [{name: a, image: x}]\n",
        );
        assert!(findings.is_empty());
    }
}
