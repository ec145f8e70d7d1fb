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
//! - [`testing`]: a fake API server for tests.

pub mod bundle;
pub mod error;
pub mod incident;
pub mod snapshot;
#[doc(hidden)]
pub mod testing;
pub mod yaml;

pub use error::{ApiCall, ClusterError, ErrorKind};

use std::path::PathBuf;

use anyhow::{Context, Result};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
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

/// Watches Namespaces for ever, relisting after errors with kube-rs's
/// default backoff, and feeds `sink`.
pub async fn watch_namespaces(client: Client, sink: &dyn NamespaceSink) -> Result<()> {
    use kube::runtime::WatchStreamExt;
    let api: Api<Namespace> = Api::all(client);
    let stream = watcher(api, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    let mut initial: Vec<Json> = Vec::new();
    let mut synced = false;
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Init) => initial.clear(),
            Ok(watcher::Event::InitApply(ns)) => initial.push(to_json(&ns)),
            Ok(watcher::Event::InitDone) => {
                sink.replace_all(std::mem::take(&mut initial));
                if !synced {
                    synced = true;
                    sink.synced();
                }
                tracing::info!("namespace cache synced with the cluster");
            }
            Ok(watcher::Event::Apply(ns)) => sink.apply(to_json(&ns)),
            Ok(watcher::Event::Delete(ns)) => {
                if let Some(name) = ns.metadata.name.as_deref() {
                    sink.delete(name);
                }
            }
            Err(e) => tracing::warn!(error = %e, "namespace watch interrupted; retrying"),
        }
    }
    Ok(())
}

fn to_json(namespace: &Namespace) -> Json {
    let mut json = serde_json::to_value(namespace).unwrap_or(Json::Null);
    // Watch events carry no type information; the policy engines expect it.
    if let Some(map) = json.as_object_mut() {
        map.insert("apiVersion".into(), Json::String("v1".into()));
        map.insert("kind".into(), Json::String("Namespace".into()));
    }
    json
}
