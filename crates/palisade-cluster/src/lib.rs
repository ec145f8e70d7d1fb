//! Palisade's connection to a live cluster.
//!
//! The only crate that depends on kube-rs and k8s-openapi, so that the
//! analyzers build without them. Objects leave this crate as JSON, which the
//! front ends hand to the model; nothing here analyses anything.

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
        None => Config::infer()
            .await
            .context("no kubeconfig found and not running in a cluster")?,
    };
    Client::try_from(config).context("cannot build the Kubernetes client")
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
