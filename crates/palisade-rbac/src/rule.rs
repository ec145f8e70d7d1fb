//! Policy rules and how one request is matched against them.
//!
//! The matchers follow the rbac/v1 helpers of the Kubernetes RBAC authorizer
//! (`VerbMatches`, `APIGroupMatches`, `ResourceMatches`, `ResourceNameMatches`,
//! `NonResourceURLMatches`) and its `RuleAllows`. What upstream does *not*
//! support is not supported here either: `pods/*` in a rule is a literal
//! resource name (only `*/subresource` is a pattern), verbs and groups have no
//! prefix patterns, and a trailing `*` is a prefix only in non-resource URLs.

use palisade_model::AccessRequest;
use serde::Serialize;

/// `*` in verbs, apiGroups, resources and nonResourceURLs.
pub const ALL: &str = "*";

/// One entry of a Role's or ClusterRole's `rules`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    #[serde(rename = "apiGroups")]
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    #[serde(rename = "resourceNames")]
    pub resource_names: Vec<String>,
    #[serde(rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    /// Whether this rule allows `request` (upstream `RuleAllows`).
    pub fn allows(&self, request: &AccessRequest) -> bool {
        match request {
            AccessRequest::Resource {
                verb,
                group,
                resource,
                subresource,
                name,
                ..
            } => {
                self.verb_matches(verb)
                    && self.api_group_matches(group)
                    && self.resource_matches(resource, subresource)
                    && self.resource_name_matches(name)
            }
            AccessRequest::NonResource { verb, path } => {
                self.verb_matches(verb) && self.non_resource_url_matches(path)
            }
        }
    }

    pub fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == ALL || v == verb)
    }

    pub fn api_group_matches(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| g == ALL || g == group)
    }

    /// `resource` and `subresource` as a request carries them; the rule names
    /// the combination `resource/subresource`, `*`, or `*/subresource`.
    pub fn resource_matches(&self, resource: &str, subresource: &str) -> bool {
        self.resources.iter().any(|rule_resource| {
            if rule_resource == ALL {
                return true;
            }
            if subresource.is_empty() {
                return rule_resource == resource;
            }
            // Exactly `resource/subresource`, compared without building the string.
            let combined = rule_resource.len() == resource.len() + 1 + subresource.len()
                && rule_resource.starts_with(resource)
                && rule_resource[resource.len()..].starts_with('/')
                && rule_resource.ends_with(subresource);
            // Or exactly `*/subresource`.
            let any_with_sub = rule_resource.len() == subresource.len() + 2
                && rule_resource.starts_with("*/")
                && rule_resource.ends_with(subresource);
            combined || any_with_sub
        })
    }

    /// An empty `resourceNames` allows every name, including requests without one
    /// (list, watch, create, deletecollection); a non-empty one only those names.
    pub fn resource_name_matches(&self, name: &str) -> bool {
        self.resource_names.is_empty() || self.resource_names.iter().any(|n| n == name)
    }

    /// Exact URL, `*`, or a prefix ending in `*` (`/apis/*` covers `/apis/apps`).
    pub fn non_resource_url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|url| {
            url == ALL
                || url == path
                || (url.ends_with('*') && path.starts_with(url.trim_end_matches('*')))
        })
    }

    /// The compact form Kubernetes uses in messages:
    /// `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`.
    pub fn compact_string(&self) -> String {
        let mut parts = Vec::new();
        for (label, items) in [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("NonResourceURLs", &self.non_resource_urls),
            ("ResourceNames", &self.resource_names),
            ("Verbs", &self.verbs),
        ] {
            if !items.is_empty() {
                parts.push(format!("{label}:{}", go_quoted_list(items)));
            }
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
pub(crate) fn go_quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// Go's `%v` of a `[]string`: `[a b]`.
pub(crate) fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// `strconv.Quote` for the strings RBAC rules hold: quotes, backslashes and
/// control characters escaped, other characters kept.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        PolicyRule {
            verbs: v(verbs),
            api_groups: v(groups),
            resources: v(resources),
            resource_names: v(names),
            non_resource_urls: vec![],
        }
    }

    fn req(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> AccessRequest {
        AccessRequest::Resource {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    #[test]
    fn star_subresource_matches_any_resource_with_that_subresource() {
        let r = rule(&["update"], &["*"], &["*/scale"], &[]);
        assert!(r.allows(&req("update", "apps", "deployments", "scale", "")));
        assert!(r.allows(&req("update", "", "replicationcontrollers", "scale", "")));
        assert!(!r.allows(&req("update", "apps", "deployments", "", "")));
        assert!(!r.allows(&req("update", "apps", "deployments", "status", "")));
        // "*/scale" must be exactly `*/` + subresource, not a suffix match.
        assert!(!r.allows(&req("update", "apps", "deployments", "ale", "")));
    }

    #[test]
    fn resource_star_is_not_a_pattern() {
        // Upstream has no `pods/*`: it is a literal resource string.
        let r = rule(&["get"], &[""], &["pods/*"], &[]);
        assert!(!r.allows(&req("get", "", "pods", "log", "")));
        assert!(!r.allows(&req("get", "", "pods", "", "")));
        // A bare resource does not cover its subresources.
        let r = rule(&["get"], &[""], &["pods"], &[]);
        assert!(!r.allows(&req("get", "", "pods", "log", "")));
        let r = rule(&["get"], &[""], &["*"], &[]);
        assert!(r.allows(&req("get", "", "pods", "log", "")));
    }

    #[test]
    fn resource_names_restrict_and_exclude_unnamed_requests() {
        let r = rule(&["get", "list"], &[""], &["secrets"], &["a"]);
        assert!(r.allows(&req("get", "", "secrets", "", "a")));
        assert!(!r.allows(&req("get", "", "secrets", "", "b")));
        assert!(!r.allows(&req("list", "", "secrets", "", "")));
        let r = rule(&["list"], &[""], &["secrets"], &[]);
        assert!(r.allows(&req("list", "", "secrets", "", "")));
        assert!(r.allows(&req("list", "", "secrets", "", "x")));
    }

    #[test]
    fn groups_are_exact_and_core_is_empty() {
        let r = rule(&["get"], &[""], &["pods"], &[]);
        assert!(!r.allows(&req("get", "core", "pods", "", "")));
        assert!(r.allows(&req("get", "", "pods", "", "")));
        let r = rule(&["get"], &[], &["pods"], &[]);
        assert!(!r.allows(&req("get", "", "pods", "", "")));
    }

    #[test]
    fn non_resource_urls() {
        let r = PolicyRule {
            verbs: vec!["get".into()],
            non_resource_urls: vec!["/healthz".into(), "/apis/*".into()],
            ..PolicyRule::default()
        };
        let nr = |p: &str| AccessRequest::NonResource {
            verb: "get".into(),
            path: p.into(),
        };
        assert!(r.allows(&nr("/healthz")));
        assert!(!r.allows(&nr("/healthz/ready")));
        assert!(r.allows(&nr("/apis/apps")));
        assert!(r.allows(&nr("/apis/")));
        assert!(!r.allows(&nr("/apis")));
        assert!(!r.allows(&req("get", "", "pods", "", "")));
        // A non-resource rule never allows a resource request, nor the reverse.
        let res = rule(&["*"], &["*"], &["*"], &[]);
        assert!(!res.allows(&nr("/healthz")));
    }

    #[test]
    fn compact_string_as_kubernetes_prints_it() {
        let r = rule(&["get", "list"], &["apps"], &["deployments"], &[]);
        assert_eq!(
            r.compact_string(),
            r#"{APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "list"]}"#
        );
        assert_eq!(go_quote("a\"b\\\n"), r#""a\"b\\\n""#);
    }
}
