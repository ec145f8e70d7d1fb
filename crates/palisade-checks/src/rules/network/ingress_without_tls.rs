//! ## What it finds
//!
//! An Ingress with routing rules and no `spec.tls`, or a rule whose `host` no
//! `spec.tls[].hosts` entry covers (wildcards such as `*.example.com` count).
//!
//! Ingresses whose TLS is terminated by the cloud load balancer are not
//! reported: those with the annotations `alb.ingress.kubernetes.io/certificate-arn`,
//! `networking.gke.io/managed-certificates`, `ingress.gcp.kubernetes.io/pre-shared-cert`,
//! `service.beta.kubernetes.io/aws-load-balancer-ssl-cert` or
//! `appgw.ingress.kubernetes.io/appgw-ssl-certificate`, and those that turn
//! plain HTTP off with `kubernetes.io/ingress.allow-http: "false"` (GKE).
//!
//! ## Why it matters
//!
//! Without TLS, credentials, cookies and data cross the network in clear text
//! and can be read or changed by anyone on the path.
//!
//! ## How to fix it
//!
//! Add a `tls` section naming the hosts and a Secret with their certificate
//! (cert-manager can issue and renew it).
//!
//! ## Example
//!
//! ```yaml
//! kind: Ingress
//! metadata:
//!   annotations: {cert-manager.io/cluster-issuer: letsencrypt}
//! spec:
//!   tls:
//!   - hosts: [shop.example.com]
//!     secretName: shop-tls
//!   rules:
//!   - host: shop.example.com
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/ingress-without-tls",
        title: "Ingresses should serve their hosts over TLS",
        severity: Severity::Medium,
        category: "network",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/services-networking/ingress/#tls",
        controls: &[],
    },
    kinds: Kinds::Only(&["Ingress"]),
    optional: false,
    check,
};

const LB_TLS_ANNOTATIONS: &[&str] = &[
    "alb.ingress.kubernetes.io/certificate-arn",
    "networking.gke.io/managed-certificates",
    "ingress.gcp.kubernetes.io/pre-shared-cert",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
    "appgw.ingress.kubernetes.io/appgw-ssl-certificate",
];

fn covers(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(domain) => host
            .split_once('.')
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(domain)),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if object.annotations().any(|(k, v)| {
        (LB_TLS_ANNOTATIONS.contains(&k) && !v.is_empty())
            || (k == "kubernetes.io/ingress.allow-http" && v == "false")
    }) {
        return;
    }
    let Some(spec) = object.root.get("spec") else {
        return;
    };
    let rules = spec.get("rules").map(Node::items).unwrap_or(&[]);
    if rules.is_empty() {
        return;
    }
    let tls = spec.get("tls").map(Node::items).unwrap_or(&[]);
    if tls.is_empty() {
        sink.report(
            spec.entry("rules").map_or(spec, |(k, _)| k),
            "spec.rules",
            format!(
                "{} serves its hosts over plain HTTP: it has no spec.tls",
                object.id
            ),
            "Add spec.tls with the hosts and a certificate Secret (cert-manager can issue it).",
        );
        return;
    }
    // A tls entry without hosts applies the certificate to every host.
    if tls
        .iter()
        .any(|t| t.get("hosts").map(Node::items).unwrap_or(&[]).is_empty())
    {
        return;
    }
    let patterns: Vec<&str> = tls
        .iter()
        .flat_map(|t| t.get("hosts").map(Node::items).unwrap_or(&[]))
        .filter_map(Node::as_str)
        .collect();
    for (i, rule) in rules.iter().enumerate() {
        let Some(node) = rule.get("host") else {
            continue;
        };
        let Some(host) = node.as_str() else { continue };
        if !patterns.iter().any(|p| covers(p, host)) {
            sink.report(
                node,
                format!("spec.rules[{i}].host"),
                format!(
                    "host {host:?} of {} is not listed in spec.tls: it is served over plain HTTP",
                    object.id
                ),
                "Add the host to a spec.tls[].hosts entry with a certificate that covers it.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    fn ingress(meta: &str, spec: &str) -> String {
        format!("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: i{meta}}}\nspec:\n{spec}")
    }

    #[test]
    fn flags_missing_tls_and_uncovered_hosts() {
        let findings = run(&RULE, &ingress("", "  rules:\n  - host: a.example.com\n"));
        assert_eq!(positions(&findings), [(5, 3)]);
        let findings = run(
            &RULE,
            &ingress("", "  tls: [{hosts: ['*.example.com'], secretName: t}]\n  rules:\n  - host: a.example.com\n  - host: example.com\n  - host: b.a.example.com\n"),
        );
        assert_eq!(positions(&findings), [(8, 11), (9, 11)]);
    }

    #[test]
    fn passes_tls_and_load_balancer_certificates() {
        assert!(run(&RULE, &ingress("", "  tls: [{hosts: [a.example.com], secretName: t}]\n  rules:\n  - host: a.example.com\n")).is_empty());
        assert!(run(
            &RULE,
            &ingress(
                "",
                "  tls: [{secretName: t}]\n  rules:\n  - host: a.example.com\n"
            )
        )
        .is_empty());
        assert!(run(
            &RULE,
            &ingress(
                ", annotations: {alb.ingress.kubernetes.io/certificate-arn: 'arn:aws:acm:x'}",
                "  rules:\n  - host: a.example.com\n"
            )
        )
        .is_empty());
        assert!(run(
            &RULE,
            &ingress(
                ", annotations: {kubernetes.io/ingress.allow-http: 'false'}",
                "  rules:\n  - host: a.example.com\n"
            )
        )
        .is_empty());
    }
}
