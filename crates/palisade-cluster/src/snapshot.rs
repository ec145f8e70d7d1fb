//! The snapshot reader: every kind Palisade's analyses read, listed from the
//! API server page by page (`limit`/`continue`), several kinds at a time,
//! into plain JSON objects that the model loads like any manifest file.
//!
//! What a snapshot holds, and what it leaves out:
//!
//! - every kind of [`KINDS`] the server serves, plus every Gatekeeper
//!   constraint kind (discovered in `constraints.gatekeeper.sh`); add-on kinds
//!   the server does not serve are skipped silently;
//! - items get the `apiVersion` and `kind` that list responses leave out, and
//!   lose `metadata.managedFields` (bookkeeping, often half the bytes);
//! - **Secrets are left out** unless asked for ([`SnapshotOptions::include_secrets`]);
//!   then every value of `data` and `stringData` is replaced by `REDACTED`
//!   (keys, type and metadata are kept, which is what the checks read), and
//!   the `kubectl.kubernetes.io/last-applied-configuration` annotation, which
//!   holds the values in clear, is removed. A snapshot never holds a secret value;
//! - with a namespace scope, namespaced kinds come from that namespace, the
//!   Namespace object itself is read by name, and cluster-scoped kinds
//!   (ClusterRoles, ConstraintTemplates, …) are still listed, since the
//!   analyses of the namespace depend on them;
//! - when asked ([`SnapshotOptions::server_version`]), the server's version
//!   (`GET /version`), which the YAML form records in its header comment
//!   (`# server version v1.34.2`; [`recorded_server_version`] reads it back),
//!   so that a saved snapshot is judged as the cluster it came from. The JSON
//!   form, a `v1` `List`, has nowhere to put it (`ListMeta` has no annotations);
//! - a kind the credentials may not list is a [`ClusterError`] in
//!   [`Snapshot::problems`] (saying which permission is missing), and the rest
//!   is still read. An unreachable server or rejected credentials end the
//!   snapshot with an error.

use std::collections::BTreeMap;

use futures::StreamExt;
use serde_json::Value as Json;

use crate::error::{ApiCall, ClusterError, ErrorKind};
use crate::version::ServerVersion;

/// A kind the analyses read.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    pub group: &'static str,
    /// Versions in order of preference; the first one served is used.
    pub versions: &'static [&'static str],
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

const fn k(
    group: &'static str,
    versions: &'static [&'static str],
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> KindSpec {
    KindSpec {
        group,
        versions,
        kind,
        plural,
        namespaced,
    }
}

/// The Gatekeeper constraint group: its kinds are discovered.
pub const CONSTRAINT_GROUP: &str = "constraints.gatekeeper.sh";

/// Every kind a snapshot lists (Secrets only when asked).
pub const KINDS: &[KindSpec] = &[
    k("", &["v1"], "Namespace", "namespaces", false),
    k("", &["v1"], "Pod", "pods", true),
    k("", &["v1"], "Service", "services", true),
    k("", &["v1"], "ServiceAccount", "serviceaccounts", true),
    k("", &["v1"], "ConfigMap", "configmaps", true),
    k("", &["v1"], "Secret", "secrets", true),
    k(
        "",
        &["v1"],
        "ReplicationController",
        "replicationcontrollers",
        true,
    ),
    k("", &["v1"], "LimitRange", "limitranges", true),
    k("", &["v1"], "ResourceQuota", "resourcequotas", true),
    k(
        "",
        &["v1"],
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    k("apps", &["v1"], "Deployment", "deployments", true),
    k("apps", &["v1"], "ReplicaSet", "replicasets", true),
    k("apps", &["v1"], "StatefulSet", "statefulsets", true),
    k("apps", &["v1"], "DaemonSet", "daemonsets", true),
    k("batch", &["v1"], "Job", "jobs", true),
    k("batch", &["v1"], "CronJob", "cronjobs", true),
    k(
        "networking.k8s.io",
        &["v1"],
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    k("networking.k8s.io", &["v1"], "Ingress", "ingresses", true),
    k(
        "networking.k8s.io",
        &["v1"],
        "IngressClass",
        "ingressclasses",
        false,
    ),
    k(
        "policy",
        &["v1"],
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
    ),
    k(
        "autoscaling",
        &["v2"],
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
    k("rbac.authorization.k8s.io", &["v1"], "Role", "roles", true),
    k(
        "rbac.authorization.k8s.io",
        &["v1"],
        "RoleBinding",
        "rolebindings",
        true,
    ),
    k(
        "rbac.authorization.k8s.io",
        &["v1"],
        "ClusterRole",
        "clusterroles",
        false,
    ),
    k(
        "rbac.authorization.k8s.io",
        &["v1"],
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    k(
        "admissionregistration.k8s.io",
        &["v1", "v1beta1"],
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        false,
    ),
    k(
        "admissionregistration.k8s.io",
        &["v1", "v1beta1"],
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        false,
    ),
    k(
        "admissionregistration.k8s.io",
        &["v1"],
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
    k(
        "admissionregistration.k8s.io",
        &["v1"],
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    k(
        "node.k8s.io",
        &["v1"],
        "RuntimeClass",
        "runtimeclasses",
        false,
    ),
    k(
        "scheduling.k8s.io",
        &["v1"],
        "PriorityClass",
        "priorityclasses",
        false,
    ),
    k(
        "storage.k8s.io",
        &["v1"],
        "StorageClass",
        "storageclasses",
        false,
    ),
    k(
        "apiextensions.k8s.io",
        &["v1"],
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
    k(
        "templates.gatekeeper.sh",
        &["v1", "v1beta1"],
        "ConstraintTemplate",
        "constrainttemplates",
        false,
    ),
    k(
        "policy.networking.k8s.io",
        &["v1alpha1"],
        "AdminNetworkPolicy",
        "adminnetworkpolicies",
        false,
    ),
    k(
        "policy.networking.k8s.io",
        &["v1alpha1"],
        "BaselineAdminNetworkPolicy",
        "baselineadminnetworkpolicies",
        false,
    ),
    k("route.openshift.io", &["v1"], "Route", "routes", true),
    k(
        "external-secrets.io",
        &["v1", "v1beta1"],
        "ExternalSecret",
        "externalsecrets",
        true,
    ),
    k(
        "external-secrets.io",
        &["v1", "v1beta1"],
        "SecretStore",
        "secretstores",
        true,
    ),
    k(
        "external-secrets.io",
        &["v1", "v1beta1"],
        "ClusterSecretStore",
        "clustersecretstores",
        false,
    ),
];

/// Kinds the RBAC analyses read (`palisade rbac --cluster`).
pub const RBAC_KINDS: &[&str] = &[
    "Namespace",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
];

/// Kinds the NetworkPolicy analyses read (`palisade netpol --cluster`).
pub const NETPOL_KINDS: &[&str] = &[
    "Namespace",
    "Pod",
    "Service",
    "ReplicationController",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "NetworkPolicy",
    "Ingress",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "Route",
];

/// Which namespaces namespaced kinds come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    All,
    Namespace(String),
}

/// What to read.
#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    pub scope: Scope,
    /// Read Secrets too (values redacted).
    pub include_secrets: bool,
    /// Items per page (`limit`).
    pub page_size: u32,
    /// Kinds listed at the same time.
    pub concurrency: usize,
    /// Only these kinds (by `kind`); `None` for all. Constraint kinds are
    /// included when `ConstraintTemplate` is.
    pub only: Option<Vec<String>>,
    /// Also read the server's version (`GET /version`).
    pub server_version: bool,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            scope: Scope::All,
            include_secrets: false,
            page_size: 500,
            concurrency: 4,
            only: None,
            server_version: false,
        }
    }
}

/// Told about the snapshot's progress (the CLI draws a bar on a terminal).
pub trait Progress: Send + Sync {
    /// `kinds` kinds are about to be listed.
    fn start(&self, _kinds: usize) {}
    /// A page of `items` objects of `kind` arrived.
    fn page(&self, _kind: &str, _items: usize) {}
    /// Every page of `kind` arrived.
    fn done(&self, _kind: &str, _total: usize) {}
}

/// Progress that is not shown.
pub struct NoProgress;
impl Progress for NoProgress {}

/// What was read.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Objects, each with `apiVersion` and `kind`, sorted by kind (in [`KINDS`]
    /// order), namespace and name.
    pub objects: Vec<Json>,
    /// Kinds that could not be read (RBAC denials...), with what is missing.
    pub problems: Vec<ClusterError>,
    /// Kinds the server does not serve (add-ons not installed).
    pub not_served: Vec<String>,
    /// When the snapshot started (RFC 3339, UTC).
    pub taken_at: String,
    pub scope: Scope,
    /// How many list requests (pages) were made.
    pub requests: usize,
    /// The server's version, when asked for and read.
    pub server_version: Option<ServerVersion>,
    /// Why the version, asked for, could not be read (the snapshot is still complete).
    pub server_version_error: Option<ClusterError>,
}

/// One kind to list, resolved against discovery.
#[derive(Debug, Clone)]
struct Target {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
}

impl Target {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn base_path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    fn path(&self, namespace: Option<&str>) -> String {
        match namespace.filter(|_| self.namespaced) {
            Some(ns) => format!(
                "{}/namespaces/{}/{}",
                self.base_path(),
                encode(ns),
                self.plural
            ),
            None => format!("{}/{}", self.base_path(), self.plural),
        }
    }
}

/// Percent-encodes a path segment or query value.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A GET of `path`, as JSON.
pub(crate) async fn get_json(client: &kube::Client, path: &str) -> Result<Json, kube::Error> {
    let request = http::Request::get(path)
        .body(Vec::new())
        .map_err(kube::Error::HttpError)?;
    client.request::<Json>(request).await
}

/// Reads the cluster.
pub async fn take(
    client: &kube::Client,
    options: &SnapshotOptions,
    progress: &dyn Progress,
) -> Result<Snapshot, ClusterError> {
    let taken_at = crate::now();
    let wanted = |kind: &str| {
        (kind != "Secret" || options.include_secrets)
            && options
                .only
                .as_ref()
                .is_none_or(|only| only.iter().any(|k| k == kind))
    };
    // Discovery: which groups and versions are served.
    let groups = get_json(client, "/apis")
        .await
        .map_err(|e| ApiCall::new("get", "", "/apis").explain(e))?;
    let served: BTreeMap<String, Vec<String>> = groups["groups"]
        .as_array()
        .map(|gs| {
            gs.iter()
                .filter_map(|g| {
                    let name = g["name"].as_str()?.to_string();
                    let versions = g["versions"]
                        .as_array()
                        .map(|vs| {
                            vs.iter()
                                .filter_map(|v| v["version"].as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    Some((name, versions))
                })
                .collect()
        })
        .unwrap_or_default();
    let (server_version, server_version_error) = if options.server_version {
        match crate::version::server_version(client).await {
            Ok(version) => (Some(version), None),
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => (None, Some(e)),
        }
    } else {
        (None, None)
    };
    let mut targets: Vec<Target> = Vec::new();
    let mut not_served: Vec<String> = Vec::new();
    for spec in KINDS.iter().filter(|s| wanted(s.kind)) {
        let version = if spec.group.is_empty() {
            Some(spec.versions[0].to_string())
        } else {
            served.get(spec.group).and_then(|vs| {
                spec.versions
                    .iter()
                    .find(|v| vs.iter().any(|s| s == *v))
                    .map(|v| v.to_string())
            })
        };
        match version {
            Some(version) => targets.push(Target {
                group: spec.group.into(),
                version,
                kind: spec.kind.into(),
                plural: spec.plural.into(),
                namespaced: spec.namespaced,
            }),
            None => not_served.push(format!("{}.{}", spec.plural, spec.group)),
        }
    }
    // Gatekeeper's constraint kinds, one per template, are discovered.
    let mut problems: Vec<ClusterError> = Vec::new();
    if wanted("ConstraintTemplate") {
        if let Some(version) = served.get(CONSTRAINT_GROUP).and_then(|vs| vs.first()) {
            let path = format!("/apis/{CONSTRAINT_GROUP}/{version}");
            match get_json(client, &path).await {
                Ok(list) => {
                    for r in list["resources"].as_array().into_iter().flatten() {
                        let (Some(plural), Some(kind)) = (r["name"].as_str(), r["kind"].as_str())
                        else {
                            continue;
                        };
                        if plural.contains('/') {
                            continue;
                        }
                        targets.push(Target {
                            group: CONSTRAINT_GROUP.into(),
                            version: version.clone(),
                            kind: kind.into(),
                            plural: plural.into(),
                            namespaced: r["namespaced"].as_bool().unwrap_or(false),
                        });
                    }
                }
                Err(e) => {
                    let e = ApiCall::new("get", "", &path).explain(e);
                    if is_fatal(&e) {
                        return Err(e);
                    }
                    problems.push(e);
                }
            }
        }
    }

    progress.start(targets.len());
    let scope = options.scope.clone();
    let results: Vec<(usize, Listed)> =
        futures::stream::iter(targets.iter().enumerate().map(|(i, target)| {
            let scope = &scope;
            async move {
                let result = list_target(client, target, scope, options.page_size, progress).await;
                (i, result)
            }
        }))
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    let mut per_target: Vec<Option<Vec<Json>>> = vec![None; targets.len()];
    let mut requests = 0;
    for (i, result) in results {
        match result {
            Ok((items, pages)) => {
                requests += pages;
                per_target[i] = Some(items);
            }
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) if e.kind == ErrorKind::NotFound => {
                not_served.push(format!("{}.{}", targets[i].plural, targets[i].group));
            }
            Err(e) => problems.push(e),
        }
    }
    let mut objects = Vec::new();
    for (target, items) in targets.iter().zip(per_target) {
        let Some(mut items) = items else { continue };
        items.sort_by(|a, b| {
            let key = |o: &Json| {
                (
                    o["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    o["metadata"]["name"].as_str().unwrap_or("").to_string(),
                )
            };
            key(a).cmp(&key(b))
        });
        for mut item in items {
            normalize(&mut item, target);
            objects.push(item);
        }
    }
    Ok(Snapshot {
        objects,
        problems,
        not_served,
        taken_at,
        scope,
        requests,
        server_version,
        server_version_error,
    })
}

/// One kind's objects and the number of pages, or why it could not be listed.
type Listed = Result<(Vec<Json>, usize), ClusterError>;

/// Errors that end a snapshot: nothing else would work either.
fn is_fatal(e: &ClusterError) -> bool {
    matches!(e.kind, ErrorKind::Unreachable | ErrorKind::Unauthorized)
}

/// Every page of one kind; restarts (up to 3 times) when a continue token expires.
async fn list_target(
    client: &kube::Client,
    target: &Target,
    scope: &Scope,
    page_size: u32,
    progress: &dyn Progress,
) -> Listed {
    let namespace = match scope {
        Scope::Namespace(ns) => Some(ns.as_str()),
        Scope::All => None,
    };
    let call = ApiCall::new(
        if namespace.is_some() && target.kind == "Namespace" {
            "get"
        } else {
            "list"
        },
        &target.group,
        &target.plural,
    )
    .namespace(namespace.filter(|_| target.namespaced));
    // In a namespace scope, the Namespace itself is read by name: listing
    // every namespace would need a cluster-wide permission.
    if let (Some(ns), "Namespace") = (namespace, target.kind.as_str()) {
        let call = call.clone().name(ns);
        let path = format!("{}/{}", target.path(None), encode(ns));
        let object = get_json(client, &path).await.map_err(|e| {
            let e = call.explain(e);
            // A 404 here is a missing namespace, not an API the server lacks.
            if e.kind == ErrorKind::NotFound {
                ClusterError {
                    kind: ErrorKind::Other,
                    code: e.code,
                    message: format!("namespace {ns:?} does not exist ({})", e.message),
                }
            } else {
                e
            }
        })?;
        progress.page(&target.kind, 1);
        progress.done(&target.kind, 1);
        return Ok((vec![object], 1));
    }
    let mut attempts = 0;
    'restart: loop {
        attempts += 1;
        let mut items: Vec<Json> = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("{}?limit={page_size}", target.path(namespace));
            if let Some(t) = &token {
                path.push_str("&continue=");
                path.push_str(&encode(t));
            }
            let page = match get_json(client, &path).await {
                Ok(page) => page,
                Err(e) => {
                    let e = call.explain(e);
                    if e.kind == ErrorKind::Gone && attempts < 3 {
                        tracing::info!(kind = %target.kind, "continue token expired; listing again");
                        continue 'restart;
                    }
                    return Err(e);
                }
            };
            pages += 1;
            let page_items = match page.get("items") {
                Some(Json::Array(list)) => list.clone(),
                _ => Vec::new(),
            };
            progress.page(&target.kind, page_items.len());
            items.extend(page_items);
            token = page["metadata"]["continue"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                progress.done(&target.kind, items.len());
                return Ok((items, pages));
            }
        }
    }
}

/// Types the item, drops bookkeeping, redacts Secrets.
fn normalize(item: &mut Json, target: &Target) {
    let Some(map) = item.as_object_mut() else {
        return;
    };
    // apiVersion and kind first, as kubectl prints them.
    let mut typed = serde_json::Map::new();
    typed.insert("apiVersion".into(), Json::String(target.api_version()));
    typed.insert("kind".into(), Json::String(target.kind.clone()));
    for (k, v) in std::mem::take(map) {
        if k != "apiVersion" && k != "kind" {
            typed.insert(k, v);
        }
    }
    *map = typed;
    if let Some(meta) = map.get_mut("metadata").and_then(Json::as_object_mut) {
        meta.remove("managedFields");
    }
    if target.kind == "Secret" {
        redact_secret(item);
    }
}

/// The value every Secret value is replaced with (valid base64 for `data`).
pub const REDACTED_DATA: &str = "UkVEQUNURUQ=";
/// The value every `stringData` value is replaced with.
pub const REDACTED_STRING: &str = "REDACTED";
/// The annotation that holds a Secret's values in clear when applied with kubectl.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Replaces every value of a Secret's `data` and `stringData`, and removes
/// the last-applied annotation (which holds them in clear).
pub fn redact_secret(secret: &mut Json) {
    for (key, replacement) in [("data", REDACTED_DATA), ("stringData", REDACTED_STRING)] {
        if let Some(values) = secret.get_mut(key).and_then(Json::as_object_mut) {
            for value in values.values_mut() {
                *value = Json::String(replacement.into());
            }
        }
    }
    if let Some(annotations) = secret["metadata"]
        .get_mut("annotations")
        .and_then(Json::as_object_mut)
    {
        annotations.remove(LAST_APPLIED);
        annotations.insert(
            "palisade.dev/redacted".into(),
            Json::String("data and stringData values replaced by palisade snapshot".into()),
        );
    } else if let Some(meta) = secret.get_mut("metadata").and_then(Json::as_object_mut) {
        meta.insert(
            "annotations".into(),
            serde_json::json!({"palisade.dev/redacted": "data and stringData values replaced by palisade snapshot"}),
        );
    }
}

impl Snapshot {
    /// Objects per kind.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for o in &self.objects {
            *counts
                .entry(o["kind"].as_str().unwrap_or("").to_string())
                .or_insert(0) += 1;
        }
        counts
    }

    /// The snapshot as a YAML stream: a comment saying what it is, then one
    /// document per object. `source` names the cluster (context and server).
    /// The header records the server's version, when read, for analyses of
    /// the saved file ([`recorded_server_version`]).
    pub fn to_yaml(&self, source: &str) -> String {
        self.yaml(source, true)
    }

    /// [`Snapshot::to_yaml`] without the server version in the header: for
    /// analyses of the live snapshot, which take [`Snapshot::server_version`]
    /// as it is instead of reading it back from the text.
    pub fn to_yaml_without_version(&self, source: &str) -> String {
        self.yaml(source, false)
    }

    fn yaml(&self, source: &str, with_version: bool) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{HEADER}{}\n# taken at {}; {} objects; {}\n",
            source.replace(['\n', '\r'], " "),
            self.taken_at,
            self.objects.len(),
            match &self.scope {
                Scope::All => "all namespaces".to_string(),
                Scope::Namespace(ns) => format!("namespace {ns} (and cluster-scoped kinds)"),
            }
        ));
        if let Some(version) = self.server_version.as_ref().filter(|_| with_version) {
            out.push_str(&format!("{SERVER_VERSION}{}\n", version.git_version));
        }
        if !self.problems.is_empty() {
            out.push_str("# incomplete: some kinds could not be read:\n");
            for p in &self.problems {
                out.push_str(&format!("#   {}\n", p.message.replace('\n', " ")));
            }
        }
        out.push_str(
            "# Secrets are left out, or have their values redacted (--include-secrets).\n",
        );
        for object in &self.objects {
            out.push_str("---\n");
            out.push_str(&crate::yaml::to_string(object));
        }
        out
    }

    /// The snapshot as a JSON `v1` `List` (without the server version: a
    /// `List`'s metadata has no place for it).
    pub fn to_json(&self) -> String {
        let list = serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "metadata": {},
            "items": self.objects,
        });
        let mut text = serde_json::to_string_pretty(&list).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The first line of a YAML snapshot.
const HEADER: &str = "# palisade snapshot of ";
/// The header line that records the server's version.
const SERVER_VERSION: &str = "# server version ";

/// The server `gitVersion` a YAML snapshot's header records (`v1.34.2-gke.1200`),
/// or `None` for any other text (a manifest, a snapshot without the version).
/// Only the header, the comment lines before the first document, is read.
pub fn recorded_server_version(text: &str) -> Option<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    lines.next()?.strip_prefix(HEADER)?;
    lines
        .take_while(|line| line.starts_with('#'))
        .find_map(|line| line.strip_prefix(SERVER_VERSION))
        .map(str::trim)
        .filter(|version| !version.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_yaml_header_records_the_server_version_and_reads_it_back() {
        let mut snapshot = Snapshot {
            objects: vec![serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "a", "annotations": {"note": "# server version v9.9"}}})],
            taken_at: "2025-01-01T00:00:00Z".into(),
            ..Snapshot::default()
        };
        // Without a version, none is recorded (and none is read from a document).
        let text = snapshot.to_yaml("context fake (http://127.0.0.1:1)");
        assert_eq!(recorded_server_version(&text), None, "{text}");
        snapshot.server_version = Some(ServerVersion {
            git_version: "v1.34.2-gke.1200".into(),
            major: "1".into(),
            minor: "34".into(),
            platform: String::new(),
        });
        snapshot.problems.push(ClusterError {
            kind: ErrorKind::Forbidden,
            code: Some(403),
            message: "cannot list secrets cluster-wide".into(),
        });
        let text = snapshot.to_yaml("context fake\n# server version v0.1");
        assert!(
            text.starts_with("# palisade snapshot of context fake # server version v0.1\n"),
            "{text}"
        );
        assert!(
            text.contains("\n# server version v1.34.2-gke.1200\n"),
            "{text}"
        );
        assert_eq!(recorded_server_version(&text), Some("v1.34.2-gke.1200"));
        // The live snapshot's text leaves it out (it is passed on as data).
        let live = snapshot.to_yaml_without_version("context fake");
        assert_eq!(recorded_server_version(&live), None, "{live}");
        assert!(live.contains("cannot list secrets cluster-wide"), "{live}");
        // Only a snapshot's header counts: not a manifest's comment.
        assert_eq!(
            recorded_server_version("# server version v1.35.0\napiVersion: v1\nkind: List\n"),
            None
        );
        assert_eq!(
            recorded_server_version("# palisade snapshot of x\n---\n# server version v1.35.0\n"),
            None
        );
    }

    #[test]
    fn secrets_lose_their_values_and_last_applied() {
        let mut secret = serde_json::json!({
            "metadata": {"name": "db", "annotations": {LAST_APPLIED: "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},
            "type": "Opaque",
            "data": {"password": "aHVudGVyMg=="},
            "stringData": {"token": "hunter2"}
        });
        redact_secret(&mut secret);
        let text = secret.to_string();
        assert!(!text.contains("aHVudGVyMg=="), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(secret["data"]["password"], REDACTED_DATA);
        assert_eq!(secret["stringData"]["token"], REDACTED_STRING);
        assert_eq!(secret["type"], "Opaque");
    }

    #[test]
    fn encodes_continue_tokens() {
        assert_eq!(encode("eyJ2Ijo+/x=="), "eyJ2Ijo%2B%2Fx%3D%3D");
    }
}
