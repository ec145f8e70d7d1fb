//! An index of the whole input, for checks that relate objects to each other.
//!
//! Built once, in one pass; every lookup is by namespace and name or by
//! namespace and label, so cross-object checks stay linear in the input size
//! (an all-pairs comparison is what makes some peers give up at 10,000 objects).

use std::collections::HashMap;

use palisade_model::{pod_template, string_pairs, Node, Object};

use crate::selector::Selector;

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
        selector: &'s Selector,
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
                selector.matches(|k| labels.and_then(|l| l.get(k)).and_then(Node::as_str))
            })
    }

    /// Objects of `kind` in `namespace` whose own labels satisfy `selector`.
    pub fn labelled_matching<'s>(
        &'s self,
        namespace: &'s str,
        kind: &'s str,
        selector: &'s Selector,
    ) -> impl Iterator<Item = &'a Object> + 's {
        self.in_namespace(namespace, kind)
            .filter(move |o| selector.matches(|k| o.label(k)))
    }
}
