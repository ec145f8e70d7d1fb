//! `palisade_privileged_pods` end to end: the server's cluster feed runs the
//! real pod watch against the fake API server, and pods added, changed and
//! deleted there move the gauge on `/metrics`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use palisade_cluster::testing::FakeApiServer;
use palisade_server::namespaces::NamespaceCache;
use palisade_server::pods::PrivilegedPods;
use palisade_server::tls::self_signed;
use palisade_server::{start, ClusterFeed, ClusterView, ServeConfig};
use serde_json::{json, Value};

/// The same glue as `palisade serve --cluster` (crates/palisade/src/commands/serve.rs).
struct Namespaces(Arc<NamespaceCache>);

impl palisade_cluster::NamespaceSink for Namespaces {
    fn replace_all(&self, namespaces: Vec<Value>) {
        self.0.replace_all(namespaces);
    }
    fn apply(&self, namespace: Value) {
        self.0.upsert(namespace);
    }
    fn delete(&self, name: &str) {
        self.0.remove(name);
    }
    fn synced(&self) {
        self.0.mark_synced();
    }
}

struct Pods(Arc<PrivilegedPods>);

impl palisade_cluster::PodSink for Pods {
    fn replace_all(&self, pods: Vec<Value>) {
        self.0.replace_all(pods);
    }
    fn apply(&self, pod: Value) {
        self.0.apply(&pod);
    }
    fn delete(&self, namespace: &str, name: &str) {
        self.0.delete(namespace, name);
    }
    fn synced(&self) {
        self.0.mark_synced();
    }
}

fn pod(namespace: &str, name: &str, privileged: bool, phase: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "initContainers": [{"name": "setup", "image": "busybox:1", "securityContext": {"privileged": privileged}}],
            "containers": [{"name": "app", "image": "nginx:1"}],
        },
        "status": {"phase": phase},
    })
}

fn client_for(ca_pem: &Path) -> reqwest::Client {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The gauge's samples on /metrics, by namespace.
fn gauge(metrics: &str) -> Vec<(String, i64)> {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("palisade_privileged_pods{namespace=\""))
        .map(|rest| {
            let (ns, value) = rest.split_once("\"} ").unwrap();
            (ns.to_string(), value.trim().parse().unwrap())
        })
        .collect()
}

#[test]
fn pods_added_changed_and_deleted_move_the_gauge_on_metrics() {
    let api = FakeApiServer::start();
    api.state()
        .add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}));
    api.state().add(pod("team-a", "csi-node", true, "Running"));
    api.state().add(pod("team-a", "web", false, "Running"));
    api.state().add(pod("team-a", "done", true, "Succeeded"));

    let dir = tempfile::tempdir().unwrap();
    let files = self_signed(&["localhost".into()])
        .unwrap()
        .write(dir.path())
        .unwrap();
    let config = ServeConfig::new("127.0.0.1:0".parse().unwrap(), files);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // kube's client spawns its buffer task: it is built in the runtime.
    let client = {
        let _entered = runtime.enter();
        api.client()
    };
    let feed: ClusterFeed = Box::new(move |view: ClusterView| {
        Box::pin(async move {
            palisade_cluster::watch_namespaces_and_pods(
                client,
                &Namespaces(view.namespaces),
                &Pods(view.pods),
            )
            .await
        })
    });
    let server = runtime.block_on(start(config, Some(feed))).unwrap();
    let http = client_for(&dir.path().join("ca.crt"));
    let url = format!("https://localhost:{}/metrics", server.addr.port());
    let scrape = || {
        runtime.block_on(async {
            let resp = http.get(&url).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            resp.text().await.unwrap()
        })
    };
    let wait_for = |what: &str, want: &[(&str, i64)]| {
        let want: Vec<(String, i64)> = want.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        let mut last = String::new();
        for _ in 0..200 {
            last = scrape();
            let mut got = gauge(&last);
            got.sort();
            if got == want {
                return last;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("{what}: wanted {want:?} in\n{last}");
    };

    // The initial list: one privileged pod running (the finished one does not count).
    let metrics = wait_for("initial list", &[("team-a", 1)]);
    assert!(
        metrics.contains("# TYPE palisade_privileged_pods gauge"),
        "{metrics}"
    );
    assert!(server.state.pods().is_synced());
    // Namespaces come through the same feed: the server is ready.
    assert!(server.state.namespaces().is_synced());

    // Added (pending counts too), and changed to privileged.
    api.state().add(pod("team-b", "debug", true, "Pending"));
    api.state().add(pod("team-a", "web", true, "Running"));
    wait_for("added and changed", &[("team-a", 2), ("team-b", 1)]);

    // Changed back, finished, and deleted: team-b's series goes.
    api.state().add(pod("team-a", "web", false, "Running"));
    api.state().add(pod("team-a", "csi-node", true, "Failed"));
    api.state().remove("pods", "team-b", "debug");
    api.state().add(pod("team-c", "agent", true, "Running"));
    wait_for("changed back and deleted", &[("team-c", 1)]);
    assert_eq!(server.state.pods().total(), 1);

    server.shutdown();
}
