//! `palisade serve --cluster` against the fake API server: the binary's own
//! glue (crates/palisade/src/commands/serve.rs) feeds the pod watch into
//! `palisade_privileged_pods`, which `palisade install monitoring` alerts on.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_cluster::testing::FakeApiServer;
use serde_json::{json, Value};

fn pod(namespace: &str, name: &str, privileged: bool) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "app", "image": "nginx:1", "securityContext": {"privileged": privileged}}]},
        "status": {"phase": "Running"},
    })
}

/// The gauge's samples, sorted.
fn gauge(metrics: &str) -> Vec<String> {
    let mut samples: Vec<String> = metrics
        .lines()
        .filter(|l| l.starts_with("palisade_privileged_pods{"))
        .map(str::to_string)
        .collect();
    samples.sort();
    samples
}

#[test]
fn serve_cluster_exports_privileged_pods_from_the_pod_watch() {
    if Command::new("curl").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs curl"
        );
        eprintln!("skipping: curl not found");
        return;
    }
    let api = FakeApiServer::start();
    api.state()
        .add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}));
    api.state().add(pod("team-a", "csi", true));
    api.state().add(pod("team-a", "web", false));
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = api.kubeconfig(dir.path());
    let certs = dir.path().join("certs");
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "serve",
            "--self-signed",
            "--cert-dir",
            certs.to_str().expect("utf-8"),
            "--listen",
            "127.0.0.1:0",
            "--cluster",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    // The logs are drained on a thread (a full pipe would stall the server);
    // the address is in the line that says where it serves.
    let logs = Arc::new(Mutex::new(String::new()));
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("https://").nth(1) {
                let _ = addr_tx.send(rest.split('/').next().unwrap_or("").to_string());
            }
            sink.lock().expect("logs").push_str(&line);
            sink.lock().expect("logs").push('\n');
        }
    });
    let addr = addr_rx.recv_timeout(Duration::from_secs(20));
    let Ok(addr) = addr else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server did not start: {}", logs.lock().expect("logs"));
    };
    let port = addr.rsplit(':').next().expect("port").to_string();
    let scrape = || {
        let out = Command::new("curl")
            .args([
                "-sS",
                "--cacert",
                certs.join("ca.crt").to_str().expect("utf-8"),
                "--resolve",
                &format!("localhost:{port}:127.0.0.1"),
                &format!("https://localhost:{port}/metrics"),
            ])
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let wait_for = |want: &[&str]| -> Result<(), String> {
        let mut last = String::new();
        for _ in 0..200 {
            last = scrape();
            if gauge(&last) == want {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "wanted {want:?}, got {:?}\n{last}\nlogs:\n{}",
            gauge(&last),
            logs.lock().expect("logs")
        ))
    };
    let steps = (|| {
        wait_for(&["palisade_privileged_pods{namespace=\"team-a\"} 1"])?;
        api.state().add(pod("team-b", "debug", true));
        api.state().add(pod("team-a", "web", true));
        wait_for(&[
            "palisade_privileged_pods{namespace=\"team-a\"} 2",
            "palisade_privileged_pods{namespace=\"team-b\"} 1",
        ])?;
        api.state().remove("pods", "team-b", "debug");
        api.state().add(pod("team-a", "csi", false));
        wait_for(&["palisade_privileged_pods{namespace=\"team-a\"} 1"])
    })();
    let _ = child.kill();
    let _ = child.wait();
    if let Err(e) = steps {
        panic!("{e}");
    }
    // The watch asked the API server for pods, as the ClusterRole of `install webhook` allows.
    let install = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["install", "webhook", "--tls", "cert-manager"])
        .output()
        .expect("install webhook");
    let manifests = String::from_utf8_lossy(&install.stdout);
    assert!(
        manifests.contains("  resources: [pods]\n  verbs: [list, watch]\n"),
        "{manifests}"
    );
    assert!(api
        .state()
        .requests
        .iter()
        .any(|r| r.path == "/api/v1/pods" && r.query.contains("watch=true")));
}
