//! `palisade rbac` through the binary: the seed's acceptance cases, inputs
//! (`-f` repeated, directories, `-`, `--cluster`), errors and exit codes, and
//! every output (table, JSON, dot, generated YAML).

use std::path::Path;
use std::process::Output;

mod common;
use common::{json, palisade, palisade_stdin, shared, stderr, stdout};

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

const RB: &str = "rbac.authorization.k8s.io";

const EXEC_ROLE: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec, namespace: shop}
rules:
- {apiGroups: [\"\"], resources: [pods/exec], verbs: [create]}
";

const EXEC_BINDING: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: oncall-exec, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: oncall}]
";

#[test]
fn seed_role_risks_name_secrets_exec_and_empty_resource_names() {
    let Some(seed) = shared("seed-examples/01-rbac.yaml") else {
        return;
    };
    let out = palisade(&["rbac", "risks", "-f", s(&seed)]);
    assert_eq!(
        code(&out),
        Some(1),
        "risks at or above low: {}",
        stderr(&out)
    );
    let text = stdout(&out);
    for (check, what) in [
        ("rbac-risk/read-secrets", "get, list secrets"),
        (
            "rbac-risk/write-secrets",
            "create, update, patch, delete secrets",
        ),
        ("rbac-risk/pod-exec", "create, get pods/exec"),
        ("rbac-risk/empty-resource-names", "restricts nothing"),
    ] {
        let line = text
            .lines()
            .position(|l| l.contains(check))
            .unwrap_or_else(|| panic!("{check} missing: {text}"));
        let message = text.lines().nth(line + 1).unwrap_or_default();
        assert!(message.contains(what), "{check}: {message}");
        assert!(message.contains("dev-team-a-members"), "{check}: {message}");
    }
    assert!(
        text.contains("01-rbac.yaml:17 (rules[2].resourceNames)"),
        "the empty list is pointed at: {text}"
    );
    // The same as JSON, and --fail-on critical passes a namespace-scoped Role.
    let out = palisade(&[
        "rbac",
        "risks",
        "-f",
        s(&seed),
        "-o",
        "json",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let report = json(&out);
    let checks: Vec<&str> = report["risks"]
        .as_array()
        .expect("risks")
        .iter()
        .filter_map(|r| r["check"].as_str())
        .collect();
    for check in [
        "rbac-risk/read-secrets",
        "rbac-risk/write-secrets",
        "rbac-risk/pod-exec",
    ] {
        assert!(checks.contains(&check), "{check}: {checks:?}");
    }
    let empty = report["risks"]
        .as_array()
        .expect("risks")
        .iter()
        .find(|r| r["check"] == "rbac-risk/empty-resource-names")
        .expect("empty resourceNames");
    assert_eq!(empty["location"]["line"], 17);
    assert_eq!(
        empty["holders"][0]["subjects"][0]["name"],
        "dev-team-a-members"
    );
    assert_eq!(
        report["summary"]["critical"], 0,
        "one namespace: high at most"
    );
}

#[test]
fn seed_who_can_exec_names_the_team_through_its_binding() {
    let Some(seed) = shared("seed-examples/01-rbac.yaml") else {
        return;
    };
    let args = [
        "rbac",
        "who-can",
        "create",
        "pods/exec",
        "-n",
        "dev-team-a",
        "-f",
        s(&seed),
    ];
    let out = palisade(&args);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let row = text
        .lines()
        .find(|l| l.contains("dev-team-a-members"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.starts_with("User"), "{row}");
    assert!(
        row.contains("RoleBinding \"dev-team-binding/dev-team-a\""),
        "{row}"
    );
    assert!(row.contains("Role \"dev-team-a/dev-team-role\""), "{row}");
    assert!(row.contains("rule #3 at"), "{row}");
    // Another namespace: nobody.
    let out = palisade(&[
        "rbac",
        "who-can",
        "create",
        "pods/exec",
        "-n",
        "dev-team-b",
        "-f",
        s(&seed),
    ]);
    assert_eq!(code(&out), Some(0));
    assert!(
        stdout(&out).starts_with("No subject can create pods/exec"),
        "{}",
        stdout(&out)
    );
    // JSON.
    let mut json_args = args.to_vec();
    json_args.extend(["-o", "json"]);
    let value = json(&palisade(&json_args));
    assert_eq!(value["request"]["subresource"], "exec");
    assert_eq!(value["request"]["namespace"], "dev-team-a");
    let text = value.to_string();
    assert!(
        text.contains("dev-team-a-members") && text.contains("dev-team-binding"),
        "{text}"
    );
}

#[test]
fn seed_can_i_list_works_offline_on_the_bootstrap_policy() {
    let Some(bootstrap) = shared("conformance/rbac/kubernetes-bootstrap-policy") else {
        return;
    };
    let sa = "system:serviceaccount:default:default";
    let out = palisade(&[
        "rbac",
        "can-i",
        "--list",
        "--as",
        sa,
        "--bootstrap-policy",
        s(&bootstrap),
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("Resources")
            && header.contains("Non-Resource URLs")
            && header.ends_with("Verbs"),
        "{header}"
    );
    for expected in [
        "selfsubjectaccessreviews.authorization.k8s.io",
        "selfsubjectrulesreviews.authorization.k8s.io",
        "[/healthz]",
        "[/apis/*]",
        "[/version]",
    ] {
        assert!(text.contains(expected), "{expected} missing: {text}");
    }
    assert!(
        !text.contains("pods") && !text.contains("secrets"),
        "{text}"
    );
    // As JSON, with the groups the API server gives a ServiceAccount.
    let value = json(&palisade(&[
        "rbac",
        "can-i",
        "--list",
        "--as",
        sa,
        "--bootstrap-policy",
        s(&bootstrap),
        "-o",
        "json",
    ]));
    assert_eq!(
        value["user"]["groups"],
        serde_json::json!([
            "system:serviceaccounts",
            "system:serviceaccounts:default",
            "system:authenticated"
        ])
    );
    // Single questions answer through the exit code.
    let ask = |args: &[&str]| {
        let mut all = vec!["rbac", "can-i"];
        all.extend_from_slice(args);
        all.extend(["--as", sa, "--bootstrap-policy", s(&bootstrap)]);
        palisade(&all)
    };
    let out = ask(&["list", "pods"]);
    assert_eq!((code(&out), stdout(&out).trim()), (Some(1), "no"));
    let out = ask(&["get", "/healthz"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("yes"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("system:public-info-viewer")
            || stdout(&out).contains("system:discovery")
    );
    let out = ask(&[
        "create",
        "selfsubjectaccessreviews.authorization.k8s.io",
        "-q",
    ]);
    assert_eq!((code(&out), stdout(&out).as_str()), (Some(0), ""));
}

#[test]
fn inputs_repeat_recurse_and_come_from_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nested = dir.path().join("team/rbac");
    std::fs::create_dir_all(&nested).expect("mkdir");
    let role = nested.join("role.yaml");
    let binding = dir.path().join("binding.yaml");
    std::fs::write(&role, EXEC_ROLE).expect("write");
    std::fs::write(&binding, EXEC_BINDING).expect("write");
    let who = |inputs: &[&str], stdin: Option<&str>| {
        let mut args = vec!["rbac", "who-can", "create", "pods/exec", "-n", "shop"];
        for input in inputs {
            args.extend(["-f", input]);
        }
        match stdin {
            Some(text) => palisade_stdin(&args, text),
            None => palisade(&args),
        }
    };
    let finds_oncall = |out: &Output| {
        assert_eq!(code(out), Some(0), "{}", stderr(out));
        stdout(out).contains("oncall")
    };
    // A directory is read recursively.
    assert!(finds_oncall(&who(&[s(dir.path())], None)));
    // -f repeats; each file alone is not enough.
    assert!(finds_oncall(&who(&[s(&role), s(&binding)], None)));
    assert!(!finds_oncall(&who(&[s(&role)], None)));
    let out = who(&[s(&binding)], None);
    assert!(
        stderr(&out).contains("which is not in the input"),
        "{}",
        stderr(&out)
    );
    // `-` is standard input, alone or with files.
    assert!(finds_oncall(&who(
        &["-"],
        Some(&format!("{EXEC_ROLE}---\n{EXEC_BINDING}"))
    )));
    assert!(finds_oncall(&who(&["-", s(&binding)], Some(EXEC_ROLE))));
    let out = who(&["-"], Some(&format!("{EXEC_ROLE}---\n{EXEC_BINDING}")));
    assert!(
        stdout(&out).contains("(<stdin>:"),
        "positions name stdin: {}",
        stdout(&out)
    );
    // The same inputs work for every command.
    for command in [
        vec!["rbac", "risks", "-f", s(dir.path())],
        vec!["rbac", "paths", "-f", s(dir.path())],
        vec!["rbac", "graph", "-f", s(dir.path())],
        vec![
            "rbac",
            "can-i",
            "create",
            "pods/exec",
            "-n",
            "shop",
            "--as",
            "x",
            "--as-group",
            "oncall",
            "-f",
            s(dir.path()),
        ],
    ] {
        let out = palisade(&command);
        assert_ne!(code(&out), Some(2), "{command:?}: {}", stderr(&out));
        assert!(!stdout(&out).is_empty(), "{command:?}");
    }
}

#[test]
fn bad_input_exits_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        format!("{EXEC_ROLE}---\napiVersion: {RB}/v1\nkind: Role\nmetadata: {{name: r, namespace: x}}\nrules:\n- apiGroups: [\"\"]\n  resources: [pods\n"),
    )
    .expect("write");
    let out = palisade(&[
        "rbac",
        "who-can",
        "create",
        "pods/exec",
        "-n",
        "shop",
        "-f",
        s(&broken),
    ]);
    assert_eq!(code(&out), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    let at = format!("{}:13:1:", s(&broken));
    assert!(err.contains(&at), "{at} in {err}");
    // An object the API server would reject: warned about with its position.
    let typed = dir.path().join("typed.yaml");
    std::fs::write(
        &typed,
        format!("apiVersion: {RB}/v1\nkind: Role\nmetadata: {{name: r, namespace: x}}\nrules:\n- {{apiGroups: [\"\"], resources: [pods], verbs: [get, 3]}}\n"),
    )
    .expect("write");
    let out = palisade(&["rbac", "who-can", "get", "pods", "-n", "x", "-f", s(&typed)]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("warning: {}:5:", s(&typed))) && err.contains("not a string"),
        "{err}"
    );
    // Missing files, bad flags and bad versions are usage or input errors.
    let missing = dir.path().join("missing.yaml");
    let out = palisade(&["rbac", "risks", "-f", s(&missing)]);
    assert_eq!(code(&out), Some(2));
    assert!(stderr(&out).contains("missing.yaml"), "{}", stderr(&out));
    let out = palisade(&[
        "rbac",
        "risks",
        "-f",
        s(&typed),
        "--kubernetes-version",
        "latest",
    ]);
    assert_eq!(code(&out), Some(2));
    assert!(stderr(&out).contains("MAJOR.MINOR"), "{}", stderr(&out));
    let out = palisade(&["rbac", "can-i", "get", "pods", "-f", s(&typed)]);
    assert_eq!(code(&out), Some(2), "--as is required");
    let out = palisade(&["rbac", "risks", "--bootstrap-policy", s(&missing)]);
    assert_eq!(code(&out), Some(2));
    assert!(
        stderr(&out).contains("--bootstrap-policy"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn non_resource_urls_come_only_through_cluster_role_bindings() {
    let role = format!("apiVersion: {RB}/v1\nkind: ClusterRole\nmetadata: {{name: metrics}}\nrules:\n- {{verbs: [get], nonResourceURLs: ['/metrics/*']}}\n");
    let rb = format!("---\napiVersion: {RB}/v1\nkind: RoleBinding\nmetadata: {{name: m, namespace: mon}}\nroleRef: {{apiGroup: {RB}, kind: ClusterRole, name: metrics}}\nsubjects: [{{kind: User, name: prom, apiGroup: {RB}}}]\n");
    let crb = format!("---\napiVersion: {RB}/v1\nkind: ClusterRoleBinding\nmetadata: {{name: m}}\nroleRef: {{apiGroup: {RB}, kind: ClusterRole, name: metrics}}\nsubjects: [{{kind: User, name: prom, apiGroup: {RB}}}]\n");
    let can = |policy: &str, path: &str| {
        palisade_stdin(
            &["rbac", "can-i", "get", path, "--as", "prom", "-f", "-"],
            policy,
        )
    };
    let through_rb = format!("{role}{rb}");
    assert_eq!(code(&can(&through_rb, "/metrics/cadvisor")), Some(1));
    let out = palisade_stdin(
        &["rbac", "who-can", "get", "/metrics/cadvisor", "-f", "-"],
        &through_rb,
    );
    assert!(stdout(&out).starts_with("No subject"), "{}", stdout(&out));
    let through_crb = format!("{role}{crb}");
    assert_eq!(code(&can(&through_crb, "/metrics/cadvisor")), Some(0));
    assert_eq!(
        code(&can(&through_crb, "/metrics")),
        Some(1),
        "the trailing * is a prefix after the slash"
    );
    let out = palisade_stdin(
        &["rbac", "who-can", "get", "/metrics/x", "-f", "-"],
        &through_crb,
    );
    assert!(stdout(&out).contains("prom"), "{}", stdout(&out));
}

const GET_EXEC: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec-get, namespace: dev}
rules:
- {apiGroups: [\"\"], resources: [pods/exec], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: carol-exec, namespace: dev}
roleRef: {kind: Role, name: exec-get, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules:
- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: deployer-admin}
roleRef: {kind: ClusterRole, name: everything, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: ServiceAccount, name: deployer, namespace: dev}]
";

#[test]
fn kubernetes_version_decides_whether_get_opens_exec() {
    let risks = |version: Option<&str>| {
        let mut args = vec!["rbac", "risks", "-f", "-", "-o", "json"];
        if let Some(v) = version {
            args.extend(["--kubernetes-version", v]);
        }
        let value = json(&palisade_stdin(&args, GET_EXEC));
        value["risks"]
            .as_array()
            .expect("risks")
            .iter()
            .find(|r| r["check"] == "rbac-risk/pod-exec")
            .map(|r| r["message"].as_str().unwrap_or_default().to_string())
    };
    let unknown = risks(None).expect("reported without a version");
    assert!(unknown.contains("version was not given"), "{unknown}");
    let old = risks(Some("v1.34.3")).expect("reported for 1.34");
    assert!(old.contains("Kubernetes 1.34 authorizes"), "{old}");
    assert_eq!(risks(Some("1.35")), None);
    // Paths follow the same rule: carol reaches cluster-admin through exec before 1.35.
    let paths = |version: &str| {
        let out = palisade_stdin(
            &[
                "rbac",
                "paths",
                "-f",
                "-",
                "--from",
                "carol",
                "--kubernetes-version",
                version,
            ],
            GET_EXEC,
        );
        assert_eq!(code(&out), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    let before = paths("1.34");
    assert!(
        before.contains("User \"carol\" → cluster-admin"),
        "{before}"
    );
    assert!(
        before.contains("exec into running Pods in namespace dev"),
        "{before}"
    );
    assert!(paths("1.35").starts_with("No escalation path found."));
    // JSON paths end at cluster-admin.
    let value = json(&palisade_stdin(
        &["rbac", "paths", "-f", "-", "--from", "carol", "-o", "json"],
        GET_EXEC,
    ));
    let text = value.to_string();
    assert!(text.contains("\"clusterAdmin\":true"), "{text}");
}

#[test]
fn graph_and_risks_draw_dot() {
    let policy = format!("{EXEC_ROLE}---\n{EXEC_BINDING}");
    for args in [
        vec!["rbac", "graph", "-f", "-"],
        vec!["rbac", "risks", "-f", "-", "-o", "dot"],
    ] {
        let out = palisade_stdin(&args, &policy);
        let dot = stdout(&out);
        assert!(
            dot.starts_with("digraph rbac {") && dot.ends_with("}\n"),
            "{args:?}: {dot}"
        );
        assert!(dot.contains("\"group:oncall\" -> \"binding:0\""), "{dot}");
        assert!(dot.contains("\"binding:0\" -> \"role:0\""), "{dot}");
        assert!(dot.contains("Role\\nshop/exec\\n[high]"), "{dot}");
    }
    let out = palisade_stdin(&["rbac", "graph", "-f", "-", "-n", "elsewhere"], &policy);
    assert!(!stdout(&out).contains("oncall"), "{}", stdout(&out));
}

#[test]
fn least_privilege_generates_audit2rbacs_role_for_alice() {
    let Some(dir) = shared("conformance/rbac/audit2rbac") else {
        return;
    };
    let log = dir.join("testdata/demo.log");
    let expected: String = std::fs::read_to_string(dir.join("expected_alice_from_README.yaml"))
        .expect("read expected")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let out = palisade(&[
        "rbac",
        "least-privilege",
        "--audit-log",
        s(&log),
        "--user",
        "alice",
        "--name",
        "audit2rbac:alice",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    // audit2rbac labels its objects with its own domain; the rest is byte for byte.
    let ours = stdout(&out).replace("palisade.dev/", "audit2rbac.liggitt.net/");
    assert_eq!(ours, expected);
    // The same from stdin, as a JSON List, and for a ServiceAccount.
    let text = std::fs::read_to_string(&log).expect("read log");
    let value = json(&palisade_stdin(
        &[
            "rbac",
            "least-privilege",
            "--audit-log",
            "-",
            "--serviceaccount",
            "ns1:sa1",
            "-o",
            "json",
        ],
        &text,
    ));
    assert_eq!(value["kind"], "List");
    let subjects: Vec<&serde_json::Value> = value["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|o| o["subjects"].as_array())
        .flatten()
        .collect();
    assert!(!subjects.is_empty());
    assert!(subjects
        .iter()
        .all(|s| s["kind"] == "ServiceAccount" && s["name"] == "sa1" && s["namespace"] == "ns1"));
    // A policy that already allows it all: nothing to generate.
    let granted = format!("apiVersion: {RB}/v1\nkind: Role\nmetadata: {{name: r, namespace: ns1}}\nrules:\n- {{apiGroups: [''], resources: [pods, configmaps, secrets], verbs: [list]}}\n---\napiVersion: {RB}/v1\nkind: RoleBinding\nmetadata: {{name: r, namespace: ns1}}\nroleRef: {{apiGroup: {RB}, kind: Role, name: r}}\nsubjects: [{{kind: User, name: alice, apiGroup: {RB}}}]\n");
    let out = palisade_stdin(
        &[
            "rbac",
            "least-privilege",
            "--audit-log",
            s(&log),
            "--user",
            "alice",
            "-f",
            "-",
        ],
        &granted,
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("all already allowed"),
        "{}",
        stderr(&out)
    );
    // Nobody of that name in the log.
    let out = palisade(&[
        "rbac",
        "least-privilege",
        "--audit-log",
        s(&log),
        "--user",
        "mallory",
    ]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("No audit events matched user mallory"));
    let out = palisade(&[
        "rbac",
        "least-privilege",
        "--audit-log",
        s(&log),
        "--serviceaccount",
        "sa1",
    ]);
    assert_eq!(code(&out), Some(2), "NAMESPACE:NAME required");
}

#[test]
fn unused_reports_grants_the_log_never_used() {
    let Some(dir) = shared("conformance/rbac/audit2rbac") else {
        return;
    };
    let log = dir.join("testdata/demo.log");
    let policy = format!("apiVersion: {RB}/v1\nkind: Role\nmetadata: {{name: work, namespace: ns1}}\nrules:\n- {{apiGroups: [''], resources: [pods, configmaps, secrets], verbs: [list, delete]}}\n- {{apiGroups: [apps], resources: [deployments], verbs: [create]}}\n---\napiVersion: {RB}/v1\nkind: RoleBinding\nmetadata: {{name: alice-work, namespace: ns1}}\nroleRef: {{apiGroup: {RB}, kind: Role, name: work}}\nsubjects: [{{kind: User, name: alice, apiGroup: {RB}}}]\n---\napiVersion: {RB}/v1\nkind: RoleBinding\nmetadata: {{name: carol-work, namespace: ns1}}\nroleRef: {{apiGroup: {RB}, kind: Role, name: work}}\nsubjects: [{{kind: User, name: carol, apiGroup: {RB}}}]\n");
    let out = palisade_stdin(
        &["rbac", "unused", "--audit-log", s(&log), "-f", "-"],
        &policy,
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Audit window 2017-09-11T19:55:05Z .. 2017-09-11T20:29:04Z: 37 events"),
        "{text}"
    );
    assert!(text.contains("RoleBinding \"alice-work/ns1\""), "{text}");
    assert!(text.contains("verbs never used: delete"), "{text}");
    assert!(text.contains("RoleBinding \"carol-work/ns1\" of Role \"work\" to User \"carol\" (<stdin>:14): UNUSED (subjects never seen)"), "{text}");
    let value = json(&palisade_stdin(
        &[
            "rbac",
            "unused",
            "--audit-log",
            s(&log),
            "-f",
            "-",
            "-o",
            "json",
        ],
        &policy,
    ));
    let bindings = value["bindings"].as_array().expect("bindings");
    let carol = bindings
        .iter()
        .find(|b| b["binding"]["name"] == "carol-work")
        .expect("carol");
    assert_eq!(carol["entirelyUnused"], true);
    assert_eq!(carol["subjectsSeen"], false);
    let alice = bindings
        .iter()
        .find(|b| b["binding"]["name"] == "alice-work")
        .expect("alice");
    assert_eq!(alice["entirelyUnused"], false);
    assert_eq!(
        alice["rules"][0]["unusedVerbs"],
        serde_json::json!(["delete"])
    );
    assert_eq!(alice["rules"][1]["requests"], 0);
}

#[test]
fn live_cluster_policy_for_risks_can_i_and_least_privilege() {
    use palisade_cluster::testing::FakeApiServer;
    use serde_json::json;
    let server = FakeApiServer::start();
    {
        let mut state = server.state();
        state.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "reader", "namespace": "ns1"},
            "rules": [{"apiGroups": [""], "resources": ["pods", "configmaps", "secrets"], "verbs": ["get", "list", "watch"]}]}));
        state.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "alice-reads", "namespace": "ns1"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
            "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]}));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = server.kubeconfig(dir.path());
    let kubeconfig = s(&kubeconfig);
    let out = palisade(&[
        "rbac",
        "risks",
        "--cluster",
        "--kubeconfig",
        kubeconfig,
        "-o",
        "json",
    ]);
    let value = json(&out);
    assert!(
        value["risks"]
            .as_array()
            .expect("risks")
            .iter()
            .any(|r| r["check"] == "rbac-risk/read-secrets"),
        "{value:#}"
    );
    let out = palisade(&[
        "rbac",
        "can-i",
        "get",
        "secrets",
        "-n",
        "ns1",
        "--as",
        "alice",
        "--kubeconfig",
        kubeconfig,
    ]);
    assert_eq!(code(&out), Some(0), "{}{}", stdout(&out), stderr(&out));
    let Some(audit) = shared("conformance/rbac/audit2rbac/testdata/demo.log") else {
        return;
    };
    let out = palisade(&[
        "rbac",
        "least-privilege",
        "--audit-log",
        s(&audit),
        "--user",
        "alice",
        "--cluster",
        "--kubeconfig",
        kubeconfig,
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("all already allowed"),
        "{}",
        stderr(&out)
    );
}

/// A fake cluster holding [`GET_EXEC`]'s policy, whose server reports `git_version`.
fn get_exec_cluster(git_version: &str) -> palisade_cluster::testing::FakeApiServer {
    use serde_json::json;
    let server = palisade_cluster::testing::FakeApiServer::start();
    {
        let mut state = server.state();
        state.git_version = Some(git_version.to_string());
        state.add(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "exec-get", "namespace": "dev"},
            "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get"]}]}),
        );
        state.add(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "carol-exec", "namespace": "dev"},
            "roleRef": {"apiGroup": RB, "kind": "Role", "name": "exec-get"},
            "subjects": [{"kind": "User", "name": "carol", "apiGroup": RB}]}),
        );
        state.add(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "everything"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
        );
        state.add(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "deployer-admin"},
            "roleRef": {"apiGroup": RB, "kind": "ClusterRole", "name": "everything"},
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "dev"}]}),
        );
    }
    server
}

/// The message of the `rbac-risk/pod-exec` risk in `risks -o json` output, if reported.
fn pod_exec_message(out: &Output) -> Option<String> {
    json(out)["risks"]
        .as_array()
        .expect("risks")
        .iter()
        .find(|r| r["check"] == "rbac-risk/pod-exec")
        .map(|r| r["message"].as_str().unwrap_or_default().to_string())
}

fn version_requests(server: &palisade_cluster::testing::FakeApiServer) -> usize {
    server
        .state()
        .requests
        .iter()
        .filter(|r| r.path == "/version")
        .count()
}

#[test]
fn cluster_version_comes_from_the_server_unless_given() {
    let dir = tempfile::tempdir().expect("tempdir");

    // A GKE 1.34 server: `get` on pods/exec still opens a shell, and says so.
    let server = get_exec_cluster("v1.34.2-gke.1200");
    let kubeconfig = server.kubeconfig(dir.path());
    let kubeconfig = s(&kubeconfig);
    let out = palisade(&["rbac", "risks", "--kubeconfig", kubeconfig, "-o", "json"]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    let message = pod_exec_message(&out).expect("reported on 1.34");
    assert!(message.contains("Kubernetes 1.34 authorizes"), "{message}");
    assert!(
        stderr(&out).contains(
            "Kubernetes version 1.34 (the server of context fake reports v1.34.2-gke.1200"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(version_requests(&server), 1);
    let out = palisade(&[
        "rbac",
        "paths",
        "--cluster",
        "--kubeconfig",
        kubeconfig,
        "--from",
        "carol",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("User \"carol\" → cluster-admin"),
        "{}",
        stdout(&out)
    );

    // --kubernetes-version wins, and the server is not asked.
    server.state().requests.clear();
    let out = palisade(&[
        "rbac",
        "risks",
        "--kubeconfig",
        kubeconfig,
        "-o",
        "json",
        "--kubernetes-version",
        "1.35",
    ]);
    assert_eq!(pod_exec_message(&out), None, "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("Kubernetes version"),
        "{}",
        stderr(&out)
    );
    assert_eq!(version_requests(&server), 0);
    // Commands that do not depend on the version do not ask either.
    let out = palisade(&[
        "rbac",
        "who-can",
        "get",
        "pods/exec",
        "-n",
        "dev",
        "--kubeconfig",
        kubeconfig,
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(version_requests(&server), 0);

    // A 1.35 server: `get` alone no longer opens exec, in risks, paths and the graph.
    let server = get_exec_cluster("v1.35.0");
    let kubeconfig = server.kubeconfig(dir.path());
    let kubeconfig = s(&kubeconfig);
    let out = palisade(&[
        "rbac",
        "risks",
        "--cluster",
        "--kubeconfig",
        kubeconfig,
        "-o",
        "json",
    ]);
    assert_eq!(pod_exec_message(&out), None, "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("Kubernetes version 1.35 (the server of context fake reports v1.35.0"),
        "{}",
        stderr(&out)
    );
    let out = palisade(&[
        "rbac",
        "paths",
        "--kubeconfig",
        kubeconfig,
        "--from",
        "carol",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("No escalation path found."),
        "{}",
        stdout(&out)
    );
    let out = palisade(&["rbac", "graph", "--kubeconfig", kubeconfig]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Kubernetes version 1.35"),
        "{}",
        stderr(&out)
    );
    let out_134 = palisade(&[
        "rbac",
        "graph",
        "--kubeconfig",
        kubeconfig,
        "--kubernetes-version",
        "1.34",
    ]);
    assert_ne!(
        stdout(&out),
        stdout(&out_134),
        "the exec grant is coloured as a risk only on 1.34"
    );

    // A server that will not say: a warning, and judged as an unknown version.
    server.state().deny("get", "/version", None);
    let out = palisade(&["rbac", "risks", "--kubeconfig", kubeconfig, "-o", "json"]);
    let message = pod_exec_message(&out).expect("unknown: reported");
    assert!(message.contains("version was not given"), "{message}");
    assert!(
        stderr(&out).contains("needs `get` on `/version`")
            && stderr(&out).contains("give --kubernetes-version"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_snapshot_file_records_the_server_version_for_offline_analysis() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = get_exec_cluster("v1.35.2");
    let kubeconfig = server.kubeconfig(dir.path());
    let file = dir.path().join("cluster.yaml");
    let out = palisade(&["snapshot", "-o", s(&file), "--kubeconfig", s(&kubeconfig)]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("server v1.35.2"), "{}", stderr(&out));
    drop(server);

    // Offline: the snapshot's version decides, and is said.
    let out = palisade(&["rbac", "risks", "-f", s(&file), "-o", "json"]);
    assert_eq!(pod_exec_message(&out), None, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{} records server version v1.35.2", s(&file))),
        "{}",
        stderr(&out)
    );
    let out = palisade(&["rbac", "paths", "-f", s(&file), "--from", "carol"]);
    assert!(
        stdout(&out).starts_with("No escalation path found."),
        "{}",
        stdout(&out)
    );
    // --kubernetes-version still overrides it.
    let out = palisade(&[
        "rbac",
        "risks",
        "-f",
        s(&file),
        "-o",
        "json",
        "--kubernetes-version",
        "1.34",
    ]);
    assert!(pod_exec_message(&out).is_some(), "{}", stderr(&out));

    // Two snapshots of different versions: judged as the oldest, with a warning.
    let older = dir.path().join("older.yaml");
    let text = std::fs::read_to_string(&file).expect("read snapshot");
    assert!(text.contains("\n# server version v1.35.2\n"), "{text}");
    std::fs::write(
        &older,
        text.replace("# server version v1.35.2", "# server version v1.34.0"),
    )
    .expect("write");
    let out = palisade(&[
        "rbac",
        "risks",
        "-f",
        s(&file),
        "-f",
        s(&older),
        "-o",
        "json",
    ]);
    assert!(pod_exec_message(&out).is_some(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("different versions"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("Kubernetes version 1.34"),
        "{}",
        stderr(&out)
    );

    // An unreadable recorded version is a warning, not a guess.
    std::fs::write(
        &older,
        text.replace("# server version v1.35.2", "# server version banana"),
    )
    .expect("write");
    let out = palisade(&["rbac", "risks", "-f", s(&older), "-o", "json"]);
    let message = pod_exec_message(&out).expect("unknown: reported");
    assert!(message.contains("version was not given"), "{message}");
    assert!(
        stderr(&out).contains("invalid Kubernetes version \"banana\""),
        "{}",
        stderr(&out)
    );
}

/// With `--cluster` and no `-n`, can-i and who-can ask about the kubeconfig
/// context's namespace, as `kubectl auth can-i` does; a cluster-scoped
/// resource then draws no "not namespace scoped" warning (only `-n` does).
#[test]
fn without_n_a_live_cluster_question_is_in_the_contexts_namespace() {
    use palisade_cluster::testing::FakeApiServer;
    use serde_json::json;
    let server = FakeApiServer::start();
    {
        let mut state = server.state();
        state.add(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "pod-reader", "namespace": "shop"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        );
        state.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "carol-reads", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
            "subjects": [{"kind": "User", "name": "carol", "apiGroup": "rbac.authorization.k8s.io"}]}));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let generated = server.kubeconfig(dir.path());
    let text = std::fs::read_to_string(&generated).expect("kubeconfig");
    assert!(text.contains("namespace: default"), "{text}");
    let in_shop = dir.path().join("shop.kubeconfig");
    std::fs::write(
        &in_shop,
        text.replace("namespace: default", "namespace: shop"),
    )
    .expect("write kubeconfig");
    // The first line is kubectl's answer; the reason follows.
    let answer = |out: &Output| stdout(out).lines().next().unwrap_or_default().to_string();
    let can_i = |kubeconfig: &Path, extra: &[&str]| {
        let mut args = vec![
            "rbac",
            "can-i",
            "get",
            "pods",
            "--as",
            "carol",
            "--cluster",
            "--kubeconfig",
            s(kubeconfig),
        ];
        args.extend(extra);
        palisade(&args)
    };
    // The context's namespace is shop: carol may read its pods.
    let out = can_i(&in_shop, &[]);
    assert_eq!(answer(&out), "yes", "{}", stderr(&out));
    // -n wins over the context.
    let out = can_i(&in_shop, &["-n", "default"]);
    assert_eq!(answer(&out), "no", "{}", stderr(&out));
    // A context without a namespace of its own asks about default.
    let out = can_i(&generated, &[]);
    assert_eq!(answer(&out), "no", "{}", stderr(&out));
    // who-can follows the same default.
    let out = palisade(&[
        "rbac",
        "who-can",
        "get",
        "pods",
        "--cluster",
        "--kubeconfig",
        s(&in_shop),
        "-o",
        "json",
    ]);
    assert!(
        stdout(&out).contains("carol"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // A cluster-scoped resource: the context's namespace draws no warning.
    let out = palisade(&[
        "rbac",
        "can-i",
        "get",
        "nodes",
        "--as",
        "carol",
        "--cluster",
        "--kubeconfig",
        s(&in_shop),
    ]);
    assert_eq!(answer(&out), "no", "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("not namespace scoped"),
        "{}",
        stderr(&out)
    );
}
