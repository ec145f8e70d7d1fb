//! ## What it finds
//!
//! A pod `dnsConfig` that makes name resolution fail or slow:
//!
//! - `dnsPolicy: None` without `dnsConfig.nameservers` (the pod has no DNS
//!   server at all; the API server rejects it);
//! - an `ndots` option that is not a number from 0 to 15, or is above 5 (the
//!   cluster default): every external name is then tried against each search
//!   domain first;
//! - an option without a name.
//!
//! Optional: enable it where DNS settings are reviewed.
//!
//! ## Why it matters
//!
//! With a high `ndots`, a lookup of `api.example.com` costs several queries
//! to the cluster DNS before the real one, which loads CoreDNS and adds
//! latency to every outgoing connection; a pod without nameservers cannot
//! resolve anything.
//!
//! ## How to fix it
//!
//! Keep `ndots` at 5 or lower (2 is common for pods that mostly call external
//! names), and give `dnsPolicy: None` pods their nameservers.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   dnsConfig:
//!     options:
//!     - {name: ndots, value: "2"}
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/dns-config",
        title: "Pod DNS configuration should resolve names efficiently",
        severity: Severity::Info,
        category: "network",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = palisade_model::pod_template(object) else {
        return;
    };
    let config = pod.spec.get_set("dnsConfig");
    if let Some(policy) = pod.spec.get("dnsPolicy") {
        let nameservers = config
            .and_then(|c| c.get("nameservers"))
            .map_or(0, |n| n.items().len());
        if policy.as_str() == Some("None") && nameservers == 0 {
            sink.report(
                policy,
                pod.field_path("dnsPolicy"),
                format!(
                    "{} sets dnsPolicy: None without dnsConfig.nameservers",
                    object.id
                ),
                "List the DNS servers in dnsConfig.nameservers, or use dnsPolicy: ClusterFirst.",
            );
        }
    }
    let options = config
        .and_then(|c| c.get("options"))
        .map(Node::items)
        .unwrap_or(&[]);
    for (i, option) in options.iter().enumerate() {
        let field = pod.field_path(&format!("dnsConfig.options[{i}]"));
        match option.get("name").and_then(Node::as_str) {
            None | Some("") => sink.report(
                option,
                field,
                format!("dnsConfig option {i} of {} has no name", object.id),
                "Give every dnsConfig option a name.",
            ),
            Some("ndots") => {
                let Some(value) = option.get("value") else {
                    continue;
                };
                let ndots = value.as_str().and_then(|v| v.parse::<i64>().ok());
                let problem = match ndots {
                    Some(n) if (0..=5).contains(&n) => continue,
                    Some(n) if (6..=15).contains(&n) => {
                        format!("sets ndots to {n}, above the cluster default of 5: external names are tried against every search domain first")
                    }
                    _ => format!(
                        "sets ndots to {:?}, which is not a number from 0 to 15",
                        value.display_value()
                    ),
                };
                sink.report(
                    value,
                    format!("{field}.value"),
                    format!("{} {problem}", object.id),
                    "Use an ndots value of 5 or lower (2 for pods that mostly call external names).",
                );
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_high_ndots_and_missing_nameservers() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  dnsPolicy: None\n  dnsConfig:\n    options:\n    - {name: ndots, value: '8'}\n    - {name: ndots, value: lots}\n    - {name: timeout, value: '2'}\n  containers: [{name: a, image: x}]\n",
        );
        assert_eq!(positions(&findings), [(5, 14), (8, 28), (9, 28)]);
    }

    #[test]
    fn passes_sane_config() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  dnsPolicy: None\n  dnsConfig:\n    nameservers: [1.1.1.1]\n    options: [{name: ndots, value: '2'}, {name: edns0}]\n  containers: [{name: a, image: x}]\n",
        );
        assert!(findings.is_empty());
    }
}
