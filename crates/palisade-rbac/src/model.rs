//! Roles, ClusterRoles and their bindings, read from manifests, with every
//! rule and binding remembering where it was written.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use palisade_model::selector::LabelSelector;
use palisade_model::{load_inputs, Input, LoadOptions, Loaded, Node, Object};
use serde::Serialize;

use crate::index::Index;
use crate::rule::PolicyRule;

/// The API group of RBAC objects (all versions: v1, v1beta1, v1alpha1).
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Index of a role in [`Rbac::roles`].
pub type RoleId = usize;
/// Index of a binding in [`Rbac::bindings`].
pub type BindingId = usize;

/// Where something was written: file, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl Location {
    fn of(file: &Arc<str>, node: &Node) -> Location {
        Location {
            file: file.clone(),
            line: node.span.start.line,
            column: node.span.start.column,
        }
    }
}

impl Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Location", 3)?;
        st.serialize_field("file", &*self.file)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("column", &self.column)?;
        st.end()
    }
}

impl fmt::Display for Location {
    /// `file:line`, the form editors and terminals link.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Role => "Role",
            RoleKind::ClusterRole => "ClusterRole",
        }
    }
}

/// A rule of a role as evaluated. For an aggregated ClusterRole the rules are
/// the ones the aggregation controller copied in, and `origin` says where
/// each was declared.
#[derive(Debug, Clone)]
pub struct Rule {
    pub rule: PolicyRule,
    /// Where the rule is written (in the origin role for aggregated rules).
    pub location: Location,
    /// For aggregated rules: the role and 0-based rule index it was copied from.
    pub origin: Option<(RoleId, usize)>,
    /// Where `resourceNames: []` is written, when the rule writes an empty
    /// list: it restricts nothing (the same as leaving it out).
    pub empty_resource_names: Option<Location>,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub kind: RoleKind,
    /// `None` for ClusterRoles.
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Vec<(String, String)>,
    /// The rules as the authorizer sees them (aggregation applied).
    pub rules: Vec<Rule>,
    /// The `aggregationRule.clusterRoleSelectors`, when the role has one.
    pub aggregation: Option<Vec<LabelSelector>>,
    pub location: Location,
}

impl Role {
    /// `ClusterRole "view"` or `Role "dev/reader"`, as Kubernetes messages name roles.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("Role \"{}/{}\"", ns, self.name),
            None => format!("ClusterRole \"{}\"", self.name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum BindingKind {
    RoleBinding,
    ClusterRoleBinding,
}

impl BindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BindingKind::RoleBinding => "RoleBinding",
            BindingKind::ClusterRoleBinding => "ClusterRoleBinding",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleRef {
    pub kind: String,
    pub name: String,
    #[serde(rename = "apiGroup")]
    pub api_group: String,
}

/// The kind of a binding subject.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
    /// Anything else; such a subject never matches (upstream `appliesToUser`).
    Other(String),
}

impl SubjectKind {
    pub fn as_str(&self) -> &str {
        match self {
            SubjectKind::User => "User",
            SubjectKind::Group => "Group",
            SubjectKind::ServiceAccount => "ServiceAccount",
            SubjectKind::Other(kind) => kind,
        }
    }

    fn parse(kind: &str) -> SubjectKind {
        match kind {
            "User" => SubjectKind::User,
            "Group" => SubjectKind::Group,
            "ServiceAccount" => SubjectKind::ServiceAccount,
            other => SubjectKind::Other(other.to_string()),
        }
    }
}

impl Serialize for SubjectKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A subject of a binding, as written.
#[derive(Debug, Clone, Serialize)]
pub struct Subject {
    pub kind: SubjectKind,
    pub name: String,
    /// As written; see [`Binding::subject_namespace`] for the effective one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip)]
    pub location: Location,
}

#[derive(Debug, Clone)]
pub struct Binding {
    pub kind: BindingKind,
    /// `None` for ClusterRoleBindings.
    pub namespace: Option<String>,
    pub name: String,
    pub role_ref: RoleRef,
    pub subjects: Vec<Subject>,
    pub location: Location,
    /// The role `roleRef` resolves to, `None` when it is not in the input.
    pub role: Option<RoleId>,
    pub labels: Vec<(String, String)>,
}

impl Binding {
    /// The namespace a ServiceAccount subject without one defaults to: the
    /// binding's own for a RoleBinding; a ClusterRoleBinding has none, so such
    /// a subject matches nobody.
    pub fn subject_namespace<'a>(&'a self, subject: &'a Subject) -> Option<&'a str> {
        subject
            .namespace
            .as_deref()
            .filter(|ns| !ns.is_empty())
            .or(self.namespace.as_deref())
    }

    /// The username a ServiceAccount subject stands for, `None` for other kinds
    /// and for a ServiceAccount without a namespace.
    pub fn service_account_username(&self, subject: &Subject) -> Option<String> {
        if subject.kind != SubjectKind::ServiceAccount {
            return None;
        }
        let ns = self.subject_namespace(subject)?;
        Some(format!("system:serviceaccount:{ns}:{}", subject.name))
    }

    /// Whether `subject` applies to a user (upstream `appliesToUser`).
    pub fn subject_applies(&self, subject: &Subject, username: &str, groups: &[String]) -> bool {
        match subject.kind {
            SubjectKind::User => subject.name == username,
            SubjectKind::Group => groups.contains(&subject.name),
            SubjectKind::ServiceAccount => self
                .subject_namespace(subject)
                .is_some_and(|ns| sa_username_matches(ns, &subject.name, username)),
            SubjectKind::Other(_) => false,
        }
    }

    /// The index of the first subject that applies (upstream `appliesTo`).
    pub fn applies_to(&self, username: &str, groups: &[String]) -> Option<usize> {
        self.subjects
            .iter()
            .position(|s| self.subject_applies(s, username, groups))
    }

    /// `RoleBinding "name/ns"` or `ClusterRoleBinding "name"`, as the upstream
    /// authorizer's reasons name bindings.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("RoleBinding \"{}/{}\"", self.name, ns),
            None => format!("ClusterRoleBinding \"{}\"", self.name),
        }
    }

    /// `User "alice"`, `ServiceAccount "name/ns"`, as upstream describes subjects.
    pub fn describe_subject(&self, subject: &Subject) -> String {
        match subject.kind {
            SubjectKind::ServiceAccount => format!(
                "ServiceAccount \"{}/{}\"",
                subject.name,
                self.subject_namespace(subject).unwrap_or("")
            ),
            _ => format!("{} \"{}\"", subject.kind.as_str(), subject.name),
        }
    }
}

/// `system:serviceaccount:<ns>:<name>` compared without allocating.
fn sa_username_matches(namespace: &str, name: &str, username: &str) -> bool {
    username
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.strip_prefix(namespace))
        .and_then(|rest| rest.strip_prefix(':'))
        == Some(name)
}

/// Something in the RBAC input that the API server would reject, or that
/// does not do what it seems to.
#[derive(Debug, Clone, Serialize)]
pub struct Issue {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Issue {
    /// `file:line:column: message`, as the loader reports input errors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.location.file, self.location.line, self.location.column, self.message
        )
    }
}

/// The RBAC policy of a set of manifests: the authorizer's whole input.
#[derive(Debug, Default)]
pub struct Rbac {
    pub roles: Vec<Role>,
    pub bindings: Vec<Binding>,
    pub issues: Vec<Issue>,
    pub(crate) index: Index,
}

/// Loads the default ClusterRoles and ClusterRoleBindings a cluster starts
/// with (the bootstrap policy) from a directory or file of manifests, e.g. the
/// fixtures Kubernetes generates in
/// `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/`.
pub fn load_bootstrap_policy(path: &Path) -> Result<Loaded, String> {
    if !path.exists() {
        return Err(format!("{}: no such file or directory", path.display()));
    }
    let loaded = load_inputs(&[Input::Path(path.to_path_buf())], &LoadOptions::default());
    let has_roles = loaded
        .objects
        .iter()
        .any(|o| o.id.kind == "ClusterRole" && o.id.group() == RBAC_GROUP);
    if !has_roles {
        return Err(format!(
            "{}: no ClusterRole found; expected the bootstrap policy manifests",
            path.display()
        ));
    }
    Ok(loaded)
}

impl Rbac {
    /// Builds the policy from objects; objects of other kinds are skipped.
    /// Later definitions of the same object replace earlier ones, as
    /// `kubectl apply` of the files in order would leave them.
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a Object>) -> Rbac {
        let mut builder = Builder::default();
        for object in objects {
            builder.add(object);
        }
        builder.finish()
    }

    pub fn role(&self, id: RoleId) -> Option<&Role> {
        self.roles.get(id)
    }

    pub fn binding(&self, id: BindingId) -> Option<&Binding> {
        self.bindings.get(id)
    }

    /// A ClusterRole by name.
    pub fn cluster_role(&self, name: &str) -> Option<&Role> {
        self.index
            .cluster_role(name)
            .and_then(|id| self.roles.get(id))
    }

    /// A Role by namespace and name.
    pub fn namespaced_role(&self, namespace: &str, name: &str) -> Option<&Role> {
        self.index
            .role(namespace, name)
            .and_then(|id| self.roles.get(id))
    }

    pub fn cluster_role_id(&self, name: &str) -> Option<RoleId> {
        self.index.cluster_role(name)
    }

    pub fn namespaced_role_id(&self, namespace: &str, name: &str) -> Option<RoleId> {
        self.index.role(namespace, name)
    }
}

#[derive(Default)]
struct Builder {
    roles: Vec<Role>,
    bindings: Vec<Binding>,
    issues: Vec<Issue>,
    role_keys: HashMap<(RoleKind, Option<String>, String), RoleId>,
    binding_keys: HashMap<(BindingKind, Option<String>, String), BindingId>,
    files: HashMap<String, Arc<str>>,
}

impl Builder {
    fn file(&mut self, object: &Object) -> Arc<str> {
        if let Some(f) = self.files.get(&object.source.name) {
            return f.clone();
        }
        let f: Arc<str> = Arc::from(object.source.name.as_str());
        self.files.insert(object.source.name.clone(), f.clone());
        f
    }

    fn issue(&mut self, file: &Arc<str>, node: &Node, message: String) {
        self.issues.push(Issue {
            location: Location::of(file, node),
            message,
        });
    }

    fn add(&mut self, object: &Object) {
        if object.id.group() != RBAC_GROUP {
            return;
        }
        match object.id.kind.as_str() {
            "Role" => self.add_role(object, RoleKind::Role),
            "ClusterRole" => self.add_role(object, RoleKind::ClusterRole),
            "RoleBinding" => self.add_binding(object, BindingKind::RoleBinding),
            "ClusterRoleBinding" => self.add_binding(object, BindingKind::ClusterRoleBinding),
            _ => {}
        }
    }

    /// The namespace of a namespaced RBAC object: as written, or `default`
    /// (where `kubectl apply` without `-n` puts it).
    fn namespace_of(&mut self, object: &Object, file: &Arc<str>) -> String {
        match object.id.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns.to_string(),
            _ => {
                self.issue(
                    file,
                    object.metadata().unwrap_or(&object.root),
                    format!(
                        "{} {:?} has no namespace; taken as \"default\", where kubectl apply without -n puts it",
                        object.id.kind, object.id.name
                    ),
                );
                "default".to_string()
            }
        }
    }

    fn strings(&mut self, file: &Arc<str>, parent: &Node, key: &str, what: &str) -> Vec<String> {
        let Some(node) = parent.get_set(key) else {
            return Vec::new();
        };
        let Some(items) = node.as_seq() else {
            self.issue(
                file,
                node,
                format!(
                    "{what}.{key} must be a list of strings, found {}; ignored",
                    node.kind()
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.issue(
                    file,
                    item,
                    format!(
                        "{what}.{key} item `{}` is a {}, not a string: the API server rejects it (quote it); ignored",
                        item.display_value(),
                        item.kind()
                    ),
                ),
            }
        }
        out
    }

    fn add_role(&mut self, object: &Object, kind: RoleKind) {
        let file = self.file(object);
        let namespace = match kind {
            RoleKind::Role => Some(self.namespace_of(object, &file)),
            RoleKind::ClusterRole => None,
        };
        let name = object.id.name.clone();
        let mut rules = Vec::new();
        if let Some(rules_node) = object.root.get_set("rules") {
            match rules_node.as_seq() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if item.as_map().is_none() {
                            self.issue(
                                &file,
                                item,
                                format!("rules[{i}] is a {}, not a rule; ignored", item.kind()),
                            );
                            continue;
                        }
                        let what = format!("rules[{i}]");
                        let rule = PolicyRule {
                            verbs: self.strings(&file, item, "verbs", &what),
                            api_groups: self.strings(&file, item, "apiGroups", &what),
                            resources: self.strings(&file, item, "resources", &what),
                            resource_names: self.strings(&file, item, "resourceNames", &what),
                            non_resource_urls: self.strings(&file, item, "nonResourceURLs", &what),
                        };
                        self.check_rule(&file, item, &rule, kind, i);
                        let empty_resource_names = item
                            .get_set("resourceNames")
                            .filter(|n| n.as_seq().is_some_and(<[Node]>::is_empty))
                            .map(|n| Location::of(&file, n));
                        rules.push(Rule {
                            rule,
                            location: Location::of(&file, item),
                            origin: None,
                            empty_resource_names,
                        });
                    }
                }
                None => self.issue(
                    &file,
                    rules_node,
                    format!("rules must be a list, found {}; ignored", rules_node.kind()),
                ),
            }
        }
        let mut aggregation = None;
        if let Some(agg) = object.root.get_set("aggregationRule") {
            if kind == RoleKind::Role {
                self.issue(
                    &file,
                    agg,
                    "a Role cannot aggregate (aggregationRule is a ClusterRole field); ignored"
                        .into(),
                );
            } else {
                let mut selectors = Vec::new();
                let mut valid = true;
                let items = agg
                    .get_set("clusterRoleSelectors")
                    .map(Node::items)
                    .unwrap_or(&[]);
                for item in items {
                    match cluster_role_selector(item) {
                        Ok(s) => selectors.push(s),
                        Err(e) => {
                            valid = false;
                            self.issue(
                                &file,
                                item,
                                format!(
                                    "invalid clusterRoleSelector: {e}; the aggregation controller fails on it and leaves the rules as written"
                                ),
                            );
                        }
                    }
                }
                if valid {
                    if items.is_empty() {
                        self.issue(
                            &file,
                            agg,
                            "aggregationRule has no clusterRoleSelectors: the API server requires at least one".into(),
                        );
                    }
                    if !rules.is_empty() {
                        self.issue(
                            &file,
                            agg,
                            format!(
                                "ClusterRole {name:?} aggregates: the controller replaces its {} written rule(s) with the aggregated ones",
                                rules.len()
                            ),
                        );
                    }
                    aggregation = Some(selectors);
                }
            }
        }
        let role = Role {
            kind,
            namespace: namespace.clone(),
            name: name.clone(),
            labels: object
                .labels()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            rules,
            aggregation,
            location: Location::of(&file, &object.root),
        };
        let key = (kind, namespace, name);
        if let Some(&existing) = self.role_keys.get(&key) {
            let previous = self.roles[existing].location.clone();
            self.issue(
                &file,
                &object.root,
                format!(
                    "{} is defined again (first at {previous}); this later definition is used",
                    role.describe()
                ),
            );
            self.roles[existing] = role;
        } else {
            self.role_keys.insert(key, self.roles.len());
            self.roles.push(role);
        }
    }

    /// Reports what `ValidatePolicyRule` would reject.
    fn check_rule(
        &mut self,
        file: &Arc<str>,
        node: &Node,
        rule: &PolicyRule,
        kind: RoleKind,
        i: usize,
    ) {
        let mut problems = Vec::new();
        if rule.verbs.is_empty() {
            problems.push("verbs must contain at least one value");
        }
        if !rule.non_resource_urls.is_empty() {
            if kind == RoleKind::Role {
                problems.push("namespaced rules cannot apply to non-resource URLs");
            }
            if !rule.api_groups.is_empty()
                || !rule.resources.is_empty()
                || !rule.resource_names.is_empty()
            {
                problems.push("rules cannot apply to both regular resources and non-resource URLs");
            }
        } else {
            if rule.api_groups.is_empty() {
                problems.push(
                    "resource rules must supply at least one api group (\"\" is the core group)",
                );
            }
            if rule.resources.is_empty() {
                problems.push("resource rules must supply at least one resource");
            }
        }
        for p in problems {
            self.issue(
                file,
                node,
                format!("rules[{i}]: {p}; the API server rejects this rule"),
            );
        }
    }

    fn add_binding(&mut self, object: &Object, kind: BindingKind) {
        let file = self.file(object);
        let namespace = match kind {
            BindingKind::RoleBinding => Some(self.namespace_of(object, &file)),
            BindingKind::ClusterRoleBinding => None,
        };
        let name = object.id.name.clone();
        let text = |node: Option<&Node>, key: &str| {
            node.and_then(|n| n.get(key))
                .and_then(Node::as_str)
                .unwrap_or("")
                .to_string()
        };
        let role_ref_node = object.root.get("roleRef");
        let role_ref = RoleRef {
            kind: text(role_ref_node, "kind"),
            name: text(role_ref_node, "name"),
            api_group: text(role_ref_node, "apiGroup"),
        };
        if role_ref.kind.is_empty() || role_ref.name.is_empty() {
            self.issue(
                &file,
                role_ref_node.unwrap_or(&object.root),
                format!(
                    "{} {name:?} needs roleRef.kind and roleRef.name",
                    kind.as_str()
                ),
            );
        }
        let mut subjects = Vec::new();
        for item in object
            .root
            .get_set("subjects")
            .map(Node::items)
            .unwrap_or(&[])
        {
            let subject = Subject {
                kind: SubjectKind::parse(&text(Some(item), "kind")),
                name: text(Some(item), "name"),
                namespace: item
                    .get("namespace")
                    .and_then(Node::as_str)
                    .map(str::to_string),
                location: Location::of(&file, item),
            };
            if let SubjectKind::Other(k) = &subject.kind {
                self.issue(
                    &file,
                    item,
                    format!("subject kind {k:?} is not User, Group or ServiceAccount; it matches nobody"),
                );
            }
            if subject.kind == SubjectKind::ServiceAccount
                && kind == BindingKind::ClusterRoleBinding
                && subject.namespace.as_deref().unwrap_or("").is_empty()
            {
                self.issue(
                    &file,
                    item,
                    format!(
                        "ServiceAccount subject {:?} of a ClusterRoleBinding has no namespace: it matches nobody (and the API server requires one)",
                        subject.name
                    ),
                );
            }
            subjects.push(subject);
        }
        let binding = Binding {
            kind,
            namespace: namespace.clone(),
            name: name.clone(),
            role_ref,
            subjects,
            location: Location::of(&file, &object.root),
            role: None,
            labels: object
                .labels()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let key = (kind, namespace, name);
        if let Some(&existing) = self.binding_keys.get(&key) {
            let previous = self.bindings[existing].location.clone();
            self.issue(
                &file,
                &object.root,
                format!(
                    "{} is defined again (first at {previous}); this later definition is used",
                    binding.describe()
                ),
            );
            self.bindings[existing] = binding;
        } else {
            self.binding_keys.insert(key, self.bindings.len());
            self.bindings.push(binding);
        }
    }

    fn finish(mut self) -> Rbac {
        crate::aggregate::aggregate(&mut self.roles);
        let index_roles = Index::role_maps(&self.roles);
        // Resolve roleRefs as `GetRoleReferenceRules` does: a Role in the
        // binding's namespace (a ClusterRoleBinding has none, so never), or a
        // ClusterRole by name. The roleRef's apiGroup is not consulted.
        for b in 0..self.bindings.len() {
            let binding = &self.bindings[b];
            let resolved = match binding.role_ref.kind.as_str() {
                "ClusterRole" => index_roles.cluster_role(&binding.role_ref.name),
                "Role" => binding
                    .namespace
                    .as_deref()
                    .and_then(|ns| index_roles.role(ns, &binding.role_ref.name)),
                _ => None,
            };
            let problem = match (binding.role_ref.kind.as_str(), binding.kind, resolved) {
                (_, _, Some(_)) => None,
                ("Role", BindingKind::ClusterRoleBinding, None) => Some(
                    "a ClusterRoleBinding cannot refer to a Role: it grants nothing".to_string(),
                ),
                ("Role", _, None) => Some(format!(
                    "refers to Role \"{}/{}\", which is not in the input: it grants nothing",
                    binding.namespace.as_deref().unwrap_or(""),
                    binding.role_ref.name
                )),
                ("ClusterRole", _, None) => Some(format!(
                    "refers to ClusterRole {:?}, which is not in the input (default roles come with --bootstrap-policy): it grants nothing here",
                    binding.role_ref.name
                )),
                (other, _, None) => Some(format!(
                    "roleRef.kind {other:?} is neither Role nor ClusterRole: it grants nothing"
                )),
            };
            if let Some(message) = problem {
                let location = binding.location.clone();
                let what = binding.describe();
                self.issues.push(Issue {
                    location,
                    message: format!("{what} {message}"),
                });
            }
            self.bindings[b].role = resolved;
        }
        let index = Index::build(index_roles, &self.roles, &self.bindings);
        Rbac {
            roles: self.roles,
            bindings: self.bindings,
            issues: self.issues,
            index,
        }
    }
}

/// A `clusterRoleSelectors` item as the aggregation controller reads it
/// (`LabelSelectorAsSelector`): `null` selects everything, and keys and values
/// must be valid label keys and values. The error says what it would reject.
fn cluster_role_selector(item: &Node) -> Result<LabelSelector, String> {
    if item.is_null() {
        return Ok(LabelSelector::default());
    }
    let selector = LabelSelector::from_node(item).map_err(|e| e.message)?;
    selector.validate_syntax()?;
    Ok(selector)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selector(yaml: &str) -> Result<LabelSelector, String> {
        let text = format!("apiVersion: v1\nkind: X\nmetadata: {{name: x}}\nsel: {yaml}\n");
        let loaded = palisade_model::load_text("t.yaml", text, &LoadOptions::default());
        cluster_role_selector(loaded.objects[0].root.get("sel").expect("sel"))
    }

    #[test]
    fn cluster_role_selectors_are_validated_and_null_selects_everything() {
        let labels = vec![("a".to_string(), "1".to_string())];
        assert!(selector("null").expect("null").matches(&labels));
        assert!(selector("{}").expect("empty").matches(&labels));
        assert!(selector("{matchLabels: {a: '1'}}")
            .expect("valid")
            .matches(&labels));
        assert!(selector("{matchLabels: {\"bad key!\": x}}").is_err());
        assert!(selector("{matchLabels: {a: \"bad value!\"}}").is_err());
        assert!(selector("{matchExpressions: [{key: a, operator: In}]}").is_err());
        assert!(selector("{matchExpressions: [{key: a, operator: Gt, values: ['1']}]}").is_err());
        assert!(selector("[a]").is_err());
    }

    #[test]
    fn service_account_usernames_compare_exactly() {
        assert!(sa_username_matches(
            "ns",
            "sa",
            "system:serviceaccount:ns:sa"
        ));
        assert!(!sa_username_matches(
            "ns",
            "sa",
            "system:serviceaccount:ns:sa2"
        ));
        assert!(!sa_username_matches(
            "n",
            "s:sa",
            "system:serviceaccount:ns:sa"
        ));
        assert!(!sa_username_matches(
            "ns",
            "sa",
            "system:serviceaccounts:ns:sa"
        ));
        assert!(!sa_username_matches("ns", "sa", "ns:sa"));
    }
}
