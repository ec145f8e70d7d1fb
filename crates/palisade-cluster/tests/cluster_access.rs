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
    assert!(server
        .state()
        .requests
        .iter()
        .any(|r| r.path == "/api/v1/namespaces"));

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
