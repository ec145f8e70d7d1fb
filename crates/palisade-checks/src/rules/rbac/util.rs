//! Kubernetes RBAC semantics shared by the `rbac`, `sa` and `components` checks.
//!
//! A PolicyRule allows a request when one of its verbs, one of its API groups
//! and one of its resources match, exactly as the API server's RBAC authorizer
//! decides (`rbac/v1` `RuleAllows`): `*` matches every verb, group or
//! resource (subresources included), `*/status` matches that subresource of
//! every resource, the core group is `""`, and a rule with `resourceNames`
//! only applies to the named objects (so it can never allow `create`, nor an
//! unnamed `list`).

use palisade_model::{Node, Object};

use crate::index::namespace_of;
use crate::rule::{strings, Cx, Sink};

/// The kinds that hold rules.
pub(crate) const ROLE_KINDS: &[&str] = &["Role", "ClusterRole"];
/// The kinds that bind roles to subjects.
pub(crate) const BINDING_KINDS: &[&str] = &["RoleBinding", "ClusterRoleBinding"];

/// Objects the API server creates itself at start-up (`kubernetes.io/bootstrapping:
/// rbac-defaults`): present in cluster dumps, not something a manifest author wrote.
pub(crate) fn is_bootstrap(object: &Object) -> bool {
    object.label("kubernetes.io/bootstrapping") == Some("rbac-defaults")
}

/// A permission a check looks for: any of `verbs` on any of `resources` in any of `groups`.
pub(crate) struct Want {
    pub groups: &'static [&'static str],
    pub resources: &'static [&'static str],
    pub verbs: &'static [&'static str],
}

const CORE: &[&str] = &[""];
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

pub(crate) const READ_SECRETS: &[Want] = &[Want {
    groups: CORE,
    resources: &["secrets"],
    verbs: &["get", "list", "watch"],
}];
pub(crate) const CREATE_PODS: &[Want] = &[
    Want {
        groups: CORE,
        resources: &["pods"],
        verbs: &["create"],
    },
    Want {
        groups: CORE,
        resources: &["replicationcontrollers"],
        verbs: &["create", "update", "patch"],
    },
    Want {
        groups: &["apps", "extensions"],
        resources: &["deployments", "daemonsets", "statefulsets", "replicasets"],
        verbs: &["create", "update", "patch"],
    },
    Want {
        groups: &["batch"],
        resources: &["jobs", "cronjobs"],
        verbs: &["create", "update", "patch"],
    },
];
/// `get` too: before the `AuthorizePodWebsocketUpgradeCreatePermission` gate
/// (on by default since 1.31) a websocket exec needed only `get`.
pub(crate) const EXEC_ATTACH: &[Want] = &[Want {
    groups: CORE,
    resources: &["pods/exec", "pods/attach"],
    verbs: &["create", "get"],
}];
pub(crate) const PORT_FORWARD: &[Want] = &[Want {
    groups: CORE,
    resources: &["pods/portforward"],
    verbs: &["create", "get"],
}];
/// The kubelet authorizes its API with `nodes/proxy` and takes `get` for
/// websocket `exec`, so any verb is enough.
pub(crate) const NODES_PROXY: &[Want] = &[Want {
    groups: CORE,
    resources: &["nodes/proxy"],
    verbs: &["get", "create", "update", "patch", "delete"],
}];
pub(crate) const IMPERSONATE: &[Want] = &[
    Want {
        groups: CORE,
        resources: &["users", "groups", "serviceaccounts"],
        verbs: &["impersonate"],
    },
    Want {
        groups: &["authentication.k8s.io"],
        resources: &["userextras/scopes", "uids"],
        verbs: &["impersonate"],
    },
];
pub(crate) const ESCALATE_BIND: &[Want] = &[Want {
    groups: &["rbac.authorization.k8s.io"],
    resources: &["roles", "clusterroles"],
    verbs: &["bind", "escalate"],
}];
pub(crate) const WEBHOOKS: &[Want] = &[Want {
    groups: &["admissionregistration.k8s.io"],
    resources: &[
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
        "mutatingadmissionpolicies",
        "mutatingadmissionpolicybindings",
    ],
    verbs: WRITE,
}];
pub(crate) const CSR_APPROVAL: &[Want] = &[Want {
    groups: &["certificates.k8s.io"],
    resources: &["certificatesigningrequests/approval"],
    verbs: &["update", "patch"],
}];
pub(crate) const SIGNER_APPROVE: &[Want] = &[Want {
    groups: &["certificates.k8s.io"],
    resources: &["signers"],
    verbs: &["approve"],
}];
pub(crate) const SA_TOKENS: &[Want] = &[Want {
    groups: CORE,
    resources: &["serviceaccounts/token"],
    verbs: &["create"],
}];
pub(crate) const PERSISTENT_VOLUMES: &[Want] = &[Want {
    groups: CORE,
    resources: &["persistentvolumes"],
    verbs: &["create"],
}];
pub(crate) const SERVICE_STATUS: &[Want] = &[Want {
    groups: CORE,
    resources: &["services/status"],
    verbs: &["update", "patch"],
}];
pub(crate) const DELETE_EVENTS: &[Want] = &[Want {
    groups: &["", "events.k8s.io"],
    resources: &["events"],
    verbs: &["delete", "deletecollection"],
}];
pub(crate) const WRITE_CONFIGMAPS: &[Want] = &[Want {
    groups: CORE,
    resources: &["configmaps"],
    verbs: &["create", "update", "patch", "delete"],
}];
pub(crate) const MODIFY_CONFIGMAPS: &[Want] = &[Want {
    groups: CORE,
    resources: &["configmaps"],
    verbs: &["update", "patch"],
}];
pub(crate) const WRITE_NETWORK: &[Want] = &[
    Want {
        groups: CORE,
        resources: &["services", "endpoints"],
        verbs: WRITE,
    },
    Want {
        groups: &["discovery.k8s.io"],
        resources: &["endpointslices"],
        verbs: WRITE,
    },
    Want {
        groups: &["networking.k8s.io", "extensions"],
        resources: &["networkpolicies", "ingresses"],
        verbs: WRITE,
    },
];

/// The permissions that make a role dangerous, with how messages name them.
pub(crate) const DANGERS: &[(&str, &[Want])] = &[
    ("read secrets", READ_SECRETS),
    ("create pods or workload controllers", CREATE_PODS),
    ("exec/attach into pods", EXEC_ATTACH),
    ("proxy to the kubelet (nodes/proxy)", NODES_PROXY),
    ("impersonate", IMPERSONATE),
    ("bind/escalate roles", ESCALATE_BIND),
    ("change admission webhooks and policies", WEBHOOKS),
    ("mint service account tokens", SA_TOKENS),
    ("create PersistentVolumes", PERSISTENT_VOLUMES),
];

/// One entry of a role's `rules`.
pub(crate) struct PolicyRule<'a> {
    pub node: &'a Node,
    pub index: usize,
    groups: Vec<&'a str>,
    resources: Vec<&'a str>,
    verbs: Vec<&'a str>,
    names: Vec<&'a str>,
}

/// The `rules` of a Role or ClusterRole.
pub(crate) fn policy_rules(object: &Object) -> impl Iterator<Item = PolicyRule<'_>> {
    object
        .root
        .get("rules")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(index, node)| PolicyRule::new(node, index))
}

fn texts<'a>(node: &'a Node, key: &str) -> Vec<&'a str> {
    strings(node.get(key)).map(|(_, s)| s).collect()
}

/// What a rule grants of a [`Want`]: `(resource, verb)` pairs, and whether a
/// wildcard was needed to match.
#[derive(Default)]
pub(crate) struct Granted {
    pub pairs: Vec<(&'static str, &'static str)>,
    pub through_wildcard: bool,
}

impl<'a> PolicyRule<'a> {
    pub fn new(node: &'a Node, index: usize) -> Self {
        PolicyRule {
            node,
            index,
            groups: texts(node, "apiGroups"),
            resources: texts(node, "resources"),
            verbs: texts(node, "verbs"),
            names: texts(node, "resourceNames"),
        }
    }

    pub fn field(&self) -> String {
        format!("rules[{}]", self.index)
    }

    pub fn resource_names(&self) -> &[&'a str] {
        &self.names
    }

    /// Whether the rule is limited to named objects.
    pub fn restricted(&self) -> bool {
        !self.names.is_empty()
    }

    pub fn all_verbs(&self) -> bool {
        self.verbs.contains(&"*")
    }

    pub fn all_resources(&self) -> bool {
        self.resources.contains(&"*")
    }

    pub fn all_groups(&self) -> bool {
        self.groups.contains(&"*")
    }

    /// `Some(explicit)` when the rule covers `group`.
    fn group(&self, group: &str) -> Option<bool> {
        if self.groups.contains(&group) {
            Some(true)
        } else if self.all_groups() {
            Some(false)
        } else {
            None
        }
    }

    fn verb(&self, verb: &str) -> Option<bool> {
        if self.verbs.contains(&verb) {
            Some(true)
        } else if self.all_verbs() {
            Some(false)
        } else {
            None
        }
    }

    /// `rbacv1helpers.ResourceMatches`: exact, `*`, or `*/<subresource>`.
    fn resource(&self, resource: &str) -> Option<bool> {
        if self.resources.contains(&resource) {
            return Some(true);
        }
        let sub = resource.split_once('/').map(|(_, s)| s);
        let wild = self.all_resources()
            || sub.is_some_and(|sub| {
                self.resources
                    .iter()
                    .any(|r| r.strip_prefix("*/") == Some(sub))
            });
        wild.then_some(false)
    }

    /// Whether the rule allows `verb` on `resource` in `group` for some object.
    #[cfg(test)]
    pub fn allows(&self, group: &str, resource: &str, verb: &str) -> bool {
        self.group(group).is_some()
            && self.resource(resource).is_some()
            && self.verb(verb).is_some()
    }

    /// What this rule grants of `wants`, ignoring `resourceNames`.
    pub fn grants(&self, wants: &[Want]) -> Granted {
        let mut granted = Granted::default();
        for want in wants {
            for &resource in want.resources {
                let Some(r_explicit) = self.resource(resource) else {
                    continue;
                };
                let Some(g_explicit) = want.groups.iter().find_map(|g| self.group(g)) else {
                    continue;
                };
                for &verb in want.verbs {
                    if let Some(v_explicit) = self.verb(verb) {
                        if !granted.pairs.contains(&(resource, verb)) {
                            granted.pairs.push((resource, verb));
                        }
                        granted.through_wildcard |= !(r_explicit && g_explicit && v_explicit);
                    }
                }
            }
        }
        granted
    }

    /// A rule granting every verb on every resource: reported once by
    /// `rbac/full-access-rule` instead of once per dangerous permission.
    pub fn is_full_access(&self) -> bool {
        self.all_resources() && self.all_verbs()
    }

    /// The labels of [`DANGERS`] this rule grants on unnamed objects.
    pub fn dangers(&self) -> Vec<&'static str> {
        if self.restricted() {
            return Vec::new();
        }
        DANGERS
            .iter()
            .filter(|(_, wants)| !self.grants(wants).pairs.is_empty())
            .map(|(label, _)| *label)
            .collect()
    }
}

/// `get, list on secrets; create on pods`.
pub(crate) fn describe_pairs(pairs: &[(&str, &str)]) -> String {
    let mut resources: Vec<(&str, Vec<&str>)> = Vec::new();
    for &(resource, verb) in pairs {
        match resources.iter_mut().find(|(r, _)| *r == resource) {
            Some((_, verbs)) => verbs.push(verb),
            None => resources.push((resource, vec![verb])),
        }
    }
    resources
        .iter()
        .map(|(r, verbs)| format!("{} on {r}", verbs.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `ClusterRole "ci"`, `Role shop/"reader"`.
pub(crate) fn describe_role(object: &Object) -> String {
    match object.id.namespace.as_deref() {
        Some(ns) if object.kind() == "Role" => format!("Role {ns}/{}", object.id.name),
        _ => format!("{} {}", object.kind(), object.id.name),
    }
}

/// The standard role-rule check: reports every rule of a Role or ClusterRole
/// that grants one of `wants` on unnamed objects. Rules granting everything
/// (`*` verbs on `*` resources) are left to `rbac/full-access-rule`.
pub(crate) fn report_grants(
    cx: &Cx<'_>,
    object: &Object,
    sink: &mut Sink<'_>,
    wants: &[Want],
    what: &str,
    remediation: &str,
) {
    if is_bootstrap(object) {
        return;
    }
    let mut bound: Option<String> = None;
    for rule in policy_rules(object) {
        if rule.is_full_access() || rule.restricted() {
            continue;
        }
        let granted = rule.grants(wants);
        if granted.pairs.is_empty() {
            continue;
        }
        let wildcard = if granted.through_wildcard {
            " (through a wildcard)"
        } else {
            ""
        };
        sink.report(
            rule.node,
            rule.field(),
            format!(
                "{} of {} grants {}{wildcard}: its subjects can {what}{}",
                rule.field(),
                describe_role(object),
                describe_pairs(&granted.pairs),
                bound.get_or_insert_with(|| bound_to(cx, object)),
            ),
            remediation,
        );
    }
}

/// ` (bound to ServiceAccount shop/web, Group ops)` when the input binds the role, else "".
pub(crate) fn bound_to(cx: &Cx<'_>, role: &Object) -> String {
    let mut subjects: Vec<String> = Vec::new();
    let name = role.id.name.as_str();
    let mut collect = |binding: &Object| {
        if refers_to(binding, role.kind(), name) {
            for subject in binding.root.get("subjects").map(Node::items).unwrap_or(&[]) {
                let text = describe_subject(subject, binding);
                if !subjects.contains(&text) {
                    subjects.push(text);
                }
            }
        }
    };
    let ns = namespace_of(role);
    cx.index
        .bindings_to_role(role.kind(), name)
        .filter(|b| role.kind() != "Role" || (b.kind() == "RoleBinding" && namespace_of(b) == ns))
        .for_each(&mut collect);
    if subjects.is_empty() {
        return String::new();
    }
    let shown = subjects.len().min(3);
    let more = if subjects.len() > shown {
        format!(" and {} more", subjects.len() - shown)
    } else {
        String::new()
    };
    format!(" (bound to {}{more})", subjects[..shown].join(", "))
}

/// `(kind, name)` of a binding's `roleRef`.
pub(crate) fn role_ref(binding: &Object) -> Option<(&str, &str)> {
    let role_ref = binding.root.get("roleRef")?;
    Some((
        role_ref.get("kind").and_then(Node::as_str)?,
        role_ref.get("name").and_then(Node::as_str)?,
    ))
}

/// Whether a binding's `roleRef` is the role `kind`/`name` (name compared first: cheaper).
pub(crate) fn refers_to(binding: &Object, kind: &str, name: &str) -> bool {
    let Some(role_ref) = binding.root.get("roleRef") else {
        return false;
    };
    role_ref.get("name").and_then(Node::as_str) == Some(name)
        && role_ref.get("kind").and_then(Node::as_str) == Some(kind)
}

/// The subjects of a binding.
pub(crate) fn subjects(binding: &Object) -> &[Node] {
    binding.root.get("subjects").map(Node::items).unwrap_or(&[])
}

pub(crate) fn subject_kind(subject: &Node) -> &str {
    subject.get("kind").and_then(Node::as_str).unwrap_or("")
}

pub(crate) fn subject_name(subject: &Node) -> &str {
    subject.get("name").and_then(Node::as_str).unwrap_or("")
}

/// The namespace of a ServiceAccount subject: its own, else the RoleBinding's
/// (the authorizer defaults it so; a ClusterRoleBinding must name one).
pub(crate) fn subject_namespace<'a>(subject: &'a Node, binding: &'a Object) -> Option<&'a str> {
    match subject.get("namespace").and_then(Node::as_str) {
        Some(ns) if !ns.is_empty() => Some(ns),
        _ if binding.kind() == "RoleBinding" => binding.id.namespace.as_deref(),
        _ => None,
    }
}

/// `ServiceAccount shop/web`, `Group ops`, `User alice`.
pub(crate) fn describe_subject(subject: &Node, binding: &Object) -> String {
    let kind = subject_kind(subject);
    let name = subject_name(subject);
    match (kind, subject_namespace(subject, binding)) {
        ("ServiceAccount", Some(ns)) => format!("ServiceAccount {ns}/{name}"),
        _ => format!("{kind} {name}"),
    }
}

/// The bindings of the input that give the ServiceAccount `ns/name` a role:
/// RoleBindings of its namespace and every ClusterRoleBinding.
pub(crate) fn bindings_of_service_account<'a>(
    cx: &'a Cx<'a>,
    ns: &'a str,
    name: &'a str,
    groups: bool,
) -> impl Iterator<Item = &'a Object> + 'a {
    // A RoleBinding grants only in its own namespace.
    cx.index
        .bindings_of_service_account(ns, name, groups)
        .filter(move |b| b.kind() == "ClusterRoleBinding" || namespace_of(b) == ns)
}

/// What a binding's role is, as far as the input tells.
pub(crate) enum BoundRole<'a> {
    /// The Role or ClusterRole object from the input.
    Object(&'a Object),
    /// A built-in ClusterRole of every cluster, with what it grants.
    BuiltIn(&'static str, &'static [&'static str]),
    Unknown,
}

/// Built-in ClusterRoles, for when the input does not define them.
const BUILT_IN: &[(&str, &[&str])] = &[
    ("cluster-admin", &["do anything (cluster-admin)"]),
    (
        "admin",
        &[
            "read secrets",
            "create pods or workload controllers",
            "exec/attach into pods",
            "impersonate",
        ],
    ),
    (
        "edit",
        &[
            "read secrets",
            "create pods or workload controllers",
            "exec/attach into pods",
            "impersonate",
        ],
    ),
];

pub(crate) fn bound_role<'a>(cx: &Cx<'a>, binding: &'a Object) -> BoundRole<'a> {
    let Some((kind, name)) = role_ref(binding) else {
        return BoundRole::Unknown;
    };
    let found = match kind {
        "Role" => cx.index.get("Role", namespace_of(binding), name),
        "ClusterRole" => cx.index.get("ClusterRole", "", name),
        _ => None,
    };
    if let Some(role) = found {
        return BoundRole::Object(role);
    }
    if kind == "ClusterRole" {
        if let Some((n, grants)) = BUILT_IN.iter().find(|(n, _)| *n == name) {
            return BoundRole::BuiltIn(n, grants);
        }
    }
    BoundRole::Unknown
}

/// Test manifests: a role of `kind` named `r` (namespace `shop` for a Role)
/// whose `rules:` list starts on line 5.
#[cfg(test)]
pub(crate) fn role(kind: &str, rules: &str) -> String {
    let ns = if kind == "Role" {
        ", namespace: shop"
    } else {
        ""
    };
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: r{ns}}}\nrules:\n{rules}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{load_text, LoadOptions};

    fn rule(yaml: &str) -> Vec<Object> {
        load_text("t.yaml", role("ClusterRole", yaml), &LoadOptions::default()).objects
    }

    #[test]
    fn rbac_matching_semantics() {
        let objects = rule("- apiGroups: ['']\n  resources: ['*/exec', pods]\n  verbs: [get]\n- apiGroups: ['*']\n  resources: ['*']\n  verbs: [list]\n- apiGroups: [apps]\n  resources: [secrets]\n  verbs: ['*']\n");
        let rules: Vec<PolicyRule<'_>> = policy_rules(&objects[0]).collect();
        assert!(rules[0].allows("", "pods/exec", "get"));
        assert!(rules[0].allows("", "pods", "get"));
        assert!(!rules[0].allows("", "pods/log", "get"));
        assert!(!rules[0].allows("", "pods/exec", "create"));
        assert!(!rules[0].allows("apps", "pods", "get"));
        assert!(rules[1].allows("", "pods/exec", "list"));
        assert!(rules[1].allows("batch", "jobs", "list"));
        assert!(!rules[1].allows("batch", "jobs", "create"));
        assert!(!rules[2].allows("", "secrets", "get"));
        let granted = rules[1].grants(READ_SECRETS);
        assert_eq!(granted.pairs, [("secrets", "list")]);
        assert!(granted.through_wildcard);
        assert!(rules[2].grants(READ_SECRETS).pairs.is_empty());
        assert_eq!(rules[1].dangers(), ["read secrets"]);
    }

    #[test]
    fn service_account_subjects() {
        let loaded = load_text(
            "t.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: shop}\nroleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}\nsubjects:\n- {kind: ServiceAccount, name: web}\n- {kind: User, name: 'system:serviceaccount:shop:api'}\n- {kind: Group, name: 'system:serviceaccounts:shop'}\n",
            &LoadOptions::default(),
        );
        let b = &loaded.objects[0];
        let s = subjects(b);
        let index = crate::Index::new(&loaded.objects);
        let count = |ns, name, groups| index.bindings_of_service_account(ns, name, groups).count();
        assert_eq!(
            count("shop", "web", false),
            1,
            "by kind ServiceAccount, namespace defaulted"
        );
        assert_eq!(count("other", "web", false), 0);
        assert_eq!(count("shop", "api", false), 1, "by username");
        assert_eq!(count("shop", "x", false), 0);
        assert_eq!(count("shop", "x", true), 1, "through the namespace's group");
        assert_eq!(describe_subject(&s[0], b), "ServiceAccount shop/web");
        assert_eq!(role_ref(b), Some(("Role", "r")));
    }
}
