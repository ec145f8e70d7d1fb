//! Reaching the cluster as kubectl does: the kubeconfig's context, its CA,
//! HTTPS with rustls and ring only, and what the dependency graph allows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use palisade_cluster::snapshot::{self, SnapshotOptions};
use palisade_cluster::testing::FakeApiServer;
use palisade_cluster::{connect_cluster, ClusterOptions, ErrorKind};
use serde_json::json;
use tokio_rustls::rustls;

/// A CA, and a serving certificate for 127.0.0.1 signed by it (DER).
struct Pki {
    ca_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

fn new_pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "fake cluster CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    let cert = params.signed_by(&key, &issuer).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        cert_der: cert.der().to_vec(),
        key_der: key.serialize_der(),
    }
}

/// Terminates TLS on a free port and forwards to the fake API server: the
/// fake server over HTTPS. Returns the HTTPS port.
async fn https_front(pki: &Pki, backend: std::net::SocketAddr) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![pki.cert_der.clone().into()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(pki.key_der.clone().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

/// A kubeconfig with two contexts: `dead` (current; nothing listens there)
/// and `live` (the HTTPS front, trusting `ca_file`).
fn kubeconfig(dir: &Path, https_port: u16, ca_file: &Path, dead_port: u16) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1
kind: Config
current-context: dead
clusters:
- name: dead
  cluster:
    server: http://127.0.0.1:{dead_port}
- name: live
  cluster:
    server: https://127.0.0.1:{https_port}
    certificate-authority: {}
contexts:
- name: dead
  context: {{cluster: dead, user: u}}
- name: live
  context: {{cluster: live, user: u, namespace: shop}}
users:
- name: u
  user:
    token: t0ken
",
            ca_file.display()
        ),
    )
    .unwrap();
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_kubeconfig_context_and_ca_over_rustls() {
    let server = FakeApiServer::start();
    server
        .state()
        .add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
    let pki = new_pki();
    let port = https_front(&pki, server.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.crt");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let path = kubeconfig(dir.path(), port, &ca_file, free_port());

    // --context picks the live cluster over the current (dead) one.
    let cluster = connect_cluster(&ClusterOptions {
        kubeconfig: Some(path.clone()),
        context: Some("live".into()),
    })
    .await
    .unwrap();
    assert_eq!(cluster.context, "live");
    assert_eq!(cluster.server, format!("https://127.0.0.1:{port}"));
    assert_eq!(cluster.default_namespace, "shop");
    assert_eq!(cluster.kubeconfig_user.as_deref(), Some("u"));
    let options = SnapshotOptions {
        only: Some(vec!["Namespace".into()]),
        ..SnapshotOptions::default()
    };
    let snap = snapshot::take(&cluster.client, &options, &snapshot::NoProgress)
        .await
        .unwrap();
    assert_eq!(snap.counts().get("Namespace"), Some(&1));
    // The bearer token of the context's user was sent, over TLS.
    {
        let state = server.state();
        let list = state
            .requests
            .iter()
            .find(|r| r.path == "/api/v1/namespaces")
            .expect("the namespaces were listed");
        assert_eq!(list.authorization.as_deref(), Some("Bearer t0ken"));
    }

    // Without --context, the kubeconfig's current context (nothing listens there).
    let cluster = connect_cluster(&ClusterOptions {
        kubeconfig: Some(path.clone()),
        context: None,
    })
    .await
    .unwrap();
    assert_eq!(cluster.context, "dead");
    let e = snapshot::take(&cluster.client, &options, &snapshot::NoProgress)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unreachable, "{}", e.message);

    // A CA that did not sign the server's certificate: refused, and said so.
    let other = new_pki();
    std::fs::write(&ca_file, &other.ca_pem).unwrap();
    let cluster = connect_cluster(&ClusterOptions {
        kubeconfig: Some(path.clone()),
        context: Some("live".into()),
    })
    .await
    .unwrap();
    let e = snapshot::take(&cluster.client, &options, &snapshot::NoProgress)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unreachable, "{}", e.message);
    assert!(
        e.message.to_lowercase().contains("certificate"),
        "the TLS failure is named: {}",
        e.message
    );

    // A context the kubeconfig does not have.
    let e = connect_cluster(&ClusterOptions {
        kubeconfig: Some(path),
        context: Some("nope".into()),
    })
    .await
    .err()
    .unwrap();
    assert!(format!("{e:#}").contains("nope"), "{e:#}");
}

/// Where kube-rs 5 (`Config::incluster`, which `Config::infer` falls back to
/// without a kubeconfig) reads a pod's service account: fixed paths, with no
/// override, so the test has to create them.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The service account directory, made for one test and removed with every
/// parent the test had to create when dropped (also when the test fails).
struct ServiceAccountDir {
    /// The outermost directory that did not exist before.
    created: std::path::PathBuf,
}

impl ServiceAccountDir {
    /// `Err(why)` when the directory exists already (a real pod's, or another
    /// run's: never touched) or cannot be created (not root).
    fn create() -> Result<ServiceAccountDir, String> {
        let dir = Path::new(SERVICE_ACCOUNT_DIR);
        if dir.exists() {
            return Err(format!("{SERVICE_ACCOUNT_DIR} exists already"));
        }
        let mut created = dir;
        while let Some(parent) = created.parent() {
            if parent.exists() {
                break;
            }
            created = parent;
        }
        // The guard first, so that a partly made tree is removed as well.
        let guard = ServiceAccountDir {
            created: created.to_path_buf(),
        };
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {SERVICE_ACCOUNT_DIR}: {e}"))?;
        Ok(guard)
    }

    fn write(&self, file: &str, text: &str) {
        std::fs::write(Path::new(SERVICE_ACCOUNT_DIR).join(file), text).unwrap();
    }
}

impl Drop for ServiceAccountDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.created);
    }
}

/// Set in the environment of the child process that [`in_cluster_child`] runs in.
const IN_CLUSTER_CHILD: &str = "PALISADE_TEST_IN_CLUSTER_CHILD";
/// The line the child prints its result on.
const RESULT_PREFIX: &str = "in-cluster result: ";

/// Runs in a child process with a pod's environment (no kubeconfig,
/// `KUBERNETES_SERVICE_HOST`/`_PORT` set): connects as every command does
/// without --kubeconfig and --context, reads a snapshot of every namespace,
/// and prints what it found. The environment is process-wide, hence the child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run as a child process by in_cluster_service_account_without_a_kubeconfig"]
async fn in_cluster_child() {
    if std::env::var_os(IN_CLUSTER_CHILD).is_none() {
        return;
    }
    let result = match connect_cluster(&ClusterOptions::default()).await {
        Err(e) => json!({ "connect_error": format!("{e:#}") }),
        Ok(cluster) => {
            let options = SnapshotOptions {
                only: Some(vec!["Namespace".into(), "Pod".into()]),
                ..SnapshotOptions::default()
            };
            let read = snapshot::take(&cluster.client, &options, &snapshot::NoProgress).await;
            json!({
                "context": cluster.context,
                "server": cluster.server,
                "user": cluster.kubeconfig_user,
                "default_namespace": cluster.default_namespace,
                "counts": read.as_ref().ok().map(|s| s.counts()),
                "error_kind": read.as_ref().err().map(|e| format!("{:?}", e.kind)),
                "error": read.as_ref().err().map(|e| e.message.clone()),
            })
        }
    };
    println!("{RESULT_PREFIX}{result}");
}

/// Runs [`in_cluster_child`] as a pod would run Palisade: HOME without a
/// kubeconfig, KUBECONFIG unset, the service's address in the environment.
async fn run_in_cluster_child(home: &Path, port: u16) -> serde_json::Value {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "in_cluster_child", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env_remove("KUBECONFIG")
        .env("HOME", home)
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", port.to_string())
        .env(IN_CLUSTER_CHILD, "1");
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once(RESULT_PREFIX).map(|(_, result)| result))
        .unwrap_or_else(|| {
            panic!(
                "the child printed no result:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_cluster_service_account_without_a_kubeconfig() {
    let service_account = match ServiceAccountDir::create() {
        Ok(dir) => dir,
        Err(why) => {
            eprintln!("skipped: {why}; the in-cluster configuration is read from there");
            return;
        }
    };
    let server = FakeApiServer::start();
    {
        let mut s = server.state();
        for ns in ["shop", "batch"] {
            s.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        }
        s.add(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]}}));
    }
    let pki = new_pki();
    let port = https_front(&pki, server.addr).await;
    // As the kubelet mounts them: the projected token, the cluster's CA, and
    // the pod's namespace (no trailing newline).
    service_account.write("token", "sa-t0ken");
    service_account.write("ca.crt", &pki.ca_pem);
    service_account.write("namespace", "shop");
    let home = tempfile::tempdir().unwrap();

    let result = run_in_cluster_child(home.path(), port).await;
    assert_eq!(result["connect_error"], json!(null), "{result}");
    assert_eq!(result["error"], json!(null), "{result}");
    assert_eq!(result["context"], "in-cluster", "{result}");
    assert_eq!(
        result["server"],
        format!("https://127.0.0.1:{port}"),
        "{result}"
    );
    assert_eq!(result["user"], json!(null), "no kubeconfig user: {result}");
    assert_eq!(result["default_namespace"], "shop", "{result}");
    assert_eq!(
        result["counts"],
        json!({"Namespace": 2, "Pod": 1}),
        "{result}"
    );
    {
        let state = server.state();
        let lists: Vec<_> = state
            .requests
            .iter()
            .filter(|r| r.path == "/api/v1/namespaces" || r.path == "/api/v1/pods")
            .collect();
        assert_eq!(lists.len(), 2, "{lists:?}");
        for request in lists {
            assert_eq!(
                request.authorization.as_deref(),
                Some("Bearer sa-t0ken"),
                "the service account's token authenticates {}",
                request.path
            );
        }
    }

    // The server is trusted through ca.crt only: another CA, and the TLS
    // handshake fails (and says so).
    service_account.write("ca.crt", &new_pki().ca_pem);
    let before = server.state().requests.len();
    let result = run_in_cluster_child(home.path(), port).await;
    assert_eq!(result["error_kind"], "Unreachable", "{result}");
    assert!(
        result["error"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains("certificate"),
        "{result}"
    );
    assert_eq!(server.state().requests.len(), before);
}

/// Packages of the workspace's lock file: name -> names it depends on.
fn lock_graph() -> BTreeMap<String, BTreeSet<String>> {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    let text = std::fs::read_to_string(&lock).unwrap();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for block in text.split("[[package]]").skip(1) {
        let name = block
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|l| l.strip_suffix('"'))
            .unwrap()
            .to_string();
        let mut deps = BTreeSet::new();
        if let Some(list) = block.split("dependencies = [").nth(1) {
            for line in list.split(']').next().unwrap_or("").lines() {
                let dep = line.trim().trim_end_matches(',').trim_matches('"');
                if let Some(dep) = dep.split_whitespace().next() {
                    deps.insert(dep.to_string());
                }
            }
        }
        graph.entry(name).or_default().extend(deps);
    }
    graph
}

#[test]
fn kube_rs_is_palisade_clusters_alone_and_tls_is_rustls_with_ring_only() {
    let graph = lock_graph();
    let kube = [
        "kube",
        "kube-client",
        "kube-core",
        "kube-runtime",
        "k8s-openapi",
    ];
    let users: BTreeSet<&str> = graph
        .iter()
        .filter(|(name, deps)| {
            !kube.contains(&name.as_str()) && deps.iter().any(|d| kube.contains(&d.as_str()))
        })
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(users, BTreeSet::from(["palisade-cluster"]));
    for other in [
        "aws-lc-rs",
        "aws-lc-sys",
        "openssl",
        "openssl-sys",
        "native-tls",
    ] {
        assert!(
            !graph.contains_key(other),
            "{other} is in the lock file: one crypto provider (ring), one TLS stack (rustls)"
        );
    }
    assert!(graph["rustls"].contains("ring"));
    assert!(graph["kube-client"].contains("hyper-rustls"));
}
