//! `palisade snapshot`: the cluster's objects saved as one file that every
//! command reads like any manifest (offline analysis, reproducible reports).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use palisade_cluster::snapshot::{Scope, SnapshotOptions};

use super::cluster_input::{take_snapshot, KubeArgs};

pub const SNAPSHOT_EXAMPLES: &str = "\
Examples:
  # Everything the analyses read, from the current kubeconfig context
  palisade snapshot -o cluster.yaml

  # One namespace (plus the cluster-scoped kinds its analyses need), as JSON
  palisade snapshot -n shop -o shop.json

  # Another context; to standard output
  palisade snapshot --context prod -o yaml > prod.yaml

  # Then, offline and reproducibly:
  palisade scan cluster.yaml
  palisade pss plan cluster.yaml
  palisade policy audit cluster.yaml
  palisade rbac who-can get secrets -A -f cluster.yaml
  palisade netpol list cluster.yaml

What is read: Namespaces, Pods, workloads (Deployments, ReplicaSets, StatefulSets,
DaemonSets, Jobs, CronJobs, ReplicationControllers), Services, Ingresses,
ServiceAccounts, ConfigMaps, NetworkPolicies (and AdminNetworkPolicies where served),
RBAC, PodDisruptionBudgets, HorizontalPodAutoscalers, LimitRanges, ResourceQuotas,
PersistentVolumeClaims, admission policies and webhooks, Gatekeeper templates and
every constraint kind, CRDs, RuntimeClasses, PriorityClasses, StorageClasses, and
External Secrets and OpenShift Routes where served. Lists are paginated (--page-size)
and several kinds are read at once; a progress bar shows on a terminal.

Secrets are left out. With --include-secrets they are read, but every value of data
and stringData is replaced by REDACTED and the last-applied-configuration annotation
(which holds the values in clear) is removed: a snapshot never holds a secret value.
metadata.managedFields is dropped from every object. The YAML form records the
server's version (GET /version) in its header comment (`# server version v1.34.2`),
which `palisade rbac risks|paths|graph` and `palisade scan` then use as
--kubernetes-version; the JSON form (a v1 List) has no place for it.

A kind the credentials may not list is reported with the permission it needs
(`cannot list secrets in namespace \"x\": needs `list` on `secrets``); the rest is
still saved, and the exit status is 2. Without -n, every namespace is read.

Exit codes: 0 saved, 2 the cluster could not be read (or only partly: the file is still written).";

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Where to write: a FILE (format by its extension: .json for JSON, else YAML), or
    /// `yaml` / `json` for standard output in that format [default: yaml to standard output]
    #[arg(short = 'o', long = "output", value_name = "FILE|FORMAT")]
    pub output: Option<String>,

    /// Write to this file (as -o FILE)
    #[arg(long = "out", value_name = "FILE", conflicts_with = "output")]
    pub out: Option<PathBuf>,

    /// Only this namespace's namespaced objects (cluster-scoped kinds are still read)
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Every namespace (the default)
    #[arg(short = 'A', long = "all-namespaces", conflicts_with = "namespace")]
    pub all_namespaces: bool,

    /// Read Secrets too, with every value replaced by REDACTED
    #[arg(long)]
    pub include_secrets: bool,

    /// Objects per list request
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub page_size: u32,

    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Yaml,
    Json,
}

/// Where and how to write, from `-o` / `--out`.
fn destination(args: &SnapshotArgs) -> (Option<PathBuf>, Format) {
    let by_extension = |path: &Path| {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Format::Json
        } else {
            Format::Yaml
        }
    };
    if let Some(path) = &args.out {
        return (Some(path.clone()), by_extension(path));
    }
    match args.output.as_deref() {
        None | Some("yaml") | Some("yml") => (None, Format::Yaml),
        Some("json") => (None, Format::Json),
        Some(file) => {
            let path = PathBuf::from(file);
            let format = by_extension(&path);
            (Some(path), format)
        }
    }
}

/// Writes `text` to `path` through a temporary file in the same directory.
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".into());
    let temp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut file = std::fs::File::create(&temp)
            .with_context(|| format!("cannot write {}", temp.display()))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

pub fn run(args: &SnapshotArgs) -> Result<ExitCode> {
    let (path, format) = destination(args);
    let options = SnapshotOptions {
        scope: match &args.namespace {
            Some(ns) => Scope::Namespace(ns.clone()),
            None => Scope::All,
        },
        include_secrets: args.include_secrets,
        page_size: args.page_size.max(1),
        // Recorded in the YAML header, so that offline analyses judge as this cluster.
        server_version: true,
        ..SnapshotOptions::default()
    };
    let (snapshot, cluster) = take_snapshot(&args.kube, &options)?;
    let text = match format {
        Format::Yaml => snapshot.to_yaml(&cluster.describe()),
        Format::Json => snapshot.to_json(),
    };
    match &path {
        Some(path) => write_atomically(path, &text)?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    for problem in &snapshot.problems {
        eprintln!("error: {problem}");
    }
    if let Some(e) = &snapshot.server_version_error {
        eprintln!("warning: {e}; the snapshot does not record the server version");
    }
    let counts: Vec<String> = snapshot
        .counts()
        .iter()
        .map(|(kind, n)| format!("{kind}: {n}"))
        .collect();
    let version = match (&snapshot.server_version, format) {
        (Some(v), Format::Yaml) => format!(", server {}", v.git_version),
        // A List has no place for it: offline analyses need --kubernetes-version.
        (Some(v), Format::Json) => format!(", server {} (not recorded in JSON)", v.git_version),
        (None, _) => String::new(),
    };
    eprintln!(
        "{} {} objects from {}{version} ({}){}",
        match &path {
            Some(p) => format!("wrote {}:", p.display()),
            None => "read".to_string(),
        },
        snapshot.objects.len(),
        cluster.describe(),
        counts.join(", "),
        if snapshot.problems.is_empty() {
            String::new()
        } else {
            format!(
                "; incomplete: {} kinds could not be read",
                snapshot.problems.len()
            )
        }
    );
    Ok(ExitCode::from(if snapshot.problems.is_empty() {
        0
    } else {
        crate::EXIT_USAGE
    }))
}
