//! Loading manifests as `kubectl` does for this analysis.
//!
//! On top of `palisade-model`'s loader: items of typed lists (`PodList`,
//! `NamespaceList`, …) exported from a cluster have no `kind` or
//! `apiVersion` of their own; `kubectl`'s decoder gives them the list's
//! (kind without `List`), and so do we.

use std::collections::HashMap;

use palisade_model::yaml::parse_stream;
use palisade_model::{
    load_inputs, Input, LoadOptions, Loaded, Node, Object, ObjectId, Value, CLUSTER_SCOPED_KINDS,
};

fn str_node(text: &str, like: &Node) -> Node {
    Node::new(Value::Str { text: text.into() }, like.span)
}

/// Loads `inputs` (files, directories recursively, `-` for stdin).
pub fn load(inputs: &[Input], options: &LoadOptions) -> Loaded {
    let mut loaded = load_inputs(inputs, options);
    fix_typed_lists(&mut loaded, options);
    loaded
}

/// Adds the objects of typed-list items that lack `kind`/`apiVersion`.
pub fn fix_typed_lists(loaded: &mut Loaded, options: &LoadOptions) {
    let mut extra: Vec<Object> = Vec::new();
    let mut fixed: Vec<(String, usize)> = Vec::new();
    for source in &loaded.sources {
        if !source.text.contains("List") {
            continue;
        }
        let (docs, _) = parse_stream(source);
        for doc in docs {
            let root = &doc.root;
            let Some(kind) = root.get("kind").and_then(Node::as_str) else {
                continue;
            };
            let Some(item_kind) = kind.strip_suffix("List").filter(|k| !k.is_empty()) else {
                continue;
            };
            let api_version = root
                .get("apiVersion")
                .and_then(Node::as_str)
                .unwrap_or("v1");
            for (i, item) in root
                .get("items")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                let Some(entries) = item.as_map() else {
                    continue;
                };
                let has_kind = item
                    .get("kind")
                    .and_then(Node::as_str)
                    .is_some_and(|k| !k.is_empty());
                let has_api = item
                    .get("apiVersion")
                    .and_then(Node::as_str)
                    .is_some_and(|k| !k.is_empty());
                if has_kind && has_api {
                    continue;
                }
                let mut new_entries: Vec<(Node, Node)> = Vec::with_capacity(entries.len() + 2);
                if !has_kind {
                    new_entries.push((str_node("kind", item), str_node(item_kind, item)));
                }
                if !has_api {
                    new_entries.push((str_node("apiVersion", item), str_node(api_version, item)));
                }
                new_entries.extend(
                    entries
                        .iter()
                        .filter(|(k, _)| {
                            (has_kind || !k.is_key("kind")) && (has_api || !k.is_key("apiVersion"))
                        })
                        .cloned(),
                );
                let new_root = Node::new(Value::Map(new_entries.into_boxed_slice()), item.span);
                let kind_of_item = new_root
                    .get("kind")
                    .and_then(Node::as_str)
                    .unwrap_or(item_kind)
                    .to_string();
                let api_of_item = new_root
                    .get("apiVersion")
                    .and_then(Node::as_str)
                    .unwrap_or(api_version)
                    .to_string();
                let metadata = new_root.get("metadata");
                let name = metadata
                    .and_then(|m| m.get("name"))
                    .and_then(Node::as_str)
                    .map(str::to_string)
                    .or_else(|| {
                        metadata
                            .and_then(|m| m.get("generateName"))
                            .and_then(Node::as_str)
                            .map(|g| format!("{g}*"))
                    })
                    .unwrap_or_default();
                let mut namespace = metadata
                    .and_then(|m| m.get("namespace"))
                    .and_then(Node::as_str)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string);
                let mut namespace_defaulted = false;
                if namespace.is_none() && !CLUSTER_SCOPED_KINDS.contains(&kind_of_item.as_str()) {
                    if let Some(d) = &options.default_namespace {
                        namespace = Some(d.clone());
                        namespace_defaulted = true;
                    }
                }
                fixed.push((source.name.clone(), i));
                extra.push(Object {
                    id: ObjectId {
                        api_version: api_of_item,
                        kind: kind_of_item,
                        namespace,
                        name,
                    },
                    root: new_root,
                    source: source.clone(),
                    document: doc.index,
                    list_item: Some(i),
                    namespace_defaulted,
                });
            }
        }
    }
    if extra.is_empty() {
        return;
    }
    loaded.errors.retain(|e| {
        !fixed.iter().any(|(file, i)| {
            e.file == *file
                && (e
                    .message
                    .starts_with(&format!("list item {i} has no `kind`"))
                    || e.message
                        .starts_with(&format!("list item {i} has no `apiVersion`")))
        })
    });
    let order: HashMap<String, usize> = loaded
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i))
        .collect();
    loaded.objects.extend(extra);
    loaded.objects.sort_by_key(|o| {
        (
            order.get(&o.source.name).copied().unwrap_or(usize::MAX),
            o.document,
            o.list_item.unwrap_or(0),
        )
    });
}

/// Loads files and directories given as paths.
pub fn load_paths(paths: &[std::path::PathBuf]) -> Loaded {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(p.clone())).collect();
    load(&inputs, &LoadOptions::default())
}
