//! Load benchmark of the admission webhook (see BENCHMARKS.md).
//!
//! Starts the real server on loopback with Pod Security `restricted` and every
//! template and sample constraint of the Gatekeeper library, then sends
//! pod-create AdmissionReviews over HTTPS at fixed rates (open loop: requests
//! leave on schedule whether or not earlier ones have returned, so queueing
//! shows in the latencies), and reports throughput and p50 / p99 / p99.9 per
//! rate, up to the saturation point.
//!
//!     cargo run --release -p palisade-server --example loadgen -- [LIBRARY] [SECONDS] [RATES...]
//!
//! LIBRARY defaults to ../shared/conformance/gatekeeper-library/library,
//! SECONDS to 10 per rate, RATES to 250 500 1000 1500 2000 3000 4000.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_server::tls::self_signed;
use palisade_server::{start, ServeConfig, JUDGE_STACK_BYTES};
use serde_json::json;

fn copy_library(library: &Path, into: &Path) -> (usize, usize) {
    let (mut templates, mut constraints) = (0, 0);
    let mut stack = vec![library.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let rel = path.strip_prefix(library).unwrap_or(&path);
            let flat = rel.to_string_lossy().replace('/', "__");
            if name == "template.yaml" {
                templates += 1;
                std::fs::copy(&path, into.join(flat)).expect("copy template");
            } else if name == "constraint.yaml"
                && rel.components().any(|c| c.as_os_str() == "samples")
            {
                constraints += 1;
                std::fs::copy(&path, into.join(flat)).expect("copy constraint");
            }
        }
    }
    (templates, constraints)
}

fn pod_review(i: usize) -> Vec<u8> {
    let review = json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("load-{i}"),
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "name": format!("web-{i}"),
            "namespace": "production",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller", "groups": ["system:serviceaccounts", "system:authenticated"]},
            "object": {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("web-{i}"), "namespace": "production",
                    "labels": {"app": "web", "owner": "team-a"},
                    "annotations": {"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}},
                "spec": {
                    "serviceAccountName": "web",
                    "automountServiceAccountToken": false,
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "app", "image": "registry.example/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                        "ports": [{"containerPort": 8080}],
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                        "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}},
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}
                    }]
                }
            },
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    });
    serde_json::to_vec(&review).expect("review JSON")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    // As `palisade` itself does at start: no stack traces captured for
    // library errors (regorus's undefined lookups), panics unaffected.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let library = args.first().map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/conformance/gatekeeper-library/library")
    });
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut rates: Vec<u64> = args.iter().skip(2).filter_map(|s| s.parse().ok()).collect();
    if rates.is_empty() {
        rates = vec![250, 500, 1000, 1500, 2000, 3000, 4000];
    }
    palisade_server::install_crypto_provider();

    let dir = tempfile::tempdir().expect("temp dir");
    let policies = dir.path().join("policies");
    let namespaces = dir.path().join("namespaces");
    std::fs::create_dir_all(&policies).expect("policies dir");
    std::fs::create_dir_all(&namespaces).expect("namespaces dir");
    let (templates, constraints) = copy_library(&library, &policies);
    std::fs::write(
        namespaces.join("ns.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: production\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/warn: restricted\n    pod-security.kubernetes.io/audit: restricted\n",
    )
    .expect("namespace");
    let files = self_signed(&["localhost".into()])
        .expect("certificate")
        .write(&dir.path().join("certs"))
        .expect("write certificate");
    let ca = dir.path().join("certs/ca.crt");

    // The server gets its own runtime (as `palisade serve` does); the load
    // generator another, so that both share the machine's cores as two processes would.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(JUDGE_STACK_BYTES)
        .enable_all()
        .build()
        .expect("server runtime");
    let mut config = ServeConfig::new("127.0.0.1:0".parse().expect("addr"), files);
    config.policy_dirs = vec![policies];
    config.namespace_dirs = vec![namespaces];
    config.budget = Duration::from_secs(5);
    config.reload_interval = Duration::from_secs(3600);
    let server = server_rt
        .block_on(start(config, None))
        .expect("server starts");
    let snapshot_constraints = server_rt.block_on(async {
        for _ in 0..600 {
            if let Some(s) = server.state.policies_in_force() {
                return s.gatekeeper.constraint_count();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("policies did not load (run with RUST_LOG=info to see why)");
    });
    eprintln!(
        "loaded {templates} templates and {constraints} sample constraints ({snapshot_constraints} acting at the webhook); Pod Security restricted"
    );

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("client runtime");
    let url = format!("https://localhost:{}/validate", server.addr.port());
    let client = client_rt.block_on(async { client_for(&ca) });
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..1000).map(pod_review).collect());

    // Warm up (engine pools, connections).
    client_rt.block_on(run_rate(
        &client,
        &url,
        &bodies,
        200,
        Duration::from_secs(2),
    ));
    println!("| rate (req/s) | achieved (req/s) | p50 | p99 | p99.9 | max | errors | allowed |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for rate in rates {
        let result = client_rt.block_on(run_rate(
            &client,
            &url,
            &bodies,
            rate,
            Duration::from_secs(seconds),
        ));
        println!(
            "| {rate} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} | {} |",
            result.achieved,
            ms(result.p50),
            ms(result.p99),
            ms(result.p999),
            ms(result.max),
            result.errors,
            result.allowed
        );
        if result.errors > 0 || result.p99 > Duration::from_millis(100) {
            eprintln!("saturated at {rate} req/s");
            break;
        }
    }
    server.shutdown();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct RateResult {
    achieved: f64,
    p50: Duration,
    p99: Duration,
    p999: Duration,
    max: Duration,
    errors: usize,
    allowed: usize,
}

async fn run_rate(
    client: &reqwest::Client,
    url: &str,
    bodies: &Arc<Vec<Vec<u8>>>,
    rate: u64,
    duration: Duration,
) -> RateResult {
    let total = (rate as f64 * duration.as_secs_f64()) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now();
    let mut handles = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let client = client.clone();
        let url = url.to_string();
        let body = bodies[i % bodies.len()].clone();
        handles.push(tokio::spawn(async move {
            // Latency from when the request was due, so a late send counts.
            let resp = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            let ok = match resp {
                Ok(r) if r.status().is_success() => r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .map(|v| v["response"]["allowed"] == true),
                _ => None,
            };
            (due.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let (mut errors, mut allowed) = (0, 0);
    for h in handles {
        match h.await {
            Ok((latency, Some(a))) => {
                latencies.push(latency);
                allowed += usize::from(a);
            }
            _ => errors += 1,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    RateResult {
        achieved: latencies.len() as f64 / elapsed,
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        p999: percentile(&latencies, 99.9),
        max: latencies.last().copied().unwrap_or_default(),
        errors,
        allowed,
    }
}

fn client_for(ca_pem: &Path) -> reqwest::Client {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca_pem).expect("CA") {
        roots.add(cert.expect("CA cert")).expect("root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec()];
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .pool_max_idle_per_host(64)
        .build()
        .expect("client")
}
