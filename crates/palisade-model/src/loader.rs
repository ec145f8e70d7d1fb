//! Reading inputs into [`Object`]s: files, directories, standard input.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diagnostic::{InputError, InputErrorKind};
use crate::node::{Node, Value};
use crate::object::{Object, ObjectId};
use crate::schema::check_types;
use crate::source::{Pos, Source, SourceFile, Span};
use crate::yaml::parse_stream;

/// File endings read when walking a directory. Files named explicitly are read whatever their name.
pub const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Kinds that have no namespace. Objects of other kinds without one get the
/// `--namespace` given on the command line, as `kubectl apply -n` does.
pub const CLUSTER_SCOPED_KINDS: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "ConstraintTemplate",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
    "ClusterSecretStore",
    "ClusterExternalSecret",
    "GlobalNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "SecurityContextConstraints",
];

/// How to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Namespace for namespaced objects that have none (`-n`).
    pub default_namespace: Option<String>,
}

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Object>,
    pub errors: Vec<InputError>,
    /// Every file read (including ones with errors), in input order.
    pub sources: Vec<Source>,
    /// Documents read, empty ones excluded.
    pub documents: usize,
    /// Documents in a known format that is not a Kubernetes object (Falco rules,
    /// Prometheus rule files, kustomizations): counted, not errors.
    pub foreign: Vec<ForeignDocument>,
}

/// A document in a known non-Kubernetes format.
#[derive(Debug, Clone)]
pub struct ForeignDocument {
    pub file: String,
    pub document: usize,
    pub format: ForeignFormat,
}

/// Known YAML formats that travel next to manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ForeignFormat {
    /// A Falco rules file: a list of `rule`, `macro` and `list` items.
    FalcoRules,
    /// A Prometheus rule file: `groups` of alerting and recording rules.
    PrometheusRules,
    /// A kustomization without `apiVersion`/`kind`.
    Kustomization,
}

impl ForeignFormat {
    pub fn description(self) -> &'static str {
        match self {
            ForeignFormat::FalcoRules => "Falco rules file",
            ForeignFormat::PrometheusRules => "Prometheus rule file",
            ForeignFormat::Kustomization => "kustomization",
        }
    }

    /// Recognises a document that is not a Kubernetes object by its shape.
    fn of(root: &Node, file_name: &str) -> Option<Self> {
        if root.get("kind").is_some() {
            return None;
        }
        if let Some(items) = root.as_seq() {
            const FALCO_KEYS: &[&str] = &[
                "rule",
                "macro",
                "list",
                "required_engine_version",
                "required_plugin_versions",
            ];
            let is_falco = !items.is_empty()
                && items.iter().all(|item| {
                    item.entries()
                        .iter()
                        .any(|(k, _)| k.as_str().is_some_and(|k| FALCO_KEYS.contains(&k)))
                });
            return is_falco.then_some(ForeignFormat::FalcoRules);
        }
        if let Some(groups) = root.get("groups").and_then(Node::as_seq) {
            if groups.iter().all(|g| g.get("rules").is_some()) {
                return Some(ForeignFormat::PrometheusRules);
            }
        }
        let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        if matches!(
            base,
            "kustomization.yaml" | "kustomization.yml" | "Kustomization"
        ) {
            return Some(ForeignFormat::Kustomization);
        }
        None
    }
}

impl Loaded {
    fn absorb(&mut self, other: Loaded) {
        self.objects.extend(other.objects);
        self.errors.extend(other.errors);
        self.sources.extend(other.sources);
        self.documents += other.documents;
        self.foreign.extend(other.foreign);
    }
}

/// An input named by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    Path(PathBuf),
}

impl Input {
    pub fn parse(arg: &str) -> Self {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }
}

/// Loads every input. Files are parsed in parallel; the result keeps input order.
pub fn load_inputs(inputs: &[Input], options: &LoadOptions) -> Loaded {
    let mut loaded = Loaded::default();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stdin_read = false;
    for input in inputs {
        match input {
            Input::Stdin => {
                // Standard input can be read once; a second `-` is ignored.
                if stdin_read {
                    continue;
                }
                stdin_read = true;
                let mut bytes = Vec::new();
                let result = std::io::stdin().read_to_end(&mut bytes);
                loaded.absorb(load_bytes("<stdin>", result.map(|_| bytes), options));
            }
            Input::Path(path) => collect_files(path, true, &mut files, &mut loaded.errors),
        }
    }
    let per_file: Vec<Loaded> = files
        .par_iter()
        .map(|path| {
            let name = path.display().to_string();
            load_bytes(&name, std::fs::read(path), options)
        })
        .collect();
    for part in per_file {
        loaded.absorb(part);
    }
    loaded
}

/// Walks `path`: a file is taken as is, a directory recursively (sorted, manifests only).
fn collect_files(
    path: &Path,
    explicit: bool,
    files: &mut Vec<PathBuf>,
    errors: &mut Vec<InputError>,
) {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => {
            errors.push(io_error(&path.display().to_string(), &e));
            return;
        }
    };
    if meta.is_dir() {
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(e) => {
                errors.push(io_error(&path.display().to_string(), &e));
                return;
            }
        };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            collect_files(&child, false, files, errors);
        }
    } else if explicit || has_manifest_extension(path) {
        files.push(path.to_path_buf());
    }
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        MANIFEST_EXTENSIONS
            .iter()
            .any(|m| e.eq_ignore_ascii_case(m))
    })
}

fn io_error(name: &str, e: &std::io::Error) -> InputError {
    InputError {
        kind: InputErrorKind::Io,
        message: format!("cannot read: {e}"),
        source: None,
        file: name.to_string(),
        span: Span::default(),
        related: None,
    }
}

fn load_bytes(name: &str, bytes: std::io::Result<Vec<u8>>, options: &LoadOptions) -> Loaded {
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(e) => {
            return Loaded {
                errors: vec![io_error(name, &e)],
                ..Loaded::default()
            }
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => load_text(name, text, options),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let text = String::from_utf8_lossy(valid);
            let line = text.matches('\n').count() + 1;
            let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let pos = Pos::new(
                u32::try_from(line).unwrap_or(u32::MAX),
                u32::try_from(column).unwrap_or(u32::MAX),
            );
            Loaded {
                errors: vec![InputError {
                    kind: InputErrorKind::Io,
                    message: "not UTF-8 text (Kubernetes manifests must be UTF-8)".into(),
                    source: None,
                    file: name.to_string(),
                    span: Span::point(pos),
                    related: None,
                }],
                ..Loaded::default()
            }
        }
    }
}

/// Loads one text (a file's content or standard input) named `name`.
pub fn load_text(name: &str, text: impl Into<String>, options: &LoadOptions) -> Loaded {
    let source: Source = Arc::new(SourceFile::new(name, text));
    let (documents, mut errors) = parse_stream(&source);
    let mut loaded = Loaded {
        sources: vec![source.clone()],
        ..Loaded::default()
    };
    for document in documents {
        if document.root.is_null() {
            continue;
        }
        loaded.documents += 1;
        if let Some(format) = ForeignFormat::of(&document.root, name) {
            loaded.foreign.push(ForeignDocument {
                file: name.to_string(),
                document: document.index,
                format,
            });
            continue;
        }
        objects_of_document(
            &source,
            document.index,
            document.root,
            options,
            &mut loaded.objects,
            &mut errors,
        );
    }
    loaded.errors = errors;
    loaded
}

fn objects_of_document(
    source: &Source,
    document: usize,
    root: Node,
    options: &LoadOptions,
    objects: &mut Vec<Object>,
    errors: &mut Vec<InputError>,
) {
    if root.as_map().is_none() {
        errors.push(InputError::new(
            InputErrorKind::NotAnObject,
            source,
            root.span,
            format!("document is a {}, not a Kubernetes object", root.kind()),
        ));
        return;
    }
    let kind = root.get("kind").and_then(Node::as_str).unwrap_or("");
    let is_list = kind == "List"
        || (kind.ends_with("List")
            && root
                .get("items")
                .is_some_and(|i| i.as_seq().is_some() || i.is_null()));
    if is_list {
        // Items of a typed list (`PodList`, as the API returns it) carry no
        // `kind` or `apiVersion` of their own: kubectl's decoder gives them the
        // list's, and so do we. A plain `List` has no type to give.
        let item_type = (kind != "List").then(|| {
            let api_version = root
                .get("apiVersion")
                .and_then(Node::as_str)
                .filter(|a| !a.is_empty())
                .unwrap_or("v1");
            (
                kind.trim_end_matches("List").to_string(),
                api_version.to_string(),
            )
        });
        let Value::Map(entries) = root.value else {
            return;
        };
        let items = entries
            .into_vec()
            .into_iter()
            .find(|(k, _)| k.as_str() == Some("items"))
            .map(|(_, v)| v);
        if let Some(Node {
            value: Value::Seq(items),
            ..
        }) = items
        {
            for (i, item) in items.into_vec().into_iter().enumerate() {
                let item = match &item_type {
                    Some((kind, api_version)) => with_type_of_list(item, kind, api_version),
                    None => item,
                };
                if let Some(object) = make_object(source, document, Some(i), item, options, errors)
                {
                    objects.push(object);
                }
            }
        }
        return;
    }
    if let Some(object) = make_object(source, document, None, root, options, errors) {
        objects.push(object);
    }
}

/// `item` with the `kind` and `apiVersion` of its typed list where it has
/// none, placed first and located at the item.
fn with_type_of_list(item: Node, kind: &str, api_version: &str) -> Node {
    // Absent, null or empty, as Go's decoder sees an unset string.
    let is_missing = |key: &str| {
        item.get(key)
            .is_none_or(|n| n.is_null() || n.as_str() == Some(""))
    };
    let (kind_missing, api_missing) = (is_missing("kind"), is_missing("apiVersion"));
    if !kind_missing && !api_missing {
        return item;
    }
    let span = item.span;
    let Value::Map(entries) = item.value else {
        return Node::new(item.value, span);
    };
    let text = |t: &str| Node::new(Value::Str { text: t.into() }, span);
    let mut typed = Vec::with_capacity(entries.len() + 2);
    if kind_missing {
        typed.push((text("kind"), text(kind)));
    }
    if api_missing {
        typed.push((text("apiVersion"), text(api_version)));
    }
    typed.extend(entries.into_vec().into_iter().filter(|(k, _)| {
        let replaced =
            (kind_missing && k.is_key("kind")) || (api_missing && k.is_key("apiVersion"));
        !replaced
    }));
    Node::new(Value::Map(typed.into_boxed_slice()), span)
}

fn make_object(
    source: &Source,
    document: usize,
    list_item: Option<usize>,
    root: Node,
    options: &LoadOptions,
    errors: &mut Vec<InputError>,
) -> Option<Object> {
    let what = match list_item {
        Some(i) => format!("list item {i}"),
        None => "document".to_string(),
    };
    if root.as_map().is_none() {
        errors.push(InputError::new(
            InputErrorKind::NotAnObject,
            source,
            root.span,
            format!("{what} is a {}, not a Kubernetes object", root.kind()),
        ));
        return None;
    }
    let mut field = |name: &str| -> Option<String> {
        match root.get(name) {
            Some(node) => {
                match node.as_str() {
                    Some(text) if !text.is_empty() => Some(text.to_string()),
                    _ => {
                        errors.push(InputError::new(
                        InputErrorKind::NotAnObject,
                        source,
                        node.span,
                        format!("{what} has an invalid `{name}`: expected a non-empty string, found {}", node.kind()),
                    ));
                        None
                    }
                }
            }
            None => {
                errors.push(InputError::new(
                    InputErrorKind::NotAnObject,
                    source,
                    Span::point(root.span.start),
                    format!("{what} has no `{name}`: not a Kubernetes object"),
                ));
                None
            }
        }
    };
    let kind = field("kind");
    let api_version = field("apiVersion");
    let (kind, api_version) = (kind?, api_version?);
    let metadata = root.get("metadata");
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
        .filter(|ns| !ns.is_empty())
        .map(str::to_string);
    let mut namespace_defaulted = false;
    if namespace.is_none() && !CLUSTER_SCOPED_KINDS.contains(&kind.as_str()) {
        if let Some(default) = &options.default_namespace {
            namespace = Some(default.clone());
            namespace_defaulted = true;
        }
    }
    let object = Object {
        id: ObjectId {
            api_version,
            kind,
            namespace,
            name,
        },
        root,
        source: source.clone(),
        document,
        list_item,
        namespace_defaulted,
    };
    check_types(&object, errors);
    Some(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Loaded {
        load_text("t.yaml", text, &LoadOptions::default())
    }

    #[test]
    fn typed_list_items_take_the_lists_type() {
        // As the API returns a list: items without kind or apiVersion.
        let l = load("apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a, namespace: shop}\n  spec: {containers: []}\n- kind: \"\"\n  apiVersion: null\n  metadata: {name: b}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: c}\n");
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let ids: Vec<(&str, &str, &str)> = l
            .objects
            .iter()
            .map(|o| {
                (
                    o.id.api_version.as_str(),
                    o.id.kind.as_str(),
                    o.id.name.as_str(),
                )
            })
            .collect();
        assert_eq!(
            ids,
            [("v1", "Pod", "a"), ("v1", "Pod", "b"), ("v1", "Pod", "c")]
        );
        assert_eq!(
            l.objects[0].root.get("kind").and_then(Node::as_str),
            Some("Pod")
        );
        assert_eq!(l.objects[0].list_item, Some(0));
        let l =
            load("apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata: {name: web}\n");
        assert_eq!(l.objects[0].id.api_version, "apps/v1");
        assert_eq!(l.objects[0].id.kind, "Deployment");
        // A plain List has no type to give: its items must carry their own.
        let l = load("apiVersion: v1\nkind: List\nitems:\n- metadata: {name: a}\n");
        assert!(l.objects.is_empty());
        assert!(
            l.errors[0].message.contains("list item 0 has no `kind`"),
            "{:?}",
            l.errors
        );
    }

    #[test]
    fn lists_become_objects() {
        let l = load("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Service\n  metadata: {name: b}\n");
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.objects.len(), 2);
        assert_eq!(l.objects[1].id.kind, "Service");
        assert_eq!(l.objects[1].list_item, Some(1));
        let l = load("apiVersion: v1\nkind: PodList\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n");
        assert_eq!(l.objects.len(), 1);
        assert_eq!(l.objects[0].id.kind, "Pod");
    }

    #[test]
    fn missing_kind_is_an_error_and_the_rest_still_loads() {
        let l = load("apiVersion: v1\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: why}\n");
        assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
        assert_eq!(l.errors[0].kind, InputErrorKind::NotAnObject);
        assert_eq!(l.errors[0].span.start, Pos::new(1, 1));
        assert_eq!(l.objects.len(), 1);
    }

    #[test]
    fn quoted_boolean_is_a_type_error_at_its_position() {
        let l = load("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    securityContext:\n      privileged: \"true\"\n");
        assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
        let e = &l.errors[0];
        assert_eq!(e.kind, InputErrorKind::Type);
        assert_eq!(e.span.start, Pos::new(8, 19));
        assert!(
            e.message
                .contains("spec.containers[0].securityContext.privileged"),
            "{}",
            e.message
        );
        assert!(e.message.contains("expected boolean"), "{}", e.message);
    }

    #[test]
    fn default_namespace_only_for_namespaced_kinds() {
        let opts = LoadOptions {
            default_namespace: Some("prod".into()),
        };
        let l = load_text(
            "t.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n",
            &opts,
        );
        assert_eq!(l.objects[0].id.namespace.as_deref(), Some("prod"));
        assert!(l.objects[0].namespace_defaulted);
        assert_eq!(l.objects[1].id.namespace, None);
    }

    #[test]
    fn known_foreign_formats_are_counted_not_errors() {
        let l = load("- rule: x\n  condition: evt.type = open\n- macro: m\n  condition: a\n");
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.foreign[0].format, ForeignFormat::FalcoRules);
        let l = load("groups:\n- name: g\n  rules: []\n");
        assert_eq!(l.foreign[0].format, ForeignFormat::PrometheusRules);
        let l = load("- a\n- b\n");
        assert_eq!(l.errors.len(), 1);
        assert!(l.foreign.is_empty());
    }

    #[test]
    fn lone_cr_line_breaks_keep_positions_and_recovery() {
        let l = load("apiVersion: v1\rkind: Pod\rmetadata: {name: a\r---\rapiVersion: v1\rkind: Pod\rmetadata: {name: b}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: c}\n");
        assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
        assert!(l.errors[0].span.start.line <= 5, "{:?}", l.errors[0]);
        let names: Vec<&str> = l.objects.iter().map(|o| o.id.name.as_str()).collect();
        assert!(names.contains(&"c"), "{names:?}");
    }

    #[test]
    fn empty_and_comment_only_documents_are_skipped() {
        let l = load("# only a comment\n---\n--- # sep comment\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n");
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.objects.len(), 1);
        assert_eq!(l.documents, 1);
    }

    #[test]
    fn json_and_crlf_and_directives() {
        let l =
            load("{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"j\"}}");
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.objects[0].id.name, "j");
        let l = load("%YAML 1.1\n---\r\napiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: c\r\n");
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.objects[0].id.name, "c");
        let name = l.objects[0].root.path(&["metadata", "name"]).unwrap();
        assert_eq!(name.span.start, Pos::new(6, 9));
    }
}
