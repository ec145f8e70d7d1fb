//! Lookup tables built once after loading, so that questions over 100,000
//! bindings touch only the bindings and rules that can matter.

use std::collections::HashMap;

use crate::model::{Binding, BindingId, BindingKind, Role, RoleId, RoleKind, SubjectKind};
use crate::rule::ALL;

/// A rule of a role: (role, 0-based index in its rules).
pub(crate) type RuleRef = (RoleId, usize);

#[derive(Debug, Default)]
pub(crate) struct Index {
    roles: RoleMaps,
    /// ClusterRoleBindings in input order.
    pub crbs: Vec<BindingId>,
    /// RoleBindings per namespace, in input order.
    pub rbs_by_ns: HashMap<String, Vec<BindingId>>,
    /// Bindings naming a user (or a ServiceAccount, by its username).
    pub by_user: HashMap<String, Vec<BindingId>>,
    pub by_group: HashMap<String, Vec<BindingId>>,
    /// ClusterRoleBindings by the role they grant.
    pub crbs_by_role: HashMap<RoleId, Vec<BindingId>>,
    /// RoleBindings by the role they grant, then by namespace.
    pub rbs_by_role: HashMap<RoleId, HashMap<String, Vec<BindingId>>>,
    /// Resource rules by verb, then by resource string as written.
    pub resource_rules: HashMap<String, HashMap<String, Vec<RuleRef>>>,
    /// Rules with nonResourceURLs (few; scanned).
    pub non_resource_rules: Vec<RuleRef>,
}

/// Roles by name, needed before bindings can be resolved.
#[derive(Debug, Default)]
pub(crate) struct RoleMaps {
    cluster_roles: HashMap<String, RoleId>,
    roles: HashMap<String, HashMap<String, RoleId>>,
}

impl RoleMaps {
    pub fn cluster_role(&self, name: &str) -> Option<RoleId> {
        self.cluster_roles.get(name).copied()
    }

    pub fn role(&self, namespace: &str, name: &str) -> Option<RoleId> {
        self.roles.get(namespace)?.get(name).copied()
    }
}

impl Index {
    pub fn role_maps(roles: &[Role]) -> RoleMaps {
        let mut maps = RoleMaps::default();
        for (id, role) in roles.iter().enumerate() {
            match (&role.kind, &role.namespace) {
                (RoleKind::ClusterRole, _) => {
                    maps.cluster_roles.insert(role.name.clone(), id);
                }
                (RoleKind::Role, Some(ns)) => {
                    maps.roles
                        .entry(ns.clone())
                        .or_default()
                        .insert(role.name.clone(), id);
                }
                (RoleKind::Role, None) => {}
            }
        }
        maps
    }

    pub fn build(roles_maps: RoleMaps, roles: &[Role], bindings: &[Binding]) -> Index {
        let mut index = Index {
            roles: roles_maps,
            ..Index::default()
        };
        for (id, binding) in bindings.iter().enumerate() {
            match (binding.kind, &binding.namespace) {
                (BindingKind::ClusterRoleBinding, _) => {
                    index.crbs.push(id);
                    if let Some(role) = binding.role {
                        index.crbs_by_role.entry(role).or_default().push(id);
                    }
                }
                (BindingKind::RoleBinding, Some(ns)) => {
                    index.rbs_by_ns.entry(ns.clone()).or_default().push(id);
                    if let Some(role) = binding.role {
                        index
                            .rbs_by_role
                            .entry(role)
                            .or_default()
                            .entry(ns.clone())
                            .or_default()
                            .push(id);
                    }
                }
                (BindingKind::RoleBinding, None) => {}
            }
            for subject in &binding.subjects {
                let (map, key) = match subject.kind {
                    SubjectKind::User => (&mut index.by_user, subject.name.clone()),
                    SubjectKind::Group => (&mut index.by_group, subject.name.clone()),
                    SubjectKind::ServiceAccount => {
                        match binding.service_account_username(subject) {
                            Some(username) => (&mut index.by_user, username),
                            None => continue,
                        }
                    }
                    SubjectKind::Other(_) => continue,
                };
                let list = map.entry(key).or_default();
                // A binding naming the same subject twice is listed once.
                if list.last() != Some(&id) {
                    list.push(id);
                }
            }
        }
        for (role_id, role) in roles.iter().enumerate() {
            for (i, rule) in role.rules.iter().enumerate() {
                let rule = &rule.rule;
                if !rule.non_resource_urls.is_empty() {
                    index.non_resource_rules.push((role_id, i));
                }
                if rule.resources.is_empty() {
                    continue;
                }
                for verb in dedup(&rule.verbs) {
                    let by_resource = index.resource_rules.entry(verb.clone()).or_default();
                    for resource in dedup(&rule.resources) {
                        by_resource
                            .entry(resource.clone())
                            .or_default()
                            .push((role_id, i));
                    }
                }
            }
        }
        index
    }

    pub fn cluster_role(&self, name: &str) -> Option<RoleId> {
        self.roles.cluster_role(name)
    }

    pub fn role(&self, namespace: &str, name: &str) -> Option<RoleId> {
        self.roles.role(namespace, name)
    }

    /// Every rule that may allow a resource request: the buckets for the verb
    /// and `*`, crossed with the resource as combined, `*` and `*/subresource`.
    /// Each candidate still needs the full [`crate::PolicyRule::allows`] check.
    pub fn resource_candidates(
        &self,
        verb: &str,
        resource: &str,
        subresource: &str,
        mut visit: impl FnMut(RuleRef),
    ) {
        let combined;
        let star_sub;
        let mut keys: Vec<&str> = vec![ALL];
        if subresource.is_empty() {
            keys.push(resource);
        } else {
            combined = format!("{resource}/{subresource}");
            star_sub = format!("*/{subresource}");
            keys.push(&combined);
            keys.push(&star_sub);
        }
        let verbs: &[&str] = if verb == ALL { &[ALL] } else { &[verb, ALL] };
        for v in verbs {
            let Some(by_resource) = self.resource_rules.get(*v) else {
                continue;
            };
            for key in &keys {
                if let Some(rules) = by_resource.get(*key) {
                    rules.iter().copied().for_each(&mut visit);
                }
            }
        }
    }
}

/// The distinct strings of a list, in order (rules rarely repeat, but a
/// repeated verb must not list a rule twice in one bucket).
fn dedup(items: &[String]) -> Vec<&String> {
    let mut out: Vec<&String> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
