//! Palisade's connection to a live cluster.
//!
//! The only crate that depends on kube-rs and k8s-openapi, so that the
//! analyzers build without them. Objects leave this crate as JSON, which the
//! front ends hand to the model; nothing here analyses anything.
//!
//! - [`snapshot`]: every kind the analyses read, paginated and concurrent,
//!   savable as a file every command accepts;
//! - [`incident`]: quarantine and release of a pod, and the evidence bundle;
//! - [`error`]: API errors explained (unreachable, 401, 403 with the missing permission);
//! - [`version`]: the API server's version (`GET /version`);
//! - [`testing`]: a fake API server for tests.

pub mod bundle;
pub mod error;
pub mod incident;
pub mod snapshot;
#[doc(hidden)]
pub mod testing;
pub mod version;
pub mod yaml;

pub use error::{ApiCall, ClusterError, ErrorKind};
pub use version::{server_version, ServerVersion};

use std::path::PathBuf;

use anyhow::{Context, Result};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Api, Client, Config};
use serde_json::Value as Json;

/// How to reach the cluster, with kubectl's flags.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// `--kubeconfig`; otherwise `$KUBECONFIG`, `~/.kube/config`, then in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`.
    pub context: Option<String>,
}

/// A client for the cluster the options name.
pub async fn connect(options: &ClusterOptions) -> Result<Client> {
    Client::try_from(config(options).await?).context("cannot build the Kubernetes client")
}

async fn config(options: &ClusterOptions) -> Result<Config> {
    let kube_options = KubeConfigOptions {
        context: options.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match &options.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &kube_options)
                .await
                .with_context(|| format!("kubeconfig {}", path.display()))?
        }
        None if options.context.is_some() => Config::from_kubeconfig(&kube_options)
            .await
            .context("cannot load the kubeconfig")?,
        None => Config::infer().await.context(
            "no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a cluster",
        )?,
    };
    Ok(config)
}

/// A connected client, and what the kubeconfig said about it.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    /// The API server's URL.
    pub server: String,
    /// The kubeconfig context (`in-cluster` in a pod).
    pub context: String,
    /// The kubeconfig's user entry for the context, if any (a name, not a credential).
    pub kubeconfig_user: Option<String>,
    /// The context's namespace (`default` when it sets none).
    pub default_namespace: String,
}

impl Cluster {
    /// "context fake (http://127.0.0.1:1234)".
    pub fn describe(&self) -> String {
        format!("context {} ({})", self.context, self.server)
    }

    /// The API server's version (`GET /version`).
    pub async fn server_version(&self) -> std::result::Result<ServerVersion, ClusterError> {
        version::server_version(&self.client).await
    }

    /// A cluster for a client built elsewhere (tests).
    pub fn from_client(client: Client, server: &str) -> Cluster {
        Cluster {
            default_namespace: client.default_namespace().to_string(),
            client,
            server: server.to_string(),
            context: "test".into(),
            kubeconfig_user: None,
        }
    }
}

/// Connects as [`connect`] does, keeping what the kubeconfig says about the
/// connection (server, context, user name) for messages and audit trails.
pub async fn connect_cluster(options: &ClusterOptions) -> Result<Cluster> {
    let kubeconfig = match &options.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok(),
        None => Kubeconfig::read().ok(),
    };
    let context_name = options
        .context
        .clone()
        .or_else(|| kubeconfig.as_ref().and_then(|k| k.current_context.clone()));
    let kubeconfig_user = kubeconfig.as_ref().and_then(|k| {
        let name = context_name.as_deref()?;
        k.contexts
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.context.as_ref())
            .and_then(|c| c.user.clone())
    });
    let config = config(options).await?;
    let server = config.cluster_url.to_string();
    let default_namespace = config.default_namespace.clone();
    let client = Client::try_from(config).context("cannot build the Kubernetes client")?;
    Ok(Cluster {
        client,
        server: server.trim_end_matches('/').to_string(),
        context: context_name.unwrap_or_else(|| "in-cluster".into()),
        kubeconfig_user,
        default_namespace,
    })
}

/// A runtime for the synchronous front ends.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Now, RFC 3339 in UTC to the second.
pub fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string()
}

/// Receives the state of the cluster's Namespaces from [`watch_namespaces`].
pub trait NamespaceSink: Send + Sync {
    /// A complete list: everything before it is replaced.
    fn replace_all(&self, namespaces: Vec<Json>);
    /// A namespace was added or changed.
    fn apply(&self, namespace: Json);
    /// A namespace was deleted.
    fn delete(&self, name: &str);
    /// The first complete list has been delivered.
    fn synced(&self);
}

/// Receives the state of the cluster's Pods from [`watch_pods`].
///
/// Pods arrive as JSON with `apiVersion` and `kind`, their metadata (without
/// `managedFields`), spec, and of their status only `phase`: what an
/// analysis of the running pods reads, at a fraction of a full pod's size
/// (a large cluster's initial list is held at once).
pub trait PodSink: Send + Sync {
    /// A complete list: everything before it is replaced.
    fn replace_all(&self, pods: Vec<Json>);
    /// A pod was added or changed.
    fn apply(&self, pod: Json);
    /// A pod was deleted.
    fn delete(&self, namespace: &str, name: &str);
    /// The first complete list has been delivered.
    fn synced(&self);
}

/// Watches Namespaces for ever, relisting after errors with kube-rs's
/// default backoff, and feeds `sink`.
pub async fn watch_namespaces(client: Client, sink: &dyn NamespaceSink) -> Result<()> {
    watch_all(
        Api::<Namespace>::all(client),
        "namespace",
        &NamespaceFeed(sink),
    )
    .await
}

/// Watches Pods in every namespace for ever, as [`watch_namespaces`] watches
/// Namespaces (needs `list` and `watch` on `pods` cluster-wide).
pub async fn watch_pods(client: Client, sink: &dyn PodSink) -> Result<()> {
    watch_all(Api::<Pod>::all(client), "pod", &PodFeed(sink)).await
}

/// Both watches of `palisade serve --cluster`, side by side on one client,
/// for ever. A failing pod watch (no `list pods` permission, say) retries on
/// its own without holding up the namespace watch, which admission needs.
pub async fn watch_namespaces_and_pods(
    client: Client,
    namespaces: &dyn NamespaceSink,
    pods: &dyn PodSink,
) -> Result<()> {
    let (a, b) = futures::join!(
        watch_namespaces(client.clone(), namespaces),
        watch_pods(client, pods)
    );
    a.and(b)
}

/// What [`watch_all`] does with the events of one kind.
trait Feed<K>: Sync {
    fn to_json(&self, object: &K) -> Json;
    fn replace_all(&self, objects: Vec<Json>);
    fn apply(&self, object: Json);
    fn delete(&self, object: &K);
    fn synced(&self);
}

struct NamespaceFeed<'a>(&'a dyn NamespaceSink);

impl Feed<Namespace> for NamespaceFeed<'_> {
    fn to_json(&self, namespace: &Namespace) -> Json {
        to_json(namespace)
    }
    fn replace_all(&self, objects: Vec<Json>) {
        self.0.replace_all(objects);
    }
    fn apply(&self, object: Json) {
        self.0.apply(object);
    }
    fn delete(&self, namespace: &Namespace) {
        if let Some(name) = namespace.metadata.name.as_deref() {
            self.0.delete(name);
        }
    }
    fn synced(&self) {
        self.0.synced();
    }
}

struct PodFeed<'a>(&'a dyn PodSink);

impl Feed<Pod> for PodFeed<'_> {
    fn to_json(&self, pod: &Pod) -> Json {
        let mut json = to_json(pod);
        if let Some(map) = json.as_object_mut() {
            if let Some(metadata) = map.get_mut("metadata").and_then(Json::as_object_mut) {
                metadata.remove("managedFields");
            }
            let phase = map.get("status").and_then(|s| s.get("phase")).cloned();
            match phase {
                Some(phase) => {
                    map.insert("status".into(), serde_json::json!({ "phase": phase }));
                }
                None => {
                    map.remove("status");
                }
            }
        }
        json
    }
    fn replace_all(&self, objects: Vec<Json>) {
        self.0.replace_all(objects);
    }
    fn apply(&self, object: Json) {
        self.0.apply(object);
    }
    fn delete(&self, pod: &Pod) {
        if let (Some(namespace), Some(name)) = (
            pod.metadata.namespace.as_deref(),
            pod.metadata.name.as_deref(),
        ) {
            self.0.delete(namespace, name);
        }
    }
    fn synced(&self) {
        self.0.synced();
    }
}

/// One watch loop for every kind: the initial list is delivered whole (on
/// every relist too), then changes one by one.
async fn watch_all<K>(api: Api<K>, what: &str, feed: &dyn Feed<K>) -> Result<()>
where
    K: kube::Resource
        + Clone
        + std::fmt::Debug
        + k8s_openapi::serde::de::DeserializeOwned
        + Send
        + 'static,
{
    use kube::runtime::WatchStreamExt;
    let stream = watcher(api, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    let mut initial: Vec<Json> = Vec::new();
    let mut synced = false;
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Init) => initial.clear(),
            Ok(watcher::Event::InitApply(object)) => initial.push(feed.to_json(&object)),
            Ok(watcher::Event::InitDone) => {
                feed.replace_all(std::mem::take(&mut initial));
                if !synced {
                    synced = true;
                    feed.synced();
                }
                tracing::info!("{what} cache synced with the cluster");
            }
            Ok(watcher::Event::Apply(object)) => feed.apply(feed.to_json(&object)),
            Ok(watcher::Event::Delete(object)) => feed.delete(&object),
            Err(e) => tracing::warn!(error = %e, "{what} watch interrupted; retrying"),
        }
    }
    Ok(())
}

/// An object as JSON with its `apiVersion` and `kind`: watch events carry no
/// type information, and the policy engines expect it.
fn to_json<K>(object: &K) -> Json
where
    K: k8s_openapi::Resource + k8s_openapi::serde::Serialize,
{
    let mut json = serde_json::to_value(object).unwrap_or(Json::Null);
    if let Some(map) = json.as_object_mut() {
        map.insert("apiVersion".into(), Json::String(K::API_VERSION.into()));
        map.insert("kind".into(), Json::String(K::KIND.into()));
    }
    json
}
