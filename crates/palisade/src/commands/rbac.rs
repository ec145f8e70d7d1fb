//! `palisade rbac can-i`, `who-can`, `risks`, `paths`, `least-privilege`,
//! `unused` and `graph`: Kubernetes RBAC answered offline from manifests (and
//! audit logs). Flags and printing live here; the semantics are in
//! `palisade-rbac`, where they are tested.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use palisade_model::{load_inputs, AccessRequest, Input, LoadOptions, Object, Severity};
use palisade_rbac::{
    build_request, discovery_objects, discovery_policy, generate, impersonate,
    load_bootstrap_policy, parse_audit_log, AuditLog, DotOptions, GenerateOptions, Identity,
    KubernetesVersion, LoggedRequest, Rbac, RequestArgs, ResourceTable, RiskOptions, Scope,
};

/// Exit status when an input could not be read or parsed (the answer is still printed).
const EXIT_INPUT: u8 = 2;

const CAN_I_EXAMPLES: &str = "\
Examples:
  # May the default ServiceAccount of 'web' list secrets there?
  palisade rbac can-i list secrets -n web --as system:serviceaccount:web:default -f k8s/

  # Exec into pods (RESOURCE/SUBRESOURCE), as a user in a group
  palisade rbac can-i create pods/exec -n dev --as alice --as-group dev-team -f rbac/

  # One named object, a grouped resource, a short name
  palisade rbac can-i get secrets db-password -n prod --as bob -f rbac/
  palisade rbac can-i update deployments.apps/scale -n prod --as ci -f rbac/
  palisade rbac can-i delete deploy -n prod --as ci -f rbac/

  # A non-resource URL; a cluster-wide question (-A: ClusterRoleBindings only)
  palisade rbac can-i get /metrics --as prometheus -f rbac/
  palisade rbac can-i list pods -A --as ops -f rbac/

  # Everything a ServiceAccount may do in a namespace, with the cluster's defaults
  palisade rbac can-i --list -n default --as system:serviceaccount:default:default \\
      --bootstrap-policy bootstrap/ -f k8s/

  # Live cluster RBAC, exported
  kubectl get roles,rolebindings,clusterroles,clusterrolebindings -A -o yaml |
      palisade rbac can-i create pods --as alice -n dev -f -

The identity is built as the API server builds an impersonated one: a
system:serviceaccount:NS:NAME user gets system:serviceaccounts and
system:serviceaccounts:NS unless --as-group is given, and every user but
system:anonymous gets system:authenticated (system:anonymous gets
system:unauthenticated).

RESOURCE/SUBRESOURCE: unlike kubectl, where `pods/exec` would mean the pod named
\"exec\", the part after the slash is the subresource; give an object's name as
the third argument. Resource names are resolved from a built-in table of the
Kubernetes resources (kubectl asks the server's discovery) and the input's
CustomResourceDefinitions. Without -n the namespace is the kubeconfig context's with --cluster,
else \"default\", as kubectl's.
A namespace given for a cluster-scoped resource (nodes, clusterroles) is
dropped with a warning: such requests never carry one, so only
ClusterRoleBindings grant them.

Exit codes: 0 yes (or --list done), 1 no, 2 usage error or an input could not be read.";

const WHO_CAN_EXAMPLES: &str = "\
Examples:
  # Who may exec into pods in dev-team-a?
  palisade rbac who-can create pods/exec -n dev-team-a -f rbac/

  # Who may read one secret, in any namespace (RoleBindings of every namespace)?
  palisade rbac who-can get secrets db-password -A -f k8s/

  # Who may read /metrics, with the default ClusterRoleBindings included?
  palisade rbac who-can get /metrics --bootstrap-policy bootstrap/ -f rbac/

  # As JSON, with the positions of every binding and rule
  palisade rbac who-can delete namespaces -f rbac/ -o json

Every subject is listed with the binding (file:line) and the role rule that
grant it. Groups are listed as groups: system:authenticated means everyone
signed in. Without -n the namespace is the kubeconfig context's with --cluster, else
\"default\"; -A looks at every
namespace, and each row says where the permission holds. Non-resource URLs are
only granted by ClusterRoleBindings.

Exit codes: 0 answered, 2 usage error or an input could not be read.";

#[derive(Debug, Subcommand)]
pub enum RbacCommand {
    /// May this user, group or ServiceAccount do this? (kubectl auth can-i, offline)
    #[command(name = "can-i", after_long_help = CAN_I_EXAMPLES)]
    CanI(CanIArgs),
    /// Who may do this? Every subject, with the binding and rule that grant it
    #[command(name = "who-can", after_long_help = WHO_CAN_EXAMPLES)]
    WhoCan(WhoCanArgs),
    /// Risky grants (secrets, exec, escalate, impersonate...) and who holds them
    #[command(after_long_help = RISKS_EXAMPLES)]
    Risks(RisksArgs),
    /// Escalation paths: subject → grant → stronger identity, up to cluster-admin
    #[command(after_long_help = PATHS_EXAMPLES)]
    Paths(PathsArgs),
    /// The minimal Roles and bindings covering what an audit log shows (as audit2rbac)
    #[command(name = "least-privilege", after_long_help = LEAST_PRIVILEGE_EXAMPLES)]
    LeastPrivilege(LeastPrivilegeArgs),
    /// Granted permissions no request of an audit log used
    #[command(after_long_help = UNUSED_EXAMPLES)]
    Unused(UnusedArgs),
    /// Subjects, bindings and roles as a Graphviz dot graph, coloured by risk
    #[command(after_long_help = GRAPH_EXAMPLES)]
    Graph(GraphArgs),
}

const RISKS_EXAMPLES: &str = "\
Examples:
  # Risky grants in a directory of manifests, with who holds each
  palisade rbac risks -f k8s/

  # With the cluster's default roles (admin, edit, view...) resolved; fail CI on high
  palisade rbac risks -f rbac/ --bootstrap-policy bootstrap/ --fail-on high

  # As JSON, or as a graph of subjects, bindings and roles coloured by risk
  palisade rbac risks -f rbac/ -o json
  palisade rbac risks -f rbac/ -o dot | dot -Tsvg > rbac.svg

  # For a 1.35 cluster, where `get` alone no longer opens pods/exec
  palisade rbac risks -f rbac/ --kubernetes-version 1.35

  # The live cluster's RBAC, judged as its server's version (GET /version)
  palisade rbac risks --cluster

Each risk is a documented check (palisade explain rbac-risk/read-secrets).
A rule is reported with the bindings that hold it in scope: a RoleBinding
grants namespaced resources in its namespace only and never cluster-scoped
ones (nodes/proxy, webhooks, impersonating users). A role nothing binds is
reported as latent; the bootstrap policy's own roles and bindings only when
a binding of the input grants them. Without --kubernetes-version, the
version is the live cluster's (--cluster) or the one a `palisade snapshot`
YAML file records, and is printed on standard error; when none is known,
`get` on pods/exec, attach and portforward is reported as clusters before
1.35 honour it (a WebSocket upgrade needs only `get` there).

Exit codes: 0 done (no risk at or above --fail-on), 1 a risk at or above
--fail-on, 2 usage error or an input could not be read.";

const PATHS_EXAMPLES: &str = "\
Examples:
  # Every escalation path of the policy
  palisade rbac paths -f rbac/

  # From one subject (a user, group, or system:serviceaccount:NS:NAME)
  palisade rbac paths -f rbac/ --from alice
  palisade rbac paths -f rbac/ --from system:serviceaccount:ci:deployer -o json

A path is reported when it ends at cluster-admin or at a ServiceAccount
holding a more severe risk than where it started: creating Pods, Secrets or
tokens, exec and ServiceAccount impersonation lead to the namespace's
ServiceAccounts; nodes/proxy and admission webhooks to every ServiceAccount;
* on *.* cluster-wide, escalate or bind on ClusterRoles, impersonating
groups, or approving client certificates to cluster-admin.

Exit codes: 0 done, 2 usage error or an input could not be read.";

const LEAST_PRIVILEGE_EXAMPLES: &str = "\
Examples:
  # The roles alice needs, from the API server's audit log
  palisade rbac least-privilege --audit-log audit.log --user alice > alice-rbac.yaml

  # For a ServiceAccount, one namespace's events only, never widened to all names
  palisade rbac least-privilege --audit-log audit.log --serviceaccount ci:deployer \\
      -n ci --expand-multi-name=false

  # Skip what the current policy already allows
  palisade rbac least-privilege --audit-log audit.log --user bob -f rbac/
  palisade rbac least-privilege --audit-log audit.log --user bob --cluster

Requests are covered as audit2rbac covers them: a namespaced Role per
namespace and a ClusterRole for cluster-wide and non-resource requests; the
same operation in several namespaces (on several names) is allowed in every
namespace (on every name) unless --expand-multi-namespace=false
(--expand-multi-name=false); list, watch, update and patch bring the verbs
clients use with them (get, list, watch; get, patch, update). Requests the
discovery role every cluster has (or -f) allows are not generated. The audit
log is JSON (one event per line, as the log backend writes it).

Exit codes: 0 done, 1 no event of that user, 2 usage error or an input could
not be read.";

const UNUSED_EXAMPLES: &str = "\
Examples:
  # Bindings and rules of the policy no request of the log used
  palisade rbac unused --audit-log audit.log -f rbac/

  # As JSON, including the bootstrap policy's own bindings
  palisade rbac unused --audit-log audit.log -f rbac/ --bootstrap-policy bootstrap/ \\
      --include-defaults -o json

Every request is decided against the policy; every rule that allows it is
marked used, with the verbs and resources it was used for. Reported are the
bindings none of whose rules was used (and whether their subjects made any
request at all), and for used rules the verbs and resources never used. The
answer is only as good as the log window.

Exit codes: 0 done, 2 usage error or an input could not be read.";

const GRAPH_EXAMPLES: &str = "\
Examples:
  palisade rbac graph -f rbac/ | dot -Tsvg > rbac.svg
  palisade rbac graph -f rbac/ -n shop --bootstrap-policy bootstrap/ --include-defaults

Subjects (users, groups, ServiceAccounts) point to the bindings naming them,
bindings to the role they grant. Roles are filled by the most severe risk
they give (red critical, orange high, yellow medium); edges to bindings that
hold a high or critical risk are drawn bold.

Exit codes: 0 done, 2 usage error or an input could not be read.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RbacFormat {
    /// Text: the verdict or table, then the grants with their positions
    Table,
    /// JSON, with every binding, role and rule resolved and located
    Json,
}

#[derive(Debug, Args)]
pub struct RbacInputArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = RbacFormat::Table)]
    pub output: RbacFormat,
}

/// The policy to analyse.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Manifests with Roles, ClusterRoles and their bindings: a file or directory
    /// (recursive), repeatable; `-` reads standard input
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "PATH",
        required_unless_present_any = ["bootstrap_policy", "cluster", "kubeconfig", "context"]
    )]
    pub filenames: Vec<String>,

    /// Also load the default ClusterRoles and ClusterRoleBindings every cluster has
    /// (admin, edit, view, system:*), from manifests of Kubernetes' bootstrap policy
    #[arg(long, value_name = "DIR")]
    pub bootstrap_policy: Option<PathBuf>,

    #[command(flatten)]
    pub cluster: super::cluster_input::ClusterArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RisksFormat {
    /// One risk per entry: severity, check, position, then what and who
    Table,
    /// JSON, with every role, binding, rule and holder resolved and located
    Json,
    /// A Graphviz dot graph of subjects, bindings and roles, coloured by risk
    Dot,
}

#[derive(Debug, Args)]
pub struct RisksArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = RisksFormat::Table)]
    pub output: RisksFormat,

    /// Report only risks of this severity or higher
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub min_severity: Option<Severity>,

    /// Exit 1 when a risk of this severity or higher is found, as `palisade scan` [default: low]
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    #[command(flatten)]
    pub kubernetes_version: super::cluster_input::KubernetesVersionArg,
}

fn parse_severity(s: &str) -> std::result::Result<Severity, String> {
    s.parse()
}

/// The risk checks' options: the version given, else the one the live
/// cluster reports or a snapshot among the inputs records (said on standard error).
fn risk_options(given: Option<KubernetesVersion>, loaded: &Loaded) -> RiskOptions {
    RiskOptions {
        kubernetes_version: super::cluster_input::kubernetes_version(
            given,
            &loaded.recorded_versions,
        ),
    }
}

#[derive(Debug, Args)]
pub struct PathsArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Only paths starting at this subject: a user or group name, or
    /// system:serviceaccount:NAMESPACE:NAME
    #[arg(long, value_name = "SUBJECT")]
    pub from: Option<String>,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = RbacFormat::Table)]
    pub output: RbacFormat,

    #[command(flatten)]
    pub kubernetes_version: super::cluster_input::KubernetesVersionArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GeneratedFormat {
    /// Kubernetes manifests, ready for kubectl apply
    Yaml,
    /// A JSON List of the same objects
    Json,
}

#[derive(Debug, Args)]
pub struct LeastPrivilegeArgs {
    /// Kubernetes audit log (JSON events, one per line); `-` reads standard input
    #[arg(long, value_name = "FILE")]
    pub audit_log: String,

    /// The user to generate roles for
    #[arg(
        long,
        value_name = "USER",
        required_unless_present = "serviceaccount",
        conflicts_with = "serviceaccount"
    )]
    pub user: Option<String>,

    /// The ServiceAccount to generate roles for, as NAMESPACE:NAME
    #[arg(long, value_name = "NAMESPACE:NAME")]
    pub serviceaccount: Option<String>,

    /// Only events in this namespace
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Allow an operation seen in more than one namespace in every namespace
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub expand_multi_namespace: bool,

    /// Allow an operation seen on more than one name on every name
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub expand_multi_name: bool,

    /// Name of the generated objects [default: palisade:USER]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The policy in place: requests it already allows are not generated
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<String>,

    /// The policy in place, read from the live cluster (--cluster, --kubeconfig, --context)
    #[command(flatten)]
    pub cluster: super::cluster_input::ClusterArgs,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = GeneratedFormat::Yaml)]
    pub output: GeneratedFormat,
}

#[derive(Debug, Args)]
pub struct UnusedArgs {
    /// Kubernetes audit log (JSON events, one per line); `-` reads standard input
    #[arg(long, value_name = "FILE")]
    pub audit_log: String,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Also report the bootstrap policy's own bindings
    #[arg(long)]
    pub include_defaults: bool,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = RbacFormat::Table)]
    pub output: RbacFormat,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Only this namespace's RoleBindings (and the ClusterRoleBindings)
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Also draw the bootstrap policy's own roles and bindings
    #[arg(long)]
    pub include_defaults: bool,

    #[command(flatten)]
    pub kubernetes_version: super::cluster_input::KubernetesVersionArg,
}

#[derive(Debug, Args)]
pub struct CanIArgs {
    /// The verb: get, list, watch, create, update, patch, delete, deletecollection,
    /// impersonate, bind, escalate, use, or *
    #[arg(value_name = "VERB", required_unless_present = "list")]
    pub verb: Option<String>,

    /// RESOURCE, RESOURCE/SUBRESOURCE (pods/exec), RESOURCE.GROUP (deployments.apps),
    /// a short name (po, deploy, svc, cm, sa), *, or a non-resource URL starting with /
    #[arg(value_name = "RESOURCE", required_unless_present = "list")]
    pub resource: Option<String>,

    /// The name of one object
    #[arg(value_name = "NAME")]
    pub name: Option<String>,

    /// The subresource, as kubectl spells it (same as RESOURCE/SUBRESOURCE)
    #[arg(long, value_name = "SUBRESOURCE")]
    pub subresource: Option<String>,

    /// Namespace of the request [default: the context's with --cluster, else default]
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Ask cluster-wide (all namespaces at once): only ClusterRoleBindings count
    #[arg(short = 'A', long = "all-namespaces", conflicts_with = "namespace")]
    pub all_namespaces: bool,

    /// The user to check: a name, or system:serviceaccount:NAMESPACE:NAME
    #[arg(long = "as", value_name = "USER")]
    pub as_user: String,

    /// A group of the user (repeatable); for a ServiceAccount, replaces its own groups
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_groups: Vec<String>,

    /// List everything the user may do in the namespace, as kubectl auth can-i --list
    #[arg(long, conflicts_with_all = ["verb", "resource", "name", "subresource", "all_namespaces"])]
    pub list: bool,

    /// Print nothing; only the exit code answers
    #[arg(short = 'q', long, conflicts_with = "list")]
    pub quiet: bool,

    #[command(flatten)]
    pub input: RbacInputArgs,
}

#[derive(Debug, Args)]
pub struct WhoCanArgs {
    /// The verb: get, list, create, delete, impersonate, bind, escalate, *, ...
    #[arg(value_name = "VERB")]
    pub verb: String,

    /// RESOURCE, RESOURCE/SUBRESOURCE (pods/exec), RESOURCE.GROUP, a short name, or a
    /// non-resource URL starting with /
    #[arg(value_name = "RESOURCE")]
    pub resource: String,

    /// The name of one object
    #[arg(value_name = "NAME")]
    pub name: Option<String>,

    /// The subresource, as kubectl spells it (same as RESOURCE/SUBRESOURCE)
    #[arg(long, value_name = "SUBRESOURCE")]
    pub subresource: Option<String>,

    /// Namespace of the request [default: the context's with --cluster, else default]
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Look in every namespace: ClusterRoleBindings and all RoleBindings
    #[arg(short = 'A', long = "all-namespaces", conflicts_with = "namespace")]
    pub all_namespaces: bool,

    #[command(flatten)]
    pub input: RbacInputArgs,
}

/// Runs an `rbac` subcommand.
pub fn run(cmd: &RbacCommand) -> Result<ExitCode> {
    match cmd {
        RbacCommand::CanI(args) => can_i(args),
        RbacCommand::WhoCan(args) => who_can(args),
        RbacCommand::Risks(args) => risks(args),
        RbacCommand::Paths(args) => paths(args),
        RbacCommand::LeastPrivilege(args) => least_privilege(args),
        RbacCommand::Unused(args) => unused(args),
        RbacCommand::Graph(args) => graph(args),
    }
}

/// The policy from the inputs (after the bootstrap policy, so the inputs can
/// redefine a default role), the resource table, and whether an input failed.
struct Loaded {
    rbac: Rbac,
    table: ResourceTable,
    input_failed: bool,
    /// The server versions the inputs record (a live cluster's, a snapshot file's).
    recorded_versions: Vec<(String, String)>,
    /// With `--cluster`, the kubeconfig context's namespace: what `-n` defaults
    /// to, as in `kubectl auth can-i` (files have no context: `default`).
    context_namespace: Option<String>,
}

impl Loaded {
    /// `-n` as given, else the context's namespace with `--cluster`.
    fn namespace(&self, given: &Option<String>) -> Option<String> {
        given.clone().or_else(|| self.context_namespace.clone())
    }
}

fn load(args: &RbacInputArgs) -> Result<Loaded> {
    load_policy(
        &args.policy.filenames,
        &args.policy.bootstrap_policy,
        Some(&args.policy.cluster),
        false,
    )
    .map(|(loaded, _)| loaded)
}

/// The policy and the objects it was built from; with `server_version`, the
/// live cluster's version is read too (for the checks that depend on it).
fn load_policy(
    filenames: &[String],
    bootstrap_policy: &Option<PathBuf>,
    cluster: Option<&super::cluster_input::ClusterArgs>,
    server_version: bool,
) -> Result<(Loaded, Vec<Object>)> {
    let mut objects: Vec<Object> = Vec::new();
    let mut input_failed = false;
    let mut context_namespace = None;
    if let Some(dir) = bootstrap_policy {
        let loaded = load_bootstrap_policy(dir)
            .map_err(anyhow::Error::msg)
            .context("--bootstrap-policy")?;
        for error in &loaded.errors {
            eprintln!("{error}");
        }
        input_failed |= !loaded.errors.is_empty();
        objects.extend(loaded.objects);
    }
    let inputs: Vec<Input> = filenames.iter().map(|f| Input::parse(f)).collect();
    let loaded = load_inputs(&inputs, &LoadOptions::default());
    for error in &loaded.errors {
        eprintln!("{error}");
    }
    input_failed |= !loaded.errors.is_empty();
    let mut recorded_versions = super::cluster_input::recorded_server_versions(&loaded);
    objects.extend(loaded.objects);
    // A live cluster brings its default roles too: no --bootstrap-policy needed.
    if let Some(cluster) = cluster.filter(|c| c.enabled()) {
        let live = super::cluster_input::rbac_objects(cluster, server_version)?;
        for error in &live.loaded.errors {
            eprintln!("{error}");
        }
        input_failed |= !live.loaded.errors.is_empty();
        recorded_versions.extend(live.server_version);
        context_namespace = Some(live.default_namespace);
        objects.extend(live.loaded.objects);
    }

    let rbac = Rbac::from_objects(&objects);
    for issue in &rbac.issues {
        eprintln!("warning: {issue}");
    }
    let mut table = ResourceTable::builtin();
    table.add_crds(&objects);
    Ok((
        Loaded {
            rbac,
            table,
            input_failed,
            recorded_versions,
            context_namespace,
        },
        objects,
    ))
}

fn exit_status(input_failed: bool) -> ExitCode {
    ExitCode::from(if input_failed { EXIT_INPUT } else { 0 })
}

fn risks(args: &RisksArgs) -> Result<ExitCode> {
    let (loaded, _) = load_policy(
        &args.policy.filenames,
        &args.policy.bootstrap_policy,
        Some(&args.policy.cluster),
        args.kubernetes_version.version.is_none(),
    )?;
    let rbac = &loaded.rbac;
    let mut risks = rbac.risks_with(&risk_options(args.kubernetes_version.version, &loaded));
    if let Some(min) = args.min_severity {
        risks.retain(|r| r.severity >= min);
    }
    let mut out = std::io::stdout().lock();
    match args.output {
        RisksFormat::Table => out.write_all(rbac.risks_table(&risks).as_bytes())?,
        RisksFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rbac.risks_json(&risks))?;
            writeln!(out)?;
        }
        RisksFormat::Dot => {
            out.write_all(rbac.dot(&risks, &DotOptions::default()).as_bytes())?;
        }
    }
    if loaded.input_failed {
        return Ok(ExitCode::from(EXIT_INPUT));
    }
    let threshold = args.fail_on.unwrap_or(Severity::Low);
    let failed = risks.iter().any(|r| r.severity >= threshold);
    Ok(ExitCode::from(u8::from(failed)))
}

/// Whether `identity` is the subject `--from` names.
fn is_subject(identity: &Identity, from: &str) -> bool {
    match identity {
        Identity::User { name } | Identity::Group { name } => name == from,
        Identity::ServiceAccount { namespace, name } => {
            from == format!("system:serviceaccount:{namespace}:{name}")
                || from == format!("{namespace}:{name}")
        }
        Identity::ClusterAdmin => false,
    }
}

fn paths(args: &PathsArgs) -> Result<ExitCode> {
    let (loaded, _) = load_policy(
        &args.policy.filenames,
        &args.policy.bootstrap_policy,
        Some(&args.policy.cluster),
        args.kubernetes_version.version.is_none(),
    )?;
    let rbac = &loaded.rbac;
    let mut paths =
        rbac.escalation_paths_with(&risk_options(args.kubernetes_version.version, &loaded));
    if let Some(from) = &args.from {
        paths.retain(|p| is_subject(&p.start, from));
    }
    let mut out = std::io::stdout().lock();
    match args.output {
        RbacFormat::Table => {
            if paths.is_empty() {
                writeln!(out, "No escalation path found.")?;
            } else {
                out.write_all(rbac.paths_text(&paths).as_bytes())?;
                let admin = paths.iter().filter(|p| p.cluster_admin).count();
                writeln!(
                    out,
                    "{} path(s), {admin} reaching cluster-admin",
                    paths.len()
                )?;
            }
        }
        RbacFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rbac.paths_json(&paths))?;
            writeln!(out)?;
        }
    }
    Ok(exit_status(loaded.input_failed))
}

/// Reads an audit log from a file or `-` (standard input).
fn read_audit_log(path: &str) -> Result<AuditLog> {
    let text = if path == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text)
            .context("reading the audit log from standard input")?;
        text
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading audit log {path}"))?
    };
    let log = parse_audit_log(path, &text);
    for error in &log.errors {
        eprintln!("{error}");
    }
    Ok(log)
}

fn least_privilege(args: &LeastPrivilegeArgs) -> Result<ExitCode> {
    let username = match (&args.user, &args.serviceaccount) {
        (Some(user), _) => user.clone(),
        (None, Some(sa)) => match sa.split_once(':') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains(':') => {
                format!("system:serviceaccount:{ns}:{name}")
            }
            _ => anyhow::bail!("--serviceaccount must be NAMESPACE:NAME, got {sa:?}"),
        },
        (None, None) => anyhow::bail!("give --user or --serviceaccount"),
    };
    let log = read_audit_log(&args.audit_log)?;
    let mut input_failed = !log.errors.is_empty();
    let requests: Vec<LoggedRequest> = log
        .of_user(&username)
        .filter(|e| {
            args.namespace.as_deref().is_none_or(|ns| {
                matches!(&e.request, AccessRequest::Resource { namespace, .. } if namespace == ns)
            })
        })
        .map(|e| LoggedRequest::new(e.user.clone(), &e.request, &e.api_version))
        .collect();
    if requests.is_empty() {
        let mut message = format!("No audit events matched user {username}");
        if let Some(ns) = &args.namespace {
            message.push_str(&format!(" in namespace {ns}"));
        }
        eprintln!("{message}");
        return Ok(ExitCode::from(if input_failed { EXIT_INPUT } else { 1 }));
    }
    let existing = if args.filenames.is_empty() && !args.cluster.enabled() {
        discovery_policy()
    } else {
        let (loaded, mut objects) =
            load_policy(&args.filenames, &None, Some(&args.cluster), false)?;
        input_failed |= loaded.input_failed;
        // The discovery role every cluster has.
        objects.extend(discovery_objects());
        Rbac::from_objects(&objects)
    };
    let mut options = GenerateOptions::for_user(&username);
    options.expand_multiple_namespaces_to_cluster_scoped = args.expand_multi_namespace;
    options.expand_multiple_names_to_unnamed = args.expand_multi_name;
    if let Some(name) = &args.name {
        options.name = name.clone();
    }
    let generated = generate(&existing, &requests, &options);
    eprintln!(
        "{} event(s) of {username}; {}",
        requests.len(),
        if generated.is_empty() {
            "all already allowed".to_string()
        } else {
            format!(
                "{} Role(s), {} ClusterRole(s) generated",
                generated.roles.len(),
                generated.cluster_roles.len()
            )
        }
    );
    let mut out = std::io::stdout().lock();
    match args.output {
        GeneratedFormat::Yaml => out.write_all(generated.to_yaml().as_bytes())?,
        GeneratedFormat::Json => {
            let list = serde_json::json!({
                "apiVersion": "v1", "kind": "List", "items": generated.objects(),
            });
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
    }
    Ok(exit_status(input_failed))
}

fn unused(args: &UnusedArgs) -> Result<ExitCode> {
    let (loaded, _) = load_policy(
        &args.policy.filenames,
        &args.policy.bootstrap_policy,
        Some(&args.policy.cluster),
        false,
    )?;
    let log = read_audit_log(&args.audit_log)?;
    let report = loaded.rbac.unused(&log.events, args.include_defaults);
    let mut out = std::io::stdout().lock();
    match args.output {
        RbacFormat::Table => out.write_all(report.table(&loaded.rbac).as_bytes())?,
        RbacFormat::Json => {
            let mut value = serde_json::to_value(&report)?;
            if let Some(items) = value["bindings"].as_array_mut() {
                for item in items {
                    let Some(b) = item["binding"]
                        .as_u64()
                        .and_then(|i| loaded.rbac.bindings.get(i as usize))
                    else {
                        continue;
                    };
                    item["binding"] = serde_json::json!({
                        "kind": b.kind.as_str(), "name": b.name,
                        "namespace": b.namespace, "location": b.location,
                        "roleRef": b.role_ref,
                    });
                }
            }
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
    }
    Ok(exit_status(loaded.input_failed || !log.errors.is_empty()))
}

fn graph(args: &GraphArgs) -> Result<ExitCode> {
    let (loaded, _) = load_policy(
        &args.policy.filenames,
        &args.policy.bootstrap_policy,
        Some(&args.policy.cluster),
        args.kubernetes_version.version.is_none(),
    )?;
    let risks = loaded
        .rbac
        .risks_with(&risk_options(args.kubernetes_version.version, &loaded));
    let options = DotOptions {
        include_defaults: args.include_defaults,
        namespace: args.namespace.clone(),
    };
    std::io::stdout()
        .lock()
        .write_all(loaded.rbac.dot(&risks, &options).as_bytes())?;
    Ok(exit_status(loaded.input_failed))
}

/// The access request `args` describe, with build_request's warnings printed
/// as kubectl prints them.
fn request(args: &RequestArgs, table: &ResourceTable) -> Result<AccessRequest> {
    let built = build_request(args, table).map_err(anyhow::Error::msg)?;
    for warning in &built.warnings {
        eprintln!("Warning: {warning}");
    }
    Ok(built.request)
}

fn can_i(args: &CanIArgs) -> Result<ExitCode> {
    let loaded = load(&args.input)?;
    let user = impersonate(&args.as_user, &args.as_groups);
    let mut out = std::io::stdout().lock();
    if args.list {
        let namespace = loaded.namespace(&args.namespace);
        let namespace = namespace.as_deref().unwrap_or("default");
        let list = loaded.rbac.list(&user, namespace);
        match args.input.output {
            RbacFormat::Table => {
                out.write_all(list.kubectl_table().as_bytes())?;
                for rule in &list.ineffective {
                    eprintln!(
                        "note: {:?} {:?} comes through a RoleBinding, which never grants non-resource URLs ({})",
                        rule.rule.verbs,
                        rule.rule.non_resource_urls,
                        loaded.rbac.grant_reason(&rule.grant)
                    );
                }
                for error in &list.errors {
                    eprintln!("warning: {error}");
                }
            }
            RbacFormat::Json => {
                let mut value = loaded.rbac.list_json(&list);
                value["user"] =
                    serde_json::json!({"username": user.username, "groups": user.groups});
                serde_json::to_writer_pretty(&mut out, &value)?;
                writeln!(out)?;
            }
        }
        return Ok(ExitCode::from(if loaded.input_failed {
            EXIT_INPUT
        } else {
            0
        }));
    }
    let (Some(verb), Some(resource)) = (&args.verb, &args.resource) else {
        anyhow::bail!("you must specify VERB and RESOURCE, or --list");
    };
    let request = request(
        &RequestArgs {
            verb: verb.clone(),
            target: resource.clone(),
            name: args.name.clone(),
            subresource: args.subresource.clone(),
            namespace: args.namespace.clone(),
            default_namespace: loaded.context_namespace.clone(),
            all_namespaces: args.all_namespaces,
        },
        &loaded.table,
    )?;
    let decision = loaded.rbac.can_i(&user, &request);
    if !args.quiet {
        match args.input.output {
            RbacFormat::Table => out.write_all(loaded.rbac.decision_text(&decision).as_bytes())?,
            RbacFormat::Json => {
                let mut value = loaded.rbac.decision_json(&decision);
                value["user"] =
                    serde_json::json!({"username": user.username, "groups": user.groups});
                value["request"] = request_json(&request);
                serde_json::to_writer_pretty(&mut out, &value)?;
                writeln!(out)?;
            }
        }
    }
    Ok(ExitCode::from(
        match (loaded.input_failed, decision.allowed) {
            (true, _) => EXIT_INPUT,
            (false, true) => 0,
            (false, false) => 1,
        },
    ))
}

fn who_can(args: &WhoCanArgs) -> Result<ExitCode> {
    let loaded = load(&args.input)?;
    let request = request(
        &RequestArgs {
            verb: args.verb.clone(),
            target: args.resource.clone(),
            name: args.name.clone(),
            subresource: args.subresource.clone(),
            namespace: args.namespace.clone(),
            default_namespace: loaded.context_namespace.clone(),
            all_namespaces: args.all_namespaces,
        },
        &loaded.table,
    )?;
    let scope = if args.all_namespaces {
        Scope::AllNamespaces
    } else {
        Scope::Request
    };
    let answer = loaded.rbac.who_can(&request, scope);
    let mut out = std::io::stdout().lock();
    match args.input.output {
        RbacFormat::Table => {
            if answer.entries.is_empty() {
                writeln!(out, "No subject can {}.", describe(&request))?;
            } else {
                out.write_all(loaded.rbac.who_can_table(&answer).as_bytes())?;
            }
            for note in &answer.notes {
                eprintln!("note: {note}");
            }
        }
        RbacFormat::Json => {
            let mut value = loaded.rbac.who_can_json(&answer);
            value["request"] = request_json(&request);
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::from(if loaded.input_failed {
        EXIT_INPUT
    } else {
        0
    }))
}

/// `create pods/exec in namespace "dev"`, for the empty answer.
fn describe(request: &AccessRequest) -> String {
    match request {
        AccessRequest::Resource {
            verb,
            group,
            resource,
            subresource,
            namespace,
            name,
        } => {
            let mut s = format!("{verb} {resource}");
            if !group.is_empty() {
                s.push('.');
                s.push_str(group);
            }
            if !subresource.is_empty() {
                s.push('/');
                s.push_str(subresource);
            }
            if !name.is_empty() {
                s.push_str(&format!(" named {name:?}"));
            }
            if namespace.is_empty() {
                s.push_str(" cluster-wide");
            } else {
                s.push_str(&format!(" in namespace {namespace:?}"));
            }
            s
        }
        AccessRequest::NonResource { verb, path } => format!("{verb} {path}"),
    }
}

fn request_json(request: &AccessRequest) -> serde_json::Value {
    match request {
        AccessRequest::Resource {
            verb,
            group,
            resource,
            subresource,
            namespace,
            name,
        } => serde_json::json!({
            "verb": verb, "group": group, "resource": resource,
            "subresource": subresource, "namespace": namespace, "name": name,
        }),
        AccessRequest::NonResource { verb, path } => {
            serde_json::json!({"verb": verb, "nonResourceURL": path})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: RbacCommand,
    }

    #[test]
    fn arguments_parse_as_documented() {
        let cli = Cli::try_parse_from([
            "x",
            "can-i",
            "create",
            "pods/exec",
            "web-0",
            "-n",
            "dev",
            "--as",
            "alice",
            "--as-group",
            "devs",
            "-f",
            "a.yaml",
            "-f",
            "b/",
        ])
        .expect("parses");
        let RbacCommand::CanI(a) = cli.cmd else {
            panic!("can-i")
        };
        assert_eq!(a.name.as_deref(), Some("web-0"));
        assert_eq!(a.input.policy.filenames, ["a.yaml", "b/"]);
        assert!(Cli::try_parse_from(["x", "can-i", "--list", "--as", "a", "-f", "x"]).is_ok());
        assert!(Cli::try_parse_from([
            "x", "can-i", "--list", "get", "pods", "--as", "a", "-f", "x"
        ])
        .is_err());
        assert!(
            Cli::try_parse_from(["x", "can-i", "get", "pods", "-f", "x"]).is_err(),
            "--as is required"
        );
        assert!(
            Cli::try_parse_from(["x", "who-can", "get", "pods", "-A", "-n", "x", "-f", "x"])
                .is_err()
        );
        assert!(
            Cli::try_parse_from(["x", "who-can", "get", "pods"]).is_err(),
            "needs an input"
        );
        assert!(Cli::try_parse_from([
            "x",
            "who-can",
            "get",
            "/healthz",
            "--bootstrap-policy",
            "d"
        ])
        .is_ok());
    }

    #[test]
    fn analysis_subcommands_parse_as_documented() {
        let cli = Cli::try_parse_from([
            "x",
            "risks",
            "-f",
            "a/",
            "-o",
            "json",
            "--fail-on",
            "high",
            "--min-severity",
            "medium",
        ])
        .expect("parses");
        let RbacCommand::Risks(a) = cli.cmd else {
            panic!("risks")
        };
        assert_eq!(a.fail_on, Some(Severity::High));
        assert_eq!(a.min_severity, Some(Severity::Medium));
        assert_eq!(a.output, RisksFormat::Json);
        assert_eq!(a.kubernetes_version.version, None);
        let cli = Cli::try_parse_from(["x", "risks", "-f", "a", "--kubernetes-version", "v1.35.1"])
            .expect("parses");
        let RbacCommand::Risks(a) = cli.cmd else {
            panic!("risks")
        };
        assert_eq!(a.kubernetes_version.version, "1.35".parse().ok());
        let err = Cli::try_parse_from(["x", "risks", "-f", "a", "--kubernetes-version", "latest"])
            .expect_err("not a version");
        assert!(err.to_string().contains("MAJOR.MINOR"), "{err}");
        assert!(Cli::try_parse_from(["x", "risks", "-f", "a", "--fail-on", "severe"]).is_err());
        assert!(
            Cli::try_parse_from(["x", "risks"]).is_err(),
            "needs an input"
        );
        assert!(Cli::try_parse_from(["x", "risks", "-f", "a", "-o", "dot"]).is_ok());

        let cli = Cli::try_parse_from([
            "x",
            "least-privilege",
            "--audit-log",
            "a.log",
            "--serviceaccount",
            "ns:sa",
            "--expand-multi-name=false",
            "-n",
            "ns",
        ])
        .expect("parses");
        let RbacCommand::LeastPrivilege(a) = cli.cmd else {
            panic!("least-privilege")
        };
        assert!(!a.expand_multi_name);
        assert!(a.expand_multi_namespace);
        assert!(a.filenames.is_empty(), "-f is optional");
        assert!(
            Cli::try_parse_from(["x", "least-privilege", "--audit-log", "a"]).is_err(),
            "needs a subject"
        );
        assert!(Cli::try_parse_from([
            "x",
            "least-privilege",
            "--audit-log",
            "a",
            "--user",
            "u",
            "--serviceaccount",
            "n:s"
        ])
        .is_err());

        assert!(Cli::try_parse_from(["x", "unused", "--audit-log", "a", "-f", "p/"]).is_ok());
        assert!(
            Cli::try_parse_from(["x", "unused", "-f", "p/"]).is_err(),
            "needs --audit-log"
        );
        assert!(
            Cli::try_parse_from(["x", "paths", "-f", "p", "--from", "alice", "-o", "json"]).is_ok()
        );
        assert!(
            Cli::try_parse_from(["x", "graph", "-f", "p", "-n", "shop", "--include-defaults"])
                .is_ok()
        );
    }

    #[test]
    fn from_names_service_accounts_both_ways() {
        let sa = Identity::ServiceAccount {
            namespace: "ci".into(),
            name: "deployer".into(),
        };
        assert!(is_subject(&sa, "system:serviceaccount:ci:deployer"));
        assert!(is_subject(&sa, "ci:deployer"));
        assert!(!is_subject(&sa, "deployer"));
        assert!(is_subject(
            &Identity::User {
                name: "alice".into()
            },
            "alice"
        ));
    }
}
