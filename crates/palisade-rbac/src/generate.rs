//! Least privilege from an audit log: the Roles, ClusterRoles and bindings
//! that allow exactly what a user was seen doing — audit2rbac's algorithm.
//!
//! 1. Requests are ordered broadest first (non-resource before resource,
//!    cluster-wide before namespaced, unnamed before named, `list` before
//!    `get`, then by group, resource, subresource, namespace, name, verb),
//!    with Go's stable sort, so that ties and audit2rbac's non-transitive
//!    `list`/`get` rule order requests exactly as it does.
//! 2. A request the existing policy allows, or the roles generated so far
//!    allow, is skipped.
//! 3. A non-resource request adds `{verbs: [verb], nonResourceURLs: [path]}`
//!    to the ClusterRole. A resource request is widened first: when another
//!    request for the same verb, group, resource and subresource differs only
//!    by namespace (or only by name), the namespace (name) is dropped, if the
//!    options allow. It then adds `{verbs: [verb, expansions...], apiGroups,
//!    resources: [resource(/subresource)], resourceNames: [name]}` to the
//!    ClusterRole (no namespace) or to the Role of its namespace. The first
//!    rule of a role creates it and its binding to the request's user.
//! 4. Each role's rules are compacted: broken down to one group, resource,
//!    verb and name each, merged by (group, resource, name) with verbs sorted
//!    and deduplicated, then merged again — rules equal but for names take the
//!    union of names, rules equal but for resources the union of resources —
//!    and sorted by API groups and Kubernetes' compact string.
//!
//! Deliberate difference: audit2rbac merges the per-(group, resource, name)
//! rules in Go map order, which is random, so for some inputs its output
//! varies from run to run; here they merge in the order the rules were added.

use std::collections::HashMap;

use palisade_model::{AccessRequest, Authorizer, UserInfo};
use serde::Serialize;

use crate::identity::split_service_account;
use crate::model::{Rbac, RBAC_GROUP};
use crate::rule::PolicyRule;

/// One request as audit2rbac keeps it (`authorizer.AttributesRecord`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub user: UserInfo,
    pub resource_request: bool,
    pub verb: String,
    pub api_group: String,
    pub api_version: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    /// The non-resource path (cleared for resource requests when compared).
    pub path: String,
}

impl LoggedRequest {
    pub fn new(user: UserInfo, request: &AccessRequest, api_version: &str) -> LoggedRequest {
        match request {
            AccessRequest::Resource {
                verb,
                group,
                resource,
                subresource,
                namespace,
                name,
            } => LoggedRequest {
                user,
                resource_request: true,
                verb: verb.clone(),
                api_group: group.clone(),
                api_version: api_version.to_string(),
                resource: resource.clone(),
                subresource: subresource.clone(),
                namespace: namespace.clone(),
                name: name.clone(),
                path: String::new(),
            },
            AccessRequest::NonResource { verb, path } => LoggedRequest {
                user,
                resource_request: false,
                verb: verb.clone(),
                api_group: String::new(),
                api_version: String::new(),
                resource: String::new(),
                subresource: String::new(),
                namespace: String::new(),
                name: String::new(),
                path: path.clone(),
            },
        }
    }

    fn access_request(&self) -> AccessRequest {
        if self.resource_request {
            AccessRequest::Resource {
                verb: self.verb.clone(),
                group: self.api_group.clone(),
                resource: self.resource.clone(),
                subresource: self.subresource.clone(),
                namespace: self.namespace.clone(),
                name: self.name.clone(),
            }
        } else {
            AccessRequest::NonResource {
                verb: self.verb.clone(),
                path: self.path.clone(),
            }
        }
    }
}

/// How generous the generated roles are (audit2rbac's `GenerateOptions`).
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Verbs added with a verb seen: `watch` → `get, list` and so on.
    pub verb_expansions: HashMap<String, Vec<String>>,
    /// The same operation on several names is allowed on every name.
    pub expand_multiple_names_to_unnamed: bool,
    /// The same operation in several namespaces is allowed in every namespace.
    pub expand_multiple_namespaces_to_cluster_scoped: bool,
    /// The name of every generated object.
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
}

impl Default for GenerateOptions {
    /// audit2rbac's defaults, with objects named `palisade`.
    fn default() -> Self {
        let expand = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        GenerateOptions {
            verb_expansions: HashMap::from([
                ("watch".to_string(), expand(&["get", "list"])),
                ("list".to_string(), expand(&["get", "watch"])),
                ("update".to_string(), expand(&["get", "patch"])),
                ("patch".to_string(), expand(&["get", "update"])),
            ]),
            expand_multiple_names_to_unnamed: true,
            expand_multiple_namespaces_to_cluster_scoped: true,
            name: "palisade".to_string(),
            labels: Vec::new(),
            annotations: Vec::new(),
        }
    }
}

impl GenerateOptions {
    /// Names and labels for a user, as the CLI sets them: `palisade:alice`,
    /// labels `palisade.dev/generated: "true"` and `palisade.dev/user`.
    pub fn for_user(username: &str) -> GenerateOptions {
        GenerateOptions {
            name: format!("palisade:{}", sanitize_name(username)),
            labels: vec![
                ("palisade.dev/generated".to_string(), "true".to_string()),
                ("palisade.dev/user".to_string(), sanitize_label(username)),
            ],
            ..GenerateOptions::default()
        }
    }
}

/// A name usable in object names: `[^a-zA-Z0-9:]` → `-`, lowercased.
pub fn sanitize_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == ':' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// A label value: `[^a-zA-Z0-9]` → `-`, lowercased.
pub fn sanitize_label(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// A generated Role or ClusterRole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedRole {
    pub name: String,
    /// `None` for the ClusterRole.
    pub namespace: Option<String>,
    pub rules: Vec<PolicyRule>,
}

/// A generated subject (audit2rbac's `userToSubject`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedSubject {
    pub kind: String,
    pub name: String,
    #[serde(rename = "apiGroup", skip_serializing_if = "String::is_empty")]
    pub api_group: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

impl GeneratedSubject {
    pub fn of(user: &UserInfo) -> GeneratedSubject {
        match split_service_account(&user.username) {
            Some((ns, name)) => GeneratedSubject {
                kind: "ServiceAccount".into(),
                name: name.into(),
                api_group: String::new(),
                namespace: ns.into(),
            },
            None => GeneratedSubject {
                kind: "User".into(),
                name: user.username.clone(),
                api_group: RBAC_GROUP.into(),
                namespace: String::new(),
            },
        }
    }

    fn applies_to(&self, user: &UserInfo) -> bool {
        match self.kind.as_str() {
            "ServiceAccount" => {
                split_service_account(&user.username) == Some((&self.namespace, &self.name))
            }
            _ => user.username == self.name,
        }
    }
}

/// A generated RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedBinding {
    pub name: String,
    pub namespace: Option<String>,
    pub role_kind: &'static str,
    pub role_name: String,
    pub subjects: Vec<GeneratedSubject>,
}

/// The generated objects, in audit2rbac's output order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generated {
    pub roles: Vec<GeneratedRole>,
    pub cluster_roles: Vec<GeneratedRole>,
    pub role_bindings: Vec<GeneratedBinding>,
    pub cluster_role_bindings: Vec<GeneratedBinding>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
}

impl Generated {
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.cluster_roles.is_empty()
    }
}

/// The roles under construction: one ClusterRole, one Role per namespace.
struct Draft {
    cluster: Option<(GeneratedRole, GeneratedSubject)>,
    namespaced: Vec<(GeneratedRole, GeneratedSubject)>,
}

impl Draft {
    fn allows(&self, request: &LoggedRequest) -> bool {
        let access = request.access_request();
        if let Some((role, subject)) = &self.cluster {
            if subject.applies_to(&request.user) && role.rules.iter().any(|r| r.allows(&access)) {
                return true;
            }
        }
        if !request.resource_request || request.namespace.is_empty() {
            return false;
        }
        self.namespaced.iter().any(|(role, subject)| {
            role.namespace.as_deref() == Some(request.namespace.as_str())
                && subject.applies_to(&request.user)
                && role.rules.iter().any(|r| r.allows(&access))
        })
    }

    fn cluster_role(&mut self, name: &str, user: &UserInfo) -> &mut GeneratedRole {
        let (role, _) = self.cluster.get_or_insert_with(|| {
            (
                GeneratedRole {
                    name: name.to_string(),
                    namespace: None,
                    rules: Vec::new(),
                },
                GeneratedSubject::of(user),
            )
        });
        role
    }

    fn role(&mut self, name: &str, namespace: &str, user: &UserInfo) -> &mut GeneratedRole {
        let i = match self
            .namespaced
            .iter()
            .position(|(r, _)| r.namespace.as_deref() == Some(namespace))
        {
            Some(i) => i,
            None => {
                self.namespaced.push((
                    GeneratedRole {
                        name: name.to_string(),
                        namespace: Some(namespace.to_string()),
                        rules: Vec::new(),
                    },
                    GeneratedSubject::of(user),
                ));
                self.namespaced.len() - 1
            }
        };
        &mut self.namespaced[i].0
    }
}

/// The policy every cluster has that audit2rbac assumes when it generates:
/// `system:discovery` (`get` on `/healthz`, `/version`, `/swagger*`,
/// `/openapi*`, `/api*`) bound to all users, signed in or not. Requests it
/// allows are not generated.
pub fn discovery_policy() -> Rbac {
    Rbac::from_objects(&discovery_objects())
}

/// The objects of [`discovery_policy`], to add to a policy of one's own.
pub fn discovery_objects() -> Vec<palisade_model::Object> {
    let yaml = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: \"system:discovery\"}
rules:
- {verbs: [get], nonResourceURLs: [/healthz, /version, /swagger*, /openapi*, /api*]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: \"system:discovery\"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: \"system:discovery\"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: \"system:authenticated\"}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: \"system:unauthenticated\"}
";
    palisade_model::load_text("discovery", yaml, &palisade_model::LoadOptions::default()).objects
}

/// Generates roles and bindings covering `requests` that `existing` does not
/// already allow.
pub fn generate(
    existing: &Rbac,
    requests: &[LoggedRequest],
    options: &GenerateOptions,
) -> Generated {
    let mut requests = requests.to_vec();
    go_stable_sort(&mut requests, request_less);
    let mut draft = Draft {
        cluster: None,
        namespaced: Vec::new(),
    };
    let expand_ns = options.expand_multiple_namespaces_to_cluster_scoped;
    let expand_names = options.expand_multiple_names_to_unnamed;
    for original in &requests {
        if existing
            .authorize(&original.user, &original.access_request())
            .allowed()
            || draft.allows(original)
        {
            continue;
        }
        if !original.resource_request {
            let rule = PolicyRule {
                verbs: vec![original.verb.clone()],
                non_resource_urls: vec![original.path.clone()],
                ..PolicyRule::default()
            };
            draft
                .cluster_role(&options.name, &original.user)
                .rules
                .push(rule);
            continue;
        }
        let mut request = original.clone();
        let widened = |r: &LoggedRequest| {
            let mut r = r.clone();
            if expand_names {
                r.name.clear();
            }
            if expand_ns {
                r.namespace.clear();
            }
            r.path.clear();
            r
        };
        let key = widened(&request);
        if (!request.namespace.is_empty() && expand_ns)
            || (!request.name.is_empty() && expand_names)
        {
            for other in &requests {
                // Compared with the request as widened so far (audit2rbac
                // updates it inside this loop).
                let different_namespace =
                    !other.namespace.is_empty() && other.namespace != request.namespace;
                let different_name = !other.name.is_empty() && other.name != request.name;
                if !other.resource_request || widened(other) != key {
                    continue;
                }
                if expand_ns && different_namespace {
                    request.namespace.clear();
                }
                if expand_names && different_name {
                    request.name.clear();
                }
            }
        }
        let rule = resource_rule(&request, options);
        let role = if request.namespace.is_empty() {
            draft.cluster_role(&options.name, &request.user)
        } else {
            draft.role(&options.name, &request.namespace, &request.user)
        };
        role.rules.push(rule);
    }

    let mut generated = Generated {
        labels: options.labels.clone(),
        annotations: options.annotations.clone(),
        ..Generated::default()
    };
    for (mut role, subject) in draft.namespaced {
        role.rules = compact_rules(&role.rules);
        generated.role_bindings.push(GeneratedBinding {
            name: options.name.clone(),
            namespace: role.namespace.clone(),
            role_kind: "Role",
            role_name: role.name.clone(),
            subjects: vec![subject],
        });
        generated.roles.push(role);
    }
    if let Some((mut role, subject)) = draft.cluster {
        role.rules = compact_rules(&role.rules);
        generated.cluster_role_bindings.push(GeneratedBinding {
            name: options.name.clone(),
            namespace: None,
            role_kind: "ClusterRole",
            role_name: role.name.clone(),
            subjects: vec![subject],
        });
        generated.cluster_roles.push(role);
    }
    generated
}

fn resource_rule(request: &LoggedRequest, options: &GenerateOptions) -> PolicyRule {
    let mut verbs = vec![request.verb.clone()];
    if let Some(more) = options.verb_expansions.get(&request.verb) {
        verbs.extend(more.iter().cloned());
    }
    let resource = if request.subresource.is_empty() {
        request.resource.clone()
    } else {
        format!("{}/{}", request.resource, request.subresource)
    };
    PolicyRule {
        verbs,
        api_groups: vec![request.api_group.clone()],
        resources: vec![resource],
        resource_names: if request.name.is_empty() {
            Vec::new()
        } else {
            vec![request.name.clone()]
        },
        non_resource_urls: Vec::new(),
    }
}

/// audit2rbac's request order (`sortRequests`). Not a strict weak order
/// (`list < get` overrides the group order), hence [`go_stable_sort`].
fn request_less(a: &LoggedRequest, b: &LoggedRequest) -> bool {
    if a.resource_request != b.resource_request {
        return !a.resource_request;
    }
    if a.resource_request {
        let (ca, cb) = (a.namespace.is_empty(), b.namespace.is_empty());
        if ca != cb {
            return ca;
        }
        let (ua, ub) = (a.name.is_empty(), b.name.is_empty());
        if ua != ub {
            return ua;
        }
        if a.verb == "list" && b.verb == "get" {
            return true;
        }
        if a.verb == "get" && b.verb == "list" {
            return false;
        }
        let keys = |r: &'_ LoggedRequest| {
            [
                r.api_group.clone(),
                r.resource.clone(),
                r.subresource.clone(),
                r.namespace.clone(),
                r.name.clone(),
                r.verb.clone(),
            ]
        };
        return keys(a) < keys(b);
    }
    (&a.verb, &a.path) < (&b.verb, &b.path)
}

/// Go's `sort.SliceStable`: insertion sort of blocks of 20, then `symMerge`
/// rounds. Reproduced so that a comparator that is not a strict weak order
/// orders elements exactly as audit2rbac's Go does (Rust's sorts may not).
pub(crate) fn go_stable_sort<T>(data: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = data.len();
    let less = |d: &[T], i: usize, j: usize| less(&d[i], &d[j]);
    let mut block = 20usize;
    let (mut a, mut b) = (0usize, block);
    while b <= n {
        insertion_sort(data, a, b, &less);
        a = b;
        b += block;
    }
    insertion_sort(data, a, n, &less);
    while block < n {
        let (mut a, mut b) = (0usize, 2 * block);
        while b <= n {
            sym_merge(data, a, a + block, b, &less);
            a = b;
            b += 2 * block;
        }
        let m = a + block;
        if m < n {
            sym_merge(data, a, m, n, &less);
        }
        block *= 2;
    }
}

fn insertion_sort<T>(
    data: &mut [T],
    a: usize,
    b: usize,
    less: &impl Fn(&[T], usize, usize) -> bool,
) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(data, j, j - 1) {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn sym_merge<T>(
    data: &mut [T],
    a: usize,
    m: usize,
    b: usize,
    less: &impl Fn(&[T], usize, usize) -> bool,
) {
    if m - a == 1 {
        // Binary search for where data[a] goes in data[m..b], then rotate it there.
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if less(data, h, a) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..i.saturating_sub(1) {
            data.swap(k, k + 1);
        }
        return;
    }
    if b - m == 1 {
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !less(data, m, h) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1);
            k -= 1;
        }
        return;
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !less(data, p - c, c) {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        data[start..end].rotate_left(m - start);
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid, less);
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b, less);
    }
}

/// audit2rbac's `compactRules`: breakdown, compaction by (group, resource,
/// name), verbs sorted and deduplicated, merging by names then resources,
/// sorted by groups and compact string.
pub(crate) fn compact_rules(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    // BreakdownRule, as `can-i --list` does it.
    let mut broken: Vec<PolicyRule> = Vec::new();
    for rule in rules {
        crate::list::breakdown(rule, &mut broken);
    }
    // CompactRules: simple rules (one group, one resource, at most one name)
    // merged by (group, resource, name), after the others.
    let mut compacted: Vec<PolicyRule> = Vec::new();
    let mut simple: Vec<PolicyRule> = Vec::new();
    let mut by_key: HashMap<(String, String, Option<String>), usize> = HashMap::new();
    for rule in broken {
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
    for rule in &mut compacted {
        rule.verbs.sort();
        rule.verbs.dedup();
    }
    // Accumulate: same but for names → union of names; same but for
    // resources → union of resources.
    let mut accumulated: Vec<PolicyRule> = Vec::new();
    for rule in compacted {
        if rule.resources.is_empty() {
            accumulated.push(rule);
            continue;
        }
        let nameless = PolicyRule {
            resource_names: Vec::new(),
            ..rule.clone()
        };
        let resourceless = PolicyRule {
            resources: Vec::new(),
            ..rule.clone()
        };
        let mut merged = false;
        for acc in accumulated.iter_mut() {
            let acc_nameless = PolicyRule {
                resource_names: Vec::new(),
                ..acc.clone()
            };
            if acc_nameless == nameless {
                acc.resource_names
                    .extend(rule.resource_names.iter().cloned());
                acc.resource_names.sort();
                acc.resource_names.dedup();
                merged = true;
                break;
            }
            let acc_resourceless = PolicyRule {
                resources: Vec::new(),
                ..acc.clone()
            };
            if acc_resourceless == resourceless {
                acc.resources.extend(rule.resources.iter().cloned());
                acc.resources.sort();
                acc.resources.dedup();
                merged = true;
                break;
            }
        }
        if !merged {
            accumulated.push(rule);
        }
    }
    accumulated.sort_by_cached_key(|r| (r.api_groups.join(","), r.compact_string()));
    accumulated
}

impl Generated {
    /// The generated objects as Kubernetes objects, in audit2rbac's order:
    /// Roles, ClusterRoles, RoleBindings, ClusterRoleBindings.
    pub fn objects(&self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        for role in self.roles.iter().chain(&self.cluster_roles) {
            let kind = if role.namespace.is_some() {
                "Role"
            } else {
                "ClusterRole"
            };
            out.push(serde_json::json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": kind,
                "metadata": self.metadata(&role.name, role.namespace.as_deref()),
                "rules": role.rules,
            }));
        }
        for binding in self.role_bindings.iter().chain(&self.cluster_role_bindings) {
            let kind = if binding.namespace.is_some() {
                "RoleBinding"
            } else {
                "ClusterRoleBinding"
            };
            out.push(serde_json::json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": kind,
                "metadata": self.metadata(&binding.name, binding.namespace.as_deref()),
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": binding.role_kind, "name": binding.role_name},
                "subjects": binding.subjects,
            }));
        }
        for object in &mut out {
            strip_empty(object);
        }
        out
    }

    fn metadata(&self, name: &str, namespace: Option<&str>) -> serde_json::Value {
        let map = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect::<serde_json::Map<_, _>>()
        };
        let mut m = serde_json::json!({"name": name});
        if let Some(ns) = namespace {
            m["namespace"] = ns.into();
        }
        if !self.labels.is_empty() {
            m["labels"] = map(&self.labels).into();
        }
        if !self.annotations.is_empty() {
            m["annotations"] = map(&self.annotations).into();
        }
        m
    }

    /// The objects as a YAML stream, written as audit2rbac writes them (keys
    /// sorted, sequences not indented under their key, `---` between objects).
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        for (i, object) in self.objects().iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            crate::yaml_out::write(&mut out, object, 0);
        }
        out
    }
}

/// Drops empty lists (Go's `omitempty`), recursively.
fn strip_empty(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !matches!(v, serde_json::Value::Array(a) if a.is_empty()));
            map.values_mut().for_each(strip_empty);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_empty),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_stable_sort_is_stable_and_sorts() {
        let mut v: Vec<(u32, usize)> = (0..200).map(|i| ((i * 7919 % 13) as u32, i)).collect();
        go_stable_sort(&mut v, |a, b| a.0 < b.0);
        assert!(v
            .windows(2)
            .all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1)));
        let mut empty: Vec<u32> = Vec::new();
        go_stable_sort(&mut empty, |a, b| a < b);
        // A comparator that is not an order must not panic.
        let mut w: Vec<u32> = (0..100).collect();
        go_stable_sort(&mut w, |a, b| (a + b) % 3 == 0);
        assert_eq!(w.len(), 100);
    }

    #[test]
    fn compaction_merges_names_then_resources() {
        let r = |verb: &str, res: &str, name: &str| PolicyRule {
            verbs: vec![verb.into()],
            api_groups: vec!["".into()],
            resources: vec![res.into()],
            resource_names: if name.is_empty() {
                vec![]
            } else {
                vec![name.into()]
            },
            non_resource_urls: vec![],
        };
        let out = compact_rules(&[
            r("get", "pods", "b"),
            r("get", "pods", "a"),
            r("list", "secrets", ""),
            r("get", "secrets", ""),
            r("get", "configmaps", ""),
        ]);
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(out[0].resources, ["configmaps"]);
        assert_eq!(out[0].verbs, ["get"]);
        assert_eq!(out[1].resource_names, ["a", "b"]);
        assert_eq!(out[2].verbs, ["get", "list"]);
    }

    #[test]
    fn sanitizers() {
        assert_eq!(
            sanitize_name("system:serviceaccount:ns1:sa1"),
            "system:serviceaccount:ns1:sa1"
        );
        assert_eq!(sanitize_name("Alice@Example.com"), "alice-example-com");
        assert_eq!(
            sanitize_label("system:serviceaccount:ns1:sa1"),
            "system-serviceaccount-ns1-sa1"
        );
    }
}
