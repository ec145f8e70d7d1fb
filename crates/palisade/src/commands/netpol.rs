//! `palisade netpol`: NetworkPolicy connectivity (list, explain, diff),
//! isolation coverage, policy lint and least-permissive policy generation. Flags and printing live here; the
//! semantics are in `palisade-netpol`, where they are tested.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use palisade_model::{load_inputs, Finding, Input, LoadOptions, Loaded, Severity};
use palisade_netpol::connlist::{Analyzer, ListOptions};
use palisade_netpol::coverage::{coverage, coverage_findings};
use palisade_netpol::diff::{diff_lists, render_diff};
use palisade_netpol::explain::{explain, render_text, PortQuery};
use palisade_netpol::explainlist::{render_explained, ExplainOnly};
use palisade_netpol::format::{render, Format};
use palisade_netpol::generate::{generate, parse_desired, to_yaml, verify, GenerateOptions};
use palisade_netpol::isolate::{self, IsolateOptions, Target};
use palisade_netpol::lint::{lint_with, LintOptions};
use palisade_netpol::read_resources_with;

/// Exit status when findings at or above `--fail-on` were reported.
const EXIT_FINDINGS: u8 = 1;
/// Exit status when an input could not be read or the analysis failed.
const EXIT_INPUT: u8 = 2;

const LIST_EXAMPLES: &str = "\
Examples:
  # Every allowed connection between the workloads of a directory
  palisade netpol list k8s/

  # As JSON, CSV, Markdown or a Graphviz graph
  palisade netpol list k8s/ -o dot --out conns.dot

  # Only what reaches (or leaves) one workload, on ingress
  palisade netpol list k8s/ --focus-workload payments/api --focus-direction ingress

  # Only connections on one port
  palisade netpol list k8s/ --focus-conn tcp-8080

  # What the workloads are exposed to beyond the input (any namespace, any pod)
  palisade netpol list k8s/ --exposure

  # Every pair, allowed or denied, with the policy rules behind each port range
  palisade netpol list k8s/ --explain
  palisade netpol list k8s/ --explain --explain-only deny --focus-conn udp-53

  # Manifests of a live cluster
  kubectl get deploy,sts,ds,pods,ns,netpol,svc,ing -A -o yaml | palisade netpol list -f -

Peers are workloads (`ns/name[Kind]`), IP blocks outside the cluster
(`a.b.c.d-e.f.g.h[External]`, split as the policies' ipBlocks split them), and
the ingress controller (`{ingress-controller}`) when Ingresses or Routes route
to services. NetworkPolicies, AdminNetworkPolicies, the
BaselineAdminNetworkPolicy and ClusterNetworkPolicies (Admin and Baseline
tiers) are combined as the cluster combines them.
The output matches np-guard/netpol-analyzer's `list` (and `list --explain`).

Exit codes: 0 listed, 2 an input could not be read or the analysis failed.";

const EXPLAIN_EXAMPLES: &str = "\
Examples:
  # Why can (or can't) frontend reach the api?
  palisade netpol explain shop/frontend shop/api k8s/

  # On one port; a workload's plain name works when it is unique
  palisade netpol explain frontend api --port 8080/tcp k8s/

  # From an external address, as JSON
  palisade netpol explain 203.0.113.7 shop/api --port 443 -o json -f k8s/

SRC and DST are workloads (NAME, NAMESPACE/NAME or NAMESPACE/NAME[Kind]), IP
addresses or CIDRs, or `ingress-controller`. For each direction (the source's
egress, the destination's ingress) the output lists the admin policies and
NetworkPolicies that select the pod, each rule, and what decides.

Exit codes: 0 allowed, 1 denied, 2 an input could not be read or a peer is unknown.";

const GENERATE_EXAMPLES: &str = "\
Examples:
  # Lock down to what is allowed now: one NetworkPolicy per workload
  palisade netpol generate k8s/ --out policies.yaml

  # From a desired connectivity list (netpol-analyzer txt or json output)
  palisade netpol generate k8s/ --from desired.txt --out policies.yaml

A desired list has lines `SRC => DST : CONNECTIONS`, as `palisade netpol list`
prints them (`shop/web[Deployment] => shop/db[Deployment] : TCP 5432`,
`shop/web[Deployment] => 10.0.0.0-10.255.255.255[External] : TCP 443`,
`{ingress-controller} => shop/web[Deployment] : TCP 8080`). Each group of
workloads with the same labels in a namespace gets one policy isolating both
directions and allowing exactly its listed connections. The result is checked:
the input's workloads with the generated policies (and without the input's
policies) must list exactly the desired connections (IP blocks compared
address by address).

Exit codes: 0 generated and verified, 1 the round trip differs (differences
on standard error), 2 an input could not be read or the list is invalid.";

const DIFF_EXAMPLES: &str = "\
Examples:
  # What changes between two versions of the manifests
  palisade netpol diff before/ after/

  # As CSV, Markdown or a Graphviz graph, naming the versions
  palisade netpol diff main/ pr/ -o md --ref-names main,pr

Each source/destination pair is added, removed, changed or unchanged;
workloads that exist in only one version are marked. The output matches
np-guard/netpol-analyzer's `diff`.

Exit codes: 0 no change, 1 connectivity changed, 2 an input could not be read.";

const COVERAGE_EXAMPLES: &str = "\
Examples:
  # Which workloads are not isolated, which namespaces lack a default deny
  palisade netpol coverage k8s/

  # In CI: fail when a gap is at least medium
  palisade netpol coverage k8s/ --fail-on medium -o json --out coverage.json

A workload is isolated for a direction when a NetworkPolicy, an
AdminNetworkPolicy or the BaselineAdminNetworkPolicy selects it for that
direction. A default deny is a policy selecting every pod of the namespace
with no rules for the direction (or an admin policy denying everything).

Exit codes: 0 no gap at or above --fail-on, 1 gaps found, 2 an input could not be read.";

const LINT_EXAMPLES: &str = "\
Examples:
  # Mistakes in the policies of a directory
  palisade netpol lint k8s/

  # Only fail on high-severity findings, as JSON
  palisade netpol lint k8s/ --fail-on high -o json

Finds: namespaceSelector and podSelector written as two peers (OR) where one
peer (AND) was meant, namespace selectors on labels Kubernetes does not set,
egress isolation without DNS, egress rules without `to`, rules ignored because
policyTypes omits their direction, missing policyTypes, policies and peers
that select nothing, named ports no destination defines, shadowed rules,
ipBlocks covering the pod or Service CIDR (--pod-cidr, --service-cidr: set
them to the cluster's; the defaults are kubeadm's 10.244.0.0/16 and
10.96.0.0/12), ports without protocol (TCP) toward UDP/SCTP ports, and
Service ports allowed where the pods listen on a different targetPort.
`palisade explain RULE` documents each rule.

Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 an input could not be read.";

const ISOLATE_EXAMPLES: &str = "\
Examples:
  # Quarantine one pod: cut all of its ingress and egress
  palisade netpol isolate -n shop --pod web-7d9f k8s/ | kubectl apply -f -

  # The pods a label selector picks, as JSON
  palisade netpol isolate -n shop -l 'app=web,track in (canary)' -o json k8s/

  # Keep ingress from a forensics namespace (to inspect the pod)
  kubectl get pods,ns,netpol -A -o yaml | \\
    palisade netpol isolate -n shop --pod web-7d9f --allow-from-namespace forensics -f -

The policy selects the pods by their labels (a workload's pods share them:
--pod NAME of a Deployment's pod isolates the Deployment's pods); when other
workloads carry the same labels it excludes them with DoesNotExist terms, or
says which ones it also selects. It isolates both directions with no rule (or
one ingress rule from --allow-from-namespace). NetworkPolicies add up: a
policy that already allows traffic to or from the pods keeps allowing it. The
result is checked against the input, and what stays allowed is reported.

Exit codes: 0 printed and verified (every connection of the pods is denied), 1
printed but some connections stay allowed (listed on standard error), 2 an
input could not be read or the pod or selector is invalid.";

#[derive(Debug, Subcommand)]
pub enum NetpolCommand {
    /// Allowed connections between workloads and IP blocks (netpol-analyzer's list)
    #[command(after_long_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Why a connection is allowed or denied: the policies and rules that decide, per direction
    #[command(after_long_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// Connectivity added, removed and changed between two versions of the manifests
    #[command(after_long_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Workloads not isolated for ingress or egress, namespaces without a default deny
    #[command(after_long_help = COVERAGE_EXAMPLES)]
    Coverage(CoverageArgs),
    /// Mistakes in NetworkPolicies, as findings
    #[command(after_long_help = LINT_EXAMPLES)]
    Lint(LintArgs),
    /// Least-permissive NetworkPolicies allowing exactly a desired connectivity list
    #[command(after_long_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
    /// The NetworkPolicy that cuts all ingress and egress of a pod (quarantine)
    #[command(after_long_help = ISOLATE_EXAMPLES)]
    Isolate(IsolateArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["pod", "selector"]))]
pub struct IsolateArgs {
    /// Manifests: files or directories (recursive); `-` reads standard input
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// A file or directory of manifests (repeatable; `-` for standard input), as kubectl -f
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<String>,

    /// Namespace of the pods (also the namespace of input objects that have none)
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: String,

    /// The pod (or workload) to isolate
    #[arg(long, value_name = "NAME")]
    pub pod: Option<String>,

    /// The pods to isolate, by label selector (kubectl syntax)
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,

    /// Keep ingress from every pod of this namespace (forensics)
    #[arg(long = "allow-from-namespace", value_name = "NAMESPACE")]
    pub allow_from_namespace: Option<String>,

    /// Name of the policy [default: palisade-isolate-NAME]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Also emit an AdminNetworkPolicy with Deny rules for the pods: it takes precedence over
    /// NetworkPolicies, so traffic that other NetworkPolicies allow is cut too (ingress from
    /// outside the cluster stays governed by NetworkPolicies)
    #[arg(long)]
    pub admin: bool,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = PolicyFormat::Yaml)]
    pub output: PolicyFormat,

    #[command(flatten)]
    pub out: OutArgs,
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Manifests: files or directories (recursive); `-` reads standard input
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// A file or directory of manifests (repeatable; `-` for standard input), as kubectl -f
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<String>,

    /// Namespace for objects that have none [default: default]
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    #[command(flatten)]
    pub cluster: super::cluster_input::ClusterArgs,
}

#[derive(Debug, Args)]
pub struct OutArgs {
    /// Write the output to FILE instead of standard output
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Txt,
    Json,
    Csv,
    Md,
    Dot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Txt,
    Csv,
    Md,
    Dot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FocusDirection {
    Ingress,
    Egress,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Txt)]
    pub output: ListFormat,

    #[command(flatten)]
    pub out: OutArgs,

    /// Only connections of these workloads (NAME or NAMESPACE/NAME; repeatable, comma-separated)
    #[arg(
        long = "focus-workload",
        value_name = "WORKLOAD",
        value_delimiter = ','
    )]
    pub focus_workloads: Vec<String>,

    /// With --focus-workload: only connections with these peers
    #[arg(
        long = "focus-workload-peer",
        value_name = "WORKLOAD",
        value_delimiter = ','
    )]
    pub focus_workload_peers: Vec<String>,

    /// With --focus-workload: only its ingress or its egress
    #[arg(long = "focus-direction", value_enum)]
    pub focus_direction: Option<FocusDirection>,

    /// Only connections allowing PROTOCOL-PORT, e.g. tcp-8080
    #[arg(long = "focus-conn", value_name = "PROTOCOL-PORT")]
    pub focus_conn: Option<String>,

    /// Also report what each workload is exposed to beyond the input (any namespace, any pod)
    #[arg(long)]
    pub exposure: bool,

    /// Every pair, allowed or denied, with the rules behind each port range (txt output only)
    #[arg(long)]
    pub explain: bool,

    /// With --explain: only allowed or only denied connections
    #[arg(long = "explain-only", value_enum)]
    pub explain_only: Option<ExplainOnlyArg>,

    /// Also analyse multiple networks: primary (Cluster)UserDefinedNetworks isolate their
    /// namespaces, NetworkAttachmentDefinitions add secondary networks governed by
    /// MultiNetworkPolicies, and KubeVirt VirtualMachines are workloads; connections are
    /// listed per network (not with --exposure)
    #[arg(long = "multiple-networks")]
    pub multiple_networks: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainOnlyArg {
    Allow,
    Deny,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The desired connectivity list (txt or json, as `palisade netpol list` writes it);
    /// default: the input's current connectivity
    #[arg(long = "from", value_name = "FILE")]
    pub from: Option<PathBuf>,

    /// Namespace of the ingress controller, for `{ingress-controller}` sources
    #[arg(
        long = "ingress-controller-namespace",
        value_name = "NAMESPACE",
        default_value = "ingress-controller-ns"
    )]
    pub ingress_controller_namespace: String,

    /// Prefix of the generated policies' names
    #[arg(
        long = "name-prefix",
        value_name = "PREFIX",
        default_value = "palisade-"
    )]
    pub name_prefix: String,

    #[command(flatten)]
    pub out: OutArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The source: a workload (NAME, NAMESPACE/NAME, NAMESPACE/NAME[Kind]), an IP or CIDR
    #[arg(value_name = "SRC")]
    pub src: String,

    /// The destination: a workload, an IP or CIDR
    #[arg(value_name = "DST")]
    pub dst: String,

    #[command(flatten)]
    pub input: InputArgs,

    /// Only this port: PORT or PORT/PROTOCOL (TCP, UDP, SCTP; default TCP)
    #[arg(long, value_name = "PORT[/PROTO]")]
    pub port: Option<String>,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,

    #[command(flatten)]
    pub out: OutArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The first version (a directory or file)
    #[arg(value_name = "DIR1")]
    pub dir1: PathBuf,

    /// The second version
    #[arg(value_name = "DIR2")]
    pub dir2: PathBuf,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = DiffFormat::Txt)]
    pub output: DiffFormat,

    /// Names of the two versions in the output
    #[arg(long = "ref-names", value_name = "NAME1,NAME2", value_delimiter = ',', num_args = 2, default_values_t = ["ref1".to_string(), "ref2".to_string()])]
    pub ref_names: Vec<String>,

    /// Analyse multiple networks ((Cluster)UserDefinedNetworks, NetworkAttachmentDefinitions,
    /// MultiNetworkPolicies, VirtualMachines) in both versions, as `list --multiple-networks`
    #[arg(long = "multiple-networks")]
    pub multiple_networks: bool,

    #[command(flatten)]
    pub out: OutArgs,
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,

    /// Exit 1 when a gap of at least this severity is found
    #[arg(long = "fail-on", value_name = "SEVERITY", default_value = "medium")]
    pub fail_on: Severity,

    #[command(flatten)]
    pub out: OutArgs,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,

    /// Exit 1 when a finding of at least this severity is reported
    #[arg(long = "fail-on", value_name = "SEVERITY", default_value = "low")]
    pub fail_on: Severity,

    /// The cluster's pod CIDR (repeatable), for ipBlocks that cover pod addresses
    #[arg(long = "pod-cidr", value_name = "CIDR", default_value = palisade_netpol::lint::DEFAULT_POD_CIDR)]
    pub pod_cidr: Vec<String>,

    /// The cluster's Service CIDR (repeatable), for ipBlocks that cover ClusterIPs
    #[arg(long = "service-cidr", value_name = "CIDR", default_value = palisade_netpol::lint::DEFAULT_SERVICE_CIDR)]
    pub service_cidr: Vec<String>,

    #[command(flatten)]
    pub out: OutArgs,
}

/// Runs a `palisade netpol` subcommand.
pub fn run(cmd: &NetpolCommand) -> Result<ExitCode> {
    match cmd {
        NetpolCommand::List(a) => run_list(a),
        NetpolCommand::Explain(a) => run_explain(a),
        NetpolCommand::Diff(a) => run_diff(a),
        NetpolCommand::Coverage(a) => run_coverage(a),
        NetpolCommand::Lint(a) => run_lint(a),
        NetpolCommand::Generate(a) => run_generate(a),
        NetpolCommand::Isolate(a) => run_isolate(a),
    }
}

fn load_input(input: &InputArgs) -> Result<Loaded> {
    let all: Vec<&String> = input.paths.iter().chain(input.filenames.iter()).collect();
    if all.is_empty() && !input.cluster.enabled() {
        anyhow::bail!(
            "no input: give manifest files or directories (or -f -, to read standard input), or --cluster"
        );
    }
    let inputs: Vec<Input> = all.iter().map(|p| Input::parse(p)).collect();
    let options = LoadOptions {
        default_namespace: input.namespace.clone(),
    };
    let mut loaded = load_inputs(&inputs, &options);
    if input.cluster.enabled() {
        // Every namespace: connectivity depends on the others' labels and policies.
        super::cluster_input::absorb(
            &mut loaded,
            super::cluster_input::netpol_objects(&input.cluster, None)?,
        );
    }
    Ok(loaded)
}

/// Prints input errors to standard error; true when there were any.
fn report_input_errors(loaded: &Loaded) -> bool {
    for e in &loaded.errors {
        let line = e.span.start.line;
        if line > 0 {
            eprintln!("error: {}:{line}: {}", e.file, e.message);
        } else {
            eprintln!("error: {}: {}", e.file, e.message);
        }
    }
    !loaded.errors.is_empty()
}

fn write_output(out: &OutArgs, text: &str) -> Result<()> {
    match &out.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            if !text.is_empty() && !text.ends_with('\n') {
                stdout.write_all(b"\n")?;
            }
            stdout.flush()?;
            Ok(())
        }
    }
}

fn analyzer_for(
    loaded: &Loaded,
    exposure: bool,
    multiple_networks: bool,
) -> std::result::Result<Analyzer, String> {
    let resources = read_resources_with(&loaded.objects, multiple_networks);
    for w in &resources.warnings {
        eprintln!("warning: {w}");
    }
    Analyzer::new(resources, exposure)
}

fn run_list(a: &ListArgs) -> Result<ExitCode> {
    let loaded = load_input(&a.input)?;
    let input_errors = report_input_errors(&loaded);
    let opts = ListOptions {
        focus_workloads: a.focus_workloads.clone(),
        focus_workload_peers: a.focus_workload_peers.clone(),
        focus_direction: a.focus_direction.map(|d| match d {
            FocusDirection::Ingress => "ingress".to_string(),
            FocusDirection::Egress => "egress".to_string(),
        }),
        focus_conn: a.focus_conn.clone(),
        exposure: a.exposure,
        multiple_networks: a.multiple_networks,
    };
    if a.exposure && a.multiple_networks {
        eprintln!("warning: --exposure is ignored with --multiple-networks");
    }
    let analyzer = match analyzer_for(&loaded, a.exposure, a.multiple_networks) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    if a.explain {
        if a.output != ListFormat::Txt {
            eprintln!("error: --explain is supported with txt output only");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
        let only = a.explain_only.map(|o| match o {
            ExplainOnlyArg::Allow => ExplainOnly::Allow,
            ExplainOnlyArg::Deny => ExplainOnly::Deny,
        });
        if only.is_some() && a.exposure {
            eprintln!("warning: --exposure is ignored with --explain-only");
        }
        let explained = match analyzer.list_explained(&opts, only) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(EXIT_INPUT));
            }
        };
        for w in &explained.list.warnings {
            eprintln!("warning: {w}");
        }
        write_output(&a.out, &render_explained(&explained))?;
        return Ok(ExitCode::from(if input_errors { EXIT_INPUT } else { 0 }));
    }
    if a.explain_only.is_some() {
        eprintln!("warning: --explain-only is ignored without --explain");
    }
    let list = match analyzer.list(&opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    for w in &list.warnings {
        eprintln!("warning: {w}");
    }
    let format = match a.output {
        ListFormat::Txt => Format::Txt,
        ListFormat::Json => Format::Json,
        ListFormat::Csv => Format::Csv,
        ListFormat::Md => Format::Md,
        ListFormat::Dot => Format::Dot,
    };
    write_output(&a.out, &render(&list, format))?;
    Ok(ExitCode::from(if input_errors { EXIT_INPUT } else { 0 }))
}

fn run_explain(a: &ExplainArgs) -> Result<ExitCode> {
    let port = match a.port.as_deref().map(PortQuery::parse).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --port: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    let loaded = load_input(&a.input)?;
    let input_errors = report_input_errors(&loaded);
    let result = analyzer_for(&loaded, false, false)
        .and_then(|an| explain(&an, &a.src, &a.dst, port.as_ref()));
    let e = match result {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    let text = match a.output {
        ReportFormat::Text => render_text(&e),
        ReportFormat::Json => serde_json::to_string_pretty(&e)? + "\n",
    };
    write_output(&a.out, &text)?;
    let allowed = match e.port_allowed {
        Some(x) => x,
        None => e.allowed != "No Connections",
    };
    Ok(ExitCode::from(if input_errors {
        EXIT_INPUT
    } else if allowed {
        0
    } else {
        EXIT_FINDINGS
    }))
}

fn run_generate(a: &GenerateArgs) -> Result<ExitCode> {
    let loaded = load_input(&a.input)?;
    let input_errors = report_input_errors(&loaded);
    let analyzer = match analyzer_for(&loaded, false, false) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    let desired = match &a.from {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            parse_desired(&text).map_err(|e| format!("{}: {e}", path.display()))
        }
        None => analyzer
            .list(&ListOptions::default())
            .map(|l| l.connections),
    };
    let desired = match desired {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    let opts = GenerateOptions {
        ingress_controller_namespace: a.ingress_controller_namespace.clone(),
        name_prefix: a.name_prefix.clone(),
    };
    let generated = match generate(&analyzer, &desired, &opts) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    for w in &generated.warnings {
        eprintln!("warning: {w}");
    }
    write_output(&a.out, &to_yaml(&generated))?;
    if opts.ingress_controller_namespace != GenerateOptions::default().ingress_controller_namespace
    {
        // The analysis models the ingress controller in its own namespace:
        // with another namespace, its connections cannot be verified.
        eprintln!("note: ingress-controller connections are not verified with --ingress-controller-namespace");
    }
    let diffs = match verify(&loaded.objects, &desired, &generated) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: verifying the generated policies: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    let ic = "{ingress-controller}";
    let custom_ic = opts.ingress_controller_namespace
        != GenerateOptions::default().ingress_controller_namespace;
    let diffs: Vec<&String> = diffs
        .iter()
        .filter(|d| !(custom_ic && d.starts_with(ic)))
        .collect();
    for d in &diffs {
        eprintln!("differs: {d}");
    }
    if diffs.is_empty() {
        eprintln!(
            "verified: {} policies allow exactly the {} desired connections",
            generated.policies.len(),
            desired.iter().filter(|c| !c.conns.is_empty()).count()
        );
    }
    Ok(ExitCode::from(if input_errors {
        EXIT_INPUT
    } else if diffs.is_empty() {
        0
    } else {
        EXIT_FINDINGS
    }))
}

fn run_diff(a: &DiffArgs) -> Result<ExitCode> {
    let mut lists = Vec::new();
    let mut input_errors = false;
    for dir in [&a.dir1, &a.dir2] {
        let loaded = load_inputs(&[Input::Path(dir.clone())], &LoadOptions::default());
        input_errors |= report_input_errors(&loaded);
        let opts = ListOptions {
            multiple_networks: a.multiple_networks,
            ..ListOptions::default()
        };
        let list = analyzer_for(&loaded, false, a.multiple_networks).and_then(|an| an.list(&opts));
        match list {
            Ok(l) => lists.push(l),
            Err(e) => {
                eprintln!("error: {}: {e}", dir.display());
                return Ok(ExitCode::from(EXIT_INPUT));
            }
        }
    }
    let (l1, l2) = (&lists[0], &lists[1]);
    let d = diff_lists(l1, l2, &l1.peers, &l2.peers);
    let format = match a.output {
        DiffFormat::Txt => Format::Txt,
        DiffFormat::Csv => Format::Csv,
        DiffFormat::Md => Format::Md,
        DiffFormat::Dot => Format::Dot,
    };
    let (r1, r2) = (
        a.ref_names.first().map_or("ref1", String::as_str),
        a.ref_names.get(1).map_or("ref2", String::as_str),
    );
    let text = render_diff(&d, format, r1, r2).map_err(anyhow::Error::msg)?;
    if text.is_empty() && a.out.out.is_none() {
        eprintln!("no connectivity change");
    }
    write_output(&a.out, &text)?;
    Ok(ExitCode::from(if input_errors {
        EXIT_INPUT
    } else if d.is_empty() {
        0
    } else {
        EXIT_FINDINGS
    }))
}

fn findings_text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{}:{}:{}: {} [{}] {}\n    fix: {}\n",
            f.location.file,
            f.location.span.start.line,
            f.location.span.start.column,
            f.severity,
            f.rule,
            f.message,
            f.remediation
        ));
    }
    out
}

fn exit_for(findings: &[Finding], fail_on: Severity, input_errors: bool) -> ExitCode {
    if input_errors {
        ExitCode::from(EXIT_INPUT)
    } else if findings.iter().any(|f| f.severity >= fail_on) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_coverage(a: &CoverageArgs) -> Result<ExitCode> {
    let loaded = load_input(&a.input)?;
    let input_errors = report_input_errors(&loaded);
    let analyzer = match analyzer_for(&loaded, false, false) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    let cov = coverage(&analyzer);
    let findings = coverage_findings(&loaded.objects, &analyzer, &cov);
    let text = match a.output {
        ReportFormat::Json => {
            serde_json::to_string_pretty(
                &serde_json::json!({"coverage": cov, "findings": findings}),
            )? + "\n"
        }
        ReportFormat::Text => {
            let mut out = String::from("Workloads (isolated for ingress / egress):\n");
            for w in &cov.workloads {
                let mark = |b: bool| if b { "yes" } else { "NO" };
                out.push_str(&format!(
                    "  {:<60} ingress: {:<3}  egress: {}\n",
                    w.workload,
                    mark(w.ingress_isolated()),
                    mark(w.egress_isolated())
                ));
            }
            out.push_str("\nNamespaces (default deny for ingress / egress):\n");
            for n in &cov.namespaces {
                out.push_str(&format!(
                    "  {:<40} ingress: {}  egress: {}\n",
                    n.namespace,
                    n.default_deny_ingress.as_deref().unwrap_or("NONE"),
                    n.default_deny_egress.as_deref().unwrap_or("NONE")
                ));
            }
            if !findings.is_empty() {
                out.push('\n');
                out.push_str(&findings_text(&findings));
            }
            out
        }
    };
    write_output(&a.out, &text)?;
    Ok(exit_for(&findings, a.fail_on, input_errors))
}

fn run_lint(a: &LintArgs) -> Result<ExitCode> {
    let loaded = load_input(&a.input)?;
    let input_errors = report_input_errors(&loaded);
    let analyzer = match analyzer_for(&loaded, false, false) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    let options = match LintOptions::new(&a.pod_cidr, &a.service_cidr) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    let findings = lint_with(&loaded.objects, &analyzer, &options);
    let text = match a.output {
        ReportFormat::Json => serde_json::to_string_pretty(&findings)? + "\n",
        ReportFormat::Text if findings.is_empty() => "no findings\n".to_string(),
        ReportFormat::Text => findings_text(&findings),
    };
    write_output(&a.out, &text)?;
    Ok(exit_for(&findings, a.fail_on, input_errors))
}

fn run_isolate(a: &IsolateArgs) -> Result<ExitCode> {
    let input = InputArgs {
        paths: a.paths.clone(),
        filenames: a.filenames.clone(),
        namespace: Some(a.namespace.clone()),
        cluster: Default::default(),
    };
    let loaded = load_input(&input)?;
    let input_errors = report_input_errors(&loaded);
    let target = match (&a.pod, &a.selector) {
        (Some(p), _) => Target::Pod(p.clone()),
        (None, Some(s)) => Target::Selector(s.clone()),
        (None, None) => anyhow::bail!("give --pod NAME or -l SELECTOR"),
    };
    let opts = IsolateOptions {
        namespace: a.namespace.clone(),
        target,
        allow_from_namespace: a.allow_from_namespace.clone(),
        name: a.name.clone(),
        admin: a.admin,
    };
    let result = analyzer_for(&loaded, false, false).and_then(|an| isolate::isolate(&an, &opts));
    let iso = match result {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    for w in &iso.warnings {
        eprintln!("warning: {w}");
    }
    let text = match a.output {
        PolicyFormat::Yaml => isolate::to_yaml(&iso),
        PolicyFormat::Json => serde_json::to_string_pretty(&isolate::to_json(&iso))? + "\n",
    };
    write_output(&a.out, &text)?;
    let left = match isolate::verify(&loaded.objects, &iso) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: verification failed: {e}");
            return Ok(ExitCode::from(EXIT_INPUT));
        }
    };
    for l in &left {
        eprintln!("still allowed: {l}");
    }
    Ok(ExitCode::from(if input_errors {
        EXIT_INPUT
    } else if left.is_empty() {
        0
    } else {
        EXIT_FINDINGS
    }))
}
