//! `--cluster`: objects read from a live cluster, for every command that reads
//! manifests. The reading is `palisade-cluster`'s snapshot; here it becomes a
//! [`Loaded`], exactly as if the snapshot had been saved and read as a file
//! (`palisade snapshot -o cluster.yaml` writes that same text), but for the
//! server's version, which is passed on as data ([`ClusterObjects`]).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{anyhow, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use palisade_cluster::snapshot::{self, Scope, Snapshot, SnapshotOptions};
use palisade_cluster::{Cluster, ClusterOptions};
use palisade_model::{load_text, InputError, InputErrorKind, LoadOptions, Loaded, Object, Span};
use palisade_rbac::KubernetesVersion;

/// How to reach the cluster: kubectl's flags.
#[derive(Debug, Clone, Default, Args)]
pub struct KubeArgs {
    /// Kubeconfig file [default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account]
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context [default: the current context]
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

impl KubeArgs {
    pub fn options(&self) -> ClusterOptions {
        ClusterOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
        }
    }
}

/// `--cluster` and its connection flags, for commands that otherwise read files.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterArgs {
    /// Read the objects from the live cluster (as `palisade snapshot` does), in addition to any
    /// files given; --kubeconfig and --context imply it
    #[arg(long)]
    pub cluster: bool,

    #[command(flatten)]
    pub kube: KubeArgs,

    /// With --cluster: read Secrets too, with every value replaced by REDACTED
    #[arg(long)]
    pub include_secrets: bool,
}

impl ClusterArgs {
    /// Whether the cluster is to be read.
    pub fn enabled(&self) -> bool {
        self.cluster || self.kube.kubeconfig.is_some() || self.kube.context.is_some()
    }
}

/// `--kubernetes-version`, for the commands whose analyses depend on it.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct KubernetesVersionArg {
    /// The cluster's Kubernetes version (1.34, v1.35.2), for the rbac-risk checks: from 1.35
    /// `get` alone no longer opens pods/exec, attach or portforward [default: the live
    /// cluster's with --cluster, or the one a snapshot file records; else unknown, judged as
    /// before 1.35]
    #[arg(
        id = "kubernetes_version",
        long = "kubernetes-version",
        value_name = "VERSION"
    )]
    pub version: Option<KubernetesVersion>,
}

/// A progress bar on standard error when it is a terminal: kinds done, objects read.
struct Bar {
    bar: ProgressBar,
    objects: Mutex<usize>,
}

impl Bar {
    fn new() -> Bar {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} reading the cluster: {pos}/{len} kinds, {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Bar {
            bar,
            objects: Mutex::new(0),
        }
    }
}

impl snapshot::Progress for Bar {
    fn start(&self, kinds: usize) {
        self.bar.set_length(kinds as u64);
    }
    fn page(&self, _kind: &str, items: usize) {
        if let Ok(mut n) = self.objects.lock() {
            *n += items;
            self.bar.set_message(format!("{n} objects"));
        }
    }
    fn done(&self, _kind: &str, _total: usize) {
        self.bar.inc(1);
    }
}

/// Connects and reads a snapshot, with a progress bar on a terminal.
pub fn take_snapshot(kube: &KubeArgs, options: &SnapshotOptions) -> Result<(Snapshot, Cluster)> {
    let runtime = palisade_cluster::runtime()?;
    runtime.block_on(async {
        let cluster = palisade_cluster::connect_cluster(&kube.options()).await?;
        let bar = Bar::new();
        let result = snapshot::take(&cluster.client, options, &bar).await;
        bar.bar.finish_and_clear();
        let snapshot = result.map_err(|e| anyhow!("{}: {e}", cluster.describe()))?;
        Ok((snapshot, cluster))
    })
}

/// The name the cluster's objects are reported under.
pub fn source_name(cluster: &Cluster) -> String {
    format!("cluster:{}", cluster.context)
}

/// A snapshot as the model loads it, with the kinds that could not be read as input errors.
/// The server's version is not in its text: [`ClusterObjects::server_version`] carries it.
pub fn to_loaded(snapshot: &Snapshot, cluster: &Cluster, options: &LoadOptions) -> Loaded {
    let name = source_name(cluster);
    let mut loaded = load_text(
        &name,
        snapshot.to_yaml_without_version(&cluster.describe()),
        options,
    );
    for problem in &snapshot.problems {
        loaded.errors.push(InputError {
            kind: InputErrorKind::Io,
            message: problem.message.clone(),
            source: None,
            file: name.clone(),
            span: Span::default(),
            related: None,
        });
    }
    loaded
}

/// Objects read from a live cluster, and the server's version when asked for and read.
pub struct ClusterObjects {
    pub loaded: Loaded,
    /// The source name and the server's `gitVersion`, as [`recorded_server_versions`]
    /// gives a saved snapshot's, for [`kubernetes_version`].
    pub server_version: Option<(String, String)>,
    /// The kubeconfig context's namespace (`default` when it sets none), which
    /// kubectl uses when `-n` is absent.
    pub default_namespace: String,
}

/// Reads the cluster for a command: `scope`, only the kinds in `only` (all when `None`).
/// Kinds that could not be read are printed and returned as input errors in the [`Loaded`].
pub fn load(args: &ClusterArgs, scope: Scope, only: Option<&[&str]>) -> Result<Loaded> {
    load_snapshot(args, scope, only, false).map(|objects| objects.loaded)
}

/// [`load`], and with `server_version` the server's version too (`GET /version`).
/// A version that cannot be read is a warning: the analyses then judge as for
/// an unknown version.
pub fn load_snapshot(
    args: &ClusterArgs,
    scope: Scope,
    only: Option<&[&str]>,
    server_version: bool,
) -> Result<ClusterObjects> {
    let options = SnapshotOptions {
        scope,
        include_secrets: args.include_secrets,
        only: only.map(|kinds| kinds.iter().map(|k| k.to_string()).collect()),
        server_version,
        ..SnapshotOptions::default()
    };
    let (snapshot, cluster) = take_snapshot(&args.kube, &options)?;
    if let Some(e) = &snapshot.server_version_error {
        eprintln!(
            "warning: {}: {e}; give --kubernetes-version",
            cluster.describe()
        );
    }
    Ok(ClusterObjects {
        loaded: to_loaded(&snapshot, &cluster, &LoadOptions::default()),
        default_namespace: cluster.default_namespace.clone(),
        server_version: snapshot
            .server_version
            .map(|version| (source_name(&cluster), version.git_version)),
    })
}

/// The server version each saved YAML snapshot among the inputs records, by source name.
pub fn recorded_server_versions(loaded: &Loaded) -> Vec<(String, String)> {
    loaded
        .sources
        .iter()
        .filter_map(|source| {
            snapshot::recorded_server_version(&source.text)
                .map(|version| (source.name.clone(), version.to_string()))
        })
        .collect()
}

/// The Kubernetes version the analyses judge by: `--kubernetes-version`, else
/// the version the cluster's server reports (or a snapshot among the inputs
/// records), said on standard error; the oldest when they differ (on it more
/// grants are risky). `None`: unknown.
pub fn kubernetes_version(
    given: Option<KubernetesVersion>,
    recorded: &[(String, String)],
) -> Option<KubernetesVersion> {
    if given.is_some() {
        return given;
    }
    let mut versions: Vec<(KubernetesVersion, &str, &str)> = Vec::new();
    for (source, git_version) in recorded {
        match git_version.parse::<KubernetesVersion>() {
            Ok(version) => versions.push((version, source, git_version)),
            Err(e) => eprintln!("warning: {source}: the server version: {e}"),
        }
    }
    let (oldest, source, git_version) = *versions.iter().min()?;
    let origin = |source: &str, git_version: &str| match source.strip_prefix("cluster:") {
        Some(context) => format!("the server of context {context} reports {git_version}"),
        None => format!("{source} records server version {git_version}"),
    };
    if versions.iter().any(|(v, _, _)| *v != oldest) {
        let all: Vec<String> = versions.iter().map(|(_, s, g)| origin(s, g)).collect();
        eprintln!(
            "warning: the inputs come from clusters of different versions ({}); judged as the oldest",
            all.join("; ")
        );
    }
    eprintln!(
        "Kubernetes version {oldest} ({}; --kubernetes-version overrides)",
        origin(source, git_version)
    );
    Some(oldest)
}

/// Appends `more` to `loaded` (files and the cluster, read together).
pub fn absorb(loaded: &mut Loaded, more: Loaded) {
    loaded.objects.extend(more.objects);
    loaded.errors.extend(more.errors);
    loaded.sources.extend(more.sources);
    loaded.documents += more.documents;
    loaded.foreign.extend(more.foreign);
}

/// For `palisade rbac … --cluster`: the RBAC objects of the whole cluster
/// (Roles, bindings, ClusterRoles with the cluster's defaults, ServiceAccounts,
/// CRDs), and the server's version when `server_version`.
pub fn rbac_objects(args: &ClusterArgs, server_version: bool) -> Result<ClusterObjects> {
    load_snapshot(args, Scope::All, Some(snapshot::RBAC_KINDS), server_version)
}

/// For `palisade netpol … --cluster`: workloads, pods, Services, Ingresses,
/// Namespaces and (admin) network policies, in `namespace` or everywhere.
pub fn netpol_objects(args: &ClusterArgs, namespace: Option<&str>) -> Result<Loaded> {
    let scope = namespace.map_or(Scope::All, |ns| Scope::Namespace(ns.to_string()));
    load(args, scope, Some(snapshot::NETPOL_KINDS))
}

/// Drops the objects whose controller (an `ownerReferences` entry with
/// `controller: true`) is also in the input, matched by uid: a cluster's
/// Pods and ReplicaSets are judged through the Deployment that makes them,
/// where the fix belongs, instead of once per copy. Manifests that carry no
/// uids (files in a repository) are unaffected. Returns how many were dropped.
pub fn drop_controlled(objects: &mut Vec<Object>) -> usize {
    let uids: std::collections::HashSet<String> = objects
        .iter()
        .filter_map(|o| o.root.path(&["metadata", "uid"]).and_then(|n| n.as_str()))
        .map(str::to_string)
        .collect();
    if uids.is_empty() {
        return 0;
    }
    let before = objects.len();
    objects.retain(|o| {
        let controlled = o
            .root
            .path(&["metadata", "ownerReferences"])
            .map(|n| n.items())
            .unwrap_or(&[])
            .iter()
            .any(|owner| {
                owner.get("controller").and_then(|c| c.as_bool()) == Some(true)
                    && owner
                        .get("uid")
                        .and_then(|u| u.as_str())
                        .is_some_and(|u| uids.contains(u))
            });
        !controlled
    });
    before - objects.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controlled_objects_are_judged_through_their_controller() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a, uid: d1}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, namespace: a, uid: r1, ownerReferences: [{kind: Deployment, name: web, uid: d1, controller: true}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1-x, namespace: a, uid: p1, ownerReferences: [{kind: ReplicaSet, name: web-1, uid: r1, controller: true}]}
---
apiVersion: v1
kind: Pod
metadata: {name: orphan, namespace: a, uid: p2, ownerReferences: [{kind: ReplicaSet, name: gone, uid: r9, controller: true}]}
";
        let mut loaded = load_text("x.yaml", text, &LoadOptions::default());
        assert_eq!(drop_controlled(&mut loaded.objects), 2);
        let names: Vec<&str> = loaded.objects.iter().map(|o| o.id.name.as_str()).collect();
        assert_eq!(names, ["web", "orphan"]);
    }

    #[test]
    fn scan_reads_the_cluster() {
        use clap::Parser;
        use palisade_cluster::testing::FakeApiServer;
        use serde_json::json;

        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: crate::cli::ScanArgs,
        }
        let server = FakeApiServer::start();
        {
            let mut s = server.state();
            s.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
            s.add(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop", "uid": "d1"},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "web:1", "securityContext": {"privileged": true}}]}}}}));
            s.add(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop", "uid": "p1",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d1", "controller": true}]},
                "spec": {"containers": [{"name": "app", "image": "web:1", "securityContext": {"privileged": true}}]}}));
            s.deny("list", "configmaps", None);
        }
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = server.kubeconfig(dir.path());
        let out = dir.path().join("report.json");
        let cli = Cli::try_parse_from([
            "scan",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "-o",
            "json",
            "--out",
            out.to_str().unwrap(),
            "--no-config",
        ])
        .unwrap();
        // A kind that could not be read is an input error: exit 2, the rest still scanned.
        assert_eq!(
            crate::commands::scan::run(&cli.args, false).unwrap(),
            std::process::ExitCode::from(2)
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let text = report.to_string();
        assert!(text.contains("pss/privileged"), "{text}");
        assert!(
            text.contains("needs `list` on `configmaps` cluster-wide"),
            "{text}"
        );
        // The pod is judged through its Deployment, once.
        assert!(!text.contains("web-1"), "{text}");
    }
}
