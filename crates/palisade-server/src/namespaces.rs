//! What the server knows of the cluster's Namespaces: their labels (for Pod
//! Security levels and namespaceSelectors) and their objects (Gatekeeper's
//! `namespaceObject`, VAP's `namespaceObject`).
//!
//! Fed from a directory of Namespace manifests (offline) or by a watch of the
//! cluster (the front end plugs the cluster client in through
//! [`NamespaceCache::upsert`] / [`NamespaceCache::remove`] /
//! [`NamespaceCache::mark_synced`]), so this crate needs no Kubernetes client.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use palisade_model::{load_inputs, Input, LoadOptions, Object};
use serde_json::Value as Json;

/// One Namespace as the cache holds it.
#[derive(Debug, Clone)]
pub struct NamespaceEntry {
    pub json: Json,
    pub labels: Vec<(String, String)>,
}

impl NamespaceEntry {
    /// From a Namespace object as JSON. `kubernetes.io/metadata.name` is set
    /// on every namespace by the API server; it is added when missing.
    pub fn from_json(mut json: Json) -> Option<(String, NamespaceEntry)> {
        let name = json.pointer("/metadata/name")?.as_str()?.to_string();
        if let Some(metadata) = json.get_mut("metadata").and_then(Json::as_object_mut) {
            let labels = metadata
                .entry("labels")
                .or_insert_with(|| Json::Object(Default::default()));
            if let Some(labels) = labels.as_object_mut() {
                labels
                    .entry("kubernetes.io/metadata.name")
                    .or_insert_with(|| Json::String(name.clone()));
            }
        }
        let labels = json
            .pointer("/metadata/labels")
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Some((name, NamespaceEntry { json, labels }))
    }
}

/// Where namespace information comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceSource {
    /// Nothing configured: every namespace is taken to have no labels
    /// (the Pod Security defaults apply), and the server says so at start.
    None,
    /// A directory of manifests, read at start and on change.
    Directory,
    /// A live watch of the cluster.
    Watch,
}

/// The answer to "what is namespace X?".
#[derive(Debug, Clone)]
pub enum Lookup {
    Found(Arc<NamespaceEntry>),
    /// No source is configured: treat as unlabelled.
    Unconfigured,
    /// The source does not have it (the message says why).
    Missing(String),
}

/// Namespaces by name, shared between the request handlers and whatever feeds it.
#[derive(Debug)]
pub struct NamespaceCache {
    source: NamespaceSource,
    entries: RwLock<HashMap<String, Arc<NamespaceEntry>>>,
    synced: AtomicBool,
}

impl NamespaceCache {
    pub fn new(source: NamespaceSource) -> NamespaceCache {
        NamespaceCache {
            source,
            entries: RwLock::new(HashMap::new()),
            synced: AtomicBool::new(source == NamespaceSource::None),
        }
    }

    pub fn source(&self) -> NamespaceSource {
        self.source
    }

    pub fn lookup(&self, name: &str) -> Lookup {
        if let Some(entry) = self.read().get(name) {
            return Lookup::Found(entry.clone());
        }
        match self.source {
            NamespaceSource::None => Lookup::Unconfigured,
            NamespaceSource::Directory => Lookup::Missing(format!(
                "namespace {name:?} is not among the Namespace manifests given with --namespaces"
            )),
            NamespaceSource::Watch => {
                Lookup::Missing(format!("namespace {name:?} is not in the watched cluster"))
            }
        }
    }

    /// Adds or replaces a namespace (from a watch event).
    pub fn upsert(&self, json: Json) {
        if let Some((name, entry)) = NamespaceEntry::from_json(json) {
            self.write().insert(name, Arc::new(entry));
        }
    }

    pub fn remove(&self, name: &str) {
        self.write().remove(name);
    }

    /// Replaces every entry (a watch's initial list, or a directory re-read).
    pub fn replace_all(&self, namespaces: impl IntoIterator<Item = Json>) {
        let map: HashMap<String, Arc<NamespaceEntry>> = namespaces
            .into_iter()
            .filter_map(NamespaceEntry::from_json)
            .map(|(name, entry)| (name, Arc::new(entry)))
            .collect();
        *self.write() = map;
    }

    /// The source has delivered its first complete view: the server is ready.
    pub fn mark_synced(&self) {
        self.synced.store(true, Ordering::Release);
    }

    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<NamespaceEntry>>> {
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<NamespaceEntry>>> {
        self.entries.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// The Namespace objects under `dir` (recursively), and the problems met.
pub fn read_namespace_dir(dir: &Path) -> (Vec<Json>, Vec<String>) {
    let loaded = load_inputs(&[Input::Path(dir.to_path_buf())], &LoadOptions::default());
    let problems = loaded.errors.iter().map(ToString::to_string).collect();
    let namespaces = loaded
        .objects
        .iter()
        .filter(|o: &&Object| o.id.kind == "Namespace" && o.id.group().is_empty())
        .map(|o| o.root.to_json())
        .collect();
    (namespaces, problems)
}
