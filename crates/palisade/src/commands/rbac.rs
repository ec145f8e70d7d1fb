//! `palisade rbac can-i` and `palisade rbac who-can`: Kubernetes RBAC answered
//! offline from manifests. Flags and printing live here; the semantics are in
//! `palisade-rbac`, where they are tested.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use palisade_model::{load_inputs, AccessRequest, Input, LoadOptions, Object};
use palisade_rbac::{
    build_request, impersonate, load_bootstrap_policy, Rbac, RequestArgs, ResourceTable, Scope,
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
CustomResourceDefinitions. Without -n the namespace is \"default\", as kubectl's.
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
signed in. Without -n the namespace is \"default\"; -A looks at every
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RbacFormat {
    /// Text: the verdict or table, then the grants with their positions
    Table,
    /// JSON, with every binding, role and rule resolved and located
    Json,
}

#[derive(Debug, Args)]
pub struct RbacInputArgs {
    /// Manifests with Roles, ClusterRoles and their bindings: a file or directory
    /// (recursive), repeatable; `-` reads standard input
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "PATH",
        required_unless_present = "bootstrap_policy"
    )]
    pub filenames: Vec<String>,

    /// Also load the default ClusterRoles and ClusterRoleBindings every cluster has
    /// (admin, edit, view, system:*), from manifests of Kubernetes' bootstrap policy
    #[arg(long, value_name = "DIR")]
    pub bootstrap_policy: Option<PathBuf>,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = RbacFormat::Table)]
    pub output: RbacFormat,
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

    /// Namespace of the request [default: default]
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

    /// Namespace of the request [default: default]
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
    }
}

/// The policy from the inputs (after the bootstrap policy, so the inputs can
/// redefine a default role), the resource table, and whether an input failed.
struct Loaded {
    rbac: Rbac,
    table: ResourceTable,
    input_failed: bool,
}

fn load(args: &RbacInputArgs) -> Result<Loaded> {
    let mut objects: Vec<Object> = Vec::new();
    let mut input_failed = false;
    if let Some(dir) = &args.bootstrap_policy {
        let loaded = load_bootstrap_policy(dir)
            .map_err(anyhow::Error::msg)
            .context("--bootstrap-policy")?;
        for error in &loaded.errors {
            eprintln!("{error}");
        }
        input_failed |= !loaded.errors.is_empty();
        objects.extend(loaded.objects);
    }
    let inputs: Vec<Input> = args.filenames.iter().map(|f| Input::parse(f)).collect();
    let loaded = load_inputs(&inputs, &LoadOptions::default());
    for error in &loaded.errors {
        eprintln!("{error}");
    }
    input_failed |= !loaded.errors.is_empty();
    objects.extend(loaded.objects);

    let rbac = Rbac::from_objects(&objects);
    for issue in &rbac.issues {
        eprintln!("warning: {issue}");
    }
    let mut table = ResourceTable::builtin();
    table.add_crds(&objects);
    Ok(Loaded {
        rbac,
        table,
        input_failed,
    })
}

fn request(
    verb: &str,
    resource: &str,
    name: &Option<String>,
    subresource: &Option<String>,
    namespace: &Option<String>,
    all_namespaces: bool,
    table: &ResourceTable,
) -> Result<AccessRequest> {
    let built = build_request(
        &RequestArgs {
            verb: verb.to_string(),
            target: resource.to_string(),
            name: name.clone(),
            subresource: subresource.clone(),
            namespace: namespace.clone(),
            all_namespaces,
        },
        table,
    )
    .map_err(anyhow::Error::msg)?;
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
        let namespace = args.namespace.as_deref().unwrap_or("default");
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
        verb,
        resource,
        &args.name,
        &args.subresource,
        &args.namespace,
        args.all_namespaces,
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
        &args.verb,
        &args.resource,
        &args.name,
        &args.subresource,
        &args.namespace,
        args.all_namespaces,
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
        assert_eq!(a.input.filenames, ["a.yaml", "b/"]);
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
}
