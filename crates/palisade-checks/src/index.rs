//! An index of the whole input, for checks that relate objects to each other.
//!
//! Built once, in one pass; every lookup is by namespace and name or by
//! namespace and label, so cross-object checks stay linear in the input size
//! (an all-pairs comparison is what makes some peers give up at 10,000 objects).

use std::collections::HashMap;

use palisade_model::selector::LabelSelector;
use palisade_model::{pod_template, string_pairs, Node, Object};

/// The namespace an object belongs to, for matching it with its neighbours.
/// Objects without one are grouped together, as they are applied together.
pub fn namespace_of(object: &Object) -> &str {
    object.id.namespace.as_deref().unwrap_or("")
}

/// A pod template's labels.
pub fn pod_labels(object: &Object) -> Option<&Node> {
    pod_template(object)?.metadata?.get("labels")
}

pub struct Index<'a> {
    objects: &'a [Object],
    /// key(kind, namespace, name) → object index. Cluster-scoped objects use namespace "".
    by_name: HashMap<String, usize>,
    by_kind: HashMap<&'a str, Vec<usize>>,
    /// key(namespace, kind) → object indexes.
    by_namespace_kind: HashMap<String, Vec<usize>>,
    /// Workloads (objects with a pod template) per namespace.
    workloads: HashMap<&'a str, Vec<usize>>,
    /// key(namespace, label key, label value) → workloads whose pod template has that label.
    workload_labels: HashMap<String, Vec<usize>>,
    /// The parsed pod selector of every selecting object (Service, PDB, NetworkPolicy...).
    selectors: HashMap<usize, LabelSelector>,
    /// key(namespace, kind, label key, label value) → selecting objects, keyed by the
    /// first `matchLabels` pair of their selector (every match must have it).
    selectors_by_label: HashMap<String, Vec<usize>>,
    /// key(namespace, kind) → selecting objects without `matchLabels` (expressions
    /// only, or empty selectors that select every pod): checked against every pod.
    selectors_unkeyed: HashMap<String, Vec<usize>>,
    /// key(roleRef kind, roleRef name) → RoleBindings and ClusterRoleBindings.
    bindings_by_role: HashMap<String, Vec<usize>>,
    /// key(namespace, name) → bindings with that ServiceAccount as a subject
    /// (by kind ServiceAccount or by its `system:serviceaccount:ns:name` username).
    bindings_by_service_account: HashMap<String, Vec<usize>>,
    /// namespace ("" for all namespaces) → bindings to the group
    /// `system:serviceaccounts:<ns>` (or `system:serviceaccounts`).
    bindings_by_service_account_group: HashMap<String, Vec<usize>>,
}

/// Where each kind keeps the selector of the pods it applies to, and whether
/// an empty selector selects every pod (true) or none (a Service without a
/// selector has manually managed endpoints).
const POD_SELECTORS: &[(&str, &[&str], bool)] = &[
    ("Service", &["spec", "selector"], false),
    ("PodDisruptionBudget", &["spec", "selector"], true),
    ("NetworkPolicy", &["spec", "podSelector"], true),
];

/// The pod selector of a selecting object; `None` when it selects no pod.
fn pod_selector_of(object: &Object) -> Option<LabelSelector> {
    let (kind, path, empty_selects_all) =
        POD_SELECTORS.iter().find(|(k, _, _)| *k == object.kind())?;
    let empty = Node::new(palisade_model::Value::Map(Box::new([])), Default::default());
    // A NetworkPolicy's podSelector decodes to an empty selector when absent;
    // a Service's or PDB's absent selector selects nothing.
    let node = match object.root.path(path).filter(|n| !n.is_null()) {
        Some(node) => node,
        None if *kind == "NetworkPolicy" => &empty,
        None => return None,
    };
    // An invalid selector is the API server's to reject: it selects nothing here.
    let selector = if *kind == "Service" {
        map_selector(node)
    } else {
        LabelSelector::from_node(node).ok()?
    };
    (!selector.is_empty() || *empty_selects_all).then_some(selector)
}

/// A plain `key: value` selector (`Service.spec.selector`,
/// `ReplicationController.spec.selector`); non-string values are skipped.
pub(crate) fn map_selector(node: &Node) -> LabelSelector {
    LabelSelector::from_match_labels(
        string_pairs(Some(node))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn push_once(map: &mut HashMap<String, Vec<usize>>, key: String, i: usize) {
    let list = map.entry(key).or_default();
    if list.last() != Some(&i) {
        list.push(i);
    }
}

/// A composite map key; NUL cannot occur in Kubernetes names or labels.
fn key(parts: &[&str]) -> String {
    parts.join("\0")
}

impl<'a> Index<'a> {
    pub fn new(objects: &'a [Object]) -> Self {
        let mut index = Index {
            objects,
            by_name: HashMap::new(),
            by_kind: HashMap::new(),
            by_namespace_kind: HashMap::new(),
            workloads: HashMap::new(),
            workload_labels: HashMap::new(),
            selectors: HashMap::new(),
            selectors_by_label: HashMap::new(),
            selectors_unkeyed: HashMap::new(),
            bindings_by_role: HashMap::new(),
            bindings_by_service_account: HashMap::new(),
            bindings_by_service_account_group: HashMap::new(),
        };
        for (i, object) in objects.iter().enumerate() {
            let kind = object.id.kind.as_str();
            let ns = namespace_of(object);
            index.by_name.insert(key(&[kind, ns, &object.id.name]), i);
            index.by_kind.entry(kind).or_default().push(i);
            index
                .by_namespace_kind
                .entry(key(&[ns, kind]))
                .or_default()
                .push(i);
            if let Some(selector) = pod_selector_of(object) {
                match selector.match_labels.first() {
                    Some((k, v)) => index
                        .selectors_by_label
                        .entry(key(&[ns, kind, k, v]))
                        .or_default()
                        .push(i),
                    None => index
                        .selectors_unkeyed
                        .entry(key(&[ns, kind]))
                        .or_default()
                        .push(i),
                }
                index.selectors.insert(i, selector);
            }
            if matches!(kind, "RoleBinding" | "ClusterRoleBinding") {
                index.add_binding(i, object);
            }
            if pod_template(object).is_some() {
                index.workloads.entry(ns).or_default().push(i);
                for (label, value) in string_pairs(pod_labels(object)) {
                    index
                        .workload_labels
                        .entry(key(&[ns, label, value]))
                        .or_default()
                        .push(i);
                }
            }
        }
        index
    }

    fn add_binding(&mut self, i: usize, binding: &Object) {
        let role_ref = binding.root.get("roleRef");
        let field = |k: &str| role_ref.and_then(|r| r.get(k)).and_then(Node::as_str);
        if let (Some(kind), Some(name)) = (field("kind"), field("name")) {
            self.bindings_by_role
                .entry(key(&[kind, name]))
                .or_default()
                .push(i);
        }
        let subjects = binding.root.get("subjects").map(Node::items).unwrap_or(&[]);
        for subject in subjects {
            let text = |k: &str| subject.get(k).and_then(Node::as_str).unwrap_or("");
            let name = text("name");
            match text("kind") {
                "ServiceAccount" => {
                    // The authorizer defaults a RoleBinding's subject namespace to its own.
                    let ns = match text("namespace") {
                        "" if binding.kind() == "RoleBinding" => namespace_of(binding),
                        ns => ns,
                    };
                    push_once(&mut self.bindings_by_service_account, key(&[ns, name]), i);
                }
                "User" => {
                    if let Some((ns, sa)) = name
                        .strip_prefix("system:serviceaccount:")
                        .and_then(|rest| rest.split_once(':'))
                    {
                        push_once(&mut self.bindings_by_service_account, key(&[ns, sa]), i);
                    }
                }
                "Group" => {
                    let ns = match name {
                        "system:serviceaccounts" => Some(""),
                        other => other.strip_prefix("system:serviceaccounts:"),
                    };
                    if let Some(ns) = ns {
                        push_once(
                            &mut self.bindings_by_service_account_group,
                            ns.to_string(),
                            i,
                        );
                    }
                }
                _ => {}
            }
        }
    }

    /// RoleBindings and ClusterRoleBindings whose `roleRef` is `kind`/`name`.
    pub fn bindings_to_role(
        &self,
        kind: &str,
        name: &str,
    ) -> impl Iterator<Item = &'a Object> + '_ {
        self.bindings_by_role
            .get(&key(&[kind, name]))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| &self.objects[i])
    }

    /// Bindings that name the ServiceAccount `namespace/name` as a subject, and
    /// with `groups`, those binding the `system:serviceaccounts[:namespace]` groups.
    /// Each binding once, in input order.
    pub fn bindings_of_service_account(
        &self,
        namespace: &str,
        name: &str,
        groups: bool,
    ) -> impl Iterator<Item = &'a Object> + '_ {
        let mut found: Vec<usize> = self
            .bindings_by_service_account
            .get(&key(&[namespace, name]))
            .cloned()
            .unwrap_or_default();
        if groups {
            for ns in ["", namespace] {
                if let Some(list) = self.bindings_by_service_account_group.get(ns) {
                    found.extend(list);
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(|i| &self.objects[i])
    }

    pub fn objects(&self) -> &'a [Object] {
        self.objects
    }

    /// The object of `kind` named `name` in `namespace` ("" for cluster-scoped or unspecified).
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<&'a Object> {
        self.by_name
            .get(&key(&[kind, namespace, name]))
            .map(|&i| &self.objects[i])
    }

    /// Whether the input has any object of `kind` at all. Reference checks use it to
    /// stay quiet when a kind is simply not part of this input.
    pub fn has_kind(&self, kind: &str) -> bool {
        self.by_kind.contains_key(kind)
    }

    pub fn of_kind(&self, kind: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.by_kind
            .get(kind)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|&i| &self.objects[i])
    }

    pub fn in_namespace(
        &self,
        namespace: &str,
        kind: &str,
    ) -> impl Iterator<Item = &'a Object> + '_ {
        self.by_namespace_kind
            .get(&key(&[namespace, kind]))
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|&i| &self.objects[i])
    }

    /// Workloads in `namespace` whose pod template labels satisfy `selector`.
    /// Starts from the rarest `matchLabels` pair, so the cost is the size of the
    /// smallest candidate set, not of the namespace.
    pub fn workloads_matching<'s>(
        &'s self,
        namespace: &'s str,
        selector: &'s LabelSelector,
    ) -> impl Iterator<Item = &'a Object> + 's {
        let candidates: &[usize] = match selector
            .match_labels
            .iter()
            .map(|(k, v)| {
                self.workload_labels
                    .get(&key(&[namespace, k, v]))
                    .map_or(&[][..], Vec::as_slice)
            })
            .min_by_key(|c| c.len())
        {
            Some(smallest) => smallest,
            None => self.workloads.get(namespace).map_or(&[][..], Vec::as_slice),
        };
        candidates
            .iter()
            .map(|&i| &self.objects[i])
            .filter(move |o| {
                let labels = pod_labels(o);
                selector.matches_with(|k| labels.and_then(|l| l.get(k)).and_then(Node::as_str))
            })
    }

    /// Objects of `kind` (Service, PodDisruptionBudget, NetworkPolicy) in `namespace`
    /// whose pod selector selects pods labelled `labels`. The cost is the number of
    /// objects sharing a label with the pod, not the size of the namespace.
    pub fn selecting<'s>(
        &'s self,
        namespace: &'s str,
        kind: &'s str,
        labels: Option<&'s Node>,
    ) -> impl Iterator<Item = &'a Object> + 's {
        let keyed = string_pairs(labels).flat_map(move |(k, v)| {
            self.selectors_by_label
                .get(&key(&[namespace, kind, k, v]))
                .map_or(&[][..], Vec::as_slice)
        });
        let unkeyed = self
            .selectors_unkeyed
            .get(&key(&[namespace, kind]))
            .map_or(&[][..], Vec::as_slice);
        keyed.chain(unkeyed).filter_map(move |&i| {
            let selector = self.selectors.get(&i)?;
            selector
                .matches_with(|k| labels.and_then(|l| l.get(k)).and_then(Node::as_str))
                .then(|| &self.objects[i])
        })
    }

    /// Objects of `kind` in `namespace` whose own labels satisfy `selector`.
    pub fn labelled_matching<'s>(
        &'s self,
        namespace: &'s str,
        kind: &'s str,
        selector: &'s LabelSelector,
    ) -> impl Iterator<Item = &'a Object> + 's {
        self.in_namespace(namespace, kind)
            .filter(move |o| selector.matches_with(|k| o.label(k)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{load_text, LoadOptions};

    #[test]
    fn selecting_finds_services_pdbs_and_policies_by_pod_labels() {
        let loaded = load_text(
            "t.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\nspec: {selector: {app: web}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: manual, namespace: a}\nspec: {}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: all, namespace: a}\nspec: {selector: {}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: expr, namespace: a}\nspec: {selector: {matchExpressions: [{key: app, operator: In, values: [db]}]}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a, labels: {app: web, tier: fe}}\nspec: {containers: [{name: c}]}\n",
            &LoadOptions::default(),
        );
        let index = Index::new(&loaded.objects);
        let pod = &loaded.objects[4];
        let labels = pod_labels(pod);
        let names = |kind| -> Vec<String> {
            index
                .selecting("a", kind, labels)
                .map(|o| o.id.name.clone())
                .collect()
        };
        assert_eq!(names("Service"), ["web"]);
        assert_eq!(names("PodDisruptionBudget"), ["all"]);
        assert!(index.selecting("b", "Service", labels).next().is_none());
    }
}
