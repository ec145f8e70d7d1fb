//! The binary's progress bar while it reads a cluster: drawn on standard
//! error when that is a terminal (a pseudo-terminal made by util-linux
//! `script`), never when it is a pipe or a file, whatever standard output is.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use palisade_cluster::testing::FakeApiServer;
use serde_json::json;

/// What the bar says (its template in `cluster_input.rs`).
const BAR: &str = "reading the cluster:";

/// Two namespaces and four pods, each request answered after a delay so
/// that the read lasts long enough for the bar to be drawn and ticked.
fn slow_cluster() -> FakeApiServer {
    let server = FakeApiServer::start();
    {
        let mut s = server.state();
        for ns in ["shop", "batch"] {
            s.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        }
        for i in 0..4 {
            s.add(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("web-{i}"), "namespace": "shop"},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}));
        }
        s.delay = Duration::from_millis(40);
    }
    server
}

/// The environment of every run: no kubeconfig or service account from the
/// machine, a terminal type the bar can draw on.
fn isolate(command: &mut Command, home: &Path) {
    command
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .env("HOME", home)
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null());
}

fn quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

/// Runs `palisade ARGS` (then `redirect`, shell syntax) on a pseudo-terminal:
/// `script -qec CMD /dev/null` gives the command a terminal as standard
/// input, output and error, and copies what it writes there to its own
/// standard output.
fn on_terminal(args: &[&str], redirect: &str, home: &Path) -> Output {
    let mut line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_palisade"))
        .chain(args.iter().copied())
        .map(quote)
        .collect();
    line.push(redirect.to_string());
    let mut command = Command::new("script");
    command.args(["-qec", &line.join(" "), "/dev/null"]);
    isolate(&mut command, home);
    command.output().unwrap_or_else(|e| {
        panic!("cannot run `script` (util-linux; Debian's bsdutils package): {e}")
    })
}

fn snapshot_args<'a>(kubeconfig: &'a str, file: &'a str) -> Vec<&'a str> {
    vec![
        "snapshot",
        "--kubeconfig",
        kubeconfig,
        "-o",
        file,
        "--page-size",
        "2",
    ]
}

fn saved_pods(file: &Path) -> usize {
    let saved = std::fs::read_to_string(file).unwrap();
    saved.matches("\nkind: Pod\n").count()
}

#[test]
fn the_progress_bar_is_drawn_on_a_terminal_only() {
    let server = slow_cluster();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(dir.path());
    let kubeconfig = kubeconfig.to_str().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();

    // Standard error is the terminal: the bar is drawn there, then cleared
    // (indicatif's erase-line), and the summary follows.
    let file = dir.path().join("tty.yaml");
    let out = on_terminal(
        &snapshot_args(kubeconfig, file.to_str().unwrap()),
        "",
        &home,
    );
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{terminal}");
    assert!(
        terminal.contains(BAR),
        "the bar on the terminal: {terminal:?}"
    );
    assert!(
        terminal.contains(" kinds, ") && terminal.contains(" objects"),
        "kinds done and objects read: {terminal:?}"
    );
    let bar_at = terminal.rfind(BAR).unwrap();
    let summary_at = terminal.find("wrote ").expect("the summary");
    assert!(
        bar_at < summary_at,
        "the bar is gone before the summary is printed: {terminal:?}"
    );
    assert!(
        terminal[bar_at..summary_at].contains("\u{1b}[2K"),
        "the bar's line is cleared: {terminal:?}"
    );
    assert!(
        !terminal[summary_at..].contains(BAR),
        "nothing drawn after the summary: {terminal:?}"
    );
    assert_eq!(saved_pods(&file), 4);

    // Standard output is the terminal but standard error a file: no bar
    // anywhere, the same summary in the file.
    let file = dir.path().join("redirected.yaml");
    let errors = dir.path().join("stderr.txt");
    let redirect = format!("2>{}", quote(errors.to_str().unwrap()));
    let out = on_terminal(
        &snapshot_args(kubeconfig, file.to_str().unwrap()),
        &redirect,
        &home,
    );
    let terminal = String::from_utf8_lossy(&out.stdout);
    let stderr = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(out.status.code(), Some(0), "{terminal}{stderr}");
    assert!(!terminal.contains(BAR), "{terminal:?}");
    assert!(!stderr.contains(BAR), "no bar in a file: {stderr:?}");
    assert!(
        stderr.contains("wrote ") && stderr.contains("Pod: 4"),
        "{stderr}"
    );
    assert_eq!(saved_pods(&file), 4);

    // Standard error a pipe (no terminal at all): no bar.
    let file = dir.path().join("piped.yaml");
    let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
    command.args(snapshot_args(kubeconfig, file.to_str().unwrap()));
    isolate(&mut command, &home);
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(BAR), "no bar in a pipe: {stderr:?}");
    assert!(
        stderr.contains("wrote ") && stderr.contains("Pod: 4"),
        "{stderr}"
    );
    assert_eq!(saved_pods(&file), 4);

    // The read was the same each time: every pod list in pages of two.
    let pod_lists = server
        .state()
        .requests
        .iter()
        .filter(|r| r.path == "/api/v1/pods")
        .count();
    assert_eq!(pod_lists, 3 * 2);
}
// ---- to append to crates/palisade/tests/cluster_terminal.rs once the dev-dependencies are in ----

/// A CA, and a serving certificate for 127.0.0.1 (an IP SAN: rustls checks
/// the address kube-rs connects to) signed by it.
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

/// TLS in front of the fake API server, on its own thread and runtime (the
/// test itself is synchronous); the HTTPS port. Runs until the test process ends.
fn https_front(pki: &Pki, backend: std::net::SocketAddr) -> u16 {
    use std::sync::Arc;
    use tokio_rustls::rustls;
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
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
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
    });
    port
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

#[test]
fn in_a_pod_the_service_account_is_used_without_a_kubeconfig() {
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
        s.add(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "batch"},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}));
    }
    let pki = new_pki();
    let port = https_front(&pki, server.addr);
    // As the kubelet mounts them: the projected token, the cluster's CA, the
    // pod's namespace (no trailing newline).
    service_account.write("token", "sa-t0ken");
    service_account.write("ca.crt", &pki.ca_pem);
    service_account.write("namespace", "shop");
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let in_a_pod = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
        command.args(args);
        isolate(&mut command, &home);
        command
            .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
            .env("KUBERNETES_SERVICE_PORT", port.to_string())
            .output()
            .unwrap()
    };

    let file = dir.path().join("cluster.yaml");
    let out = in_a_pod(&["snapshot", "-o", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        saved.contains(&format!("context in-cluster (https://127.0.0.1:{port})")),
        "{saved}"
    );
    // Without -n, every namespace (not the service account's): the pod in batch too.
    assert!(saved.contains("all namespaces"), "{saved}");
    assert!(saved.contains("name: web\n  namespace: batch"), "{saved}");

    // `--cluster` of the analyses resolves the same way.
    let out = in_a_pod(&["pss", "plan", "--cluster"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");

    let state = server.state();
    let lists: Vec<_> = state
        .requests
        .iter()
        .filter(|r| r.path == "/api/v1/pods")
        .collect();
    assert_eq!(lists.len(), 2, "one pod list per run: {lists:?}");
    for request in &state.requests {
        assert_eq!(
            request.authorization.as_deref(),
            Some("Bearer sa-t0ken"),
            "the service account's token authenticates {}",
            request.path
        );
    }
}
