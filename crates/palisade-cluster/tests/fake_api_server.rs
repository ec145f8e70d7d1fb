//! The namespace watch against a fake API server (no cluster can run here):
//! a list, then a watch stream with an added, a modified and a deleted namespace.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Query;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use palisade_cluster::{watch_namespaces, NamespaceSink};
use serde_json::{json, Value};

#[derive(Default)]
struct Recorder {
    namespaces: Mutex<BTreeMap<String, Value>>,
    synced: Mutex<bool>,
}

impl NamespaceSink for Recorder {
    fn replace_all(&self, namespaces: Vec<Value>) {
        let mut map = self.namespaces.lock().unwrap();
        map.clear();
        for ns in namespaces {
            map.insert(ns["metadata"]["name"].as_str().unwrap().to_string(), ns);
        }
    }
    fn apply(&self, namespace: Value) {
        self.namespaces.lock().unwrap().insert(
            namespace["metadata"]["name"].as_str().unwrap().to_string(),
            namespace,
        );
    }
    fn delete(&self, name: &str) {
        self.namespaces.lock().unwrap().remove(name);
    }
    fn synced(&self) {
        *self.synced.lock().unwrap() = true;
    }
}

fn namespace(name: &str, labels: Value, rv: &str) -> Value {
    json!({"metadata": {"name": name, "labels": labels, "resourceVersion": rv}})
}

async fn namespaces(Query(query): Query<BTreeMap<String, String>>) -> impl IntoResponse {
    if query.get("watch").map(String::as_str) == Some("true") {
        // Three events, then the stream stays open (as a real watch does) for a while.
        let events = [
            json!({"type": "ADDED", "object": namespace("team-b", json!({"pod-security.kubernetes.io/enforce": "baseline"}), "11")}),
            json!({"type": "MODIFIED", "object": namespace("team-a", json!({"pod-security.kubernetes.io/enforce": "restricted"}), "12")}),
            json!({"type": "DELETED", "object": namespace("old", json!({}), "13")}),
        ];
        let mut body = String::new();
        for e in events {
            body.push_str(&e.to_string());
            body.push('\n');
        }
        let stream = futures_stream(body);
        return axum::body::Body::from_stream(stream).into_response();
    }
    axum::Json(json!({
        "kind": "NamespaceList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "10"},
        "items": [
            namespace("team-a", json!({}), "5"),
            namespace("old", json!({}), "6"),
        ]
    }))
    .into_response()
}

fn futures_stream(body: String) -> impl futures::Stream<Item = Result<String, std::io::Error>> {
    futures::stream::unfold(Some(body), |state| async move {
        match state {
            Some(body) => Some((Ok(body), None)),
            None => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                None
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_namespace_cache_follows_list_and_watch() {
    let app = Router::new().route("/api/v1/namespaces", get(namespaces));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let config = kube::Config::new(format!("http://{addr}").parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    let recorder = Arc::new(Recorder::default());
    let sink = recorder.clone();
    tokio::spawn(async move { watch_namespaces(client, sink.as_ref()).await });

    for _ in 0..200 {
        let done = {
            let map = recorder.namespaces.lock().unwrap();
            *recorder.synced.lock().unwrap()
                && map.contains_key("team-b")
                && !map.contains_key("old")
        };
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(*recorder.synced.lock().unwrap());
    let map = recorder.namespaces.lock().unwrap();
    assert_eq!(map.keys().collect::<Vec<_>>(), ["team-a", "team-b"]);
    assert_eq!(
        map["team-a"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    assert_eq!(map["team-b"]["kind"], "Namespace");
    assert_eq!(map["team-b"]["apiVersion"], "v1");
}
