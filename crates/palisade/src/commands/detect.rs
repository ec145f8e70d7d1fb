//! `palisade detect`: Falco-compatible rules on Kubernetes audit events, and
//! on syscalls with the eBPF sensor (`--source syscall`).
//!
//! This file only parses arguments; the work is `palisade_detect::cli_support`
//! and `palisade_sensor::run`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use palisade_detect::cli_support::{self, AlertFormat, DetectOptions};
use palisade_detect::Priority;

/// Alert output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DetectOutput {
    /// Falco's text line: `time: Priority message`.
    Text,
    /// Falco's JSON alert, one per line.
    Json,
}

/// Where events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DetectSource {
    /// Kubernetes audit events (--audit-log or --listen).
    K8sAudit,
    /// Syscalls of this machine, from the eBPF sensor (root or CAP_BPF+CAP_PERFMON).
    Syscall,
}

/// Arguments of `palisade detect`.
#[derive(Debug, Args)]
#[command(
    about = "Run Falco rules on Kubernetes audit events",
    long_about = "Run Falco-compatible rules on Kubernetes audit events (audit.k8s.io/v1).\n\n\
Rules files are read as Falco reads them: lists, macros, rules, exceptions, `append` and \
`override`, several files in order with later ones overriding earlier ones. Conditions are \
compiled once; the `ka.*` and `jevt.*` fields of Falco's k8saudit plugin are computed from each \
audit event.\n\n\
With --source syscall, the eBPF sensor watches this machine's syscalls (Falco's syscall rules, \
e.g. falco_rules.yaml): only the syscalls the loaded rules can match are captured in the kernel; \
processes, their ancestors and containers (from cgroups) are tracked from exec, fork and exit; \
container and pod names come from the CRI runtime socket (--cri), asked in the background. \
It needs root, or CAP_BPF and CAP_PERFMON; dropped events are counted (--metrics-addr) and \
reported with Falco's \"syscall event drop\" alert.\n\n\
A rules file with an error does not stop the others from loading (the error is printed with its \
file, line, column and rule), unless --strict.\n\n\
Exit codes: 0 ok; 1 an alert at or above --fail-on while reading a finite log; 2 a rules file \
had an error.",
    after_help = "Examples:\n  \
palisade detect -r k8s_audit_rules.yaml --audit-log /var/log/kubernetes/audit.log\n  \
palisade detect -r k8s_audit_rules.yaml -r my_overrides.yaml --audit-log audit.log -o json --fail-on warning\n  \
kubectl logs kube-apiserver-node1 -n kube-system | palisade detect -r k8s_audit_rules.yaml --audit-log -\n  \
palisade detect -r k8s_audit_rules.yaml --audit-log /var/log/audit.log --follow --out alerts.json -o json\n  \
palisade detect -r falco_rules.yaml -r falco-incubating_rules.yaml --validate\n  \
sudo palisade detect --source syscall -r falco_rules.yaml -o json --metrics-addr 127.0.0.1:9376\n  \
palisade detect --list-fields k8s_audit\n  \
palisade detect -r k8s_audit_rules.yaml --listen 0.0.0.0:9443 --tls-cert tls.crt --tls-key tls.key"
)]
pub struct DetectArgs {
    /// Event source: Kubernetes audit events, or this machine's syscalls (eBPF sensor)
    #[arg(long, value_enum, default_value_t = DetectSource::K8sAudit)]
    pub source: DetectSource,

    /// Serve Prometheus metrics on this address at /metrics: audit events read and alerts
    /// by rule and priority (with --audit-log); with --source syscall, also the sensor's
    /// events and drops by category. --listen serves /metrics on its own address
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_addr: Option<std::net::SocketAddr>,

    /// With --source syscall: capture every syscall the sensor knows, not only those the
    /// loaded rules can match
    #[arg(long)]
    pub all_syscalls: bool,

    /// With --source syscall: where the host's root is mounted (for its /etc/passwd and
    /// /etc/group when running in a container)
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub host_root: PathBuf,

    /// With --source syscall: a CRI runtime socket to ask for container and pod metadata
    /// (container.name, container.image*, k8s.pod.*, k8s.ns.name); repeatable, asked in
    /// order. Default: whichever of /run/containerd/containerd.sock, /run/crio/crio.sock,
    /// /run/k3s/containerd/containerd.sock and /run/host-containerd/containerd.sock exist
    #[arg(long = "cri", value_name = "SOCKET")]
    pub cri: Vec<PathBuf>,

    /// Rules file to load (repeatable; files load in order, later ones override).
    #[arg(short = 'r', long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// JSON-lines audit log to read (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<String>,

    /// Keep reading the log as it grows, like `tail -F` (follows rotation).
    #[arg(long, requires = "audit_log")]
    pub follow: bool,

    /// Stop when any rules file has an error.
    #[arg(long)]
    pub strict: bool,

    /// Alert format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = DetectOutput::Text)]
    pub output: DetectOutput,

    /// Also post each alert to this HTTP(S) endpoint, as Falco's http_output (Falco's JSON,
    /// one alert per POST; a slow endpoint never slows detection)
    #[arg(long, value_name = "URL")]
    pub alert_webhook: Option<String>,

    /// Also append alerts to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Only load and compile the rules and report problems (like `falco -V`).
    #[arg(long)]
    pub validate: bool,

    /// Print the fields of a source (`k8s_audit`, `syscall`; all when omitted) and exit.
    #[arg(long, value_name = "SOURCE", num_args = 0..=1, default_missing_value = "")]
    pub list_fields: Option<String>,

    /// Print the loaded rules (name, source, priority, state, tags) and exit.
    #[arg(long)]
    pub list: bool,

    /// Enable only the rules having one of these tags (repeatable, comma-separated).
    #[arg(long, value_name = "TAG", value_delimiter = ',')]
    pub enable_tags: Vec<String>,

    /// Disable the rules having one of these tags (repeatable, comma-separated).
    #[arg(long, value_name = "TAG", value_delimiter = ',')]
    pub disable_tags: Vec<String>,

    /// Skip rules less severe than this priority (e.g. `warning`).
    #[arg(long, value_name = "PRIORITY")]
    pub min_priority: Option<String>,

    /// Exit with 1 if an alert at or above this priority is raised (finite logs only).
    #[arg(long, value_name = "PRIORITY")]
    pub fail_on: Option<String>,

    /// Fire every matching rule per event (Falco's `rule_matching: all`); default: first.
    #[arg(long)]
    pub all_matches: bool,

    /// Per-rule alert rate limit: `RATE[/BURST]` alerts per second (token bucket).
    #[arg(long, value_name = "RATE[/BURST]")]
    pub rate_limit: Option<String>,

    /// Also print warnings and a summary.
    #[arg(short, long)]
    pub verbose: bool,

    /// Serve the API server's audit webhook on this address (HTTPS, `POST /audit`, EventList
    /// batches) instead of reading a log; alerts go to standard output (Falco's JSON) and to
    /// --out and --alert-webhook, metrics to /metrics
    #[arg(long, value_name = "ADDR:PORT", conflicts_with = "audit_log")]
    pub listen: Option<std::net::SocketAddr>,

    /// Serving certificate for --listen (PEM)
    #[arg(long, value_name = "FILE", requires = "listen", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// Private key for --listen (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Generate a CA and certificate for --listen into --cert-dir and print the caBundle
    #[arg(long, requires = "listen", conflicts_with = "tls_cert")]
    pub self_signed: bool,

    /// Where --self-signed writes ca.crt, tls.crt and tls.key
    #[arg(long, value_name = "DIR", default_value = "palisade-certs")]
    pub cert_dir: PathBuf,
}

fn priority(flag: &str, value: &Option<String>) -> Result<Option<Priority>> {
    match value {
        None => Ok(None),
        Some(v) => match Priority::parse(v) {
            Some(p) => Ok(Some(p)),
            None => bail!(
                "--{flag}: unknown priority '{v}' (emergency, alert, critical, error, warning, notice, info, debug)"
            ),
        },
    }
}

fn rate_limit(value: &Option<String>) -> Result<Option<(f64, f64)>> {
    let Some(v) = value else { return Ok(None) };
    let (rate, burst) = match v.split_once('/') {
        Some((r, b)) => (r.trim().parse::<f64>(), b.trim().parse::<f64>()),
        None => (
            v.trim().parse::<f64>(),
            Ok(1.0f64.max(v.trim().parse::<f64>().unwrap_or(1.0))),
        ),
    };
    match (rate, burst) {
        (Ok(r), Ok(b)) if r > 0.0 && b >= 1.0 => Ok(Some((r, b))),
        _ => bail!(
            "--rate-limit: expected RATE or RATE/BURST with RATE > 0 and BURST >= 1, got '{v}'"
        ),
    }
}

/// Runs `palisade detect`.
pub fn run(args: &DetectArgs) -> Result<ExitCode> {
    let opts = DetectOptions {
        rules: args.rules.clone(),
        audit_log: args.audit_log.clone(),
        follow: args.follow,
        strict: args.strict,
        format: match args.output {
            DetectOutput::Text => AlertFormat::Text,
            DetectOutput::Json => AlertFormat::Json,
        },
        out: args.out.clone(),
        alert_webhook: args.alert_webhook.clone(),
        validate: args.validate,
        list_fields: args
            .list_fields
            .as_ref()
            .map(|s| (!s.is_empty()).then(|| s.clone())),
        list: args.list,
        enable_tags: args.enable_tags.clone(),
        disable_tags: args.disable_tags.clone(),
        min_priority: priority("min-priority", &args.min_priority)?,
        fail_on: priority("fail-on", &args.fail_on)?,
        all_matches: args.all_matches,
        rate_limit: rate_limit(&args.rate_limit)?,
        verbose: args.verbose,
        metrics_addr: args.metrics_addr,
    };
    if args.source == DetectSource::Syscall
        && !opts.validate
        && !opts.list
        && opts.list_fields.is_none()
    {
        if args.audit_log.is_some() || args.listen.is_some() {
            bail!("--source syscall reads the sensor: --audit-log and --listen are for --source k8s-audit");
        }
        return run_syscall_sensor(args, &opts);
    }
    if let Some(listen) = args.listen {
        if args.metrics_addr.is_some() {
            bail!("--listen serves /metrics on its own address: drop --metrics-addr");
        }
        return listen_for_audit_events(args, &opts, listen);
    }
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let code = cli_support::run(&opts, &mut stdout.lock(), &mut stderr.lock())?;
    Ok(ExitCode::from(code))
}

/// `--listen`: the server's `/audit` endpoint alone, with this command's rule options.
fn listen_for_audit_events(
    args: &DetectArgs,
    opts: &DetectOptions,
    listen: std::net::SocketAddr,
) -> Result<ExitCode> {
    palisade_server::install_crypto_provider();
    palisade_server::init_logging();
    let (mut engine, errors) = cli_support::build_engine(opts, &mut std::io::stderr())?;
    if errors > 0 && args.strict {
        eprintln!("{errors} rules error(s); stopping (--strict)");
        return Ok(ExitCode::from(cli_support::EXIT_RULE_ERRORS));
    }
    // The endpoint prints each alert's JSON on standard output; --out and
    // --alert-webhook get them from the engine as they are raised, and are
    // finished (webhook drained, write errors reported) when the server stops.
    let outputs = if opts.out.is_some() || opts.alert_webhook.is_some() {
        let outputs = std::sync::Arc::new(cli_support::AlertOutputs::open(opts)?);
        let sink = outputs.clone();
        engine.set_alert_sink(std::sync::Arc::new(move |alert| sink.send(alert)));
        Some(outputs)
    } else {
        None
    };
    let tls = if args.self_signed {
        let generated =
            palisade_server::tls::self_signed(&["localhost".to_string(), "127.0.0.1".to_string()])?;
        let files = generated.write(&args.cert_dir)?;
        println!("caBundle: {}", generated.ca_bundle());
        files
    } else {
        match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => palisade_server::tls::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: None,
            },
            _ => bail!("--listen needs --tls-cert and --tls-key, or --self-signed"),
        }
    };
    let mut config = palisade_server::ServeConfig::new(listen, tls);
    config.admission = false;
    config.audit = Some(palisade_server::AuditEngine(std::sync::Arc::new(engine)));
    let served = palisade_server::run(config, None);
    let finished = match outputs {
        Some(outputs) => outputs.finish(&mut std::io::stderr()),
        None => Ok(()),
    };
    served?;
    finished?;
    Ok(ExitCode::SUCCESS)
}

/// `--source syscall`: the eBPF sensor feeding the engine until interrupted.
#[cfg(feature = "sensor")]
fn run_syscall_sensor(args: &DetectArgs, opts: &DetectOptions) -> Result<ExitCode> {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let mut stderr = std::io::stderr();
    let (engine, errors) = cli_support::build_engine(opts, &mut stderr)?;
    if errors > 0 && opts.strict {
        eprintln!("{errors} rules error(s); stopping (--strict)");
        return Ok(ExitCode::from(cli_support::EXIT_RULE_ERRORS));
    }
    let stop = Arc::new(AtomicBool::new(false));
    // SIGINT and SIGTERM stop the loop cleanly (the programs are detached
    // when the sensor is dropped).
    palisade_sensor::run::stop_on_signals(stop.clone());
    // Standard output, plus --out and --alert-webhook.
    let outputs = cli_support::AlertOutputs::open(opts)?;
    let run_opts = palisade_sensor::run::RunOptions {
        metrics_addr: args.metrics_addr,
        stop: stop.clone(),
        all_syscalls: args.all_syscalls,
        host_root: args.host_root.display().to_string(),
        cri: palisade_sensor::cri::CriOptions {
            sockets: args.cri.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let cri_sockets = run_opts.cri.effective_sockets();
    let verbose = opts.verbose;
    let stdout = std::io::stdout();
    let stats = palisade_sensor::run::run(
        &engine,
        &run_opts,
        |syscalls, addr| {
            eprintln!(
                "palisade: syscall sensor running ({} syscalls captured{}); Ctrl-C to stop",
                syscalls.len(),
                addr.map(|a| format!(", metrics on http://{a}/metrics"))
                    .unwrap_or_default()
            );
            if verbose {
                eprintln!("palisade: capturing {}", syscalls.join(", "));
            }
            if !palisade_sensor::cri::CRI_ENABLED {
                if verbose {
                    eprintln!(
                        "palisade: built without the CRI client: container names and pods are <NA>"
                    );
                }
            } else if !cri_sockets.is_empty() {
                let names: Vec<String> = cri_sockets
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                eprintln!("palisade: container metadata from {}", names.join(", "));
            } else if verbose {
                eprintln!("palisade: no CRI socket found: container names and pods are <NA>");
            }
        },
        |alert| {
            let mut lock = stdout.lock();
            let _ = writeln!(lock, "{}", outputs.line(&alert));
            let _ = lock.flush();
            outputs.send(&alert);
        },
    );
    let finished = outputs.finish(&mut stderr);
    let stats = stats?;
    finished?;
    if verbose || stop.load(Ordering::Relaxed) {
        eprintln!(
            "palisade: {} records, {} dropped in the kernel",
            stats.records,
            stats.counters.drops()
        );
    }
    Ok(ExitCode::from(if errors > 0 {
        cli_support::EXIT_RULE_ERRORS
    } else {
        cli_support::EXIT_OK
    }))
}

#[cfg(not(feature = "sensor"))]
fn run_syscall_sensor(_args: &DetectArgs, _opts: &DetectOptions) -> Result<ExitCode> {
    bail!(
        "this palisade was built without the syscall sensor (cargo feature `sensor`); \
         rebuild with default features, which needs clang, bpftool and libelf \
         (apt-get install clang bpftool libelf-dev zlib1g-dev pkg-config)"
    )
}
