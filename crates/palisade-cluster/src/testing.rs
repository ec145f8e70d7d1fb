//! A fake Kubernetes API server for tests (no real one can run on the
//! machines Palisade is built on).
//!
//! It serves what the real one serves, shaped as the real one shapes it:
//! discovery (`/api`, `/apis`, resource lists), lists with `limit` and
//! `continue` tokens (items without `kind`/`apiVersion`, `*List` kinds,
//! `remainingItemCount`, 410 `Expired` for a stale token), get, delete,
//! patches by content type (merge patch, server-side apply requiring a
//! `fieldManager`, 415 for others), creates with 409 `AlreadyExists`, pod
//! logs (400 when a multi-container pod's container is not named, or there
//! is no previous instance), field selectors, SelfSubjectReview, the
//! kubelet checkpoint API through the node proxy, `/version` (its
//! `gitVersion` set by the test, 404 without one, 403 when denied as the
//! non-resource URL `/version`), optional delays (to observe
//! how many requests a client makes at once) and the ReplicaSet controller's
//! release of pods its selector no longer matches, and `Status` objects for
//! 401, 403 (with the real message: `User "x" cannot list resource "pods" in
//! API group "" in the namespace "y"`) and 404. Watches (`?watch=true`) stream
//! `ADDED`/`MODIFIED`/`DELETED` events for every change made after the given
//! `resourceVersion` (by requests, [`State::add`] or [`State::remove`]), so
//! kube-rs watchers can be tested against it.
//!
//! The server runs on its own thread and runtime, so synchronous tests (the
//! CLI's) and asynchronous ones can both use it. Every request is recorded,
//! with its `Authorization` header.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value as Json};

/// A resource the server serves.
#[derive(Debug, Clone)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl Resource {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: Option<String>,
    /// The `Authorization` header as sent (`Bearer <token>`): which
    /// credentials the client resolved.
    pub authorization: Option<String>,
    pub body: String,
}

/// A denial: requests with this verb on this resource (`pods`, `pods/log`),
/// in this namespace (`None`: everywhere), get 403.
#[derive(Debug, Clone)]
pub struct Denial {
    pub verb: String,
    pub resource: String,
    pub namespace: Option<String>,
}

/// Everything the server holds; tests change it through [`FakeApiServer::state`].
#[derive(Debug)]
pub struct State {
    pub resources: Vec<Resource>,
    /// Objects by plural resource name, then (namespace, name).
    pub objects: BTreeMap<String, BTreeMap<(String, String), Json>>,
    /// Logs by (namespace, pod, container, previous).
    pub logs: BTreeMap<(String, String, String, bool), String>,
    pub denials: Vec<Denial>,
    /// Every request gets 401 (expired credentials).
    pub unauthorized: bool,
    /// The next request with a continue token gets 410 Expired.
    pub expire_next_continue: bool,
    /// The largest page the server returns, whatever the client's limit.
    pub max_page: usize,
    pub requests: Vec<Recorded>,
    /// The user the server says the client is (SelfSubjectReview, 403 messages).
    pub user: String,
    /// Whether the kubelet checkpoint API answers (else 404, as without the feature).
    pub checkpoint_enabled: bool,
    /// The `gitVersion` `/version` reports (`v1.34.2-gke.1200`); `None`: 404.
    pub git_version: Option<String>,
    /// How long every request waits before it is answered (to observe concurrency).
    pub delay: std::time::Duration,
    /// Requests being answered now, and the most at once so far.
    pub in_flight: usize,
    pub max_in_flight: usize,
    /// Act as the ReplicaSet controller does when a pod's labels change: a
    /// ReplicaSet whose selector no longer matches its pod releases it (its
    /// ownerReference is removed).
    pub release_unmatched_pods: bool,
    resource_version: u64,
    /// Every change, in resourceVersion order, for watches.
    events: Vec<Change>,
    /// Set when the server stops, so that open watches end (graceful shutdown
    /// waits for them).
    closing: bool,
}

/// One change, as a watch reports it.
#[derive(Debug, Clone)]
struct Change {
    resource_version: u64,
    plural: String,
    namespace: String,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    kind: &'static str,
    object: Json,
}

fn core_resources() -> Vec<Resource> {
    let r = |group: &str, version: &str, kind: &str, plural: &str, namespaced: bool| Resource {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        namespaced,
    };
    vec![
        r("", "v1", "Namespace", "namespaces", false),
        r("", "v1", "Node", "nodes", false),
        r("", "v1", "Pod", "pods", true),
        r("", "v1", "Service", "services", true),
        r("", "v1", "ServiceAccount", "serviceaccounts", true),
        r("", "v1", "ConfigMap", "configmaps", true),
        r("", "v1", "Secret", "secrets", true),
        r("", "v1", "Event", "events", true),
        r(
            "",
            "v1",
            "ReplicationController",
            "replicationcontrollers",
            true,
        ),
        r("", "v1", "LimitRange", "limitranges", true),
        r("", "v1", "ResourceQuota", "resourcequotas", true),
        r(
            "",
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            true,
        ),
        r("apps", "v1", "Deployment", "deployments", true),
        r("apps", "v1", "ReplicaSet", "replicasets", true),
        r("apps", "v1", "StatefulSet", "statefulsets", true),
        r("apps", "v1", "DaemonSet", "daemonsets", true),
        r("batch", "v1", "Job", "jobs", true),
        r("batch", "v1", "CronJob", "cronjobs", true),
        r(
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
        ),
        r("networking.k8s.io", "v1", "Ingress", "ingresses", true),
        r(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
        ),
        r(
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
        ),
        r("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
            true,
        ),
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            false,
        ),
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
        ),
        r(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingAdmissionPolicy",
            "validatingadmissionpolicies",
            false,
        ),
        r(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingAdmissionPolicyBinding",
            "validatingadmissionpolicybindings",
            false,
        ),
        r(
            "authentication.k8s.io",
            "v1",
            "SelfSubjectReview",
            "selfsubjectreviews",
            false,
        ),
    ]
}

impl State {
    fn new() -> Self {
        State {
            resources: core_resources(),
            objects: BTreeMap::new(),
            logs: BTreeMap::new(),
            denials: Vec::new(),
            unauthorized: false,
            expire_next_continue: false,
            max_page: 500,
            requests: Vec::new(),
            user: "alice@example.com".into(),
            checkpoint_enabled: false,
            git_version: Some("v1.33.2".into()),
            delay: std::time::Duration::ZERO,
            in_flight: 0,
            max_in_flight: 0,
            release_unmatched_pods: false,
            resource_version: 100,
            events: Vec::new(),
            closing: false,
        }
    }

    fn next_rv(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    fn resource(&self, plural: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.plural == plural)
    }

    /// Adds (or replaces) an object, by its `kind`; fills uid, resourceVersion
    /// and creationTimestamp as the server would.
    pub fn add(&mut self, mut object: Json) {
        let kind = object["kind"].as_str().unwrap_or_default().to_string();
        let Some(resource) = self.resources.iter().find(|r| r.kind == kind).cloned() else {
            panic!("the fake API server does not serve kind {kind}");
        };
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let namespace = if resource.namespaced {
            object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        let rv = self.next_rv();
        if let Some(meta) = object["metadata"].as_object_mut() {
            meta.entry("uid")
                .or_insert_with(|| json!(format!("uid-{}-{namespace}-{name}", resource.plural)));
            meta.insert("resourceVersion".into(), json!(rv));
            meta.entry("creationTimestamp")
                .or_insert_with(|| json!("2025-01-01T00:00:00Z"));
            if resource.namespaced {
                meta.insert("namespace".into(), json!(namespace));
            }
        }
        let objects = self.objects.entry(resource.plural.clone()).or_default();
        let key = (namespace.clone(), name);
        let kind = if objects.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        objects.insert(key, object.clone());
        self.events.push(Change {
            resource_version: self.resource_version,
            plural: resource.plural,
            namespace,
            kind,
            object,
        });
    }

    /// Deletes an object (as a DELETE request does), returning it with the
    /// resourceVersion of its deletion.
    pub fn remove(&mut self, plural: &str, namespace: &str, name: &str) -> Option<Json> {
        let mut object = self
            .objects
            .get_mut(plural)?
            .remove(&(namespace.to_string(), name.to_string()))?;
        let rv = self.next_rv();
        object["metadata"]["resourceVersion"] = json!(rv);
        self.events.push(Change {
            resource_version: self.resource_version,
            plural: plural.to_string(),
            namespace: namespace.to_string(),
            kind: "DELETED",
            object: object.clone(),
        });
        Some(object)
    }

    /// The stored object.
    pub fn get(&self, plural: &str, namespace: &str, name: &str) -> Option<&Json> {
        self.objects
            .get(plural)
            .and_then(|m| m.get(&(namespace.to_string(), name.to_string())))
    }

    /// Adds a served resource (a CRD's), for discovery and lists.
    pub fn serve(
        &mut self,
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        namespaced: bool,
    ) {
        self.resources.push(Resource {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced,
        });
    }

    /// Denies `verb` on `resource` (in `namespace`, or everywhere).
    pub fn deny(&mut self, verb: &str, resource: &str, namespace: Option<&str>) {
        self.denials.push(Denial {
            verb: verb.into(),
            resource: resource.into(),
            namespace: namespace.map(str::to_string),
        });
    }

    /// The writes received (anything but GET).
    pub fn writes(&self) -> Vec<&Recorded> {
        self.requests.iter().filter(|r| r.method != "GET").collect()
    }
}

/// A running fake API server; stops when dropped.
pub struct FakeApiServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeApiServer {
    /// Starts a server on a free loopback port.
    pub fn start() -> FakeApiServer {
        let state = Arc::new(Mutex::new(State::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => panic!("cannot start the fake API server's runtime: {e}"),
            };
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                    Ok(l) => l,
                    Err(e) => panic!("cannot bind the fake API server: {e}"),
                };
                let _ = addr_tx.send(listener.local_addr().ok());
                let app = Router::new().fallback(handle).with_state(shared);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = shutdown_rx.await;
                    })
                    .await;
            });
        });
        let addr = match addr_rx.recv() {
            Ok(Some(addr)) => addr,
            _ => panic!("the fake API server did not start"),
        };
        FakeApiServer {
            addr,
            state,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// The server's state, to set up objects and inspect requests.
    pub fn state(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Writes a kubeconfig for this server (context `fake`, a bearer token) into `dir`.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: alice\n    namespace: default\nusers:\n- name: alice\n  user:\n    token: fake-token\n",
            self.url()
        );
        if let Err(e) = std::fs::write(&path, text) {
            panic!("cannot write {}: {e}", path.display());
        }
        path
    }

    /// A kube-rs client for this server.
    pub fn client(&self) -> kube::Client {
        let uri = match self.url().parse() {
            Ok(uri) => uri,
            Err(e) => panic!("bad fake server URL: {e}"),
        };
        match kube::Client::try_from(kube::Config::new(uri)) {
            Ok(client) => client,
            Err(e) => panic!("cannot build a client: {e}"),
        }
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.state().closing = true;
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn status(code: u16, reason: &str, message: String, details: Json) -> Response {
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    });
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

fn ok(body: Json) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn query_map(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Json, patch: &Json) {
    match patch {
        Json::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            if let Some(t) = target.as_object_mut() {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Json::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn field(value: &Json, path: &str) -> String {
    let mut v = value;
    for part in path.split('.') {
        v = &v[part];
    }
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

fn selector_matches(object: &Json, fields: Option<&String>, labels: Option<&String>) -> bool {
    let fields_ok = fields.is_none_or(|sel| {
        sel.split(',')
            .filter(|t| !t.is_empty())
            .all(|term| match term.split_once("!=") {
                Some((k, v)) => field(object, k) != v,
                None => {
                    let (k, v) = term.split_once('=').unwrap_or((term, ""));
                    field(object, k.trim_end_matches('=')) == v.trim_start_matches('=')
                }
            })
    });
    let labels_ok = labels.is_none_or(|sel| {
        sel.split(',')
            .filter(|t| !t.is_empty())
            .all(|term| match term.split_once('=') {
                Some((k, v)) => object["metadata"]["labels"][k].as_str() == Some(v),
                None => !object["metadata"]["labels"][term].is_null(),
            })
    });
    fields_ok && labels_ok
}

fn lock(shared: &Mutex<State>) -> MutexGuard<'_, State> {
    match shared.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

async fn handle(
    AxumState(shared): AxumState<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delay = {
        let mut state = lock(&shared);
        state.in_flight += 1;
        state.max_in_flight = state.max_in_flight.max(state.in_flight);
        state.delay
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let response = answer(&shared, method, uri, headers, body);
    lock(&shared).in_flight -= 1;
    response
}

fn answer(
    shared: &Arc<Mutex<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(shared);
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    state.requests.push(Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        content_type: content_type.clone(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    if state.unauthorized {
        return status(401, "Unauthorized", "Unauthorized".into(), json!(null));
    }
    let query = query_map(uri.query().unwrap_or(""));
    let segments: Vec<String> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["version"] if method == Method::GET => version_info(&state),
        ["api"] => ok(json!({
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]
        })),
        ["apis"] => {
            let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for r in state.resources.iter().filter(|r| !r.group.is_empty()) {
                let versions = groups.entry(&r.group).or_default();
                if !versions.contains(&r.version.as_str()) {
                    versions.push(&r.version);
                }
            }
            let groups: Vec<Json> = groups
                .into_iter()
                .map(|(g, versions)| {
                    let vs: Vec<Json> = versions
                        .iter()
                        .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
                        .collect();
                    json!({"name": g, "versions": vs.clone(), "preferredVersion": vs[0]})
                })
                .collect();
            ok(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
        }
        ["api", "v1"] => resource_list(&state, "", "v1"),
        ["apis", group, version] => resource_list(&state, group, version),
        ["api", "v1", rest @ ..] => resource_request(
            &mut state,
            shared,
            &method,
            "",
            "v1",
            rest,
            &query,
            content_type,
            &body,
        ),
        ["apis", group, version, rest @ ..] => {
            let (g, v) = (group.to_string(), version.to_string());
            resource_request(
                &mut state,
                shared,
                &method,
                &g,
                &v,
                rest,
                &query,
                content_type,
                &body,
            )
        }
        _ => status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            json!({}),
        ),
    }
}

/// `GET /version`: a `version.Info` as the real server shapes it, with
/// `major` and `minor` taken from the `gitVersion`.
fn version_info(state: &State) -> Response {
    let denied = state
        .denials
        .iter()
        .any(|d| d.verb == "get" && d.resource == "/version");
    if denied {
        return status(
            403,
            "Forbidden",
            format!(
                "forbidden: User \"{}\" cannot get path \"/version\"",
                state.user
            ),
            json!({}),
        );
    }
    let Some(git_version) = &state.git_version else {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            json!({}),
        );
    };
    let core = git_version.trim_start_matches('v');
    let core = core.split(['-', '+']).next().unwrap_or_default();
    let mut parts = core.split('.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next().unwrap_or_default();
    ok(json!({
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    }))
}

fn resource_list(state: &State, group: &str, version: &str) -> Response {
    let matching: Vec<&Resource> = state
        .resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if matching.is_empty() {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            json!({}),
        );
    }
    let mut resources: Vec<Json> = Vec::new();
    for r in &matching {
        resources.push(json!({
            "name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced,
            "kind": r.kind, "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]
        }));
        if r.plural == "pods" {
            resources.push(json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}));
        }
        if r.plural == "nodes" {
            resources.push(json!({"name": "nodes/proxy", "singularName": "", "namespaced": false, "kind": "NodeProxyOptions", "verbs": ["create", "delete", "get", "patch", "update"]}));
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    ok(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    )
}

fn verb_of(method: &Method, is_list: bool, watch: bool) -> &'static str {
    match *method {
        Method::GET if watch => "watch",
        Method::GET if is_list => "list",
        Method::GET => "get",
        Method::POST => "create",
        Method::PATCH => "patch",
        Method::PUT => "update",
        Method::DELETE => "delete",
        _ => "unknown",
    }
}

fn forbidden(
    state: &State,
    verb: &str,
    group: &str,
    resource: &str,
    namespace: Option<&str>,
) -> Option<Response> {
    let denied = state.denials.iter().any(|d| {
        d.verb == verb
            && d.resource == resource
            && d.namespace
                .as_deref()
                .is_none_or(|ns| Some(ns) == namespace)
    });
    if !denied {
        return None;
    }
    let (base, sub) = resource.split_once('/').unwrap_or((resource, ""));
    let what = if sub.is_empty() {
        format!("resource \"{base}\"")
    } else {
        format!("resource \"{base}/{sub}\"")
    };
    let scope = match namespace {
        Some(ns) => format!(" in the namespace \"{ns}\""),
        None => " at the cluster scope".to_string(),
    };
    Some(status(
        403,
        "Forbidden",
        format!(
            "{base} is forbidden: User \"{}\" cannot {verb} {what} in API group \"{group}\"{scope}",
            state.user
        ),
        json!({"kind": base, "group": group}),
    ))
}

#[allow(clippy::too_many_arguments)]
fn resource_request(
    state: &mut State,
    shared: &Arc<Mutex<State>>,
    method: &Method,
    group: &str,
    version: &str,
    rest: &[&str],
    query: &BTreeMap<String, String>,
    content_type: Option<String>,
    body: &[u8],
) -> Response {
    // Split `namespaces/NS/...` from cluster-scoped paths.
    let (namespace, rest): (Option<&str>, &[&str]) = match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(*ns), tail),
        other => (None, other),
    };
    let (plural, name, sub): (&str, Option<&str>, Vec<&str>) = match rest {
        [plural] => (plural, None, Vec::new()),
        [plural, name] => (plural, Some(*name), Vec::new()),
        [plural, name, sub @ ..] => (plural, Some(*name), sub.to_vec()),
        _ => {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource".into(),
                json!({}),
            )
        }
    };
    let Some(resource) = state.resource(plural).cloned() else {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            json!({}),
        );
    };
    if resource.group != group || resource.version != version {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            json!({}),
        );
    }
    let watch = query.get("watch").map(String::as_str) == Some("true");
    let rbac_resource = match sub.first() {
        Some(s) => format!("{plural}/{s}"),
        None => plural.to_string(),
    };
    let verb = verb_of(method, name.is_none(), watch);
    if let Some(denied) = forbidden(state, verb, group, &rbac_resource, namespace) {
        return denied;
    }
    let ns_key = if resource.namespaced {
        namespace.unwrap_or("").to_string()
    } else {
        String::new()
    };
    let not_found = |name: &str| {
        status(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", resource.plural),
            json!({"name": name, "kind": resource.plural, "group": group}),
        )
    };
    match (method.clone(), name) {
        (Method::GET, None) if watch => watch_stream(state, shared, &resource, namespace, query),
        (Method::GET, None) => list(state, &resource, namespace, query),
        (Method::GET, Some(name)) if sub.is_empty() => match state.get(plural, &ns_key, name) {
            Some(object) => ok(object.clone()),
            None => not_found(name),
        },
        (Method::GET, Some(name)) if sub == ["log"] => logs(state, &ns_key, name, query),
        (Method::POST, Some(node))
            if plural == "nodes"
                && sub.first() == Some(&"proxy")
                && sub.get(1) == Some(&"checkpoint") =>
        {
            if !state.checkpoint_enabled {
                return status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource".into(),
                    json!({}),
                );
            }
            let parts: Vec<&str> = sub.iter().skip(2).copied().collect();
            let [ns, pod, container] = parts.as_slice() else {
                return status(400, "BadRequest", "bad checkpoint path".into(), json!({}));
            };
            ok(
                json!({"items": [format!("/var/lib/kubelet/checkpoints/checkpoint-{pod}_{ns}-{container}-2025-01-01T00:00:00Z.tar")], "node": node}),
            )
        }
        (Method::POST, None) => {
            let Ok(mut object) = serde_json::from_slice::<Json>(body) else {
                return status(
                    400,
                    "BadRequest",
                    "cannot decode the body".into(),
                    json!({}),
                );
            };
            if plural == "selfsubjectreviews" {
                object["status"] = json!({"userInfo": {"username": state.user, "groups": ["system:authenticated"]}});
                return (StatusCode::CREATED, axum::Json(object)).into_response();
            }
            let name = object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if state.get(plural, &ns_key, &name).is_some() {
                return status(
                    409,
                    "AlreadyExists",
                    format!("{plural} \"{name}\" already exists"),
                    json!({"name": name, "kind": plural, "group": group}),
                );
            }
            if resource.namespaced {
                object["metadata"]["namespace"] = json!(ns_key);
            }
            object["apiVersion"] = json!(resource.api_version());
            object["kind"] = json!(resource.kind);
            state.add(object);
            match state.get(plural, &ns_key, &name) {
                Some(o) => (StatusCode::CREATED, axum::Json(o.clone())).into_response(),
                None => status(500, "InternalError", "lost the object".into(), json!({})),
            }
        }
        (Method::PATCH, Some(name)) if sub.is_empty() => {
            let content_type = content_type.unwrap_or_default();
            let Ok(patch) = serde_json::from_slice::<Json>(body) else {
                return status(
                    400,
                    "BadRequest",
                    "cannot decode the patch".into(),
                    json!({}),
                );
            };
            let existing = state.get(plural, &ns_key, name).cloned();
            let updated = match content_type.as_str() {
                "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                    let Some(mut object) = existing else {
                        return not_found(name);
                    };
                    merge_patch(&mut object, &patch);
                    object
                }
                "application/apply-patch+yaml" => {
                    if query.get("fieldManager").is_none_or(|m| m.is_empty()) {
                        return status(
                            400,
                            "BadRequest",
                            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch".into(),
                            json!({}),
                        );
                    }
                    match existing {
                        Some(mut object) => {
                            // Fields of the applied configuration win; others stay.
                            if let Some(spec) = patch.get("spec") {
                                object["spec"] = spec.clone();
                            }
                            for key in ["labels", "annotations"] {
                                if let Some(v) = patch["metadata"].get(key) {
                                    merge_patch(&mut object["metadata"][key], v);
                                }
                            }
                            object
                        }
                        None => {
                            let mut object = patch.clone();
                            if resource.namespaced {
                                object["metadata"]["namespace"] = json!(ns_key);
                            }
                            object
                        }
                    }
                }
                other => {
                    return status(
                        415,
                        "UnsupportedMediaType",
                        format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other:?})"),
                        json!({}),
                    )
                }
            };
            state.add(updated);
            if plural == "pods" && state.release_unmatched_pods {
                release_unmatched(state, &ns_key, name);
            }
            match state.get(plural, &ns_key, name) {
                Some(o) => ok(o.clone()),
                None => status(500, "InternalError", "lost the object".into(), json!({})),
            }
        }
        (Method::DELETE, Some(name)) if sub.is_empty() => {
            match state.remove(plural, &ns_key, name) {
                Some(object) => ok(object),
                None => not_found(name),
            }
        }
        _ => status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".into(),
            json!({}),
        ),
    }
}

/// What the ReplicaSet controller does to a pod its selector no longer
/// matches: it drops its ownerReference (`matchLabels` only).
fn release_unmatched(state: &mut State, namespace: &str, pod: &str) {
    let Some(object) = state.get("pods", namespace, pod).cloned() else {
        return;
    };
    let Some(owners) = object["metadata"]["ownerReferences"].as_array() else {
        return;
    };
    let labels = &object["metadata"]["labels"];
    let kept: Vec<Json> = owners
        .iter()
        .filter(|o| {
            if o["kind"] != "ReplicaSet" || o["controller"] != true {
                return true;
            }
            let Some(rs) = o["name"]
                .as_str()
                .and_then(|n| state.get("replicasets", namespace, n))
            else {
                return true;
            };
            rs["spec"]["selector"]["matchLabels"]
                .as_object()
                .into_iter()
                .flatten()
                .all(|(k, v)| labels.get(k) == Some(v))
        })
        .cloned()
        .collect();
    if kept.len() != owners.len() {
        let mut released = object;
        if let Some(meta) = released["metadata"].as_object_mut() {
            // An empty list is not stored: the field disappears, as in the API.
            if kept.is_empty() {
                meta.remove("ownerReferences");
            } else {
                meta.insert("ownerReferences".into(), Json::Array(kept));
            }
        }
        state.add(released);
    }
}

/// How often an open watch looks for new changes.
const WATCH_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// `?watch=true`: the changes after `resourceVersion` (without one, or with
/// `0`, the current objects as `ADDED` first, as the real server does), then
/// new ones as they happen, until `timeoutSeconds` (at most 290, kube-rs's
/// default) or the server stops. Bookmarks are never sent (they are optional).
fn watch_stream(
    state: &State,
    shared: &Arc<Mutex<State>>,
    resource: &Resource,
    namespace: Option<&str>,
    query: &BTreeMap<String, String>,
) -> Response {
    let field_selector = query.get("fieldSelector").cloned();
    let label_selector = query.get("labelSelector").cloned();
    let api_version = resource.api_version();
    let kind = resource.kind.clone();
    let plural = resource.plural.clone();
    let namespace = namespace.map(str::to_string);
    let matches = move |change: &Change| {
        change.plural == plural
            && namespace.as_ref().is_none_or(|ns| *ns == change.namespace)
            && selector_matches(
                &change.object,
                field_selector.as_ref(),
                label_selector.as_ref(),
            )
    };
    let line = move |event: &str, object: &Json| {
        let mut object = object.clone();
        if let Some(map) = object.as_object_mut() {
            map.insert("apiVersion".into(), json!(api_version));
            map.insert("kind".into(), json!(kind));
        }
        format!("{}\n", json!({"type": event, "object": object}))
    };
    let since = query
        .get("resourceVersion")
        .filter(|rv| !rv.is_empty() && *rv != "0")
        .and_then(|rv| rv.parse::<u64>().ok());
    let mut pending: std::collections::VecDeque<String> = Default::default();
    let seen = match since {
        Some(rv) => rv,
        None => {
            for (_, object) in state.objects.get(&resource.plural).into_iter().flatten() {
                let change = Change {
                    resource_version: 0,
                    plural: resource.plural.clone(),
                    namespace: object["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    kind: "ADDED",
                    object: object.clone(),
                };
                if matches(&change) {
                    pending.push_back(line("ADDED", object));
                }
            }
            state.resource_version
        }
    };
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(290)
        .min(290);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(timeout);
    let shared = shared.clone();
    let stream = futures::stream::unfold((pending, seen), move |(mut pending, mut seen)| {
        let shared = shared.clone();
        let matches = matches.clone();
        let line = line.clone();
        async move {
            loop {
                if let Some(next) = pending.pop_front() {
                    return Some((Ok::<_, std::convert::Infallible>(next), (pending, seen)));
                }
                {
                    let state = match shared.lock() {
                        Ok(guard) => guard,
                        Err(poisoned) => poisoned.into_inner(),
                    };
                    if state.closing {
                        return None;
                    }
                    let after = seen;
                    for change in state.events.iter().filter(|c| c.resource_version > after) {
                        seen = change.resource_version;
                        if matches(change) {
                            pending.push_back(line(change.kind, &change.object));
                        }
                    }
                }
                if pending.is_empty() {
                    if tokio::time::Instant::now() >= deadline {
                        return None;
                    }
                    tokio::time::sleep(WATCH_POLL).await;
                }
            }
        }
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

fn list(
    state: &mut State,
    resource: &Resource,
    namespace: Option<&str>,
    query: &BTreeMap<String, String>,
) -> Response {
    let continue_token = query.get("continue").filter(|c| !c.is_empty());
    if continue_token.is_some() && state.expire_next_continue {
        state.expire_next_continue = false;
        return status(
            410,
            "Expired",
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.".into(),
            json!({}),
        );
    }
    let start: usize = match continue_token {
        Some(token) => match token.strip_prefix("page-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => {
                return status(
                    400,
                    "BadRequest",
                    "invalid continue token".into(),
                    json!({}),
                )
            }
        },
        None => 0,
    };
    let all: Vec<Json> = state
        .objects
        .get(&resource.plural)
        .map(|m| {
            m.iter()
                .filter(|((ns, _), _)| namespace.is_none_or(|want| ns == want))
                .map(|(_, o)| o.clone())
                .filter(|o| {
                    selector_matches(o, query.get("fieldSelector"), query.get("labelSelector"))
                })
                .collect()
        })
        .unwrap_or_default();
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX)
        .min(state.max_page);
    let end = start.saturating_add(limit).min(all.len());
    let items: Vec<Json> = all
        .get(start.min(all.len())..end)
        .unwrap_or(&[])
        .iter()
        .map(|o| {
            // The server leaves the type to the list.
            let mut item = o.clone();
            if let Some(map) = item.as_object_mut() {
                map.remove("kind");
                map.remove("apiVersion");
            }
            item
        })
        .collect();
    let mut metadata = json!({"resourceVersion": state.resource_version.to_string()});
    if end < all.len() {
        metadata["continue"] = json!(format!("page-{end}"));
        metadata["remainingItemCount"] = json!(all.len() - end);
    }
    ok(json!({
        "kind": format!("{}List", resource.kind),
        "apiVersion": resource.api_version(),
        "metadata": metadata,
        "items": items,
    }))
}

fn logs(state: &State, namespace: &str, pod: &str, query: &BTreeMap<String, String>) -> Response {
    let Some(object) = state.get("pods", namespace, pod) else {
        return status(
            404,
            "NotFound",
            format!("pods \"{pod}\" not found"),
            json!({"name": pod, "kind": "pods"}),
        );
    };
    let names = |key: &str| -> Vec<String> {
        object["spec"][key]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let containers = names("containers");
    let all: Vec<String> = containers
        .iter()
        .chain(&names("initContainers"))
        .chain(&names("ephemeralContainers"))
        .cloned()
        .collect();
    let container = match query.get("container") {
        Some(c) => c.clone(),
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            return status(
                400,
                "BadRequest",
                format!(
                    "a container name must be specified for pod {pod}, choose one of: [{}]",
                    all.join(" ")
                ),
                json!({}),
            )
        }
    };
    if !all.contains(&container) {
        return status(
            400,
            "BadRequest",
            format!("container {container} is not valid for pod {pod}"),
            json!({}),
        );
    }
    let previous = query.get("previous").map(String::as_str) == Some("true");
    match state.logs.get(&(
        namespace.to_string(),
        pod.to_string(),
        container.clone(),
        previous,
    )) {
        Some(text) => (
            StatusCode::OK,
            [("content-type", "text/plain")],
            text.clone(),
        )
            .into_response(),
        None if previous => status(
            400,
            "BadRequest",
            format!("previous terminated container \"{container}\" in pod \"{pod}\" not found"),
            json!({}),
        ),
        None => (
            StatusCode::OK,
            [("content-type", "text/plain")],
            String::new(),
        )
            .into_response(),
    }
}
