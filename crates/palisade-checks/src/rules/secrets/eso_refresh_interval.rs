//! ## What it finds
//!
//! An External Secrets Operator `ExternalSecret` (or the `externalSecretSpec`
//! of a `ClusterExternalSecret`) whose `refreshInterval` is:
//!
//! - `0` (or `0s`): the secret is fetched once and never refreshed;
//! - longer than 24 hours: a rotated or revoked credential reaches the pods a
//!   day late or more;
//! - not a valid duration.
//!
//! A missing `refreshInterval` is fine: the operator's default is one hour.
//! With `refreshPolicy: CreatedOnce` or `OnChange` (ESO v1) the interval does
//! not apply and the object is not judged: never refreshing was asked for
//! explicitly.
//!
//! ## Why it matters
//!
//! Rotation is only as fast as the slowest refresh: after a leak, the old
//! credential is revoked at the provider, and pods keep failing (or keep
//! using the old value from an un-refreshed Secret) until the next refresh.
//!
//! ## How to fix it
//!
//! Use an interval of at most a few hours (`1h` is the default), or declare
//! the intent with `refreshPolicy`.
//!
//! ## Example
//!
//! ```yaml
//! apiVersion: external-secrets.io/v1
//! kind: ExternalSecret
//! spec:
//!   refreshInterval: 1h
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use super::eso::{go_duration_seconds, is_eso};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/eso-refresh-interval",
        title: "ExternalSecrets should refresh at least daily",
        severity: Severity::Low,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://external-secrets.io/latest/api/externalsecret/",
        controls: &[],
    },
    kinds: Kinds::Only(&["ExternalSecret", "ClusterExternalSecret"]),
    optional: false,
    check,
};

const DAY: f64 = 86_400.0;

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if !is_eso(object) {
        return;
    }
    let (spec, base) = if object.kind() == "ClusterExternalSecret" {
        (
            object.root.path(&["spec", "externalSecretSpec"]),
            "spec.externalSecretSpec",
        )
    } else {
        (object.root.get("spec"), "spec")
    };
    let Some(spec) = spec else { return };
    if matches!(
        spec.get("refreshPolicy").and_then(Node::as_str),
        Some("CreatedOnce" | "OnChange")
    ) {
        return;
    }
    let Some(node) = spec.get_set("refreshInterval") else {
        return;
    };
    let text = match node.as_i64() {
        Some(n) => n.to_string(),
        None => node.as_str().unwrap_or("").to_string(),
    };
    let problem = match go_duration_seconds(&text) {
        Some(s) if s < 0.0 => format!("{text}, a negative duration"),
        Some(s) if s > DAY => format!("{text}, longer than 24h: rotated credentials arrive late"),
        Some(s) if s > 0.0 => return,
        Some(_) => "0, which disables refreshing: the secret is fetched once".to_string(),
        None => format!("{text:?}, which is not a duration such as 1h or 15m"),
    };
    sink.report(
        node,
        format!("{base}.refreshInterval"),
        format!("{} has refreshInterval {problem}", object.id),
        "Use a refreshInterval of at most 24h (the default is 1h), or set refreshPolicy explicitly.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    fn es(spec: &str) -> String {
        format!("apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {{name: e, namespace: shop}}\nspec:\n{spec}  secretStoreRef: {{name: s}}\n")
    }

    #[test]
    fn flags_disabled_long_and_invalid_intervals() {
        for (spec, needle) in [
            ("  refreshInterval: 0\n", "disables"),
            ("  refreshInterval: '0s'\n", "disables"),
            ("  refreshInterval: 168h\n", "longer than 24h"),
            ("  refreshInterval: 1d\n", "not a duration"),
        ] {
            let findings = run(&RULE, &es(spec));
            assert_eq!(positions(&findings), [(5, 20)], "{spec}");
            assert!(findings[0].message.contains(needle), "{spec}");
        }
    }

    #[test]
    fn passes_default_reasonable_or_explicit_policy() {
        for spec in [
            "",
            "  refreshInterval: 1h\n",
            "  refreshInterval: 24h\n",
            "  refreshPolicy: CreatedOnce\n  refreshInterval: 0\n",
        ] {
            assert!(run(&RULE, &es(spec)).is_empty(), "{spec}");
        }
    }
}
