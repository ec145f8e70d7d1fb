//! `palisade incident quarantine` and `release`: the steps are
//! `palisade-cluster`'s; here they are printed, appended to the audit trail,
//! and the evidence is completed with what the RBAC and NetworkPolicy layers
//! say about the pod, then written as a bundle.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::{Args, Subcommand};
use palisade_cluster::bundle::{self, EvidenceFile};
use palisade_cluster::incident::{
    self, Evidence, QuarantineOptions, ReleaseOptions, Step, StepStatus,
};
use palisade_model::{load_text, LoadOptions};
use serde_json::{json, Value as Json};

use super::cluster_input::KubeArgs;

const QUARANTINE_EXAMPLES: &str = "\
Examples:
  # See the plan and every object it would create, touching nothing
  palisade incident quarantine -n shop web-7d4b9-abcde --reason 'miner alert' --dry-run

  # Isolate, collect evidence, cordon the node
  palisade incident quarantine -n shop web-7d4b9-abcde --reason 'miner alert' --case IR-42 --cordon

  # Let the forensics namespace still reach the pod; ask the kubelet for checkpoints
  palisade incident quarantine -n shop web-7d4b9-abcde --forensics-namespace forensics --checkpoint

Steps, in this order, each printed and appended to the audit trail (--audit-log):
  1. network-policy  NetworkPolicy palisade-quarantine-POD denying all ingress and egress to
                     the pods labelled palisade.dev/quarantine=<this pod's uid> (one policy per
                     pod, selecting that pod only; --forensics-namespace allows ingress from one
                     namespace), applied first so that it is in place before anything selects it;
  2. label-pod       one merge patch: the quarantine label (isolation takes effect with it), the
                     annotations palisade.dev/quarantine-reason, quarantined-at, quarantined-by
                     (the API server's SelfSubjectReview of your credentials), quarantine-case;
                     and the labels the namespace's Services select the pod by are removed (and
                     remembered), so it also leaves their endpoints: clients are no longer sent
                     to a pod that drops their traffic (--keep-service-labels to keep them). If
                     its controller selects it by those labels, the controller lets it go and
                     starts a replacement: capacity is kept, the quarantined pod keeps running;
  3. evidence        a tar.gz in --evidence-dir: the pod (now, and as it was before step 2: its
                     controller may release it at once), its owner chain, its events, the logs of
                     every container (init and ephemeral too, and the previous instance of each
                     restarted one), the node's name and object, the namespace, the ServiceAccount
                     with what it may do (as `rbac can-i --list`), the NetworkPolicies that selected
                     the pod, image digests, kubelet checkpoints with --checkpoint; manifest.json and
                     SHA256SUMS list every file's SHA-256 and collection time; written atomically,
                     with the bundle's own SHA-256 beside it and in the audit trail. An item that
                     cannot be read is recorded in the manifest with the permission it needs;
  4. cordon          with --cordon, the node is marked unschedulable.

Re-running is idempotent: what is already in place is reported `unchanged` and not written (a new
evidence bundle is collected each time; an existing bundle is never replaced). kube-system and Palisade's own pods need --force. Pods on
the host network are not isolated by NetworkPolicies: the command says so.

Exit codes: 0 done, 2 a step failed (the message says which permission is missing) or usage error.";

const RELEASE_EXAMPLES: &str = "\
Examples:
  palisade incident release -n shop web-7d4b9-abcde --dry-run
  palisade incident release -n shop web-7d4b9-abcde --uncordon

The pod's quarantine label and annotations are removed and the labels quarantine took away are
restored, in one write (isolation ends, Services select it again), then the NetworkPolicy is
deleted. --uncordon uncordons the node only if Palisade cordoned it for this pod. Evidence bundles
are kept. If the pod's controller released it at quarantine, restoring the labels lets it adopt
the pod again (and scale back down, possibly removing it).

Exit codes: 0 done, 2 a step failed or usage error.";

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Isolate a pod (NetworkPolicy, labels), collect evidence, optionally cordon its node
    #[command(after_long_help = QUARANTINE_EXAMPLES)]
    Quarantine(QuarantineArgs),
    /// Undo a quarantine: labels and annotations back, the policy deleted; evidence kept
    #[command(after_long_help = RELEASE_EXAMPLES)]
    Release(ReleaseArgs),
}

#[derive(Debug, Args)]
pub struct QuarantineArgs {
    /// The pod
    #[arg(value_name = "POD")]
    pub pod: String,

    /// The pod's namespace
    #[arg(short = 'n', long, value_name = "NAMESPACE", required = true)]
    pub namespace: String,

    /// Why (recorded on the pod and in the audit trail)
    #[arg(long, value_name = "TEXT", default_value = "security incident")]
    pub reason: String,

    /// Case id [default: generated from the time; a re-run keeps the first one]
    #[arg(long = "case", value_name = "ID")]
    pub case_id: Option<String>,

    /// Pods of this namespace may still connect to the quarantined pod
    #[arg(long, value_name = "NAMESPACE")]
    pub forensics_namespace: Option<String>,

    /// Keep the labels Services select the pod by (it stays an endpoint, and its traffic is dropped)
    #[arg(long)]
    pub keep_service_labels: bool,

    /// Cordon the pod's node
    #[arg(long)]
    pub cordon: bool,

    /// Ask the kubelet for a checkpoint of each container (needs `create` on `nodes/proxy`,
    /// the ContainerCheckpoint feature and a runtime that supports it; the archive stays on the node)
    #[arg(long)]
    pub checkpoint: bool,

    /// Allow kube-system and Palisade's own pods
    #[arg(long)]
    pub force: bool,

    /// Print the plan and the objects it would create; touch nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Where evidence bundles go
    #[arg(long, value_name = "DIR", default_value = "palisade-evidence")]
    pub evidence_dir: PathBuf,

    /// The audit trail (JSON lines, appended) [default: EVIDENCE_DIR/audit.jsonl]
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,

    /// At most this many bytes of each container's log (the newest) [default: all]
    #[arg(long, value_name = "BYTES")]
    pub max_log_bytes: Option<i64>,

    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The pod
    #[arg(value_name = "POD")]
    pub pod: String,

    /// The pod's namespace
    #[arg(short = 'n', long, value_name = "NAMESPACE", required = true)]
    pub namespace: String,

    /// Uncordon the node, if Palisade cordoned it for this pod
    #[arg(long)]
    pub uncordon: bool,

    /// Allow kube-system and Palisade's own pods
    #[arg(long)]
    pub force: bool,

    /// Print what would be undone; touch nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Where the audit trail is [default: palisade-evidence/audit.jsonl]
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,

    #[command(flatten)]
    pub kube: KubeArgs,
}

pub fn run(command: &IncidentCommand) -> Result<ExitCode> {
    match command {
        IncidentCommand::Quarantine(args) => quarantine(args),
        IncidentCommand::Release(args) => release(args),
    }
}

/// Prints steps and appends them to the audit trail.
struct Trail {
    file: Option<std::fs::File>,
    path: PathBuf,
    context: Json,
    dry_run: bool,
    failed: bool,
}

impl Trail {
    fn open(path: &Path, context: Json, dry_run: bool) -> Result<Trail> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the audit trail {}", path.display()))?;
        Ok(Trail {
            file: Some(file),
            path: path.to_path_buf(),
            context,
            dry_run,
            failed: false,
        })
    }

    fn record(&mut self, step: &Step) {
        self.failed |= step.status == StepStatus::Failed;
        println!(
            "{:>9}  {:<15} {}",
            step.status.as_str(),
            step.name,
            step.message
        );
        if self.dry_run {
            if let Some(object) = &step.object {
                for line in palisade_cluster::yaml::to_string(object).lines() {
                    println!("{:>26} {line}", "|");
                }
            }
        }
        let mut line = self.context.clone();
        line["time"] = json!(step.time);
        line["step"] = json!(step.name);
        line["status"] = json!(step.status.as_str());
        line["message"] = json!(step.message);
        line["dryRun"] = json!(self.dry_run);
        if let Some(object) = &step.object {
            line["object"] = object.clone();
        }
        self.append(&line);
    }

    fn append(&mut self, line: &Json) {
        if let Some(file) = &mut self.file {
            let written = writeln!(file, "{line}").and_then(|_| file.sync_data());
            if let Err(e) = written {
                eprintln!(
                    "error: cannot append to the audit trail {}: {e}",
                    self.path.display()
                );
                self.file = None;
                self.failed = true;
            }
        }
    }
}

impl incident::StepSink for Trail {
    fn step(&mut self, step: &Step) {
        self.record(step);
    }
    /// Every line of the run carries the case and the operator, known once
    /// the pod has been read.
    fn begin(&mut self, case_id: &str, operator: &str) {
        self.context["case"] = json!(case_id);
        self.context["operator"] = json!(operator);
    }
}

fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn quarantine(args: &QuarantineArgs) -> Result<ExitCode> {
    let runtime = palisade_cluster::runtime()?;
    let cluster = runtime.block_on(palisade_cluster::connect_cluster(&args.kube.options()))?;
    let audit_path = args
        .audit_log
        .clone()
        .unwrap_or_else(|| args.evidence_dir.join("audit.jsonl"));
    let options = QuarantineOptions {
        namespace: args.namespace.clone(),
        pod: args.pod.clone(),
        reason: args.reason.clone(),
        case_id: args.case_id.clone(),
        forensics_namespace: args.forensics_namespace.clone(),
        keep_service_labels: args.keep_service_labels,
        cordon: args.cordon,
        checkpoint: args.checkpoint,
        force: args.force,
        dry_run: args.dry_run,
        max_log_bytes: args.max_log_bytes,
    };
    let context = json!({
        "action": "quarantine",
        "namespace": args.namespace,
        "pod": args.pod,
        "reason": args.reason,
        "case": args.case_id,
        "cluster": {"context": cluster.context, "server": cluster.server},
    });
    let mut trail = Trail::open(&audit_path, context, args.dry_run)?;
    if args.dry_run {
        println!(
            "Dry run: quarantine of pod {}/{} on {} (nothing is changed)",
            args.namespace,
            args.pod,
            cluster.describe()
        );
    }
    let result = runtime.block_on(incident::quarantine(&cluster, &options, &mut trail));
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            trail.append(&json!({"time": palisade_cluster::now(), "action": "quarantine", "namespace": args.namespace, "pod": args.pod, "status": "failed", "message": e.message}));
            return Err(anyhow!("{e}"));
        }
    };
    if let Some(mut evidence) = outcome.evidence {
        add_analyses(&mut evidence, &args.namespace);
        let name = sanitize(&format!(
            "{}_{}_{}_{}",
            outcome.case_id,
            args.namespace,
            args.pod,
            palisade_cluster::now().replace(':', "")
        ));
        let meta = json!({
            "bundleVersion": 1,
            "tool": format!("palisade {}", env!("CARGO_PKG_VERSION")),
            "case": outcome.case_id,
            "reason": args.reason,
            "operator": outcome.operator,
            "namespace": args.namespace,
            "pod": args.pod,
            "podUid": evidence.pod["metadata"]["uid"],
            "cluster": {"context": cluster.context, "server": cluster.server},
            "startedAt": outcome.started_at,
            "finishedAt": palisade_cluster::now(),
            "originalLabels": evidence.original_labels,
            "notCollected": evidence.errors.iter().map(|(item, message)| json!({"item": item, "message": message})).collect::<Vec<_>>(),
        });
        let step = match bundle::write(&args.evidence_dir, &name, meta, &evidence.files) {
            Ok(written) => Step {
                name: "bundle",
                status: StepStatus::Done,
                message: format!(
                    "wrote {} ({} bytes, sha256 {})",
                    written.path.display(),
                    written.size,
                    written.sha256
                ),
                object: Some(
                    json!({"path": written.path.display().to_string(), "sha256": written.sha256, "files": evidence.files.len()}),
                ),
                time: palisade_cluster::now(),
            },
            Err(e) => Step {
                name: "bundle",
                status: StepStatus::Failed,
                message: format!("cannot write the evidence bundle: {e:#}"),
                object: None,
                time: palisade_cluster::now(),
            },
        };
        trail.record(&step);
    }
    if args.dry_run {
        println!(
            "Dry run: nothing was changed. Audit trail: {}",
            audit_path.display()
        );
    }
    Ok(ExitCode::from(if trail.failed {
        crate::EXIT_USAGE
    } else {
        0
    }))
}

/// What the RBAC and NetworkPolicy layers say about the pod, added to the evidence.
fn add_analyses(evidence: &mut Evidence, namespace: &str) {
    // What the ServiceAccount may do, as `palisade rbac can-i --list`.
    let rbac_text = evidence
        .rbac_objects
        .iter()
        .map(|o| format!("---\n{}", palisade_cluster::yaml::to_string(o)))
        .collect::<String>();
    let loaded = load_text("rbac", rbac_text, &LoadOptions::default());
    let rbac = palisade_rbac::Rbac::from_objects(&loaded.objects);
    let user = palisade_rbac::impersonate(
        &format!(
            "system:serviceaccount:{namespace}:{}",
            evidence.service_account
        ),
        &[],
    );
    let list = rbac.list(&user, namespace);
    evidence.files.push(EvidenceFile::text(
        "rbac/permissions.txt",
        format!(
            "# What system:serviceaccount:{namespace}:{} may do in namespace {namespace}\n# (palisade rbac can-i --list, from the cluster's Roles and bindings at collection time)\n{}",
            evidence.service_account,
            list.kubectl_table()
        ),
        "palisade rbac can-i --list",
    ));
    let mut value = rbac.list_json(&list);
    value["user"] = json!({"username": user.username, "groups": user.groups});
    evidence.files.push(EvidenceFile::json(
        "rbac/permissions.json",
        &value,
        "palisade rbac can-i --list",
    ));

    // The NetworkPolicies that selected the pod (by its labels before quarantine).
    let policies_text = evidence
        .network_policies
        .iter()
        .map(|o| format!("---\n{}", palisade_cluster::yaml::to_string(o)))
        .collect::<String>();
    let loaded = load_text("networkpolicies", policies_text, &LoadOptions::default());
    let resources = palisade_netpol::read_resources(&loaded.objects);
    let labels: BTreeMap<String, String> = evidence.original_labels.clone();
    let applying: Vec<Json> = resources
        .netpols
        .iter()
        .filter(|np| np.namespace == namespace && np.pod_selector.matches(&labels).unwrap_or(false))
        .filter_map(|np| {
            evidence
                .network_policies
                .iter()
                .find(|o| o["metadata"]["name"].as_str() == Some(np.name.as_str()))
                .map(|o| {
                    json!({
                        "name": np.name,
                        "ingress": np.affects(true),
                        "egress": np.affects(false),
                        "object": o,
                    })
                })
        })
        .collect();
    evidence.files.push(EvidenceFile::json(
        "network-policies.json",
        &json!({
            "note": "NetworkPolicies of the namespace that selected the pod by its labels before quarantine (the quarantine policy not included)",
            "labels": labels,
            "policies": applying,
        }),
        "palisade netpol (selectors evaluated on the pod's labels)",
    ));
}

fn release(args: &ReleaseArgs) -> Result<ExitCode> {
    let runtime = palisade_cluster::runtime()?;
    let cluster = runtime.block_on(palisade_cluster::connect_cluster(&args.kube.options()))?;
    let audit_path = args
        .audit_log
        .clone()
        .unwrap_or_else(|| PathBuf::from("palisade-evidence").join("audit.jsonl"));
    let operator = runtime.block_on(incident::operator_identity(&cluster, !args.dry_run));
    let context = json!({
        "action": "release",
        "namespace": args.namespace,
        "pod": args.pod,
        "operator": operator,
        "cluster": {"context": cluster.context, "server": cluster.server},
    });
    let mut trail = Trail::open(&audit_path, context, args.dry_run)?;
    let options = ReleaseOptions {
        namespace: args.namespace.clone(),
        pod: args.pod.clone(),
        uncordon: args.uncordon,
        dry_run: args.dry_run,
        force: args.force,
    };
    if args.dry_run {
        println!(
            "Dry run: release of pod {}/{} on {} (nothing is changed)",
            args.namespace,
            args.pod,
            cluster.describe()
        );
    }
    let result = runtime.block_on(incident::release(&cluster, &options, &mut |s: &Step| {
        trail.record(s)
    }));
    if let Err(e) = result {
        trail.append(&json!({"time": palisade_cluster::now(), "action": "release", "namespace": args.namespace, "pod": args.pod, "status": "failed", "message": e.message}));
        return Err(anyhow!("{e}"));
    }
    Ok(ExitCode::from(if trail.failed {
        crate::EXIT_USAGE
    } else {
        0
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use palisade_cluster::testing::FakeApiServer;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: IncidentCommand,
    }

    fn server() -> FakeApiServer {
        let server = FakeApiServer::start();
        {
            let mut s = server.state();
            s.add(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "labels": {"app": "web"}},
                "spec": {"nodeName": "n1", "serviceAccountName": "web", "containers": [{"name": "app", "image": "web:1"}]},
                "status": {"containerStatuses": [{"name": "app", "imageID": "web@sha256:abc", "restartCount": 0}]}}));
            s.add(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app": "web"}}}));
            s.add(json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "allow-web", "namespace": "shop"},
                "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{}]}}));
            s.add(json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "db-only", "namespace": "shop"},
                "spec": {"podSelector": {"matchLabels": {"app": "db"}}}}));
            s.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "exec", "namespace": "shop"},
                "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]}));
            s.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "web-exec", "namespace": "shop"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "exec"},
                "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}]}));
            s.logs.insert(
                ("shop".into(), "web".into(), "app".into(), false),
                "hello\n".into(),
            );
        }
        server
    }

    #[test]
    fn quarantine_writes_a_verifiable_bundle_and_an_audit_trail() {
        let server = server();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = server.kubeconfig(dir.path());
        let evidence = dir.path().join("evidence");
        let cli = Cli::try_parse_from([
            "x",
            "quarantine",
            "-n",
            "shop",
            "web",
            "--reason",
            "alert 7",
            "--case",
            "IR-7",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--evidence-dir",
            evidence.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(run(&cli.command).unwrap(), ExitCode::from(0));
        let bundles: Vec<PathBuf> = std::fs::read_dir(&evidence)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
            .collect();
        assert_eq!(bundles.len(), 1, "{bundles:?}");
        assert!(bundles[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("IR-7_shop_web_"));
        assert!(bundle::verify(&bundles[0]).unwrap().is_empty());
        let files = bundle::read(&bundles[0]).unwrap();
        let file = |p: &str| {
            files
                .iter()
                .find(|(q, _)| q == p)
                .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_else(|| panic!("{p} missing"))
        };
        assert!(
            file("rbac/permissions.txt").contains("pods/exec"),
            "{}",
            file("rbac/permissions.txt")
        );
        let policies: Json = serde_json::from_str(&file("network-policies.json")).unwrap();
        let names: Vec<&str> = policies["policies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["allow-web"],
            "selected by the labels the pod had before quarantine"
        );
        let manifest: Json = serde_json::from_str(&file("manifest.json")).unwrap();
        assert_eq!(manifest["case"], "IR-7");
        assert_eq!(manifest["operator"], "alice@example.com");
        assert_eq!(manifest["originalLabels"]["app"], "web");
        assert_eq!(file("logs/app.log"), "hello\n");

        let trail = std::fs::read_to_string(evidence.join("audit.jsonl")).unwrap();
        let lines: Vec<Json> = trail
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let steps: Vec<&str> = lines.iter().map(|l| l["step"].as_str().unwrap()).collect();
        assert_eq!(
            steps,
            [
                "network-policy",
                "services",
                "label-pod",
                "evidence",
                "bundle"
            ]
        );
        assert!(lines
            .iter()
            .all(|l| l["namespace"] == "shop" && l["pod"] == "web"));
        assert_eq!(lines[4]["case"], "IR-7");
        assert_eq!(lines[4]["operator"], "alice@example.com");
        let sidecar = std::fs::read_to_string(format!("{}.sha256", bundles[0].display())).unwrap();
        assert!(lines[4]["message"]
            .as_str()
            .unwrap()
            .contains(sidecar.split_whitespace().next().unwrap()));

        // Release through the CLI: the pod gets its labels back.
        let cli = Cli::try_parse_from([
            "x",
            "release",
            "-n",
            "shop",
            "web",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--audit-log",
            evidence.join("audit.jsonl").to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(run(&cli.command).unwrap(), ExitCode::from(0));
        let s = server.state();
        assert_eq!(
            s.get("pods", "shop", "web").unwrap()["metadata"]["labels"],
            json!({"app": "web"})
        );
        assert!(s
            .get("networkpolicies", "shop", "palisade-quarantine-web")
            .is_none());
    }

    #[test]
    fn an_unreachable_cluster_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, format!("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n")).unwrap();
        let cli = Cli::try_parse_from([
            "x",
            "quarantine",
            "-n",
            "shop",
            "web",
            "--dry-run",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--evidence-dir",
            dir.path().join("e").to_str().unwrap(),
        ])
        .unwrap();
        let e = run(&cli.command).unwrap_err();
        assert!(
            format!("{e:#}").contains("cannot reach the cluster's API server"),
            "{e:#}"
        );
    }
}
