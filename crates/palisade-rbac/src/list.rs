//! What a user may do in a namespace: `kubectl auth can-i --list`.
//!
//! The rules are those of `RulesFor` (every applicable ClusterRoleBinding,
//! then the applicable RoleBindings of the namespace), split into resource and
//! non-resource rules as a SelfSubjectRulesReview returns them. The table is
//! kubectl's: each rule broken down to one group, resource, verb and name,
//! simple ones merged per (group, resource, name) by appending verbs (without
//! removing repeats, as kubectl does), then sorted by the rule's Go string
//! form (`&PolicyRule{Verbs:[..],APIGroups:[..],...}`), which puts verbs first.

use palisade_model::UserInfo;
use serde::Serialize;

use crate::authorize::Grant;
use crate::model::{BindingKind, Rbac};
use crate::rule::{go_list, PolicyRule};

/// A rule that applies to the user, with the grant it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct EffectiveRule {
    #[serde(flatten)]
    pub rule: PolicyRule,
    #[serde(rename = "grantedBy")]
    pub grant: Grant,
}

/// The answer of [`Rbac::list`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleList {
    pub namespace: String,
    /// Rules with resources (SelfSubjectRulesReview `resourceRules`).
    #[serde(rename = "resourceRules")]
    pub resource_rules: Vec<EffectiveRule>,
    /// Rules with non-resource URLs, from ClusterRoleBindings only.
    #[serde(rename = "nonResourceRules")]
    pub non_resource_rules: Vec<EffectiveRule>,
    /// Non-resource rules reached through RoleBindings. A SelfSubjectRulesReview
    /// (and so kubectl's list) includes them, but they never allow anything:
    /// non-resource requests are checked against ClusterRoleBindings only.
    #[serde(rename = "ineffectiveNonResourceRules")]
    pub ineffective: Vec<EffectiveRule>,
    /// Applicable bindings whose role is not in the input.
    pub errors: Vec<String>,
}

impl Rbac {
    /// The rules that apply to `user` in `namespace` (`""`: cluster-wide only).
    pub fn list(&self, user: &UserInfo, namespace: &str) -> RuleList {
        let mut list = RuleList {
            namespace: namespace.to_string(),
            ..RuleList::default()
        };
        for (binding_id, subject) in self.applicable_bindings(user, namespace) {
            let binding = &self.bindings[binding_id];
            let Some(role_id) = binding.role else {
                list.errors.push(format!(
                    "{} refers to {} {:?}, which is not in the input",
                    binding.describe(),
                    binding.role_ref.kind,
                    binding.role_ref.name
                ));
                continue;
            };
            for (i, rule) in self.roles[role_id].rules.iter().enumerate() {
                let grant = Grant {
                    binding: binding_id,
                    subject,
                    role: role_id,
                    rule: i,
                };
                let r = &rule.rule;
                if !r.resources.is_empty() {
                    list.resource_rules.push(EffectiveRule {
                        rule: PolicyRule {
                            non_resource_urls: Vec::new(),
                            ..r.clone()
                        },
                        grant,
                    });
                }
                if !r.non_resource_urls.is_empty() {
                    let nr = EffectiveRule {
                        rule: PolicyRule {
                            verbs: r.verbs.clone(),
                            non_resource_urls: r.non_resource_urls.clone(),
                            ..PolicyRule::default()
                        },
                        grant,
                    };
                    match binding.kind {
                        BindingKind::ClusterRoleBinding => list.non_resource_rules.push(nr),
                        BindingKind::RoleBinding => list.ineffective.push(nr),
                    }
                }
            }
        }
        list
    }
}

impl RuleList {
    /// The rows kubectl prints, in its order.
    pub fn kubectl_rules(&self) -> Vec<PolicyRule> {
        let mut broken = Vec::new();
        for r in self.resource_rules.iter().chain(&self.non_resource_rules) {
            breakdown(&r.rule, &mut broken);
        }
        let mut rules = compact(broken);
        // A stable sort: equal strings (repeated rules) keep their order.
        rules.sort_by_cached_key(go_string);
        rules
    }

    /// kubectl's table: `Resources  Non-Resource URLs  Resource Names  Verbs`,
    /// aligned as its tab writer aligns (min width 10, padding 3).
    pub fn kubectl_table(&self) -> String {
        let mut rows = vec![[
            "Resources".to_string(),
            "Non-Resource URLs".to_string(),
            "Resource Names".to_string(),
            "Verbs".to_string(),
        ]];
        for r in self.kubectl_rules() {
            rows.push([
                combine_resource_group(&r.resources, &r.api_groups),
                go_list(&r.non_resource_urls),
                go_list(&r.resource_names),
                go_list(&r.verbs),
            ]);
        }
        tab_align(&rows)
    }
}

/// kubectl's `BreakdownRule`: one rule per (group, resource, verb[, name]), and
/// per (url, verb).
pub(crate) fn breakdown(rule: &PolicyRule, out: &mut Vec<PolicyRule>) {
    let one = |s: &String| vec![s.clone()];
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                if rule.resource_names.is_empty() {
                    out.push(PolicyRule {
                        api_groups: one(group),
                        resources: one(resource),
                        verbs: one(verb),
                        ..PolicyRule::default()
                    });
                } else {
                    for name in &rule.resource_names {
                        out.push(PolicyRule {
                            api_groups: one(group),
                            resources: one(resource),
                            verbs: one(verb),
                            resource_names: one(name),
                            ..PolicyRule::default()
                        });
                    }
                }
            }
        }
    }
    for url in &rule.non_resource_urls {
        for verb in &rule.verbs {
            out.push(PolicyRule {
                non_resource_urls: one(url),
                verbs: one(verb),
                ..PolicyRule::default()
            });
        }
    }
}

/// kubectl's `CompactRules`: simple rules (one group, one resource, at most one
/// name, no URLs) that differ only in verbs are merged, verbs appended.
fn compact(rules: Vec<PolicyRule>) -> Vec<PolicyRule> {
    let mut compacted = Vec::with_capacity(rules.len());
    let mut simple: Vec<PolicyRule> = Vec::new();
    let mut by_key: std::collections::HashMap<(String, String, Option<String>), usize> =
        std::collections::HashMap::new();
    for rule in rules {
        let is_simple = rule.resource_names.len() <= 1
            && rule.non_resource_urls.is_empty()
            && rule.api_groups.len() == 1
            && rule.resources.len() == 1;
        if !is_simple {
            compacted.push(rule);
            continue;
        }
        let key = (
            rule.api_groups[0].clone(),
            rule.resources[0].clone(),
            rule.resource_names.first().cloned(),
        );
        match by_key.get(&key) {
            Some(&i) => simple[i].verbs.extend(rule.verbs),
            None => {
                by_key.insert(key, simple.len());
                simple.push(rule);
            }
        }
    }
    compacted.extend(simple);
    compacted
}

/// The Go string form of a `PolicyRule` that kubectl sorts by.
fn go_string(r: &PolicyRule) -> String {
    format!(
        "&PolicyRule{{Verbs:{},APIGroups:{},Resources:{},ResourceNames:{},NonResourceURLs:{},}}",
        go_list(&r.verbs),
        go_list(&r.api_groups),
        go_list(&r.resources),
        go_list(&r.resource_names),
        go_list(&r.non_resource_urls)
    )
}

/// kubectl's `CombineResourceGroup`: `deployments.apps`, `pods/exec`,
/// `deployments.apps/scale`, `*.*`.
fn combine_resource_group(resources: &[String], groups: &[String]) -> String {
    let Some(first) = resources.first() else {
        return String::new();
    };
    let (resource, sub) = match first.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (first.as_str(), None),
    };
    let mut out = resource.to_string();
    if let Some(group) = groups.first().filter(|g| !g.is_empty()) {
        out.push('.');
        out.push_str(group);
    }
    if let Some(sub) = sub {
        out.push('/');
        out.push_str(sub);
    }
    out
}

/// Go's `tabwriter` with kubectl's settings (min width 10, padding 3): every
/// cell but the last of a row is padded to its column's width.
pub(crate) fn tab_align<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [10usize; N];
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(N.saturating_sub(1)) {
            widths[i] = widths[i].max(cell.chars().count() + 3);
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < N {
                let pad = widths[i].saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn combine_resource_group_as_kubectl() {
        assert_eq!(combine_resource_group(&s(&["pods"]), &s(&[""])), "pods");
        assert_eq!(
            combine_resource_group(&s(&["deployments/scale"]), &s(&["apps"])),
            "deployments.apps/scale"
        );
        assert_eq!(combine_resource_group(&s(&["*"]), &s(&["*"])), "*.*");
        assert_eq!(combine_resource_group(&[], &s(&["x"])), "");
    }

    #[test]
    fn compaction_appends_verbs_and_sorts_verbs_first() {
        let list = RuleList {
            resource_rules: vec![
                EffectiveRule {
                    rule: PolicyRule {
                        verbs: s(&["get", "list"]),
                        api_groups: s(&[""]),
                        resources: s(&["pods", "secrets"]),
                        ..PolicyRule::default()
                    },
                    grant: Grant {
                        binding: 0,
                        subject: 0,
                        role: 0,
                        rule: 0,
                    },
                },
                EffectiveRule {
                    rule: PolicyRule {
                        verbs: s(&["get"]),
                        api_groups: s(&[""]),
                        resources: s(&["pods"]),
                        ..PolicyRule::default()
                    },
                    grant: Grant {
                        binding: 0,
                        subject: 0,
                        role: 0,
                        rule: 1,
                    },
                },
            ],
            ..RuleList::default()
        };
        let rules = list.kubectl_rules();
        assert_eq!(rules.len(), 2);
        // kubectl keeps the repeated verb.
        assert_eq!(rules[0].verbs, s(&["get", "list", "get"]));
        assert_eq!(rules[0].resources, s(&["pods"]));
        assert_eq!(rules[1].resources, s(&["secrets"]));
        let table = list.kubectl_table();
        assert_eq!(
            table,
            "Resources   Non-Resource URLs   Resource Names   Verbs\n\
             pods        []                  []               [get list get]\n\
             secrets     []                  []               [get list]\n"
        );
    }
}
