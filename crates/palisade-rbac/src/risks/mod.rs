//! Risky grants: which rules give which dangerous capability, and to whom.
//!
//! Each check is one file in `checks/`, documented in its `//!` comment
//! (`palisade explain rbac-risk/...` prints it). Checks come in three forms:
//!
//! - *grant* checks: a rule allows one of a set of requests on any object
//!   (decided by [`crate::PolicyRule::allows`], the authorizer's own matcher,
//!   with an empty object name, so `resourceNames` restrict as they do for
//!   the API server). Each request says where it can be granted: a namespaced
//!   resource through a RoleBinding of any namespace, a cluster-scoped one
//!   (nodes, users, webhooks) only through a ClusterRoleBinding, and a few
//!   (the CoreDNS ConfigMap) only in one namespace;
//! - *rule* checks: a property of the rule as written (wildcards, an empty
//!   `resourceNames`);
//! - *binding* checks: who a binding names (`system:anonymous`, the default
//!   ServiceAccount) or what it refers to (cluster-admin, a missing role).
//!
//! A rule risk is reported once per (check, role, rule), with every binding
//! that holds it in scope (its *holders*). A role that no binding refers to is
//! reported too (a latent grant, as peers' role-level catalogues do); one that
//! is bound only where the capability cannot apply is not: it grants nothing
//! there. The default roles and bindings of the bootstrap policy (labelled
//! `kubernetes.io/bootstrapping: rbac-defaults`) are what every cluster has:
//! their bindings are not holders, and a default role is reported only when a
//! binding of the input grants it.

pub(crate) mod checks;

use std::collections::HashMap;
use std::sync::OnceLock;

#[cfg(test)]
use palisade_model::AccessRequest;
use palisade_model::{Finding, Node, Object, RuleMeta, Severity};
use serde::Serialize;

use crate::model::{Binding, BindingId, BindingKind, Location, Rbac, Role, RoleId, RoleKind, Rule};

/// The label the API server puts on the roles and bindings it creates.
pub(crate) const BOOTSTRAP_LABEL: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");

/// Where a request can be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// A namespaced resource: a RoleBinding grants it in its namespace, a
    /// ClusterRoleBinding in every namespace.
    Namespaced,
    /// A cluster-scoped resource: only a ClusterRoleBinding grants it.
    Cluster,
    /// A namespaced resource that matters in one namespace only.
    In(&'static str),
}

/// One request a grant check looks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe {
    pub verb: &'static str,
    pub group: &'static str,
    /// `resource` or `resource/subresource`.
    pub resource: &'static str,
    /// The object name asked for (`""`: any object).
    pub name: &'static str,
    pub reach: Reach,
    /// Enough only through a WebSocket `GET` upgrade, which clusters before
    /// Kubernetes 1.35 (or with `AuthorizePodWebsocketUpgradeCreatePermission`
    /// off) authorize with `get` instead of `create`.
    pub websocket_get: bool,
}

impl Probe {
    pub const fn ns(verb: &'static str, group: &'static str, resource: &'static str) -> Probe {
        Probe {
            verb,
            group,
            resource,
            name: "",
            reach: Reach::Namespaced,
            websocket_get: false,
        }
    }

    pub const fn cluster(verb: &'static str, group: &'static str, resource: &'static str) -> Probe {
        Probe {
            reach: Reach::Cluster,
            ..Probe::ns(verb, group, resource)
        }
    }

    pub const fn websocket(self) -> Probe {
        Probe {
            websocket_get: true,
            ..self
        }
    }

    pub const fn named(self, name: &'static str) -> Probe {
        Probe { name, ..self }
    }

    pub const fn only_in(self, namespace: &'static str) -> Probe {
        Probe {
            reach: Reach::In(namespace),
            ..self
        }
    }

    #[cfg(test)]
    pub(crate) fn request(&self) -> AccessRequest {
        let (resource, subresource) = self.resource.split_once('/').unwrap_or((self.resource, ""));
        AccessRequest::Resource {
            verb: self.verb.into(),
            group: self.group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: String::new(),
            name: self.name.into(),
        }
    }

    /// Whether `rule` allows the request (as [`crate::PolicyRule::allows`],
    /// without building it).
    pub(crate) fn allowed_by(&self, rule: &crate::rule::PolicyRule) -> bool {
        let (resource, subresource) = self.resource.split_once('/').unwrap_or((self.resource, ""));
        rule.verb_matches(self.verb)
            && rule.api_group_matches(self.group)
            && rule.resource_matches(resource, subresource)
            && rule.resource_name_matches(self.name)
    }

    /// Whether the request opens anything on this cluster: a WebSocket-`get`
    /// request only where `get` alone is enough (`websocket_get_is_enough`).
    pub(crate) fn in_effect(&self, websocket_get_is_enough: bool) -> bool {
        websocket_get_is_enough || !self.websocket_get
    }

    /// Whether a binding of this kind in this namespace (`None`: cluster-wide)
    /// can grant the request.
    pub(crate) fn reachable(&self, scope: Option<&str>) -> bool {
        match (self.reach, scope) {
            (_, None) => true,
            (Reach::Namespaced, Some(_)) => true,
            (Reach::Cluster, Some(_)) => false,
            (Reach::In(ns), Some(scope)) => ns == scope,
        }
    }
}

/// A Kubernetes release, `1.34`, as `--kubernetes-version` names it: the
/// checks that depend on the API server's version (the WebSocket `get` on
/// `pods/exec`) need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct KubernetesVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubernetesVersion {
    /// The first release whose API server also requires `create` for a
    /// WebSocket upgrade to `pods/exec`, `attach` and `portforward` (the
    /// `AuthorizePodWebsocketUpgradeCreatePermission` gate, beta and on by default).
    pub const WEBSOCKET_CREATE_CHECK: KubernetesVersion = KubernetesVersion {
        major: 1,
        minor: 35,
    };
}

impl std::fmt::Display for KubernetesVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl std::str::FromStr for KubernetesVersion {
    type Err = String;

    /// `1.34`, `v1.34.2`, or a server's `gitVersion` (`v1.34.2-gke.1200`).
    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!("invalid Kubernetes version {text:?}: expected MAJOR.MINOR, such as 1.34 or v1.34.2")
        };
        let trimmed = text.trim();
        let trimmed = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let core = trimmed.split(['-', '+']).next().unwrap_or_default();
        let mut parts = core.split('.');
        let number = |part: Option<&str>| -> Option<u32> {
            let part = part?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let major = number(parts.next()).ok_or_else(invalid)?;
        let minor = number(parts.next()).ok_or_else(invalid)?;
        match parts.next() {
            None => {}
            Some(patch) if number(Some(patch)).is_some() => {}
            Some(_) => return Err(invalid()),
        }
        if parts.next().is_some() || major == 0 {
            return Err(invalid());
        }
        Ok(KubernetesVersion { major, minor })
    }
}

/// What the risk checks know about the cluster the policy runs in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RiskOptions {
    /// `None`: unknown, so version-dependent grants are reported as the
    /// oldest supported clusters would honour them.
    pub kubernetes_version: Option<KubernetesVersion>,
}

impl RiskOptions {
    /// Whether `get` alone opens `pods/exec`, `attach` and `portforward`
    /// (over a WebSocket upgrade): before 1.35, or when the version is unknown.
    pub fn websocket_get_is_enough(&self) -> bool {
        self.kubernetes_version
            .is_none_or(|v| v < KubernetesVersion::WEBSOCKET_CREATE_CHECK)
    }
}

/// What a binding check found: the subject (index) it is about, and why.
pub(crate) struct BindingHit {
    pub subject: Option<usize>,
    pub message: String,
    pub severity: Option<Severity>,
}

pub(crate) enum Eval {
    /// The rule allows one of these requests.
    Grants(&'static [Probe]),
    /// A property of the rule as written: `Some(what it grants)` when it flags.
    Rule(fn(&Rule) -> Option<String>),
    /// A property of a binding.
    Binding(fn(&Rbac, &Binding) -> Vec<BindingHit>),
}

/// One documented check.
pub(crate) struct Check {
    pub meta: RuleMeta,
    pub eval: Eval,
    /// The severity when every holder is limited to a namespace (the
    /// documented `meta.severity` is the cluster-wide one).
    pub in_namespace: Severity,
    /// What the holders can do, after "its subjects can".
    pub consequence: &'static str,
    pub remediation: &'static str,
}

/// A binding that gives a risky grant, and where it holds.
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    pub binding: BindingId,
    /// The RoleBinding's namespace; `None` for a ClusterRoleBinding (every namespace).
    pub namespace: Option<String>,
}

/// One risky grant: a rule (or a binding) that a check flags, with the
/// bindings that hold it.
#[derive(Debug, Clone, Serialize)]
pub struct Risk {
    /// The check id, `rbac-risk/...`.
    pub check: &'static str,
    pub severity: Severity,
    pub message: String,
    /// What the rule grants that the check is about: `create, get pods/exec`.
    pub grants: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleId>,
    /// 0-based index in the role's (aggregated) rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    /// For binding checks: the binding and the subject it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding: Option<BindingId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<usize>,
    pub location: Location,
    /// The field at `location`: `rules[2]`, `rules[0].resourceNames`, `subjects[1]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The bindings that hold the grant in scope; empty when nothing binds the role.
    pub holders: Vec<Holder>,
    pub remediation: &'static str,
}

/// The documentation of every risk check, for `palisade rules` and `palisade explain`.
pub fn rules() -> &'static [RuleMeta] {
    static RULES: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    RULES.get_or_init(|| checks::CHECKS.iter().map(|c| c.meta).collect())
}

pub(crate) fn is_default(labels: &[(String, String)]) -> bool {
    labels
        .iter()
        .any(|(k, v)| k == BOOTSTRAP_LABEL.0 && v == BOOTSTRAP_LABEL.1)
}

/// Where a role's rule is written: the rule itself, or for an aggregated
/// rule the rule it was copied from.
fn rule_field(rbac: &Rbac, role: RoleId, index: usize) -> String {
    let origin = rbac
        .roles
        .get(role)
        .and_then(|r| r.rules.get(index))
        .and_then(|r| r.origin);
    match origin {
        Some((_, i)) => format!("rules[{i}]"),
        None => format!("rules[{index}]"),
    }
}

impl Rbac {
    /// Every risky grant of the policy, ordered by severity (highest first),
    /// then check and position, for a cluster of unknown version.
    pub fn risks(&self) -> Vec<Risk> {
        self.risks_with(&RiskOptions::default())
    }

    /// [`Rbac::risks`] for a cluster of a known version.
    pub fn risks_with(&self, options: &RiskOptions) -> Vec<Risk> {
        let mut risks = Vec::new();
        for (role_id, role) in self.roles.iter().enumerate() {
            let holders = self.role_holders(role_id);
            if is_default(&role.labels) && holders.is_empty() {
                continue;
            }
            let unbound = !self.role_is_bound(role_id);
            for (rule_index, rule) in role.rules.iter().enumerate() {
                for check in checks::CHECKS {
                    if let Some(risk) = self.rule_risk(
                        check, role_id, role, rule_index, rule, &holders, unbound, options,
                    ) {
                        risks.push(risk);
                    }
                }
            }
        }
        for (binding_id, binding) in self.bindings.iter().enumerate() {
            if is_default(&binding.labels) {
                continue;
            }
            for check in checks::CHECKS {
                let Eval::Binding(eval) = check.eval else {
                    continue;
                };
                for hit in eval(self, binding) {
                    let (location, field) = match hit.subject.and_then(|s| binding.subjects.get(s))
                    {
                        Some(subject) => (
                            subject.location.clone(),
                            hit.subject.map(|i| format!("subjects[{i}]")),
                        ),
                        None => (binding.location.clone(), None),
                    };
                    let scope = match binding.kind {
                        BindingKind::ClusterRoleBinding => None,
                        BindingKind::RoleBinding => binding.namespace.clone(),
                    };
                    let severity = hit.severity.unwrap_or(if scope.is_some() {
                        check.in_namespace
                    } else {
                        check.meta.severity
                    });
                    risks.push(Risk {
                        check: check.meta.id,
                        severity,
                        message: hit.message,
                        grants: Vec::new(),
                        role: binding.role,
                        rule: None,
                        binding: Some(binding_id),
                        subject: hit.subject,
                        location,
                        field,
                        holders: vec![Holder {
                            binding: binding_id,
                            namespace: scope,
                        }],
                        remediation: check.remediation,
                    });
                }
            }
        }
        risks.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.check.cmp(b.check))
                .then_with(|| a.location.file.cmp(&b.location.file))
                .then_with(|| a.location.line.cmp(&b.location.line))
                .then_with(|| a.location.column.cmp(&b.location.column))
                .then_with(|| a.role.cmp(&b.role))
        });
        risks
    }

    /// The non-default bindings that grant a role, in input order.
    pub(crate) fn role_holders(&self, role: RoleId) -> Vec<BindingId> {
        let mut ids: Vec<BindingId> = Vec::new();
        if let Some(crbs) = self.index.crbs_by_role.get(&role) {
            ids.extend(crbs);
        }
        if let Some(by_ns) = self.index.rbs_by_role.get(&role) {
            for rbs in by_ns.values() {
                ids.extend(rbs);
            }
        }
        ids.retain(|&b| !is_default(&self.bindings[b].labels));
        ids.sort_unstable();
        ids
    }

    fn role_is_bound(&self, role: RoleId) -> bool {
        self.index.crbs_by_role.contains_key(&role) || self.index.rbs_by_role.contains_key(&role)
    }

    #[allow(clippy::too_many_arguments)]
    fn rule_risk(
        &self,
        check: &Check,
        role_id: RoleId,
        role: &Role,
        rule_index: usize,
        rule: &Rule,
        holders: &[BindingId],
        unbound: bool,
        options: &RiskOptions,
    ) -> Option<Risk> {
        let suppressed = check.meta.id != checks::FULL_ACCESS
            && check.meta.id != checks::EMPTY_RESOURCE_NAMES
            && checks::full_access(&rule.rule);
        if suppressed {
            // A rule granting everything is reported once, by full-access.
            return None;
        }
        let (grants, held, location, field, websocket_only) = match check.eval {
            Eval::Binding(_) => return None,
            Eval::Rule(eval) => {
                let what = eval(rule)?;
                let location = rule.location.clone();
                let field = Some(rule_field(self, role_id, rule_index));
                let held: Vec<Holder> = holders.iter().map(|&b| self.holder(b)).collect();
                if held.is_empty() && !unbound {
                    return None;
                }
                let (location, field) = match (&rule.empty_resource_names, check.meta.id) {
                    (Some(loc), checks::EMPTY_RESOURCE_NAMES) => {
                        (loc.clone(), field.map(|f| format!("{f}.resourceNames")))
                    }
                    _ => (location, field),
                };
                (vec![what], held, location, field, false)
            }
            Eval::Grants(probes) => {
                let websocket_get = options.websocket_get_is_enough();
                let matched: Vec<&Probe> = probes
                    .iter()
                    .filter(|p| p.in_effect(websocket_get) && p.allowed_by(&rule.rule))
                    .collect();
                if matched.is_empty() {
                    return None;
                }
                let location = rule.location.clone();
                let field = Some(rule_field(self, role_id, rule_index));
                let mut held = Vec::new();
                let mut in_scope: Vec<&Probe> = Vec::new();
                for &b in holders {
                    let binding = &self.bindings[b];
                    let scope = match binding.kind {
                        BindingKind::ClusterRoleBinding => None,
                        BindingKind::RoleBinding => binding.namespace.as_deref(),
                    };
                    let mut any = false;
                    for p in matched.iter().copied() {
                        if p.reachable(scope) {
                            any = true;
                            if !in_scope.iter().any(|q| std::ptr::eq(*q, p)) {
                                in_scope.push(p);
                            }
                        }
                    }
                    if any {
                        held.push(self.holder(b));
                    }
                }
                if held.is_empty() {
                    if !unbound {
                        return None;
                    }
                    // A role nothing binds: what it could grant where it can be bound.
                    let scope = match role.kind {
                        RoleKind::Role => role.namespace.as_deref(),
                        RoleKind::ClusterRole => None,
                    };
                    in_scope = matched
                        .iter()
                        .copied()
                        .filter(|p| p.reachable(scope))
                        .collect();
                    if in_scope.is_empty() {
                        return None;
                    }
                }
                // Keep the probes' own order, whatever order holders found them in.
                in_scope.sort_by_key(|p| matched.iter().position(|q| std::ptr::eq(*q, *p)));
                let websocket_only = in_scope.iter().all(|p| p.websocket_get);
                (
                    describe_probes(&in_scope),
                    held,
                    location,
                    field,
                    websocket_only,
                )
            }
        };
        let cluster_wide = held.iter().any(|h| h.namespace.is_none())
            || (held.is_empty() && role.kind == RoleKind::ClusterRole);
        let severity = if cluster_wide {
            check.meta.severity
        } else {
            check.in_namespace
        };
        let mut message = format!(
            "{} rule #{} grants {}: its subjects can {}",
            role.describe(),
            rule_index + 1,
            grants.join("; "),
            check.consequence
        );
        if websocket_only {
            match options.kubernetes_version {
                Some(version) => message.push_str(&format!(
                    " (with `get` only: Kubernetes {version} authorizes the WebSocket upgrade kubectl uses with `get` alone; from 1.35 it also requires `create`)"
                )),
                None => message.push_str(
                    " (with `get` only: on clusters before Kubernetes 1.35, or with the AuthorizePodWebsocketUpgradeCreatePermission feature gate off, a WebSocket upgrade needs only `get`; the cluster's version was not given)",
                ),
            }
        }
        if rule.origin.is_some() {
            message.push_str(" (aggregated into it)");
        }
        message.push_str(&self.describe_holders(&held));
        Some(Risk {
            check: check.meta.id,
            severity,
            message,
            grants,
            role: Some(role_id),
            rule: Some(rule_index),
            binding: None,
            subject: None,
            location,
            field,
            holders: held,
            remediation: check.remediation,
        })
    }

    fn holder(&self, binding: BindingId) -> Holder {
        let b = &self.bindings[binding];
        Holder {
            binding,
            namespace: match b.kind {
                BindingKind::ClusterRoleBinding => None,
                BindingKind::RoleBinding => b.namespace.clone(),
            },
        }
    }

    /// `; held by User "alice" through RoleBinding "b/dev" (in namespace dev), ...`
    pub(crate) fn describe_holders(&self, holders: &[Holder]) -> String {
        if holders.is_empty() {
            return "; no binding in the input grants this role".to_string();
        }
        const SHOWN: usize = 3;
        let mut parts = Vec::new();
        let mut total = 0usize;
        for h in holders {
            let b = &self.bindings[h.binding];
            let scope = match &h.namespace {
                Some(ns) => format!("in namespace {ns}"),
                None => "cluster-wide".to_string(),
            };
            total += 1;
            if parts.len() < SHOWN {
                let subjects: Vec<String> =
                    b.subjects.iter().map(|s| b.describe_subject(s)).collect();
                let who = if subjects.is_empty() {
                    "no subject".to_string()
                } else {
                    subjects.join(", ")
                };
                parts.push(format!("{who} through {} ({scope})", b.describe()));
            }
        }
        let more = if total > SHOWN {
            format!(" and {} more binding(s)", total - SHOWN)
        } else {
            String::new()
        };
        format!("; held by {}{more}", parts.join("; "))
    }
}

/// `create, get pods/exec; get pods/attach`: verbs per resource, in probe order.
fn describe_probes(probes: &[&Probe]) -> Vec<String> {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    for p in probes {
        let mut resource = if p.group.is_empty() {
            p.resource.to_string()
        } else {
            match p.resource.split_once('/') {
                Some((r, s)) => format!("{r}.{}/{s}", p.group),
                None => format!("{}.{}", p.resource, p.group),
            }
        };
        if !p.name.is_empty() {
            resource.push_str(&format!(" {:?}", p.name));
        }
        if let Reach::In(ns) = p.reach {
            resource.push_str(&format!(" in {ns}"));
        }
        match out.iter_mut().find(|(r, _)| *r == resource) {
            Some((_, verbs)) => {
                if !verbs.contains(&p.verb) {
                    verbs.push(p.verb);
                }
            }
            None => out.push((resource, vec![p.verb])),
        }
    }
    out.into_iter()
        .map(|(r, verbs)| format!("{} {r}", verbs.join(", ")))
        .collect()
}

/// The documentation of a check by id.
pub(crate) fn check(id: &str) -> Option<&'static Check> {
    checks::CHECKS.iter().copied().find(|c| c.meta.id == id)
}

/// Risks as scan findings, located at the rule, `resourceNames` or subject
/// they are about. `objects` are those the policy was built from; a risk whose
/// object is not among them (a default role of `--bootstrap-policy`) is
/// located at its first holder's binding instead.
pub fn risk_findings(rbac: &Rbac, objects: &[Object]) -> Vec<Finding> {
    risk_findings_with(rbac, objects, &RiskOptions::default())
}

/// [`risk_findings`] for a cluster of a known version.
pub fn risk_findings_with(rbac: &Rbac, objects: &[Object], options: &RiskOptions) -> Vec<Finding> {
    let risks = rbac.risks_with(options);
    let mut wanted: std::collections::HashSet<(&str, u32, u32)> = std::collections::HashSet::new();
    for risk in &risks {
        let l = &risk.location;
        wanted.insert((&*l.file, l.line, l.column));
        if let Some(b) = risk
            .holders
            .first()
            .and_then(|h| rbac.bindings.get(h.binding))
        {
            wanted.insert((&*b.location.file, b.location.line, b.location.column));
        }
    }
    let nodes = NodeIndex::new(objects, &wanted);
    let mut findings = Vec::new();
    for risk in &risks {
        let Some(check) = check(risk.check) else {
            continue;
        };
        let mut at = nodes.find(&risk.location).map(|n| (n, risk.field.clone()));
        let in_defaults = risk
            .role
            .and_then(|r| rbac.roles.get(r))
            .is_some_and(|r| is_default(&r.labels))
            && risk.binding.is_none();
        if at.is_none() || in_defaults {
            if let Some(first) = risk
                .holders
                .first()
                .and_then(|h| rbac.bindings.get(h.binding))
            {
                if let Some(n) = nodes.find(&first.location) {
                    at = Some((n, None));
                }
            }
        }
        let Some(((object, node), field)) = at else {
            continue;
        };
        let mut finding = Finding::new(
            &check.meta,
            object,
            node.span,
            field,
            risk.message.clone(),
            risk.remediation.to_string(),
        );
        finding.severity = risk.severity;
        finding.details = serde_json::to_value(RiskDetails::of(rbac, risk)).ok();
        findings.push(finding);
    }
    findings
}

/// The structured part of a risk finding.
#[derive(Serialize)]
struct RiskDetails {
    grants: Vec<String>,
    /// The first [`DETAILED_HOLDERS`] holders, resolved.
    holders: Vec<serde_json::Value>,
    #[serde(rename = "holdersTotal")]
    holders_total: usize,
}

/// Holders listed in a finding's details (`palisade rbac risks -o json` lists all).
const DETAILED_HOLDERS: usize = 20;

impl RiskDetails {
    fn of(rbac: &Rbac, risk: &Risk) -> RiskDetails {
        RiskDetails {
            grants: risk.grants.clone(),
            holders: risk
                .holders
                .iter()
                .take(DETAILED_HOLDERS)
                .map(|h| rbac.holder_json(h))
                .collect(),
            holders_total: risk.holders.len(),
        }
    }
}

impl Rbac {
    /// A holder resolved for JSON: the binding, where it holds, and its subjects.
    pub fn holder_json(&self, holder: &Holder) -> serde_json::Value {
        let Some(b) = self.bindings.get(holder.binding) else {
            return serde_json::Value::Null;
        };
        let subjects: Vec<serde_json::Value> = b
            .subjects
            .iter()
            .map(|s| {
                let mut v = serde_json::json!({"kind": s.kind.as_str(), "name": s.name});
                if let Some(ns) = b
                    .subject_namespace(s)
                    .filter(|_| s.kind == crate::SubjectKind::ServiceAccount)
                {
                    v["namespace"] = ns.into();
                }
                v
            })
            .collect();
        serde_json::json!({
            "binding": {
                "kind": b.kind.as_str(),
                "name": b.name,
                "namespace": b.namespace,
                "location": b.location,
            },
            "inNamespace": holder.namespace,
            "subjects": subjects,
        })
    }
}

/// The nodes of RBAC objects by where they start, to turn a [`Location`] back
/// into an object and a span.
struct NodeIndex<'a> {
    by_position: HashMap<(&'a str, u32, u32), (&'a Object, &'a Node)>,
}

impl<'a> NodeIndex<'a> {
    /// Only the positions in `wanted` are kept.
    fn new(
        objects: &'a [Object],
        wanted: &std::collections::HashSet<(&str, u32, u32)>,
    ) -> NodeIndex<'a> {
        let mut by_position = HashMap::new();
        for object in objects {
            if object.id.group() != crate::RBAC_GROUP {
                continue;
            }
            let file = object.source.name.as_str();
            let mut add = |node: &'a Node| {
                let key = (file, node.span.start.line, node.span.start.column);
                if wanted.contains(&key) {
                    by_position.entry(key).or_insert((object, node));
                }
            };
            add(&object.root);
            for rule in object.root.get("rules").map(Node::items).unwrap_or(&[]) {
                add(rule);
                if let Some(names) = rule.get("resourceNames") {
                    add(names);
                }
            }
            for subject in object.root.get("subjects").map(Node::items).unwrap_or(&[]) {
                add(subject);
            }
        }
        NodeIndex { by_position }
    }

    fn find(&self, location: &Location) -> Option<(&'a Object, &'a Node)> {
        self.by_position
            .get(&(&*location.file, location.line, location.column))
            .copied()
    }
}

/// Whether `rule` grants, through a binding of scope `scope` (`None`:
/// cluster-wide), one of the requests of grant check `id`; `websocket_get`:
/// whether `get` alone opens exec, attach and port-forward.
pub(crate) fn rule_grants(
    id: &str,
    rule: &crate::rule::PolicyRule,
    scope: Option<&str>,
    websocket_get: bool,
) -> bool {
    let Some(Check {
        eval: Eval::Grants(probes),
        ..
    }) = check(id)
    else {
        return false;
    };
    probes
        .iter()
        .any(|p| p.in_effect(websocket_get) && p.reachable(scope) && p.allowed_by(rule))
}

/// The highest severity of the grant checks `rule` triggers through a binding of `scope`.
pub(crate) fn rule_power(
    rule: &crate::rule::PolicyRule,
    scope: Option<&str>,
    websocket_get: bool,
) -> Option<Severity> {
    if checks::full_access(rule) {
        return Some(if scope.is_none() {
            Severity::Critical
        } else {
            Severity::High
        });
    }
    checks::CHECKS
        .iter()
        .filter_map(|c| match c.eval {
            Eval::Grants(probes)
                if probes.iter().any(|p| {
                    p.in_effect(websocket_get) && p.reachable(scope) && p.allowed_by(rule)
                }) =>
            {
                Some(if scope.is_none() {
                    c.meta.severity
                } else {
                    c.in_namespace
                })
            }
            _ => None,
        })
        .max()
}

impl Rbac {
    /// Risks as a table: severity, check and location, then the message.
    pub fn risks_table(&self, risks: &[Risk]) -> String {
        let mut out = String::new();
        if risks.is_empty() {
            out.push_str("No risky grants found.\n");
            return out;
        }
        let check_width = risks.iter().map(|r| r.check.len()).max().unwrap_or(0);
        for r in risks {
            out.push_str(&format!(
                "{:<9} {:<check_width$}  {}{}\n          {}\n",
                r.severity.as_str().to_uppercase(),
                r.check,
                r.location,
                r.field
                    .as_deref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default(),
                r.message
            ));
        }
        let mut counts: Vec<String> = Vec::new();
        for s in Severity::ALL.iter().rev() {
            let n = risks.iter().filter(|r| r.severity == *s).count();
            if n > 0 {
                counts.push(format!("{n} {s}"));
            }
        }
        out.push_str(&format!(
            "\n{} risky grant(s): {}\n",
            risks.len(),
            counts.join(", ")
        ));
        out
    }

    /// Risks as JSON, with roles, bindings and holders resolved.
    pub fn risks_json(&self, risks: &[Risk]) -> serde_json::Value {
        let items: Vec<serde_json::Value> = risks
            .iter()
            .map(|r| {
                let mut v = serde_json::json!({
                    "check": r.check,
                    "title": check(r.check).map(|c| c.meta.title).unwrap_or_default(),
                    "severity": r.severity,
                    "message": r.message,
                    "grants": r.grants,
                    "location": r.location,
                    "holders": r.holders.iter().map(|h| self.holder_json(h)).collect::<Vec<_>>(),
                    "remediation": r.remediation,
                });
                if let Some(field) = &r.field {
                    v["field"] = field.clone().into();
                }
                if let Some(role) = r.role.and_then(|id| self.roles.get(id)) {
                    v["role"] = serde_json::json!({
                        "kind": role.kind.as_str(), "name": role.name,
                        "namespace": role.namespace, "location": role.location,
                    });
                    if let Some(rule) = r.rule.and_then(|i| role.rules.get(i)) {
                        v["rule"] = serde_json::json!({
                            "number": r.rule.map(|i| i + 1),
                            "location": rule.location,
                            "rule": rule.rule,
                        });
                    }
                }
                if let Some(b) = r.binding.and_then(|id| self.bindings.get(id)) {
                    v["binding"] = serde_json::json!({
                        "kind": b.kind.as_str(), "name": b.name,
                        "namespace": b.namespace, "location": b.location,
                    });
                }
                v
            })
            .collect();
        let mut summary = serde_json::Map::new();
        for s in Severity::ALL {
            summary.insert(
                s.as_str().to_string(),
                risks.iter().filter(|r| r.severity == s).count().into(),
            );
        }
        serde_json::json!({"risks": items, "summary": summary})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::PolicyRule;

    #[test]
    fn kubernetes_versions_parse_as_servers_and_users_write_them() {
        let v = |s: &str| s.parse::<KubernetesVersion>();
        let k = |major, minor| Ok(KubernetesVersion { major, minor });
        assert_eq!(v("1.34"), k(1, 34));
        assert_eq!(v("v1.35.0"), k(1, 35));
        assert_eq!(v(" v1.29.3-gke.1200 "), k(1, 29));
        assert_eq!(v("1.30+k3s1"), k(1, 30));
        for bad in [
            "", "1", "1.", "v", "1.x", "one.two", "1.2.3.4", "0.9", "1.-3", "1.34.x",
        ] {
            let err = v(bad).expect_err(bad);
            assert!(err.contains("MAJOR.MINOR"), "{err}");
        }
        assert!(v("1.34").expect("1.34") < KubernetesVersion::WEBSOCKET_CREATE_CHECK);
        assert!(v("1.100").expect("1.100") > KubernetesVersion::WEBSOCKET_CREATE_CHECK);
        let at = |s: &str| RiskOptions {
            kubernetes_version: v(s).ok(),
        };
        assert!(RiskOptions::default().websocket_get_is_enough());
        assert!(at("1.34").websocket_get_is_enough());
        assert!(!at("1.35").websocket_get_is_enough());
        assert!(!at("2.0").websocket_get_is_enough());
    }

    #[test]
    fn probes_match_as_the_authorizer_does() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let rules = [
            PolicyRule {
                verbs: v(&["*"]),
                api_groups: v(&["*"]),
                resources: v(&["*"]),
                ..PolicyRule::default()
            },
            PolicyRule {
                verbs: v(&["get"]),
                api_groups: v(&[""]),
                resources: v(&["*/exec", "secrets"]),
                ..PolicyRule::default()
            },
            PolicyRule {
                verbs: v(&["update"]),
                api_groups: v(&[""]),
                resources: v(&["configmaps"]),
                resource_names: v(&["coredns"]),
                ..PolicyRule::default()
            },
            PolicyRule {
                verbs: v(&["create", "bind"]),
                api_groups: v(&["rbac.authorization.k8s.io", "apps"]),
                resources: v(&["clusterroles", "deployments"]),
                ..PolicyRule::default()
            },
            PolicyRule {
                verbs: v(&["get"]),
                non_resource_urls: v(&["*"]),
                ..PolicyRule::default()
            },
        ];
        let mut matched = 0;
        for check in checks::CHECKS {
            let Eval::Grants(probes) = check.eval else {
                continue;
            };
            for p in probes {
                for r in &rules {
                    assert_eq!(
                        p.allowed_by(r),
                        r.allows(&p.request()),
                        "{} {:?} {:?}",
                        check.meta.id,
                        p,
                        r
                    );
                    matched += usize::from(p.allowed_by(r));
                }
            }
        }
        assert!(matched > 50);
    }
}
