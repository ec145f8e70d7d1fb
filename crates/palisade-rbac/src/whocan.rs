//! Who can make a request: every subject of every binding whose role allows it.
//!
//! Roles are found first (through the rule index), then the bindings that
//! grant those roles in scope (through the binding index), so the work is
//! proportional to the answer, not to the number of bindings.

use std::collections::HashMap;

use palisade_model::AccessRequest;
use serde::Serialize;

use crate::authorize::Grant;
use crate::model::{BindingId, BindingKind, Rbac, RoleId, SubjectKind};

/// Where a who-can question looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The request's own namespace: ClusterRoleBindings, plus the
    /// RoleBindings of that namespace when it has one (a request with an empty
    /// namespace is cluster-wide: ClusterRoleBindings only).
    Request,
    /// Any namespace (`-A`): ClusterRoleBindings and the RoleBindings of every
    /// namespace; each answer says in which namespace it holds.
    AllNamespaces,
}

/// A subject that can, and why.
#[derive(Debug, Clone, Serialize)]
pub struct WhoCanEntry {
    pub kind: SubjectKind,
    pub name: String,
    /// The ServiceAccount's namespace (defaulted to the RoleBinding's when omitted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Where the permission holds: the RoleBinding's namespace, or `None` for
    /// cluster-wide (a ClusterRoleBinding).
    #[serde(rename = "inNamespace")]
    pub scope_namespace: Option<String>,
    #[serde(flatten)]
    pub grant: Grant,
}

/// The answer of [`Rbac::who_can`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct WhoCan {
    /// Sorted by subject kind, name and namespace, then binding.
    pub entries: Vec<WhoCanEntry>,
    /// Bindings whose role is missing or that name no subject, found on the way.
    pub notes: Vec<String>,
}

impl Rbac {
    /// Every subject that can make `request` within `scope`.
    pub fn who_can(&self, request: &AccessRequest, scope: Scope) -> WhoCan {
        // Role → first rule (lowest index) that allows the request.
        let mut roles: HashMap<RoleId, usize> = HashMap::new();
        let mut consider = |(role, rule): (RoleId, usize)| {
            let better = roles.get(&role).is_none_or(|&r| rule < r);
            if better && self.roles[role].rules[rule].rule.allows(request) {
                roles.insert(role, rule);
            }
        };
        let (request_ns, non_resource) = match request {
            AccessRequest::Resource {
                verb,
                resource,
                subresource,
                namespace,
                ..
            } => {
                self.index
                    .resource_candidates(verb, resource, subresource, &mut consider);
                (namespace.as_str(), false)
            }
            AccessRequest::NonResource { .. } => {
                self.index
                    .non_resource_rules
                    .iter()
                    .copied()
                    .for_each(&mut consider);
                ("", true)
            }
        };

        let mut grants: Vec<(BindingId, RoleId, usize)> = Vec::new();
        for (&role, &rule) in &roles {
            if let Some(crbs) = self.index.crbs_by_role.get(&role) {
                grants.extend(crbs.iter().map(|&b| (b, role, rule)));
            }
            // Non-resource requests have no namespace: RoleBindings never apply.
            if non_resource {
                continue;
            }
            let Some(by_ns) = self.index.rbs_by_role.get(&role) else {
                continue;
            };
            match scope {
                Scope::AllNamespaces => {
                    for rbs in by_ns.values() {
                        grants.extend(rbs.iter().map(|&b| (b, role, rule)));
                    }
                }
                Scope::Request if !request_ns.is_empty() => {
                    if let Some(rbs) = by_ns.get(request_ns) {
                        grants.extend(rbs.iter().map(|&b| (b, role, rule)));
                    }
                }
                Scope::Request => {}
            }
        }

        let mut answer = WhoCan::default();
        for (binding_id, role, rule) in grants {
            let binding = &self.bindings[binding_id];
            if binding.subjects.is_empty() {
                answer.notes.push(format!(
                    "{} at {} grants it but has no subjects",
                    binding.describe(),
                    binding.location
                ));
            }
            let scope_namespace = match binding.kind {
                BindingKind::ClusterRoleBinding => None,
                BindingKind::RoleBinding => binding.namespace.clone(),
            };
            for (i, subject) in binding.subjects.iter().enumerate() {
                let namespace = match subject.kind {
                    SubjectKind::ServiceAccount => match binding.subject_namespace(subject) {
                        Some(ns) => Some(ns.to_string()),
                        // Matches nobody (reported when the policy was read).
                        None => continue,
                    },
                    SubjectKind::Other(_) => continue,
                    _ => None,
                };
                answer.entries.push(WhoCanEntry {
                    kind: subject.kind.clone(),
                    name: subject.name.clone(),
                    namespace,
                    scope_namespace: scope_namespace.clone(),
                    grant: Grant {
                        binding: binding_id,
                        subject: i,
                        role,
                        rule,
                    },
                });
            }
        }
        answer.entries.sort_by(|a, b| {
            (
                &a.kind,
                &a.name,
                &a.namespace,
                &a.scope_namespace,
                a.grant.binding,
            )
                .cmp(&(
                    &b.kind,
                    &b.name,
                    &b.namespace,
                    &b.scope_namespace,
                    b.grant.binding,
                ))
        });
        answer.notes.sort();
        answer.notes.dedup();
        answer
    }
}

impl WhoCan {
    /// The distinct subjects, as (kind, name, ServiceAccount namespace).
    pub fn subjects(&self) -> Vec<(SubjectKind, String, Option<String>)> {
        let mut out: Vec<_> = self
            .entries
            .iter()
            .map(|e| (e.kind.clone(), e.name.clone(), e.namespace.clone()))
            .collect();
        out.dedup();
        out
    }
}
