//! The pod watch against the fake API server's list and watch: pods created,
//! changed and deleted after the initial list reach the sink, trimmed to
//! what the sink is promised (no managedFields, status.phase only).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_cluster::testing::FakeApiServer;
use palisade_cluster::{watch_namespaces, watch_pods, NamespaceSink, PodSink};
use serde_json::{json, Value};

#[derive(Default)]
struct Recorder {
    pods: Mutex<BTreeMap<(String, String), Value>>,
    lists: Mutex<usize>,
    synced: Mutex<bool>,
}

fn key(pod: &Value) -> (String, String) {
    (
        pod["metadata"]["namespace"].as_str().unwrap().to_string(),
        pod["metadata"]["name"].as_str().unwrap().to_string(),
    )
}

impl PodSink for Recorder {
    fn replace_all(&self, pods: Vec<Value>) {
        let mut map = self.pods.lock().unwrap();
        map.clear();
        for pod in pods {
            map.insert(key(&pod), pod);
        }
        *self.lists.lock().unwrap() += 1;
    }
    fn apply(&self, pod: Value) {
        self.pods.lock().unwrap().insert(key(&pod), pod);
    }
    fn delete(&self, namespace: &str, name: &str) {
        self.pods
            .lock()
            .unwrap()
            .remove(&(namespace.to_string(), name.to_string()));
    }
    fn synced(&self) {
        *self.synced.lock().unwrap() = true;
    }
}

fn pod(namespace: &str, name: &str, privileged: bool, phase: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "managedFields": [{"manager": "kubectl", "operation": "Apply"}],
        },
        "spec": {"containers": [{"name": "app", "image": "nginx:1", "securityContext": {"privileged": privileged}}]},
        "status": {"phase": phase, "podIP": "10.0.0.1", "conditions": [{"type": "Ready", "status": "True"}]},
    })
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..400 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_added_changed_and_deleted_reach_the_sink() {
    let server = FakeApiServer::start();
    server.state().add(pod("team-a", "web", false, "Running"));
    server.state().add(pod("team-a", "old", true, "Running"));
    let recorder = Arc::new(Recorder::default());
    let sink = recorder.clone();
    let client = server.client();
    let task = tokio::spawn(async move { watch_pods(client, sink.as_ref()).await });

    wait_until("the initial list", || *recorder.synced.lock().unwrap()).await;
    {
        let pods = recorder.pods.lock().unwrap();
        assert_eq!(pods.len(), 2);
        let web = &pods[&("team-a".to_string(), "web".to_string())];
        // Trimmed, typed.
        assert_eq!(web["kind"], "Pod");
        assert_eq!(web["apiVersion"], "v1");
        assert!(web["metadata"].get("managedFields").is_none());
        assert_eq!(web["status"], json!({"phase": "Running"}));
        assert_eq!(
            web["spec"]["containers"][0]["securityContext"]["privileged"],
            false
        );
    }

    // After the list: one added, one changed, one deleted.
    server.state().add(pod("team-b", "sensor", true, "Pending"));
    server.state().add(pod("team-a", "web", true, "Running"));
    assert!(server.state().remove("pods", "team-a", "old").is_some());
    wait_until("the three changes", || {
        let pods = recorder.pods.lock().unwrap();
        pods.len() == 2
            && pods.contains_key(&("team-b".to_string(), "sensor".to_string()))
            && pods[&("team-a".to_string(), "web".to_string())]["spec"]["containers"][0]
                ["securityContext"]["privileged"]
                == true
    })
    .await;
    assert!(!recorder
        .pods
        .lock()
        .unwrap()
        .contains_key(&("team-a".to_string(), "old".to_string())));
    // The changes came by the watch, not by relisting.
    assert_eq!(*recorder.lists.lock().unwrap(), 1);
    let watches = server
        .state()
        .requests
        .iter()
        .filter(|r| r.path == "/api/v1/pods" && r.query.contains("watch=true"))
        .count();
    assert!(watches >= 1);
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_pod_list_is_retried_until_allowed() {
    let server = FakeApiServer::start();
    server.state().add(pod("team-a", "web", true, "Running"));
    server.state().deny("list", "pods", None);
    let recorder = Arc::new(Recorder::default());
    let sink = recorder.clone();
    let client = server.client();
    let task = tokio::spawn(async move { watch_pods(client, sink.as_ref()).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!*recorder.synced.lock().unwrap());
    // RBAC fixed: the watch recovers by itself (kube-rs's backoff).
    server.state().denials.clear();
    wait_until("the list after the fix", || {
        *recorder.synced.lock().unwrap() && recorder.pods.lock().unwrap().len() == 1
    })
    .await;
    task.abort();
}

#[derive(Default)]
struct Namespaces(Mutex<BTreeMap<String, Value>>);

impl NamespaceSink for Namespaces {
    fn replace_all(&self, namespaces: Vec<Value>) {
        let mut map = self.0.lock().unwrap();
        map.clear();
        for ns in namespaces {
            map.insert(ns["metadata"]["name"].as_str().unwrap().to_string(), ns);
        }
    }
    fn apply(&self, namespace: Value) {
        self.0.lock().unwrap().insert(
            namespace["metadata"]["name"].as_str().unwrap().to_string(),
            namespace,
        );
    }
    fn delete(&self, name: &str) {
        self.0.lock().unwrap().remove(name);
    }
    fn synced(&self) {}
}

/// The fake's watch serves every kind: the namespace watch through it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_server_streams_namespace_changes() {
    let server = FakeApiServer::start();
    server
        .state()
        .add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}));
    let recorder = Arc::new(Namespaces::default());
    let sink = recorder.clone();
    let client = server.client();
    let task = tokio::spawn(async move { watch_namespaces(client, sink.as_ref()).await });
    wait_until("team-a", || {
        recorder.0.lock().unwrap().contains_key("team-a")
    })
    .await;
    server.state().add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}));
    server.state().remove("namespaces", "", "team-a");
    server
        .state()
        .add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}}));
    wait_until("team-b, without team-a", || {
        let map = recorder.0.lock().unwrap();
        map.contains_key("team-b") && !map.contains_key("team-a")
    })
    .await;
    task.abort();
}
