//! `palisade pss plan`: the plan is `palisade_pss::plan`'s; here it is read
//! from files, a snapshot or the cluster, and printed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use palisade_model::{load_inputs, Input, LoadOptions};
use palisade_pss::plan::{plan, NamespacePlan, PlanOptions, PodVerdict};

use super::cluster_input::ClusterArgs;

const PLAN_EXAMPLES: &str = "\
Examples:
  # The live cluster (pods and namespaces only are read)
  palisade pss plan --cluster

  # A snapshot, offline
  palisade snapshot -o cluster.yaml && palisade pss plan cluster.yaml

  # Judged at Kubernetes 1.30's rules, with the versions pinned in the labels; as JSON
  palisade pss plan cluster.yaml --pss-version v1.30 -o json

For each namespace: the strictest Pod Security level all its running pods already satisfy
(judged exactly as the admission plugin judges them), the pods the next level would reject
with the plugin's reasons, and the `kubectl label` that takes the next safe step: enforce the
level already satisfied (never lowering the current one), warn and audit at the next, so new
violations show up before they are enforced. Fix the listed pods (their controllers), run the
plan again, and repeat until every namespace enforces restricted. `kubectl label --dry-run=server`
makes the API server list the same pods as warnings, without changing anything.

Pods in a terminal phase (Succeeded, Failed) are not counted. Running pods that the namespace's
current enforce level rejects (admitted before the label, or exempt) are listed too: they would
not be admitted again.

Exit codes: 0 planned, 2 usage error or an input could not be read.";

#[derive(Debug, Subcommand)]
pub enum PssCommand {
    /// Per namespace: the strictest level its pods satisfy, what breaks next, the kubectl label
    #[command(after_long_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Manifests or snapshots with Pods and Namespaces; `-` reads standard input
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// A file or directory (repeatable); `-` reads standard input
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<String>,

    /// Only this namespace (with --cluster, the only one read)
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Every namespace (the default)
    #[arg(short = 'A', long = "all-namespaces", conflicts_with = "namespace")]
    pub all_namespaces: bool,

    /// Pod Security version pods are judged at (v1.0 .. v1.37, latest); a v1.x version is also
    /// pinned in the recommended labels
    #[arg(long = "pss-version", value_name = "VERSION", default_value = "latest")]
    pub pss_version: String,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = PlanFormat::Text)]
    pub output: PlanFormat,

    /// Write to this file instead of standard output
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub fn run(command: &PssCommand) -> Result<ExitCode> {
    match command {
        PssCommand::Plan(args) => run_plan(args),
    }
}

fn run_plan(args: &PlanArgs) -> Result<ExitCode> {
    let version = args
        .pss_version
        .parse()
        .map_err(|e| anyhow!("--pss-version: {e}"))?;
    let inputs: Vec<Input> = args
        .paths
        .iter()
        .chain(&args.filenames)
        .map(|p| Input::parse(p))
        .collect();
    if inputs.is_empty() && !args.cluster.enabled() {
        bail!("nothing to plan: give manifests or a snapshot (PATH, -f PATH, -), or --cluster");
    }
    let mut loaded = load_inputs(&inputs, &LoadOptions::default());
    if args.cluster.enabled() {
        let scope = match &args.namespace {
            Some(ns) => palisade_cluster::snapshot::Scope::Namespace(ns.clone()),
            None => palisade_cluster::snapshot::Scope::All,
        };
        let cluster =
            super::cluster_input::load(&args.cluster, scope, Some(&["Namespace", "Pod"]))?;
        super::cluster_input::absorb(&mut loaded, cluster);
    }
    for error in &loaded.errors {
        eprintln!("error: {}: {}", error.file, error.message);
    }
    let mut plans = plan(&loaded.objects, PlanOptions { version });
    if let Some(ns) = &args.namespace {
        plans.retain(|p| &p.namespace == ns);
    }
    if plans.is_empty() {
        eprintln!("warning: no Pod and no Namespace in the input: nothing to plan (pss plan judges running pods; `palisade snapshot` or `kubectl get ns,pods -A -o yaml` exports them)");
    }
    let text = match args.output {
        PlanFormat::Text => render_text(&plans, &args.pss_version),
        PlanFormat::Json => {
            let mut t = serde_json::to_string_pretty(&to_json(&plans))?;
            t.push('\n');
            t
        }
    };
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::from(if loaded.errors.is_empty() {
        0
    } else {
        crate::EXIT_USAGE
    }))
}

fn pod_line(p: &PodVerdict) -> String {
    match &p.owner {
        Some(owner) => format!("{} ({owner}): {}", p.name, p.detail),
        None => format!("{}: {}", p.name, p.detail),
    }
}

fn render_text(plans: &[NamespacePlan], version: &str) -> String {
    let mut out = String::new();
    let width = plans
        .iter()
        .map(|p| p.namespace.len())
        .max()
        .unwrap_or(9)
        .max(9);
    out.push_str(&format!(
        "{:<width$}  {:>4}  {:<10}  {:<10}  {:<10}  {}\n",
        "NAMESPACE", "PODS", "ENFORCES", "SATISFIES", "NEXT", "BLOCKING"
    ));
    for p in plans {
        out.push_str(&format!(
            "{:<width$}  {:>4}  {:<10}  {:<10}  {:<10}  {}\n",
            p.namespace,
            p.pods,
            p.current.enforce.level.as_str(),
            p.satisfied.as_str(),
            p.next.map_or("-", |l| l.as_str()),
            p.blocking.len()
        ));
    }
    for p in plans {
        out.push('\n');
        out.push_str(&format!(
            "{}: {} running pod{} satisfy {} (Pod Security {version})",
            p.namespace,
            p.pods,
            if p.pods == 1 { "" } else { "s" },
            p.satisfied
        ));
        if !p.namespace_known {
            out.push_str("; the Namespace object is not in the input, its labels are unknown");
        }
        out.push('\n');
        for e in &p.label_errors {
            out.push_str(&format!("  label error: {e}\n"));
        }
        if !p.violating_enforce.is_empty() {
            out.push_str(&format!(
                "  {} running pod(s) violate the enforced level {} (admitted before the label, or exempt):\n",
                p.violating_enforce.len(),
                p.current.enforce
            ));
            for v in &p.violating_enforce {
                out.push_str(&format!("    {}\n", pod_line(v)));
            }
        }
        if let Some(next) = p.next {
            if p.blocking.is_empty() {
                out.push_str(&format!("  nothing would break at {next}\n"));
            } else {
                out.push_str(&format!("  would break at {next}:\n"));
                for v in &p.blocking {
                    out.push_str(&format!("    {}\n", pod_line(v)));
                }
            }
        }
        match p.command() {
            Some(command) => out.push_str(&format!("  next step: {command}\n")),
            None if p.done() => out.push_str("  done: enforces restricted\n"),
            None => out.push_str("  next step: fix the pods above, then plan again\n"),
        }
    }
    out
}

fn verdict_json(v: &PodVerdict) -> serde_json::Value {
    serde_json::json!({"pod": v.name, "owner": v.owner, "reasons": v.reasons, "detail": v.detail})
}

fn to_json(plans: &[NamespacePlan]) -> serde_json::Value {
    serde_json::json!({
        "namespaces": plans.iter().map(|p| serde_json::json!({
            "namespace": p.namespace,
            "namespaceKnown": p.namespace_known,
            "currentLabels": p.current_labels,
            "enforces": p.current.enforce.to_string(),
            "pods": p.pods,
            "satisfies": p.satisfied.as_str(),
            "next": p.next.map(|l| l.as_str()),
            "blocking": p.blocking.iter().map(verdict_json).collect::<Vec<_>>(),
            "violatingEnforce": p.violating_enforce.iter().map(verdict_json).collect::<Vec<_>>(),
            "labels": p.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<std::collections::BTreeMap<_, _>>(),
            "command": p.command(),
            "labelErrors": p.label_errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: PssCommand,
    }

    const SNAPSHOT: &str = "\
# palisade snapshot of context test
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: shop
spec:
  containers:
  - name: app
    image: web
";

    #[test]
    fn plans_from_a_snapshot_file() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("cluster.yaml");
        std::fs::write(&input, SNAPSHOT).unwrap();
        let out = dir.path().join("plan.json");
        let cli = Cli::try_parse_from([
            "x",
            "plan",
            input.to_str().unwrap(),
            "-o",
            "json",
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(run(&cli.command).unwrap(), ExitCode::from(0));
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let shop = &value["namespaces"][0];
        assert_eq!(shop["namespace"], "shop");
        assert_eq!(shop["satisfies"], "baseline");
        assert_eq!(shop["blocking"][0]["pod"], "web-1");
        assert_eq!(
            shop["command"],
            "kubectl label --overwrite namespace shop pod-security.kubernetes.io/enforce=baseline pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/audit=restricted"
        );
        let text = render_text(
            &plan(
                &load_inputs(&[Input::Path(input)], &LoadOptions::default()).objects,
                PlanOptions::default(),
            ),
            "latest",
        );
        assert!(
            text.contains(
                "would break at restricted:\n    web-1: allowPrivilegeEscalation != false"
            ),
            "{text}"
        );
    }

    #[test]
    fn plans_from_the_cluster() {
        use palisade_cluster::testing::FakeApiServer;
        let server = FakeApiServer::start();
        {
            let mut s = server.state();
            s.add(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}));
            s.add(serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
                "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": true}}]}}));
        }
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = server.kubeconfig(dir.path());
        let out = dir.path().join("plan.txt");
        let cli = Cli::try_parse_from([
            "x",
            "plan",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(run(&cli.command).unwrap(), ExitCode::from(0));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.contains("1 running pod(s) violate the enforced level baseline:latest"),
            "{text}"
        );
        assert!(
            text.contains(
                "p: privileged (container \"c\" must not set securityContext.privileged=true)"
            ),
            "{text}"
        );
        // Only Pods and Namespaces were listed.
        let mut listed: Vec<String> = server
            .state()
            .requests
            .iter()
            .map(|r| r.path.clone())
            .filter(|p| p != "/apis")
            .collect();
        listed.sort();
        assert_eq!(listed, ["/api/v1/namespaces", "/api/v1/pods"]);

        // -n: that namespace alone is read (the Namespace by name).
        server.state().requests.clear();
        let cli = Cli::try_parse_from([
            "x",
            "plan",
            "-n",
            "shop",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(run(&cli.command).unwrap(), ExitCode::from(0));
        let mut listed: Vec<String> = server
            .state()
            .requests
            .iter()
            .map(|r| r.path.clone())
            .filter(|p| p != "/apis")
            .collect();
        listed.sort();
        assert_eq!(
            listed,
            ["/api/v1/namespaces/shop", "/api/v1/namespaces/shop/pods"]
        );
        assert!(Cli::try_parse_from(["x", "plan", "-n", "shop", "-A", "--cluster"]).is_err());
    }
}
