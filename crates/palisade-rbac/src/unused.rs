//! Granted but never used: which bindings and rules no request of an audit
//! log needed.
//!
//! Every logged request is decided against the policy (the authorizer's own
//! scope rules: ClusterRoleBindings anywhere, RoleBindings in their
//! namespace). Every rule of every applicable binding that allows it is
//! marked used — not only the first, so a rule is "unused" only when no
//! request needed it at all — together with the verbs and resources it was
//! used for. What remains unmarked is reported: bindings none of whose rules
//! were used (and whether their subjects were seen at all), and for used
//! rules the verbs and resources no request needed.
//!
//! The answer is only as good as the log window: a monthly job that did not
//! run in it looks unused.

use std::collections::{HashMap, HashSet};

use palisade_model::{AccessRequest, UserInfo};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::model::{BindingId, Rbac, RoleId, SubjectKind};
use crate::risks::is_default;
use crate::rule::ALL;

/// A rule of a binding's role and how much of it was used.
#[derive(Debug, Clone, Serialize)]
pub struct RuleUse {
    pub role: RoleId,
    /// 0-based index in the role's (aggregated) rules.
    pub rule: usize,
    /// Requests this rule allowed.
    pub requests: usize,
    /// Verbs of the rule no request used (empty when `*` or all used).
    #[serde(rename = "unusedVerbs")]
    pub unused_verbs: Vec<String>,
    /// Resources of the rule no request used (empty when `*` or all used).
    #[serde(rename = "unusedResources")]
    pub unused_resources: Vec<String>,
    /// Non-resource URLs of the rule no request used.
    #[serde(rename = "unusedNonResourceURLs")]
    pub unused_urls: Vec<String>,
}

/// A binding with unused grants.
#[derive(Debug, Clone, Serialize)]
pub struct UnusedBinding {
    pub binding: BindingId,
    /// Whether any request of the log came from one of its subjects.
    #[serde(rename = "subjectsSeen")]
    pub subjects_seen: bool,
    /// True when no rule of the binding allowed any request.
    #[serde(rename = "entirelyUnused")]
    pub entirely_unused: bool,
    /// The rules with something unused (all rules when entirely unused).
    pub rules: Vec<RuleUse>,
}

/// The answer of [`Rbac::unused`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct Unused {
    /// Events considered, and the distinct requests among them.
    pub events: usize,
    pub requests: usize,
    /// Requests the policy does not allow (denied, or allowed by something else).
    #[serde(rename = "notAllowed")]
    pub not_allowed: usize,
    /// First and last event timestamps.
    pub window: Option<(String, String)>,
    pub bindings: Vec<UnusedBinding>,
}

#[derive(Default)]
struct Marks {
    requests: usize,
    verbs: HashSet<String>,
    resources: HashSet<String>,
    urls: HashSet<String>,
}

impl Rbac {
    /// What the bindings grant that no event of `events` used. The bootstrap
    /// policy's own bindings are left out unless `include_defaults`.
    pub fn unused(&self, events: &[AuditEvent], include_defaults: bool) -> Unused {
        // Identical requests by the same identity decide the same way.
        let mut distinct: HashMap<String, (&UserInfo, &AccessRequest)> = HashMap::new();
        for e in events {
            distinct
                .entry(format!("{:?}\0{:?}", e.user, e.request))
                .or_insert((&e.user, &e.request));
        }
        let distinct: Vec<(&UserInfo, &AccessRequest)> = distinct.into_values().collect();
        let mut marks: HashMap<(BindingId, usize), Marks> = HashMap::new();
        let mut users_seen: HashSet<&str> = HashSet::new();
        let mut groups_seen: HashSet<&str> = HashSet::new();
        let mut not_allowed = 0;
        for &(user, request) in &distinct {
            users_seen.insert(&user.username);
            groups_seen.extend(user.groups.iter().map(String::as_str));
            let namespace = match request {
                AccessRequest::Resource { namespace, .. } => namespace.as_str(),
                AccessRequest::NonResource { .. } => "",
            };
            let mut allowed = false;
            for (binding_id, _) in self.applicable_bindings(user, namespace) {
                let Some(role) = self.bindings[binding_id]
                    .role
                    .and_then(|r| self.roles.get(r))
                else {
                    continue;
                };
                for (i, rule) in role.rules.iter().enumerate() {
                    if !rule.rule.allows(request) {
                        continue;
                    }
                    allowed = true;
                    let m = marks.entry((binding_id, i)).or_default();
                    m.requests += 1;
                    match request {
                        AccessRequest::Resource {
                            verb,
                            resource,
                            subresource,
                            ..
                        } => {
                            m.verbs.insert(verb.clone());
                            m.resources.insert(if subresource.is_empty() {
                                resource.clone()
                            } else {
                                format!("{resource}/{subresource}")
                            });
                        }
                        AccessRequest::NonResource { verb, path } => {
                            m.verbs.insert(verb.clone());
                            m.urls.insert(path.clone());
                        }
                    }
                }
            }
            if !allowed {
                not_allowed += 1;
            }
        }

        let mut answer = Unused {
            events: events.len(),
            requests: distinct.len(),
            not_allowed,
            window: window(events),
            bindings: Vec::new(),
        };
        for (binding_id, binding) in self.bindings.iter().enumerate() {
            if !include_defaults && is_default(&binding.labels) {
                continue;
            }
            let Some(role_id) = binding.role else {
                continue;
            };
            let Some(role) = self.roles.get(role_id) else {
                continue;
            };
            let subjects_seen = binding.subjects.iter().any(|s| match s.kind {
                SubjectKind::User => users_seen.contains(s.name.as_str()),
                SubjectKind::Group => groups_seen.contains(s.name.as_str()),
                SubjectKind::ServiceAccount => binding
                    .service_account_username(s)
                    .is_some_and(|u| users_seen.contains(u.as_str())),
                SubjectKind::Other(_) => false,
            });
            let mut rules = Vec::new();
            let mut any_used = false;
            for (i, rule) in role.rules.iter().enumerate() {
                let r = &rule.rule;
                let m = marks.get(&(binding_id, i));
                any_used |= m.is_some();
                let unused = |items: &[String], used: Option<&HashSet<String>>| -> Vec<String> {
                    if items.iter().any(|x| x == ALL) {
                        return if used.is_some_and(|u| !u.is_empty()) {
                            Vec::new()
                        } else {
                            items.to_vec()
                        };
                    }
                    items
                        .iter()
                        .filter(|x| !used.is_some_and(|u| u.contains(x.as_str())))
                        .cloned()
                        .collect()
                };
                let use_ = RuleUse {
                    role: role_id,
                    rule: i,
                    requests: m.map_or(0, |m| m.requests),
                    unused_verbs: unused(&r.verbs, m.map(|m| &m.verbs)),
                    unused_resources: unused(&r.resources, m.map(|m| &m.resources)),
                    unused_urls: unused(&r.non_resource_urls, m.map(|m| &m.urls)),
                };
                if use_.requests == 0
                    || !use_.unused_verbs.is_empty()
                    || !use_.unused_resources.is_empty()
                    || !use_.unused_urls.is_empty()
                {
                    rules.push(use_);
                }
            }
            if rules.is_empty() {
                continue;
            }
            answer.bindings.push(UnusedBinding {
                binding: binding_id,
                subjects_seen,
                entirely_unused: !any_used,
                rules,
            });
        }
        answer
    }
}

fn window(events: &[AuditEvent]) -> Option<(String, String)> {
    let mut stamps = events
        .iter()
        .map(|e| e.timestamp.as_str())
        .filter(|t| !t.is_empty());
    let first = stamps.next()?;
    let (lo, hi) = stamps.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t)));
    Some((lo.to_string(), hi.to_string()))
}

impl Unused {
    /// A table: one line per binding, then its rules with what went unused.
    pub fn table(&self, rbac: &Rbac) -> String {
        let mut out = String::new();
        if let Some((from, to)) = &self.window {
            out.push_str(&format!(
                "Audit window {from} .. {to}: {} events, {} distinct requests ({} not allowed by this policy)\n",
                self.events, self.requests, self.not_allowed
            ));
        } else {
            out.push_str(&format!(
                "{} events, {} distinct requests ({} not allowed by this policy)\n",
                self.events, self.requests, self.not_allowed
            ));
        }
        if self.bindings.is_empty() {
            out.push_str("Every granted rule was used.\n");
            return out;
        }
        for b in &self.bindings {
            let Some(binding) = rbac.bindings.get(b.binding) else {
                continue;
            };
            let subjects: Vec<String> = binding
                .subjects
                .iter()
                .map(|s| binding.describe_subject(s))
                .collect();
            let state = match (b.entirely_unused, b.subjects_seen) {
                (true, false) => "UNUSED (subjects never seen)",
                (true, true) => "UNUSED",
                (false, _) => "partly used",
            };
            out.push_str(&format!(
                "\n{} of {} {:?} to {} ({}): {state}\n",
                binding.describe(),
                binding.role_ref.kind,
                binding.role_ref.name,
                if subjects.is_empty() {
                    "nobody".to_string()
                } else {
                    subjects.join(", ")
                },
                binding.location
            ));
            for r in &b.rules {
                let Some(rule) = rbac
                    .roles
                    .get(r.role)
                    .and_then(|role| role.rules.get(r.rule))
                else {
                    continue;
                };
                let what = if r.requests == 0 {
                    "never used".to_string()
                } else {
                    let mut parts = Vec::new();
                    if !r.unused_verbs.is_empty() {
                        parts.push(format!("verbs never used: {}", r.unused_verbs.join(", ")));
                    }
                    if !r.unused_resources.is_empty() {
                        parts.push(format!(
                            "resources never used: {}",
                            r.unused_resources.join(", ")
                        ));
                    }
                    if !r.unused_urls.is_empty() {
                        parts.push(format!("URLs never used: {}", r.unused_urls.join(", ")));
                    }
                    format!("used by {} request(s); {}", r.requests, parts.join("; "))
                };
                out.push_str(&format!(
                    "  rule #{} {} ({}): {what}\n",
                    r.rule + 1,
                    rule.rule.compact_string(),
                    rule.location
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::parse_audit_log;
    use palisade_model::{load_text, LoadOptions};

    #[test]
    fn marks_used_verbs_resources_and_unseen_subjects() {
        let yaml = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: ns1}
rules:
- {apiGroups: [''], resources: [pods, secrets], verbs: [get, list, delete]}
- {apiGroups: [apps], resources: [deployments], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice, namespace: ns1}
roleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: User, name: alice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: carol, namespace: ns1}
roleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: User, name: carol}]
";
        let rbac = Rbac::from_objects(&load_text("p.yaml", yaml, &LoadOptions::default()).objects);
        let log = parse_audit_log(
            "a.log",
            concat!(
                r#"{"kind":"Event","verb":"get","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"ns1","name":"p"},"stageTimestamp":"2024-01-02T00:00:00Z"}"#,
                "\n",
                r#"{"kind":"Event","verb":"list","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"ns1"},"stageTimestamp":"2024-01-01T00:00:00Z"}"#,
                "\n",
                r#"{"kind":"Event","verb":"list","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"ns2"}}"#,
                "\n",
            ),
        );
        let unused = rbac.unused(&log.events, false);
        assert_eq!(unused.events, 3);
        assert_eq!(unused.not_allowed, 1, "ns2 is outside the RoleBinding");
        assert_eq!(
            unused.window,
            Some(("2024-01-01T00:00:00Z".into(), "2024-01-02T00:00:00Z".into()))
        );
        assert_eq!(unused.bindings.len(), 2);
        let alice = &unused.bindings[0];
        assert!(!alice.entirely_unused && alice.subjects_seen);
        assert_eq!(alice.rules.len(), 2);
        assert_eq!(alice.rules[0].requests, 2);
        assert_eq!(alice.rules[0].unused_verbs, ["delete"]);
        assert_eq!(alice.rules[0].unused_resources, ["secrets"]);
        assert_eq!(alice.rules[1].requests, 0);
        let carol = &unused.bindings[1];
        assert!(carol.entirely_unused && !carol.subjects_seen);
        let table = unused.table(&rbac);
        assert!(table.contains("UNUSED (subjects never seen)"), "{table}");
        assert!(table.contains("verbs never used: delete"), "{table}");
    }
}
