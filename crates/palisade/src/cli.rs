//! Command-line definitions. The command tree and the flags of the first commands live here;
//! newer layers keep their flags next to their glue in `commands/<layer>.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use palisade_model::{Framework, Severity};

const ABOUT: &str = "Defense in depth for Kubernetes in one fast binary";

const LONG_ABOUT: &str = "\
Palisade checks Kubernetes manifests layer by layer: Pod Security Standards with the exact
semantics of the built-in admission plugin, hardening, reliability and secret-hygiene checks,
and admission policies (Gatekeeper, ValidatingAdmissionPolicy) run offline. Every finding is
located at its line and column.

Start with:  palisade scan DIR     (palisade scan --help for more)

Exit codes:
  0  no finding at or above --fail-on
  1  findings at or above --fail-on
  2  usage error, or an input could not be read or parsed (the rest is still analysed)";

#[derive(Debug, Parser)]
#[command(name = "palisade", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan manifests: Pod Security Standards, hardening, reliability, secret and NetworkPolicy checks
    #[command(after_long_help = SCAN_EXAMPLES)]
    Scan(Box<ScanArgs>),
    /// Admission policies offline: Gatekeeper templates and constraints, ValidatingAdmissionPolicies
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Falco-compatible rules on Kubernetes audit events
    Detect(Box<crate::commands::detect::DetectArgs>),
    /// NetworkPolicy connectivity, explanations, diff, coverage and lint
    #[command(subcommand)]
    Netpol(crate::commands::netpol::NetpolCommand),
    /// Kubernetes RBAC offline: can-i, who-can, risks, escalation paths, least privilege
    #[command(subcommand)]
    Rbac(crate::commands::rbac::RbacCommand),
    /// The HTTPS admission webhook: Pod Security, Gatekeeper constraints and
    /// ValidatingAdmissionPolicies enforced at admission, with metrics
    #[command(after_long_help = crate::commands::serve::SERVE_EXAMPLES)]
    Serve(Box<crate::commands::serve::ServeArgs>),
    /// Save the cluster's objects as one file that every command reads
    #[command(after_long_help = crate::commands::snapshot::SNAPSHOT_EXAMPLES)]
    Snapshot(Box<crate::commands::snapshot::SnapshotArgs>),
    /// Pod Security across a cluster: the safe path to enforce=restricted, namespace by namespace
    #[command(subcommand)]
    Pss(crate::commands::pss::PssCommand),
    /// Incident response: quarantine a pod (isolation, evidence, cordon), release it
    #[command(subcommand)]
    Incident(crate::commands::incident::IncidentCommand),
    /// Print manifests that install Palisade in a cluster
    #[command(subcommand)]
    Install(crate::commands::install::InstallCommand),
    /// Write an HTML posture report: findings, Pod Security, NetworkPolicy, RBAC, compliance
    #[command(after_long_help = crate::commands::report::REPORT_EXAMPLES)]
    Report(Box<crate::commands::report::ReportArgs>),
    /// Print shell completions (bash, zsh, fish, powershell, elvish)
    #[command(after_long_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Write man pages, one per command
    #[command(
        after_long_help = "Examples:\n  palisade man | man -l -\n  palisade man --out-dir /usr/local/share/man/man1"
    )]
    Man(ManArgs),
    /// List every rule Palisade checks
    #[command(
        after_long_help = "Examples:\n  palisade rules\n  palisade rules -o json | jq '.[].id'"
    )]
    Rules(RulesArgs),
    /// Print the documentation of a rule: what it finds, why it matters, how to fix it
    #[command(
        after_long_help = "Examples:\n  palisade explain pss/privileged\n  palisade explain input/type"
    )]
    Explain(ExplainArgs),
}

const SCAN_EXAMPLES: &str = "\
Examples:
  # Scan a directory (recursively: *.yaml, *.yml, *.json)
  palisade scan k8s/

  # Rendered charts and kustomizations from standard input
  helm template ./chart | palisade scan -
  kubectl kustomize overlays/prod | palisade scan -

  # Everything in a cluster, as exported YAML
  kubectl get all -A -o yaml | palisade scan -

  # CI: SARIF for GitHub code scanning, fail on high and above
  palisade scan -f k8s/ -o sarif --out palisade.sarif --fail-on high

  # Judge at the baseline level of Kubernetes 1.29
  palisade scan k8s/ --level baseline --pss-version v1.29

  # Objects without a namespace go to 'prod', as with kubectl apply -n prod
  palisade scan k8s/ -n prod

  # NSA/CISA hardening guide: only its rules, with a compliance summary
  palisade scan k8s/ --framework nsa

  # The live cluster (kubeconfig, or the in-cluster service account), or one namespace of it
  palisade scan --cluster
  palisade scan --cluster -n shop --context prod

  # A saved snapshot, offline (palisade snapshot -o cluster.yaml)
  palisade scan cluster.yaml

With --cluster, every kind the checks read is listed from the API server (see `palisade snapshot
--help`); Secrets only with --include-secrets, values redacted. Objects whose controller is also
in the input (a Deployment's ReplicaSets and Pods, matched by uid) are judged through the
controller, where the fix belongs, not once per copy.

Configuration: .palisade.yaml (found upward from the first PATH, or --config FILE) selects rules,
overrides severities and lists exemptions; see docs/configuration.md. Exempted findings are still
reported, marked as exempted, and do not fail the run.";

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// A file or directory to scan (repeatable); `-` reads standard input
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<String>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Exit with 1 when a finding is at or above this severity [default: low]
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Pod Security Standards level used where no Namespace in the input sets one: baseline or
    /// restricted [default: restricted]
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,

    /// Pod Security Standards version (v1.0 .. v1.37, or latest) used where no Namespace sets one
    /// [default: latest]
    #[arg(long = "pss-version", value_name = "VERSION")]
    pub pss_version: Option<String>,

    /// Run only the rules mapped to this framework and print a compliance summary:
    /// nsa (NSA/CISA Kubernetes Hardening Guide), cis (CIS Kubernetes Benchmark), mitre (ATT&CK)
    #[arg(long, value_name = "FRAMEWORK", value_parser = parse_framework)]
    pub framework: Option<Framework>,

    /// Turn a rule off (repeatable; globs such as `reliability/*` work)
    #[arg(long, value_name = "RULE")]
    pub disable: Vec<String>,

    /// Turn an optional rule on (repeatable; globs work)
    #[arg(long, value_name = "RULE")]
    pub enable: Vec<String>,

    /// Configuration file [default: the first .palisade.yaml found upward from the first PATH]
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Do not read any configuration file
    #[arg(long)]
    pub no_config: bool,

    /// Ignore exemption annotations in manifests (palisade.dev/ignore), so that namespace
    /// editors cannot exempt their own objects; the configuration file's exemptions still apply
    #[arg(long)]
    pub no_manifest_exemptions: bool,

    /// Also evaluate these admission policies (files or directories; repeatable): Gatekeeper
    /// templates and constraints, ValidatingAdmissionPolicies and bindings. Their violations
    /// join the findings
    #[arg(long, value_name = "PATH")]
    pub policies: Vec<PathBuf>,

    /// Print how long each phase took to standard error
    #[arg(long, hide = true)]
    pub timings: bool,

    /// Also honour the ignore annotations of kube-score, kube-linter, Checkov and Polaris
    /// (mapped to the Palisade rules that cover the same checks)
    #[arg(long)]
    pub peer_annotations: bool,

    /// Namespace for objects that have none, as `kubectl apply -n` would set it; with
    /// --cluster, the only namespace read
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// With --cluster: every namespace (the default)
    #[arg(short = 'A', long = "all-namespaces", conflicts_with = "namespace")]
    pub all_namespaces: bool,

    #[command(flatten)]
    pub kubernetes_version: crate::commands::cluster_input::KubernetesVersionArg,

    #[command(flatten)]
    pub cluster: crate::commands::cluster_input::ClusterArgs,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the report to this file instead of standard output
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Grouped by file and object, with the offending source line
    Table,
    /// Versioned JSON document (see docs/json-report.md)
    Json,
    /// The JSON document as YAML
    Yaml,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers
    Sarif,
    /// JUnit XML, for CI test reports
    Junit,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Run gator-format test suites (suite.yaml), as `gator verify` does
    #[command(after_long_help = "\
Examples:
  # Every suite.yaml under a policy library
  palisade policy verify library/

  # One suite
  palisade policy verify library/general/requiredlabels/suite.yaml

A directory without suites is checked as a set of templates and constraints: every template
must compile and every constraint must name a template and pass its schema as Gatekeeper's
constraint framework checks it (types, bounds, unknown fields unless legacySchema); the
policy lint's warnings (e.g. Rego that fails open when a reviewed field is missing) are
printed too, without changing the exit code.

Suites run as gator runs them: violations yes|no|N, message regexes, inventory, invalid: true,
skip. Template code that fails at run time counts as a violation carrying the error, as in
Gatekeeper.

Exit codes: 0 every case passed, 1 a case failed, 2 a suite or policy could not be read.")]
    Verify(PolicyVerifyArgs),
    /// Which objects violate which policies, as `gator test` does
    #[command(after_long_help = "\
Examples:
  palisade policy test -p policies/ k8s/
  helm template ./chart | palisade policy test -p policies/ -
  palisade policy test -p policies/ k8s/ -o sarif --out policies.sarif

Policies come from -p: Gatekeeper ConstraintTemplates and Constraints, and
ValidatingAdmissionPolicies with their bindings (parameter objects may be in either place). The
manifests are both what is reviewed (as a CREATE) and the inventory (data.inventory). A template
whose code fails on an object (e.g. a Rego conflict on duplicate container names) gives a
violation of its constraint carrying the error, as Gatekeeper's audit reports it. Policy lint
warnings go to standard error. Exit codes: 0 no violation at or above
--fail-on, 1 violations, 2 usage or input errors.")]
    Test(PolicyTestArgs),
    /// Every existing object against the loaded constraints and VAPs, with totals per
    /// constraint (Gatekeeper's audit)
    #[command(after_long_help = crate::commands::policy::AUDIT_EXAMPLES)]
    Audit(crate::commands::policy::PolicyAuditArgs),
}

#[derive(Debug, Args)]
pub struct PolicyVerifyArgs {
    /// Suite files, or directories searched for suite.yaml (recursively)
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Which template code runs: rego, cel (K8sNativeValidation blocks; templates without one
    /// are skipped), or all (each suite with both)
    #[arg(long, value_enum, default_value_t = EngineChoice::Rego)]
    pub engine: EngineChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineChoice {
    Rego,
    Cel,
    All,
}

#[derive(Debug, Args)]
pub struct PolicyTestArgs {
    /// Manifests to review; `-` reads standard input
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// A manifest file or directory (repeatable); `-` reads standard input
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<String>,

    /// Gatekeeper templates and constraints, ValidatingAdmissionPolicies and their bindings
    /// (files or directories; repeatable)
    #[arg(short = 'p', long = "policies", value_name = "PATH", required = true)]
    pub policies: Vec<PathBuf>,

    /// More objects for data.inventory (referential templates), not themselves reviewed
    /// (files or directories; repeatable), e.g. a `palisade`-readable cluster export
    #[arg(long, value_name = "PATH")]
    pub inventory: Vec<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Exit with 1 when a violation is at or above this severity (deny: high, warn: medium,
    /// dryrun: info) [default: low]
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Namespace for objects that have none, as `kubectl apply -n` would set it
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    /// A Markdown table (the README's rule list is generated with it)
    Markdown,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule id, as shown in findings (e.g. pss/privileged)
    pub rule: String,
}

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  palisade completions bash > /etc/bash_completion.d/palisade
  palisade completions zsh > \"${fpath[1]}/_palisade\"
  palisade completions fish > ~/.config/fish/completions/palisade.fish

As a kubectl plugin, install the binary (or a link to it) as `kubectl-palisade` on the PATH:
`kubectl palisade scan k8s/` then runs `palisade scan k8s/`.";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write palisade.1 and one palisade-COMMAND.1 per command here, instead of printing
    /// palisade.1 to standard output
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// The name the binary is run under when kubectl runs it as a plugin
/// (`kubectl palisade ...` runs `kubectl-palisade ...`).
pub const KUBECTL_PLUGIN_NAME: &str = "kubectl-palisade";

/// The command tree, named as the user typed it: `kubectl palisade` when run
/// as a kubectl plugin, so that usage lines and help read the way it was invoked.
pub fn command_for(argv0: Option<&std::ffi::OsStr>) -> clap::Command {
    use clap::CommandFactory;
    let command = Cli::command();
    let invoked = argv0
        .and_then(|a| std::path::Path::new(a).file_stem())
        .and_then(|s| s.to_str());
    if invoked == Some(KUBECTL_PLUGIN_NAME) {
        command.bin_name("kubectl palisade")
    } else {
        command
    }
}

/// `palisade completions SHELL`. Generated into memory first: clap_complete
/// panics when its writer fails, and `| head` closes the pipe.
pub fn completions(args: &CompletionsArgs, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut command = command_for(None);
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "palisade", &mut script);
    out.write_all(&script)
}

/// `palisade man`: the main page to standard output, or every page into a directory.
pub fn man(args: &ManArgs, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let command = command_for(None);
    match &args.out_dir {
        None => clap_mangen::Man::new(command).render(out),
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(command, dir)
        }
    }
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_framework(s: &str) -> Result<Framework, String> {
    s.parse()
}
