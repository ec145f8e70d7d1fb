//! Escalation paths: chains a reviewer can follow from a subject, through a
//! grant, to a stronger identity — ending at cluster-admin where they do.
//!
//! An identity is a user, a group or a ServiceAccount of the policy's
//! bindings. Its grants are those of the bindings naming it, plus the groups
//! every such identity is in (`system:authenticated`; for a ServiceAccount
//! `system:serviceaccounts` and `system:serviceaccounts:NS`). A grant leads
//! to another identity when Kubernetes lets its holder act as it:
//!
//! - creating Pods or workloads, creating Secrets (a
//!   `kubernetes.io/service-account-token` Secret), creating ServiceAccount
//!   tokens, exec/attach into Pods, impersonating ServiceAccounts, or full
//!   control of the namespace — every ServiceAccount of the namespace (of
//!   every namespace through a ClusterRoleBinding);
//! - `nodes/proxy` (the kubelet runs commands in any Pod) and changing
//!   admission webhooks (a mutating webhook can change any Pod) — every
//!   ServiceAccount of every namespace;
//! - and straight to cluster-admin: every verb on every resource through a
//!   ClusterRoleBinding, `escalate` on ClusterRoles, `bind` on ClusterRoles
//!   with `create` on ClusterRoleBindings, impersonating users or groups
//!   (`system:masters`), or approving client certificates (CSR `create`,
//!   `approval` and `approve` on signers).
//!
//! Only ServiceAccounts the policy names are targets: one that no binding
//! names holds only what all ServiceAccounts hold. A path is reported when it
//! reaches cluster-admin, or a ServiceAccount holding a more severe risk than
//! the starting subject; the shortest such path per target is kept.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use palisade_model::{AccessRequest, Authorizer, Severity, UserInfo};
use serde::Serialize;

use crate::identity::{impersonate, split_service_account, AUTHENTICATED, SERVICE_ACCOUNTS};
use crate::model::{BindingId, BindingKind, Rbac, RoleId, SubjectKind};
use crate::risks::{checks::full_access, is_default, rule_grants, rule_power, RiskOptions};

/// A subject, or cluster-admin (the end of the strongest paths).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Identity {
    User { name: String },
    Group { name: String },
    ServiceAccount { namespace: String, name: String },
    ClusterAdmin,
}

impl Identity {
    pub fn describe(&self) -> String {
        match self {
            Identity::User { name } => format!("User {name:?}"),
            Identity::Group { name } => format!("Group {name:?}"),
            Identity::ServiceAccount { namespace, name } if name == "*" => {
                format!("any ServiceAccount of namespace {namespace}")
            }
            Identity::ServiceAccount { namespace, name } => {
                format!("ServiceAccount \"{namespace}/{name}\"")
            }
            Identity::ClusterAdmin => "cluster-admin (everything)".to_string(),
        }
    }

    fn user_info(&self) -> Option<UserInfo> {
        match self {
            Identity::User { name } => Some(impersonate(name, &[])),
            Identity::Group { name } => Some(UserInfo {
                username: String::new(),
                groups: vec![name.clone(), AUTHENTICATED.to_string()],
            }),
            Identity::ServiceAccount { namespace, name } => Some(UserInfo {
                username: format!("system:serviceaccount:{namespace}:{name}"),
                groups: vec![
                    SERVICE_ACCOUNTS.to_string(),
                    format!("{SERVICE_ACCOUNTS}:{namespace}"),
                    AUTHENTICATED.to_string(),
                ],
            }),
            Identity::ClusterAdmin => None,
        }
    }
}

/// One link of a path: `from` holds `capability` through this grant, which
/// makes it able to act as `to`.
#[derive(Debug, Clone, Serialize)]
pub struct PathStep {
    pub from: Identity,
    pub binding: BindingId,
    pub role: RoleId,
    /// 0-based rule index in the role's (aggregated) rules.
    pub rule: usize,
    /// What the grant lets `from` do: `create pods in namespace dev`.
    pub capability: String,
    pub to: Identity,
}

/// A chain from a subject to a stronger identity.
#[derive(Debug, Clone, Serialize)]
pub struct EscalationPath {
    pub start: Identity,
    pub steps: Vec<PathStep>,
    #[serde(rename = "clusterAdmin")]
    pub cluster_admin: bool,
    /// The most severe risk the end of the path holds (critical for cluster-admin).
    #[serde(rename = "endSeverity")]
    pub end_severity: Option<Severity>,
}

/// Where a capability leads.
enum Lead {
    /// The ServiceAccounts of a namespace (`None`: of every namespace).
    ServiceAccounts(Option<String>),
    ClusterAdmin,
}

/// The longest chain followed.
const MAX_STEPS: usize = 5;

struct Graph<'a> {
    rbac: &'a Rbac,
    /// ServiceAccounts the policy names, by namespace.
    service_accounts: BTreeMap<String, Vec<Identity>>,
    edges: HashMap<Identity, Vec<PathStep>>,
    power: HashMap<Identity, Option<Severity>>,
    /// Whether `get` alone opens exec, attach and port-forward.
    websocket_get: bool,
}

impl Rbac {
    /// Escalation paths from every subject of the (non-default) bindings, on
    /// a cluster of unknown version.
    pub fn escalation_paths(&self) -> Vec<EscalationPath> {
        self.escalation_paths_with(&RiskOptions::default())
    }

    /// [`Rbac::escalation_paths`] on a cluster of a known version.
    pub fn escalation_paths_with(&self, options: &RiskOptions) -> Vec<EscalationPath> {
        let mut starts: Vec<Identity> = Vec::new();
        let mut service_accounts: BTreeMap<String, Vec<Identity>> = BTreeMap::new();
        for binding in &self.bindings {
            if is_default(&binding.labels) {
                continue;
            }
            for subject in &binding.subjects {
                let identity = match subject.kind {
                    SubjectKind::User => match split_service_account(&subject.name) {
                        Some((ns, name)) => Identity::ServiceAccount {
                            namespace: ns.into(),
                            name: name.into(),
                        },
                        None => Identity::User {
                            name: subject.name.clone(),
                        },
                    },
                    SubjectKind::Group => {
                        // A namespace's ServiceAccounts as a group stand for
                        // any ServiceAccount of it ("NS/*").
                        if let Some(ns) = subject
                            .name
                            .strip_prefix("system:serviceaccounts:")
                            .filter(|ns| !ns.is_empty())
                        {
                            let any = Identity::ServiceAccount {
                                namespace: ns.to_string(),
                                name: "*".to_string(),
                            };
                            let list = service_accounts.entry(ns.to_string()).or_default();
                            if !list.contains(&any) {
                                list.push(any);
                            }
                        }
                        Identity::Group {
                            name: subject.name.clone(),
                        }
                    }
                    SubjectKind::ServiceAccount => match binding.subject_namespace(subject) {
                        Some(ns) => Identity::ServiceAccount {
                            namespace: ns.into(),
                            name: subject.name.clone(),
                        },
                        None => continue,
                    },
                    SubjectKind::Other(_) => continue,
                };
                if let Identity::ServiceAccount { namespace, .. } = &identity {
                    let list = service_accounts.entry(namespace.clone()).or_default();
                    if !list.contains(&identity) {
                        list.push(identity.clone());
                    }
                }
                if !starts.contains(&identity) {
                    starts.push(identity);
                }
            }
        }
        starts.sort();
        let mut graph = Graph {
            rbac: self,
            service_accounts,
            edges: HashMap::new(),
            power: HashMap::new(),
            websocket_get: options.websocket_get_is_enough(),
        };
        let mut paths = Vec::new();
        for start in starts {
            paths.extend(graph.paths_from(&start));
        }
        paths
    }
}

impl Graph<'_> {
    /// The bindings that apply to an identity, anywhere, with where they hold.
    fn bindings(&self, identity: &Identity) -> Vec<BindingId> {
        let Some(user) = identity.user_info() else {
            return Vec::new();
        };
        let index = &self.rbac.index;
        let mut ids: Vec<BindingId> = Vec::new();
        if let Some(b) = index.by_user.get(&user.username) {
            ids.extend(b);
        }
        for g in &user.groups {
            if let Some(b) = index.by_group.get(g) {
                ids.extend(b);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids.retain(|&b| {
            self.rbac.bindings[b]
                .applies_to(&user.username, &user.groups)
                .is_some()
        });
        ids
    }

    fn power(&mut self, identity: &Identity) -> Option<Severity> {
        if *identity == Identity::ClusterAdmin {
            return Some(Severity::Critical);
        }
        if let Some(p) = self.power.get(identity) {
            return *p;
        }
        let mut best = None;
        for b in self.bindings(identity) {
            let binding = &self.rbac.bindings[b];
            let Some(role) = binding.role.and_then(|r| self.rbac.roles.get(r)) else {
                continue;
            };
            let scope = scope_of(self.rbac, b);
            for rule in &role.rules {
                best = best.max(rule_power(&rule.rule, scope.as_deref(), self.websocket_get));
            }
        }
        self.power.insert(identity.clone(), best);
        best
    }

    fn edges(&mut self, identity: &Identity) -> Vec<PathStep> {
        if let Some(e) = self.edges.get(identity) {
            return e.clone();
        }
        let mut steps = Vec::new();
        let user = identity.user_info();
        for b in self.bindings(identity) {
            let binding = &self.rbac.bindings[b];
            let Some(role_id) = binding.role else {
                continue;
            };
            let Some(role) = self.rbac.roles.get(role_id) else {
                continue;
            };
            let scope = scope_of(self.rbac, b);
            for (i, rule) in role.rules.iter().enumerate() {
                for (capability, lead) in leads(
                    self.rbac,
                    user.as_ref(),
                    &rule.rule,
                    scope.as_deref(),
                    self.websocket_get,
                ) {
                    let targets: Vec<Identity> = match &lead {
                        Lead::ClusterAdmin => vec![Identity::ClusterAdmin],
                        Lead::ServiceAccounts(Some(ns)) => {
                            self.service_accounts.get(ns).cloned().unwrap_or_default()
                        }
                        Lead::ServiceAccounts(None) => {
                            self.service_accounts.values().flatten().cloned().collect()
                        }
                    };
                    for to in targets {
                        if to == *identity || steps.iter().any(|s: &PathStep| s.to == to) {
                            continue;
                        }
                        steps.push(PathStep {
                            from: identity.clone(),
                            binding: b,
                            role: role_id,
                            rule: i,
                            capability: capability.clone(),
                            to,
                        });
                    }
                }
            }
        }
        self.edges.insert(identity.clone(), steps.clone());
        steps
    }

    fn paths_from(&mut self, start: &Identity) -> Vec<EscalationPath> {
        let start_power = self.power(start);
        let mut parent: HashMap<Identity, PathStep> = HashMap::new();
        let mut seen: HashSet<Identity> = HashSet::from([start.clone()]);
        let mut queue: VecDeque<(Identity, usize)> = VecDeque::from([(start.clone(), 0)]);
        let mut ends: Vec<Identity> = Vec::new();
        while let Some((node, depth)) = queue.pop_front() {
            if depth >= MAX_STEPS || node == Identity::ClusterAdmin {
                continue;
            }
            for step in self.edges(&node) {
                if !seen.insert(step.to.clone()) {
                    continue;
                }
                let to = step.to.clone();
                parent.insert(to.clone(), step);
                let stronger = to == Identity::ClusterAdmin || self.power(&to) > start_power;
                if stronger {
                    ends.push(to.clone());
                }
                queue.push_back((to, depth + 1));
            }
        }
        let mut paths = Vec::new();
        for end in ends {
            let mut steps = Vec::new();
            let mut at = end.clone();
            while let Some(step) = parent.get(&at) {
                at = step.from.clone();
                steps.push(step.clone());
                if at == *start {
                    break;
                }
            }
            steps.reverse();
            let end_severity = self.power(&end);
            paths.push(EscalationPath {
                start: start.clone(),
                steps,
                cluster_admin: end == Identity::ClusterAdmin,
                end_severity,
            });
        }
        // A path that is the beginning of another one says nothing more.
        let inner: HashSet<Identity> = paths
            .iter()
            .flat_map(|p| p.steps.iter().rev().skip(1).map(|s| s.to.clone()))
            .collect();
        paths.retain(|p| p.steps.last().is_none_or(|s| !inner.contains(&s.to)));
        // cluster-admin first, then the strongest ends, then the shortest.
        paths.sort_by(|a, b| {
            b.cluster_admin
                .cmp(&a.cluster_admin)
                .then(b.end_severity.cmp(&a.end_severity))
                .then(a.steps.len().cmp(&b.steps.len()))
        });
        paths
    }
}

fn scope_of(rbac: &Rbac, binding: BindingId) -> Option<String> {
    let b = &rbac.bindings[binding];
    match b.kind {
        BindingKind::ClusterRoleBinding => None,
        BindingKind::RoleBinding => b.namespace.clone(),
    }
}

/// What one rule, held through a binding of `scope`, leads to.
fn leads(
    rbac: &Rbac,
    user: Option<&UserInfo>,
    rule: &crate::rule::PolicyRule,
    scope: Option<&str>,
    websocket_get: bool,
) -> Vec<(String, Lead)> {
    let mut out = Vec::new();
    let where_ = match scope {
        Some(ns) => format!("in namespace {ns}"),
        None => "in every namespace".to_string(),
    };
    let sas = || Lead::ServiceAccounts(scope.map(str::to_string));
    let can = |verb: &str, group: &str, resource: &str| {
        user.is_some_and(|u| {
            rbac.authorize(
                u,
                &AccessRequest::Resource {
                    verb: verb.into(),
                    group: group.into(),
                    resource: resource.into(),
                    subresource: String::new(),
                    namespace: String::new(),
                    name: String::new(),
                },
            )
            .allowed()
        })
    };
    if full_access(rule) {
        match scope {
            None => out.push((
                "do everything, cluster-wide (* on *.*)".to_string(),
                Lead::ClusterAdmin,
            )),
            Some(ns) => out.push((
                format!("do everything in namespace {ns}, such as run Pods as its ServiceAccounts"),
                sas(),
            )),
        }
        return out;
    }
    if scope.is_none() {
        if rule_grants("rbac-risk/escalate", rule, None, websocket_get)
            && rule.allows(&resource(
                "escalate",
                "rbac.authorization.k8s.io",
                "clusterroles",
            ))
        {
            out.push((
                "escalate ClusterRoles: write any permission into a role it holds".to_string(),
                Lead::ClusterAdmin,
            ));
        }
        if rule.allows(&resource(
            "bind",
            "rbac.authorization.k8s.io",
            "clusterroles",
        )) && can("create", "rbac.authorization.k8s.io", "clusterrolebindings")
        {
            out.push(("bind any ClusterRole (with create on clusterrolebindings): bind cluster-admin to itself".to_string(), Lead::ClusterAdmin));
        }
        if rule.allows(&resource("impersonate", "", "groups"))
            || rule.allows(&resource("impersonate", "", "users"))
        {
            out.push((
                "impersonate any user or group, such as the group system:masters".to_string(),
                Lead::ClusterAdmin,
            ));
        }
        if rule_grants("rbac-risk/approve-csr", rule, None, websocket_get)
            && can(
                "create",
                "certificates.k8s.io",
                "certificatesigningrequests",
            )
            && can(
                "update",
                "certificates.k8s.io",
                "certificatesigningrequests/approval",
            )
            && can("approve", "certificates.k8s.io", "signers")
        {
            out.push((
                "request and approve a client certificate for the group system:masters".to_string(),
                Lead::ClusterAdmin,
            ));
        }
        if rule_grants("rbac-risk/nodes-proxy", rule, None, websocket_get) {
            out.push((
                "call the kubelet API (nodes/proxy) and run commands in any Pod".to_string(),
                Lead::ServiceAccounts(None),
            ));
        }
        if rule_grants("rbac-risk/admission-webhooks", rule, None, websocket_get) {
            out.push((
                "register a mutating webhook that changes any Pod created".to_string(),
                Lead::ServiceAccounts(None),
            ));
        }
    }
    for (id, what) in [
        ("rbac-risk/create-workloads", "create Pods or workloads"),
        (
            "rbac-risk/write-secrets",
            "create ServiceAccount token Secrets",
        ),
        (
            "rbac-risk/service-account-token",
            "create ServiceAccount tokens",
        ),
        ("rbac-risk/pod-exec", "exec into running Pods"),
    ] {
        if rule_grants(id, rule, scope, websocket_get) {
            out.push((
                format!("{what} {where_}, and so act as their ServiceAccounts"),
                sas(),
            ));
        }
    }
    if rule.allows(&resource("impersonate", "", "serviceaccounts")) {
        out.push((format!("impersonate ServiceAccounts {where_}"), sas()));
    }
    if let Some(ns) = scope {
        let binds = rule.allows(&resource(
            "bind",
            "rbac.authorization.k8s.io",
            "clusterroles",
        )) || rule.allows(&resource("escalate", "rbac.authorization.k8s.io", "roles"));
        if binds {
            out.push((
                format!(
                    "bind or escalate roles in namespace {ns}, giving itself full control there"
                ),
                sas(),
            ));
        }
    }
    out
}

fn resource(verb: &str, group: &str, resource: &str) -> AccessRequest {
    let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
    AccessRequest::Resource {
        verb: verb.into(),
        group: group.into(),
        resource: resource.into(),
        subresource: subresource.into(),
        namespace: String::new(),
        name: String::new(),
    }
}

impl Rbac {
    /// Paths as indented chains, one block per path.
    pub fn paths_text(&self, paths: &[EscalationPath]) -> String {
        let mut out = String::new();
        for path in paths {
            let end = path
                .steps
                .last()
                .map(|s| s.to.describe())
                .unwrap_or_default();
            out.push_str(&format!(
                "{} → {}{}\n",
                path.start.describe(),
                end,
                match (path.cluster_admin, path.end_severity) {
                    (true, _) => " [cluster-admin]".to_string(),
                    (false, Some(s)) => format!(" [holds {s} risks]"),
                    (false, None) => String::new(),
                }
            ));
            for step in &path.steps {
                let b = &self.bindings[step.binding];
                let role = self.roles.get(step.role);
                let rule_at = role
                    .and_then(|r| r.rules.get(step.rule))
                    .map(|r| r.location.to_string())
                    .unwrap_or_default();
                out.push_str(&format!(
                    "  {} via {} ({}) of {} rule #{} ({})\n    can {}\n    → {}\n",
                    step.from.describe(),
                    b.describe(),
                    b.location,
                    role.map(|r| r.describe()).unwrap_or_default(),
                    step.rule + 1,
                    rule_at,
                    step.capability,
                    step.to.describe()
                ));
            }
            out.push('\n');
        }
        out
    }
}

impl Rbac {
    /// Paths as JSON, each step with its binding, role and rule resolved.
    pub fn paths_json(&self, paths: &[EscalationPath]) -> serde_json::Value {
        let items: Vec<serde_json::Value> = paths
            .iter()
            .map(|p| {
                let steps: Vec<serde_json::Value> = p
                    .steps
                    .iter()
                    .map(|s| {
                        let b = self.bindings.get(s.binding);
                        let role = self.roles.get(s.role);
                        serde_json::json!({
                            "from": s.from,
                            "binding": b.map(|b| serde_json::json!({
                                "kind": b.kind.as_str(), "name": b.name,
                                "namespace": b.namespace, "location": b.location,
                            })),
                            "role": role.map(|r| serde_json::json!({
                                "kind": r.kind.as_str(), "name": r.name, "namespace": r.namespace,
                            })),
                            "rule": role.and_then(|r| r.rules.get(s.rule)).map(|r| serde_json::json!({
                                "number": s.rule + 1, "location": r.location, "rule": r.rule,
                            })),
                            "capability": s.capability,
                            "to": s.to,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "start": p.start,
                    "clusterAdmin": p.cluster_admin,
                    "endSeverity": p.end_severity,
                    "steps": steps,
                })
            })
            .collect();
        serde_json::json!({ "paths": items })
    }
}
