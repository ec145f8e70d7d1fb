//! The real server on 127.0.0.1 with a self-signed certificate, answering
//! real AdmissionReview JSON over HTTPS.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use palisade_server::tls::{self_signed, TlsFiles};
use palisade_server::{start, RunningServer, ServeConfig};
use serde_json::{json, Value};

fn seed(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seed-examples")
        .join(name)
}

const VAP: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [apps]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [deployments]
  validations:
  - expression: "object.spec.replicas <= 5"
    message: "at most 5 replicas"
  auditAnnotations:
  - key: replicas
    valueExpression: "string(object.spec.replicas)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit-deny}
spec:
  policyName: replica-limit
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {tier: prod}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit-warn}
spec:
  policyName: replica-limit
  validationActions: [Warn]
  matchResources:
    namespaceSelector:
      matchLabels: {tier: dev}
"#;

const WARN_CONSTRAINT: &str = r#"
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: pods-should-have-owner
spec:
  enforcementAction: warn
  match:
    kinds:
    - apiGroups: [""]
      kinds: [Pod]
  parameters:
    labels: [owner]
"#;

const NAMESPACES: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: production
  labels: {pod-security.kubernetes.io/enforce: restricted, tier: prod}
---
apiVersion: v1
kind: Namespace
metadata:
  name: legacy
  labels: {pod-security.kubernetes.io/enforce: baseline, tier: dev}
---
apiVersion: v1
kind: Namespace
metadata:
  name: default
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    policies: PathBuf,
    certs: PathBuf,
    runtime: tokio::runtime::Runtime,
    server: RunningServer,
    client: reqwest::Client,
}

fn client_for(ca_pem: &Path) -> reqwest::Client {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    // HTTP/2 first, as the API server's Go client negotiates it.
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn fixture(tune: impl FnOnce(&mut ServeConfig)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    let namespaces = dir.path().join("namespaces");
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::create_dir_all(&namespaces).unwrap();
    std::fs::copy(
        seed("04-gatekeeper-required-labels.yaml"),
        policies.join("required-labels.yaml"),
    )
    .unwrap();
    std::fs::write(policies.join("vap.yaml"), VAP).unwrap();
    std::fs::write(policies.join("warn.yaml"), WARN_CONSTRAINT).unwrap();
    std::fs::write(namespaces.join("namespaces.yaml"), NAMESPACES).unwrap();
    let files = self_signed(&["localhost".into(), "127.0.0.1".into()])
        .unwrap()
        .write(&certs)
        .unwrap();
    let mut config = ServeConfig::new("127.0.0.1:0".parse().unwrap(), files);
    config.policy_dirs = vec![policies.clone()];
    config.namespace_dirs = vec![namespaces];
    config.reload_interval = Duration::from_millis(50);
    tune(&mut config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(palisade_server::JUDGE_STACK_BYTES)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(start(config, None)).unwrap();
    let client = client_for(&certs.join("ca.crt"));
    Fixture {
        _dir: dir,
        policies,
        certs,
        runtime,
        server,
        client,
    }
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.server.addr.port())
    }

    fn post_raw(&self, body: Vec<u8>) -> (u16, String) {
        self.runtime.block_on(async {
            let resp = self
                .client
                .post(self.url("/validate"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        })
    }

    fn review(&self, review: &Value) -> Value {
        let (status, body) = self.post_raw(serde_json::to_vec(review).unwrap());
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(answer["kind"], "AdmissionReview");
        assert_eq!(answer["response"]["uid"], review["request"]["uid"]);
        answer["response"].clone()
    }

    fn post_audit(&self, body: Vec<u8>) -> (u16, String) {
        self.runtime.block_on(async {
            let resp = self
                .client
                .post(self.url("/audit"))
                .body(body)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        })
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.runtime.block_on(async {
            let resp = self.client.get(self.url(path)).send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        })
    }

    fn wait_for(&self, what: &str, mut done: impl FnMut(&Fixture) -> bool) {
        for _ in 0..200 {
            if done(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("timed out waiting for {what}");
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.server.shutdown();
    }
}

fn request(
    operation: &str,
    resource: (&str, &str, &str),
    kind: &str,
    namespace: &str,
    object: Option<Value>,
    old: Option<Value>,
) -> Value {
    let (group, version, plural) = resource;
    let name = object
        .as_ref()
        .or(old.as_ref())
        .and_then(|o| o["metadata"]["name"].as_str())
        .unwrap_or("")
        .to_string();
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("uid-{operation}-{name}"),
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": plural},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": plural},
            "name": name,
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": old,
            "dryRun": false,
            "options": null
        }
    })
}

fn restricted_pod(name: &str, namespace: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"owner": "team-a"}},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app", "image": "registry.example/app:1.0",
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
            }]
        }
    })
}

fn pod_review(pod: Value, namespace: &str) -> Value {
    request(
        "CREATE",
        ("", "v1", "pods"),
        "Pod",
        namespace,
        Some(pod),
        None,
    )
}

fn deployment(name: &str, namespace: &str, labels: Value, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]}
            }
        }
    })
}

fn deployment_review(
    operation: &str,
    object: Option<Value>,
    old: Option<Value>,
    namespace: &str,
) -> Value {
    request(
        operation,
        ("apps", "v1", "deployments"),
        "Deployment",
        namespace,
        object,
        old,
    )
}

#[test]
fn a_compliant_pod_is_allowed() {
    let f = fixture(|_| {});
    let r = f.review(&pod_review(
        restricted_pod("ok", "production"),
        "production",
    ));
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r.get("warnings").is_none(), "{r}");
    assert_eq!(
        r["auditAnnotations"]["pod-security-enforce-policy"],
        "restricted:latest"
    );
}

#[test]
fn pod_security_restricted_denies_with_the_plugins_message_and_fields() {
    let f = fixture(|_| {});
    let mut pod = restricted_pod("priv", "production");
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    let r = f.review(&pod_review(pod, "production"));
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 403);
    assert_eq!(r["status"]["reason"], "Forbidden");
    let message = r["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("pods \"priv\" is forbidden: violates PodSecurity \"restricted:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"),
        "{message}"
    );
    let causes = r["status"]["details"]["causes"].as_array().unwrap();
    assert!(
        causes.iter().any(
            |c| c["field"] == "spec.containers[0].securityContext.privileged"
                && c["reason"] == "pss/privileged"
        ),
        "{causes:?}"
    );
}

#[test]
fn a_baseline_namespace_enforces_baseline_only() {
    let f = fixture(|_| {});
    // Runs as root: fine for baseline, not for restricted.
    let mut pod = restricted_pod("root", "legacy");
    pod["spec"]["securityContext"] = json!({});
    let r = f.review(&pod_review(pod.clone(), "legacy"));
    assert_eq!(r["allowed"], true, "{r}");
    pod["spec"]["hostNetwork"] = json!(true);
    let r = f.review(&pod_review(pod, "legacy"));
    assert_eq!(r["allowed"], false);
    assert!(r["status"]["message"]
        .as_str()
        .unwrap()
        .contains("violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)"));
}

#[test]
fn workloads_get_pod_security_warnings_not_denials() {
    let f = fixture(|_| {});
    let labels = json!({"environment": "prod", "team": "a", "version": "1"});
    let mut d = deployment("web", "production", labels, 2);
    d["spec"]["template"]["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    let r = f.review(&deployment_review("CREATE", Some(d), None, "production"));
    assert_eq!(r["allowed"], true, "{r}");
    let warnings = r["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("would violate PodSecurity \"restricted:latest\": privileged")),
        "{warnings:?}"
    );
}

#[test]
fn the_seed_constraint_denies_one_violation_per_missing_label() {
    let f = fixture(|_| {});
    let d = deployment("web", "production", json!({"app": "web"}), 2);
    let r = f.review(&deployment_review("CREATE", Some(d), None, "production"));
    assert_eq!(r["allowed"], false);
    let message = r["status"]["message"].as_str().unwrap();
    for label in ["environment", "team", "version"] {
        assert!(
            message.contains(&format!(
                "[must-have-environment] Missing required label: {label}"
            )),
            "{message}"
        );
    }
    // Not matched in `default`.
    let d = deployment("web", "default", json!({"app": "web"}), 2);
    let r = f.review(&deployment_review("CREATE", Some(d), None, "default"));
    assert_eq!(r["allowed"], true, "{r}");
    // No labels at all: the seed's Rego finds nothing, as in Gatekeeper.
    let mut d = deployment("bare", "production", json!({}), 2);
    d["metadata"].as_object_mut().unwrap().remove("labels");
    let r = f.review(&deployment_review("CREATE", Some(d), None, "production"));
    assert_eq!(r["allowed"], true, "{r}");
}

#[test]
fn a_warn_mode_constraint_warns() {
    let f = fixture(|_| {});
    let mut pod = restricted_pod("unowned", "production");
    pod["metadata"]["labels"] = json!({"app": "x"});
    let r = f.review(&pod_review(pod, "production"));
    assert_eq!(r["allowed"], true, "{r}");
    assert_eq!(
        r["warnings"],
        json!(["[pods-should-have-owner] Missing required label: owner"])
    );
}

#[test]
fn validating_admission_policies_deny_and_warn_by_binding() {
    let f = fixture(|_| {});
    let labels = json!({"environment": "prod", "team": "a", "version": "1"});
    let d = deployment("big", "production", labels.clone(), 10);
    let r = f.review(&deployment_review("CREATE", Some(d), None, "production"));
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 422);
    assert_eq!(
        r["status"]["message"],
        "ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit-deny' denied request: at most 5 replicas"
    );
    assert_eq!(r["auditAnnotations"]["replica-limit-replicas"], "10");
    let d = deployment("big", "legacy", labels, 10);
    let r = f.review(&deployment_review("CREATE", Some(d), None, "legacy"));
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r["warnings"].as_array().unwrap().iter().any(|w| w
        == "Validation failed for ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit-warn': at most 5 replicas"));
}

#[test]
fn a_delete_is_judged_on_the_old_object() {
    let f = fixture(|_| {});
    let old = deployment("web", "production", json!({"app": "web"}), 2);
    let r = f.review(&deployment_review("DELETE", None, Some(old), "production"));
    // Gatekeeper reviews the old object on DELETE; the VAP only matches CREATE and UPDATE.
    assert_eq!(r["allowed"], false, "{r}");
    assert!(r["status"]["message"]
        .as_str()
        .unwrap()
        .contains("[must-have-environment]"));
    // Pod Security ignores deletes.
    let mut pod = restricted_pod("priv", "production");
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    let review = request(
        "DELETE",
        ("", "v1", "pods"),
        "Pod",
        "production",
        None,
        Some(pod),
    );
    let r = f.review(&review);
    assert_eq!(r["allowed"], true, "{r}");
}

#[test]
fn malformed_bodies_get_a_400_with_a_clear_message() {
    let f = fixture(|_| {});
    let (status, body) =
        f.post_raw(b"{\"apiVersion\": \"admission.k8s.io/v1\",\n \"kind\": ".to_vec());
    assert_eq!(status, 400);
    let status_obj: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status_obj["kind"], "Status");
    let message = status_obj["message"].as_str().unwrap();
    assert!(
        message.contains("request body:3:1"),
        "position missing: {message}"
    );

    let mut review = pod_review(restricted_pod("ok", "production"), "production");
    review["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let (status, body) = f.post_raw(serde_json::to_vec(&review).unwrap());
    assert_eq!(status, 400);
    assert!(body.contains("admissionReviewVersions"), "{body}");

    let mut review = pod_review(restricted_pod("ok", "production"), "production");
    review["request"].as_object_mut().unwrap().remove("uid");
    let (status, body) = f.post_raw(serde_json::to_vec(&review).unwrap());
    assert_eq!(status, 400);
    assert!(body.contains("uid"), "{body}");

    let (status, _) = f.post_raw(vec![0xff, 0xfe, 0x00]);
    assert_eq!(status, 400);
    let (status, _) = f.post_raw(Vec::new());
    assert_eq!(status, 400);
    let (status, _) = f.post_raw(vec![b' '; 9 * 1024 * 1024]);
    assert_eq!(status, 413);
    // The server still answers.
    let r = f.review(&pod_review(
        restricted_pod("ok", "production"),
        "production",
    ));
    assert_eq!(r["allowed"], true);
    let (_, metrics) = f.get("/metrics");
    assert!(metrics.contains("palisade_admission_requests_total{operation=\"\",kind=\"\",decision=\"bad_request\"} 5"), "{metrics}");
}

#[test]
fn a_broken_policy_file_keeps_the_last_good_set() {
    let f = fixture(|_| {});
    let d = deployment("web", "production", json!({"app": "web"}), 2);
    let review = deployment_review("CREATE", Some(d), None, "production");
    assert_eq!(f.review(&review)["allowed"], false);

    std::fs::write(f.policies.join("broken.yaml"), "apiVersion: v1\nkind: [\n").unwrap();
    f.wait_for("the failed reload", |f| {
        f.get("/metrics")
            .1
            .contains("palisade_policy_reloads_total{result=\"failure\"} 1")
    });
    assert_eq!(
        f.review(&review)["allowed"],
        false,
        "last good set in force"
    );
    assert_eq!(f.get("/readyz").0, 200);

    // Fixed, and the constraint dropped: the deployment is allowed again.
    std::fs::remove_file(f.policies.join("broken.yaml")).unwrap();
    std::fs::remove_file(f.policies.join("required-labels.yaml")).unwrap();
    std::fs::remove_file(f.policies.join("warn.yaml")).unwrap();
    f.wait_for("the good reload", |f| f.review(&review)["allowed"] == true);
    let (_, metrics) = f.get("/metrics");
    assert!(
        metrics.contains("palisade_policy_reloads_total{result=\"success\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_policies_loaded{kind=\"ConstraintTemplate\"} 0"),
        "{metrics}"
    );
}

#[test]
fn health_readiness_and_metrics() {
    let f = fixture(|_| {});
    assert_eq!(f.get("/healthz"), (200, "ok".to_string()));
    assert_eq!(f.get("/readyz"), (200, "ok".to_string()));
    let d = deployment("web", "production", json!({"app": "web"}), 2);
    f.review(&deployment_review("CREATE", Some(d), None, "production"));
    let (status, metrics) = f.get("/metrics");
    assert_eq!(status, 200);
    for needle in [
        "palisade_admission_requests_total{operation=\"CREATE\",kind=\"Deployment\",decision=\"denied\"} 1",
        "palisade_violations_total{source=\"gatekeeper\",rule=\"gatekeeper/K8sRequiredLabels/must-have-environment\",enforcement_action=\"deny\"} 3",
        "palisade_admission_duration_seconds_count 1",
        "palisade_certificate_expiry_timestamp_seconds",
        "palisade_policies_loaded{kind=\"ValidatingAdmissionPolicy\"} 1",
        "palisade_namespaces_cached 3",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
}

#[test]
fn broken_policies_at_start_leave_the_server_unready_and_the_failure_mode_answers() {
    let f = fixture(|c| {
        let dir = c.policy_dirs[0].clone();
        // A constraint whose template does not exist.
        std::fs::write(dir.join("broken.yaml"), "kind: K8sNoSuchTemplate\napiVersion: constraints.gatekeeper.sh/v1beta1\nmetadata: {name: x}\nspec: {}\n").unwrap();
        c.fail_open = false;
    });
    assert_eq!(f.get("/readyz").0, 503);
    let r = f.review(&pod_review(
        restricted_pod("ok", "production"),
        "production",
    ));
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 500);
    assert!(r["status"]["message"]
        .as_str()
        .unwrap()
        .contains("policies are not loaded"));
}

#[test]
fn past_the_time_budget_the_failure_mode_decides() {
    let open = fixture(|c| c.budget = Duration::ZERO);
    let d = deployment("web", "default", json!({"app": "web"}), 2);
    let r = open.review(&deployment_review(
        "CREATE",
        Some(d.clone()),
        None,
        "default",
    ));
    assert_eq!(r["allowed"], true, "{r}");
    assert!(
        r["warnings"][0].as_str().unwrap().contains("time budget"),
        "{r}"
    );
    let (_, metrics) = open.get("/metrics");
    assert!(
        metrics.contains(
            "palisade_admission_failures_total{cause=\"timeout\",failure_mode=\"open\"} 1"
        ),
        "{metrics}"
    );
    drop(open);
    let closed = fixture(|c| {
        c.budget = Duration::ZERO;
        c.fail_open = false;
    });
    let r = closed.review(&deployment_review("CREATE", Some(d), None, "default"));
    assert_eq!(r["allowed"], false, "{r}");
    assert_eq!(r["status"]["code"], 500);
}

#[test]
fn a_new_certificate_is_picked_up_without_restart() {
    let f = fixture(|_| {});
    let fresh = self_signed(&["localhost".into()]).unwrap();
    let other = tempfile::tempdir().unwrap();
    fresh.write(other.path()).unwrap();
    let new_client = client_for(&other.path().join("ca.crt"));
    let healthz = |client: &reqwest::Client| {
        f.runtime
            .block_on(async { client.get(f.url("/healthz")).send().await.is_ok() })
    };
    assert!(
        !healthz(&new_client),
        "the new CA must not verify the old certificate"
    );
    // Replace key first, then certificate, as a cert-manager renewal does.
    std::fs::copy(other.path().join("tls.key"), f.certs.join("tls.key")).unwrap();
    std::fs::copy(other.path().join("tls.crt"), f.certs.join("tls.crt")).unwrap();
    f.wait_for("the certificate reload", |_| healthz(&new_client));
}

#[test]
fn client_certificates_are_required_when_a_client_ca_is_set() {
    let f = fixture(|c| {
        let ca = c.tls.cert.parent().unwrap().join("ca.crt");
        c.tls = TlsFiles {
            client_ca: Some(ca),
            ..c.tls.clone()
        };
    });
    let ok = f
        .runtime
        .block_on(async { f.client.get(f.url("/healthz")).send().await.is_ok() });
    assert!(!ok, "a client without a certificate must be refused");
}

/// A client CA and a client certificate signed by it (PEM: CA, cert, key).
fn client_identity(common_name: &str) -> (String, String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "test client CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

#[test]
fn a_client_certificate_from_the_client_ca_is_accepted() {
    let (ca, cert, key) = client_identity("kube-apiserver");
    let (other_ca, other_cert, other_key) = client_identity("intruder");
    let _ = other_ca;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("client-ca.crt");
    std::fs::write(&ca_file, &ca).unwrap();
    let f = fixture(|c| {
        c.tls = TlsFiles {
            client_ca: Some(ca_file.clone()),
            ..c.tls.clone()
        };
    });
    let with_identity = |cert: &str, key: &str| {
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls_pki_types::CertificateDer::pem_file_iter(f.certs.join("ca.crt")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let chain =
            vec![rustls_pki_types::CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()];
        let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
        reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .build()
            .unwrap()
    };
    let trusted = with_identity(&cert, &key);
    let (status, body) = f.runtime.block_on(async {
        let r = trusted.get(f.url("/healthz")).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    assert_eq!((status, body.as_str()), (200, "ok"));
    let untrusted = with_identity(&other_cert, &other_key);
    let refused = f
        .runtime
        .block_on(async { untrusted.get(f.url("/healthz")).send().await.is_err() });
    assert!(refused, "a certificate from another CA must be refused");
}

const AUDIT_RULES: &str = r#"
- rule: Exec Into Pod
  desc: someone execs into a pod
  condition: ka.target.subresource = exec and ka.verb = create
  output: "exec into %ka.target.namespace/%ka.target.name by %ka.user.name"
  priority: CRITICAL
  source: k8s_audit
"#;

#[test]
fn audit_batches_are_evaluated_with_falco_rules() {
    let rules_dir = tempfile::tempdir().unwrap();
    let rules = rules_dir.path().join("rules.yaml");
    std::fs::write(&rules, AUDIT_RULES).unwrap();
    let engine = palisade_detect::Engine::builder()
        .rules_file(&rules)
        .unwrap()
        .build();
    assert!(!engine.has_errors());
    let f = fixture(|c| c.audit = Some(palisade_server::AuditEngine(Arc::new(engine))));
    let event = |verb: &str, sub: &str| {
        json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
            "auditID": format!("a-{verb}-{sub}"), "stage": "ResponseComplete",
            "verb": verb, "requestURI": "/api/v1/namespaces/prod/pods/web/exec",
            "user": {"username": "mallory", "groups": ["system:authenticated"]},
            "objectRef": {"resource": "pods", "namespace": "prod", "name": "web", "subresource": sub, "apiVersion": "v1"},
            "responseStatus": {"code": 101},
            "stageTimestamp": "2026-11-27T10:00:00.000000Z"
        })
    };
    let batch = json!({
        "kind": "EventList", "apiVersion": "audit.k8s.io/v1",
        "items": [event("create", "exec"), event("get", "log"), event("create", "exec")]
    });
    let answer = f.runtime.block_on(async {
        f.client
            .post(f.url("/audit"))
            .json(&batch)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    assert_eq!(answer, json!({"events": 3, "alerts": 2}));
    let (_, metrics) = f.get("/metrics");
    assert!(metrics.contains("palisade_detect_events_total{rule=\"Exec Into Pod\",priority=\"Critical\",source=\"k8s_audit\"} 2"), "{metrics}");
    assert!(
        metrics.contains("palisade_audit_events_total{source=\"k8s_audit\"} 3"),
        "{metrics}"
    );
    let (status, _) = f.post_audit(b"not json".to_vec());
    assert_eq!(status, 400);
}

#[test]
fn audit_without_rules_is_not_found() {
    let f = fixture(|_| {});
    let (status, body) = f.post_audit(b"{}".to_vec());
    assert_eq!(status, 404);
    assert!(body.contains("--rules"));
}

#[test]
fn admission_policy_authorizer_checks_use_the_given_rbac() {
    let dir = tempfile::tempdir().unwrap();
    let rbac = dir.path().join("rbac.yaml");
    std::fs::write(
        &rbac,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployers, namespace: production}
rules:
- {apiGroups: [apps], resources: [deployments], verbs: [delete]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-deploys, namespace: production}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployers}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
"#,
    )
    .unwrap();
    let policy = dir.path().join("authz.yaml");
    std::fs::write(
        &policy,
        r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: deployers-only}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: "authorizer.group('apps').resource('deployments').namespace(request.namespace).check('delete').allowed()"
    message: only those who may delete deployments may create them
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: deployers-only}
spec:
  policyName: deployers-only
  validationActions: [Deny]
"#,
    )
    .unwrap();
    let f = fixture(|c| {
        std::fs::copy(&policy, c.policy_dirs[0].join("authz.yaml")).unwrap();
        c.rbac_dirs = vec![rbac.clone()];
    });
    let labels = json!({"environment": "prod", "team": "a", "version": "1"});
    let review = deployment_review(
        "CREATE",
        Some(deployment("web", "production", labels, 1)),
        None,
        "production",
    );
    let r = f.review(&review);
    assert_eq!(r["allowed"], true, "alice may: {r}");
    let mut as_bob = review.clone();
    as_bob["request"]["userInfo"]["username"] = json!("bob");
    let r = f.review(&as_bob);
    assert_eq!(r["allowed"], false, "{r}");
    assert!(r["status"]["message"]
        .as_str()
        .unwrap()
        .contains("only those who may delete deployments"));
}

#[test]
fn without_admission_only_audit_is_served() {
    let f = fixture(|c| c.admission = false);
    let (status, body) = f.post_raw(
        serde_json::to_vec(&pod_review(
            restricted_pod("ok", "production"),
            "production",
        ))
        .unwrap(),
    );
    assert_eq!(status, 404);
    assert!(body.contains("/audit"), "{body}");
    assert_eq!(f.get("/healthz").0, 200);
}
