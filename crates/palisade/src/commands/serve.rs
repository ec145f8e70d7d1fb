//! `palisade serve`: flags, and the glue between the server and the cluster client.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use palisade_server::namespaces::NamespaceCache;
use palisade_server::pods::PrivilegedPods;
use palisade_server::tls::{self_signed, TlsFiles};
use palisade_server::{ClusterFeed, ClusterView, PodSecurityConfiguration, ServeConfig};

pub const SERVE_EXAMPLES: &str = "\
Examples:
  # Local trial: a self-signed CA and certificate (written to ./palisade-certs), the policies of
  # a directory, namespaces from manifests
  palisade serve --self-signed -p policies/ --namespaces namespaces/

  # In a cluster (see `palisade install webhook`): certificate from a Secret, namespaces (and
  # pods, for the palisade_privileged_pods gauge) watched
  palisade serve --tls-cert /tls/tls.crt --tls-key /tls/tls.key -p /policies --cluster

  # Pod Security defaults and exemptions from the API server's admission configuration
  palisade serve --self-signed --pod-security-config admission-config.yaml

  # Also the runtime layer: Kubernetes audit events (the API server's audit webhook) on /audit
  palisade serve --self-signed -p policies/ -r k8s_audit_rules.yaml

Endpoints: POST /validate (AdmissionReview admission.k8s.io/v1), POST /audit (audit EventList,
with --rules), GET /healthz, GET /readyz
(ready once policies and namespaces are loaded), GET /metrics (Prometheus).

Policies (-p) and namespace manifests are re-read when they change; a broken change is reported
and the last good set stays in force. The certificate files are re-read when they change too.
Logs are JSON lines on standard error (RUST_LOG=debug for more).";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (HTTPS only)
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,

    /// Serving certificate (PEM; chain allowed)
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        required_unless_present = "self_signed"
    )]
    pub tls_cert: Option<PathBuf>,

    /// Private key of the serving certificate (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Require client certificates signed by this CA (the API server's; mTLS)
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,

    /// Generate a CA and a serving certificate, write them to --cert-dir and print the caBundle
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub self_signed: bool,

    /// Where --self-signed writes ca.crt, tls.crt and tls.key
    #[arg(long, value_name = "DIR", default_value = "palisade-certs")]
    pub cert_dir: PathBuf,

    /// Names in the self-signed certificate (repeatable)
    /// [default: localhost, 127.0.0.1, palisade.palisade.svc]
    #[arg(long = "san", value_name = "NAME")]
    pub sans: Vec<String>,

    /// Gatekeeper templates and constraints, ValidatingAdmissionPolicies and bindings (and their
    /// parameter objects): files or directories, repeatable
    #[arg(short = 'p', long = "policies", value_name = "PATH")]
    pub policies: Vec<PathBuf>,

    /// Objects for Gatekeeper's data.inventory (referential templates), repeatable
    #[arg(long, value_name = "PATH")]
    pub inventory: Vec<PathBuf>,

    /// Roles, ClusterRoles and bindings that answer ValidatingAdmissionPolicies' `authorizer`
    /// checks (files or directories, repeatable; re-read on change)
    #[arg(long, value_name = "PATH")]
    pub rbac: Vec<PathBuf>,

    /// Namespace manifests (their labels set Pod Security levels), repeatable
    #[arg(long = "namespaces", value_name = "PATH", conflicts_with = "cluster")]
    pub namespaces: Vec<PathBuf>,

    /// Watch the cluster's Namespaces, and its Pods for the palisade_privileged_pods gauge (in a
    /// pod: its service account; else the kubeconfig)
    #[arg(long)]
    pub cluster: bool,

    /// Kubeconfig file for --cluster [default: $KUBECONFIG, ~/.kube/config, in-cluster]
    #[arg(long, value_name = "FILE", requires = "cluster")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context for --cluster
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub context: Option<String>,

    /// Pod Security defaults and exemptions: a PodSecurityConfiguration, or the API server's
    /// AdmissionConfiguration holding one [default: privileged everywhere, no exemptions, as
    /// the built-in plugin without configuration]
    #[arg(long, value_name = "FILE")]
    pub pod_security_config: Option<PathBuf>,

    /// Time to answer one request (keep it under the webhook's timeoutSeconds); past it the
    /// failure mode answers
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pub time_budget: Duration,

    /// What happens to a request that could not be judged (time budget exceeded, policies not
    /// loaded): open allows it with a warning, closed refuses it
    #[arg(long, value_enum, default_value_t = FailureMode::Open)]
    pub failure_mode: FailureMode,

    /// Largest request body accepted (413 above)
    #[arg(long, value_name = "SIZE", default_value = "8Mi", value_parser = parse_size)]
    pub max_request_size: usize,

    /// Falco rules files (repeatable): POST /audit then takes the API server's audit webhook
    /// batches, evaluates them and prints alerts as JSON lines on standard output
    #[arg(short = 'r', long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// How often policy, namespace and certificate files are checked for changes
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub reload_interval: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailureMode {
    Open,
    Closed,
}

/// `250ms`, `3s`, `1m`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((text, "s"), |i| (&text[..i], &text[i..]));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a duration such as 250ms, 3s or 1m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (use ms, s or m)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

/// `1048576`, `512Ki`, `8Mi`, `1Gi` (Kubernetes quantity suffixes for bytes).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, multiplier) = if let Some(n) = text.strip_suffix("Ki") {
        (n, 1usize << 10)
    } else if let Some(n) = text.strip_suffix("Mi") {
        (n, 1 << 20)
    } else if let Some(n) = text.strip_suffix("Gi") {
        (n, 1 << 30)
    } else {
        (text, 1)
    };
    let n: usize = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a size such as 8Mi or 1048576"))?;
    n.checked_mul(multiplier)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{text:?}: out of range"))
}

/// Feeds the server's namespace cache from the cluster client's watch.
struct CacheSink(Arc<NamespaceCache>);

impl palisade_cluster::NamespaceSink for CacheSink {
    fn replace_all(&self, namespaces: Vec<serde_json::Value>) {
        self.0.replace_all(namespaces);
    }
    fn apply(&self, namespace: serde_json::Value) {
        self.0.upsert(namespace);
    }
    fn delete(&self, name: &str) {
        self.0.remove(name);
    }
    fn synced(&self) {
        self.0.mark_synced();
    }
}

/// Feeds the privileged pods gauge from the cluster client's pod watch.
struct PodCountSink(Arc<PrivilegedPods>);

impl palisade_cluster::PodSink for PodCountSink {
    fn replace_all(&self, pods: Vec<serde_json::Value>) {
        self.0.replace_all(pods);
    }
    fn apply(&self, pod: serde_json::Value) {
        self.0.apply(&pod);
    }
    fn delete(&self, namespace: &str, name: &str) {
        self.0.delete(namespace, name);
    }
    fn synced(&self) {
        self.0.mark_synced();
    }
}

pub fn run(args: &ServeArgs) -> Result<ExitCode> {
    palisade_server::install_crypto_provider();
    palisade_server::init_logging();
    let tls = if args.self_signed {
        let names = if args.sans.is_empty() {
            vec![
                "localhost".to_string(),
                "127.0.0.1".to_string(),
                "palisade.palisade.svc".to_string(),
            ]
        } else {
            args.sans.clone()
        };
        let generated = self_signed(&names)?;
        let files = generated.write(&args.cert_dir)?;
        eprintln!(
            "palisade: self-signed certificate for {} written to {}",
            names.join(", "),
            args.cert_dir.display()
        );
        println!("caBundle: {}", generated.ca_bundle());
        TlsFiles {
            client_ca: args.client_ca.clone(),
            ..files
        }
    } else {
        // clap guarantees both when --self-signed is absent.
        TlsFiles {
            cert: args.tls_cert.clone().context("--tls-cert is required")?,
            key: args.tls_key.clone().context("--tls-key is required")?,
            client_ca: args.client_ca.clone(),
        }
    };
    let mut config = ServeConfig::new(args.listen, tls);
    config.policy_dirs = args.policies.clone();
    config.inventory_dirs = args.inventory.clone();
    config.rbac_dirs = args.rbac.clone();
    config.namespace_dirs = args.namespaces.clone();
    config.budget = args.time_budget;
    config.fail_open = args.failure_mode == FailureMode::Open;
    config.max_body_bytes = args.max_request_size;
    config.reload_interval = args.reload_interval;
    if !args.rules.is_empty() {
        let options = palisade_detect::cli_support::DetectOptions {
            rules: args.rules.clone(),
            ..palisade_detect::cli_support::DetectOptions::default()
        };
        let (engine, _) =
            palisade_detect::cli_support::build_engine(&options, &mut std::io::stderr())?;
        config.audit = Some(palisade_server::AuditEngine(Arc::new(engine)));
    }
    if let Some(path) = &args.pod_security_config {
        config.pod_security = read_pod_security_config(path)?;
    }
    let feed: Option<ClusterFeed> = args.cluster.then(|| {
        let options = palisade_cluster::ClusterOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
        };
        let feed: ClusterFeed = Box::new(move |view: ClusterView| {
            Box::pin(async move {
                let client = palisade_cluster::connect(&options).await?;
                palisade_cluster::watch_namespaces_and_pods(
                    client,
                    &CacheSink(view.namespaces),
                    &PodCountSink(view.pods),
                )
                .await
            })
        });
        feed
    });
    palisade_server::run(config, feed)?;
    Ok(ExitCode::SUCCESS)
}

fn read_pod_security_config(path: &std::path::Path) -> Result<PodSecurityConfiguration> {
    let loaded = palisade_model::load_inputs(
        &[palisade_model::Input::Path(path.to_path_buf())],
        &palisade_model::LoadOptions::default(),
    );
    if let Some(error) = loaded.errors.first() {
        anyhow::bail!("{error}");
    }
    let object = loaded
        .objects
        .first()
        .with_context(|| format!("{}: no configuration object found", path.display()))?;
    PodSecurityConfiguration::from_node(&object.root)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("3h").is_err());
        assert!(parse_duration("fast").is_err());
        assert_eq!(parse_size("8Mi"), Ok(8 << 20));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("0").is_err());
        assert!(parse_size("8MB").is_err());
    }
}
