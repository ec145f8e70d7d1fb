//! Answers as people and programs read them: tables and JSON values.

use serde::Serialize;
use serde_json::{json, Value};

use crate::authorize::{Decision, Grant};
use crate::list::{tab_align, RuleList};
use crate::model::{Location, Rbac};
use crate::rule::PolicyRule;
use crate::whocan::WhoCan;

/// A grant with everything resolved, for JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct GrantView {
    pub binding: ObjectView,
    pub subject: SubjectView,
    pub role: ObjectView,
    pub rule: RuleView,
    /// The upstream reason text, with positions.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectView {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubjectView {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    /// 1-based, as shown in reasons (`rule #1`).
    pub number: usize,
    pub location: Option<Location>,
    #[serde(flatten)]
    pub rule: Option<PolicyRule>,
    /// For a rule an aggregated ClusterRole copied in: where it comes from.
    #[serde(rename = "aggregatedFrom", skip_serializing_if = "Option::is_none")]
    pub aggregated_from: Option<ObjectView>,
}

impl Rbac {
    /// Resolves a grant for display.
    pub fn grant_view(&self, grant: &Grant) -> GrantView {
        let binding = self.bindings.get(grant.binding);
        let role = self.roles.get(grant.role);
        let subject = binding.and_then(|b| b.subjects.get(grant.subject).map(|s| (b, s)));
        let rule = role.and_then(|r| r.rules.get(grant.rule));
        GrantView {
            binding: ObjectView {
                kind: binding
                    .map(|b| b.kind.as_str())
                    .unwrap_or_default()
                    .to_string(),
                name: binding.map(|b| b.name.clone()).unwrap_or_default(),
                namespace: binding.and_then(|b| b.namespace.clone()),
                location: binding.map(|b| b.location.clone()),
            },
            subject: SubjectView {
                kind: subject
                    .map(|(_, s)| s.kind.as_str().to_string())
                    .unwrap_or_default(),
                name: subject.map(|(_, s)| s.name.clone()).unwrap_or_default(),
                namespace: subject.and_then(|(b, s)| match s.kind {
                    crate::SubjectKind::ServiceAccount => {
                        b.subject_namespace(s).map(str::to_string)
                    }
                    _ => None,
                }),
            },
            role: ObjectView {
                kind: role
                    .map(|r| r.kind.as_str())
                    .unwrap_or_default()
                    .to_string(),
                name: role.map(|r| r.name.clone()).unwrap_or_default(),
                namespace: role.and_then(|r| r.namespace.clone()),
                location: role.map(|r| r.location.clone()),
            },
            rule: RuleView {
                number: grant.rule + 1,
                location: rule.map(|r| r.location.clone()),
                rule: rule.map(|r| r.rule.clone()),
                aggregated_from: rule
                    .and_then(|r| r.origin)
                    .and_then(|(o, i)| self.roles.get(o).map(|o| (o, i)))
                    .map(|(o, i)| ObjectView {
                        kind: format!("{} rule #{}", o.kind.as_str(), i + 1),
                        name: o.name.clone(),
                        namespace: o.namespace.clone(),
                        location: Some(o.location.clone()),
                    }),
            },
            reason: self.grant_reason(grant),
        }
    }

    /// `yes` or `no`, then one line per allowing grant (kubectl prints only
    /// the verdict; the grants are what Palisade adds).
    pub fn decision_text(&self, decision: &Decision) -> String {
        let mut out = String::new();
        if decision.allowed {
            out.push_str("yes\n");
            for g in &decision.grants {
                out.push_str("  ");
                out.push_str(&self.grant_reason(g));
                out.push('\n');
            }
        } else {
            out.push_str("no\n");
            for e in &decision.errors {
                out.push_str("  RBAC: ");
                out.push_str(e);
                out.push('\n');
            }
        }
        out
    }

    pub fn decision_json(&self, decision: &Decision) -> Value {
        json!({
            "allowed": decision.allowed,
            "grants": decision.grants.iter().map(|g| self.grant_view(g)).collect::<Vec<_>>(),
            "errors": decision.errors,
        })
    }

    /// A table: subject kind, subject, its namespace, where it holds, the
    /// binding and the role rule, each with its position.
    pub fn who_can_table(&self, answer: &WhoCan) -> String {
        let mut rows = vec![[
            "KIND".to_string(),
            "SUBJECT".to_string(),
            "SA-NAMESPACE".to_string(),
            "SCOPE".to_string(),
            "BINDING".to_string(),
            "ROLE".to_string(),
            "RULE".to_string(),
        ]];
        for e in &answer.entries {
            let (binding, binding_at) = self
                .bindings
                .get(e.grant.binding)
                .map(|b| (b.describe(), b.location.to_string()))
                .unwrap_or_default();
            let role = self
                .roles
                .get(e.grant.role)
                .map(|r| r.describe())
                .unwrap_or_default();
            rows.push([
                e.kind.as_str().to_string(),
                e.name.clone(),
                e.namespace.clone().unwrap_or_default(),
                e.scope_namespace
                    .as_ref()
                    .map_or("cluster-wide".to_string(), |ns| format!("namespace {ns}")),
                format!("{binding} ({binding_at})"),
                role,
                self.describe_rule(e.grant.role, e.grant.rule),
            ]);
        }
        tab_align(&rows)
    }

    pub fn who_can_json(&self, answer: &WhoCan) -> Value {
        json!({
            "subjects": answer.entries.iter().map(|e| {
                let mut v = serde_json::to_value(self.grant_view(&e.grant)).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut v {
                    map.insert("scope".into(), json!(e.scope_namespace.as_deref().unwrap_or("")));
                }
                v
            }).collect::<Vec<_>>(),
            "notes": answer.notes,
        })
    }

    pub fn list_json(&self, list: &RuleList) -> Value {
        let rules = |rs: &[crate::EffectiveRule]| {
            rs.iter()
                .map(|r| {
                    json!({
                        "rule": r.rule,
                        "grantedBy": self.grant_view(&r.grant),
                    })
                })
                .collect::<Vec<_>>()
        };
        json!({
            "namespace": list.namespace,
            "resourceRules": rules(&list.resource_rules),
            "nonResourceRules": rules(&list.non_resource_rules),
            "ineffectiveNonResourceRules": rules(&list.ineffective),
            "errors": list.errors,
        })
    }
}
