//! ## What it finds
//!
//! An Ingress carrying an NGINX configuration snippet annotation:
//! `nginx.ingress.kubernetes.io/configuration-snippet`, `server-snippet`,
//! `auth-snippet`, `stream-snippet`, `modsecurity-snippet` (ingress-nginx),
//! or `nginx.org/server-snippets` / `location-snippets` (NGINX Inc.'s
//! controller), or an ingress-nginx annotation known to be injectable
//! (`auth-url`, `auth-tls-match-cn`, `mirror-target`, `mirror-host`) whose
//! value contains configuration syntax (`;`, `{`, `}`, quotes, a newline).
//!
//! ## Why it matters
//!
//! Snippets are pasted verbatim into the controller's `nginx.conf`. The
//! controller runs with a service account that can read every Secret of the
//! cluster, so anyone who may create an Ingress can make NGINX serve the
//! controller's token or any file it can read (CVE-2021-25742), and the same
//! family of injection through annotations led to unauthenticated remote code
//! execution in the controller (CVE-2025-1974, "IngressNightmare", with
//! CVE-2025-24514, CVE-2025-1097 and CVE-2025-1098). Recent ingress-nginx
//! releases disable snippet annotations by default.
//!
//! ## How to fix it
//!
//! Remove the snippet and use the dedicated annotations (headers, rewrites,
//! rate limits) or a controller-wide configuration reviewed by the platform
//! team; keep `allow-snippet-annotations: "false"` in the controller's
//! ConfigMap.
//!
//! ## Example
//!
//! ```yaml
//! kind: Ingress
//! metadata:
//!   annotations:
//!     # not: nginx.ingress.kubernetes.io/configuration-snippet: |
//!     #        more_set_headers "X-Frame-Options: DENY";
//!     nginx.ingress.kubernetes.io/x-forwarded-prefix: /shop
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "network/ingress-nginx-snippet",
        title: "Ingresses should not inject NGINX configuration snippets",
        severity: Severity::High,
        category: "network",
        docs: rule_docs!(),
        help_uri: "https://github.com/kubernetes/ingress-nginx/issues/7837",
        controls: &[Control::mitre("T1190"), Control::mitre("T1552")],
    },
    kinds: Kinds::Only(&["Ingress"]),
    optional: false,
    check,
};

const SNIPPETS: &[&str] = &[
    "nginx.ingress.kubernetes.io/configuration-snippet",
    "nginx.ingress.kubernetes.io/server-snippet",
    "nginx.ingress.kubernetes.io/auth-snippet",
    "nginx.ingress.kubernetes.io/stream-snippet",
    "nginx.ingress.kubernetes.io/modsecurity-snippet",
    "nginx.org/server-snippets",
    "nginx.org/location-snippets",
];

const INJECTABLE: &[&str] = &[
    "nginx.ingress.kubernetes.io/auth-url",
    "nginx.ingress.kubernetes.io/auth-tls-match-cn",
    "nginx.ingress.kubernetes.io/mirror-target",
    "nginx.ingress.kubernetes.io/mirror-host",
];

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(annotations) = object.root.path(&["metadata", "annotations"]) else {
        return;
    };
    for (key, value) in annotations.entries() {
        let Some(k) = key.as_str() else { continue };
        let text = value.as_str().unwrap_or("");
        let message = if SNIPPETS.contains(&k) {
            if text.trim().is_empty() {
                continue;
            }
            format!(
                "{} injects raw NGINX configuration with the annotation {k}",
                object.id
            )
        } else if INJECTABLE.contains(&k) && text.contains([';', '{', '}', '"', '\'', '\n', '\r']) {
            format!(
                "the annotation {k} of {} contains NGINX configuration syntax (injection, CVE-2025-1974 family)",
                object.id
            )
        } else {
            continue;
        };
        sink.report(
            key,
            format!("metadata.annotations.{k}"),
            message,
            "Remove the snippet; use dedicated annotations or reviewed controller-wide configuration, and keep allow-snippet-annotations off.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_snippets_and_injected_values() {
        let findings = run(
            &RULE,
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  annotations:\n    nginx.ingress.kubernetes.io/rewrite-target: /\n    nginx.ingress.kubernetes.io/configuration-snippet: |\n      more_set_headers \"X: y\";\n    nginx.ingress.kubernetes.io/auth-url: 'http://a/#;}}}\\n\\n'\n    nginx.ingress.kubernetes.io/mirror-target: https://mirror.example.com$request_uri\n",
        );
        assert_eq!(positions(&findings), [(7, 5), (9, 5)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("metadata.annotations.nginx.ingress.kubernetes.io/configuration-snippet")
        );
    }
}
