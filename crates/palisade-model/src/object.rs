//! Kubernetes objects: a document (or a `List` item) with its identity.

use std::fmt;

use serde::Serialize;

use crate::node::Node;
use crate::source::Source;

/// Who an object is: what the API server would call it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectId {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`, or `metadata.generateName` followed by `*`, or empty.
    pub name: String,
}

impl ObjectId {
    /// The API group, empty for the core group.
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }
}

impl fmt::Display for ObjectId {
    /// `Kind ns/name`, or `Kind name` for cluster-scoped and namespace-less objects.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One object of the input.
#[derive(Debug, Clone)]
pub struct Object {
    pub id: ObjectId,
    /// The object's whole mapping.
    pub root: Node,
    pub source: Source,
    /// 0-based document index in the file.
    pub document: usize,
    /// 0-based index in `items` when the object came from a `List`.
    pub list_item: Option<usize>,
    /// True when `metadata.namespace` was absent and the namespace came from
    /// the command line (as `kubectl apply -n` would set it).
    pub namespace_defaulted: bool,
}

impl Object {
    pub fn kind(&self) -> &str {
        &self.id.kind
    }

    pub fn metadata(&self) -> Option<&Node> {
        self.root.get("metadata")
    }

    /// `metadata.labels` as (key, value) pairs of strings.
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        string_pairs(self.root.path(&["metadata", "labels"]))
    }

    /// `metadata.annotations` as (key, value) pairs of strings.
    pub fn annotations(&self) -> impl Iterator<Item = (&str, &str)> {
        string_pairs(self.root.path(&["metadata", "annotations"]))
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.root
            .path(&["metadata", "labels", key])
            .and_then(Node::as_str)
    }
}

/// The string entries of a mapping node; non-string values are skipped.
pub fn string_pairs(node: Option<&Node>) -> impl Iterator<Item = (&str, &str)> {
    node.map(Node::entries)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v.as_str()?)))
}
